"""Connections: SQLite (WAL) or PostgreSQL (psycopg 3) from one URL, per-exporter locks, migrations.

Why the SQLite driver runs in autocommit mode: pysqlite's own transaction handling issues a plain
(deferred) ``BEGIN`` lazily, so two writers could both read the counts and only then fight for the
write lock. We issue ``BEGIN IMMEDIATE`` ourselves for writing transactions, which takes the write
lock before the counts are read: the count that decided is the count recorded (DESIGN section 5).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from engine.errors import ConfigError
from engine.ledger.errors import DatabaseUnavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
WRITE_OPTION = "baygate_write"
SQLITE_BUSY_SECONDS = 60.0
"""Default bound of a SQLite write waiting for another connection's lock (BAYGATE_SQLITE_BUSY_SECONDS)."""
MIGRATION_LOCK_KEY = 0x6261_7967_6174_6501  # "baygate" + 1: serialises first-use upgrades on PostgreSQL


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here (psycopg2 is not a dependency)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def parse_url(url: str) -> URL:
    """The URL parsed, or ConfigError: a malformed URL is a setting to fix (exit 3, a service that
    refuses to start), and the message never repeats it (it may hold a password)."""
    try:
        return make_url(normalise_url(url))
    except (ArgumentError, ValueError, TypeError):
        raise ConfigError("the database URL cannot be parsed (expected sqlite:///FILE or "
                          "postgresql://USER:PASSWORD@HOST:PORT/DATABASE); it is not repeated here, it may "
                          "hold a password") from None


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for another backend or an in-memory database."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def in_memory(url: str) -> bool:
    """Whether a URL names an in-memory SQLite database (``sqlite://``, ``sqlite:///:memory:``): one that
    ends with the process, so nothing recorded there is kept."""
    parsed = parse_url(url)
    return parsed.get_backend_name() == "sqlite" and (not parsed.database or parsed.database == ":memory:"
                                                      or "mode=memory" in str(parsed.query.get("mode", "")))


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine with the pragmas and transaction behaviour the ledger relies on."""
    parsed = parse_url(url)
    url = normalise_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        busy = sqlite_busy_seconds()
        engine = create_engine(url, connect_args={"timeout": busy, "check_same_thread": False})
        _configure_sqlite(engine, busy)
        return engine
    if backend == "postgresql":
        given = parsed.query.get("options")
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                             connect_args=postgres_timeouts(given if isinstance(given, str) else None))
    raise ConfigError(f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
                      "use sqlite:///FILE or postgresql://...")


SQLITE_SYNCHRONOUS_LEVELS = ("FULL", "NORMAL")


def sqlite_synchronous() -> str:
    """``BAYGATE_SQLITE_SYNCHRONOUS``: FULL (default) or NORMAL."""
    level = os.environ.get("BAYGATE_SQLITE_SYNCHRONOUS", "FULL").strip().upper() or "FULL"
    if level not in SQLITE_SYNCHRONOUS_LEVELS:
        raise ConfigError(f"BAYGATE_SQLITE_SYNCHRONOUS={level!r}: expected FULL or NORMAL")
    return level


def _configure_sqlite(engine: Engine, busy_seconds: float = SQLITE_BUSY_SECONDS) -> None:
    synchronous = sqlite_synchronous()  # checked now, not at the first connection

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see the module docstring
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL (the default, an audit ledger wants it): every commit is fsynced before it returns, so
        # a recorded decision survives a power cut. NORMAL (BAYGATE_SQLITE_SYNCHRONOUS=NORMAL, SQLite's
        # advice for WAL): a commit still survives the process being killed (tested with SIGKILL) and
        # the file is never corrupted, but a power cut or OS crash may lose the newest commits
        # (fsync only at checkpoints). docs/performance.md has both throughputs.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(WRITE_OPTION, False):
            begin_immediate(connection, busy_seconds)
        else:
            connection.exec_driver_sql("BEGIN")


WRITE_LOCK_POLL = (0.0005, 0.002)
"""How often a writer waiting for SQLite's write lock tries again: from every half millisecond, doubling
to every 2 ms."""


def begin_immediate(connection: Connection, busy_seconds: float) -> None:
    """``BEGIN IMMEDIATE``, tried again every :data:`WRITE_LOCK_POLL` while another connection holds the
    write lock, for at most ``busy_seconds``; then the "database is locked" error goes up as before.

    Why not SQLite's busy handler (the connection's ``busy_timeout``, kept for every other statement):
    it sleeps 1, 2, 5, 10 ... 100 ms between tries, while a writer that lets go takes the lock again as
    soon as its next group is ready. Two processes writing at once (``serve --workers 2``, a list file
    beside a server) therefore took turns badly: a single submission beside two bulk writers waited up
    to 0.8-2.3 s (docs/performance.md, session 8). Tried at this rate, the lock is found free within
    2 ms of its release. In WAL mode only BEGIN IMMEDIATE waits for the write lock: reads never do, and
    a commit needs no further lock."""
    deadline = time.monotonic() + busy_seconds
    delay = WRITE_LOCK_POLL[0]
    # The handler switched off and on through the driver's own connection: on every writing
    # transaction, and 1.6 us each that way against 14 through SQLAlchemy's execution (measured).
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                    raise
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, WRITE_LOCK_POLL[1])
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` (Python's hash() is salted per process)."""
    digest = hashlib.sha256(b"baygate.exporter:" + name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_exporter(connection: Connection, exporter_id: str) -> None:
    """Serialise transactions of one exporter until commit. SQLite's BEGIN IMMEDIATE already does
    (for every exporter at once); PostgreSQL takes a transaction-level advisory lock."""
    if is_postgres(connection):
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(exporter_id)})


def sqlite_busy_seconds() -> float:
    """``BAYGATE_SQLITE_BUSY_SECONDS`` (default 60): the bound on waiting for another connection's write
    lock. Until then a writer tries again (:func:`begin_immediate`, every 0.5-2 ms; SQLite's busy handler
    for any other statement); after it the write fails as DatabaseUnavailable (HTTP 503, CLI exit 4) and
    nothing is written."""
    raw = os.environ.get("BAYGATE_SQLITE_BUSY_SECONDS", "").strip()
    if not raw:
        return SQLITE_BUSY_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ConfigError(f"BAYGATE_SQLITE_BUSY_SECONDS={raw!r}: expected seconds from 0 to 3600")
    return seconds


PG_TIMEOUTS = {  # variable: (libpq parameter or server setting, default seconds; 0 = none)
    "BAYGATE_PG_CONNECT_TIMEOUT_SECONDS": ("connect_timeout", 10),
    "BAYGATE_PG_LOCK_TIMEOUT_SECONDS": ("lock_timeout", 10),
    "BAYGATE_PG_STATEMENT_TIMEOUT_SECONDS": ("statement_timeout", 0),
}


def postgres_timeouts(url_options: str | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """psycopg connection arguments bounding every wait on PostgreSQL, so that no caller waits without
    end and a 503 with Retry-After comes within the configured time:

    - ``connect_timeout`` (``BAYGATE_PG_CONNECT_TIMEOUT_SECONDS``, default 10): a server that does not
      answer the connection;
    - ``lock_timeout`` (``BAYGATE_PG_LOCK_TIMEOUT_SECONDS``, default 10): a submission waiting for an
      exporter's lock (an advisory lock) or the chain head's row held by another transaction;
    - ``statement_timeout`` (``BAYGATE_PG_STATEMENT_TIMEOUT_SECONDS``, default 0 = none): any statement;
      off by default because a verify or replay of a large ledger reads for minutes by design.
    """
    env = os.environ if environ is None else environ
    seconds: dict[str, int] = {}
    for variable, (name, default) in PG_TIMEOUTS.items():
        raw = (env.get(variable) or "").strip()
        if not raw:
            seconds[name] = default
        elif raw.isascii() and raw.isdigit() and int(raw) <= 86_400:
            seconds[name] = int(raw)
        else:
            raise ConfigError(f"{variable}={raw[:40]!r}: expected whole seconds from 0 to 86400")
    args: dict[str, Any] = {}
    if seconds["connect_timeout"]:
        args["connect_timeout"] = seconds["connect_timeout"]
    settings = [f"-c {name}={seconds[name] * 1000}" for name in ("lock_timeout", "statement_timeout")
                if seconds[name]]
    if settings:  # after any options the URL gives (connect_args replace the URL's own)
        args["options"] = " ".join([url_options, *settings] if url_options else settings)
    return args


def lock_exporters(connection: Connection, exporter_ids: list[str]) -> None:
    """lock_exporter for several exporters in one round trip, in the order of their keys (the one
    global order every transaction that locks several takes them in, so none waits in a cycle)."""
    if is_postgres(connection) and exporter_ids:
        keys = sorted({lock_key(name) for name in exporter_ids})
        connection.execute(text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) "
                                "WITH ORDINALITY AS u(k, n) ORDER BY n"), {"keys": keys})


PUBLIC_UNAVAILABLE = ("database unavailable: the service cannot reach or use its database now (the service's "
                      "log has the reason); nothing was written: retry later")


def unavailable(exc: BaseException, busy_seconds: float | None = None) -> DatabaseUnavailable:
    """Turn a driver error into the ledger's 503-like error, keeping the driver's first line."""
    detail = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
    message = "database unavailable: " + (detail[0] if detail else type(exc).__name__)
    if "database is locked" in message:
        bound = f"{busy_seconds:g} s" if busy_seconds is not None else "the busy timeout"
        message += (f" (another connection held the write lock for longer than {bound}; nothing was "
                    "written: retry later)")
        return DatabaseUnavailable(message)
    return DatabaseUnavailable(message, PUBLIC_UNAVAILABLE)


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration for the migrations shipped here, run on ``connection`` (its transaction):
    ``command.upgrade(alembic_config(conn), "head")``; tests downgrade with it to build old ledgers."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Create or upgrade the schema to the newest revision; safe when several processes start at once.

    The revision is read and the migrations run in one transaction holding the database's write lock
    (SQLite) or an advisory lock (PostgreSQL), so a second process waits and then finds nothing to do.
    """
    head = head_revision()
    try:
        with engine.connect() as probe:
            if _table_exists(probe, "alembic_version") and current_revision(probe) == head:
                return head
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection, connection.begin():
            if is_postgres(connection):
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(connection), "head")
    except (OperationalError, DBAPIError) as exc:
        raise unavailable(exc) from exc
    return head


def _table_exists(connection: Connection, name: str) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(connection).has_table(name))

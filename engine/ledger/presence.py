"""Is there a baygate ledger at this address? Asked, without writing anything, before a command reads a
ledger that it must never create (``audit verify``, ``audit checkpoint``, ``audit replay``).

Why its own module: opening a SQLite URL through SQLAlchemy creates the file when it is missing, and the
ledger's connection set-up (``PRAGMA journal_mode=WAL``) writes to any SQLite file it is given. So an
auditor's ``audit verify`` on a mistyped path, an empty file or some other application's database used
to create or convert it, and then report "intact: 0 events". Here a SQLite file is opened read-only
(``mode=ro``) and only inspected; a PostgreSQL database is only read. The answer is one of:

- the revision the ledger is at (a baygate ledger: its ``alembic_version`` names a revision of ours and
  its chain table exists);
- :class:`NoLedger`: nothing there (no file; a PostgreSQL database without any table);
- :class:`NotALedger`: something else there (a 0-byte file, a file that is not SQLite, a database of
  another application, a revision this version does not know);
- ``DatabaseUnavailable``: the database could not be asked (could not finish: exit 4, HTTP 503).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from engine.ledger import database
from engine.ledger.errors import DatabaseUnavailable, LedgerError

CHAIN_TABLE = "events"


class NoLedger(LedgerError):
    """No ledger at this address (and none is created by asking)."""

    code = "baygate.no-ledger"
    http_status = 404


class NotALedger(LedgerError):
    """Something at this address that is not a baygate ledger this version can read."""

    code = "baygate.not-a-ledger"
    http_status = 422


def known_revisions() -> list[str]:
    """Every revision of the ledger's schema, oldest first."""
    script = ScriptDirectory(str(database.MIGRATIONS))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def require_ledger(url: str) -> str:
    """The revision of the baygate ledger at ``url``; raises NoLedger, NotALedger or DatabaseUnavailable.
    Writes nothing, creates nothing."""
    url = database.normalise_url(url)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_revision(parsed.database)
    if backend != "postgresql":
        raise NotALedger(f"unsupported database URL {parsed.render_as_string()!r}: use sqlite:///FILE or "
                         "postgresql://...")
    return _postgres_revision(url)


def _sqlite_revision(name: str | None) -> str:
    if not name or name == ":memory:":
        raise NoLedger("an in-memory SQLite database holds no ledger")
    path = Path(name)
    if not path.exists():
        raise NoLedger(f"no ledger at {path}: the file does not exist (nothing was created)")
    if path.is_dir():
        raise NotALedger(f"{path} is a folder, not a ledger file")
    if path.stat().st_size == 0:
        raise NotALedger(f"{path} is an empty file (0 bytes), not a baygate ledger")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"database unavailable: {path}: {exc}") from exc
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        revision = (conn.execute("SELECT version_num FROM alembic_version").fetchone()
                    if "alembic_version" in tables else None)
    except sqlite3.DatabaseError as exc:
        message = str(exc)
        if "not a database" in message or "malformed" in message or "encrypted" in message:
            raise NotALedger(f"{path} is not a SQLite database ({message}), so not a baygate ledger") from exc
        raise DatabaseUnavailable(f"database unavailable: {path}: {message}") from exc
    finally:
        conn.close()
    return _revision_of(str(path), tables, revision[0] if revision else None)


def _postgres_revision(url: str) -> str:
    engine = database.make_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            revision = (conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                        if "alembic_version" in tables else None)
    except (OperationalError, DBAPIError) as exc:
        raise database.unavailable(exc) from exc
    finally:
        engine.dispose()
    where = make_url(url).render_as_string(hide_password=True)
    if not tables:
        raise NoLedger(f"no ledger at {where}: the database holds no table (nothing was created)")
    return _revision_of(where, tables, revision)


def _revision_of(where: str, tables: set[str], revision: str | None) -> str:
    if revision is None and CHAIN_TABLE not in tables:
        if not tables:
            raise NotALedger(f"{where} is an empty SQLite database, not a baygate ledger")
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise NotALedger(f"{where} is not a baygate ledger: it holds other tables ({shown}) and no audit chain")
    if revision is None:
        raise NotALedger(f"{where} has an audit chain table but no schema revision (alembic_version): not a "
                         "ledger this version wrote")
    if revision not in known_revisions():
        raise NotALedger(f"{where} is at schema revision {revision!r}, which this version of baygate does not "
                         "know (written by a newer version?)")
    return str(revision)

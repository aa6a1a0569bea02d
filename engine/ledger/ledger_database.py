"""The ledger's database as every job of the ledger uses it: its transactions, and the two keys a
writing transaction needs (the signer of the chain's head, the key that seals the running totals).

One writing transaction shape for every writer (``write``): on SQLite one writer at a time, this
process's threads queued here rather than polling in SQLite's busy handler; on PostgreSQL the
exporter and chain-head locks the writer takes itself. A group commit's transaction (``group_write``)
keeps its PostgreSQL connection from one group to the next. A lost database is ``DatabaseUnavailable``
wherever it is found.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from sqlalchemy import Connection
from sqlalchemy.exc import InterfaceError, OperationalError

from engine.ledger import audit, chain_keys, database, seal
from engine.ledger import group as group_io
from engine.ledger.errors import DatabaseUnavailable
from engine.ledger.signing import ChainSigner

KEEP_SECONDS = 1.0
"""How long the committer keeps its PostgreSQL connection idle between groups (``group_write``)."""


def recorded_now() -> str:
    """The time written with an event or a row: UTC, ISO 8601, to the microsecond."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


class LedgerDatabase:
    """The ledger's database (SQLite file or PostgreSQL, by URL) and the keys its writers use."""

    def __init__(self, url: str, signer: ChainSigner | None,
                 totals_key: seal.TotalsKey | Literal["env"] = "env") -> None:
        self.url = url
        self.sql_engine = database.make_engine(url)
        self.signer = signer
        """The key that signs every head this process commits (None: this process writes unsigned, and
        is refused on a signed chain)."""
        self._totals_key = totals_key
        # SQLite has one writer at a time anyway: threads of this process queue here instead of
        # polling in SQLite's busy handler (which sleeps in growing steps); other processes still
        # wait on the database lock itself.
        self._local_writer: threading.Lock | contextlib.nullcontext[None] = (
            threading.Lock() if self.is_sqlite else contextlib.nullcontext())
        self.kept: tuple[Connection, float] | None = None
        """PostgreSQL: the committer's connection between groups, and when its last group ended."""

    @property
    def is_sqlite(self) -> bool:
        return bool(self.sql_engine.dialect.name == "sqlite")

    @property
    def totals_key(self) -> seal.TotalsKey:
        """The key the running totals are sealed with (``BAYGATE_TOTALS_KEY_FILE``, or the default file:
        engine.ledger.seal), read when first needed: reading a ledger's chain needs none."""
        if self._totals_key == "env":
            self._totals_key = seal.load_totals_key()
        return self._totals_key

    def close(self) -> None:
        kept, self.kept = self.kept, None
        if kept is not None:
            kept[0].close()
        self.sql_engine.dispose()

    @contextmanager
    def _queued_writer(self) -> Iterator[None]:
        """This process's writers queue for SQLite's one write lock, each for at most the busy bound:
        behind a lock held elsewhere, the queue must not turn each caller's bounded wait into the sum
        of everyone's."""
        lock = self._local_writer
        if isinstance(lock, contextlib.nullcontext):
            yield
            return
        busy = database.sqlite_busy_seconds()
        if not lock.acquire(timeout=busy):
            raise DatabaseUnavailable(f"database unavailable: database is locked (this process's writers "
                                      f"waited longer than {busy:g} s; nothing was written: retry later)")
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A writing transaction as every writer of the ledger takes it (one writer at a time on SQLite;
        a lost database is DatabaseUnavailable)."""
        try:
            with self._queued_writer(), \
                    self.sql_engine.connect().execution_options(**{database.WRITE_OPTION: True}) as conn, \
                    conn.begin():
                yield conn
        except (OperationalError, InterfaceError) as exc:
            raise database.unavailable(exc, database.sqlite_busy_seconds() if self.is_sqlite else None) from exc

    @contextmanager
    def group_write(self) -> Iterator[Connection]:
        """The writing transaction of a group commit; called holding the committer's lock
        (engine.ledger.recording). On SQLite, ``write``.

        On PostgreSQL the committer keeps its connection from one group to the next while they follow
        each other (within KEEP_SECONDS): a pool checkout costs a round trip, the pool's ping, which was
        a fifth of a group's time. A connection idle for longer, or that the server has written to since
        its last group (it only does so to end it), goes back to the pool, so that the next checkout pings
        it (a lost connection is found then, not by failing a group); after a failed group it is
        discarded, so the next group starts on a freshly checked-out one."""
        if self.sql_engine.dialect.name != "postgresql":
            with self.write() as sqlite_conn:
                yield sqlite_conn
            return
        kept, self.kept = self.kept, None
        if kept is not None:
            try:
                stale = time.monotonic() - kept[1] > KEEP_SECONDS or group_io.server_hung_up(kept[0])
            except (OSError, ValueError):  # the socket cannot even be polled: not to be trusted
                kept[0].invalidate()
                stale = True
            if stale:
                kept[0].close()  # back to the pool, whose checkout pings it (or drops it, invalidated)
                kept = None
        conn: Connection | None = None
        try:
            conn = kept[0] if kept is not None else \
                self.sql_engine.connect().execution_options(**{database.WRITE_OPTION: True})
            with group_io.transaction(conn):
                yield conn
        except BaseException as exc:
            if conn is not None:  # discarded, not pooled: it may be left in autocommit mode
                conn.invalidate()
                conn.close()
            if isinstance(exc, OperationalError | InterfaceError):
                raise database.unavailable(exc) from exc
            raise
        self.kept = (conn, time.monotonic())

    @contextmanager
    def read(self, snapshot: bool = False) -> Iterator[Connection]:
        """A reading transaction; ``snapshot``: one consistent view on PostgreSQL too (REPEATABLE READ)."""
        try:
            with self.sql_engine.connect() as conn:
                if snapshot and database.is_postgres(conn):
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except (OperationalError, InterfaceError) as exc:
            raise database.unavailable(exc) from exc

    def appender(self, conn: Connection) -> chain_keys.Append:
        """Appending one event at a time in ``conn``'s transaction, each head signed (what
        ``chain_keys.prepare`` takes)."""
        signer = self.signer

        def append(kind: str, subject: str, at: str, data: dict[str, Any]) -> int:
            return audit.append_event(conn, kind, subject, at, data, signer)

        return append

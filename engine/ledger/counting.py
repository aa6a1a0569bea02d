"""What the ledger counted for an exporter: the running totals a decision is made on.

Every submission and every dry run reads them (DESIGN section 5): sums of the counted, permitted,
not withdrawn transfers this year and last, and the populations counted this year, kept as running
totals sealed with the totals key (``engine.ledger.sealed_totals``). One read is a few rows by primary
key, whatever the number of transfers.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, TextClause, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.pool import PoolProxiedConnection

from engine.facts import PriorCounts
from engine.ledger import database, sealed_totals
from engine.ledger.errors import LedgerOutOfDate
from engine.ledger.ledger_database import LedgerDatabase
from engine.ledger.lookups import canonical_exporter
from engine.models import TransferRequest

# The statements every submission runs are built once: building SQLAlchemy Core constructs and their
# cache keys on each call cost more than the database work itself (measured by the benchmark).


@dataclass(frozen=True)
class CountingStatement:
    """The read of one exporter's counts in one statement (``Counting.prior``; ``Counting.prior_counts``
    for dry runs): its running totals this year and last with their seals, and whether each year has
    counted transfers (``sealed_totals.PRIOR_SQL``), as SQLAlchemy, sqlite3 (``:name``) and psycopg
    (``%(name)s``) take it, built once."""

    clause: TextClause
    sqlite: str
    postgres: str

    @classmethod
    def of(cls, sql: str) -> CountingStatement:
        return cls(text(sql), sql, re.sub(r":(\w+)", r"%(\1)s", sql))


FROM_TOTALS = CountingStatement.of(sealed_totals.PRIOR_SQL)
"""Counting: a few rows of the running totals, by primary key, whatever the number of transfers."""


DATA_VERSION = "PRAGMA data_version"
"""SQLite: a number that changes on a connection when another connection commits
(https://sqlite.org/pragma.html#pragma_data_version)."""

T = TypeVar("T")


def fetch_all(raw: PoolProxiedConnection, sql: str, parameters: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
    """The rows of one statement on a driver connection (the driver's paramstyle)."""
    cursor = raw.cursor()
    cursor.execute(sql, parameters)
    rows: Sequence[Sequence[Any]] = cursor.fetchall()
    cursor.close()
    return rows


class KeptReader:
    """One pooled connection kept checked out for the dry runs' counting read, in autocommit.

    Checking a connection out of SQLAlchemy's pool and back in for every dry run cost more than the
    read itself: about 20 of the 40 us the read took in a running service, and about 45 us of a dry
    run's 285 in all (the pool's code and a second connection's caches go cold between requests;
    measured in process, docs/performance.md). One statement in autocommit reads one consistent,
    current snapshot on both backends (SQLite's WAL: the newest commit; PostgreSQL: READ COMMITTED), so
    a kept connection sees what a fresh one would, and holds no transaction open between reads.

    One thread reads on it at a time: a thread that finds it busy is told so (None) and reads through
    the pool as before, so no thread ever waits here. A driver error discards the connection (the next
    read opens another) and is also answered None: the caller's read through the pool then says what
    is wrong, with the pool's own checks (PostgreSQL's pre-ping). A process forked with it open leaves
    it to the parent (SQLite's rule: a connection never crosses a fork).

    On SQLite it also keeps the answers it gave while the database is unchanged: ``PRAGMA
    data_version`` (about 2 us) changes on this connection whenever any other connection, in this
    process or another, commits, and ``total_changes`` whenever this one writes (only an in-memory
    database's pool ever writes on it). So an answer is reused only while no transfer, withdrawal,
    amendment or other write was committed since it was read; the first read after any commit reads
    the rows and checks their seals again. A service answering dry runs while
    nothing is recorded (an officer checking proposals) reads each exporter's totals once; one
    recording as well reads them as before, plus the pragma. PostgreSQL has no such cheap probe, and
    its reads are not kept."""

    ANSWERS_KEPT = 4096
    """At most this many answers are kept (exporter-years); more clears them."""

    def __init__(self, sql_engine: Engine) -> None:
        self.sql_engine = sql_engine
        self._lock = threading.Lock()
        self._raw: PoolProxiedConnection | None = None
        self._pid = 0
        self._keeps_answers = sql_engine.dialect.name == "sqlite"
        self._answers: dict[Hashable, Any] = {}
        self._version: object = None
        """``PRAGMA data_version`` and ``total_changes`` of the kept connection when ``_answers`` were read."""

    def answer(self, key: Hashable, sql: str, parameters: Mapping[str, Any],
               from_rows: Callable[[Sequence[Sequence[Any]]], T]) -> T | None:
        """``from_rows`` of the rows of one statement (the driver's paramstyle), or None: busy, or the
        connection failed. ``key`` names what the statement reads with these parameters: on SQLite the
        answer given for it before, while the database has not changed since. ``from_rows`` may raise
        (a seal that does not verify): nothing is kept then."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            raw = self._raw if self._pid == os.getpid() else None
            try:
                if raw is None:
                    raw = self._raw = self._open()
                    self._pid = os.getpid()
                    self._forget()  # another connection's data_version says nothing about this one's
                if self._keeps_answers:
                    # data_version moves with other connections' commits, total_changes with this one's:
                    # an in-memory database's pool (SingletonThreadPool) writes on this very connection.
                    driver: Any = raw.driver_connection
                    version = (fetch_all(raw, DATA_VERSION, {})[0][0], driver.total_changes)
                    if version != self._version:
                        self._forget()
                        self._version = version
                    elif key in self._answers:
                        answer: T = self._answers[key]
                        return answer
                rows = fetch_all(raw, sql, parameters)
            except self.sql_engine.dialect.loaded_dbapi.Error:
                self._discard()
                return None
            answer = from_rows(rows)
            if self._keeps_answers:
                if len(self._answers) >= self.ANSWERS_KEPT:
                    self._answers.clear()
                self._answers[key] = answer
            return answer
        finally:
            self._lock.release()

    def _forget(self) -> None:
        self._answers.clear()
        self._version = None

    def connection(self) -> PoolProxiedConnection | None:
        """The connection kept in this process now, if any (for tests and whoever debugs one)."""
        return self._raw if self._pid == os.getpid() else None

    def _open(self) -> PoolProxiedConnection:
        raw = self.sql_engine.raw_connection()
        if self.sql_engine.dialect.name == "postgresql":
            raw.driver_connection.rollback()  # type: ignore[union-attr]  # idle, then no transaction at all
            raw.driver_connection.autocommit = True  # type: ignore[union-attr]
        return raw  # SQLite's connections are in autocommit already (engine.ledger.database)

    def _discard(self) -> None:
        self._forget()
        raw, self._raw = self._raw, None
        if raw is not None and self._pid == os.getpid():
            raw.invalidate()  # closed, never handed back to the pool in autocommit

    def close(self) -> None:
        with self._lock:
            self._discard()


class Counting:
    """Reads an exporter's counts from the running totals, checking their seals."""

    def __init__(self, db: LedgerDatabase, up_to_date: bool) -> None:
        self.db = db
        self.up_to_date = up_to_date
        """Whether the database is at the newest revision, whose running totals counting reads."""
        self.kept = KeptReader(db.sql_engine)
        """The dry runs' own connection (``prior_counts``)."""

    def statement(self) -> CountingStatement:
        """The running totals, as the newest revision keeps them. A ledger opened as it stands
        (``upgrade=False``, as dry runs open it) at an earlier revision is refused rather than counted
        by the rules it was written under (``LedgerOutOfDate``). Asked until the answer is yes: a
        database is upgraded, never downgraded, under a running service."""
        if not self.up_to_date:
            try:
                with self.db.sql_engine.connect() as conn:
                    revision = database.current_revision(conn)
            except (OperationalError, InterfaceError) as exc:
                raise database.unavailable(exc) from exc
            newest = database.head_revision()
            if revision != newest:
                raise LedgerOutOfDate(f"the ledger is at revision {revision}, and this version of baygate counts "
                                      f"by revision {newest}: run `baygate db upgrade` first (its counts are "
                                      "recounted under the current rules; nothing is read until then)")
            self.up_to_date = True
        return FROM_TOTALS

    def prior(self, conn: Connection, exporter_id: str, year: int) -> PriorCounts:
        """Sums of counted, permitted, not withdrawn transfers this year and last; populations this year."""
        rows = conn.execute(self.statement().clause, {"e": exporter_id, "yes": True, "y": year,
                                                      "py": year - 1}).all()
        return sealed_totals.prior_counts(sealed_totals.verified(self.db.totals_key, rows), exporter_id, year)

    def prior_counts(self, request: TransferRequest) -> PriorCounts:
        """What the ledger recorded before this transfer for its exporter (read-only, for dry runs).

        Every dry run calls this, so it is one statement on a driver connection: a single statement
        reads one consistent snapshot on both backends, without BEGIN/COMMIT round trips or
        SQLAlchemy's per-call statement handling (150 -> about 40 us a call on SQLite, measured), on the
        connection kept for it (:class:`KeptReader`: on SQLite, its answer for the exporter-year while
        nothing was committed since), else one from the pool. It reads the running totals
        (``engine.ledger.totals``): its cost does not grow with the ledger."""
        exporter_id, year = request.exporter.id, request.planned_date.year
        dialect = self.db.sql_engine.dialect
        counting = self.statement()
        sql = counting.postgres if dialect.name == "postgresql" else counting.sqlite
        parameters = {"e": exporter_id, "yes": True, "y": year, "py": year - 1}

        def counts_of(rows: Sequence[Sequence[Any]]) -> PriorCounts:
            return sealed_totals.prior_counts(sealed_totals.verified(self.db.totals_key, rows), exporter_id, year)

        counts = self.kept.answer((exporter_id, year), sql, parameters, counts_of)
        if counts is not None:
            return counts
        try:
            raw = self.db.sql_engine.raw_connection()
            try:
                rows = fetch_all(raw, sql, parameters)
            finally:
                raw.close()  # back to the pool, which rolls back PostgreSQL's implicit transaction
        except dialect.loaded_dbapi.Error as exc:
            raise database.unavailable(exc) from exc
        return counts_of(rows)

    def counts(self, exporter_id: str, year: int) -> dict[str, Any]:
        """The exporter's tallies for a calendar year, as ``ledger counts`` and the HTTP API print them
        (the id read as requests' are: ``engine.strict.canonical_party_id``)."""
        exporter_id = canonical_exporter(exporter_id)
        with self.db.read() as conn:
            prior = self.prior(conn, exporter_id, year)
        return {"exporter": exporter_id, "year": year, "personal_subjects": prior.personal_subjects,
                "sensitive_subjects": prior.sensitive_subjects}

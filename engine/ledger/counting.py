"""What the ledger counted for an exporter: the running totals a decision is made on.

Every submission and every dry run reads them (DESIGN section 5): sums of the counted, permitted,
not withdrawn transfers this year and last, and the populations counted this year, kept as running
totals sealed with the totals key (``engine.ledger.sealed_totals``). One read is a few rows by primary
key, whatever the number of transfers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.exc import InterfaceError, OperationalError

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


class Counting:
    """Reads an exporter's counts from the running totals, checking their seals."""

    def __init__(self, db: LedgerDatabase, up_to_date: bool) -> None:
        self.db = db
        self.up_to_date = up_to_date
        """Whether the database is at the newest revision, whose running totals counting reads."""

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

        Every dry run calls this, so it is one statement on a pooled driver connection: a single
        statement reads one consistent snapshot on both backends, without BEGIN/COMMIT round trips or
        SQLAlchemy's per-call statement handling (150 -> about 40 us a call on SQLite, measured). It
        reads the running totals (``engine.ledger.totals``): its cost does not grow with the ledger."""
        exporter_id, year = request.exporter.id, request.planned_date.year
        dialect = self.db.sql_engine.dialect
        counting = self.statement()
        sql = counting.postgres if dialect.name == "postgresql" else counting.sqlite
        try:
            raw = self.db.sql_engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute(sql, {"e": exporter_id, "yes": True, "y": year, "py": year - 1})
                rows = cursor.fetchall()
                cursor.close()
            finally:
                raw.close()  # back to the pool, which rolls back PostgreSQL's implicit transaction
        except dialect.loaded_dbapi.Error as exc:
            raise database.unavailable(exc) from exc
        return sealed_totals.prior_counts(sealed_totals.verified(self.db.totals_key, rows), exporter_id, year)

    def counts(self, exporter_id: str, year: int) -> dict[str, Any]:
        """The exporter's tallies for a calendar year, as ``ledger counts`` and the HTTP API print them
        (the id read as requests' are: ``engine.strict.canonical_party_id``)."""
        exporter_id = canonical_exporter(exporter_id)
        with self.db.read() as conn:
            prior = self.prior(conn, exporter_id, year)
        return {"exporter": exporter_id, "year": year, "personal_subjects": prior.personal_subjects,
                "sensitive_subjects": prior.sensitive_subjects}

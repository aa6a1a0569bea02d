"""Reading the ledger in order: recorded transfers page by page with filters (``GET /v1/transfers``,
``baygate ledger list``, the web page's ledger), and the log of recorded decisions by chain position
(``GET /v1/decisions?after=SEQ``, ``baygate ledger export``).

Both order by ``event_seq``, the transfer's position in the audit chain: unique, never reused, and
what an auditor already uses to name an event. A page is read through an index that starts with the
filtered column and ends with ``event_seq`` (revision 0006), so a page costs the same on a ledger of
10^5 transfers as on one of 100 (``python -m api.bench.scripts.ledger_listing``).

Cursors are opaque to callers (``s`` and the last position, in base 32) so that the order can change
later without breaking a client that stores them; a cursor that does not parse is a ``BadCursor``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, select
from sqlalchemy import null as sql_null

from engine.ledger import aliases, records
from engine.ledger.errors import LedgerError
from engine.ledger.schema import replaced_decisions, transfers
from engine.models import Decision

Status = Literal["recorded", "withdrawn"]
STATUSES: tuple[str, ...] = ("recorded", "withdrawn")
OUTCOMES: tuple[str, ...] = ("permitted", "conditional", "prohibited")
MAX_PAGE = 1000
"""The largest page a caller may ask for: a page is read and answered in one piece."""


class BadCursor(LedgerError):
    """A cursor this ledger did not hand out (or a filter value that cannot match anything)."""

    code = "baygate.bad-cursor"
    http_status = 422


@dataclass(frozen=True)
class TransferQuery:
    """Which recorded transfers to list, newest first; every filter is optional."""

    exporter_id: str | None = None
    year: int | None = None
    outcome: str | None = None
    status: Status | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class TransferSummary:
    """One recorded transfer as a list shows it (its request and decision: ``Ledger.get``)."""

    decision_id: str
    reference: str
    exporter_id: str
    year: int
    outcome: str
    counted: bool
    counted_personal_subjects: int
    """What it added to the exporter's tally when recorded (0 when not counted)."""
    counted_sensitive_subjects: int
    recorded_at: str
    withdrawn_at: str | None
    event_seq: int

    @property
    def status(self) -> Status:
        return "withdrawn" if self.withdrawn_at is not None else "recorded"

    def as_dict(self) -> dict[str, Any]:
        return {"decision_id": self.decision_id, "reference": self.reference, "exporter_id": self.exporter_id,
                "year": self.year, "outcome": self.outcome, "status": self.status, "counted": self.counted,
                "counted_personal_subjects": self.counted_personal_subjects,
                "counted_sensitive_subjects": self.counted_sensitive_subjects, "recorded_at": self.recorded_at,
                "withdrawn_at": self.withdrawn_at, "event_seq": self.event_seq}


@dataclass(frozen=True)
class TransferPage:
    items: list[TransferSummary]
    next_cursor: str | None
    """Pass it back as ``cursor`` for the next (older) page; None on the last page."""


@dataclass(frozen=True)
class LoggedDecision:
    """A recorded decision in the decision log: its chain position, who exported, and the decision."""

    seq: int
    exporter_id: str
    recorded_at: str
    decision: Decision
    replaced_by: str | None = None
    """The decision an amendment recorded in its place (engine.ledger.amendments), if any: the log keeps
    every decision at its position, and the amendment's own line comes later."""

    def as_json(self) -> str:
        """One NDJSON line (without the newline): the decision in today's shape, with its position."""
        replaced = f',"replaced_by":{json.dumps(self.replaced_by)}' if self.replaced_by else ""
        return (f'{{"seq":{self.seq},"exporter_id":{json.dumps(self.exporter_id, ensure_ascii=False)},'
                f'"recorded_at":{json.dumps(self.recorded_at)}{replaced},"decision":{self.decision.model_dump_json()}}}')


def encode_cursor(event_seq: int) -> str:
    return "s" + _base32(event_seq)


def decode_cursor(cursor: str) -> int:
    if not (cursor.startswith("s") and 1 < len(cursor) <= 20):
        raise BadCursor(f"cursor {cursor[:40]!r} was not handed out by this ledger (pass back next_cursor as it is)")
    try:
        return int(cursor[1:], 32)
    except ValueError:
        raise BadCursor(f"cursor {cursor[:40]!r} was not handed out by this ledger "
                        "(pass back next_cursor as it is)") from None


def _base32(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuv"
    text = ""
    while True:
        number, digit = divmod(number, 32)
        text = digits[digit] + text
        if number == 0:
            return text


_SUMMARY_COLUMNS = (transfers.c.decision_id, transfers.c.reference, transfers.c.exporter_id, transfers.c.year,
                    transfers.c.outcome, transfers.c.counted, transfers.c.personal_subjects,
                    transfers.c.sensitive_subjects, transfers.c.recorded_at, transfers.c.withdrawn_at,
                    transfers.c.event_seq)


def transfer_page(conn: Connection, query: TransferQuery) -> TransferPage:
    """One page of recorded transfers, newest first (by chain position), with the query's filters."""
    if not 1 <= query.limit <= MAX_PAGE:
        raise BadCursor(f"limit must be between 1 and {MAX_PAGE}, got {query.limit}")
    statement = select(*_SUMMARY_COLUMNS)
    if query.exporter_id is not None:  # with the ids merged into it (engine.ledger.aliases)
        statement = statement.where(transfers.c.exporter_id.in_(aliases.counting_as(conn, query.exporter_id)))
    if query.year is not None:
        statement = statement.where(transfers.c.year == query.year)
    if query.outcome is not None:
        statement = statement.where(transfers.c.outcome == query.outcome)
    if query.status == "withdrawn":
        statement = statement.where(transfers.c.withdrawn_at.is_not(None))
    elif query.status == "recorded":
        statement = statement.where(transfers.c.withdrawn_at.is_(None))
    if query.cursor is not None:
        statement = statement.where(transfers.c.event_seq < decode_cursor(query.cursor))
    rows = conn.execute(statement.order_by(transfers.c.event_seq.desc()).limit(query.limit + 1)).all()
    items = [TransferSummary(
        decision_id=row.decision_id, reference=row.reference, exporter_id=row.exporter_id, year=int(row.year),
        outcome=row.outcome, counted=bool(row.counted), counted_personal_subjects=int(row.personal_subjects),
        counted_sensitive_subjects=int(row.sensitive_subjects), recorded_at=row.recorded_at,
        withdrawn_at=row.withdrawn_at, event_seq=int(row.event_seq)) for row in rows[:query.limit]]
    more = len(rows) > query.limit
    return TransferPage(items, encode_cursor(items[-1].event_seq) if more and items else None)


def decisions_after(conn: Connection, after: int, limit: int) -> list[LoggedDecision]:
    """Recorded decisions whose chain position is after ``after``, oldest first, at most ``limit``."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadCursor(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    rows = list(conn.execute(
        select(transfers.c.event_seq, transfers.c.exporter_id, transfers.c.recorded_at, transfers.c.request_json,
               transfers.c.decision_json, transfers.c.record, sql_null().label("replaced_by"))
        .where(transfers.c.event_seq > after).order_by(transfers.c.event_seq).limit(limit)).all())
    # Decisions amendments replaced keep their place in the log (a page of each, merged by position).
    replaced = replaced_decisions.c
    rows += conn.execute(select(replaced.event_seq, replaced.exporter_id, replaced.recorded_at, replaced.request_json,
                                replaced.decision_json, replaced.record, replaced.replaced_by)
                         .where(replaced.event_seq > after).order_by(replaced.event_seq).limit(limit)).all()
    rows.sort(key=lambda row: int(row.event_seq))
    reader = records.DictionaryReader(conn)  # compact rows (revision 0011) or texts in their columns
    return [LoggedDecision(int(row.event_seq), row.exporter_id, row.recorded_at,
                           Decision.model_validate(json.loads(reader.texts(row)[1])), row.replaced_by)
            for row in rows[:limit]]

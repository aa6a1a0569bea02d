"""Reading recorded transfers in pages, a transfer's history, and the chain's head.

``list_transfers`` is the minimum the web page's ledger list (issue 23 point 3) needs until the
interface issue's ``Ledger.list_transfers`` lands (issue 22 point 6), which replaces it: the same order
(newest first by chain position, ``event_seq``) through the same indexes (revision 0006). Every read is
one short statement on the ledger's own engine; none walks the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, text

from engine.ledger.schema import chain_head, events, transfers
from engine.ledger.store import Ledger

STATUSES = ("recorded", "withdrawn")
OUTCOMES = ("permitted", "conditional", "prohibited")


@dataclass(frozen=True)
class TransferRow:
    """One line of the list: what the table holds without parsing the request or decision."""

    decision_id: str
    reference: str
    exporter_id: str
    outcome: str
    year: int
    counted: bool
    personal_subjects: int
    sensitive_subjects: int
    recorded_at: str
    withdrawn_at: str | None


@dataclass(frozen=True)
class TransferPage:
    items: list[TransferRow]
    next_cursor: str | None
    """The chain position to continue after (``after=``); None on the last page."""


@dataclass(frozen=True)
class ChainEvent:
    seq: int
    kind: str
    at: str
    data: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class ChainHead:
    """Where the audit chain stood when read: its last event's position and hash."""

    seq: int
    hash: str
    at: str | None


_LIST_COLUMNS = (transfers.c.decision_id, transfers.c.reference, transfers.c.exporter_id, transfers.c.outcome,
                 transfers.c.year, transfers.c.counted, transfers.c.personal_subjects,
                 transfers.c.sensitive_subjects, transfers.c.recorded_at, transfers.c.withdrawn_at,
                 transfers.c.event_seq)


def list_transfers(ledger: Ledger, *, exporter: str | None = None, year: int | None = None,
                   outcome: str | None = None, status: str | None = None, after: str | None = None,
                   limit: int = 50) -> TransferPage:
    """Recorded transfers, newest first, filtered; ``after`` continues from a page's ``next_cursor``."""
    conditions = []
    if exporter:
        conditions.append(transfers.c.exporter_id == exporter)
    if year is not None:
        conditions.append(transfers.c.year == year)
    if outcome:
        conditions.append(transfers.c.outcome == outcome)
    if status == "withdrawn":
        conditions.append(transfers.c.withdrawn_at.is_not(None))
    elif status == "recorded":
        conditions.append(transfers.c.withdrawn_at.is_(None))
    if after and after.isdigit():
        conditions.append(transfers.c.event_seq < int(after))
    query = select(*_LIST_COLUMNS).order_by(transfers.c.event_seq.desc()).limit(limit + 1)
    if conditions:
        query = query.where(and_(*conditions))
    with ledger.sql_engine.connect() as conn:
        rows = conn.execute(query).all()
    items = [TransferRow(r.decision_id, r.reference, r.exporter_id, r.outcome, int(r.year), bool(r.counted),
                         int(r.personal_subjects), int(r.sensitive_subjects), r.recorded_at, r.withdrawn_at)
             for r in rows[:limit]]
    more = len(rows) > limit
    return TransferPage(items, str(int(rows[limit - 1].event_seq)) if more and items else None)


def transfer_history(ledger: Ledger, decision_id: str) -> list[ChainEvent]:
    """The chain events of one transfer (its submission, its withdrawal), found by the positions its
    row keeps, in chain order."""
    with ledger.sql_engine.connect() as conn:
        row = conn.execute(select(transfers.c.event_seq, transfers.c.withdrawn_seq)
                           .where(transfers.c.decision_id == decision_id)).one_or_none()
        if row is None:
            return []
        seqs = [int(seq) for seq in (row.event_seq, row.withdrawn_seq) if seq is not None]
        found = conn.execute(select(events.c.seq, events.c.kind, events.c.body, events.c.hash)
                             .where(events.c.seq.in_(seqs)).order_by(events.c.seq)).all()
    history = []
    for event in found:
        body = json.loads(event.body)
        history.append(ChainEvent(int(event.seq), event.kind, str(body.get("at", "")), dict(body.get("data", {})),
                                  event.hash))
    return history


def chain_head_now(ledger: Ledger) -> ChainHead:
    """The chain's head as it stands (its position, hash and the time of its last event)."""
    with ledger.sql_engine.connect() as conn:
        head = conn.execute(select(chain_head.c.seq, chain_head.c.hash).where(chain_head.c.id == 1)).one()
        body = conn.execute(text("SELECT body FROM events WHERE seq = :seq"), {"seq": head.seq}).scalar()
    at = str(json.loads(body).get("at")) if body else None
    return ChainHead(int(head.seq), str(head.hash), at)

"""Reading a transfer's history and the chain's head, for the web page's transfer page and printable
record (issue 23 points 3 and 5). The list of transfers is ``Ledger.list_transfers``
(``engine.ledger.listing``). Every read is one short statement on the ledger's own engine; none walks
the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from engine.ledger.schema import chain_head, events, replaced_decisions, transfers
from engine.ledger.store import Ledger


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


def transfer_history(ledger: Ledger, decision_id: str) -> list[ChainEvent]:
    """The chain events of one transfer (its submission, the amendments that replaced its decisions, its
    withdrawal), found by the positions its rows keep, in chain order."""
    with ledger.sql_engine.connect() as conn:
        row = conn.execute(select(transfers.c.event_seq, transfers.c.withdrawn_seq, transfers.c.exporter_id,
                                  transfers.c.reference)
                           .where(transfers.c.decision_id == decision_id)).one_or_none()
        if row is None:
            return []
        earlier = conn.execute(select(replaced_decisions.c.event_seq).where(
            replaced_decisions.c.exporter_id == row.exporter_id,
            replaced_decisions.c.reference == row.reference)).scalars().all()
        seqs = [int(seq) for seq in (row.event_seq, row.withdrawn_seq, *earlier) if seq is not None]
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

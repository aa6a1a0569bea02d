"""Finding a recorded transfer by decision id or reference, and reading it back as it was recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from engine.errors import FieldProblem, InputError
from engine.ledger import aliases, amendments, records
from engine.ledger.actors import of_event
from engine.ledger.errors import AmbiguousReference, NotFound
from engine.ledger.ledger_database import LedgerDatabase
from engine.ledger.schema import events, packs, transfers
from engine.models import Decision, TransferRequest, read_stored_request
from engine.strict import canonical_party_id


@dataclass(frozen=True)
class RecordedTransfer:
    """A recorded transfer as stored: the request, the decision that was recorded, and its state."""

    request: TransferRequest
    decision: Decision
    exporter_id: str
    recorded_at: str
    withdrawn: bool
    withdrawn_at: str | None
    counted: bool
    event_seq: int
    recorded_by: str | None = None
    """The actor of the submission (``key:NAME``, ``user:LOGIN``, ...; engine.ledger.actors); None for
    transfers recorded before actors were (revision 0007)."""
    reason: str | None = None
    """The reason given with the submission, if any."""
    withdrawn_by: str | None = None
    withdrawal_reason: str | None = None
    replaces: str | None = None
    """The decision this one replaced, when an amendment recorded it (engine.ledger.amend)."""
    replaced: tuple[amendments.ReplacedDecision, ...] = ()
    """The transfer's earlier decisions, oldest first, each with the one that replaced it."""


def canonical_exporter(exporter_id: str) -> str:
    """An exporter id given to look something up, in the form requests are recorded under."""
    try:
        return canonical_party_id(exporter_id)
    except ValueError as exc:
        raise InputError("", [FieldProblem("exporter_id", str(exc))]) from None


def find(conn: Connection, id_or_reference: str, exporter_id: str | None = None) -> Any:
    """The transfer row in force under a decision id (of any of its versions) or a reference; the
    exporter id is needed only where several exporters used one reference."""
    given = exporter_id
    exporter_id = None if exporter_id is None else canonical_exporter(exporter_id)
    # Every recorded id counting as the exporter: its own and those merged into it (engine.ledger.aliases).
    recorded_ids = None if exporter_id is None else aliases.members(conn, exporter_id)
    if given is not None and recorded_ids is not None and given not in recorded_ids:
        recorded_ids.append(given)  # the id exactly as recorded, even before a merge
    condition = or_(transfers.c.decision_id == id_or_reference, transfers.c.reference == id_or_reference)
    if recorded_ids is not None:
        condition = and_(condition, transfers.c.exporter_id.in_(recorded_ids))
    rows = conn.execute(select(transfers).where(condition)).all()
    amended = amendments.transfer_of(conn, id_or_reference) if not rows else None
    if amended is not None and (recorded_ids is None or amended[0] in recorded_ids):
        # an earlier decision's id: the transfer
        rows = conn.execute(select(transfers).where(transfers.c.exporter_id == amended[0],
                                                    transfers.c.reference == amended[1])).all()
    by_id = [r for r in rows if r.decision_id == id_or_reference]
    if by_id:
        return by_id[0]
    if not rows:
        who = f" for exporter {exporter_id}" if exporter_id else ""
        raise NotFound(f"no recorded transfer with decision id or reference {id_or_reference!r}{who}")
    if len(rows) > 1:
        owners = aliases.owners(conn, [str(r.exporter_id) for r in rows])
        decisions = ", ".join(f"{r.decision_id} (recorded as {r.exporter_id!r})"
                              for r in sorted(rows, key=lambda r: int(r.event_seq)))
        if len(set(owners.values())) == 1:  # variants merged into one exporter: a collision (id_merge)
            raise AmbiguousReference(
                f"reference {id_or_reference!r} of exporter {next(iter(owners.values()))} was recorded under "
                f"several of its ids before they were merged: {decisions}; give the decision id")
        exporters = ", ".join(sorted(r.exporter_id for r in rows))
        raise AmbiguousReference(f"reference {id_or_reference!r} is used by several exporters "
                                 f"({exporters}); give the exporter id or the decision id")
    return rows[0]


def recorded_transfer(db: LedgerDatabase, id_or_reference: str, exporter_id: str | None = None) -> RecordedTransfer:
    """A recorded transfer by decision id or reference (with the exporter id when ambiguous): its
    request and decision as recorded, who recorded and withdrew it and why, its earlier decisions."""
    with db.read() as conn:
        row = find(conn, id_or_reference, exporter_id)
        seqs = [int(row.event_seq)] + ([int(row.withdrawn_seq)] if row.withdrawn_seq is not None else [])
        bodies = {int(seq): json.loads(body) for seq, body in conn.execute(
            select(events.c.seq, events.c.body).where(events.c.seq.in_(seqs)))}
        replaced = tuple(amendments.history(conn, row.exporter_id, row.reference))
        request_json, decision_json = records.DictionaryReader(conn).texts(row)
    recorded_data = bodies.get(int(row.event_seq), {}).get("data") or {}
    _, reason = of_event(recorded_data)
    withdrawn_by, withdrawal_reason = (of_event(bodies.get(int(row.withdrawn_seq), {}).get("data") or {})
                                       if row.withdrawn_seq is not None else (None, None))
    return RecordedTransfer(
        request=read_stored_request(json.loads(request_json)),
        decision=Decision.model_validate(json.loads(decision_json)),
        exporter_id=row.exporter_id, recorded_at=row.recorded_at, withdrawn=row.withdrawn_at is not None,
        withdrawn_at=row.withdrawn_at, counted=bool(row.counted), event_seq=int(row.event_seq),
        recorded_by=row.recorded_by, reason=reason, withdrawn_by=withdrawn_by,
        withdrawal_reason=withdrawal_reason,
        replaces=recorded_data.get("replaces") if isinstance(recorded_data.get("replaces"), str) else None,
        replaced=replaced)


def pack_content(db: LedgerDatabase, digest: str) -> str:
    """The stored YAML text of a pack, by the digest a decision's ``rules`` names (for replays)."""
    with db.read() as conn:
        content = conn.execute(select(packs.c.content).where(packs.c.digest == digest)).scalar()
    if content is None:
        raise NotFound(f"no stored rule pack with digest {digest}")
    return str(content)

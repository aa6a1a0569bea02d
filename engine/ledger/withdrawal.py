"""Withdrawing a recorded transfer: its counts released from the running totals, an audit event saying
what was released and who withdrew it, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from engine.ledger import aliases, audit, chain_keys, records, totals
from engine.ledger.actors import Actor, local_user
from engine.ledger.ledger_database import LedgerDatabase, recorded_now
from engine.ledger.lookups import find
from engine.ledger.schema import transfers


@dataclass(frozen=True)
class WithdrawResult:
    """A withdrawal; ``already_withdrawn`` when an earlier call withdrew it (nothing new recorded)."""

    decision_id: str
    reference: str
    exporter_id: str
    withdrawn_at: str
    already_withdrawn: bool
    released_personal_subjects: int
    released_sensitive_subjects: int
    counted_personal_subjects: int = 0
    """What the transfer added when it was recorded. It releases less when later transfers of the same
    population counted only their increase over its figure: they keep those individuals."""
    counted_sensitive_subjects: int = 0


def withdraw(db: LedgerDatabase, id_or_reference: str, exporter_id: str | None = None,
             actor: Actor | None = None) -> WithdrawResult:
    """Withdraw a recorded transfer (decision id or reference): its counts are released (from the
    running totals, in the same transaction: the totals become what they would be had it never been
    recorded, ``totals.released_by``), and the withdrawal is recorded as an audit event with what it
    released and who withdrew it (``actor``, default the operating-system user). Withdrawing twice
    records nothing new."""
    actor = actor or local_user()
    with db.write() as conn:
        found = find(conn, id_or_reference, exporter_id)
        aliases.lock_owner(conn, found.exporter_id)  # whose totals count it: its canonical id once merged
        row = conn.execute(select(transfers).where(transfers.c.decision_id == found.decision_id)).one()
        counted = int(row.personal_subjects), int(row.sensitive_subjects)
        if row.withdrawn_at is not None:
            return WithdrawResult(row.decision_id, row.reference, row.exporter_id, row.withdrawn_at, True,
                                  0, 0, *counted)
        texts = records.DictionaryReader(conn).texts
        personal, sensitive = totals.released_by(conn, row, texts) if row.counted else (0, 0)
        now = recorded_now()
        audit.lock_chain(conn)  # after the exporter's lock, as every transaction takes them
        chain_keys.prepare(conn, db.appender(conn), db.signer, chain_keys.latest_key(conn), actor, now)
        seq = audit.append_event(conn, "withdrawal", row.decision_id, now, {
            "exporter": row.exporter_id, "reference": row.reference,
            "released_personal_subjects": personal, "released_sensitive_subjects": sensitive, **actor.fields()},
            db.signer)
        conn.execute(update(transfers).where(transfers.c.decision_id == row.decision_id)
                     .values(withdrawn_at=now, withdrawn_seq=seq))
        if row.counted:
            totals.release(conn, db.totals_key, row, personal, sensitive)
    return WithdrawResult(row.decision_id, row.reference, row.exporter_id, now, False, personal, sensitive,
                          *counted)

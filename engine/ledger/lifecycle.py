"""What a writing process does to a ledger once its schema is current: seal the running totals an
upgrade left unsealed (or all of them, after a change of totals key), and sign the chain's head with
this process's signing key, announcing the key first if the chain does not name it last."""

from __future__ import annotations

from sqlalchemy import select

from engine.ledger import audit, chain_keys, sealed_totals, totals
from engine.ledger.actors import Actor, local_user
from engine.ledger.errors import LedgerIntegrityError
from engine.ledger.ledger_database import LedgerDatabase, recorded_now
from engine.ledger.schema import chain_signatures


def seal_totals(db: LedgerDatabase, only_unsealed: bool = False) -> int:
    """Seal every running-totals row with this process's totals key, once the stored totals are found
    equal to what the audit chain accounts for (the chain walked and every hash checked, as ``audit
    verify`` does): after the upgrade to revision 0009, whose rows carry no seal yet (then
    ``only_unsealed``: nothing to do, and no lock taken, when every row is sealed), and by ``baygate db
    reseal`` after a change of totals key. Returns the exporter-years sealed. Raises
    ``LedgerIntegrityError`` when the totals or the chain do not hold: sealing would vouch for them."""
    if only_unsealed:
        with db.read() as conn:
            if not sealed_totals.any_unsealed(conn):
                return 0
    key = db.totals_key
    with db.write() as conn:
        audit.lock_chain(conn)  # holds every writer off until the seals are in
        if only_unsealed and not sealed_totals.any_unsealed(conn):
            return 0  # another process sealed them meanwhile
        try:
            expected = audit.chain_totals(conn)
        except ValueError as exc:
            raise LedgerIntegrityError(f"ledger integrity: the running totals were not sealed: the audit "
                                       f"chain does not verify ({exc})") from None
        difference = totals.check(conn, expected)
        if difference is not None:
            raise LedgerIntegrityError(f"ledger integrity: the running totals were not sealed: "
                                       f"{difference.problem}")
        return sealed_totals.seal_all(conn, key)


def sign_the_head(db: LedgerDatabase, actor: Actor | None = None) -> None:
    """After an upgrade, with a signing key: announce it if the chain does not name it last, and sign
    the head if it is not signed (an upgrade may have appended events, e.g. revision 0005's recounts),
    so that ``audit verify --public-key`` finds every head this key's holder committed signed.
    Nothing without a signing key."""
    signer = db.signer
    if signer is None:
        return
    with db.write() as conn:
        head = audit.lock_chain(conn)
        latest = chain_keys.latest_key(conn)
        if latest != signer.key_id:
            chain_keys.prepare(conn, db.appender(conn), signer, latest, actor or local_user(), recorded_now())
        elif head[0] > 0 and not conn.execute(select(chain_signatures.c.seq).where(
                chain_signatures.c.seq == head[0])).first():
            audit.sign_head(conn, signer, *head)

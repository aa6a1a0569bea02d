"""Which key signs the chain, and announcing a new one (issue 19 point 1: "a change of key is recorded
in the chain").

Every writing transaction reads the newest announcement (``chain_signing_keys``, one row per
``signing_key`` event) under the chain-head lock and then:

- holding the announced key: appends as usual, and signs the head it commits;
- holding another key (a rotation, or the first key ever): first appends a ``signing_key`` event with
  the new public key, the previous key's id and the actor, then goes on; the new key signs;
- holding no key while the chain announces one: refuses to write (``SigningKeyRequired``). Its head
  would be unsigned, and ``audit verify --public-key`` would rightly report it as not written by the
  service. A deployment that stops signing keeps verifying the history it signed, but cannot append.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text

from engine.ledger.actors import Actor
from engine.ledger.signing import ALGORITHM, SIGNING_KEY_ENV, ChainSigner, SigningKeyRequired

LATEST_KEY_SQL = "SELECT key_id FROM chain_signing_keys ORDER BY announced_seq DESC LIMIT 1"
_LATEST_KEY = text(LATEST_KEY_SQL)
_RECORD_KEY = text("INSERT INTO chain_signing_keys (announced_seq, key_id, public_key) VALUES (:s, :k, :p)")

Append = Callable[[str, str, str, dict[str, Any]], int]
"""Appends an event (kind, subject, at, data) in the caller's transaction; returns its seq."""


def latest_key(conn: Connection) -> str | None:
    """The id of the key the chain announced last, or None when it was never signed."""
    found = conn.execute(_LATEST_KEY).scalar()
    return None if found is None else str(found)


def prepare(conn: Connection, append: Append, signer: ChainSigner | None, latest: str | None, actor: Actor,
            now: str) -> None:
    """Before a transaction's first event: announce ``signer``'s key if the chain does not name it last,
    or refuse an unsigned write to a signed chain. Called holding the chain-head lock."""
    if signer is None:
        if latest is not None:
            raise SigningKeyRequired(f"this ledger's audit chain is signed (key {latest}): set {SIGNING_KEY_ENV} "
                                     "to the signing key before writing to it; nothing was written")
        return
    if latest == signer.key_id:
        return
    seq = append("signing_key", signer.key_id, now, {"key_id": signer.key_id, "public_key": signer.public_b64,
                                                     "algorithm": ALGORITHM, "previous_key_id": latest,
                                                     **actor.fields()})
    conn.execute(_RECORD_KEY, {"s": seq, "k": signer.key_id, "p": signer.public_b64})

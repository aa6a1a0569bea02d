"""What ties the audit chain to something outside the database (issue 19 point 1): checkpoints an auditor
keeps elsewhere, and the signatures of every committed head. Checked by ``audit verify`` after the
chain itself has been walked (``engine.ledger.audit``): the walk proves every event links to the one
before it and that every row says what its event hashed; these checks prove the chain is the one that
was written, which the walk alone cannot (an insider with the database and the source code can write
a whole new chain whose every hash is right).

- **Checkpoints** (``audit checkpoint``): the head's position, hash and time. ``verify --checkpoint
  FILE`` fails when the chain no longer holds that hash at that position: a rewrite of any event up to
  it, a truncation, a rollback to an older copy of the database. They catch what signatures cannot,
  and need no key; their limit is the moment they were taken: events after the newest checkpoint are
  anchored by signatures only.
- **Signatures** (``engine.ledger.signing``): every transaction that appends to the chain signs the
  head it commits. Verify checks every signature: it must be of a head the chain still has, with the
  hash the chain has there, made by a key the chain announced before it (a ``signing_key`` event), and
  valid under that key. With ``--public-key FILE`` the keys are the auditor's own, and every signature
  must be by one of them; without, the keys the chain announces are used, which proves the signatures
  consistent but nothing against an insider who can write the chain (say so). Once a key is announced
  the newest event must be a signed head: an unsigned tail was written without the key, or forged.
  Events before the first announcement were written before any key: verify names that stretch as
  unsigned (anchored only from the first signed head on).

One signature per committed transaction, not per event, is enough: an event's hash covers every event
before it, so the signed head of a group commit vouches for the whole group, and every head that was
ever committed is signed. What signatures cannot catch: deleting the newest events back to an earlier
signed head (a truncation) or restoring an older copy of the database (a rollback), both of which end
on a head that was signed; and an insider who holds the private key. Checkpoints answer the first two.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, text

from engine.errors import FieldProblem, InputError
from engine.ledger.signing import PublicKey, announced_key

CHECKPOINT_FORMAT = "baygate-checkpoint/1"

_SIGNED_HEADS = text(
    "SELECT s.seq, s.hash, s.key_id, s.signature, e.hash AS event_hash FROM chain_signatures s "
    "LEFT JOIN events e ON e.seq = s.seq ORDER BY s.seq")
_ANNOUNCEMENTS = text("SELECT announced_seq, key_id, public_key FROM chain_signing_keys ORDER BY announced_seq")
_HEAD_EVENT = text("SELECT e.seq, e.hash, e.body FROM events e WHERE e.seq = (SELECT max(seq) FROM events)")
_HASH_AT = text("SELECT hash FROM events WHERE seq = :s")
_SIGNATURE_AT = text("SELECT key_id, signature FROM chain_signatures WHERE seq = :s")


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head as an auditor keeps it: position, hash, the head event's time, when taken."""

    seq: int
    hash: str
    at: str | None
    taken_at: str
    key_id: str | None = None
    signature: str | None = None
    source: str = ""

    def document(self) -> dict[str, Any]:
        found: dict[str, Any] = {"format": CHECKPOINT_FORMAT, "seq": self.seq, "hash": self.hash, "at": self.at,
                                 "taken_at": self.taken_at}
        if self.signature is not None:
            found["signature"] = {"key_id": self.key_id, "value": self.signature}
        return found


def take_checkpoint(conn: Connection, now: str) -> Checkpoint:
    """The current head (and its signature, when it is signed)."""
    head = conn.execute(_HEAD_EVENT).first()
    if head is None:
        return Checkpoint(0, "0" * 64, None, now)
    signed = conn.execute(_SIGNATURE_AT, {"s": int(head.seq)}).first()
    return Checkpoint(int(head.seq), str(head.hash), json.loads(head.body).get("at"), now,
                      signed.key_id if signed else None, signed.signature if signed else None)


def read_checkpoint(path: str | Path) -> Checkpoint:
    """A checkpoint file as ``audit checkpoint --json`` writes it; InputError naming the file and field."""
    source = str(path)
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(source, [FieldProblem("", f"cannot read: {exc.strerror}")]) from None
    except ValueError as exc:
        raise InputError(source, [FieldProblem("", f"not a checkpoint (not JSON: {exc})")]) from None
    return checkpoint_from(document, source)


def checkpoint_from(document: Any, source: str) -> Checkpoint:
    """A checkpoint document (a file's, or a verify job's ``checkpoints`` item); InputError naming
    ``source`` and the field."""
    if not isinstance(document, dict) or document.get("format") != CHECKPOINT_FORMAT:
        raise InputError(source, [FieldProblem("format", f"expected {CHECKPOINT_FORMAT!r} (baygate audit "
                                                          "checkpoint --json)")])
    seq, head_hash = document.get("seq"), document.get("hash")
    problems = []
    if type(seq) is not int or seq < 0:
        problems.append(FieldProblem("seq", "expected the head's position, a whole number"))
    if not isinstance(head_hash, str) or len(head_hash) != 64 or any(c not in "0123456789abcdef" for c in head_hash):
        problems.append(FieldProblem("hash", "expected the head's hash, 64 hex digits"))
    if problems:
        raise InputError(source, problems)
    at, taken_at = document.get("at"), document.get("taken_at")
    return Checkpoint(cast(int, seq), str(head_hash), at if isinstance(at, str) else None,
                      taken_at if isinstance(taken_at, str) else "", source=source)


@dataclass(frozen=True)
class AnchorProblem:
    """A failed anchor: where (``first_bad`` as AuditResult reads it) and what."""

    first_bad: int | str
    problem: str


@dataclass
class AnchorReport:
    """What the anchors showed when they held: notes for the auditor (which keys, which stretch is
    unsigned, which checkpoints held)."""

    notes: list[str] = field(default_factory=list)
    signatures: int = 0


def check_checkpoints(conn: Connection, checkpoints: Sequence[Checkpoint], events: int,
                      report: AnchorReport) -> AnchorProblem | None:
    for checkpoint in checkpoints:
        where = f"checkpoint {checkpoint.source or checkpoint.seq}"
        taken = f" taken {checkpoint.taken_at}" if checkpoint.taken_at else ""
        if checkpoint.seq > events:
            return AnchorProblem(f"event {events + 1}", f"{where}{taken} records event {checkpoint.seq}, but the chain "
                                 f"ends at event {events}: truncated, or rolled back to an older copy")
        if checkpoint.seq == 0:
            report.notes.append(f"{where}: taken of an empty ledger, holds trivially")
            continue
        found = conn.execute(_HASH_AT, {"s": checkpoint.seq}).scalar()
        if found != checkpoint.hash:
            return AnchorProblem(checkpoint.seq, f"event {checkpoint.seq}: its hash is not the one {where}{taken} "
                                 "records: the chain was rewritten up to there (or rolled back to another copy)")
        report.notes.append(f"{where} holds (event {checkpoint.seq})")
    return None


def check_signatures(conn: Connection, given: Mapping[str, PublicKey] | None, events: int,
                     report: AnchorReport) -> AnchorProblem | None:
    """Every signature against the chain and a key (``given``: the auditor's, else the announced ones)."""
    announcements = [(int(seq), str(key_id), str(public)) for seq, key_id, public in conn.execute(_ANNOUNCEMENTS)]
    announced = {key_id: seq for seq, key_id, _ in reversed(announcements)}  # key -> first announcement
    keys: dict[str, PublicKey] = dict(given) if given is not None else {
        key_id: announced_key(key_id, public) for _, key_id, public in announcements}
    last_signed = 0
    used: dict[str, list[int]] = {}
    count = 0
    # Streamed: a chain signed at every submission has as many signatures as events (PostgreSQL's
    # driver would otherwise hold them all before the first).
    for row in conn.execute(_SIGNED_HEADS.execution_options(stream_results=True, yield_per=1_000)):
        seq = int(row.seq)
        count += 1
        if row.event_hash is None:
            return AnchorProblem(seq, f"event {seq} was signed, but the chain ends at event {events}: its newest "
                                 "events were deleted")
        if row.hash != row.event_hash:
            return AnchorProblem(seq, f"event {seq}: its hash is not the one that was signed: the chain was "
                                 "rewritten up to there")
        first = announced.get(row.key_id)
        if first is None or first > seq:
            return AnchorProblem(seq, f"event {seq}: signed by key {row.key_id}, which the chain does not announce "
                                 "before it")
        key = keys.get(row.key_id)
        if key is None:
            return AnchorProblem(seq, f"event {seq}: signed by key {row.key_id}, which is none of the public keys "
                                 f"given ({', '.join(sorted(keys)) or 'none'}): another key signed it")
        if not key.verifies(seq, str(row.hash), str(row.signature)):
            return AnchorProblem(seq, f"event {seq}: its signature does not verify under key {row.key_id} (forged "
                                 "or edited)")
        span = used.setdefault(str(row.key_id), [seq, seq])
        span[1] = seq
        last_signed = seq
    report.signatures = count
    if not announcements:
        if given is not None:
            return AnchorProblem(events, "no head of the chain is signed by a given key: it was written without a "
                                 "signing key, or rewritten without the signatures")
        report.notes.append("the chain is not signed (no signing key was ever configured)")
        return None
    first_announced = announcements[0][0]
    if last_signed < events:
        return AnchorProblem(last_signed + 1, f"events {last_signed + 1} to {events} are not covered by any signature: "
                             "written without the signing key, or appended by someone without it")
    if first_announced > 1:
        report.notes.append(f"events 1 to {first_announced - 1} were written before any signing key: unsigned, "
                            f"anchored only by the first signed head (event {first_announced})")
    for key_id, (start, end) in used.items():
        report.notes.append(f"key {key_id} signed heads from event {start} to {end}")
    if given is None:
        report.notes.append("signatures checked against the keys the chain itself announces, which proves them "
                            "consistent but nothing against someone able to write the chain: give --public-key")
    return None

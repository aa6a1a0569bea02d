"""The audit chain: every event hashed with the hash of the one before it (DESIGN section 1, job 5).

An event's hash is ``sha256(prev_hash + "\\n" + body)`` where ``body`` is the canonical JSON of
``{"seq", "kind", "subject", "at", "data"}``. Putting ``seq`` inside the hashed body makes a reorder
(swapping seqs) as visible as an edit; the gapless seq and ``prev_hash`` reveal a deleted or inserted
event; ``audit_chain_head`` (last seq and hash, written in the same transaction) reveals removing the newest
events. The transfer rows (``transfers``, ``transfer_populations``) and the pack texts are
cross-checked against the events, so editing a count, the stored request or decision, or a pack is
found too, and named by the event that recorded it. The running totals counting reads (revision 0004)
are recomputed from the events themselves (what each submission added, what each withdrawal
released) and compared, so an edited, missing or forged total is named by its exporter and year (and
population).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, text

from engine.ledger import packs as pack_store
from engine.ledger import totals
from engine.ledger.schema import TALLIES, chain_head, events, packs, transfer_populations, transfers

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    """One JSON text per value: sorted keys, no spaces, UTF-8 kept; what every hash is taken over."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_hash(prev_hash: str, body: str) -> str:
    return sha256(prev_hash + "\n" + body)


@dataclass(frozen=True)
class AuditResult:
    """What ``verify`` found: ``first_bad`` is the seq of the first bad event (or, for a recorded row
    that no event accounts for, ``"transfer <id>"`` / ``"pack <digest>"``; for a running total that
    differs from its transfers, ``"counts <exporter> <year>"``), None when all is well."""

    ok: bool
    events: int
    first_bad: int | str | None = None
    problem: str | None = None


_HEAD = {False: text("SELECT seq, hash FROM audit_chain_head WHERE id = 1"),
         True: text("SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE")}
_INSERT_EVENT = text("INSERT INTO events (seq, kind, subject, body, prev_hash, hash) "
                     "VALUES (:seq, :kind, :subject, :body, :prev_hash, :hash)")
_UPDATE_HEAD = text("UPDATE audit_chain_head SET seq = :seq, hash = :hash WHERE id = 1")


def _read_head(connection: Connection) -> Any:
    return connection.execute(_HEAD[connection.dialect.name == "postgresql"]).one()


def append_event(connection: Connection, kind: str, subject: str, at: str, data: dict[str, Any]) -> int:
    """Append one event under the chain-head row lock (held to commit); returns its seq.

    The head row is read ``FOR UPDATE`` on PostgreSQL, so concurrent transactions of different
    exporters append one after the other and the chain never forks; SQLite's BEGIN IMMEDIATE already
    holds the only write lock.
    """
    head = _read_head(connection)
    seq = int(head.seq) + 1
    body = canonical({"seq": seq, "kind": kind, "subject": subject, "at": at, "data": data})
    digest = chain_hash(head.hash, body)
    connection.execute(_INSERT_EVENT, {"seq": seq, "kind": kind, "subject": subject, "body": body,
                                       "prev_hash": head.hash, "hash": digest})
    connection.execute(_UPDATE_HEAD, {"seq": seq, "hash": digest})
    return seq


class ChainWriter:
    """Appends events inside one transaction with one read of the chain head (taken ``FOR UPDATE`` on
    PostgreSQL at the first append or ``lock``) and, at ``flush``, one multi-row insert and one head
    update: what a group commit of many submissions needs instead of three round trips per event.
    Events are hashed exactly as :func:`append_event` hashes them."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._head: tuple[int, str] | None = None
        self._rows: list[dict[str, Any]] = []

    def lock(self) -> None:
        if self._head is None:
            head = _read_head(self.connection)
            self._head = (int(head.seq), str(head.hash))

    def append(self, kind: str, subject: str, at: str, data: dict[str, Any]) -> int:
        self.lock()
        assert self._head is not None
        seq, prev_hash = self._head[0] + 1, self._head[1]
        body = canonical({"seq": seq, "kind": kind, "subject": subject, "at": at, "data": data})
        digest = chain_hash(prev_hash, body)
        self._rows.append({"seq": seq, "kind": kind, "subject": subject, "body": body, "prev_hash": prev_hash,
                           "hash": digest})
        self._head = (seq, digest)
        return seq

    def flush(self) -> None:
        if not self._rows:
            return
        assert self._head is not None
        self.connection.execute(_INSERT_EVENT, self._rows)
        self.connection.execute(_UPDATE_HEAD, {"seq": self._head[0], "hash": self._head[1]})
        self._rows = []


def lock_chain(connection: Connection) -> None:
    """Take the chain-head lock early (before reading which packs are already stored)."""
    _read_head(connection)


def verify(connection: Connection) -> AuditResult:
    """Walk the chain in seq order and cross-check the recorded rows; stop at the first problem."""
    rows = {row.decision_id: row for row in connection.execute(select(transfers))}
    populations: dict[str, dict[str, dict[str, int]]] = {}
    for pop in connection.execute(select(transfer_populations)):  # figures as stored: see submission_data
        populations.setdefault(pop.decision_id, {}).setdefault(pop.tally, {})[pop.population] = pop.subjects
    stored_packs = {row.digest: row for row in connection.execute(select(packs))}
    head = connection.execute(select(chain_head.c.seq, chain_head.c.hash).where(chain_head.c.id == 1)).one()

    seen_transfers: set[str] = set()
    withdrawn: set[str] = set()
    seen_packs: set[str] = set()
    recount = totals.Recount()
    prev_hash = GENESIS
    count = 0
    for event in connection.execute(select(events).order_by(events.c.seq)):
        count += 1
        seq = int(event.seq)

        def bad(problem: str, seq: int = seq, count: int = count) -> AuditResult:
            return AuditResult(False, count, seq, f"event {seq}: {problem}")

        if seq != count:
            what = "missing (deleted)" if seq > count else "duplicated or inserted"
            return AuditResult(False, count, count if seq > count else seq,
                               f"event {count}: {what}; the chain jumps to seq {seq}")
        if event.prev_hash != prev_hash:
            return bad("does not follow the event before it (an event was deleted, inserted or reordered)")
        if chain_hash(event.prev_hash, event.body) != event.hash:
            return bad("its content does not match its hash (edited)")
        try:
            body = json.loads(event.body)
        except ValueError:
            return bad("its body is not JSON (edited)")
        if body.get("seq") != seq or body.get("kind") != event.kind or body.get("subject") != event.subject:
            return bad("seq, kind or subject differ from the hashed body (edited or reordered)")
        problem = _check_event(body, rows, populations, stored_packs, withdrawn)
        if problem:
            return bad(problem)
        if event.kind == "submission":
            seen_transfers.add(event.subject)
            recount.submission(event.subject, body.get("data") or {})
        elif event.kind == "withdrawal":
            recount.withdrawal(event.subject, body.get("data") or {})
        elif event.kind == "pack":
            seen_packs.add(event.subject)
        prev_hash = event.hash
    if int(head.seq) != count or head.hash != prev_hash:
        return AuditResult(False, count, count + 1 if int(head.seq) > count else int(head.seq),
                           f"the chain ends at event {count} but its head records event {head.seq}: "
                           "the newest events were deleted, or the head was edited")
    for decision_id in sorted(set(rows) - seen_transfers):
        return AuditResult(False, count, f"transfer {decision_id}",
                           f"transfer {decision_id} has no submission event (inserted)")
    for decision_id, row in sorted(rows.items()):
        if (row.withdrawn_at is not None) != (decision_id in withdrawn):
            state = "withdrawn" if row.withdrawn_at else "not withdrawn"
            return AuditResult(False, count, int(row.event_seq),
                               f"event {row.event_seq}: transfer {decision_id} is marked {state} "
                               "against the chain (edited)")
    for digest in sorted(set(stored_packs) - seen_packs):
        return AuditResult(False, count, f"pack {digest}", f"pack {digest} has no event (inserted)")
    return _check_totals(connection, count, recount.totals())


def _check_totals(connection: Connection, count: int, expected: totals.Totals) -> AuditResult:
    """The running totals against their recount from the chain just walked: a total that differs
    would decide routes on counts nothing recorded."""
    difference = totals.check(connection, expected)
    if difference is None:
        return AuditResult(True, count)
    return AuditResult(False, count, f"counts {difference.exporter_id} {difference.year}", difference.problem)


def _check_event(body: dict[str, Any], rows: dict[str, Any], populations: dict[str, dict[str, dict[str, int]]],
                 stored_packs: dict[str, Any], withdrawn: set[str]) -> str | None:
    """Does the recorded row this event speaks of still say what the event hashed?"""
    data = body.get("data") or {}
    kind = body.get("kind")
    subject = str(body.get("subject"))
    if kind == "submission":
        row = rows.get(subject)
        if row is None:
            return f"transfer {subject} was deleted"
        if row.request_sha256 != sha256(row.request_json):
            return f"transfer {subject}: its idempotency key (request_sha256) was edited"
        figures = populations.get(subject, {})
        if not set(figures) <= set(TALLIES):
            return f"transfer {subject}: a population's tally was edited"
        expected = submission_data(row, figures)
        for key in sorted(set(expected) | {"sensitive_populations"}):  # listed only when there are any
            if data.get(key) != expected.get(key):
                return f"transfer {subject}: {key} was edited"
        return None
    if kind == "withdrawal":
        row = rows.get(subject)
        if row is None:
            return f"withdrawn transfer {subject} was deleted"
        if row.withdrawn_at != body.get("at"):
            return f"transfer {subject}: its withdrawal was edited"
        withdrawn.add(str(subject))
        return None
    if kind == "pack":
        pack = stored_packs.get(subject)
        if pack is None:
            return f"pack {subject} was deleted"
        if sha256(pack.content) != data.get("content_sha256"):
            return f"pack {subject}: its stored text was edited"
        if not pack_store.text_has_digest(pack.content, str(subject)):
            return f"pack {subject}: its stored text does not have its digest"
        return None
    return f"unknown event kind {kind!r}"


def submission_data(row: Any, populations: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """What a submission event hashes about its transfer row: everything counting and replay read.
    ``populations``: tally -> population -> figure. The sensitive tally's figures are listed only when
    there are any, so events written before revision 0005 (which had none) still say the same.

    The values are taken as the row holds them, not converted: SQLite keeps what it is given in an
    integer column, and a year edited to ``2026.5`` would pass for 2026 once made an integer while
    counting's ``year = :y`` no longer finds it."""
    return {
        "decision_id": row.decision_id,
        "exporter": row.exporter_id,
        "reference": row.reference,
        "request_sha256": sha256(row.request_json),
        "decision_sha256": sha256(row.decision_json),
        "outcome": row.outcome,
        "year": row.year,
        "counted": bool(row.counted),
        "personal_subjects": row.personal_subjects,
        "sensitive_subjects": row.sensitive_subjects,
        "populations": dict(sorted(populations.get("personal", {}).items())),
        "rules_digest": row.rules_digest,
        "recorded_at": row.recorded_at,
        **({"sensitive_populations": dict(sorted(sensitive.items()))}
           if (sensitive := populations.get("sensitive")) else {}),
    }

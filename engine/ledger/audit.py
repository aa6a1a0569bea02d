"""The audit chain: every event hashed with the hash of the one before it (DESIGN section 1, job 5).

An event's hash is ``sha256(prev_hash + "\\n" + body)`` where ``body`` is the canonical JSON of
``{"seq", "kind", "subject", "at", "data"}``. Putting ``seq`` inside the hashed body makes a reorder
(swapping seqs) as visible as an edit; the gapless seq and ``prev_hash`` reveal a deleted or inserted
event; the chain head row (``sealed_chain_head``: last seq and hash, written in the same transaction)
reveals removing the newest events. The transfer rows (``transfers``, ``transfer_populations``) and the pack texts are
cross-checked against the events, so editing a count, the stored request or decision, or a pack is
found too, and named by the event that recorded it. The running totals counting reads (revision 0004)
are recomputed from the events themselves (what each submission added, what each withdrawal
released) and compared, so an edited, missing or forged total is named by its exporter and year (and
population).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import BigInteger, Boolean, Connection, Integer, LargeBinary, String, Text, inspect, select, text
from sqlalchemy.exc import OperationalError

from engine.ledger import amendments, anchors, records, totals
from engine.ledger import packs as pack_store
from engine.ledger.schema import (
    TALLIES,
    chain_head,
    chain_signatures,
    chain_signing_keys,
    events,
    exporter_year_population_figures,
    exporter_year_totals,
    pack_sets,
    packs,
    record_dictionaries,
    replaced_decisions,
    transfer_populations,
    transfers,
)
from engine.ledger.signing import ChainSigner, PublicKey, encoded_key_id

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
    notes: tuple[str, ...] = ()
    """What the anchors showed (engine.ledger.anchors): checkpoints held, which keys signed which
    stretch, which stretch was written before any key; empty when there is nothing to say."""


_HEAD = {False: text(f"SELECT seq, hash FROM {chain_head.name} WHERE id = 1"),
         True: text(f"SELECT seq, hash FROM {chain_head.name} WHERE id = 1 FOR UPDATE")}
_INSERT_EVENT = text("INSERT INTO events (seq, kind, subject, body, prev_hash, hash) "
                     "VALUES (:seq, :kind, :subject, :body, :prev_hash, :hash)")
_UPDATE_HEAD = text(f"UPDATE {chain_head.name} SET seq = :seq, hash = :hash WHERE id = 1")
_INSERT_SIGNATURE = text("INSERT INTO chain_signatures (seq, hash, key_id, signature) "
                         "VALUES (:seq, :hash, :key_id, :signature)")


def sign_head(connection: Connection, signer: ChainSigner | None, seq: int, head_hash: str) -> None:
    """Store the signature of a head this transaction commits (nothing without a signing key)."""
    if signer is not None:
        connection.execute(_INSERT_SIGNATURE, {"seq": seq, "hash": head_hash, "key_id": signer.key_id,
                                               "signature": signer.sign(seq, head_hash)})


def _read_head(connection: Connection) -> Any:
    return connection.execute(_HEAD[connection.dialect.name == "postgresql"]).one()


def append_event(connection: Connection, kind: str, subject: str, at: str, data: dict[str, Any],
                 signer: ChainSigner | None = None) -> int:
    """Append one event under the chain-head row lock (held to commit); returns its seq. With a
    ``signer`` the new head is signed in the same transaction (a transaction appending several events
    signs each of its heads: they are rare, and the last one is the head it commits).

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
    sign_head(connection, signer, seq, digest)
    return seq


class ChainWriter:
    """Appends events inside one transaction with one read of the chain head (taken ``FOR UPDATE`` on
    PostgreSQL at the first append or ``lock``) and, at ``flush``, one multi-row insert and one head
    update: what a group commit of many submissions needs instead of three round trips per event.
    Events are hashed exactly as :func:`append_event` hashes them; with a ``signer`` the head the
    transaction commits is signed at ``flush`` (one signature a group: it covers every event in it)."""

    def __init__(self, connection: Connection, signer: ChainSigner | None = None) -> None:
        self.connection = connection
        self.signer = signer
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
        sign_head(self.connection, self.signer, *self._head)
        self._rows = []


def lock_chain(connection: Connection) -> tuple[int, str]:
    """Take the chain-head lock early (before reading which packs are already stored); the head."""
    head = _read_head(connection)
    return int(head.seq), str(head.hash)


def verify(connection: Connection, checkpoints: Sequence[anchors.Checkpoint] = (),
           public_keys: Mapping[str, PublicKey] | None = None) -> AuditResult:
    """Walk the chain in seq order and cross-check the recorded rows; stop at the first problem. Then
    the running totals: against the chain's own arithmetic (``totals.Recount``), and that against the
    counted transfers tallied again under the counting rules (``totals.retally``). Then the anchors
    (``engine.ledger.anchors``): each checkpoint, and every signature (against ``public_keys`` when
    given, else the keys the chain announces)."""
    dropped = _missing_table(connection)
    if dropped is not None:
        return dropped
    try:
        malformed = _sqlite_storage_problem(connection)
        if malformed is not None:
            return malformed
        walked = _walk(connection)
    except OperationalError as exc:
        if "decode" not in str(exc):
            raise
        # SQLite keeps any bytes in a text column; the driver cannot read ones that are not UTF-8.
        return AuditResult(False, 0, "text", f"a stored text is not UTF-8, which the ledger never writes (edited): "
                                             f"{str(getattr(exc, 'orig', exc)).splitlines()[0]}")
    if isinstance(walked, AuditResult):
        return walked
    count, recount, rows = walked
    chain_totals = recount.totals()
    difference = totals.check(connection, chain_totals)
    if difference is None:
        live = [row for row in rows.values() if row.counted and row.withdrawn_at is None]
        difference = totals.first_difference(totals.retally(live), chain_totals, _RETALLY_WORDING)
    if difference is not None:
        return AuditResult(False, count, f"counts {difference.exporter_id} {difference.year}", difference.problem)
    report = anchors.AnchorReport()
    anchored = (anchors.check_checkpoints(connection, checkpoints, count, report)
                or anchors.check_signatures(connection, public_keys, count, report))
    if anchored is not None:
        return AuditResult(False, count, anchored.first_bad, anchored.problem, tuple(report.notes))
    return AuditResult(True, count, notes=tuple(report.notes))


_RETALLY_WORDING = ("the audit chain accounts for", "its counted transfers tallied again under the counting rules",
                    "(the counting rules changed without a recount, or a count was recorded wrong)")


def chain_totals(connection: Connection) -> totals.Totals:
    """The running totals as the audit chain accounts for them (what ``verify`` compares the stored
    totals with). Raises ValueError when the chain itself does not verify."""
    walked = _walk(connection)
    if isinstance(walked, AuditResult):
        raise ValueError(walked.problem)
    return walked[1].totals()


def _walk(connection: Connection) -> AuditResult | tuple[int, totals.Recount, dict[str, Any]]:
    """The chain walked: the first problem, or the number of events, their recount and the transfer rows."""
    reader = records.DictionaryReader(connection)
    rows = {row.decision_id: _with_texts(row, reader) for row in connection.execute(select(transfers))}
    populations: dict[str, dict[str, dict[str, int]]] = {}
    misplaced: set[str] = set()
    for pop in connection.execute(select(transfer_populations)):  # figures as stored: see submission_data
        populations.setdefault(pop.decision_id, {}).setdefault(pop.tally, {})[pop.population] = pop.subjects
        owner = rows.get(pop.decision_id)
        if owner is not None and (pop.exporter_id, pop.year) != (owner.exporter_id, owner.year):
            misplaced.add(pop.decision_id)
    replaced = {row.decision_id: row for row in amendments.replaced_rows(connection)}  # amended away (rev. 0009)
    for decision_id, row in sorted(replaced.items()):
        if decision_id in rows:
            return AuditResult(False, 0, f"transfer {decision_id}",
                               f"transfer {decision_id} is both in force and replaced by an amendment (edited)")
        try:
            populations[decision_id] = amendments.figures_of(row)
        except ValueError:
            return AuditResult(False, 0, f"transfer {decision_id}",
                               f"replaced decision {decision_id}: its population figures are not readable (edited)")
    rows.update(replaced)
    stored_packs = {row.digest: row for row in connection.execute(select(packs))}
    recorded_sets = {int(row.event_seq): row for row in connection.execute(select(pack_sets))
                     if row.event_seq is not None}  # changes recorded before revision 0007 have no event
    announced = {int(row.announced_seq): row for row in connection.execute(select(chain_signing_keys))}
    head = connection.execute(select(chain_head.c.seq, chain_head.c.hash).where(chain_head.c.id == 1)).one()

    seen_transfers: set[str] = set()
    withdrawn: set[str] = set()
    in_force: set[str] = set()  # recorded, not withdrawn, not replaced so far
    seen_packs: set[str] = set()
    kinds: dict[int, str] = {}  # of the events other than submissions (few)
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
        data = body.get("data") or {}
        if event.kind == "submission":
            if event.subject in misplaced:
                return bad(f"transfer {event.subject}: a population's exporter or year was edited")
            checked = _check_submission(str(event.subject), data, rows, populations)
            if isinstance(checked, str):
                return bad(checked)
            seen_transfers.add(event.subject)
            in_force.add(event.subject)
            recount.submission(event.subject, data, checked)
            prev_hash = event.hash
            continue
        if event.kind == "amendment":  # a submission's checks, and the link to the decision it replaced
            checked = _check_submission(str(event.subject), data, rows, populations)
            problem = checked if isinstance(checked, str) else amendments.check_event(
                seq, str(body.get("at")), data, replaced, in_force)
            if problem or isinstance(checked, str):
                return bad(str(problem))
            old = str(data["replaces"])
            in_force.discard(old)
            withdrawn.add(old)
            recount.withdrawal(old, data)
            seen_transfers.add(event.subject)
            in_force.add(event.subject)
            recount.submission(event.subject, data, checked)
            prev_hash = event.hash
            continue
        problem = _check_event(body, rows, stored_packs, withdrawn, recorded_sets, announced)
        if problem:
            return bad(problem)
        if event.kind == "withdrawal":
            in_force.discard(event.subject)
            recount.withdrawal(event.subject, data)
        elif event.kind == "recount":
            recount.recount(data)
        elif event.kind == "pack":
            seen_packs.add(event.subject)
        kinds[seq] = event.kind
        prev_hash = event.hash
    if int(head.seq) != count or head.hash != prev_hash:
        return AuditResult(False, count, count + 1 if int(head.seq) > count else int(head.seq),
                           f"the chain ends at event {count} but its head records event {head.seq}: "
                           "the newest events were deleted, or the head was edited")
    for decision_id in sorted(set(rows) - seen_transfers):
        return AuditResult(False, count, f"transfer {decision_id}",
                           f"transfer {decision_id} has no submission event (inserted)")
    for decision_id in sorted(set(replaced) - withdrawn):
        return AuditResult(False, count, f"transfer {decision_id}",
                           f"transfer {decision_id} is marked replaced, but no amendment replaced it (edited)")
    for decision_id, row in sorted(rows.items()):
        if (row.withdrawn_at is not None) != (decision_id in withdrawn):
            state = "withdrawn" if row.withdrawn_at else "not withdrawn"
            return AuditResult(False, count, int(row.event_seq),
                               f"event {row.event_seq}: transfer {decision_id} is marked {state} "
                               "against the chain (edited)")
    for digest in sorted(set(stored_packs) - seen_packs):
        return AuditResult(False, count, f"pack {digest}", f"pack {digest} has no event (inserted)")
    for seq in sorted(recorded_sets):
        if kinds.get(seq) != "pack_set":
            return AuditResult(False, count, f"pack set {seq}",
                               f"the pack set change recorded at event {seq} has no pack_set event there (inserted)")
    for seq in sorted(announced):
        if kinds.get(seq) != "signing_key":
            return AuditResult(False, count, f"signing key {seq}",
                               f"the signing key recorded as announced at event {seq} has no signing_key event there "
                               "(inserted)")
    return count, recount, rows


def _with_texts(row: Any, reader: records.DictionaryReader) -> Any:
    """The row with its request and decision texts as recorded (``engine.ledger.records``); a record
    that cannot be read gives texts that no event's hash can match (so it is named as edited)."""
    try:
        request_json, decision_json = reader.texts(row)
    except ValueError:
        request_json, decision_json = "\x00unreadable", "\x00unreadable"
    return SimpleNamespace(**{**row._asdict(), "request_json": request_json, "decision_json": decision_json})


def _check_submission(subject: str, data: dict[str, Any], rows: dict[str, Any],
                      populations: dict[str, dict[str, dict[str, int]]]) -> str | dict[str, dict[str, int]]:
    """Does the transfer row still say what its submission event hashed? The problem, or the transfer's
    population figures per tally (for the recount).

    An event written before revision 0005 lists one figure per population for both tallies; the
    figures per tally the upgrade split it into are what the transfer's request gives (its hash is in
    the event), and their larger must be the listed one."""
    row = rows.get(subject)
    if row is None:
        return f"transfer {subject} was deleted"
    if row.request_sha256 != sha256(row.request_json):
        return f"transfer {subject}: its idempotency key (request_sha256) was edited"
    figures = populations.get(subject, {})
    if not set(figures) <= set(TALLIES):
        return f"transfer {subject}: a population's tally was edited"
    expected = submission_data(row, figures)
    populations_of_the_row = {key: expected.pop(key) for key in ("populations", "sensitive_populations")}
    for key, value in expected.items():  # first the hashes: the texts read below are then the recorded ones
        if data.get(key) != value:
            return f"transfer {subject}: {key} was edited"
    if "sensitive_populations" in data:
        listed = {"personal": data.get("populations") or {}, "sensitive": data["sensitive_populations"]}
        for key, value in populations_of_the_row.items():
            if data.get(key) != value:
                return f"transfer {subject}: {key} was edited"
        return {tally: dict(named) for tally, named in listed.items()}
    # Written before revision 0005: one figure per population for both tallies.
    try:
        listed = (totals.population_figures(*totals.tallied_data(row.request_json, lambda: str(row.decision_json)))
                  if row.counted and totals.names_a_population(row.request_json) else {})
    except (ValueError, KeyError, TypeError) as exc:  # the hashes matched: recorded so, or hashed after an edit
        return f"transfer {subject}: its recorded request or decision cannot be read ({exc.__class__.__name__})"
    if data.get("populations") != _largest_by_name(listed) or \
            {tally: named for tally, named in figures.items() if named} != listed:
        return f"transfer {subject}: populations was edited"
    return listed


def _largest_by_name(figures: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """One figure per population for both tallies, as events before revision 0005 list them."""
    largest: dict[str, int] = {}
    for named in figures.values():
        for name, subjects in named.items():
            largest[name] = max(largest.get(name, 0), subjects)
    return dict(sorted(largest.items()))


def _sqlite_storage_problem(connection: Connection) -> AuditResult | None:
    """SQLite keeps what it is given in any column: a count stored as ``2.5`` or ``'yes'``, a text as a
    blob. Such a value reads back unlike anything the ledger writes, and the statements that filter on
    it (``counted = 1``, ``year = :y``) no longer find the row while a lenient conversion would still
    accept it. So every column's storage class is checked first, and the first odd one is named.
    PostgreSQL's columns are typed strictly."""
    if connection.dialect.name != "sqlite":
        return None
    for table in _CHECKED_TABLES:
        for column in table.columns:
            allowed = _STORAGE[type(column.type)] + (("null",) if column.nullable else ())
            condition = f"typeof({column.name}) NOT IN ({', '.join(repr(kind) for kind in allowed)})"
            if isinstance(column.type, Boolean):
                condition += f" OR {column.name} NOT IN (0, 1)"
            key = ", ".join(c.name for c in table.primary_key.columns)
            found = connection.execute(text(f"SELECT {key}, quote({column.name}) FROM {table.name} "
                                            f"WHERE {condition} LIMIT 1")).first()
            if found is not None:
                where = " ".join(str(part) for part in found[:-1])
                return AuditResult(False, 0, f"{table.name} {where}",
                                   f"{table.name} {where}: {column.name} holds {found[-1]}, which the ledger "
                                   "never writes (edited)")
    return None


def _missing_table(connection: Connection) -> AuditResult | None:
    """A table of the ledger that is gone: the ledger names its revision, whose tables these are, so a
    missing one was dropped (the command checked first that this is a ledger at the newest revision)."""
    present = set(inspect(connection).get_table_names())
    for table in _CHECKED_TABLES:
        if table.name not in present:
            return AuditResult(False, 0, f"table {table.name}", f"table {table.name} is missing (dropped)")
    return None


_STORAGE: dict[type[Any], tuple[str, ...]] = {Integer: ("integer",), BigInteger: ("integer",),
                                              Boolean: ("integer",), String: ("text",), Text: ("text",),
                                              LargeBinary: ("blob",)}
_CHECKED_TABLES = (transfers, transfer_populations, exporter_year_totals, exporter_year_population_figures, packs,
                   pack_sets, events, chain_head, chain_signatures, chain_signing_keys, replaced_decisions,
                   record_dictionaries)


def _check_event(body: dict[str, Any], rows: dict[str, Any], stored_packs: dict[str, Any],
                 withdrawn: set[str], recorded_sets: dict[int, Any], announced: dict[int, Any]) -> str | None:
    """Does the recorded row this event speaks of still say what the event hashed?"""
    data = body.get("data") or {}
    kind = body.get("kind")
    subject = str(body.get("subject"))
    if kind == "withdrawal":
        row = rows.get(subject)
        if row is None:
            return f"withdrawn transfer {subject} was deleted"
        if row.withdrawn_at != body.get("at"):
            return f"transfer {subject}: its withdrawal was edited"
        withdrawn.add(str(subject))
        return None
    if kind == "recount":
        well_formed = (isinstance(data.get("exporter"), str) and type(data.get("year")) is int
                       and type(data.get("personal_subjects_change")) is int
                       and type(data.get("sensitive_subjects_change")) is int)
        return None if well_formed else "a recount event without its exporter, year and changes"
    if kind == "pack":
        pack = stored_packs.get(subject)
        if pack is None:
            return f"pack {subject} was deleted"
        if sha256(pack.content) != data.get("content_sha256"):
            return f"pack {subject}: its stored text was edited"
        if not pack_store.text_has_digest(pack.content, str(subject)):
            return f"pack {subject}: its stored text does not have its digest"
        return None
    if kind == "signing_key":
        recorded = announced.get(int(body["seq"]))
        if recorded is None:
            return f"the announcement of signing key {subject} was deleted"
        public = data.get("public_key")
        if (recorded.key_id, recorded.public_key) != (subject, public) or data.get("key_id") != subject \
                or not isinstance(public, str) or encoded_key_id(public) != subject:
            return f"the announcement of signing key {subject}: its key or id was edited"
        return None
    if kind == "pack_set":
        recorded = recorded_sets.get(int(body["seq"]))
        if recorded is None:
            return f"the pack set change to {subject} was deleted"
        try:
            members = json.loads(recorded.members)
        except ValueError:
            members = None
        if (recorded.set_digest, recorded.started_at) != (subject, body.get("at")) or members != data.get("members"):
            return f"the pack set change to {subject}: its recorded set or moment was edited"
        return None
    return f"unknown event kind {kind!r}"


def submission_data(row: Any, populations: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """What a submission event hashes about its transfer row: everything counting and replay read.
    ``populations``: tally -> population -> figure; events written before revision 0005 listed one
    figure per population under ``populations`` and no ``sensitive_populations`` (see verify).

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
        "sensitive_populations": dict(sorted(populations.get("sensitive", {}).items())),
        "actor": getattr(row, "recorded_by", None),
    }

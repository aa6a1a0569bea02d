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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Boolean, Connection, Integer, LargeBinary, String, Text, inspect, text

from engine.canonical_json import canonical as canonical  # what every hash of the chain is taken over
from engine.ledger import anchors, totals
from engine.ledger import packs as pack_store
from engine.ledger.schema import (
    TALLIES,
    chain_head,
    chain_signatures,
    chain_signing_keys,
    events,
    exporter_id_aliases,
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

    @property
    def head_seq(self) -> int:
        """The head's sequence number: as read when the head was locked, then as the last event
        appended left it."""
        self.lock()
        assert self._head is not None
        return self._head[0]

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
           public_keys: Mapping[str, PublicKey] | None = None,
           progress: Callable[[int], None] | None = None) -> AuditResult:
    """Walk the chain and cross-check the recorded rows and the running totals (``engine.ledger.verify``:
    a stream, whatever the size of the ledger); ``progress`` is told the events checked so far. Then the
    anchors (``engine.ledger.anchors``): each checkpoint, and every signature (against ``public_keys``
    when given, else the keys the chain announces)."""
    from engine.ledger import verify as walk  # it reads the checks of this module

    walked = walk.verify(connection, progress)
    if not walked.ok:
        return walked
    report = anchors.AnchorReport()
    anchored = (anchors.check_checkpoints(connection, checkpoints, walked.events, report)
                or anchors.check_signatures(connection, public_keys, walked.events, report))
    if anchored is not None:
        return AuditResult(False, walked.events, anchored.first_bad, anchored.problem, tuple(report.notes))
    return AuditResult(True, walked.events, notes=tuple(report.notes))


def chain_totals(connection: Connection) -> totals.Totals:
    """The running totals as the audit chain accounts for them (``engine.ledger.verify.chain_totals``)."""
    from engine.ledger import verify as walk

    return walk.chain_totals(connection)


def check_submission(subject: str, data: dict[str, Any], row: Any,
                     figures: dict[str, dict[str, int]]) -> str | dict[str, dict[str, int]]:
    """Does the transfer row (with its texts as recorded) still say what its submission event hashed?
    The problem, or the transfer's population figures per tally. ``figures``: its population rows,
    tally -> population -> figure.

    An event written before revision 0005 lists one figure per population for both tallies; the
    figures per tally the upgrade split it into are what the transfer's request gives (its hash is in
    the event), and their larger must be the listed one."""
    if row.request_sha256 != text_hashes(row)[0]:
        return f"transfer {subject}: its idempotency key (request_sha256) was edited"
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


def sqlite_storage_problem(connection: Connection) -> AuditResult | None:
    """SQLite keeps what it is given in any column: a count stored as ``2.5`` or ``'yes'``, a text as a
    blob. Such a value reads back unlike anything the ledger writes, and the statements that filter on
    it (``counted = 1``, ``year = :y``) no longer find the row while a lenient conversion would still
    accept it. So every column's storage class is checked first, and the first odd one is named.
    PostgreSQL's columns are typed strictly."""
    if connection.dialect.name != "sqlite":
        return None
    for table in _CHECKED_TABLES:
        conditions = [(column, _odd_storage(column)) for column in table.columns]
        # One scan of the table finds whether anything is odd (a large ledger: one read of each table,
        # not one per column); only then is the first odd column looked for, column by column.
        if connection.execute(text(f"SELECT 1 FROM {table.name} WHERE "
                                   + " OR ".join(f"({condition})" for _, condition in conditions)
                                   + " LIMIT 1")).first() is None:
            continue
        for column, condition in conditions:
            key = ", ".join(c.name for c in table.primary_key.columns)
            found = connection.execute(text(f"SELECT {key}, quote({column.name}) FROM {table.name} "
                                            f"WHERE {condition} LIMIT 1")).first()
            if found is not None:
                where = " ".join(str(part) for part in found[:-1])
                return AuditResult(False, 0, f"{table.name} {where}",
                                   f"{table.name} {where}: {column.name} holds {found[-1]}, which the ledger "
                                   "never writes (edited)")
    return None


def _odd_storage(column: Any) -> str:
    """The SQL condition of a value of ``column`` stored unlike anything the ledger writes (SQLite)."""
    allowed = _STORAGE[type(column.type)] + (("null",) if column.nullable else ())
    condition = f"typeof({column.name}) NOT IN ({', '.join(repr(kind) for kind in allowed)})"
    if isinstance(column.type, Boolean):
        condition += f" OR {column.name} NOT IN (0, 1)"
    return condition


def missing_table(connection: Connection) -> AuditResult | None:
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
                   record_dictionaries, exporter_id_aliases)


def withdrawal_problem(body: dict[str, Any], row: Any) -> str | None:
    """Does the withdrawn transfer's row (None: there is none) still say what its withdrawal hashed?"""
    subject = str(body.get("subject"))
    if row is None:
        return f"withdrawn transfer {subject} was deleted"
    if row.withdrawn_at != body.get("at"):
        return f"transfer {subject}: its withdrawal was edited"
    return None


def recount_problem(data: dict[str, Any]) -> str | None:
    well_formed = (isinstance(data.get("exporter"), str) and type(data.get("year")) is int
                   and type(data.get("personal_subjects_change")) is int
                   and type(data.get("sensitive_subjects_change")) is int)
    return None if well_formed else "a recount event without its exporter, year and changes"


def pack_set_problem(subject: str, body: dict[str, Any], recorded: Any) -> str | None:
    """Does the pack set change recorded at this event's position (None: none is) still say what its
    ``pack_set`` event hashed?"""
    if recorded is None:
        return f"the pack set change to {subject} was deleted"
    try:
        members = json.loads(recorded.members)
    except ValueError:
        members = None
    data = body.get("data") or {}
    if (recorded.set_digest, recorded.started_at) != (subject, body.get("at")) or members != data.get("members"):
        return f"the pack set change to {subject}: its recorded set or moment was edited"
    return None


def pack_problem(subject: str, data: dict[str, Any], pack: Any) -> str | None:
    """Does the stored pack (None: there is none) still have the text its event hashed?"""
    if pack is None:
        return f"pack {subject} was deleted"
    if sha256(pack.content) != data.get("content_sha256"):
        return f"pack {subject}: its stored text was edited"
    if not pack_store.text_has_digest(pack.content, str(subject)):
        return f"pack {subject}: its stored text does not have its digest"
    return None

def signing_key_problem(subject: str, body: dict[str, Any], recorded: Any) -> str | None:
    """Does the key announcement recorded at this event's position (None: none is) still say what its
    ``signing_key`` event hashed?"""
    if recorded is None:
        return f"the announcement of signing key {subject} was deleted"
    data = body.get("data") or {}
    public = data.get("public_key")
    if (recorded.key_id, recorded.public_key) != (subject, public) or data.get("key_id") != subject \
            or not isinstance(public, str) or encoded_key_id(public) != subject:
        return f"the announcement of signing key {subject}: its key or id was edited"
    return None


def text_hashes(row: Any) -> tuple[str, str]:
    """The SHA-256 of a row's request and decision texts. A row as ``audit verify`` reads it carries them
    already (``text_hashes``: hashed once, from the bytes as stored)."""
    known: tuple[str, str] | None = getattr(row, "text_hashes", None)
    if known is not None:
        return known
    return sha256(row.request_json), sha256(row.decision_json)


def submission_data(row: Any, populations: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """What a submission event hashes about its transfer row: everything counting and replay read.
    ``populations``: tally -> population -> figure; events written before revision 0005 listed one
    figure per population under ``populations`` and no ``sensitive_populations`` (see verify).

    The values are taken as the row holds them, not converted: SQLite keeps what it is given in an
    integer column, and a year edited to ``2026.5`` would pass for 2026 once made an integer while
    counting's ``year = :y`` no longer finds it."""
    request_sha256, decision_sha256 = text_hashes(row)
    return {
        "decision_id": row.decision_id,
        "exporter": row.exporter_id,
        "reference": row.reference,
        "request_sha256": request_sha256,
        "decision_sha256": decision_sha256,
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

"""Recording submissions: evaluate each on the ledger's counts and record the request, the decision and
an audit event in one transaction, serialised per exporter (DESIGN section 5).

Submissions of one process are recorded in groups (group commit, see ``Recorder.submit``), whose
round trips to PostgreSQL are pipelined (``engine.ledger.group``): a group takes the head lock with its
reads, before its evaluations, and holds it to its commit, so groups of different processes append one
after the other. ``Recorder.submit_many`` records a list in groups of its own (``BULK_GROUP``).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection

from engine.evaluator import Engine
from engine.facts import tally_for
from engine.fired_ahead import FiredAhead
from engine.ledger import aliases, audit, chain_keys, database, group_decisions, records, sealed_totals
from engine.ledger import group as group_io
from engine.ledger.actors import Actor, local_user
from engine.ledger.audit import canonical, sha256
from engine.ledger.errors import DatabaseUnavailable, ReferenceConflict
from engine.ledger.group_decisions import Key, key_of
from engine.ledger.ledger_database import LedgerDatabase, recorded_now
from engine.ledger.other_writers import OtherWriters
from engine.ledger.packs_in_service import PacksInService
from engine.ledger.sealed_totals import ExporterYear
from engine.models import Decision, TransferRequest


@dataclass(frozen=True)
class SubmitResult:
    """A recorded decision; ``replayed`` when the same request was already recorded under its reference,
    and then ``withdrawn_at`` when it has been withdrawn since (its decision no longer counts: the
    surfaces say so rather than answer it as if it stood)."""

    decision: Decision
    replayed: bool
    withdrawn_at: str | None = None


def request_canonical(request: TransferRequest) -> str:
    """The request as canonical JSON, defaults filled in: two requests are the same when these are."""
    return canonical(request.model_dump(mode="json"))


BULK_GROUP = 500
"""Submissions of one ``submit_many`` recorded in one transaction (one commit, one flush) at most. The
commit's flush (about 6.6 ms on SQLite here) is time the group's thread holds the write lock doing
nothing: at 250 it was about 26 us a transfer. ``POST /v1/transfers/batch`` on one worker, alternately:
250 -> 500, 1,735-1,766 -> 1,817-1,882 recorded/s (1,000: no more). The price: a submission from another
thread may wait behind a bulk group for about twice as long (some 0.2 s)."""
MAX_GROUP = 64
"""Submissions recorded in one transaction at most (bounds how long one commit makes others wait)."""
GATHER_SECONDS = 0.0005
"""How long a committer waits for submissions that other threads are about to queue (group commit's
commit_delay): far less than the commit it lets them share."""


def take_group(waiting: list[Submission]) -> list[Submission]:
    """Up to MAX_GROUP waiting submissions, in arrival order, at most one per exporter: a later one of
    the same exporter waits for the next group, so each sees the counts the earlier one recorded."""
    group: list[Submission] = []
    exporters: set[str] = set()
    for item in waiting:
        exporter_id = item.request.exporter.id
        if exporter_id not in exporters:
            exporters.add(exporter_id)
            group.append(item)
            if len(group) == MAX_GROUP:
                break
    taken = {id(item) for item in group}
    waiting[:] = [item for item in waiting if id(item) not in taken]
    return group


@dataclass(eq=False)
class Submission:
    """A submission waiting for, or taken by, a group commit."""

    engine: Engine
    request: TransferRequest
    as_of: dt.date | None
    request_json: str
    request_sha: str
    pack_texts: dict[str, tuple[Any, str]]
    actor: Actor = field(default_factory=local_user)
    ahead: FiredAhead | None = None
    """Its rules fired before its group took the write lock (``Recorder.fire_ahead``)."""
    done: threading.Event = field(default_factory=threading.Event)
    result: SubmitResult | None = None
    error: BaseException | None = None


class Recorder:
    """Records the submissions of this process (its threads share one, the ledger's): group commit."""

    def __init__(self, db: LedgerDatabase, packs: PacksInService) -> None:
        self.db = db
        self.packs = packs
        # Group commit (see submit): submissions of this process's threads wait here, and whichever
        # thread holds _committer records every waiting one in one transaction.
        self._waiting: list[Submission] = []
        self._waiting_lock = threading.Lock()
        self._committer = threading.Lock()
        self._last_group = 0  # size of the last group committed
        self._dictionaries = records.DictionaryChooser()
        """The dictionaries new records are compressed with, per kind of decision (``engine.ledger.records``)."""
        self.other_writers = OtherWriters()
        """Whether bulk groups are decided ahead of the write lock: while another writer is seen."""

    def submit(self, engine: Engine, request: TransferRequest, as_of: dt.date | None = None,
               actor: Actor | None = None) -> SubmitResult:
        """Evaluate with the ledger's counts and record request and decision in one transaction.

        The same reference with the same request returns the recorded decision (``replayed``); with a
        different request it raises ReferenceConflict and records nothing.

        Group commit: submissions from several threads of this process that arrive while one is being
        recorded are recorded together, one after the other in one transaction (each reads the counts
        the ones before it left, exactly as if they had come one by one) with one commit, so one
        durable flush (and one hold of the audit chain's head lock) serves the whole group. A caller
        returns only once its submission is committed. Evaluation holds the GIL, so running the
        group's evaluations in one thread costs no parallelism; the commit flushes it saves are the
        cost that serialised submissions (docs/performance.md).

        ``actor``: who submits, and why (recorded in the submission event; default: the operating-system
        user this process runs as).
        """
        return self.commit(self.queue(engine, request, as_of, actor))

    def submit_many(self, engine: Engine, requests: Iterable[TransferRequest], as_of: dt.date | None = None,
                    actor: Actor | None = None, group: int | None = None) -> Iterator[SubmitResult | Exception]:
        """Record many transfers (a list file, ``POST /v1/transfers/batch``): each answered in order, as
        ``submit`` would answer it one after the other, with the error that refused it alone in its
        place (ReferenceConflict, an engine error). Recorded in groups of ``group`` (BULK_GROUP) per
        transaction, one commit each, the requests read as they are needed: memory holds one group,
        whatever the number of requests. Several transfers of one exporter in a group each read the
        counts the ones before left. A database error ends it (raised): nothing of that group is
        written, and every group before it is committed."""
        size = group or BULK_GROUP
        pending: list[Submission] = []
        for request in requests:
            pending.append(self.prepared(engine, request, as_of, actor))
            if len(pending) >= size:
                yield from self.commit_bulk(pending)
                pending = []
        if pending:
            yield from self.commit_bulk(pending)

    def commit_bulk(self, items: list[Submission]) -> Iterator[SubmitResult | Exception]:
        busy = database.sqlite_busy_seconds() if self.db.is_sqlite else -1
        if not self._committer.acquire(timeout=busy):
            raise DatabaseUnavailable(f"database unavailable: database is locked (this process's writers waited "
                                      f"longer than {busy:g} s; nothing of this group was written: retry later)")
        try:
            if self.other_writers.decide_ahead:
                self.fire_ahead(items)
            failed = self.record_group(items)
        finally:
            self._committer.release()
        if failed is not None:
            raise failed
        for item in items:
            if item.error is not None:
                yield item.error if isinstance(item.error, Exception) else RuntimeError(str(item.error))
            else:
                assert item.result is not None
                yield item.result

    def fire_ahead(self, items: list[Submission]) -> None:
        """Fire each submission's rules before the group takes the write lock, on the counts read
        now without it (plus what the transfers before it in the group add if counted): under
        the lock, ``Engine.evaluate`` uses them only if the counts read there satisfy every rule
        condition alike (``engine.fired_ahead``), and fires them again otherwise. A wrong guess costs
        time, never a different decision. With several writer processes this takes most of the
        rules' work out of the lock (docs/performance.md, session 9); alone it only costs, so it is
        done while another writer is seen (``engine.ledger.other_writers``)."""
        needed = {where for item in items for where in self._years_read(item)}
        try:
            with self.db.read() as conn:
                known = sealed_totals.read(conn, self.db.totals_key, sorted({e for e, _ in needed}),
                                           sorted({y for _, y in needed}), needed)
                taken = group_io.recorded_references(conn, sorted({key_of(item) for item in items}))
        except Exception:  # only a guess: the group reads the counts under its lock, and fails there if it must
            known, taken = {}, set()
        guess = group_io.GroupCounts(known)
        for item in items:
            request = item.request
            exporter, year = request.exporter.id, request.planned_date.year
            key = key_of(item)
            if key in taken:  # recorded already (a batch sent again): answered from its record
                continue
            taken.add(key)  # the same reference later in the group is answered from this one
            prior = guess.prior(exporter, year)
            try:
                decision, item.ahead = item.engine.decide_ahead(request, prior, item.as_of)
            except Exception:  # the group decides it again under the lock and refuses it there, alone
                item.ahead = None
                continue
            if group_decisions.counts_toward_totals(decision):  # as the group will count it, if the guess holds
                guess.add(exporter, year, tally_for(request, prior, item.engine.options,
                                                    decision.counts.collected_abroad_uncounted))

    @staticmethod
    def _years_read(item: Submission) -> tuple[ExporterYear, ExporterYear]:
        """The exporter-years a submission is decided on: its planned year's counts and last year's."""
        exporter, year = item.request.exporter.id, item.request.planned_date.year
        return (exporter, year), (exporter, year - 1)

    def prepared(self, engine: Engine, request: TransferRequest, as_of: dt.date | None,
                 actor: Actor | None) -> Submission:
        request_json = request_canonical(request)
        return Submission(engine, request, as_of, request_json, sha256(request_json),
                           self.packs.texts_to_store(engine), actor or local_user())

    def queue(self, engine: Engine, request: TransferRequest, as_of: dt.date | None,
              actor: Actor | None = None) -> Submission:
        """Queue a submission for the next group commit (``commit`` records it)."""
        item = self.prepared(engine, request, as_of, actor)
        with self._waiting_lock:
            self._waiting.append(item)
        return item

    def commit(self, item: Submission) -> SubmitResult:
        """Wait until ``item`` is committed, committing the waiting group when this thread's turn comes."""
        sqlite = self.db.is_sqlite
        busy = database.sqlite_busy_seconds() if sqlite else -1
        if self._committer.acquire(timeout=busy):
            try:
                while not item.done.is_set():
                    if len(self._waiting) < self._last_group:
                        # Several threads submitted just now and fewer wait: the others are about to
                        # queue, let them join this group (group commit's commit_delay).
                        time.sleep(GATHER_SECONDS)
                    with self._waiting_lock:
                        group = take_group(self._waiting)
                    self._last_group = len(group)
                    self.record_group(group)
            finally:
                self._committer.release()
        else:  # only with SQLite's busy bound: the committer has been stuck on the database lock
            with self._waiting_lock:
                if item in self._waiting:
                    self._waiting.remove(item)
                    raise DatabaseUnavailable(
                        f"database unavailable: database is locked (this process's writers waited longer "
                        f"than {busy:g} s; nothing was written: retry later)")
            item.done.wait()  # a committer took it: its outcome is on the way
        if item.error is not None:
            raise item.error
        assert item.result is not None
        return item.result

    def record_group(self, group: list[Submission]) -> BaseException | None:
        """Record a group (one submission per exporter) in one transaction. A submission refused
        before it writes (reference conflict, engine error) fails alone; a database error fails the
        whole group, and nothing is written.

        Round trips do not grow with the group: one read of the references and the counts of every
        exporter (with the locks and the chain head), then the evaluations (in Python, a pass at a
        time: ``engine.ledger.group_decisions``), then one write of every row and the chain head, and
        COMMIT. On PostgreSQL that is two round trips a group, BEGIN with the reads and COMMIT with the
        writes (``engine.ledger.group``).
        A submission reads the counts the ones before it in the group left (``group.GroupCounts``) and
        sees a reference recorded before it in the group: a bulk group may hold several of one
        exporter. Returns the error that failed the whole group, if one did."""
        stored_now: list[str] = []
        try:
            with self.db.group_write() as conn:
                # Exporter locks in one global order (then the chain head): two processes' groups
                # can never wait on each other in a cycle.
                exporters = sorted({item.request.exporter.id for item in group}, key=database.lock_key)
                needed = {where for item in group for where in self._years_read(item)}
                reads = group_io.read(conn, self.db.totals_key, exporters, sorted({key_of(item) for item in group}),
                                      sorted({year for _exporter, year in needed}), needed)
                signer = self.db.signer
                chain = group_io.chain(conn, reads, signer)
                self.other_writers.found_head(chain.head_seq)
                chain_keys.prepare(conn, chain.append, signer, reads.signing_key, group[0].actor, recorded_now())
                rows = group_io.GroupRows()
                before = [self.recorded_before(conn, item, reads) for item in group]  # rows or refusals
                made = group_decisions.decide(
                    [(item, row is not None) for item, row in zip(group, before, strict=True)],
                    group_io.GroupCounts(reads.totals), self._dictionaries)
                in_group: dict[Key, Any] = {}
                for item, row, decided in zip(group, before, made, strict=True):
                    key = key_of(item)
                    stored_now += self.record_one(conn, item, chain, in_group.get(key, row), decided, rows)
                    if item.error is None and item.result is not None and not item.result.replayed:
                        in_group[key] = rows.recorded(key)  # the same reference again in this group
                group_io.write(conn, rows, chain, self.db.totals_key, reads.totals)
                head = chain.head_seq
        except BaseException as exc:
            for item in group:
                if item.error is None:
                    item.result, item.error = None, exc
                item.done.set()
            return exc
        self.other_writers.committed(head)
        self.packs.remember(stored_now)
        self._dictionaries.remember(rows.new_dictionaries)
        for item in group:
            item.done.set()
        return None

    @staticmethod
    def recorded_before(conn: Connection, item: Submission, reads: group_io.GroupReads) -> Any:
        """The row recorded before the group under ``item``'s reference, if any: under its exporter's
        id, or under an id merged into it when ``item`` repeats that submission; the ReferenceConflict
        that refuses ``item`` when it does not (``aliases.recorded_as_variant``: the reference is taken).
        The refusal is returned, not raised: it refuses this submission alone, not its group."""
        key = key_of(item)
        existing = reads.existing.get(key)
        if existing is None and key in reads.merged_existing:
            try:
                existing = aliases.recorded_as_variant(reads.merged_existing[key], item.request_json,
                                                       records.DictionaryReader(conn).texts)
            except ReferenceConflict as refused:
                return refused
        return existing

    def record_one(self, conn: Connection, item: Submission, chain: audit.ChainWriter, existing: Any,
                   decided: group_decisions.Decided | Exception | None, rows: group_io.GroupRows) -> list[str]:
        """One submission of a group: answered from ``existing`` (its reference's record), refused (by
        ``existing``, a ReferenceConflict, or with the engine's error), or its decision (``decided``, made
        on the counts before it) queued as rows."""
        request = item.request
        exporter_id = request.exporter.id
        year = request.planned_date.year
        try:
            if isinstance(existing, ReferenceConflict):
                raise existing
            if existing is not None:
                recorded_request, recorded_decision = records.DictionaryReader(conn).texts(existing)
                if existing.request_sha256 == item.request_sha:
                    item.result = SubmitResult(Decision.model_validate(json.loads(recorded_decision)), True,
                                               existing.withdrawn_at)
                    return []
                raise ReferenceConflict(conflict_message(existing, recorded_request, item.request_json))
            if isinstance(decided, Exception):
                raise decided
        except Exception as exc:  # refused before writing anything: this submission alone fails
            item.error = exc
            return []
        assert decided is not None, "a submission with no record under its reference is decided (pass 1)"
        decision, decision_json, tally = decided.decision, decided.decision_json, decided.tally
        counted = decided.counted
        now = recorded_now()
        row = {
            "decision_id": decision.decision_id, "exporter_id": exporter_id,
            "reference": request.reference, "request_sha256": item.request_sha, "request_json": item.request_json,
            "decision_json": decision_json, "outcome": decision.outcome,
            "year": year, "counted": counted,
            "personal_subjects": tally.personal_subjects if counted else 0,
            "sensitive_subjects": tally.sensitive_subjects if counted else 0,
            "rules_digest": decision.rules.digest, "recorded_at": now, "recorded_by": item.actor.name,
        }
        populations = {"personal": tally.populations, "sensitive": tally.sensitive_populations} if counted else {}
        hashed = SimpleNamespace(**row, text_hashes=(item.request_sha, decided.decision_sha))  # the request's: once
        data = {**audit.submission_data(hashed, populations), "reason": item.actor.reason}
        chain.lock()
        stored_now = self.packs.store(conn, item.pack_texts, now, item.actor, chain)
        seq = chain.append("submission", decision.decision_id, now, data)
        dictionary, new = self._dictionaries.choose(conn, decided.kind, decided.texts, rows.new_dictionaries)
        if new:
            assert dictionary is not None
            rows.dictionaries.append(records.stored_row(decided.kind, dictionary))
        record = decided.record if decided.record is not None and dictionary is decided.dictionary else \
            records.pack_joined(decided.texts, dictionary)
        rows.transfers.append({**row, "request_json": "", "decision_json": "", "event_seq": seq, "record": record})
        rows.populations.extend({"decision_id": decision.decision_id, "population": name, "tally": tally_name,
                                 "subjects": subjects, "exporter_id": exporter_id, "year": year}
                                for tally_name, figures in populations.items()
                                for name, subjects in sorted(figures.items()))
        rows.just_recorded[key_of(item)] = SimpleNamespace(
            **row, event_seq=seq, record=None, withdrawn_at=None, withdrawn_seq=None)
        item.result = SubmitResult(decision, False)
        return stored_now

    def compact_record(self, conn: Connection, request_json: str, decision: Decision, decision_json: str) -> bytes:
        """The stored form of one transfer's texts written in ``conn``'s transaction (for writers beside
        this module, e.g. amendments): compressed against its kind's dictionary (``engine.ledger.records``),
        a new dictionary stored in the same transaction. It is not remembered here: a later transfer of its
        kind finds it in the database once committed (and never, if this transaction rolls back)."""
        kind = records.kind_of(decision.rules.digest, decision.outcome, (reason.rule for reason in decision.reasons))
        dictionary, new = self._dictionaries.choose(conn, kind, records.joined(request_json, decision_json), {})
        if new:
            assert dictionary is not None
            conn.execute(records.INSERT_DICTIONARY, [records.stored_row(kind, dictionary)])
        return records.pack(request_json, decision_json, dictionary)


def conflict_message(existing: Any, recorded_request: str, request_json: str) -> str:
    old = json.loads(recorded_request)
    new = json.loads(request_json)
    fields = sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
    return (f"reference {existing.reference!r} of exporter {existing.exporter_id} was already recorded "
            f"(decision {existing.decision_id}, {existing.recorded_at}) for a different request "
            f"(differs in: {', '.join(fields) or 'content'}); a new transfer needs a new reference")

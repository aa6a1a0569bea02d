"""The ledger: record decisions, count what was sent, withdraw, and prove nothing was changed.

Every submission runs in one transaction serialised per exporter (DESIGN section 5): read the
exporter's counts, evaluate, record the request, the decision and an audit event, commit. On SQLite
the transaction starts with BEGIN IMMEDIATE (one writer at a time); on PostgreSQL it takes an
advisory lock per exporter, then the audit chain's head row lock. Submissions of one process are
recorded in groups (see ``Ledger.submit``), whose round trips to PostgreSQL are pipelined
(``engine.ledger.group``): a group takes the head lock with its reads, before its evaluations, and
holds it to its commit, so groups of different processes append one after the other.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

from sqlalchemy import Connection, TextClause, and_, insert, or_, select, text, update
from sqlalchemy.exc import InterfaceError, OperationalError

from engine.errors import FieldProblem, InputError
from engine.evaluator import Engine
from engine.facts import PriorCounts, tally_for
from engine.ledger import (
    aliases,
    amendments,
    anchors,
    audit,
    chain_keys,
    database,
    listing,
    records,
    seal,
    sealed_totals,
    signing,
    totals,
)
from engine.ledger import group as group_io
from engine.ledger.actors import Actor, local_user, of_event
from engine.ledger.audit import AuditResult, canonical, sha256
from engine.ledger.errors import (
    AmbiguousReference,
    DatabaseUnavailable,
    LedgerIntegrityError,
    LedgerOutOfDate,
    NotFound,
    ReferenceConflict,
)
from engine.ledger.packs import pack_text
from engine.ledger.schema import chain_head, chain_signatures, events, pack_sets, packs, transfers
from engine.ledger.signing import ChainSigner
from engine.models import Decision, TransferRequest, read_stored_request
from engine.strict import canonical_party_id


@dataclass(frozen=True)
class SubmitResult:
    """A recorded decision; ``replayed`` when the same request was already recorded under its reference,
    and then ``withdrawn_at`` when it has been withdrawn since (its decision no longer counts: the
    surfaces say so rather than answer it as if it stood)."""

    decision: Decision
    replayed: bool
    withdrawn_at: str | None = None


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


# The statements every submission runs are built once: building SQLAlchemy Core constructs and their
# cache keys on each call cost more than the database work itself (measured by the benchmark).


@dataclass(frozen=True)
class _CountingStatement:
    """The read of one exporter's counts in one statement (Ledger._prior; Ledger.prior_counts for dry
    runs): its running totals this year and last with their seals, and whether each year has counted
    transfers (``sealed_totals.PRIOR_SQL``), as SQLAlchemy, sqlite3 (``:name``) and psycopg
    (``%(name)s``) take it, built once."""

    clause: TextClause
    sqlite: str
    postgres: str

    @classmethod
    def of(cls, sql: str) -> _CountingStatement:
        return cls(text(sql), sql, re.sub(r":(\w+)", r"%(\1)s", sql))


_FROM_TOTALS = _CountingStatement.of(sealed_totals.PRIOR_SQL)
"""Counting: a few rows of the running totals, by primary key, whatever the number of transfers."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def request_canonical(request: TransferRequest) -> str:
    """The request as canonical JSON, defaults filled in: two requests are the same when these are."""
    return canonical(request.model_dump(mode="json"))


BULK_GROUP = 250
"""Submissions of one ``submit_many`` recorded in one transaction (one commit, one flush) at most."""
MAX_GROUP = 64
"""Submissions recorded in one transaction at most (bounds how long one commit makes others wait)."""
GATHER_SECONDS = 0.0005
"""How long a committer waits for submissions that other threads are about to queue (group commit's
commit_delay): far less than the commit it lets them share."""
KEEP_SECONDS = 1.0
"""How long the committer keeps its PostgreSQL connection idle between groups (Ledger._group_write)."""


def _take_group(waiting: list[_Submission]) -> list[_Submission]:
    """Up to MAX_GROUP waiting submissions, in arrival order, at most one per exporter: a later one of
    the same exporter waits for the next group, so each sees the counts the earlier one recorded."""
    group: list[_Submission] = []
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
class _Submission:
    """A submission waiting for, or taken by, a group commit."""

    engine: Engine
    request: TransferRequest
    as_of: dt.date | None
    request_json: str
    request_sha: str
    pack_texts: dict[str, tuple[Any, str]]
    actor: Actor = field(default_factory=local_user)
    done: threading.Event = field(default_factory=threading.Event)
    result: SubmitResult | None = None
    error: BaseException | None = None


class Ledger:
    """Records and counts transfers in one database (SQLite file or PostgreSQL), given by URL.

    Safe to share between threads; several processes or replicas may use one database at once.
    """

    def __init__(self, url: str, *, upgrade: bool = True, rules_dirs: Iterable[Path | str] = (),
                 signer: ChainSigner | Literal["env"] | None = "env",
                 totals_key: seal.TotalsKey | Literal["env"] = "env") -> None:
        self.url = url
        self._totals_key = totals_key
        self.unsealed_reason: str | None = None
        """Why the running totals could not be sealed after an upgrade (their rows then refuse every
        decision until ``baygate db reseal``); None when they were, or needed no sealing."""
        self.signer = signing.load_signer() if signer == "env" else signer
        """The key that signs every head this process commits (``BAYGATE_SIGNING_KEY_FILE`` by default;
        engine.ledger.signing); None: this process writes unsigned, and is refused on a signed chain."""
        self.rules_dirs = [Path(d) for d in rules_dirs]
        self.sql_engine = database.make_engine(url)
        self._stored_packs: set[str] = set()
        self._in_service: str | None = None
        """Digest of the pack set this process last put in service (see store_packs)."""
        # SQLite has one writer at a time anyway: threads of this process queue here instead of
        # polling in SQLite's busy handler (which sleeps in growing steps); other processes still
        # wait on the database lock itself.
        self._local_writer: threading.Lock | contextlib.nullcontext[None] = (
            threading.Lock() if self.sql_engine.dialect.name == "sqlite" else contextlib.nullcontext())
        # Group commit (see submit): submissions of this process's threads wait here, and whichever
        # thread holds _committer records every waiting one in one transaction.
        self._waiting: list[_Submission] = []
        self._waiting_lock = threading.Lock()
        self._committer = threading.Lock()
        self._last_group = 0  # size of the last group committed
        self._kept: tuple[Connection, float] | None = None
        """PostgreSQL: the committer's connection between groups, and when its last group ended."""
        self._dictionaries = records.DictionaryChooser()
        """The dictionaries new records are compressed with, per kind of decision (``engine.ledger.records``)."""
        self._up_to_date = False
        """Whether the database is at the newest revision, whose running totals counting reads."""
        if upgrade:
            database.upgrade(self.sql_engine)
            self._up_to_date = True
            self.after_upgrade()

    def close(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            kept[0].close()
        self.sql_engine.dispose()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _queued_writer(self) -> Iterator[None]:
        """This process's writers queue for SQLite's one write lock, each for at most the busy bound:
        behind a lock held elsewhere, the queue must not turn each caller's bounded wait into the sum
        of everyone's."""
        lock = self._local_writer
        if isinstance(lock, contextlib.nullcontext):
            yield
            return
        busy = database.sqlite_busy_seconds()
        if not lock.acquire(timeout=busy):
            raise DatabaseUnavailable(f"database unavailable: database is locked (this process's writers "
                                      f"waited longer than {busy:g} s; nothing was written: retry later)")
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self._queued_writer(), \
                    self.sql_engine.connect().execution_options(**{database.WRITE_OPTION: True}) as conn, \
                    conn.begin():
                yield conn
        except (OperationalError, InterfaceError) as exc:
            raise database.unavailable(exc, database.sqlite_busy_seconds()
                                       if self.sql_engine.dialect.name == "sqlite" else None) from exc

    def transaction(self) -> contextlib.AbstractContextManager[Connection]:
        """A writing transaction as every write of this class takes it (one writer at a time on SQLite;
        a lost database is DatabaseUnavailable), for writers beside this module (engine.ledger.amend)."""
        return self._write()

    @contextmanager
    def _group_write(self) -> Iterator[Connection]:
        """The writing transaction of a group commit; called holding ``_committer``. On SQLite, ``_write``.

        On PostgreSQL the committer keeps its connection from one group to the next while they follow
        each other (within KEEP_SECONDS): a pool checkout costs a round trip, the pool's ping, which was
        a fifth of a group's time. A connection idle for longer, or that the server has written to since
        its last group (it only does so to end it), goes back to the pool, so that the next checkout pings
        it (a lost connection is found then, not by failing a group); after a failed group it is
        discarded, so the next group starts on a freshly checked-out one."""
        if self.sql_engine.dialect.name != "postgresql":
            with self._write() as sqlite_conn:
                yield sqlite_conn
            return
        kept, self._kept = self._kept, None
        if kept is not None:
            try:
                stale = time.monotonic() - kept[1] > KEEP_SECONDS or group_io.server_hung_up(kept[0])
            except (OSError, ValueError):  # the socket cannot even be polled: not to be trusted
                kept[0].invalidate()
                stale = True
            if stale:
                kept[0].close()  # back to the pool, whose checkout pings it (or drops it, invalidated)
                kept = None
        conn: Connection | None = None
        try:
            conn = kept[0] if kept is not None else \
                self.sql_engine.connect().execution_options(**{database.WRITE_OPTION: True})
            with group_io.transaction(conn):
                yield conn
        except BaseException as exc:
            if conn is not None:  # discarded, not pooled: it may be left in autocommit mode
                conn.invalidate()
                conn.close()
            if isinstance(exc, OperationalError | InterfaceError):
                raise database.unavailable(exc) from exc
            raise
        self._kept = (conn, time.monotonic())

    @contextmanager
    def _read(self, snapshot: bool = False) -> Iterator[Connection]:
        try:
            with self.sql_engine.connect() as conn:
                if snapshot and database.is_postgres(conn):
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except (OperationalError, InterfaceError) as exc:
            raise database.unavailable(exc) from exc

    # ------------------------------------------------------------------ counting

    def _counting(self) -> _CountingStatement:
        """The running totals, as the newest revision keeps them. A ledger opened as it stands
        (``upgrade=False``, as dry runs open it) at an earlier revision is refused rather than counted
        by the rules it was written under (``LedgerOutOfDate``). Asked until the answer is yes: a
        database is upgraded, never downgraded, under a running service."""
        if not self._up_to_date:
            try:
                with self.sql_engine.connect() as conn:
                    revision = database.current_revision(conn)
            except (OperationalError, InterfaceError) as exc:
                raise database.unavailable(exc) from exc
            newest = database.head_revision()
            if revision != newest:
                raise LedgerOutOfDate(f"the ledger is at revision {revision}, and this version of baygate counts "
                                      f"by revision {newest}: run `baygate db upgrade` first (its counts are "
                                      "recounted under the current rules; nothing is read until then)")
            self._up_to_date = True
        return _FROM_TOTALS

    @property
    def totals_key(self) -> seal.TotalsKey:
        """The key the running totals are sealed with (``BAYGATE_TOTALS_KEY_FILE``, or the default file:
        engine.ledger.seal), read when first needed: reading a ledger's chain needs none."""
        if self._totals_key == "env":
            self._totals_key = seal.load_totals_key()
        return self._totals_key

    def require_up_to_date(self) -> None:
        """Raise LedgerOutOfDate unless the database is at the newest revision (what replays and diffs
        read: its indexes and record format)."""
        self._counting()

    def _prior(self, conn: Connection, exporter_id: str, year: int) -> PriorCounts:
        """Sums of counted, permitted, not withdrawn transfers this year and last; populations this year."""
        rows = conn.execute(self._counting().clause, {"e": exporter_id, "yes": True, "y": year,
                                                      "py": year - 1}).all()
        return sealed_totals.prior_counts(sealed_totals.verified(self.totals_key, rows), exporter_id, year)

    def prior_counts(self, request: TransferRequest) -> PriorCounts:
        """What the ledger recorded before this transfer for its exporter (read-only, for dry runs).

        Every dry run calls this, so it is one statement on a pooled driver connection: a single
        statement reads one consistent snapshot on both backends, without BEGIN/COMMIT round trips or
        SQLAlchemy's per-call statement handling (150 -> about 40 us a call on SQLite, measured). It
        reads the running totals (``engine.ledger.totals``): its cost does not grow with the ledger."""
        exporter_id, year = request.exporter.id, request.planned_date.year
        dialect = self.sql_engine.dialect
        counting = self._counting()
        sql = counting.postgres if dialect.name == "postgresql" else counting.sqlite
        try:
            raw = self.sql_engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute(sql, {"e": exporter_id, "yes": True, "y": year, "py": year - 1})
                rows = cursor.fetchall()
                cursor.close()
            finally:
                raw.close()  # back to the pool, which rolls back PostgreSQL's implicit transaction
        except dialect.loaded_dbapi.Error as exc:
            raise database.unavailable(exc) from exc
        return sealed_totals.prior_counts(sealed_totals.verified(self.totals_key, rows), exporter_id, year)

    def counts(self, exporter_id: str, year: int) -> dict[str, Any]:
        """The exporter's tallies for a calendar year, as ``ledger counts`` and the HTTP API print them
        (the id read as requests' are: ``engine.strict.canonical_party_id``)."""
        exporter_id = _canonical_exporter(exporter_id)
        with self._read() as conn:
            prior = self._prior(conn, exporter_id, year)
        return {"exporter": exporter_id, "year": year, "personal_subjects": prior.personal_subjects,
                "sensitive_subjects": prior.sensitive_subjects}

    # ------------------------------------------------------------------ submit

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
        return self._commit(self._queue(engine, request, as_of, actor))

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
        pending: list[_Submission] = []
        for request in requests:
            pending.append(self._prepared(engine, request, as_of, actor))
            if len(pending) >= size:
                yield from self._commit_bulk(pending)
                pending = []
        if pending:
            yield from self._commit_bulk(pending)

    def _commit_bulk(self, items: list[_Submission]) -> Iterator[SubmitResult | Exception]:
        busy = database.sqlite_busy_seconds() if self.sql_engine.dialect.name == "sqlite" else -1
        if not self._committer.acquire(timeout=busy):
            raise DatabaseUnavailable(f"database unavailable: database is locked (this process's writers waited "
                                      f"longer than {busy:g} s; nothing of this group was written: retry later)")
        try:
            failed = self._record_group(items)
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

    def _prepared(self, engine: Engine, request: TransferRequest, as_of: dt.date | None,
                  actor: Actor | None) -> _Submission:
        request_json = request_canonical(request)
        return _Submission(engine, request, as_of, request_json, sha256(request_json),
                           self._pack_texts_to_store(engine), actor or local_user())

    def _queue(self, engine: Engine, request: TransferRequest, as_of: dt.date | None,
               actor: Actor | None = None) -> _Submission:
        """Queue a submission for the next group commit (``_commit`` records it)."""
        item = self._prepared(engine, request, as_of, actor)
        with self._waiting_lock:
            self._waiting.append(item)
        return item

    def _commit(self, item: _Submission) -> SubmitResult:
        """Wait until ``item`` is committed, committing the waiting group when this thread's turn comes."""
        sqlite = self.sql_engine.dialect.name == "sqlite"
        busy = database.sqlite_busy_seconds() if sqlite else -1
        if self._committer.acquire(timeout=busy):
            try:
                while not item.done.is_set():
                    if len(self._waiting) < self._last_group:
                        # Several threads submitted just now and fewer wait: the others are about to
                        # queue, let them join this group (group commit's commit_delay).
                        time.sleep(GATHER_SECONDS)
                    with self._waiting_lock:
                        group = _take_group(self._waiting)
                    self._last_group = len(group)
                    self._record_group(group)
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

    def _record_group(self, group: list[_Submission]) -> BaseException | None:
        """Record a group (one submission per exporter) in one transaction. A submission refused
        before it writes (reference conflict, engine error) fails alone; a database error fails the
        whole group, and nothing is written.

        Round trips do not grow with the group: one read of the references and the counts of every
        exporter (with the locks and the chain head), then per submission only the evaluation (in
        Python), then one write of every row and the chain head, and COMMIT. On PostgreSQL that is two
        round trips a group, BEGIN with the reads and COMMIT with the writes (``engine.ledger.group``).
        A submission reads the counts the ones before it in the group left (``group.GroupCounts``) and
        sees a reference recorded before it in the group: a bulk group may hold several of one
        exporter. Returns the error that failed the whole group, if one did."""
        stored_now: list[str] = []
        try:
            with self._group_write() as conn:
                # Exporter locks in one global order (then the chain head): two processes' groups
                # can never wait on each other in a cycle.
                exporters = sorted({item.request.exporter.id for item in group}, key=database.lock_key)
                years = sorted({y for item in group for y in (item.request.planned_date.year,
                                                              item.request.planned_date.year - 1)})
                reads = group_io.read(conn, self.totals_key, exporters,
                                      sorted({item.request.reference for item in group}), years)
                chain = group_io.chain(conn, reads, self.signer)
                chain_keys.prepare(conn, chain.append, self.signer, reads.signing_key, group[0].actor, _now())
                rows = group_io.GroupRows()
                counts = group_io.GroupCounts(reads.totals)
                for item in group:
                    key = (item.request.exporter.id, item.request.reference)
                    existing = reads.existing.get(key)
                    if existing is None and key in reads.merged_existing:  # under an id merged into this one
                        existing = aliases.recorded_as_variant(reads.merged_existing[key], item.request_json,
                                                               records.DictionaryReader(conn).texts)
                    stored_now += self._record_one(conn, item, chain, existing, counts, rows)
                    if item.error is None and item.result is not None and not item.result.replayed:
                        reads.existing[key] = rows.recorded(key)  # the same reference again in this group
                group_io.write(conn, rows, chain, self.totals_key, reads.totals)
        except BaseException as exc:
            for item in group:
                if item.error is None:
                    item.result, item.error = None, exc
                item.done.set()
            return exc
        self._stored_packs.update(stored_now)
        self._dictionaries.remember(rows.new_dictionaries)
        for item in group:
            item.done.set()
        return None

    def _record_one(self, conn: Connection, item: _Submission, chain: audit.ChainWriter, existing: Any,
                    counts: group_io.GroupCounts, rows: group_io.GroupRows) -> list[str]:
        """One submission of a group: decide on the counts read for the group, queue its rows."""
        request, engine = item.request, item.engine
        exporter_id = request.exporter.id
        year = request.planned_date.year
        try:
            if existing is not None:
                recorded_request, recorded_decision = records.DictionaryReader(conn).texts(existing)
                if existing.request_sha256 == item.request_sha:
                    item.result = SubmitResult(Decision.model_validate(json.loads(recorded_decision)), True,
                                               existing.withdrawn_at)
                    return []
                raise ReferenceConflict(_conflict_message(existing, recorded_request, item.request_json))
            prior = counts.prior(exporter_id, year)
            decision = engine.evaluate(request, prior, as_of=item.as_of)
            decision_json = canonical(decision.model_dump(mode="json"))
            tally = tally_for(request, prior, engine.options, decision.counts.collected_abroad_uncounted)
        except Exception as exc:  # refused before writing anything: this submission alone fails
            item.error = exc
            return []
        counted = decision.outcome == "permitted" and decision.counts.counted
        now = _now()
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
        data = {**audit.submission_data(SimpleNamespace(**row), populations), "reason": item.actor.reason}
        chain.lock()
        stored_now = self._store_packs(conn, item.pack_texts, now, item.actor, chain)
        seq = chain.append("submission", decision.decision_id, now, data)
        kind = records.kind_of(decision.rules.digest, decision.outcome, (reason.rule for reason in decision.reasons))
        dictionary, new = self._dictionaries.choose(conn, kind, records.joined(item.request_json, decision_json),
                                                    rows.new_dictionaries)
        if new:
            assert dictionary is not None
            rows.dictionaries.append(records.stored_row(kind, dictionary))
        rows.transfers.append({**row, "request_json": "", "decision_json": "", "event_seq": seq,
                               "record": records.pack(item.request_json, decision_json, dictionary)})
        rows.populations.extend({"decision_id": decision.decision_id, "population": name, "tally": tally_name,
                                 "subjects": subjects, "exporter_id": exporter_id, "year": year}
                                for tally_name, figures in populations.items()
                                for name, subjects in sorted(figures.items()))
        rows.just_recorded[(exporter_id, request.reference)] = SimpleNamespace(
            **row, event_seq=seq, record=None, withdrawn_at=None, withdrawn_seq=None)
        if counted:
            counts.add(exporter_id, year, tally)
        item.result = SubmitResult(decision, False)
        return stored_now

    def _pack_texts_to_store(self, engine: Engine) -> dict[str, tuple[Any, str]]:
        """Texts of the packs the database does not hold yet, read before the transaction: finding and
        parsing a pack file costs tenths of a second, which must not be spent holding the locks."""
        unknown = [pack for pack in engine.pack_set.packs if pack.digest not in self._stored_packs]
        if not unknown:
            return {}
        with self._read() as conn:
            present = set(conn.execute(select(packs.c.digest).where(
                packs.c.digest.in_([pack.digest for pack in unknown]))).scalars())
        self._stored_packs.update(present)
        return {pack.digest: (pack, pack_text(pack, self.rules_dirs))
                for pack in unknown if pack.digest not in present}

    def _store_packs(self, conn: Connection, texts: Mapping[str, tuple[Any, str]], now: str, actor: Actor,
                     chain: audit.ChainWriter | None = None) -> list[str]:
        """Store each pack first used now, with its event; called holding the chain lock."""
        if not texts:
            return []
        present = set(conn.execute(select(packs.c.digest).where(packs.c.digest.in_(list(texts)))).scalars())
        for digest, (pack, content) in texts.items():
            if digest in present:
                continue
            event = {"name": pack.name, "version": pack.version, "file": pack.file,
                     "content_sha256": sha256(content), **actor.fields()}
            seq = (chain.append("pack", digest, now, event) if chain is not None
                   else audit.append_event(conn, "pack", digest, now, event, self.signer))
            conn.execute(insert(packs).values(digest=digest, name=pack.name, version=pack.version,
                                              file=pack.file, content=content, first_used_at=now,
                                              event_seq=seq))
        return list(texts)

    def store_packs(self, engine: Engine, actor: Actor | None = None) -> list[str]:
        """Put the engine's pack set in service: store the texts of its packs the ledger does not hold
        yet (with their audit events) and, when the set differs from the last one in service, record
        the set and the moment (``pack_sets``) with a ``pack_set`` event naming ``actor`` (who reloaded,
        or the service at start-up), so that as-of evaluation follows rollbacks too and the chain says
        who changed the rules. Called at service start, on reload and by ``baygate submit``; returns
        the digests stored."""
        texts = self._pack_texts_to_store(engine)
        if not texts and self._in_service == engine.digest:
            return []
        actor = actor or local_user()
        with self._write() as conn:
            audit.lock_chain(conn)
            now = _now()
            chain_keys.prepare(conn, self._appender(conn), self.signer, chain_keys.latest_key(conn), actor, now)
            stored = self._store_packs(conn, texts, now, actor) if texts else []
            latest = conn.execute(select(pack_sets.c.set_digest).order_by(pack_sets.c.seq.desc()).limit(1)).scalar()
            if latest != engine.digest:
                members = sorted([pack.name, pack.digest] for pack in engine.pack_set.packs)
                seq = audit.append_event(conn, "pack_set", engine.digest, now, {"members": members, **actor.fields()},
                                         self.signer)
                conn.execute(insert(pack_sets).values(set_digest=engine.digest, members=json.dumps(members),
                                                      started_at=now, event_seq=seq))
        self._stored_packs.update(stored)
        self._in_service = engine.digest
        return stored

    # ------------------------------------------------------------------ sealing the totals

    def after_upgrade(self, actor: Actor | None = None) -> None:
        """What a writing process does once the schema is current, before it records anything: read the
        totals key (an unusable key file is refused now, exit 3, not at the first submission), seal
        the totals if an upgrade left them unsealed (``seal_totals``; when the chain does not account
        for them they stay unsealed, every decision refuses them, and ``unsealed_reason`` says why),
        and sign the head (``sign_the_head``)."""
        self.totals_key  # noqa: B018 -- loaded (or created) here, see above
        try:
            self.seal_totals(only_unsealed=True)
        except LedgerIntegrityError as exc:
            self.unsealed_reason = str(exc)
        self.sign_the_head(actor)

    def seal_totals(self, only_unsealed: bool = False) -> int:
        """Seal every running-totals row with this process's totals key, once the stored totals are found
        equal to what the audit chain accounts for (the chain walked and every hash checked, as ``audit
        verify`` does): after the upgrade to revision 0009, whose rows carry no seal yet (then
        ``only_unsealed``: nothing to do, and no lock taken, when every row is sealed), and by ``baygate db
        reseal`` after a change of totals key. Returns the exporter-years sealed. Raises
        ``LedgerIntegrityError`` when the totals or the chain do not hold: sealing would vouch for them."""
        if only_unsealed:
            with self._read() as conn:
                if not sealed_totals.any_unsealed(conn):
                    return 0
        key = self.totals_key
        with self._write() as conn:
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

    # ------------------------------------------------------------------ signing

    def appender(self, conn: Connection) -> chain_keys.Append:
        """Appending events one at a time in ``conn``'s transaction, each head signed (what
        ``chain_keys.prepare`` takes; for writers beside this module)."""
        return self._appender(conn)

    def _appender(self, conn: Connection) -> chain_keys.Append:
        """Appending one event at a time in ``conn``'s transaction, each head signed (chain_keys.prepare)."""
        signer = self.signer

        def append(kind: str, subject: str, at: str, data: dict[str, Any]) -> int:
            return audit.append_event(conn, kind, subject, at, data, signer)

        return append

    def sign_the_head(self, actor: Actor | None = None) -> None:
        """After an upgrade, with a signing key: announce it if the chain does not name it last, and sign
        the head if it is not signed (an upgrade may have appended events, e.g. revision 0005's recounts),
        so that ``audit verify --public-key`` finds every head this key's holder committed signed.
        Nothing without a signing key."""
        if self.signer is None:
            return
        with self._write() as conn:
            head = audit.lock_chain(conn)
            latest = chain_keys.latest_key(conn)
            if latest != self.signer_key_id:
                chain_keys.prepare(conn, self._appender(conn), self.signer, latest, actor or local_user(), _now())
            elif head[0] > 0 and not conn.execute(select(chain_signatures.c.seq).where(
                    chain_signatures.c.seq == head[0])).first():
                audit.sign_head(conn, self.signer, *head)

    @property
    def signer_key_id(self) -> str | None:
        return self.signer.key_id if self.signer is not None else None

    # ------------------------------------------------------------------ withdraw, get

    def find_in(self, conn: Connection, id_or_reference: str, exporter_id: str | None = None) -> Any:
        """The transfer row in force under a decision id (of any of its versions) or a reference."""
        return self._find(conn, id_or_reference, exporter_id)

    def _find(self, conn: Connection, id_or_reference: str, exporter_id: str | None) -> Any:
        given = exporter_id
        exporter_id = None if exporter_id is None else _canonical_exporter(exporter_id)
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

    def withdraw(self, id_or_reference: str, exporter_id: str | None = None,
                 actor: Actor | None = None) -> WithdrawResult:
        """Withdraw a recorded transfer (decision id or reference): its counts are released (from the
        running totals, in the same transaction: the totals become what they would be had it never been
        recorded, ``totals.released_by``), and the withdrawal is recorded as an audit event with what it
        released and who withdrew it (``actor``, default the operating-system user). Withdrawing twice
        records nothing new."""
        actor = actor or local_user()
        with self._write() as conn:
            found = self._find(conn, id_or_reference, exporter_id)
            aliases.lock_owner(conn, found.exporter_id)  # whose totals count it: its canonical id once merged
            row = conn.execute(select(transfers).where(transfers.c.decision_id == found.decision_id)).one()
            counted = int(row.personal_subjects), int(row.sensitive_subjects)
            if row.withdrawn_at is not None:
                return WithdrawResult(row.decision_id, row.reference, row.exporter_id, row.withdrawn_at, True,
                                      0, 0, *counted)
            texts = records.DictionaryReader(conn).texts
            personal, sensitive = totals.released_by(conn, row, texts) if row.counted else (0, 0)
            now = _now()
            audit.lock_chain(conn)  # after the exporter's lock, as every transaction takes them
            chain_keys.prepare(conn, self._appender(conn), self.signer, chain_keys.latest_key(conn), actor, now)
            seq = audit.append_event(conn, "withdrawal", row.decision_id, now, {
                "exporter": row.exporter_id, "reference": row.reference,
                "released_personal_subjects": personal, "released_sensitive_subjects": sensitive, **actor.fields()},
                self.signer)
            conn.execute(update(transfers).where(transfers.c.decision_id == row.decision_id)
                         .values(withdrawn_at=now, withdrawn_seq=seq))
            if row.counted:
                totals.release(conn, self.totals_key, row, personal, sensitive)
        return WithdrawResult(row.decision_id, row.reference, row.exporter_id, now, False, personal, sensitive,
                              *counted)

    def get(self, id_or_reference: str, exporter_id: str | None = None) -> RecordedTransfer:
        """A recorded transfer by decision id or reference (with the exporter id when ambiguous)."""
        with self._read() as conn:
            row = self._find(conn, id_or_reference, exporter_id)
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

    def list_transfers(self, query: listing.TransferQuery) -> listing.TransferPage:
        """A page of recorded transfers, newest first, filtered (engine.ledger.listing)."""
        with self._read() as conn:
            return listing.transfer_page(conn, query)

    def decisions_after(self, after: int = 0, limit: int = 500) -> list[listing.LoggedDecision]:
        """Recorded decisions after chain position ``after``, oldest first (the decision log)."""
        with self._read() as conn:
            return listing.decisions_after(conn, after, limit)

    def pack_content(self, digest: str) -> str:
        """The stored YAML text of a pack, by the digest a decision's ``rules`` names (for replays)."""
        with self._read() as conn:
            content = conn.execute(select(packs.c.content).where(packs.c.digest == digest)).scalar()
        if content is None:
            raise NotFound(f"no stored rule pack with digest {digest}")
        return str(content)

    # ------------------------------------------------------------------ audit, health

    def verify(self, checkpoints: Sequence[anchors.Checkpoint] = (),
               public_keys: Mapping[str, signing.PublicKey] | None = None,
               progress: Callable[[int], None] | None = None) -> AuditResult:
        """Walk the audit chain; names the first event edited, deleted, inserted or reordered. A stream
        (``engine.ledger.verify``); ``progress`` is told the number of events checked so far. Then the
        anchors: each checkpoint must still hold, every signature verify (engine.ledger.anchors)."""
        with self._read(snapshot=True) as conn:
            return audit.verify(conn, checkpoints, public_keys, progress)

    def checkpoint(self) -> anchors.Checkpoint:
        """The chain's head now, for an auditor to keep elsewhere (``audit checkpoint``)."""
        with self._read(snapshot=True) as conn:
            return anchors.take_checkpoint(conn, _now())

    def chain_length(self) -> int:
        """The number of events in the audit chain (its head), for progress."""
        with self._read() as conn:
            return int(conn.execute(text(f"SELECT seq FROM {chain_head.name} WHERE id = 1")).scalar() or 0)

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless the database answers and can take writes (for /readyz: a
        PostgreSQL standby or a server put in read-only mode answers SELECT 1 but refuses every
        submission)."""
        try:
            with self.sql_engine.connect() as conn:
                if database.is_postgres(conn):
                    read_only = conn.execute(text("SELECT current_setting('transaction_read_only')")).scalar()
                    if read_only == "on":
                        raise DatabaseUnavailable("database unavailable: it is read-only (a standby, or "
                                                  "default_transaction_read_only): submissions cannot be recorded")
                else:
                    conn.execute(text("SELECT 1"))
        except Exception as exc:
            if isinstance(exc, DatabaseUnavailable):
                raise
            raise database.unavailable(exc) from exc


def _canonical_exporter(exporter_id: str) -> str:
    """An exporter id given to look something up, in the form requests are recorded under."""
    try:
        return canonical_party_id(exporter_id)
    except ValueError as exc:
        raise InputError("", [FieldProblem("exporter_id", str(exc))]) from None


def _conflict_message(existing: Any, recorded_request: str, request_json: str) -> str:
    old = json.loads(recorded_request)
    new = json.loads(request_json)
    fields = sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
    return (f"reference {existing.reference!r} of exporter {existing.exporter_id} was already recorded "
            f"(decision {existing.decision_id}, {existing.recorded_at}) for a different request "
            f"(differs in: {', '.join(fields) or 'content'}); a new transfer needs a new reference")

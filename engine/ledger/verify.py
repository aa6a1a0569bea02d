"""``audit verify`` as a stream: the chain walked in seq order beside the rows it accounts for, with
memory that does not grow with the ledger (issue 21; DESIGN section 9: 10^6 transfers within 2 minutes,
at most 300 MB).

The checks themselves are ``engine.ledger.audit``'s (each event hashed with the one before it, each row
against what its event hashed, the running totals against the chain's arithmetic and the counting
rules). What this module adds is how the rows are read: verify used to load every transfer, population
and pack into memory first (16.7 KB a transfer: 16.7 GB at 10^6). Now three ordered streams are merged:

- the events, by ``seq`` (their primary key);
- the transfers with their population figures, by ``event_seq`` (``ix_transfers_event_seq``): a
  submission event at seq N is checked against the row whose ``event_seq`` is N;
- the withdrawn transfers (``ix_transfers_withdrawn``), by ``withdrawn_seq``: a withdrawal event at
  seq N against the row withdrawn at N (a row with only one of ``withdrawn_at`` and ``withdrawn_seq`` is
  named from the stream above).

- the decisions amendments replaced (``replaced_decisions``, revision 0010) in two orders: by
  ``event_seq`` beside the transfers (their submission event is checked against them as against any
  row), and by ``replaced_seq`` (``ix_replaced_decisions_replaced_seq``): an ``amendment`` event at seq N
  is checked against the row replaced at N (``amendments.check_event``), then counts as the release of
  that decision followed by the submission of the new one, as ``audit verify`` always did.

A row no event accounts for (a transfer inserted, one marked withdrawn against the chain, a decision
marked replaced that no amendment replaced) is noticed
when the walk passes its position, and reported after the chain, as before, the first by decision id.
The chain's totals, and the live transfers tallied again under the counting rules, are kept per
exporter-year (and population) as the events come (:class:`ChainTally`): memory grows with the
exporters and populations, not with the transfers. Pack texts and pack set changes (few) are read with their events.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import OperationalError

from engine.facts import PriorCounts, tally_of
from engine.ledger import aliases, amendments, audit, records, totals
from engine.ledger.audit import GENESIS, AuditResult, chain_hash
from engine.ledger.schema import (
    TALLIES,
    chain_head,
    chain_signing_keys,
    events,
    exporter_id_aliases,
    pack_sets,
    packs,
    replaced_decisions,
    transfer_populations,
    transfers,
)

_STREAMED = {"stream_results": True, "yield_per": 1_000}
_POPULATION_COLUMNS = (transfer_populations.c.population.label("p_population"),
                       transfer_populations.c.tally.label("p_tally"),
                       transfer_populations.c.subjects.label("p_subjects"),
                       transfer_populations.c.exporter_id.label("p_exporter_id"),
                       transfer_populations.c.year.label("p_year"))
_SUBMITTED = (select(transfers, *_POPULATION_COLUMNS)
              .outerjoin(transfer_populations, transfer_populations.c.decision_id == transfers.c.decision_id)
              .order_by(transfers.c.event_seq, transfers.c.decision_id))
_WITHDRAWN = (select(transfers).where(transfers.c.withdrawn_at.is_not(None), transfers.c.withdrawn_seq.is_not(None))
              .order_by(transfers.c.withdrawn_seq, transfers.c.decision_id))
_REPLACED = select(replaced_decisions).order_by(replaced_decisions.c.event_seq, replaced_decisions.c.decision_id)
_AMENDED = select(replaced_decisions).order_by(replaced_decisions.c.replaced_seq, replaced_decisions.c.decision_id)
_IN_FORCE_AND_REPLACED = (select(transfers.c.decision_id)
                          .join(replaced_decisions, replaced_decisions.c.decision_id == transfers.c.decision_id)
                          .order_by(transfers.c.decision_id).limit(1))


@dataclass
class Located:
    """A transfer row as the walk checks it: its texts as recorded, its population figures per tally,
    whether any of them names another exporter or year, and why its record cannot be read (if so)."""

    row: Any
    figures: dict[str, dict[str, int]] = field(default_factory=dict)
    misplaced: bool = False
    unreadable: str | None = None
    replaced: bool = False
    """A decision an amendment replaced (``replaced_decisions``): out of force since ``withdrawn_seq``."""
    figures_unreadable: bool = False


Progress = Callable[[int], None]
"""Told the number of events checked so far, every PROGRESS_EVERY events."""
PROGRESS_EVERY = 5_000


def verify(connection: Connection, progress: Progress | None = None) -> AuditResult:
    """Walk the chain in seq order and cross-check the recorded rows; stop at the first problem. Then
    the running totals: against the chain's own arithmetic, and that against the counted transfers
    tallied again under the counting rules. ``progress`` is told how far the walk got."""
    dropped = audit.missing_table(connection)
    if dropped is not None:
        return dropped
    try:
        malformed = audit.sqlite_storage_problem(connection)
        if malformed is not None:
            return malformed
        walked = _walk(connection, progress)
    except OperationalError as exc:
        if "decode" not in str(exc):
            raise
        # SQLite keeps any bytes in a text column; the driver cannot read ones that are not UTF-8.
        return AuditResult(False, 0, "text", f"a stored text is not UTF-8, which the ledger never writes (edited): "
                                             f"{str(getattr(exc, 'orig', exc)).splitlines()[0]}")
    if isinstance(walked, AuditResult):
        return walked
    count, tally = walked
    chain = tally.accounted()
    difference = totals.check(connection, chain)
    if difference is None:
        difference = totals.first_difference(tally.retallied(), chain, _RETALLY_WORDING)
    if difference is None:
        return AuditResult(True, count)
    return AuditResult(False, count, f"counts {difference.exporter_id} {difference.year}", difference.problem)


_RETALLY_WORDING = ("the audit chain accounts for", "its counted transfers tallied again under the counting rules",
                    "(the counting rules changed without a recount, or a count was recorded wrong)")


def chain_totals(connection: Connection) -> totals.Totals:
    """The running totals as the audit chain accounts for them (what ``verify`` compares the stored
    totals with). Raises ValueError when the chain itself does not verify."""
    walked = _walk(connection)
    if isinstance(walked, AuditResult):
        raise ValueError(walked.problem)
    return walked[1].accounted()


class ChainTally:
    """The totals as the chain accounts for them, kept per exporter-year while it is walked, and the same
    transfers tallied again under the counting rules (``totals.retally``), without keeping the transfers.

    Sums follow the events: what each submission added, less what each withdrawal released, plus what
    each recount changed. Population figures and the tally again need only the transfers live at the
    end of the chain, which each row says (``withdrawn_at``, checked against the withdrawal events by
    the time the totals are compared): the largest figure per population among them, as their events
    list it and as their requests give it. Tallied in the order recorded, a population's increases add
    up to its largest figure, so the tally again of an exporter-year is the subjects of its live transfers
    naming no population, plus the subjects outside any population of those naming one, plus each
    population's largest figure.

    Merged exporter ids (``engine.ledger.aliases``): from an ``id-merge`` event on, what is recorded under
    a merged id counts as its canonical id (``merged``); at the event the ids' sums become the canonical
    id's, less what the event says counted once (:meth:`merge`; ``aliases.follow`` checks the event's
    figures against these sums first), and what is kept per id for the end is counted as the canonical
    id's when the totals are read (:meth:`accounted`, :meth:`retallied`): a merge costs the years of its
    ids, not a pass over every exporter."""

    def __init__(self) -> None:
        self.merged: dict[str, str] = {}
        """Recorded id -> the id it counts as, for the id-merge events walked so far."""
        self._merged_into: dict[str, set[str]] = {}
        """Canonical id -> the ids merged into it so far."""
        self.sums: dict[tuple[str, int], tuple[int, int]] = {}
        self._years: dict[str, set[int]] = {}
        """Exporter -> the years it has sums for (what a merge reads)."""
        self.largest: dict[tuple[str, int, str, str], int] = {}
        self.retally_sums: dict[tuple[str, int], tuple[int, int]] = {}
        """Per exporter-year, the live counted transfers' subjects outside any population."""
        self.retally_largest: dict[tuple[str, int, str, str], int] = {}

    @staticmethod
    def _add(table: dict[tuple[str, int], tuple[int, int]], key: tuple[str, int], personal: int,
             sensitive: int) -> None:
        before = table.get(key, (0, 0))
        table[key] = (before[0] + personal, before[1] + sensitive)

    @staticmethod
    def _raise(table: dict[tuple[str, int, str, str], int], key: tuple[str, int], figures: Any) -> None:
        for tally, named in figures.items():
            for name, subjects in named.items():
                found = (key[0], key[1], str(name), str(tally))
                table[found] = max(table.get(found, 0), int(subjects))

    def submission(self, located: Located, data: dict[str, Any], figures: dict[str, dict[str, int]]) -> None:
        """A checked submission; ``figures``: its population figures as its event accounts for them."""
        if not data.get("counted"):
            return
        exporter = str(data["exporter"])
        key = (self.merged.get(exporter, exporter), int(data["year"]))
        self._add_sums(key, int(data["personal_subjects"]), int(data["sensitive_subjects"]))
        if located.row.withdrawn_at is not None:
            return
        self._raise(self.largest, key, figures)
        row = located.row
        if not totals.names_a_population(row.request_json):
            self._add(self.retally_sums, key, int(row.personal_subjects), int(row.sensitive_subjects))
            return
        data_sets, in_both = totals.tallied_data(row.request_json, lambda: str(row.decision_json))
        alone = tally_of(data_sets, PriorCounts(), in_both)
        given = totals.population_figures(data_sets, in_both)
        self._add(self.retally_sums, key, alone.personal_subjects - sum(given.get("personal", {}).values()),
                  alone.sensitive_subjects - sum(given.get("sensitive", {}).values()))
        self._raise(self.retally_largest, key, given)

    def withdrawal(self, row: Any, data: dict[str, Any]) -> None:
        if row.counted:
            exporter = str(row.exporter_id)
            self._add_sums((self.merged.get(exporter, exporter), int(row.year)),
                           -int(data["released_personal_subjects"]), -int(data["released_sensitive_subjects"]))

    def recount(self, data: dict[str, Any]) -> None:
        self._add_sums((str(data["exporter"]), int(data["year"])), int(data["personal_subjects_change"]),
                  int(data["sensitive_subjects_change"]))

    def _add_sums(self, key: tuple[str, int], personal: int, sensitive: int) -> None:
        self._add(self.sums, key, personal, sensitive)
        self._years.setdefault(key[0], set()).add(key[1])

    def _owner(self, exporter: str) -> str:
        return self.merged.get(exporter, exporter)

    def sums_of(self, exporter: str, year: int) -> tuple[int, int]:
        """An exporter-year's sums as the chain accounts for them so far."""
        return self.sums.get((exporter, year), (0, 0))

    def merge(self, canonical: str, variants: Iterable[str], counted_once: Mapping[int, tuple[int, int]]
              ) -> dict[int, tuple[int, int]]:
        """An id-merge event: from here on ``variants`` count as ``canonical``; each year's sums of the ids
        become the canonical id's less what the event says counted once, the variants' zero; returns the
        merged sums per year."""
        for variant in variants:
            self.merged[variant] = canonical
            self._merged_into.setdefault(canonical, set()).add(variant)
        ids = {canonical} | self._merged_into[canonical]
        result: dict[int, tuple[int, int]] = {}
        for year in sorted(set().union(*(self._years.get(name, set()) for name in ids))):
            summed = [0, 0]
            for name in ids:
                personal, sensitive = self.sums.get((name, year), (0, 0))
                summed[0] += personal
                summed[1] += sensitive
                if (name, year) in self.sums:
                    self.sums[(name, year)] = (0, 0)
            once = counted_once.get(year, (0, 0))  # (the year stays known: the merged ids' years are kept)
            self.sums[(canonical, year)] = result[year] = (summed[0] - once[0], summed[1] - once[1])
        return result

    def _merged_figures(self, figures: dict[tuple[str, int, str, str], int]) -> dict[tuple[str, int, str, str], int]:
        """Largest figures kept per recorded id, as the ids they count as (the largest of merged ids')."""
        found: dict[tuple[str, int, str, str], int] = {}
        for (exporter, year, name, tally), subjects in figures.items():
            key = (self._owner(exporter), year, name, tally)
            found[key] = max(found.get(key, 0), subjects)
        return found

    def accounted(self) -> totals.Totals:
        """The totals the chain accounts for."""
        return totals.Totals(dict(self.sums), self._merged_figures(self.largest))

    def retallied(self) -> totals.Totals:
        """The live counted transfers tallied again under the counting rules."""
        sums: dict[tuple[str, int], tuple[int, int]] = {}
        for (exporter, year), (personal, sensitive) in self.retally_sums.items():
            self._add(sums, (self._owner(exporter), year), personal, sensitive)
        largest = self._merged_figures(self.retally_largest)
        for (exporter, year, _name, tally), subjects in largest.items():
            self._add(sums, (exporter, year), *((subjects, 0) if tally == "personal" else (0, subjects)))
        return totals.Totals(sums, largest)


def _located(rows: list[Any], reader: records.DictionaryReader) -> Located:
    """One transfer from its LEFT JOIN rows (one per population figure, or one with none)."""
    first = rows[0]
    located = Located(first)
    for row in rows:
        if row.p_population is None:
            continue
        located.figures.setdefault(row.p_tally, {})[row.p_population] = row.p_subjects
        if (row.p_exporter_id, row.p_year) != (first.exporter_id, first.year):
            located.misplaced = True
    located.row = _with_texts(first._mapping, reader, located)
    return located


def _replaced_located(row: Any, reader: records.DictionaryReader) -> Located:
    """A decision an amendment replaced, read as a transfer that went out of force at the amendment
    (``amendments.replaced_rows``), with its population figures as its row keeps them (JSON)."""
    located = Located(row, replaced=True)
    try:
        located.figures = amendments.figures_of(row)
    except ValueError:
        located.figures_unreadable = True
    fields = {**row._mapping, "withdrawn_at": row.replaced_at, "withdrawn_seq": row.replaced_seq}
    located.row = _with_texts(fields, reader, located)
    return located


def _with_texts(fields: Mapping[str, Any], reader: records.DictionaryReader, located: Located) -> _Checked:
    try:
        request, decision = reader.raw_texts(SimpleNamespace(**fields))
    except ValueError as exc:
        located.unreadable = str(exc)
        request = decision = b""
    return _Checked(fields, request, decision)


class _Checked:
    """A transfer row with its texts as recorded: hashed once, from the bytes as stored (what the
    submission event's hashes are checked against: ``audit.text_hashes``), decoded only when read. The
    columns are plain attributes (the checks read each of them, for every transfer)."""

    def __init__(self, fields: Mapping[str, Any], request: bytes, decision: bytes) -> None:
        self.__dict__.update(fields)
        self._request = request
        self._decision = decision
        self.text_hashes = (hashlib.sha256(request).hexdigest(), hashlib.sha256(decision).hexdigest())

    @property
    def request_json(self) -> str:
        return self._request.decode("utf-8", errors="replace")

    @property
    def decision_json(self) -> str:
        return self._decision.decode("utf-8", errors="replace")


def _grouped(connection: Connection, reader: records.DictionaryReader) -> Iterator[Located]:
    """The transfers in ``event_seq`` order, each with its population figures."""
    group: list[Any] = []
    for row in connection.execute(_SUBMITTED.execution_options(**_STREAMED)):
        if group and row.decision_id != group[0].decision_id:
            yield _located(group, reader)
            group = []
        group.append(row)
    if group:
        yield _located(group, reader)


def _recorded(connection: Connection, reader: records.DictionaryReader) -> Iterator[Located]:
    """Every recorded decision in ``event_seq`` order: the transfers (the decisions in force) and the
    decisions amendments replaced, each where its submission (or amendment) event is."""
    replaced = (_replaced_located(row, reader)
                for row in connection.execute(_REPLACED.execution_options(**_STREAMED)))
    return heapq.merge(_grouped(connection, reader), replaced,
                       key=lambda located: (int(located.row.event_seq), str(located.row.decision_id)))


def _one(connection: Connection, reader: records.DictionaryReader, decision_id: str) -> Located | None:
    """One transfer by decision id, when the streams did not bring it where its event expects it."""
    rows = list(connection.execute(_SUBMITTED.where(transfers.c.decision_id == decision_id)))
    return _located(rows, reader) if rows else None


def _one_replaced(connection: Connection, reader: records.DictionaryReader, decision_id: str) -> Located | None:
    """One replaced decision by decision id (where the streams did not bring it)."""
    row = connection.execute(select(replaced_decisions).where(replaced_decisions.c.decision_id == decision_id)).first()
    return None if row is None else _replaced_located(row, reader)


@dataclass
class _Deferred:
    """The first (by decision id) row no event accounts for: reported once the chain has verified."""

    inserted: str | None = None
    marked: tuple[str, Any] | None = None
    unamended: str | None = None

    def insert(self, located: Located) -> None:
        decision_id = str(located.row.decision_id)
        if self.inserted is None or decision_id < self.inserted:
            self.inserted = decision_id

    def unreplaced(self, row: Any) -> None:
        """A row marked replaced at a position where no amendment replaced it."""
        decision_id = str(row.decision_id)
        if self.unamended is None or decision_id < self.unamended:
            self.unamended = decision_id

    def mark(self, row: Any) -> None:
        if self.marked is None or str(row.decision_id) < self.marked[0]:
            self.marked = (str(row.decision_id), row)


def _walk(connection: Connection, progress: Progress | None = None) -> AuditResult | tuple[int, ChainTally]:
    """The chain walked beside the rows: the first problem, or the number of events and their tally."""
    reader = records.DictionaryReader(connection)
    head = connection.execute(select(chain_head.c.seq, chain_head.c.hash).where(chain_head.c.id == 1)).one()
    both = connection.execute(_IN_FORCE_AND_REPLACED).scalar()
    if both is not None:
        return AuditResult(False, 0, f"transfer {both}",
                           f"transfer {both} is both in force and replaced by an amendment (edited)")
    submitted = _recorded(connection, reader)
    withdrawn_rows = iter(connection.execute(_WITHDRAWN.execution_options(**_STREAMED)))
    amended_rows = iter(connection.execute(_AMENDED.execution_options(**_STREAMED)))
    next_submitted, next_withdrawn = next(submitted, None), next(withdrawn_rows, None)
    next_amended = next(amended_rows, None)
    deferred = _Deferred()
    seen_packs: set[str] = set()
    recorded_sets = {int(row.event_seq): row for row in connection.execute(select(pack_sets))
                     if row.event_seq is not None}  # changes recorded before revision 0007 have no event
    seen_sets: set[int] = set()
    announced = {int(row.announced_seq): row for row in connection.execute(select(chain_signing_keys))}
    merged_ids = {str(row.variant): row for row in connection.execute(select(exporter_id_aliases))}
    seen_keys: set[int] = set()  # announcements are rare: one per signing key
    tally = ChainTally()
    prev_hash = GENESIS
    count = 0
    for event in connection.execute(select(events).order_by(events.c.seq).execution_options(**_STREAMED)):
        count += 1
        seq = int(event.seq)
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)

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
        subject = str(event.subject)
        # Rows whose position the walk has passed without an event of theirs: inserted, or edited.
        while next_submitted is not None and int(next_submitted.row.event_seq) < seq:
            deferred.insert(next_submitted)
            next_submitted = next(submitted, None)
        while next_withdrawn is not None and int(next_withdrawn.withdrawn_seq) < seq:
            deferred.mark(next_withdrawn)
            next_withdrawn = next(withdrawn_rows, None)
        while next_amended is not None and int(next_amended.replaced_seq) < seq:
            deferred.unreplaced(next_amended)
            next_amended = next(amended_rows, None)
        if event.kind in ("submission", "amendment"):
            here: list[Located] = []
            while next_submitted is not None and int(next_submitted.row.event_seq) == seq:
                here.append(next_submitted)
                next_submitted = next(submitted, None)
            located = next((found for found in here if found.row.decision_id == subject), None)
            for other in here:
                if other is not located:
                    deferred.insert(other)
            if located is None:
                located = _one(connection, reader, subject) or _one_replaced(connection, reader, subject)
                if located is not None:
                    return bad(f"transfer {subject}: its position in the chain (event_seq) was edited")
            checked = _submission_checked(subject, data, located)
            if isinstance(checked, str):
                return bad(checked)
            assert located is not None
            if event.kind == "amendment":  # first the decision it replaced goes out of force
                replaced_here: list[Any] = []
                while next_amended is not None and int(next_amended.replaced_seq) == seq:
                    replaced_here.append(next_amended)
                    next_amended = next(amended_rows, None)
                old = _amended_row(connection, data, replaced_here, deferred)
                in_force = {str(old.decision_id)} if old is not None and int(old.event_seq) < seq else set()
                problem = amendments.check_event(seq, str(body.get("at")), data,
                                                 {} if old is None else {str(old.decision_id): old}, in_force)
                if problem:
                    return bad(problem)
                assert old is not None
                tally.withdrawal(old, data)
            if (located.row.withdrawn_at is None) != (located.row.withdrawn_seq is None):
                deferred.mark(located.row)
            tally.submission(located, data, checked)
        elif event.kind == "withdrawal":
            if next_withdrawn is not None and int(next_withdrawn.withdrawn_seq) == seq \
                    and next_withdrawn.decision_id == subject:
                next_withdrawn = next(withdrawn_rows, None)
            found = _one(connection, reader, subject)
            problem = audit.withdrawal_problem(body, found.row if found is not None else None)
            if problem:
                return bad(problem)
            assert found is not None
            if found.row.withdrawn_seq != seq or int(found.row.event_seq) >= seq:
                return bad(f"transfer {subject}: its withdrawal was edited")
            tally.withdrawal(found.row, data)
        elif event.kind == "recount":
            problem = audit.recount_problem(data)
            if problem:
                return bad(problem)
            tally.recount(data)
        elif event.kind == "pack":
            pack = connection.execute(select(packs).where(packs.c.digest == subject)).first()
            problem = audit.pack_problem(subject, data, pack)
            if problem:
                return bad(problem)
            seen_packs.add(subject)
        elif event.kind == "pack_set":
            problem = audit.pack_set_problem(subject, body, recorded_sets.get(seq))
            if problem:
                return bad(problem)
            seen_sets.add(seq)
        elif event.kind == "signing_key":
            problem = audit.signing_key_problem(subject, body, announced.get(seq))
            if problem:
                return bad(problem)
            seen_keys.add(seq)
        elif event.kind == aliases.KIND:  # recorded ids that count as one from here on (engine.ledger.aliases)
            problem = aliases.follow(seq, subject, data, merged_ids, tally)
            if problem:
                return bad(problem)
        else:
            return bad(f"unknown event kind {event.kind!r}")
        prev_hash = event.hash
    for located in ([next_submitted] if next_submitted is not None else []) + list(submitted):
        deferred.insert(located)
    for row in ([next_withdrawn] if next_withdrawn is not None else []) + list(withdrawn_rows):
        deferred.mark(row)
    for row in ([next_amended] if next_amended is not None else []) + list(amended_rows):
        deferred.unreplaced(row)
    if int(head.seq) != count or head.hash != prev_hash:
        return AuditResult(False, count, count + 1 if int(head.seq) > count else int(head.seq),
                           f"the chain ends at event {count} but its head records event {head.seq}: "
                           "the newest events were deleted, or the head was edited")
    if deferred.inserted is not None:
        return AuditResult(False, count, f"transfer {deferred.inserted}",
                           f"transfer {deferred.inserted} has no submission event (inserted)")
    if deferred.unamended is not None:
        return AuditResult(False, count, f"transfer {deferred.unamended}",
                           f"transfer {deferred.unamended} is marked replaced, but no amendment replaced it (edited)")
    if deferred.marked is not None:
        decision_id, row = deferred.marked
        state = "withdrawn" if row.withdrawn_at else "not withdrawn"
        return AuditResult(False, count, int(row.event_seq), f"event {row.event_seq}: transfer {decision_id} is "
                                                             f"marked {state} against the chain (edited)")
    for (digest,) in connection.execute(select(packs.c.digest).order_by(packs.c.digest)):
        if digest not in seen_packs:
            return AuditResult(False, count, f"pack {digest}", f"pack {digest} has no event (inserted)")
    for seq in sorted(set(recorded_sets) - seen_sets):
        return AuditResult(False, count, f"pack set {seq}",
                           f"the pack set change recorded at event {seq} has no pack_set event there (inserted)")
    unmerged = aliases.unaccounted(merged_ids, tally.merged)
    if unmerged is not None:
        return AuditResult(False, count, "exporter id aliases", unmerged)
    for seq in sorted(set(announced) - seen_keys):
        return AuditResult(False, count, f"signing key {seq}",
                           f"the signing key recorded as announced at event {seq} has no signing_key event there "
                           "(inserted)")
    return count, tally


def _amended_row(connection: Connection, data: dict[str, Any], replaced_here: list[Any],
                 deferred: _Deferred) -> Any:
    """The row of the decision an amendment event says it replaced, read as a transfer that went out
    of force at the amendment; the other rows marked replaced at its position are deferred (no amendment
    replaced them). None when no row of that decision is marked replaced."""
    old_id = data.get("replaces")
    found = None
    for row in replaced_here:
        if found is None and row.decision_id == old_id:
            found = row
        else:
            deferred.unreplaced(row)
    if found is None and isinstance(old_id, str):  # marked replaced at another position, or not at all
        found = connection.execute(select(replaced_decisions).where(replaced_decisions.c.decision_id == old_id)).first()
    if found is None:
        return None
    return SimpleNamespace(**{**found._mapping, "withdrawn_at": found.replaced_at, "withdrawn_seq": found.replaced_seq})


def _submission_checked(subject: str, data: dict[str, Any], located: Located | None
                        ) -> str | dict[str, dict[str, int]]:
    """Does the transfer row still say what its submission event hashed? The problem, or its population
    figures as the event accounts for them."""
    if located is None:
        return f"transfer {subject} was deleted"
    if located.figures_unreadable:
        return f"replaced decision {subject}: its population figures are not readable (edited)"
    if located.unreadable is not None:
        return f"transfer {subject}: its stored record cannot be read ({located.unreadable}) (edited)"
    if located.misplaced:
        return f"transfer {subject}: a population's exporter or year was edited"
    if not set(located.figures) <= set(TALLIES):
        return f"transfer {subject}: a population's tally was edited"
    return audit.check_submission(subject, data, located.row, located.figures)

"""The counts each recorded transfer was decided with, carried forward along the audit chain.

Replays and ``rules diff`` re-decide recorded transfers with the counts their exporter had at that
moment (``engine.ledger.history``). Those counts were rebuilt, for each transfer, from every earlier
counted transfer of its exporter-year: quadratic in an exporter-year (40,000 transfers of one exporter
took 71 s; a bank's year of 10^6 would take weeks). Here each exporter-year's state is carried from
one event to the next instead:

- the sums of its counted transfers, less what each withdrawal released (its event says how much),
  plus what each recount changed (revision 0005);
- per population and tally, the largest figure of its live counted transfers. A figure only grows
  until a withdrawal removes the transfer that held the largest one; then the largest of the others is
  read from the population index (revision 0011), which holds every transfer's figures in order.

States are kept for the exporter-years met recently (at most ``capacity``: memory stays bounded however
many exporters a ledger holds). One that is not kept, a replay that starts mid-chain (one transfer,
``--since``) or an evicted one, is rebuilt from the database as it stood just before the event at hand
(:func:`rebuild`): sums of the index ``ix_transfers_exporter_seq``, the withdrawn ones found by
``ix_transfers_curve``, and the largest live figures of ``ix_transfer_populations_counting``: reading
only that exporter's index entries before the event, not its rows. When the walk started at
the chain's beginning and has evicted nothing, an exporter-year it has not met has no earlier transfer,
and its state starts empty without a query.

Merged exporter ids (``engine.ledger.aliases``) take part from their ``id-merge`` event on: an exporter-year
state is kept per id the transfers count as at that point (:class:`Owners`); at the event the ids'
states become the canonical id's, with the sums the event wrote (checked by ``audit verify``) and the
largest figure of each population among them; a state rebuilt after it reads the transfers of every id
merged by then, less what each merge counted once.

Amendments (revision 0010) take part as the chain has them: the decision an amendment replaced (a row of
``replaced_decisions``, its population figures kept there as JSON) counted from its submission until the
amendment, released at the amendment's position just before the new decision is submitted there
(``engine.ledger.history``), exactly as ``history.recorded_decisions`` always read them. Rebuilding
a state reads those rows beside the transfers (an exporter's few amendments, by exporter).
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, text

from engine.facts import PriorCounts
from engine.ledger import aliases, amendments

_SUMS_BEFORE = text(
    "SELECT COALESCE(SUM(personal_subjects), 0), COALESCE(SUM(sensitive_subjects), 0) FROM transfers "
    "WHERE exporter_id = :e AND year = :y AND event_seq < :s AND counted = :yes")
_RELEASED_BEFORE = text(
    "SELECT t.personal_subjects, t.sensitive_subjects, e.body FROM transfers t "
    "JOIN events e ON e.seq = t.withdrawn_seq "
    "WHERE t.exporter_id = :e AND t.year = :y AND t.counted = :yes AND t.withdrawn_at IS NOT NULL "
    "AND t.withdrawn_seq < :s")
_LARGEST_LIVE_AT = text(
    "SELECT p.population, p.tally, MAX(p.subjects) FROM transfer_populations p "
    "JOIN transfers t ON t.decision_id = p.decision_id WHERE p.exporter_id = :e AND p.year = :y "
    "AND t.event_seq < :s AND t.counted = :yes AND (t.withdrawn_seq IS NULL OR t.withdrawn_seq >= :s) "
    "GROUP BY p.population, p.tally")
_ONE_LARGEST_LIVE_AT = text(
    "SELECT p.subjects FROM transfer_populations p JOIN transfers t ON t.decision_id = p.decision_id "
    "WHERE p.exporter_id = :e AND p.year = :y AND p.population = :population AND p.tally = :tally "
    "AND t.event_seq < :s AND t.counted = :yes AND (t.withdrawn_seq IS NULL OR t.withdrawn_seq > :s) "
    "ORDER BY p.subjects DESC LIMIT 1")
# The decisions amendments replaced, of one exporter-year, counted and recorded before a position: what
# a rebuilt state adds (and releases at their amendments), and whose figures count while they were live.
_REPLACED_BEFORE = text(
    "SELECT r.personal_subjects, r.sensitive_subjects, r.replaced_seq, r.populations, e.body "
    "FROM replaced_decisions r JOIN events e ON e.seq = r.replaced_seq "
    "WHERE r.exporter_id = :e AND r.year = :y AND r.counted = :yes AND r.event_seq < :s")
_FIGURES_OF = text("SELECT population, tally, subjects FROM transfer_populations WHERE decision_id = :d")
_RECOUNTS = text("SELECT seq, body FROM events WHERE kind = 'recount' AND kind <> 'submission' ORDER BY seq")
_MERGES = text(f"SELECT seq, body FROM events WHERE kind = '{aliases.KIND}' AND kind <> 'submission' ORDER BY seq")

CAPACITY = 50_000
"""Exporter-year states kept at most (a few hundred bytes each, more for many populations)."""


@dataclass
class YearState:
    """What an exporter-year's counted, not withdrawn transfers add up to at a point of the chain."""

    personal: int = 0
    sensitive: int = 0
    largest: dict[tuple[str, str], int] = field(default_factory=dict)
    """(population, tally) -> the largest figure of a live counted transfer naming it."""


@dataclass(frozen=True)
class Recount:
    seq: int
    exporter_id: str
    year: int
    personal_change: int
    sensitive_change: int


def recounts(conn: Connection) -> list[Recount]:
    """Every recount event (revision 0005 writes them, a handful per ledger), in chain order."""
    found = []
    for seq, body in conn.execute(_RECOUNTS):
        data = json.loads(body)["data"]
        found.append(Recount(int(seq), str(data["exporter"]), int(data["year"]),
                             int(data["personal_subjects_change"]), int(data["sensitive_subjects_change"])))
    return found


@dataclass(frozen=True)
class Merge:
    """An id-merge event: from ``seq`` on, ``variants`` count as ``canonical``; per year, the sums it wrote,
    the ids it merged them from and what counted once (``aliases.MergedYear``)."""

    seq: int
    canonical: str
    variants: tuple[str, ...]
    years: dict[int, aliases.MergedYear]


def merges(conn: Connection) -> list[Merge]:
    """Every id-merge event (a handful per ledger, if any), in chain order."""
    found = []
    for seq, body in conn.execute(_MERGES):
        data = json.loads(body)["data"]
        found.append(Merge(int(seq), str(data["canonical"]), tuple(str(v) for v in data["variants"]),
                           aliases.event_years(data) or {}))
    return found


class Owners:
    """Which id a recorded exporter id counts as at a point of the chain (its canonical id once merged)."""

    def __init__(self, merged: Iterable[Merge]) -> None:
        self.merges = list(merged)
        self._at: dict[str, tuple[str, int]] = {}
        self._into: dict[str, list[tuple[str, int]]] = {}
        """Canonical id -> (variant, position of its merge), for members (looked up per withdrawal)."""
        self._merges_into: dict[str, list[Merge]] = {}
        for merge in self.merges:
            self._merges_into.setdefault(merge.canonical, []).append(merge)
            for variant in merge.variants:
                self._at[variant] = (merge.canonical, merge.seq)
                self._into.setdefault(merge.canonical, []).append((variant, merge.seq))

    def at(self, recorded: str, seq: int) -> str:
        """The id ``recorded`` counts as at the event at ``seq`` (merged by an earlier event)."""
        found = self._at.get(recorded)
        return found[0] if found is not None and found[1] < seq else recorded

    def final(self, recorded: str) -> str:
        """The id ``recorded`` counts as at the end of the chain."""
        found = self._at.get(recorded)
        return recorded if found is None else found[0]

    def members(self, owner: str, seq: int | None = None) -> list[str]:
        """The recorded ids counting as ``owner`` at ``seq`` (at the end: None), itself first."""
        merged = sorted(variant for variant, merged_at in self._into.get(owner, ())
                        if seq is None or merged_at < seq)
        return [owner, *merged]

    def counted_once(self, owner: str, year: int, seq: int) -> tuple[int, int]:
        """What the merges into ``owner`` before ``seq`` counted once in ``year`` (subtracted from the
        sum of its ids' own sums)."""
        personal = sensitive = 0
        for merge in self._merges_into.get(owner, ()):
            if merge.seq < seq and year in merge.years:
                personal += merge.years[year].counted_once[0]
                sensitive += merge.years[year].counted_once[1]
        return personal, sensitive


def released_amounts(body: str, fallback: tuple[int, int]) -> tuple[int, int]:
    """What a withdrawal event says it released (personal, sensitive); ``fallback`` (the subjects the
    transfer added) for an event that does not say."""
    data = json.loads(body).get("data") or {}
    if "released_personal_subjects" not in data:
        return fallback
    return int(data["released_personal_subjects"]), int(data["released_sensitive_subjects"])


def rebuild(conn: Connection, exporter_id: str, year: int, seq: int, recounted: Iterable[Recount],
            with_amendments: bool = True, after_releases: bool = False, owners: Owners | None = None) -> YearState:
    """An exporter-year's state just before the event at ``seq`` (:func:`rebuild_one`); for an id other ids
    were merged into before ``seq`` (``owners``), each id's state added up, less what the merges counted
    once, and the largest figure of each population among them."""
    if owners is None:
        return rebuild_one(conn, exporter_id, year, seq, recounted, with_amendments, after_releases)
    state = YearState()
    for member in owners.members(exporter_id, seq):
        part = rebuild_one(conn, member, year, seq, recounted, with_amendments, after_releases)
        state.personal += part.personal
        state.sensitive += part.sensitive
        for named, subjects in part.largest.items():
            state.largest[named] = max(state.largest.get(named, 0), subjects)
    once = owners.counted_once(exporter_id, year, seq)
    state.personal -= once[0]
    state.sensitive -= once[1]
    return state


def rebuild_one(conn: Connection, exporter_id: str, year: int, seq: int, recounted: Iterable[Recount],
                with_amendments: bool = True, after_releases: bool = False) -> YearState:
    """An exporter-year's state just before the event at ``seq``, from the database: its counted
    transfers recorded before, less what those withdrawn before released, plus the recounts before;
    the largest figure of each population among those still live. The decisions amendments replaced
    count the same way (released at their amendment); ``with_amendments``: the ledger has them (0010).
    ``after_releases``: the state a submission at ``seq`` reads, after the release an amendment there
    made (its new decision is submitted at the position where the decision it replaced is released)."""
    key = {"e": exporter_id, "y": year, "s": seq, "yes": True}
    personal, sensitive = (int(value) for value in conn.execute(_SUMS_BEFORE, key).one())
    for added_personal, added_sensitive, body in conn.execute(_RELEASED_BEFORE, key):
        released = released_amounts(body, (int(added_personal), int(added_sensitive)))
        personal -= released[0]
        sensitive -= released[1]
    for recount in recounted:
        if recount.seq < seq and (recount.exporter_id, recount.year) == (exporter_id, year):
            personal += recount.personal_change
            sensitive += recount.sensitive_change
    largest = {(str(population), str(tally)): int(subjects)
               for population, tally, subjects in conn.execute(_LARGEST_LIVE_AT, key)}
    for added_personal, added_sensitive, replaced_seq, figures, body in (
            conn.execute(_REPLACED_BEFORE, key) if with_amendments else ()):
        personal += int(added_personal)
        sensitive += int(added_sensitive)
        if int(replaced_seq) < seq or (after_releases and int(replaced_seq) == seq):
            released = released_amounts(body, (int(added_personal), int(added_sensitive)))
            personal -= released[0]
            sensitive -= released[1]
            continue
        for named, subjects in _figures(figures).items():  # live just before seq: its figures count
            largest[named] = max(largest.get(named, 0), subjects)
    return YearState(personal, sensitive, largest)


def _figures(populations_json: str) -> dict[tuple[str, str], int]:
    """A replaced decision's population figures (its row's JSON) as (population, tally) -> figure."""
    return {(name, tally): subjects for tally, named in amendments.figures_of(
        SimpleNamespace(populations=populations_json)).items() for name, subjects in named.items()}


def _largest_replaced_live(conn: Connection, exporter_id: str, year: int, seq: int,
                           named: tuple[str, str]) -> int | None:
    """The largest figure of a population among the exporter-year's replaced decisions recorded before
    ``seq`` and still in force after the event at ``seq`` (their amendment comes later)."""
    found = None
    for _p, _s, replaced_seq, figures, _body in conn.execute(_REPLACED_BEFORE,
                                                             {"e": exporter_id, "y": year, "s": seq, "yes": True}):
        if int(replaced_seq) > seq and named in (held := _figures(figures)):
            found = max(found or 0, held[named])
    return found


class PriorTracker:
    """Exporter-year states along the chain (see the module's docstring). Fed every event of the
    exporters it follows in chain order: :meth:`prior` before a submission is decided, then
    :meth:`submitted`; :meth:`withdrawn`; :meth:`recounted`."""

    def __init__(self, conn: Connection, from_start: bool, recounted: list[Recount],
                 capacity: int | None = None, owners: Owners | None = None) -> None:
        self.conn = conn
        self.owners = owners or Owners(())
        """Which id each recorded id counts as along the chain (merged exporter ids)."""
        self.capacity = capacity or CAPACITY
        self._states: OrderedDict[tuple[str, int], YearState] = OrderedDict()
        self._trusted_empty = from_start
        """Whether an exporter-year not kept has no earlier counted transfer (walk from the start,
        nothing evicted): its state starts empty without asking the database."""
        self._recounts = recounted
        self._amendments = amendments.kept(conn)
        """Whether the ledger keeps replaced decisions (revision 0010 on): replays read older ledgers too."""
        self.rebuilt = 0
        """How many states were read from the database (for the figures of a run)."""

    def _state(self, exporter_id: str, year: int, seq: int, after_releases: bool = True) -> YearState:
        """The state of an exporter-year at ``seq``: kept, empty, or rebuilt as a submission there reads
        it (``after_releases``) or as a release there finds it (not)."""
        key = (exporter_id, year)
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
            return state
        if self._trusted_empty:
            state = YearState()
        else:
            state = rebuild(self.conn, exporter_id, year, seq, self._recounts, self._amendments, after_releases,
                            self.owners)
            self.rebuilt += 1
        self._states[key] = state
        if len(self._states) > self.capacity:
            self._states.popitem(last=False)
            self._trusted_empty = False
        return state

    def prior(self, exporter_id: str, year: int, seq: int) -> PriorCounts:
        """What the ledger held for the exporter just before the event at ``seq``: this year's sums and
        populations, last year's sums."""
        exporter_id = self.owners.at(exporter_id, seq)  # its canonical id once merged
        this_year = self._state(exporter_id, year, seq)
        last_year = self._state(exporter_id, year - 1, seq)
        populations: dict[str, dict[str, int]] = defaultdict(dict)
        for (name, tally), subjects in this_year.largest.items():
            populations[tally][name] = subjects
        return PriorCounts(personal_subjects=this_year.personal, sensitive_subjects=this_year.sensitive,
                           previous_year_personal_subjects=last_year.personal,
                           previous_year_sensitive_subjects=last_year.sensitive,
                           populations=dict(populations.get("personal", {})),
                           sensitive_populations=dict(populations.get("sensitive", {})))

    def _figures_of(self, row: Any) -> list[tuple[str, str, int]]:
        """A transfer's population figures: from ``transfer_populations``, or for a decision an amendment
        replaced, from its row (``populations``, JSON)."""
        held = getattr(row, "populations", None)
        if held is not None:
            return [(name, tally, subjects) for (name, tally), subjects in _figures(str(held)).items()]
        return [(str(population), str(tally), int(subjects))
                for population, tally, subjects in self.conn.execute(_FIGURES_OF, {"d": row.decision_id})]

    def submitted(self, row: Any, names_a_population: bool) -> None:
        """A submission's row has been decided: a counted one adds its subjects and figures (read from
        ``transfer_populations`` when its request names a population)."""
        if not row.counted:
            return
        state = self._state(self.owners.at(str(row.exporter_id), int(row.event_seq)), int(row.year),
                            int(row.event_seq))
        state.personal += int(row.personal_subjects)
        state.sensitive += int(row.sensitive_subjects)
        if names_a_population:
            for population, tally, subjects in self._figures_of(row):
                named = (population, tally)
                state.largest[named] = max(state.largest.get(named, 0), subjects)

    def withdrawn(self, row: Any, seq: int, released: tuple[int, int]) -> None:
        """A withdrawal at ``seq`` of the transfer ``row`` (counted or not): a counted one takes away
        what its event released, and each population whose largest figure it held gets the largest of
        the remaining live transfers."""
        if not row.counted:
            return
        owner = self.owners.at(str(row.exporter_id), seq)
        state = self._state(owner, int(row.year), seq, after_releases=False)
        state.personal -= released[0]
        state.sensitive -= released[1]
        for population, tally, subjects in self._figures_of(row):
            named = (population, tally)
            if subjects < state.largest.get(named, 0):
                continue  # another live transfer holds a larger figure: it stays the largest
            # Live after the event at seq, recorded before it (an amendment's new decision, submitted at
            # the same position, comes after the release: it is not counted yet).
            found = None
            for member in self.owners.members(owner, seq):  # every id counting as it by then (merged ids)
                held = self.conn.execute(_ONE_LARGEST_LIVE_AT, {"e": member, "y": row.year, "s": seq, "yes": True,
                                                                "population": population, "tally": tally}).scalar()
                if held is not None:
                    found = max(int(found or 0), int(held))
                if self._amendments:
                    replaced = _largest_replaced_live(self.conn, member, int(row.year), seq, named)
                    if replaced is not None:
                        found = max(int(found or 0), replaced)
            if found is None:
                state.largest.pop(named, None)
            else:
                state.largest[named] = int(found)

    def recounted(self, recount: Recount) -> None:
        state = self._state(recount.exporter_id, recount.year, recount.seq)
        state.personal += recount.personal_change
        state.sensitive += recount.sensitive_change

    def merged(self, merge: Merge) -> None:
        """An id-merge event: each year's states of the ids it merges become the canonical id's, with the
        sums the event wrote and the largest figure of each population among them."""
        for year, written in merge.years.items():
            state = YearState(*written.merged)
            for name in sorted({merge.canonical, *written.before}):
                part = self._state(name, year, merge.seq)
                for named, subjects in part.largest.items():
                    state.largest[named] = max(state.largest.get(named, 0), subjects)
                if name != merge.canonical:
                    self._states[(name, year)] = YearState()  # counts nothing more: its transfers are merged
            self._states[(merge.canonical, year)] = state

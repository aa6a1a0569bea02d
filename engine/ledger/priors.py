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
  read from the population index (revision 0010), which holds every transfer's figures in order.

States are kept for the exporter-years met recently (at most ``capacity``: memory stays bounded however
many exporters a ledger holds). One that is not kept, a replay that starts mid-chain (one transfer,
``--since``) or an evicted one, is rebuilt from the database as it stood just before the event at hand
(:func:`rebuild`): sums of the index ``ix_transfers_exporter_seq``, the withdrawn ones found by
``ix_transfers_curve``, and the largest live figures of ``ix_transfer_populations_counting``: reading
only that exporter's index entries before the event, not its rows. When the walk started at
the chain's beginning and has evicted nothing, an exporter-year it has not met has no earlier transfer,
and its state starts empty without a query.
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from engine.facts import PriorCounts

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
    "AND t.event_seq < :s AND t.counted = :yes AND (t.withdrawn_seq IS NULL OR t.withdrawn_seq >= :s) "
    "ORDER BY p.subjects DESC LIMIT 1")
_FIGURES_OF = text("SELECT population, tally, subjects FROM transfer_populations WHERE decision_id = :d")
_RECOUNTS = text("SELECT seq, body FROM events WHERE kind = 'recount' AND kind <> 'submission' ORDER BY seq")

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


def released_amounts(body: str, fallback: tuple[int, int]) -> tuple[int, int]:
    """What a withdrawal event says it released (personal, sensitive); ``fallback`` (the subjects the
    transfer added) for an event that does not say."""
    data = json.loads(body).get("data") or {}
    if "released_personal_subjects" not in data:
        return fallback
    return int(data["released_personal_subjects"]), int(data["released_sensitive_subjects"])


def rebuild(conn: Connection, exporter_id: str, year: int, seq: int, recounted: Iterable[Recount]) -> YearState:
    """An exporter-year's state just before the event at ``seq``, from the database: its counted
    transfers recorded before, less what those withdrawn before released, plus the recounts before;
    the largest figure of each population among those still live."""
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
    return YearState(personal, sensitive, largest)


class PriorTracker:
    """Exporter-year states along the chain (see the module's docstring). Fed every event of the
    exporters it follows in chain order: :meth:`prior` before a submission is decided, then
    :meth:`submitted`; :meth:`withdrawn`; :meth:`recounted`."""

    def __init__(self, conn: Connection, from_start: bool, recounted: list[Recount],
                 capacity: int | None = None) -> None:
        self.conn = conn
        self.capacity = capacity or CAPACITY
        self._states: OrderedDict[tuple[str, int], YearState] = OrderedDict()
        self._trusted_empty = from_start
        """Whether an exporter-year not kept has no earlier counted transfer (walk from the start,
        nothing evicted): its state starts empty without asking the database."""
        self._recounts = recounted
        self.rebuilt = 0
        """How many states were read from the database (for the figures of a run)."""

    def _state(self, exporter_id: str, year: int, seq: int) -> YearState:
        key = (exporter_id, year)
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
            return state
        if self._trusted_empty:
            state = YearState()
        else:
            state = rebuild(self.conn, exporter_id, year, seq, self._recounts)
            self.rebuilt += 1
        self._states[key] = state
        if len(self._states) > self.capacity:
            self._states.popitem(last=False)
            self._trusted_empty = False
        return state

    def prior(self, exporter_id: str, year: int, seq: int) -> PriorCounts:
        """What the ledger held for the exporter just before the event at ``seq``: this year's sums and
        populations, last year's sums."""
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

    def submitted(self, row: Any, names_a_population: bool) -> None:
        """A submission's row has been decided: a counted one adds its subjects and figures (read from
        ``transfer_populations`` when its request names a population)."""
        if not row.counted:
            return
        state = self._state(str(row.exporter_id), int(row.year), int(row.event_seq))
        state.personal += int(row.personal_subjects)
        state.sensitive += int(row.sensitive_subjects)
        if names_a_population:
            for population, tally, subjects in self.conn.execute(_FIGURES_OF, {"d": row.decision_id}):
                named = (str(population), str(tally))
                state.largest[named] = max(state.largest.get(named, 0), int(subjects))

    def withdrawn(self, row: Any, seq: int, released: tuple[int, int]) -> None:
        """A withdrawal at ``seq`` of the transfer ``row`` (counted or not): a counted one takes away
        what its event released, and each population whose largest figure it held gets the largest of
        the remaining live transfers."""
        if not row.counted:
            return
        state = self._state(str(row.exporter_id), int(row.year), seq)
        state.personal -= released[0]
        state.sensitive -= released[1]
        for population, tally, subjects in self.conn.execute(_FIGURES_OF, {"d": row.decision_id}):
            named = (str(population), str(tally))
            if int(subjects) < state.largest.get(named, 0):
                continue  # another live transfer holds a larger figure: it stays the largest
            found = self.conn.execute(_ONE_LARGEST_LIVE_AT, {"e": row.exporter_id, "y": row.year, "s": seq + 1,
                                                             "yes": True, "population": population,
                                                             "tally": tally}).scalar()
            if found is None:
                state.largest.pop(named, None)
            else:
                state.largest[named] = int(found)

    def recounted(self, recount: Recount) -> None:
        state = self._state(recount.exporter_id, recount.year, recount.seq)
        state.personal += recount.personal_change
        state.sensitive += recount.sensitive_change

"""Running totals per exporter and year: what counting reads, kept exact in the transactions that record
what they summarise (DESIGN section 5; revision 0004).

Counting used to sum an exporter's counted, not withdrawn transfers of the year at every submission
and every dry run, and to take the largest figure per named population by joining every one of them
with its populations: linear in the exporter's transfers of the year (10-13 ms at 15,000 on SQLite,
55-95 ms at 100,000; a platform recording every transfer reaches 10^5-10^6 an exporter-year). Two
tables keep the result instead, so counting reads a handful of rows by primary key whatever the
ledger's size:

- ``exporter_year_totals``: per (exporter, year), the sums of the personal and sensitive subjects of
  its counted, not withdrawn transfers. A missing row means zero, as it did for the sums.
- ``exporter_year_population_figures``: per (exporter, year, population, tally), the largest figure that
  population reached in that tally in a counted, not withdrawn transfer; no row when no such transfer
  names it (the tally since revision 0005: the non-sensitive and the sensitive tally count different
  things, ``engine.facts.tally_of``).

They are written only here, always in the transaction that writes the rows they summarise and under
that exporter's lock: ``add`` with a group commit's rows (``engine.ledger.group.write``), ``release``
with a withdrawal. Their definition is read from the audit chain (``Recount``: what each submission
event added, less what each withdrawal event released), and ``audit verify`` compares the two
(``first_difference``): a count decides the legal route, so a total that drifted from its transfers
must be found, and named, like an edited row.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, inspect, text

from engine.facts import PriorCounts, tally_of
from engine.ledger import aliases, sealed_totals
from engine.ledger.errors import LedgerError
from engine.ledger.seal import TotalsKey
from engine.ledger.sealed_totals import ExporterYear, YearState
from engine.models import DataSet

_NAMED_BY = text("SELECT population, tally, subjects FROM transfer_populations WHERE decision_id = :d")
# The largest figure of a population in an exporter-year's counted, not withdrawn transfers (but :w): the
# end of one range of the population index (revision 0011), walked down to the first live transfer.
_LARGEST_LIVE = text(
    "SELECT p.subjects FROM transfer_populations p JOIN transfers t ON t.decision_id = p.decision_id "
    "WHERE p.exporter_id = :e AND p.year = :y AND p.population = :population AND p.tally = :tally "
    "AND p.decision_id <> :w AND t.counted = :yes AND t.withdrawn_at IS NULL "
    "ORDER BY p.subjects DESC LIMIT 1")
_STORED_SUMS = text("SELECT exporter_id, year, personal_subjects, sensitive_subjects FROM exporter_year_totals")
_STORED_POPULATIONS = text("SELECT exporter_id, year, population, tally, largest_subjects "
                           "FROM exporter_year_population_figures")


@dataclass(frozen=True)
class Totals:
    """Every exporter's totals: sums by (exporter, year), largest figures by (exporter, year, population,
    tally)."""

    sums: Mapping[tuple[str, int], tuple[int, int]]
    populations: Mapping[tuple[str, int, str, str], int]


@dataclass(frozen=True)
class Difference:
    """A stored total that is not what the transfer rows say."""

    exporter_id: str
    year: int | str
    """The year, or how a malformed one was stored (``'2026.5'``)."""
    population: str | None
    problem: str


def kept(conn: Connection) -> bool:
    """Whether this database keeps the running totals as this version reads them: revision 0004 on,
    with the population figures per tally of revision 0005."""
    inspector = inspect(conn)
    return bool(inspector.has_table("exporter_year_population_figures")) and any(
        column["name"] == "tally" for column in inspector.get_columns("exporter_year_population_figures"))


# ---------------------------------------------------------------------------------------- writing

def group_additions(transfer_rows: Iterable[Mapping[str, Any]], population_rows: Iterable[Mapping[str, Any]]
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The upserts of a group's rows: one sums row per (exporter, year), one population row per
    (exporter, year, population, tally), from the counted transfers only (an uncounted one carries no
    subjects and leaves no population figure). Totalled here rather than one upsert per transfer, so
    the totals stay right even if a group held two transfers of one exporter-year; sorted, so every
    transaction touches the rows in one order."""
    sums: dict[tuple[str, int], tuple[int, int]] = {}
    counted: dict[str, tuple[str, int]] = {}
    for row in transfer_rows:
        if not row["counted"]:
            continue
        key = (str(row["exporter_id"]), int(row["year"]))
        counted[str(row["decision_id"])] = key
        personal, sensitive = sums.get(key, (0, 0))
        sums[key] = (personal + int(row["personal_subjects"]), sensitive + int(row["sensitive_subjects"]))
    largest: dict[tuple[str, int, str, str], int] = {}
    for row in population_rows:
        owner = counted.get(str(row["decision_id"]))
        if owner is None:
            continue
        named = (owner[0], owner[1], str(row["population"]), str(row["tally"]))
        subjects = int(row["subjects"])
        largest[named] = max(largest.get(named, subjects), subjects)
    return ([{"exporter_id": e, "year": y, "personal_subjects": p, "sensitive_subjects": s}
             for (e, y), (p, s) in sorted(sums.items())],
            [{"exporter_id": e, "year": y, "population": name, "tally": tally, "largest_subjects": subjects}
             for (e, y, name, tally), subjects in sorted(largest.items())])


def add(conn: Connection, key: TotalsKey, before: Mapping[ExporterYear, YearState],
        transfer_rows: list[dict[str, Any]], population_rows: list[dict[str, Any]]
        ) -> dict[ExporterYear, YearState]:
    """Add a group's newly recorded transfers to the totals, in the group's transaction (its writes are
    pipelined on PostgreSQL: these statements cost no round trip of their own). ``before``: the
    exporter-years' totals the group read and verified under their locks; returns the states written
    (``sealed_totals.write``, the one writer of totals, seals them)."""
    sums, populations = group_additions(transfer_rows, population_rows)
    after: dict[ExporterYear, YearState] = {}

    def state(where: ExporterYear) -> YearState:
        if where not in after:
            after[where] = (before.get(where) or YearState()).copy()
        return after[where]

    for row in sums:
        summed = state((row["exporter_id"], row["year"]))
        summed.personal += row["personal_subjects"]
        summed.sensitive += row["sensitive_subjects"]
    for row in populations:
        named = state((row["exporter_id"], row["year"])).populations
        figure = (row["population"], row["tally"])
        named[figure] = max(named.get(figure, 0), row["largest_subjects"])
    sealed_totals.write(conn, key, before, after)
    return after


def released_by(conn: Connection, row: Any, texts: Callable[[Any], tuple[str, str]]) -> tuple[int, int]:
    """What withdrawing the counted transfer ``row`` takes from its exporter-year's sums (personal,
    sensitive): the totals afterwards are what they would be had it never been recorded. Called in the
    withdrawal's transaction, holding the exporter's lock, before the row is marked withdrawn;
    ``texts`` gives a row's request and decision texts (``engine.ledger.records``).

    A transfer that names no population takes exactly the subjects it added. One that does may take
    less: a later transfer of the same population counted only its increase over this one's figure
    (DESIGN section 5), so without this one those individuals are the later transfer's to count.
    Sending members 60,000 then 90,000 counts 60,000 + 30,000; withdrawing the first leaves 90,000
    sent, not 30,000.

    Tallied in the order recorded, a population's increases add up to its largest figure, whatever the
    order: so the exporter-year's transfers tallied with and without this one differ by this one's
    subjects outside any population, plus, for each population and tally it names, the largest live
    figure with it less the largest without it. Each largest figure is the end of one range of the
    population index (revision 0011): a withdrawal reads a few rows, however many transfers name the
    population (it used to tally them all again, up to 1.7 s at 10^6 transfers, holding the lock).
    ``audit verify`` checks the totals against the counted transfers tallied again in order (:func:`retally`).
    A transfer recorded under an id since merged into another (``engine.ledger.aliases``) is tallied with
    the transfers of every id counting as that one."""
    personal, sensitive = int(row.personal_subjects), int(row.sensitive_subjects)
    named = conn.execute(_NAMED_BY, {"d": row.decision_id}).all()
    if not named:
        return personal, sensitive
    counting_as = aliases.members(conn, aliases.owner(conn, str(row.exporter_id)))
    request_json, decision_json = texts(row)
    data, in_both = tallied_data(request_json, lambda: decision_json)
    alone = tally_of(data, PriorCounts(), in_both)
    released = {"personal": alone.personal_subjects, "sensitive": alone.sensitive_subjects}
    for population, tally, subjects in named:
        released[tally] -= int(subjects)  # what remains is the subjects outside any population
        key = {"y": row.year, "population": population, "tally": tally, "yes": True}
        with_it = max(int(subjects), _largest_live(conn, counting_as, key, "") or 0)
        released[tally] += with_it - (_largest_live(conn, counting_as, key, str(row.decision_id)) or 0)
    return released["personal"], released["sensitive"]


def _largest_live(conn: Connection, exporters: list[str], key: Mapping[str, Any], but: str) -> int | None:
    """The largest figure of a population in an exporter-year's live transfers other than ``but``; None
    when no other live transfer names it. ``exporters``: the recorded ids counting as the exporter
    (``engine.ledger.aliases``), each one range of the index."""
    found = [conn.execute(_LARGEST_LIVE, {**key, "e": exporter, "w": but}).scalar() for exporter in exporters]
    figures = [int(figure) for figure in found if figure is not None]
    return max(figures) if figures else None


def as_tallied(data: list[DataSet], decision_json: str | None) -> tuple[list[DataSet], bool]:
    """A recorded transfer's data sets as its tally read them, and whether sensitive subjects counted in
    both tallies (the pack option ``count_sensitive_in_both``), from its decision: the data sets its
    counts say were left out (collected outside the Mainland: ``counts.collected_abroad_uncounted``)
    are dropped, which leaves exactly the tally ``tally_of`` gave (they count in neither tally)."""
    if decision_json is None or not _decision_matters(data):
        return data, False
    decision = json.loads(decision_json)
    in_both = _option_matters(data) and bool(decision["rules"]["options"].get("count_sensitive_in_both", False))
    if (decision.get("counts") or {}).get("collected_abroad_uncounted"):
        data = [data_set for data_set in data if not data_set.collected_outside_mainland]
    return data, in_both


# ---------------------------------------------------------------------------------------- tallying again
# Pure functions (no database): withdrawals, ``audit verify`` and revision 0005's recount share them.

_NAMES_A_POPULATION = re.compile(r'"population"\s*:\s*"')


def names_a_population(request_json: str) -> bool:
    """Whether a recorded request names some population (``"population": null`` is every other data
    set's): only such a transfer's tally depends on the transfers before it."""
    return _NAMES_A_POPULATION.search(request_json) is not None


def tallied_data(request_json: str, decision_json: Callable[[], str]) -> tuple[list[DataSet], bool]:
    """A recorded transfer's data sets as its tally read them, and whether its decision counted
    sensitive subjects in both tallies (:func:`as_tallied`). ``decision_json`` gives the decision's
    text when called, which happens only when it can matter (a sensitive data set, one collected
    abroad): a decision's text is about ten times its request's."""
    data = recorded_data(request_json)
    return as_tallied(data, decision_json() if _decision_matters(data) else None)


def recorded_data(request_json: str) -> list[DataSet]:
    """A recorded request's data sets, as the tally reads them."""
    return [DataSet.model_validate(item) for item in json.loads(request_json)["data"]]


def _option_matters(data: list[DataSet]) -> bool:
    """Whether the pack option ``count_sensitive_in_both`` can change this transfer's tally: only a
    sensitive data set is counted differently under it."""
    return any(data_set.sensitive for data_set in data)


def _decision_matters(data: list[DataSet]) -> bool:
    """Whether the decision can say something of this transfer's tally the request does not: the
    option above, or data sets collected abroad left out of it."""
    return any(data_set.sensitive or data_set.collected_outside_mainland for data_set in data)


def population_figures(data: list[DataSet], sensitive_in_both: bool) -> dict[str, dict[str, int]]:
    """Tally -> population -> the figure a counted transfer gives it (what ``transfer_populations``
    holds): the largest of its data sets naming the population in that tally (``tally_of``)."""
    tally = tally_of(data, PriorCounts(), sensitive_in_both)
    return {name: figures for name, figures in (("personal", tally.populations),
                                                ("sensitive", tally.sensitive_populations)) if figures}


class RunningTally:
    """An exporter-year's transfers tallied one after another, each population's figure carried from
    one to the next in each tally, as the ledger's prior carries it."""

    def __init__(self) -> None:
        self.personal = 0
        self.sensitive = 0
        self.figures: dict[str, dict[str, int]] = {"personal": {}, "sensitive": {}}
        """Tally -> population -> the largest figure so far."""

    def add(self, data: list[DataSet], sensitive_in_both: bool) -> None:
        prior = PriorCounts(populations=dict(self.figures["personal"]),
                            sensitive_populations=dict(self.figures["sensitive"]))
        tally = tally_of(data, prior, sensitive_in_both)
        self.personal += tally.personal_subjects
        self.sensitive += tally.sensitive_subjects
        for tally_name, sent in (("personal", tally.populations), ("sensitive", tally.sensitive_populations)):
            carried = self.figures[tally_name]
            for name, subjects in sent.items():
                carried[name] = max(carried.get(name, 0), subjects)


def tally_in_order(recorded: Iterable[tuple[list[DataSet], bool]]) -> tuple[int, int]:
    """The sums these transfers add when recorded one after another (:class:`RunningTally`)."""
    running = RunningTally()
    for data, sensitive_in_both in recorded:
        running.add(data, sensitive_in_both)
    return running.personal, running.sensitive


def retally(counted: Iterable[Any]) -> Totals:
    """The totals the counting rules give for these counted, not withdrawn transfers (row-like objects
    with ``exporter_id``, ``year``, ``event_seq``, ``personal_subjects``, ``sensitive_subjects``,
    ``request_json``, ``decision_json``): each exporter-year's transfers tallied again in the order
    recorded, as if no withdrawn one had ever been. A transfer naming no population adds what it
    recorded (its tally does not depend on the ones before it); the others are tallied again."""
    sums: dict[tuple[str, int], tuple[int, int]] = {}
    naming: list[Any] = []
    for row in counted:
        if names_a_population(row.request_json):
            naming.append(row)
            continue
        key = (str(row.exporter_id), int(row.year))
        personal, sensitive = sums.get(key, (0, 0))
        sums[key] = (personal + int(row.personal_subjects), sensitive + int(row.sensitive_subjects))
    populations: dict[tuple[str, int, str, str], int] = {}
    naming.sort(key=lambda row: (str(row.exporter_id), int(row.year), int(row.event_seq)))
    for key, rows in itertools.groupby(naming, key=lambda row: (str(row.exporter_id), int(row.year))):
        running = RunningTally()
        for row in rows:
            running.add(*tallied_data(row.request_json, functools.partial(str, row.decision_json)))
        before = sums.get(key, (0, 0))
        sums[key] = (before[0] + running.personal, before[1] + running.sensitive)
        for tally_name, reached in running.figures.items():
            for name, subjects in reached.items():
                populations[(*key, name, tally_name)] = subjects
    return Totals(sums, populations)


def release(conn: Connection, key: TotalsKey, row: Any, personal: int, sensitive: int) -> None:
    """Take a counted transfer being withdrawn out of the totals: ``personal`` and ``sensitive`` from
    the sums (what :func:`released_by` worked out); called in the withdrawal's transaction, holding the
    exporter's lock, after the row is marked withdrawn. The exporter-year's totals are read and their
    seals checked first (``sealed_totals.read``): a withdrawal is not made on edited totals either.

    A population's largest figure cannot be un-maxed by arithmetic, so each population the transfer
    named is read again from the population index (the largest figure of the exporter-year's remaining
    counted transfers), and dropped when none names it any more. A total that is missing, or would go below
    zero, means the totals no longer match the rows: the withdrawal is refused (and rolled back) rather
    than made on counts known to be wrong. The sums row stays, at zero if need be: a sums row missing
    where counted transfers exist is how a deleted one is told (``sealed_totals.verified``). A transfer
    recorded under an id since merged into another releases from that one's totals (``aliases.owner``)."""
    exporter = aliases.owner(conn, str(row.exporter_id))
    counting_as = aliases.members(conn, exporter)
    where = (exporter, int(row.year))
    before = sealed_totals.read(conn, key, [where[0]], [where[1]])
    old = before.get(where)
    named = sorted(conn.execute(_NAMED_BY, {"d": row.decision_id}).all())
    if old is None and not (personal or sensitive or named):
        return  # it added nothing, and its row (zeros) reads the same as none
    if old is None or old.personal < personal or old.sensitive < sensitive:
        raise LedgerError(f"the running totals of exporter {exporter} for {row.year} do not hold "
                          f"transfer {row.decision_id}'s subjects: nothing was withdrawn; `baygate audit "
                          "verify` names the difference")
    new = YearState(old.personal - personal, old.sensitive - sensitive, dict(old.populations))
    for population, tally, _subjects in named:
        if (population, tally) not in new.populations:
            raise LedgerError(f"the running totals of exporter {exporter} for {row.year} have no "
                              f"{tally} figure for population {population!r}, which transfer {row.decision_id} "
                              "named: nothing was withdrawn; `baygate audit verify` names the difference")
        largest = _largest_live(conn, counting_as, {"y": where[1], "population": population, "tally": tally,
                                                    "yes": True}, str(row.decision_id))
        if largest is None:
            del new.populations[(population, tally)]
        else:
            new.populations[(population, tally)] = largest
    sealed_totals.write(conn, key, before, {where: new})


# ---------------------------------------------------------------------------------------- checking

class Recount:
    """Every exporter's totals rebuilt from the audit chain alone: what each submission event says it
    added (year, counted, subjects, populations) less what each withdrawal event says it released,
    with what each recount event (revision 0005) corrected.

    The chain is the one thing an insider cannot edit unnoticed, so the definition the stored totals
    must equal is read from it, not from the ``transfers`` rows: a row is only checked against its
    event, and a row edited in a way that a lenient comparison lets through (a year stored as
    ``2026.5`` compares equal once turned into an integer) cannot move the recount. Fed event by event
    while ``audit verify`` walks the chain, after each event's hash has been checked."""

    def __init__(self) -> None:
        self._sums: dict[tuple[str, int], tuple[int, int]] = {}
        self._counted: dict[str, tuple[str, int]] = {}
        self._figures: dict[str, dict[tuple[str, str], int]] = {}
        """Counted, not withdrawn transfers' population figures by (population, tally), by decision id."""

    def submission(self, decision_id: str, data: Mapping[str, Any], figures: Mapping[str, Mapping[str, int]]
                   ) -> None:
        """A submission event's ``data``; ``figures``: tally -> population -> figure, as the event lists
        them (or, for an event written before revision 0005, as its vouched request gives them)."""
        if not data.get("counted"):
            return
        key = (str(data["exporter"]), int(data["year"]))
        personal, sensitive = self._sums.get(key, (0, 0))
        self._sums[key] = (personal + int(data["personal_subjects"]), sensitive + int(data["sensitive_subjects"]))
        self._counted[decision_id] = key
        self._figures[decision_id] = {(str(name), tally): int(n) for tally, named in figures.items()
                                      for name, n in named.items()}

    def recount(self, data: Mapping[str, Any]) -> None:
        """A recount event: an exporter-year's sums corrected when the counting rules changed."""
        key = (str(data["exporter"]), int(data["year"]))
        personal, sensitive = self._sums.get(key, (0, 0))
        self._sums[key] = (personal + int(data["personal_subjects_change"]),
                           sensitive + int(data["sensitive_subjects_change"]))

    def withdrawal(self, decision_id: str, data: Mapping[str, Any]) -> None:
        key = self._counted.pop(decision_id, None)
        if key is None:  # not counted (or withdrawn before): it released nothing
            return
        self._figures.pop(decision_id, None)
        personal, sensitive = self._sums[key]
        self._sums[key] = (personal - int(data["released_personal_subjects"]),
                           sensitive - int(data["released_sensitive_subjects"]))

    def totals(self) -> Totals:
        populations: dict[tuple[str, int, str, str], int] = {}
        for decision_id, figures in self._figures.items():
            exporter, year = self._counted[decision_id]
            for (name, tally), subjects in figures.items():
                key = (exporter, year, name, tally)
                populations[key] = max(populations.get(key, 0), subjects)
        return Totals(dict(self._sums), populations)


def stored(conn: Connection) -> Totals:
    """Every exporter's totals as stored (what counting reads). A value SQLite's lenient typing let into
    a column (a year stored as ``2026.5``) never reaches here: ``audit verify`` checks every column's
    storage class first (``audit.sqlite_storage_problem``), and PostgreSQL's columns are typed."""
    sums = {(e, y): (p, s) for e, y, p, s in conn.execute(_STORED_SUMS)}
    populations = {(e, y, name, tally): subjects for e, y, name, tally, subjects in conn.execute(_STORED_POPULATIONS)}
    return Totals(sums, populations)


STORED_AGAINST_CHAIN = ("stored", "its counted transfers", "(edited)")
"""How :func:`first_difference` words a difference: what was found, what it should be, the likely cause."""


def first_difference(expected: Totals, found: Totals,
                     wording: tuple[str, str, str] = STORED_AGAINST_CHAIN) -> Difference | None:
    """The first (by exporter, year, population) total in ``found`` that differs from ``expected``. Sums
    compare with a missing row as zero, as counting reads them; a population figure must be there
    exactly when a counted, not withdrawn transfer names the population, at its largest figure."""
    found_as, expected_as, cause = wording
    for key in sorted(set(expected.sums) | set(found.sums)):
        want, have = expected.sums.get(key, (0, 0)), found.sums.get(key, (0, 0))
        if want != have:
            found_text = (f"personal {have[0]}, sensitive {have[1]}" if key in found.sums else "no row")
            return Difference(key[0], key[1], None,
                              f"running totals of exporter {key[0]} for {key[1]}: {found_as} {found_text}, but "
                              f"{expected_as} sum to personal {want[0]}, sensitive {want[1]} {cause}")
    for pkey in sorted(set(expected.populations) | set(found.populations)):
        want_figure, have_figure = expected.populations.get(pkey), found.populations.get(pkey)
        if want_figure != have_figure:
            found_text = "no row" if have_figure is None else str(have_figure)
            wanted_text = ("no counted transfer names it" if want_figure is None
                           else f"{expected_as} give it {want_figure}")
            return Difference(pkey[0], pkey[1], pkey[2],
                              f"running totals of exporter {pkey[0]} for {pkey[1]}: population {pkey[2]!r} "
                              f"({pkey[3]} tally) {found_as} {found_text}, but {wanted_text} {cause}")
    return None


def check(conn: Connection, expected: Totals) -> Difference | None:
    """The stored totals against ``expected`` (the chain's :class:`Recount`; ``audit verify``)."""
    return first_difference(expected, stored(conn))

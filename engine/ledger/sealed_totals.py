"""Reading and writing the running totals under their seal (``engine.ledger.seal``): the one place that
writes a totals row, and the one check of every totals row a decision reads.

Why one place: a row's MAC covers its figures, and a sums row's MAC the number of population rows of
its exporter-year, so whoever changes a total must reseal it, and one writer forgetting to would
leave a row every later decision refuses. Every writer of totals (a group commit, a withdrawal, bulk
recording, an amendment, the reseal after an upgrade) therefore works out the complete new state of
each exporter-year it changes, from the state it read and verified under that exporter's lock, and
hands both to :func:`write`, which writes the figures as absolute values with their MACs. Absolute,
not ``+ n``: a figure edited behind the service's back after it was read is overwritten with the
right one, never carried forward under a fresh seal.

Reading: :func:`verified` turns the rows of a totals read into :class:`YearState` per exporter-year,
checking every MAC, that each sums row's population count matches the population rows read with it,
and that no exporter-year with counted, not withdrawn transfers lacks its sums row (sums rows are
never deleted: a withdrawal leaves zeros; one whose transfers are all withdrawn counts zero either
way). Anything else raises ``LedgerIntegrityError`` (503, exit 4).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, text

from engine.facts import PriorCounts
from engine.ledger.errors import LedgerIntegrityError
from engine.ledger.seal import TotalsKey, check

ExporterYear = tuple[str, int]

SUMS = 0
"""Row kind of a sums row in a totals read."""
POPULATION = 1
"""Row kind of a population row."""
COUNTED = 2
"""Row kind saying the exporter-year has counted transfers (so must have a sums row)."""

# Rows of a totals read: (kind, exporter, year, population, tally, first figure, second figure, mac).
_SUMS_COLUMNS = "0, exporter_id, year, '', '', personal_subjects, sensitive_subjects, mac"
_POPULATION_COLUMNS = "1, exporter_id, year, population, tally, largest_subjects, 0, mac"

# One exporter, this year and last (dry runs, ``ledger counts``): every row of both exporter-years, and
# whether each has counted transfers (an index probe each: ``ix_transfers_curve``).
PRIOR_SQL = (
    f"SELECT {_SUMS_COLUMNS} FROM exporter_year_totals WHERE exporter_id = :e AND year IN (:y, :py) "
    f"UNION ALL SELECT {_POPULATION_COLUMNS} FROM exporter_year_population_figures "
    "WHERE exporter_id = :e AND year IN (:y, :py) "
    "UNION ALL SELECT 2, exporter_id, year, '', '', 0, 0, NULL FROM (SELECT exporter_id, year FROM transfers "
    "WHERE exporter_id = :e AND year = :y AND counted = :yes AND withdrawn_at IS NULL LIMIT 1) AS this_year "
    "UNION ALL SELECT 2, exporter_id, year, '', '', 0, 0, NULL FROM (SELECT exporter_id, year FROM transfers "
    "WHERE exporter_id = :e AND year = :py AND counted = :yes AND withdrawn_at IS NULL LIMIT 1) AS last_year")

# Several exporters and years (a group commit's read; ``read``): the SQLite form, whose probes for
# counted transfers are made afterwards, only for exporter-years without a sums row (``probe``).
MANY_SQL = (
    f"SELECT {_SUMS_COLUMNS} FROM exporter_year_totals WHERE exporter_id IN :es AND year IN :ys "
    f"UNION ALL SELECT {_POPULATION_COLUMNS} FROM exporter_year_population_figures "
    "WHERE exporter_id IN :es AND year IN :ys")
# PostgreSQL (pipelined with the group's other reads): the probes in the same statement, one index
# probe per exporter-year.
MANY_PG_SQL = (
    f"SELECT {_SUMS_COLUMNS} FROM exporter_year_totals WHERE exporter_id = ANY(%(es)s) AND year = ANY(%(ys)s) "
    f"UNION ALL SELECT {_POPULATION_COLUMNS} FROM exporter_year_population_figures "
    "WHERE exporter_id = ANY(%(es)s) AND year = ANY(%(ys)s) "
    "UNION ALL SELECT 2, p.e, q.y, '', '', 0, 0, NULL FROM unnest(CAST(%(es)s AS varchar[])) AS p(e) "
    "CROSS JOIN unnest(CAST(%(ys)s AS integer[])) AS q(y) WHERE EXISTS (SELECT 1 FROM transfers t "
    "WHERE t.exporter_id = p.e AND t.year = q.y AND t.counted AND t.withdrawn_at IS NULL)")
_MANY = text(MANY_SQL).bindparams(bindparam("es", expanding=True), bindparam("ys", expanding=True))
_PROBE = text("SELECT 1 FROM transfers WHERE exporter_id = :e AND year = :y AND counted = :yes "
              "AND withdrawn_at IS NULL LIMIT 1")
# The same probe for many exporter-years at once (SQLite, bound through the driver: see group.py).
_PROBE_PAIRS_SQLITE = (
    "WITH wanted(e, y) AS (VALUES {pairs}) SELECT wanted.e, wanted.y FROM wanted WHERE EXISTS (SELECT 1 FROM "
    "transfers t WHERE t.exporter_id = wanted.e AND t.year = wanted.y AND t.counted = 1 AND t.withdrawn_at IS NULL)")
_PAIRS_A_STATEMENT = 1_000
"""Exporter-years probed in one statement at most (two bound values each: far under SQLite's bound)."""

_WRITE_SUMS = text(
    "INSERT INTO exporter_year_totals (exporter_id, year, personal_subjects, sensitive_subjects, mac) "
    "VALUES (:exporter_id, :year, :personal_subjects, :sensitive_subjects, :mac) "
    "ON CONFLICT (exporter_id, year) DO UPDATE SET personal_subjects = excluded.personal_subjects, "
    "sensitive_subjects = excluded.sensitive_subjects, mac = excluded.mac")
_WRITE_POPULATIONS = text(
    "INSERT INTO exporter_year_population_figures (exporter_id, year, population, tally, largest_subjects, mac) "
    "VALUES (:exporter_id, :year, :population, :tally, :largest_subjects, :mac) "
    "ON CONFLICT (exporter_id, year, population, tally) DO UPDATE SET "
    "largest_subjects = excluded.largest_subjects, mac = excluded.mac")
_DROP_POPULATIONS = text(
    "DELETE FROM exporter_year_population_figures WHERE exporter_id = :exporter_id AND year = :year "
    "AND population = :population AND tally = :tally")


@dataclass
class YearState:
    """An exporter-year's running totals: its sums and the largest figure of each population it named,
    by (population, tally)."""

    personal: int = 0
    sensitive: int = 0
    populations: dict[tuple[str, str], int] = field(default_factory=dict)

    def copy(self) -> YearState:
        return YearState(self.personal, self.sensitive, dict(self.populations))


def prior_counts(states: Mapping[ExporterYear, YearState], exporter: str, year: int) -> PriorCounts:
    """What counting reads for a transfer of ``exporter`` in ``year``: this year's and last year's sums,
    this year's population figures per tally."""
    this_year = states.get((exporter, year)) or YearState()
    last_year = states.get((exporter, year - 1)) or YearState()
    personal = {name: n for (name, tally), n in this_year.populations.items() if tally != "sensitive"}
    sensitive = {name: n for (name, tally), n in this_year.populations.items() if tally == "sensitive"}
    return PriorCounts(personal_subjects=this_year.personal, sensitive_subjects=this_year.sensitive,
                       previous_year_personal_subjects=last_year.personal,
                       previous_year_sensitive_subjects=last_year.sensitive,
                       populations=personal, sensitive_populations=sensitive)


def verified(key: TotalsKey, rows: Iterable[Sequence[Any]]) -> dict[ExporterYear, YearState]:
    """The exporter-years' totals from the rows of a totals read (kinds SUMS, POPULATION, COUNTED),
    every seal checked. No entry: no sums row and no counted transfer, i.e. zero."""
    sums: dict[ExporterYear, tuple[int, int, str | None]] = {}
    populations: dict[ExporterYear, dict[tuple[str, str], int]] = {}
    counted: set[ExporterYear] = set()
    for kind, exporter, year, population, tally, first, second, mac in rows:
        where = (str(exporter), int(year))
        if int(kind) == SUMS:
            sums[where] = (int(first), int(second), mac)
        elif int(kind) == POPULATION:
            name, tally_name, largest = str(population), str(tally), int(first)
            check(mac, key.seal_population(where[0], where[1], name, tally_name, largest),
                  f"the {tally_name} figure of population {name!r} of exporter {where[0]} for {where[1]}", key)
            populations.setdefault(where, {})[(name, tally_name)] = largest
        else:
            counted.add(where)
    states: dict[ExporterYear, YearState] = {}
    for where, (personal, sensitive, mac) in sums.items():
        named = populations.get(where, {})
        check(mac, key.seal_sums(where[0], where[1], personal, sensitive, len(named)),
              f"the running totals of exporter {where[0]} for {where[1]}", key)
        states[where] = YearState(personal, sensitive, dict(named))
    for where in sorted((counted | set(populations)) - set(sums)):
        raise LedgerIntegrityError(
            f"ledger integrity: the running totals of exporter {where[0]} for {where[1]} are missing although "
            f"{'it has counted transfers' if where in counted else 'population figures of theirs remain'} "
            "(deleted outside the service); refusing to decide on them. `baygate audit verify` names what "
            "differs from the audit chain")
    return states


def read(conn: Connection, key: TotalsKey, exporters: Sequence[str], years: Sequence[int],
         needed: Collection[ExporterYear] | None = None) -> dict[ExporterYear, YearState]:
    """The verified totals of every (exporter, year) of ``exporters`` x ``years`` (call holding the
    exporters' locks when the result is to be written back); with ``needed``, of those exporter-years
    only (see :func:`only`)."""
    if not exporters or not years:
        return {}
    rows = only([tuple(row) for row in conn.execute(_MANY, {"es": list(exporters), "ys": list(years)})], needed)
    wanted = [(e, y) for e in exporters for y in years] if needed is None else sorted(needed)
    return verified(key, rows + probe(conn, rows, wanted))


def only(rows: list[tuple[Any, ...]], needed: Collection[ExporterYear] | None) -> list[tuple[Any, ...]]:
    """The rows of a totals read that belong to the ``needed`` exporter-years (all rows for None).

    Why: a group of many exporters and years (a list file, a batch) reads the totals of its exporters
    times its years in one statement, but decides on only the pairs its transfers name (their year
    and the one before). Checking the seal of every other row, and probing each other pair for counted
    transfers, cost more than the group's evaluations on the benchmark's mixed files (the probes: one
    statement each). A pair left out is neither read for a decision nor written by the group."""
    if needed is None:
        return rows
    return [row for row in rows if (str(row[1]), int(row[2])) in needed]


def probe(conn: Connection, rows: Sequence[Sequence[Any]], pairs: Sequence[ExporterYear]) -> list[tuple[Any, ...]]:
    """COUNTED rows for the exporter-years of ``pairs`` that have no sums row in ``rows`` but counted
    transfers (an index probe each, ``ix_transfers_curve``, all in one statement on SQLite: a bulk
    group has a hundred such pairs, and a statement each cost more than the probes)."""
    with_sums = {(str(row[1]), int(row[2])) for row in rows if int(row[0]) == SUMS}
    unsummed = [(exporter, year) for exporter, year in pairs if (exporter, year) not in with_sums]
    if conn.dialect.name != "sqlite":
        return [(COUNTED, exporter, year, "", "", 0, 0, None) for exporter, year in unsummed
                if conn.execute(_PROBE, {"e": exporter, "y": year, "yes": True}).first() is not None]
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(unsummed), _PAIRS_A_STATEMENT):
        chunk = unsummed[start:start + _PAIRS_A_STATEMENT]
        sql = _PROBE_PAIRS_SQLITE.format(pairs=", ".join(["(?, ?)"] * len(chunk)))
        found += [(COUNTED, str(exporter), int(year), "", "", 0, 0, None) for exporter, year in
                  conn.exec_driver_sql(sql, tuple(value for pair in chunk for value in pair))]
    return found


def write(conn: Connection, key: TotalsKey, before: Mapping[ExporterYear, YearState],
          after: Mapping[ExporterYear, YearState]) -> None:
    """THE writer of the running totals: every exporter-year in ``after`` is written as that complete
    state (figures as absolute values, each row sealed), its population rows that ``before`` had and
    ``after`` has not deleted. ``before`` is what the caller read and verified (``read``, ``verified``)
    holding the exporter's lock; an exporter-year of ``after`` unchanged from it is not written."""
    sums: list[dict[str, Any]] = []
    raised: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for (exporter, year), state in sorted(after.items()):
        old = before.get((exporter, year))
        if old is not None and old == state:
            continue
        sums.append({"exporter_id": exporter, "year": year, "personal_subjects": state.personal,
                     "sensitive_subjects": state.sensitive,
                     "mac": key.seal_sums(exporter, year, state.personal, state.sensitive, len(state.populations))})
        old_figures = old.populations if old is not None else {}
        for (name, tally), largest in sorted(state.populations.items()):
            if old_figures.get((name, tally)) != largest:
                raised.append({"exporter_id": exporter, "year": year, "population": name, "tally": tally,
                               "largest_subjects": largest,
                               "mac": key.seal_population(exporter, year, name, tally, largest)})
        dropped += [{"exporter_id": exporter, "year": year, "population": name, "tally": tally}
                    for name, tally in sorted(set(old_figures) - set(state.populations))]
    if sums:
        conn.execute(_WRITE_SUMS, sums)
    if raised:
        conn.execute(_WRITE_POPULATIONS, raised)
    if dropped:
        conn.execute(_DROP_POPULATIONS, dropped)


_UNSEALED = text("SELECT 1 FROM exporter_year_totals WHERE mac IS NULL UNION ALL "
                 "SELECT 1 FROM exporter_year_population_figures WHERE mac IS NULL LIMIT 1")
_ALL_ROWS = text(f"SELECT {_SUMS_COLUMNS} FROM exporter_year_totals "
                 f"UNION ALL SELECT {_POPULATION_COLUMNS} FROM exporter_year_population_figures")
_COUNTED_PAIRS = text("SELECT DISTINCT exporter_id, year FROM transfers WHERE counted = :yes AND withdrawn_at IS NULL")


def any_unsealed(conn: Connection) -> bool:
    """Whether some totals row carries no seal (a ledger just upgraded to revision 0009)."""
    return conn.execute(_UNSEALED).first() is not None


def seal_all(conn: Connection, key: TotalsKey) -> int:
    """Seal every totals row with ``key`` as it stands, and give every exporter-year with counted
    transfers a sums row (zeros) if it has none; returns the number of exporter-years. Only for a
    caller that has just found the stored totals equal to what the audit chain accounts for, holding
    the chain's lock (``Ledger.seal_totals``): sealing edited totals would vouch for them."""
    states: dict[ExporterYear, YearState] = {}
    for kind, exporter, year, population, tally, first, second, _mac in conn.execute(_ALL_ROWS):
        state = states.setdefault((str(exporter), int(year)), YearState())
        if int(kind) == SUMS:
            state.personal, state.sensitive = int(first), int(second)
        else:
            state.populations[(str(population), str(tally))] = int(first)
    for exporter, year in conn.execute(_COUNTED_PAIRS, {"yes": True}):
        states.setdefault((str(exporter), int(year)), YearState())
    write(conn, key, {}, states)
    return len(states)

"""Merging the recorded exporter ids that now read as one (issue 19 point 4): ``baygate ledger merge-ids``.

A ledger recorded before party ids were canonicalised keeps each recorded variant of an id ('abc ',
'Abc', 'ABC' followed by a zero-width space) apart: each has its own running totals, so a decision for
'ABC' does not see what 'abc ' sent. The merge brings them together without rewriting anything hashed.
In one transaction, under the exporters' locks and the chain-head lock, for each canonical id with
variants still counting apart (``engine.ledger.id_variants``):

1. the running totals of the canonical id and every variant, each year, read with their seals checked
   (``sealed_totals.read``: a merge is not made on edited totals);
2. one ``id-merge`` chain event (signed like every head: ``chain_keys.prepare``): the canonical id, the
   variants it merges, the ids merged before, each year's totals before and merged, the references
   recorded under several of the ids (collisions), the actor and the reason;
3. one ``exporter_id_aliases`` row per variant, naming the event;
4. the merged totals written as the canonical id's, the variants' as zero (``sealed_totals.write``,
   absolute figures: ``aliases.merged_state`` says how populations named under several ids count).

Why a command and not the schema upgrade: a merge appends signed events, needs the totals key, names an
actor and a reason, and changes what later decisions count (a lighter route may become a security
assessment). An operator runs ``--dry-run`` first, reads which decisions' counts change, and then
merges; revision 0013 only creates the table.

Collisions: two transfers recorded under different variants with one reference keep their own decision
ids, rows and events. After the merge the reference no longer names one transfer of the exporter:
looking it up (withdraw, amend, show) is refused as ambiguous, naming the decision ids to use instead,
and a new submission under that reference is refused as a conflict (unless it is one of them again:
then its recorded decision is answered). The merge reports them and records them in its event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, insert, text

from engine.ledger import aliases, audit, chain_keys, database, id_variants, sealed_totals
from engine.ledger.actors import Actor, local_user
from engine.ledger.schema import exporter_id_aliases
from engine.ledger.sealed_totals import ExporterYear, YearState
from engine.ledger.store import Ledger

_YEARS = text("SELECT DISTINCT year FROM exporter_year_totals WHERE exporter_id IN :ids UNION "
              "SELECT DISTINCT year FROM transfers WHERE exporter_id IN :ids AND counted = :yes"
              ).bindparams(bindparam("ids", expanding=True))


@dataclass(frozen=True)
class YearMerge:
    """One year of a merge: each id's totals before, and the canonical id's after."""

    year: int
    personal_subjects: int
    sensitive_subjects: int
    before: dict[str, tuple[int, int]]
    """Recorded id -> (personal, sensitive) it counted before the merge."""


@dataclass
class Merge:
    """The merge of one canonical id's variants (made, or planned by a dry run)."""

    canonical: str
    variants: list[str]
    """The ids this merge makes count as ``canonical``."""
    merged_before: list[str]
    """Variants merged into it by an earlier merge."""
    years: list[YearMerge]
    collisions: list[tuple[str, list[str]]]
    """(reference, decision ids) recorded under several of its ids."""
    affected: list[id_variants.Affected]
    """Past decisions whose counts would have differed had the ids been one (engine.ledger.id_variants)."""
    notes: dict[str, str] = field(default_factory=dict)
    """Variants that read as ``canonical`` once their invisible characters are taken out: why."""
    event_seq: int | None = None
    """The position of its id-merge event (None: a dry run)."""


@dataclass
class MergeReport:
    merges: list[Merge]
    unreadable: list[tuple[str, str]]
    """Recorded ids that read as no id at all (nothing visible left): left as they are."""
    dry_run: bool

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "merges": [_merge_dict(merge) for merge in self.merges],
                "unreadable": [{"id": name, "why": why} for name, why in self.unreadable]}


def _merge_dict(merge: Merge) -> dict[str, Any]:
    return {"canonical": merge.canonical, "variants": merge.variants, "merged_before": merge.merged_before,
            "event_seq": merge.event_seq, "notes": merge.notes,
            "years": [_year_data(y) for y in merge.years],
            "collisions": [{"reference": reference, "decision_ids": ids} for reference, ids in merge.collisions],
            "affected": [{"decision_id": a.decision_id, "reference": a.reference, "exporter_id": a.exporter_id,
                          "year": a.year, "other_personal_subjects": a.other_personal_subjects,
                          "other_sensitive_subjects": a.other_sensitive_subjects} for a in merge.affected]}


def merge_ids(ledger: Ledger, actor: Actor | None = None, dry_run: bool = False) -> MergeReport:
    """Merge every group of recorded exporter ids that read as one and still count apart (see the
    module's docstring); ``dry_run``: read and report only. Raises ``LedgerIntegrityError`` when a
    total involved fails its seal (nothing is merged)."""
    actor = actor or local_user()
    if dry_run:
        with ledger.sql_engine.connect() as conn, conn.begin():
            found = id_variants.report(conn)
            merges = [merge for chunk in _chunks(found.pending) for merge in _plan(conn, ledger, chunk)[0]]
        return MergeReport(merges, found.refused, True)
    with ledger.transaction() as conn:
        found = id_variants.report(conn)
        if not found.pending:
            return MergeReport([], found.refused, False)
        database.lock_exporters(conn, sorted({name for group in found.pending for name in
                                              [group.canonical, *group.ids]}))
        audit.lock_chain(conn)  # after the exporters' locks, as every transaction takes them
        found = id_variants.report(conn)  # again, under the locks: what is merged is what was read
        now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        chain_keys.prepare(conn, ledger.appender(conn), ledger.signer, chain_keys.latest_key(conn), actor, now)
        merges = []
        for chunk in _chunks(found.pending):  # a few statements of bounded size each, in one transaction
            planned, before = _plan(conn, ledger, chunk)
            for merge in planned:
                merge.event_seq = _record(conn, ledger, merge, before, actor, now)
            merges += planned
    return MergeReport(merges, found.refused, False)


CHUNK = 300
"""Canonical ids planned at once: their ids are bound in one statement (SQLite bounds the parameters of
one statement), and the totals read for them are kept until they are merged."""


def _chunks(groups: list[id_variants.VariantGroup]) -> list[list[id_variants.VariantGroup]]:
    return [groups[start:start + CHUNK] for start in range(0, len(groups), CHUNK)]


def _plan(conn: Connection, ledger: Ledger, groups: list[id_variants.VariantGroup]
          ) -> tuple[list[Merge], dict[ExporterYear, YearState]]:
    """The merges to make for ``groups``, and the verified totals they start from."""
    ids = sorted({name for group in groups for name in [group.canonical, *group.ids]})
    if not ids:
        return [], {}
    years = sorted(int(year) for (year,) in conn.execute(_YEARS, {"ids": ids, "yes": True}))
    before = sealed_totals.read(conn, ledger.totals_key, ids, years)
    merges = []
    for group in groups:
        counting = sorted({group.canonical, *group.ids})
        merged_years = []
        for year in years:
            parts = {name: before[(name, year)] for name in counting if (name, year) in before}
            if parts:
                merged = aliases.merged_state(parts.values())
                sums = {name: (state.personal, state.sensitive) for name, state in parts.items()}
                merged_years.append(YearMerge(year, merged.personal, merged.sensitive, sums))
        merges.append(Merge(group.canonical, group.pending, sorted(group.merged), merged_years, group.collisions,
                            group.affected, {name: why for name, why in group.notes.items() if name in group.pending}))
    return merges, before


def _year_data(year: YearMerge) -> dict[str, Any]:
    """A year as the id-merge event records it (``aliases.event_years`` reads it back)."""
    summed = (sum(p for p, _s in year.before.values()), sum(s for _p, s in year.before.values()))
    return {"year": year.year, "personal_subjects": year.personal_subjects,
            "sensitive_subjects": year.sensitive_subjects,
            "before": {name: list(sums) for name, sums in sorted(year.before.items())},
            "counted_once": [summed[0] - year.personal_subjects, summed[1] - year.sensitive_subjects]}


def _record(conn: Connection, ledger: Ledger, merge: Merge, before: dict[ExporterYear, YearState], actor: Actor,
            now: str) -> int:
    """One merge's event, alias rows and totals; returns the event's position."""
    data = {"canonical": merge.canonical, "variants": merge.variants, "merged_before": merge.merged_before,
            "years": [_year_data(y) for y in merge.years],
            "collisions": [{"reference": reference, "decision_ids": ids} for reference, ids in merge.collisions],
            "notes": merge.notes, **actor.fields()}
    seq = audit.append_event(conn, aliases.KIND, merge.canonical, now, data, ledger.signer)
    conn.execute(insert(exporter_id_aliases), [{"variant": variant, "canonical": merge.canonical, "merge_seq": seq}
                                               for variant in merge.variants])
    counting = {merge.canonical, *merge.variants, *merge.merged_before}
    read = {(name, year.year): before[(name, year.year)] for year in merge.years for name in counting
            if (name, year.year) in before}
    # the variants' rows stay, at zero (sums rows are never deleted)
    after: dict[ExporterYear, YearState] = {where: YearState() for where in read}
    for year in merge.years:
        after[(merge.canonical, year.year)] = aliases.merged_state(
            state for (name, y), state in read.items() if y == year.year)
    sealed_totals.write(conn, ledger.totals_key, read, after)
    return seq

"""The running totals as the audit chain accounts for them, kept per exporter-year while ``audit
verify`` walks it (``engine.ledger.verify_walk``), and the same transfers tallied again under the counting
rules: what ``engine.ledger.verify`` compares the stored totals with once the chain has verified."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.facts import PriorCounts, tally_of
from engine.ledger import totals
from engine.ledger.verify_rows import Located


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

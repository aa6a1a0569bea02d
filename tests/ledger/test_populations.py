"""Population-aware counting at the 100,000 boundary (DESIGN section 5): a data set naming a population
already sent this year counts only the increase over the largest earlier figure for it."""

from __future__ import annotations

from typing import Any

from engine.evaluator import Engine
from engine.ledger import Ledger
from tests.ledger.conftest import EXPORTER, transfer


def members(subjects: int, population: str = "members-2026") -> list[dict[str, Any]]:
    return [{"kind": "personal", "subjects": subjects, "population": population}]


def test_99999_then_the_same_population_again_stays_under_the_threshold(
        ledger: Ledger, ledger_engine: Engine) -> None:
    first = ledger.submit(ledger_engine, transfer("P-1", data=members(99_999))).decision
    again = ledger.submit(ledger_engine, transfer("P-2", data=members(99_999))).decision
    assert (first.outcome, again.outcome) == ("permitted", "permitted")
    assert again.counts.personal_subjects_after == 99_999
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 99_999


def test_the_population_growing_to_100000_crosses_by_its_increase_alone(
        ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("P-1", data=members(99_999)))
    grown = ledger.submit(ledger_engine, transfer("P-2", data=members(100_000))).decision
    assert grown.counts.personal_subjects_before == 99_999
    assert grown.counts.personal_subjects_after == 100_000
    assert grown.outcome == "conditional"
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 99_999


def test_without_a_population_one_more_individual_crosses(ledger: Ledger, ledger_engine: Engine) -> None:
    assert ledger.submit(ledger_engine, transfer("N-1", 99_998)).decision.outcome == "permitted"
    assert ledger.submit(ledger_engine, transfer("N-2", 1)).decision.outcome == "permitted"
    crossing = ledger.submit(ledger_engine, transfer("N-3", 1)).decision
    assert crossing.counts.personal_subjects_after == 100_000
    assert crossing.outcome == "conditional"
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 99_999


def test_other_populations_and_unnamed_sets_add_up(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("P-1", data=members(60_000)))
    other = ledger.submit(ledger_engine, transfer("P-2", data=members(39_999, "patients-2026"))).decision
    assert other.counts.personal_subjects_after == 99_999 and other.outcome == "permitted"
    both = ledger.submit(ledger_engine, transfer("P-3", data=[
        *members(60_000), *members(39_999, "patients-2026"), {"kind": "personal", "subjects": 1}])).decision
    assert both.counts.personal_subjects_after == 100_000 and both.outcome == "conditional"


def test_withdrawing_releases_the_population_figure(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("P-1", data=members(99_999)))
    ledger.withdraw("P-1")
    fresh = ledger.submit(ledger_engine, transfer("P-2", data=members(100_000))).decision
    assert fresh.counts.personal_subjects_before == 0
    assert fresh.counts.personal_subjects_after == 100_000
    assert fresh.outcome == "conditional"


def test_a_population_sent_last_year_counts_again_this_year(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("P-2025", data=members(99_999), planned_date="2025-12-31"))
    this_year = ledger.submit(ledger_engine, transfer("P-2026", data=members(99_999),
                                                      planned_date="2026-01-02")).decision
    assert this_year.counts.personal_subjects_after == 99_999
    prior = ledger.prior_counts(transfer("next", data=members(5)))
    assert dict(prior.populations) == {"members-2026": 99_999}
    assert prior.previous_year_personal_subjects == 99_999


def test_a_not_permitted_transfer_leaves_no_population_figure(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("P-1", data=members(150_000)))  # conditional: needs a contract
    assert dict(ledger.prior_counts(transfer("next")).populations) == {}
    assert ledger.submit(ledger_engine, transfer("P-2", data=members(99_999))).decision.outcome == "permitted"

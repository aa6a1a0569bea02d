"""Population-aware counting at the 100,000 boundary (DESIGN section 5): a data set naming a population
already sent this year counts only the increase over the largest earlier figure for it."""

from __future__ import annotations

from typing import Any

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.history import recorded_decisions
from engine.models import Decision
from tests.ledger.conftest import EXPORTER, RULES, transfer


def tally_tested(decision: Decision, fact: str) -> int:
    """The tally a rule of the decision tested (its reason shows the facts it read): the counts
    show what recording changes, and a conditional transfer changes nothing."""
    values = [int(reason.facts[fact]) for reason in decision.reasons if fact in reason.facts]
    assert values, f"no reason read {fact}"
    return max(values)


def moved(decision: Decision) -> bool:
    counts = decision.counts
    return (counts.personal_subjects_after, counts.sensitive_subjects_after) != (
        counts.personal_subjects_before, counts.sensitive_subjects_before) or counts.counted

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
    assert tally_tested(grown, "ytd.personal_subjects") == 100_000
    assert grown.outcome == "conditional" and not moved(grown)
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 99_999


def test_without_a_population_one_more_individual_crosses(ledger: Ledger, ledger_engine: Engine) -> None:
    assert ledger.submit(ledger_engine, transfer("N-1", 99_998)).decision.outcome == "permitted"
    assert ledger.submit(ledger_engine, transfer("N-2", 1)).decision.outcome == "permitted"
    crossing = ledger.submit(ledger_engine, transfer("N-3", 1)).decision
    assert tally_tested(crossing, "ytd.personal_subjects") == 100_000
    assert crossing.outcome == "conditional" and not moved(crossing)
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 99_999


def test_other_populations_and_unnamed_sets_add_up(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("P-1", data=members(60_000)))
    other = ledger.submit(ledger_engine, transfer("P-2", data=members(39_999, "patients-2026"))).decision
    assert other.counts.personal_subjects_after == 99_999 and other.outcome == "permitted"
    both = ledger.submit(ledger_engine, transfer("P-3", data=[
        *members(60_000), *members(39_999, "patients-2026"), {"kind": "personal", "subjects": 1}])).decision
    assert tally_tested(both, "ytd.personal_subjects") == 100_000 and both.outcome == "conditional"


def test_withdrawing_releases_the_population_figure(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("P-1", data=members(99_999)))
    ledger.withdraw("P-1")
    fresh = ledger.submit(ledger_engine, transfer("P-2", data=members(100_000))).decision
    assert fresh.counts.personal_subjects_before == 0
    assert tally_tested(fresh, "ytd.personal_subjects") == 100_000
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


# ------------------------------------------------------------------ withdrawing one of a population's transfers

def test_withdrawing_the_first_figure_leaves_the_later_transfer_its_individuals(
        ledger: Ledger, ledger_engine: Engine) -> None:
    """60,000 members, then 90,000 of them (counted +30,000): withdrawing the first leaves 90,000 sent,
    so the next 50,000 reach 140,000 and need a contract, not the exemption under 100,000."""
    ledger.submit(ledger_engine, transfer("P-1", data=members(60_000)))
    ledger.submit(ledger_engine, transfer("P-2", data=members(90_000)))
    withdrawn = ledger.withdraw("P-1")
    assert (withdrawn.released_personal_subjects, withdrawn.counted_personal_subjects) == (0, 60_000)
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 90_000
    after = ledger.submit(ledger_engine, transfer("N-1", 50_000)).decision
    assert (after.counts.personal_subjects_before, tally_tested(after, "ytd.personal_subjects")) == (90_000, 140_000)
    assert after.outcome == "conditional"
    assert ledger.verify().ok


def test_withdrawing_both_figures_in_either_order_releases_everything(
        ledger: Ledger, ledger_engine: Engine) -> None:
    for first, second, exporter in (("A", "B", "91440300MA5ORDER01"), ("B", "A", "91440300MA5ORDER02")):
        ledger.submit(ledger_engine, transfer(f"{exporter}-A", exporter_id=exporter, data=members(60_000)))
        ledger.submit(ledger_engine, transfer(f"{exporter}-B", exporter_id=exporter, data=members(90_000)))
        released = [ledger.withdraw(f"{exporter}-{which}").released_personal_subjects for which in (first, second)]
        assert sum(released) == 90_000
        # The later transfer carries the earlier one's figure once that is withdrawn; taken first, it
        # releases only its increase.
        assert released == ([0, 90_000] if first == "A" else [30_000, 60_000])
        assert ledger.counts(exporter, 2026)["personal_subjects"] == 0
        assert dict(ledger.prior_counts(transfer("next", exporter_id=exporter)).populations) == {}
    assert ledger.verify().ok


def test_a_smaller_later_figure_counts_in_full_once_the_larger_is_withdrawn(
        ledger: Ledger, ledger_engine: Engine) -> None:
    """40,000 then 10,000 of the same members (counted +0): the 10,000 were sent all the same."""
    ledger.submit(ledger_engine, transfer("P-1", data=members(40_000)))
    ledger.submit(ledger_engine, transfer("P-2", data=members(10_000)))
    assert ledger.withdraw("P-1").released_personal_subjects == 30_000
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 10_000
    assert dict(ledger.prior_counts(transfer("next")).populations) == {"members-2026": 10_000}


def test_only_the_populations_it_named_are_tallied_again(ledger: Ledger, ledger_engine: Engine) -> None:
    """A transfer naming two populations and unnamed data; a later one sharing one of the populations,
    another the other population. Withdrawing the first keeps what each later one relies on."""
    ledger.submit(ledger_engine, transfer("P-1", data=[*members(30_000), *members(5_000, "patients-2026"),
                                                       {"kind": "personal", "subjects": 1_000}]))
    ledger.submit(ledger_engine, transfer("P-2", data=members(50_000)))  # +20,000
    ledger.submit(ledger_engine, transfer("P-3", data=members(2_000, "patients-2026")))  # +0
    ledger.submit(ledger_engine, transfer("P-4", data=members(7_000, "visitors-2026")))  # unrelated
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 36_000 + 20_000 + 7_000
    # Without P-1: members 50,000 (P-2), patients 2,000 (P-3), visitors 7,000 = 59,000; it releases
    # 63,000 - 59,000: its unnamed 1,000 and the 3,000 patients P-3 did not send.
    assert ledger.withdraw("P-1").released_personal_subjects == 4_000
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 50_000 + 2_000 + 7_000
    assert ledger.verify().ok


def test_the_rebuilt_history_reads_what_each_withdrawal_released(ledger: Ledger, ledger_engine: Engine) -> None:
    """A decision after such a withdrawal read the kept count; replays rebuild exactly that prior."""
    ledger.submit(ledger_engine, transfer("P-1", data=members(60_000)))
    ledger.submit(ledger_engine, transfer("P-2", data=members(90_000)))
    ledger.withdraw("P-1")
    later = ledger.submit(ledger_engine, transfer("N-1", 5_000)).decision
    rebuilt = {found.reference: found.prior for found in recorded_decisions(ledger)}
    assert rebuilt["N-1"].personal_subjects == later.counts.personal_subjects_before == 90_000


def test_each_transfer_is_tallied_again_under_the_options_it_was_decided_under(ledger: Ledger) -> None:
    """With sensitive subjects counted in both tallies (a pack option), 5,000 members then 8,000 of them
    with health data: 8,000 in each tally. Withdrawing the first releases nothing: the second alone
    counts 8,000 in each, which it could not without the option it was decided under."""
    both = Engine.from_directory(RULES, options={"count_sensitive_in_both": True})
    contract = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2024-12-01",
                "mechanisms": [{"type": "gba_standard_contract", "reference": "GD-1",
                                "effective_on": "2025-01-10", "filed_on": "2025-01-15"}]}
    ledger.submit(both, transfer("P-1", data=members(5_000), safeguards=contract))
    second = ledger.submit(both, transfer("P-2", safeguards=contract, data=[
        {**members(8_000)[0], "sensitive": ["medical_health"]}])).decision
    assert second.outcome == "permitted"
    assert ledger.counts(EXPORTER, 2026) == {"exporter": EXPORTER, "year": 2026, "personal_subjects": 8_000,
                                             "sensitive_subjects": 8_000}
    withdrawn = ledger.withdraw("P-1")
    assert (withdrawn.released_personal_subjects, withdrawn.released_sensitive_subjects) == (0, 0)
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 8_000
    assert ledger.verify().ok


# ------------------------------------------------------------------ the two tallies keep their own figures

SENSITIVE_CONTRACT = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2024-12-01",
                      "mechanisms": [{"type": "standard_contract", "reference": "SC-1",
                                      "effective_on": "2025-01-10", "filed_on": "2025-01-15"}]}


def health(subjects: int) -> list[dict[str, Any]]:
    return [{**members(subjects)[0], "sensitive": ["medical_health"]}]


def test_health_records_of_members_whose_contact_details_were_sent_count_in_full(
        ledger: Ledger, ledger_engine: Engine) -> None:
    """5,000 members' contact details, then 8,000 members' health records: the sensitive tally counts
    the 8,000 whose sensitive information was provided (Provisions (2024), arts. 7-8), and 4,000 more
    reach 12,000: a security assessment, not a contract."""
    ledger.submit(ledger_engine, transfer("C-1", data=members(5_000), safeguards=SENSITIVE_CONTRACT))
    records = ledger.submit(ledger_engine, transfer("H-1", data=health(8_000), safeguards=SENSITIVE_CONTRACT)).decision
    assert records.outcome == "permitted"
    assert (records.counts.sensitive_subjects_before, records.counts.sensitive_subjects_after) == (0, 8_000)
    assert ledger.counts(EXPORTER, 2026) == {"exporter": EXPORTER, "year": 2026, "personal_subjects": 5_000,
                                             "sensitive_subjects": 8_000}
    prior = ledger.prior_counts(transfer("next"))
    assert (dict(prior.populations), dict(prior.sensitive_populations)) == ({"members-2026": 5_000},
                                                                            {"members-2026": 8_000})
    more = ledger.submit(ledger_engine, transfer("H-2", data=[{"kind": "personal", "subjects": 4_000,
                                                               "sensitive": ["medical_health"]}],
                                                 safeguards=SENSITIVE_CONTRACT)).decision
    assert tally_tested(more, "ytd.sensitive_subjects") == 12_000 and not moved(more)
    assert more.outcome == "conditional" and more.mechanism == "security_assessment"
    assert ledger.verify().ok


def test_contact_details_of_members_whose_health_records_were_sent_count_in_full(
        ledger: Ledger, ledger_engine: Engine) -> None:
    """The other way round: sensitive subjects count in the sensitive tally only (the default option),
    so members whose health records were sent are new to the non-sensitive tally."""
    ledger.submit(ledger_engine, transfer("H-1", data=health(8_000), safeguards=SENSITIVE_CONTRACT))
    contact = ledger.submit(ledger_engine, transfer("C-1", data=members(95_000), safeguards=SENSITIVE_CONTRACT))
    assert contact.decision.counts.personal_subjects_after == 95_000
    again = ledger.submit(ledger_engine, transfer("C-2", data=members(99_000), safeguards=SENSITIVE_CONTRACT))
    assert again.decision.counts.personal_subjects_after == 99_000
    assert ledger.counts(EXPORTER, 2026) == {"exporter": EXPORTER, "year": 2026, "personal_subjects": 99_000,
                                             "sensitive_subjects": 8_000}
    withdrawn = ledger.withdraw("H-1")
    assert (withdrawn.released_personal_subjects, withdrawn.released_sensitive_subjects) == (0, 8_000)
    assert ledger.prior_counts(transfer("next")).sensitive_populations == {}
    assert ledger.verify().ok


def test_2022_regime_the_same_members_ordinary_then_sensitive_are_their_individuals_once(
        ledger: Ledger, ledger_engine: Engine) -> None:
    """Under the 2022 regime every individual counts, sensitive or not (since_prev_year.individuals): the
    health records of 9,000 of the 95,000 members already sent are 95,000 individuals, not 104,000, so a
    standard contract still serves (SC Measures art. 4: fewer than 100,000)."""
    contract = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2023-06-01",
                "mechanisms": [{"type": "standard_contract", "reference": "SC-1", "effective_on": "2023-06-05",
                                "filed_on": "2023-06-10"}]}
    ledger.submit(ledger_engine, transfer("M-1", planned_date="2023-07-01", safeguards=contract,
                                          data=members(95_000, "members-2023")))
    health = [{**members(9_000, "members-2023")[0], "sensitive": ["medical_health"]}]
    decision = ledger.submit(ledger_engine, transfer("M-2", planned_date="2023-08-01", safeguards=contract,
                                                     data=health)).decision
    assert (decision.outcome, decision.mechanism) == ("permitted", "standard_contract")
    assert {r.rule: r.facts for r in decision.reasons}["cn22.contract-tier"]["since_prev_year.individuals"] == 95_000
    assert ledger.counts(EXPORTER, 2023) == {**ledger.counts(EXPORTER, 2023), "personal_subjects": 95_000,
                                             "sensitive_subjects": 9_000}
    # Other people's health records (no population) add up: 95,000 + 9,000 + 1,000 reaches 100,000.
    others = ledger.submit(ledger_engine, transfer("M-3", planned_date="2023-09-01", safeguards=contract, data=[
        {"kind": "personal", "subjects": 5_000, "sensitive": ["medical_health"]}])).decision
    assert others.mechanism == "security_assessment"

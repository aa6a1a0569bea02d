"""A data set collected outside the Mainland is exempt with its data set (2024 Provisions art. 4) and left out of
the tally: the decision's counts and the ledger's agree, withdrawals release what was counted, the audit recount
(which tallies population-naming transfers again) finds nothing amiss, and with exempt volumes counted by the
deployment every set counts. On SQLite and PostgreSQL."""

from __future__ import annotations

from engine.evaluator import Engine
from engine.ledger import Ledger
from tests.ledger.conftest import EXPORTER, RULES, transfer

ABROAD = {"kind": "personal", "subjects": 300_000, "collected_outside_mainland": True, "population": "hk-members"}
MAINLAND = {"kind": "personal", "subjects": 50_000, "population": "sz-members"}
GBA = {"mechanisms": [{"type": "gba_standard_contract", "reference": "GD-1", "effective_on": "2026-05-04",
                       "filed_on": "2026-05-08"}], "separate_consent": True, "notice_given": True,
       "pia_completed_on": "2026-05-01"}


def test_the_set_collected_abroad_is_not_counted_by_the_decision_or_the_ledger(ledger: Ledger,
                                                                             ledger_engine: Engine) -> None:
    decision = ledger.submit(ledger_engine, transfer("AB-1", data=[ABROAD, MAINLAND])).decision
    assert (decision.outcome, decision.exemptions) == ("permitted", ["under_threshold"])
    assert decision.counts.collected_abroad_uncounted
    assert decision.counts.personal_subjects_after == 50_000
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 50_000
    # The same populations again: only the increase counts, the abroad set still not at all.
    again = ledger.submit(ledger_engine, transfer("AB-2", data=[{**ABROAD, "subjects": 320_000},
                                                                {**MAINLAND, "subjects": 60_000}])).decision
    assert (again.counts.personal_subjects_before, again.counts.personal_subjects_after) == (50_000, 60_000)
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 60_000
    assert ledger.verify().ok  # the chain's recount tallies both again, reading what each decision left out
    withdrawn = ledger.withdraw("AB-1")
    assert withdrawn.released_personal_subjects == 0  # AB-2's 60,000 members include AB-1's 50,000
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 60_000
    ledger.withdraw("AB-2")
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 0
    assert ledger.verify().ok


def test_with_exempt_volumes_counted_every_set_counts(ledger: Ledger) -> None:
    counting = Engine.from_directory(RULES, {"exempt_volumes_counted": True})
    decision = ledger.submit(counting, transfer("AB-3", data=[ABROAD, MAINLAND], safeguards=GBA)).decision
    assert (decision.outcome, decision.mechanism) == ("permitted", "standard_contract")  # 350,000: contract tier
    assert not decision.counts.collected_abroad_uncounted
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 350_000
    assert ledger.verify().ok


def test_before_art_4_existed_the_set_counted(ledger: Ledger, ledger_engine: Engine) -> None:
    """The counting declaration starts on 2024-03-22 (art. 4's date): earlier sets count as they did."""
    decision = ledger.submit(ledger_engine, transfer("AB-4", planned_date="2024-03-21", data=[ABROAD, MAINLAND],
                                                     safeguards={**GBA, "mechanisms": [
                                                         {"type": "standard_contract", "reference": "SC-1",
                                                          "effective_on": "2023-07-03", "filed_on": "2023-07-05"}],
                                                         "pia_completed_on": "2023-07-01"})).decision
    assert not decision.counts.collected_abroad_uncounted
    assert decision.mechanism == "security_assessment"  # 350,000 individuals since 1 January of the year before

"""The decision contract of DESIGN section 3 as issue 22.4 asks for it: which mechanism in place met
the requirement (``satisfied_by``), ``missing`` items a pipeline reads without parsing prose, no GBA
eligibility reason where the GBA contract is no option, and counts that move only where recording
counts."""

from __future__ import annotations

from typing import Any

from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.models import Decision, TransferRequest
from tests.engine.conftest import base_request

GBA = {"type": "gba_standard_contract", "reference": "GD-2026-123", "effective_on": "2026-11-10",
       "filed_on": "2026-11-15"}
EXPIRED_SC = {"type": "standard_contract", "reference": "SC-OLD", "effective_on": "2024-01-02",
              "filed_on": "2024-01-05", "expires_on": "2025-01-01"}
VALID_SC = {"type": "standard_contract", "reference": "SC-NEW", "effective_on": "2026-10-02", "filed_on": "2026-10-09"}
USUAL = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2026-11-01"}


def decide(engine: Engine, prior: PriorCounts | None = None, subjects: int = 150_000, **overrides: Any) -> Decision:
    body = base_request(**{"purpose": "business_services", "data": [{"kind": "personal", "subjects": subjects}],
                           **overrides})
    return engine.evaluate(TransferRequest.model_validate(body), prior or PriorCounts())


def test_satisfied_by_names_the_gba_contract_that_met_the_contract_tier(engine: Engine) -> None:
    decision = decide(engine, safeguards={**USUAL, "mechanisms": [GBA]})
    assert (decision.outcome, decision.mechanism) == ("permitted", "standard_contract")
    assert decision.satisfied_by is not None
    assert decision.satisfied_by.model_dump() == {"type": "gba_standard_contract", "reference": "GD-2026-123"}


def test_satisfied_by_is_null_when_nothing_in_place_meets_it(engine: Engine) -> None:
    assert decide(engine, safeguards=USUAL).satisfied_by is None
    expired_only = decide(engine, safeguards={**USUAL, "mechanisms": [EXPIRED_SC]})
    assert (expired_only.outcome, expired_only.satisfied_by) == ("conditional", None)


def test_satisfied_by_is_null_when_no_mechanism_is_needed(engine: Engine) -> None:
    decision = decide(engine, subjects=5_000, safeguards={**USUAL, "mechanisms": [GBA]})
    assert (decision.mechanism, decision.satisfied_by) == ("none", None)


def test_satisfied_by_skips_an_expired_contract_listed_before_a_valid_one(engine: Engine) -> None:
    decision = decide(engine, safeguards={**USUAL, "mechanisms": [EXPIRED_SC, VALID_SC]})
    assert decision.outcome == "permitted"
    assert decision.satisfied_by is not None and decision.satisfied_by.reference == "SC-NEW"


def test_a_gba_contract_that_does_not_fit_meets_nothing(engine: Engine) -> None:
    """A GBA contract with a Singapore recipient: no option there, so nothing in place meets the tier."""
    singapore = {"id": "SG-1", "name": "Singapore Ltd", "jurisdiction": "SG"}
    decision = decide(engine, recipient=singapore, safeguards={**USUAL, "mechanisms": [GBA]})
    assert decision.satisfied_by is None
    mechanism_items = [item for item in decision.missing if item.kind == "mechanism"]
    assert len(mechanism_items) == 1
    assert mechanism_items[0].options == ["standard_contract", "certification"]  # type: ignore[union-attr]
    assert "GBA standard contract GD-2026-123 in place does not fit" in mechanism_items[0].text.en
    assert "大灣區標準合同 GD-2026-123 不適用於本情形" in mechanism_items[0].text.zh_Hant


def test_missing_items_carry_kind_and_options_or_id(engine: Engine) -> None:
    decision = decide(engine, safeguards={})
    assert [item.model_dump(mode="json", exclude={"text"}) for item in decision.missing] == [
        {"kind": "mechanism", "options": ["gba_standard_contract", "standard_contract", "certification"]},
        {"kind": "obligation", "id": "cn.notice"}, {"kind": "obligation", "id": "cn.pia"},
        {"kind": "obligation", "id": "cn.separate-consent"}]
    dumped = decision.model_dump(mode="json")["missing"]
    assert all(set(item["text"]) == {"en", "zh-Hans", "zh-Hant"} for item in dumped)


def test_approval_and_review_items_are_ids_not_prose(engine: Engine) -> None:
    judicial = decide(engine, subjects=50, purpose="judicial_request", safeguards=USUAL)
    assert [(i.kind, getattr(i, "id", None)) for i in judicial.missing] == [("approval", "foreign_judicial_request")]
    early = decide(engine, subjects=5_000, planned_date="2022-05-01", safeguards=USUAL)
    assert ("review", "no-route") in [(i.kind, getattr(i, "id", None)) for i in early.missing]


def test_no_gba_eligibility_reason_where_the_gba_contract_is_no_option(engine: Engine) -> None:
    def rules(decision: Decision) -> set[str]:
        return {reason.rule for reason in decision.reasons}

    contract_tier = decide(engine, safeguards=USUAL)
    assert "gba_standard_contract" in contract_tier.mechanism_options and "gba.eligible-hk" in rules(contract_tier)
    assessment = decide(engine, subjects=1_500_000, safeguards=USUAL)
    assert assessment.mechanism_options == ["security_assessment"]
    assert "gba.eligible-hk" not in rules(assessment)
    exempt = decide(engine, subjects=5_000, safeguards=USUAL)
    assert exempt.mechanism == "none" and "gba.eligible-hk" not in rules(exempt)


def test_the_gba_contract_at_assessment_level_keeps_its_reasons(pack_set: Any) -> None:
    """Under the lenient reading the GBA contract is an option at assessment level: its reasons stay."""
    lenient = Engine(pack_set, {"gba_contract_at_assessment_level": True})
    decision = decide(lenient, subjects=1_500_000, safeguards=USUAL)
    assert "gba_standard_contract" in decision.mechanism_options
    assert {"gba.eligible-hk", "gba.at-assessment-level"} <= {reason.rule for reason in decision.reasons}


def test_a_conditional_transfer_counts_nothing(engine: Engine) -> None:
    decision = decide(engine, PriorCounts(personal_subjects=20_000), safeguards={})
    assert decision.outcome == "conditional"
    counts = decision.counts
    assert (counts.counted, counts.personal_subjects_before, counts.personal_subjects_after) == (False, 20_000, 20_000)
    tested = [reason.facts["ytd.personal_subjects"] for reason in decision.reasons
              if "ytd.personal_subjects" in reason.facts]
    assert 170_000 in tested  # the tally the rules tested, this transfer included, is in the reasons


def test_a_permitted_transfer_counts_and_an_exempt_one_does_not(engine: Engine) -> None:
    permitted = decide(engine, PriorCounts(personal_subjects=20_000), safeguards={**USUAL, "mechanisms": [GBA]})
    assert (permitted.counts.counted, permitted.counts.personal_subjects_after) == (True, 170_000)
    exempt = decide(engine, subjects=5_000, purpose="contract_performance", safeguards=USUAL)
    assert exempt.outcome == "permitted" and exempt.exemptions == ["contract_necessity"]
    assert (exempt.counts.counted, exempt.counts.personal_subjects_after) == (False, 0)


def test_the_decision_schema_tells_the_missing_kinds_apart() -> None:
    schema = Decision.model_json_schema(mode="serialization")
    missing = schema["properties"]["missing"]["items"]
    assert set(missing["discriminator"]["mapping"]) == {"mechanism", "obligation", "approval", "review"}
    assert "satisfied_by" in schema["properties"]

"""A Mainland–Macao GBA standard contract carries the Macao guidelines' duties, not the Hong Kong ones: no
filing with Hong Kong's Digital Policy Office, incidents to Macao's DSPDP; and before those guidelines
took effect (2024-09-10) a contract with Macao obliges nothing and the decision says it does not serve."""

from __future__ import annotations

from typing import Any

import pytest

from engine.evaluator import Engine
from engine.models import Decision, TransferRequest
from tests.engine.conftest import base_request

ZHUHAI = {"id": "91440400MA5GBA01", "name": "Zhuhai Co", "jurisdiction": "CN", "city": "Zhuhai"}
MACAO = {"id": "MO0001", "name": "Macau Co", "jurisdiction": "MO"}
HONG_KONG = {"id": "HK-1", "name": "HK Co", "jurisdiction": "HK"}


def decide(engine: Engine, recipient: dict[str, Any], day: str, effective_on: str) -> Decision:
    safeguards = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2024-08-01",
                  "mechanisms": [{"type": "gba_standard_contract", "reference": "GD-1", "effective_on": effective_on,
                                  "filed_on": effective_on}]}
    request = base_request(exporter=ZHUHAI, recipient=recipient, planned_date=day, safeguards=safeguards,
                           purpose="business_services", data=[{"kind": "personal", "subjects": 150_000}])
    return engine.evaluate(TransferRequest.model_validate(request))


def test_a_macao_contract_carries_the_macao_duties(engine: Engine) -> None:
    decision = decide(engine, MACAO, "2024-09-12", "2024-09-10")  # the legal review's p10
    assert (decision.outcome, decision.mechanism) == ("permitted", "standard_contract")
    rules = [reason.rule for reason in decision.reasons]
    assert "gba.contract-duties-mo" in rules and "gba.contract-duties" not in rules
    obligations = {obligation.id: obligation for obligation in decision.obligations}
    assert {"gba.filing-mo", "gba.pia-mo", "gba.records-mo", "gba.resign-on-change-mo",
            "gba.incident-notice-mo"} <= set(obligations)
    assert not {"gba.filing", "gba.incident-notice", "gba.filing-ogcio", "gba.incident-notice-ogcio"} & set(obligations)
    for text in [o.text for o in decision.obligations] + [r.message for r in decision.reasons]:
        for language in (text.en, text.zh_Hans, text.zh_Hant):
            assert "Digital Policy Office" not in language and "数字政策办公室" not in language
            assert "數字政策辦公室" not in language and "Hong Kong party" not in language
    assert "DSPDP" in obligations["gba.incident-notice-mo"].text.en
    assert "個人資料保護局" in obligations["gba.incident-notice-mo"].text.zh_Hant


@pytest.mark.parametrize(("day", "effective_on"), [("2024-09-09", "2024-09-02"), ("2024-01-15", "2024-01-02")])
def test_before_the_macao_guidelines_a_contract_with_macao_obliges_nothing(engine: Engine, day: str,
                                                                          effective_on: str) -> None:
    decision = decide(engine, MACAO, day, effective_on)  # the legal review's p09
    assert decision.outcome == "conditional" and "gba_standard_contract" not in decision.mechanism_options
    rules = [reason.rule for reason in decision.reasons]
    assert "gba.mo-contract-before-guidelines" in rules
    assert not [rule for rule in rules if rule.startswith("gba.contract-duties")]
    assert not [obligation.id for obligation in decision.obligations if obligation.id.startswith("gba.")]


def test_a_hong_kong_contract_keeps_the_hong_kong_duties(engine: Engine) -> None:
    decision = decide(engine, HONG_KONG, "2024-11-05", "2024-11-01")
    obligations = [obligation.id for obligation in decision.obligations]
    assert "gba.filing" in obligations and "gba.filing-mo" not in obligations
    assert "gba.mo-contract-before-guidelines" not in [reason.rule for reason in decision.reasons]

"""Where the legal review of 2026-12 found a statement unverified, the decision says what was checked and
what is not known, instead of stating it as settled (issue 20):

- section 4 item 9: the PDPO reform note is a snapshot; its message says when it was last checked;
- L2: whether a certificate issued under the 2022 Announcement falls under the 2025 Measures'
  re-application is not stated in any source found."""

from __future__ import annotations

from typing import Any

from engine.evaluator import Engine
from engine.models import Decision, TransferRequest
from tests.engine.conftest import base_request


def decide(engine: Engine, **overrides: Any) -> Decision:
    return engine.evaluate(TransferRequest.model_validate(base_request(**overrides)))


def reasons(decision: Decision) -> dict[str, Any]:
    return {reason.rule: reason for reason in decision.reasons}


def test_the_pdpo_reform_note_says_when_it_was_last_checked(engine: Engine) -> None:
    decision = decide(engine, exporter={"id": "71110004", "name": "HK Co", "jurisdiction": "HK"},
                      recipient={"id": "91440300R", "name": "SZ Co", "jurisdiction": "CN", "city": "Shenzhen"})
    message = reasons(decision)["hk.pdpo-reform-pending"].message
    assert "as of 2026-12-05" in message.en and "unverified" in message.en
    assert "2026年12月5日" in message.zh_Hans and "未经核实" in message.zh_Hans
    assert "2026年12月5日" in message.zh_Hant and "未經核實" in message.zh_Hant


def test_the_re_certification_duty_says_older_certificates_are_not_known_to_fall_under_it(engine: Engine) -> None:
    certificate = {"type": "certification", "reference": "CERT-2024", "effective_on": "2024-06-03"}
    decision = decide(engine, planned_date="2026-03-02", data=[{"kind": "personal", "subjects": 150_000}],
                      safeguards={**base_request()["safeguards"], "mechanisms": [certificate]})
    renewal = reasons(decision)["cn.certification-renewal"]
    assert renewal.unsure is not None and "2022 Announcement" in renewal.unsure
    assert "cn.certification-reapply" in [obligation.id for obligation in decision.obligations]

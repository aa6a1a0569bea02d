"""The decision caches never change an answer.

``engine.decide`` reuses what it assembled before (reasons, obligations, whole assembled parts) by the
fired rules and the values of the facts it reads. A key that missed one input would hand one request
another's answer, so every decision here is made twice: once with the caches filled by every other
request before it, once from empty caches, and the two must agree in everything but the id and the
time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import decide as decide_module
from engine.decision_plan import forget_plans, plans_set_aside
from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.models import APPROVAL_KINDS, MECHANISM_TYPES, SENSITIVE_TYPES, TAGS, Decision, TransferRequest
from tests.engine.conftest import base_request, load_scenarios

MORE = Path(__file__).resolve().parents[1] / "data" / "more-scenarios.yaml"
PRIORS = [PriorCounts(), PriorCounts(personal_subjects=99_999), PriorCounts(personal_subjects=999_999),
          PriorCounts(sensitive_subjects=9_999), PriorCounts(personal_subjects=5_000_000, sensitive_subjects=50_000)]


def comparable(decision: Decision) -> dict[str, Any]:
    return decision.model_dump(mode="json", exclude={"decision_id", "evaluated_at"})


def assert_same_with_and_without_caches(engine: Engine, request: TransferRequest, prior: PriorCounts) -> None:
    warm = engine.evaluate(request, prior, as_of=dt.date(2026, 11, 25))
    with plans_set_aside():
        cold = engine.evaluate(request, prior, as_of=dt.date(2026, 11, 25))
    assert comparable(warm) == comparable(cold)


def all_scenario_requests() -> list[TransferRequest]:
    bodies = [s["request"] for s in load_scenarios()]
    bodies += [s["request"] for s in yaml.safe_load(MORE.read_text(encoding="utf-8"))["scenarios"]]
    return [TransferRequest.model_validate(body) for body in bodies]


def test_every_scenario_under_every_prior_decides_the_same_from_warm_caches(engine: Engine) -> None:
    requests = all_scenario_requests()
    assert len(requests) >= 60
    for prior in PRIORS:  # the caches fill with every request before, and every prior before
        for request in requests:
            assert_same_with_and_without_caches(engine, request, prior)


def test_the_check_can_fail_a_stale_cache(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache keyed on too little must be caught: drop the facts from the key and the comparison
    above finds a request answered with another's parts."""
    requests = all_scenario_requests()
    forget_plans()
    original = decide_module.effects_of

    def effects_without_reads(fired_ids: Any, plan: Any) -> Any:
        import dataclasses

        return dataclasses.replace(original(fired_ids, plan), reads=(), read=lambda facts: ())

    monkeypatch.setattr(decide_module, "effects_of", effects_without_reads)
    try:
        with pytest.raises(AssertionError):
            for prior in PRIORS:
                for request in requests:
                    assert_same_with_and_without_caches(engine, request, prior)
    finally:
        forget_plans()  # no plan made with the broken key outlives this test


@st.composite
def varied_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Shenzhen -> Hong Kong (sometimes elsewhere) with the inputs the assembly reads varied: data,
    mechanisms in place (types, dates, filing), approvals, consent and impact assessment."""
    body = base_request(planned_date=str(draw(st.dates(dt.date(2023, 1, 1), dt.date(2027, 6, 30)))))
    body["recipient"]["jurisdiction"] = draw(st.sampled_from(["HK", "HK", "MO", "US", "CN"]))
    if body["recipient"]["jurisdiction"] == "CN":
        body["recipient"]["city"] = draw(st.sampled_from(["Shenzhen", "Shanghai"]))
    body["exporter"]["ciio"] = draw(st.booleans())
    body["data"] = []
    for _ in range(draw(st.integers(1, 2))):
        personal = draw(st.sampled_from([True, True, False]))
        body["data"].append({
            "kind": "personal" if personal else "non_personal",
            "subjects": draw(st.sampled_from([1, 5_000, 9_999, 10_000, 99_999, 100_000, 1_000_000, 2_000_000])),
            "sensitive": draw(st.lists(st.sampled_from(SENSITIVE_TYPES), max_size=2, unique=True))
            if personal else [],
            "classification": draw(st.sampled_from(["general", "general", "important"])),
            "tags": draw(st.lists(st.sampled_from(TAGS), max_size=2, unique=True)),
        })
    mechanisms = []
    for index in range(draw(st.integers(0, 2))):
        effective = draw(st.dates(dt.date(2022, 6, 1), dt.date(2027, 1, 31)))
        mechanism: dict[str, Any] = {"type": draw(st.sampled_from(MECHANISM_TYPES)),
                                     "reference": f"REF-{index}-{draw(st.integers(0, 3))}",
                                     "effective_on": str(effective)}
        if draw(st.booleans()):
            mechanism["filed_on"] = str(effective + dt.timedelta(days=draw(st.integers(0, 40))))
        mechanisms.append(mechanism)
    body["safeguards"]["mechanisms"] = mechanisms
    body["safeguards"]["separate_consent"] = draw(st.booleans())
    if draw(st.booleans()):
        body["safeguards"]["approvals"] = [{"kind": draw(st.sampled_from(APPROVAL_KINDS)), "authority": "MoJ",
                                            "granted_on": "2023-01-01"}]
    return body


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(body=varied_requests(), prior=st.sampled_from(PRIORS))
def test_varied_requests_decide_the_same_from_warm_caches(engine: Engine, body: dict[str, Any],
                                                          prior: PriorCounts) -> None:
    assert_same_with_and_without_caches(engine, TransferRequest.model_validate(body), prior)


def test_a_message_quoting_the_planned_date_is_not_reused_for_another_day(engine: Engine) -> None:
    """What is missing quotes the mechanism's reference and the planned date ("not valid on ..."):
    two requests alike but for the day must not share that text."""
    expired = {"type": "standard_contract", "reference": "SC-OLD", "effective_on": "2024-01-02",
               "filed_on": "2024-01-05", "expires_on": "2025-01-01"}
    texts = []
    for day in ("2026-12-01", "2026-12-02"):
        body = base_request(planned_date=day)
        body["data"] = [{"kind": "personal", "subjects": 200_000}]
        body["safeguards"]["mechanisms"] = [dict(expired)]
        decision = engine.evaluate(TransferRequest.model_validate(body), PriorCounts())
        assert_same_with_and_without_caches(engine, TransferRequest.model_validate(body), PriorCounts())
        texts.append(" ".join(item.text.en for item in decision.missing if item.kind == "mechanism"))
    assert "not valid on 2026-12-01" in texts[0]
    assert "not valid on 2026-12-02" in texts[1]

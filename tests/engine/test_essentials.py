"""A replay and a rules diff read what they compare of a decision made again from the model
(``engine.essentials``); a recorded decision is read from its JSON. The two readings must agree for every
decision, or a replay would report differences that are not there (or miss one that is)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.essentials import ROUTE, decision_essentials, essentials, route_of
from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.models import Decision, TransferRequest
from tests.engine.test_decide_caches import PRIORS, all_scenario_requests, varied_requests


def assert_read_alike(decision: Decision) -> None:
    from_json = essentials(decision.model_dump(mode="json"))
    assert decision_essentials(decision) == from_json
    assert route_of(decision) == {key: from_json[key] for key in (*ROUTE, "rule_ids")}


def test_every_scenario_under_every_prior_reads_alike_from_the_model_and_from_json(engine: Engine) -> None:
    seen: dict[str, int] = {"missing": 0, "satisfied_by": 0, "due_date": 0, "id_note": 0}
    for request in all_scenario_requests():
        for prior in PRIORS:
            decision = engine.evaluate(request, prior)
            assert_read_alike(decision)
            seen["missing"] += bool(decision.missing)
            seen["satisfied_by"] += decision.satisfied_by is not None
            seen["due_date"] += any(o.due_date is not None for o in decision.obligations)
            seen["id_note"] += any(r.rule == "engine.id-unverified" for r in decision.reasons)
    # the scenarios reach every part that is read differently from the model
    assert all(seen.values()), seen


@given(body=varied_requests(), prior=st.sampled_from(PRIORS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_varied_requests_read_alike_from_the_model_and_from_json(engine: Engine, body: dict[str, Any],
                                                                  prior: PriorCounts) -> None:
    assert_read_alike(engine.evaluate(TransferRequest.model_validate(body), prior))


@pytest.mark.parametrize("field", ["outcome", "mechanism_options", "missing", "obligations", "counts", "satisfied_by"])
def test_the_check_sees_a_field_read_differently(engine: Engine, field: str) -> None:
    """The comparison above can fail: a decision whose JSON says otherwise in one compared field."""
    decision = next(d for d in (engine.evaluate(r, PriorCounts()) for r in all_scenario_requests())
                    if d.missing and d.obligations and d.satisfied_by is None)
    as_json = decision.model_dump(mode="json")
    as_json[field] = {"outcome": "permitted" if decision.outcome != "permitted" else "prohibited",
                      "mechanism_options": ["certification", "security_assessment"], "missing": [],
                      "obligations": [], "satisfied_by": {"type": "certification", "reference": "X"},
                      "counts": {**as_json["counts"], "year": decision.counts.year + 1}}[field]
    assert decision_essentials(decision) != essentials(as_json)

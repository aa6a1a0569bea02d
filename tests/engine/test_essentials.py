"""A replay and a rules diff read what they compare of a decision made again from the model
(``engine.essentials``); a recorded decision is read from its JSON. The two readings must agree for every
decision, or a replay would report differences that are not there (or miss one that is)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.essentials import ROUTE, essentials_of_json, essentials_of_model, route_of
from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.models import Decision, TransferRequest
from tests.engine.test_decide_caches import PRIORS, all_scenario_requests, varied_requests


def assert_read_alike(decision: Decision) -> None:
    from_json = essentials_of_json(decision.model_dump(mode="json"))
    assert essentials_of_model(decision) == from_json
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


@pytest.mark.parametrize("field", ["outcome", "mechanism", "mechanism_options", "exemptions", "rule_ids", "missing",
                                   "obligations", "counts", "satisfied_by"])
def test_the_equality_above_sees_a_difference_in_each_compared_field(engine: Engine, field: str) -> None:
    """The equality checks above can fail: the model's reading of a decision differs from the JSON
    reading of the same decision with one compared field changed."""
    decision = next(d for d in (engine.evaluate(r, PriorCounts()) for r in all_scenario_requests())
                    if d.missing and d.obligations and d.exemptions and d.satisfied_by is None)
    as_json = decision.model_dump(mode="json")
    changed = {
        "outcome": lambda: "permitted" if decision.outcome != "permitted" else "prohibited",
        "mechanism": lambda: "security_assessment" if decision.mechanism != "security_assessment" else "none",
        "mechanism_options": lambda: [*as_json["mechanism_options"], "certification"],
        "exemptions": lambda: [],
        "rule_ids": lambda: as_json["reasons"][1:],
        "missing": lambda: [],
        "obligations": lambda: [],
        "counts": lambda: {**as_json["counts"], "year": decision.counts.year + 1},
        "satisfied_by": lambda: {"type": "certification", "reference": "X"},
    }[field]()
    as_json["reasons" if field == "rule_ids" else field] = changed
    assert essentials_of_model(decision) != essentials_of_json(as_json)

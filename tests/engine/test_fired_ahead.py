"""Rules fired ahead on guessed counts never change a decision (``engine.fired_ahead``).

A recording group fires each transfer's rules before it takes the ledger's write lock, on the counts
the process last saw, and keeps them when the counts read under the lock satisfy every rule condition
alike. Every decision here is made both ways, the rules fired on one prior and the decision made on
another, and must equal the decision made on the second prior alone in everything but its id and time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.fired_ahead import ConditionIndex
from engine.models import TransferRequest
from tests.engine.conftest import base_request
from tests.engine.test_decide_caches import all_scenario_requests, comparable, varied_requests

AS_OF = dt.date(2026, 11, 25)
NEAR = [0, 1, 5_000, 9_998, 9_999, 10_000, 10_001, 50_000, 99_998, 99_999, 100_000, 100_001, 400_000,
        999_999, 1_000_000, 1_000_001, 3_000_000]
"""Counts on both sides of every threshold the shipped packs compare a tally with, and between them."""

priors = st.builds(
    PriorCounts,
    personal_subjects=st.sampled_from(NEAR), sensitive_subjects=st.sampled_from(NEAR),
    previous_year_personal_subjects=st.sampled_from([0, 0, 99_999, 1_000_000]),
    previous_year_sensitive_subjects=st.sampled_from([0, 0, 9_999, 10_000]))


def sheet(engine: Engine, request: TransferRequest, prior: PriorCounts) -> dict[str, Any]:
    return engine.facts_and_tally(request, prior)[0]


def assert_decided_alike(engine: Engine, request: TransferRequest, guessed: PriorCounts,
                         actual: PriorCounts) -> bool:
    """The decision on ``actual`` with the rules fired on ``guessed`` equals the decision on ``actual``
    alone; returns whether the rules fired ahead were used."""
    ahead = engine.decide_ahead(request, guessed)[1]
    reused = engine.conditions.fire_alike(ahead.facts, sheet(engine, request, actual))
    with_ahead = engine.evaluate(request, actual, as_of=AS_OF, ahead=ahead)
    alone = engine.evaluate(request, actual, as_of=AS_OF)
    assert comparable(with_ahead) == comparable(alone)
    return reused


def test_every_scenario_decides_alike_with_rules_fired_on_other_counts(engine: Engine) -> None:
    """Every shipped scenario, the rules fired on counts near each threshold and the decision made on
    counts a little above, on the same or the other side: the same decisions. The rules fired ahead
    are used whenever the counts are equal and in most other pairs (the check is not refusing
    everything), and not in some (it can refuse)."""
    reused = refired = 0
    for request in all_scenario_requests():
        for count in NEAR:
            actual = PriorCounts(personal_subjects=count, sensitive_subjects=count // 100)
            assert assert_decided_alike(engine, request, actual, actual)
            for step in (1, 600):
                guessed = PriorCounts(personal_subjects=max(0, count - step),
                                      sensitive_subjects=max(0, count - step) // 100)
                if assert_decided_alike(engine, request, guessed, actual):
                    reused += 1
                else:
                    refired += 1
    assert reused > refired > 0


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(body=varied_requests(), guessed=priors, actual=priors)
def test_varied_requests_decide_alike_with_rules_fired_on_other_counts(
        engine: Engine, body: dict[str, Any], guessed: PriorCounts, actual: PriorCounts) -> None:
    assert_decided_alike(engine, TransferRequest.model_validate(body), guessed, actual)


def test_counts_across_a_threshold_fire_the_rules_again(engine: Engine) -> None:
    """99,000 individuals this year and 2,000 in this transfer: under the art. 5(4) volume below
    100,000 on the guess (98,000), at it on the counts the ledger holds (99,000): the security
    assessment's tier decides, not the exemption fired ahead."""
    body = base_request()
    body["data"] = [{"kind": "personal", "subjects": 2_000}]
    request = TransferRequest.model_validate(body)
    ahead = engine.decide_ahead(request, PriorCounts(personal_subjects=97_000))[1]
    actual = PriorCounts(personal_subjects=99_000)
    assert not engine.conditions.fire_alike(ahead.facts, sheet(engine, request, actual))
    assert comparable(engine.evaluate(request, actual, as_of=AS_OF, ahead=ahead)) == comparable(
        engine.evaluate(request, actual, as_of=AS_OF))
    assert ahead.fired != engine.decide_ahead(request, actual)[1].fired
    nearby = PriorCounts(personal_subjects=96_000)
    assert engine.conditions.fire_alike(ahead.facts, sheet(engine, request, nearby))


@pytest.mark.parametrize(("before", "after", "alike"), [
    ({"n": 5, "t": "a"}, {"n": 7, "t": "a"}, True),       # no leaf reads n
    ({"ytd": 5}, {"ytd": 99}, True),                      # both under 100
    ({"ytd": 99}, {"ytd": 100}, False),                   # across gte 100
    ({"ytd": 5}, {"ytd": 5.0}, False),                    # a change of type is never compared
    ({"ytd": True}, {"ytd": False}, False),               # only whole numbers are
    ({"t": "a"}, {"t": "b"}, False),                      # nor is any other difference
    ({"ytd": 5}, {"ytd": 5, "t": "a"}, False),            # nor other keys
])
def test_the_check_compares_whole_numbers_condition_by_condition(
        before: dict[str, Any], after: dict[str, Any], alike: bool) -> None:
    from engine.conditions import Leaf, Not

    index = ConditionIndex([Not(Leaf("ytd", "lt", 100))])
    assert index.fire_alike(before, after) is alike


def test_the_decision_made_ahead_is_used_whole_only_on_the_same_counts_and_day(engine: Engine) -> None:
    """Decided ahead on the counts the lock then reads, and on the same day: that decision, as made.
    On other counts, or another day (obligations fall due from the day decided), a decision made
    again, equal to one made without deciding ahead."""
    body = base_request()
    body["data"] = [{"kind": "personal", "subjects": 2_000, "sensitive": ["medical_health"]}]
    request = TransferRequest.model_validate(body)
    prior = PriorCounts(personal_subjects=40_000, sensitive_subjects=300)
    made, ahead = engine.decide_ahead(request, prior, AS_OF)
    assert engine.evaluate(request, PriorCounts(personal_subjects=40_000, sensitive_subjects=300), AS_OF,
                           ahead=ahead) is made
    for other_prior, day in ((PriorCounts(personal_subjects=40_001, sensitive_subjects=300), AS_OF),
                             (prior, AS_OF + dt.timedelta(days=3))):
        again = engine.evaluate(request, other_prior, day, ahead=ahead)
        assert again is not made
        assert comparable(again) == comparable(engine.evaluate(request, other_prior, day))

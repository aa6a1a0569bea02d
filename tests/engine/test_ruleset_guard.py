"""A ruleset is left out of a decision only when none of its rules can match (``engine.ruleset_guard``).

The guard answers from the reference evaluator; here every answer "no" is checked against durable-rules
itself: the sheet asserted into that ruleset alone must fire nothing. And the guard must say no often
enough to be worth its lookup: the shipped scenarios' stage 0 and 1 rulesets mostly match nothing.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings

from engine import rete
from engine.conditions import All, AnyOf, Leaf
from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.models import TransferRequest
from engine.rete import ReteError
from engine.ruleset_guard import MOST_RULES_GUARDED, RulesetGuard, top_level_comparisons
from engine.rulespec import load_pack_set
from tests.engine.conftest import RULES, base_request
from tests.engine.test_decide_caches import all_scenario_requests
from tests.engine.test_fired_ahead import NEAR
from tests.engine.test_rete import requests

_ENGINE = Engine(load_pack_set(RULES))


def _guard_is_right(engine: Engine, request: TransferRequest, prior: PriorCounts) -> tuple[int, int]:
    """Every ruleset of every stage asserted into, unguarded, with the sheet as its stage sees it (the
    exemptions found before); wherever a stage's guard says no, durable-rules fired nothing in it.
    Returns (guarded stages asked, said no)."""
    exempt_by_rule = {rule.id: rule.then.exempt for rule in engine.pack_set.rules if rule.then.exempt}
    facts = engine.facts_and_tally(request, prior)[0]
    exemptions: frozenset[str] = frozenset()
    asked = said_no = 0
    for stage in sorted(engine.compiled.stages):
        sheet = dict(facts, exemption=exemptions)
        fired = [rule for ruleset in engine.compiled.stages[stage] for rule in rete.fire([ruleset.name], dict(sheet))]
        guard = engine.stage_guards.get(stage)
        if guard is not None:
            asked += 1
            if not guard.may_match(sheet):
                said_no += 1
                assert fired == [], (stage, request.reference, fired)
        exemptions = exemptions.union(exempt_by_rule[r] for r in fired if r in exempt_by_rule)
    return asked, said_no


def test_every_no_of_the_guards_on_the_scenarios_is_durable_rules_own_answer() -> None:
    asked = said_no = 0
    for request in all_scenario_requests():
        for count in NEAR:
            a, n = _guard_is_right(_ENGINE, request, PriorCounts(personal_subjects=count))
            asked, said_no = asked + a, said_no + n
    assert asked > 0
    assert said_no > asked // 2  # worth its lookup: most asks of the small stages match nothing


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests())
def test_every_no_of_the_guards_on_random_requests_is_durable_rules_own_answer(request: TransferRequest) -> None:
    _guard_is_right(_ENGINE, request, PriorCounts())


def test_only_comparisons_every_rule_needs_are_used() -> None:
    """Under ``all``, a comparison is needed; under ``any`` it is not."""
    a = Leaf("leaves_mainland", "eq", True, 1)
    b = Leaf("data.has_personal", "eq", True, 2)
    assert list(top_level_comparisons(All((a, All((b,)))))) == [a, b]
    assert list(top_level_comparisons(AnyOf((a, b)))) == []
    assert list(top_level_comparisons(All((a, AnyOf((b,)))))) == [a]


def test_numbers_are_never_part_of_the_answers_key() -> None:
    """The residual exemption (stage 1) reads this year's tally, a number: its ruleset is guarded by its
    flags alone, so the answers kept do not grow with every tally seen."""
    rules = [rule for rule in _ENGINE.pack_set.rules if rule.stage == 1]
    guard = RulesetGuard(rules, _ENGINE.pack_set.registry)
    assert guard.guards
    assert "ytd.personal_subjects" not in guard.facts
    assert {"leaves_mainland", "data.has_sensitive", "exemption"} <= set(guard.facts)


def test_a_large_ruleset_is_always_asked() -> None:
    rules = [rule for rule in _ENGINE.pack_set.rules if rule.stage == 0]
    assert RulesetGuard(rules[:MOST_RULES_GUARDED], _ENGINE.pack_set.registry).guards
    many = [replace(rules[0], id=f"x.copy-{n}") for n in range(MOST_RULES_GUARDED + 1)]
    assert not RulesetGuard(many, _ENGINE.pack_set.registry).guards


def test_a_ruleset_with_a_rule_that_needs_no_few_valued_comparison_is_always_asked() -> None:
    only_a_tally = Leaf("ytd.personal_subjects", "gte", 100_000, 1)
    rule = next(rule for rule in _ENGINE.pack_set.rules if rule.stage == 1)
    guard = RulesetGuard([rule, replace(rule, id="x.tally-only", when=only_a_tally)], _ENGINE.pack_set.registry)
    assert not guard.guards


def test_a_sheet_lacking_a_fact_a_guarded_stage_reads_is_refused_not_skipped() -> None:
    """The writers refuse a sheet lacking a fact a ruleset reads (``ReteError`` naming it): read as
    unknown, it would change silently which rules fire. The guard asks such a stage rather than answer
    for it (found by review: it had skipped the stage, and the art. 4 exemption with it)."""
    request = TransferRequest.model_validate(base_request(data=[
        {"kind": "personal", "subjects": 50, "collected_outside_mainland": True}]))
    facts = _ENGINE.facts_and_tally(request, PriorCounts())[0]
    assert facts["leaves_mainland"] and facts["data.all_collected_outside_mainland"]
    del facts["data.all_collected_outside_mainland"]  # read by stage 0 only
    with pytest.raises(ReteError, match="all_collected_outside_mainland"):
        _ENGINE.fire(facts)

"""Which rulesets a fact sheet need not be asserted into, because no rule of theirs can match it.

Why: durable-rules charges an assertion the same whether a rule matches or not (a fresh session, the
sheet written as the ruleset's JSON message, the state deleted afterwards: most of what a small ruleset
costs), and most assertions into the small rulesets match nothing: the exemptions of stage 0 each need
one purpose, the residual one of stage 1 needs no exemption found before it and no sensitive data.

How it knows, exactly: a rule is compiled from its condition in negation normal form (``engine.
compiler``), which is usually an ``all`` of comparisons. When, for every rule of a ruleset, one of
those top-level comparisons is false on the sheet, no rule of it can fire, and the ruleset is not
asked. Only comparisons on facts of few values are used (flags, enumerations, sets of them and the
options), so the answer is worked out once per combination of their values, by the reference
evaluator (``engine.conditions.evaluate_normal_form``, which tests/engine/test_rete.py holds to the
compiled network), and kept: a decision pays one itemgetter and one dictionary lookup a ruleset. A
ruleset with a rule that has no such comparison is always asked. A rule's effective window is left
to durable-rules: a rule out of force matches nothing either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from engine.conditions import All, Condition, Leaf, evaluate_normal_form, fact_getter, negation_normal_form
from engine.fact_registry import FactRegistry
from engine.rulespec import RuleSpec

FEW_VALUED_TYPES = frozenset({"bool", "enum", "set"})
"""Fact types whose values combine in few ways: a number, a date or free text would make one entry per
value seen (the tallies read by the threshold rules change with every transfer)."""

ANSWERS_KEPT = 4096

MOST_RULES_GUARDED = 8
"""A stage of more rules is always asked: the more rules, the likelier one of them may match, and the
longer the key of its answers. Measured on the shared scenarios (6 December 2026): the 6 exemptions of
stage 0 matched nothing in 89 of 105 assertions, the residual one of stage 1 in 60 of 105, the 38
rules of 2022-2025 in stage 2 in none of 43."""


def top_level_comparisons(condition: Condition) -> Iterator[Leaf]:
    """The comparisons a condition in negation normal form needs all of: itself if it is one, the
    comparisons directly under its ``all`` if it is one; none under ``any``."""
    if isinstance(condition, Leaf):
        yield condition
    elif isinstance(condition, All):
        for item in condition.items:
            yield from top_level_comparisons(item)


class RulesetGuard:
    """Whether a fact sheet may match some rule of one ruleset (``may_match``); never says no wrongly."""

    def __init__(self, rules: Sequence[RuleSpec], registry: FactRegistry) -> None:
        needs: list[tuple[Leaf, ...]] = []
        for rule in rules if len(rules) <= MOST_RULES_GUARDED else ():
            leaves = tuple(leaf for leaf in top_level_comparisons(negation_normal_form(rule.when))
                           if _few_valued(registry, leaf.fact))
            if not leaves:
                needs = []  # this rule may match any sheet as far as such comparisons tell
                break
            needs.append(leaves)
        self.rules_need: tuple[tuple[Leaf, ...], ...] = tuple(needs)
        """Per rule, the comparisons on few-valued facts it needs all of (none: the guard never skips)."""
        self.facts = tuple(sorted({leaf.fact for leaves in needs for leaf in leaves}))
        self._read = fact_getter(self.facts)
        self._answers: dict[tuple[Any, ...], bool] = {}

    @property
    def guards(self) -> bool:
        """Whether this guard can ever say no (at most MOST_RULES_GUARDED rules, each needing some
        comparison on a few-valued fact)."""
        return bool(self.rules_need)

    def may_match(self, facts: Mapping[str, Any]) -> bool:
        """Whether some rule may match ``facts``; False only when every rule needs a comparison that is
        false on them. On every decision's path: one itemgetter and one lookup once the values were seen."""
        try:
            values = self._read(facts)
        except KeyError:  # a sheet not from derive_facts: asked, so the ruleset's writer refuses it by name
            return True
        answer = self._answers.get(values)
        if answer is None:
            answer = self._work_out(values)
        return answer

    def _work_out(self, values: tuple[Any, ...]) -> bool:
        sheet = dict(zip(self.facts, values, strict=True))
        answer = any(all(evaluate_normal_form(leaf, sheet) for leaf in leaves) for leaves in self.rules_need)
        if len(self._answers) >= ANSWERS_KEPT:
            self._answers.clear()
        self._answers[values] = answer
        return answer


def _few_valued(registry: FactRegistry, fact: str) -> bool:
    spec = registry.get(fact)
    return spec is not None and spec.type in FEW_VALUED_TYPES

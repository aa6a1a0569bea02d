"""The volume thresholds the packs in force use, read from the rules themselves.

An exporter's page (issue 23 point 4) shows this year's counts against the thresholds that change
the route: today 100,000 and 1,000,000 individuals, 10,000 sensitive. Writing those numbers into the
page would leave it wrong the day a pack changes them, so they are read here from every rule in force
that decides a route (``require`` or ``prohibit``) with a lower bound (``gte`` or ``gt``) on a
year-to-date tally, in a position where the bound makes the rule fire (not under a ``not``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from engine.conditions import All, AnyOf, Condition, Leaf, Not
from engine.rulespec import PackSet, RuleSpec

TALLY_FACTS = ("ytd.personal_subjects", "ytd.sensitive_subjects")
"""The year-to-date tallies a running count in the ledger feeds (DESIGN section 5)."""

LEVEL_ORDER = {"none": 0, "standard_contract": 1, "gba_standard_contract": 1, "certification": 1,
               "security_assessment": 2, "prohibited": 3}
"""DESIGN section 3: the strongest requirement wins; the contract tier's options rank alike."""


@dataclass(frozen=True)
class Threshold:
    """From ``value`` individuals on (this transfer included) a rule requires ``level``."""

    fact: str
    value: int
    level: str
    rule_id: str
    cite: str


def _lower_bounds(condition: Condition, negated: bool = False) -> Iterator[Leaf]:
    """Leaves that set a lower bound where the condition holds (``not`` turns gte into lt: skipped)."""
    if isinstance(condition, Leaf):
        if not negated and condition.op in ("gte", "gt") and isinstance(condition.value, int | float):
            yield condition
    elif isinstance(condition, All | AnyOf):
        for item in condition.items:
            yield from _lower_bounds(item, negated)
    elif isinstance(condition, Not):
        yield from _lower_bounds(condition.item, not negated)


def _level(rule: RuleSpec) -> str:
    if rule.then.prohibit:
        return "prohibited"
    strongest = max(rule.then.require, key=lambda level: LEVEL_ORDER.get(level, 0))
    return "standard_contract" if LEVEL_ORDER.get(strongest) == 1 else strongest


def thresholds_in_force(pack_set: PackSet, on: dt.date) -> dict[str, list[Threshold]]:
    """Tally fact -> its thresholds in force on ``on``, lowest first; one per value (the strongest level
    any rule requires from it). Tallies no rule bounds are left out."""
    found: dict[str, dict[int, Threshold]] = {}
    for rule in pack_set.rules:
        if not rule.in_force(on) or not (rule.then.require or rule.then.prohibit):
            continue
        for leaf in _lower_bounds(rule.when):
            if leaf.fact not in TALLY_FACTS:
                continue
            value = int(leaf.value) + (1 if leaf.op == "gt" else 0)
            candidate = Threshold(leaf.fact, value, _level(rule), rule.id, rule.cite)
            held = found.setdefault(leaf.fact, {}).get(value)
            if held is None or LEVEL_ORDER[candidate.level] > LEVEL_ORDER[held.level]:
                found[leaf.fact][value] = candidate
    return {fact: sorted(by_value.values(), key=lambda t: t.value) for fact, by_value in found.items()}


def next_threshold(thresholds: list[Threshold], count: int) -> Threshold | None:
    """The first threshold above ``count`` whose level is stronger than what ``count`` already needs:
    where the next route begins. None when no stronger route lies ahead."""
    reached = max((LEVEL_ORDER[t.level] for t in thresholds if t.value <= count), default=0)
    for threshold in thresholds:
        if threshold.value > count and LEVEL_ORDER[threshold.level] > reached:
            return threshold
    return None

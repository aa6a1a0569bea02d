"""Rules fired ahead: a transfer's rules run on counts guessed before the ledger's write lock is taken,
and kept when the counts read under the lock could not make another rule fire.

Why: a recorded transfer is decided on its exporter's counts as they stand when its group holds the
write lock (DESIGN section 5), so the whole decision was made under that lock, and with several
workers (`serve --workers 2`) the lock was the limit (issue 21; docs/performance.md, session 9).
Most of a decision is durable-rules firing the packs' rules. Firing them ahead, outside the lock, on
counts read just before it, and checking under the lock that the counts read there satisfy every
rule condition exactly as the guessed ones did, leaves only the facts, the check and the decision's
assembly under the lock; when the check fails, the rules are fired again there, as before.

When the counts read under the lock are the ones guessed (one writer process: the guess is read just
before the lock and carried through the group as the group carries its counts) and the day is the
same, the decision made ahead is used whole: only the check is left under the lock.

Why the check is exact, not a heuristic: a compiled rule reads only the facts its conditions name, and
every condition is a leaf comparing one fact with a constant, combined with and/or after negation is
pushed to the leaves (``engine.compiler``; its window compares the planned date, which is the
request's own). So two fact sheets fire the same rules when, for every fact whose value differs
between them, each leaf on that fact in any rule of the packs holds for both values or for neither,
and the exemptions found by one stage, which the next reads, then are the same too. Only whole
numbers are compared that way (the tallies the counts feed); any other difference, or a difference
of type, fires the rules again. tests/engine/test_fired_ahead.py decides random requests on random
counts both ways and compares the decisions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.conditions import Condition, Leaf, evaluate_normal_form, leaves_of, negation_normal_form
from engine.facts import PriorCounts
from engine.models import Decision


@dataclass(frozen=True)
class FiredAhead:
    """One request decided ahead on a guessed prior: the prior and day it was decided on and the
    decision (used whole when the request is finally decided on the same prior and day: a decision is
    a function of those, the request and the engine), the sheet the rules were fired on (before the
    stages wrote the exemptions into it), the rules fired, and the exemptions the stages found."""

    prior: PriorCounts
    as_of: dt.date
    decision: Decision
    facts: Mapping[str, Any]
    fired: list[str]
    exemptions: Any


class ConditionIndex:
    """Every leaf of the packs' rule conditions (in negation normal form, as compiled), by fact."""

    def __init__(self, conditions: Iterable[Condition]) -> None:
        by_fact: dict[str, list[Leaf]] = {}
        for condition in conditions:
            for leaf in leaves_of(negation_normal_form(condition)):
                by_fact.setdefault(leaf.fact, []).append(leaf)
        self._by_fact = {fact: tuple(leaves) for fact, leaves in by_fact.items()}

    def fire_alike(self, ahead: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
        """Whether the rules fire on ``facts`` as they fired on ``ahead`` (both straight from
        ``derive_facts_and_tally`` for the same request and engine, before firing)."""
        if ahead.keys() != facts.keys():
            return False
        for name, value in facts.items():
            before = ahead[name]
            if value is before:
                continue
            if type(value) is not type(before):
                return False
            if value == before:
                continue
            if type(value) is not int:
                return False  # only the tallies' whole numbers are compared condition by condition
            for leaf in self._by_fact.get(name, ()):
                if evaluate_normal_form(leaf, {name: value}) != evaluate_normal_form(leaf, {name: before}):
                    return False
        return True

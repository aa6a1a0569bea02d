"""What decide needs of a pack set, worked out once per pack set, and the caches it fills.

A plan is keyed by the pack set's digest (same digest, same content) and holds two kinds of thing:

- what follows from the pack set alone: each rule's precedence and the facts its condition reads,
  obligations in negation normal form, the mechanisms offered only where made eligible;
- caches of what engine.decide built before: the effects of a set of fired rules, reasons,
  obligation results, counts, whole assembled parts keyed by every input they read. Most requests
  repeat a few shapes, and every cached value is immutable. Each cache is bounded: cleared at
  :data:`CACHE_LIMIT` entries, so memory stays flat over millions of evaluations.

tests/engine/test_decide_caches.py decides every scenario from warm caches and from cold ones
(:func:`plans_set_aside`) and compares.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from engine.conditions import Condition, FactGetter, fact_getter, facts_read, negation_normal_form
from engine.models import (
    Counts,
    Decision,
    MissingItem,
    ObligationResult,
    Outcome,
    Reason,
    RulesInfo,
    SatisfiedBy,
)
from engine.rule_effects import Effects, facts_of_obligations, precedence
from engine.rulespec import ObligationSpec, PackSet, RuleSpec

CACHE_LIMIT = 4096
"""Entries per cache of a plan: enough for the shapes of a busy day, small enough that memory stays
flat over millions of evaluations (DESIGN section 9)."""


@dataclass(frozen=True)
class Assembled:
    """The parts of a decision that follow from the fired rules and the facts they read: everything
    but the id, the time, the counts and the pack versions."""

    reasons: tuple[Reason, ...]
    satisfied_by: SatisfiedBy | None
    missing: tuple[MissingItem, ...]
    obligations: tuple[ObligationResult, ...]
    outcome: Outcome


class AssembledEntry:
    """A key's assembled parts and the first decision made from them: later decisions of that key
    are copies of it with their own id, reference, counts, rules info, time (and notes)."""

    __slots__ = ("first", "parts")

    def __init__(self, parts: Assembled) -> None:
        self.parts = parts
        self.first: Decision | None = None


@dataclass(frozen=True)
class Plan:
    """What decide needs of a pack set, worked out once per digest (same digest, same content)."""

    by_id: dict[str, RuleSpec]
    order: dict[str, tuple[tuple[int, int], int]]
    """Rule id -> (its precedence, its position in the pack set): the order of the reasons."""
    reads: dict[str, tuple[str, ...]]
    readers: dict[str, FactGetter]
    """Rule id -> the getter of the facts its condition reads (``reads``), as one tuple."""
    kinds: dict[str, str]
    satisfied: dict[str, Condition | None]
    """Obligation id -> its ``satisfied_when`` in negation normal form."""
    due: dict[str, str]
    gated: frozenset[str]
    versions: dict[str, str]
    reasons: dict[tuple[Any, ...], Reason]
    """Reasons already built, by rule id and the values of the facts it read: most requests repeat
    the same few shapes, and a Reason is immutable. Bounded (cleared at CACHE_LIMIT entries)."""
    obligations: dict[tuple[Any, ...], tuple[ObligationResult, MissingItem]]
    """Obligation results by id, whether satisfied and the day its due date counts from."""
    obligation_reads: dict[tuple[str, ...], tuple[str, ...]]
    obligation_sets: dict[tuple[Any, ...], tuple[list[ObligationResult], list[MissingItem]]]
    """Whole obligation lists by their ids and the values of the facts those read."""
    effects: dict[tuple[str, ...], Effects]
    """What the rules that fired say together, by the fired rule ids (their only input)."""
    assembled: dict[tuple[Any, ...], AssembledEntry]
    """Assembled decision parts by the fired rule ids and every input the assembly reads (see
    :attr:`engine.rule_effects.Effects.reads`): a request shape seen before costs one lookup."""
    obligation_facts: dict[str, tuple[str, ...]]
    """Obligation id -> the facts it reads (``satisfied_when`` and the day its due date counts from)."""
    counts: dict[tuple[int, int, int, int, int, bool, bool], Counts]
    """Counts already built, by their values."""
    rules_info: list[tuple[dt.date, dict[str, Any], RulesInfo] | None]
    """One slot: (as-of day, options, RulesInfo) of the last decision (engine.decide reuses it)."""


_PLANS: dict[str, Plan] = {}


def forget_plans() -> None:
    """Drop every pack set's plan and its caches: the next decisions work them out again, as a fresh
    process would (``baygate bench`` measures from there)."""
    _PLANS.clear()


@contextmanager
def plans_set_aside() -> Iterator[None]:
    """Decide from empty plans and caches inside the block; the ones before come back after it: the
    tests of the caches compare a decision from warm caches with the same one from cold."""
    global _PLANS
    saved, _PLANS = _PLANS, {}
    try:
        yield
    finally:
        _PLANS = saved


def plan_for(pack_set: PackSet) -> Plan:
    """The pack set's plan, made on its first decision."""
    plan = _PLANS.get(pack_set.digest)
    if plan is None:
        plan = Plan(
            by_id={rule.id: rule for rule in pack_set.rules},
            order={rule.id: (precedence(rule), position) for position, rule in enumerate(pack_set.rules)},
            reads={rule.id: tuple(sorted(facts_read(rule.when))) for rule in pack_set.rules},
            readers={rule.id: fact_getter(tuple(sorted(facts_read(rule.when)))) for rule in pack_set.rules},
            kinds={rule.id: rule.then.kind for rule in pack_set.rules},
            satisfied={oid: None if spec.satisfied_when is None else negation_normal_form(spec.satisfied_when)
                       for oid, spec in pack_set.obligations.items()},
            due={oid: spec.due.describe() for oid, spec in pack_set.obligations.items()},
            gated=pack_set.gated_mechanisms,
            versions=pack_set.versions,
            reasons={},
            obligations={},
            obligation_reads={},
            obligation_sets={},
            effects={},
            assembled={},
            obligation_facts={oid: _facts_of_obligation(spec) for oid, spec in pack_set.obligations.items()},
            counts={},
            rules_info=[None],
        )
        _PLANS[pack_set.digest] = plan
    return plan


def _facts_of_obligation(spec: ObligationSpec) -> tuple[str, ...]:
    names: dict[str, None] = {}
    if spec.satisfied_when is not None:
        names.update(dict.fromkeys(sorted(facts_read(spec.satisfied_when))))
    if spec.due.after:
        names[spec.due.after] = None
    return tuple(names)


def obligation_reads(oids: tuple[str, ...], plan: Plan) -> tuple[str, ...]:
    """The facts these obligations read together, in a fixed order (remembered per set of ids)."""
    reads = plan.obligation_reads.get(oids)
    if reads is None:
        reads = plan.obligation_reads[oids] = facts_of_obligations(oids, plan.obligation_facts)
    return reads


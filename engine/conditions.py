"""Conditions of the rule language: their tree, negation normal form, and a reference evaluator.

A rule's `when:` is parsed into this small tree. Before compiling to durable-rules, `not` is
pushed down to the leaves (De Morgan), because durable-rules has no negation of a sub-expression.
The same normal form is evaluated here in plain Python: obligations' `satisfied_when` use it, and
the tests compare it with the Rete network on random inputs, so the two can never drift apart.

Unknown (optional, absent) facts make every comparison false, negated or not: a rule never fires on
what the request did not say.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

NEGATED_OP = {
    "eq": "ne",
    "ne": "eq",
    "in": "not_in",
    "not_in": "in",
    "gt": "lte",
    "gte": "lt",
    "lt": "gte",
    "lte": "gt",
    "contains": "not_contains",
    "not_contains": "contains",
}
COMPARISON_OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "exists")


@dataclass(frozen=True)
class Leaf:
    """``{fact: NAME, OP: VALUE}``."""

    fact: str
    op: str
    value: Any
    line: int = 0


@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Leaf | All | AnyOf | Not


def negation_normal_form(cond: Condition, negate: bool = False) -> Condition:
    """Push every `not` down to the leaves (De Morgan), leaving only All, AnyOf and leaves."""
    if isinstance(cond, Not):
        return negation_normal_form(cond.item, not negate)
    if isinstance(cond, All):
        items = tuple(negation_normal_form(item, negate) for item in cond.items)
        return AnyOf(items) if negate else All(items)
    if isinstance(cond, AnyOf):
        items = tuple(negation_normal_form(item, negate) for item in cond.items)
        return All(items) if negate else AnyOf(items)
    if not negate:
        return cond
    if cond.op == "exists":
        return Leaf(cond.fact, "exists", not cond.value, cond.line)
    return Leaf(cond.fact, NEGATED_OP[cond.op], cond.value, cond.line)


def leaves_of(cond: Condition) -> Iterator[Leaf]:
    """Every comparison in a condition, under any combinator."""
    if isinstance(cond, Leaf):
        yield cond
    elif isinstance(cond, Not):
        yield from leaves_of(cond.item)
    else:
        for item in cond.items:
            yield from leaves_of(item)


def facts_read(cond: Condition) -> set[str]:
    """The names of the facts a condition reads."""
    return {leaf.fact for leaf in leaves_of(cond)}


FactGetter = Callable[[Mapping[str, Any]], tuple[Any, ...]]
"""The values of some facts from a fact sheet, as one tuple (see :func:`fact_getter`)."""


def fact_getter(names: tuple[str, ...]) -> FactGetter:
    """itemgetter of ``names`` that always returns a tuple (itemgetter of one name returns the value):
    a cache key of fact values in one call, in C."""
    if len(names) == 1:
        single = operator.itemgetter(names[0])
        return lambda facts: (single(facts),)
    if not names:
        return lambda facts: ()
    return operator.itemgetter(*names)


def values_of(read: FactGetter, names: tuple[str, ...], facts: Mapping[str, Any]) -> tuple[Any, ...]:
    """The values of ``names`` (``read`` is their :func:`fact_getter`); a fact sheet not from
    derive_facts may lack a fact, which then reads as unknown, as ``.get`` says."""
    try:
        return read(facts)
    except KeyError:
        return tuple([facts.get(name) for name in names])


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "exists":
        present = actual is not None and (not isinstance(actual, frozenset) or bool(actual))
        return present is bool(expected)
    if actual is None:
        return False
    if op in ("contains", "not_contains"):
        found = expected in actual
        return found if op == "contains" else not found
    if isinstance(actual, bool) or isinstance(expected, bool):
        if op == "eq":
            return actual is expected
        if op == "ne":
            return actual is not expected
    result: bool
    if op == "eq":
        result = actual == expected
    elif op == "ne":
        result = actual != expected
    elif op == "in":
        result = actual in expected
    elif op == "not_in":
        result = actual not in expected
    elif op == "gt":
        result = actual > expected
    elif op == "gte":
        result = actual >= expected
    elif op == "lt":
        result = actual < expected
    elif op == "lte":
        result = actual <= expected
    else:  # pragma: no cover - the loader rejects unknown operators
        raise ValueError(f"unknown operator {op}")
    return result


def evaluate(cond: Condition, facts: Mapping[str, Any]) -> bool:
    """Evaluate a condition on a fact sheet, with the same semantics as the compiled Rete network."""
    nnf = negation_normal_form(cond)
    return evaluate_normal_form(nnf, facts)


def evaluate_normal_form(cond: Condition, facts: Mapping[str, Any]) -> bool:
    """:func:`evaluate` of a condition already in :func:`negation_normal_form`: for callers that keep
    conditions in that form (decide does, per obligation) and so skip the conversion per evaluation."""
    if isinstance(cond, All):
        return all(evaluate_normal_form(item, facts) for item in cond.items)
    if isinstance(cond, AnyOf):
        return any(evaluate_normal_form(item, facts) for item in cond.items)
    if isinstance(cond, Not):  # pragma: no cover - not present in normal form
        return not evaluate_normal_form(cond.item, facts)
    return _compare(cond.op, facts.get(cond.fact), cond.value)


def describe_value(value: Any) -> Any:
    """A JSON-friendly form of a fact value for reasons."""
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value

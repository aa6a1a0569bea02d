"""Reading a rule's ``when`` (or an obligation's ``satisfied_when``) into a condition tree, checking
each comparison against the fact registry: the fact exists, the operator suits its type, the literal
is one the fact can hold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from engine.conditions import COMPARISON_OPS, All, AnyOf, Condition, Leaf, Not
from engine.fact_registry import FactRegistry
from engine.literals import literal_problem
from engine.rulespec.yamlnodes import Issues, as_date, line_of, plain


class ConditionParser:
    def __init__(self, registry: FactRegistry, out: Issues, rule_id: str | None, stored: bool = False) -> None:
        self.registry = registry
        self.out = out
        self.rule_id = rule_id
        self.ok = True
        self.stored = stored
        """Reading a pack text recorded in the ledger: a retired literal is read as what it meant."""

    def fail(self, line: int, message: str) -> None:
        self.ok = False
        self.out.add(line, self.rule_id, message)

    def parse(self, node: Any, line: int) -> Condition:
        if not isinstance(node, Mapping):
            self.fail(line, "a condition must be a mapping ({fact: ..., OP: ...}, all, any or not)")
            return All(())
        keys = set(node.keys())
        if keys & {"all", "any", "not"}:
            if len(keys) != 1:
                self.fail(line, f"a combinator stands alone in its mapping, found keys {sorted(keys)}")
                return All(())
            key = next(iter(keys))
            inner_line = line_of(node, key)
            if key == "not":
                return Not(self.parse(node["not"], inner_line))
            items = node[key]
            if not isinstance(items, list):
                self.fail(inner_line, f"'{key}' takes a list of conditions")
                return All(())
            parsed = tuple(self.parse(item, line_of(items, i) or inner_line) for i, item in enumerate(items))
            return All(parsed) if key == "all" else AnyOf(parsed)
        if "fact" not in node:
            self.fail(line, f"a condition needs 'fact' or one of all/any/not, found keys {sorted(map(str, keys))}")
            return All(())
        fact = node["fact"]
        ops = [k for k in node if k != "fact"]
        if len(ops) != 1:
            self.fail(line, f"condition on {fact} needs exactly one operator, found {ops or 'none'}")
            return All(())
        op = str(ops[0])
        if op not in COMPARISON_OPS:
            self.fail(line, f"unknown operator '{op}' (known: {', '.join(COMPARISON_OPS)})")
            return All(())
        spec = self.registry.get(str(fact))
        if spec is None:
            self.fail(line, f"unknown fact '{fact}' (see `baygate facts`)")
            return All(())
        value = self._check_value(spec.name, spec.type, spec.values, spec.optional, op, plain(node[op]), line)
        return Leaf(spec.name, op, value, line)

    def _check_value(self, name: str, ftype: str, values: tuple[str, ...], optional: bool, op: str,
                     value: Any, line: int) -> Any:
        def bad(expected: str) -> Any:
            self.fail(line, f"fact '{name}' is a {ftype}: '{op}' needs {expected}, got {value!r}")
            return value

        if op == "exists":
            if not isinstance(value, bool):
                return bad("true or false")
            if not optional and ftype != "set":
                return bad("an optional fact or a set (this fact always has a value)")
            return value
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                return bad("a non-empty list")
            if ftype == "set":
                return bad("'contains' (a set is tested with contains or exists)")
            return tuple(self._scalar(name, ftype, values, "eq", v, line) for v in value)
        if op == "contains":
            if ftype != "set":
                return bad("a set fact ('contains' tests membership of a set)")
            return self._scalar(name, "enum", values, op, value, line)
        if ftype == "set":
            return bad("'contains' or 'exists'")
        if op in ("gt", "gte", "lt", "lte") and ftype not in ("number", "date"):
            return bad("a number or date fact (order comparisons)")
        return self._scalar(name, ftype, values, op, value, line)

    def _scalar(self, name: str, ftype: str, values: tuple[str, ...], op: str, value: Any, line: int) -> Any:
        if ftype == "number":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                self.fail(line, f"fact '{name}' is a number: '{op}' cannot compare it with {value!r}")
            return value
        if ftype == "bool":
            if not isinstance(value, bool):
                self.fail(line, f"fact '{name}' is a bool: '{op}' needs true or false, got {value!r}")
            return value
        if ftype == "date":
            parsed = as_date(value)
            if parsed is None:
                self.fail(line, f"fact '{name}' is a date: '{op}' needs a YYYY-MM-DD date, got {value!r}")
            return parsed
        if not isinstance(value, str):
            self.fail(line, f"fact '{name}' is a {ftype}: '{op}' cannot compare it with {value!r}")
            return value
        spec = self.registry.get(name)
        if spec is not None:
            if self.stored:
                value = dict(spec.retired).get(value, value)
            problem = literal_problem(spec, value)
            if problem is not None:
                self.fail(line, problem)
        return value

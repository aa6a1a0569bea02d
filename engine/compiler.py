"""Compile validated rules into durable-rules JSON rulesets, and encode fact sheets for them.

durable-rules is fragile around booleans, missing fields and ``$ex``/``$nex`` (measured: segfaults
and hangs, see tests/test_rete.py), so the encoding keeps every value it sees an integer or a string
and every key present: booleans become 1/0, dates their ordinal day, a set one 1/0 key per member,
and an optional fact a ``__present`` flag beside its value. Conditions are put in negation normal
form first (De Morgan), ``in`` becomes ``$or``, and every rule also tests its effective window
against ``planned_date``, so that only rules in force on the planned date can fire in the network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.conditions import All, AnyOf, Condition, Leaf, negation_normal_form
from engine.facts import FactRegistry, FactSpec, FactValue
from engine.rulespec import PackSet, RuleSpec

MAX_RULES_PER_RULESET = 60
"""durable-rules hangs at about 512 rules in one ruleset (DESIGN section 7), and, measured here, its
alpha network walks a fixed stack of 64 nodes: when more than 63 rules of one ruleset match the same
fact it fails with error 303 (ERR_MAX_STACK_SIZE). Rulesets of at most 60 rules stay below both."""

SEEN_KEY = "__seen"
"""Every ruleset has a catch-all rule on this key, so no fact is ever unhandled: an unhandled fact
raises MessageNotHandledException and, measured here, then crashes the process on state deletion."""
SEEN_RULE = "__seen__"
STAGES = (0, 1, 2)


def key_of(name: str) -> str:
    return name.replace(".", "__")


@dataclass(frozen=True)
class CompiledRuleset:
    name: str
    stage: int
    definition: dict[str, Any]
    rule_ids: tuple[str, ...]


@dataclass(frozen=True)
class CompiledPackSet:
    """The rulesets of a pack set, by stage; names carry the digest so versions never collide."""

    digest: str
    stages: dict[int, tuple[CompiledRuleset, ...]]
    keys: frozenset[str]
    """Every fact key some compiled condition reads: only these are asserted (durable-rules parses
    every property of a fact, and refuses facts of more than 255 properties)."""


def _keys_in(expression: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(expression, dict):
        for key, value in expression.items():
            if key.startswith("$") or key in ("all", "any", "m"):
                found |= _keys_in(value)
            else:
                found.add(key)
    elif isinstance(expression, list):
        for item in expression:
            found |= _keys_in(item)
    return found


def ruleset_keys(definition: Mapping[str, Any]) -> frozenset[str]:
    """The fact keys the rules of one ruleset read."""
    keys: set[str] = set()
    for rule in definition.values():
        keys |= _keys_in(rule)
    return frozenset(keys)


def _scalar(spec: FactSpec, value: Any) -> Any:
    if spec.type == "bool":
        return 1 if value else 0
    if spec.type == "date":
        return value.toordinal() if isinstance(value, dt.date) else 0
    return value


def _leaf(leaf: Leaf, spec: FactSpec) -> dict[str, Any]:
    key = key_of(leaf.fact)
    op, value = leaf.op, leaf.value
    if spec.type == "set":
        if op == "exists":
            return {f"{key}__any": 1 if value else 0}
        member = f"{key}__{value}"
        return {member: 1 if op == "contains" else 0}
    if op == "exists":
        return {f"{key}__present": 1 if value else 0}
    if op == "eq":
        expr: dict[str, Any] = {key: _scalar(spec, value)}
    elif op == "ne":
        expr = {"$neq": {key: _scalar(spec, value)}}
    elif op == "in":
        expr = {"$or": [{key: _scalar(spec, v)} for v in value]}
    elif op == "not_in":
        expr = {"$and": [{"$neq": {key: _scalar(spec, v)}} for v in value]}
    else:
        expr = {f"${op}": {key: _scalar(spec, value)}}
    if spec.optional:
        return {"$and": [{f"{key}__present": 1}, expr]}
    return expr


def compile_condition(cond: Condition, registry: FactRegistry) -> dict[str, Any]:
    """A condition in negation normal form as a durable-rules expression."""
    nnf = negation_normal_form(cond)
    return _compile_nnf(nnf, registry)


def _compile_nnf(cond: Condition, registry: FactRegistry) -> dict[str, Any]:
    if isinstance(cond, Leaf):
        spec = registry.get(cond.fact)
        assert spec is not None, cond.fact  # the loader rejected unknown facts
        return _leaf(cond, spec)
    if isinstance(cond, All):
        return {"$and": [_compile_nnf(item, registry) for item in cond.items] or [{SEEN_KEY: 1}]}
    if isinstance(cond, AnyOf):
        if not cond.items:
            return {SEEN_KEY: 2}  # an empty `any` is false: no fact carries 2
        return {"$or": [_compile_nnf(item, registry) for item in cond.items]}
    raise TypeError(f"not in negation normal form: {cond!r}")  # pragma: no cover


def compile_rule(rule: RuleSpec, registry: FactRegistry) -> dict[str, Any]:
    window: list[dict[str, Any]] = [{"$gte": {"planned_date": rule.effective_from.toordinal()}}]
    if rule.effective_to is not None:
        window.append({"$lte": {"planned_date": rule.effective_to.toordinal()}})
    # The window goes last, so that rules share their leading tests (leaves_mainland, ...) in the
    # alpha network instead of fanning out from distinct dates at its root.
    return {"all": [{"m": {"$and": [compile_condition(rule.when, registry), *window]}}]}


def compile_pack_set(pack_set: PackSet, prefix: str = "baygate") -> CompiledPackSet:
    """Rulesets of at most MAX_RULES_PER_RULESET rules, grouped by stage."""
    stages: dict[int, tuple[CompiledRuleset, ...]] = {}
    short = pack_set.digest.split(":")[-1][:16]
    for stage in STAGES:
        rules = [rule for rule in pack_set.rules if rule.stage == stage]
        chunks = [rules[i:i + MAX_RULES_PER_RULESET] for i in range(0, len(rules), MAX_RULES_PER_RULESET)]
        compiled = []
        for index, chunk in enumerate(chunks):
            definition = {rule.id: compile_rule(rule, pack_set.registry) for rule in chunk}
            definition[SEEN_RULE] = {"all": [{"m": {SEEN_KEY: 1}}]}
            compiled.append(CompiledRuleset(f"{prefix}_{short}_s{stage}_{index}", stage, definition,
                                            tuple(rule.id for rule in chunk)))
        stages[stage] = tuple(compiled)
    keys = {SEEN_KEY}
    for rulesets in stages.values():
        for ruleset in rulesets:
            for rule in ruleset.definition.values():
                keys |= _keys_in(rule)
    return CompiledPackSet(pack_set.digest, stages, frozenset(keys))


class FactEncoder:
    """Turns fact sheets into durable-rules facts; the plan is worked out once per pack set, so an
    evaluation only walks the keys the compiled rules read."""

    def __init__(self, registry: FactRegistry, keys: frozenset[str] | None = None) -> None:
        def wanted(key: str) -> bool:
            return keys is None or key in keys

        self.plan: list[tuple[str, str, str, str]] = []
        for spec in registry:
            key = key_of(spec.name)
            if spec.type == "set":
                self.plan += [(spec.name, "member", f"{key}__{member}", member) for member in spec.values
                              if wanted(f"{key}__{member}")]
                if wanted(f"{key}__any"):
                    self.plan.append((spec.name, "any", f"{key}__any", ""))
                continue
            if spec.optional and wanted(f"{key}__present"):
                self.plan.append((spec.name, "present", f"{key}__present", ""))
            if wanted(key):
                self.plan.append((spec.name, spec.type, key, ""))

        self.source = self._source("facts[{name!r}]") + self._source("get({name!r})", "encode_missing")
        namespace: dict[str, Any] = {}
        exec(compile(self.source, "<baygate fact encoder>", "exec"), namespace)  # our own source, see _source
        self._encode: Callable[[Mapping[str, FactValue]], dict[str, Any]] = namespace["encode"]
        self._encode_missing: Callable[[Mapping[str, FactValue]], dict[str, Any]] = namespace["encode_missing"]

    def _source(self, read: str, function: str = "encode") -> str:
        """The plan as one Python function returning one dict display, the way ``dataclasses`` and
        ``namedtuple`` build their methods: every evaluation encodes about 50 keys, and one display
        costs a third of a loop that branches on each key's kind (measured). ``encode`` subscripts
        the fact sheet (faster than a call to ``get`` per key), ``encode_missing`` reads a fact it
        lacks as unknown. Every name and key is written with ``repr``, so no fact name can inject
        code (and the registry's names are identifiers and dots anyway)."""
        lines = [f"def {function}(facts):", "    get = facts.get", f"    return {{{SEEN_KEY!r}: 1,"]
        for name, kind, key, member in self.plan:
            value = read.format(name=name)
            if kind == "member":
                expression = f"1 if {member!r} in ({value} or ()) else 0"
            elif kind in ("any", "bool"):
                expression = f"1 if {value} else 0"
            elif kind == "present":
                expression = f"0 if {value} is None else 1"
            elif kind == "date":
                expression = f"0 if {value} is None else {value}.toordinal()"
            elif kind == "number":
                expression = f"{value} or 0"
            else:
                expression = f'{value} or ""'
            lines.append(f"        {key!r}: {expression},")
        lines.append("    }")
        return "\n".join(lines) + "\n"

    def encode(self, facts: Mapping[str, FactValue]) -> dict[str, Any]:
        """Integers and strings only, every planned key present: booleans 1/0, dates ordinals, a set
        one 1/0 key per member (and ``__any``), an optional fact a ``__present`` flag beside its value;
        an unknown value is 0 (numbers, booleans, dates) or "" (strings)."""
        try:
            return self._encode(facts)  # a fact sheet from derive_facts has every fact
        except KeyError:
            return self._encode_missing(facts)  # any other: a missing fact is unknown


def encode_facts(facts: Mapping[str, FactValue], registry: FactRegistry,
                 keys: frozenset[str] | None = None) -> dict[str, Any]:
    """A fact sheet as a durable-rules fact: integers and strings only, every key present.

    With ``keys``, only those keys are kept (the ones the compiled rules read)."""
    return FactEncoder(registry, keys).encode(facts)

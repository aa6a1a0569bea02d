"""Compile validated rules into durable-rules JSON rulesets, and encode fact sheets for them.

durable-rules is fragile around booleans, missing fields and ``$ex``/``$nex`` (measured: segfaults
and hangs, see tests/engine/test_rete.py), so the encoding keeps every value it sees an integer or a string
and every key present: booleans become 1/0, dates their ordinal day, a set one 1/0 key per member,
and an optional fact a ``__present`` flag beside its value. Conditions are put in negation normal
form first (De Morgan), ``in`` becomes ``$or``, and every rule also tests its effective window
against ``planned_date``, so that only rules in force on the planned date can fire in the network.

durable-rules is given each key under a short wire name (``k0``, ``k1``, ... per ruleset; see
:func:`wire_names`): its cost grows with the bytes of every property of a fact, and the readable keys
(``data__sensitive_types__minors_under_14``) made the largest ruleset's fact 1,803 bytes where the wire
names make it 537: a decision about 8 us faster (evaluate 99 -> 91 us on this machine, measured).
``CompiledRuleset.definition`` keeps the readable keys for whoever reads a compiled rule; only what
reaches durable-rules is renamed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any

from engine.conditions import All, AnyOf, Condition, Leaf, negation_normal_form
from engine.fact_registry import FactRegistry, FactSpec
from engine.facts import FactValue
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


Writer = Callable[[Mapping[str, FactValue], str], str]
"""A ruleset's message writer: (fact sheet, session id) -> the JSON text durable-rules is given."""


@dataclass(frozen=True)
class CompiledRuleset:
    name: str
    stage: int
    definition: dict[str, Any]
    rule_ids: tuple[str, ...]
    writer: Writer = field(compare=False, repr=False)
    """Writes a fact sheet as this ruleset's durable-rules fact (:func:`message_writer`), keys by wire name."""
    wire: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Readable key -> the wire name durable-rules knows it by (empty: the readable keys themselves)."""

    def durable_definition(self) -> dict[str, Any]:
        """The definition as durable-rules is given it: every fact key by its wire name."""
        return {name: _renamed(rule, self.wire) for name, rule in self.definition.items()}


@dataclass(frozen=True)
class CompiledPackSet:
    """The rulesets of a pack set, by stage; names carry the digest so versions never collide."""

    digest: str
    stages: dict[int, tuple[CompiledRuleset, ...]]


def _is_operator(key: str) -> bool:
    """Whether a key of a compiled expression is durable-rules' own (``$and``, ``all``, ``m``, ...), not a fact's."""
    return key.startswith("$") or key in ("all", "any", "m")


def _keys_in(expression: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(expression, dict):
        for key, value in expression.items():
            if _is_operator(key):
                found |= _keys_in(value)
            else:
                found.add(key)
    elif isinstance(expression, list):
        for item in expression:
            found |= _keys_in(item)
    return found


def _renamed(expression: Any, wire: Mapping[str, str]) -> Any:
    """A compiled expression with its fact keys (not its operators) by their wire names."""
    if isinstance(expression, dict):
        return {key if _is_operator(key) else wire.get(key, key): _renamed(value, wire)
                for key, value in expression.items()}
    if isinstance(expression, list):
        return [_renamed(item, wire) for item in expression]
    return expression


def wire_names(keys: Iterable[str]) -> dict[str, str]:
    """Short names for a ruleset's keys, ``k0``, ``k1``, ... in their sorted order: names of a few
    bytes that cannot meet durable-rules' own (``sid``, ``id``) nor each other."""
    return {key: f"k{index}" for index, key in enumerate(sorted(keys))}


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
    """Rulesets of at most MAX_RULES_PER_RULESET rules, grouped by stage.

    Within a stage, rules whose window has closed (an ``effective.to``) are put in rulesets apart from
    the open-ended ones: a rule split at the date its law changed leaves its earlier windows behind,
    and the evaluator skips a ruleset none of whose rules is in force on the planned date — so a
    decision for today does not walk the rules of 2022-2025 (a ruleset fired costs about 8 us)."""
    stages: dict[int, tuple[CompiledRuleset, ...]] = {}
    short = pack_set.digest.split(":")[-1][:16]
    for stage in STAGES:
        rules = [rule for rule in pack_set.rules if rule.stage == stage]
        groups = ([rule for rule in rules if rule.effective_to is not None],
                  [rule for rule in rules if rule.effective_to is None])
        chunks = [group[i:i + MAX_RULES_PER_RULESET] for group in groups
                  for i in range(0, len(group), MAX_RULES_PER_RULESET)]
        stages[stage] = tuple(compile_ruleset(f"{prefix}_{short}_s{stage}_{index}", stage, chunk, pack_set.registry)
                              for index, chunk in enumerate(chunks))
    return CompiledPackSet(pack_set.digest, stages)


def compile_ruleset(name: str, stage: int, rules: Sequence[RuleSpec], registry: FactRegistry) -> CompiledRuleset:
    """One ruleset of ``rules`` with the catch-all rule and its message writer. :func:`compile_pack_set`
    keeps each to MAX_RULES_PER_RULESET rules; this function does not cap them (the benchmark measures
    bigger ones)."""
    definition = {rule.id: compile_rule(rule, registry) for rule in rules}
    definition[SEEN_RULE] = {"all": [{"m": {SEEN_KEY: 1}}]}
    keys = ruleset_keys(definition)
    wire = wire_names(keys)
    return CompiledRuleset(name, stage, definition, tuple(rule.id for rule in rules),
                           message_writer(keys, registry, wire), wire)


_DUMPS = json.JSONEncoder(separators=(",", ":")).encode


def key_encodings(registry: FactRegistry) -> dict[str, tuple[str, str, str]]:
    """Every key a compiled condition may read -> (fact name, how it is encoded, set member)."""
    encodings: dict[str, tuple[str, str, str]] = {}
    for spec in registry:
        key = key_of(spec.name)
        if spec.type == "set":
            encodings.update({f"{key}__{member}": (spec.name, "member", member) for member in spec.values})
            encodings[f"{key}__any"] = (spec.name, "any", "")
            continue
        if spec.optional:
            encodings[f"{key}__present"] = (spec.name, "present", "")
        encodings[key] = (spec.name, spec.type, "")
    return encodings


def message_writer(keys: Iterable[str], registry: FactRegistry, wire: Mapping[str, str] | None = None) -> Writer:
    """The function that writes a fact sheet as one ruleset's durable-rules fact: only ``keys`` (the
    keys its rules read; durable-rules' cost grows with every property of a fact, read or not), and
    integers and strings only, every key present: booleans 1/0, dates their ordinal day, a set one
    1/0 key per member (and ``__any``), an optional fact a ``__present`` flag beside its value; an
    unknown value (None) is 0 (numbers, booleans, dates) or "" (strings). A sheet lacking a fact the
    ruleset reads raises ``KeyError``: every sheet derive_facts makes holds every fact, and reading a
    missing one as unknown could change silently which rules fire.

    Generated as Python source, the way ``dataclasses`` and ``namedtuple`` build their methods, and
    straight from the fact sheet to the JSON text through one %-format: every evaluation writes
    about 50 keys into three rulesets, and an encoded dict in between, read back a key at a time,
    cost about 6 us a decision (measured). Strings are escaped as ``json.dumps`` escapes them (ASCII),
    and a number that is not an ``int`` is written by ``json.dumps``, so the text is byte for byte
    what ``json.dumps`` of the encoded fact would be. No fact name or value reaches the source as
    code: fact names and set members are written with ``repr``, keys go into the format as JSON.
    ``wire``: each key is written under its wire name (:func:`wire_names`), in the keys' sorted order.
    """
    encodings = key_encodings(registry)
    ordered = sorted(keys)
    unknown = [key for key in ordered if key != SEEN_KEY and key not in encodings]
    assert not unknown, f"compiled conditions read keys no fact is encoded as: {unknown}"
    named = wire or {}
    template = "{" + "".join(_DUMPS(named.get(key, key)).replace("%", "%%") + (":1," if key == SEEN_KEY else ":%s,")
                             for key in ordered) + '"sid":"%s"}'
    reads = [encodings[key] for key in ordered if key != SEEN_KEY]
    values = "".join(_expression(f"facts[{name!r}]", kind, member) + ", " for name, kind, member in reads)
    source = f"def write(facts, sid):\n    return TEMPLATE % ({values}sid)\n"
    namespace: dict[str, Any] = {"TEMPLATE": template, "escape": encode_basestring_ascii, "dumps": _DUMPS}
    exec(compile(source, "<baygate message writer>", "exec"), namespace)  # our own source, see above
    writer: Writer = namespace["write"]
    writer.source = source  # type: ignore[attr-defined]  # for whoever debugs a message
    return writer


def _expression(value: str, kind: str, member: str) -> str:
    """The Python expression of one encoded key, ``value`` being the expression that reads the fact."""
    if kind == "member":
        return f"(1 if {member!r} in ({value} or ()) else 0)"
    if kind in ("any", "bool"):
        return f"(1 if {value} else 0)"
    if kind == "present":
        return f"(0 if {value} is None else 1)"
    if kind == "date":
        return f"(0 if {value} is None else {value}.toordinal())"
    if kind == "number":  # an int as it is (the usual case); a float, or anything else, as json.dumps writes it
        return f"(number if (number := {value} or 0).__class__ is int else dumps(number))"
    return f'escape({value} or "")'

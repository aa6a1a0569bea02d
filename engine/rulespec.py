"""The rule language: load YAML rule packs, keep line numbers, validate against the fact registry.

A pack set (every ``*.yaml`` in a folder) is loaded whole or not at all: any error anywhere refuses
the set, so a bad pack can never replace a good one. Every error reads
``rules/file.yaml:LINE: rule ID: what is wrong``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.conditions import COMPARISON_OPS, All, AnyOf, Condition, Leaf, Not, facts_read
from engine.errors import RuleIssue, RulePackError
from engine.facts import (
    EXEMPTION_IDS,
    NO_COUNTING_POLICY,
    CountingPolicy,
    FactRegistry,
    MechanismPolicy,
    OptionSpec,
    ValidityTerm,
)
from engine.literals import hint, literal_problem
from engine.models import APPROVAL_KINDS, MECHANISM_TYPES, Messages
from engine.packfiles import looks_like_pack, pack_files, read_yaml
from engine.placeholders import render

LANGUAGES = ("en", "zh-Hans", "zh-Hant")
MECHANISM_LEVEL = {"standard_contract": 1, "gba_standard_contract": 1, "certification": 1,
                   "security_assessment": 2}
DUE_KINDS = ("before_transfer", "after_transfer", "ongoing", "on_change")

RULE_KEYS = {"id", "title", "when", "then", "cite", "effective", "message", "unsure"}
EFFECT_KEYS = {"require", "prohibit", "exempt", "eligible", "also_satisfied_by", "obligations",
               "approvals", "note", "review", "no_mechanism"}
PACK_KEYS = {"pack", "version", "title", "description", "options", "mechanisms", "rules", "obligations",
             "decides_from", "counting"}
REVIEW_ID = re.compile(r"[a-z][a-z0-9-]*")
"""A review's id (the ``id`` of its ``missing`` item): short, lower case, hyphenated."""
OBLIGATION_KEYS = {"id", "text", "due", "cite", "satisfied_when", "unsure"}
OPTION_KEYS = {"id", "type", "default", "description", "values", "readings", "stricter"}
RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""Rule ids name durable-rules rules and are read back from its action messages by slicing the JSON
key (engine/rete.py): no quotes, backslashes or spaces, and never the catch-all rule's ``__seen__``."""
OPTION_ID = re.compile(r"[a-z][a-z0-9_]*")
"""Option ids become facts (``option.<id>``) and compiled keys (``option__<id>``): lower case, digits
and underscores only, so that two options can never share a key (``a.b`` and ``a__b`` would)."""


@dataclass(frozen=True)
class Effects:
    """What a rule does when it fires (DESIGN section 4)."""

    require: tuple[str, ...] = ()
    prohibit: bool = False
    exempt: str | None = None
    eligible: tuple[str, ...] = ()
    also_satisfied_by: tuple[str, ...] = ()
    obligations: tuple[str, ...] = ()
    approvals: tuple[str, ...] = ()
    note: bool = False
    review: str | None = None
    """A legal review the engine cannot replace (e.g. a law no pack covers): the transfer is
    conditional on it, and ``missing`` names it by this id."""
    no_mechanism: bool = False
    """The law this rule applies asks for no transfer mechanism (e.g. Hong Kong, where PDPO s. 33 is not
    in operation): it decides the route as 'none', which any other rule's requirement still outranks."""

    @property
    def kind(self) -> str:
        """The headline effect, as reasons show it."""
        if self.prohibit:
            return "prohibit"
        if self.require:
            return "require_mechanism"
        if self.exempt:
            return "exempt"
        if self.review:
            return "require_review"
        if self.no_mechanism:
            return "no_mechanism"
        if self.eligible:
            return "eligible"
        if self.also_satisfied_by:
            return "also_satisfied_by"
        if self.approvals:
            return "require_approval"
        if self.obligations:
            return "obligation"
        return "note"

    @property
    def decides_route(self) -> bool:
        """Whether firing decides the route (fail closed: see DESIGN section 4). No decision is
        permitted unless some rule that fired decides it."""
        return bool(self.require or self.prohibit or self.exempt or self.review or self.no_mechanism)


@dataclass(frozen=True)
class RuleSpec:
    id: str
    title: str
    when: Condition
    then: Effects
    cite: str
    effective_from: dt.date
    effective_to: dt.date | None
    message: Messages
    unsure: str | None
    pack: str
    file: str
    line: int
    stage: int = 2

    def in_force(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


@dataclass(frozen=True)
class DueSpec:
    kind: str
    working_days: int | None = None
    after: str | None = None

    def describe(self) -> str:
        if self.kind == "working_days":
            return f"within {self.working_days} Mainland working days after {self.after}"
        return self.kind.replace("_", " ")

    @property
    def before_transfer(self) -> bool:
        return self.kind == "before_transfer"


@dataclass(frozen=True)
class ObligationSpec:
    id: str
    text: Messages
    due: DueSpec
    cite: str
    satisfied_when: Condition | None
    unsure: str | None
    pack: str
    file: str
    line: int


@dataclass(frozen=True)
class OptionDecl:
    spec: OptionSpec
    readings: Mapping[str, str]
    stricter: Any
    pack: str


@dataclass(frozen=True)
class Pack:
    name: str
    version: str
    title: str
    file: str
    digest: str
    rules: tuple[RuleSpec, ...]
    obligations: tuple[ObligationSpec, ...]
    options: tuple[OptionDecl, ...]
    mechanisms: Mapping[str, MechanismPolicy]
    decides_from: dt.date | None = None
    """The first planned date for which the pack claims to decide every outbound route."""
    counting: CountingPolicy = NO_COUNTING_POLICY


@dataclass(frozen=True)
class PackSet:
    """Every pack of a folder, validated together."""

    packs: tuple[Pack, ...]
    registry: FactRegistry
    digest: str
    rules: tuple[RuleSpec, ...] = field(default=())
    obligations: Mapping[str, ObligationSpec] = field(default_factory=dict)
    options: Mapping[str, OptionDecl] = field(default_factory=dict)
    mechanisms: Mapping[str, MechanismPolicy] = field(default_factory=dict)
    counting: CountingPolicy = NO_COUNTING_POLICY

    @property
    def decides_from(self) -> dt.date | None:
        """The earliest ``decides_from`` any pack declares; the completeness check looks at holes from it."""
        days = [pack.decides_from for pack in self.packs if pack.decides_from is not None]
        return min(days) if days else None

    @property
    def versions(self) -> dict[str, str]:
        return {pack.name: pack.version for pack in self.packs}

    def default_options(self) -> dict[str, bool | int | str]:
        return {key: decl.spec.default for key, decl in self.options.items()}

    @property
    def gated_mechanisms(self) -> frozenset[str]:
        """Mechanisms offered only where a rule says the case is eligible for them."""
        return frozenset(m for rule in self.rules for m in rule.then.eligible)


# --------------------------------------------------------------------------------------------
# YAML with line numbers


def _line_of(node: Any, key: Any = None) -> int:
    """1-based line of a mapping key or of a node, 0 when unknown."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return 0
    try:
        if key is not None and isinstance(key, str):
            return int(lc.key(key)[0]) + 1
        if key is not None and isinstance(key, int):
            return int(lc.item(key)[0]) + 1
        return int(lc.line) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return int(getattr(lc, "line", -1)) + 1


def _plain(node: Any) -> Any:
    """ruamel's round-trip types as plain Python (for digests and values)."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, dt.datetime):
        return node.date()
    if isinstance(node, bool | int | float | str | dt.date) or node is None:
        return node
    return str(node)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))


def pack_digest(document: Any) -> str:
    """A pack's digest: sha256 of the canonical form of its parsed document (comments and layout
    do not count). The ledger recomputes it from stored texts, so there is one definition."""
    return "sha256:" + hashlib.sha256(_canonical(_plain(document)).encode()).hexdigest()


def pack_set_digest(members: Iterable[tuple[str, str]]) -> str:
    """A pack set's digest from its packs' (name, digest) pairs, whatever their order."""
    return "sha256:" + hashlib.sha256(_canonical(sorted(members)).encode()).hexdigest()


class _Collector:
    """Collects issues for one file so that a user sees all of them at once."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[RuleIssue] = []

    def add(self, line: int, rule_id: str | None, message: str) -> None:
        self.issues.append(RuleIssue(self.file, line, rule_id, message))


# --------------------------------------------------------------------------------------------
# Parsing and checking


def _messages(node: Any, where: int, rule_id: str | None, what: str, out: _Collector) -> Messages | None:
    if not isinstance(node, Mapping):
        out.add(where, rule_id, f"{what} must be a mapping with en, zh-Hans and zh-Hant")
        return None
    missing = [lang for lang in LANGUAGES if not isinstance(node.get(lang), str) or not str(node[lang]).strip()]
    extra = [str(k) for k in node if k not in LANGUAGES]
    if missing:
        out.add(where, rule_id, f"{what} lacks the {', '.join(missing)} text")
    if extra:
        out.add(where, rule_id, f"{what} has unknown language(s) {', '.join(extra)} (use en, zh-Hans, zh-Hant)")
    if missing or extra:
        return None
    return Messages.model_validate({lang: str(node[lang]).strip() for lang in LANGUAGES})


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


class _ConditionParser:
    def __init__(self, registry: FactRegistry, out: _Collector, rule_id: str | None, stored: bool = False) -> None:
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
            inner_line = _line_of(node, key)
            if key == "not":
                return Not(self.parse(node["not"], inner_line))
            items = node[key]
            if not isinstance(items, list):
                self.fail(inner_line, f"'{key}' takes a list of conditions")
                return All(())
            parsed = tuple(self.parse(item, _line_of(items, i) or inner_line) for i, item in enumerate(items))
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
        value = self._check_value(spec.name, spec.type, spec.values, spec.optional, op, _plain(node[op]), line)
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
            parsed = _date(value)
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


def _tuple_of_str(node: Any) -> tuple[str, ...] | None:
    if isinstance(node, str):
        return (node,)
    if isinstance(node, list) and all(isinstance(v, str) for v in node):
        return tuple(node)
    return None


def _parse_options(doc: Mapping[str, Any], pack: str, out: _Collector) -> list[OptionDecl]:
    decls: list[OptionDecl] = []
    nodes = doc.get("options") or []
    if not isinstance(nodes, list):
        out.add(_line_of(doc, "options"), None, "'options' must be a list")
        return decls
    for index, node in enumerate(nodes):
        line = _line_of(nodes, index)
        if not isinstance(node, Mapping):
            out.add(line, None, "an option must be a mapping")
            continue
        option_id = node.get("id")
        unknown = set(map(str, node)) - OPTION_KEYS
        if unknown:
            out.add(line, None, f"option {option_id}: unknown key(s) {sorted(unknown)}")
        otype = node.get("type", "bool")
        default = _plain(node.get("default"))
        description = node.get("description")
        if not isinstance(option_id, str) or not option_id:
            out.add(line, None, "an option needs an id")
            continue
        if not OPTION_ID.fullmatch(option_id):
            out.add(line, None, f"option {option_id!r}: an option id is lower-case letters, digits and '_', "
                                "starting with a letter")
            continue
        if otype not in ("bool", "enum", "number"):
            out.add(line, None, f"option {option_id}: type must be bool, enum or number")
            continue
        values = tuple(str(v) for v in (node.get("values") or ()))
        if otype == "bool" and not isinstance(default, bool):
            out.add(line, None, f"option {option_id}: default must be true or false")
        if otype == "enum" and default not in values:
            out.add(line, None, f"option {option_id}: default must be one of its values {list(values)}")
        if otype == "number" and (isinstance(default, bool) or not isinstance(default, int | float)
                                  or not math.isfinite(default)):
            out.add(line, None, f"option {option_id}: default must be a (finite) number")
        if not isinstance(description, str) or not description.strip():
            out.add(line, None, f"option {option_id}: needs a description")
            description = ""
        readings = node.get("readings") or {}
        if not isinstance(readings, Mapping) or not readings:
            out.add(line, None, f"option {option_id}: needs 'readings' citing the sources behind each reading")
            readings = {}
        spec = OptionSpec(option_id, otype, default, str(description), values)
        decls.append(OptionDecl(spec, {str(k): str(v) for k, v in readings.items()},
                                _plain(node.get("stricter")), pack))
    return decls


def _validity_option(term: Mapping[str, Any], mechanism: str, registry: FactRegistry | None, line: int,
                     out: _Collector) -> tuple[str | None, int | None]:
    """``years_under_option: {OPTION: YEARS}`` of a validity term: another term under a bool option."""
    node = term.get("years_under_option")
    if node is None:
        return None, None
    if isinstance(node, Mapping) and len(node) == 1:
        option, years = next(iter(node.items()))
        spec = registry.get(f"option.{option}") if registry is not None else None
        if spec is not None and spec.type == "bool" and isinstance(years, int) and not isinstance(years, bool) \
                and years >= 1:
            return str(option), years
    out.add(line, None, f"mechanism {mechanism}: years_under_option takes {{OPTION: YEARS}}, a bool option a pack "
            "declares and a whole number of years")
    return None, None


def _parse_mechanisms(doc: Mapping[str, Any], out: _Collector,
                      registry: FactRegistry | None = None) -> dict[str, MechanismPolicy]:
    result: dict[str, MechanismPolicy] = {}
    node = doc.get("mechanisms") or {}
    if not isinstance(node, Mapping):
        out.add(_line_of(doc, "mechanisms"), None, "'mechanisms' must be a mapping")
        return result
    for name, body in node.items():
        line = _line_of(node, name)
        if name not in MECHANISM_TYPES:
            out.add(line, None, f"unknown mechanism '{name}' (known: {', '.join(MECHANISM_TYPES)})")
            continue
        if not isinstance(body, Mapping) or not isinstance(body.get("cite"), str):
            out.add(line, None, f"mechanism {name}: needs a mapping with 'cite'")
            continue
        days = body.get("filing_working_days")
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
            out.add(line, None, f"mechanism {name}: filing_working_days must be a whole number of days")
            continue
        terms: list[ValidityTerm] = []
        for term in body.get("validity_when_no_expiry") or []:
            start = _date(term.get("issued_from")) if isinstance(term, Mapping) else None
            end = _date(term.get("issued_to")) if isinstance(term, Mapping) and term.get("issued_to") else None
            years = term.get("years") if isinstance(term, Mapping) else None
            if start is None or isinstance(years, bool) or not isinstance(years, int) or years < 1:
                out.add(_line_of(body, "validity_when_no_expiry") or line, None,
                        f"mechanism {name}: each validity_when_no_expiry entry needs issued_from (a date) "
                        "and years (a whole number)")
                continue
            option = _validity_option(term, name, registry, _line_of(body, "validity_when_no_expiry") or line, out)
            terms.append(ValidityTerm(start, end, years, *option))
        result[str(name)] = MechanismPolicy(filing_working_days=days, validity=tuple(terms))
    return result


def _parse_counting(doc: Mapping[str, Any], out: _Collector) -> CountingPolicy:
    """``counting: {collected_outside_mainland: {uncounted_from: DATE, cite: ...}}`` (CountingPolicy)."""
    node = doc.get("counting")
    if node is None:
        return NO_COUNTING_POLICY
    line = _line_of(doc, "counting")
    known = {"collected_outside_mainland"}
    if not isinstance(node, Mapping) or set(map(str, node)) - known:
        out.add(line, None, "'counting' is a mapping with collected_outside_mainland: {uncounted_from: "
                "YYYY-MM-DD, cite: ...}")
        return NO_COUNTING_POLICY
    body = node.get("collected_outside_mainland")
    start = _date(body.get("uncounted_from")) if isinstance(body, Mapping) else None
    cite = body.get("cite") if isinstance(body, Mapping) else None
    if start is None or not isinstance(cite, str) or not cite.strip():
        out.add(_line_of(node, "collected_outside_mainland") or line, None,
                "counting.collected_outside_mainland needs uncounted_from (a date) and cite")
        return NO_COUNTING_POLICY
    return CountingPolicy(start, cite.strip())


def _parse_effects(node: Any, line: int, rule_id: str, out: _Collector) -> Effects | None:
    if not isinstance(node, Mapping):
        out.add(line, rule_id, "'then' must be a mapping of effects")
        return None
    unknown = set(map(str, node)) - EFFECT_KEYS
    if unknown:
        out.add(line, rule_id, f"unknown effect(s) {sorted(unknown)} (known: {', '.join(sorted(EFFECT_KEYS))})")
        return None
    ok = True

    def mechanisms(key: str) -> tuple[str, ...]:
        nonlocal ok
        if key not in node:
            return ()
        values = _tuple_of_str(node[key])
        if values is None or not values:
            out.add(_line_of(node, key), rule_id, f"'{key}' takes a list of mechanisms")
            ok = False
            return ()
        for value in values:
            if value not in MECHANISM_TYPES:
                out.add(_line_of(node, key), rule_id, f"unknown mechanism '{value}' in '{key}'"
                        f"{hint(value, MECHANISM_TYPES)} (known: {', '.join(MECHANISM_TYPES)})")
                ok = False
        return values

    require = mechanisms("require")
    eligible = mechanisms("eligible")
    also = mechanisms("also_satisfied_by")
    prohibit = node.get("prohibit", False)
    if not isinstance(prohibit, bool):
        out.add(_line_of(node, "prohibit"), rule_id, "'prohibit' takes true or false")
        ok = False
    exempt = node.get("exempt")
    if exempt is not None and exempt not in EXEMPTION_IDS:
        out.add(_line_of(node, "exempt"), rule_id,
                f"unknown exemption '{exempt}'{hint(str(exempt), EXEMPTION_IDS)} (known: {', '.join(EXEMPTION_IDS)})")
        ok = False
    obligations = _tuple_of_str(node.get("obligations", []))
    if obligations is None:
        out.add(_line_of(node, "obligations"), rule_id, "'obligations' takes a list of obligation ids")
        ok = False
    approvals = _tuple_of_str(node.get("approvals", []))
    if approvals is None:
        out.add(_line_of(node, "approvals"), rule_id,
                f"'approvals' takes a list of approval kinds ({', '.join(APPROVAL_KINDS)})")
        ok = False
    for approval in approvals or ():
        if approval not in APPROVAL_KINDS:
            out.add(_line_of(node, "approvals"), rule_id, f"unknown approval kind '{approval}'"
                    f"{hint(approval, APPROVAL_KINDS)} (known: {', '.join(APPROVAL_KINDS)})")
            ok = False
    note, no_mechanism = node.get("note", False), node.get("no_mechanism", False)
    for key, flag in (("note", note), ("no_mechanism", no_mechanism)):
        if not isinstance(flag, bool):
            out.add(_line_of(node, key), rule_id, f"'{key}' takes true or false")
            ok = False
    review = node.get("review")
    if review is not None and (not isinstance(review, str) or not REVIEW_ID.fullmatch(review)):
        out.add(_line_of(node, "review"), rule_id, "'review' takes a short id in lower case with hyphens "
                "(e.g. macao-pdpa): the id of the legal review the transfer then waits for")
        ok = False
    if prohibit and (require or exempt or review or no_mechanism):
        out.add(line, rule_id, "a rule that prohibits cannot also require, exempt, ask for a review or say "
                "no mechanism is needed")
        ok = False
    if no_mechanism is True and (require or exempt or review):
        out.add(line, rule_id, "'no_mechanism' says the law needs no mechanism: it cannot go with require, "
                "exempt or review in one rule")
        ok = False
    if not ok:
        return None
    effects = Effects(require=require, prohibit=bool(prohibit), exempt=exempt, eligible=eligible,
                      also_satisfied_by=also, obligations=obligations or (), approvals=approvals or (),
                      note=bool(note), review=review, no_mechanism=bool(no_mechanism))
    if effects.kind == "note" and not note:
        out.add(line, rule_id, "'then' has no effect (use note: true for a reason without consequence)")
        return None
    return effects


def _parse_due(node: Any, line: int, oid: str, registry: FactRegistry, out: _Collector) -> DueSpec | None:
    if isinstance(node, str):
        if node not in DUE_KINDS:
            out.add(line, None, f"obligation {oid}: due must be one of {', '.join(DUE_KINDS)} or "
                    "{working_days: N, after: DATE_FACT}")
            return None
        return DueSpec(node)
    if isinstance(node, Mapping):
        days, after = node.get("working_days"), node.get("after")
        spec = registry.get(str(after))
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            out.add(line, None, f"obligation {oid}: working_days must be a whole number")
            return None
        if spec is None or spec.type != "date":
            out.add(line, None, f"obligation {oid}: 'after' must name a date fact, got {after!r}")
            return None
        return DueSpec("working_days", days, spec.name)
    out.add(line, None, f"obligation {oid}: due is missing")
    return None


def _effective(node: Any, line: int, rule_id: str, out: _Collector) -> tuple[dt.date, dt.date | None] | None:
    if not isinstance(node, Mapping) or "from" not in node:
        out.add(line, rule_id, "missing effective date ('effective: {from: YYYY-MM-DD}')")
        return None
    start = _date(node.get("from"))
    end = _date(node["to"]) if node.get("to") is not None else None
    if start is None:
        out.add(_line_of(node, "from") or line, rule_id, f"effective.from is not a date: {node.get('from')!r}")
        return None
    if node.get("to") is not None and end is None:
        out.add(_line_of(node, "to") or line, rule_id, f"effective.to is not a date: {node.get('to')!r}")
        return None
    if end is not None and end < start:
        out.add(line, rule_id, "effective.to is before effective.from")
        return None
    return start, end


def _stage(then: Effects, reads: set[str], registry: FactRegistry) -> int:
    """Stage 0: rules that derive exemptions from request facts; stage 1: exemption rules that read
    stage-0 exemptions (the residual art. 5(4)); stage 2: every other rule, reading all of them."""
    reads_derived = any((spec := registry.get(name)) is not None and spec.derived for name in reads)
    if then.exempt:
        return 1 if reads_derived else 0
    return 2


def parse_pack(document: Any, display: str, registry: FactRegistry,
               stored: bool = False) -> tuple[Pack | None, list[RuleIssue]]:
    """One pack: every rule checked; the pack is returned only when it has no issue. ``stored``: the
    text was recorded in the ledger (see :func:`load_pack_set`)."""
    out = _Collector(display)
    if not isinstance(document, Mapping) or not looks_like_pack(document):
        out.add(1, None, "not a rule pack: a rule pack is a mapping with pack, version, title and rules "
                         "(what this file holds is not shown)")
        return None, out.issues
    unknown = set(map(str, document)) - PACK_KEYS
    if unknown:
        out.add(1, None, f"unknown top-level key(s) {sorted(unknown)}")
    name, version = document.get("pack"), document.get("version")
    if not isinstance(name, str) or not name:
        out.add(1, None, "missing 'pack' (the pack's name)")
        name = display
    if not isinstance(version, str | int | float) or version == "":
        out.add(1, None, "missing 'version' (quote it, e.g. \"2024.03\")")
        version = "?"
    options = _parse_options(document, str(name), out)
    mechanisms = _parse_mechanisms(document, out, registry)
    counting = _parse_counting(document, out)
    decides_from = None
    if document.get("decides_from") is not None:
        decides_from = _date(document["decides_from"])
        if decides_from is None:
            out.add(_line_of(document, "decides_from"), None, "decides_from must be a YYYY-MM-DD date")
    registry_for_pack = registry
    rules: list[RuleSpec] = []
    nodes = document.get("rules") or []
    if not isinstance(nodes, list):
        out.add(_line_of(document, "rules"), None, "'rules' must be a list")
        nodes = []
    for index, node in enumerate(nodes):
        line = _line_of(nodes, index)
        if not isinstance(node, Mapping):
            out.add(line, None, "a rule must be a mapping")
            continue
        rule_id = node.get("id")
        if not isinstance(rule_id, str) or not rule_id:
            out.add(line, None, "a rule needs an id")
            continue
        if not RULE_ID.fullmatch(rule_id):
            out.add(line, None, f"rule id {rule_id!r}: use letters, digits, '.', '-' and '_', starting with a "
                                "letter or digit")
            continue
        before = len(out.issues)
        extra = set(map(str, node)) - RULE_KEYS
        if extra:
            out.add(line, rule_id, f"unknown key(s) {sorted(extra)}")
        cite = node.get("cite")
        if not isinstance(cite, str) or not cite.strip():
            out.add(line, rule_id, "missing citation ('cite': instrument and article)")
        effective = _effective(node.get("effective"), _line_of(node, "effective") or line, rule_id, out)
        message = _messages(node.get("message"), _line_of(node, "message") or line, rule_id, "message", out)
        unsure = node.get("unsure")
        if unsure is not None and (not isinstance(unsure, str) or not unsure.strip()):
            out.add(_line_of(node, "unsure"), rule_id, "'unsure' must say what is unsure")
        if "when" not in node:
            out.add(line, rule_id, "missing 'when' (the condition)")
            continue
        parser = _ConditionParser(registry_for_pack, out, rule_id, stored)
        when = parser.parse(node["when"], _line_of(node, "when") or line)
        then = _parse_effects(node.get("then"), _line_of(node, "then") or line, rule_id, out)
        if message is not None and parser.ok:
            texts, problems = render(message.model_dump(), when)
            for problem in problems:
                out.add(_line_of(node, "message") or line, rule_id, problem)
            message = Messages.model_validate(texts) if not problems else None
        if len(out.issues) > before or then is None or effective is None or message is None:
            continue
        if then.exempt and "exemption" in facts_read(when) and _stage(then, facts_read(when), registry) != 1:
            out.add(line, rule_id, "internal: stage assignment failed")  # pragma: no cover
        rules.append(RuleSpec(
            id=rule_id, title=str(node.get("title") or rule_id), when=when, then=then, cite=str(cite).strip(),
            effective_from=effective[0], effective_to=effective[1], message=message,
            unsure=str(unsure).strip() if unsure else None, pack=str(name), file=display, line=line,
            stage=_stage(then, facts_read(when), registry),
        ))
    obligations: list[ObligationSpec] = []
    obl_nodes = document.get("obligations") or []
    if not isinstance(obl_nodes, list):
        out.add(_line_of(document, "obligations"), None, "'obligations' must be a list")
        obl_nodes = []
    for index, node in enumerate(obl_nodes):
        line = _line_of(obl_nodes, index)
        if not isinstance(node, Mapping) or not isinstance(node.get("id"), str):
            out.add(line, None, "an obligation must be a mapping with an id")
            continue
        oid = str(node["id"])
        before = len(out.issues)
        extra = set(map(str, node)) - OBLIGATION_KEYS
        if extra:
            out.add(line, None, f"obligation {oid}: unknown key(s) {sorted(extra)}")
        text = _messages(node.get("text"), _line_of(node, "text") or line, None, f"obligation {oid}: text", out)
        cite = node.get("cite")
        if not isinstance(cite, str) or not cite.strip():
            out.add(line, None, f"obligation {oid}: missing citation ('cite')")
        due = _parse_due(node.get("due"), _line_of(node, "due") or line, oid, registry, out)
        satisfied = None
        if node.get("satisfied_when") is not None:
            parser = _ConditionParser(registry, out, f"(obligation) {oid}", stored)
            satisfied = parser.parse(node["satisfied_when"], _line_of(node, "satisfied_when") or line)
        if len(out.issues) > before or text is None or due is None:
            continue
        obligations.append(ObligationSpec(oid, text, due, str(cite).strip(), satisfied,
                                          str(node["unsure"]) if node.get("unsure") else None,
                                          str(name), display, line))
    if out.issues:
        return None, out.issues
    digest = pack_digest(document)
    return Pack(str(name), str(version), str(document.get("title") or name), display, digest, tuple(rules),
                tuple(obligations), tuple(options), mechanisms, decides_from, counting), []


def _display_name(path: Path, root: Path) -> str:
    try:
        return str(Path(root.name) / path.relative_to(root))
    except ValueError:
        return str(path)


def load_pack_set(directory: Path | str, files: Iterable[Path] | None = None, *, stored: bool = False) -> PackSet:
    """Load and validate every pack of a folder; raise RulePackError listing every issue.

    ``stored``: the folder holds pack texts recorded in the ledger (replay, as-of evaluation), which
    may compare a fact with a value retired since (``public_body``): such a literal is read as what it
    meant then, as a stored request's is (engine.models.read_stored_request), so that a recorded
    decision replays as it was made. A folder a user writes is held to the current values."""
    root = Path(directory)
    walked = files is None  # the folder's own files must stay inside it (a link out is refused)
    if files is None:
        if not root.is_dir():
            raise RulePackError([RuleIssue(str(root), 0, None, "rule folder does not exist")])
        files = pack_files(root)
    paths = list(files)
    issues: list[RuleIssue] = []
    documents: list[tuple[Any, str]] = []
    for path in paths:
        display = _display_name(path, root)
        document, read_issues = read_yaml(path, display, root if walked else None)
        issues += read_issues
        if document is not None:
            documents.append((document, display))
    if not paths:
        issues.append(RuleIssue(str(root), 0, None, "no rule packs (*.yaml) found"))
    # Options are declared by packs and read as facts by any pack: collect them first.
    option_decls: dict[str, OptionDecl] = {}
    for document, display in documents:
        if isinstance(document, Mapping):
            collector = _Collector(display)
            for decl in _parse_options(document, str(document.get("pack")), collector):
                if decl.spec.id in option_decls:
                    issues.append(RuleIssue(display, 0, None, f"option {decl.spec.id} is declared twice"))
                option_decls[decl.spec.id] = decl
    registry = FactRegistry(decl.spec for decl in option_decls.values())
    packs: list[Pack] = []
    for document, display in documents:
        pack, pack_issues = parse_pack(document, display, registry, stored)
        issues += pack_issues
        if pack is not None:
            packs.append(pack)
    seen_rules: dict[str, RuleSpec] = {}
    seen_obligations: dict[str, ObligationSpec] = {}
    seen_packs: dict[str, Pack] = {}
    mechanisms: dict[str, MechanismPolicy] = {}
    counting = NO_COUNTING_POLICY
    for pack in packs:
        if pack.name in seen_packs:
            issues.append(RuleIssue(pack.file, 1, None, f"pack name '{pack.name}' is also used by "
                                    f"{seen_packs[pack.name].file}"))
        seen_packs[pack.name] = pack
        for rule in pack.rules:
            if rule.id in seen_rules:
                other = seen_rules[rule.id]
                issues.append(RuleIssue(rule.file, rule.line, rule.id,
                                        f"duplicate rule id (also at {other.file}:{other.line})"))
            seen_rules[rule.id] = rule
        for obligation in pack.obligations:
            if obligation.id in seen_obligations:
                other_obligation = seen_obligations[obligation.id]
                issues.append(RuleIssue(obligation.file, obligation.line, None,
                                        f"obligation {obligation.id} is defined twice (also at "
                                        f"{other_obligation.file}:{other_obligation.line})"))
            seen_obligations[obligation.id] = obligation
        for mech, policy in pack.mechanisms.items():
            if mech in mechanisms and mechanisms[mech] != policy:
                issues.append(RuleIssue(pack.file, 1, None, f"mechanism {mech} is declared differently "
                                        "by another pack"))
            mechanisms[mech] = policy
        if pack.counting != NO_COUNTING_POLICY:
            if counting != NO_COUNTING_POLICY and counting != pack.counting:
                issues.append(RuleIssue(pack.file, 1, None, "'counting' is declared differently by another pack"))
            counting = pack.counting
    for rule in seen_rules.values():
        for oid in rule.then.obligations:
            if oid not in seen_obligations:
                issues.append(RuleIssue(rule.file, rule.line, rule.id, f"undefined obligation id '{oid}'"))
    if issues:
        raise RulePackError(issues)
    digest = pack_set_digest((p.name, p.digest) for p in packs)
    return PackSet(
        packs=tuple(packs), registry=registry, digest=digest,
        rules=tuple(rule for pack in packs for rule in pack.rules),
        obligations=seen_obligations, options=option_decls, mechanisms=mechanisms, counting=counting,
    )

"""Completeness check of a pack set: holes, conflicts and dead rules over a grid built from the rules.

The grid's dimensions are the facts that route rules (require, prohibit, exempt) read, each at the
values the rules themselves make interesting: every constant a rule compares a number with and one
either side, every enum value a rule names plus one it does not, both truth values, each set member
a rule tests, the planned date at every ``effective`` boundary and the day before, and every pack
option both ways. The full product is taken while it stays under 100,000 cases; above that, an
all-pairs covering array. One witness case per route rule (a satisfying assignment of its
condition) is added, so that a rule reported dead really cannot fire.

Facts vary independently in the grid, but a real request cannot produce every combination (a
transfer with sensitive data has a sensitive tally of at least one), so each case is normalised to
what a request could produce before it is evaluated.

- A *hole*: a case that no rule deciding the route (``require``, ``prohibit``, ``exempt``, ``review``,
  ``no_mechanism``) decides, on a planned date the packs say they decide (``decides_from``: before it
  the engine fails closed on purpose and asks for legal review). The engine fails closed on such a
  case (``engine.no-route``); were it not to, it would be a bare "permitted" — one no rule decided.
  Every case counts: out of the Mainland, within it, from Hong Kong, from elsewhere.
- A *conflict*: route rules at the strongest level that accept no common mechanism.
- A *dead rule*: a rule (of any effect) no case fires.

The parties' jurisdictions are dimensions of their own; ``direction`` and ``leaves_mainland`` follow
from them, as they do for a request.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

from engine.conditions import All, AnyOf, Condition, Leaf, leaves_of, negation_normal_form
from engine.evaluator import Engine
from engine.fact_registry import FactRegistry, FactSpec
from engine.facts import FactValue, PriorCounts, derive_facts
from engine.models import TransferRequest
from engine.rulespec import MECHANISM_LEVEL, RuleSpec

FULL_PRODUCT_LIMIT = 100_000
RANDOM_CASES = 20_000
"""All pairs only guarantee two-way interactions; a seeded random sweep of the same grid adds wider
combinations (a hole may need five facts at once) for a few seconds more."""
OTHER = "__other__"

BASELINE_REQUEST: dict[str, Any] = {
    "reference": "grid",
    "exporter": {"id": "E", "name": "Exporter", "jurisdiction": "CN", "city": "Shenzhen"},
    "recipient": {"id": "R", "name": "Recipient", "jurisdiction": "HK"},
    "purpose": "other",
    "planned_date": "2026-12-01",
    "data": [{"kind": "personal", "subjects": 1000}],
    "safeguards": {"separate_consent": True, "notice_given": True, "pia_completed_on": "2026-11-01"},
}


@dataclass(frozen=True)
class Finding:
    kind: str  # hole | conflict | dead-rule
    detail: str
    case: dict[str, Any] = field(default_factory=dict)


@dataclass
class CompletenessReport:
    cases: int
    method: str  # full-product | all-pairs
    dimensions: int
    product_size: int
    seconds: float
    holes: list[Finding]
    conflicts: list[Finding]
    dead_rules: list[Finding]

    @property
    def ok(self) -> bool:
        return not (self.holes or self.conflicts or self.dead_rules)

    def summary(self) -> str:
        return (f"completeness: {self.cases} cases ({self.method} over {self.dimensions} facts; full product "
                f"{self.product_size:,}), {len(self.holes)} holes, {len(self.conflicts)} conflicts, "
                f"{len(self.dead_rules)} rules no case fires, {self.seconds:.1f} s")


def route_rules(engine: Engine) -> list[RuleSpec]:
    return [rule for rule in engine.pack_set.rules if rule.then.decides_route]


JURISDICTION_FACTS = ("exporter.jurisdiction", "recipient.jurisdiction")
FROM_JURISDICTIONS = ("direction", "leaves_mainland")
"""Facts a request never sets apart from the parties' jurisdictions: not dimensions of the grid."""
DIRECTION_PARTIES = {"cn_to_hk": ("CN", "HK"), "cn_to_mo": ("CN", "MO"), "cn_to_other": ("CN", "SG"),
                     "hk_to_cn": ("HK", "CN"), "hk_to_other": ("HK", "SG"), "other": ("CN", "CN")}


def dimensions(engine: Engine, rules: list[RuleSpec] | None = None) -> dict[str, list[Any]]:
    """Fact name -> the representative values ``rules`` (default: every rule) make interesting."""
    registry = engine.pack_set.registry
    values: dict[str, set[Any]] = {name: {"CN", "HK", "MO", OTHER} for name in JURISDICTION_FACTS}
    dates: set[dt.date] = set()
    for rule in engine.pack_set.rules if rules is None else rules:
        dates |= {rule.effective_from, rule.effective_from - dt.timedelta(days=1)}
        if rule.effective_to is not None:
            dates |= {rule.effective_to, rule.effective_to + dt.timedelta(days=1)}
        for leaf in leaves_of(rule.when):
            spec = registry.get(leaf.fact)
            if spec is None or spec.derived or leaf.fact in FROM_JURISDICTIONS:
                continue
            bucket = values.setdefault(leaf.fact, set())
            constants = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
            if spec.type == "number":
                if leaf.op == "exists":
                    bucket.add(None)
                    continue
                for constant in constants:
                    bucket |= {max(0, int(constant) - 1), int(constant), int(constant) + 1}
                bucket.add(0)
            elif spec.type == "bool":
                bucket |= {True, False}
            elif spec.type in ("enum", "string"):
                bucket |= set(constants) | {OTHER}
            elif spec.type == "set":
                if leaf.op in ("contains", "not_contains"):
                    bucket.add(leaf.value)
                else:
                    bucket.add(OTHER)
            elif spec.type == "date":
                if leaf.op == "exists":  # unknown, or some day (the rule's first)
                    bucket |= {None, rule.effective_from}
                    continue
                for constant in constants:
                    bucket |= {constant, constant - dt.timedelta(days=1)}
    result: dict[str, list[Any]] = {}
    for name, decl in engine.pack_set.options.items():
        option = decl.spec
        result[f"option.{name}"] = [True, False] if option.type == "bool" else list(option.values or [option.default])
    for name, bucket in sorted(values.items()):
        spec = registry.get(name)
        if spec is not None and spec.type == "set":
            # Each tested member is present or absent: one boolean dimension per member.
            for member in sorted(bucket - {OTHER}):
                result[f"{name}#{member}"] = [False, True]
            continue
        result[name] = sorted(bucket, key=lambda v: (v is None, str(type(v)), v if v is not None else 0))
    result["planned_date"] = sorted(dates)
    return result


def _pairwise(dims: dict[str, list[Any]], seed: int = 7) -> list[dict[str, Any]]:
    """A greedy all-pairs covering array (AETG-style): every pair of values of any two facts appears."""
    names = list(dims)
    rng = random.Random(seed)
    uncovered: set[tuple[int, int, int, int]] = set()
    for i, j in itertools.combinations(range(len(names)), 2):
        for a in range(len(dims[names[i]])):
            for b in range(len(dims[names[j]])):
                uncovered.add((i, a, j, b))
    cases: list[dict[str, Any]] = []
    while uncovered:
        best: list[int] | None = None
        best_gain = -1
        for _ in range(20):
            i, a, j, b = next(iter(uncovered)) if not best else rng.choice(tuple(uncovered))
            choice: dict[int, int] = {i: a, j: b}
            order = [k for k in range(len(names)) if k not in choice]
            rng.shuffle(order)
            for k in order:
                scores = []
                for v in range(len(dims[names[k]])):
                    gain = sum(((min(k, m), v if k < m else w, max(k, m), w if k < m else v) in uncovered)
                               for m, w in choice.items())
                    scores.append((gain, rng.random(), v))
                choice[k] = max(scores)[2]
            row = [choice[k] for k in range(len(names))]
            gain = sum((i2, row[i2], j2, row[j2]) in uncovered
                       for i2, j2 in itertools.combinations(range(len(names)), 2))
            if gain > best_gain:
                best, best_gain = row, gain
        assert best is not None
        for i2, j2 in itertools.combinations(range(len(names)), 2):
            uncovered.discard((i2, best[i2], j2, best[j2]))
        cases.append({names[k]: dims[names[k]][best[k]] for k in range(len(names))})
    return cases


def _witness(rule: RuleSpec, registry: FactRegistry) -> dict[str, Any]:
    """A case that satisfies the rule's condition (first satisfiable branch of each `any`)."""
    case: dict[str, Any] = {"planned_date": rule.effective_from}

    def satisfy(cond: Condition) -> None:
        if isinstance(cond, All):
            for item in cond.items:
                satisfy(item)
        elif isinstance(cond, AnyOf):
            if cond.items:
                satisfy(cond.items[0])
        elif isinstance(cond, Leaf):
            case.update(_satisfying(cond, registry.get(cond.fact), rule.effective_from))

    satisfy(negation_normal_form(rule.when))
    return case


def _satisfying(leaf: Leaf, spec: FactSpec | None, on: dt.date) -> dict[str, Any]:
    """Values that make ``leaf`` true, each of its fact's type (a sheet the network must accept):
    a number or a day just past the constants for ``ne``/``not_in``, ``on`` for a day that exists."""
    name, op, value = leaf.fact, leaf.op, leaf.value
    kind = spec.type if spec is not None else None
    if op == "exists":
        if kind == "set":
            return {name: frozenset(spec.values[:1]) if value and spec is not None else frozenset()}
        if not value:
            return {name: None}
        return {name: on if kind == "date" else 1}
    if op in ("contains", "not_contains"):
        return {f"{name}#{value}": op == "contains"}
    if op == "eq":
        return {name: value}
    if op in ("ne", "not_in"):
        excluded = value if op == "not_in" else (value,)
        if kind == "bool":
            return {name: not excluded[0]}
        if kind == "number":
            return {name: max(excluded) + 1}
        if kind == "date":
            return {name: max(excluded) + dt.timedelta(days=1)}
        return {name: OTHER}
    if op == "in":
        return {name: value[0]}
    if isinstance(value, dt.date):
        delta = dt.timedelta(days=1)
        return {name: {"gt": value + delta, "gte": value, "lt": value - delta, "lte": value}[op]}
    return {name: {"gt": value + 1, "gte": value, "lt": max(0, value - 1), "lte": value}[op]}


def _normalise(case: dict[str, Any], baseline: dict[str, FactValue], engine: Engine) -> dict[str, FactValue]:
    """Apply grid values to the baseline fact sheet and make the sheet one a request could produce."""
    facts: dict[str, Any] = dict(baseline)
    members: dict[str, set[str]] = {}
    for name, value in case.items():
        if "#" in name:
            base, member = name.split("#", 1)
            current = members.setdefault(base, set(facts.get(base) or ()))
            if value:
                current.add(member)
            else:
                current.discard(member)
        elif value == OTHER:
            facts[name] = "zz-other"
        else:
            facts[name] = value
    for base, chosen in members.items():
        facts[base] = frozenset(chosen)
    _parties(case, facts)
    if facts.get("data.has_core") or facts.get("data.has_state_secret"):
        facts["data.has_important"] = True
    tags = set(facts.get("data.tags") or ())
    for tag in list(tags):
        if facts.get(f"data.subjects_tagged.{tag}", 0) and not facts.get("data.has_personal"):
            facts["data.has_personal"] = True
    for name, value in list(facts.items()):
        if name.startswith("data.subjects_tagged.") and value:
            tags.add(name.rsplit(".", 1)[1])
    facts["data.tags"] = frozenset(tags)
    if facts.get("data.sensitive_types"):
        facts["data.has_sensitive"] = True
    if facts.get("data.all_collected_outside_mainland"):
        facts["data.has_personal"] = True
    if not facts.get("data.has_personal"):
        facts["data.has_sensitive"] = False
        facts["data.sensitive_types"] = frozenset()
        facts["data.personal_subjects"] = 0
        facts["data.sensitive_subjects"] = 0
        facts["data.all_collected_outside_mainland"] = False
        for name in [n for n in facts if n.startswith("data.subjects_tagged.")]:
            facts[name] = 0
    else:
        if facts.get("data.has_sensitive"):
            facts["data.sensitive_subjects"] = max(1, int(facts.get("data.sensitive_subjects") or 0))
        else:
            facts["data.sensitive_subjects"] = 0
            facts["data.sensitive_types"] = frozenset()
        if not facts.get("data.has_sensitive") and not facts.get("data.personal_subjects"):
            facts["data.personal_subjects"] = 1
    facts["ytd.personal_subjects"] = max(int(facts.get("ytd.personal_subjects") or 0),
                                         int(facts.get("data.personal_subjects") or 0))
    facts["ytd.sensitive_subjects"] = max(int(facts.get("ytd.sensitive_subjects") or 0),
                                          int(facts.get("data.sensitive_subjects") or 0))
    for tally in ("personal_subjects", "sensitive_subjects"):
        facts[f"since_prev_year.{tally}"] = max(int(facts.get(f"since_prev_year.{tally}") or 0),
                                                int(facts[f"ytd.{tally}"]))
    facts["data.classifications"] = frozenset(
        {"general"} | ({"important"} if facts.get("data.has_important") else set())
        | ({"core"} if facts.get("data.has_core") else set())
        | ({"state_secret"} if facts.get("data.has_state_secret") else set()))
    for name, value in list(facts.items()):
        if name.startswith("option."):
            continue
        spec = engine.pack_set.registry.get(name)
        if spec is not None and spec.type == "date" and value is not None and not isinstance(value, dt.date):
            facts[name] = None
    return facts


def _parties(case: dict[str, Any], facts: dict[str, Any]) -> None:
    """The parties' jurisdictions of a case (a witness may name a direction or leaves_mainland instead:
    they give the jurisdictions its named ones leave open), then direction and leaves_mainland from
    them as a request gives them (engine.facts.direction_of)."""
    exporter, recipient = facts.get("exporter.jurisdiction"), facts.get("recipient.jurisdiction")
    if "direction" in case:
        exporter, recipient = DIRECTION_PARTIES.get(str(case["direction"]), ("CN", "CN"))
    elif "leaves_mainland" in case:
        exporter, recipient = ("CN", "HK") if case["leaves_mainland"] else ("CN", "CN")
    exporter = facts["exporter.jurisdiction"] = case.get("exporter.jurisdiction", exporter)
    recipient = facts["recipient.jurisdiction"] = case.get("recipient.jurisdiction", recipient)
    for name, value in (("exporter.jurisdiction", exporter), ("recipient.jurisdiction", recipient)):
        if value == OTHER:
            facts[name] = "ZZ"  # a jurisdiction no rule names (user-assigned code, not a real one)
    exporter, recipient = facts["exporter.jurisdiction"], facts["recipient.jurisdiction"]
    if exporter == "CN":
        facts["direction"] = ("other" if recipient == "CN"
                              else {"HK": "cn_to_hk", "MO": "cn_to_mo"}.get(recipient, "cn_to_other"))
    elif exporter == "HK":
        facts["direction"] = "other" if recipient == "HK" else ("hk_to_cn" if recipient == "CN" else "hk_to_other")
    else:
        facts["direction"] = "other"
    facts["leaves_mainland"] = exporter == "CN" and recipient != "CN"


def check_completeness(engine: Engine) -> CompletenessReport:
    started = time.perf_counter()
    dims = dimensions(engine)
    # Holes and conflicts depend on the route rules' facts alone: the covering array is built over those
    # (its cost grows with the square of the dimensions); the random cases and the search for a rule
    # no case fired range over every rule's facts.
    route_dims = dimensions(engine, route_rules(engine))
    product = math.prod(len(v) for v in dims.values())
    if product <= FULL_PRODUCT_LIMIT:
        method = "full-product"
        names = list(dims)
        cases = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*dims.values())]
    else:
        method = f"all-pairs of the route rules' facts + {RANDOM_CASES:,} random"
        cases = _pairwise(route_dims)
        rng = random.Random(3)
        names = list(dims)
        # Half uniform over the grid; half near an ordinary Shenzhen -> Hong Kong transfer (a few facts
        # changed at once), where a missing rule shows up instead of hiding behind unrelated facts.
        cases += [{name: rng.choice(values) for name, values in dims.items()} for _ in range(RANDOM_CASES // 2)]
        for _ in range(RANDOM_CASES // 2):
            chosen = rng.sample(names, k=rng.randint(1, 6))
            cases.append({name: rng.choice(dims[name]) for name in chosen})
    rules = list(engine.pack_set.rules)
    cases += [_witness(rule, engine.pack_set.registry) for rule in rules]
    if engine.pack_set.decides_from is not None:
        cases += [dict(case, planned_date=engine.pack_set.decides_from) for case in cases[:: max(1, len(cases) // 50)]]
    baseline = derive_facts(TransferRequest.model_validate(BASELINE_REQUEST), PriorCounts(), engine.options,
                            engine.mechanisms)
    by_id = {rule.id: rule for rule in engine.pack_set.rules}
    route_ids = {rule.id for rule in route_rules(engine)}
    scope_from = engine.pack_set.decides_from
    fired_ever: set[str] = set()
    holes: list[Finding] = []
    conflicts: list[Finding] = []
    for case in cases:
        options = {k[len("option."):]: v for k, v in case.items() if k.startswith("option.")}
        facts = _normalise(case, baseline, engine)
        for key, value in options.items():
            facts[f"option.{key}"] = value
        fired_ids = engine.fire(facts)
        fired_ever.update(fired_ids)
        fired = [by_id[r] for r in fired_ids if r in route_ids]
        in_scope = scope_from is None or facts["planned_date"] >= scope_from  # type: ignore[operator]
        if in_scope and not fired:
            outbound = facts.get("leaves_mainland") and (facts.get("data.has_personal")
                                                         or facts.get("data.has_important"))
            what = ("no route rule decides this outbound case" if outbound
                    else "no rule decides this case: it would be a bare 'permitted' (the engine fails closed)")
            holes.append(Finding("hole", what, _printable({**case, "exporter.jurisdiction":
                                                           facts["exporter.jurisdiction"],
                                                           "recipient.jurisdiction": facts["recipient.jurisdiction"]})))
        requires = [rule for rule in fired if rule.then.require]
        if requires and not any(rule.then.prohibit for rule in fired):
            top = max(MECHANISM_LEVEL[m] for rule in requires for m in rule.then.require)
            at_top = [rule for rule in requires if max(MECHANISM_LEVEL[m] for m in rule.then.require) == top]
            if not set.intersection(*(set(rule.then.require) for rule in at_top)):
                conflicts.append(Finding("conflict", "rules at the same level accept no common mechanism: "
                                         + ", ".join(rule.id for rule in at_top), _printable(case)))
    # A route rule no case fired may need a combination wider than pairs: search around its witness
    # (random changes of the other facts) before calling it dead.
    rng = random.Random(11)
    for rule in [r for r in rules if r.id not in fired_ever]:
        witness = _witness(rule, engine.pack_set.registry)
        for _ in range(400):
            case = dict(witness)
            for name in rng.sample(list(dims), k=min(len(dims), rng.randint(1, 6))):
                if name not in witness:
                    case[name] = rng.choice(dims[name])
            facts = _normalise(case, baseline, engine)
            if rule.id in engine.fire(facts):
                fired_ever.add(rule.id)
                cases.append(case)
                break
    dead = [Finding("dead-rule", f"{rule.file}:{rule.line}: rule {rule.id}: no case of the grid fires it "
                    "(a literal no request can give, or conditions that contradict each other)")
            for rule in rules if rule.id not in fired_ever]
    return CompletenessReport(len(cases), method, len(dims), product, time.perf_counter() - started,
                              holes, conflicts, dead)


def _printable(case: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in sorted(case.items())}

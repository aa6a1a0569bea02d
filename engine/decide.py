"""Combine the effects of the rules that fired into a Decision (DESIGN section 3).

- A prohibition wins over everything.
- Mechanisms are ordered none < contract tier < security assessment < prohibited; the strongest
  requirement wins, and its options are those every requirement at that level accepts, plus any a
  rule declares ``also_satisfied_by``, less the gated ones (``eligible``) no rule made eligible.
- A mechanism in place counts only where it is among the options and valid on the planned date.
- Fail closed: no decision is permitted unless a rule that fired decided its route (``require``,
  ``prohibit``, ``exempt``, ``review`` or ``no_mechanism``): otherwise it is conditional with the reason
  ``engine.no-route`` and a review in ``missing`` (a transfer out of the Mainland with personal or
  important data, an exporter whose law no pack covers, anything the packs do not speak to).
- A rule asking for a ``review`` makes the transfer conditional on it (a ``review`` item in ``missing``).
- Where exemptions hold but a stronger rule still requires a mechanism or prohibits, a reason
  (``engine.exemption-overridden``) says the exemption does not lift it.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel

from engine.conditions import Condition, describe_value, evaluate_normal_form, facts_read, negation_normal_form
from engine.decision_ids import new_ulid, now_to_the_second
from engine.fact_registry import EXEMPT_VOLUMES_COUNTED_OPTION, EXEMPTION_IDS
from engine.facts import FactValue, PriorCounts, Tally, mechanism_valid
from engine.models import (
    Counts,
    Decision,
    Messages,
    MissingApproval,
    MissingItem,
    MissingMechanism,
    MissingObligation,
    MissingReview,
    ObligationResult,
    Outcome,
    Reason,
    RulesInfo,
    SatisfiedBy,
    TransferRequest,
)
from engine.rulespec import MECHANISM_LEVEL, PackSet, RuleSpec
from engine.texts import (
    NO_ROUTE_CITATION,
    NO_ROUTE_REVIEW,
    NO_ROUTE_RULE,
    OVERRIDDEN_RULE,
    exemption_overridden,
    mechanism_does_not_fit,
    mechanism_not_valid,
    missing_approval,
    missing_mechanism,
    no_eligible_mechanism,
    no_route,
    no_route_decided,
)
from engine.workdays import add_working_days

M = TypeVar("M", bound=BaseModel)

OPTION_ORDER = ("gba_standard_contract", "standard_contract", "certification", "security_assessment")
EXEMPTION_ORDER = EXEMPTION_IDS
UNCOUNTED_EXEMPTIONS_OPTION = EXEMPT_VOLUMES_COUNTED_OPTION
ALWAYS_COUNTED_EXEMPTIONS = frozenset({"under_threshold", "non_personal"})
"""Art. 5(4) volumes are exactly what the thresholds measure; non-personal data has none to count."""


def _precedence(rule: RuleSpec) -> tuple[int, int]:
    then = rule.then
    if then.prohibit:
        rank = 0
    elif then.require:
        rank = 3 - max(MECHANISM_LEVEL[m] for m in then.require)
    elif then.exempt or then.review or then.no_mechanism:
        rank = 3
    elif then.eligible or then.also_satisfied_by:
        rank = 4
    elif then.approvals:
        rank = 5
    elif then.obligations:
        rank = 6
    else:
        rank = 7
    return rank, 0


class Evaluation(NamedTuple):
    """What the evaluator hands to decide: the inputs and the rules that fired, in stage order.

    A named tuple (immutable, built in C) rather than a frozen dataclass, whose ``__init__`` sets each
    field through ``object.__setattr__``: one is made per decision."""

    request: TransferRequest
    facts: Mapping[str, FactValue]
    fired: Sequence[str]
    prior: PriorCounts
    tally: Tally
    options: Mapping[str, bool | int | str]
    as_of: dt.date
    notes: tuple[Reason, ...] = ()
    """Reasons about the input itself, after the rules' (engine.party_ids: ``engine.id-unverified``)."""


def _build(cls: type[M], values: dict[str, Any]) -> M:
    """A model of the decision from values the engine made: through pydantic's validator (its public
    constructor, in Rust), not ``model_construct``. Measured with pydantic 2.14 on a real decision:
    ``model_construct`` loops over the fields in Python (aliases, defaults) and costs 5.2 us for a
    Decision and 4.6 us for its Counts, the validator 3.0 and 1.8 us; nested models already built pass
    through it as they are (``revalidate_instances`` is ``never``), so the reasons, missing items and
    obligations cached by a plan keep their identity (the HTTP encoder's cache keys on it). And a value
    the engine got wrong is an error here, not a decision that breaks its own schema."""
    return cls.model_validate(values)


_MISSING_CLASSES: dict[str, type[BaseModel]] = {
    "mechanism": MissingMechanism, "obligation": MissingObligation, "approval": MissingApproval,
    "review": MissingReview}


def _missing(kind: str, text: Messages, ident: str | None = None, options: Sequence[str] = ()) -> MissingItem:
    """The one way decide says what is missing (DESIGN section 3): ``kind`` is mechanism (with the
    ``options``, any one of which meets the requirement), obligation (its id), approval (its kind) or
    review (a short id of why, e.g. ``no-route``)."""
    if kind == "mechanism":
        return _build(MissingMechanism, {"kind": kind, "options": list(options), "text": text})
    if ident is None:
        raise ValueError(f"a missing {kind} needs an id")
    item: MissingItem = _build(_MISSING_CLASSES[kind], {"kind": kind, "id": ident, "text": text})  # type: ignore[assignment]
    return item


REVIEW_NO_ELIGIBLE_MECHANISM = "no-eligible-mechanism"


@dataclass(frozen=True)
class _Effects:
    """The combined effects of one set of fired rules: everything in a decision that depends on which
    rules fired and on nothing else (the fact values are read per evaluation, in :func:`decide`).

    Worked out once per distinct set (the sets that fire are few, however varied the requests are),
    so an evaluation does not walk every fired rule's effects again."""

    rules: tuple[RuleSpec, ...]
    """The fired rules that give a reason, each once, in precedence order (the order of the reasons):
    all that fired but those that only offer a mechanism (``eligible``, ``also_satisfied_by``) not
    among the options, whose reason would name a route the decision does not offer."""
    prohibited: bool
    exemption_set: frozenset[str]
    exemptions: list[str]
    exempts_uncounted: bool
    """Some exemption that fired is one whose volumes count only under the pack option
    ``exempt_volumes_counted`` (all but :data:`ALWAYS_COUNTED_EXEMPTIONS`)."""
    route_decided: bool
    mechanism: str
    options: list[str]
    option_valid_keys: tuple[str, ...]
    """``mechanism.<m>.valid`` for each option: one of them true means a mechanism is in place."""
    needs_review: bool
    """A mechanism is required but no known mechanism fits (the options came out empty)."""
    reviews: tuple[tuple[str, Messages], ...]
    """(id, text) of every legal review a fired rule asks for (``review``)."""
    overriding: tuple[RuleSpec, ...]
    """Where exemptions hold: the rules whose prohibition or top-level requirement they do not lift."""
    approvals: tuple[tuple[str, str], ...]
    """(kind, its ``approval.<kind>`` fact) of every approval the fired rules ask for."""
    obligation_ids: tuple[str, ...]
    read: Callable[[Mapping[str, FactValue]], tuple[FactValue, ...]]
    """The values of ``reads`` from a fact sheet, as one tuple (``operator.itemgetter``, in C)."""
    reads: tuple[str, ...]
    """Every fact the assembly reads for this set of rules: the facts each fired rule's condition
    reads (its reason shows them), those its obligations read (satisfied or not, due date), the
    fail-closed test's, the options' validity and the approvals'. The assembly is a function of
    these values, the mechanisms listed and the planned date, and nothing else."""


def _getter(names: tuple[str, ...]) -> Callable[[Mapping[str, FactValue]], tuple[FactValue, ...]]:
    """itemgetter of ``names`` that always returns a tuple (itemgetter of one name returns the value)."""
    if len(names) == 1:
        single = operator.itemgetter(names[0])
        return lambda facts: (single(facts),)
    if not names:
        return lambda facts: ()
    return operator.itemgetter(*names)


def _values(read: Callable[[Mapping[str, FactValue]], tuple[FactValue, ...]], names: tuple[str, ...],
            facts: Mapping[str, FactValue]) -> tuple[FactValue, ...]:
    """The values of ``names`` (``read`` is their getter); a fact sheet not from derive_facts may lack
    a fact, which then reads as unknown, as ``.get`` says."""
    try:
        return read(facts)
    except KeyError:
        return tuple([facts.get(name) for name in names])


def effects_of(fired_ids: Sequence[str], plan: _Plan) -> _Effects:
    """What the rules that fired say together (worked out once per set of fired rule ids, by
    :func:`decide`): route, options, exemptions, reviews, approvals, obligations, and the facts the
    rest of the assembly reads, which key its caches."""
    by_id, order = plan.by_id, plan.order
    fired = sorted((by_id[rule_id] for rule_id in dict.fromkeys(fired_ids)), key=lambda rule: order[rule.id])
    exemption_set = frozenset(rule.then.exempt for rule in fired if rule.then.exempt)
    requirements = [rule.then.require for rule in fired if rule.then.require]
    prohibited = any(rule.then.prohibit for rule in fired)
    mechanism = "none"
    options: list[str] = []
    overriding: tuple[RuleSpec, ...] = ()
    if prohibited:
        mechanism = "prohibited"
        overriding = tuple(rule for rule in fired if rule.then.prohibit)
    elif requirements:
        top = max(MECHANISM_LEVEL[m] for req in requirements for m in req)
        at_top = [set(req) for req in requirements if max(MECHANISM_LEVEL[m] for m in req) == top]
        overriding = tuple(rule for rule in fired
                           if rule.then.require and max(MECHANISM_LEVEL[m] for m in rule.then.require) == top)
        accepted = set.intersection(*at_top)
        accepted |= {m for rule in fired for m in rule.then.also_satisfied_by}
        eligible = {m for rule in fired for m in rule.then.eligible}
        accepted = {m for m in accepted if m not in plan.gated or m in eligible}
        options = [m for m in OPTION_ORDER if m in accepted]
        mechanism = "security_assessment" if top == 2 else "standard_contract"
    approvals = tuple((kind, f"approval.{kind}")
                      for kind in dict.fromkeys(kind for rule in fired for kind in rule.then.approvals))
    obligation_ids = tuple(dict.fromkeys(oid for rule in fired for oid in rule.then.obligations))
    option_valid_keys = tuple(f"mechanism.{m}.valid" for m in options)
    shown = [rule for rule in fired if _gives_reason(rule, options)]
    reads: dict[str, None] = {}
    for rule in shown:
        reads.update(dict.fromkeys(plan.reads[rule.id]))
    reads.update(dict.fromkeys(_obligation_reads(obligation_ids, plan)))
    reads.update(dict.fromkeys(("leaves_mainland", "data.has_personal", "data.has_important",
                                "exporter.jurisdiction", "recipient.jurisdiction")))
    reads.update(dict.fromkeys(option_valid_keys))
    reads.update(dict.fromkeys(key for _, key in approvals))
    return _Effects(
        rules=tuple(shown),
        prohibited=prohibited,
        exemption_set=exemption_set,
        exemptions=[e for e in EXEMPTION_ORDER if e in exemption_set],
        exempts_uncounted=bool(exemption_set - ALWAYS_COUNTED_EXEMPTIONS),
        route_decided=any(rule.then.decides_route for rule in fired),
        mechanism=mechanism,
        options=options,
        option_valid_keys=option_valid_keys,
        needs_review=bool(requirements) and not prohibited and not options,
        reviews=tuple((rule.then.review, rule.message) for rule in fired if rule.then.review),
        overriding=overriding if exemption_set else (),
        approvals=approvals,
        obligation_ids=obligation_ids,
        reads=tuple(reads),
        read=_getter(tuple(reads)),
    )


def _gives_reason(rule: RuleSpec, options: Sequence[str]) -> bool:
    """Whether a fired rule's reason belongs in the decision: not a rule that only offers mechanisms
    (the GBA contract's eligibility) where none of them is among the options, e.g. where a security
    assessment is required or no mechanism is."""
    then = rule.then
    offers = then.eligible or then.also_satisfied_by
    if not offers or then.require or then.prohibit or then.exempt or then.obligations or then.approvals or then.note:
        return True
    return any(m in options for m in (*then.eligible, *then.also_satisfied_by))


@dataclass(frozen=True)
class _Assembled:
    """The parts of a decision that follow from the fired rules and the facts they read: everything
    but the id, the time, the counts and the pack versions."""

    reasons: tuple[Reason, ...]
    satisfied_by: SatisfiedBy | None
    missing: tuple[MissingItem, ...]
    obligations: tuple[ObligationResult, ...]
    outcome: Outcome


class _Entry:
    """A key's assembled parts and the first decision made from them: later decisions of that key
    are copies of it with their own id, reference, counts, rules info, time (and notes)."""

    __slots__ = ("first", "parts")

    def __init__(self, parts: _Assembled) -> None:
        self.parts = parts
        self.first: Decision | None = None


@dataclass(frozen=True)
class _Plan:
    """What decide needs of a pack set, worked out once per digest (same digest, same content)."""

    by_id: dict[str, RuleSpec]
    order: dict[str, tuple[tuple[int, int], int]]
    reads: dict[str, tuple[str, ...]]
    readers: dict[str, Callable[[Mapping[str, FactValue]], tuple[FactValue, ...]]]
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
    effects: dict[tuple[str, ...], _Effects]
    """What the rules that fired say together, by the fired rule ids (their only input)."""
    assembled: dict[tuple[Any, ...], _Entry]
    """Assembled decision parts by the fired rule ids and every input the assembly reads (see
    :attr:`_Effects.reads`): a request shape seen before costs one lookup."""
    obligation_facts: dict[str, tuple[str, ...]]
    """Obligation id -> the facts it reads (``satisfied_when`` and the day its due date counts from)."""
    counts: dict[tuple[int, int, int, int, int, bool, bool], Counts]
    """Counts already built, by their values."""
    rules_info: list[tuple[dt.date, dict[str, Any], RulesInfo] | None]
    """One slot: (as-of day, options, RulesInfo) of the last decision (see :func:`_rules_info`)."""


_PLANS: dict[str, _Plan] = {}


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


def _plan(pack_set: PackSet) -> _Plan:
    plan = _PLANS.get(pack_set.digest)
    if plan is None:
        plan = _Plan(
            by_id={rule.id: rule for rule in pack_set.rules},
            order={rule.id: (_precedence(rule), position) for position, rule in enumerate(pack_set.rules)},
            reads={rule.id: tuple(sorted(facts_read(rule.when))) for rule in pack_set.rules},
            readers={rule.id: _getter(tuple(sorted(facts_read(rule.when)))) for rule in pack_set.rules},
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


CACHE_LIMIT = 4096
"""Entries per cache of a plan: enough for the shapes of a busy day, small enough that memory stays
flat over millions of evaluations (DESIGN section 9)."""


def _reason(rule: RuleSpec, facts: Mapping[str, FactValue], plan: _Plan) -> Reason:
    reads = plan.reads[rule.id]
    values = _values(plan.readers[rule.id], reads, facts)
    key = (rule.id, values)
    reason = plan.reasons.get(key)
    if reason is None:
        if len(plan.reasons) >= CACHE_LIMIT:
            plan.reasons.clear()
        reason = plan.reasons[key] = _build(Reason, {
            "rule": rule.id,
            "effect": plan.kinds[rule.id],
            "message": rule.message,
            "citation": rule.cite,
            "unsure": rule.unsure,
            "facts": {name: describe_value(value) for name, value in zip(reads, values, strict=True)},
        })
    return reason


def _facts_of_obligation(spec: Any) -> tuple[str, ...]:
    names: dict[str, None] = {}
    if spec.satisfied_when is not None:
        names.update(dict.fromkeys(sorted(facts_read(spec.satisfied_when))))
    if spec.due.after:
        names[spec.due.after] = None
    return tuple(names)


def _obligation_reads(oids: tuple[str, ...], plan: _Plan) -> tuple[str, ...]:
    """The facts these obligations read together, in a fixed order."""
    reads = plan.obligation_reads.get(oids)
    if reads is None:
        names: dict[str, None] = {}
        for oid in oids:
            names.update(dict.fromkeys(plan.obligation_facts[oid]))
        reads = plan.obligation_reads[oids] = tuple(names)
    return reads


def _obligations(oids: tuple[str, ...], facts: Mapping[str, FactValue], pack_set: PackSet,
                 plan: _Plan) -> tuple[list[ObligationResult], list[MissingItem]]:
    """The results of these obligations and the missing items of those due before the transfer and
    not satisfied; reused by the values of the facts they read (one lookup for all of them)."""
    reads = _obligation_reads(oids, plan)
    key = (oids, *[facts.get(name) for name in reads])
    cached = plan.obligation_sets.get(key)
    if cached is None:
        results: list[ObligationResult] = []
        due: list[MissingItem] = []
        for oid in oids:
            result, missing_item = _obligation(oid, facts, pack_set, plan)
            results.append(result)
            if result.before_transfer and not result.satisfied:
                due.append(missing_item)
        if len(plan.obligation_sets) >= CACHE_LIMIT:
            plan.obligation_sets.clear()
        cached = plan.obligation_sets[key] = (results, due)
    return list(cached[0]), list(cached[1])


def _obligation(oid: str, facts: Mapping[str, FactValue], pack_set: PackSet,
                plan: _Plan) -> tuple[ObligationResult, MissingItem]:
    spec = pack_set.obligations[oid]
    condition = plan.satisfied[oid]
    satisfied = evaluate_normal_form(condition, facts) if condition is not None else False
    due = spec.due
    base = facts.get(due.after) if due.kind == "working_days" and due.after and due.working_days is not None \
        else None
    key = (oid, satisfied, base)
    cached = plan.obligations.get(key)
    if cached is None:
        due_date = None
        due_note = None
        if isinstance(base, dt.date):
            result = add_working_days(base, due.working_days)
            due_date, due_note = result.day, result.note
        if len(plan.obligations) >= CACHE_LIMIT:
            plan.obligations.clear()
        cached = plan.obligations[key] = (
            _build(ObligationResult, {
                "id": oid, "text": spec.text, "due": plan.due[oid], "due_date": due_date, "due_note": due_note,
                "citation": spec.cite, "satisfied": satisfied, "before_transfer": due.before_transfer}),
            _missing("obligation", spec.text, oid))
    return cached


def _mechanism_problems(options: list[str], facts: Mapping[str, FactValue],
                        request: TransferRequest) -> list[Messages]:
    problems = []
    for mech in request.safeguards.mechanisms:
        if mech.type not in options:
            problems.append(mechanism_does_not_fit(mech.type, mech.reference))
        elif not facts.get(f"mechanism.{mech.type}.valid"):
            problems.append(mechanism_not_valid(mech.type, mech.reference, request.planned_date))
    return problems


def _satisfied_by(options: list[str], facts: Mapping[str, FactValue], request: TransferRequest,
                  pack_set: PackSet) -> SatisfiedBy | None:
    """The first mechanism listed in the request that is among the options and valid on the planned
    date. ``mechanism.<type>.valid`` says some mechanism of that type is; where several of one type
    are listed, each is checked as the fact sheet checked them."""
    listed = request.safeguards.mechanisms
    for mech in listed:
        if mech.type not in options or not facts.get(f"mechanism.{mech.type}.valid"):
            continue
        alone = sum(1 for other in listed if other.type == mech.type) == 1
        if alone or mechanism_valid(mech, request.planned_date, pack_set.mechanisms.get(mech.type)):
            return _build(SatisfiedBy, {"type": mech.type, "reference": mech.reference})
    return None


def _rules_info(plan: _Plan, pack_set: PackSet, evaluation: Evaluation) -> RulesInfo:
    """Which rules decided. The same for every decision of one engine on one as-of day, so the last
    one is reused (one object: the HTTP encoder then writes its JSON once, too) while the options
    and the day are equal to what it was made from."""
    last = plan.rules_info[0]  # one read of one tuple: a thread never mixes two entries
    if last is not None and last[0] == evaluation.as_of and last[1] == evaluation.options:
        return last[2]
    info = _build(RulesInfo, {"packs": dict(plan.versions), "digest": pack_set.digest,
                              "as_of": evaluation.as_of, "options": dict(evaluation.options)})
    plan.rules_info[0] = (evaluation.as_of, dict(evaluation.options), info)
    return info


def _assemble(effects: _Effects, facts: Mapping[str, FactValue], request: TransferRequest, pack_set: PackSet,
              plan: _Plan) -> _Assembled:
    """Reasons, what is missing, obligations and the outcome: reads only ``effects.reads`` of the
    facts, and of the request only its mechanisms and planned date (see the key in :func:`decide`)."""
    reasons = [_reason(rule, facts, plan) for rule in effects.rules]
    missing: list[MissingItem] = [_missing("review", text, review) for review, text in effects.reviews]

    if not effects.route_decided:  # never a bare permit: fail closed
        read = ("leaves_mainland", "data.has_personal", "data.has_important", "exporter.jurisdiction",
                "recipient.jurisdiction")
        outbound = facts.get("leaves_mainland") and (facts.get("data.has_personal")
                                                     or facts.get("data.has_important"))
        text = no_route() if outbound else no_route_decided(str(facts.get("exporter.jurisdiction") or ""),
                                                            str(facts.get("recipient.jurisdiction") or ""))
        reasons.append(_build(Reason, {
            "rule": NO_ROUTE_RULE, "effect": "fail_closed", "message": text, "citation": NO_ROUTE_CITATION,
            "unsure": None, "facts": {name: describe_value(facts.get(name)) for name in read}}))
        missing.append(_missing("review", text, NO_ROUTE_REVIEW))

    if effects.overriding:
        reasons.append(_overridden(effects))

    options = effects.options
    satisfied_by = None
    if effects.needs_review:
        missing.append(_missing("review", no_eligible_mechanism(), REVIEW_NO_ELIGIBLE_MECHANISM))
    elif options and not any(facts.get(key) for key in effects.option_valid_keys):
        missing.append(_missing("mechanism", missing_mechanism(options, _mechanism_problems(options, facts, request)),
                                options=options))
    elif options and not effects.prohibited:
        satisfied_by = _satisfied_by(options, facts, request, pack_set)

    for kind, key in effects.approvals:
        if not facts.get(key):
            missing.append(_missing("approval", missing_approval(kind), kind))

    obligations, due_missing = _obligations(effects.obligation_ids, facts, pack_set, plan)
    if not effects.prohibited:
        missing += due_missing
    outcome: Outcome = "prohibited" if effects.prohibited else ("conditional" if missing else "permitted")
    return _Assembled(tuple(reasons), satisfied_by, tuple(missing), tuple(obligations), outcome)


def _overridden(effects: _Effects) -> Reason:
    """The reason saying that the exemptions listed do not lift what a stronger rule imposes."""
    rules = effects.overriding
    return _build(Reason, {
        "rule": OVERRIDDEN_RULE, "effect": "note",
        "message": exemption_overridden(effects.exemptions, effects.mechanism, [rule.id for rule in rules]),
        "citation": "; ".join(dict.fromkeys(rule.cite for rule in rules)),
        "unsure": None, "facts": {"exemption": list(effects.exemptions)}})


_COUNTS_FIELDS = tuple(Counts.model_fields)


def _counts(plan: _Plan, values: tuple[int, int, int, int, int, bool, bool]) -> Counts:
    """The Counts of these values (in the order of Counts' fields), reused: an exporter's requests
    read the same tallies until it records a transfer, and a Counts is immutable."""
    counts = plan.counts.get(values)
    if counts is None:
        if len(plan.counts) >= CACHE_LIMIT:
            plan.counts.clear()
        counts = plan.counts[values] = _build(Counts, dict(zip(_COUNTS_FIELDS, values, strict=True)))
    return counts


def decide(evaluation: Evaluation, pack_set: PackSet) -> Decision:
    """Assemble the decision from the fired rules."""
    facts = evaluation.facts
    request = evaluation.request
    plan = _plan(pack_set)
    fired_key = tuple(evaluation.fired)
    effects = plan.effects.get(fired_key)
    if effects is None:
        if len(plan.effects) >= CACHE_LIMIT:
            plan.effects.clear()
        effects = plan.effects[fired_key] = effects_of(fired_key, plan)
    # The key holds every input of _assemble: the fired rules, the values of every fact it reads,
    # and the mechanisms listed (a missing-mechanism message quotes them; satisfied_by names one, each
    # valid or not by its dates) with the planned date.
    values = _values(effects.read, effects.reads, facts)
    key = (fired_key, request.planned_date,
           tuple([(m.type, m.reference, m.effective_on, m.filed_on, m.expires_on)
                  for m in request.safeguards.mechanisms]) if effects.options else (),
           values)
    entry = plan.assembled.get(key)
    if entry is None:
        if len(plan.assembled) >= CACHE_LIMIT:
            plan.assembled.clear()
        entry = plan.assembled[key] = _Entry(_assemble(effects, facts, request, pack_set, plan))
    assembled = entry.parts
    # Recording counts a permitted transfer only (the ledger records the others uncounted), and not one an
    # exemption the options keep out of the count applies to: the counts say what recording does. And the
    # tallies are of individuals whose personal information the exporter provided outside the Mainland
    # (DESIGN section 5): a provision within the Mainland, or a transfer by an exporter elsewhere, adds
    # nothing to them, permitted or not.
    counted = assembled.outcome == "permitted" and facts.get("leaves_mainland") is True and (
        bool(evaluation.options.get(UNCOUNTED_EXEMPTIONS_OPTION, False)) or not effects.exempts_uncounted)
    tally = evaluation.tally
    declared = request.declared_prior
    before_personal = evaluation.prior.personal_subjects + declared.personal_subjects
    before_sensitive = evaluation.prior.sensitive_subjects + declared.sensitive_subjects
    counts = _counts(plan, (request.planned_date.year, before_personal, before_sensitive,
                            before_personal + (tally.personal_subjects if counted else 0),
                            before_sensitive + (tally.sensitive_subjects if counted else 0),
                            counted, tally.collected_abroad_left_out))
    notes = evaluation.notes
    first = entry.first
    if first is not None:
        # Everything but these five (and the notes, when there are) follows from the key: the first
        # decision made for it is copied with them replaced (pydantic's model_copy: no validation,
        # 2 us less than validating the whole decision again; every value replaced was validated
        # when made: the counts and rules info through _build, the request's reference with it).
        # A decision's lists are therefore shared with the first one's: decisions are frozen, and
        # nothing may change a list inside one.
        update: dict[str, Any] = {
            "decision_id": new_ulid(), "reference": request.reference, "counts": counts,
            "rules": _rules_info(plan, pack_set, evaluation), "evaluated_at": now_to_the_second()}
        if notes:
            update["reasons"] = [*assembled.reasons, *notes]
        elif len(first.reasons) != len(assembled.reasons):
            update["reasons"] = list(assembled.reasons)  # the first one had notes, this one has none
        return first.model_copy(update=update)
    decision = _build(Decision, {
        "decision_id": new_ulid(),
        "reference": request.reference,
        "outcome": assembled.outcome,
        "mechanism": effects.mechanism,
        "mechanism_options": list(effects.options),
        "exemptions": list(effects.exemptions),
        "reasons": [*assembled.reasons, *notes],
        "satisfied_by": assembled.satisfied_by,
        "missing": list(assembled.missing),
        "obligations": list(assembled.obligations),
        "counts": counts,
        "rules": _rules_info(plan, pack_set, evaluation),
        "evaluated_at": now_to_the_second(),
    })
    entry.first = decision
    return decision

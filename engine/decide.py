"""Assemble a Decision from the rules that fired (DESIGN section 3).

The evaluator hands over an :class:`Evaluation`: the request, its facts and the ids of the rules that
fired. What those rules say together (route, options, exemptions; engine.rule_effects) is combined
here with the facts' values into reasons, missing items, obligations, the outcome and the counts.
Both are worked out once per shape and kept in the pack set's plan (engine.decision_plan): a request
shape seen before costs a few lookups and a copy of the first decision made for it.

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
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel

from engine.conditions import describe_value, evaluate_normal_form, values_of
from engine.decision_ids import new_ulid, now_to_the_second
from engine.decision_plan import CACHE_LIMIT, Assembled, AssembledEntry, Plan, obligation_reads, plan_for
from engine.fact_registry import EXEMPT_VOLUMES_COUNTED_OPTION
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
from engine.rule_effects import FAIL_CLOSED_READS, Effects, effects_of
from engine.rulespec import PackSet, RuleSpec
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

UNCOUNTED_EXEMPTIONS_OPTION = EXEMPT_VOLUMES_COUNTED_OPTION


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


def _reason(rule: RuleSpec, facts: Mapping[str, FactValue], plan: Plan) -> Reason:
    reads = plan.reads[rule.id]
    values = values_of(plan.readers[rule.id], reads, facts)
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


def _obligations(oids: tuple[str, ...], facts: Mapping[str, FactValue], pack_set: PackSet,
                 plan: Plan) -> tuple[list[ObligationResult], list[MissingItem]]:
    """The results of these obligations and the missing items of those due before the transfer and
    not satisfied; reused by the values of the facts they read (one lookup for all of them)."""
    reads = obligation_reads(oids, plan)
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
                plan: Plan) -> tuple[ObligationResult, MissingItem]:
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


def _rules_info(plan: Plan, pack_set: PackSet, evaluation: Evaluation) -> RulesInfo:
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


def _assemble(effects: Effects, facts: Mapping[str, FactValue], request: TransferRequest, pack_set: PackSet,
              plan: Plan) -> Assembled:
    """Reasons, what is missing, obligations and the outcome: reads only ``effects.reads`` of the
    facts, and of the request only its mechanisms and planned date (see the key in :func:`decide`)."""
    reasons = [_reason(rule, facts, plan) for rule in effects.rules]
    missing: list[MissingItem] = [_missing("review", text, review) for review, text in effects.reviews]

    if not effects.route_decided:  # never a bare permit: fail closed
        outbound = facts.get("leaves_mainland") and (facts.get("data.has_personal")
                                                     or facts.get("data.has_important"))
        text = no_route() if outbound else no_route_decided(str(facts.get("exporter.jurisdiction") or ""),
                                                            str(facts.get("recipient.jurisdiction") or ""))
        reasons.append(_build(Reason, {
            "rule": NO_ROUTE_RULE, "effect": "fail_closed", "message": text, "citation": NO_ROUTE_CITATION,
            "unsure": None, "facts": {name: describe_value(facts.get(name)) for name in FAIL_CLOSED_READS}}))
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
    return Assembled(tuple(reasons), satisfied_by, tuple(missing), tuple(obligations), outcome)


def _overridden(effects: Effects) -> Reason:
    """The reason saying that the exemptions listed do not lift what a stronger rule imposes."""
    rules = effects.overriding
    return _build(Reason, {
        "rule": OVERRIDDEN_RULE, "effect": "note",
        "message": exemption_overridden(effects.exemptions, effects.mechanism, [rule.id for rule in rules]),
        "citation": "; ".join(dict.fromkeys(rule.cite for rule in rules)),
        "unsure": None, "facts": {"exemption": list(effects.exemptions)}})


_COUNTS_FIELDS = tuple(Counts.model_fields)


def _counts(plan: Plan, values: tuple[int, int, int, int, int, bool, bool]) -> Counts:
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
    plan = plan_for(pack_set)
    fired_key = tuple(evaluation.fired)
    effects = plan.effects.get(fired_key)
    if effects is None:
        if len(plan.effects) >= CACHE_LIMIT:
            plan.effects.clear()
        effects = plan.effects[fired_key] = effects_of(fired_key, plan)
    # The key holds every input of _assemble: the fired rules, the values of every fact it reads,
    # and the mechanisms listed (a missing-mechanism message quotes them; satisfied_by names one, each
    # valid or not by its dates) with the planned date.
    values = values_of(effects.read, effects.reads, facts)
    key = (fired_key, request.planned_date,
           tuple([(m.type, m.reference, m.effective_on, m.filed_on, m.expires_on)
                  for m in request.safeguards.mechanisms]) if effects.options else (),
           values)
    entry = plan.assembled.get(key)
    if entry is None:
        if len(plan.assembled) >= CACHE_LIMIT:
            plan.assembled.clear()
        entry = plan.assembled[key] = AssembledEntry(_assemble(effects, facts, request, pack_set, plan))
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

"""Combine the effects of the rules that fired into a Decision (DESIGN section 3).

- A prohibition wins over everything.
- Mechanisms are ordered none < contract tier < security assessment < prohibited; the strongest
  requirement wins, and its options are those every requirement at that level accepts, plus any a
  rule declares ``also_satisfied_by``, less the gated ones (``eligible``) no rule made eligible.
- A mechanism in place counts only where it is among the options and valid on the planned date.
- Fail closed: a transfer out of the Mainland with personal or important data that no route rule
  decided is conditional with the reason ``engine.no-route``, never permitted.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from engine.conditions import Condition, describe_value, facts_read, negation_normal_form
from engine.conditions import _evaluate_nnf as evaluate_nnf
from engine.facts import FactValue, PriorCounts, Tally
from engine.models import (
    Counts,
    Decision,
    Messages,
    MissingItem,
    ObligationResult,
    Outcome,
    Reason,
    RulesInfo,
    TransferRequest,
)
from engine.rulespec import MECHANISM_LEVEL, PackSet, RuleSpec
from engine.texts import (
    NO_ROUTE_CITATION,
    NO_ROUTE_RULE,
    missing_approval,
    missing_mechanism,
    no_eligible_mechanism,
    no_route,
)
from engine.workdays import add_working_days

M = TypeVar("M", bound=BaseModel)

OPTION_ORDER = ("gba_standard_contract", "standard_contract", "certification", "security_assessment")
UNCOUNTED_EXEMPTIONS_OPTION = "exempt_volumes_counted"
ALWAYS_COUNTED_EXEMPTIONS = frozenset({"under_threshold", "non_personal"})
"""Art. 5(4) volumes are exactly what the thresholds measure; non-personal data has none to count."""


def _precedence(rule: RuleSpec) -> tuple[int, int]:
    then = rule.then
    if then.prohibit:
        rank = 0
    elif then.require:
        rank = 3 - max(MECHANISM_LEVEL[m] for m in then.require)
    elif then.exempt:
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


@dataclass(frozen=True)
class Evaluation:
    """What the evaluator hands to decide: the inputs and the rules that fired, in stage order."""

    request: TransferRequest
    facts: Mapping[str, FactValue]
    fired: Sequence[str]
    prior: PriorCounts
    tally: Tally
    options: Mapping[str, bool | int | str]
    as_of: dt.date


_SET = object.__setattr__


def _build(cls: type[M], values: dict[str, Any]) -> M:
    """A model from values that are already valid, every field given: what ``model_construct`` does,
    without its per-field alias and default lookups (about 9 us a model, 15 models a decision).
    Every value here comes from validated packs, validated requests or the engine's own arithmetic."""
    model = cls.__new__(cls)
    _SET(model, "__dict__", values)
    _SET(model, "__pydantic_fields_set__", set(values))
    _SET(model, "__pydantic_extra__", None)
    _SET(model, "__pydantic_private__", None)
    return model


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits -> two characters
_SHIFTS = tuple(range(120, -1, -10))
_ULID_RANDOM = random.Random(os.urandom(16))
_ULID_LAST = [0, 0]  # milliseconds, randomness of the last id this process made
_ULID_LOCK = threading.Lock()
os.register_at_fork(after_in_child=lambda: _ULID_RANDOM.seed(os.urandom(16)))


def new_ulid() -> str:
    """A ULID (48-bit milliseconds, 80 random bits, Crockford base32), monotonic within a process.

    python-ulid reads the OS random source for every id (about 5-25 us here, in a VM); decision ids
    must be unique and sortable, not secret, so the 80 bits come from a generator seeded from the OS
    per process (reseeded in forked children), and an id made in the same millisecond as the last
    one takes the last randomness plus one."""
    now = time.time_ns() // 1_000_000
    with _ULID_LOCK:
        if now <= _ULID_LAST[0]:
            now = _ULID_LAST[0]
            randomness = (_ULID_LAST[1] + 1) & ((1 << 80) - 1)
        else:
            randomness = _ULID_RANDOM.getrandbits(80)
        _ULID_LAST[0], _ULID_LAST[1] = now, randomness
    value = (now << 80) | randomness
    # 26 Crockford base32 characters = 130 bits (two leading zero bits), ten bits at a time.
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in _SHIFTS])


def _missing(mechanism: str | None = None, obligation: str | None = None, approval: str | None = None,
             review: str | None = None, text: Messages | None = None) -> MissingItem:
    return _build(MissingItem, {"mechanism": mechanism, "obligation": obligation, "approval": approval,
                                "review": review, "text": text})


@dataclass(frozen=True)
class _Plan:
    """What decide needs of a pack set, worked out once per digest (same digest, same content)."""

    by_id: dict[str, RuleSpec]
    order: dict[str, tuple[tuple[int, int], int]]
    reads: dict[str, tuple[str, ...]]
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


_PLANS: dict[str, _Plan] = {}


def _plan(pack_set: PackSet) -> _Plan:
    plan = _PLANS.get(pack_set.digest)
    if plan is None:
        plan = _Plan(
            by_id={rule.id: rule for rule in pack_set.rules},
            order={rule.id: (_precedence(rule), position) for position, rule in enumerate(pack_set.rules)},
            reads={rule.id: tuple(sorted(facts_read(rule.when))) for rule in pack_set.rules},
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
        )
        _PLANS[pack_set.digest] = plan
    return plan


CACHE_LIMIT = 4096
"""Entries per cache of a plan: enough for the shapes of a busy day, small enough that memory stays
flat over millions of evaluations (DESIGN section 9)."""


def _reason(rule: RuleSpec, facts: Mapping[str, FactValue], plan: _Plan) -> Reason:
    reads = plan.reads[rule.id]
    key = (rule.id, *[facts.get(name) for name in reads])
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
            "facts": {name: describe_value(value) for name, value in zip(reads, key[1:], strict=True)},
        })
    return reason


def _obligations(oids: tuple[str, ...], facts: Mapping[str, FactValue], pack_set: PackSet,
                 plan: _Plan) -> tuple[list[ObligationResult], list[MissingItem]]:
    """The results of these obligations and the missing items of those due before the transfer and
    not satisfied; reused by the values of the facts they read (one lookup for all of them)."""
    reads = plan.obligation_reads.get(oids)
    if reads is None:
        names: dict[str, None] = {}
        for oid in oids:
            spec = pack_set.obligations[oid]
            if spec.satisfied_when is not None:
                names.update(dict.fromkeys(sorted(facts_read(spec.satisfied_when))))
            if spec.due.after:
                names[spec.due.after] = None
        reads = plan.obligation_reads[oids] = tuple(names)
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
    satisfied = evaluate_nnf(condition, facts) if condition is not None else False
    due = spec.due
    base = facts.get(due.after) if due.kind == "working_days" and due.after and due.working_days is not None \
        else None
    key = (oid, satisfied, base)
    cached = plan.obligations.get(key)
    if cached is None:
        due_date = None
        due_note = None
        if isinstance(base, dt.date):
            result = add_working_days(base, due.working_days)  # type: ignore[arg-type]
            due_date, due_note = result.day, result.note
        if len(plan.obligations) >= CACHE_LIMIT:
            plan.obligations.clear()
        cached = plan.obligations[key] = (
            _build(ObligationResult, {
                "id": oid, "text": spec.text, "due": plan.due[oid], "due_date": due_date, "due_note": due_note,
                "citation": spec.cite, "satisfied": satisfied, "before_transfer": due.before_transfer}),
            _missing(obligation=oid, text=spec.text))
    return cached


def _mechanism_problems(options: list[str], facts: Mapping[str, FactValue],
                        request: TransferRequest) -> list[str]:
    problems = []
    for mech in request.safeguards.mechanisms:
        if mech.type not in options:
            problems.append(f"The {mech.type} {mech.reference} in place does not fit this case.")
        elif not facts.get(f"mechanism.{mech.type}.valid"):
            problems.append(f"The {mech.type} {mech.reference} is not valid on {request.planned_date} "
                            "(not yet in effect, expired, or unfiled after its filing window).")
    return problems


def decide(evaluation: Evaluation, pack_set: PackSet) -> Decision:
    """Assemble the decision from the fired rules."""
    facts = evaluation.facts
    request = evaluation.request
    plan = _plan(pack_set)
    by_id, order = plan.by_id, plan.order
    fired = [by_id[rule_id] for rule_id in dict.fromkeys(evaluation.fired)]
    fired.sort(key=lambda rule: order[rule.id])
    reasons = [_reason(rule, facts, plan) for rule in fired]
    missing: list[MissingItem] = []

    prohibited = any(rule.then.prohibit for rule in fired)
    exemption_set = {rule.then.exempt for rule in fired if rule.then.exempt}
    exemptions: list[str] = [e for e in ("non_personal", "foreign_reexport", "contract_necessity", "hr_management",
                              "emergency", "under_threshold", "ftz_negative_list") if e in exemption_set]
    requirements = [rule.then.require for rule in fired if rule.then.require]

    route_decided = any(rule.then.decides_route for rule in fired)
    if (not route_decided and facts.get("leaves_mainland")
            and (facts.get("data.has_personal") or facts.get("data.has_important"))):
        text = no_route()
        reasons.append(_build(Reason, {
            "rule": NO_ROUTE_RULE, "effect": "fail_closed", "message": text, "citation": NO_ROUTE_CITATION,
            "unsure": None, "facts": {"leaves_mainland": True,
                                      "data.has_personal": facts.get("data.has_personal"),
                                      "data.has_important": facts.get("data.has_important")}}))
        missing.append(_missing(review="legal review of the route", text=text))

    mechanism = "none"
    options: list[str] = []
    if prohibited:
        mechanism = "prohibited"
    elif requirements:
        top = max(MECHANISM_LEVEL[m] for req in requirements for m in req)
        at_top = [set(req) for req in requirements if max(MECHANISM_LEVEL[m] for m in req) == top]
        accepted = set.intersection(*at_top)
        accepted |= {m for rule in fired for m in rule.then.also_satisfied_by}
        eligible = {m for rule in fired for m in rule.then.eligible}
        accepted = {m for m in accepted if m not in plan.gated or m in eligible}
        options = [m for m in OPTION_ORDER if m in accepted]
        mechanism = "security_assessment" if top == 2 else "standard_contract"
        if not options:
            missing.append(_missing(review="no eligible mechanism", text=no_eligible_mechanism()))
        elif not any(facts.get(f"mechanism.{m}.valid") for m in options):
            missing.append(_missing(
                mechanism="one of " + ", ".join(options),
                text=missing_mechanism(options, _mechanism_problems(options, facts, request))))

    for kind in dict.fromkeys(kind for rule in fired for kind in rule.then.approvals):
        if not facts.get(f"approval.{kind}"):
            missing.append(_missing(approval=kind, text=missing_approval(kind)))

    oids = tuple(dict.fromkeys(oid for rule in fired for oid in rule.then.obligations))
    obligations, due_missing = _obligations(oids, facts, pack_set, plan)
    if not prohibited:
        missing += due_missing

    outcome: Outcome = "prohibited" if prohibited else ("conditional" if missing else "permitted")
    counted = not prohibited and (
        bool(evaluation.options.get(UNCOUNTED_EXEMPTIONS_OPTION, False))
        or not (exemption_set - ALWAYS_COUNTED_EXEMPTIONS))
    tally = evaluation.tally
    declared = request.declared_prior
    before_personal = evaluation.prior.personal_subjects + declared.personal_subjects
    before_sensitive = evaluation.prior.sensitive_subjects + declared.sensitive_subjects
    counts = _build(Counts, {
        "year": request.planned_date.year,
        "personal_subjects_before": before_personal,
        "sensitive_subjects_before": before_sensitive,
        "personal_subjects_after": before_personal + (tally.personal_subjects if counted else 0),
        "sensitive_subjects_after": before_sensitive + (tally.sensitive_subjects if counted else 0),
        "counted": counted,
    })
    return _build(Decision, {
        "decision_id": new_ulid(),
        "reference": request.reference,
        "outcome": outcome,
        "mechanism": mechanism,
        "mechanism_options": options,
        "exemptions": exemptions,
        "reasons": reasons,
        "missing": missing,
        "obligations": obligations,
        "counts": counts,
        "rules": _build(RulesInfo, {"packs": dict(plan.versions), "digest": pack_set.digest,
                                    "as_of": evaluation.as_of, "options": dict(evaluation.options)}),
        "evaluated_at": dt.datetime.now(dt.UTC).replace(microsecond=0),
    })

"""What the rules that fired say together (DESIGN section 3), worked out once per set of fired rules.

- A prohibition wins over everything.
- Mechanisms are ordered none < contract tier < security assessment < prohibited; the strongest
  requirement wins, and its options are those every requirement at that level accepts, plus any a
  rule declares ``also_satisfied_by``, less the gated ones (``eligible``) no rule made eligible.
- The reasons come in precedence order (:func:`precedence`): prohibitions, then requirements from the
  strongest down, routes decided, mechanisms offered, approvals, obligations, notes.
- Where exemptions hold but a stronger rule still requires a mechanism or prohibits, those rules are
  kept (``overriding``) so that decide can say the exemption does not lift them.

Everything here depends on which rules fired and on nothing else: the facts' values are read per
evaluation by engine.decide, which keeps an :class:`Effects` per set in the pack set's plan
(engine.decision_plan).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.conditions import fact_getter
from engine.fact_registry import EXEMPTION_IDS
from engine.facts import FactValue
from engine.models import Messages
from engine.rulespec import MECHANISM_LEVEL, RuleSpec

OPTION_ORDER = ("gba_standard_contract", "standard_contract", "certification", "security_assessment")
EXEMPTION_ORDER = EXEMPTION_IDS
ALWAYS_COUNTED_EXEMPTIONS = frozenset({"under_threshold", "non_personal"})
"""Art. 5(4) volumes are exactly what the thresholds measure; non-personal data has none to count."""
FAIL_CLOSED_READS = ("leaves_mainland", "data.has_personal", "data.has_important", "exporter.jurisdiction",
                     "recipient.jurisdiction")
"""The facts decide's fail-closed test reads where no fired rule decided the route."""


def precedence(rule: RuleSpec) -> tuple[int, int]:
    """Where a rule's reason comes among the reasons: the lower, the earlier (ties keep pack order)."""
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


class RulesOfPlan(Protocol):
    """What :func:`effects_of` reads of a pack set's plan (engine.decision_plan.Plan has it all)."""

    @property
    def by_id(self) -> Mapping[str, RuleSpec]:
        """Rule id -> the rule."""
    @property
    def order(self) -> Mapping[str, tuple[tuple[int, int], int]]:
        """Rule id -> (its :func:`precedence`, its position in the pack set)."""
    @property
    def reads(self) -> Mapping[str, tuple[str, ...]]:
        """Rule id -> the facts its condition reads."""
    @property
    def obligation_facts(self) -> Mapping[str, tuple[str, ...]]:
        """Obligation id -> the facts it reads."""
    @property
    def gated(self) -> frozenset[str]:
        """Mechanisms offered only where a rule made them ``eligible``."""


@dataclass(frozen=True)
class Effects:
    """The combined effects of one set of fired rules: everything in a decision that depends on which
    rules fired and on nothing else (the fact values are read per evaluation, in engine.decide).

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


def facts_of_obligations(oids: tuple[str, ...], obligation_facts: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The facts these obligations read together, each once, in a fixed order."""
    names: dict[str, None] = {}
    for oid in oids:
        names.update(dict.fromkeys(obligation_facts[oid]))
    return tuple(names)


def effects_of(fired_ids: Sequence[str], plan: RulesOfPlan) -> Effects:
    """What the rules that fired say together (worked out once per set of fired rule ids, by
    engine.decide): route, options, exemptions, reviews, approvals, obligations, and the facts the
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
    shown = [rule for rule in fired if gives_reason(rule, options)]
    reads: dict[str, None] = {}
    for rule in shown:
        reads.update(dict.fromkeys(plan.reads[rule.id]))
    reads.update(dict.fromkeys(facts_of_obligations(obligation_ids, plan.obligation_facts)))
    reads.update(dict.fromkeys(FAIL_CLOSED_READS))
    reads.update(dict.fromkeys(option_valid_keys))
    reads.update(dict.fromkeys(key for _, key in approvals))
    return Effects(
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
        read=fact_getter(tuple(reads)),
    )


def gives_reason(rule: RuleSpec, options: Sequence[str]) -> bool:
    """Whether a fired rule's reason belongs in the decision: not a rule that only offers mechanisms
    (the GBA contract's eligibility) where none of them is among the options, e.g. where a security
    assessment is required or no mechanism is."""
    then = rule.then
    offers = then.eligible or then.also_satisfied_by
    if not offers or then.require or then.prohibit or then.exempt or then.obligations or then.approvals or then.note:
        return True
    return any(m in options for m in (*then.eligible, *then.also_satisfied_by))

"""The public engine: load packs, evaluate a request, return a Decision.

Evaluation runs in stages (DESIGN section 4): stage 0 fires the rules that derive exemptions from
the request; stage 1 the exemptions that read them (art. 5(4) is residual: it applies only where no
other exemption does); stage 2 every other rule, reading all exemptions. Each stage asserts one
fact sheet into its durable-rules rulesets.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine import rete
from engine.compiler import CompiledPackSet, CompiledRuleset, compile_pack_set, compile_ruleset
from engine.decide import Evaluation, decide
from engine.errors import BaygateError, RuleIssue, RulePackError
from engine.facts import PriorCounts, Tally, derive_facts_and_tally, start_of_sheet
from engine.fired_ahead import ConditionIndex, FiredAhead
from engine.models import Decision, TransferRequest
from engine.party_ids import unverified_notes
from engine.ruleset_guard import RulesetGuard
from engine.rulespec import PackSet, load_pack_set

OptionValue = bool | int | str
_StageOnDay = tuple[tuple[str, ...], RulesetGuard | None, bool]
"""One stage's rulesets in force on a day, its guard (if it has one) and whether a rule of it can exempt."""
_NO_PRIOR = PriorCounts()


_TODAY: tuple[int, dt.date] = (0, dt.date.fromtimestamp(0))


def _today() -> dt.date:
    """``date.today()`` (local time), worked out once per second rather than once per evaluation. The
    pair is replaced in one assignment, so a thread never reads one second with another's day."""
    global _TODAY
    second = int(time.time())
    today = _TODAY
    if today[0] != second:
        today = _TODAY = (second, dt.date.fromtimestamp(second))
    return today[1]


def _refused_rules(ruleset: CompiledRuleset, pack_set: PackSet) -> list[RuleIssue]:
    """The rules of a ruleset durable-rules refused, each with its file and line: every rule that it
    refuses alone, else the first with the others named (together they are refused)."""
    rules = [rule for rule in pack_set.rules if rule.id in ruleset.rule_ids]
    issues = []
    for index, rule in enumerate(rules):
        alone = compile_ruleset(f"{ruleset.name}_alone_{index}", ruleset.stage, [rule], pack_set.registry)
        why = rete.refusal(alone)
        if why is not None:
            issues.append(RuleIssue(rule.file, rule.line, rule.id, _refused(why.split(f"{alone.name}: ", 1)[-1])))
    return issues or [RuleIssue(rules[0].file, rules[0].line, rules[0].id, _refused(
        f"with the rules beside it in its ruleset: {', '.join(rule.id for rule in rules[1:])}"))]


def _refused(detail: str) -> str:
    meaning = "; 113 is its limit on one rule's expression" if detail.endswith(" 113") else ""
    return (f"durable-rules cannot compile this condition ({detail}{meaning}): write it as several rules, "
            "or with fewer nested any/not/in")


class OptionError(BaygateError):
    """A pack option set in configuration that no pack declares, or with a wrong value."""

    code = "baygate.bad-option"


def coerce_options(pack_set: PackSet, overrides: Mapping[str, Any]) -> dict[str, OptionValue]:
    """The pack defaults with the deployment's overrides applied and checked."""
    options: dict[str, OptionValue] = pack_set.default_options()
    for key, raw in overrides.items():
        decl = pack_set.options.get(key)
        if decl is None:
            known = ", ".join(sorted(pack_set.options)) or "none"
            raise OptionError(f"option {key}: no pack declares it (known: {known})")
        spec = decl.spec
        value: OptionValue
        if spec.type == "bool":
            if isinstance(raw, bool):
                value = raw
            elif str(raw).strip().lower() in ("true", "yes", "1", "on"):
                value = True
            elif str(raw).strip().lower() in ("false", "no", "0", "off"):
                value = False
            else:
                raise OptionError(f"option {key}: expected true or false, got {raw!r}")
        elif spec.type == "number":
            value = whole_number(key, raw)
        else:
            if str(raw) not in spec.values:
                raise OptionError(f"option {key}: expected one of {', '.join(spec.values)}, got {raw!r}")
            value = str(raw)
        options[key] = value
    return options


def whole_number(key: str, raw: Any) -> int:
    """A number option: a whole number, or its digits as text (environment variables are text); never a
    float truncated (12.7 is not 12), a flag, or a number of more than 4,300 digits."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = raw.strip() if isinstance(raw, str) else None
    if text is not None and text.lstrip("+-").isdigit() and text.isascii() and len(text) <= 30:
        return int(text)
    raise OptionError(f"option {key}: expected a whole number, got {str(raw)[:40]!r}")


class Engine:
    """A validated, compiled pack set with its options; thread-safe (rete owns the lock).

    The options are fixed when the engine is made (their facts are worked out then): other options
    need another engine, as a reload makes."""

    def __init__(self, pack_set: PackSet, options: Mapping[str, Any] | None = None) -> None:
        self.pack_set = pack_set
        self.options = coerce_options(pack_set, options or {})
        self._sheet_start = start_of_sheet(self.options)
        self.mechanisms = {name: policy.under(self.options) for name, policy in pack_set.mechanisms.items()}
        """The packs' mechanism policies under this engine's options (a validity term may depend on one)."""
        self.compiled: CompiledPackSet = compile_pack_set(pack_set)
        for stage in self.compiled.stages.values():
            for ruleset in stage:
                try:
                    rete.register(ruleset)
                except rete.RulesetRefused:
                    raise RulePackError(_refused_rules(ruleset, pack_set)) from None
        self._rules_by_id = {rule.id: rule for rule in pack_set.rules}
        self._exempt_by_rule = {rule.id: rule.then.exempt for rule in pack_set.rules if rule.then.exempt}
        # Per stage, each ruleset with the window in which some rule of it is in force: a ruleset none
        # of whose rules is in force on the planned date cannot fire (every compiled rule tests its
        # window), so it is not asked (a session and its deletion, about 8 us, saved). And the stage's
        # guard: a stage none of whose rules can match the sheet is not asked at all (engine.ruleset_guard).
        by_id = self._rules_by_id
        self._stages: list[tuple[list[tuple[str, dt.date, dt.date | None]], RulesetGuard | None]] = []
        self.stage_guards: dict[int, RulesetGuard] = {}
        """Per stage of at most a few rules, each needing a comparison on a few-valued fact: whether a
        sheet may match one of them (engine.ruleset_guard)."""
        for number in sorted(self.compiled.stages):
            rulesets = [(ruleset.name, min(by_id[r].effective_from for r in ruleset.rule_ids),
                         None if any(by_id[r].effective_to is None for r in ruleset.rule_ids)
                         else max(by_id[r].effective_to for r in ruleset.rule_ids))  # type: ignore[type-var]
                        for ruleset in self.compiled.stages[number] if ruleset.rule_ids]
            if not rulesets:
                continue
            guard = RulesetGuard([by_id[r] for ruleset in self.compiled.stages[number] for r in ruleset.rule_ids],
                                 pack_set.registry)
            if guard.guards:
                self.stage_guards[number] = guard
            self._stages.append((rulesets, self.stage_guards.get(number)))
        self._exempting = frozenset(ruleset.name for stage in self.compiled.stages.values() for ruleset in stage
                                    if any(rule in self._exempt_by_rule for rule in ruleset.rule_ids))
        """The rulesets with a rule that finds an exemption: only their fired rules are looked up."""
        self._rulesets_by_day: dict[dt.date, tuple[_StageOnDay, ...]] = {}
        self.conditions = ConditionIndex(rule.when for rule in pack_set.rules)
        """Every rule condition by the fact it reads: whether rules fired ahead still hold (``fire_ahead``)."""

    @classmethod
    def from_directory(cls, directory: Path | str, options: Mapping[str, Any] | None = None) -> Engine:
        return cls(load_pack_set(directory), options)

    @property
    def digest(self) -> str:
        return self.pack_set.digest

    def fire(self, facts: dict[str, Any]) -> list[str]:
        """Run the stages on a fact sheet; returns fired rule ids in stage order. Sets ``exemption``:
        the exemptions a stage's rules found, which the next stages' rules read (each ruleset's
        writer reads the sheet when its stage runs)."""
        exempt_by_rule = self._exempt_by_rule
        exemptions: frozenset[str] = frozenset()
        facts["exemption"] = exemptions
        fired: list[str] = []
        fire = rete.fire
        for names, guard, exempting in self._rulesets_on(facts["planned_date"]):
            if guard is not None and not guard.may_match(facts):
                continue  # no rule of the stage can match the sheet (engine.ruleset_guard)
            fired_now = fire(names, facts)
            fired += fired_now
            if exempting:
                new = [exempt_by_rule[r] for r in fired_now if r in exempt_by_rule]
                if new:
                    facts["exemption"] = exemptions = exemptions.union(new)
        return fired

    def _rulesets_on(self, on: dt.date) -> tuple[_StageOnDay, ...]:
        """Per stage with a rule in force on ``on``: its rulesets that have one, its guard, and whether
        a rule of them can find an exemption; worked out once per day (bounded)."""
        stages = self._rulesets_by_day.get(on)
        if stages is None:
            if len(self._rulesets_by_day) >= 4096:
                self._rulesets_by_day.clear()
            in_force = [(tuple(name for name, start, end in rulesets if start <= on and (end is None or on <= end)),
                         guard) for rulesets, guard in self._stages]
            stages = self._rulesets_by_day[on] = tuple(
                (names, guard, any(name in self._exempting for name in names)) for names, guard in in_force if names)
        return stages

    def facts_and_tally(self, request: TransferRequest, prior: PriorCounts) -> tuple[dict[str, Any], Tally]:
        """The fact sheet the rules read for ``request`` on ``prior`` (under this engine's options and
        the packs' counting policy), and the transfer's tally."""
        return derive_facts_and_tally(request, prior, self.options, self.mechanisms, self._sheet_start,
                                      self.pack_set.counting)

    def decide_ahead(self, request: TransferRequest, prior: PriorCounts,
                     as_of: dt.date | None = None) -> tuple[Decision, FiredAhead]:
        """The decision on ``prior`` and the rules it fired, kept for :meth:`evaluate` to reuse if the
        prior it is finally decided on fires them alike (``engine.fired_ahead``: a recording group
        fires its rules before it takes the ledger's write lock, on guessed counts)."""
        prior = prior or _NO_PRIOR
        day = as_of or _today()
        facts, tally = self.facts_and_tally(request, prior)
        sheet = dict(facts)
        fired = self.fire(facts)
        decision = self._decision(request, prior, facts, tally, fired, day)
        return decision, FiredAhead(prior, day, decision, sheet, fired, facts["exemption"])

    def evaluate(self, request: TransferRequest, prior: PriorCounts | None = None,
                 as_of: dt.date | None = None, ahead: FiredAhead | None = None) -> Decision:
        """The decision on ``request`` with the exporter's counts ``prior``. ``ahead``: this engine's
        decision on the same request made ahead on guessed counts (:meth:`decide_ahead`): that decision
        when the counts and the day are the same, else its rules fired instead of firing them again
        when the facts of ``prior`` satisfy every rule condition as the guessed counts did."""
        prior = prior or _NO_PRIOR
        if ahead is not None and ahead.prior == prior and ahead.as_of == (as_of or _today()):
            return ahead.decision
        facts, tally = self.facts_and_tally(request, prior)
        if ahead is not None and self.conditions.fire_alike(ahead.facts, facts):
            fired = ahead.fired
            facts["exemption"] = ahead.exemptions
        else:
            fired = self.fire(facts)
        return self._decision(request, prior, facts, tally, fired, as_of)

    def _decision(self, request: TransferRequest, prior: PriorCounts, facts: dict[str, Any], tally: Tally,
                  fired: list[str], as_of: dt.date | None) -> Decision:
        evaluation = Evaluation(
            request=request, facts=facts, fired=fired, prior=prior, tally=tally, options=self.options,
            as_of=as_of or _today(),
            # a warning after the rules' reasons (engine.party_ids); it decides nothing
            notes=unverified_notes(request),
        )
        return decide(evaluation, self.pack_set)

"""The public engine: load packs, evaluate a request, return a Decision.

Evaluation runs in stages (DESIGN section 4): stage 0 fires the rules that derive exemptions from
the request; stage 1 the exemptions that read them (art. 5(4) is residual: it applies only where no
other exemption does); stage 2 every other rule, reading all exemptions. Each stage asserts one
fact sheet into its durable-rules rulesets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine import rete
from engine.compiler import CompiledPackSet, FactEncoder, compile_pack_set, key_of
from engine.decide import Evaluation, decide
from engine.errors import BaygateError
from engine.facts import EXEMPTION_IDS, PriorCounts, derive_facts, tally_for
from engine.models import Decision, TransferRequest
from engine.rulespec import PackSet, load_pack_set

OptionValue = bool | int | str


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
            try:
                value = int(raw)
            except (TypeError, ValueError):
                raise OptionError(f"option {key}: expected a number, got {raw!r}") from None
        else:
            if str(raw) not in spec.values:
                raise OptionError(f"option {key}: expected one of {', '.join(spec.values)}, got {raw!r}")
            value = str(raw)
        options[key] = value
    return options


class Engine:
    """A validated, compiled pack set with its options; thread-safe (rete owns the lock)."""

    def __init__(self, pack_set: PackSet, options: Mapping[str, Any] | None = None) -> None:
        self.pack_set = pack_set
        self.options = coerce_options(pack_set, options or {})
        self.compiled: CompiledPackSet = compile_pack_set(pack_set)
        for stage in self.compiled.stages.values():
            for ruleset in stage:
                rete.register(ruleset)
        self._exemption_keys = [f"{key_of('exemption')}__{e}" for e in EXEMPTION_IDS]
        self._encoder = FactEncoder(pack_set.registry, self.compiled.keys)
        self._rules_by_id = {rule.id: rule for rule in pack_set.rules}

    @classmethod
    def from_directory(cls, directory: Path | str, options: Mapping[str, Any] | None = None) -> Engine:
        return cls(load_pack_set(directory), options)

    @property
    def digest(self) -> str:
        return self.pack_set.digest

    def fire(self, facts: dict[str, Any]) -> list[str]:
        """Run the stages on a fact sheet; returns fired rule ids in stage order. Sets ``exemption``."""
        by_id = self._rules_by_id
        facts["exemption"] = frozenset()
        encoded = self._encoder.encode(facts)
        fired: list[str] = []
        for stage in sorted(self.compiled.stages):
            names = [ruleset.name for ruleset in self.compiled.stages[stage]]
            if not names:
                continue
            fired_now = rete.fire(names, encoded)
            fired += fired_now
            new = {by_id[r].then.exempt for r in fired_now if by_id[r].then.exempt}
            if new:
                exemptions = frozenset(facts["exemption"]) | new
                facts["exemption"] = exemptions
                for key in self._exemption_keys:
                    if key in self.compiled.keys:
                        encoded[key] = 1 if key.rsplit("__", 1)[1] in exemptions else 0
                if f"{key_of('exemption')}__any" in self.compiled.keys:
                    encoded[f"{key_of('exemption')}__any"] = 1
        return fired

    def evaluate(self, request: TransferRequest, prior: PriorCounts | None = None,
                 as_of: dt.date | None = None) -> Decision:
        prior = prior or PriorCounts()
        facts = derive_facts(request, prior, self.options, self.pack_set.mechanisms)
        fired = self.fire(facts)
        evaluation = Evaluation(
            request=request, facts=facts, fired=fired, prior=prior,
            tally=tally_for(request, prior, self.options), options=self.options,
            as_of=as_of or dt.date.today(),
        )
        return decide(evaluation, self.pack_set)

"""The rule language's model: what a pack, a rule, its effects and an obligation are once read and
validated (DESIGN section 4). Immutable; built only by the parsing in this package.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.conditions import Condition
from engine.fact_registry import FactRegistry, OptionSpec
from engine.facts import NO_COUNTING_POLICY, CountingPolicy, MechanismPolicy
from engine.models import Messages

LANGUAGES = ("en", "zh-Hans", "zh-Hant")

MECHANISM_LEVEL = {"standard_contract": 1, "gba_standard_contract": 1, "certification": 1,
                   "security_assessment": 2}

DUE_KINDS = ("before_transfer", "after_transfer", "ongoing", "on_change")


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

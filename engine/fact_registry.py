"""The fact registry: every fact a rule may read, with its type, meaning and values (``baygate facts``).

Rules never read the request directly: they read named facts, each documented here, so that a rule pack
can be checked at load time (unknown fact, type mismatch, a literal the fact cannot hold) and a
compliance officer can read what a rule may test. engine/facts.py derives the values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from engine.models import (
    APPROVAL_KINDS,
    CLASSIFICATIONS,
    MECHANISM_TYPES,
    MODES,
    PARTY_KINDS,
    PURPOSES,
    RETIRED_PARTY_KIND,
    SENSITIVE_TYPES,
    TAGS,
)

FactType = Literal["number", "bool", "enum", "string", "date", "set"]

DIRECTIONS = ("cn_to_hk", "cn_to_mo", "cn_to_other", "hk_to_cn", "hk_to_other", "other")
GBA_PAIRS = ("mainland_hk", "mainland_mo", "none")
EXEMPTION_IDS = (
    "non_personal",
    "foreign_reexport",
    "contract_necessity",
    "hr_management",
    "emergency",
    "under_threshold",
    "ftz_negative_list",
    "statutory_duty",
)
EXEMPT_VOLUMES_COUNTED_OPTION = "exempt_volumes_counted"
"""The pack option under which volumes sent under an exemption other than art. 5(4) are counted (the
stricter reading); by default they are not (DESIGN section 5)."""

# The nine Mainland cities of the Greater Bay Area (粤港澳大湾区内地九市), in the spellings users write.
GBA_MAINLAND_CITIES: dict[str, str] = {}
for _canonical, _aliases in {
    "guangzhou": ("guangzhou", "广州", "廣州", "广州市", "廣州市"),
    "shenzhen": ("shenzhen", "深圳", "深圳市"),
    "zhuhai": ("zhuhai", "珠海", "珠海市"),
    "foshan": ("foshan", "佛山", "佛山市"),
    "huizhou": ("huizhou", "惠州", "惠州市"),
    "dongguan": ("dongguan", "东莞", "東莞", "东莞市", "東莞市"),
    "zhongshan": ("zhongshan", "中山", "中山市"),
    "jiangmen": ("jiangmen", "江门", "江門", "江门市", "江門市"),
    "zhaoqing": ("zhaoqing", "肇庆", "肇慶", "肇庆市", "肇慶市"),
}.items():
    for _alias in _aliases:
        GBA_MAINLAND_CITIES[_alias] = _canonical


@dataclass(frozen=True)
class FactSpec:
    """One named fact: its type, what it means, and for enums and sets the values it takes."""

    name: str
    type: FactType
    meaning: str
    values: tuple[str, ...] = ()
    optional: bool = False
    derived: bool = False
    """Derived by rules (exemptions) rather than from the request: read in a later stage."""
    retired: tuple[tuple[str, str], ...] = ()
    """Values no longer accepted, each with the value it is read as in what was recorded before (a pack
    text stored in the ledger): ``public_body`` of a party kind is read as ``state_organ``."""
    form: Literal["", "jurisdiction", "lower_case"] = ""
    """What a literal compared with this string fact must look like to ever match (``rules validate``
    refuses ``eq: hk`` where requests say ``HK``): an ISO 3166-1 alpha-2 code, or lower case text."""


def _base_registry() -> list[FactSpec]:
    specs: list[FactSpec] = [
        FactSpec("direction", "enum", "Where the data goes, by the parties' jurisdictions.", DIRECTIONS),
        FactSpec("leaves_mainland", "bool", "The exporter is in the Mainland and the recipient is not."),
        FactSpec("purpose", "enum", "The declared purpose, taken at its word.", PURPOSES),
        FactSpec("new_purpose", "bool", "The transfer serves a purpose other than the collection purpose."),
        FactSpec("mode", "enum", "provide, remote_access or storage_abroad.", MODES),
        FactSpec("planned_date", "date", "The transfer's date."),
        FactSpec("gba.pair", "enum", "mainland_hk: one party in the nine Mainland GBA cities and the other "
                 "in Hong Kong; mainland_mo: the same with Macao; none otherwise.", GBA_PAIRS),
        FactSpec("onward.count", "number", "Number of onward recipients."),
        FactSpec("onward.outside_gba", "bool", "Some onward recipient is outside the Greater Bay Area "
                 "(the nine Mainland cities, Hong Kong, Macao)."),
        FactSpec("onward.outside_mainland", "bool", "Some onward recipient is outside the Mainland."),
        FactSpec("onward.outside_recipient_jurisdiction", "bool", "Some onward recipient is in another "
                 "jurisdiction than the recipient (a Macao affiliate of a Hong Kong recipient)."),
        FactSpec("data.has_personal", "bool", "Some data set holds personal information (not anonymised)."),
        FactSpec("data.has_sensitive", "bool", "Some personal data set holds sensitive personal information."),
        FactSpec("data.sensitive_types", "set", "PIPL art. 28 types present.", SENSITIVE_TYPES),
        FactSpec("data.classifications", "set", "Classifications present.", CLASSIFICATIONS),
        FactSpec("data.has_important", "bool", "Some data set is important, core or a state secret."),
        FactSpec("data.has_core", "bool", "Some data set is core data."),
        FactSpec("data.has_state_secret", "bool", "Some data set is a state secret."),
        FactSpec("data.tags", "set", "Sector tags present.", TAGS),
        FactSpec("data.personal_subjects", "number", "Individuals in this transfer's non-sensitive tally."),
        FactSpec("data.sensitive_subjects", "number", "Individuals in this transfer's sensitive tally."),
        FactSpec("data.all_collected_outside_mainland", "bool", "Every personal data set was collected "
                 "and generated outside the Mainland with nothing Mainland added (art. 4)."),
        FactSpec("data.any_collected_in_mainland", "bool", "Some personal data set was collected in the "
                 "Mainland."),
        FactSpec("data.any_collected_outside_mainland", "bool", "Some personal data set was collected and "
                 "generated outside the Mainland with nothing Mainland added (art. 4)."),
        FactSpec("data.collected_abroad_subjects", "number", "Individuals in the personal data sets "
                 "collected outside the Mainland."),
        FactSpec("ytd.personal_subjects", "number", "Non-sensitive tally since 1 January of the planned "
                 "date's year: ledger + declared_prior + this transfer."),
        FactSpec("ytd.sensitive_subjects", "number", "Sensitive tally since 1 January of that year, "
                 "this transfer included."),
        FactSpec("since_prev_year.personal_subjects", "number", "Non-sensitive tally since 1 January of "
                 "the previous year, this transfer included (the 2022-2024 regime)."),
        FactSpec("since_prev_year.sensitive_subjects", "number", "Sensitive tally since 1 January of the "
                 "previous year, this transfer included."),
        FactSpec("since_prev_year.individuals", "number", "Individuals whose personal information was "
                 "provided since 1 January of the previous year, sensitive or not (the two tallies together, a "
                 "population named in both this year once; under count_sensitive_in_both the non-sensitive "
                 "tally alone, which then holds them all), this transfer included: the 2022-2024 regime "
                 "counted every individual."),
        FactSpec("safeguards.separate_consent", "bool", "Separate consent (PIPL art. 39) or, for a Hong "
                 "Kong exporter, DPP3 prescribed consent is in place."),
        FactSpec("safeguards.notice_given", "bool", "Notice (PIPL art. 39; DPP1(3)) was given."),
        FactSpec("safeguards.direct_marketing_consent", "bool", "PDPO Part VIA: the written notice of s. 35J "
                 "was given and the data subjects' written consent (s. 35K) received, for providing their "
                 "data for another person's direct marketing."),
        FactSpec("safeguards.pia_done", "bool", "An impact assessment was completed on or before the "
                 "planned date."),
        FactSpec("exemption", "set", "Exemptions of the 2024 Provisions arts. 3-6 that rules found to apply "
                 "(derived: read in a later stage).", EXEMPTION_IDS, derived=True),
    ]
    for role in ("exporter", "recipient"):
        specs += [
            FactSpec(f"{role}.jurisdiction", "string", f"The {role}'s jurisdiction (ISO 3166-1 alpha-2).",
                     form="jurisdiction"),
            FactSpec(f"{role}.city", "string", f"The {role}'s city, lower case ('' when not given).",
                     form="lower_case"),
            FactSpec(f"{role}.kind", "enum", f"The {role}'s kind.", PARTY_KINDS,
                     retired=((RETIRED_PARTY_KIND, "state_organ"),)),
            FactSpec(f"{role}.ciio", "bool", f"The {role} is a critical information infrastructure operator."),
            FactSpec(f"{role}.sector", "string", f"The {role}'s sector, lower case ('' when not given).",
                     form="lower_case"),
            FactSpec(f"{role}.zone", "string", f"The {role}'s special zone, lower case ('' when not given).",
                     form="lower_case"),
            FactSpec(f"{role}.in_gba", "bool", f"The {role} is in the nine Mainland GBA cities, Hong Kong or "
                     "Macao."),
            FactSpec(f"{role}.in_gba_mainland", "bool", f"The {role} is in one of the nine Mainland GBA "
                     "cities."),
        ]
    specs.append(FactSpec("exporter.processes_subjects", "number", "Individuals whose PI the exporter "
                          "processes in all; absent when not declared.", optional=True))
    for tag in TAGS:
        specs.append(FactSpec(f"data.subjects_tagged.{tag}", "number", f"Individuals in data sets tagged "
                              f"{tag}."))
    for mech in MECHANISM_TYPES:
        specs += [
            FactSpec(f"mechanism.{mech}.present", "bool", f"A {mech} is listed in the safeguards."),
            FactSpec(f"mechanism.{mech}.valid", "bool", f"A {mech} is valid on the planned date: in effect, "
                     "not expired, and filed or still inside its filing window."),
            FactSpec(f"mechanism.{mech}.filed", "bool", f"A {mech} in effect has been filed."),
            FactSpec(f"mechanism.{mech}.effective_on", "date", f"The day the {mech} took effect; absent "
                     "when there is none.", optional=True),
        ]
    for kind in APPROVAL_KINDS:
        specs.append(FactSpec(f"approval.{kind}", "bool", f"An approval of kind {kind} granted on or before "
                              "the planned date is held."))
    return specs


@dataclass(frozen=True)
class OptionSpec:
    """A pack option (DESIGN section 4): a choice between readings of the law."""

    id: str
    type: Literal["bool", "enum", "number"]
    default: bool | int | str
    description: str
    values: tuple[str, ...] = ()


class FactRegistry:
    """The facts a rule may read: the base registry plus the options the loaded packs declare."""

    def __init__(self, options: Iterable[OptionSpec] = ()) -> None:
        self._specs: dict[str, FactSpec] = {spec.name: spec for spec in _base_registry()}
        for option in options:
            fact_type: FactType = "enum" if option.type == "enum" else option.type
            self._specs[f"option.{option.id}"] = FactSpec(
                f"option.{option.id}", fact_type, f"Pack option: {option.description}", option.values
            )

    def get(self, name: str) -> FactSpec | None:
        return self._specs.get(name)

    def __iter__(self) -> Any:
        return iter(sorted(self._specs.values(), key=lambda spec: spec.name))

    def __len__(self) -> int:
        return len(self._specs)

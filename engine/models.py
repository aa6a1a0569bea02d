"""The contract (DESIGN section 3): a proposed transfer in, a decision out.

These records are the one source of truth for the CLI, the HTTP service (they become its OpenAPI
schema) and the ledger, so every field carries a description. They import nothing from FastAPI,
SQLAlchemy or durable-rules. Unknown fields are rejected (``extra="forbid"``) because a misspelt
safeguard that is silently ignored would turn into a wrong legal answer. Values are read strictly
(``engine.strict``): dates as ISO dates, flags as true/false, counts as whole numbers, for the same
reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from engine.stored_shapes import upgrade_decision
from engine.strict import Count, Flag, PartyId, Reference, iso_date_only
from engine.uscc import held_to_uscc, is_uscc, strict_ids
from engine.uscc import problem as uscc_problem

MAX_SUBJECTS = 2_000_000_000
"""More individuals than live on Earth in one transfer is an input error, not a volume."""

EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)

PartyKind = Literal["company", "research_institution", "public_institution", "state_organ", "individual"]
RETIRED_PARTY_KIND = "public_body"
"""Accepted until 2026-12 and read as a state organ, which sent public hospitals' emergency transfers to a
security assessment. New requests that use it are refused (naming both kinds that replace it); recorded
requests that carry it are read as ``state_organ``, the meaning they were decided under."""
STORED_REQUEST = {"stored_request": True}
"""Validation context for requests read back from the ledger (:func:`read_stored_request`)."""
Purpose = Literal[
    "contract_performance",
    "business_services",
    "hr_management",
    "emergency_protection",
    "transit",
    "international_trade",
    "academic_cooperation",
    "cross_border_manufacturing",
    "research",
    "financial_services",
    "healthcare",
    "judicial_request",
    "statutory_duty",
    "direct_marketing",
    "other",
]
Mode = Literal["provide", "remote_access", "storage_abroad"]
DataKind = Literal["personal", "non_personal"]
Classification = Literal["general", "important", "core", "state_secret"]
SensitiveType = Literal[
    "biometric",
    "religious_belief",
    "specific_identity",
    "medical_health",
    "financial_account",
    "whereabouts",
    "minors_under_14",
]
Tag = Literal[
    "human_genetic_resources",
    "surveying_mapping",
    "credit_reporting",
    "personal_financial",
    "automotive",
    "research",
    "population_health",
]
MechanismType = Literal["security_assessment", "standard_contract", "gba_standard_contract", "certification"]
ApprovalKind = Literal[
    "foreign_judicial_request",
    "state_secret",
    "human_genetic_resources_filing",
    "human_genetic_resources_review",
    "surveying_mapping",
    "other",
]
Outcome = Literal["permitted", "conditional", "prohibited"]
MechanismLevel = Literal["none", "standard_contract", "security_assessment", "prohibited"]

SENSITIVE_TYPES: tuple[str, ...] = SensitiveType.__args__  # type: ignore[attr-defined]
TAGS: tuple[str, ...] = Tag.__args__  # type: ignore[attr-defined]
PURPOSES: tuple[str, ...] = Purpose.__args__  # type: ignore[attr-defined]
MECHANISM_TYPES: tuple[str, ...] = MechanismType.__args__  # type: ignore[attr-defined]
APPROVAL_KINDS: tuple[str, ...] = ApprovalKind.__args__  # type: ignore[attr-defined]
PARTY_KINDS: tuple[str, ...] = PartyKind.__args__  # type: ignore[attr-defined]
CLASSIFICATIONS: tuple[str, ...] = Classification.__args__  # type: ignore[attr-defined]
MODES: tuple[str, ...] = Mode.__args__  # type: ignore[attr-defined]

Subjects = Annotated[Count, Field(ge=0, le=MAX_SUBJECTS)]
Text = Annotated[str, Field(min_length=1, max_length=300)]
ShortText = Annotated[str, Field(min_length=1, max_length=128)]
# The bounds go on the inner type, before the reading validator (as engine.strict's PartyId and
# Reference do): pydantic then checks them in its core; written after it (``Annotated[IsoDate,
# Field(ge=...)]``) each bound is a Python call per field (7 us a request with the ids, measured).
Date = Annotated[dt.date, Field(ge=EARLIEST_DATE, le=LATEST_DATE), BeforeValidator(iso_date_only)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Party(_Strict):
    """An exporter, a recipient or an onward recipient."""

    id: PartyId = Field(
        description="Mainland: unified social credit code; Hong Kong: business registration number; "
        "an individual: any stable identifier. Read in one canonical form (Unicode NFKC, spaces trimmed, "
        "upper case; zero-width, bidirectional and control characters refused): the ledger counts an "
        "exporter by it. A Mainland organisation's id that is not a well-formed code gets the warning "
        "reason engine.id-unverified (refused with BAYGATE_STRICT_IDS=1).",
        examples=["91440300MA5XXXXXXX"],
    )
    name: Text = Field(description="Registered name of the organisation, or the individual's name.")
    jurisdiction: str = Field(
        pattern=r"^[A-Z]{2}$",
        description="CN (Mainland), HK, MO, or any other ISO 3166-1 alpha-2 code.",
        examples=["CN", "HK"],
    )
    city: ShortText | None = Field(
        default=None,
        validate_default=True,
        description="City of registration (organisations) or residence (individuals). Required for CN "
        "parties: it decides Greater Bay Area membership.",
        examples=["Shenzhen"],
    )
    kind: PartyKind = Field(
        default="company",
        description="company; research_institution; public_institution (事业单位: public hospitals, "
        "universities: ordinary processors); state_organ (国家机关, and bodies authorised by law to manage "
        "public affairs: PIPL arts. 36-37); individual.",
    )
    ciio: Flag = Field(default=False, description="Critical information infrastructure operator.")
    sector: ShortText | None = Field(
        default=None, description="Free text, e.g. banking, credit_reporting, healthcare."
    )
    zone: ShortText | None = Field(
        default=None, description="Special zone, e.g. qianhai, hetao_shenzhen_park, nansha, hengqin."
    )
    processes_subjects: Subjects | None = Field(
        default=None,
        description="Individuals whose personal information the party processes in all "
        "(the 2022-2024 regime's 1,000,000 test). Unknown when null.",
    )

    @field_validator("kind", mode="before")
    @classmethod
    def _retired_kind(cls, kind: Any, info: ValidationInfo) -> Any:
        if kind != RETIRED_PARTY_KIND:
            return kind
        if info.context and info.context.get("stored_request"):
            return "state_organ"  # what a recorded request meant by it when it was decided
        raise ValueError(
            "'public_body' is no longer accepted: use 'state_organ' for a state organ (国家机关) or a body "
            "authorised by law to manage public affairs (PIPL arts. 36-37), or 'public_institution' for a "
            "public institution (事业单位) such as a public hospital or university, an ordinary processor")

    @field_validator("city")
    @classmethod
    def _mainland_party_needs_city(cls, city: str | None, info: ValidationInfo) -> str | None:
        # Errors on the field itself, so the path reads exporter.city (field validators run in order:
        # jurisdiction is known here when it was valid).
        if info.data.get("jurisdiction") == "CN" and not city:
            raise ValueError("required for a CN party (it decides Greater Bay Area membership)")
        return city

    @model_validator(mode="after")
    def _strict_ids(self, info: ValidationInfo) -> Party:
        """With ``BAYGATE_STRICT_IDS=1`` a Mainland organisation's id must be a well-formed unified social
        credit code (engine.uscc); without it the decision carries a warning (engine.party_ids). Raised
        as a ValidationError located at ``id``, so the error names ``exporter.id``, not ``exporter``."""
        if (held_to_uscc(self.jurisdiction, self.kind) and not is_uscc(self.id) and strict_ids()
                and not (info.context and info.context.get("stored_request"))):
            raise ValidationError.from_exception_data("Party", [InitErrorDetails(
                type=PydanticCustomError("unverified_id", "{problem}", {"problem": uscc_problem(self.id)}),
                loc=("id",), input=self.id)])
        return self


class DataSet(_Strict):
    """One data set of the transfer."""

    kind: DataKind = Field(description="personal or non_personal.")
    subjects: Subjects = Field(
        default=0,
        validate_default=True,
        description="Distinct individuals in this data set; required (>= 1) for personal data.",
    )
    sensitive: list[SensitiveType] = Field(
        default_factory=list,
        max_length=len(SENSITIVE_TYPES),
        description="PIPL art. 28 types of sensitive personal information in the set; empty = none.",
    )
    classification: Classification = Field(
        default="general", description="general, important (notified or published as such), core, state_secret."
    )
    tags: list[Tag] = Field(default_factory=list, max_length=len(TAGS), description="Sector tags.")
    anonymized: Flag = Field(
        default=False, description="Truly anonymised (PIPL art. 73(4)): then not personal information."
    )
    collected_outside_mainland: Flag = Field(
        default=False,
        description="Collected and generated outside the Mainland, with no Mainland personal information "
        "or important data added while processed there (2024 Provisions art. 4).",
    )
    population: ShortText | None = Field(
        default=None,
        description="Names a population (e.g. members-2026) so that the same people sent again this "
        "year are not counted twice.",
    )

    @field_validator("subjects")
    @classmethod
    def _personal_needs_subjects(cls, subjects: int, info: ValidationInfo) -> int:
        if info.data.get("kind") == "personal" and subjects < 1:
            raise ValueError("must be at least 1 for a personal data set")
        return subjects

    @field_validator("sensitive")
    @classmethod
    def _sensitive_only_for_personal(cls, sensitive: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("kind") == "non_personal" and sensitive:
            raise ValueError("sensitive types can only be given for a personal data set")
        return sensitive


class Mechanism(_Strict):
    """A transfer mechanism already in place."""

    type: MechanismType = Field(description="Which mechanism.")
    reference: ShortText = Field(description="Filing, approval or certificate number.")
    effective_on: Date = Field(description="The day it takes effect (contract) or was issued (assessment).")
    filed_on: Date | None = Field(default=None, description="Day filed with the authority, if filed.")
    expires_on: Date | None = Field(default=None, description="Last day of validity; null = no fixed term.")

    @field_validator("filed_on")
    @classmethod
    def _filed_after_effective(cls, filed_on: dt.date | None, info: ValidationInfo) -> dt.date | None:
        effective_on = info.data.get("effective_on")
        if filed_on is not None and effective_on is not None and filed_on < effective_on:
            raise ValueError("is before effective_on (a contract is filed after it takes effect)")
        return filed_on

    @field_validator("expires_on")
    @classmethod
    def _expires_after_effective(cls, expires_on: dt.date | None, info: ValidationInfo) -> dt.date | None:
        effective_on = info.data.get("effective_on")
        if expires_on is not None and effective_on is not None and expires_on < effective_on:
            raise ValueError("is before effective_on")
        return expires_on


class Approval(_Strict):
    """An approval held from an authority."""

    kind: ApprovalKind = Field(description="What the approval covers.")
    authority: Text = Field(description="The authority that granted it.")
    reference: ShortText | None = Field(default=None, description="The approval's number.")
    granted_on: Date = Field(description="Day granted.")


class Safeguards(_Strict):
    """What is already in place."""

    separate_consent: Flag = Field(
        default=False,
        description="PIPL art. 39 separate consent; for a Hong Kong exporter, DPP3 prescribed consent.",
    )
    notice_given: Flag = Field(
        default=False,
        description="PIPL art. 39 notice; for a Hong Kong exporter, DPP1(3) classes of transferees.",
    )
    pia_completed_on: Date | None = Field(
        default=None, description="Day the personal information protection impact assessment was completed."
    )
    direct_marketing_consent: Flag = Field(
        default=False,
        description="For a Hong Kong exporter providing personal data for another person's direct marketing "
        "(purpose direct_marketing): the data subjects were given the written notice of PDPO s. 35J and gave "
        "their written consent (s. 35K). DPP3 prescribed consent (separate_consent) is not enough for it.",
    )
    mechanisms: list[Mechanism] = Field(default_factory=list, max_length=50)
    approvals: list[Approval] = Field(default_factory=list, max_length=50)


class DeclaredPrior(_Strict):
    """Earlier volume that this ledger has not recorded (the exporter's own de-duplicated figures)."""

    personal_subjects: Subjects = Field(default=0, description="Since 1 January of the planned date's year.")
    sensitive_subjects: Subjects = Field(default=0, description="Sensitive, since 1 January of that year.")
    previous_year_personal_subjects: Subjects = Field(default=0, description="The calendar year before.")
    previous_year_sensitive_subjects: Subjects = Field(default=0, description="Sensitive, the year before.")


class TransferRequest(_Strict):
    """A proposed transfer: who exports, who receives, what data, why, and what is in place."""

    reference: Reference = Field(
        description="The caller's id; with the exporter id, the idempotency key of a submission. Control, "
        "zero-width, bidirectional and other invisible characters are refused.",
        examples=["SZH-2026-0042"],
    )
    exporter: Party = Field(description="The party that sends the data.")
    recipient: Party = Field(description="The party that receives it.")
    onward_recipients: list[Party] = Field(
        default_factory=list, max_length=100, description="Parties the recipient will pass the data on to."
    )
    purpose: Purpose = Field(description="Why the data is sent; taken at its word and said so in reasons.")
    new_purpose: Flag = Field(
        default=False,
        description="Serves a purpose other than the one the data was collected for (PDPO DPP3).",
    )
    mode: Mode = Field(
        default="provide",
        description="provide (a copy is sent), remote_access (read from abroad), storage_abroad.",
    )
    planned_date: Date = Field(description="The transfer's date; the rules in force on it apply.")
    data: list[DataSet] = Field(min_length=1, max_length=1000, description="One entry per data set.")
    safeguards: Safeguards = Field(default_factory=Safeguards)
    declared_prior: DeclaredPrior = Field(default_factory=DeclaredPrior)


def read_stored_request(data: Any) -> TransferRequest:
    """A request read back from the ledger (a dict, or its JSON text): validated as a new one, except
    that a kind retired since it was recorded is read as what it meant then (``public_body``)."""
    if isinstance(data, str | bytes):
        return TransferRequest.model_validate_json(data, context=STORED_REQUEST)
    return TransferRequest.model_validate(data, context=STORED_REQUEST)


# --------------------------------------------------------------------------------------------
# The decision


class Messages(_Strict):
    """A text in the three languages users read: English, Simplified and Traditional Chinese."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    en: str
    zh_Hans: str = Field(alias="zh-Hans")
    zh_Hant: str = Field(alias="zh-Hant")

    def get(self, lang: str) -> str:
        return {"en": self.en, "zh-Hans": self.zh_Hans, "zh-Hant": self.zh_Hant}.get(lang, self.en)

    @model_serializer(mode="plain")
    def _serialize(self) -> dict[str, str]:
        return {"en": self.en, "zh-Hans": self.zh_Hans, "zh-Hant": self.zh_Hant}


class Reason(_Strict):
    """One fired rule: what it did, why, and on which article it rests."""

    rule: str = Field(description="The rule id.")
    effect: str = Field(description="require_mechanism, prohibit, exempt, eligible, obligation, note, ...")
    message: Messages
    citation: str = Field(description="Instrument and article the rule rests on.")
    unsure: str | None = Field(default=None, description="Where the law is not settled, what is unsure.")
    facts: dict[str, Any] = Field(default_factory=dict, description="The facts the rule read.")


class MissingMechanism(_Strict):
    """A mechanism to put in place: any one of ``options`` meets the requirement."""

    kind: Literal["mechanism"] = Field(description="What is missing: a mechanism.")
    options: list[MechanismType] = Field(description="Any one of these, in place and valid, meets the requirement.")
    text: Messages = Field(description="What to do, in three languages (with why a mechanism listed does not count).")


class MissingObligation(_Strict):
    """An obligation due before the transfer that the request does not show done."""

    kind: Literal["obligation"] = Field(description="What is missing: an obligation.")
    id: str = Field(description="The obligation's id, as in `obligations`.")
    text: Messages = Field(description="What to do, in three languages.")


class MissingApproval(_Strict):
    """An authority approval to obtain before the transfer."""

    kind: Literal["approval"] = Field(description="What is missing: an authority approval.")
    id: ApprovalKind = Field(description="The kind of approval, as in `safeguards.approvals[].kind`.")
    text: Messages = Field(description="What to do, in three languages.")


class MissingReview(_Strict):
    """A legal review the engine cannot replace (no rule decided the route, the case is outside every
    pack's scope, or no mechanism the engine knows fits)."""

    kind: Literal["review"] = Field(description="What is missing: a legal review.")
    id: str = Field(description="A short id of why, e.g. no-route, no-eligible-mechanism.")
    text: Messages = Field(description="Why, and what to seek, in three languages.")


MissingItem = Annotated[
    MissingMechanism | MissingObligation | MissingApproval | MissingReview,
    Field(discriminator="kind"),
]
"""One thing that stops the transfer from being permitted now; ``kind`` tells which (DESIGN section 3)."""


class SatisfiedBy(_Strict):
    """The mechanism in place that meets the required level."""

    type: MechanismType = Field(description="Which mechanism.")
    reference: str = Field(description="Its reference, as listed in `safeguards.mechanisms`.")


class ObligationResult(_Strict):
    """An obligation that follows from the decision, with its due date where it can be computed."""

    id: str
    text: Messages
    due: str = Field(description="When it is due, in words.")
    due_date: dt.date | None = Field(default=None, description="Computed on Mainland working days.")
    due_note: str | None = Field(default=None, description="A caveat on how due_date was computed.")
    citation: str
    satisfied: bool = Field(description="Whether the request shows it done.")
    before_transfer: bool = Field(description="Whether it must be done before the transfer.")


class Counts(_Strict):
    """The exporter's tallies for the year of the planned date (DESIGN section 5): before this
    transfer, and after recording it. ``after`` differs from ``before`` only where recording it counts
    (``counted``); the tallies the rules tested, this transfer included, are in the reasons' facts
    (``ytd.personal_subjects``)."""

    year: int = Field(description="The calendar year of the planned date.")
    personal_subjects_before: int = Field(
        description="Individuals counted this year before this transfer: the ledger and `declared_prior`.")
    sensitive_subjects_before: int = Field(description="The same, sensitive personal information.")
    personal_subjects_after: int = Field(
        description="The tally once this transfer is recorded: `before` plus this transfer where it counts, "
        "else `before`.")
    sensitive_subjects_after: int = Field(description="The same, sensitive personal information.")
    counted: bool = Field(
        default=True,
        description="Whether recording this transfer adds to the tallies: only a permitted transfer that no "
        "exemption the pack options keep out of the count applies to. A conditional or prohibited "
        "transfer is not counted (it may not go ahead as decided).")
    collected_abroad_uncounted: bool = Field(
        default=False,
        description="Data sets collected outside the Mainland (2024 Provisions art. 4) were left out of "
        "the tallies; the rest of the transfer was counted as usual.",
    )


class RulesInfo(_Strict):
    """Which rules decided: pack versions, their digest, the options and the as-of day."""

    packs: dict[str, str]
    digest: str
    as_of: dt.date
    options: dict[str, bool | int | str]


class Decision(_Strict):
    """The answer: may it go, on which route, why, and what is still missing."""

    @model_validator(mode="before")
    @classmethod
    def _read_earlier_shapes(cls, data: Any) -> Any:
        # Decisions stored by earlier versions stay readable in today's shape (see engine.stored_shapes).
        return upgrade_decision(data) if isinstance(data, dict) else data

    decision_id: str = Field(description="Sortable unique id (ULID).")
    reference: str
    outcome: Outcome
    mechanism: MechanismLevel = Field(description="The level the law requires.")
    mechanism_options: list[str] = Field(description="Any one of these satisfies the requirement.")
    exemptions: list[str]
    reasons: list[Reason]
    satisfied_by: SatisfiedBy | None = Field(
        default=None,
        description="The mechanism in place that meets `mechanism`; null when none does or none is needed.")
    missing: list[MissingItem] = Field(description="What stops `permitted` now; empty when permitted.")
    obligations: list[ObligationResult]
    counts: Counts
    rules: RulesInfo
    evaluated_at: dt.datetime

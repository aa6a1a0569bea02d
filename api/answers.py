"""What the HTTP API answers: one model per answer, used by the routes (their response models, so the
OpenAPI document) and by the typed client (``api.client``) to read the same answers back.

One definition each, so the client cannot drift from the service (it had: the client's audit report
lacked the notes the service sends). Answers may gain fields in later versions, so unknown fields are
ignored when read (pydantic's default), and an answer once read is not changed (frozen). Plain pydantic:
nothing here imports FastAPI, so the client needs no server.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.models import Decision, Outcome, TransferRequest

Status = Literal["recorded", "withdrawn"]


class Answer(BaseModel):
    """The base of every answer: unknown fields ignored, frozen once read."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class FieldError(Answer):
    """One field problem of a 422: where (``data[1].subjects``) and what is wrong."""

    path: str = Field(description="Field path in the body, or the query parameter's name.")
    message: str
    location: str = Field(default="body", alias="in", description="body or query.")

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Problem(Answer):
    """RFC 9457 problem details, as every error of this service is answered."""

    type: str = Field(description="A URN naming the problem type, e.g. urn:baygate:problem:bad-input.")
    title: str
    status: int
    detail: str | None = None
    code: str = Field(description="The engine's stable error code, e.g. baygate.bad-input.")
    errors: list[FieldError] | None = Field(default=None, description="Field problems (422 on a request).")
    issues: list[dict[str, Any]] | None = Field(
        default=None, description="Rule pack problems: file, line, rule_id, message (422 on rule packs).")

    model_config = ConfigDict(extra="allow", frozen=True)


class ReplacedDecision(Answer):
    """An earlier decision of a transfer, replaced by an amendment (``POST /v1/transfers/{id}/amend``)."""

    decision_id: str
    outcome: Outcome
    recorded_at: str
    recorded_by: str | None
    counted: bool
    event_seq: int = Field(description="Its own event in the audit chain.")
    replaced_by: str = Field(description="The decision that replaced it.")
    replaced_at: str
    replaced_seq: int = Field(description="The amendment's event in the audit chain.")


class TransferRecord(Answer):
    """A recorded transfer: the request as submitted, its decision, and whether it was withdrawn."""

    request: TransferRequest
    decision: Decision
    exporter_id: str
    recorded_at: str
    withdrawn: bool
    withdrawn_at: str | None
    counted: bool = Field(description="Whether its subjects count in the exporter's tallies.")
    event_seq: int = Field(description="Its event in the audit chain.")
    recorded_by: str | None = Field(default=None, description="Who recorded it: `key:NAME` (an API key), "
                                    "`user:LOGIN` (the command line), `loopback` or `service`; null for "
                                    "transfers recorded before actors were.")
    reason: str | None = Field(default=None, description="The reason given when it was recorded (X-Reason).")
    withdrawn_by: str | None = None
    withdrawal_reason: str | None = None
    replaces: str | None = Field(default=None, description="The decision this one replaced, when an amendment "
                                 "recorded it.")
    history: list[ReplacedDecision] = Field(default_factory=list, description="The transfer's earlier "
                                            "decisions, oldest first, each with the one that replaced it.")


class TransferSummary(Answer):
    """A recorded transfer in a list: its identity, outcome and state (the whole record: GET by id)."""

    decision_id: str
    reference: str
    exporter_id: str
    year: int = Field(description="The calendar year of its planned date.")
    outcome: Outcome
    status: Literal["recorded", "withdrawn"]
    counted: bool = Field(description="Whether it added to the exporter's tallies when recorded.")
    counted_personal_subjects: int = Field(description="What it added to the exporter's tally (0 if not counted).")
    counted_sensitive_subjects: int
    recorded_at: str
    withdrawn_at: str | None
    event_seq: int = Field(description="Its position in the audit chain (the list's order, newest first).")


class TransferList(Answer):
    """One page of recorded transfers, newest first."""

    items: list[TransferSummary]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next (older) page; null on "
                                    "the last page.")


class Withdrawal(Answer):
    decision_id: str
    reference: str
    exporter_id: str
    withdrawn_at: str
    already_withdrawn: bool
    released_personal_subjects: int = Field(description="Taken from the exporter's tally for the year by "
                                            "this withdrawal (0 when it was already withdrawn).")
    released_sensitive_subjects: int
    counted_personal_subjects: int = Field(description="What the transfer added when it was recorded. It "
                                           "releases less when later transfers of the same population "
                                           "counted only their increase over its figure.")
    counted_sensitive_subjects: int


class ExporterCounts(Answer):
    model_config = ConfigDict(extra="allow", frozen=True)

    exporter: str
    year: int
    personal_subjects: int
    sensitive_subjects: int


class Amendment(Answer):
    """An amendment: the new decision (now the transfer's), the one it replaced, and the counts' moves."""

    decision: Decision
    replaces: str = Field(description="The decision id it replaced (when unchanged: the decision in force).")
    replaced_outcome: Outcome
    amended_at: str
    unchanged: bool = Field(description="The amended request was the one in force already: nothing recorded.")
    counted: bool = Field(description="Whether the new decision counts in the exporter's tallies.")
    released_personal_subjects: int = Field(description="Taken from the tally with the replaced decision.")
    released_sensitive_subjects: int
    counted_personal_subjects: int = Field(description="Added to the tally by the new decision.")
    counted_sensitive_subjects: int


class AuditReport(Answer):
    ok: bool = Field(description="True when the chain proves nothing was changed, inserted or removed.")
    events: int
    first_bad: int | str | None = None
    problem: str | None = None
    notes: list[str] = Field(default_factory=list, description="What the anchors showed: which keys signed which "
                             "stretch, which stretch was written before any key. Signatures are checked here "
                             "against the keys the chain itself announces; `baygate audit verify --public-key` "
                             "checks them against keys the auditor holds.")


class CheckpointDocument(Answer):
    """The head of the chain: keep it outside the database, give it back to ``audit verify --checkpoint``."""

    format: str = Field(description="baygate-checkpoint/1")
    seq: int = Field(description="The head's position: the number of events.")
    hash: str = Field(description="The head's hash (64 hex digits).")
    at: str | None = Field(description="When the head event was written.")
    taken_at: str
    signature: dict[str, Any] | None = Field(default=None, description="The head's signature, when signed: "
                                             "{key_id, value} (base64 Ed25519).")


class PackInfo(Answer):
    pack: str
    version: str
    title: str
    file: str
    digest: str
    rules: list[str]


class RulesView(Answer):
    """The pack set being served."""

    digest: str = Field(description="sha256 digest of the whole pack set; recorded in every decision.")
    packs: list[PackInfo]
    options: dict[str, bool | int | str] = Field(description="Pack options in force (deployment's choice).")

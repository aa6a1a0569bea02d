"""The audit chain over HTTP (auditor role): ``GET /v1/audit/verify`` walks it and checks every record
and signature against it; ``GET /v1/audit/checkpoint`` gives its head for an auditor to keep elsewhere
(issue 19 point 1). A database that cannot be read is a 503, never a verdict."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.http.deps import Auditor, StateDep
from api.http.problems import responses

router = APIRouter(tags=["audit"])


class AuditReport(BaseModel):
    ok: bool = Field(description="True when the chain proves nothing was changed, inserted or removed.")
    events: int
    first_bad: int | str | None = None
    problem: str | None = None
    notes: list[str] = Field(default_factory=list, description="What the anchors showed: which keys signed which "
                             "stretch, which stretch was written before any key. Signatures are checked here "
                             "against the keys the chain itself announces; `baygate audit verify --public-key` "
                             "checks them against keys the auditor holds.")


class CheckpointDocument(BaseModel):
    """The head of the chain: keep it outside the database, give it back to ``audit verify --checkpoint``."""

    format: str = Field(description="baygate-checkpoint/1")
    seq: int = Field(description="The head's position: the number of events.")
    hash: str = Field(description="The head's hash (64 hex digits).")
    at: str | None = Field(description="When the head event was written.")
    taken_at: str
    signature: dict[str, Any] | None = Field(default=None, description="The head's signature, when signed: "
                                             "{key_id, value} (base64 Ed25519).")


@router.get("/v1/audit/verify", response_model=AuditReport, responses=responses(401, 403, 503))
def audit_verify(state: StateDep, _roles: Auditor) -> AuditReport:
    """Walk the audit chain; `ok: false` names the first event edited, deleted, inserted or reordered, or
    the first signature that does not hold."""
    result = state.use_ledger().verify()
    return AuditReport(ok=result.ok, events=result.events, first_bad=result.first_bad, problem=result.problem,
                       notes=list(result.notes))


@router.get("/v1/audit/checkpoint", response_model=CheckpointDocument, responses=responses(401, 403, 503))
def audit_checkpoint(state: StateDep, _roles: Auditor) -> CheckpointDocument:
    """The chain's head now (position, hash, time, signature): a document to keep elsewhere. `baygate audit
    verify --checkpoint FILE` fails when the chain no longer holds it (a rewrite, a truncation, a rollback)."""
    return CheckpointDocument(**state.use_ledger().checkpoint().document())

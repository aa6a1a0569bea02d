"""The audit chain over HTTP (auditor role): ``GET /v1/audit/verify`` walks it and checks every record
and signature against it; ``GET /v1/audit/checkpoint`` gives its head for an auditor to keep elsewhere
(issue 19 point 1). A database that cannot be read is a 503, never a verdict.

Verify jobs (DESIGN section 6): ``POST /v1/audit/verify-jobs`` starts ``audit verify`` of the ledger
in a process of its own and answers at once (202, ``Location``); ``GET /v1/audit/verify-jobs/{id}``
says how far it got and, once done, what it found (``engine.ledger.verify_jobs``). The worker that
answers does none of the walking: its memory stays where it was, whatever the size of the ledger."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.answers import AuditReport, CheckpointDocument
from api.http.deps import ActorDep, Auditor, StateDep
from api.http.problems import ProblemError, responses
from api.http.strictjson import StrictJsonRoute
from engine.ledger import verify_jobs
from engine.ledger.signing import SigningKeyError

router = APIRouter(tags=["audit"], route_class=StrictJsonRoute)






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


class VerifyResult(BaseModel):
    ok: bool = Field(description="True when the chain proves nothing was changed, inserted or removed.")
    events: int
    first_bad: str | None = None
    problem: str | None = None
    notes: list[str] = Field(default_factory=list, description="What the anchors showed (as in GET /v1/audit/verify).")


class VerifyJobAnchors(BaseModel):
    """What the job checks the chain against besides itself, as ``audit verify --checkpoint FILE
    --public-key FILE``; without ``public_keys`` the signatures are checked against the keys the chain
    announces (which proves them consistent, not who wrote them)."""

    model_config = ConfigDict(extra="forbid")

    checkpoints: list[dict[str, Any]] = Field(default_factory=list, max_length=100,
                                              description="Checkpoint documents (GET /v1/audit/checkpoint) kept "
                                              "elsewhere: the chain must still hold each.")
    public_keys: list[str] = Field(default_factory=list, max_length=20,
                                   description="Public keys (PEM, -----BEGIN PUBLIC KEY-----) of the chain's "
                                   "signing keys: every signed head must verify under one of them.")


class VerifyJob(BaseModel):
    id: str
    state: str = Field(description="queued, running, done or failed.")
    requested_at: str
    requested_by: str | None = None
    started_at: str | None = None
    heartbeat_at: str | None = Field(default=None, description="When the job last said how far it got.")
    finished_at: str | None = None
    events_checked: int = Field(description="Events of the audit chain checked so far.")
    events_total: int | None = Field(default=None, description="Events in the chain when the job started.")
    result: VerifyResult | None = Field(default=None, description="What verify found, once done.")
    error: str | None = Field(default=None, description="Why it could not finish (state failed).")


JobId = Annotated[str, Path(description="The job's id, as the POST answered it.", max_length=26)]


@router.post("/v1/audit/verify-jobs", status_code=202, response_model=VerifyJob,
             responses=responses(401, 403, 422, 503), summary="Start verifying the audit chain as a job")
def start_verify_job(state: StateDep, _roles: Auditor, actor: ActorDep,
                     body: VerifyJobAnchors | None = None) -> JSONResponse:
    """Record a verify job and start it; poll the ``Location`` it answers for its progress and result.
    The body (optional) gives checkpoints and public keys to check the chain against."""
    anchored = verify_jobs.Anchors(body.checkpoints, body.public_keys) if body is not None else None
    if anchored is not None:
        try:
            anchored.parsed()  # refused here, naming the item, rather than failing in the job
        except SigningKeyError as exc:
            raise ProblemError(422, "bad-input", str(exc)) from None
    ledger = state.use_ledger()
    job = verify_jobs.create(ledger, actor.name, anchored)
    verify_jobs.start(ledger.url, job.id)
    return JSONResponse(job.as_dict(), status_code=202, headers={"Location": f"/v1/audit/verify-jobs/{job.id}"})


@router.get("/v1/audit/verify-jobs/{job_id}", response_model=VerifyJob, responses=responses(401, 403, 404, 503),
            summary="A verify job's progress and result")
def read_verify_job(job_id: JobId, state: StateDep, _roles: Auditor) -> dict[str, Any]:
    job = verify_jobs.read(state.use_ledger(), job_id)
    if job is None:
        raise ProblemError(404, "not-found", f"no verify job {job_id!r}")
    return job.as_dict()

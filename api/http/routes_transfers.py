"""Recorded transfers: submit (``POST /v1/transfers``), read, withdraw; the exporter's counts; audit.

Submission is idempotent on (exporter id, reference): the same request again answers the recorded
decision (200, ``Idempotent-Replayed: true``), unless the transfer was withdrawn since (409
``transfer-withdrawn``: its decision no longer stands); another request under a used reference is a
409 and nothing is written. The ledger does each in one transaction, so a 503 means nothing was half-written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response

from api.answers import ExporterCounts, TransferList, TransferRecord, Withdrawal
from api.http import metrics
from api.http.conventions import check_idempotency_key
from api.http.deps import (
    ActorDep,
    Auditor,
    AuditorOrSubmitter,
    LanguageDep,
    RequestBodyDoc,
    StateDep,
    Submitter,
)
from api.http.encode import decision_dict, decision_json, dumps
from api.http.problems import ProblemError, responses
from api.http.routes_evaluate import count_decision, json_response
from api.http.security import AUDITOR
from api.http.strictjson import StrictJsonRoute
from engine.errors import BaygateError
from engine.ledger import TransferWithdrawn
from engine.ledger.listing import MAX_PAGE, TransferQuery
from engine.models import Decision, Outcome

router = APIRouter(tags=["transfers"], route_class=StrictJsonRoute)

TransferId = Annotated[str, Path(description="The decision id or the caller's reference.", max_length=128)]
IdempotencyKeyHeader = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=128,
    description="Optional. Submissions are idempotent on the body's `reference` (with the exporter id); a key "
    "sent here must equal that reference, or the request is refused (422).")]
ExporterQuery = Annotated[str | None, Query(
    description="The exporter id: needed when several exporters used the same reference.", max_length=128)]














@router.post("/v1/transfers", status_code=201, response_model=Decision,
             responses={200: {"model": Decision, "description": "The same request was already recorded: "
                              "its decision (Idempotent-Replayed: true)."},
                        **responses(401, 403, 409, 413, 422, 503)},
             summary="Decide a transfer and record it")
def submit(request: RequestBodyDoc, state: StateDep, _roles: Submitter, lang: LanguageDep,
           actor: ActorDep, idempotency_key: IdempotencyKeyHeader = None) -> Response:
    """Evaluate with the exporter's recorded counts and record request and decision together, with the
    acting key's name and the `X-Reason` header, if given, in the audit chain."""
    check_idempotency_key(idempotency_key, request.reference)
    started = time.perf_counter()
    try:
        result = state.use_ledger().submit(state.engine, request, actor=actor)
    except BaygateError as exc:
        metrics.SUBMISSIONS.labels(exc.code.removeprefix("baygate.")).inc()
        raise
    decision: Decision = result.decision
    if result.withdrawn_at is not None:  # the same request again, but its transfer was withdrawn since
        metrics.SUBMISSIONS.labels("transfer-withdrawn").inc()
        raise TransferWithdrawn(decision.reference, decision.decision_id, result.withdrawn_at)
    if result.replayed:
        metrics.SUBMISSIONS.labels("replayed").inc()
    else:
        metrics.SUBMISSIONS.labels("recorded").inc()
        count_decision(decision, "submit", started)
    headers = {"Location": f"/v1/transfers/{decision.decision_id}",
               "Idempotent-Replayed": "true" if result.replayed else "false"}
    return json_response(decision_json(decision, lang), lang, 200 if result.replayed else 201, headers)


@router.get("/v1/transfers", response_model=TransferList, responses=responses(401, 403, 422, 503))
def list_transfers(
    state: StateDep, _roles: Auditor,
    exporter_id: Annotated[str | None, Query(max_length=128, description="Only this exporter's.")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Only this planned year's.")] = None,
    outcome: Annotated[Outcome | None, Query(description="Only decisions with this outcome.")] = None,
    status: Annotated[Literal["recorded", "withdrawn"] | None, Query(
        description="recorded (standing) or withdrawn.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page.")] = 50,
    cursor: Annotated[str | None, Query(max_length=40, description="`next_cursor` of the page before.")] = None,
) -> Response:
    """Recorded transfers, newest first, a page at a time (follow `next_cursor`)."""
    page = state.use_ledger().list_transfers(TransferQuery(
        exporter_id=exporter_id, year=year, outcome=outcome, status=status, limit=limit, cursor=cursor))
    body = {"items": [item.as_dict() for item in page.items], "next_cursor": page.next_cursor}
    return Response(dumps(body), media_type="application/json")


@router.get("/v1/transfers/{transfer_id}", response_model=TransferRecord,
            responses=responses(401, 403, 404, 409, 503))
def get_transfer(transfer_id: TransferId, state: StateDep, roles: AuditorOrSubmitter, lang: LanguageDep,
                 actor: ActorDep, exporter_id: ExporterQuery = None) -> Response:
    """A recorded transfer by decision id (of any of its versions) or reference (409 when a reference is
    ambiguous): its decision in force, with the decisions amendments replaced beside it (`history`). An
    auditor reads any; a submitter key the transfers it recorded or amended (the `Location` of its 201)."""
    record = state.use_ledger().get(transfer_id, exporter_id)
    recorders = {record.recorded_by, *(old.recorded_by for old in record.replaced)}
    if AUDITOR not in roles and actor.name not in recorders:
        raise ProblemError(403, "forbidden", "a submitter key reads only the transfers it recorded; this one "
                                             "needs the role auditor")
    body: dict[str, Any] = {
        "request": record.request.model_dump(mode="json"),
        "decision": decision_dict(record.decision, lang),
        "exporter_id": record.exporter_id, "recorded_at": record.recorded_at,
        "withdrawn": record.withdrawn, "withdrawn_at": record.withdrawn_at,
        "counted": record.counted, "event_seq": record.event_seq,
        "recorded_by": record.recorded_by, "reason": record.reason,
        "withdrawn_by": record.withdrawn_by, "withdrawal_reason": record.withdrawal_reason,
        "replaces": record.replaces, "history": [old.as_dict() for old in record.replaced],
    }
    return json_response(dumps(body), lang)


@router.post("/v1/transfers/{transfer_id}/withdraw", response_model=Withdrawal,
             responses=responses(401, 403, 404, 409, 503))
def withdraw(transfer_id: TransferId, state: StateDep, _roles: Submitter, actor: ActorDep,
             exporter_id: ExporterQuery = None) -> Withdrawal:
    """Withdraw a recorded transfer: its counts are released; withdrawing twice changes nothing. The
    acting key's name and the `X-Reason` header, if given, are recorded with the withdrawal."""
    result = state.use_ledger().withdraw(transfer_id, exporter_id, actor=actor)
    if not result.already_withdrawn:
        metrics.WITHDRAWALS.inc()
    return Withdrawal(**dataclasses.asdict(result))


@router.get("/v1/exporters/{exporter_id}/counts", response_model=ExporterCounts,
            responses=responses(401, 403, 422, 503))
def exporter_counts(
    exporter_id: Annotated[str, Path(max_length=128, description="The exporter id.")],
    state: StateDep, _roles: Auditor,
    year: Annotated[int | None, Query(ge=2000, le=2100,
                                      description="Calendar year; default this year.")] = None,
) -> ExporterCounts:
    """The exporter's recorded personal and sensitive subjects for a calendar year (DESIGN section 5)."""
    return ExporterCounts(**state.use_ledger().counts(exporter_id, year or dt.date.today().year))

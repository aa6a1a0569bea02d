"""``POST /v1/transfers/batch`` (DESIGN section 6): record many transfers in one call, one result per
request in order, as ``POST /v1/evaluate/batch`` answers.

The body is ``{"requests": [...]}`` (at most ``max_batch_items``); the answer ``{"results": [...],
"replayed": [...]}``: each result is the recorded decision, or a problem object in its place with its
``index`` (a request that is not valid, a reference already recorded for another request: 409); the
indexes listed under ``replayed`` answer a request recorded before under its reference (its recorded
decision, nothing counted again). The valid requests are recorded by ``Ledger.submit_many``: groups of
hundreds per transaction, one commit each, each decided on the counts the ones before it left, exactly
as if submitted one after the other. A database failure ends the call with 503; the groups recorded
before it stay recorded, and sending the same batch again answers them as replayed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError

from api.answers import Problem
from api.http import metrics
from api.http.deps import ActorDep, LanguageDep, ServiceState, StateDep, Submitter
from api.http.encode import decision_json, dumps
from api.http.problems import input_problem, problem_body, responses, status_of
from api.http.routes_evaluate import json_response, parse_batch, valid_batch
from engine.errors import BaygateError, FieldProblem, problems_from_validation
from engine.ledger import SubmitResult
from engine.ledger.actors import Actor
from engine.models import Decision, TransferRequest

router = APIRouter(tags=["transfers"])


class BatchRecorded(BaseModel):
    results: list[Decision | Problem] = Field(description="One per request, in order: the recorded decision, "
                                              "or a problem (with its index) in its place.")
    replayed: list[int] = Field(description="Indexes of the requests already recorded under their reference: "
                                "their result is the decision recorded then; nothing was counted again.")


@router.post("/v1/transfers/batch", response_model=BatchRecorded, responses=responses(401, 403, 413, 422, 503),
             summary="Decide and record many transfers")
async def submit_batch(http: Request, state: StateDep, _roles: Submitter, lang: LanguageDep,
                       actor: ActorDep) -> Response:
    """`{"requests": [...]}` -> `{"results": [...], "replayed": [...]}`: each request decided with the
    exporter's recorded counts and recorded, in order, as if submitted one by one."""
    raw = await http.body()
    limit = state.settings.max_batch_items
    items: list[Any] | None = await run_in_threadpool(valid_batch, raw, limit)
    if items is None:
        items = parse_batch(raw, limit)
    body = await run_in_threadpool(record_batch, items, state, lang, actor)
    return json_response(body, lang)


def record_batch(items: list[Any], state: ServiceState, lang: str, actor: Actor) -> bytes:
    """Runs in a worker thread: validate each item (a bad one is answered in its place), record the
    valid ones in order, and write the answer."""
    results: list[bytes] = [b""] * len(items)
    valid: list[tuple[int, TransferRequest]] = []
    for index, item in enumerate(items):
        if isinstance(item, TransferRequest):  # validated already (valid_batch)
            valid.append((index, item))
            continue
        if not isinstance(item, dict):
            results[index] = dumps({**input_problem([FieldProblem("", "a request must be an object")]),
                                    "index": index})
            continue
        try:
            valid.append((index, TransferRequest.model_validate(item)))
        except ValidationError as exc:
            results[index] = dumps({**input_problem(problems_from_validation(exc)), "index": index})
    replayed: list[int] = []
    counted = {"recorded": 0, "replayed": 0, "refused": len(items) - len(valid)}
    outcomes = state.use_ledger().submit_many(state.engine, (request for _index, request in valid), actor=actor)
    for (index, _request), outcome in zip(valid, outcomes, strict=True):
        if isinstance(outcome, SubmitResult):
            results[index] = decision_json(outcome.decision, lang)
            if outcome.replayed:
                replayed.append(index)
                counted["replayed"] += 1
            else:
                counted["recorded"] += 1
                metrics.child(metrics.DECISIONS, outcome.decision.outcome, outcome.decision.mechanism,
                              "submit").inc()
        elif isinstance(outcome, BaygateError):
            status, slug = status_of(outcome)
            results[index] = dumps({**problem_body(status, slug, str(outcome)), "index": index})
            counted["refused"] += 1
        else:
            raise outcome
    for label, count in counted.items():
        if count:
            metrics.SUBMISSIONS.labels(label).inc(count)
    return b'{"results":[' + b",".join(results) + b'],"replayed":' + dumps(replayed) + b"}"

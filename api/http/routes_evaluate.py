"""Dry runs: ``POST /v1/evaluate`` and ``POST /v1/evaluate/batch``. Nothing is recorded.

A dry run reads the ledger's counts for the exporter (read only), so that it answers what a
submission would get now. When the database cannot be read the answer is 503, never a decision on
zero counts: a wrong "permitted" is worse than no answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from api.http import metrics
from api.http.deps import (
    ALL_ROLES,
    BODY_SCOPE_KEY,
    ROLES_SCOPE_KEY,
    AsOfQuery,
    LanguageDep,
    RequestBodyDoc,
    ServiceState,
    StateDep,
    Submitter,
    bearer_key,
    choose_language,
)
from api.http.encode import EXAMPLE_NOTHING_IN_PLACE, EXAMPLE_REQUEST, decision_json, dumps
from api.http.lifecycle import engine_for
from api.http.problems import Problem, ProblemError, baygate_problem, input_problem, responses
from api.http.security import SUBMITTER
from api.http.strictjson import StrictJsonRoute
from engine.errors import BaygateError, FieldProblem, problems_from_validation
from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.inputs import DuplicateKey, loads_json
from engine.models import Decision, TransferRequest

router = APIRouter(prefix="/v1/evaluate", tags=["evaluate"], route_class=StrictJsonRoute)


def json_response(content: bytes, lang: str, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(content, status_code=status, media_type="application/json",
                    headers={"Content-Language": lang, "Vary": "Accept-Language, Authorization",
                             **(headers or {})})


def count_decision(decision: Decision, route: str, started: float) -> None:
    metrics.child(metrics.DECISIONS, decision.outcome, decision.mechanism, route).inc()
    metrics.child(metrics.EVALUATION_SECONDS, route).observe(time.perf_counter() - started)


def prior_reader(state: ServiceState) -> Callable[[TransferRequest], PriorCounts]:
    """The ledger's counts before this transfer, read only (DESIGN section 5)."""
    ledger = state.use_ledger()
    return ledger.prior_counts


async def evaluate(http: Request, request: RequestBodyDoc, state: StateDep, _roles: Submitter,
                   lang: LanguageDep, as_of: AsOfQuery = None) -> Response:
    """The decision a submission would get now, with the exporter's recorded counts; nothing is
    written. `Accept-Language` puts that language first in every message."""
    started = time.perf_counter()
    engine = state.engine if as_of is None else await engine_for(http.app.state, state, as_of)
    decision = engine.evaluate(request, prior_reader(state)(request), as_of=as_of)
    count_decision(decision, "evaluate", started)
    return json_response(decision_json(decision, lang), lang)


router.add_api_route("", evaluate, methods=["POST"], response_model=Decision,
                     responses=responses(401, 403, 413, 422, 503),
                     summary="Decide a transfer without recording it (dry run)")
EVALUATE_ROUTE = next(route for route in router.routes if isinstance(route, APIRoute) and route.path == "/v1/evaluate")


class DryRunLane:
    """Pure ASGI, innermost (inside GuardMiddleware and CatchUpMiddleware): ``POST /v1/evaluate``'s
    common case answered without FastAPI's routing, dependency solving and exception middlewares.

    That machinery cost more per dry run than the whole validate-only reference does (solving the
    route's five dependencies about 100 us, the router and request wrappers about 45 us more, in
    process). For a request that would pass every dependency of ``evaluate`` (a key with the
    submitter role, ``Content-Type: application/json``, a body that validates, no query string) the
    lane reads the same headers, validates the same model and calls the same endpoint. Anything else
    (no key or a wrong one, a header sent twice, a bad body, ``?as_of=``, another content type), and
    any unexpected error while deciding, goes the standard way with the body untouched; an engine or
    ledger error (a database that is down) is answered by the app's own handler
    (``problems.baygate_problem``) rather than waited on twice. Every error answer is the app's own
    problem, and the OpenAPI is generated from the declared route.
    GuardMiddleware has read the body (``BODY_SCOPE_KEY``) and measures the request as before.
    """

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = scope.get(BODY_SCOPE_KEY)
        if (body is not None and scope["path"] == "/v1/evaluate" and scope["method"] == "POST"
                and not scope["query_string"] and not scope.get("root_path")):
            response: Response | None
            try:
                response = await _dry_run_common_case(scope, body, self.state)
            except BaygateError as exc:  # a database that is down: answered as the app's handler does,
                response = baygate_problem(exc)  # not waited on a second time the standard way
            except Exception:  # decided again the standard way, whose handlers answer (and log) it
                response = None
            if response is not None:
                scope["route"] = EVALUATE_ROUTE  # as the router would set it: metrics by route template
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _dry_run_common_case(scope: Scope, body: bytes, state: ServiceState) -> Response | None:
    """The answer to a request that passes every dependency of ``evaluate``, or None to go the
    standard way (which then gives the same answer or the problem FastAPI's checks give)."""
    authorization = content_type = language = None
    seen = 0
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"content-type":
            content_type = value
        elif name == b"accept-language":
            language = value.decode("latin-1")
        else:
            continue
        seen += 1
    if seen != (authorization is not None) + (content_type is not None) + (language is not None):
        return None  # one of them repeated: which copy counts is the standard way's to say
    if content_type != b"application/json":
        return None
    keys = state.settings.keys
    if keys.configured:
        roles = scope.get(ROLES_SCOPE_KEY)  # GuardMiddleware checked the key already
        if roles is None:
            key = bearer_key(authorization)
            roles = keys.roles_for(key) if key is not None else frozenset()
        if SUBMITTER not in roles:
            return None
    else:
        roles = ALL_ROLES
    try:
        # The standard way's own reading (loads_json, then Python-mode validation): pydantic's JSON
        # parser would be faster but lets the last of two duplicate keys win without a word. A body
        # this refuses goes the standard way, which names the problem (tests/http/test_fast_path).
        request = TransferRequest.model_validate(loads_json(body))
    except (ValueError, RecursionError):  # ValidationError and DuplicateKey are ValueErrors
        return None
    return await evaluate(Request(scope), request, state, roles, choose_language(language))


class BatchResponse(BaseModel):
    """One result per request, in order: a decision, or a problem (422) for a bad item."""

    results: list[Decision | Problem]


BATCH_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["requests"],
    "additionalProperties": False,
    "properties": {"requests": {"type": "array", "maxItems": 10_000, "minItems": 1,
                                "items": {"$ref": "#/components/schemas/TransferRequest"}}},
}


@router.post(
    "/batch", response_model=BatchResponse, responses=responses(401, 403, 413, 422, 503),
    summary="Decide many transfers at once (dry run)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": BATCH_BODY_SCHEMA,
        "examples": {"two_requests": {"summary": "Two planned flows, the second missing its safeguards",
                                      "value": {"requests": [EXAMPLE_REQUEST, EXAMPLE_NOTHING_IN_PLACE]}}},
    }}}},
)
async def evaluate_batch(http: Request, state: StateDep, _roles: Submitter, lang: LanguageDep,
                         as_of: AsOfQuery = None) -> Response:
    """`{"requests": [...]}` -> `{"results": [...]}`: one decision per request, in order; a bad item is
    answered in its place by a problem object (with its `index` and field paths) and the others are
    decided. More than 10,000 requests is refused whole with 413."""
    raw = await http.body()
    limit = state.settings.max_batch_items
    items: list[Any] | None = await run_in_threadpool(valid_batch, raw, limit)
    if items is None:
        items = parse_batch(raw, limit)
    engine = await engine_for(http.app.state, state, as_of)
    results = await run_in_threadpool(decide_batch, items, state, lang, as_of, engine)
    # One copy of what may be megabytes: the brackets joined onto the first and last results.
    results[0] = b'{"results":[' + results[0]
    results[-1] += b"]}"
    return json_response(b",".join(results), lang)


class _BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requests: list[TransferRequest]


_BATCH_BODY = TypeAdapter(_BatchBody)


def valid_batch(raw: bytes, limit: int) -> list[Any] | None:
    """The requests of a batch whose every item is valid, validated in one call; None for any other
    body, which then goes :func:`parse_batch` and is answered item by item (a bad item in its place)
    or refused whole. Read with ``loads_json`` (duplicate keys refused), not pydantic's JSON parser,
    which would let the last of two duplicate keys win without a word."""
    try:
        requests = _BATCH_BODY.validate_python(loads_json(raw)).requests
    except (ValueError, RecursionError):  # ValidationError and DuplicateKey are ValueErrors
        return None
    return list(requests) if 0 < len(requests) <= limit else None


def parse_batch(raw: bytes, limit: int) -> list[Any]:
    try:
        body = loads_json(raw)
    except DuplicateKey as exc:
        raise ProblemError(422, "bad-input", f"the body is not valid: {exc.problem()}",
                           errors=[{"path": exc.key, "message": exc.problem().message, "in": "body"}]) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProblemError(422, "bad-input", f"the body is not valid JSON: {exc}",
                           errors=[{"path": "", "message": "not valid JSON", "in": "body"}]) from None
    except RecursionError:
        raise ProblemError(422, "bad-input", "the body is nested too deeply",
                           errors=[{"path": "", "message": "nesting too deep", "in": "body"}]) from None
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list) or set(body) != {"requests"}:
        raise ProblemError(422, "bad-input", 'the body must be {"requests": [...]}',
                           errors=[{"path": "requests", "message": "a list of requests is required",
                                    "in": "body"}])
    items: list[Any] = body["requests"]
    if not items:
        raise ProblemError(422, "bad-input", "the list of requests is empty",
                           errors=[{"path": "requests", "message": "at least one request", "in": "body"}])
    if len(items) > limit:
        raise ProblemError(413, "too-large", f"{len(items)} requests in one batch; at most {limit}",
                           limit=limit)
    return items


def decide_batch(items: list[Any], state: ServiceState, lang: str, as_of: Any,
                 engine: Engine | None = None) -> list[bytes]:
    """Runs in a worker thread: a 10,000-item batch must not stall the event loop (health checks).
    ``engine``: the pack versions as of ``as_of`` (default: the ones being served)."""
    engine = engine or state.engine
    read_prior = prior_reader(state)
    cache: dict[tuple[Any, ...], PriorCounts] = {}
    kinds: dict[tuple[str, str], int] = {}
    seconds: list[float] = []
    results: list[bytes] = []
    decided = refused = 0
    for index, item in enumerate(items):
        started = time.perf_counter()
        if isinstance(item, TransferRequest):  # validated already (valid_batch)
            request = item
        elif not isinstance(item, dict):
            results.append(dumps({**input_problem([FieldProblem("", "a request must be an object")]),
                                  "index": index}))
            refused += 1
            continue
        else:
            try:
                request = TransferRequest.model_validate(item)
            except ValidationError as exc:
                results.append(dumps({**input_problem(problems_from_validation(exc)), "index": index}))
                refused += 1
                continue
        # Counts do not change within a dry-run batch, and they are the exporter's for the planned
        # date's year (and the one before; populations this year): one read per exporter and year.
        key = (request.exporter.id, request.planned_date.year)
        prior = cache.get(key)
        if prior is None:
            prior = cache[key] = read_prior(request)
        decision = engine.evaluate(request, prior, as_of=as_of)
        seconds.append(time.perf_counter() - started)
        kinds[(decision.outcome, decision.mechanism)] = kinds.get((decision.outcome, decision.mechanism), 0) + 1
        results.append(decision_json(decision, lang))
        decided += 1
    # Metrics once per batch (by outcome and mechanism), not once per item.
    for (outcome, mechanism), count in kinds.items():
        metrics.DECISIONS.labels(outcome, mechanism, "batch").inc(count)
    histogram = metrics.EVALUATION_SECONDS.labels("batch")
    for value in seconds:
        histogram.observe(value)
    metrics.BATCH_ITEMS.labels("decided").inc(decided)
    metrics.BATCH_ITEMS.labels("refused").inc(refused)
    return results

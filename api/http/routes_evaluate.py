"""Dry runs: ``POST /v1/evaluate`` and ``POST /v1/evaluate/batch``. Nothing is recorded.

A dry run reads the ledger's counts for the exporter (read only), so that it answers what a
submission would get now. When the database cannot be read the answer is 503, never a decision on
zero counts: a wrong "permitted" is worse than no answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from api.answers import Problem
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
from api.http.problems import ProblemError, baygate_problem, input_problem, problem_body, responses
from api.http.security import SUBMITTER
from api.http.strictjson import StrictJsonRoute
from engine.errors import BaygateError, FieldProblem, problems_from_validation
from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.inputs import DuplicateKey, has_duplicate_keys, loads_json
from engine.models import Decision, TransferRequest

log = logging.getLogger("baygate.http")
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
    # Everything that can fail for the whole batch (validation, the ledger's counts: a 503) happens
    # before the first byte; then the answer is streamed a chunk of decisions at a time, so a worker
    # holds one chunk's JSON, not the whole answer (7,000 items: 86 MB of JSON; a worker peaked at
    # 338 MB for one batch and 843 MB for four at once when the answer was built whole).
    prepared = await run_in_threadpool(prepare_batch, items, state)
    return StreamingResponse(_stream_batch(prepared, engine, lang, as_of), media_type="application/json",
                             headers={"Content-Language": lang, "Vary": "Accept-Language, Authorization"})


BATCH_CHUNK = 250
"""Decisions encoded per hop to the thread pool while streaming a batch answer."""


async def _stream_batch(prepared: PreparedBatch, engine: Engine, lang: str, as_of: Any) -> AsyncIterator[bytes]:
    yield b'{"results":['
    for start in range(0, len(prepared.items), BATCH_CHUNK):
        parts = await run_in_threadpool(decide_chunk, prepared, start, start + BATCH_CHUNK, engine, lang, as_of)
        yield (b"," if start else b"") + b",".join(parts)
    yield b"]}"


class _BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requests: list[TransferRequest]


_BATCH_BODY = TypeAdapter(_BatchBody)


def valid_batch(raw: bytes, limit: int) -> list[Any] | None:
    """The requests of a batch whose every item is valid, validated in one call; None for any other
    body, which then goes :func:`parse_batch` and is answered item by item (a bad item in its place)
    or refused whole (a duplicate key, named by its path)."""
    try:
        # pydantic's JSON parser builds only the models (the data tree of json.loads, as large again, is
        # never built), once has_duplicate_keys (which builds nothing) has ruled out its one leniency
        if has_duplicate_keys(raw):
            return None
        requests = _BATCH_BODY.validate_json(raw).requests
    except (ValueError, RecursionError):  # ValidationError is a ValueError
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


@dataclass
class PreparedBatch:
    """A batch ready to decide: each item a valid request or its problem's JSON, and the ledger's
    counts for every exporter and year in it (read before anything is sent)."""

    items: list[TransferRequest | bytes]
    priors: dict[tuple[str, int], PriorCounts]


def prepare_batch(items: list[Any], state: ServiceState) -> PreparedBatch:
    """Runs in a worker thread: validate the items that are not requests yet, and read the counts (one
    read per exporter and year: they do not change within a dry-run batch). A database that is down
    raises here, so the answer is a 503, not a stream broken half-way."""
    read_prior = prior_reader(state)
    ready: list[TransferRequest | bytes] = []
    priors: dict[tuple[str, int], PriorCounts] = {}
    refused = 0
    for index, item in enumerate(items):
        if isinstance(item, TransferRequest):  # validated already (valid_batch)
            request = item
        elif not isinstance(item, dict):
            ready.append(dumps({**input_problem([FieldProblem("", "a request must be an object")]), "index": index}))
            refused += 1
            continue
        else:
            try:
                request = TransferRequest.model_validate(item)
            except ValidationError as exc:
                ready.append(dumps({**input_problem(problems_from_validation(exc)), "index": index}))
                refused += 1
                continue
        key = (request.exporter.id, request.planned_date.year)
        if key not in priors:
            priors[key] = read_prior(request)
        ready.append(request)
    metrics.BATCH_ITEMS.labels("refused").inc(refused)
    return PreparedBatch(ready, priors)


def decide_chunk(prepared: PreparedBatch, start: int, stop: int, engine: Engine, lang: str,
                 as_of: Any) -> list[bytes]:
    """Runs in a worker thread: the answers of items ``start`` to ``stop``, in order. An item whose
    decision fails unexpectedly is answered in its place by a 500 problem (and logged), so the
    streamed JSON stays whole."""
    kinds: dict[tuple[str, str], int] = {}
    seconds: list[float] = []
    results: list[bytes] = []
    for index in range(start, min(stop, len(prepared.items))):
        item = prepared.items[index]
        if isinstance(item, bytes):
            results.append(item)
            continue
        started = time.perf_counter()
        try:
            decision = engine.evaluate(item, prepared.priors[(item.exporter.id, item.planned_date.year)],
                                       as_of=as_of)
            results.append(decision_json(decision, lang))
        except Exception as exc:
            log.error("batch item %d: %s", index, type(exc).__name__, exc_info=exc)
            results.append(dumps({**problem_body(500, "internal", "an internal error occurred; it was logged"),
                                  "index": index}))
            continue
        seconds.append(time.perf_counter() - started)
        kinds[(decision.outcome, decision.mechanism)] = kinds.get((decision.outcome, decision.mechanism), 0) + 1
    # Metrics once per chunk (by outcome and mechanism), not once per item.
    for (outcome, mechanism), count in kinds.items():
        metrics.DECISIONS.labels(outcome, mechanism, "batch").inc(count)
    histogram = metrics.EVALUATION_SECONDS.labels("batch")
    for value in seconds:
        histogram.observe(value)
    metrics.BATCH_ITEMS.labels("decided").inc(len(seconds))
    return results


def decide_batch(items: list[Any], state: ServiceState, lang: str, as_of: Any,
                 engine: Engine | None = None) -> list[bytes]:
    """The whole batch's answers at once (for callers in process; the route streams them)."""
    prepared = prepare_batch(items, state)
    return decide_chunk(prepared, 0, len(prepared.items), engine or state.engine, lang, as_of)

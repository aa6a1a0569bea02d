"""RFC 9457 problem details: the one place that turns errors into HTTP answers.

Every error the service gives is ``application/problem+json`` with a stable ``type`` (a URN built
from the engine's error code, so clients can switch on it), a ``title`` that never varies for a
type, a ``detail`` for this occurrence and, as extensions, ``code`` and what a client needs to fix the
input: ``errors`` (field paths) for a 422 on a request, ``issues`` (file, line, rule id) for a 422 on
rule packs. Batch items reuse :func:`problem_body` so a bad item reads like a bad single request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from api.answers import Problem
from api.http.problem_texts import localised_title, problem_language
from api.http.request_context import REQUEST_ID
from engine.errors import BaygateError, FieldProblem, InputError, RulePackError, field_path, friendly_message
from engine.evaluator import OptionError
from engine.inputs import DuplicateKey
from engine.ledger.errors import DatabaseUnavailable

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("baygate.http")

TITLES = {
    "bad-input": "The request is not a valid transfer request",
    "bad-rule-pack": "The rule packs are refused",
    "bad-option": "A pack option is not valid",
    "unauthenticated": "An API key is required",
    "forbidden": "This key's role may not use this route",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "reference-conflict": "This reference was already used with another request",
    "transfer-withdrawn": "This transfer was withdrawn; its decision no longer stands",
    "not-an-amendment": "Not an amendment: a change of parties, data or purpose is a new transfer",
    "ambiguous-reference": "Several exporters used this reference; give exporter_id",
    "too-large": "The request is too large",
    "database-unavailable": "The database is unavailable; nothing was written",
    "ledger-error": "The ledger failed",
    "ledger-integrity": "Ledger integrity: the running totals were changed outside the service; nothing was decided",
    "bad-totals-key": "The totals key file cannot be used",
    "ledger-out-of-date": "The ledger's schema is older than this version reads; upgrade it first",
    "signing-key-required": "This ledger's audit chain is signed; writing to it needs the signing key",
    "pack-content-unavailable": "The rule packs could not be stored for replay; nothing was recorded",
    "forbidden-client": "Without API keys the service answers this machine only",
    "bad-request": "Bad request",
    "bad-cursor": "The page cursor or page size is not valid",
    "unsupported-media-type": "The body must be JSON (Content-Type: application/json)",
    "idempotency-key-mismatch": "Idempotency-Key must equal the request's reference",
    "idempotency-key-not-used": "This route does not use Idempotency-Key",
    "internal": "Internal error",
}






class ProblemError(Exception):
    """Raised by routes and dependencies for an answer that is not a BaygateError from the engine."""

    def __init__(self, status: int, slug: str, detail: str | None = None,
                 headers: Mapping[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail or slug)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = extensions


def problem_body(status: int, slug: str, detail: str | None = None, **extensions: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:baygate:problem:{slug}",
        "title": localised_title(slug, TITLES.get(slug, slug.replace("-", " ").capitalize())),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["code"] = f"baygate.{slug}"
    body.update({key: value for key, value in extensions.items() if value is not None})
    return body


def problem_response(status: int, slug: str, detail: str | None = None,
                     headers: Mapping[str, str] | None = None, **extensions: Any) -> JSONResponse:
    return JSONResponse(problem_body(status, slug, detail, **extensions), status_code=status,
                        media_type=PROBLEM_MEDIA_TYPE,
                        headers={"Content-Language": problem_language(), **(headers or {})})


def field_errors(problems: list[FieldProblem], location: str = "body") -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message, "in": location} for p in problems]


def input_problem(problems: list[FieldProblem], location: str = "body", slug: str = "bad-input") -> dict[str, Any]:
    """The 422 body for a request that is not valid; also a batch item's answer in its place. ``slug``: a
    more precise type than bad-input (``not-an-amendment``), the input error's own code."""
    detail = "; ".join(str(p) for p in problems[:5]) + ("; ..." if len(problems) > 5 else "")
    return problem_body(422, slug, detail, errors=field_errors(problems, location))


def rule_pack_problem(error: RulePackError) -> dict[str, Any]:
    issues = [{"file": i.file, "line": i.line, "rule_id": i.rule_id, "message": i.message}
              for i in error.issues]
    detail = f"{len(issues)} error(s) in the rule packs; the set is refused whole: " + "; ".join(
        str(i) for i in error.issues[:3])
    return problem_body(422, "bad-rule-pack", detail, issues=issues)


def status_of(error: BaygateError) -> tuple[int, str]:
    """The ledger's errors carry their HTTP status (``http_status``); the slug is the stable code."""
    slug = error.code.removeprefix("baygate.")
    if isinstance(error, OptionError):
        return 422, slug
    return int(getattr(error, "http_status", 400)), slug


def _validation_problems(error: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for item in error.errors():
        location = tuple(item.get("loc", ()))
        where = str(location[0]) if location else "body"
        rest = tuple(part for part in location[1:] if not (isinstance(part, str) and "[" in part))
        message = friendly_message(item)
        if item.get("type") == "json_invalid":
            reason = item.get("ctx", {}).get("error", message)
            rest, message = (), f"the body is not valid JSON: {reason}"
        out.append({"path": field_path(rest), "message": message, "in": where})
    return out


def baygate_problem(exc: BaygateError) -> JSONResponse:
    """The answer to an engine or ledger error (a database that is down: 503 with Retry-After)."""
    if isinstance(exc, RulePackError):
        return JSONResponse(rule_pack_problem(exc), status_code=422, media_type=PROBLEM_MEDIA_TYPE,
                            headers={"Content-Language": problem_language()})
    if isinstance(exc, InputError):
        return JSONResponse(input_problem(exc.problems, slug=exc.code.removeprefix("baygate.")), status_code=422,
                            media_type=PROBLEM_MEDIA_TYPE,
                            headers={"Content-Language": problem_language()})
    status, slug = status_of(exc)
    headers = {"Retry-After": "5"} if status == 503 else {}
    detail = str(exc)
    if isinstance(exc, DatabaseUnavailable) and exc.public != detail:
        log.warning("%s", detail)  # the driver's words (host, port) for the operator, not for the caller
        detail = exc.public
    return problem_response(status, slug, detail, headers)


def install(app: FastAPI) -> None:
    """Register the handlers; after this no error leaves the service as anything but a problem."""

    async def on_problem(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc.status, exc.slug, exc.detail, exc.headers, **exc.extensions)

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_problems(exc)
        detail = "; ".join(f"{e['path'] or e['in']}: {e['message']}" for e in errors[:5])
        return problem_response(422, "bad-input", detail, errors=errors)

    async def on_baygate(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, BaygateError)
        return baygate_problem(exc)

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and isinstance(exc.__cause__, DuplicateKey):
            return JSONResponse(input_problem([exc.__cause__.problem()]), status_code=422,
                                media_type=PROBLEM_MEDIA_TYPE)
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError | RecursionError):
            # FastAPI's body reader turns these into a bare 400 "error parsing the body": name the problem
            why = ("is not valid UTF-8" if isinstance(exc.__cause__, UnicodeDecodeError)
                   else "is nested too deeply")
            return JSONResponse(input_problem([FieldProblem("", f"the body {why} (a JSON object is expected)")]),
                                status_code=422, media_type=PROBLEM_MEDIA_TYPE,
                                headers={"Content-Language": problem_language()})
        slugs = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}
        slug = slugs.get(exc.status_code, "bad-request")
        return problem_response(exc.status_code, slug, str(exc.detail), exc.headers)

    async def on_crash(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s (request_id=%s)", type(exc).__name__, REQUEST_ID.get(), exc_info=exc)
        return problem_response(500, "internal", "an internal error occurred; it was logged")

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(BaygateError, on_baygate)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}}
    for status, text in {
        401: "No API key, or an unknown one.",
        403: "The key's role may not use this route.",
        413: "The body is over the size limit.",
        422: "The input is not valid; `errors` lists the field paths.",
        503: "The database is unavailable; nothing was written.",
    }.items()
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem answers a route documents in the OpenAPI, beside its success answer."""
    extra = {404: "No such transfer.", 409: "The reference was already used with another request."}
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = PROBLEM_RESPONSES.get(status) or {
            "model": Problem, "description": extra.get(status, "A problem."),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}}
    return out


def dumps_problem(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

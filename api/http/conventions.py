"""HTTP conventions every route follows, in one pure ASGI middleware (outermost, so that every answer,
the other middlewares' problems included, follows them):

- ``X-Request-ID``: the caller's id (1-128 of ``A-Za-z0-9._:-``) or, when none or another is sent, a
  new one (``api.http.request_context.new_request_id``: unique, not a ULID); echoed on every answer,
  written in the access log and in the log of an internal error (``request_id=...``), so a caller, an
  operator and a log search name the same request.
- ``415`` for a body sent to the API (``/v1/``) as anything but JSON (``Content-Type`` other than
  ``application/json`` or ``application/*+json``); a request with no ``Content-Type`` is read as JSON,
  as before. The web page at ``/`` posts forms and is left alone.
- ``Idempotency-Key``: on ``POST /v1/transfers`` it must equal the body's ``reference`` (the route
  checks it: see :func:`check_idempotency_key`); anywhere else in the API it has no meaning and is refused (422)
  rather than silently ignored, so nobody believes a retry there is protected by it.
- The request's ``Accept-Language`` for problem details (api.http.problem_texts).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http import problems
from api.http.request_context import ACCEPT_LANGUAGE, REQUEST_ID, new_request_id

VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
IDEMPOTENT_ROUTES = frozenset({("POST", "/v1/transfers")})
"""Routes where ``Idempotency-Key`` means something (and is checked against the body)."""
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
API_PREFIX = "/v1/"
"""The JSON API: the conventions on bodies and keys hold there (the web page at / posts HTML forms)."""
JSON_TYPE = re.compile(rb"\s*application/(?:[\w.+-]+\+)?json\s*(?:;.*)?", re.IGNORECASE | re.DOTALL)


class RequestIdLogFilter(logging.Filter):
    """Gives log records the ``request_id`` of the request being answered (``%(request_id)s`` in a
    format). uvicorn writes its access line while the app sends the answer, inside the request's
    context, so the id there is this request's."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def logging_config() -> dict[str, Any]:
    """uvicorn's logging, with ``request_id=`` at the end of every access line and the service's own
    ``baygate.*`` records (internal errors, reloads) written beside uvicorn's, not dropped."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["request_id"] = {"()": f"{__name__}.RequestIdLogFilter"}
    config["formatters"]["access"]["fmt"] += " request_id=%(request_id)s"
    config["handlers"]["access"]["filters"] = ["request_id"]
    config["loggers"]["baygate"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


class ConventionsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = content_type = idempotency_key = accept_language = content_length = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value
            elif name == b"content-type":
                content_type = value
            elif name == b"accept-language":
                accept_language = value
            elif name == b"idempotency-key":
                idempotency_key = value
            elif name == b"content-length":
                content_length = value
        chosen = (request_id.decode("ascii") if request_id is not None and VALID_REQUEST_ID.fullmatch(request_id)
                  else new_request_id())
        REQUEST_ID.set(chosen)
        ACCEPT_LANGUAGE.set(accept_language.decode("latin-1") if accept_language is not None else None)
        echoed = (b"x-request-id", chosen.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        method, path = scope["method"], scope["path"]
        api = path.startswith(API_PREFIX)
        if (api and method in BODY_METHODS and content_type is not None and content_length != b"0"
                and content_type != b"application/json" and not JSON_TYPE.fullmatch(content_type)):
            await _problem(send_with_id, 415, "unsupported-media-type",
                           f"the body was sent as {content_type.decode('latin-1')[:80]!r}; send JSON with "
                           "Content-Type: application/json")
            return
        if api and idempotency_key is not None and (method, path) not in IDEMPOTENT_ROUTES:
            await _problem(send_with_id, 422, "idempotency-key-not-used",
                           "Idempotency-Key is used by POST /v1/transfers only, where it must equal the body's "
                           "reference; leave it out here", errors=[
                               {"path": "Idempotency-Key", "message": "not used by this route", "in": "header"}])
            return
        await self.app(scope, receive, send_with_id)


def check_idempotency_key(header: str | None, reference: str) -> None:
    """``POST /v1/transfers``: an ``Idempotency-Key`` header must equal the body's ``reference``, the key
    submissions are idempotent on (with the exporter id); a different one is refused, not ignored."""
    if header is not None and header != reference:
        raise problems.ProblemError(
            422, "idempotency-key-mismatch",
            f"Idempotency-Key {header[:128]!r} differs from the body's reference {reference!r}: submissions are "
            "idempotent on the reference (with the exporter id); send the reference as the key, or no key",
            errors=[{"path": "Idempotency-Key", "message": "must equal the body's reference", "in": "header"}])


async def _problem(send: Send, status: int, slug: str, detail: str, **extensions: Any) -> None:
    content = problems.dumps_problem(problems.problem_body(status, slug, detail, **extensions))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", problems.PROBLEM_MEDIA_TYPE.encode()),
                            (b"content-length", str(len(content)).encode())]})
    await send({"type": "http.response.body", "body": content})

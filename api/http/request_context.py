"""What the service knows about the request being answered, for code that is not handed the request:
its id (logs, problems) and its Accept-Language (problem titles). Set once per request by the
conventions middleware (api.http.conventions); each request runs in its own task, so its own copy."""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_ID: ContextVar[str] = ContextVar("baygate_request_id", default="-")
"""The id of the request being answered (``-`` outside one)."""

ACCEPT_LANGUAGE: ContextVar[str | None] = ContextVar("baygate_accept_language", default=None)
"""The request's Accept-Language header as sent (parsed only when a problem is built)."""

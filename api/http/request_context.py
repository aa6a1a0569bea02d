"""What the service knows about the request being answered, for code that is not handed the request:
its id (logs, problems) and its Accept-Language (problem titles). Set once per request by the
conventions middleware (api.http.conventions); each request runs in its own task, so its own copy."""

from __future__ import annotations

import itertools
import os
import secrets
from contextvars import ContextVar

REQUEST_ID: ContextVar[str] = ContextVar("baygate_request_id", default="-")
"""The id of the request being answered (``-`` outside one)."""

ACCEPT_LANGUAGE: ContextVar[str | None] = ContextVar("baygate_accept_language", default=None)
"""The request's Accept-Language header as sent (parsed only when a problem is built)."""


def _prefix() -> str:
    return secrets.token_hex(6) + "-"


_PREFIX = _prefix()
_NUMBERS = itertools.count(1)


def _fresh_prefix_after_fork() -> None:
    """A forked worker takes its own prefix: one inherited from the parent would repeat its ids."""
    global _PREFIX, _NUMBERS
    _PREFIX, _NUMBERS = _prefix(), itertools.count(1)


os.register_at_fork(after_in_child=_fresh_prefix_after_fork)


def new_request_id() -> str:
    """An id for a request that came without a usable one: 12 random hex digits drawn once per
    process, a dash and a number counting the process's requests (``3f9a1c2b7d4e-1a2``). Unique
    across workers and restarts (48 random bits a process), and cheap: a request id only has to
    name one request in the logs, so it is not a ULID (python-ulid's text encoding cost 4 us a
    request, as much as the rest of the conventions together). Decisions keep their ULIDs."""
    return _PREFIX + format(next(_NUMBERS), "x")

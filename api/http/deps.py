"""Typed dependencies: the service state, the caller's role, the language and the as-of day.

Dependencies are ``async def`` on purpose: a plain ``def`` dependency is run in the thread pool,
and a hop there costs more than checking a key or parsing a header.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Body, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.http.encode import OPENAPI_EXAMPLES
from api.http.languages import LANGUAGES as LANGUAGES  # re-exported: routes and pages import them from here
from api.http.languages import choose_language as choose_language
from api.http.problems import ProblemError
from api.http.security import AUDITOR, RULES_ADMIN, SUBMITTER
from api.http.settings import Settings
from engine.errors import InputError
from engine.evaluator import Engine
from engine.ledger import Ledger, upgrade
from engine.ledger.actors import LOOPBACK, SERVICE, Actor, check_reason, key_actor
from engine.models import TransferRequest
from engine.strict import IsoDate

BODY_SCOPE_KEY = "baygate.body"
"""Where GuardMiddleware leaves the request body it read (the bytes), for routes.DryRunLane."""

ROLES_SCOPE_KEY = "baygate.roles"
"""Where GuardMiddleware leaves the roles of the request's key (it has checked the key already)."""


@dataclass
class ServiceState:
    """What every request reads. ``engine`` is replaced whole by a reload (one attribute store, so a
    request sees the old pack set or the new one, never a mix); ``reload_lock`` keeps two reloads
    from building at once."""

    settings: Settings
    engine: Engine
    ledger: Ledger
    schema_ready: bool = False
    reload_lock: threading.Lock = field(default_factory=threading.Lock)
    _schema_lock: threading.Lock = field(default_factory=threading.Lock)

    def use_ledger(self) -> Ledger:
        """The ledger, once its schema is known current. A service that started while the database
        was down upgrades it on first use instead of failing every request until restarted; until
        then this raises DatabaseUnavailable (503)."""
        if not self.schema_ready:
            with self._schema_lock:
                if not self.schema_ready:
                    upgrade(self.ledger.sql_engine)
                    self.ledger.after_upgrade(Actor(SERVICE))
                    self.schema_ready = True
        return self.ledger


def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


async def _state(request: Request) -> ServiceState:
    return get_state(request)


StateDep = Annotated[ServiceState, Depends(_state)]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer KEY`.")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


ALL_ROLES = frozenset((SUBMITTER, AUDITOR, RULES_ADMIN))


def bearer_key(authorization: str | None) -> str | None:
    """The key of an ``Authorization: Bearer KEY`` header, read exactly as HTTPBearer(auto_error=False)
    reads it (scheme case-insensitive, the key stripped); None when there is none."""
    if not authorization:
        return None
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if not scheme or not key or scheme.lower() != "bearer":
        return None
    return key


def require(*roles: str) -> Callable[..., Awaitable[frozenset[str]]]:
    """A dependency that lets the request through when its key carries one of ``roles``.

    Without configured keys every caller is let through (the service then answers loopback only,
    see app.py); with ``roles`` empty any valid key will do (``/metrics``).
    """

    async def check(request: Request, credentials: BearerDep) -> frozenset[str]:
        keys = get_state(request).settings.keys
        if not keys.configured:
            return ALL_ROLES
        if credentials is None or not credentials.credentials:
            raise ProblemError(401, "unauthenticated", "send Authorization: Bearer KEY",
                               headers={"WWW-Authenticate": 'Bearer realm="baygate"'})
        held = keys.roles_for(credentials.credentials)
        if not held:
            raise ProblemError(401, "unauthenticated", "the key is not known",
                               headers={"WWW-Authenticate": 'Bearer realm="baygate", error="invalid_token"'})
        if roles and not held & set(roles):
            raise ProblemError(403, "forbidden", f"this route needs the role {' or '.join(roles)}")
        return held

    return check


Submitter = Annotated[frozenset[str], Depends(require(SUBMITTER))]
Auditor = Annotated[frozenset[str], Depends(require(AUDITOR))]
AuditorOrSubmitter = Annotated[frozenset[str], Depends(require(AUDITOR, SUBMITTER))]
RulesReader = Annotated[frozenset[str], Depends(require(AUDITOR, RULES_ADMIN))]
RulesAdmin = Annotated[frozenset[str], Depends(require(RULES_ADMIN))]
AnyKey = Annotated[frozenset[str], Depends(require())]


REASON_HEADER = "x-reason"


def reason_header(request: Request) -> str | None:
    """``X-Reason``: the reason recorded with the event a call causes. Read as UTF-8 (HTTP hands header
    bytes over as Latin-1), so a reason in Chinese arrives as written; a 422 names the header otherwise."""
    raw = request.headers.get(REASON_HEADER)
    if raw is None:
        return None
    try:
        return check_reason(raw.encode("latin-1").decode("utf-8"), "X-Reason")
    except UnicodeError:
        problem = "not UTF-8 text"
    except InputError as exc:
        problem = exc.problems[0].message
    raise ProblemError(422, "bad-input", f"X-Reason: {problem}",
                       errors=[{"path": "X-Reason", "message": problem, "in": "header"}])


async def _actor(request: Request) -> Actor:
    """Who is acting (recorded with every event the call causes): the API key's name, or ``loopback``
    when no keys are configured (the service then answers this machine only)."""
    keys = get_state(request).settings.keys
    reason = reason_header(request)
    if not keys.configured:
        return Actor(LOOPBACK, reason)
    key = bearer_key(request.headers.get("authorization"))
    caller = keys.identify(key) if key is not None else None
    if caller is None:  # the route's role check runs first and refuses such a call; kept for safety
        raise ProblemError(401, "unauthenticated", "send Authorization: Bearer KEY",
                           headers={"WWW-Authenticate": 'Bearer realm="baygate"'})
    return key_actor(caller.name, reason)


ActorDep = Annotated[Actor, Depends(_actor)]
"""The acting key's name and the X-Reason given, for routes that record an event."""


async def _language(request: Request) -> str:
    return choose_language(request.headers.get("accept-language"))


LanguageDep = Annotated[str, Depends(_language)]

AsOfQuery = Annotated[IsoDate | None, Query(
    description="Evaluate under the rule packs as they stood on this day (YYYY-MM-DD); default today. "
    "The packs' own `effective` dates still follow the transfer's planned_date.",
    examples=["2026-11-24"])]

RequestBodyDoc = Annotated[TransferRequest, Body(openapi_examples=OPENAPI_EXAMPLES)]
"""A transfer request body, documented with scenario-like examples in the OpenAPI."""

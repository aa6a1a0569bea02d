"""The application factory: one FastAPI app per process, built from Settings.

``create_app(settings)`` loads and compiles the rule packs (a bad set refuses to start), opens the
ledger (a database that is down at start-up does not: the service starts, says it is not ready, and
upgrades the schema on first use), and installs the problem handlers and three pure ASGI
middlewares: GuardMiddleware (guards, limits and measures every request), CatchUpMiddleware (rule
pack generations) and, innermost, routes_evaluate.DryRunLane (dry runs' common case).
``create_app_from_env`` is what uvicorn workers call.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.heap import settle_after_start_up
from api.http import metrics, problems
from api.http.accesslog import ACCESS_LOG_IDS_ENV, redact_access_log
from api.http.conventions import ConventionsMiddleware
from api.http.deps import BODY_SCOPE_KEY, ROLES_SCOPE_KEY, ServiceState, bearer_key
from api.http.lifecycle import RUN_DIR_ENV, CatchUpMiddleware, PackLifecycle, initial_pack_set
from api.http.problem_texts import problem_language
from api.http.problems import problem_body
from api.http.routes_amend import router as amend_router
from api.http.routes_audit import router as audit_router
from api.http.routes_bulk import router as bulk_router
from api.http.routes_decisions import router as decisions_router
from api.http.routes_evaluate import DryRunLane
from api.http.routes_evaluate import router as evaluate_router
from api.http.routes_health import router as health_router
from api.http.routes_rules import router as rules_router
from api.http.routes_transfers import router as transfers_router
from api.http.security import KeyRing, is_loopback
from api.http.settings import Settings
from api.web.mount import install as install_web
from engine.errors import BaygateError
from engine.evaluator import Engine
from engine.ledger import Ledger, upgrade
from engine.ledger.actors import SERVICE, Actor

log = logging.getLogger("baygate.http")

DESCRIPTION = """Decides whether a transfer of data between Shenzhen and Hong Kong may go ahead, on which
legal route, and what the parties must do, article by article.

Every route but `/healthz`, `/readyz` and the API docs needs `Authorization: Bearer KEY`; the key's
role decides the routes: `submitter` evaluates, submits and withdraws; `auditor` reads transfers (one,
the list and the decision log), counts, rules and the audit chain; `rules_admin` reads, validates and
reloads rules. `/metrics` takes a key of any of the three roles (Prometheus scrapes with its own key;
the figures carry no transfer data). Errors are RFC 9457 problem details (`application/problem+json`),
their `title` in the caller's language. `Accept-Language` (en, zh-Hans, zh-Hant; zh-CN, zh-TW, zh-HK)
puts that language first in every message.

Conventions: bodies are JSON (`Content-Type: application/json`; anything else is 415). `X-Request-ID`
(1-128 of `A-Za-z0-9._:-`) is echoed, or one is made, on every answer and written in the access log.
`Idempotency-Key` is taken by `POST /v1/transfers` only and must equal the body's `reference`, the key
submissions are idempotent on (422 otherwise; 422 on any other route)."""


def create_app(settings: Settings) -> FastAPI:
    # Under `baygate serve` the packs come from the published generation (api.http.lifecycle).
    pack_set, generations, generation, stamp = initial_pack_set(settings.rules_dir)
    engine = Engine(pack_set, settings.options)
    ledger = Ledger(settings.database_url, upgrade=False, rules_dirs=[settings.rules_dir])
    if generation is not None and generations is not None:
        ledger.rules_dirs.append(generations.root(generation))
    state = ServiceState(settings=settings, engine=engine, ledger=ledger)
    lifecycle = PackLifecycle(state, generations, generation, stamp)
    ledger.totals_key  # noqa: B018 -- an unusable totals key file stops the worker here (engine.ledger.seal)
    try:
        upgrade(ledger.sql_engine)
        # totals sealed, events an upgrade appended signed, before anything else is written
        ledger.after_upgrade(Actor(SERVICE))
        if ledger.unsealed_reason:
            log.error("%s: every decision is refused until `baygate db reseal` succeeds", ledger.unsealed_reason)
        state.schema_ready = True
        lifecycle.store(engine)  # the versions in use from now on, for as-of evaluation
    except BaygateError as exc:
        log.warning("database not reachable at start-up (%s); not ready until it is", exc)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        metrics.set_rules_digest(engine.digest)
        if not settings.keys.configured:
            log.warning("no API keys configured (BAYGATE_API_KEYS, BAYGATE_API_KEYS_FILE): every route is "
                        "open, so only loopback clients are answered")
        log.info("serving rule packs %s", engine.digest)
        settle_after_start_up()  # the collector out of the start-up heap's way (api.heap)
        try:
            yield
        finally:
            state.ledger.close()
            metrics.process_exit()

    # /docs and /redoc come from api.web with their assets served here, not from FastAPI's CDN defaults.
    # redirect_slashes=False: Starlette would answer /v1/evaluate/ with a redirect to an absolute URL built
    # from the request's Host header (an open redirect to wherever the caller says we are); a 404 instead.
    app = FastAPI(title="baygate", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, redirect_slashes=False)
    app.state.service = state
    app.state.lifecycle = lifecycle
    problems.install(app)
    for router in (evaluate_router, bulk_router, transfers_router, amend_router, decisions_router, audit_router,
                   rules_router, health_router):
        app.include_router(router)
    install_web(app)  # the page at / (routes only: no middleware, nothing on the API's requests)
    app.add_middleware(DryRunLane, state=state)
    app.add_middleware(CatchUpMiddleware, lifecycle=lifecycle)
    app.add_middleware(GuardMiddleware, max_body=settings.max_body_bytes, keys=settings.keys)
    app.add_middleware(ConventionsMiddleware)  # outermost: every answer carries X-Request-ID
    return app


def create_app_from_env() -> FastAPI:
    """uvicorn's factory for each worker process: everything comes from the environment.

    Under ``baygate serve`` (its run folder is set) the worker also dies with its supervisor."""
    if os.environ.get(RUN_DIR_ENV):
        from api.http.parentwatch import die_with_parent

        die_with_parent()
    if os.environ.get(ACCESS_LOG_IDS_ENV, "") != "1":
        redact_access_log()
    return create_app(Settings.from_env())


GUARDED_PREFIXES = ("/v1/", "/metrics")
"""Paths that need a key: every route but health, the API docs and the web page's own assets."""


class GuardMiddleware:
    """Pure ASGI (BaseHTTPMiddleware would cost a task per request), in this order: refuses non-loopback
    clients when no keys are configured; answers 401 to a caller without a valid key before anything
    of the request is read or parsed (the body's size, its JSON: no detail for a stranger); refuses
    bodies over the limit with 413 before the app reads them; answers HEAD on GET routes (as GET, the
    body left out); and measures latency by route template (never by raw path: ids would explode the
    label space). The roles of the key are left in the scope (``ROLES_SCOPE_KEY``) for the dry-run lane."""

    def __init__(self, app: ASGIApp, max_body: int, keys: KeyRing) -> None:
        self.app = app
        self.max_body = max_body
        self.keys = keys
        self.open_mode = not keys.configured

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_holder = [500]
        head = scope["method"] == "HEAD"

        async def send_counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
            elif head and message["type"] == "http.response.body" and message.get("body"):
                message = {**message, "body": b""}  # HEAD: the GET answer's headers, no body
            await send(message)

        try:
            client = scope.get("client")
            if self.open_mode and client and not is_loopback(str(client[0])):
                await _problem(send_counting, 403, "forbidden-client",
                               "no API keys are configured, so this service answers this machine only")
                return
            if not self.open_mode and scope["path"].startswith(GUARDED_PREFIXES):
                roles = self.keys.roles_for(key) if (key := bearer_key(_header(scope, b"authorization"))) else None
                if not roles:
                    await _problem(send_counting, 401, "unauthenticated",
                                   "the key is not known" if key else "send Authorization: Bearer KEY",
                                   headers=[(b"www-authenticate", b'Bearer realm="baygate", error="invalid_token"'
                                             if key else b'Bearer realm="baygate"')])
                    return
                scope[ROLES_SCOPE_KEY] = roles
            if head:
                scope = {**scope, "method": "GET"}
            if scope["method"] in ("POST", "PUT", "PATCH"):
                body = await self._read_body(scope, receive)
                if body is None:
                    await _problem(send_counting, 413, "too-large",
                                   f"the body is over {self.max_body} bytes", limit=self.max_body)
                    return
                scope[BODY_SCOPE_KEY] = body
                receive = _replay(body, receive)
            await self.app(scope, receive, send_counting)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            metrics.child(metrics.HTTP_SECONDS, method, template).observe(time.perf_counter() - started)
            metrics.child(metrics.HTTP_REQUESTS, method, template, str(status_holder[0])).inc()

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    if int(value) > self.max_body:
                        return None
                except ValueError:
                    return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of a header (as Starlette's ``Headers.get`` reads it), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the connection's own messages: a streamed answer listens for the
    client's disconnect, which must come when the client goes, not at once (it cut every stream)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _problem(send: Send, status: int, slug: str, detail: str,
                   headers: list[tuple[bytes, bytes]] | None = None, **extensions: Any) -> None:
    content = problems.dumps_problem(problem_body(status, slug, detail, **extensions))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", problems.PROBLEM_MEDIA_TYPE.encode()),
                            (b"content-language", problem_language().encode()),
                            (b"content-length", str(len(content)).encode()),
                            (b"connection", b"close"), *(headers or [])]})
    await send({"type": "http.response.body", "body": content})

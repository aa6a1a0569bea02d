"""Liveness, readiness and metrics: what orchestrators and Prometheus poll.

``/healthz`` says the process answers (no database call: a slow database must not get a live
process killed); ``/readyz`` says it can decide now (packs loaded and the database reachable), so a
load balancer stops sending work while the database is down.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api.http import metrics
from api.http.deps import AnyKey, StateDep
from api.http.problems import problem_response, responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    digest: str
    database: str


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process runs its event loop."""
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses=responses(503))
async def readyz(state: StateDep) -> Response:
    """Readiness: rule packs loaded and the database answers."""
    engine = state.engine
    try:
        await run_in_threadpool(lambda: state.use_ledger().ping())
    except Exception as exc:
        return problem_response(503, "database-unavailable", f"not ready: {type(exc).__name__}",
                                {"Retry-After": "5"})
    return JSONResponse(Ready(status="ready", digest=engine.digest, database="ok").model_dump())


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {"text/plain": {"schema": {"type": "string"}}},
          "description": "Prometheus text format."},
    **responses(401)})
async def metrics_route(_roles: AnyKey) -> Response:
    """Prometheus metrics: a key of any role (submitter, auditor or rules_admin) may read them; without
    configured keys the service answers loopback only. With several workers, all workers summed."""
    body, content_type = await run_in_threadpool(metrics.exposition)
    return Response(body, media_type=content_type)

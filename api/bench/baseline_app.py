"""The reference point of DESIGN section 9: a FastAPI endpoint that only validates a request-sized body
(a TransferRequest) and answers a small JSON, on the same uvicorn, one worker. ``baygate bench`` loads
it exactly like the real service, so the two figures are taken under the same machine conditions."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from engine.models import TransferRequest

app = FastAPI()


@app.post("/v1/evaluate")
async def validate_only(request: TransferRequest) -> Response:
    return Response(b'{"ok":true}', media_type="application/json")

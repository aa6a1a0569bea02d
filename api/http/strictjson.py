"""JSON bodies read as strictly as request files: a duplicate key is refused, not silently "last one
wins", and an integer of more than 4,300 digits becomes a field error rather than a 400 without a
field (``engine.inputs.loads_json``).

FastAPI reads a JSON body with ``Request.json()``; the routers of this service use
:class:`StrictJsonRoute` (FastAPI's documented way to give routes their own ``Request`` class), whose
requests parse with ``loads_json``. A duplicate key then ends FastAPI's body reading with a 400 whose
cause is ``DuplicateKey``, which ``problems`` answers as a 422 naming the key.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from engine.inputs import loads_json

_UNSET: Any = object()


class StrictJsonRequest(Request):
    """A Request whose ``json()`` refuses duplicate keys (and caches the result, as Starlette's does)."""

    _strict_json: Any = _UNSET

    async def json(self) -> Any:
        if self._strict_json is _UNSET:
            self._strict_json = loads_json(await self.body())
        return self._strict_json


class StrictJsonRoute(APIRoute):
    """An APIRoute whose handler receives a :class:`StrictJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler

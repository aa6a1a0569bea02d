"""uvicorn's HTTP/1.1 protocol with Nagle's algorithm off on every connection, whatever the socket.

With ``--workers`` above 1, uvicorn binds the listening socket in its parent with protocol number 0
and hands it to the workers; asyncio only sets TCP_NODELAY on sockets whose protocol is
IPPROTO_TCP, so every keep-alive response then waited for the client's delayed ACK: about 44 ms
per request, measured here. Setting the option ourselves costs one system call per connection.

The protocol is uvicorn's httptools one (a C parser) when httptools is installed, h11's otherwise:
on one worker the HTTP layer costs more than a decision, and httptools halves its share (measured by
``baygate bench``, docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # not fatal: only slower
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        _no_delay(transport)
        super().connection_made(transport)  # type: ignore[arg-type]


HTTP_PROTOCOL = "api.http.server:NoDelayH11Protocol"
"""What ``baygate serve`` gives uvicorn as ``http``."""

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency; h11 still works without it
    pass
else:
    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            _no_delay(transport)
            super().connection_made(transport)  # type: ignore[arg-type]

    HTTP_PROTOCOL = "api.http.server:NoDelayHttpToolsProtocol"

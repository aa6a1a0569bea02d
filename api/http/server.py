"""uvicorn's HTTP/1.1 protocol with Nagle's algorithm off on every connection, whatever the socket.

With ``--workers`` above 1, uvicorn binds the listening socket in its parent with protocol number 0
and hands it to the workers; asyncio only sets TCP_NODELAY on sockets whose protocol is
IPPROTO_TCP, so every keep-alive response then waited for the client's delayed ACK: about 44 ms
per request, measured here. Setting the option ourselves costs one system call per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):  # not fatal: only slower
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[arg-type]

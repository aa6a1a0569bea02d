"""uvicorn's HTTP/1.1 protocol with Nagle's algorithm off on every connection, whatever the socket.

With ``--workers`` above 1, uvicorn binds the listening socket in its parent with protocol number 0
and hands it to the workers; asyncio only sets TCP_NODELAY on sockets whose protocol is
IPPROTO_TCP, so every keep-alive response then waited for the client's delayed ACK: about 44 ms
per request, measured here. Setting the option ourselves costs one system call per connection.

The protocol is uvicorn's httptools one (a C parser) when httptools is installed, h11's otherwise:
on one worker the HTTP layer costs more than a decision, and httptools halves its share (measured by
``baygate bench``, docs/performance.md).

With httptools, a response's head and its body also leave in one ``write`` (uvicorn writes them
separately; see :class:`OneWriteTransport`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from api.http.settings import head_limits


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # not fatal: only slower
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        _no_delay(transport)
        super().connection_made(transport)  # type: ignore[arg-type]


_JOIN_AT_MOST = 64 * 1024
"""A body up to this size is joined to its head; a larger one (a batch answer) is written after it."""


class OneWriteTransport:
    """What one request's response is written through: the head (status line and headers) is held
    until the body follows and both go to the socket in one ``write``.

    uvicorn's httptools cycle writes the head and the body separately; with Nagle off each write is
    a system call and a TCP segment on its own, which wakes the client twice. Measured under wrk on
    this 2-core machine, the head's ``write`` alone was about 13% of the worker's samples (55% in the
    validate-only app). The head is held only until the next write, ``close``, or the next turn of the
    event loop (``call_soon``: a response whose body comes later, or a HEAD answer without one), so
    nothing waits longer than the current callback. Informational 1xx answers (``100 Continue``) are
    never held: the client waits for them before it sends the body.
    """

    __slots__ = ("_head_due", "_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._head_due = True
        """One transport per request cycle: the first write that is not a 1xx answer is the head."""

    def write(self, data: bytes) -> None:
        if self._held is not None:
            if len(data) > _JOIN_AT_MOST:  # a large body: copying it costs more than a second write
                self._transport.write(self._held)
                self._held = None
                self._transport.write(data)
                return
            data, self._held = self._held + data, None
        elif self._head_due and not data.startswith(b"HTTP/1.1 1"):
            self._head_due = False
            self._held = data
            self._loop.call_soon(self.flush)
            return
        self._transport.write(data)

    def flush(self) -> None:
        if self._held is not None:
            data, self._held = self._held, None
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, ...: the real transport's
        return getattr(self._transport, name)


HTTP_PROTOCOL = "api.http.server:NoDelayH11Protocol"
"""What ``baygate serve`` gives uvicorn as ``http``."""

HEAD_TIMEOUT, MAX_HEAD_BYTES = head_limits()


def _bare_answer(status: int, reason: str, text: str) -> bytes:
    body = text.encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode() + body

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency; h11 still works without it
    pass
else:
    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        """Also bounds how long and how large a request's head may be (uvicorn bounds neither: a client
        sending a header line every few seconds holds a connection forever, since each byte cancels
        the keep-alive timer). The head must be complete within ``HEAD_TIMEOUT`` seconds of the
        connection or of the request's first byte (else 408 and the connection is closed), and the
        request line and headers together may not pass ``MAX_HEAD_BYTES`` (else 431)."""

        _head_timer: asyncio.TimerHandle | None = None
        _head_deadline: float | None = None
        """When the head being read must be complete (loop time); None while no head is being read."""
        _head_bytes = 0
        _head_too_large = False

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            _no_delay(transport)
            super().connection_made(transport)  # type: ignore[arg-type]
            self._start_head()

        def connection_lost(self, exc: Exception | None) -> None:
            self._head_deadline = None
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            super().connection_lost(exc)

        def _start_head(self) -> None:
            """A head starts: note its deadline. One timer a connection checks it, armed only when
            none is pending, rather than a timer made and cancelled for every request (a keep-alive
            connection answering thousands of requests a second made and cancelled as many)."""
            self._head_bytes = 0
            self._head_deadline = deadline = self.loop.time() + HEAD_TIMEOUT
            if self._head_timer is None:
                self._head_timer = self.loop.call_at(deadline, self._check_head)

        def _check_head(self) -> None:
            self._head_timer = None
            deadline = self._head_deadline
            if deadline is None:
                return  # between requests: the next head arms the timer again
            if self.loop.time() < deadline:  # a later head than the one the timer was armed for
                self._head_timer = self.loop.call_at(deadline, self._check_head)
                return
            if not self.transport.is_closing():
                self._flush_held()
                self.transport.write(_bare_answer(408, "Request Timeout", "the request's head took too long"))
                self.transport.close()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._start_head()

        def on_url(self, url: bytes) -> None:
            self._head_bytes += len(url)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._head_too_large = True
                raise ValueError("request head too large")  # the parser stops; send_400_response answers
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._head_bytes += len(name) + len(value) + 4
            if self._head_bytes > MAX_HEAD_BYTES:
                self._head_too_large = True
                raise ValueError("request head too large")
            super().on_header(name, value)

        def send_400_response(self, msg: str) -> None:
            self._flush_held()
            if self._head_too_large:
                self._head_deadline = None
                self.transport.write(_bare_answer(431, "Request Header Fields Too Large",
                                                  f"the request line and headers are over {MAX_HEAD_BYTES} bytes"))
                self.transport.close()
                return
            super().send_400_response(msg)

        _recent: tuple[OneWriteTransport, ...] = ()

        def on_headers_complete(self) -> None:
            self._head_deadline = None
            super().on_headers_complete()
            cycle = self.cycle
            if cycle is not None and not isinstance(cycle.transport, OneWriteTransport):
                wrapper = OneWriteTransport(cycle.transport, self.loop)
                cycle.transport = wrapper  # type: ignore[assignment]
                self._recent = (*self._recent[-1:], wrapper)

        def _flush_held(self) -> None:
            """The protocol itself writes to and closes the socket in a few places (a malformed
            pipelined request's 400, a graceful shutdown, a keep-alive timeout): a head a wrapper still
            holds (a response without a body, until the next turn of the loop) must leave first."""
            for wrapper in self._recent:
                wrapper.flush()

        def shutdown(self) -> None:
            self._flush_held()
            super().shutdown()

        def timeout_keep_alive_handler(self) -> None:
            self._flush_held()
            super().timeout_keep_alive_handler()

    HTTP_PROTOCOL = "api.http.server:NoDelayHttpToolsProtocol"

"""api.http.server.OneWriteTransport: a response's head and body leave in one write, in order, and
nothing is held past the current turn of the event loop."""

from __future__ import annotations

import asyncio
from typing import Any

from api.http.server import OneWriteTransport


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"info:{name}"


def _with_loop(test: Any) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(test(loop))
    finally:
        loop.close()


def test_head_and_body_leave_in_one_write() -> None:
    async def run(loop: asyncio.AbstractEventLoop) -> None:
        real = FakeTransport()
        transport = OneWriteTransport(real, loop)  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        assert real.writes == []
        transport.write(b"{}")
        assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
        transport.write(b"more")  # later writes of the same response go straight through
        await asyncio.sleep(0)
        assert real.writes[1:] == [b"more"]

    _with_loop(run)


def test_a_head_alone_leaves_on_the_next_turn_of_the_loop() -> None:
    """A HEAD answer (no body write), or a body that comes later: the head is not held longer."""
    async def run(loop: asyncio.AbstractEventLoop) -> None:
        real = FakeTransport()
        transport = OneWriteTransport(real, loop)  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        await asyncio.sleep(0)
        assert real.writes == [b"HTTP/1.1 200 OK\r\n\r\n"]
        transport.write(b"HTTP/1.1 200 body that looks like a head")  # only the first write is the head
        assert real.writes[1:] == [b"HTTP/1.1 200 body that looks like a head"]

    _with_loop(run)


def test_100_continue_is_never_held_and_close_flushes_first() -> None:
    async def run(loop: asyncio.AbstractEventLoop) -> None:
        real = FakeTransport()
        transport = OneWriteTransport(real, loop)  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        assert real.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
        transport.write(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
        transport.close()
        assert real.writes[1:] == [b"HTTP/1.1 500 Internal Server Error\r\n\r\n"] and real.closed
        assert transport.is_closing() and transport.get_extra_info("peername") == "info:peername"
        await asyncio.sleep(0)  # the scheduled flush finds nothing left to write
        assert len(real.writes) == 2

    _with_loop(run)


def test_a_large_body_follows_its_head_without_being_copied() -> None:
    """A batch answer of megabytes: joining it to the head would copy it; it is written after it."""
    async def run(loop: asyncio.AbstractEventLoop) -> None:
        real = FakeTransport()
        transport = OneWriteTransport(real, loop)  # type: ignore[arg-type]
        head, body = b"HTTP/1.1 200 OK\r\n\r\n", b"x" * (1024 * 1024)
        transport.write(head)
        transport.write(body)
        assert real.writes == [head, body] and real.writes[1] is body
        await asyncio.sleep(0)
        assert real.writes == [head, body]  # nothing left to flush

    _with_loop(run)


def test_a_held_head_leaves_before_the_protocol_closes_the_connection() -> None:
    """uvicorn's protocol closes the socket itself on a graceful shutdown or a keep-alive timeout; a
    head still held (a response without a body, until the next turn of the loop) must leave first."""
    from api.http.server import NoDelayHttpToolsProtocol

    for ending in ("shutdown", "timeout_keep_alive_handler"):
        async def run(loop: asyncio.AbstractEventLoop, ending: str = ending) -> None:
            real = FakeTransport()
            wrapper = OneWriteTransport(real, loop)  # type: ignore[arg-type]
            wrapper.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            protocol = object.__new__(NoDelayHttpToolsProtocol)  # only what these two methods read
            protocol.cycle = None
            protocol.transport = real  # type: ignore[assignment]
            protocol._recent = (wrapper,)
            getattr(protocol, ending)()
            assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"] and real.closed, ending

        _with_loop(run)

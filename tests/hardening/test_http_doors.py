"""HTTP (issue 18, point 6), through ``baygate serve`` on loopback: no redirect built from the Host
header, HEAD on GET routes, a bounded time and size for a request's head, a 503 that names no host or
port, access logs without ids, and 401 before any detail of the request is looked at.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.http.accesslog import redact_path
from tests.hardening.conftest import Server, dumps, good_request, start_server
from tests.http.conftest import free_port

HEAD_SECONDS = 2


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a short head timeout, to see it act within the test."""
    tmp = tmp_path_factory.mktemp("http-doors")
    running = start_server(tmp, f"sqlite:///{tmp / 'ledger.db'}",
                           extra_env={"BAYGATE_HEADER_TIMEOUT_SECONDS": str(HEAD_SECONDS)})
    yield running
    running.stop()


def _raw(server: Server, data: bytes, *, wait: float = 30) -> bytes:
    """Send bytes on a fresh connection; everything answered until the server closes it."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_trailing_slash_is_not_redirected_to_the_callers_host(tight: Server) -> None:
    client = tight.client("submitter", Host="evil.example")
    for method, path in (("POST", "/v1/evaluate/"), ("GET", "/v1/rules/"), ("GET", "/healthz/")):
        answer = client.request(method, path, json=good_request(), follow_redirects=False)
        assert answer.status_code == 404, (path, answer.status_code, answer.headers)
        assert "location" not in answer.headers and "evil.example" not in answer.text


def test_head_answers_on_get_routes_without_a_body(tight: Server) -> None:
    auditor = tight.client("auditor")
    for path in ("/healthz", "/v1/rules", "/openapi.json"):
        got, head = auditor.get(path), auditor.head(path)
        assert head.status_code == got.status_code == 200, (path, head.status_code)
        assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]
    assert tight.client().head("/v1/rules").status_code == 401  # guarded as GET is
    assert auditor.head("/v1/evaluate").status_code == 405  # a POST route


def test_401_comes_before_any_detail_of_the_request(tight: Server) -> None:
    for client in (tight.client(), tight.client(Authorization="Bearer " + "w" * 32)):
        for body in (b"{", b'{"reference": 1, "reference": 2}', b"x" * 6_000_000):
            answer = client.post("/v1/evaluate", content=body, headers={"Content-Type": "application/json"})
            assert answer.status_code == 401, (answer.status_code, answer.text[:200])
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert "json" not in answer.text.lower() and "bytes" not in answer.text
    assert tight.client().get("/healthz").status_code == 200  # health needs no key


def test_a_slow_head_is_cut_off(tight: Server) -> None:
    host, port = tight.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        reset = False
        for _ in range(30):  # a header line a second: each byte used to keep the connection open
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
            sock.settimeout(1)
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                continue
            except ConnectionResetError:
                # The server answered 408 and closed while a header line was in flight: the kernel
                # answers that line with a reset, which discards the unread 408. Still a cut-off.
                reset = True
                break
            if not chunk:
                break
            answer += chunk
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408") or (reset and elapsed >= HEAD_SECONDS - 1), (answer[:200], elapsed)
    assert elapsed < HEAD_SECONDS + 10
    assert tight.client().get("/healthz").status_code == 200  # the cut-off did not take the server down
    idle = _raw(tight, b"", wait=HEAD_SECONDS + 10)  # a connection that never sends a byte
    assert idle.startswith(b"HTTP/1.1 408"), idle[:200]


def test_a_slow_head_after_a_quick_request_on_the_same_connection_is_cut_off(tight: Server) -> None:
    """The head deadline is per request, not per connection: after a first request answered at once,
    a second head sent slowly on the same keep-alive connection gets its own HEAD_SECONDS, then 408
    (one timer a connection checks the deadline of whichever head is being read)."""
    host, port = tight.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=HEAD_SECONDS + 10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200"), first[:200]
        time.sleep(HEAD_SECONDS * 0.75)  # the first request's deadline would fall inside the second head
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        answer = b""
        while not answer.endswith(b"too long"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert HEAD_SECONDS - 0.5 <= elapsed < HEAD_SECONDS + 5, elapsed  # its own deadline, not the first's


def test_an_oversized_head_is_refused(tight: Server) -> None:
    answer = _raw(tight, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert _raw(tight, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200")


def test_access_log_leaves_ids_out(tight: Server) -> None:
    marker = "REF-SECRET-" + str(time.time_ns())
    tight.client("auditor").get(f"/v1/transfers/{marker}", params={"exporter_id": "EXPORTER-SECRET"})
    time.sleep(0.5)
    log = tight.log_text()
    assert "/v1/transfers/{id}?exporter_id=…" in log
    assert marker not in log and "EXPORTER-SECRET" not in log
    assert redact_path("/v1/exporters/914403/counts?year=2026") == "/v1/exporters/{id}/counts?year=…"
    assert redact_path("/v1/transfers/batch") == "/v1/transfers/batch"


def test_a_503_names_no_host_or_port(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    server = start_server(tmp_path, f"postgresql://baygate:pw@127.0.0.1:{port}/ledger")
    try:
        answer = server.client("submitter").post("/v1/transfers", content=dumps(good_request()),
                                                  headers={"Content-Type": "application/json"})
        assert answer.status_code == 503 and answer.headers["retry-after"]
        assert str(port) not in answer.text and "127.0.0.1" not in answer.text, answer.text
        assert str(port) in server.log_text()  # the operator still has the reason
    finally:
        server.stop()


def test_a_batch_answer_is_streamed_whole(tight: Server) -> None:
    """Point 4: the answer leaves in chunks as it is decided (a worker holds one chunk's JSON, not the
    whole answer); every item is there, in order, and the JSON is whole."""
    items = [good_request() for _ in range(600)] + [{"purpose": "espionage"}]
    answer = tight.client("submitter").post("/v1/evaluate/batch", json={"requests": items})
    assert answer.status_code == 200 and answer.headers.get("transfer-encoding") == "chunked", answer.headers
    assert "content-length" not in answer.headers
    results = answer.json()["results"]
    assert len(results) == 601 and [r["reference"] for r in results[:600]] == [i["reference"] for i in items[:600]]
    assert results[600]["status"] == 422 and results[600]["index"] == 600

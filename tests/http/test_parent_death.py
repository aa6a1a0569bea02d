"""Workers die with their supervisor: a SIGKILL of `baygate serve` leaves nothing answering."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from tests.http.conftest import start_server


def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    server = start_server(tmp_path, f"sqlite:///{tmp_path}/ledger.db", workers=2)
    try:
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        deadline = time.monotonic() + 20
        answering = True
        while answering and time.monotonic() < deadline:
            try:
                httpx.get(f"{server.url}/healthz", timeout=1)
                time.sleep(0.2)
            except httpx.TransportError:
                answering = False
        assert not answering, "a worker kept serving after its supervisor was killed"
    finally:
        server.stop()

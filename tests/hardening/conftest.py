"""Shared parts of the hardening tests (issue 10): real servers, real CLI processes, real databases.

The servers are the HTTP suite's (``tests/http/conftest.py``: ``baygate serve`` in a subprocess on a
free loopback port, SQLite or the throwaway PostgreSQL cluster); the CLI runs as ``baygate`` would, in
a fresh interpreter, so a traceback or a wrong exit status shows as it would to a user.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.http.encode import EXAMPLE_REQUEST
from tests.http.conftest import KEYS, Server, start_server

ROOT = Path(__file__).resolve().parents[2]


def good_request(**overrides: Any) -> dict[str, Any]:
    """A valid request (the OpenAPI example) under a fresh reference and exporter."""
    body = copy.deepcopy(EXAMPLE_REQUEST)
    body["reference"] = "H-" + uuid.uuid4().hex[:12]
    body["exporter"]["id"] = "9144" + uuid.uuid4().hex[:14].upper()
    body.update(overrides)
    return body


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def cli_env(database_url: str | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    # The session's totals key stays (tests/conftest.py): a ledger the test wrote is sealed with it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAYGATE_") or k == "BAYGATE_TOTALS_KEY_FILE"}
    env["BAYGATE_RULES"] = str(ROOT / "rules")
    if database_url:
        env["BAYGATE_DATABASE_URL"] = database_url
    env.update(extra or {})
    return env


def run_cli(*args: str, cwd: Path, database_url: str | None = None, stdin: bytes | None = None,
            timeout: float = 60, env: dict[str, str] | None = None) -> CliResult:
    """``baygate ARGS`` in a fresh interpreter, as a user runs it."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "from api.cli import main; main()", *args], cwd=cwd,
                          env=cli_env(database_url, env), input=stdin, capture_output=True, timeout=timeout)
    return CliResult(done.returncode, done.stdout.decode("utf-8", "replace"),
                     done.stderr.decode("utf-8", "replace"), time.perf_counter() - started)


def audit_events(server: Server) -> int:
    """The number of events in the server's audit chain (and that the chain verifies)."""
    with server.client("auditor") as client:
        report = client.get("/v1/audit/verify").json()
    assert report["ok"], report
    return int(report["events"])


@dataclass
class InProcess:
    """The service's ASGI app in this process (Starlette's TestClient runs its lifespan): every route,
    middleware and handler as uvicorn serves them, without a process or a socket per test."""

    client: Any
    keys: dict[str, str]
    database_url: str

    def headers(self, role: str | None = None, **extra: str) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        return {**auth, **extra}


@pytest.fixture(scope="session")
def inprocess(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    import warnings

    from api.http.app import create_app
    from api.http.security import keys_from
    from api.http.settings import Settings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's note on httpx versions
        from fastapi.testclient import TestClient
    tmp = tmp_path_factory.mktemp("inprocess")
    url = f"sqlite:///{tmp / 'ledger.db'}"
    settings = Settings(rules_dir=ROOT / "rules", database_url=url, keys=keys_from(KEYS.items()))
    with TestClient(create_app(settings)) as client:
        yield InProcess(client, dict(KEYS), url)


@pytest.fixture(scope="session")
def hserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with keys on a SQLite ledger, shared by the hardening tests that do not break it."""
    tmp = tmp_path_factory.mktemp("hardening-main")
    running = start_server(tmp, f"sqlite:///{tmp / 'ledger.db'}")
    yield running
    running.stop()


def dumps(body: Any) -> bytes:
    return json.dumps(body).encode()


__all__ = ["KEYS", "CliResult", "InProcess", "Server", "audit_events", "dumps", "good_request", "run_cli",
           "start_server"]

"""Real servers for the HTTP tests: ``baygate serve`` in a subprocess on a free loopback port.

Nothing is mocked: the tests speak HTTP (httpx) to uvicorn running the real engine, ledger and rule
packs, on SQLite files and, when the shared ``postgres_url`` fixture (tests/conftest.py) can start
one, PostgreSQL. Each server gets its own copy of ``rules/`` so a test may break a pack on disk.
"""

from __future__ import annotations

import copy
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.http.encode import EXAMPLE_REQUEST

ROOT = Path(__file__).resolve().parents[2]
SUBMITTER_KEY = "sub-" + "s" * 28
AUDITOR_KEY = "aud-" + "a" * 28
ADMIN_KEY = "adm-" + "r" * 28
KEYS = {"submitter": SUBMITTER_KEY, "auditor": AUDITOR_KEY, "rules_admin": ADMIN_KEY}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running ``baygate serve``; ``client(role)`` sends that role's key."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    rules: Path
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, role: str | None = None, **headers: str) -> httpx.Client:
        if role is not None:
            headers["Authorization"] = f"Bearer {KEYS[role]}"
        client = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        self.clients.append(client)
        return client

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        for client in self.clients:
            client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


START_SECONDS = 120
"""A guard against a server that never starts, not a timing: a worker compiles the packs at start-up, which
took close to 30 s on the shared 2-core machine at load 12."""


def start_server(tmp: Path, database_url: str, *, keys: bool = True, workers: int = 1,
                 extra_env: dict[str, str] | None = None) -> Server:
    """Start a server and wait for /healthz; keys: submitter and auditor from the environment,
    rules_admin from a key file (so both sources are exercised)."""
    tmp.mkdir(parents=True, exist_ok=True)
    rules = tmp / "rules"
    shutil.copytree(ROOT / "rules", rules)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BAYGATE_", "PROMETHEUS_MULTIPROC_DIR"))}
    env["BAYGATE_RULES"] = str(rules)
    env["BAYGATE_DATABASE_URL"] = database_url
    if keys:
        key_file = tmp / "keys"
        key_file.write_text(f"# rules administrators\nrules_admin={ADMIN_KEY}\n", encoding="utf-8")
        env["BAYGATE_API_KEYS"] = f"submitter={SUBMITTER_KEY},auditor={AUDITOR_KEY}"
        env["BAYGATE_API_KEYS_FILE"] = str(key_file)
    env.update(extra_env or {})
    port = free_port()
    log = tmp / f"server-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port),
             "--workers", str(workers), "--grace", "20"],
            cwd=tmp, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, log, rules)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_text()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"server did not answer /healthz in {START_SECONDS} s:\n{server.log_text()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The main server: keys configured, SQLite."""
    tmp = tmp_path_factory.mktemp("http-main")
    running = start_server(tmp, f"sqlite:///{tmp / 'ledger.db'}")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def sqlite_ledger_server(server: Server) -> Server:
    return server


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str) -> Iterator[Server]:
    from engine.ledger.pgcluster import create_database, drop_database

    url = create_database(postgres_admin_url)
    running = start_server(tmp_path_factory.mktemp("http-pg"), url)
    yield running
    running.stop()
    drop_database(postgres_admin_url, url)


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_server(request: pytest.FixtureRequest) -> Server:
    """The routes that write run on both databases."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_server")  # type: ignore[no-any-return]
    return request.getfixturevalue("server")  # type: ignore[no-any-return]


def make_request(exporter_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The OpenAPI example (shared scenario gba-01) under a fresh reference and, unless given, a fresh
    exporter, so tests sharing a server never see each other's counts."""
    body = copy.deepcopy(EXAMPLE_REQUEST)
    body["reference"] = "T-" + uuid.uuid4().hex[:12]
    body["exporter"]["id"] = exporter_id or "9144" + uuid.uuid4().hex[:14].upper()
    body.update(overrides)
    return body

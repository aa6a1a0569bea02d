"""The service as operators meet it: health, readiness, metrics (one worker and several), a database
that is down, running without keys, and graceful shutdown."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.conftest import ROOT, Server, make_request, start_server

PROBLEM = "application/problem+json"


def test_health_and_readiness(server: Server) -> None:
    client = server.client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["database"] == "ok" and ready["digest"].startswith("sha256:")


def test_metrics_count_decisions_latency_submissions(server: Server) -> None:
    submitter = server.client("submitter")
    submitter.post("/v1/evaluate", json=make_request())
    submitter.post("/v1/transfers", json=make_request())
    text = server.client("auditor").get("/metrics").text
    for name in ("baygate_decisions_total{", "baygate_evaluation_duration_seconds_bucket{",
                 "baygate_http_request_duration_seconds_bucket{", "baygate_http_requests_total{",
                 'baygate_submissions_total{result="recorded"}', "baygate_rules_info{digest=\"sha256:",
                 "baygate_rules_reloads_total", "baygate_rules_reload_failures_total"):
        assert name in text, name
    assert re.search(r'baygate_decisions_total\{mechanism="standard_contract",outcome="permitted",'
                     r'route="evaluate"\} [1-9]', text)
    assert 'route="/v1/transfers/{transfer_id}"' in text or "/v1/evaluate" in text


def test_metrics_aggregate_over_workers(tmp_path: Path) -> None:
    running = start_server(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}", workers=2)
    try:
        requests = 40
        for _ in range(requests):  # a new connection each time, so both workers get some
            with httpx.Client(base_url=running.url, headers={"Authorization": "Bearer " + "sub-" + "s" * 28}) as c:
                assert c.post("/v1/evaluate", json=make_request()).status_code == 200
        text = running.client("auditor").get("/metrics").text
        total = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                    if line.startswith("baygate_decisions_total{") and 'route="evaluate"' in line)
        assert total == requests
        assert len(re.findall(r"^baygate_rules_info\{", text, re.M)) == 1
    finally:
        assert running.stop() in (0, -signal.SIGTERM)


@pytest.fixture(scope="module")
def down_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose database cannot be opened (a SQLite file in a folder that does not exist)."""
    tmp = tmp_path_factory.mktemp("http-down")
    running = start_server(tmp, f"sqlite:///{tmp / 'missing-folder' / 'ledger.db'}")
    yield running
    running.stop()


def test_database_down_is_503_and_writes_nothing(down_server: Server) -> None:
    assert down_server.client().get("/healthz").status_code == 200
    ready = down_server.client().get("/readyz")
    assert ready.status_code == 503 and ready.headers["content-type"] == PROBLEM
    submitter, auditor = down_server.client("submitter"), down_server.client("auditor")
    for answer in (submitter.post("/v1/transfers", json=make_request()),
                   submitter.post("/v1/evaluate", json=make_request()),
                   submitter.post("/v1/evaluate/batch", json={"requests": [make_request()]}),
                   auditor.get("/v1/transfers/X"), auditor.get("/v1/audit/verify")):
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["type"] == "urn:baygate:problem:database-unavailable"
    assert auditor.get("/v1/rules").status_code == 200  # what needs no database still answers


def test_without_keys_serve_refuses_a_public_host(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", "from api.cli import main; main()", "serve", "--host",
                             "0.0.0.0", "--port", "1"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 3
    assert "loopback only" in result.stderr


def test_without_keys_loopback_is_open_and_shutdown_is_graceful(tmp_path: Path) -> None:
    running = start_server(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}", keys=False)
    try:
        assert "no API keys configured" in running.log_text()
        client = running.client()
        assert client.post("/v1/evaluate", json=make_request()).status_code == 200
        assert client.get("/metrics").status_code == 200
        # a batch in flight when SIGTERM arrives is finished, then the process exits cleanly
        big = {"requests": [make_request() for _ in range(1500)]}
        answers: list[httpx.Response] = []
        sender = threading.Thread(target=lambda: answers.append(client.post("/v1/evaluate/batch", json=big)))
        sender.start()
        time.sleep(0.3)  # the batch is being decided (1,500 items take about a second)
        running.process.send_signal(signal.SIGTERM)
        sender.join(60)
        assert answers and answers[0].status_code == 200 and len(answers[0].json()["results"]) == 1500
        # uvicorn re-raises the signal once it has shut down gracefully: "killed by SIGTERM", after finishing
        assert running.process.wait(30) in (0, -signal.SIGTERM)
        assert "Finished server process" in running.log_text()
    finally:
        running.stop()

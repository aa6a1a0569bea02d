"""Faults (issue 10, points 4 and 5): PostgreSQL stopped during a run of submissions, SQLite held
busy by another connection, and ``kill -9`` of the server in a burst of submissions.

Whatever happens, the ledger must not be half-written: the audit chain verifies, and each exporter's
counts equal the sum of its recorded, counted transfers (read back one by one over HTTP).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.ledger.pgcluster import Cluster, ClusterUnavailable, as_postgres, create_database, start_cluster
from tests.hardening.conftest import Server, dumps, good_request, run_cli, start_server

EXPORTERS = ["9144FAULT0000000A", "9144FAULT0000000B", "9144FAULT0000000C"]


def _submit(client: httpx.Client, body: dict[str, Any]) -> int:
    try:
        return client.post("/v1/transfers", json=body, timeout=30).status_code
    except httpx.TransportError:
        return -1


def _check_ledger(server: Server, attempted: list[dict[str, Any]]) -> dict[str, int]:
    """Audit chain verifies; counts per exporter equal the recorded, counted transfers. Returns how many
    of the attempted references were recorded."""
    auditor = server.client("auditor")
    report = auditor.get("/v1/audit/verify").json()
    assert report["ok"], report
    expected: dict[tuple[str, int], int] = {}
    recorded = 0
    for body in attempted:
        answer = auditor.get(f"/v1/transfers/{body['reference']}", params={"exporter_id": body["exporter"]["id"]})
        assert answer.status_code in (200, 404), answer.text
        if answer.status_code == 404:
            continue
        recorded += 1
        record = answer.json()
        counts = record["decision"]["counts"]
        key = (body["exporter"]["id"], counts["year"])
        added = counts["personal_subjects_after"] - counts["personal_subjects_before"] if record["counted"] else 0
        expected[key] = expected.get(key, 0) + added
    for (exporter, year), subjects in expected.items():
        counts = auditor.get(f"/v1/exporters/{exporter}/counts", params={"year": year}).json()
        assert counts["personal_subjects"] == subjects, (exporter, counts, subjects)
    return {"recorded": recorded, "events": int(report["events"])}


def _burst_body(index: int) -> dict[str, Any]:
    body = good_request(reference=f"F-{index:05d}-{time.monotonic_ns() % 10**9}")
    body["exporter"]["id"] = EXPORTERS[index % len(EXPORTERS)]
    body["data"][0]["subjects"] = 100 + index
    return body


# ------------------------------------------------------------------ PostgreSQL stopped and restarted


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A throwaway cluster of this test's own: it is stopped and started under the server's feet."""
    try:
        cluster = start_cluster()
    except ClusterUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


def _pg_ctl(cluster: Cluster, *args: str) -> None:
    subprocess.run(as_postgres(["pg_ctl", "-D", str(cluster.directory / "data"), *args]),
                   capture_output=True, check=True, timeout=90)


def _restart_options(cluster: Cluster) -> str:
    return (f"-p {cluster.port} -k {cluster.directory} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off")


@pytest.mark.postgres
def test_postgres_stopped_mid_run(own_cluster: Cluster, tmp_path: Path) -> None:
    url = create_database(own_cluster.admin_url)
    server = start_server(tmp_path, url)
    try:
        client = server.client("submitter")
        attempted: list[dict[str, Any]] = []
        statuses: list[int] = []
        problems: list[dict[str, Any]] = []
        stop = threading.Event()

        def submitter() -> None:
            index = 0
            while not stop.is_set():
                body = _burst_body(index)
                attempted.append(body)
                answer_status = -1
                try:
                    answer = client.post("/v1/transfers", json=body, timeout=30)
                    answer_status = answer.status_code
                    if answer_status == 503:
                        problems.append(answer.json() | {"retry_after": answer.headers.get("retry-after")})
                except httpx.TransportError:
                    pass
                statuses.append(answer_status)
                index += 1

        worker = threading.Thread(target=submitter)
        worker.start()
        time.sleep(1.5)
        _pg_ctl(own_cluster, "-m", "fast", "-w", "stop")  # mid-run: sessions killed, transactions rolled back
        stopped_at = len(statuses)
        time.sleep(2.0)
        down = server.client().get("/readyz")
        assert down.status_code == 503 and down.json()["code"] == "baygate.database-unavailable"
        _pg_ctl(own_cluster, "-l", str(own_cluster.directory / "log"), "-o", _restart_options(own_cluster),
                "-w", "-t", "60", "start")
        restarted_at = len(statuses)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and statuses[-5:].count(201) < 5:
            time.sleep(0.2)
        stop.set()
        worker.join(timeout=60)

        assert statuses[:stopped_at].count(201) > 5, statuses[:stopped_at]
        during = statuses[stopped_at:restarted_at]
        assert during and set(during) <= {503, 201}, during  # clear 503s, never a 500 or a hang
        assert during.count(503) >= 1
        assert all(p["code"] == "baygate.database-unavailable" and p["retry_after"] for p in problems), problems[:3]
        assert statuses[-5:] == [201] * 5, statuses[-20:]  # recovered without restarting baygate
        assert server.process.poll() is None
        assert server.client().get("/readyz").status_code == 200
        summary = _check_ledger(server, attempted)
        assert summary["recorded"] >= statuses.count(201)
    finally:
        server.stop()


# ------------------------------------------------------------------ SQLite busy


BUSY_SECONDS = 1.0


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, timeout=5, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_sqlite_busy_bounded_then_clear_error(tmp_path: Path) -> None:
    database = tmp_path / "ledger.db"
    url = f"sqlite:///{database}"
    server = start_server(tmp_path / "srv", url, extra_env={"BAYGATE_SQLITE_BUSY_SECONDS": str(BUSY_SECONDS)})
    try:
        client = server.client("submitter")
        assert client.post("/v1/transfers", json=good_request()).status_code == 201
        holder = _hold_write_lock(database)
        try:
            started = time.perf_counter()
            bodies = [good_request() for _ in range(4)]
            with ThreadPoolExecutor(4) as pool:  # several at once: the queue must not add up the waits
                answers = list(pool.map(lambda b: client.post("/v1/transfers", json=b), bodies))
            elapsed = time.perf_counter() - started
            for answer in answers:
                assert answer.status_code == 503, answer.text
                problem = answer.json()
                assert problem["code"] == "baygate.database-unavailable"
                assert "locked" in problem["detail"] and "nothing was written" in problem["detail"]
                assert answer.headers["retry-after"]
            assert BUSY_SECONDS * 0.9 <= elapsed < BUSY_SECONDS * 2 + 2.5, elapsed  # retried, then gave up
            # the CLI: exit 4 (could not finish) and the same clear message, after the same bounded wait
            request_file = tmp_path / "one.json"
            request_file.write_bytes(dumps(good_request()))
            result = run_cli("submit", str(request_file), cwd=tmp_path, database_url=url,
                             env={"BAYGATE_SQLITE_BUSY_SECONDS": str(BUSY_SECONDS)})
            assert result.returncode == 4, (result.returncode, result.stderr)
            assert "locked" in result.stderr and "Traceback" not in result.stderr
        finally:
            holder.rollback()
            holder.close()
        # released: the service writes again by itself, and nothing of the refused ones was recorded
        assert client.post("/v1/transfers", json=good_request()).status_code == 201
        summary = _check_ledger(server, bodies)
        assert summary["recorded"] == 0
    finally:
        server.stop()


def test_a_short_lock_is_waited_out(tmp_path: Path) -> None:
    """Within the bound the retries succeed: a lock held for half of it delays, it does not fail."""
    database = tmp_path / "ledger.db"
    server = start_server(tmp_path / "srv", f"sqlite:///{database}", extra_env={"BAYGATE_SQLITE_BUSY_SECONDS": "4"})
    try:
        client = server.client("submitter")
        assert client.post("/v1/transfers", json=good_request()).status_code == 201
        holder = _hold_write_lock(database)
        timer = threading.Timer(1.0, lambda: (holder.rollback(), holder.close()))
        timer.start()
        started = time.perf_counter()
        answer = client.post("/v1/transfers", json=good_request())
        assert answer.status_code == 201, answer.text
        assert time.perf_counter() - started >= 0.8
        timer.join()
    finally:
        server.stop()


# ------------------------------------------------------------------ kill -9 in a burst


def _process_tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn's supervisor runs workers as child processes: killing
    the parent alone would leave them serving)."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            out += _process_tree(int(child))
    return out


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return "gone"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kill_9_in_a_burst(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if backend == "postgres":
        url = create_database(request.getfixturevalue("postgres_admin_url"))
    else:
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    server = start_server(tmp_path / "first", url)
    attempted: list[dict[str, Any]] = []
    statuses: list[int] = []
    try:
        client = server.client("submitter")

        counter = iter(range(100_000))
        lock = threading.Lock()

        def stream() -> None:
            while True:  # until the server is gone
                with lock:
                    body = _burst_body(next(counter))
                    attempted.append(body)
                status = _submit(client, body)
                statuses.append(status)
                if status == -1 or len(statuses) > 20_000:
                    return

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(stream) for _ in range(8)]
            deadline = time.monotonic() + 30
            while statuses.count(201) < 100 and time.monotonic() < deadline:
                time.sleep(0.005)
            victims = _process_tree(server.process.pid)
            for pid in victims:  # `baygate serve` and its worker processes, all at once, mid-burst
                os.kill(pid, signal.SIGKILL)
            for future in futures:
                future.result()
        server.process.wait(timeout=10)
        assert server.process.returncode == -signal.SIGKILL
        # SIGKILL is delivered at once but a process takes a moment to die (a loaded machine, a
        # worker in the middle of a write): wait for each to be gone or a zombie, bounded (a hang guard)
        def still_running() -> list[int]:
            return [pid for pid in victims if Path(f"/proc/{pid}").exists() and _state(pid) != "Z"]

        settle = time.monotonic() + 10
        while still_running() and time.monotonic() < settle:
            time.sleep(0.05)
        assert not still_running()
        assert statuses.count(201) >= 100 and -1 in statuses  # killed while requests were in flight
    finally:
        server.stop()
    # audit verify from the CLI, as an operator would after the crash
    verify = run_cli("audit", "verify", cwd=tmp_path, database_url=url)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    restarted = start_server(tmp_path / "second", url)
    try:
        summary = _check_ledger(restarted, attempted)
        assert summary["recorded"] >= statuses.count(201)
        # and it carries on
        assert restarted.client("submitter").post("/v1/transfers", json=_burst_body(10_000)).status_code == 201
    finally:
        restarted.stop()

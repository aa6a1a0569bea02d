"""HTTP figures: dry-run decisions per second on one worker, load from a separate process.

Starts ``baygate serve --workers 1`` on a free loopback port (SQLite ledger in a temporary folder,
access log off), then loads it with ``wrk`` when installed, else with a Python load generator in
separate processes (one keep-alive connection each). The batch route is timed with batches of a
given size, request bodies built once.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from api.bench import ROOT
from api.http.encode import EXAMPLE_REQUEST

KEY = "submitter-" + "b" * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``baygate serve --workers 1`` in a child process, on a temporary SQLite ledger."""

    def __init__(self, tmp: Path, rules: Path | None = None, workers: int = 1) -> None:
        import httpx

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BAYGATE_", "PROMETHEUS_"))}
        env.update(BAYGATE_API_KEYS=f"submitter={KEY}", BAYGATE_DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}",
                   BAYGATE_RULES=str(rules or ROOT / "rules"))
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port),
             "--workers", str(workers), "--no-access-log"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        for _ in range(1200):
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("baygate serve did not become ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class BaselineServer(Server):
    """The validate-only FastAPI app (api.bench.baseline_app) on uvicorn, one worker."""

    def __init__(self) -> None:
        import httpx

        port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.bench.baseline_app:app", "--port", str(port), "--workers", "1",
             "--no-access-log", "--log-level", "warning"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                httpx.get(self.url + "/docs", timeout=1)
                return
            except httpx.TransportError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the baseline app did not start")


def warm_up(url: str, count: int = 200) -> None:
    import httpx

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        for _ in range(count):
            client.post("/v1/evaluate", json=EXAMPLE_REQUEST).raise_for_status()


def with_wrk(url: str, seconds: float, connections: int, tmp: Path) -> dict[str, float]:
    body = tmp / "request.json"
    body.write_text(json.dumps(EXAMPLE_REQUEST), encoding="utf-8")
    script = tmp / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f'local f = io.open("{body}", "rb"); wrk.body = f:read("*a"); f:close()\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {KEY}"\n', encoding="utf-8")
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s",
                          str(script), url + "/v1/evaluate"], capture_output=True, text=True, check=True).stdout

    def latency(pct: str) -> float:
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if match is None:
            raise RuntimeError(f"unexpected wrk output:\n{out}")
        return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if rate is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return {"rps": float(rate.group(1)), "p50_ms": latency("50"), "p99_ms": latency("99"),
            "errors": float(errors.group(1)) if errors else 0.0}


def _python_worker(url: str, seconds: float, queue: Any) -> None:
    import http.client

    host, port = url.removeprefix("http://").split(":")
    body = json.dumps(EXAMPLE_REQUEST).encode()
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection(host, int(port))
    latencies = []
    errors = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        started = time.perf_counter()
        connection.request("POST", "/v1/evaluate", body, headers)
        response = connection.getresponse()
        response.read()
        errors += response.status != 200
        latencies.append((time.perf_counter() - started) * 1000)
    connection.close()
    queue.put((latencies, errors))


def with_python(url: str, seconds: float, connections: int) -> dict[str, float]:
    """A fallback when wrk is absent: slower clients, so a lower bound on what the server does."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_python_worker, args=(url, seconds, queue)) for _ in range(connections)]
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    latencies = sorted(x for lat, _ in results for x in lat)
    return {"rps": len(latencies) / seconds, "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)],
            "errors": float(sum(e for _, e in results))}


def dry_runs(url: str, seconds: float, connections: int, tmp: Path, python: bool = False) -> dict[str, Any]:
    use_wrk = shutil.which("wrk") is not None and not python
    figures: dict[str, Any] = (with_wrk(url, seconds, connections, tmp) if use_wrk
                               else with_python(url, seconds, min(connections, 8)))
    figures["tool"] = "wrk" if use_wrk else "python http.client"
    return figures


def batch(url: str, size: int, seconds: float, min_calls: int = 3) -> dict[str, Any]:
    """Decisions per second through POST /v1/evaluate/batch, ``size`` requests a call, one call after
    another on one keep-alive connection for at least ``seconds`` (and ``min_calls`` calls), after one
    call to warm up. The figure is all the decisions over all the time; each call's own rate is kept
    too, so the spread between calls (large on a shared VM) is reported with it.

    The client is the standard library's ``http.client``: a 1,000-item answer is about 12 MB, and
    httpx's pure-Python HTTP parser took 14-18 ms to read it against 8-12 ms for ``http.client``
    (measured): time in which the worker waits for the client, not work of the worker's."""
    import http.client

    requests = []
    for i in range(size):  # distinct references and a few exporters, as a real batch would have
        item = dict(EXAMPLE_REQUEST, reference=f"BATCH-{i}")
        item["exporter"] = dict(EXAMPLE_REQUEST["exporter"], id=f"91440300MA5GBA{i % 8:04d}")
        requests.append(item)
    body = json.dumps({"requests": requests}).encode()
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=300)

    def call() -> float:
        started = time.perf_counter()
        connection.request("POST", "/v1/evaluate/batch", body, headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"POST /v1/evaluate/batch answered {response.status}")
        return time.perf_counter() - started

    try:
        call()
        durations: list[float] = []
        while len(durations) < min_calls or sum(durations) < seconds:
            durations.append(call())
    finally:
        connection.close()
    rates = sorted(size / d for d in durations)
    return {"decisions_per_s": size * len(durations) / sum(durations), "calls": len(durations),
            "call_min_per_s": rates[0], "call_max_per_s": rates[-1]}

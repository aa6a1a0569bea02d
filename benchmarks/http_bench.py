"""HTTP benchmark: dry-run decisions per second and p50/p99 latency on one worker (DESIGN section 9).

Starts ``baygate serve --workers 1`` on a free loopback port (SQLite ledger in a temporary folder,
access log off), then loads it from separate processes: ``wrk`` when installed (the figures to
report), else a Python load generator (several processes, each one keep-alive connection). Then the
batch route: decisions per second through ``POST /v1/evaluate/batch``. Prints figures; not a test.

    .venv/bin/python benchmarks/http_bench.py [--seconds 10] [--connections 16] [--batch 1000]
"""

from __future__ import annotations

import argparse
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
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.http.encode import EXAMPLE_REQUEST  # noqa: E402

KEY = "submitter-" + "b" * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAYGATE_", "PROMETHEUS_"))}
    env.update(BAYGATE_API_KEYS=f"submitter={KEY}", BAYGATE_DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}")
    process = subprocess.Popen([sys.executable, "-c", "from api.cli import main; main()", "serve", "--port",
                                str(port), "--workers", "1", "--no-access-log"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("server did not start")


def with_wrk(url: str, seconds: int, connections: int, tmp: Path) -> dict[str, float]:
    body = tmp / "request.json"
    body.write_text(json.dumps(EXAMPLE_REQUEST), encoding="utf-8")
    script = tmp / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f'local f = io.open("{body}", "rb"); wrk.body = f:read("*a"); f:close()\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {KEY}"\n', encoding="utf-8")
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
                          url + "/v1/evaluate"], capture_output=True, text=True, check=True).stdout
    def latency(pct: str) -> float:
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50_ms": latency("50"), "p99_ms": latency("99"), "errors": float(errors.group(1)) if errors else 0.0}


def _python_worker(url: str, seconds: float, queue: multiprocessing.Queue[list[float]]) -> None:
    latencies = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            started = time.perf_counter()
            client.post("/v1/evaluate", json=EXAMPLE_REQUEST).raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
    queue.put(latencies)


def with_python(url: str, seconds: int, connections: int) -> dict[str, float]:
    queue: multiprocessing.Queue[list[float]] = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_python_worker, args=(url, seconds, queue))
               for _ in range(connections)]
    for worker in workers:
        worker.start()
    latencies = sorted(x for _ in workers for x in queue.get())
    for worker in workers:
        worker.join()
    return {"rps": len(latencies) / seconds, "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1], "errors": 0.0}


def batch(url: str, size: int, rounds: int) -> float:
    body = {"requests": [EXAMPLE_REQUEST] * size}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=120) as client:
        client.post("/v1/evaluate/batch", json=body).raise_for_status()
        started = time.perf_counter()
        for _ in range(rounds):
            client.post("/v1/evaluate/batch", json=body).raise_for_status()
        return size * rounds / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--python", action="store_true", help="use the Python load generator even with wrk")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="baygate-bench-") as folder:
        tmp = Path(folder)
        process, url = start(tmp)
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as client:
                for _ in range(200):  # warm up: pools, caches
                    client.post("/v1/evaluate", json=EXAMPLE_REQUEST).raise_for_status()
            use_wrk = shutil.which("wrk") is not None and not args.python
            tool = "wrk" if use_wrk else "python httpx"
            figures = (with_wrk(url, args.seconds, args.connections, tmp) if use_wrk
                       else with_python(url, args.seconds, min(args.connections, 8)))
            print(f"POST /v1/evaluate, 1 worker, {args.connections} connections, {args.seconds} s, load: {tool}")
            print(f"  {figures['rps']:8.0f} dry-run decisions/s   p50 {figures['p50_ms']:.2f} ms   "
                  f"p99 {figures['p99_ms']:.2f} ms   non-2xx {figures['errors']:.0f}   (target >= 2,000/s)")
            rate = batch(url, args.batch, 5)
            print(f"POST /v1/evaluate/batch, {args.batch} requests a call: {rate:8.0f} decisions/s "
                  "(target >= 5,000/s)")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)


if __name__ == "__main__":
    main()

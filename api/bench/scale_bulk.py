"""Bulk recording on a ledger at scale (issue 21 point 6): a list file through ``baygate submit`` and
``POST /v1/transfers/batch`` on ``baygate serve``, each adding new transfers of the build's kind (new
references) to the ledger being measured, as users would: the command or the server is a process of
its own, measured from outside (time, peak resident memory). The figures are recorded per second.

A signed ledger (``BAYGATE_SIGNING_KEY_FILE`` set for the bench) is written with that key, as the
service that owns it would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from api.bench import ROOT
from api.bench.http import free_port
from api.bench.scale_build import Requests

SIGNING_KEY_ENV = "BAYGATE_SIGNING_KEY_FILE"
TOTALS_KEY_ENV = "BAYGATE_TOTALS_KEY_FILE"
KEY = "bench-submitter-" + "s" * 32


def writer_env(url: str) -> dict[str, str]:
    """The environment of a writing command: no BAYGATE_ setting of the caller's but the signing key and
    the totals key (engine.ledger.seal) the ledger's writers use."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAYGATE_", "PROMETHEUS_"))}
    env["BAYGATE_DATABASE_URL"] = url
    for name in (SIGNING_KEY_ENV, TOTALS_KEY_ENV):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def new_documents(count: int, tag: str) -> list[dict[str, Any]]:
    """``count`` requests of the build's kind under references no build uses (``B-<tag>-<n>``)."""
    requests = Requests.make(seed=int(time.time()) % 100_000)
    found = []
    for index in range(count):
        document = requests.document(index)
        document["reference"] = f"B-{tag}-{index}"
        found.append(document)
    return found


def list_file(url: str, count: int = 20_000) -> dict[str, Any]:
    """``baygate submit FILE.ndjson`` of ``count`` new requests: recorded per second, peak memory."""
    from api.bench.scale import run_command

    with tempfile.TemporaryDirectory(prefix="baygate-bulk-") as folder:
        path = Path(folder) / "requests.ndjson"
        with path.open("w", encoding="utf-8") as sink:
            for document in new_documents(count, f"f{int(time.time())}"):
                sink.write(json.dumps(document, default=str) + "\n")
        measured = run_command("submit-file", ["submit", "--json", str(path), "--db", url], 3_600, writer_env(url))
    return {"count": count, "seconds": measured.seconds, "per_s": round(count / measured.seconds, 1),
            "cpu_s": measured.cpu_s, "per_cpu_s": round(count / max(measured.cpu_s, 1e-9), 1),
            "peak_mb": measured.peak_mb, "exit_code": measured.exit_code, "note": measured.note}


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):  # the process's peak resident memory so far
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def http_batch(url: str, count: int = 10_000, batch: int = 1_000, clients: int = 1,
               workers: int = 1) -> dict[str, Any]:
    """``POST /v1/transfers/batch`` of ``count`` new requests in batches of ``batch`` to ``baygate serve
    --workers WORKERS`` on the ledger: recorded per second (the server's whole answer included), and the
    workers' peak memory before and after (the largest worker's) and CPU (all of them). ``clients``: how
    many send at once, each on a connection of its own, taking the next batch when its answer is read
    (one client leaves the worker idle while it encodes a batch and reads an answer, 10 MB of JSON; a
    second keeps it busy meanwhile, as a bank's several senders would). With two workers, one decides
    and writes a group under SQLite's write lock while the other reads, validates and answers its own
    batch (docs/performance.md, session 8)."""
    import httpx

    port = free_port()
    env = writer_env(url)
    env.update(BAYGATE_API_KEYS=f"submitter={KEY}", BAYGATE_RULES=str(ROOT / "rules"))
    server = subprocess.Popen([sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port),
                               "--workers", str(workers), "--no-access-log"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(2_400):
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None:
                raise RuntimeError("baygate serve stopped before it was ready")
            time.sleep(0.05)
        serving = _worker_pids(server.pid, workers)
        before, cpu_before = max(map(_rss_mb, serving)), [_cpu_s(pid) for pid in serving]
        documents = new_documents(count, f"h{int(time.time())}")
        bodies = [documents[start:start + batch] for start in range(0, count, batch)]
        taking = threading.Lock()
        recorded: list[int] = []
        failed: list[BaseException] = []

        def send() -> None:
            with httpx.Client(base_url=base, timeout=600, headers={"Authorization": f"Bearer {KEY}"}) as client:
                while not failed:
                    with taking:
                        if not bodies:
                            return
                        requests = bodies.pop(0)
                    try:
                        answer = client.post("/v1/transfers/batch", json={"requests": requests})
                        answer.raise_for_status()
                        recorded.append(sum(1 for result in answer.json()["results"] if "decision_id" in result))
                    except BaseException as exc:  # told after the others stop
                        failed.append(exc)

        senders = [threading.Thread(target=send, name=f"batch-client-{n}") for n in range(clients)]
        started = time.monotonic()
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        seconds = time.monotonic() - started
        if failed:
            raise failed[0]
        spent = [_cpu_s(pid) - start for pid, start in zip(serving, cpu_before, strict=True)]
        cpu = sum(spent)
        done = sum(recorded)
        return {"count": count, "recorded": done, "batch": batch, "clients": clients, "workers": workers,
                "seconds": round(seconds, 2), "per_s": round(done / seconds, 1), "cpu_s": round(cpu, 2),
                "per_cpu_s": round(done / max(cpu, 1e-9), 1), "worker_cpu_shares": cpu_shares(spent),
                "worker_mb_before": before, "worker_peak_mb": max(map(_rss_mb, serving))}
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def cpu_shares(spent: list[float]) -> list[int]:
    """Each worker's share of the CPU the workers spent, in percent, largest first.

    Why the bench reports it: uvicorn's workers share one listening socket and the kernel hands each
    new *connection* to one of them; every request on a kept-alive connection stays with that worker.
    Two senders' connections land on one worker about half the time, and then the second worker idles
    and the run measures one worker (session 9, within minutes: shares 100/0 at 1,327-1,374/s, as one
    worker; 51/49 at 1,635/s). A figure for several workers means little without its split."""
    total = sum(spent)
    if total <= 0:
        return [0 for _ in spent]
    return sorted((round(100 * part / total) for part in spent), reverse=True)


def _cpu_s(pid: int) -> float:
    """CPU time (user + system) of a running process so far, from /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker_pid(pid: int) -> int:
    """The serving process: of ``serve`` and its descendants (the uvicorn worker, multiprocessing's
    resource tracker), the one holding the most memory."""
    return _worker_pids(pid, 1)[0]


def _worker_pids(pid: int, workers: int) -> list[int]:
    """The ``workers`` serving processes of ``serve``: of it and its descendants, those holding the most
    memory (with several workers the parent only supervises; each worker holds an engine)."""
    pending, found = [pid], [pid]
    while pending:
        current = pending.pop()
        try:
            children = [int(child) for task in Path(f"/proc/{current}/task").iterdir()
                        for child in (task / "children").read_text().split()]
        except OSError:
            continue
        pending += children
        found += children
    if workers > 1:
        found.remove(pid)
    return sorted(found, key=_rss_mb, reverse=True)[:workers]

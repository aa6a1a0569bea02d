"""Resident memory over rule pack reloads (DESIGN section 7, issue 8 point 4). Prints figures; not a test.

durable-rules can never free a registered ruleset, so every pack version a worker loads stays in its
memory. ``baygate serve`` bounds that by replacing a worker once it holds more than
``BAYGATE_MAX_PACK_VERSIONS`` versions (api.http.lifecycle). This script starts ``baygate serve
--workers W`` on a copy of ``rules/`` (SQLite ledger in a temporary folder), then N times: changes a
pack's version on disk, ``POST /v1/rules/reload``, and sends a few requests on fresh connections so
every worker swaps the new generation in. Every 10 reloads it prints the resident size (VmRSS) of
the supervisor and of each worker, and their sum. Run it with the limit (default 4) and without
(``--max-versions 100000``) to see the difference.

    .venv/bin/python -m api.bench.scripts.reload_memory [--reloads 100] [--workers 2] [--max-versions 4]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from api.bench import ROOT
from api.bench.http import free_port


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else 0.0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def workers_of(supervisor: int) -> list[int]:
    """The uvicorn workers: children of the supervisor that are not multiprocessing's helper."""
    found = []
    for pid in children(supervisor):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            found.append(pid)
    return sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reloads", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-versions", type=int, default=4)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="baygate-reload-bench-"))
    rules = tmp / "rules"
    shutil.copytree(ROOT / "rules", rules)
    target = rules / "cn-general.yaml"
    original = target.read_text(encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAYGATE_", "PROMETHEUS_MULTIPROC_DIR"))}
    env.update(BAYGATE_RULES=str(rules), BAYGATE_DATABASE_URL=f"sqlite:///{tmp / 'ledger.db'}",
               BAYGATE_MAX_PACK_VERSIONS=str(args.max_versions))
    log = (tmp / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-c", "from api.cli import main; main()", "serve", "--port",
                               str(port), "--workers", str(args.workers), "--no-access-log"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"server did not start:\n{(tmp / 'server.log').read_text()}")
            time.sleep(0.1)
        time.sleep(1)  # both workers up

        def report(label: str) -> None:
            pids = workers_of(server.pid)
            sizes = [rss_mb(pid) for pid in pids]
            print(f"{label:>12}  supervisor {rss_mb(server.pid):6.1f} MB  workers "
                  + " ".join(f"[{pid}] {size:6.1f}" for pid, size in zip(pids, sizes, strict=True))
                  + f"  total {rss_mb(server.pid) + sum(sizes):6.1f} MB", flush=True)

        print(f"baygate serve --workers {args.workers}, BAYGATE_MAX_PACK_VERSIONS={args.max_versions}, "
              f"{args.reloads} reloads")
        report("start")
        started = time.perf_counter()
        for number in range(1, args.reloads + 1):
            target.write_text(re.sub(r'(?m)^version: .*$', f'version: "bench.{number}"', original, count=1),
                              encoding="utf-8")
            answer = httpx.post(f"{url}/v1/rules/reload", timeout=60)
            if answer.status_code != 200 or not answer.json()["reloaded"]:
                raise SystemExit(f"reload {number}: {answer.status_code} {answer.text[:300]}")
            digest = answer.json()["digest"]
            for _ in range(4 * args.workers):  # fresh connections reach every worker
                seen = httpx.get(f"{url}/v1/rules", timeout=60).json()["digest"]
                if seen != digest:
                    raise SystemExit(f"reload {number}: a worker answered {seen}, expected {digest}")
            if number % 10 == 0:
                report(f"{number} reloads")
        elapsed = time.perf_counter() - started
        replaced = (tmp / "server.log").read_text(errors="replace").count("replaced by")
        print(f"{args.reloads} reloads in {elapsed:.1f} s ({elapsed / args.reloads * 1000:.0f} ms each, "
              f"with {4 * args.workers} checks each); workers replaced: {replaced}")
        for line in (tmp / "server.log").read_text(errors="replace").splitlines():
            if "not ready" in line or "Traceback" in line or "ERROR" in line:
                print("server log:", line)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

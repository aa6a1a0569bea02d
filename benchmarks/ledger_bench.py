"""Ledger throughput: submissions per second through the Python API from 8 threads on 8 exporters,
on SQLite and on PostgreSQL (DESIGN section 9: at least 500/s on each). Prints figures; not a test.

    .venv/bin/python benchmarks/ledger_bench.py [--seconds 5] [--threads 8] [--postgres URL]

Without --postgres (or BAYGATE_BENCH_POSTGRES_URL) a throwaway cluster is started, with fsync on
so that the figure includes a durable commit.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.evaluator import Engine  # noqa: E402
from engine.ledger import Ledger  # noqa: E402
from engine.ledger.pgcluster import create_database, start_cluster  # noqa: E402
from engine.models import TransferRequest  # noqa: E402


def request(exporter: int, number: int) -> TransferRequest:
    return TransferRequest.model_validate({
        "reference": f"B-{exporter}-{number}",
        "exporter": {"id": f"9144030000BENCH{exporter:03d}", "name": "Bench Co.", "jurisdiction": "CN",
                     "city": "Shenzhen"},
        "recipient": {"id": "HK-1", "name": "HK Ltd", "jurisdiction": "HK"},
        "purpose": "business_services",
        "planned_date": "2026-06-01",
        "data": [{"kind": "personal", "subjects": 1}],
        "safeguards": {"separate_consent": True, "notice_given": True, "pia_completed_on": "2026-01-01"},
    })


def run(url: str, engine: Engine, threads: int, seconds: float) -> tuple[float, int, bool]:
    ledger = Ledger(url, rules_dirs=[ROOT / "rules"])
    ledger.submit(engine, request(999, 0))  # packs stored, pools warm
    done = [0] * threads
    stop = time.monotonic() + seconds
    errors: list[BaseException] = []

    def client(index: int) -> None:
        number = 0
        try:
            while time.monotonic() < stop:
                number += 1
                ledger.submit(engine, request(index, number))
            done[index] = number
        except BaseException as exc:  # report, do not hide
            errors.append(exc)

    started = time.monotonic()
    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    if errors:
        raise errors[0]
    ok = ledger.verify().ok
    ledger.close()
    return sum(done) / elapsed, sum(done), ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--postgres", default=os.environ.get("BAYGATE_BENCH_POSTGRES_URL"))
    args = parser.parse_args()
    engine = Engine.from_directory(ROOT / "rules")
    with tempfile.TemporaryDirectory() as folder:
        rate, total, ok = run(f"sqlite:///{folder}/bench.db", engine, args.threads, args.seconds)
        print(f"sqlite (WAL, synchronous=NORMAL): {rate:7.0f} submissions/s  ({total} in {args.seconds:.0f} s, "
              f"{args.threads} threads on {args.threads} exporters; audit verify {'ok' if ok else 'FAILED'})")
    cluster = None
    url = args.postgres
    if not url:
        cluster = start_cluster(fsync=True)
        url = create_database(cluster.admin_url, "baygate_bench")
    try:
        rate, total, ok = run(url, engine, args.threads, args.seconds)
        print(f"postgresql (fsync on):            {rate:7.0f} submissions/s  ({total} in {args.seconds:.0f} s, "
              f"{args.threads} threads on {args.threads} exporters; audit verify {'ok' if ok else 'FAILED'})")
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()

"""Ledger throughput: submissions per second through the Python API from 8 threads on 8 exporters, on
SQLite (synchronous FULL and NORMAL) and PostgreSQL (a throwaway cluster with fsync on, or --postgres
URL). A thin wrapper around ``api.bench.ledger``; ``baygate bench`` runs this and every other
measurement.

    .venv/bin/python benchmarks/ledger_bench.py [--seconds 5] [--threads 8] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.bench import inprocess, ledger  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--postgres", default=os.environ.get("BAYGATE_BENCH_POSTGRES_URL"))
    args = parser.parse_args()
    engine = inprocess.shipped_engine()
    for level in ("FULL", "NORMAL"):
        figures = ledger.sqlite(engine, ROOT / "rules", args.threads, args.seconds, level)
        print(f"sqlite (WAL, synchronous={level}): {figures['per_s']:7.0f} submissions/s  "
              f"({figures['submissions']} in {args.seconds:g} s; audit verify "
              f"{'ok' if figures['audit_ok'] else 'FAILED'})")
    figures = ledger.postgres(engine, ROOT / "rules", args.threads, args.seconds, args.postgres)
    print(f"postgresql (fsync on):           {figures['per_s']:7.0f} submissions/s  "
          f"({figures['submissions']} in {args.seconds:g} s; audit verify {'ok' if figures['audit_ok'] else 'FAILED'})")


if __name__ == "__main__":
    main()

"""Ledger throughput: submissions per second through the Python API from 8 threads on 8 exporters, on
SQLite (synchronous FULL and NORMAL) and PostgreSQL (a throwaway cluster with fsync on, or --postgres
URL). A thin wrapper around ``api.bench.ledger``; ``baygate bench`` runs this and every other
measurement.

    .venv/bin/python -m api.bench.scripts.ledger_bench [--seconds 5] [--threads 8] [--postgres URL] [--unsigned]
        [--only sqlite|postgres]

Every head is signed (a throwaway Ed25519 key) unless --unsigned: the cost of signing, and of checking
every signature in the verify afterwards, is in the figures.
"""

from __future__ import annotations

import argparse
import os

from api.bench import ROOT, inprocess, ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--postgres", default=os.environ.get("BAYGATE_BENCH_POSTGRES_URL"))
    parser.add_argument("--unsigned", action="store_true", help="No signing key (the cost of signing, by difference).")
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    engine = inprocess.shipped_engine()
    signed = not args.unsigned
    if args.only != "postgres":
        for level in ("FULL", "NORMAL") if args.only is None else ("FULL",):
            figures = ledger.sqlite(engine, ROOT / "rules", args.threads, args.seconds, level, signed)
            print(f"sqlite (WAL, synchronous={level}): {figures['per_s']:7.0f} submissions/s  "
                  f"({figures['submissions']} in {args.seconds:g} s; audit verify "
                  f"{'ok' if figures['audit_ok'] else 'FAILED'} in {figures['verify_s']} s)")
    if args.only != "sqlite":
        figures = ledger.postgres(engine, ROOT / "rules", args.threads, args.seconds, args.postgres, signed=signed)
        print(f"postgresql (fsync on):           {figures['per_s']:7.0f} submissions/s  "
              f"({figures['submissions']} in {args.seconds:g} s; audit verify "
              f"{'ok' if figures['audit_ok'] else 'FAILED'} in {figures['verify_s']} s)")


if __name__ == "__main__":
    main()

"""Seconds for ``baygate ledger merge-ids`` (a dry run, then the merge) and for ``audit verify`` before and
after it, on a SQLite ledger whose exporters were recorded under variants of their ids, as a version
before canonical ids recorded them (issue 19 point 4).

The ledger is recorded through the real store (``Ledger.submit_many``): ``--exporters`` exporters, each
with its transfers spread over its canonical id, the id in lower case and with a trailing space, some
naming a population (so the merge counts populations named under several ids once), 1 in 50 withdrawn.

    .venv/bin/python -m api.bench.scripts.id_merge [--transfers 6000] [--exporters 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from api.bench import ROOT
from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.id_merge import merge_ids
from engine.models import TransferRequest


def request(index: int, exporters: int) -> TransferRequest:
    """Transfer ``index``: exporter ``index % exporters`` under one of its three spellings."""
    exporter = f"BENCH{index % exporters:04d}CO"
    spelled = (exporter, exporter.lower(), exporter + " ")[(index // exporters) % 3]
    population = "members" if index % 4 == 0 else None
    document: dict[str, Any] = {
        "reference": f"R-{index}",
        "exporter": {"id": spelled, "name": "Bench Co.", "jurisdiction": "CN", "city": "Shenzhen"},
        "recipient": {"id": "HK-REC-1", "name": "Hong Kong Analytics Ltd", "jurisdiction": "HK"},
        "purpose": "business_services", "planned_date": "2026-06-01",
        "data": [{"kind": "personal", "subjects": 100 + index % 50, "population": population}],
        "safeguards": {"separate_consent": True, "notice_given": True, "pia_completed_on": "2024-12-01"},
    }
    return TransferRequest.model_validate(document, context={"stored_request": True})  # ids as written


def timed(label: str, work: Any) -> Any:
    started = time.perf_counter()
    result = work()
    print(f"{label:<34} {time.perf_counter() - started:7.2f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transfers", type=int, default=6_000)
    parser.add_argument("--exporters", type=int, default=200)
    args = parser.parse_args()
    engine = Engine.from_directory(ROOT / "rules")
    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(f"sqlite:///{Path(folder) / 'ledger.db'}", signer=None)
        try:
            requests = (request(i, args.exporters) for i in range(args.transfers))
            timed(f"record {args.transfers} transfers", lambda: sum(1 for _ in ledger.submit_many(engine, requests)))
            for index in range(0, args.transfers, 50):
                ledger.withdraw(f"R-{index}")
            result = timed("audit verify (before)", ledger.verify)
            assert result.ok, result.problem
            planned = timed("merge-ids --dry-run", lambda: merge_ids(ledger, dry_run=True))
            merged = timed("merge-ids", lambda: merge_ids(ledger))
            assert len(merged.merges) == len(planned.merges) == args.exporters
            affected = sum(len(merge.affected) for merge in merged.merges)
            print(f"{'':<34} {len(merged.merges)} exporters merged, {affected} past decisions' counts change")
            result = timed("audit verify (after)", ledger.verify)
            assert result.ok, result.problem
        finally:
            ledger.close()


if __name__ == "__main__":
    main()

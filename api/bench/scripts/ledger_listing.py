"""Milliseconds per page of ``Ledger.list_transfers`` and ``Ledger.decisions_after`` on a SQLite ledger of
10^5 transfers (DESIGN section 6: lists and the decision log stay quick as the ledger grows), with the
listing indexes of revision 0006 and, for comparison, without them.

The rows are written straight into ``transfers`` (what the listing reads; no chain: this measures the
reads, not recording): 1,000 exporters, 2025 and 2026, 1 in 50 conditional, 1 in 200 prohibited, 1 in
100 withdrawn.

    .venv/bin/python -m api.bench.scripts.ledger_listing [--transfers N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, text

from api.bench import ROOT
from api.http.encode import EXAMPLE_REQUEST
from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.listing import TransferQuery
from engine.ledger.schema import transfers
from engine.models import TransferRequest

INDEXES = ("ix_transfers_event_seq", "ix_transfers_exporter_seq", "ix_transfers_outcome_seq")


def fill(ledger: Ledger, count: int, decision: str) -> None:
    rows = []
    for seq in range(1, count + 1):
        outcome = "prohibited" if seq % 200 == 0 else "conditional" if seq % 50 == 0 else "permitted"
        rows.append({
            "decision_id": f"{seq:026d}", "exporter_id": f"EXP-{seq % 1000:04d}", "reference": f"R-{seq}",
            "request_sha256": "0" * 64, "request_json": "{}", "decision_json": decision, "outcome": outcome,
            "year": 2025 + seq % 2, "counted": outcome == "permitted", "personal_subjects": 1000,
            "sensitive_subjects": 0, "rules_digest": "sha256:x", "recorded_at": "2026-12-01T00:00:00Z",
            "event_seq": seq, "withdrawn_at": "2026-12-02T00:00:00Z" if seq % 100 == 7 else None,
            "withdrawn_seq": None})
    with ledger.sql_engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(transfers), rows[start:start + 10_000])


def timed(action: Callable[[], object], repeat: int = 20) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 2)


def measure(ledger: Ledger, count: int) -> dict[str, float]:
    deep = ledger.list_transfers(TransferQuery(limit=1000)).next_cursor
    cases: dict[str, Callable[[], object]] = {
        "newest page of 50": lambda: ledger.list_transfers(TransferQuery()),
        "page of 50 after 1,000": lambda: ledger.list_transfers(TransferQuery(cursor=deep)),
        "one exporter": lambda: ledger.list_transfers(TransferQuery(exporter_id="EXP-0042")),
        "one exporter, 2026": lambda: ledger.list_transfers(TransferQuery(exporter_id="EXP-0042", year=2026)),
        "prohibited (1 in 200)": lambda: ledger.list_transfers(TransferQuery(outcome="prohibited")),
        "withdrawn (1 in 100)": lambda: ledger.list_transfers(TransferQuery(status="withdrawn")),
        "year 2025": lambda: ledger.list_transfers(TransferQuery(year=2025)),
        "decision log, 500 from the middle": lambda: ledger.decisions_after(count // 2, 500),
    }
    return {name: timed(action, 5 if "log" in name else 20) for name, action in cases.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=100_000)
    args = parser.parse_args()
    engine = Engine.from_directory(ROOT / "rules")
    decision = engine.evaluate(TransferRequest.model_validate(EXAMPLE_REQUEST)).model_dump_json()
    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(f"sqlite:///{Path(folder) / 'listing.db'}")
        fill(ledger, args.transfers, decision)
        with ledger.sql_engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        result = {"transfers": args.transfers, "with_indexes_ms": measure(ledger, args.transfers)}
        with ledger.sql_engine.begin() as conn:
            for name in INDEXES:
                conn.execute(text(f"DROP INDEX {name}"))
        result["without_indexes_ms"] = measure(ledger, args.transfers)
        ledger.close()
    print(f"{'page':<36} {'with (ms)':>10} {'without (ms)':>13}")
    for name, value in result["with_indexes_ms"].items():
        print(f"{name:<36} {value:>10} {result['without_indexes_ms'][name]:>13}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

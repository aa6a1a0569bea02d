"""``baygate bench``: the figures of DESIGN section 9, measured on this machine.

Each part is importable on its own; the scripts in ``api/bench/scripts/`` (``python -m
api.bench.scripts.NAME``) run one of them alone, or measure one thing more (reload memory, the web page):

- :mod:`api.bench.inprocess`: microseconds per decision, durable-rules alone on the same facts,
  resident memory growth, cost against the number of rules;
- :mod:`api.bench.http`: dry-run decisions per second through one ``baygate serve`` worker, loaded
  from a separate process (wrk, or a Python load generator), and the batch route;
- :mod:`api.bench.ledger`: submissions per second through the ledger's Python API from 8 threads on
  8 exporters, SQLite (both ``synchronous`` levels) and a throwaway PostgreSQL cluster.

Benchmarks print figures; no test asserts a wall-clock bound.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The source tree (rules/, tests/data/ when run from a checkout)."""

TARGETS: dict[str, tuple[str, float]] = {
    "overhead_us_p50": ("<=", 30.0),
    "http_decisions_per_s": (">=", 2000.0),
    "batch_decisions_per_s": (">=", 5000.0),
    "submit_per_s_sqlite": (">=", 500.0),
    "submit_per_s_postgres": (">=", 500.0),
    "rss_growth_mb": ("<=", 20.0),
}


def meets(key: str, value: float | None) -> str:
    """'yes', 'NO' or '' (no target, or not measured)."""
    if key not in TARGETS or value is None:
        return ""
    op, bound = TARGETS[key]
    ok = value <= bound if op == "<=" else value >= bound
    return "yes" if ok else "NO"

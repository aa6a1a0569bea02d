"""Smoke test of ``baygate bench``: it runs end to end on tiny settings and its JSON line carries every
figure of DESIGN section 9 as a positive number. Never a wall-clock bound: figures are printed, not
judged, by tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

KEYS = ("durable_only_us_p50", "decision_us_p50", "decision_us_p99", "overhead_us_p50", "http_decisions_per_s",
        "http_p99_ms", "batch_decisions_per_s", "submit_per_s_sqlite", "submit_per_s_postgres", "rss_growth_mb",
        "decision_varied_us_p50", "overhead_varied_us_p50")


def run_bench(*extra: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAYGATE_")}
    completed = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "bench", "--quick", "--json", "--rounds", "2",
         "--rss-evaluations", "2000", "--seconds", "1", "--batch-size", "20", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.strip().splitlines()
    assert lines[0].startswith("baygate bench"), completed.stdout  # the table comes first
    result: dict[str, object] = json.loads(lines[-1])
    return result


@pytest.mark.postgres
def test_bench_quick_json_has_every_figure(postgres_url: str) -> None:
    result = run_bench("--postgres", postgres_url)
    for key in KEYS:
        value = result[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), (key, value)
        # a difference may come out at or below zero
        if key not in ("overhead_us_p50", "overhead_varied_us_p50", "rss_growth_mb"):
            assert value > 0, (key, value)
    assert result["audit_ok_sqlite"] is True and result["audit_ok_postgres"] is True
    assert result["http_errors"] == 0
    # Batches are timed over several calls, and the spread between calls is reported with the figure.
    assert isinstance(result["batch_calls"], int) and result["batch_calls"] >= 3
    low, high = result["batch_call_spread_per_s"]  # type: ignore[misc]
    assert 0 < low <= high


def test_synthetic_packs_load_and_compile() -> None:
    """The synthetic packs behind the rule-count figures are valid packs, split at the 60-rule cap."""
    from api.bench.inprocess import sample_requests, single_ruleset_scaling, synthetic_pack
    from engine.evaluator import Engine
    from engine.rulespec import load_pack_set

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "s.yaml").write_text(synthetic_pack(70), encoding="utf-8")
        engine = Engine(load_pack_set(tmp))
    assert sum(len(stage) for stage in engine.compiled.stages.values()) == 2  # 60-rule cap
    rows = single_ruleset_scaling(sample_requests()[:3], (10,), rounds=1)
    assert rows[0]["rules_in_one_ruleset"] == 10 and rows[0]["durable_only_us_p50"] > 0

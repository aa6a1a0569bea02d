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
TARGET_KEYS = ("overhead_us_p50", "http_decisions_per_s", "batch_decisions_per_s", "submit_per_s_sqlite",
               "submit_per_s_postgres")


def run_bench(*extra: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAYGATE_") or k == "BAYGATE_TOTALS_KEY_FILE"}
    completed = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "bench", "--quick", "--json", "--rounds", "2",
         "--rss-evaluations", "2000", "--seconds", "1", "--batch-size", "20", "--repeat", "2", *extra],
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
    # Two runs: each target figure is the median (here the mean) of the two runs' own figures.
    runs = result["runs"]
    assert result["repeats"] == 2 and isinstance(runs, list) and len(runs) == 2
    for key in TARGET_KEYS:
        assert result[key] == pytest.approx((runs[0][key] + runs[1][key]) / 2, abs=0.01), key


def test_repeated_runs_aggregate_to_medians() -> None:
    """How several runs become one result: medians for figures, a failed measurement left out, the
    worst of errors and audits, sample counts summed, the widest batch spread, one-off figures kept."""
    from api.bench.run import aggregate

    def run(overhead: float, http: float, postgres: float | None, errors: int, audit_ok: bool,
            spread: list[int], **extra: object) -> dict[str, object]:
        return {"date": f"d{overhead}", "nproc": 2, "overhead_us_p50": overhead, "http_decisions_per_s": http,
                "submit_per_s_postgres": postgres, "http_errors": errors, "audit_ok_sqlite": audit_ok,
                "decisions_timed": 100, "batch_call_spread_per_s": spread, **extra}

    result = aggregate([
        run(27.0, 2500.0, 600.0, 0, True, [4000, 7000], rss_growth_mb=1.5, rule_scaling=[{"rules": 10}]),
        run(55.0, 1800.0, None, 2, True, [3000, 6000]),
        run(29.0, 2700.0, 640.0, 0, False, [4500, 7800]),
    ])
    assert result["overhead_us_p50"] == 29.0  # the slow run neither makes nor breaks the figure
    assert result["http_decisions_per_s"] == 2500.0
    assert result["submit_per_s_postgres"] == 620.0  # the run that did not measure it is left out
    assert result["http_errors"] == 2 and result["audit_ok_sqlite"] is False
    assert result["decisions_timed"] == 300
    assert result["batch_call_spread_per_s"] == [3000, 7800]
    assert result["rss_growth_mb"] == 1.5 and result["rule_scaling"] == [{"rules": 10}]
    assert result["date"] == "d27.0" and result["nproc"] == 2
    assert result["repeats"] == 3
    assert [r["overhead_us_p50"] for r in result["runs"]] == [27.0, 55.0, 29.0]
    assert aggregate([run(27.0, 2500.0, 600.0, 0, True, [1, 2])])["overhead_us_p50"] == 27.0


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


def test_batch_operations_name_clients_and_workers() -> None:
    """``ledger_scale measure --ops``: http-batch, http-batch-cN, http-batch-cN-wM; anything else is no
    operation (reported as such), never one run with a guessed number."""
    from api.bench.scale import batch_op

    assert batch_op("http-batch") == (1, 1)
    assert batch_op("http-batch-c2") == (2, 1)
    assert batch_op("http-batch-c3-w2") == (3, 2)
    for wrong in ("http-batch-c", "http-batch-cx", "http-batch-c2-w", "http-batch-c2-wx", "http-batch-c2w2"):
        assert batch_op(wrong) == (0, 0), wrong


def test_batch_cpu_shares_show_how_the_workers_split_the_work() -> None:
    """The several-worker batch figure is reported with each worker's share of the CPU, largest
    first: a run whose connections all landed on one worker must say so."""
    from api.bench.scale_bulk import cpu_shares

    assert cpu_shares([3.0, 1.0]) == [75, 25]
    assert cpu_shares([1.0, 3.0]) == [75, 25]
    assert cpu_shares([2.0]) == [100]
    assert cpu_shares([0.0, 0.0]) == [0, 0]

"""Run every part of ``baygate bench`` and collect one flat result (the JSON line)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.bench import inprocess
from engine.config import rules_directory


@dataclass(frozen=True)
class Settings:
    rounds: int = 200
    """Rounds over the sample requests for the in-process timings."""
    rss_evaluations: int = 1_000_000
    rss_scale: int = 1
    """rss_growth_mb is the growth measured over rss_evaluations, times this (10 with --quick)."""
    http_seconds: float = 10.0
    connections: int = 16
    batch_size: int = 1000
    batch_seconds: float = 10.0
    """Batches are sent one after another for at least this long (see http.batch)."""
    ledger_seconds: float = 5.0
    threads: int = 8
    postgres_url: str | None = None
    postgres: bool = True
    http: bool = True
    scaling: bool = False
    rule_counts: tuple[int, ...] = (10, 100, 400)
    batch_sizes: tuple[int, ...] = (1, 10, 100, 1000)
    repeats: int = 3
    """Runs of the timed measurements; each figure is the median of the runs' (see :func:`aggregate`)."""


QUICK = Settings(rounds=40, rss_evaluations=100_000, rss_scale=10, http_seconds=5.0, batch_seconds=4.0,
                 ledger_seconds=3.0)
FULL = Settings(scaling=True)


def machine() -> dict[str, Any]:
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            memory_gb = round(int(meminfo.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        memory_gb = 0.0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return {"nproc": os.cpu_count(), "cpu": model, "memory_gb": memory_gb, "python": platform.python_version(),
            "load_1min_at_start": round(load, 2)}


def collect(settings: Settings, say: Callable[[str], None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="baygate-bench-rules-") as folder:
        # A snapshot of the packs: the engine, the server and the ledger must see the same digests
        # even if someone edits rules/ while the benchmark runs.
        rules = Path(folder) / "rules"
        shutil.copytree(rules_directory(None), rules)
        started = time.perf_counter()
        runs = []
        for index in range(settings.repeats):
            if settings.repeats > 1:
                say(f"run {index + 1} of {settings.repeats}")
            # Memory growth and the scaling tables once (the first run): they do not vary with what
            # else the machine is doing, and they take most of a full run's time.
            runs.append(_collect(settings, say, rules, once=index == 0))
        result = aggregate(runs)
        result["seconds"] = round(time.perf_counter() - started, 1)
        return result


RUN_KEYS = ("date", "durable_only_us_p50", "overhead_us_p50", "overhead_varied_us_p50", "http_decisions_per_s",
            "http_p99_ms", "batch_decisions_per_s", "submit_per_s_sqlite", "submit_per_s_postgres")
"""The figures each run keeps in the ``runs`` list of a repeated bench (the targets' and the baseline's)."""


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several runs of the same measurements: every timed figure is the median of the
    runs', so one run that falls in a slow spell of this shared machine (seen on 4 December:
    everything half again as slow for tens of seconds, durable-rules alone included) neither makes
    nor breaks a target; the spell still shows in ``runs``, which lists each run's own figures.

    - errors: the largest of any run's; an audit is ok only if every run's was;
    - sample counts (``*_timed``, ``batch_calls``): the sum, the samples behind the figure;
    - the batch calls' spread: the slowest and the fastest call of all runs;
    - a run that did not measure a figure (None) is left out of its median; a figure measured in one
      run only (memory growth, the scaling tables) is that run's;
    - text, the machine and tables come from the first run."""
    if len(runs) == 1:
        return dict(runs[0])
    result: dict[str, Any] = {}
    for key in dict.fromkeys(key for run in runs for key in run):
        values = [run[key] for run in runs if run.get(key) is not None]
        if not values or key in FIRST_RUN_KEYS:
            result[key] = next((run[key] for run in runs if key in run), None)
        elif all(isinstance(v, bool) for v in values):
            result[key] = all(values)
        elif key == "batch_call_spread_per_s":
            result[key] = [min(low for low, _ in values), max(high for _, high in values)]
        elif all(_is_number(v) for v in values):
            if key.endswith("_errors"):
                result[key] = max(values)
            elif key.endswith("_timed") or key == "batch_calls":
                result[key] = sum(values)
            else:
                middle = statistics.median(values)
                result[key] = round(middle, 2) if isinstance(middle, float) else middle
        else:
            result[key] = values[0]
    result["repeats"] = len(runs)
    result["runs"] = [{key: run.get(key) for key in RUN_KEYS} for run in runs]
    return result


FIRST_RUN_KEYS = frozenset({"date", "nproc", "cpu", "memory_gb", "python", "load_1min_at_start", "rules",
                            "rulesets", "http_load", "batch_size"})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _collect(settings: Settings, say: Callable[[str], None], rules: Path, once: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **machine()}
    started = time.perf_counter()

    say("in-process decisions ...")
    engine = inprocess.shipped_engine(rules)
    requests = inprocess.sample_requests()
    result["rules"] = len(engine.pack_set.rules)
    result["rulesets"] = sum(len(stage) for stage in engine.compiled.stages.values())
    result.update(inprocess.interleaved_decision_timings(engine, requests, settings.rounds))
    result.update(inprocess.phase_timings(engine, requests, max(5, settings.rounds // 4)))

    if once:
        say(f"memory over {settings.rss_evaluations:,} evaluations ...")
        rss = inprocess.rss_growth(engine, requests, settings.rss_evaluations,
                                   warmup=min(20_000, max(1000, settings.rss_evaluations // 5)))
        result.update(rss)
        result["rss_growth_mb"] = round(rss["rss_growth_mb_measured"] * settings.rss_scale, 2)

    if settings.http:
        from api.bench import http

        say("HTTP, one worker ...")
        with tempfile.TemporaryDirectory(prefix="baygate-bench-") as folder, http.Server(Path(folder), rules) as server:
            http.warm_up(server.url)
            figures = http.dry_runs(server.url, settings.http_seconds, settings.connections, Path(folder))
            result["http_decisions_per_s"] = round(figures["rps"], 1)
            result["http_p50_ms"] = round(figures["p50_ms"], 2)
            result["http_p99_ms"] = round(figures["p99_ms"], 2)
            result["http_errors"] = int(figures["errors"])
            result["http_load"] = f"{figures['tool']}, {settings.connections} connections, " \
                                  f"{settings.http_seconds:g} s"
            say("HTTP batch ...")
            result["batch_size"] = settings.batch_size
            figures = http.batch(server.url, settings.batch_size, settings.batch_seconds)
            result["batch_decisions_per_s"] = round(figures["decisions_per_s"], 1)
            result["batch_calls"] = figures["calls"]
            result["batch_call_spread_per_s"] = [round(figures["call_min_per_s"]), round(figures["call_max_per_s"])]
            say("HTTP reference: a validate-only FastAPI endpoint ...")
            with http.BaselineServer() as baseline:
                http.warm_up(baseline.url)
                reference = http.dry_runs(baseline.url, settings.http_seconds, settings.connections, Path(folder))
            result["http_validate_only_per_s"] = round(reference["rps"], 1)
            if settings.scaling and once:
                result["batch_scaling"] = [
                    {"batch_size": size, "decisions_per_s": round(
                        http.batch(server.url, size, 2.0)["decisions_per_s"], 1)}
                    for size in settings.batch_sizes]
    else:
        result.update(http_decisions_per_s=None, http_p99_ms=None, batch_decisions_per_s=None)

    from api.bench import ledger

    for level in ("FULL", "NORMAL"):
        say(f"ledger, SQLite synchronous={level} ...")
        figures = ledger.sqlite(engine, rules, settings.threads, settings.ledger_seconds, level)
        suffix = "" if level == "FULL" else "_normal"
        result[f"submit_per_s_sqlite{suffix}"] = figures["per_s"]
        result[f"audit_ok_sqlite{suffix}"] = figures["audit_ok"]
    result["submit_per_s_postgres"] = None
    if settings.postgres:
        say("ledger, PostgreSQL ...")
        try:
            figures = ledger.postgres(engine, rules, settings.threads, settings.ledger_seconds,
                                      settings.postgres_url)
        except Exception as exc:  # a missing server is reported, not fatal
            result["postgres_error"] = f"{type(exc).__name__}: {exc}"
        else:
            result["submit_per_s_postgres"] = figures["per_s"]
            result["audit_ok_postgres"] = figures["audit_ok"]

    if settings.scaling and once:
        say("cost against the number of rules ...")
        result["rule_scaling"] = inprocess.rule_scaling(requests, settings.rule_counts, max(5, settings.rounds // 10))
        result["single_ruleset_scaling"] = inprocess.single_ruleset_scaling(
            requests, settings.rule_counts, max(5, settings.rounds // 10))
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result

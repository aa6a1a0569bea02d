"""``baygate bench``: measure the engine, the service and the ledger against DESIGN section 9.

Prints a table; with ``--json`` the last line is one JSON object. ``--quick`` measures memory over
100,000 evaluations and multiplies by ten, and runs shorter loads. Figures vary with what else the
machine is doing, so the timed measurements run three times (``--repeat``) and each figure is the
median of the runs', with every run's own figures beside it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Annotated, Any

import typer


def _table(result: dict[str, Any]) -> list[str]:
    from api.bench import TARGETS, meets
    from api.bench.run import RUN_KEYS

    lines = [f"baygate bench  {result['date']}  {result['nproc']} CPUs  {result['cpu']}  "
             f"{result['memory_gb']} GB  load {result['load_1min_at_start']}"]
    runs = result.get("runs") or []
    lines.append(f"{'figure':<28}{'value':>14}  {'target':<10}{'met':<5}"
                 + (f"runs ({len(runs)}; the value is their median)" if runs else ""))
    for key, value in result.items():
        if isinstance(value, list | dict) or key in ("date", "nproc", "cpu", "memory_gb", "python",
                                                   "load_1min_at_start"):
            continue
        target = f"{TARGETS[key][0]} {TARGETS[key][1]:g}" if key in TARGETS else ""
        shown = _shown(value)
        each = "  ".join(_shown(run[key]) for run in runs if run.get(key) is not None) if key in RUN_KEYS else ""
        lines.append(f"{key:<28}{shown:>14}  {target:<10}{meets(key, value):<5}{each}".rstrip())
    for key in ("rule_scaling", "single_ruleset_scaling", "batch_scaling"):
        rows = result.get(key)
        if rows:
            lines.append(key + ":")
            for row in rows:
                lines.append("  " + "  ".join(f"{k}={v}" for k, v in row.items()))
    return lines


def _shown(value: Any) -> str:
    return "-" if value is None else (f"{value:,.1f}" if isinstance(value, float) else str(value))


def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Shorter runs (within 3 minutes); memory over "
                                        "100,000 evaluations, times ten.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of every figure.")] = False,
    scaling: Annotated[bool | None, typer.Option("--scaling/--no-scaling", help="Also measure cost against "
                                                 "rule count and batch size (default: on without --quick).")]
    = None,
    postgres: Annotated[str | None, typer.Option("--postgres", help="PostgreSQL URL for the ledger figure "
                                                 "(default: BAYGATE_BENCH_POSTGRES_URL, else a throwaway "
                                                 "cluster).")] = None,
    repeat: Annotated[int | None, typer.Option("--repeat", min=1, max=20, help="Runs of the timed "
                                               "measurements; each figure is the median of the runs' "
                                               "(default 3).")] = None,
    rounds: Annotated[int | None, typer.Option("--rounds", min=1, hidden=True)] = None,
    rss_evaluations: Annotated[int | None, typer.Option("--rss-evaluations", min=1, hidden=True)] = None,
    seconds: Annotated[float | None, typer.Option("--seconds", min=0.5, hidden=True,
                                                  help="HTTP, batch and ledger load seconds.")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, max=10_000, hidden=True)] = None,
) -> None:
    """Measure decisions, HTTP, batch, ledger and memory on this machine (DESIGN section 9)."""
    from api.bench.run import FULL, QUICK, collect

    settings = QUICK if quick else FULL
    changes: dict[str, Any] = {}
    if scaling is not None:
        changes["scaling"] = scaling
    url = postgres or os.environ.get("BAYGATE_BENCH_POSTGRES_URL")
    if url:
        changes["postgres_url"] = url
    if repeat is not None:
        changes["repeats"] = repeat
    if rounds is not None:
        changes["rounds"] = rounds
    if rss_evaluations is not None:
        changes["rss_evaluations"] = rss_evaluations
    if seconds is not None:
        changes.update(http_seconds=seconds, batch_seconds=seconds, ledger_seconds=seconds)
    if batch_size is not None:
        changes.update(batch_size=batch_size, batch_sizes=tuple(s for s in (1, 10, 100) if s <= batch_size))
    settings = dataclasses.replace(settings, **changes)

    def say(text: str) -> None:
        typer.echo(f"  {text}", err=True)

    result = collect(settings, say)
    for line in _table(result):
        typer.echo(line)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))

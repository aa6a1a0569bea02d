"""Microseconds per in-process decision for the shipped packs, and durable-rules alone on the same
compiled rulesets (lock, fresh session id, stages and state deletion included).

    .venv/bin/python benchmarks/engine_bench.py [--rounds N]

Prints a table and, last, one JSON line. Decisions use the shared scenarios' requests in turn.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import yaml

from engine import rete
from engine.compiler import encode_facts
from engine.evaluator import Engine
from engine.facts import PriorCounts, derive_facts
from engine.models import TransferRequest
from engine.rulespec import load_pack_set

ROOT = Path(__file__).resolve().parents[1]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    engine = Engine(load_pack_set(ROOT / "rules"))
    scenarios = yaml.safe_load((ROOT / "tests" / "data" / "scenarios.yaml").read_text(encoding="utf-8"))["scenarios"]
    requests = [TransferRequest.model_validate(s["request"]) for s in scenarios]

    # The facts each stage sees, exactly as the evaluator asserts them.
    staged: list[list[tuple[list[str], dict[str, object]]]] = []
    for request in requests:
        facts = derive_facts(request, PriorCounts(), engine.options, engine.pack_set.mechanisms)
        engine.fire(facts)  # sets facts["exemption"] to what the stages derive
        final = encode_facts(facts, engine.pack_set.registry, engine.compiled.keys)
        first = dict(final)
        for key in [k for k in first if k.startswith("exemption__")]:
            first[key] = 0
        plan = []
        for stage in sorted(engine.compiled.stages):
            names = [r.name for r in engine.compiled.stages[stage]]
            if names:
                plan.append((names, first if stage == 0 else final))
        staged.append(plan)

    for _ in range(20):  # warm up
        for request in requests:
            engine.evaluate(request)

    durable: list[float] = []
    decision: list[float] = []
    clock = time.perf_counter
    for _ in range(args.rounds):
        for plan, request in zip(staged, requests, strict=True):
            start = clock()
            for names, encoded in plan:
                rete.fire(names, encoded)
            durable.append((clock() - start) * 1e6)
            start = clock()
            engine.evaluate(request)
            decision.append((clock() - start) * 1e6)

    rulesets = sum(len(v) for v in engine.compiled.stages.values())
    result = {
        "rules": len(engine.pack_set.rules),
        "rulesets": rulesets,
        "decisions": len(decision),
        "durable_only_us_p50": round(statistics.median(durable), 1),
        "durable_only_us_p99": round(percentile(durable, 0.99), 1),
        "decision_us_p50": round(statistics.median(decision), 1),
        "decision_us_p99": round(percentile(decision, 0.99), 1),
    }
    result["overhead_us_p50"] = round(result["decision_us_p50"] - result["durable_only_us_p50"], 1)
    for key, value in result.items():
        print(f"{key:<24} {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

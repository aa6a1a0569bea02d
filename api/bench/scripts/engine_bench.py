"""Microseconds per in-process decision for the shipped packs, and durable-rules alone on the same
facts (lock, fresh session id, stages and state deletion included). A thin wrapper around
``api.bench.inprocess``; ``baygate bench`` runs this and every other measurement.

    .venv/bin/python -m api.bench.scripts.engine_bench [--rounds N]
"""

from __future__ import annotations

import argparse
import json

from api.bench import inprocess


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    engine = inprocess.shipped_engine()
    result = {"rules": len(engine.pack_set.rules),
              **inprocess.decision_timings(engine, inprocess.sample_requests(), args.rounds)}
    for key, value in result.items():
        print(f"{key:<24} {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

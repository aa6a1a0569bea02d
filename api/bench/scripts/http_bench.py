"""HTTP benchmark: dry-run decisions per second and p50/p99 latency on one worker, loaded from a
separate process (wrk, else a Python load generator), then the batch route. A thin wrapper around
``api.bench.http``; ``baygate bench`` runs this and every other measurement.

    .venv/bin/python -m api.bench.scripts.http_bench [--seconds 10] [--connections 16] [--batch 1000] [--python]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from api.bench import http


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--python", action="store_true", help="use the Python load generator even with wrk")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="baygate-bench-") as folder, http.Server(Path(folder)) as server:
        http.warm_up(server.url)
        figures = http.dry_runs(server.url, args.seconds, args.connections, Path(folder), args.python)
        print(f"POST /v1/evaluate, 1 worker, {args.connections} connections, {args.seconds:g} s, load: "
              f"{figures['tool']}")
        print(f"  {figures['rps']:8.0f} dry-run decisions/s   p50 {figures['p50_ms']:.2f} ms   "
              f"p99 {figures['p99_ms']:.2f} ms   non-2xx {figures['errors']:.0f}   (target >= 2,000/s)")
        rate = http.batch(server.url, args.batch, 5)["decisions_per_s"]
        print(f"POST /v1/evaluate/batch, {args.batch} requests a call: {rate:8.0f} decisions/s (target >= 5,000/s)")


if __name__ == "__main__":
    main()

"""The ledger at scale (issue 21; DESIGN section 9): build a ledger through the project's own submit
path, then measure verify, replay (all, one id, --exporter, --since, --workers) and rules diff (time and
peak memory, each as its own ``baygate`` process), a withdrawal, submissions at that size and the bytes
stored per transfer. A thin wrapper around ``api.bench.scale_build`` and ``api.bench.scale``.

    python -m api.bench.scripts.ledger_scale build --db sqlite:////work/scale-data/1e5.db --size 100000
    python -m api.bench.scripts.ledger_scale measure --db sqlite:////work/scale-data/1e5.db \
        [--ops verify,replay,replay-one,replay-exporter,replay-since,diff,withdraw,submit,submit-file,http-batch,size]
        [--workers 2] [--public-key FILE]

A build that stops can be run again with the same size: what is recorded is answered as such.
Big ledgers take a while (about 850 submissions a second here): build them once, keep them outside
the repository, and reuse them.
"""

from __future__ import annotations

import argparse
import json

from api.bench import ROOT, inprocess, scale, scale_build

ALL = "verify,replay,replay-one,replay-exporter,replay-since,diff,withdraw,submit,submit-file,http-batch,size"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("build", "measure"))
    parser.add_argument("--db", required=True, help="Database URL of the ledger.")
    parser.add_argument("--size", type=int, default=10_000, help="build: transfers to submit.")
    parser.add_argument("--threads", type=int, default=8, help="build: submitting threads.")
    parser.add_argument("--bulk", action="store_true", help="build: through Ledger.submit_many (a list file's "
                        "path), in its groups (BULK_GROUP a transaction), instead of submit from threads.")
    parser.add_argument("--ops", default=ALL, help=f"measure: comma-separated, from {ALL} "
                        "(and replay-wN, diff-wN with --workers N; http-batch-cN: N clients at once; "
                        "http-batch-cN-wM: and M server workers).")
    parser.add_argument("--workers", type=int, default=2, help="measure: also replay and diff with this many.")
    parser.add_argument("--timeout", type=float, default=3_600, help="measure: stop a command after this long.")
    parser.add_argument("--command", default=str(scale.BAYGATE), help="measure: how to run baygate (another "
                        "version of it, to compare), split on spaces.")
    parser.add_argument("--public-key", help="measure: verify checks the signatures against this public key "
                        "(PEM), as an auditor would. Writes (withdraw, submit, submit-file, http-batch) sign with "
                        "BAYGATE_SIGNING_KEY_FILE when the ledger is signed.")
    parser.add_argument("--json", action="store_true", help="End with one JSON line of every figure.")
    args = parser.parse_args()
    if args.action == "build":
        if args.bulk:
            figures = scale_build.build_in_bulk(args.db, args.size, inprocess.shipped_engine(), ROOT / "rules")
        else:
            figures = scale_build.build(args.db, args.size, inprocess.shipped_engine(), ROOT / "rules", args.threads)
        print(f"built {args.db}: {figures}")
    else:
        chosen = [name.strip() for name in args.ops.split(",") if name.strip()]
        figures = scale.measure(args.db, chosen, args.timeout, args.workers, command=args.command.split(),
                                public_key=args.public_key)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()

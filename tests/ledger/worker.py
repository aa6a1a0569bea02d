"""A separate process that submits through the Ledger, for the concurrency and crash tests.

Run as ``python -m tests.ledger.worker MODE URL ARG...``:
- ``once URL REF SUBJECTS START``: get ready (engine built, ledger open), print ``ready``, wait for the
  file START to exist, submit one transfer, print its outcome and prior count as JSON.
- ``pause URL REF MARKER``: submit, but inside the transaction, right after the transfer row is
  written and before the commit, create MARKER and sleep (the test then kills us with SIGKILL).
- ``loop URL PREFIX``: submit small transfers one after another, printing each reference once
  committed, until killed.
- ``bulk URL PREFIX COUNT SUBJECTS START [GROUP [PAUSE]]``: get ready, print ``ready``, wait for START,
  then record COUNT transfers (references PREFIX-0, PREFIX-1, ..., SUBJECTS each) with ONE
  ``Ledger.submit_many`` call, in groups of GROUP (default: the ledger's BULK_GROUP), and print one JSON
  line per result, in order: its reference, outcome, prior count and whether it was recorded before
  (``replayed``), or the error that refused it.
  PAUSE (seconds, default 0): the requests arrive as from a stream (a list file read as it is recorded),
  each group's after a pause, so another process's waiting writer can take SQLite's lock in between.
  Every group is decided ahead of the write lock (``OtherWriters.always``), the first one too, so the
  guesses made without the lock meet the other process's writes from the start.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.models import TransferRequest
from tests.ledger.conftest import RULES, transfer


def main(argv: list[str]) -> None:
    mode, url = argv[0], argv[1]
    engine = Engine.from_directory(RULES)
    ledger = Ledger(url)
    if mode == "once":
        reference, subjects, start = argv[2], int(argv[3]), Path(argv[4])
        request = transfer(reference, subjects)
        print("ready", flush=True)
        while not start.exists():
            time.sleep(0.001)
        decision = ledger.submit(engine, request).decision
        print(json.dumps({"reference": reference, "outcome": decision.outcome,
                          "before": decision.counts.personal_subjects_before}), flush=True)
    elif mode == "pause":
        reference, marker = argv[2], Path(argv[3])

        @event.listens_for(ledger.sql_engine, "after_cursor_execute")
        def _pause(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO TRANSFERS"):
                marker.write_text("in transaction")
                time.sleep(600)

        ledger.submit(engine, transfer(reference, 15_000))
    elif mode == "loop":
        prefix = argv[2]
        for number in range(1_000_000):
            reference = f"{prefix}-{number}"
            ledger.submit(engine, transfer(reference, 100))
            print(reference, flush=True)
    elif mode == "bulk":
        prefix, count, subjects, start = argv[2], int(argv[3]), int(argv[4]), Path(argv[5])
        group = int(argv[6]) if len(argv) > 6 else None
        pause = float(argv[7]) if len(argv) > 7 else 0.0
        requests = [transfer(f"{prefix}-{number}", subjects) for number in range(count)]

        def streamed() -> Iterator[TransferRequest]:
            for number, request in enumerate(requests):
                if pause and group and number and number % group == 0:
                    time.sleep(pause)  # submit_many has committed the group before: we hold no lock
                yield request

        ledger.recorder.other_writers.always = True
        print("ready", flush=True)
        while not start.exists():
            time.sleep(0.001)
        results = ledger.submit_many(engine, streamed(), group=group)
        for request, result in zip(requests, results, strict=True):
            if isinstance(result, Exception):
                print(json.dumps({"reference": request.reference, "error": repr(result)}), flush=True)
            else:
                print(json.dumps({"reference": request.reference, "outcome": result.decision.outcome,
                                  "before": result.decision.counts.personal_subjects_before,
                                  "replayed": result.replayed}), flush=True)
    else:  # pragma: no cover
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])

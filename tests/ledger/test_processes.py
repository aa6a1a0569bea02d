"""Several processes on one database: serialised counting (single submissions and bulk groups), and crash
safety under SIGKILL.

These start real processes (``tests/ledger/worker.py``) against a real SQLite file and a real
PostgreSQL database: the per-exporter serialisation and the all-or-nothing commit are properties of
the database transactions, which only separate processes can exercise.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from engine.evaluator import Engine
from engine.ledger import Ledger, NotFound
from tests.ledger.conftest import EXPORTER, ROOT, stored_texts, transfer

WORKERS = 8


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.ledger.worker", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def recorded_permitted_sum(ledger: Ledger) -> int:
    """The counts as the recorded decisions say, independently of the counting columns."""
    total = 0
    for _row, _request_json, decision_json in stored_texts(ledger, "withdrawn_at IS NULL"):
        decision = json.loads(decision_json)
        if decision["outcome"] == "permitted" and decision["counts"]["counted"]:
            total += decision["counts"]["personal_subjects_after"] - decision["counts"]["personal_subjects_before"]
    return total


def test_eight_processes_at_once_exactly_six_permitted(ledger_url: str, tmp_path: Path) -> None:
    Ledger(ledger_url).close()  # schema first, so the workers race on submissions, not migrations
    start = tmp_path / "start"
    workers = [spawn("once", ledger_url, f"C-{i}", "15000", str(start)) for i in range(WORKERS)]
    for worker in workers:
        assert worker.stdout is not None
        line = worker.stdout.readline()
        assert line.strip() == "ready", worker.stderr.read() if worker.stderr else line
    start.touch()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    outcomes = sorted(r["outcome"] for r in results)
    assert outcomes == ["conditional"] * 2 + ["permitted"] * 6
    assert sorted(r["before"] for r in results if r["outcome"] == "permitted") == [
        i * 15_000 for i in range(6)]
    assert {r["before"] for r in results if r["outcome"] == "conditional"} == {90_000}
    ledger = Ledger(ledger_url)
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 90_000
    assert ledger.verify().ok


def bulk_at_once(ledger_url: str, tmp_path: Path, count: int, subjects: int,
                 groups: tuple[int, int] | None = None, pause: float = 0.0,
                 prefixes: tuple[str, str] = ("A", "B")) -> list[list[dict[str, Any]]]:
    """Two processes, each recording ``count`` transfers of ``subjects`` of EXPORTER (references
    ``<prefix>-0``, ``<prefix>-1``, ...) with ONE ``submit_many``, in groups of ``groups`` (one size for
    each; default BULK_GROUP), each group after a ``pause`` (worker.py's ``bulk`` mode), started at the
    same moment: each one's results, in order."""
    Ledger(ledger_url).close()  # schema first, so the workers race on their groups, not migrations
    start = tmp_path / "start"
    extras = [[], []] if groups is None else [[str(group), str(pause)] for group in groups]
    workers = [spawn("bulk", ledger_url, prefix, str(count), str(subjects), str(start), *extra)
               for prefix, extra in zip(prefixes, extras, strict=True)]
    for worker in workers:
        assert worker.stdout is not None
        line = worker.stdout.readline()
        assert line.strip() == "ready", worker.stderr.read() if worker.stderr else line
    start.touch()
    results = []
    for prefix, worker in zip(prefixes, workers, strict=True):
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        lines = [json.loads(line) for line in out.splitlines()]
        assert [line.get("error") for line in lines] == [None] * count, lines  # none refused
        assert [line["reference"] for line in lines] == [f"{prefix}-{n}" for n in range(count)]
        befores = [line["before"] for line in lines]
        assert befores == sorted(befores), befores  # its list decided in order, each after the ones before
        results.append(lines)
    return results


def counted_exactly(ledger_url: str, total: int) -> Ledger:
    """The ledger after the processes: its counts column and the sum of its recorded permitted decisions
    both ``total``, and its audit chain verifying. Returned for further checks."""
    ledger = Ledger(ledger_url)
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == recorded_permitted_sum(ledger) == total
    result = ledger.verify()
    assert result.ok, result.problem
    return ledger


def test_two_processes_bulk_groups_at_once_exactly_six_permitted(ledger_url: str, tmp_path: Path) -> None:
    """Two processes each record 4 transfers of 15,000 in one bulk group (``submit_many``): of the 8,
    exactly 6 fit under the 100,000 threshold, each on a count no other saw, whichever group goes first."""
    every = [line for lines in bulk_at_once(ledger_url, tmp_path, 4, 15_000) for line in lines]
    assert sorted(line["outcome"] for line in every) == ["conditional"] * 2 + ["permitted"] * 6
    assert sorted(line["before"] for line in every if line["outcome"] == "permitted") == [
        i * 15_000 for i in range(6)]
    assert [line["before"] for line in every if line["outcome"] == "conditional"] == [90_000] * 2
    counted_exactly(ledger_url, 90_000)


def test_two_processes_bulk_lists_of_many_groups_count_exactly(ledger_url: str, tmp_path: Path) -> None:
    """Two processes each record 15 transfers of 4,000 in groups of 3 (five groups each, racing for the
    database group by group), across the 100,000 threshold: exactly 24 are permitted, each on a count
    no other saw, and the counts are what the recorded decisions add up to. The pause between groups
    lets the other process's waiting writer in: SQLite does not queue waiters in arrival order, and
    without it one process may record all its groups before the other's first (PostgreSQL queues
    them: there they take turns either way)."""
    results = bulk_at_once(ledger_url, tmp_path, 15, 4_000, groups=(3, 3), pause=0.005)
    every = [line for lines in results for line in lines]
    assert sorted(line["before"] for line in every if line["outcome"] == "permitted") == [
        i * 4_000 for i in range(24)]  # 92,000 + 4,000 < 100,000; 96,000 + 4,000 is not
    assert [line["before"] for line in every if line["outcome"] == "conditional"] == [96_000] * 6
    counted_exactly(ledger_url, 96_000)


def test_two_processes_bulk_the_same_list_records_each_transfer_once(ledger_url: str, tmp_path: Path) -> None:
    """Two processes record the same 9 transfers (a list sent twice, e.g. a client's retry on another
    worker) at once, in groups of 3 and of 2, so that a group may hold transfers the other process has
    just recorded and new ones: each transfer is recorded by one of them, the other answers its recorded
    decision (``replayed``), and it is counted once."""
    first, second = bulk_at_once(ledger_url, tmp_path, 9, 15_000, groups=(3, 2), pause=0.005, prefixes=("S", "S"))
    for mine, theirs in zip(first, second, strict=True):
        assert (mine["outcome"], mine["before"]) == (theirs["outcome"], theirs["before"]), (mine, theirs)
        assert sorted([mine["replayed"], theirs["replayed"]]) == [False, True], (mine, theirs)
    assert [line["before"] for line in first if line["outcome"] == "permitted"] == [i * 15_000 for i in range(6)]
    assert [line["before"] for line in first if line["outcome"] == "conditional"] == [90_000] * 3
    assert len(stored_texts(counted_exactly(ledger_url, 90_000))) == 9


def test_sigkill_inside_the_transaction_leaves_no_trace(ledger_url: str, ledger_engine: Engine,
                                                         tmp_path: Path) -> None:
    ledger = Ledger(ledger_url)
    ledger.submit(ledger_engine, transfer("K-1", 15_000))
    ledger.submit(ledger_engine, transfer("K-2", 15_000))
    events_before = ledger.verify().events
    marker = tmp_path / "in-transaction"
    worker = spawn("pause", ledger_url, "K-KILLED", str(marker))
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
        assert time.monotonic() < deadline, "the worker never reached its transaction"
        time.sleep(0.01)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    after = Ledger(ledger_url)
    result = after.verify()
    assert result.ok, result.problem
    assert result.events == events_before
    try:
        after.get("K-KILLED")
        raise AssertionError("the killed submission was recorded")
    except NotFound:
        pass
    assert after.counts(EXPORTER, 2026)["personal_subjects"] == recorded_permitted_sum(after) == 30_000
    # the exporter's lock died with the process: the next submission goes through at once
    started = time.monotonic()
    assert after.submit(ledger_engine, transfer("K-3", 15_000)).decision.counts.personal_subjects_before == 30_000
    assert time.monotonic() - started < 10
    assert after.verify().ok


def test_sigkill_at_a_random_moment_of_a_busy_writer(ledger_url: str) -> None:
    Ledger(ledger_url).close()
    worker = spawn("loop", ledger_url, "L")
    assert worker.stdout is not None
    committed = []
    for _ in range(30):  # let it record some, then kill it wherever it is
        line = worker.stdout.readline()
        assert line, worker.stderr.read() if worker.stderr else ""
        committed.append(line.strip())
    time.sleep(0.0137)
    os.kill(worker.pid, signal.SIGKILL)
    rest, _ = worker.communicate(timeout=30)
    committed += rest.split()
    ledger = Ledger(ledger_url)
    result = ledger.verify()
    assert result.ok, result.problem
    for reference in committed:  # everything reported as recorded is recorded
        ledger.get(reference)
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == recorded_permitted_sum(ledger)
    assert recorded_permitted_sum(ledger) >= 100 * len(committed)

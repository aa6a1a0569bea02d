"""Replays and rule diffs run in worker processes: partitioned by exporter, recycled after a few engines.

Why processes: durable-rules can never free a compiled ruleset (DESIGN section 7), so a replay that meets
many stored pack versions would grow with each one, and one process uses one core. So the walk of
``engine.replay`` runs in worker processes (``spawn``: nothing of the parent's state is inherited):

- ``workers`` processes each take the exporters of one partition (``engine.ledger.history.partition``:
  the heaviest exporters balanced by their transfers, the others by hash) and carry only their
  counts; together they re-decide each transfer once;
- a worker builds at most ``engine_budget`` engines; the transfer that would need one more ends it
  (``Stopped``), and a fresh process carries on from that transfer, its counts rebuilt from the rows
  (``engine.ledger.priors``), its memory starting again from nothing.

Workers report in batches (a count and any differences, every ``BATCH`` transfers or half a second), so
the parent can show progress and print differences as they come, keeping none. A worker that fails
reports why; one that dies without a word (killed, out of memory) is noticed by its exit code. Either
ends the run with :class:`WorkerFailed`, every other worker stopped.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from multiprocessing.process import BaseProcess
from typing import Any, Literal

from engine.errors import BaygateError
from engine.ledger.history import Walk, partition
from engine.ledger.store import Ledger

BATCH = 200
BATCH_SECONDS = 0.5
ENGINE_BUDGET = 8
"""Engines (pack set and options) one worker process builds before a fresh one carries on: a few MB
each here, but never freed (DESIGN section 7)."""


class WorkerFailed(BaygateError):
    """A worker could not finish (the database, memory, an error of its own): the run is incomplete.
    ``status`` is the exit status the reason calls for (4: could not finish; 3: bad input)."""

    code = "baygate.could-not-finish"
    http_status = 503

    def __init__(self, message: str, status: int = 4) -> None:
        super().__init__(message)
        self.status = status
        if status != 4:
            self.http_status = 400


@dataclass(frozen=True)
class Task:
    """What the workers do: ``replay`` the recorded decisions, or ``diff`` them under two pack folders."""

    kind: Literal["replay", "diff"]
    url: str
    walk: Walk = field(default_factory=Walk)
    old_rules: str | None = None
    new_rules: str | None = None
    engine_budget: int = ENGINE_BUDGET


@dataclass(frozen=True)
class Batch:
    """Transfers a worker re-decided since its last batch, and what it found among them: differences
    (replay) or changes (diff), as their ``as_dict``, and the pack sets replayed under."""

    checked: int
    found: list[dict[str, Any]]
    pack_sets: set[str]


@dataclass(frozen=True)
class _Stopped:
    worker: int
    resume_seq: int


@dataclass(frozen=True)
class _Done:
    worker: int


@dataclass(frozen=True)
class _Failed:
    worker: int
    message: str
    status: int


def run(task: Task, workers: int = 1) -> Iterator[Batch]:
    """Run ``task`` in ``workers`` processes; yields their batches as they come. Raises WorkerFailed
    when one cannot finish; on KeyboardInterrupt (or the caller closing the iterator) the workers are
    stopped first."""
    workers = max(1, workers)
    assigned: dict[str, int] = {}
    if workers > 1 and task.walk.exporter is None:
        ledger = Ledger(task.url, upgrade=False)
        try:
            assigned = partition(ledger, workers)
        finally:
            ledger.close()
    else:
        workers = 1
    context = multiprocessing.get_context("spawn")
    messages: Any = context.Queue()
    running: dict[int, BaseProcess] = {}

    def start(worker: int, start_seq: int) -> None:
        walk = replace(task.walk, worker=worker, workers=workers, assigned=assigned,
                       start_seq=max(start_seq, task.walk.start_seq))
        process = context.Process(target=_work, args=(replace(task, walk=walk), worker, messages),
                                  name=f"baygate-{task.kind}-{worker}", daemon=True)
        process.start()
        running[worker] = process

    try:
        for worker in range(workers):
            start(worker, 0)
        while running:
            try:
                message = messages.get(timeout=1.0)
            except queue.Empty:
                _check_alive(running)
                continue
            if isinstance(message, Batch):
                yield message
            elif isinstance(message, _Stopped):
                running.pop(message.worker).join()
                start(message.worker, message.resume_seq)
            elif isinstance(message, _Done):
                running.pop(message.worker).join()
            elif isinstance(message, _Failed):
                raise WorkerFailed(message.message, message.status)
    finally:
        for process in running.values():
            if process.is_alive():
                process.terminate()
        for process in running.values():
            process.join(timeout=10)
        messages.close()


def _check_alive(running: dict[int, BaseProcess]) -> None:
    for worker, process in running.items():
        if not process.is_alive() and process.exitcode not in (0, None):
            signal = -process.exitcode if process.exitcode and process.exitcode < 0 else None
            cause = (f"killed by signal {signal}" + (" (out of memory?)" if signal == 9 else "")
                     if signal else f"exit status {process.exitcode}")
            raise WorkerFailed(f"worker {worker} ended without finishing ({cause})")


class _ParentGone(Exception):
    """The process that started this worker has ended (killed, or stopped by a scheduler's SIGTERM)."""


def _work(task: Task, worker: int, messages: Any) -> None:
    """A worker process: walk its part of the chain, report in batches, say how it ended."""
    try:
        outcome = _walk(task, worker, messages, os.getppid())
    except (KeyboardInterrupt, _ParentGone):
        return  # the parent was interrupted too and stops everything, or is gone: nobody reads on
    except BaseException as exc:  # reported, never a traceback in a worker
        messages.put(_Failed(worker, _reason(exc), _status(exc)))
        return
    messages.put(outcome)


def _walk(task: Task, worker: int, messages: Any, parent: int) -> _Stopped | _Done:
    """Walk, and at every batch check that ``parent`` still runs: a parent killed outright (SIGKILL, or a
    scheduler's SIGTERM) cannot stop its workers, and one walking on would keep reading the ledger for as
    long as its share takes (seen: an hour at 10^6) with nobody reading its batches."""
    from engine.replay import Compared, PackLibrary, Replayed, Stopped, diff_each, replay_each
    from engine.rulespec import load_pack_set

    ledger = Ledger(task.url, upgrade=False)
    try:
        library = PackLibrary(ledger)
        library.budget = task.engine_budget
        if task.kind == "replay":
            outcomes: Iterator[Any] = replay_each(ledger, None, library, task.walk)
        else:
            assert task.old_rules is not None and task.new_rules is not None
            outcomes = diff_each(ledger, load_pack_set(task.old_rules), load_pack_set(task.new_rules), task.walk,
                                 library)
        found: list[dict[str, Any]] = []
        pack_sets: set[str] = set()
        checked, sent, stopped_at = 0, time.monotonic(), None
        for total, outcome in enumerate(outcomes):
            if isinstance(outcome, Stopped):
                if total == 0 and outcome.seq == task.walk.start_seq:
                    raise WorkerFailed(f"the transfer at event {outcome.seq} needs more engines than one process may "
                                       f"build ({task.engine_budget})")
                stopped_at = outcome.seq
                break
            checked += 1
            if isinstance(outcome, Replayed):
                if outcome.pack_set is not None:
                    pack_sets.add(outcome.pack_set)
                if outcome.difference is not None:
                    found.append(outcome.difference.as_dict())
            elif isinstance(outcome, Compared) and outcome.change is not None:
                found.append(outcome.change.as_dict())
            if checked >= BATCH or time.monotonic() - sent >= BATCH_SECONDS:
                if os.getppid() != parent:
                    raise _ParentGone
                messages.put(Batch(checked, found, pack_sets))
                checked, found, pack_sets, sent = 0, [], set(), time.monotonic()
        messages.put(Batch(checked, found, pack_sets))
        return _Done(worker) if stopped_at is None else _Stopped(worker, stopped_at)
    finally:
        with contextlib.suppress(Exception):
            ledger.close()


def _status(exc: BaseException) -> int:
    if isinstance(exc, BaygateError) and int(getattr(exc, "http_status", 500)) < 500:
        return 3
    return 4


def _reason(exc: BaseException) -> str:
    if isinstance(exc, BaygateError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory"
    from sqlalchemy.exc import SQLAlchemyError

    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    if isinstance(exc, SQLAlchemyError):
        return f"database unavailable: {detail[0] if detail else type(exc).__name__}"
    return f"internal error ({type(exc).__name__}{': ' + detail[0] if detail else ''})"

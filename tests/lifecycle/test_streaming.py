"""Replays and rule diffs at scale (issue 21): streamed in chain order, split over worker processes by
exporter, recycled after a few engines, with progress, and a clean end on Ctrl-C or a lost worker.

The counts each replay carries are checked against the one-transfer rebuild in
``tests/ledger/test_running_totals.py`` (every walk on random histories); here the commands themselves."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.history import Walk
from engine.replay import PackLibrary, Replayed, Stopped, replay_each
from tests.ledger.conftest import ROOT, transfer
from tests.lifecycle.conftest import BAYGATE, CHANGED_BY_LOWER_THRESHOLD, SUBMITTED, baygate, lowered_threshold

TODAY = dt.datetime.now(dt.UTC).date()


def report_of(answer: subprocess.CompletedProcess[str]) -> dict[str, object]:
    report = json.loads(answer.stdout)  # the streamed list and the counts after it: one JSON object
    assert isinstance(report, dict)
    return report


@pytest.mark.parametrize("workers", ["1", "2", "3"])
def test_every_worker_count_replays_each_transfer_once(recorded: Path, workers: str) -> None:
    answer = baygate("audit", "replay", "--json", "--workers", workers, db=recorded)
    assert answer.returncode == 0, answer.stderr
    report = report_of(answer)
    assert report["checked"] == len(SUBMITTED) and report["differ"] == 0 and report["differences"] == []


def test_a_diff_split_over_workers_lists_exactly_the_affected_transfers(recorded: Path, tmp_path: Path) -> None:
    new = lowered_threshold(tmp_path)
    answer = baygate("rules", "diff", str(ROOT / "rules"), str(new), "--json", "--workers", "2", db=recorded)
    assert answer.returncode == 1, answer.stderr
    report = report_of(answer)
    assert report["checked"] == len(SUBMITTED) and report["changed"] == len(CHANGED_BY_LOWER_THRESHOLD)
    assert {change["reference"] for change in report["changes"]} == CHANGED_BY_LOWER_THRESHOLD  # type: ignore[index]


def test_one_exporter_and_a_day_select_what_is_replayed(recorded: Path, tmp_path: Path) -> None:
    exporter, _subjects = SUBMITTED["SECOND"]
    answer = baygate("audit", "replay", "--json", "--exporter", exporter, db=recorded)
    assert answer.returncode == 0 and report_of(answer)["checked"] == 2  # FIRST and SECOND
    diff = baygate("rules", "diff", str(ROOT / "rules"), str(lowered_threshold(tmp_path)), "--json",
                   "--exporter", exporter, db=recorded)
    assert diff.returncode == 1 and [c["reference"] for c in report_of(diff)["changes"]] == ["SECOND"]  # type: ignore[index]
    today = baygate("audit", "replay", "--json", "--since", TODAY.isoformat(), db=recorded)
    assert today.returncode == 0 and report_of(today)["checked"] == len(SUBMITTED)
    tomorrow = baygate("audit", "replay", "--json", "--since", (TODAY + dt.timedelta(days=1)).isoformat(),
                       db=recorded)
    assert tomorrow.returncode == 0 and report_of(tomorrow)["checked"] == 0
    bad = baygate("audit", "replay", "--since", "yesterday", db=recorded)
    assert bad.returncode == 3 and "--since" in bad.stderr


def test_a_changed_decision_is_in_the_streamed_json(recorded: Path) -> None:
    from tests.ledger.conftest import edit_stored_texts

    ledger = Ledger(f"sqlite:///{recorded}")
    try:
        edit_stored_texts(ledger, "LARGE", lambda request, decision: (request, decision.replace(
            '"outcome":"conditional"', '"outcome":"permitted"')))
    finally:
        ledger.close()
    answer = baygate("audit", "replay", "--json", "--workers", "2", db=recorded)
    assert answer.returncode == 1
    report = report_of(answer)
    assert report["differ"] == 1 and [d["reference"] for d in report["differences"]] == ["LARGE"]  # type: ignore[index]


@pytest.fixture
def two_pack_sets(tmp_path: Path, shipped_engine: Engine) -> Path:
    """Six transfers recorded alternately under the shipped packs and a lowered copy: two pack sets."""
    db = tmp_path / "versions.db"
    lowered = lowered_threshold(tmp_path)
    engines = [shipped_engine, Engine.from_directory(lowered)]
    ledger = Ledger(f"sqlite:///{db}", rules_dirs=[ROOT / "rules", lowered])
    try:
        for number in range(6):
            ledger.submit(engines[number % 2], transfer(f"V-{number}", 60_000, exporter_id=f"VERSIONS-{number % 3}"))
    finally:
        ledger.close()
    return db


def test_a_walk_stops_before_an_engine_over_its_budget_and_resumes_where_it_stopped(two_pack_sets: Path) -> None:
    ledger = Ledger(f"sqlite:///{two_pack_sets}", upgrade=False)
    try:
        whole = [outcome for outcome in replay_each(ledger) if isinstance(outcome, Replayed)]
        assert len(whole) == 6 and not any(outcome.difference for outcome in whole)
        library = PackLibrary(ledger)
        library.budget = 1
        first = list(replay_each(ledger, library=library))
        assert isinstance(first[-1], Stopped) and [o.seq for o in first[:-1]] == [whole[0].seq]
        assert first[-1].seq == whole[1].seq
        fresh = PackLibrary(ledger)  # a fresh process: counts rebuilt from the rows before it
        rest = [o for o in replay_each(ledger, library=fresh, walk=Walk(start_seq=first[-1].seq))]
        assert rest == whole[1:]
    finally:
        ledger.close()


def test_workers_recycled_after_each_engine_still_replay_everything(two_pack_sets: Path) -> None:
    answer = baygate("audit", "replay", "--json", "--engine-budget", "1", db=two_pack_sets)
    assert answer.returncode == 0, answer.stderr
    report = report_of(answer)
    assert report["checked"] == 6 and report["differ"] == 0 and len(report["pack_sets"]) == 2  # type: ignore[arg-type]


def test_a_diff_needing_more_engines_than_a_worker_may_build_could_not_finish(recorded: Path,
                                                                               tmp_path: Path) -> None:
    answer = baygate("rules", "diff", str(ROOT / "rules"), str(lowered_threshold(tmp_path)), "--engine-budget", "1",
                     db=recorded)
    assert answer.returncode == 4
    assert "could not finish" in answer.stderr and "needs more engines" in answer.stderr


def test_a_ledger_behind_the_newest_revision_is_not_replayed(recorded: Path) -> None:
    from alembic import command

    from engine.ledger.database import alembic_config

    ledger = Ledger(f"sqlite:///{recorded}")
    with ledger.sql_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
    ledger.close()
    answer = baygate("audit", "replay", db=recorded)
    assert answer.returncode == 4 and "baygate db upgrade" in answer.stderr


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _started(db: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    """``baygate audit replay`` started in a session of its own, and the pid of its first worker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAYGATE_")}
    env["BAYGATE_DATABASE_URL"] = f"sqlite:///{db}"
    # As a terminal starts it: with Ctrl-C's default action. A test run started in the background (``cmd &``
    # in a script) ignores SIGINT, and a child inherits that across exec: the replay would never see it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen([str(BAYGATE), "audit", "replay", *args], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = [child for child in _children(process.pid)
                   if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text(errors="replace")]
        if workers:
            return process, workers[0]
        time.sleep(0.01)
    process.kill()
    raise AssertionError("no worker started")


def _session_gone(session: int) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == session and int(entry.name) != session:
                    return False
            except OSError:
                continue
    return True


def test_a_worker_killed_from_outside_ends_the_replay_with_could_not_finish(recorded: Path) -> None:
    process, worker = _started(recorded)
    os.kill(worker, signal.SIGKILL)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 4, err
    assert "could not finish" in err and "killed by signal 9" in err and "Traceback" not in err


def test_ctrl_c_stops_the_replay_and_its_workers_cleanly(recorded: Path) -> None:
    process, _worker = _started(recorded)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends the foreground group
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    deadline = time.monotonic() + 10
    while not _session_gone(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session_gone(process.pid), "a worker outlived the interrupted replay"


def _gone(pid: int) -> bool:
    """Whether a process has ended (a zombie nobody reaped yet counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_worker_whose_replay_is_killed_outright_stops_at_its_next_batch(tmp_path: Path,
                                                                          shipped_engine: Engine) -> None:
    """A replay killed with SIGKILL (or a scheduler's SIGTERM) cannot stop its workers; each sees at its
    next batch that its parent is gone and ends, instead of walking the rest of its share unread."""
    db = tmp_path / "ledger.db"
    ledger = Ledger(f"sqlite:///{db}", rules_dirs=[ROOT / "rules"])
    try:
        for _result in ledger.submit_many(shipped_engine, (
                transfer(f"BIG-{n}", 10 + n % 90, exporter_id=f"91440300MA5BIG{n % 40:04d}") for n in range(6_000))):
            pass
    finally:
        ledger.close()
    process, worker = _started(db)
    deadline = time.monotonic() + 60
    while not any(Path(link).resolve() == db.resolve() for link in Path(f"/proc/{worker}/fd").iterdir()
                  if Path(link).is_symlink()):  # walking: it has the ledger open
        assert time.monotonic() < deadline, "the worker never opened the ledger"
        time.sleep(0.01)
    os.kill(worker, signal.SIGSTOP)  # held while its parent is killed, so it cannot have finished first
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    os.kill(worker, signal.SIGCONT)
    resumed = time.monotonic()
    while not _gone(worker) and time.monotonic() - resumed < 10:
        time.sleep(0.02)
    # Its share, 6,000 transfers, takes a worker several seconds; the next batch comes within 0.5 s.
    assert _gone(worker) and time.monotonic() - resumed < 2.0, "the worker walked on without its parent"

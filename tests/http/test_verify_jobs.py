"""Verify jobs over HTTP (DESIGN section 6): ``POST /v1/audit/verify-jobs`` answers at once and a process
of its own walks the chain; ``GET /v1/audit/verify-jobs/{id}`` tells its progress and its result, from
the database (any replica can answer); a job whose process is gone reads as failed."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

from tests.http.conftest import Server, make_request, start_server

PROBLEM = "application/problem+json"


def finished(client: httpx.Client, location: str, seconds: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(location)
        assert job.status_code == 200, job.text
        if job.json()["state"] in ("done", "failed"):
            return job.json()  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"the job did not finish in {seconds} s: {job.json()}")


def test_a_verify_job_answers_at_once_and_reports_the_chain_intact(ledger_server: Server) -> None:
    submitter, auditor = ledger_server.client("submitter"), ledger_server.client("auditor")
    assert submitter.post("/v1/transfers", json=make_request()).status_code == 201
    started = auditor.post("/v1/audit/verify-jobs")
    assert started.status_code == 202, started.text
    job = started.json()
    assert started.headers["location"] == f"/v1/audit/verify-jobs/{job['id']}"
    assert job["state"] == "queued" and job["result"] is None and job["requested_by"]
    done = finished(auditor, started.headers["location"])
    assert done["state"] == "done" and done["error"] is None, done
    assert done["result"]["ok"] is True and done["result"]["first_bad"] is None
    assert done["result"]["events"] == done["events_checked"] >= done["events_total"] > 0
    assert done["started_at"] and done["finished_at"]


def test_only_auditors_start_or_read_jobs_and_an_unknown_one_is_404(server: Server) -> None:
    assert server.client("submitter").post("/v1/audit/verify-jobs").status_code == 403
    assert server.client().post("/v1/audit/verify-jobs").status_code == 401
    unknown = server.client("auditor").get("/v1/audit/verify-jobs/01ZZZZZZZZZZZZZZZZZZZZZZZZ")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM


def test_a_job_on_a_tampered_ledger_names_the_first_bad_event(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    running = start_server(tmp_path / "srv", f"sqlite:///{db}")
    try:
        submitter, auditor = running.client("submitter"), running.client("auditor")
        first = make_request()
        assert submitter.post("/v1/transfers", json=first).status_code == 201
        assert submitter.post("/v1/transfers", json=make_request()).status_code == 201
        with sqlite3.connect(db) as conn:
            where = (first["reference"],)
            (seq,) = conn.execute("SELECT event_seq FROM transfers WHERE reference = ?", where).fetchone()
            conn.execute("UPDATE transfers SET personal_subjects = 1 WHERE reference = ?", where)
        done = finished(auditor, auditor.post("/v1/audit/verify-jobs").headers["location"])
        assert done["state"] == "done" and done["result"]["ok"] is False
        assert done["result"]["first_bad"] == str(seq) and "personal_subjects was edited" in done["result"]["problem"]
    finally:
        running.stop()


def test_a_job_whose_process_is_gone_reads_as_failed(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    running = start_server(tmp_path / "srv", f"sqlite:///{db}")
    try:
        long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).isoformat()
        with sqlite3.connect(db) as conn:
            conn.execute("INSERT INTO verify_jobs (id, state, requested_at, started_at, heartbeat_at, events_checked) "
                         "VALUES ('01JOBLOSTJOBLOSTJOBLOSTJO', 'running', ?, ?, ?, 5000)", (long_ago,) * 3)
        job = running.client("auditor").get("/v1/audit/verify-jobs/01JOBLOSTJOBLOSTJOBLOSTJO").json()
        assert job["state"] == "failed" and "stopped without finishing" in job["error"]
        assert job["events_checked"] == 5000 and job["result"] is None
    finally:
        running.stop()

"""Verify jobs: ``audit verify`` of a large ledger over HTTP, in a process of its own, its state in the
database (DESIGN section 6: ``POST /v1/audit/verify-jobs``, ``GET /v1/audit/verify-jobs/{id}``).

Why: at 10^6 transfers a verify takes a minute or two, longer than an HTTP request should wait, and
one ``GET /v1/audit/verify`` once took a service worker from 96 MB to 1.67 GB (at 10^5, before verify
streamed), which it kept. So the service records a job (``verify_jobs``), starts ``python -m
engine.ledger.verify_jobs`` on its own (a new session: it outlives the worker that started it, and
what it allocates is never the worker's), and answers at once with where to look. The job process
walks the chain (``engine.ledger.verify``), writing how far it got every few seconds (its heartbeat)
and, at the end, the result. The state is in the ledger's database, so any replica answers for any
job. A job whose process died (killed, the machine restarted) stops beating: after ``STALE_SECONDS`` it
reads as failed, and says so. The database URL reaches the job process in its environment, never on
its command line (which any user of the machine can read).

A job checks the anchors as ``audit verify --checkpoint FILE --public-key FILE`` does: the POST may give
checkpoint documents and public keys (PEM), kept with the job (``anchors``) for its process to read;
without them the signatures are checked against the keys the chain announces. What the anchors showed
is kept as the job's ``notes``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from engine.decision_ids import new_ulid
from engine.ledger import anchors, signing
from engine.ledger.schema import verify_jobs
from engine.ledger.store import Ledger

STALE_SECONDS = 120.0
"""A running job whose heartbeat is older than this has lost its process."""
BEAT_SECONDS = 2.0
URL_ENV = "BAYGATE_VERIFY_JOB_DATABASE_URL"


@dataclass(frozen=True)
class Job:
    """A verify job as stored: ``state`` queued, running, done or failed; ``ok``, ``first_bad`` and
    ``problem`` are verify's answer once done (``AuditResult``); ``error`` why it could not finish."""

    id: str
    state: str
    requested_at: str
    requested_by: str | None
    started_at: str | None
    heartbeat_at: str | None
    finished_at: str | None
    events_checked: int
    events_total: int | None
    ok: bool | None
    first_bad: str | None
    problem: str | None
    error: str | None
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "requested_at": self.requested_at,
                "requested_by": self.requested_by, "started_at": self.started_at,
                "heartbeat_at": self.heartbeat_at, "finished_at": self.finished_at,
                "events_checked": self.events_checked, "events_total": self.events_total,
                "result": None if self.ok is None else {"ok": self.ok, "events": self.events_checked,
                                                        "first_bad": self.first_bad, "problem": self.problem,
                                                        "notes": list(self.notes)},
                "error": self.error}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _job(row: Any) -> Job:
    return Job(row.id, row.state, row.requested_at, row.requested_by, row.started_at, row.heartbeat_at,
               row.finished_at, int(row.events_checked or 0),
               None if row.events_total is None else int(row.events_total),
               None if row.ok is None else bool(row.ok), row.first_bad, row.problem, row.error,
               tuple(json.loads(row.notes)) if row.notes else ())


@dataclass(frozen=True)
class Anchors:
    """What a job checks the chain against besides itself: checkpoint documents (``audit checkpoint
    --json``) and public keys in PEM, as the POST gave them."""

    checkpoints: Sequence[dict[str, Any]] = ()
    public_keys: Sequence[str] = ()

    def parsed(self) -> tuple[list[anchors.Checkpoint], dict[str, signing.PublicKey] | None]:
        """The checkpoints and keys (None: none given, the chain's own are used). InputError or
        SigningKeyError naming the item that is not one."""
        checkpoints = [anchors.checkpoint_from(document, f"checkpoints[{index}]")
                       for index, document in enumerate(self.checkpoints)]
        keys: dict[str, signing.PublicKey] = {}
        for index, pem in enumerate(self.public_keys):
            key = signing.public_key_from_pem(pem.encode("utf-8"), f"public_keys[{index}]", f"public_keys[{index}]")
            keys[key.key_id] = key
        return checkpoints, keys or None

    def stored(self) -> str | None:
        """The anchors as the job reads them back: each checkpoint as parsed (``Checkpoint.document``),
        not as sent, so a key the job never reads cannot hold what JSON cannot store (a number of more
        than 4,300 digits reaches here as an ``InvalidScalar``: it was a 500)."""
        if not self.checkpoints and not self.public_keys:
            return None
        checkpoints, _keys = self.parsed()
        return json.dumps({"checkpoints": [checkpoint.document() for checkpoint in checkpoints],
                           "public_keys": list(self.public_keys)})

    @classmethod
    def of_stored(cls, text: str | None) -> Anchors:
        found = json.loads(text) if text else {}
        return cls(found.get("checkpoints", ()), found.get("public_keys", ()))


def create(ledger: Ledger, requested_by: str | None, anchored: Anchors | None = None) -> Job:
    """Record a new job, queued (``start`` runs it); ``anchored`` must already have parsed."""
    job_id = new_ulid()
    with ledger.sql_engine.begin() as conn:
        conn.execute(insert(verify_jobs).values(id=job_id, state="queued", requested_at=_now(),
                                                requested_by=requested_by, events_checked=0,
                                                anchors=(anchored or Anchors()).stored()))
    found = read(ledger, job_id)
    assert found is not None
    return found


def read(ledger: Ledger, job_id: str) -> Job | None:
    """A job as it stands; a running or queued one whose process stopped beating is marked failed."""
    with ledger.sql_engine.connect() as conn:
        row = conn.execute(select(verify_jobs).where(verify_jobs.c.id == job_id)).first()
    if row is None:
        return None
    job = _job(row)
    if job.state in ("queued", "running") and _stale(job):
        with ledger.sql_engine.begin() as conn:
            conn.execute(update(verify_jobs).where(verify_jobs.c.id == job_id, verify_jobs.c.state == job.state)
                         .values(state="failed", finished_at=_now(),
                                 error=f"the verifying process stopped without finishing (no sign of it for "
                                       f"{STALE_SECONDS:.0f} s: killed, or its machine restarted); start another"))
        return read(ledger, job_id)
    return job


def _stale(job: Job) -> bool:
    last = job.heartbeat_at or job.started_at or job.requested_at
    age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(last)
    return age.total_seconds() > STALE_SECONDS


_children: list[subprocess.Popen[bytes]] = []
_children_lock = threading.Lock()


def start(url: str, job_id: str) -> None:
    """Start the job's process: ``python -m engine.ledger.verify_jobs JOB_ID`` in a session of its own,
    the database URL in its environment. A thread of this process reaps it when it ends."""
    env = {**os.environ, URL_ENV: url}
    process = subprocess.Popen([sys.executable, "-m", "engine.ledger.verify_jobs", job_id], env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True, close_fds=True)
    with _children_lock:
        _children.append(process)
    threading.Thread(target=_reap, args=(process,), name=f"verify-job-{job_id}", daemon=True).start()


def _reap(process: subprocess.Popen[bytes]) -> None:
    process.wait()
    with _children_lock:
        _children.remove(process)


def run(url: str, job_id: str) -> int:
    """The job process: verify the ledger, beating every BEAT_SECONDS, and store the result (or why it
    could not finish). Exit status 0 when the job was carried out (whatever verify found), 4 if not."""
    ledger = Ledger(url, upgrade=False)
    try:
        with ledger.sql_engine.connect() as conn:
            job = conn.execute(select(verify_jobs.c.anchors).where(verify_jobs.c.id == job_id)).first()
        if job is None:
            return 4
        from engine.ledger.schema import chain_head

        with ledger.sql_engine.connect() as conn:
            head = conn.execute(select(chain_head.c.seq).where(chain_head.c.id == 1)).scalar()
        _set(ledger, job_id, state="running", started_at=_now(), heartbeat_at=_now(), events_total=head)
        last = [time.monotonic()]

        def beat(checked: int) -> None:
            if time.monotonic() - last[0] >= BEAT_SECONDS:
                last[0] = time.monotonic()
                _set(ledger, job_id, heartbeat_at=_now(), events_checked=checked)

        try:
            checkpoints, keys = Anchors.of_stored(job.anchors).parsed()
            result = ledger.verify(checkpoints, keys, progress=beat)
        except BaseException as exc:  # stored for whoever asks; the process then ends
            from engine.errors import BaygateError

            reason = str(exc) if isinstance(exc, BaygateError) else f"{type(exc).__name__}: {exc}"
            _set(ledger, job_id, state="failed", finished_at=_now(), error=reason.splitlines()[0] if reason else
                 type(exc).__name__)
            return 4
        _set(ledger, job_id, state="done", finished_at=_now(), heartbeat_at=_now(), events_checked=result.events,
             ok=result.ok, first_bad=None if result.first_bad is None else str(result.first_bad),
             problem=result.problem, notes=json.dumps(list(result.notes), ensure_ascii=False))
        return 0
    finally:
        ledger.close()


def _set(ledger: Ledger, job_id: str, **values: Any) -> None:
    with ledger.sql_engine.begin() as conn:
        conn.execute(update(verify_jobs).where(verify_jobs.c.id == job_id).values(**values))


def main(argv: list[str]) -> int:
    url = os.environ.get(URL_ENV)
    if len(argv) != 1 or not url:
        print(f"usage: {URL_ENV}=URL python -m engine.ledger.verify_jobs JOB_ID", file=sys.stderr)
        return 3
    return run(url, argv[0])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Ledger figures: submissions per second through the Python API from N threads on N exporters.

SQLite runs at the ``synchronous`` level given (FULL, the default, fsyncs every commit; NORMAL
fsyncs at WAL checkpoints only: see docs/performance.md for what each risks). PostgreSQL runs on a
throwaway cluster with ``fsync=on`` and ``synchronous_commit=on``, so the figure includes a durable
commit, unless a URL is given.

The ledger runs as a deployment should (docs/integrity.md): every committed head signed with an
Ed25519 key (a throwaway one here), and ``audit verify`` afterwards checks every signature against its
public key (``verify_s``: how long the whole verify took). ``signed=False`` measures without.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from engine.evaluator import Engine
from engine.models import TransferRequest


def request(exporter: int, number: int) -> TransferRequest:
    return TransferRequest.model_validate({
        "reference": f"B-{exporter}-{number}",
        "exporter": {"id": f"9144030000BENCH{exporter:03d}", "name": "Bench Co.", "jurisdiction": "CN",
                     "city": "Shenzhen"},
        "recipient": {"id": "HK-1", "name": "HK Ltd", "jurisdiction": "HK"},
        "purpose": "business_services",
        "planned_date": "2026-06-01",
        "data": [{"kind": "personal", "subjects": 1}],
        "safeguards": {"separate_consent": True, "notice_given": True, "pia_completed_on": "2026-01-01"},
    })


def throughput(url: str, engine: Engine, rules: Path, threads: int, seconds: float,
               signed: bool = True) -> dict[str, Any]:
    """Submissions per second; the audit chain is verified afterwards (with the signing key's public key)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from engine.ledger import Ledger
    from engine.ledger.seal import TotalsKey
    from engine.ledger.signing import ChainSigner, PublicKey

    # One fixed throwaway key: runs repeated on one database (--postgres URL) sign with the same key.
    private = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"baygate bench signing key").digest())
    signer = ChainSigner.of(private) if signed else None
    # Likewise one fixed throwaway totals key (engine.ledger.seal), not the user's default key file.
    totals_key = TotalsKey.of(hashlib.sha256(b"baygate bench totals key").digest())
    ledger = Ledger(url, rules_dirs=[rules], signer=signer, totals_key=totals_key)
    try:
        ledger.submit(engine, request(999, 0))  # packs stored, pools warm
        done = [0] * threads
        stop = time.monotonic() + seconds
        errors: list[BaseException] = []

        def client(index: int) -> None:
            number = 0
            try:
                while time.monotonic() < stop:
                    number += 1
                    ledger.submit(engine, request(index, number))
                done[index] = number
            except BaseException as exc:  # report, do not hide
                errors.append(exc)

        started = time.monotonic()
        workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.monotonic() - started
        if errors:
            raise errors[0]
        keys = {signer.key_id: PublicKey(signer.key_id, "bench", private.public_key())} if signer else None
        verifying = time.monotonic()
        verified = ledger.verify(public_keys=keys).ok
        verify_seconds = time.monotonic() - verifying
    finally:
        ledger.close()
    return {"per_s": round(sum(done) / elapsed, 1), "submissions": sum(done), "audit_ok": verified,
            "verify_s": round(verify_seconds, 2)}


def sqlite(engine: Engine, rules: Path, threads: int, seconds: float, synchronous: str,
           signed: bool = True) -> dict[str, Any]:
    previous = os.environ.get("BAYGATE_SQLITE_SYNCHRONOUS")
    os.environ["BAYGATE_SQLITE_SYNCHRONOUS"] = synchronous
    try:
        with tempfile.TemporaryDirectory(prefix="baygate-bench-") as folder:
            return throughput(f"sqlite:///{folder}/bench.db", engine, rules, threads, seconds, signed)
    finally:
        if previous is None:
            os.environ.pop("BAYGATE_SQLITE_SYNCHRONOUS", None)
        else:
            os.environ["BAYGATE_SQLITE_SYNCHRONOUS"] = previous


def postgres(engine: Engine, rules: Path, threads: int, seconds: float, url: str | None = None,
             signed: bool = True) -> dict[str, Any]:
    """On ``url``, or on a throwaway cluster (fsync on) started as the tests start one."""
    if url:
        return throughput(url, engine, rules, threads, seconds, signed)
    from engine.ledger.pgcluster import create_database, start_cluster

    cluster = start_cluster(fsync=True)
    try:
        return throughput(create_database(cluster.admin_url, "baygate_bench"), engine, rules, threads, seconds,
                          signed)
    finally:
        cluster.stop()

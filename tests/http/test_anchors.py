"""The anchors over HTTP: a service with a signing key signs every head it commits, answers
``GET /v1/audit/checkpoint`` (auditor) with a document ``audit verify --checkpoint`` takes, and never
writes its private key to the database or its log."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.http.conftest import make_request, start_server
from tests.http.test_actors import KEYS, client
from tests.http.test_verify_jobs import finished
from tests.ledger.test_anchors import make_key
from tests.ledger.test_cli import BAYGATE, ROOT


def test_a_signing_service_gives_checkpoints_that_the_command_line_verifies(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("http-anchors")
    private, public = make_key(tmp, "service")
    key_file = tmp / "keys"
    key_file.write_text("".join(f"{name} {role} {key}\n" for name, (role, key) in KEYS.items()), encoding="utf-8")
    db = tmp / "ledger.db"
    server = start_server(tmp, f"sqlite:///{db}", keys=False,
                          extra_env={"BAYGATE_API_KEYS_FILE": str(key_file), "BAYGATE_SIGNING_KEY_FILE": str(private)})
    try:
        for _ in range(3):
            assert client(server, "etl").post("/v1/transfers", json=make_request()).status_code == 201
        batch = client(server, "etl").post("/v1/transfers/batch", json={"requests": [make_request() for _ in range(3)]})
        assert batch.status_code == 200 and len(batch.json()["results"]) == 3, batch.text  # bulk recording signs too
        assert client(server, "etl").get("/v1/audit/checkpoint").status_code == 403  # etl is a submitter only
        checkpoint = client(server, "alice").get("/v1/audit/checkpoint")
        assert checkpoint.status_code == 200, checkpoint.text
        document = checkpoint.json()
        assert document["signature"]["key_id"] and document["seq"] >= 3
        verified = client(server, "alice").get("/v1/audit/verify").json()
        assert verified["ok"] is True and any("signed heads" in note for note in verified["notes"])
        pem = public.read_text(encoding="utf-8")
        job = client(server, "alice").post("/v1/audit/verify-jobs", json={"checkpoints": [document],
                                                                          "public_keys": [pem]})
        assert job.status_code == 202, job.text
        done = finished(client(server, "alice"), job.headers["location"])
        assert done["state"] == "done" and done["result"]["ok"] is True, done
        notes = done["result"]["notes"]
        assert f"checkpoint checkpoints[0] holds (event {document['seq']})" in notes
        assert any(f"signed heads from event 1 to {document['seq']}" in note for note in notes), notes
        assert not any("before any signing key" in note or "announces" in note for note in notes), notes
        moved = {**document, "hash": "f" * 64}
        tampered = finished(client(server, "alice"), client(server, "alice").post(
            "/v1/audit/verify-jobs", json={"checkpoints": [moved]}).headers["location"])
        assert tampered["result"]["ok"] is False and "checkpoint checkpoints[0]" in tampered["result"]["problem"]
        bad = client(server, "alice").post("/v1/audit/verify-jobs", json={"public_keys": ["not a key"]})
        assert bad.status_code == 422 and "public_keys[0]: not a PEM public key" in bad.text
        log = server.log_text()
    finally:
        server.stop()
    kept = tmp / "checkpoint.json"
    kept.write_text(json.dumps(document), encoding="utf-8")
    answer = subprocess.run([str(BAYGATE), "audit", "verify", "--db", f"sqlite:///{db}", "--checkpoint", str(kept),
                             "--public-key", str(public)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert answer.returncode == 0, answer.stderr
    secret = private.read_text(encoding="utf-8").splitlines()[1]
    assert secret not in log and "PRIVATE KEY" not in log
    assert secret.encode() not in Path(db).read_bytes()

"""``baygate audit checkpoint`` and ``audit verify --checkpoint FILE --public-key FILE`` through the
installed program (SQLite): the documents an auditor keeps, the exit codes, a bad file named."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.ledger.conftest import transfer
from tests.ledger.insider import delete_transfer_and_rehash
from tests.ledger.test_anchors import make_key
from tests.ledger.test_cli import BAYGATE, ROOT


def run(*args: str, db: Path, key: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAYGATE_") or k == "BAYGATE_TOTALS_KEY_FILE"}
    env["BAYGATE_DATABASE_URL"] = f"sqlite:///{db}"
    if key is not None:
        env["BAYGATE_SIGNING_KEY_FILE"] = str(key)
    return subprocess.run([str(BAYGATE), *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)


def test_checkpoints_and_public_keys_through_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    private, public = make_key(tmp_path, "service")
    for reference, subjects in (("C-1", 10_000), ("C-2", 20_000), ("C-3", 30_000)):
        request = tmp_path / f"{reference}.json"
        request.write_text(transfer(reference, subjects).model_dump_json(), encoding="utf-8")
        assert run("submit", str(request), db=db, key=private).returncode == 0
    taken = run("audit", "checkpoint", "--json", db=db)
    assert taken.returncode == 0, taken.stderr
    document = json.loads(taken.stdout)
    assert document["format"] == "baygate-checkpoint/1" and document["signature"]["key_id"]
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_text(taken.stdout, encoding="utf-8")
    readable = run("audit", "checkpoint", db=db)
    assert f"head: event {document['seq']}, hash {document['hash']}" in readable.stdout

    intact = run("audit", "verify", "--checkpoint", str(checkpoint), "--public-key", str(public), db=db)
    assert intact.returncode == 0, intact.stderr
    assert f"checkpoint {checkpoint} holds (event {document['seq']})" in intact.stdout
    assert "signed heads from event 1 to" in intact.stdout

    from engine.ledger import Ledger

    ledger = Ledger(f"sqlite:///{db}", signer=None, upgrade=False)
    delete_transfer_and_rehash(ledger, "C-2")
    ledger.close()
    assert run("audit", "verify", db=db).returncode == 1  # the stored signed hashes no longer match
    by_key = run("audit", "verify", "--public-key", str(public), db=db)
    assert by_key.returncode == 1 and "its hash is not the one that was signed" in by_key.stderr
    by_checkpoint = run("audit", "verify", "--checkpoint", str(checkpoint), db=db)
    assert by_checkpoint.returncode == 1
    assert f"records event {document['seq']}, but the chain ends at event {document['seq'] - 1}" in by_checkpoint.stderr


def test_a_checkpoint_or_key_file_that_cannot_be_used_is_bad_input(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    request = tmp_path / "a.json"
    request.write_text(transfer("B-1").model_dump_json(), encoding="utf-8")
    assert run("submit", str(request), db=db).returncode == 0
    not_json = tmp_path / "bad.json"
    not_json.write_text("{", encoding="utf-8")
    answer = run("audit", "verify", "--checkpoint", str(not_json), db=db)
    assert answer.returncode == 3 and f"{not_json}: not a checkpoint" in answer.stderr
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"format": "baygate-checkpoint/1", "seq": -1, "hash": "xyz"}), encoding="utf-8")
    answer = run("audit", "verify", "--checkpoint", str(wrong), db=db)
    assert answer.returncode == 3 and "seq: expected the head's position" in answer.stderr
    assert "hash: expected the head's hash" in answer.stderr
    answer = run("audit", "verify", "--public-key", str(request), db=db)
    assert answer.returncode == 3 and "not a PEM public key" in answer.stderr
    answer = run("audit", "verify", "--public-key", str(tmp_path / "missing.pem"), db=db)
    assert answer.returncode == 3 and "cannot read" in answer.stderr
    assert run("audit", "checkpoint", db=tmp_path / "none.db").returncode == 3
    assert not (tmp_path / "none.db").exists()


def test_a_signing_key_others_can_read_stops_the_command(tmp_path: Path) -> None:
    private, _ = make_key(tmp_path, "loose")
    os.chmod(private, 0o644)
    request = tmp_path / "a.json"
    request.write_text(transfer("L-1").model_dump_json(), encoding="utf-8")
    answer = run("submit", str(request), db=tmp_path / "ledger.db", key=private)
    assert answer.returncode == 3 and "can be read by other users" in answer.stderr
    assert "PRIVATE KEY" not in answer.stderr + answer.stdout

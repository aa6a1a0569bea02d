"""A ledger recorded when a state organ was ``kind: public_body`` (``tests/data/ledger-public-body.db``, made by
``tests/data/make_ledger_public_body.py`` with that version's code) still reads, verifies and replays: the
stored request and the stored pack text read public_body as state_organ, the meaning they were decided
under. A new request that says public_body is refused, naming both kinds that replace it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.models import TransferRequest
from engine.replay import PackLibrary, replay
from tests.ledger.conftest import ROOT

RECORDED = ROOT / "tests" / "data" / "ledger-public-body.db"


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    db = tmp_path / "recorded.db"
    shutil.copy(RECORDED, db)
    return Ledger(f"sqlite:///{db}", rules_dirs=[ROOT / "rules"])


def test_the_stored_public_body_reads_as_a_state_organ(ledger: Ledger) -> None:
    recorded = ledger.get("SO-1")
    assert recorded.request.exporter.kind == "state_organ"
    assert recorded.decision.mechanism == "security_assessment"
    stored = PackLibrary(ledger).stored
    assert any("eq: public_body" in ledger.pack_content(pack.digest) for pack in stored)  # the old literal
    assert ledger.verify().ok


def test_the_ledger_replays_under_the_packs_it_was_recorded_with(ledger: Ledger) -> None:
    report = replay(ledger)
    assert report.checked == 2
    assert report.ok, [difference.as_dict() for difference in report.differences]


def test_a_new_request_with_public_body_is_refused_naming_both_kinds(ledger: Ledger) -> None:
    body = ledger.get("SO-1").request.model_dump(mode="json")
    body["exporter"]["kind"] = "public_body"
    with pytest.raises(ValidationError) as refused:
        TransferRequest.model_validate(body)
    error = refused.value.errors()[0]
    assert error["loc"] == ("exporter", "kind")
    assert "state_organ" in error["msg"] and "public_institution" in error["msg"]
    body["exporter"]["kind"] = "state_organ"
    decision = ledger.submit(Engine.from_directory(ROOT / "rules"), TransferRequest.model_validate(
        {**body, "reference": "SO-2"})).decision
    assert decision.mechanism == "security_assessment"

"""The ledger's list (keyset pages, newest first, filters) and a transfer's history, on a real SQLite
ledger: the reads the ledger page stands on until the interface issue's list lands."""

from __future__ import annotations

from pathlib import Path

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.listing import chain_head_now, list_transfers, transfer_history
from engine.models import TransferRequest
from engine.rulespec import load_pack_set
from tests.web.conftest import ROOT


def _request(number: int, exporter: str) -> TransferRequest:
    return TransferRequest.model_validate({
        "reference": f"L-{number}", "purpose": "business_services", "planned_date": "2026-12-10",
        "exporter": {"id": exporter, "name": "E", "jurisdiction": "CN", "city": "Shenzhen"},
        "recipient": {"id": "R", "name": "R", "jurisdiction": "HK"},
        "data": [{"kind": "personal", "subjects": 10 + number}]})


def test_pages_filters_and_history(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.db'}", rules_dirs=[ROOT / "rules"])
    engine = Engine(load_pack_set(ROOT / "rules"))
    ids = [ledger.submit(engine, _request(n, "EXP-A" if n % 2 else "EXP-B")).decision.decision_id for n in range(5)]
    pages, after = [], None
    while True:
        page = list_transfers(ledger, after=after, limit=2)
        pages.append([row.decision_id for row in page.items])
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert pages == [ids[::-1][0:2], ids[::-1][2:4], ids[::-1][4:]]
    assert [r.exporter_id for r in list_transfers(ledger, exporter="EXP-A").items] == ["EXP-A", "EXP-A"]
    ledger.withdraw(ids[0])
    assert [r.decision_id for r in list_transfers(ledger, status="withdrawn").items] == [ids[0]]
    assert len(list_transfers(ledger, status="recorded").items) == 4
    assert list_transfers(ledger, year=2025).items == []
    history = transfer_history(ledger, ids[0])
    assert [event.kind for event in history] == ["submission", "withdrawal"]
    head = chain_head_now(ledger)
    assert head.seq == history[-1].seq and head.hash == history[-1].hash
    assert transfer_history(ledger, "NOPE") == []
    ledger.close()

"""The reads the ledger page stands on, on a real ledger: its list (``Ledger.list_transfers``: pages,
newest first, filters) and a transfer's history and the chain's head (``engine.ledger.chain_reads``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.chain_reads import chain_head_now, transfer_history
from engine.ledger.listing import TransferQuery
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
        page = ledger.list_transfers(TransferQuery(cursor=after, limit=2))
        pages.append([row.decision_id for row in page.items])
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert pages == [ids[::-1][0:2], ids[::-1][2:4], ids[::-1][4:]]
    assert [r.exporter_id for r in ledger.list_transfers(TransferQuery(exporter_id="EXP-A")).items] == ["EXP-A"] * 2
    ledger.withdraw(ids[0])
    assert [r.decision_id for r in ledger.list_transfers(TransferQuery(status="withdrawn")).items] == [ids[0]]
    assert len(ledger.list_transfers(TransferQuery(status="recorded")).items) == 4
    assert ledger.list_transfers(TransferQuery(year=2025)).items == []
    history = transfer_history(ledger, ids[0])
    assert [event.kind for event in history] == ["submission", "withdrawal"]
    head = chain_head_now(ledger)
    assert head.seq == history[-1].seq and head.hash == history[-1].hash
    assert transfer_history(ledger, "NOPE") == []
    ledger.close()


def test_dates_of_transfers_recorded_before_revision_0006_are_filled_in(tmp_path: Path) -> None:
    """A ledger written before the dated items existed: the upgrade fills them from the stored JSON,
    and transfers recorded after it are caught up from the chain by the exporter's page."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import func, select

    from engine.ledger import exporter_report
    from engine.ledger.database import MIGRATIONS
    from engine.ledger.schema import dated_items

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = Engine(load_pack_set(ROOT / "rules"))
    ledger = Ledger(url, rules_dirs=[ROOT / "rules"])
    expiring = {"safeguards": {"mechanisms": [{"type": "certification", "reference": "CERT-1",
                                               "effective_on": "2026-01-05", "expires_on": "2027-01-31"}]}}
    first = TransferRequest.model_validate({**_request(1, "EXP-OLD").model_dump(mode="json"), **expiring})
    ledger.submit(engine, first)
    with ledger.sql_engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
    ledger.close()
    reopened = Ledger(url, rules_dirs=[ROOT / "rules"])  # upgrades: revision 0006 fills dated_items
    today = dt.date(2026, 12, 6)
    assert [m.reference for m in exporter_report.mechanisms_expiring(reopened, "EXP-OLD", today)[0]] == ["CERT-1"]
    second = TransferRequest.model_validate({**_request(2, "EXP-OLD").model_dump(mode="json"), **expiring})
    reopened.submit(engine, second)
    assert exporter_report.mechanisms_expiring(reopened, "EXP-OLD", today)[0][0].transfers == 1  # not caught up
    assert exporter_report.catch_up(reopened) == 1
    assert exporter_report.mechanisms_expiring(reopened, "EXP-OLD", today)[0][0].transfers == 2
    assert exporter_report.catch_up(reopened) == 0
    with reopened.sql_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(dated_items)).scalar() == 2
    reopened.withdraw(first.reference)  # a withdrawn transfer has nothing due and relies on nothing
    assert exporter_report.catch_up(reopened) == 1
    assert exporter_report.mechanisms_expiring(reopened, "EXP-OLD", today)[0][0].transfers == 1
    reopened.close()


@pytest.mark.postgres
def test_catching_up_on_postgresql(postgres_url: str) -> None:
    from engine.ledger import exporter_report

    ledger = Ledger(postgres_url, rules_dirs=[ROOT / "rules"])
    engine = Engine(load_pack_set(ROOT / "rules"))
    expiring = {"safeguards": {"mechanisms": [{"type": "certification", "reference": "CERT-PG",
                                               "effective_on": "2026-01-05", "expires_on": "2027-01-31"}]}}
    for number in (1, 2):
        ledger.submit(engine, TransferRequest.model_validate(
            {**_request(number, "EXP-PG").model_dump(mode="json"), **expiring}))
    assert exporter_report.catch_up(ledger) == 2
    assert exporter_report.catch_up(ledger) == 0
    found, total = exporter_report.mechanisms_expiring(ledger, "EXP-PG", dt.date(2026, 12, 6))
    assert total == 1
    assert [(m.reference, m.transfers) for m in found] == [("CERT-PG", 2)]
    page = ledger.list_transfers(TransferQuery(exporter_id="EXP-PG", limit=1))
    assert len(page.items) == 1 and page.next_cursor is not None
    ledger.close()

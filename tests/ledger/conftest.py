"""Fixtures for the ledger tests: the shipped packs compiled once, and a ledger on each backend.

``ledger_url`` is parametrised over SQLite (a file in tmp_path) and PostgreSQL (a fresh database on
the session's server), so every test using it runs on both: the same code, the same tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from engine.evaluator import Engine
from engine.ledger import Ledger, records
from engine.ledger.schema import transfers
from engine.models import TransferRequest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
EXPORTER = "91440300MA5LEDGER1"


@pytest.fixture(scope="session")
def ledger_engine() -> Engine:
    return Engine.from_directory(RULES)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    store = Ledger(ledger_url)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def decided_ahead(ledger_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The references the engine decides ahead of a group's write lock (``Recorder.fire_ahead``), in order:
    the engine's own ``decide_ahead``, counted on its way through."""
    references: list[str] = []
    real = ledger_engine.decide_ahead

    def counting(request: TransferRequest, *args: object) -> object:
        references.append(request.reference)
        return real(request, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger_engine, "decide_ahead", counting)
    return references


def transfer(reference: str, subjects: int = 1000, **overrides: Any) -> TransferRequest:
    """A Shenzhen -> Hong Kong transfer with consent, notice and PIA in place, so only the route
    (the volume) decides; ``business_services`` so no art. 5(1)-(3) exemption applies."""
    data = overrides.pop("data", [{"kind": "personal", "subjects": subjects}])
    document: dict[str, Any] = {
        "reference": reference,
        "exporter": {"id": overrides.pop("exporter_id", EXPORTER), "name": "Qianhai Ledger Test Co.",
                     "jurisdiction": "CN", "city": "Shenzhen"},
        "recipient": {"id": "HK-REC-1", "name": "Hong Kong Analytics Ltd", "jurisdiction": "HK"},
        "purpose": "business_services",
        "planned_date": overrides.pop("planned_date", "2026-06-01"),
        "data": data,
        "safeguards": {"separate_consent": True, "notice_given": True, "pia_completed_on": "2024-12-01"},
    }
    document.update(overrides)
    return TransferRequest.model_validate(document)


def edit_stored_texts(ledger: Ledger, reference: str, edit: Callable[[str, str], tuple[str, str]]) -> None:
    """Change a recorded transfer's request and decision texts as an insider with SQL access and this
    library could: read as stored (``engine.ledger.records``), edited, and stored again in the same
    format, without touching its audit event."""
    with ledger.sql_engine.begin() as conn:
        row = conn.execute(select(transfers).where(transfers.c.reference == reference)).one()
        reader = records.DictionaryReader(conn)
        request_json, decision_json = edit(*reader.texts(row))
        if row.record is None:
            changed: dict[str, str | bytes] = {"request_json": request_json, "decision_json": decision_json}
        else:
            changed = {"record": records.pack(request_json, decision_json, reader.for_record(bytes(row.record)))}
        conn.execute(update(transfers).where(transfers.c.reference == reference).values(**changed))


def stored_texts(ledger: Ledger, where: str = "1 = 1", **params: Any) -> list[tuple[Any, str, str]]:
    """The transfer rows matching ``where`` (SQL), in chain order, each with its request and decision
    texts as recorded, however stored (``engine.ledger.records``)."""
    with ledger.sql_engine.connect() as conn:
        reader = records.DictionaryReader(conn)
        rows = conn.execute(text(f"SELECT * FROM transfers WHERE {where} ORDER BY event_seq"), params).all()
        return [(row, *reader.texts(row)) for row in rows]

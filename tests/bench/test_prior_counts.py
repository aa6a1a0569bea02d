"""The dry runs' one-statement read of the ledger's counts (a performance path) agrees with the read
that submissions make inside their transaction, on SQLite and PostgreSQL: sums this year and last,
withdrawn and uncounted transfers left out, populations this year only."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.evaluator import Engine
from engine.ledger import Ledger
from tests.ledger.conftest import transfer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_prior_counts_matches_the_transactional_read(url: str) -> None:
    engine = Engine.from_directory(ROOT / "rules")
    ledger = Ledger(url, rules_dirs=[ROOT / "rules"])
    try:
        ledger.submit(engine, transfer("P-1", 1000, planned_date="2025-03-01"))
        ledger.submit(engine, transfer("P-2", 2000))
        ledger.submit(engine, transfer("P-3", 3000))
        ledger.withdraw("P-3")
        ledger.submit(engine, transfer("P-4", data=[
            {"kind": "personal", "subjects": 500, "population": "members"},
            {"kind": "personal", "subjects": 700, "population": "staff", "sensitive": ["medical_health"]}]))
        ledger.submit(engine, transfer("P-5", data=[{"kind": "personal", "subjects": 800, "population": "members"}]))
        ledger.submit(engine, transfer("P-6", 50, exporter_id="OTHER-EXPORTER"))
        for probe in (transfer("Q-1", 1), transfer("Q-2", 1, planned_date="2027-01-05"),
                      transfer("Q-3", 1, exporter_id="NOBODY")):
            fast = ledger.prior_counts(probe)
            with ledger.db.read() as conn:
                slow = ledger.counting.prior(conn, probe.exporter.id, probe.planned_date.year)
            assert fast == slow
        counts = ledger.prior_counts(transfer("Q-4", 1))
        assert counts.personal_subjects > 0 and counts.previous_year_personal_subjects > 0
        assert counts.populations == {"members": 800}  # P-4 (sensitive, no mechanism) is not counted
    finally:
        ledger.close()

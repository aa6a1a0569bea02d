"""Writes ``tests/data/ledger-before-structured-missing.db``: a SQLite ledger as baygate wrote it before
decisions carried ``satisfied_by`` and structured ``missing`` items (commit badc3af, December 2026), for
the test that such decisions still read and replay (``tests/engine/test_stored_shapes.py``).

Run it with that version's code, not this one's::

    git archive badc3af | tar -x -C /tmp/baygate-badc3af
    PYTHONPATH=/tmp/baygate-badc3af .venv/bin/python tests/data/make_ledger_before_structured_missing.py

What it records (Shenzhen to Hong Kong, planned 2026-12-01, one exporter per case):

- GBA-IN-PLACE: 150,000 individuals, a GBA standard contract filed in time: permitted.
- NOTHING-IN-PLACE: the same without safeguards: conditional (a mechanism and three obligations
  missing), stored with ``counted: true`` and an ``after`` that moved, as that version wrote it.
- JUDICIAL: a Hong Kong police request without approval: an approval missing.
- BEFORE-2022: planned 2022-05-01, no rule decides the route: a review item.
- ASSESSMENT-LEVEL: 1,500,000 individuals: a security assessment, with the GBA contract's eligibility
  reason although that contract is no option there.
- TWO-CONTRACTS: two standard contracts, the first expired, the second valid: permitted.
- EXEMPT: 5,000 individuals for the individuals' own contract: exempt, not counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.models import TransferRequest

HERE = Path(__file__).resolve().parent
TARGET = HERE / "ledger-before-structured-missing.db"
RULES = HERE.parent.parent / "rules"
USUAL = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2026-11-01"}
GBA = {"type": "gba_standard_contract", "reference": "GD-2026-123", "effective_on": "2026-11-10",
       "filed_on": "2026-11-15"}
EXPIRED_SC = {"type": "standard_contract", "reference": "SC-OLD", "effective_on": "2024-01-02",
              "filed_on": "2024-01-05", "expires_on": "2025-01-01"}
VALID_SC = {"type": "standard_contract", "reference": "SC-NEW", "effective_on": "2026-10-02",
            "filed_on": "2026-10-09"}

CASES: dict[str, dict[str, Any]] = {
    "GBA-IN-PLACE": {"subjects": 150_000, "safeguards": {**USUAL, "mechanisms": [GBA]}},
    "NOTHING-IN-PLACE": {"subjects": 150_000, "safeguards": {}},
    "JUDICIAL": {"subjects": 50, "purpose": "judicial_request", "safeguards": USUAL},
    "BEFORE-2022": {"subjects": 5_000, "planned_date": "2022-05-01", "safeguards": USUAL},
    "ASSESSMENT-LEVEL": {"subjects": 1_500_000, "safeguards": USUAL},
    "TWO-CONTRACTS": {"subjects": 150_000, "safeguards": {**USUAL, "mechanisms": [EXPIRED_SC, VALID_SC]}},
    "EXEMPT": {"subjects": 5_000, "purpose": "contract_performance", "safeguards": USUAL},
}


def request(exporter: str, case: dict[str, Any]) -> TransferRequest:
    return TransferRequest.model_validate({
        "reference": f"{exporter}-1", "purpose": case.get("purpose", "business_services"),
        "planned_date": case.get("planned_date", "2026-12-01"),
        "data": [{"kind": "personal", "subjects": case["subjects"]}],
        "exporter": {"id": exporter, "name": exporter, "jurisdiction": "CN", "city": "Shenzhen"},
        "recipient": {"id": "HK-REC-1", "name": "Hong Kong Analytics Ltd", "jurisdiction": "HK"},
        "safeguards": case["safeguards"]})


def main() -> None:
    if TARGET.exists():
        TARGET.unlink()
    ledger = Ledger(f"sqlite:///{TARGET}", rules_dirs=[RULES])
    engine = Engine.from_directory(RULES)
    for exporter, case in CASES.items():
        decision = ledger.submit(engine, request(exporter, case)).decision
        missing = [m.model_dump(exclude={"text"}) for m in decision.missing]
        print(exporter, decision.outcome, decision.mechanism, missing, decision.counts)
    assert ledger.verify().ok
    ledger.close()


if __name__ == "__main__":
    main()

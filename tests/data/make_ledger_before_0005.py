"""Writes ``tests/data/ledger-before-0005.db``: a SQLite ledger as baygate wrote it before revision 0005
(commit e0b72de, revision 0004), with the counts that version got wrong, for the upgrade's tests
(``tests/ledger/test_recount_upgrade.py``).

Run it with that version's code, not this one's::

    git archive e0b72de | tar -x -C /tmp/baygate-e0b72de
    PYTHONPATH=/tmp/baygate-e0b72de .venv/bin/python tests/data/make_ledger_before_0005.py

What it records (planned 2026-06-01, Shenzhen to Hong Kong, consent, notice and an impact assessment;
the exporters named by what happens to them):

- WITHDRAWN-FIRST: 60,000 members, then 90,000 of them (counted +30,000), 5,000 unnamed; then the first
  is withdrawn, which released all 60,000: the version counted 35,000 for 95,000 sent.
- CONTACT-THEN-HEALTH: 5,000 members' contact details, then 8,000 members' health records under a
  standard contract: the version counted 3,000 sensitive for 8,000.
- HEALTH-THEN-CONTACT: 8,000 members' health records, then 95,000 members' contact details: the
  version counted 87,000 non-sensitive for 95,000.
- PLAIN: 20,000 unnamed, counted right by every version.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.models import TransferRequest

HERE = Path(__file__).resolve().parent
TARGET = HERE / "ledger-before-0005.db"
RULES = HERE.parent.parent / "rules"
CONTRACT = {"mechanisms": [{"type": "standard_contract", "reference": "SC-1", "effective_on": "2026-01-10",
                            "filed_on": "2026-01-15"}]}


def request(exporter: str, reference: str, data: list[dict[str, object]], contract: bool = False) -> TransferRequest:
    return TransferRequest.model_validate({
        "reference": reference, "purpose": "business_services", "planned_date": "2026-06-01", "data": data,
        "exporter": {"id": exporter, "name": exporter, "jurisdiction": "CN", "city": "Shenzhen"},
        "recipient": {"id": "HK-REC-1", "name": "Hong Kong Analytics Ltd", "jurisdiction": "HK"},
        "safeguards": {"separate_consent": True, "notice_given": True, "pia_completed_on": "2026-01-05",
                       **(CONTRACT if contract else {})}})


def members(subjects: int, sensitive: bool = False) -> list[dict[str, object]]:
    return [{"kind": "personal", "subjects": subjects, "population": "members",
             **({"sensitive": ["medical_health"]} if sensitive else {})}]


def main() -> None:
    if TARGET.exists():
        TARGET.unlink()
    ledger = Ledger(f"sqlite:///{TARGET}", rules_dirs=[RULES])
    engine = Engine.from_directory(RULES)
    ledger.submit(engine, request("WITHDRAWN-FIRST", "W-1", members(60_000)))
    ledger.submit(engine, request("WITHDRAWN-FIRST", "W-2", members(90_000)))
    ledger.submit(engine, request("WITHDRAWN-FIRST", "W-3", [{"kind": "personal", "subjects": 5_000}]))
    ledger.withdraw("W-1")
    ledger.submit(engine, request("CONTACT-THEN-HEALTH", "C-1", members(5_000), contract=True))
    ledger.submit(engine, request("CONTACT-THEN-HEALTH", "C-2", members(8_000, sensitive=True), contract=True))
    ledger.submit(engine, request("HEALTH-THEN-CONTACT", "H-1", members(8_000, sensitive=True), contract=True))
    ledger.submit(engine, request("HEALTH-THEN-CONTACT", "H-2", members(95_000), contract=True))
    ledger.submit(engine, request("PLAIN", "P-1", [{"kind": "personal", "subjects": 20_000}]))
    for exporter in ("WITHDRAWN-FIRST", "CONTACT-THEN-HEALTH", "HEALTH-THEN-CONTACT", "PLAIN"):
        print(ledger.counts(exporter, 2026), file=sys.stderr)
    assert ledger.verify().ok
    ledger.close()


if __name__ == "__main__":
    main()

"""Writes ``tests/data/ledger-public-body.db``: a SQLite ledger as baygate wrote it before party kinds were
split (commit badc3af, before 2026-12), when a state organ was ``kind: public_body``, for the tests that a
ledger recorded then still reads and replays (``tests/ledger/test_public_body.py``).

Run it with that version's code, not this one's::

    git archive badc3af | tar -x -C /tmp/baygate-badc3af
    cd /tmp/baygate-badc3af && PYTHONPATH=. /path/to/.venv/bin/python /path/to/tests/data/make_ledger_public_body.py

What it records (planned 2026-06-01, Shenzhen to Hong Kong, consent, notice and an impact assessment):

- STATE-ORGAN / SO-1: a district office (public_body) sends 200,000 residents' details: conditional, a
  security assessment (PIPL art. 36); its stored request says public_body, its stored cn-general pack
  compares exporter.kind with public_body.
- PLAIN / P-1: a company sends 20,000 individuals: permitted under art. 5(4), counted.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.models import TransferRequest

HERE = Path(__file__).resolve().parent
TARGET = HERE / "ledger-public-body.db"
RULES = Path.cwd() / "rules"  # the old version's packs


def request(exporter: str, reference: str, subjects: int, kind: str) -> TransferRequest:
    return TransferRequest.model_validate({
        "reference": reference, "purpose": "other", "planned_date": "2026-06-01",
        "data": [{"kind": "personal", "subjects": subjects}],
        "exporter": {"id": exporter, "name": exporter, "jurisdiction": "CN", "city": "Shenzhen", "kind": kind},
        "recipient": {"id": "HK-REC-1", "name": "Hong Kong Office Ltd", "jurisdiction": "HK"},
        "safeguards": {"separate_consent": True, "notice_given": True, "pia_completed_on": "2026-01-05"}})


def main() -> None:
    if TARGET.exists():
        TARGET.unlink()
    ledger = Ledger(f"sqlite:///{TARGET}", rules_dirs=[RULES])
    engine = Engine.from_directory(RULES)
    print(ledger.submit(engine, request("STATE-ORGAN", "SO-1", 200_000, "public_body")).decision.outcome,
          file=sys.stderr)
    print(ledger.submit(engine, request("PLAIN", "P-1", 20_000, "company")).decision.outcome, file=sys.stderr)
    assert ledger.verify().ok
    ledger.close()


if __name__ == "__main__":
    main()

"""The tallies count individuals whose personal information the exporter provided *outside the Mainland*
(DESIGN section 5; 2024 Provisions arts. 5(4), 7-8). A provision within the Mainland (PIPL art. 23) and a
transfer by an exporter outside the Mainland are decided, and may be permitted, but add nothing to them:
the decision says so (``counts.counted`` false) and the ledger records nothing, so a later export is
decided on its true volume. On SQLite and PostgreSQL."""

from __future__ import annotations

from engine.evaluator import Engine
from engine.ledger import Ledger
from tests.ledger.conftest import EXPORTER, transfer

GUANGZHOU = {"id": "91440100MA5HUB0001", "name": "Guangzhou Hub Co", "jurisdiction": "CN", "city": "Guangzhou"}
ONWARD_HK = [{"id": "31000099", "name": "HK Affiliate", "jurisdiction": "HK"}]


def test_a_provision_within_the_mainland_is_not_counted_toward_the_export_tallies(ledger: Ledger,
                                                                                 ledger_engine: Engine) -> None:
    # The legal review's p57: Shenzhen -> Guangzhou, 150,000 customers the recipient will pass to Hong Kong.
    domestic = ledger.submit(ledger_engine, transfer("DOM-1", 150_000, recipient=GUANGZHOU,
                                                     onward_recipients=ONWARD_HK)).decision
    assert domestic.outcome == "permitted"
    assert "cn.domestic-provision" in [r.rule for r in domestic.reasons]
    assert not domestic.counts.counted
    assert domestic.counts.personal_subjects_after == domestic.counts.personal_subjects_before == 0
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 0
    # The exporter's first export of the year: 60,000 individuals, under art. 5(4)'s 100,000.
    export = ledger.submit(ledger_engine, transfer("EXP-1", 60_000)).decision
    assert (export.outcome, export.exemptions) == ("permitted", ["under_threshold"])
    assert (export.counts.personal_subjects_before, export.counts.personal_subjects_after) == (0, 60_000)
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 60_000
    assert ledger.verify().ok


def test_a_hong_kong_exporter_adds_nothing_to_the_mainland_tallies(ledger: Ledger, ledger_engine: Engine) -> None:
    hong_kong = transfer("HK-1", 20_000, exporter={"id": "71110004", "name": "HK Bank Ltd", "jurisdiction": "HK"},
                         recipient={"id": "91440300MA5RCPT003", "name": "Shenzhen Branch", "jurisdiction": "CN",
                                    "city": "Shenzhen"})
    decision = ledger.submit(ledger_engine, hong_kong).decision
    assert decision.outcome == "permitted"
    assert not decision.counts.counted
    assert ledger.counts("71110004", 2026)["personal_subjects"] == 0

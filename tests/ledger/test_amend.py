"""Amendments (issue 22 point 7) on a real ledger, SQLite and PostgreSQL: what may change, what the counts
do, what the chain, ``audit verify``, the replays and the exporter's page see afterwards."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update

from engine.evaluator import Engine
from engine.ledger import Ledger, NotFound
from engine.ledger import exporter_report as report
from engine.ledger.actors import Actor
from engine.ledger.amend import amend
from engine.ledger.amendments import AmendWithdrawn, NotAnAmendment
from engine.ledger.schema import events, replaced_decisions
from engine.models import TransferRequest
from engine.replay import replay
from tests.ledger.conftest import EXPORTER, transfer

CONSENT = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2024-12-01"}
CONTRACT = {**CONSENT, "mechanisms": [{"type": "standard_contract", "reference": "SC-1",
                                       "effective_on": "2026-01-05", "filed_on": "2026-01-10",
                                       "expires_on": "2027-01-20"}]}
CERTIFIED = {**CONSENT, "mechanisms": [{"type": "certification", "reference": "CERT-1",
                                        "effective_on": "2026-01-05", "expires_on": "2027-01-31"}]}


def _changed(request: TransferRequest, **fields: Any) -> TransferRequest:
    return TransferRequest.model_validate({**request.model_dump(mode="json"), **fields})


def test_counts_follow_the_latest_decision(ledger: Ledger, ledger_engine: Engine) -> None:
    """Conditional (no mechanism for 150,000) -> permitted with a standard contract: it starts counting
    then; -> conditional again (consent withdrawn): it stops. Each step one amendment event, linked."""
    recorded = ledger.submit(ledger_engine, transfer("AM-1", 150_000)).decision
    assert recorded.outcome == "conditional"
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 0
    first = amend(ledger, ledger_engine, "AM-1", _changed(transfer("AM-1", 150_000), safeguards=CONTRACT),
                  actor=Actor("key:ops", "contract signed"))
    assert (first.replaces, first.replaced_outcome, first.decision.outcome) == (recorded.decision_id, "conditional",
                                                                                "permitted")
    assert first.counted and first.counted_personal_subjects == 150_000
    assert first.decision.satisfied_by is not None and first.decision.satisfied_by.reference == "SC-1"
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 150_000
    second = amend(ledger, ledger_engine, recorded.decision_id,  # any version's id finds the transfer
                   _changed(transfer("AM-1", 150_000), safeguards={**CONTRACT, "separate_consent": False}))
    assert second.replaces == first.decision.decision_id and second.decision.outcome == "conditional"
    assert (second.released_personal_subjects, second.counted) == (150_000, False)
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 0

    shown = ledger.get("AM-1")
    assert shown.decision.decision_id == second.decision.decision_id and shown.replaces == first.decision.decision_id
    assert [(old.decision_id, old.replaced_by) for old in shown.replaced] == [
        (recorded.decision_id, first.decision.decision_id), (first.decision.decision_id, second.decision.decision_id)]
    assert ledger.get(recorded.decision_id).decision.decision_id == second.decision.decision_id
    with ledger.sql_engine.connect() as conn:
        amendment = conn.execute(select(events.c.body).where(events.c.kind == "amendment")
                                 .order_by(events.c.seq)).scalars().first()
    assert '"actor":"key:ops"' in amendment and '"reason":"contract signed"' in amendment
    assert f'"replaces":"{recorded.decision_id}"' in amendment
    assert ledger.verify().ok
    assert replay(ledger).ok


def test_only_safeguards_and_the_planned_date_may_change(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("AM-2", 1000))
    for field, value in (("purpose", "direct_marketing"), ("data", [{"kind": "personal", "subjects": 2000}]),
                         ("recipient", {"id": "HK-OTHER", "name": "Other Ltd", "jurisdiction": "HK"})):
        with pytest.raises(NotAnAmendment) as refused:
            amend(ledger, ledger_engine, "AM-2", _changed(transfer("AM-2", 1000), **{field: value}))
        assert [problem.path for problem in refused.value.problems] == [field]
        assert "new transfer" in str(refused.value.problems[0])
    moved = amend(ledger, ledger_engine, "AM-2", _changed(transfer("AM-2", 1000), planned_date="2026-09-01"))
    assert not moved.unchanged and moved.decision.counts.year == 2026
    again = amend(ledger, ledger_engine, "AM-2", _changed(transfer("AM-2", 1000), planned_date="2026-09-01"))
    assert again.unchanged and again.decision.decision_id == moved.decision.decision_id  # a retry records nothing
    ledger.withdraw("AM-2")
    with pytest.raises(AmendWithdrawn):
        amend(ledger, ledger_engine, "AM-2", _changed(transfer("AM-2", 1000), safeguards=CONTRACT))
    with pytest.raises(NotFound):
        amend(ledger, ledger_engine, "NO-SUCH", transfer("NO-SUCH", 1000))
    assert ledger.verify().ok


def test_decided_without_its_own_earlier_decision(ledger: Ledger, ledger_engine: Engine) -> None:
    """Another transfer of 60,000 counted, this one 30,000: the amendment is decided on 60,000 before it,
    not 90,000, and a replay (which rebuilds each decision's counts from the chain) agrees."""
    ledger.submit(ledger_engine, transfer("AM-Z", 60_000))
    ledger.submit(ledger_engine, transfer("AM-3", 30_000))
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 90_000
    amended = amend(ledger, ledger_engine, "AM-3", _changed(transfer("AM-3", 30_000), planned_date="2026-07-01"))
    assert amended.decision.counts.personal_subjects_before == 60_000
    assert amended.released_personal_subjects == amended.counted_personal_subjects == 30_000
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 90_000
    next_year = amend(ledger, ledger_engine, "AM-3", _changed(transfer("AM-3", 30_000), planned_date="2027-02-01"))
    assert next_year.decision.counts.personal_subjects_before == 0
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 60_000
    assert ledger.counts(EXPORTER, 2027)["personal_subjects"] == 30_000
    assert ledger.verify().ok
    assert replay(ledger).ok


def test_the_exporter_page_keeps_the_latest_decisions_dates(ledger: Ledger, ledger_engine: Engine) -> None:
    today = dt.date(2026, 12, 6)
    ledger.submit(ledger_engine, transfer("AM-4", 150_000, safeguards=CERTIFIED))
    report.catch_up(ledger)
    assert [m.reference for m in report.mechanisms_expiring(ledger, EXPORTER, today)[0]] == ["CERT-1"]
    amend(ledger, ledger_engine, "AM-4", _changed(transfer("AM-4", 150_000), safeguards=CONTRACT))
    report.catch_up(ledger)
    expiring, total = report.mechanisms_expiring(ledger, EXPORTER, today)
    assert (total, [(m.reference, m.transfers) for m in expiring]) == (1, [("SC-1", 1)])
    assert [(p.day, p.personal_subjects) for p in report.year_curve(ledger, EXPORTER, 2026)][-1][1] == 150_000


def test_verify_checks_amendment_events(tmp_path: Any, ledger_engine: Engine) -> None:
    """An insider who edits the replaced decision's link, or puts it back in force, is found."""
    for edit in ("relink", "unlink"):
        ledger = Ledger(f"sqlite:///{tmp_path / (edit + '.db')}")
        original = ledger.submit(ledger_engine, transfer("AM-5", 150_000)).decision
        amend(ledger, ledger_engine, "AM-5", _changed(transfer("AM-5", 150_000), safeguards=CONTRACT))
        assert ledger.verify().ok
        with ledger.sql_engine.begin() as conn:
            if edit == "relink":
                conn.execute(update(replaced_decisions).values(replaced_at="2026-01-01T00:00:00.000000+00:00"))
            else:
                conn.execute(replaced_decisions.delete())
        found = ledger.verify()
        assert not found.ok
        assert original.decision_id in str(found.problem) or "replaced" in str(found.problem)
        ledger.close()

"""Recorded transfers on SQLite and PostgreSQL: submit, replay, conflict, read, withdraw, counts, audit."""

from __future__ import annotations

import datetime as dt

from tests.http.conftest import Server, make_request

PROBLEM = "application/problem+json"


def test_submit_replay_conflict_read_withdraw(ledger_server: Server) -> None:
    submitter, auditor = ledger_server.client("submitter"), ledger_server.client("auditor")
    body = make_request()
    exporter = body["exporter"]["id"]

    first = submitter.post("/v1/transfers", json=body)
    assert first.status_code == 201, first.text
    decision = first.json()
    assert first.headers["location"] == f"/v1/transfers/{decision['decision_id']}"
    assert first.headers["idempotent-replayed"] == "false"

    again = submitter.post("/v1/transfers", json=body)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["decision_id"] == decision["decision_id"]

    conflict = submitter.post("/v1/transfers", json={**body, "purpose": "other"})
    assert conflict.status_code == 409 and conflict.headers["content-type"] == PROBLEM
    assert conflict.json()["type"] == "urn:baygate:problem:reference-conflict"

    for key in (decision["decision_id"], body["reference"]):
        record = auditor.get(f"/v1/transfers/{key}")
        assert record.status_code == 200, record.text
        assert record.json()["decision"]["decision_id"] == decision["decision_id"]
        assert record.json()["request"]["reference"] == body["reference"]
        assert record.json()["withdrawn"] is False

    year = dt.date.fromisoformat(body["planned_date"]).year
    counts = auditor.get(f"/v1/exporters/{exporter}/counts", params={"year": year}).json()
    assert counts["personal_subjects"] == 150_000

    withdrawn = submitter.post(f"/v1/transfers/{decision['decision_id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["already_withdrawn"] is False
    assert withdrawn.json()["released_personal_subjects"] == 150_000
    assert withdrawn.json()["counted_personal_subjects"] == 150_000  # no population: it releases what it added
    assert submitter.post(f"/v1/transfers/{body['reference']}/withdraw").json()["already_withdrawn"] is True
    assert auditor.get(f"/v1/exporters/{exporter}/counts", params={"year": year}).json()["personal_subjects"] == 0
    assert auditor.get(f"/v1/transfers/{body['reference']}").json()["withdrawn"] is True

    verify = auditor.get("/v1/audit/verify")
    assert verify.status_code == 200 and verify.json()["ok"] is True and verify.json()["events"] >= 3


def test_dry_run_reads_the_recorded_counts(ledger_server: Server) -> None:
    submitter = ledger_server.client("submitter")
    first = make_request(data=[{"kind": "personal", "subjects": 90_000}], safeguards={
        "separate_consent": True, "notice_given": True, "pia_completed_on": "2026-11-01"})
    assert submitter.post("/v1/transfers", json=first).json()["outcome"] == "permitted"
    second = make_request(first["exporter"]["id"], data=[{"kind": "personal", "subjects": 20_000}],
                          safeguards=first["safeguards"])
    decision = submitter.post("/v1/evaluate", json=second).json()
    assert decision["counts"]["personal_subjects_before"] == 90_000
    assert decision["outcome"] == "conditional" and decision["mechanism"] == "standard_contract"


def test_unknown_transfer_is_404_and_shared_reference_is_409(ledger_server: Server) -> None:
    submitter, auditor = ledger_server.client("submitter"), ledger_server.client("auditor")
    missing = auditor.get("/v1/transfers/NO-SUCH-REFERENCE")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert submitter.post("/v1/transfers/NO-SUCH-REFERENCE/withdraw").status_code == 404
    one, two = make_request(), make_request()
    two["reference"] = one["reference"]
    assert submitter.post("/v1/transfers", json=one).status_code == 201
    assert submitter.post("/v1/transfers", json=two).status_code == 201
    ambiguous = auditor.get(f"/v1/transfers/{one['reference']}")
    assert ambiguous.status_code == 409 and ambiguous.json()["type"] == "urn:baygate:problem:ambiguous-reference"
    chosen = auditor.get(f"/v1/transfers/{one['reference']}", params={"exporter_id": two["exporter"]["id"]})
    assert chosen.status_code == 200 and chosen.json()["exporter_id"] == two["exporter"]["id"]


def test_submission_of_a_bad_request_is_422_and_writes_nothing(ledger_server: Server) -> None:
    body = make_request(purpose="curiosity")
    answer = ledger_server.client("submitter").post("/v1/transfers", json=body)
    assert answer.status_code == 422 and answer.json()["errors"][0]["path"] == "purpose"
    assert ledger_server.client("auditor").get(f"/v1/transfers/{body['reference']}").status_code == 404

"""``POST /v1/transfers/batch``: many transfers recorded in one call, one result per request in order."""

from __future__ import annotations

from tests.http.conftest import Server, make_request

PROBLEM_TYPE = "urn:baygate:problem:"


def test_a_batch_records_each_request_in_order_with_problems_in_place(ledger_server: Server) -> None:
    submitter, auditor = ledger_server.client("submitter"), ledger_server.client("auditor")
    exporter = make_request()["exporter"]["id"]
    first = make_request(exporter)
    requests = [first, make_request(exporter), {"reference": "no-exporter"}, first,
                {**first, "purpose": "other"}, make_request(exporter)]
    answer = submitter.post("/v1/transfers/batch", json={"requests": requests})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    results = body["results"]
    assert len(results) == len(requests) and body["replayed"] == [3]
    assert [r.get("reference") for r in results[:2]] == [first["reference"], requests[1]["reference"]]
    assert results[2]["type"] == PROBLEM_TYPE + "bad-input" and results[2]["index"] == 2
    assert results[3]["decision_id"] == results[0]["decision_id"]  # already recorded: its decision
    assert results[4]["type"] == PROBLEM_TYPE + "reference-conflict" and results[4]["index"] == 4
    assert results[4]["status"] == 409
    # Each decided on the counts the ones before it left: 150,000 each, one after the other.
    befores = [results[i]["counts"]["personal_subjects_before"] for i in (0, 1, 5)]
    assert befores == sorted(befores) and len(set(befores)) == 3
    for index in (0, 1, 5):
        assert auditor.get(f"/v1/transfers/{results[index]['decision_id']}").status_code == 200
    assert auditor.get("/v1/audit/verify").json()["ok"] is True


def test_only_submitters_record_a_batch_and_a_bad_body_is_refused_whole(server: Server) -> None:
    assert server.client("auditor").post("/v1/transfers/batch", json={"requests": [make_request()]}).status_code == 403
    empty = server.client("submitter").post("/v1/transfers/batch", json={"requests": []})
    assert empty.status_code == 422
    assert server.client("submitter").post("/v1/transfers/batch", json=[make_request()]).status_code == 422

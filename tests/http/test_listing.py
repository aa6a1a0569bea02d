"""``GET /v1/transfers`` (filters, cursor pages) and ``GET /v1/decisions?after=SEQ`` (NDJSON) over HTTP, on
both databases, with the roles that may read them."""

from __future__ import annotations

import json

import httpx

from tests.http.conftest import Server, make_request


def test_list_filters_and_follows_cursors(ledger_server: Server) -> None:
    submitter, auditor = ledger_server.client("submitter"), ledger_server.client("auditor")
    first = make_request()
    exporter = first["exporter"]["id"]
    references = [first["reference"]]
    assert submitter.post("/v1/transfers", json=first).status_code == 201
    for _ in range(4):
        body = make_request(exporter)
        references.append(body["reference"])
        assert submitter.post("/v1/transfers", json=body).status_code in (200, 201)
    assert submitter.post(f"/v1/transfers/{references[1]}/withdraw", params={"exporter_id": exporter}).is_success

    seen, cursor = [], None
    while True:
        params = {"exporter_id": exporter, "limit": 2, **({"cursor": cursor} if cursor else {})}
        answer = auditor.get("/v1/transfers", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [item["reference"] for item in seen] == references[::-1]
    assert {item["status"] for item in seen if item["reference"] == references[1]} == {"withdrawn"}

    withdrawn = auditor.get("/v1/transfers", params={"exporter_id": exporter, "status": "withdrawn"}).json()
    assert [item["reference"] for item in withdrawn["items"]] == [references[1]]
    none = auditor.get("/v1/transfers", params={"exporter_id": exporter, "outcome": "prohibited"}).json()
    assert none == {"items": [], "next_cursor": None}


def test_list_refuses_bad_parameters_and_the_wrong_role(server: Server) -> None:
    auditor = server.client("auditor")
    for params in ({"cursor": "nonsense"}, {"limit": 0}, {"limit": 5000}, {"outcome": "maybe"},
                   {"status": "lost"}, {"year": "twenty"}):
        answer = auditor.get("/v1/transfers", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert server.client("submitter").get("/v1/transfers").status_code == 403
    assert server.client().get("/v1/transfers").status_code == 401


def test_decision_log_pages_by_chain_position(ledger_server: Server) -> None:
    submitter, auditor = ledger_server.client("submitter"), ledger_server.client("auditor")
    start = _last_seq(auditor)
    bodies = [make_request() for _ in range(3)]
    for body in bodies:
        assert submitter.post("/v1/transfers", json=body).status_code == 201
    assert submitter.post("/v1/evaluate", json=make_request()).status_code == 200  # a dry run: not logged

    first = auditor.get("/v1/decisions", params={"after": start, "limit": 2})
    assert first.status_code == 200 and first.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in first.text.splitlines()]
    assert len(lines) == 2 and f"after={lines[-1]['seq']}" in first.headers["link"]
    rest = auditor.get("/v1/decisions", params={"after": lines[-1]["seq"], "limit": 2})
    lines += [json.loads(line) for line in rest.text.splitlines()]
    assert "link" not in rest.headers
    assert [line["decision"]["reference"] for line in lines] == [body["reference"] for body in bodies]
    assert [line["exporter_id"] for line in lines] == [body["exporter"]["id"] for body in bodies]
    assert auditor.get("/v1/decisions", params={"after": lines[-1]["seq"]}).text == ""
    assert submitter.get("/v1/decisions").status_code == 403


def _last_seq(auditor: httpx.Client) -> int:
    after = 0
    while True:
        answer = auditor.get("/v1/decisions", params={"after": after, "limit": 1000})
        lines = answer.text.splitlines()
        if not lines:
            return after
        after = json.loads(lines[-1])["seq"]

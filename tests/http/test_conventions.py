"""HTTP conventions (api/http/conventions.py) on a real server: X-Request-ID accepted or generated,
echoed and logged; 415 for a body that is not JSON; Idempotency-Key equal to the reference or refused;
problem titles in the caller's language."""

from __future__ import annotations

import re
import time

import pytest

from tests.http.conftest import Server, make_request

MADE_ID = re.compile(r"[0-9a-f]{12}-[0-9a-f]+")
"""A made request id: the process's 12 random hex digits and its request number (new_request_id)."""


def test_a_request_id_sent_is_echoed_and_logged(server: Server) -> None:
    client = server.client("submitter")
    answer = client.post("/v1/evaluate", json=make_request(), headers={"X-Request-ID": "pipeline-42.run:7"})
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "pipeline-42.run:7"
    deadline = time.monotonic() + 10
    while "request_id=pipeline-42.run:7" not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    line = next(line for line in server.log_text().splitlines() if "request_id=pipeline-42.run:7" in line)
    assert "POST /v1/evaluate" in line and " 200 " in line


@pytest.mark.parametrize("sent", [None, "has spaces", "x" * 129, "é-accent"])
def test_a_request_id_is_made_when_none_or_an_unusable_one_is_sent(server: Server, sent: str | None) -> None:
    headers = {"X-Request-ID": sent.encode("utf-8")} if sent is not None else {}
    answer = server.client("submitter").post("/v1/evaluate", json=make_request(), headers=headers)
    assert MADE_ID.fullmatch(answer.headers["x-request-id"]), answer.headers


def test_problems_carry_the_request_id_too(server: Server) -> None:
    unauthenticated = server.client().get("/v1/rules", headers={"X-Request-ID": "no-key-1"})
    assert unauthenticated.status_code == 401 and unauthenticated.headers["x-request-id"] == "no-key-1"
    ids = {server.client().get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
def test_a_body_that_is_not_json_is_415(server: Server, content_type: str) -> None:
    answer = server.client("submitter").post("/v1/evaluate", content=b'{"reference": "x"}',
                                             headers={"Content-Type": content_type})
    assert answer.status_code == 415, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:baygate:problem:unsupported-media-type"


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "APPLICATION/JSON",
                                          "application/problem+json"])
def test_json_by_any_spelling_is_read(server: Server, content_type: str) -> None:
    import json

    answer = server.client("submitter").post("/v1/evaluate", content=json.dumps(make_request()).encode(),
                                             headers={"Content-Type": content_type})
    assert answer.status_code == 200, answer.text


def test_idempotency_key_must_equal_the_reference(server: Server) -> None:
    submitter, auditor = server.client("submitter"), server.client("auditor")
    body = make_request()
    wrong = submitter.post("/v1/transfers", json=body, headers={"Idempotency-Key": "something-else"})
    assert wrong.status_code == 422 and wrong.json()["type"] == "urn:baygate:problem:idempotency-key-mismatch"
    assert wrong.json()["errors"][0]["path"] == "Idempotency-Key"
    assert auditor.get(f"/v1/transfers/{body['reference']}").status_code == 404  # nothing recorded
    right = submitter.post("/v1/transfers", json=body, headers={"Idempotency-Key": body["reference"]})
    assert right.status_code == 201, right.text
    again = submitter.post("/v1/transfers", json=body, headers={"Idempotency-Key": body["reference"]})
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"


def test_idempotency_key_where_it_means_nothing_is_refused(server: Server) -> None:
    answer = server.client("submitter").post("/v1/evaluate", json=make_request(), headers={"Idempotency-Key": "k"})
    assert answer.status_code == 422 and answer.json()["type"] == "urn:baygate:problem:idempotency-key-not-used"


@pytest.mark.parametrize(("header", "lang", "title"), [
    ("zh-HK", "zh-Hant", "需要API密鑰"), ("zh-CN,en;q=0.5", "zh-Hans", "需要API密钥"),
    ("en-GB", "en", "An API key is required"), (None, "en", "An API key is required")])
def test_problem_titles_in_the_callers_language(server: Server, header: str | None, lang: str, title: str) -> None:
    headers = {"Accept-Language": header} if header else {}
    answer = server.client().get("/v1/rules", headers=headers)
    assert answer.status_code == 401
    assert (answer.json()["title"], answer.headers["content-language"]) == (title, lang)
    assert answer.json()["type"] == "urn:baygate:problem:unauthenticated"  # never translated


def test_a_validation_problem_in_traditional_chinese(server: Server) -> None:
    answer = server.client("submitter", **{"Accept-Language": "zh-TW"}).post("/v1/evaluate", json={"reference": 1})
    assert answer.status_code == 422
    assert answer.json()["title"] == "請求不是有效的資料轉移請求" and answer.json()["errors"]

"""The dry-run route's common case (api.http.routes_evaluate.DryRunLane) answers exactly as the
standard FastAPI way does: same status, headers and decision, and every request it does not take
(no key, a wrong role, a bad body, ``?as_of=``, another content type) still gets FastAPI's answer.
A database that is down (decided again the standard way: a 503 problem) is tested in test_service."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from fastapi.security import HTTPBearer
from starlette.requests import Request

from api.http.deps import bearer_key
from tests.http.conftest import Server, make_request

VOLATILE = ("decision_id", "evaluated_at")


def _same_decision(fast: dict[str, Any], standard: dict[str, Any]) -> None:
    assert {k: v for k, v in fast.items() if k not in VOLATILE} == \
        {k: v for k, v in standard.items() if k not in VOLATILE}


@pytest.mark.parametrize("language", [None, "zh-HK,en;q=0.5"])
def test_common_case_answers_as_the_standard_way(server: Server, language: str | None) -> None:
    """``application/json`` takes the common case; ``application/json; charset=utf-8`` the standard way."""
    client = server.client("submitter", **({"Accept-Language": language} if language else {}))
    body = json.dumps(make_request())
    fast = client.post("/v1/evaluate", content=body, headers={"Content-Type": "application/json"})
    standard = client.post("/v1/evaluate", content=body,
                           headers={"Content-Type": "application/json; charset=utf-8"})
    assert fast.status_code == standard.status_code == 200, (fast.text, standard.text)
    # the length follows the volatile decision id and time; every answer has its own request id
    drop = {"date", "content-length", "x-request-id"}
    assert [(k, v) for k, v in fast.headers.items() if k not in drop] == \
        [(k, v) for k, v in standard.headers.items() if k not in drop]
    _same_decision(fast.json(), standard.json())


def test_requests_the_common_case_does_not_take_get_the_standard_problems(server: Server) -> None:
    body = make_request()
    anonymous, auditor, submitter = server.client(), server.client("auditor"), server.client("submitter")
    no_key = anonymous.post("/v1/evaluate", json=body)
    assert no_key.status_code == 401 and no_key.json()["type"] == "urn:baygate:problem:unauthenticated"
    assert no_key.headers["www-authenticate"] == 'Bearer realm="baygate"'
    wrong = server.client(Authorization="Bearer " + "x" * 32).post("/v1/evaluate", json=body)
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == 'Bearer realm="baygate", error="invalid_token"'
    other_scheme = server.client(Authorization="Basic " + "x" * 32).post("/v1/evaluate", json=body)
    assert other_scheme.status_code == 401
    forbidden = auditor.post("/v1/evaluate", json=body)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "baygate.forbidden"
    bad = submitter.post("/v1/evaluate", json={**body, "data": [{"kind": "personal", "subjects": -1}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"].startswith("data[0]")
    not_json = submitter.post("/v1/evaluate", content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["code"] == "baygate.bad-input"
    future = submitter.post("/v1/evaluate", json=body, params={"as_of": "2999-01-01"})
    assert future.status_code == 422 and future.json()["errors"][0]["path"] == "as_of"


def test_lowercase_scheme_and_spaces_pass_as_with_httpbearer(server: Server) -> None:
    from tests.http.conftest import SUBMITTER_KEY

    client = server.client(Authorization=f"bearer   {SUBMITTER_KEY}")
    assert client.post("/v1/evaluate", json=make_request()).status_code == 200


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Bearer  ", "Bearer abc", "bearer abc", "BEARER abc  ", "Bearer  a b ",
    "Basic abc", " Bearer abc", "Bearerabc", "Token abc", "Bearer\tabc",
])
def test_bearer_key_reads_the_header_as_httpbearer_does(header: str | None) -> None:
    headers = [] if header is None else [(b"authorization", header.encode())]
    request = Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""})
    credentials = asyncio.run(HTTPBearer(auto_error=False)(request))
    assert bearer_key(header) == (credentials.credentials if credentials else None)


def _edgy_bodies() -> list[str]:
    """Valid-looking JSON that leans on lax validation: the common case parses with pydantic's JSON
    parser, the standard way with json.loads; both must answer alike."""
    base = make_request()
    text = json.dumps(base)
    return [
        json.dumps({**base, "new_purpose": "true", "data": [{"kind": "personal", "subjects": "150000"}]}),
        json.dumps({**base, "data": [{"kind": "personal", "subjects": 150000.0}]}),
        json.dumps({**base, "planned_date": 1796083200}),  # a Unix time for a date
        json.dumps({**base, "planned_date": "2026-12-01T00:00:00"}),
        json.dumps({**base, "data": [{"kind": "personal", "subjects": 1.5}]}),
        json.dumps({**base, "reference": "\ud800"}),  # a lone surrogate (escaped)
        json.dumps({**base, "reference": "Zürich-\u6df1\u5733"}, ensure_ascii=False),
        text[:-1] + ', "reference": "DUPLICATE-KEY"}',
        text[:-1] + ', "subjects": NaN}',
        '{"reference": 1e400}',
        text.replace('"subjects": 150000', '"subjects": 1' + "0" * 30),
        "[" + text + "]",
        "  \n" + text + "\n  ",
    ]


@pytest.mark.parametrize("index", range(len(_edgy_bodies())))
def test_lax_json_bodies_answer_alike_both_ways(server: Server, index: int) -> None:
    client = server.client("submitter")
    body = _edgy_bodies()[index].encode("utf-8", "surrogatepass")
    fast = client.post("/v1/evaluate", content=body, headers={"Content-Type": "application/json"})
    standard = client.post("/v1/evaluate", content=body,
                           headers={"Content-Type": "application/json; charset=utf-8"})
    assert fast.status_code == standard.status_code, (fast.text, standard.text)
    if fast.status_code == 200:
        _same_decision(fast.json(), standard.json())
    else:
        assert fast.json() == standard.json()


def test_common_case_is_measured_by_route_template(server: Server) -> None:
    def count() -> float:
        text = server.client("auditor").get("/metrics").text
        found = re.search(r'^baygate_http_requests_total\{method="POST",route="/v1/evaluate",status="200"\} (\S+)$',
                          text, re.M)
        return float(found.group(1)) if found else 0.0

    before = count()
    submitter = server.client("submitter")
    for _ in range(3):
        assert submitter.post("/v1/evaluate", json=make_request()).status_code == 200
    assert count() == before + 3


def test_a_repeated_header_gets_the_standard_answer(server: Server) -> None:
    """With a header sent twice the standard way reads the first copy; the lane must not answer from
    another: an auditor key followed by a submitter key is refused (403) whichever way it goes."""
    from tests.http.conftest import AUDITOR_KEY, SUBMITTER_KEY

    body = json.dumps(make_request()).encode()
    client = server.client()
    twice = [("Authorization", f"Bearer {AUDITOR_KEY}"), ("Authorization", f"Bearer {SUBMITTER_KEY}"),
             ("Content-Type", "application/json")]
    assert client.post("/v1/evaluate", content=body, headers=twice).status_code == 403
    languages = [("Authorization", f"Bearer {SUBMITTER_KEY}"), ("Content-Type", "application/json"),
                 ("Accept-Language", "en"), ("Accept-Language", "zh-Hant")]
    answer = client.post("/v1/evaluate", content=body, headers=languages)
    assert answer.status_code == 200 and answer.headers["content-language"] == "en"

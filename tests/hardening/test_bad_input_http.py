"""Bad input through the HTTP doors: ``POST /v1/evaluate``, ``/v1/evaluate/batch``, ``/v1/transfers``
and ``/v1/rules/validate``. Each is answered with the matching RFC 9457 problem (422 naming the field,
413 for size), within a generous bound against hangs, with nothing recorded (the audit chain's length is unchanged)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.hardening.badinputs import ALIAS_BOMB, CASES
from tests.hardening.conftest import Server, audit_events, dumps, good_request

JSON_CASES = [c for c in CASES if c.json_body]
BUDGET = 10.0  # a guard against hangs, not a timing (the machine is shared)


def _post(client: httpx.Client, path: str, raw: bytes, content_type: str = "application/json") -> httpx.Response:
    started = time.perf_counter()
    response = client.post(path, content=raw, headers={"Content-Type": content_type})
    assert time.perf_counter() - started < BUDGET, (path, time.perf_counter() - started)
    return response


def _assert_problem(response: httpx.Response, status: int, names: tuple[str, ...] = ()) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:1000])
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["type"].startswith("urn:baygate:problem:")
    assert "Traceback" not in response.text
    if names:
        text = json.dumps(body).lower()
        assert any(name.lower() in text for name in names), (names, body)
    return body


@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/transfers"])
def test_single_request_doors(hserver: Server, path: str) -> None:
    client = hserver.client("submitter")
    before = audit_events(hserver)
    for case in JSON_CASES:
        response = _post(client, path, case.raw)
        body = _assert_problem(response, 422, case.names)
        assert body["code"] == "baygate.bad-input", (case.id, body)
    # the same body as YAML is not JSON: refused as such (415), not parsed
    _assert_problem(_post(client, path, ALIAS_BOMB, "application/yaml"), 415)
    assert audit_events(hserver) == before


@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/transfers", "/v1/evaluate/batch", "/v1/rules/validate"])
def test_oversized_bodies(hserver: Server, path: str) -> None:
    role = "rules_admin" if "rules" in path else "submitter"
    client = hserver.client(role)
    before = audit_events(hserver)
    huge = b'{"reference": "' + b"x" * (5 * 1024 * 1024 + 10) + b'"}'
    body = _assert_problem(_post(client, path, huge), 413)
    assert body["code"] == "baygate.too-large"
    # a lying Content-Length is refused before the body is read; a chunked body is counted as it comes
    chunked = client.post(path, content=iter([huge[:1024 * 1024]] * 6), headers={"Content-Type": "application/json"})
    _assert_problem(chunked, 413)
    assert audit_events(hserver) == before


def test_batch_door(hserver: Server) -> None:
    client = hserver.client("submitter")
    before = audit_events(hserver)
    # every bad item answered in its place by a problem with its index; the good one decided
    # (cases json.loads cannot carry into a list: a duplicate key would collapse, a huge integer not parse;
    # they go through the batch as raw text below)
    items: list[Any] = [good_request()] + [json.loads(c.raw) for c in JSON_CASES
                                          if c.id not in ("broken-json", "empty", "whitespace", "non-utf8",
                                                          "utf16", "deep-json-array", "deep-json-object",
                                                          "json-duplicate-key", "json-duplicate-nested-key",
                                                          "huge-int-json")]
    response = client.post("/v1/evaluate/batch", json={"requests": items})
    assert response.status_code == 200, response.text[:500]
    results = response.json()["results"]
    assert len(results) == len(items)
    assert "outcome" in results[0]
    for index, result in enumerate(results[1:], start=1):
        assert result["status"] == 422 and result["index"] == index, result
    huge = next(c for c in JSON_CASES if c.id == "huge-int-json").raw
    raw_items = _post(client, "/v1/evaluate/batch", b'{"requests": [' + dumps(good_request()) + b", " + huge + b"]}")
    assert raw_items.status_code == 200 and raw_items.json()["results"][1]["errors"][0]["path"] == "data[0].subjects"
    doubled = next(c for c in JSON_CASES if c.id == "json-duplicate-key").raw
    _assert_problem(_post(client, "/v1/evaluate/batch", b'{"requests": [' + doubled + b"]}"), 422, ("twice",))
    # whole-body problems
    for raw, status in [(b"", 422), (b"[]", 422), (b'{"requests": []}', 422), (b'{"requests": {}}', 422),
                        (b'{"requests": [], "extra": 1}', 422), (b'{"requests": [' , 422),
                        (b'{"requests": ["\xff\xfe"]}', 422),
                        (b'{"requests": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", 422),
                        (dumps({"requests": [{}] * 10_001}), 413)]:
        _assert_problem(_post(client, "/v1/evaluate/batch", raw), status)
    assert audit_events(hserver) == before


RULE_FILES = {
    "broken.yaml": ("pack: x\nrules: [\n", "syntax"),
    "bomb.yaml": (ALIAS_BOMB.decode(), "alias"),
    "deep.yaml": ("pack: x\nrules: " + "[" * 20_000 + "]" * 20_000 + "\n", "nesting"),
    "empty.yaml": ("", "empty"),
}


def test_rules_validate_door(hserver: Server) -> None:
    client = hserver.client("rules_admin")
    for name, (text, fragment) in RULE_FILES.items():
        body = _assert_problem(_post(client, "/v1/rules/validate", dumps({"files": {name: text}})), 422)
        assert body["code"] == "baygate.bad-rule-pack" and body["issues"], body
        assert all(issue["file"].endswith(name) for issue in body["issues"])
        assert fragment in json.dumps(body).lower(), body
    for raw, fragment in [(b'{"files": {"a.yaml": "\xff"}}', "json"), (b'{"files": {}}', "files"),
                          (dumps({"files": {"../etc/passwd.yaml": "x"}}), "file name"),
                          (dumps({"files": {"a.yaml": 5}}), "files"), (dumps({"filez": {}}), "files"),
                          (b"[" * 50_000, "json")]:
        _assert_problem(_post(client, "/v1/rules/validate", raw), 422, (fragment,))
    # a validation serves nothing: the packs in use are unchanged
    assert hserver.client("rules_admin").get("/v1/rules").status_code == 200

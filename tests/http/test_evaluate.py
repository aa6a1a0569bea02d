"""Dry runs over HTTP: decisions, languages, as-of, field paths, size limits, and the batch."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml

from tests.http.conftest import ROOT, Server, make_request

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios.yaml"
PROBLEM = "application/problem+json"


def test_evaluate_decides_the_example_and_records_nothing(server: Server) -> None:
    submitter, auditor = server.client("submitter"), server.client("auditor")
    body = make_request()
    answer = submitter.post("/v1/evaluate", json=body)
    assert answer.status_code == 200, answer.text
    decision = answer.json()
    assert (decision["outcome"], decision["mechanism"]) == ("permitted", "standard_contract")
    assert decision["reference"] == body["reference"]
    assert answer.headers["content-language"] == "en"
    assert list(decision["reasons"][0]["message"]) == ["en", "zh-Hans", "zh-Hant"]
    assert auditor.get(f"/v1/transfers/{body['reference']}").status_code == 404


def test_every_shared_scenario_is_decided_right_over_http(server: Server) -> None:
    scenarios = yaml.safe_load(SCENARIOS.read_text(encoding="utf-8"))["scenarios"]
    requests = [_jsonable(s["request"]) for s in scenarios]
    answer = server.client("submitter").post("/v1/evaluate/batch", json={"requests": requests})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert len(results) == len(scenarios)
    for scenario, decision in zip(scenarios, results, strict=True):
        expect = scenario["expect"]
        got = {"outcome": decision["outcome"], "mechanism": decision["mechanism"],
               "mechanism_options": set(decision["mechanism_options"]), "exemptions": set(decision["exemptions"])}
        want = {"outcome": expect["outcome"], "mechanism": expect["mechanism"],
                "mechanism_options": set(expect.get("mechanism_options") or []),
                "exemptions": set(expect.get("exemptions") or [])}
        assert got == want, scenario["id"]


def _jsonable(node: object) -> object:
    if isinstance(node, dict):
        return {k: _jsonable(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_jsonable(v) for v in node]
    if hasattr(node, "isoformat"):
        return node.isoformat()
    return node


def test_accept_language_puts_that_language_first(server: Server) -> None:
    body = make_request(safeguards={})
    cases = {"zh-CN": "zh-Hans", "zh-Hans": "zh-Hans", "zh-TW": "zh-Hant", "zh-HK,en;q=0.5": "zh-Hant",
             "fr, en;q=0.3, zh-Hant;q=0.9": "zh-Hant", "en-GB": "en", "de": "en"}
    for header, lang in cases.items():
        answer = server.client("submitter", **{"Accept-Language": header}).post("/v1/evaluate", json=body)
        assert answer.status_code == 200
        assert answer.headers["content-language"] == lang, header
        decision = answer.json()
        texts = [r["message"] for r in decision["reasons"]] + [o["text"] for o in decision["obligations"]]
        texts += [m["text"] for m in decision["missing"]]
        assert decision["missing"] and texts
        assert all(next(iter(t)) == lang and set(t) == {"en", "zh-Hans", "zh-Hant"} for t in texts), header


def test_as_of_is_the_day_whose_packs_were_used(server: Server) -> None:
    client = server.client("submitter")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    answer = client.post("/v1/evaluate", params={"as_of": today}, json=make_request())
    assert answer.status_code == 200
    assert answer.json()["rules"]["as_of"] == today
    # before the first pack version the ledger stores (issue 8): a problem, never today's packs
    early = client.post("/v1/evaluate", params={"as_of": "2025-06-30"}, json=make_request())
    assert early.status_code == 422 and early.json()["errors"][0]["path"] == "as_of"
    assert early.json()["first_stored_day"] == today
    bad = client.post("/v1/evaluate", params={"as_of": "yesterday"}, json=make_request())
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert bad.json()["errors"][0]["path"] == "as_of" and bad.json()["errors"][0]["in"] == "query"


def test_bad_request_is_422_with_field_paths(server: Server) -> None:
    body = make_request()
    body["data"] = [{"kind": "personal", "subjects": 10}, {"kind": "personal", "subjects": 0}]
    body["recipient"]["jurisdiction"] = "hongkong"
    body["colour"] = "red"
    answer = server.client("submitter").post("/v1/evaluate", json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["type"] == "urn:baygate:problem:bad-input" and problem["status"] == 422
    paths = {e["path"] for e in problem["errors"]}
    assert {"data[1].subjects", "recipient.jurisdiction", "colour"} <= paths


def test_body_that_is_not_json_is_422(server: Server) -> None:
    answer = server.client("submitter").post("/v1/evaluate", content=b"{not json",
                                             headers={"Content-Type": "application/json"})
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM


def test_body_over_the_limit_is_413(server: Server) -> None:
    answer = server.client("submitter").post("/v1/evaluate", content=b" " * (5 * 1024 * 1024 + 1),
                                             headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.headers["content-type"] == PROBLEM
    assert answer.json()["type"] == "urn:baygate:problem:too-large"


def test_batch_answers_a_bad_item_in_its_place(server: Server) -> None:
    good, missing_subjects = make_request(), make_request()
    missing_subjects["data"] = [{"kind": "personal"}]
    answer = server.client("submitter", **{"Accept-Language": "zh-Hant"}).post(
        "/v1/evaluate/batch", json={"requests": [good, missing_subjects, "not a request", good]})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r.get("outcome") or r["status"] for r in results] == ["permitted", 422, 422, "permitted"]
    assert results[1]["type"] == "urn:baygate:problem:bad-input" and results[1]["index"] == 1
    assert results[1]["errors"][0]["path"] == "data[0].subjects"
    assert next(iter(results[0]["reasons"][0]["message"])) == "zh-Hant"


def test_a_batch_of_valid_items_decides_as_one_with_a_bad_item_does(server: Server) -> None:
    """A batch whose items all validate is parsed in one call (routes_evaluate.valid_batch); one bad
    item sends the batch item by item. The decisions of the good items are the same either way."""
    scenarios = yaml.safe_load((ROOT / "tests" / "data" / "scenarios.yaml").read_text(encoding="utf-8"))
    good = [scenario["request"] for scenario in scenarios["scenarios"]]
    client = server.client("submitter")
    whole = client.post("/v1/evaluate/batch", content=json.dumps({"requests": good}, default=str),
                        headers={"Content-Type": "application/json"})
    mixed = client.post("/v1/evaluate/batch", content=json.dumps({"requests": [*good, {"x": 1}]}, default=str),
                        headers={"Content-Type": "application/json"})
    assert whole.status_code == mixed.status_code == 200, (whole.text, mixed.text)
    volatile = ("decision_id", "evaluated_at")
    fast = [{k: v for k, v in r.items() if k not in volatile} for r in whole.json()["results"]]
    slow = [{k: v for k, v in r.items() if k not in volatile} for r in mixed.json()["results"]]
    assert len(fast) == len(good) and fast == slow[:-1]
    assert slow[-1]["status"] == 422 and slow[-1]["index"] == len(good)


def test_batch_over_10000_items_is_413_and_empty_or_malformed_is_422(server: Server) -> None:
    client = server.client("submitter")
    too_many = client.post("/v1/evaluate/batch", json={"requests": [{}] * 10_001})
    assert too_many.status_code == 413 and too_many.headers["content-type"] == PROBLEM
    for body in ({"requests": []}, {"request": [make_request()]}, [make_request()]):
        answer = client.post("/v1/evaluate/batch", json=body)
        assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM, body


def test_the_retired_public_body_is_refused_naming_both_kinds_that_replace_it(server: Server) -> None:
    body = make_request()
    body["exporter"]["kind"] = "public_body"
    answer = server.client("submitter").post("/v1/evaluate", json=body)
    assert answer.status_code == 422
    error = next(e for e in answer.json()["errors"] if e["path"] == "exporter.kind")
    assert "state_organ" in error["message"] and "public_institution" in error["message"], error

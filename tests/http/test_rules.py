"""Rule packs over HTTP: list, validate, and reload that swaps whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http.conftest import Server, make_request, start_server

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def rules_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: these tests change its rule packs on disk."""
    tmp = tmp_path_factory.mktemp("http-rules")
    running = start_server(tmp, f"sqlite:///{tmp / 'ledger.db'}")
    yield running
    running.stop()


def test_list_rules(rules_server: Server) -> None:
    body = rules_server.client("auditor").get("/v1/rules").json()
    assert set(body) == {"digest", "packs", "options"}
    assert body["digest"].startswith("sha256:")
    assert {"cn-outbound"} <= {p["pack"] for p in body["packs"]}
    assert all(p["rules"] and p["version"] for p in body["packs"])
    assert body["options"]["gba_contract_at_assessment_level"] is False


def test_validate_packs_on_disk_and_posted(rules_server: Server) -> None:
    admin = rules_server.client("rules_admin")
    on_disk = admin.post("/v1/rules/validate")
    assert on_disk.status_code == 200 and on_disk.json()["valid"] is True
    assert on_disk.json()["digest"] == admin.get("/v1/rules").json()["digest"]

    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(rules_server.rules.glob("*.yaml"))}
    assert admin.post("/v1/rules/validate", json={"files": files}).json()["digest"] == on_disk.json()["digest"]
    name, text = _break(files)
    answer = admin.post("/v1/rules/validate", json={"files": {**files, name: text}})
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    _assert_names_the_fault(answer.json(), name)
    sneaky = admin.post("/v1/rules/validate", json={"files": {"../evil.yaml": "pack: x"}})
    assert sneaky.status_code == 422 and sneaky.json()["errors"][0]["path"].startswith("files.")


def test_reload_refuses_a_bad_pack_and_keeps_serving(rules_server: Server) -> None:
    admin, submitter = rules_server.client("rules_admin"), rules_server.client("submitter")
    before = admin.get("/v1/rules").json()["digest"]
    assert admin.post("/v1/rules/reload").json() == {**admin.post("/v1/rules/reload").json(), "reloaded": False}

    target = rules_server.rules / "cn-outbound.yaml"
    original = target.read_text(encoding="utf-8")
    _, broken = _break({target.name: original})
    target.write_text(broken, encoding="utf-8")
    try:
        refused = admin.post("/v1/rules/reload")
        assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
        _assert_names_the_fault(refused.json(), target.name)
        assert admin.get("/v1/rules").json()["digest"] == before
        decision = submitter.post("/v1/evaluate", json=make_request())
        assert decision.status_code == 200 and decision.json()["rules"]["digest"] == before
    finally:
        target.write_text(original, encoding="utf-8")

    target.write_text(original.replace("version:", "# a new version\nversion:", 1)
                      .replace(_version_line(original), 'version: "2099.01"'), encoding="utf-8")
    swapped = admin.post("/v1/rules/reload")
    assert swapped.status_code == 200 and swapped.json()["reloaded"] is True
    after = swapped.json()["digest"]
    assert after != before and swapped.json()["previous_digest"] == before
    assert admin.get("/v1/rules").json()["digest"] == after
    decision = submitter.post("/v1/evaluate", json=make_request()).json()
    assert decision["rules"]["digest"] == after and decision["rules"]["packs"]["cn-outbound"] == "2099.01"
    submitted = submitter.post("/v1/transfers", json=make_request())
    assert submitted.status_code == 201 and submitted.json()["rules"]["digest"] == after

    metrics = rules_server.client("auditor").get("/metrics").text
    assert "baygate_rules_reloads_total 1.0" in metrics
    assert "baygate_rules_reload_failures_total 1.0" in metrics
    assert f'baygate_rules_info{{digest="{after}"}} 1.0' in metrics


def _version_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("version:"))


def _break(files: dict[str, str]) -> tuple[str, str]:
    """cn-outbound.yaml with its first rule reading a fact that does not exist."""
    name = "cn-outbound.yaml"
    text = files[name]
    assert "{fact: leaves_mainland," in text
    return name, text.replace("{fact: leaves_mainland,", "{fact: no_such_fact,", 1)


def _assert_names_the_fault(problem: dict[str, object], name: str) -> None:
    assert problem["type"] == "urn:baygate:problem:bad-rule-pack"
    issues = problem["issues"]
    assert isinstance(issues, list) and issues
    issue = issues[0]
    assert Path(issue["file"]).name == name and issue["line"] > 0 and issue["rule_id"]
    assert "no_such_fact" in issue["message"]

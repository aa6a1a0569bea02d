"""Honest answers (issue 18, points 5 and 9): a list is decided item by item, each item's result in
order in both outputs; a withdrawn transfer submitted again says it is withdrawn; a dry run without a
ledger says it decided on the declared counts alone, and ``--require-ledger`` refuses instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from api.cli import app
from tests.hardening.conftest import InProcess, dumps, good_request


def invoke(*args: str, db: Path | None = None) -> tuple[int, str, str]:
    env = {"BAYGATE_DATABASE_URL": f"sqlite:///{db}"} if db else None
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, body: Any) -> str:
    path.write_bytes(dumps(body))
    return str(path)


def test_evaluate_answers_each_item_of_a_list_in_order(tmp_path: Path) -> None:
    items = [good_request(), {**good_request(), "purpose": "espionage"}, good_request()]
    listed = write(tmp_path / "list.json", items)
    code, out, err = invoke("evaluate", "--json", listed, db=tmp_path / "ledger.db")
    assert code == 3  # one was refused
    results = json.loads(out)
    # A dry run's list is a list of decisions, a refused item answered in its place by a problem object
    # (as the HTTP batch does): the decisions keep the shape `baygate schema decision` gives.
    assert ["decision_id" in r for r in results] == [True, False, True]
    assert all("result" not in r and "source" not in r for r in (results[0], results[2]))
    refused = results[1]
    assert (refused["result"], refused["index"], refused["source"]) == ("refused", 1, listed)
    assert refused["status"] == 422 and refused["code"] == "baygate.bad-input"
    assert refused["type"] == "urn:baygate:problem:bad-input"
    assert refused["errors"][0]["path"] == "purpose"
    assert [r["reference"] for r in (results[0], results[2])] == [items[0]["reference"], items[2]["reference"]]
    assert re.search(rf"{re.escape(str(listed))}:\d+: \[1\]\.purpose:", err) and "1 of 3 requests refused" in err
    code, out, err = invoke("evaluate", listed, db=tmp_path / "ledger.db")  # text: the same order
    assert code == 3 and out.index(f"{listed}[0]") < out.index(f"{listed}[2]") and "[1].purpose" in err


def test_without_refusals_the_exit_is_the_strongest_decision(tmp_path: Path) -> None:
    code, out, _ = invoke("evaluate", "--json", write(tmp_path / "two.json", [good_request(), good_request()]),
                          db=tmp_path / "ledger.db")
    results = json.loads(out)
    strongest = max({"permitted": 0, "conditional": 1, "prohibited": 2}[r["outcome"]] for r in results)
    assert code == strongest and all("decision_id" in r for r in results)


def test_submit_a_list_with_a_conflict_in_the_middle(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    first = good_request()
    assert invoke("submit", write(tmp_path / "first.json", first), db=db)[0] in (0, 1, 2)
    conflicting = {**first, "purpose": "research"}  # the same reference, another request
    items = [good_request(), first, conflicting, good_request()]
    listed = write(tmp_path / "list.json", items)
    code, out, err = invoke("submit", "--json", listed, db=db)
    assert code == 3
    results = json.loads(out)
    assert [r["result"] for r in results] == ["recorded", "already_recorded", "refused", "recorded"]
    assert results[2]["code"] == "baygate.reference-conflict" and results[2]["status"] == 409
    assert [r.get("index") for r in results] == [0, 1, 2, 3]
    assert f"{listed}[2]:" in err and "already recorded" in err.lower()
    code, out, err = invoke("submit", listed, db=db)  # again, as text: each line says what became of it
    assert code == 3
    assert out.count("already recorded") == 3 and f"{listed}[2]" in err


def test_a_withdrawn_transfer_submitted_again_says_so(tmp_path: Path, inprocess: InProcess) -> None:
    db = tmp_path / "ledger.db"
    body = good_request()
    path = write(tmp_path / "one.json", body)
    assert invoke("submit", path, db=db)[0] in (0, 1, 2)
    assert invoke("withdraw", body["reference"], db=db)[0] == 0
    code, out, err = invoke("submit", "--json", path, db=db)
    assert code == 3 and out == "" and "withdrawn" in err and "counted" not in out
    # HTTP: a 409 problem, not "200 permitted, counted: true"
    headers = inprocess.headers("submitter")
    again = good_request()
    assert inprocess.client.post("/v1/transfers", json=again, headers=headers).status_code == 201
    withdrawn = inprocess.client.post(f"/v1/transfers/{again['reference']}/withdraw", headers=headers)
    assert withdrawn.status_code == 200, withdrawn.text
    answer = inprocess.client.post("/v1/transfers", json=again, headers=headers)
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "baygate.transfer-withdrawn" and "withdrawn" in answer.json()["detail"]


def test_a_dry_run_without_a_ledger_says_so(tmp_path: Path) -> None:
    path = write(tmp_path / "one.json", good_request())
    code, out, err = invoke("evaluate", "--json", path, db=tmp_path / "none.db")
    decision = json.loads(out)
    assert decision["reasons"][0]["rule"] == "engine.no-ledger" and "declared_prior" in decision["reasons"][0][
        "message"]["en"]
    assert "warning: no ledger" in err and code in (0, 1, 2)
    assert not (tmp_path / "none.db").exists()
    code, out, err = invoke("evaluate", "--require-ledger", path, db=tmp_path / "none.db")
    assert code == 3 and out == "" and "--require-ledger" in err


def test_a_dry_run_with_a_ledger_has_no_such_reason(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    assert invoke("submit", write(tmp_path / "a.json", good_request()), db=db)[0] in (0, 1, 2)
    code, out, err = invoke("evaluate", "--json", "--require-ledger", write(tmp_path / "b.json", good_request()),
                            db=db)
    assert code in (0, 1, 2) and "no ledger" not in err
    assert all(r["rule"] != "engine.no-ledger" for r in json.loads(out)["reasons"])

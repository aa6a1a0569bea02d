"""HTTP: a total edited outside the service refuses the decision with a 503 problem "ledger integrity"
(issue 19 point 3; engine.ledger.seal), for a submission and for a dry run on the same counts."""

from __future__ import annotations

import sqlite3

from tests.hardening.conftest import InProcess, good_request


def test_an_edited_total_is_a_503_ledger_integrity_problem_and_nothing_is_decided(inprocess: InProcess) -> None:
    headers = inprocess.headers("submitter")
    first = good_request()
    assert inprocess.client.post("/v1/transfers", json=first, headers=headers).status_code == 201
    db = inprocess.database_url.removeprefix("sqlite:///")
    exporter = first["exporter"]["id"]
    with sqlite3.connect(db) as conn:
        (kept,) = conn.execute("SELECT personal_subjects FROM exporter_year_totals WHERE exporter_id = ?",
                               [exporter]).fetchone()
        conn.execute("UPDATE exporter_year_totals SET personal_subjects = ? WHERE exporter_id = ?",
                     [kept + 1, exporter])
    try:
        second = good_request(exporter=first["exporter"])
        for path in ("/v1/transfers", "/v1/evaluate"):
            answer = inprocess.client.post(path, json=second, headers=headers)
            assert answer.status_code == 503, answer.text
            problem = answer.json()
            assert problem["code"] == "baygate.ledger-integrity" and problem["title"].startswith("Ledger integrity")
            assert f"exporter {exporter}" in problem["detail"] and "changed outside the service" in problem["detail"]
            assert answer.headers["content-type"].startswith("application/problem+json")
            for language, title in (("zh-CN", "台账完整性：累计数已在服务之外被更改"),
                                    ("zh-TW", "台賬完整性：累計數已在服務之外被更改")):
                localised = inprocess.client.post(path, json=second, headers={**headers, "Accept-Language": language})
                assert localised.status_code == 503 and localised.json()["title"].startswith(title), localised.text
                assert localised.json()["code"] == "baygate.ledger-integrity"
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM transfers WHERE reference = ?",
                                [second["reference"]]).fetchone() == (0,)
    finally:
        with sqlite3.connect(db) as conn:  # put back: the session's service is shared
            conn.execute("UPDATE exporter_year_totals SET personal_subjects = ? WHERE exporter_id = ?",
                         [kept, exporter])

"""Named API keys at the HTTP service (issues 19 point 5 and 22 point 6): the acting key's name and the
``X-Reason`` header are recorded with every event a call causes, a submitter key reads the transfers
it recorded (following the ``Location`` of its 201) and no one else's, and a reload names who did it."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.conftest import Server, make_request, start_server

KEYS = {"etl": ("submitter", "etl-" + "e" * 28), "other-team": ("submitter", "oth-" + "o" * 28),
        "alice": ("auditor", "ali-" + "a" * 28), "ops": ("rules_admin", "ops-" + "r" * 28)}


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("http-named-keys")
    key_file = tmp / "keys"
    key_file.write_text("# name role key\n" + "".join(f"{name} {role} {key}\n" for name, (role, key) in KEYS.items())
                        + "etl auditor " + KEYS["etl"][1] + "\n",  # one key, two roles, one name
                        encoding="utf-8")
    running = start_server(tmp, f"sqlite:///{tmp / 'ledger.db'}", keys=False,
                           extra_env={"BAYGATE_API_KEYS_FILE": str(key_file)})
    yield running
    running.stop()


def client(server: Server, name: str, **headers: str) -> httpx.Client:
    return server.client(None, Authorization=f"Bearer {KEYS[name][1]}", **headers)


def database(server: Server) -> Path:
    return server.rules.parent / "ledger.db"


def test_a_submitter_reads_what_it_recorded_and_nothing_else(named: Server) -> None:
    reason = "季度数据同步 (quarterly sync)"
    submitted = client(named, "other-team").post("/v1/transfers", json=make_request(),
                                                 headers={"X-Reason": reason.encode("utf-8")})
    assert submitted.status_code == 201, submitted.text
    location = submitted.headers["Location"]
    own = client(named, "other-team").get(location)
    assert own.status_code == 200, own.text
    assert (own.json()["recorded_by"], own.json()["reason"]) == ("key:other-team", reason)
    others = client(named, "etl").get(location)  # etl also carries the auditor role: it may read any
    assert others.status_code == 200
    stranger = client(named, "other-team").get(
        client(named, "etl").post("/v1/transfers", json=make_request()).headers["Location"])
    assert stranger.status_code == 403
    assert "reads only the transfers it recorded" in stranger.json()["detail"]
    assert client(named, "alice").get(location).status_code == 200


def test_a_withdrawal_records_the_key_and_its_reason(named: Server) -> None:
    location = client(named, "other-team").post("/v1/transfers", json=make_request()).headers["Location"]
    withdrawn = client(named, "other-team", **{"X-Reason": "sent twice"}).post(f"{location}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    record = client(named, "alice").get(location).json()
    assert (record["withdrawn_by"], record["withdrawal_reason"]) == ("key:other-team", "sent twice")


@pytest.mark.parametrize(("header", "problem"), [
    (b"x" * 501, "at most 500 characters"),
    (b"\xff\xfe", "not UTF-8 text"),
], ids=["too-long", "not-utf-8"])
def test_a_reason_that_cannot_be_recorded_is_refused_naming_the_header(named: Server, header: bytes,
                                                                       problem: str) -> None:
    answer = client(named, "etl").post("/v1/transfers", json=make_request(), headers={"X-Reason": header})
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"path": "X-Reason", "message": answer.json()["errors"][0]["message"],
                                        "in": "header"}]
    assert problem in answer.json()["detail"]


def test_a_reload_records_which_key_put_the_new_packs_in_service(named: Server) -> None:
    pack = sorted(named.rules.glob("*.yaml"))[0]
    original = pack.read_text(encoding="utf-8")
    version = next(line for line in original.splitlines() if line.startswith("version:"))
    pack.write_text(original.replace(version, 'version: "2099.01"', 1), encoding="utf-8")
    answer = client(named, "ops", **{"X-Reason": "title fix"}).post("/v1/rules/reload")
    assert answer.status_code == 200 and answer.json()["reloaded"] is True, answer.text
    with sqlite3.connect(database(named)) as conn:
        body = conn.execute("SELECT body FROM events WHERE kind = 'pack_set' ORDER BY seq DESC LIMIT 1").fetchone()[0]
    data = json.loads(body)["data"]
    assert (data["actor"], data["reason"]) == ("key:ops", "title fix")
    assert json.loads(body)["subject"] == answer.json()["digest"]


def test_evaluating_as_of_an_earlier_day_records_no_change_of_the_packs_in_service(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """An ``?as_of=`` evaluation loads an old pack version from the ledger: it is not put in service, so
    it must not be recorded as a change of set (as-of evaluation would then think the service went
    back to it) nor as a reload by anyone."""
    tmp = tmp_path_factory.mktemp("http-as-of")
    key_file = tmp / "keys"
    key_file.write_text("".join(f"{name} {role} {key}\n" for name, (role, key) in KEYS.items()), encoding="utf-8")
    server = start_server(tmp, f"sqlite:///{tmp / 'ledger.db'}", keys=False,
                          extra_env={"BAYGATE_API_KEYS_FILE": str(key_file)})
    try:
        then = (dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).isoformat(timespec="microseconds")
        with sqlite3.connect(tmp / "ledger.db") as conn:  # the packs at start-up came into use 10 days ago
            conn.execute("UPDATE pack_sets SET started_at = ?", (then,))
            conn.execute("UPDATE packs SET first_used_at = ?", (then,))
        pack = sorted(server.rules.glob("*.yaml"))[0]
        original = pack.read_text(encoding="utf-8")
        version = next(line for line in original.splitlines() if line.startswith("version:"))
        pack.write_text(original.replace(version, 'version: "2099.01"', 1), encoding="utf-8")
        assert client(server, "ops").post("/v1/rules/reload").json()["reloaded"] is True
        server.stop()  # a worker started on the new packs has never loaded the old ones
        server = start_server(tmp_path_factory.mktemp("http-as-of-again"), f"sqlite:///{tmp / 'ledger.db'}",
                              keys=False, extra_env={"BAYGATE_API_KEYS_FILE": str(key_file),
                                                     "BAYGATE_RULES": str(pack.parent)})
        with sqlite3.connect(tmp / "ledger.db") as conn:
            changes = conn.execute("SELECT count(*) FROM pack_sets").fetchone()[0]
        day = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=5)).isoformat()
        answer = client(server, "etl").post(f"/v1/evaluate?as_of={day}", json=make_request())
        assert answer.status_code == 200, answer.text
        assert answer.json()["rules"]["as_of"] == day
        with sqlite3.connect(tmp / "ledger.db") as conn:
            assert conn.execute("SELECT count(*) FROM pack_sets").fetchone()[0] == changes == 2
            assert conn.execute("SELECT count(*) FROM events WHERE kind = 'pack_set'").fetchone()[0] == 2
    finally:
        server.stop()

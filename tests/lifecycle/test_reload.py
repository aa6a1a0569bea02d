"""Hot reload over real ``baygate serve`` processes: every worker swaps, a bad pack swaps nowhere,
SIGHUP reloads, ``?as_of=`` reads stored versions, and a worker holding too many versions is replaced."""

from __future__ import annotations

import datetime as dt
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.conftest import Server, make_request, start_server

TODAY = dt.datetime.now(dt.UTC).date()


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("lifecycle-2w")
    running = start_server(tmp, f"sqlite:///{tmp / 'ledger.db'}", workers=2)
    yield running
    running.stop()


def set_version(server: Server, version: str) -> None:
    target = server.rules / "cn-general.yaml"
    text = re.sub(r'(?m)^version: .*$', f'version: "{version}"', target.read_text(encoding="utf-8"), count=1)
    target.write_text(text, encoding="utf-8")


def digests_seen(server: Server, requests: int = 24) -> set[str]:
    """Digests answered on fresh connections (each may land on either worker)."""
    seen = set()
    for _ in range(requests):
        with httpx.Client(base_url=server.url, timeout=30,
                          headers={"Authorization": f"Bearer {_key('auditor')}"}) as client:
            seen.add(client.get("/v1/rules").json()["digest"])
    return seen


def _key(role: str) -> str:
    from tests.http.conftest import KEYS

    return KEYS[role]


def wait_for(condition: object, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_reload_reaches_both_workers_and_a_bad_pack_reaches_none(two_workers: Server) -> None:
    admin = two_workers.client("rules_admin")
    before = admin.get("/v1/rules").json()["digest"]
    assert digests_seen(two_workers) == {before}
    set_version(two_workers, "2099.11")
    swapped = admin.post("/v1/rules/reload")
    assert swapped.status_code == 200 and swapped.json()["reloaded"] is True
    after = swapped.json()["digest"]
    assert after != before
    assert digests_seen(two_workers) == {after}  # no worker answers with the old packs after the reload
    assert "swapped in" in two_workers.log_text()  # the worker that did not reload caught up
    decision = two_workers.client("submitter").post("/v1/evaluate", json=make_request()).json()
    assert decision["rules"]["digest"] == after and decision["rules"]["packs"]["cn-general"] == "2099.11"

    target = two_workers.rules / "cn-outbound.yaml"
    good = target.read_text(encoding="utf-8")
    target.write_text(good.replace("rules:", "rules:\n  - id: broken.rule\n    when: {fact: no.such.fact, eq: 1}", 1),
                      encoding="utf-8")
    try:
        refused = admin.post("/v1/rules/reload")
        assert refused.status_code == 422
        assert any(i["file"].endswith("cn-outbound.yaml") and i["line"] and i["rule_id"] == "broken.rule"
                   for i in refused.json()["issues"])
        assert digests_seen(two_workers) == {after}
    finally:
        target.write_text(good, encoding="utf-8")


def test_sighup_reloads_every_worker_and_refuses_a_bad_pack(two_workers: Server) -> None:
    before = two_workers.client("auditor").get("/v1/rules").json()["digest"]
    set_version(two_workers, "2099.12")
    two_workers.process.send_signal(signal.SIGHUP)
    wait_for(lambda: digests_seen(two_workers, 2) != {before})
    after = digests_seen(two_workers)
    assert len(after) == 1 and after != {before}

    target = two_workers.rules / "cn-general.yaml"
    good = target.read_text(encoding="utf-8")
    target.write_text(good + "\n  - {broken\n", encoding="utf-8")
    try:
        two_workers.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "rule packs in" in two_workers.log_text() and "refused" in two_workers.log_text())
        assert "cn-general.yaml:" in two_workers.log_text()
        assert digests_seen(two_workers) == after
        assert two_workers.process.poll() is None
    finally:
        target.write_text(good, encoding="utf-8")


def test_as_of_over_http(two_workers: Server) -> None:
    client = two_workers.client("submitter")
    today = client.post("/v1/evaluate", params={"as_of": TODAY.isoformat()}, json=make_request())
    assert today.status_code == 200
    early = client.post("/v1/evaluate/batch", params={"as_of": "2001-02-03"}, json={"requests": [make_request()]})
    assert early.status_code == 422 and early.headers["content-type"] == "application/problem+json"
    problem = early.json()
    assert problem["errors"][0]["path"] == "as_of" and problem["first_stored_day"] == TODAY.isoformat()
    assert "2001-02-03" in problem["detail"]


def test_a_worker_holding_too_many_versions_is_replaced(tmp_path: Path) -> None:
    server = start_server(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}", workers=1,
                          extra_env={"BAYGATE_MAX_PACK_VERSIONS": "2"})
    try:
        admin = server.client("rules_admin")
        for number in range(1, 4):
            set_version(server, f"2099.2{number}")
            assert admin.post("/v1/rules/reload").json()["reloaded"] is True
        wait_for(lambda: "replaced by" in server.log_text(), 60)
        # A new connection: the admin's kept-alive one may lead to the retired worker, which closes
        # its idle connections as it leaves (a request sent at that moment is reset, as with any
        # server's graceful shutdown; clients retry it). Seen once under load in CI.
        admin = server.client("rules_admin")
        latest = admin.get("/v1/rules").json()
        assert latest["packs"][0]["version"] == "2099.23" or any(
            p["version"] == "2099.23" for p in latest["packs"])
        assert server.client("submitter").post("/v1/evaluate", json=make_request()).status_code == 200
    finally:
        assert server.stop() == 0

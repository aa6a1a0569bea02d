"""Two replicas on one PostgreSQL database, concurrent submissions for one exporter: the counts are
exact and no submission slips under the 100,000 threshold that another one already used."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.http.conftest import SUBMITTER_KEY, Server, make_request, start_server

EACH = 9_000
SUBMISSIONS = 20


@pytest.fixture
def replicas(tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str) -> Iterator[list[Server]]:
    from engine.ledger.pgcluster import create_database, drop_database

    url = create_database(postgres_admin_url)
    running = [start_server(tmp_path_factory.mktemp(f"replica{i}"), url) for i in range(2)]
    yield running
    for server in running:
        server.stop()
    drop_database(postgres_admin_url, url)


def test_two_replicas_count_exactly(replicas: list[Server]) -> None:
    exporter = "9144REPLICAS" + dt.datetime.now().strftime("%H%M%S")
    safeguards = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2026-11-01"}
    bodies = [make_request(exporter, data=[{"kind": "personal", "subjects": EACH}], safeguards=safeguards)
              for _ in range(SUBMISSIONS)]

    def submit(index: int) -> dict[str, object]:
        url = replicas[index % 2].url
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {SUBMITTER_KEY}"}, timeout=60) as c:
            answer = c.post("/v1/transfers", json=bodies[index])
            assert answer.status_code == 201, answer.text
            return dict(answer.json())

    with ThreadPoolExecutor(8) as pool:
        decisions = list(pool.map(submit, range(SUBMISSIONS)))
    permitted = [d for d in decisions if d["outcome"] == "permitted"]
    assert len(permitted) == 99_999 // EACH  # 11 fit under 100,000; the 12th needs a contract
    assert all(d["outcome"] == "conditional" for d in decisions if d not in permitted)
    counts = replicas[1].client("auditor").get(f"/v1/exporters/{exporter}/counts", params={"year": 2026}).json()
    assert counts["personal_subjects"] == len(permitted) * EACH
    assert replicas[0].client("auditor").get("/v1/audit/verify").json()["ok"] is True

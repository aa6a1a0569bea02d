"""The web page through the same ASGI app ``baygate serve`` runs (in process, a real SQLite ledger and
the shipped rule packs), with keys configured: an officer (submitter and auditor), an auditor and a
submitter. Browser journeys are in tests/browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.http.security import named_keys
from api.http.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
OFFICER = "officer-" + "o" * 24
AUDITOR = "auditor-" + "a" * 24
SUBMITTER = "submitter-" + "s" * 22


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory,
               monkeypatch_module: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch_module.setenv("BAYGATE_SESSION_SECRET", "web-tests-" + "x" * 40)
    tmp = tmp_path_factory.mktemp("web")
    keys = named_keys([("officer", "submitter", OFFICER), ("officer", "auditor", OFFICER),
                       ("audra", "auditor", AUDITOR), ("sam", "submitter", SUBMITTER)])
    settings = Settings(rules_dir=ROOT / "rules", database_url=f"sqlite:///{tmp / 'ledger.db'}", keys=keys)
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        yield client


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, key: str) -> str:
    """Sign in with ``key``; returns the session's CSRF token."""
    client.cookies.clear()
    token = csrf_of(client.get("/signin").text)
    response = client.post("/signin", data={"csrf_token": token, "key": key, "next": "/"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/signin").text)

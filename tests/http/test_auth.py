"""Every route under every role: 401 without a key or with an unknown one, 403 for the wrong role."""

from __future__ import annotations

import httpx
import pytest

from tests.http.conftest import KEYS, Server, make_request

ROLES = ("submitter", "auditor", "rules_admin")
# method, path, body, roles allowed
ROUTES: list[tuple[str, str, object, set[str]]] = [
    ("POST", "/v1/evaluate", "request", {"submitter"}),
    ("POST", "/v1/evaluate/batch", "batch", {"submitter"}),
    ("POST", "/v1/transfers", "request", {"submitter"}),
    ("GET", "/v1/transfers/NO-SUCH", None, {"auditor", "submitter"}),  # a submitter: its own only
    ("POST", "/v1/transfers/NO-SUCH/withdraw", None, {"submitter"}),
    ("GET", "/v1/exporters/NO-SUCH/counts", None, {"auditor"}),
    ("GET", "/v1/rules", None, {"auditor", "rules_admin"}),
    ("POST", "/v1/rules/validate", None, {"rules_admin"}),
    ("POST", "/v1/rules/reload", None, {"rules_admin"}),
    ("GET", "/v1/audit/verify", None, {"auditor"}),
    ("GET", "/v1/audit/checkpoint", None, {"auditor"}),
    ("GET", "/metrics", None, set(ROLES)),
]
OPEN = ["/healthz", "/readyz", "/docs", "/openapi.json"]


def _send(client: httpx.Client, method: str, path: str, body: object) -> httpx.Response:
    if body == "request":
        return client.request(method, path, json=make_request())
    if body == "batch":
        return client.request(method, path, json={"requests": [make_request()]})
    return client.request(method, path)


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_route_guarded_by_role(server: Server, method: str, path: str, body: object, allowed: set[str]) -> None:
    anonymous = _send(server.client(), method, path, body)
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    unknown = _send(server.client(Authorization="Bearer " + "x" * 32), method, path, body)
    assert unknown.status_code == 401
    not_bearer = _send(server.client(Authorization=f"Basic {KEYS['submitter']}"), method, path, body)
    assert not_bearer.status_code == 401
    for role in ROLES:
        answer = _send(server.client(role), method, path, body)
        if role in allowed:
            assert answer.status_code not in (401, 403), (role, answer.text)
        else:
            assert answer.status_code == 403, role
            assert answer.json()["type"] == "urn:baygate:problem:forbidden"


@pytest.mark.parametrize("path", OPEN)
def test_health_and_docs_are_open(server: Server, path: str) -> None:
    assert server.client().get(path).status_code == 200


def test_keys_are_never_logged(server: Server) -> None:
    for role in ROLES:
        server.client(role).get("/v1/rules")
    log = server.log_text()
    assert "GET /v1/rules" in log  # the access log is on, and still:
    assert not any(key in log for key in KEYS.values())

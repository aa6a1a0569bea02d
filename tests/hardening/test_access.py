"""Access (issue 10, point 6): every route x every role x no key x a wrong key, against the allowed
sets of DESIGN section 6 and issue 6; CORS off by default; no key and no request body in the logs.

"Allowed" means the guard let the request through: any answer but 401 and 403 (a 404 for an unknown
transfer or a 422 for an empty body comes from the route itself).
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.hardening.conftest import KEYS, Server, good_request

SUBMITTER, AUDITOR, ADMIN = "submitter", "auditor", "rules_admin"
ROLES = (SUBMITTER, AUDITOR, ADMIN)
OPEN = "open"
ANY_KEY = "any-key"
WRONG_KEY = "wrong-" + "k" * 26

# (method, path template, who may call it)
MATRIX: list[tuple[str, str, frozenset[str] | str]] = [
    ("POST", "/v1/evaluate", frozenset({SUBMITTER})),
    ("POST", "/v1/evaluate/batch", frozenset({SUBMITTER})),
    ("POST", "/v1/transfers", frozenset({SUBMITTER})),
    ("GET", "/v1/transfers", frozenset({AUDITOR})),
    ("POST", "/v1/transfers/batch", frozenset({SUBMITTER})),
    ("GET", "/v1/transfers/{transfer_id}", frozenset({AUDITOR, SUBMITTER})),  # a submitter: its own only
    ("GET", "/v1/decisions", frozenset({AUDITOR})),
    ("POST", "/v1/transfers/{transfer_id}/withdraw", frozenset({SUBMITTER})),
    ("POST", "/v1/transfers/{transfer_id}/amend", frozenset({SUBMITTER})),
    ("GET", "/v1/exporters/{exporter_id}/counts", frozenset({AUDITOR})),
    ("GET", "/v1/audit/verify", frozenset({AUDITOR})),
    ("GET", "/v1/audit/checkpoint", frozenset({AUDITOR})),
    ("POST", "/v1/audit/verify-jobs", frozenset({AUDITOR})),
    ("GET", "/v1/audit/verify-jobs/{job_id}", frozenset({AUDITOR})),
    ("GET", "/v1/rules", frozenset({AUDITOR, ADMIN})),
    ("POST", "/v1/rules/validate", frozenset({ADMIN})),
    ("POST", "/v1/rules/reload", frozenset({ADMIN})),
    ("GET", "/metrics", ANY_KEY),
    ("GET", "/healthz", OPEN),
    ("GET", "/readyz", OPEN),
    ("GET", "/docs", OPEN),
    ("GET", "/openapi.json", OPEN),
]
CALLERS = (*ROLES, "no-key", "wrong-key")
BODY_MARK = "BODYMARK-" + uuid.uuid4().hex


def _headers(caller: str) -> dict[str, str]:
    if caller in KEYS:
        return {"Authorization": f"Bearer {KEYS[caller]}"}
    if caller == "wrong-key":
        return {"Authorization": f"Bearer {WRONG_KEY}"}
    return {}


def _allowed(rule: frozenset[str] | str, caller: str) -> bool:
    if rule == OPEN:
        return True
    if rule == ANY_KEY:
        return caller in ROLES
    assert isinstance(rule, frozenset)
    return caller in rule


def _call(server: Server, method: str, template: str, caller: str) -> httpx.Response:
    path = (template.replace("{transfer_id}", "no-such-transfer").replace("{exporter_id}", "9144NOSUCH")
            .replace("{job_id}", "01NOSUCHJOBNOSUCHJOBNOSUCH"))
    body = None
    if method == "POST" and template in ("/v1/evaluate", "/v1/transfers", "/v1/transfers/{transfer_id}/amend"):
        body = good_request()
        body["exporter"]["name"] = BODY_MARK  # never recorded: see the log check below
        body["recipient"]["id"] = "\x00"  # invalid, so nothing is recorded by an allowed caller either
    elif template in ("/v1/evaluate/batch", "/v1/transfers/batch"):
        body = {"requests": [{"reference": BODY_MARK}]}  # invalid: nothing recorded by an allowed caller
    elif template == "/v1/rules/validate":
        body = {"files": {"x.yaml": f"pack: {BODY_MARK}\n"}}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        return client.request(method, path, json=body, headers=_headers(caller))


def test_the_matrix_covers_every_route(hserver: Server) -> None:
    spec = httpx.get(f"{hserver.url}/openapi.json").json()
    served = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    listed = {(method, path) for method, path, _ in MATRIX}
    assert served <= listed, f"routes without an access rule in this test: {sorted(served - listed)}"


@pytest.mark.parametrize(("method", "template", "rule"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_access_matrix(hserver: Server, method: str, template: str, rule: frozenset[str] | str) -> None:
    for caller in CALLERS:
        answer = _call(hserver, method, template, caller)
        if _allowed(rule, caller):
            assert answer.status_code not in (401, 403), (caller, answer.status_code, answer.text[:300])
        else:
            expected = 403 if caller in ROLES else 401
            assert answer.status_code == expected, (caller, answer.status_code, answer.text[:300])
            problem = answer.json()
            assert problem["status"] == expected
            assert answer.headers["content-type"].startswith("application/problem+json")
            if expected == 401:
                assert answer.headers["www-authenticate"].startswith("Bearer")
            # nothing of the route ran: no decision, no transfer, no rules in the answer
            assert "outcome" not in problem and "digest" not in problem


def test_malformed_authorization_headers(hserver: Server) -> None:
    for header in ["Bearer", "Basic " + "c3ViOnBhc3M=", f"bearer {KEYS[AUDITOR]}x", "Bearer " + "é" * 20,
                   f"Bearer {KEYS[AUDITOR]} {KEYS[AUDITOR]}", f"Token {KEYS[AUDITOR]}"]:
        answer = httpx.get(f"{hserver.url}/v1/audit/verify", headers={"Authorization": header.encode()})
        assert answer.status_code in (401, 403), (header, answer.status_code)


def test_cors_is_off_by_default(hserver: Server) -> None:
    origin = "https://attacker.example"
    preflight = httpx.options(f"{hserver.url}/v1/evaluate", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-credentials" not in preflight.headers
    simple = httpx.get(f"{hserver.url}/v1/rules", headers={"Origin": origin, **_headers(AUDITOR)})
    assert simple.status_code == 200
    assert not any(h.startswith("access-control-") for h in simple.headers)


def test_no_key_or_body_in_the_logs(hserver: Server) -> None:
    # a bad body with the marker through each body door, with each kind of key, then read the log
    for template in ("/v1/evaluate", "/v1/transfers", "/v1/evaluate/batch", "/v1/rules/validate"):
        for caller in CALLERS:
            _call(hserver, "POST", template, caller)
    with httpx.Client(base_url=hserver.url) as client:  # a crash-like input too: deep nesting
        client.post("/v1/evaluate", content=b"[" * 20_000 + BODY_MARK.encode(), headers=_headers(SUBMITTER))
    log = hserver.log_text()
    assert log.strip(), "the server logs nothing at all: this check would prove nothing"
    for secret in (*KEYS.values(), WRONG_KEY, BODY_MARK):
        assert secret not in log, f"{secret[:8]}... found in the server log"
    assert "Traceback" not in log

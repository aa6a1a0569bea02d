"""The pages through the service's own ASGI app: sign-in and sessions, CSRF, what each role may do
(enforced by the server, not only left off the page), recording, the ledger, withdrawal, the
exporter's page, and the API docs served from this host."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi.testclient import TestClient

from api.web.session import SESSION_COOKIE
from tests.web.conftest import AUDITOR, OFFICER, SUBMITTER, csrf_of, sign_in

TODAY = dt.date.today()


def form_of(reference: str, exporter: str, subjects: int = 150_000, **extra: str) -> dict[str, str]:
    return {"reference": reference, "planned_date": TODAY.isoformat(), "purpose": "business_services",
            "exporter.name": "Qianhai Retail", "exporter.id": exporter, "exporter.jurisdiction": "CN",
            "exporter.city": "Shenzhen", "recipient.name": "Harbour Care", "recipient.id": "32345678",
            "recipient.jurisdiction": "HK", "data.0.kind": "personal", "data.0.subjects": str(subjects),
            "safeguards.separate_consent": "true", "safeguards.notice_given": "true",
            "safeguards.pia_completed_on": (TODAY - dt.timedelta(days=30)).isoformat(), **extra}


def gba_contract(effective: dt.date, filed: dt.date | None, expires: dt.date | None = None) -> dict[str, str]:
    fields = {"safeguards.mechanisms.0.type": "gba_standard_contract", "safeguards.mechanisms.0.reference": "GD-77",
              "safeguards.mechanisms.0.effective_on": effective.isoformat()}
    if filed:
        fields["safeguards.mechanisms.0.filed_on"] = filed.isoformat()
    if expires:
        fields["safeguards.mechanisms.0.expires_on"] = expires.isoformat()
    return fields


def record(client: TestClient, token: str, form: dict[str, Any]) -> str:
    response = client.post("/assess/record", data={"csrf_token": token, **form}, follow_redirects=False)
    assert response.status_code == 303, response.text
    match = re.match(r"/transfers/([0-9A-Z]{26})\?recorded=new", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def test_pages_ask_to_sign_in_and_a_wrong_key_is_refused(app_client: TestClient) -> None:
    app_client.cookies.clear()
    assert app_client.get("/", follow_redirects=False).headers["location"] == "/signin"
    assert app_client.get("/transfers", follow_redirects=False).headers["location"].startswith("/signin")
    token = csrf_of(app_client.get("/signin").text)
    refused = app_client.post("/signin", data={"csrf_token": token, "key": "wrong-" + "k" * 30})
    assert refused.status_code == 401 and "not known" in refused.text


def test_the_session_cookie_is_httponly_strict_and_holds_no_key(app_client: TestClient) -> None:
    app_client.cookies.clear()
    token = csrf_of(app_client.get("/signin").text)
    response = app_client.post("/signin", data={"csrf_token": token, "key": OFFICER}, follow_redirects=False)
    header = response.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=strict" in header
    assert OFFICER not in header
    assert "Signed in as officer" in app_client.get("/").text


def _only_session_cookie(client: TestClient, value: str, domain: str, path: str) -> None:
    """The jar holding this one session cookie (setting one beside the server's would send both)."""
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value, domain=domain, path=path)


def test_a_tampered_or_foreign_cookie_signs_nobody_in(app_client: TestClient) -> None:
    sign_in(app_client, OFFICER)
    cookie = next(cookie for cookie in app_client.cookies.jar if cookie.name == SESSION_COOKIE)
    value, domain, path = cookie.value or "", cookie.domain, cookie.path
    assert value
    _only_session_cookie(app_client, value, domain, path)  # the jar's own cookie, as the server set it
    assert app_client.get("/transfers", follow_redirects=False).status_code == 200
    _only_session_cookie(app_client, value[:-2] + ("AA" if not value.endswith("AA") else "BB"), domain, path)
    assert app_client.get("/transfers", follow_redirects=False).status_code == 303


def test_sign_in_itself_needs_the_csrf_token(app_client: TestClient) -> None:
    app_client.cookies.clear()
    app_client.get("/signin")
    assert app_client.post("/signin", data={"key": OFFICER}).status_code == 403


def test_every_change_needs_the_session_csrf_token(app_client: TestClient) -> None:
    token = sign_in(app_client, OFFICER)
    form = form_of("CSRF-1", "91440300MA5CSRF001")
    assert app_client.post("/assess/decide", data=form).status_code == 403
    assert app_client.post("/assess/decide", data={**form, "csrf_token": "x" * 32}).status_code == 403
    assert app_client.post("/assess/record", data=form).status_code == 403
    assert app_client.post("/transfers/ANY/withdraw", data={}).status_code == 403
    assert app_client.post("/signout", data={}).status_code == 403
    ok = app_client.post("/assess/decide", data=form, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and 'data-outcome="conditional"' in ok.text


def test_the_cookie_opens_no_api_route(app_client: TestClient) -> None:
    sign_in(app_client, OFFICER)
    assert app_client.get("/v1/rules").status_code == 401
    assert app_client.get("/v1/transfers/X").status_code == 401


def test_an_auditor_may_read_but_not_assess_or_record(app_client: TestClient) -> None:
    token = sign_in(app_client, AUDITOR)
    page = app_client.get("/")
    assert 'id="record"' not in page.text and 'id="assess"' not in page.text
    assert 'href="/screen"' not in page.text and 'href="/transfers"' in page.text
    form = form_of("AUD-1", "91440300MA5AUDIT01")
    assert app_client.post("/assess/record", data={"csrf_token": token, **form}).status_code == 403
    assert app_client.post("/assess/decide", data=form, headers={"X-CSRF-Token": token}).status_code == 403
    assert app_client.post("/screen", data={"csrf_token": token}).status_code == 403
    assert app_client.get("/transfers").status_code == 200
    assert app_client.get("/rules").status_code == 200


def test_a_submitter_alone_reads_what_it_recorded_and_not_the_ledger(app_client: TestClient) -> None:
    officer_token = sign_in(app_client, OFFICER)
    others = record(app_client, officer_token, form_of("SUB-0", "91440300MA5SUBMIT1"))
    token = sign_in(app_client, SUBMITTER)
    form = {**form_of("SUB-1", "91440300MA5SUBMIT1"), **gba_contract(TODAY - dt.timedelta(days=20),
                                                                      TODAY - dt.timedelta(days=15))}
    own = record(app_client, token, {**form, "record_reason": "quarterly sync"})
    page = app_client.get(f"/transfers/{own}")
    assert page.status_code == 200 and 'data-recorded-by="key:sam"' in page.text and "quarterly sync" in page.text
    assert app_client.get(f"/transfers/{others}").status_code == 403
    assert app_client.get("/transfers").status_code == 403
    assert app_client.get("/exporters/91440300MA5SUBMIT1").status_code == 403
    assert 'href="/transfers"' not in page.text and 'href="/screen"' in page.text


def test_record_list_withdraw_and_the_exporter_page(app_client: TestClient) -> None:
    token = sign_in(app_client, OFFICER)
    exporter = "91440300MA5LEDGER1"
    effective = TODAY - dt.timedelta(days=2)  # filing due within 10 working days: in the next 30 days
    decision_id = record(app_client, token, {**form_of("LEDGER-1", exporter),
                                             **gba_contract(effective, None, TODAY + dt.timedelta(days=40))})
    page = app_client.get(f"/transfers/{decision_id}")
    assert page.status_code == 200 and "LEDGER-1" in page.text and "table class=\"history\"" in page.text

    listing = app_client.get(f"/transfers?exporter={exporter}&year=&outcome=&status=")
    assert listing.text.count("data-decision=") == 1
    assert app_client.get(f"/transfers?exporter={exporter}&outcome=prohibited").text.count("data-decision=") == 0

    exporter_page = app_client.get(f"/exporters/{exporter}").text
    # Permitted (the contract is inside its filing window) and counted: 849,999 to go before a security
    # assessment; its filing falls due within 30 days and the contract expires within 90.
    assert 'data-headroom="849999"' in exporter_page and ">150,000<" in exporter_page
    assert "GD-77" in exporter_page.split("Mechanisms expiring")[1]
    due = exporter_page.split("Obligations due in the next 30 days")[1].split("Mechanisms expiring")[0]
    assert "LEDGER-1" in due
    second = decision_id
    confirm = app_client.get(f"/transfers/{second}/withdraw")
    assert confirm.status_code == 200 and "Yes, withdraw it" in confirm.text
    done = app_client.post(f"/transfers/{second}/withdraw", data={"csrf_token": token, "reason": "contract ended"},
                           follow_redirects=False)
    assert done.status_code == 303
    withdrawn = app_client.get(f"/transfers/{second}").text
    assert "badge-withdrawn" in withdrawn and "key:officer" in withdrawn and "contract ended" in withdrawn
    assert 'data-headroom="99999"' in app_client.get(f"/exporters/{exporter}").text

    printable = app_client.get(f"/transfers/{second}/record")
    assert printable.status_code == 200 and "data-checkpoint" in printable.text and "Head hash" in printable.text


def test_an_unknown_transfer_is_a_404_page(app_client: TestClient) -> None:
    sign_in(app_client, OFFICER)
    response = app_client.get("/transfers/NO-SUCH-THING")
    assert response.status_code == 404 and "<html" in response.text


def test_download_gives_the_request_and_load_brings_it_back(app_client: TestClient) -> None:
    token = sign_in(app_client, OFFICER)
    form = form_of("DL-1", "91440300MA5DOWNLD1")
    yaml_text = app_client.post("/assess/download?format=yaml", data={"csrf_token": token, **form}).text
    assert "reference: DL-1" in yaml_text and "subjects: 150000" in yaml_text
    loaded = app_client.post("/assess/load", data={"csrf_token": token},
                             files={"file": ("dl.yaml", yaml_text.encode(), "application/yaml")})
    assert loaded.status_code == 200 and 'value="DL-1"' in loaded.text and 'value="150000"' in loaded.text
    broken = app_client.post("/assess/load", data={"csrf_token": token},
                             files={"file": ("bad.yaml", b"reference: [unclosed", "application/yaml")})
    assert "bad.yaml" in broken.text and "line" in broken.text


def test_every_page_keeps_to_this_host(app_client: TestClient) -> None:
    sign_in(app_client, OFFICER)
    for path in ("/", "/screen", "/transfers", "/exporters", "/rules", "/signin", "/docs", "/redoc"):
        response = app_client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "https:" not in policy
        sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert not [s for s in sources if s.startswith(("http:", "https:", "//"))], (path, sources)
    for asset in ("/-/static/vendor/htmx/htmx.min.js", "/-/static/vendor/swagger-ui/swagger-ui-bundle.js",
                  "/-/static/vendor/redoc/redoc.standalone.js", "/-/static/baygate.css"):
        assert app_client.get(asset).status_code == 200, asset


def test_what_is_missing_is_named_in_the_page_language(app_client: TestClient) -> None:
    token = sign_in(app_client, OFFICER)
    form = {k: v for k, v in form_of("MISS-1", "91440300MA5MISS001").items() if k != "exporter.id"}
    panel = app_client.post("/assess/decide", data=form, headers={"X-CSRF-Token": token, "Accept-Language": "zh-HK"})
    assert "資料輸出方 › 識別號碼" in panel.text and "必填" in panel.text
    english = app_client.post("/assess/decide", data=form, headers={"X-CSRF-Token": token})
    assert "Exporter › Identifier" in english.text


def test_a_ledger_that_cannot_be_reached_is_a_page_not_json(tmp_path: Any, monkeypatch: Any) -> None:
    from api.http.app import create_app
    from api.http.settings import Settings
    from tests.web.conftest import ROOT

    monkeypatch.setenv("BAYGATE_SESSION_SECRET", "web-tests-" + "y" * 40)
    missing = tmp_path / "no" / "such" / "folder" / "ledger.db"
    settings = Settings(rules_dir=ROOT / "rules", database_url=f"sqlite:///{missing}", keys=Settings.from_env({}).keys)
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        response = client.get("/transfers")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/html") and "<h1>" in response.text


def test_sign_in_returns_only_to_a_page_of_this_site(app_client: TestClient) -> None:
    for target, expected in (("/transfers?year=2026", "/transfers?year=2026"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/"), ("javascript:alert(1)", "/"), ("", "/")):
        app_client.cookies.clear()
        token = csrf_of(app_client.get("/signin").text)
        response = app_client.post("/signin", data={"csrf_token": token, "key": OFFICER, "next": target},
                                   follow_redirects=False)
        assert response.headers["location"] == expected, target


def test_the_direct_marketing_consent_reaches_the_decision(app_client: TestClient) -> None:
    """PDPO Part VIA: a Hong Kong exporter providing data for another's direct marketing says on the form
    whether the s. 35J notice and s. 35K written consent are in place; DPP3 prescribed consent is not it."""
    token = sign_in(app_client, OFFICER)
    hong_kong_exporter = {"exporter.jurisdiction": "HK", "exporter.city": "", "recipient.jurisdiction": "CN",
                          "recipient.city": "Shenzhen", "recipient.id": "91440300MA5DM00001",
                          "purpose": "direct_marketing"}
    form = {**form_of("DM-1", "12345678"), **hong_kong_exporter}
    headers = {"X-CSRF-Token": token}
    without = app_client.post("/assess/decide", data=form, headers=headers).text
    with_consent = app_client.post("/assess/decide", data={**form, "safeguards.direct_marketing_consent": "true"},
                                   headers=headers).text
    missing_consent = "Obtain the data subjects&#39; written consent to the provision for direct marketing.</li>"
    assert 'data-outcome="conditional"' in without and missing_consent in without
    assert 'data-outcome="permitted"' in with_consent and missing_consent not in with_consent
    saved = app_client.post("/assess/download?format=yaml",
                            data={"csrf_token": token, **form, "safeguards.direct_marketing_consent": "true"}).text
    assert "direct_marketing_consent: true" in saved


def test_an_amended_transfer_on_the_pages(app_client: TestClient) -> None:
    """Amended over the API: the list shows the transfer once, under its new decision; its page (by either
    id) shows the amendment in its history; the exporter's page counts it and lists the new mechanism."""
    token = sign_in(app_client, OFFICER)
    exporter = "91440300MA5AMENDS1"
    first = record(app_client, token, form_of("AMEND-1", exporter))  # no mechanism for 150,000: conditional
    stored = app_client.get(f"/v1/transfers/{first}", headers={"Authorization": f"Bearer {OFFICER}"}).json()
    assert stored["decision"]["outcome"] == "conditional"
    mechanism = {"type": "gba_standard_contract", "reference": "GD-88", "effective_on": TODAY.isoformat(),
                 "expires_on": (TODAY + dt.timedelta(days=50)).isoformat()}
    amended = {**stored["request"], "safeguards": {**stored["request"]["safeguards"], "mechanisms": [mechanism]}}
    answer = app_client.post("/v1/transfers/AMEND-1/amend", json=amended,
                             headers={"Authorization": f"Bearer {OFFICER}", "X-Reason": "contract signed"})
    assert answer.status_code == 200, answer.text
    latest = answer.json()["decision"]["decision_id"]
    assert answer.json()["decision"]["outcome"] == "permitted"

    listing = app_client.get(f"/transfers?exporter={exporter}").text
    assert re.findall(r'data-decision="([0-9A-Z]{26})"', listing) == [latest]
    for either in (first, latest):
        page = app_client.get(f"/transfers/{either}")
        assert page.status_code == 200 and "Amended" in page.text and "contract signed" in page.text
    exporter_page = app_client.get(f"/exporters/{exporter}").text
    assert ">150,000<" in exporter_page and "GD-88" in exporter_page.split("Mechanisms expiring")[1]

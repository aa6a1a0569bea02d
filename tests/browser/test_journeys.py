"""Journeys of issue 23 point 10, end to end in Chromium against a real ``baygate serve``.

Each journey uses its own exporter id, so the order of the tests does not matter. The live dry run's
round trip is measured in the page itself (htmx's beforeRequest to afterSettle) and printed, never
asserted on (no wall-clock asserts in tests).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import AUDITOR_KEY, AXE, OFFICER_KEY, Browser

pytestmark = pytest.mark.browser

ROUND_TRIPS = """() => {
  window.__rt = [];
  document.body.addEventListener('htmx:beforeRequest', e => { window.__rtStart = performance.now(); });
  document.body.addEventListener('htmx:afterSettle', e => {
    if (window.__rtStart) { window.__rt.push(performance.now() - window.__rtStart); window.__rtStart = 0; } });
}"""


def party(page: Any, prefix: str, name: str, ident: str, jurisdiction: str, city: str | None = None) -> None:
    page.fill(f"#f-{prefix}-name", name)
    page.fill(f"#f-{prefix}-id", ident)
    if jurisdiction in ("CN", "HK", "MO"):
        page.select_option(f"#f-{prefix}-jurisdiction", jurisdiction)
    else:
        page.select_option(f"#f-{prefix}-jurisdiction", "other")
        page.fill(f"#f-{prefix}-jurisdiction_other", jurisdiction)
    if city:
        page.select_option(f"#f-{prefix}-city", city)


def outcome(page: Any, expected: str) -> None:
    """Wait until the live panel shows ``expected`` (each change posts the form again)."""
    page.wait_for_selector(f"#decision [data-outcome='{expected}']")


def start_assessment(page: Any, browser: Browser, reference: str, purpose: str) -> None:
    page.goto(f"{browser.base}/")
    page.evaluate(ROUND_TRIPS)
    page.fill("#f-reference", reference)
    page.fill("#f-planned_date", "2026-12-15")
    page.select_option("#f-purpose", purpose)


def add_mechanism(page: Any, kind: str, reference: str, effective: str, filed: str) -> None:
    page.click("[data-repeats='mechanisms'] [data-add]")
    page.select_option("#f-safeguards-mechanisms-0-type", kind)
    page.fill("#f-safeguards-mechanisms-0-reference", reference)
    page.fill("#f-safeguards-mechanisms-0-effective_on", effective)
    page.fill("#f-safeguards-mechanisms-0-filed_on", filed)


def safeguards(page: Any) -> None:
    page.check("#f-safeguards-separate_consent")
    page.check("#f-safeguards-notice_given")
    page.fill("#f-safeguards-pia_completed_on", "2026-11-01")


def round_trips(page: Any) -> list[float]:
    return [float(x) for x in page.evaluate("window.__rt || []")]


def test_hospital_health_records_to_hong_kong(browser: Browser) -> None:
    browser.sign_in(page := browser.page())
    start_assessment(page, browser, "HOSP-2026-001", "healthcare")
    party(page, "exporter", "Shenzhen Third People's Hospital", "12440300MB2C89XX1H", "CN", "Shenzhen")
    page.select_option("#f-exporter-kind", "public_institution")  # a public hospital (事业单位)
    page.fill("#f-exporter-sector", "healthcare")
    party(page, "recipient", "Kowloon Clinical Research Centre", "31234567", "HK")
    page.fill("#f-data-0-subjects", "8,000")
    page.check("#f-data-0-sensitive-medical_health")
    outcome(page, "conditional")
    panel = page.locator("#decision")
    assert panel.locator("[data-level='standard_contract']").count() == 1
    assert panel.locator("[data-option='gba_standard_contract']").count() == 1
    assert "cn.pi.sensitive-below-10k" in panel.inner_text()
    assert panel.locator("[data-missing='mechanism']").count() == 1
    add_mechanism(page, "gba_standard_contract", "GD-2026-0456", "2026-11-20", "2026-11-25")
    safeguards(page)
    outcome(page, "permitted")
    assert panel.locator("[data-missing]").count() == 0
    browser.shot(page, "assess")
    trips = round_trips(page)
    assert trips, "the panel was never updated by a dry run"
    print(f"\nlive dry run round trip in the browser: n={len(trips)} p50={sorted(trips)[len(trips) // 2]:.1f} ms "
          f"max={max(trips):.1f} ms")


def test_150000_customers_under_a_gba_contract_recorded_then_withdrawn(browser: Browser) -> None:
    browser.sign_in(page := browser.page())
    exporter = "91440300MA5GBA1500"
    page.goto(f"{browser.base}/exporters/{exporter}")
    before = page.locator("[data-tally='ytd.personal_subjects'] [data-count]").inner_text()
    assert before == "0"
    assert page.locator("[data-tally='ytd.personal_subjects'] [data-headroom='99999']").count() == 1

    start_assessment(page, browser, "CUST-2026-150K", "business_services")
    party(page, "exporter", "Qianhai Retail Co., Ltd.", exporter, "CN", "Shenzhen")
    party(page, "recipient", "Harbour Customer Care Ltd.", "32345678", "HK")
    page.fill("#f-data-0-subjects", "150000")
    outcome(page, "conditional")
    add_mechanism(page, "gba_standard_contract", "GD-2026-0150", "2026-11-10", "2026-11-15")
    safeguards(page)
    outcome(page, "permitted")
    page.click("#record")
    page.wait_for_url(re.compile(r"/transfers/[0-9A-Z]{26}\?recorded=new"))
    assert "CUST-2026-150K" in page.inner_text("h1")
    assert page.locator("[data-outcome='permitted']").count() == 1
    assert page.locator("table.history tbody tr").count() == 1
    assert page.locator("[data-recorded-by='key:officer']").count() == 1  # recorded under the key's name
    decision_url = page.url.split("?")[0]
    browser.shot(page, "transfer")

    # The exporter's page has changed: 150,000 counted, 849,999 before a security assessment.
    page.goto(f"{browser.base}/exporters/{exporter}")
    tally = page.locator("[data-tally='ytd.personal_subjects']")
    assert tally.locator("[data-count]").inner_text() == "150,000"
    assert tally.locator("[data-headroom='849999']").count() == 1
    browser.shot(page, "exporter")

    # The ledger list, filtered by the exporter.
    page.goto(f"{browser.base}/transfers")
    page.fill("#q-exporter", exporter)
    page.click("form.filters button")
    page.wait_for_url(re.compile(r"exporter="))
    rows = page.locator("table.transfers tbody tr")
    assert rows.count() == 1 and "CUST-2026-150K" in rows.inner_text()
    browser.shot(page, "ledger")

    page.goto(f"{decision_url}/record")
    assert page.locator("[data-checkpoint]").count() == 1
    browser.shot(page, "record")
    page.emulate_media(media="print")  # the print stylesheet: the record alone, no navigation or buttons
    assert not page.locator("header.top").is_visible() and not page.locator("[data-print]").is_visible()
    assert page.locator("[data-checkpoint]").is_visible()
    page.emulate_media(media="screen")

    # Withdraw, with confirmation: the counts are released.
    page.goto(decision_url)
    page.click("text=Withdraw…")
    page.wait_for_url(re.compile(r"/withdraw$"))
    browser.shot(page, "withdraw")
    page.click("button.danger")
    page.wait_for_url(decision_url)
    assert page.locator(".badge-withdrawn").count() == 1
    assert page.locator("table.history tbody tr").count() == 2
    page.goto(f"{browser.base}/exporters/{exporter}")
    assert page.locator("[data-tally='ytd.personal_subjects'] [data-count]").inner_text() == "0"


def test_foreign_court_request(browser: Browser) -> None:
    browser.sign_in(page := browser.page())
    start_assessment(page, browser, "COURT-2026-07", "judicial_request")
    party(page, "exporter", "Shenzhen Logistics Co., Ltd.", "91440300MA5COURT07", "CN", "Shenzhen")
    party(page, "recipient", "Superior Court of California", "US-CA-SC", "US")
    page.fill("#f-data-0-subjects", "20")
    outcome(page, "prohibited")
    panel = page.locator("#decision")
    assert panel.locator("[data-level='prohibited']").count() == 1
    assert panel.locator("[data-missing='approval']").count() == 1
    page.click("[data-repeats='approvals'] [data-add]")
    page.select_option("#f-safeguards-approvals-0-kind", "foreign_judicial_request")
    page.fill("#f-safeguards-approvals-0-authority", "Ministry of Justice")
    page.fill("#f-safeguards-approvals-0-granted_on", "2026-12-01")
    outcome(page, "conditional")
    assert panel.locator("[data-missing='approval']").count() == 0


def test_download_and_load_back(browser: Browser, tmp_path: Any) -> None:
    browser.sign_in(page := browser.page())
    start_assessment(page, browser, "ROUND-TRIP-1", "hr_management")
    party(page, "exporter", "Nansha Port Services", "91440101MA5ROUND01", "CN", "Guangzhou")
    party(page, "recipient", "Macao Staffing", "MO-555", "MO")
    page.fill("#f-data-0-subjects", "300")
    page.wait_for_selector("#decision [data-outcome]")
    with page.expect_download() as info:
        page.click("button[formaction='/assess/download?format=json']")
    saved = tmp_path / "request.json"
    info.value.save_as(saved)
    request = json.loads(saved.read_text(encoding="utf-8"))
    assert request["exporter"]["city"] == "Guangzhou" and request["data"][0]["subjects"] == 300
    page.goto(f"{browser.base}/")
    page.set_input_files("#load-file", str(saved))
    page.click("form.load button")
    page.wait_for_load_state()
    assert page.input_value("#f-reference") == "ROUND-TRIP-1"
    assert page.input_value("#f-exporter-city") == "Guangzhou"
    assert page.input_value("#f-recipient-jurisdiction") == "MO"


def test_screen_an_inventory(browser: Browser) -> None:
    browser.sign_in(page := browser.page())
    page.goto(f"{browser.base}/screen")
    with page.expect_download() as info:
        page.click("text=Download the template")
    header = next(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert header[0] == "reference" and "mechanism_type" in header
    flow = {"reference": "INV-1", "exporter_id": "91440300MA5INV0001", "exporter_name": "Qianhai Co",
            "exporter_jurisdiction": "CN", "exporter_city": "Shenzhen", "recipient_id": "31230000",
            "recipient_name": "HK Co", "recipient_jurisdiction": "HK", "purpose": "business_services",
            "planned_date": "2026-12-20", "data_kind": "personal", "subjects": "500", "separate_consent": "yes",
            "notice_given": "yes", "pia_completed_on": "2026-11-01"}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerow(flow)
    writer.writerow({**flow, "reference": '=HYPERLINK("x")', "subjects": "0"})
    page.set_input_files("#inventory-file", {"name": "inventory.csv", "mimeType": "text/csv",
                                             "buffer": out.getvalue().encode("utf-8")})
    page.click("form.load button.primary")
    page.wait_for_selector("table.screening")
    assert page.locator("tr[data-line='2'] [data-outcome='permitted']").count() == 1
    error = page.locator("tr[data-line='3'] [data-outcome='error']").inner_text()
    assert "line 3" in error and "subjects" in error
    browser.shot(page, "screen")
    with page.expect_download() as info:
        page.click("text=Download the results as CSV")
    results = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert results[1][2] == "permitted"
    assert results[2][1].startswith("'="), "a formula-like cell is escaped"


def test_switching_language(browser: Browser) -> None:
    browser.sign_in(page := browser.page())
    page.goto(f"{browser.base}/")
    assert page.get_attribute("html", "lang") == "en"
    page.click("a[hreflang='zh-Hans']")
    page.wait_for_url(re.compile(r"lang=zh-Hans"))
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.inner_text("h1") == "评估一项跨境传输"
    page.click("a[hreflang='zh-Hant']")
    page.wait_for_url(re.compile(r"lang=zh-Hant"))
    assert page.get_attribute("html", "lang") == "zh-Hant-HK"
    assert "個人資料" in page.inner_text("#f-data-0-kind")
    browser.shot(page, "assess-zh-hant")
    page.goto(f"{browser.base}/rules")  # the choice is remembered
    assert page.get_attribute("html", "lang") == "zh-Hant-HK"
    browser.shot(page, "rules")
    page.click("a[hreflang='en']")
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.get_attribute("html", "lang") == "en"


def test_a_role_that_may_not_record(browser: Browser) -> None:
    browser.sign_in(page := browser.page(), AUDITOR_KEY)
    page.goto(f"{browser.base}/")
    assert page.locator("#record").count() == 0
    assert page.locator("#assess").count() == 0
    token = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    refused = page.request.post(f"{browser.base}/assess/record",
                                form={"csrf_token": token, "reference": "X", "purpose": "other"})
    assert refused.status == 403
    assert page.request.get(f"{browser.base}/transfers").status == 200  # an auditor reads the ledger


def test_sign_in_and_csrf(browser: Browser) -> None:
    page = browser.page()
    browser.context.clear_cookies()
    page.goto(f"{browser.base}/")
    page.wait_for_url(re.compile(r"/signin"))
    browser.shot(page, "signin")
    page.fill("#key", "not-a-key-" + "x" * 20)
    page.click("form.signin button[type=submit]")
    assert page.locator("p.error").count() == 1
    browser.sign_in(page, OFFICER_KEY)
    assert "officer" in page.inner_text("header")
    session = next(c for c in browser.context.cookies() if c["name"] == "baygate_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert OFFICER_KEY not in session["value"]
    # The cookie alone does not do anything: without the token a change is refused.
    assert page.request.post(f"{browser.base}/assess/decide", form={"reference": "X"}).status == 403
    assert page.request.post(f"{browser.base}/transfers/X/withdraw", form={}).status == 403
    # ... and it opens no API route.
    assert page.request.get(f"{browser.base}/v1/rules").status == 401
    page.click("header button.link")  # sign out
    page.wait_for_url(re.compile(r"/signin"))
    page.goto(f"{browser.base}/transfers")
    page.wait_for_url(re.compile(r"/signin"))


PAGES = ["/", "/screen", "/transfers", "/exporters", "/exporters/91440300MA5GBA1500", "/rules", "/signin"]


def test_no_other_host_and_accessibility(browser: Browser) -> None:
    browser.sign_in(page := browser.page())
    serious: dict[str, list[str]] = {}
    axe_source = AXE.read_text(encoding="utf-8")
    for path in PAGES:
        page.goto(f"{browser.base}{path}")
        page.wait_for_load_state("networkidle")
        page.evaluate(axe_source)  # through the devtools protocol: the page's CSP forbids inline scripts
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        bad = [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
        if bad:
            serious[path] = bad
        if path == "/exporters":
            browser.shot(page, "exporters")
    for path in ("/docs", "/redoc"):
        page.goto(f"{browser.base}{path}")
        page.wait_for_load_state("networkidle")
    browser.shot(page, "redoc")
    assert not serious, serious
    assert browser.outside == [], f"pages asked other hosts for {browser.outside}"

"""A real ``baygate serve`` on loopback and one headless Chromium for the whole browser session.

Playwright drives Debian's Chromium (``/usr/bin/chromium``, through ``executable_path``: Playwright
cannot download its own browsers here) with a fresh profile. Without Chromium or Playwright the tests
skip, unless ``BAYGATE_REQUIRE_BROWSER=1`` (CI), where they fail. Every request the browser makes to
another host than the server is refused and remembered (``outside``): the test that checks it fails
if any page asked.

``BAYGATE_SCREENSHOTS=DIR`` keeps a screenshot of each page in DIR (the README's are made this way:
``BAYGATE_SCREENSHOTS=docs/screenshots pytest -m browser``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.http.conftest import AUDITOR_KEY, SUBMITTER_KEY, Server, start_server

CHROMIUM = Path(os.environ.get("BAYGATE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
OFFICER_KEY = "off-" + "o" * 28
"""A compliance officer's key: submitter and auditor (records, reads the ledger, withdraws)."""
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SESSION_SECRET = "browser-tests-" + "k" * 40


def _unavailable(reason: str) -> None:
    if os.environ.get("BAYGATE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"BAYGATE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("web")
    keys = (f"officer submitter {OFFICER_KEY},officer auditor {OFFICER_KEY},sam submitter {SUBMITTER_KEY},"
            f"audra auditor {AUDITOR_KEY}")
    server = start_server(tmp, f"sqlite:///{tmp / 'ledger.db'}",
                          extra_env={"BAYGATE_API_KEYS": keys, "BAYGATE_SESSION_SECRET": SESSION_SECRET})
    yield server
    server.stop()


@dataclass
class Browser:
    """The browser's one context and what it tried to fetch from elsewhere."""

    context: Any
    base: str
    outside: list[str] = field(default_factory=list)
    screenshots: Path | None = None

    def page(self) -> Any:
        page = self.context.new_page()
        page.set_default_timeout(15_000)
        return page

    def sign_in(self, page: Any, key: str = OFFICER_KEY) -> None:
        self.context.clear_cookies()
        page.goto(f"{self.base}/signin")
        page.fill("#key", key)
        page.click("form.signin button[type=submit]")
        page.wait_for_load_state()

    def shot(self, page: Any, name: str) -> None:
        if self.screenshots is not None:
            page.screenshot(path=str(self.screenshots / f"{name}.png"))


@pytest.fixture(scope="module")
def browser(web_server: Server) -> Iterator[Browser]:
    """Module-scoped, though the journeys are one module: Playwright's sync API keeps an event loop
    running in the main thread while it is open, which tests after it that call ``asyncio.run`` would
    trip over."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    server_host = urlparse(web_server.url).netloc
    shots = os.environ.get("BAYGATE_SCREENSHOTS")
    with tempfile.TemporaryDirectory(prefix="baygate-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="en-GB")
        running = Browser(context, web_server.url, screenshots=Path(shots) if shots else None)
        if running.screenshots is not None:
            running.screenshots.mkdir(parents=True, exist_ok=True)

        def guard(route: Any) -> None:
            host = urlparse(route.request.url).netloc
            if route.request.url.startswith(("data:", "blob:")) or host == server_host:
                route.continue_()
            else:
                running.outside.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        try:
            yield running
        finally:
            context.close()

"""The page's three languages: every string translated in both catalogs, the catalogs current with
the code, the language chosen as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from api.web.i18n import LOCALE_DIR, page_language, translations
from tests.web.conftest import OFFICER, ROOT, sign_in


def _catalog(path: Path) -> dict[object, object]:
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}


def test_every_message_is_translated_in_both_catalogs() -> None:
    template = _catalog(LOCALE_DIR / "messages.pot")
    assert len(template) > 300
    for folder in ("zh_Hans", "zh_Hant"):
        catalog = _catalog(LOCALE_DIR / folder / "LC_MESSAGES" / "messages.po")
        untranslated = [mid for mid in template if not catalog.get(mid) or catalog.get(mid) == ("",)]
        assert not untranslated, f"{folder}: {untranslated[:5]}"


def test_the_template_is_current_with_the_code(tmp_path: Path) -> None:
    """A string added to a template or module without re-extracting would show in English only."""
    fresh = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "api/web/babel.cfg",
                    "-k", "t", "-k", "N_", "--no-location", "-o", str(fresh), "api/web"],
                   cwd=ROOT, check=True, capture_output=True)
    assert set(_catalog(fresh)) == set(_catalog(LOCALE_DIR / "messages.pot"))


def test_traditional_chinese_uses_hong_kong_terms() -> None:
    assert translations("zh-Hant").gettext("Personal information") == "個人資料"
    assert translations("zh-Hans").gettext("Personal information") == "个人信息"
    assert translations("en").gettext("Personal information") == "Personal information"


def test_the_switch_then_the_cookie_then_accept_language() -> None:
    assert page_language("zh-Hans", "zh-Hant", "en") == "zh-Hans"
    assert page_language(None, "zh-Hant", "en") == "zh-Hant"
    assert page_language(None, None, "zh-HK,en;q=0.5") == "zh-Hant"
    assert page_language("xx", "yy", "fr") == "en"


def test_a_page_follows_accept_language_and_remembers_the_switch(app_client: TestClient) -> None:
    sign_in(app_client, OFFICER)
    page = app_client.get("/rules", headers={"Accept-Language": "zh-HK"})
    assert 'lang="zh-Hant-HK"' in page.text and "規則包與規則" in page.text
    switched = app_client.get("/rules?lang=zh-Hans", headers={"Accept-Language": "zh-HK"})
    assert 'lang="zh-Hans"' in switched.text and switched.cookies.get("baygate_lang") == "zh-Hans"
    assert 'lang="zh-Hans"' in app_client.get("/rules", headers={"Accept-Language": "en"}).text
    app_client.cookies.delete("baygate_lang")

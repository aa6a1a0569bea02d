"""The page's three languages (issue 23 point 7): gettext catalogs, read with Babel.

The catalogs are the ``.po`` files under ``locale/`` (English is the source language and needs none).
They are compiled in memory the first time a language is used, by Babel itself (``read_po`` then
``write_mo``), so a fresh clone after ``pip install -e .`` has every translation without a build step
and nothing compiled is committed. ``docs/web.md`` says how to add a string:
``pybabel extract -F api/web/babel.cfg -o api/web/locale/messages.pot api/web`` then
``pybabel update -i api/web/locale/messages.pot -d api/web/locale`` and fill in the ``msgstr``.

The language of a page: ``?lang=`` (the switch on every page; it is then kept in a cookie), else the
cookie, else ``Accept-Language`` (read as the API reads it), else English.
"""

from __future__ import annotations

import gettext
import io
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from api.http.deps import LANGUAGES, choose_language

LOCALE_DIR = Path(__file__).parent / "locale"
CATALOG_FOLDERS = {"zh-Hans": "zh_Hans", "zh-Hant": "zh_Hant"}
"""Our language codes (as the decisions' messages use them) -> folders under ``locale/``."""
LANGUAGE_NAMES = {"en": "English", "zh-Hans": "简体中文", "zh-Hant": "繁體中文（香港）"}
HTML_LANG = {"en": "en", "zh-Hans": "zh-Hans", "zh-Hant": "zh-Hant-HK"}
LANG_COOKIE = "baygate_lang"

_lock = threading.Lock()


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English: the identity). Compiled once per process."""
    folder = CATALOG_FOLDERS.get(lang)
    if folder is None:
        return NullTranslations()
    with _lock, open(LOCALE_DIR / folder / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=folder)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
        compiled.seek(0)
        return Translations(fp=compiled)


def page_language(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The switch (``?lang=``), then the remembered choice, then the browser's Accept-Language."""
    for chosen in (query, cookie):
        if chosen in LANGUAGES:
            return chosen
    return choose_language(accept_language)


def gettext_callables(lang: str) -> dict[str, Callable[..., str]]:
    """``_``/``gettext``/``ngettext`` for a template (Jinja's i18n extension, new style: named
    ``%(name)s`` placeholders, filled in after translation)."""
    catalog = translations(lang)

    def translate(message: str, **values: Any) -> str:
        text = catalog.gettext(message)
        return text % values if values else text

    def translate_plural(singular: str, plural: str, n: int, **values: Any) -> str:
        text = catalog.ngettext(singular, plural, n)
        return text % {"num": n, **values}

    return {"_": translate, "gettext": translate, "ngettext": translate_plural}


def format_number(value: int | float | None, lang: str) -> str:
    """Digits grouped by thousands in every language: counts are compared with thresholds such as
    100,000, and 10万 beside 100,000 would make the reader convert."""
    if value is None:
        return "—"
    return f"{value:,}"


def mark_translatable(message: str) -> str:
    """Marks a module-level English label for extraction; translated where it is shown."""
    return message


N_ = mark_translatable

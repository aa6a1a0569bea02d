"""The caller's language: ``Accept-Language`` read as the three languages every message comes in.

Decisions put that language first in every text; problem details take their ``title`` in it
(api.http.problem_texts). One module, imported by the dependencies and the conventions middleware
alike (it imports nothing of the service).
"""

from __future__ import annotations

LANGUAGES = ("en", "zh-Hans", "zh-Hant")


def choose_language(header: str | None) -> str:
    """Accept-Language -> en, zh-Hans or zh-Hant, honouring q-values; mainland and Singapore tags
    read Simplified, Taiwan, Hong Kong and Macao tags read Traditional."""
    if not header:
        return "en"
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        lang = _language_of(tag.strip())
        if lang and quality > 0:
            ranked.append((-quality, index, lang))
    return min(ranked)[2] if ranked else "en"


def _language_of(tag: str) -> str | None:
    lower = tag.lower()
    if lower == "*" or lower == "en" or lower.startswith("en-"):
        return "en"
    if lower == "zh" or lower.startswith("zh-"):
        parts = lower.split("-")[1:]
        if "hant" in parts or any(p in ("tw", "hk", "mo") for p in parts):
            return "zh-Hant"
        return "zh-Hans"
    return None

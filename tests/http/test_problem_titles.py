"""Every problem title the service writes in English has its Simplified and Traditional Chinese titles
(api.http.problem_texts): a problem answered in English to a zh-CN or zh-TW caller while the others are
translated is the gap the 'ledger integrity' title had."""

from __future__ import annotations

from api.http.problem_texts import TITLES_ZH
from api.http.problems import TITLES


def test_every_problem_title_is_translated() -> None:
    assert sorted(set(TITLES) - set(TITLES_ZH)) == []
    assert sorted(set(TITLES_ZH) - set(TITLES)) == []  # no translation of a title that is gone
    for slug, (simplified, traditional) in TITLES_ZH.items():
        assert simplified and traditional and simplified != TITLES[slug], slug

"""The phrase books are unambiguous and documented.

Every example sentence must match exactly one step pattern across all three books (pytest-bdd
would otherwise pick one silently), and features/README.md must carry every example, so staff can
copy any documented sentence and have it understood.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import gherkin
import pytest

from api.spec.phrasebook import BOOKS
from api.spec.steps import Phrase

from .paths import REPO

ALL: list[Phrase] = [phrase for _, phrases in BOOKS.values() for phrase in phrases]


@pytest.mark.parametrize("phrase", ALL, ids=[phrase.example for phrase in ALL])
def test_each_example_means_exactly_one_thing(phrase: Phrase) -> None:
    """Simplified and Traditional books may share a sentence (有理由引用…) only for the same handler."""
    matching = {other.handler for other in ALL if re.fullmatch(other.pattern, phrase.example)}
    assert matching == {phrase.handler}


def test_the_readme_documents_every_sentence() -> None:
    readme = (REPO / "features" / "README.md").read_text(encoding="utf-8")
    missing = [phrase.example for phrase in ALL if f"`{phrase.example}`" not in readme]
    assert not missing, "regenerate the tables with: python -m api.spec.phrasebook"


def test_the_chinese_keywords_documented_are_gherkins_own() -> None:
    languages = json.loads((Path(gherkin.__file__).parent / "gherkin-languages.json").read_text("utf-8"))
    readme = (REPO / "features" / "README.md").read_text(encoding="utf-8")
    for code in ("zh-CN", "zh-TW"):
        keywords = {word.strip() for key, words in languages[code].items() if key not in ("name", "native")
                    for word in words if word.strip() != "*"}
        section = readme.split(f"<!-- keywords {code} -->")[1].split("<!-- /keywords -->")[0]
        written = {word for word in re.findall(r"`([^`]+)`", section) if not word.startswith("#")}
        assert written and written <= keywords, written - keywords

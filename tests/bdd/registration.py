"""The phrase books (api/spec) as pytest-bdd steps: the suite and ``baygate test`` share every phrase,
handler and check; only how a sentence reaches its handler differs (pytest-bdd here, the runner of
api/spec/runner.py there)."""

from __future__ import annotations

import re

from pytest_bdd import parsers, step

from api.spec.steps import Phrase


def register(phrases: list[Phrase]) -> None:
    """Register every phrase as a pytest-bdd step usable with any keyword (Given/When/Then/And).

    Call it at the top level of a language module: pytest-bdd puts each step's fixture into the
    namespace two frames up (``stacklevel=2``: register, then the module), and conftest imports
    the fixtures from there.
    """
    for phrase in phrases:
        assert re.fullmatch(phrase.pattern, phrase.example), f"example does not match: {phrase.example}"
        step(parsers.re(phrase.pattern), stacklevel=2)(phrase.handler)

"""docs/errors.md documents every error code the CLI and the problem details carry, and every reason id
of the engine: a code given in the code without its section there fails here (tests/house/error_codes.py
says how codes are found)."""

from __future__ import annotations

from tests.house.error_codes import ERRORS_DOC, codes_given, codes_in, documented


def test_every_error_code_has_its_section_in_docs_errors_md() -> None:
    given = codes_given()
    sections = documented(ERRORS_DOC.read_text(encoding="utf-8"))
    missing = {code: where for code, where in given.items() if code not in sections}
    assert not missing, "document these in docs/errors.md (### `code`, what it means, Fix: ...): " + ", ".join(
        f"{code} ({where})" for code, where in sorted(missing.items()))
    assert len(given) >= 30


def test_every_section_says_what_it_means_and_how_to_fix_it() -> None:
    for code, text in documented(ERRORS_DOC.read_text(encoding="utf-8")).items():
        assert "Fix:" in text and len(text.split()) >= 12, code


def test_no_section_for_a_code_the_code_no_longer_gives() -> None:
    """A code taken out of the code comes out of the reference too (``baygate.error``, the base class's
    code, is given by any error that does not name its own)."""
    given = codes_given()
    stale = set(documented(ERRORS_DOC.read_text(encoding="utf-8"))) - set(given)
    assert not stale, sorted(stale)


def test_the_collector_finds_each_way_a_code_is_given() -> None:
    source = '''
class Gone(BaygateError):
    code = "baygate.made-up-one"
TITLES = {"made-up-two": "x"}
raise ProblemError(418, "made-up-three", "detail")
problem_response(503, "made-up-four")
REASON = "engine.made-up-five"
logger = "baygate.http"
'''
    assert set(codes_in(source)) == {"baygate.made-up-one", "baygate.made-up-two", "baygate.made-up-three",
                                     "baygate.made-up-four", "engine.made-up-five"}

"""'a reason cites' matches an article exactly (issue 20): "art. 3" is not "art. 38", and lists and ranges of
articles count one by one."""

from __future__ import annotations

import pytest

from api.spec.world import cites


@pytest.mark.parametrize(("citation", "text", "found"), [
    ("Provisions (2024), art. 38", "art. 3", False),
    ("Provisions (2024), art. 3; PIPL (2021), arts. 4, 73(4)", "art. 3", True),
    ("Provisions (2024), art. 5(2)", "art. 5(2)", True),
    ("Provisions (2024), art. 5(2)", "art. 5", True),
    ("Provisions (2024), art. 5(2)", "art. 5(1)", False),
    ("PIPL (2021), arts. 36, 37", "PIPL (2021), art. 36", True),
    ("PIPL (2021), arts. 36, 37", "art. 37", True),
    ("PIPL (2021), arts. 36, 37", "art. 3", False),
    ("PIPL (2021), arts. 13 para. 2, 39", "art. 1", False),
    ("GBA Guidelines (2023), arts. 5-8, 10", "art. 6", True),
    ("GBA Guidelines (2023), arts. 5-8, 10", "art. 9", False),
    ("PDPO (Cap. 486), Part VIA, ss. 35J, 35K", "s. 35K", True),
    ("PDPO (Cap. 486), s. 33 (enacted, not in operation)", "s. 3", False),
    ("PDPO (Cap. 486), Sch. 1, DPP3(1); s. 2(3)", "DPP3", True),
    ("PDPO (Cap. 486), Sch. 1, DPP3(1)", "DPP31", False),
])
def test_a_citation_is_matched_article_by_article(citation: str, text: str, found: bool) -> None:
    assert cites(citation, text) is found

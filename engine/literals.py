"""The literals a rule compares facts with, checked against what those facts can hold.

A rule that says ``{fact: exporter.jurisdiction, eq: hk}`` loads, compiles and never fires: requests
give jurisdictions as ISO codes in capitals, and ``exporter.city`` is read in lower case. Such a rule
is worse than a syntax error, because the pack looks right and the law it carries silently does not
apply. So every literal is checked against its fact when a pack loads (``rules validate`` and every
reload): an enum or set member must be one of the fact's values, a jurisdiction an ISO 3166-1
alpha-2 code, and the text compared with a lower-case fact lower case. The error names the nearest
value the author probably meant.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable

from engine.fact_registry import FactSpec

COMMON_JURISDICTIONS = frozenset({"CN", "HK", "MO", "TW"})
"""The codes the packs name: known without loading the ISO database (about 0.2 s a process)."""


@functools.cache
def jurisdictions() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (CN, HK, MO, TW among them): what a request's jurisdiction may be."""
    import pycountry  # loaded only for a code outside COMMON_JURISDICTIONS

    return frozenset(country.alpha_2 for country in pycountry.countries)


def is_jurisdiction(value: str) -> bool:
    return value in COMMON_JURISDICTIONS or value in jurisdictions()


def nearest(value: str, candidates: Iterable[str]) -> str | None:
    """The candidate the author most probably meant: the same text in another case first, else the
    closest spelling (difflib's ratio, case ignored), else None when nothing is close."""
    pool = list(candidates)
    folded = {candidate.casefold(): candidate for candidate in pool}
    if value.strip().casefold() in folded:
        return folded[value.strip().casefold()]
    close = difflib.get_close_matches(value.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


def hint(value: str, candidates: Iterable[str]) -> str:
    """' (nearest value: X)' or '' — the tail of an error message."""
    found = nearest(value, candidates)
    return f" (nearest value: '{found}')" if found is not None and found != value else ""


def literal_problem(spec: FactSpec, value: str) -> str | None:
    """What is wrong with comparing ``spec``'s fact with the text ``value``, or None when a request
    can give the fact that value."""
    if spec.values and spec.type in ("enum", "set"):
        if value in spec.values:
            return None
        for old, new in spec.retired:
            if value == old:
                others = ", ".join(v for v in spec.values if v != new)
                return (f"'{value}' is no longer a value of fact '{spec.name}' (nearest value: '{new}'); "
                        f"its values: {new}, {others}")
        return (f"'{value}' is not a value of fact '{spec.name}'{hint(value, spec.values)}; its values: "
                f"{', '.join(spec.values)}")
    if spec.form == "jurisdiction" and not is_jurisdiction(value):
        found = nearest(value, jurisdictions())
        suggestion = f" (nearest value: '{found}')" if found else " (e.g. CN, HK, MO)"
        return (f"'{value}' is not a jurisdiction of fact '{spec.name}': requests give ISO 3166-1 alpha-2 "
                f"codes in capitals{suggestion}")
    if spec.form == "lower_case" and value != value.strip().lower():
        return (f"fact '{spec.name}' is read in lower case, so '{value}' can never match "
                f"(nearest value: '{value.strip().lower()}')")
    return None

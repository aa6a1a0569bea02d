"""Unified social credit codes (统一社会信用代码, GB 32100-2015): how a Mainland organisation is
identified, and the check a party id is held to (issue 19 point 4; ``engine.party_ids`` and the
request model use it). A code is 18 characters of the alphabet ``0-9 A-H J-N P-R T U W-Y`` (no I, O,
S, V, Z), the last a check character computed from the other 17 (art. 5): 31 minus the weighted sum
modulo 31, the weights being 3 to the power of the position, modulo 31. Only the form is checked, not
whether the code was ever issued."""

from __future__ import annotations

import functools
import os

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100-2015's 31 characters: the digits and the capitals but I, O, S, V, Z."""
WEIGHTS = tuple(pow(3, position, 31) for position in range(17))
"""The weights of the first 17 characters (1, 3, 9, 27, 19, 26, ...)."""
STRICT_IDS_ENV = "BAYGATE_STRICT_IDS"
"""Set to 1: a Mainland organisation's id that is not a well-formed code is refused, not flagged."""
ORGANISATIONS = frozenset({"company", "research_institution", "public_institution", "state_organ"})
"""Party kinds that are organisations; an ``individual``'s id is any stable identifier."""


def check_character(first17: str) -> str:
    """The check character of 17 characters of the alphabet: 31 - (weighted sum mod 31), 31 -> 0."""
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


@functools.lru_cache(maxsize=4096)
def is_uscc(code: str) -> bool:
    """Whether ``code`` is a well-formed unified social credit code."""
    return len(code) == 18 and all(char in ALPHABET for char in code) and check_character(code[:17]) == code[17]


def held_to_uscc(jurisdiction: str, kind: str) -> bool:
    """Whether a party's id must be a unified social credit code: a Mainland organisation's."""
    return jurisdiction == "CN" and kind in ORGANISATIONS


def strict_ids() -> bool:
    """Whether ``BAYGATE_STRICT_IDS=1`` (read at each request: a test or a reload may change it)."""
    return os.environ.get(STRICT_IDS_ENV, "").strip() == "1"


def problem(code: str) -> str:
    """Why a Mainland organisation's id is refused in strict mode."""
    return (f"{code!r} is not a well-formed unified social credit code (GB 32100-2015: 18 characters of "
            f"{ALPHABET}, the last a check character), which a Mainland organisation is identified by "
            f"({STRICT_IDS_ENV}=1 refuses it; without it the decision carries the warning engine.id-unverified)")

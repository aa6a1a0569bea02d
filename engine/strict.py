"""Strict reading of request values: a field takes what it says it takes, and nothing is guessed.

A lenient reader turns a mistake into a legal answer: ``"1764547200"`` read as 2025-12-01, ``"f"`` or a
YAML ``no`` read as a flag, ``"12"`` as a count. So the request model uses these types:

- :data:`IsoDate`: a date given as an ISO date only, a YAML date or a string ``2026-12-01``; never an
  epoch number, a numeric string or a date and time;
- :data:`Flag`: ``true`` or ``false`` only (JSON or YAML booleans), never ``"yes"``, ``"f"``, ``1``;
- :data:`Count`: a whole number only, never ``"12"``, ``12.0`` or ``true``;
- :data:`Reference`: text without control, zero-width, bidirectional or other invisible characters,
  which would make a reference read differently from what is stored.

Readers of YAML and JSON (``engine.inputs``) put an :class:`InvalidScalar` where a value could not be
built at all (``2026-02-30``, hour 25, an integer of more than 4,300 digits, a YAML ``!!binary``), so
the field's validation names it with its path instead of an exception without one;
``engine.errors.friendly_message`` words these errors.

- :data:`PartyId`: a party's id in one canonical form (NFKC, trimmed, upper case; invisible characters
  refused), so that the same id written twice is one exporter (issue 19 point 4; docs/request.md).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict, ValidationInfo

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CATEGORY_NAMES = {"Cc": "a control character", "Cs": "a lone surrogate", "Co": "a private-use character"}


@dataclass(frozen=True)
class InvalidScalar:
    """A value a reader could not build: its text (shortened) and why. No field type accepts it."""

    text: str
    kind: str
    reason: str

    @classmethod
    def of(cls, text: str, kind: str, reason: str) -> InvalidScalar:
        shown = text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"
        return cls(shown, kind, reason)

    def describe(self) -> str:
        return f"{self.text!r} is not a valid {self.kind}: {self.reason}"


def iso_date_only(value: Any) -> Any:
    """A date object (not a date and time) or a ``YYYY-MM-DD`` string passes to the date parser;
    anything else is refused with what to write instead."""
    if type(value) is str and len(value) == 10 and ISO_DATE.fullmatch(value):
        return value  # JSON's case first: one call a date field per request
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and len(value) == 10 and ISO_DATE.fullmatch(value):
        return value
    if isinstance(value, InvalidScalar):
        raise ValueError(value.describe())
    if isinstance(value, dt.datetime):
        raise ValueError(f"expected a date (YYYY-MM-DD), got a date and time ({value.isoformat()}): "
                         "write the date alone")
    raise ValueError(f"expected a date as YYYY-MM-DD (a YAML date, or a string such as \"2026-12-01\"), "
                     f"got {_shown(value)}")


def parse_iso_date(text: str) -> dt.date:
    """A command-line or query date: ``YYYY-MM-DD`` only (``date.fromisoformat`` would also take
    ``20261201`` and week dates). Raises ValueError naming what is expected."""
    if not (len(text) == 10 and ISO_DATE.fullmatch(text)):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {text!r}")
    return dt.date.fromisoformat(text)


def visible_text(value: str) -> str:
    """Refuse characters a reader cannot see: controls, zero-width and bidirectional marks, other
    format characters, separators other than the space, surrogates and unassigned code points
    (``str.isprintable`` is false for exactly these, and costs nothing on the usual text)."""
    if value.isprintable():
        return value
    for position, char in enumerate(value):
        if not char.isprintable():
            name = unicodedata.name(char, "") or CATEGORY_NAMES.get(unicodedata.category(char), "unassigned")
            raise ValueError(f"character U+{ord(char):04X} ({name}) at position {position + 1}: control, "
                             "zero-width, bidirectional and other invisible characters are not accepted "
                             "(the text would read differently from what is stored)")
    return value  # pragma: no cover - isprintable was false, so some character is not printable


def canonical_party_id(value: str) -> str:
    """The canonical form of a party id (issue 19 point 4: one exporter, one identity): Unicode NFKC
    (full-width digits and letters become ASCII, the other spaces a space), spaces trimmed at both
    ends, upper-cased, and NFKC again, until stable. Zero-width, bidirectional (and BOM), control and
    other invisible characters are refused, naming the first: they make one id read as another.
    Raises ValueError (pydantic names the field)."""
    if value.isascii() and value.isprintable() and value.strip(" ") == value != "" and value.upper() == value:
        return value  # the usual id: printable ASCII is its own NFKC form, so it is canonical as it is
    text = value
    for _ in range(4):  # reaches its fixed point in one or two rounds
        normal = unicodedata.normalize("NFKC", text)
        _refuse_invisible_in_id(normal)
        shaped = unicodedata.normalize("NFKC", normal.strip(" ").upper()).strip(" ")
        if shaped == text:
            break
        text = shaped
    if not text:
        raise ValueError("is empty once spaces are trimmed")
    return text


def _refuse_invisible_in_id(text: str) -> None:
    """After NFKC, anything not printable but the space is a control, format (zero-width,
    bidirectional, BOM), line or paragraph separator, private-use, surrogate or unassigned character."""
    if text.isprintable():
        return
    for position, char in enumerate(text):
        if not char.isprintable() and char != " ":
            name = unicodedata.name(char, "") or CATEGORY_NAMES.get(unicodedata.category(char), "unassigned")
            raise ValueError(f"character U+{ord(char):04X} ({name}) at position {position + 1}: zero-width, "
                             "bidirectional, control and other invisible characters are not accepted in an id "
                             "(the same id would count as another party)")


def party_id(value: Any, info: ValidationInfo) -> Any:
    """A new request's party id in canonical form; a stored request's as it was recorded
    (``engine.models.read_stored_request``: old records read as they were decided)."""
    if not isinstance(value, str) or (info.context and info.context.get("stored_request")):
        return value
    return canonical_party_id(value)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:40] + "..."


IsoDate = Annotated[dt.date, BeforeValidator(iso_date_only)]
"""A date written as an ISO date: a YAML date, or a string ``YYYY-MM-DD`` (JSON, YAML quoted)."""

Flag = Annotated[bool, Strict()]
"""``true`` or ``false`` only."""

Count = Annotated[int, Strict()]
"""A whole number only (JSON or YAML integer), never text or a float."""

# The length bounds sit on the inner type, before the validator: pydantic checks them in its core.
# Written after it (``Annotated[Reference, Field(max_length=...)]``) each bound became a Python call.
Reference = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(visible_text)]
"""A reference a person reads and compares: 1-128 characters, none invisible."""

PartyId = Annotated[str, Field(min_length=1, max_length=128), BeforeValidator(party_id)]
"""A party's id, canonicalised (:func:`canonical_party_id`), 1-128 characters: the same id written
twice is one party."""

"""Decisions as earlier versions wrote them, read in today's shape.

The ledger keeps every decision as it was written (its hash chain covers those bytes), so a decision
recorded before a change of the contract must still read as a ``Decision`` and replay against one
made today. Two changes of December 2026 (issue 22.4) are undone here, on plain JSON dicts, for the
model (``Decision`` validates through :func:`upgrade_decision`) and for replay's comparison alike:

- ``missing`` items were ``{"mechanism": "one of a, b"}``, ``{"obligation": id}``, ``{"approval":
  kind}`` or ``{"review": "legal review of the route"}``; they are now ``{"kind": ..., "options" or
  "id": ..., "text": ...}``.
- ``counts`` of a conditional transfer said ``counted: true`` and an ``after`` that included the
  transfer, although the ledger never counted it (it counts permitted decisions only); ``counted`` now
  says what recording does, and ``after`` equals ``before`` where nothing is counted.

Nothing here imports the models: they import it.
"""

from __future__ import annotations

import re
from typing import Any

LEGACY_REVIEW_IDS = {
    "legal review of the route": "no-route",
    "no eligible mechanism": "no-eligible-mechanism",
}
"""The prose of review items before they had ids, and the ids decide gives the same items now."""

_MISSING_KEYS = ("mechanism", "obligation", "approval", "review")


def _review_id(prose: str) -> str:
    known = LEGACY_REVIEW_IDS.get(prose)
    return known or re.sub(r"[^a-z0-9]+", "-", prose.lower()).strip("-") or "review"


def upgrade_missing_item(item: Any) -> Any:
    """One missing item in today's shape (unchanged when it already is, or is not a dict)."""
    if not isinstance(item, dict) or "kind" in item:
        return item
    for key in _MISSING_KEYS:
        value = item.get(key)
        if value is None:
            continue
        text = item.get("text") or {"en": str(value), "zh-Hans": str(value), "zh-Hant": str(value)}
        if key == "mechanism":
            options = [option.strip() for option in str(value).removeprefix("one of ").split(",")]
            return {"kind": "mechanism", "options": [o for o in options if o], "text": text}
        if key == "review":
            return {"kind": "review", "id": _review_id(str(value)), "text": text}
        return {"kind": key, "id": value, "text": text}
    return item


def counted_as_recorded(decision: dict[str, Any]) -> bool:
    """Whether recording this decision counts: what the ledger has always done (a permitted decision
    whose counts say counted), whichever version wrote the decision."""
    counts = decision.get("counts")
    return decision.get("outcome") == "permitted" and isinstance(counts, dict) and bool(counts.get("counted", True))


def upgrade_counts(decision: dict[str, Any]) -> dict[str, Any] | Any:
    """The decision's counts, with nothing moving where recording it counts nothing."""
    counts = decision.get("counts")
    if not isinstance(counts, dict) or counted_as_recorded(decision):
        return counts
    if counts.get("counted", True) is False and counts.get("personal_subjects_after") == counts.get(
            "personal_subjects_before") and counts.get("sensitive_subjects_after") == counts.get(
            "sensitive_subjects_before"):
        return counts
    return {**counts, "counted": False,
            "personal_subjects_after": counts.get("personal_subjects_before"),
            "sensitive_subjects_after": counts.get("sensitive_subjects_before")}


def upgrade_decision(data: dict[str, Any]) -> dict[str, Any]:
    """A stored decision (plain JSON) in today's shape; a decision already in it comes back as it is."""
    missing = data.get("missing")
    upgraded: dict[str, Any] | None = None
    if isinstance(missing, list) and any(isinstance(item, dict) and "kind" not in item for item in missing):
        upgraded = {**data, "missing": [upgrade_missing_item(item) for item in missing]}
    counts = upgrade_counts(data)
    if counts is not data.get("counts"):
        upgraded = {**(upgraded or data), "counts": counts}
    return upgraded if upgraded is not None else data

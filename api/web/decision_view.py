"""A decision as the page shows it, from its JSON (live from a dry run, or as stored in the ledger).

One shape for the decision panel, the transfer's page and the printable record, whatever the model's
version: ``missing`` items written before they were structured (``{mechanism: ...}``) and after
(``{kind: mechanism, options: [...], text}``: DESIGN section 3) read alike, and ``satisfied_by`` is
shown where the decision has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MISSING_KINDS = ("mechanism", "obligation", "approval", "review")


@dataclass(frozen=True)
class MissingView:
    kind: str
    codes: list[str]
    """The mechanisms that would do (options), or the obligation, approval or review id."""
    text: dict[str, str] | None


@dataclass(frozen=True)
class DecisionView:
    data: dict[str, Any]
    missing: list[MissingView]
    reasons_sure: list[dict[str, Any]]
    reasons_unsure: list[dict[str, Any]]
    satisfied_by: dict[str, Any] | None

    @property
    def outcome(self) -> str:
        return str(self.data["outcome"])

    @property
    def level(self) -> str:
        return str(self.data["mechanism"])


def _missing(item: dict[str, Any]) -> MissingView:
    kind = item.get("kind")
    if isinstance(kind, str):
        codes = item.get("options") or ([item["id"]] if item.get("id") else [])
        return MissingView(kind, [str(c) for c in codes], item.get("text"))
    for old_kind in MISSING_KINDS:  # before the structured form: {mechanism: "a, b", text}
        if item.get(old_kind):
            codes = [part.strip() for part in str(item[old_kind]).replace(" or ", ",").split(",") if part.strip()]
            return MissingView(old_kind, codes, item.get("text"))
    return MissingView("review", [], item.get("text"))


def decision_view(data: dict[str, Any]) -> DecisionView:
    reasons = list(data.get("reasons", []))
    return DecisionView(
        data=data,
        missing=[_missing(item) for item in data.get("missing", [])],
        reasons_sure=[r for r in reasons if not r.get("unsure")],
        reasons_unsure=[r for r in reasons if r.get("unsure")],
        satisfied_by=data.get("satisfied_by"),
    )

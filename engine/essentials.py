"""What a replay compares of a decision, and what a rules diff compares (``engine.replay``).

A recorded decision is read back as JSON (:func:`essentials_of_json`); the decision made again is a
model, whose essentials are read from its fields (:func:`essentials_of_model`, :func:`route_of`) rather
than from its JSON: writing every re-made decision as JSON (the messages and facts of every reason) only
to keep a tenth of it cost a replay about 5 % and a diff about 10 % of their time (a profile on a 10^4
ledger). Both readings must give the same for the same decision: tests/engine/test_essentials.py holds
them equal for every shared scenario under five priors and for generated requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.models import Decision
from engine.stored_shapes import upgrade_decision

COMPARED = ("outcome", "mechanism", "mechanism_options", "exemptions", "rule_ids", "satisfied_by", "missing",
            "obligations", "counts")
"""What a replay compares; ``rules diff`` reports the first three (the route) and the rule ids.
``satisfied_by`` only where the stored decision has it (decisions before December 2026 do not)."""

ROUTE = ("outcome", "mechanism", "mechanism_options")
"""What ``rules diff`` calls a change of route."""

OFFER_EFFECTS = frozenset({"eligible", "also_satisfied_by"})
"""Reasons that only offer a mechanism: decisions before December 2026 showed them where the mechanism
was no option; ``mechanism_options`` says what they changed, so their rule ids are not compared."""

NOT_REPLAYED_REASONS = frozenset({"engine.id-unverified"})
"""Reasons about the form of the request's input, not decisions of the rules: the warning on a Mainland
organisation's id that is not a well-formed code (engine.party_ids) is added by engines since issue 19
point 4, so a decision recorded before lacks it, and a replay must not call that a difference."""

COUNTS_COMPARED = ("year", "personal_subjects_before", "sensitive_subjects_before", "personal_subjects_after",
                   "sensitive_subjects_after", "counted")


def essentials_of_json(decision: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a decision read as JSON (a recorded one) that a replay must reproduce. Not compared:
    ids, timestamps, message texts (wording may be improved without changing a decision), ``rules`` (checked apart) and
    the reasons of ``NOT_REPLAYED_REASONS``. A decision stored by an earlier version is read in today's
    shape first (engine.stored_shapes)."""
    decision = upgrade_decision(dict(decision))
    counts = decision.get("counts") or {}
    found = {
        "outcome": decision.get("outcome"),
        "mechanism": decision.get("mechanism"),
        "mechanism_options": list(decision.get("mechanism_options") or []),
        "exemptions": list(decision.get("exemptions") or []),
        "rule_ids": [r.get("rule") for r in decision.get("reasons") or []
                     if r.get("effect") not in OFFER_EFFECTS and r.get("rule") not in NOT_REPLAYED_REASONS],
        "missing": [{k: v for k, v in m.items() if k != "text" and v is not None}
                    for m in decision.get("missing") or []],
        "obligations": [(o.get("id"), str(o.get("due_date")), o.get("satisfied"))
                        for o in decision.get("obligations") or []],
        "counts": {k: counts.get(k) for k in COUNTS_COMPARED},
    }
    if "satisfied_by" in decision:
        found["satisfied_by"] = decision["satisfied_by"]
    return found


def compared_rule_ids(decision: Decision) -> list[str]:
    """The ids of the reasons a replay and a diff compare: not those that only offer a mechanism, nor
    those about the form of the input (see :data:`OFFER_EFFECTS`, :data:`NOT_REPLAYED_REASONS`)."""
    return [reason.rule for reason in decision.reasons
            if reason.effect not in OFFER_EFFECTS and reason.rule not in NOT_REPLAYED_REASONS]


def essentials_of_model(decision: Decision) -> dict[str, Any]:
    """The parts of a decision made now (a model) that a replay compares: what
    :func:`essentials_of_json` gives of ``decision.model_dump(mode="json")``, read from the fields."""
    counts = decision.counts
    satisfied_by = decision.satisfied_by
    return {
        "outcome": decision.outcome,
        "mechanism": decision.mechanism,
        "mechanism_options": list(decision.mechanism_options),
        "exemptions": list(decision.exemptions),
        "rule_ids": compared_rule_ids(decision),
        "missing": [item.model_dump(mode="json", exclude={"text"}, exclude_none=True) for item in decision.missing],
        # str() of a date is its ISO text, as JSON has it; of None "None", as str(None) of JSON's null
        "obligations": [(o.id, str(o.due_date), o.satisfied) for o in decision.obligations],
        "counts": {k: getattr(counts, k) for k in COUNTS_COMPARED},
        "satisfied_by": None if satisfied_by is None else satisfied_by.model_dump(mode="json"),
    }


def route_of(decision: Decision) -> dict[str, Any]:
    """What ``rules diff`` compares of a decision: :data:`ROUTE` and the compared rule ids."""
    return {"outcome": decision.outcome, "mechanism": decision.mechanism,
            "mechanism_options": list(decision.mechanism_options), "rule_ids": compared_rule_ids(decision)}

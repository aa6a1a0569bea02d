"""Reading a rule's ``then``: its effects (require, prohibit, exempt, review, ...) and the checks
that they make sense together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.fact_registry import EXEMPTION_IDS
from engine.literals import hint
from engine.models import APPROVAL_KINDS, MECHANISM_TYPES
from engine.rulespec.model import Effects
from engine.rulespec.yamlnodes import Issues, line_of

EFFECT_KEYS = {"require", "prohibit", "exempt", "eligible", "also_satisfied_by", "obligations",
               "approvals", "note", "review", "no_mechanism"}

REVIEW_ID = re.compile(r"[a-z][a-z0-9-]*")
"""A review's id (the ``id`` of its ``missing`` item): short, lower case, hyphenated."""


def _tuple_of_str(node: Any) -> tuple[str, ...] | None:
    if isinstance(node, str):
        return (node,)
    if isinstance(node, list) and all(isinstance(v, str) for v in node):
        return tuple(node)
    return None

def parse_effects(node: Any, line: int, rule_id: str, out: Issues) -> Effects | None:
    if not isinstance(node, Mapping):
        out.add(line, rule_id, "'then' must be a mapping of effects")
        return None
    unknown = set(map(str, node)) - EFFECT_KEYS
    if unknown:
        out.add(line, rule_id, f"unknown effect(s) {sorted(unknown)} (known: {', '.join(sorted(EFFECT_KEYS))})")
        return None
    ok = True

    def mechanisms(key: str) -> tuple[str, ...]:
        nonlocal ok
        if key not in node:
            return ()
        values = _tuple_of_str(node[key])
        if values is None or not values:
            out.add(line_of(node, key), rule_id, f"'{key}' takes a list of mechanisms")
            ok = False
            return ()
        for value in values:
            if value not in MECHANISM_TYPES:
                out.add(line_of(node, key), rule_id, f"unknown mechanism '{value}' in '{key}'"
                        f"{hint(value, MECHANISM_TYPES)} (known: {', '.join(MECHANISM_TYPES)})")
                ok = False
        return values

    require = mechanisms("require")
    eligible = mechanisms("eligible")
    also = mechanisms("also_satisfied_by")
    prohibit = node.get("prohibit", False)
    if not isinstance(prohibit, bool):
        out.add(line_of(node, "prohibit"), rule_id, "'prohibit' takes true or false")
        ok = False
    exempt = node.get("exempt")
    if exempt is not None and exempt not in EXEMPTION_IDS:
        out.add(line_of(node, "exempt"), rule_id,
                f"unknown exemption '{exempt}'{hint(str(exempt), EXEMPTION_IDS)} (known: {', '.join(EXEMPTION_IDS)})")
        ok = False
    obligations = _tuple_of_str(node.get("obligations", []))
    if obligations is None:
        out.add(line_of(node, "obligations"), rule_id, "'obligations' takes a list of obligation ids")
        ok = False
    approvals = _tuple_of_str(node.get("approvals", []))
    if approvals is None:
        out.add(line_of(node, "approvals"), rule_id,
                f"'approvals' takes a list of approval kinds ({', '.join(APPROVAL_KINDS)})")
        ok = False
    for approval in approvals or ():
        if approval not in APPROVAL_KINDS:
            out.add(line_of(node, "approvals"), rule_id, f"unknown approval kind '{approval}'"
                    f"{hint(approval, APPROVAL_KINDS)} (known: {', '.join(APPROVAL_KINDS)})")
            ok = False
    note, no_mechanism = node.get("note", False), node.get("no_mechanism", False)
    for key, flag in (("note", note), ("no_mechanism", no_mechanism)):
        if not isinstance(flag, bool):
            out.add(line_of(node, key), rule_id, f"'{key}' takes true or false")
            ok = False
    review = node.get("review")
    if review is not None and (not isinstance(review, str) or not REVIEW_ID.fullmatch(review)):
        out.add(line_of(node, "review"), rule_id, "'review' takes a short id in lower case with hyphens "
                "(e.g. macao-pdpa): the id of the legal review the transfer then waits for")
        ok = False
    if prohibit and (require or exempt or review or no_mechanism):
        out.add(line, rule_id, "a rule that prohibits cannot also require, exempt, ask for a review or say "
                "no mechanism is needed")
        ok = False
    if no_mechanism is True and (require or exempt or review):
        out.add(line, rule_id, "'no_mechanism' says the law needs no mechanism: it cannot go with require, "
                "exempt or review in one rule")
        ok = False
    if not ok:
        return None
    effects = Effects(require=require, prohibit=bool(prohibit), exempt=exempt, eligible=eligible,
                      also_satisfied_by=also, obligations=obligations or (), approvals=approvals or (),
                      note=bool(note), review=review, no_mechanism=bool(no_mechanism))
    if effects.kind == "note" and not note:
        out.add(line, rule_id, "'then' has no effect (use note: true for a reason without consequence)")
        return None
    return effects

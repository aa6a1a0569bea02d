"""Message placeholders: a message states a rule's threshold by naming it, not by repeating it.

``"{ytd.personal_subjects:gte} or more individuals"`` in a rule's message is replaced, when the pack
loads, by the literal the rule's ``when`` compares ``ytd.personal_subjects`` with using ``gte`` — so
changing 100000 to 50000 in the condition changes the sentence users read, and the two can never
disagree. There must be exactly one such comparison in the rule (``rules validate`` says which rule
and line otherwise). Numbers are written per language: ``100,000`` in English; in Chinese ``10万``
where the number is a whole number of 万 (ten thousands), else ``100,000``. Dates are ISO dates.

Substitution happens once, at load: a decision pays nothing for it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from engine.conditions import Condition, leaves_of

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
FORM = re.compile(r"(?P<fact>[A-Za-z0-9_.]+):(?P<op>[a-z_]+)")
SCALAR_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains")


def format_literal(value: object, lang: str) -> str:
    """A literal as a message in ``lang`` writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if lang != "en" and value >= 10_000 and value % 10_000 == 0:
            return f"{value // 10_000}万"
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def render(texts: Mapping[str, str], when: Condition) -> tuple[dict[str, str], list[str]]:
    """The texts with every placeholder replaced, and what is wrong with those that cannot be."""
    problems: list[str] = []
    literals: dict[str, object] = {}
    for text in texts.values():
        for found in PLACEHOLDER.finditer(text):
            inner = found.group(1).strip()
            if inner in literals:
                continue
            form = FORM.fullmatch(inner)
            if form is None:
                problems.append(f"message placeholder {found.group(0)} is not of the form {{FACT:OPERATOR}}, "
                                "e.g. {ytd.personal_subjects:gte}")
                continue
            fact, op = form.group("fact"), form.group("op")
            if op not in SCALAR_OPS:
                problems.append(f"message placeholder {found.group(0)}: '{op}' is not an operator that "
                                f"compares with one literal ({', '.join(SCALAR_OPS)})")
                continue
            matches = [leaf for leaf in leaves_of(when) if leaf.fact == fact and leaf.op == op]
            if len(matches) != 1:
                how_many = "no" if not matches else f"{len(matches)}"
                problems.append(f"message placeholder {found.group(0)}: the rule's 'when' has {how_many} "
                                f"comparison of {fact} with '{op}' (it needs exactly one)")
                continue
            literals[inner] = matches[0].value
    if problems:
        return dict(texts), problems

    def substitute(text: str, lang: str) -> str:
        return PLACEHOLDER.sub(lambda m: format_literal(literals[m.group(1).strip()], lang), text)

    return {lang: substitute(text, lang) for lang, text in texts.items()}, []

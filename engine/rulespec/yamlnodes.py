"""YAML nodes with line numbers (ruamel.yaml's round-trip nodes) and the issues found in one file:
every error of a pack names ``FILE:LINE``, so every reader here keeps the line of what it reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.errors import RuleIssue


def line_of(node: Any, key: Any = None) -> int:
    """1-based line of a mapping key or of a node, 0 when unknown."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return 0
    try:
        if key is not None and isinstance(key, str):
            return int(lc.key(key)[0]) + 1
        if key is not None and isinstance(key, int):
            return int(lc.item(key)[0]) + 1
        return int(lc.line) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return int(getattr(lc, "line", -1)) + 1

def plain(node: Any) -> Any:
    """ruamel's round-trip types as plain Python (for digests and values)."""
    if isinstance(node, Mapping):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, dt.datetime):
        return node.date()
    if isinstance(node, bool | int | float | str | dt.date) or node is None:
        return node
    return str(node)

class Issues:
    """Collects issues for one file so that a user sees all of them at once."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[RuleIssue] = []

    def add(self, line: int, rule_id: str | None, message: str) -> None:
        self.issues.append(RuleIssue(self.file, line, rule_id, message))

def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None

"""Errors are part of the interface: each has a stable code and names the field, or the file, line
and rule. The CLI renders them on stderr with exit status 3; the HTTP service as RFC 9457 problems.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from engine.strict import InvalidScalar


class BaygateError(Exception):
    """Base of the errors users see; ``code`` is stable and documented.

    By default one is the input's fault: CLI exit 3, HTTP 4xx. An error whose ``http_status`` is 500
    or more, or a :class:`CouldNotFinish`, means the program could not finish: exit 4, HTTP 5xx
    (``api.exits``)."""

    code = "baygate.error"


class CouldNotFinish(BaygateError):
    """The program could not finish what it was asked, through no fault of the input: a database that
    cannot be reached, a ledger whose integrity fails, a machine out of memory. CLI exit 4; HTTP 503
    unless a subclass says otherwise."""

    code = "baygate.could-not-finish"
    http_status = 503


class ConfigError(BaygateError):
    """A setting (an environment variable, a command-line value, a configuration file) that cannot be
    used: the program refuses to start with a one-line reason naming the setting (exit 3)."""

    code = "baygate.bad-config"


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with an input, with the path of the field (``data[1].subjects``) and, for a file,
    the line it is written on (engine.source_lines), when known."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InputError(BaygateError):
    """A request that cannot be evaluated: the source (file or body) and every field problem."""

    code = "baygate.bad-input"

    def __init__(self, source: str, problems: list[FieldProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        lines = []
        for problem in self.problems:
            where = self.source + (f":{problem.line}" if problem.line else "")
            lines.append(f"{where}: {problem}" if where else str(problem))
        return "\n".join(lines)


def field_path(location: tuple[int | str, ...]) -> str:
    """``("data", 1, "subjects")`` -> ``data[1].subjects``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def problems_from_validation(error: ValidationError, prefix: tuple[int | str, ...] = ()) -> list[FieldProblem]:
    """Pydantic's errors as field problems; model-level checks keep the path of their model."""
    problems = []
    for item in error.errors(include_url=False):
        location = tuple(part for part in item["loc"] if not _is_type_tag(part))
        problems.append(FieldProblem(field_path(prefix + location), friendly_message(item)))
    return problems


COLLECTION_KEY_REFUSED = "a mapping key must be plain text or a number, not a list or mapping"
"""What the request reader and the pack reader both say of a key written as a list or mapping (``[a]: 1``,
``{[a]: 1}``): nothing baygate reads has one, and a reader must not guess what it would mean."""

YAML_WORDS = frozenset({"yes", "no", "on", "off", "y", "n"})


def friendly_message(item: Mapping[str, Any]) -> str:
    """One of Pydantic's error items worded for the person who wrote the file: what was found and what
    to write instead (a YAML ``yes`` is text here, a count in quotes is text, an impossible date)."""
    message = str(item.get("msg", "invalid"))
    if message.startswith("Value error, "):
        return message[len("Value error, "):]
    found = item.get("input")
    kind = item.get("type")
    if isinstance(found, InvalidScalar) and kind != "extra_forbidden":
        return found.describe()
    if kind == "bool_type":
        if isinstance(found, str) and found.strip().lower() in YAML_WORDS:
            return (f"expected true or false, got {found!r}: YAML's yes/no/on/off are text here, "
                    "write true or false")
        return f"expected true or false, got {_shown(found)}"
    if kind == "int_type":
        if isinstance(found, str):
            return f"expected a whole number, got the text {_shown(found)}: write the number without quotes"
        return f"expected a whole number, got {_shown(found)}"
    if kind == "string_type" and isinstance(found, dt.date):
        return f"expected text, got a YAML date ({found.isoformat()}): put it in quotes"
    return message


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:40] + "..."


def _is_type_tag(part: int | str) -> bool:
    # Pydantic inserts tags such as "function-after[...]" for validators; they are not field names.
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


@dataclass(frozen=True)
class RuleIssue:
    """One problem in a rule pack: ``rules/file.yaml:LINE: rule ID: what is wrong``."""

    file: str
    line: int
    rule_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        who = f" rule {self.rule_id}:" if self.rule_id else ""
        return f"{where}:{who} {self.message}"


class RulePackError(BaygateError):
    """A rule pack set with any error is refused whole; this lists every error found."""

    code = "baygate.bad-rule-pack"

    def __init__(self, issues: list[RuleIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))

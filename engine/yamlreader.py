"""YAML requests read fast and strictly: libyaml's C parser (through PyYAML) for the events, and a
small builder here that turns them into plain data.

Why not ruamel.yaml's loader, which reads the rule packs: it is pure Python, 60-100 KB/s here, so a
request list near the size limit took 30 s and more. Why not PyYAML's own ``CSafeLoader``: only its
scanner and parser are C; its composer and constructor are Python and build a node tree first (7 s
for 2.4 MB), and it reads YAML 1.1 (``yes`` is true, ``012`` octal, ``1:20`` a number). The builder
reads the event stream once (2.4 MB in about a second) and:

- resolves plain scalars by the YAML 1.2 core schema with ruamel's own table of resolvers
  (``ruamel.yaml.resolver.implicit_resolvers``) and dates with ruamel's timestamp reader, so a
  request means what it meant under ruamel: ``yes`` is text (refused by a flag with a hint), dates
  are dates;
- refuses aliases (no "billion laughs": nothing is ever copied), nesting deeper than the limit
  (before the next level is built), duplicate keys, a second document, collections as keys, and
  tags other than YAML's standard ones (``!!python/...`` never runs anything);
- puts an :class:`engine.strict.InvalidScalar` where a value cannot be built (``2026-02-30``,
  hour 25, an integer of more than 4,300 digits, ``!!binary``, ``!!set``), so validation names its
  field.

Errors are :class:`YamlRefused` with the 1-based line.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

import yaml
from ruamel.yaml.resolver import implicit_resolvers
from ruamel.yaml.util import create_timestamp, timestamp_regexp
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from engine.errors import COLLECTION_KEY_REFUSED
from engine.strict import InvalidScalar

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (its wheels are); the pure one otherwise."""

TAG = "tag:yaml.org,2002:"
MAX_INT_DIGITS = 4300


class YamlRefused(Exception):
    """The text is not YAML we read, at ``line`` (1-based; 0 when unknown)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _core_schema() -> dict[str | None, list[tuple[str, re.Pattern[str]]]]:
    """ruamel's YAML 1.2 implicit resolvers by first character, as its VersionedResolver builds them
    (compiled here once: ruamel's lazy wrapper costs an attribute lookup per match)."""
    table: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            compiled = re.compile(regexp.pattern, regexp.flags)
            for char in [*first] if first else [None]:
                table.setdefault(char, []).append((tag.removeprefix(TAG), compiled))
    return table


_RESOLVERS = _core_schema()
_ANY_FIRST = _RESOLVERS.get(None, [])


@functools.lru_cache(maxsize=4096)
def _resolve(value: str) -> str:
    """The YAML 1.2 core-schema type of a plain scalar: null, bool, int, float, timestamp or str
    (cached: a request list repeats the same words and numbers)."""
    for kind, regexp in _RESOLVERS.get(value[:1], []) + _ANY_FIRST:
        if regexp.match(value):
            return kind
    return "str"


def _int(text: str) -> int | InvalidScalar:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    base = {"0b": 2, "0x": 16, "0o": 8}.get(digits[:2].lower(), 10)
    if base != 10:
        digits = digits[2:]
    if len(digits) > MAX_INT_DIGITS:
        return InvalidScalar.of(text, "number", f"more than {MAX_INT_DIGITS:,} digits")
    try:
        return sign * int(digits, base)
    except ValueError:
        return InvalidScalar.of(text, "number", "not a whole number")


def _float(text: str) -> float | InvalidScalar:
    lowered = text.replace("_", "").lower()
    if lowered in (".inf", "+.inf"):
        return float("inf")
    if lowered == "-.inf":
        return float("-inf")
    if lowered == ".nan":
        return float("nan")
    try:
        return float(lowered)
    except ValueError:
        return InvalidScalar.of(text, "number", "not a number")


def _timestamp(text: str) -> dt.date | dt.datetime | InvalidScalar:
    match = timestamp_regexp.match(text)
    if match is None:
        return InvalidScalar.of(text, "date", "not a date (YYYY-MM-DD)")
    try:
        stamp: dt.date | dt.datetime = create_timestamp(**match.groupdict())
    except (ValueError, OverflowError) as exc:
        reason = str(exc)
        if reason.startswith("offset must be"):
            reason = "a UTC offset must be less than 24 hours"
        return InvalidScalar.of(text, "date", reason)
    return stamp


def _bool(text: str) -> bool | InvalidScalar:
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    return InvalidScalar.of(text, "value", "not true or false")


def _not_accepted(what: str) -> Any:
    return lambda text: InvalidScalar.of(text, "value", f"YAML {what} are not accepted in requests")


_BUILD: dict[str, Any] = {
    "str": str, "null": lambda _text: None, "bool": _bool, "int": _int, "float": _float, "timestamp": _timestamp,
    "merge": str, "value": str,
    "binary": _not_accepted("binary values (!!binary)"),
}
_NOT_COLLECTIONS = {"set": "sets (!!set)", "omap": "ordered maps (!!omap)", "pairs": "pairs (!!pairs)"}


PYTHON_NONE = "None"
"""Python's spelling of no value, which YAML reads as the text 'None': refused when written plain. A
request printed from Python (``print(request)``) would otherwise name a population 'None' and count
two data sets of unnamed populations as one."""


def _scalar(event: ScalarEvent) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        kind = _resolve(event.value) if event.implicit[0] and tag is None else "str"
        if kind == "str" and event.value == PYTHON_NONE and not event.style:  # plain, not quoted
            return InvalidScalar.of(event.value, "value", "write null for no value (or leave the key out), "
                                                          "or 'None' in quotes for the text")
    elif tag.startswith(TAG) and tag[len(TAG):] in _BUILD:
        kind = tag[len(TAG):]
    else:
        raise YamlRefused(_line(event), f"the tag {tag} is not accepted in requests")
    return _BUILD[kind](event.value)


def _line(event: Any) -> int:
    mark = getattr(event, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else 0


def _check_collection_tag(event: MappingStartEvent | SequenceStartEvent) -> str | None:
    """None for a plain collection; the reason for a YAML type no request takes."""
    tag = event.tag
    if tag is None or tag == "!" or tag in (TAG + "map", TAG + "seq"):
        return None
    if tag.startswith(TAG) and tag[len(TAG):] in _NOT_COLLECTIONS:
        return f"YAML {_NOT_COLLECTIONS[tag[len(TAG):]]} are not accepted in requests"
    raise YamlRefused(_line(event), f"the tag {tag} is not accepted in requests")


_NO_KEY: Any = object()


class _Open:
    """A mapping or a list being built, and for a mapping the key waiting for its value."""

    __slots__ = ("key", "key_line", "refused", "value")

    def __init__(self, value: dict[Any, Any] | list[Any], refused: str | None) -> None:
        self.value = value
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.refused = refused


def load(text: str, max_depth: int) -> Any:
    """One YAML document -> plain data (see the module docstring); raises YamlRefused."""
    stack: list[_Open] = []
    root: Any = None
    documents = 0
    try:
        for event in yaml.parse(text, Loader=LOADER):
            if isinstance(event, ScalarEvent):
                value = _scalar(event)
            elif isinstance(event, MappingStartEvent | SequenceStartEvent):
                if len(stack) >= max_depth:
                    raise YamlRefused(_line(event), f"nesting deeper than {max_depth} levels")
                opened: dict[Any, Any] | list[Any] = {} if isinstance(event, MappingStartEvent) else []
                stack.append(_Open(opened, _check_collection_tag(event)))
                continue
            elif isinstance(event, MappingEndEvent | SequenceEndEvent):
                closed = stack.pop()
                value = closed.value if closed.refused is None else InvalidScalar.of(
                    "(collection)", "value", closed.refused)
            elif isinstance(event, AliasEvent):
                raise YamlRefused(_line(event), "YAML aliases (*name) are not accepted in requests")
            elif isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlRefused(_line(event), "more than one YAML document (---): a file holds one request "
                                      "or one list of requests")
                continue
            else:
                continue
            if not stack:
                root = value
                continue
            _place(stack[-1], value, event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlRefused(int(mark.line) + 1 if mark is not None else 0,
                          f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlRefused(0, f"invalid YAML: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    return root


def _place(parent: _Open, value: Any, event: Any) -> None:
    container = parent.value
    if isinstance(container, list):
        container.append(value)
        return
    if parent.key is _NO_KEY:
        if isinstance(value, dict | list):
            raise YamlRefused(_line(event), COLLECTION_KEY_REFUSED)
        parent.key, parent.key_line = value, _line(event)
        return
    if parent.key in container:
        raise YamlRefused(parent.key_line, f"duplicate key {parent.key!r}: which one counts would be a guess")
    container[parent.key] = value
    parent.key = _NO_KEY

"""Where in a request file a field is written: the line of each field path, for error messages
(``transfer.yaml:14: data[0].subjects: must be at least 1 ...``).

Looked up only when a request is refused, from the text itself, with libyaml's event parser (PyYAML's
C parser: a 2.4 MB file in about a second), so reading a valid request costs nothing more. JSON is YAML
here too (a JSON document is a YAML flow collection), so both kinds of file get lines. A field that
is not written at all (a required field left out) gets the line of the mapping that should hold it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import yaml
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
)

from engine.errors import FieldProblem, InputError

Path = tuple[int | str, ...]

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def parse_path(text: str) -> Path:
    """``data[1].subjects`` -> ``("data", 1, "subjects")`` (the form engine.errors.field_path writes)."""
    parts: list[int | str] = []
    for index, name in _PART.findall(text):
        parts.append(int(index) if index else name)
    return tuple(parts)


@dataclass
class _Frame:
    path: Path
    mapping: bool
    index: int = 0
    key: str | None = None
    lines: dict[Path, int] = field(default_factory=dict)


def field_lines(text: str, wanted: Iterable[Path]) -> dict[Path, int]:
    """The 1-based line of each wanted path: where its key is written, or for a list item where the item
    starts; a path not written gets the line of its nearest written parent. Paths with no line at all
    (the text does not parse) are left out."""
    wanted = set(wanted)
    if not wanted:
        return {}
    prefixes = {path[:length] for path in wanted for length in range(len(path) + 1)}
    found: dict[Path, int] = {}
    stack: list[_Frame] = []
    try:
        for event in yaml.parse(text, Loader=LOADER):
            if isinstance(event, MappingEndEvent | SequenceEndEvent):
                stack.pop()
                _advance(stack)
                continue
            if not isinstance(event, NodeEvent):
                continue
            line = event.start_mark.line + 1 if event.start_mark is not None else 0
            if stack and stack[-1].mapping and stack[-1].key is None:
                # a key: its value's path is known from here on; the key's line names the field
                key = event.value if isinstance(event, ScalarEvent) else "?"
                stack[-1].key = str(key)
                path = (*stack[-1].path, stack[-1].key)
                if path in prefixes:
                    found[path] = line
                if isinstance(event, CollectionStartEvent):  # a complex key: skip its content
                    stack.append(_Frame((*path, "?key"), isinstance(event, MappingStartEvent)))
                continue
            path = _value_path(stack)
            if path in prefixes and path not in found:
                found[path] = line
            if isinstance(event, CollectionStartEvent):
                stack.append(_Frame(path, isinstance(event, MappingStartEvent)))
            elif isinstance(event, ScalarEvent | AliasEvent):
                _advance(stack)
    except yaml.YAMLError:
        pass
    result = {}
    for path in wanted:
        for length in range(len(path), -1, -1):
            if path[:length] in found:
                result[path] = found[path[:length]]
                break
    return result


def _value_path(stack: list[_Frame]) -> Path:
    if not stack:
        return ()
    top = stack[-1]
    return (*top.path, top.key if top.mapping else top.index)  # type: ignore[arg-type]


def _advance(stack: list[_Frame]) -> None:
    """A value ended: a mapping waits for its next key, a sequence moves to its next item."""
    if not stack:
        return
    top = stack[-1]
    if top.mapping:
        top.key = None
    else:
        top.index += 1


def with_lines(error: InputError, text: str, prefix: Path = ()) -> InputError:
    """The same error with each problem's line in ``text`` (paths within the item at ``prefix``, the
    item's index in a list file)."""
    located = field_lines(text, [(*prefix, *parse_path(problem.path)) for problem in error.problems])
    problems = [FieldProblem(problem.path, problem.message,
                             problem.line or located.get((*prefix, *parse_path(problem.path))))
                for problem in error.problems]
    return InputError(error.source, problems)


def text_of(raw: bytes) -> str:
    return raw.decode("utf-8-sig", errors="replace")

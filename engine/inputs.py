"""Read transfer requests from YAML or JSON text: one request or a list of them.

Every problem is reported with the source and the field path (``req.yaml: data[1].subjects: ...``;
for a list, ``req.yaml: [2].purpose: ...``) and never as a traceback. YAML aliases are refused
(no "billion laughs"), as are deep nesting, non-UTF-8 bytes and oversized input.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from engine.errors import FieldProblem, InputError, problems_from_validation
from engine.models import TransferRequest

MAX_INPUT_BYTES = 20_000_000
MAX_DEPTH = 32


def _depth(node: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(node, dict):
        return max((_depth(v, level + 1) for v in node.values()), default=level)
    if isinstance(node, list):
        return max((_depth(v, level + 1) for v in node), default=level)
    return level


class _NoAliasYAML(YAML):
    pass


def parse_document(raw: bytes, source: str) -> Any:
    """Bytes -> plain Python data, refusing what no request needs."""
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(source, [FieldProblem("", f"input is larger than {MAX_INPUT_BYTES} bytes")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(source, [FieldProblem("", f"line {line}: input is not valid UTF-8")]) from None
    if not text.strip():
        raise InputError(source, [FieldProblem("", "input is empty")])
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except RecursionError:
            raise InputError(source, [FieldProblem("", f"nesting deeper than {MAX_DEPTH} levels")]) from None
        except json.JSONDecodeError as exc:
            if stripped.startswith("{") or exc.pos > 0:
                raise InputError(source, [FieldProblem("", f"line {exc.lineno}: invalid JSON: {exc.msg}")]) from None
            data = _load_yaml(text, source)
    else:
        data = _load_yaml(text, source)
    if _depth(data) > MAX_DEPTH:
        raise InputError(source, [FieldProblem("", f"nesting deeper than {MAX_DEPTH} levels")])
    return data


def _load_yaml(text: str, source: str) -> Any:
    yaml = _NoAliasYAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = False
    # One pass over the events before anything is built, stopping at the first alias or at too deep a
    # nesting: building first would expand an alias bomb, and the recursive composer overflows the
    # stack on deep nesting (the scanner is slow on thousands of open brackets, so stop early).
    depth = 0
    try:
        for event in yaml.parse(io.StringIO(text)):
            kind = type(event).__name__
            if kind == "AliasEvent":
                raise InputError(source, [FieldProblem("", "YAML aliases (*name) are not accepted in requests")])
            if kind in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(source, [FieldProblem("", f"nesting deeper than {MAX_DEPTH} levels")])
            elif kind in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
    except YAMLError as exc:
        raise InputError(source, [FieldProblem("", _yaml_problem(exc))]) from None
    try:
        return yaml.load(text)
    except YAMLError as exc:
        raise InputError(source, [FieldProblem("", _yaml_problem(exc))]) from None


def _yaml_problem(exc: YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"line {mark.line + 1}: invalid YAML: {problem}" if mark is not None else f"invalid YAML: {problem}"


def _normalise(node: Any) -> Any:
    """YAML timestamps with a time part become dates; other values pass through."""
    if isinstance(node, dict):
        return {k: _normalise(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    if isinstance(node, dt.datetime):
        return node.date()
    return node


def requests_from_data(data: Any, source: str) -> tuple[list[TransferRequest], bool]:
    """Validate one request or a list; returns (requests, was_a_list). All problems are raised together."""
    data = _normalise(data)
    is_list = isinstance(data, list)
    items = data if is_list else [data]
    if is_list and not items:
        raise InputError(source, [FieldProblem("", "the list of requests is empty")])
    requests: list[TransferRequest] = []
    problems: list[FieldProblem] = []
    for index, item in enumerate(items):
        prefix: tuple[int | str, ...] = (index,) if is_list else ()
        if not isinstance(item, dict):
            problems.append(FieldProblem(f"[{index}]" if is_list else "", "a request must be a mapping"))
            continue
        try:
            requests.append(TransferRequest.model_validate(item))
        except ValidationError as exc:
            problems += problems_from_validation(exc, prefix)
    if problems:
        raise InputError(source, problems)
    return requests, is_list


def load_requests(raw: bytes, source: str) -> tuple[list[TransferRequest], bool]:
    return requests_from_data(parse_document(raw, source), source)

"""Read transfer requests from YAML or JSON text: one request or a list of them.

Every problem is reported with the source and the field path (``req.yaml: data[1].subjects: ...``;
for a list, ``req.yaml: [2].purpose: ...``) and never as a traceback. Refused: YAML aliases (no
"billion laughs"), deep nesting, non-UTF-8 bytes, oversized input, duplicate keys in JSON as in YAML.
A value that cannot be built (an impossible YAML date or time, an integer of more than 4,300 digits,
a YAML ``!!binary`` or ``!!set``) reaches validation as an ``InvalidScalar``, so the error names its
field (``engine.strict``). YAML is read by ``engine.yamlreader`` (libyaml's parser: a 2.4 MB list in
about a second); JSON by the standard library, with a hook that refuses duplicate keys.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from engine import source_lines, yamlreader
from engine.errors import FieldProblem, InputError, field_path, problems_from_validation
from engine.models import TransferRequest
from engine.strict import InvalidScalar

MAX_INPUT_BYTES = 20_000_000
MAX_DEPTH = 32
MAX_INT_DIGITS = yamlreader.MAX_INT_DIGITS
"""Python's own limit on converting text to an integer (``sys.get_int_max_str_digits``)."""


class DuplicateKey(ValueError):
    """A JSON object with the same key twice: which one counts would be a guess. ``key`` is its path
    (``data[1].subjects``) once :func:`loads_json` has found it."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def problem(self) -> FieldProblem:
        return FieldProblem(self.key, "this key appears twice in one object: which one counts would be a guess")


class _Repeated:
    """Stands for the value of a key seen twice, while looking for where that was."""


def _mark_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        mapping[key] = _Repeated() if key in mapping else value
    return mapping


def _path_of_repeated(node: Any, path: tuple[int | str, ...] = ()) -> tuple[int | str, ...] | None:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if isinstance(value, _Repeated):
            return (*path, key)
        found = _path_of_repeated(value, (*path, key))
        if found is not None:
            return found
    return None


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return mapping


_NO_DUPLICATES = json.JSONDecoder(object_pairs_hook=_refuse_duplicates)


def _bounded_int(text: str) -> int | InvalidScalar:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        return InvalidScalar.of(text, "number", f"more than {MAX_INT_DIGITS:,} digits")
    return int(text)


def _check_pairs(pairs: list[tuple[str, Any]]) -> None:
    if len(dict(pairs)) != len(pairs):
        raise DuplicateKey("")


def has_duplicate_keys(text: str | bytes) -> bool:
    """Whether a JSON text has an object with a key twice, without building its data (each object
    becomes None as soon as it is checked): for a caller that then parses it with another parser.
    Raises ValueError when it is not JSON the standard parser reads."""
    try:
        json.loads(text, object_pairs_hook=_check_pairs)
    except DuplicateKey:
        return True
    return False


def loads_json(text: str | bytes) -> Any:
    """JSON -> Python data, refusing duplicate keys (``DuplicateKey``). An integer of more than 4,300
    digits becomes an ``InvalidScalar`` (the standard parser would raise without saying where)."""
    try:
        if isinstance(text, bytes) and text[:1] in (b"{", b"["):
            # What json.loads does with UTF-8 bytes (no BOM: the first byte is JSON's), without making a
            # decoder and sniffing the encoding on every call (6 us of a dry run's 17, measured)
            return _NO_DUPLICATES.decode(text.decode("utf-8", "surrogatepass"))
        if isinstance(text, str) and text[:1] in ("{", "["):  # the same for a text (a list file's line)
            return _NO_DUPLICATES.decode(text)
        return json.loads(text, object_pairs_hook=_refuse_duplicates)
    except DuplicateKey as exc:  # rare: read again to name the key by its path
        marked = json.loads(text, object_pairs_hook=_mark_duplicates, parse_int=_bounded_int)
        path = _path_of_repeated(marked)
        raise DuplicateKey(field_path(path) if path else exc.key) from None
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError) or "digits" not in str(exc):
            raise
    return json.loads(text, object_pairs_hook=_refuse_duplicates, parse_int=_bounded_int)


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
            data = loads_json(text)
        except RecursionError:
            raise InputError(source, [FieldProblem("", f"nesting deeper than {MAX_DEPTH} levels")]) from None
        except DuplicateKey as exc:
            raise InputError(source, [exc.problem()]) from None
        except json.JSONDecodeError as exc:
            as_json = f"line {exc.lineno}: invalid JSON: {exc.msg}"
            if _flow_yaml(text, source, exc):
                try:
                    return _load_yaml(text, source)
                except InputError as refused:
                    raise InputError(source, [FieldProblem("", f"{problem.message} (read as JSON, {as_json})")
                                              for problem in refused.problems]) from None
            if stripped.startswith("{") or exc.pos > 0:
                raise InputError(source, [FieldProblem("", as_json)]) from None
            return _load_yaml(text, source)
        # The depth is at most the number of opening brackets: only a text with more can be too deep
        # (a request has a dozen or two; walking each one's every node took 15 us of a list file's line)
        if text.count("{") + text.count("[") > MAX_DEPTH and _depth(data) > MAX_DEPTH:  # YAML's reader refuses it
            raise InputError(source, [FieldProblem("", f"nesting deeper than {MAX_DEPTH} levels")])
        return data
    return _load_yaml(text, source)


def _flow_yaml(text: str, source: str, refused: json.JSONDecodeError) -> bool:
    """Whether a mapping JSON refused is a .yaml file in YAML's flow style (``{reference: X, ...}``):
    JSON stopped at its first key, unquoted. Any later error is JSON's to report: a JSON document
    with a typo (``"subjects": 100,000``) would otherwise be read by YAML as something else."""
    return (source.lower().endswith((".yaml", ".yml")) and refused.msg.startswith("Expecting property name")
            and text[:refused.pos].strip() == "{")


def _depth(node: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(node, dict):
        return max((_depth(v, level + 1) for v in node.values()), default=level)
    if isinstance(node, list):
        return max((_depth(v, level + 1) for v in node), default=level)
    return level


def _load_yaml(text: str, source: str) -> Any:
    try:
        return yamlreader.load(text, MAX_DEPTH)
    except yamlreader.YamlRefused as refused:
        where = f"line {refused.line}: " if refused.line else ""
        raise InputError(source, [FieldProblem("", where + refused.message)]) from None


def requests_from_data(data: Any, source: str) -> tuple[list[TransferRequest], bool]:
    """Validate one request or a list; returns (requests, was_a_list). All problems are raised together."""
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


def items_from_data(data: Any, source: str) -> tuple[list[TransferRequest | InputError], bool]:
    """Validate one request or a list item by item (DESIGN section 6: a list file is decided item by
    item): each item is its request, or the InputError naming its problems (paths within the item).
    Returns (items, was_a_list); a document that is no request at all raises InputError."""
    is_list = isinstance(data, list)
    items = data if is_list else [data]
    if is_list and not items:
        raise InputError(source, [FieldProblem("", "the list of requests is empty")])
    results: list[TransferRequest | InputError] = []
    for index, item in enumerate(items):
        where = f"{source}[{index}]" if is_list else source
        if not isinstance(item, dict):
            results.append(InputError(where, [FieldProblem("", "a request must be a mapping")]))
            continue
        try:
            results.append(TransferRequest.model_validate(item))
        except ValidationError as exc:
            results.append(InputError(where, problems_from_validation(exc)))
    return results, is_list


def load_requests(raw: bytes, source: str) -> tuple[list[TransferRequest], bool]:
    """Every request of a file, or one InputError naming each problem's field path and line."""
    try:
        return requests_from_data(parse_document(raw, source), source)
    except InputError as error:
        if any(problem.path for problem in error.problems):
            raise source_lines.with_lines(error, source_lines.text_of(raw)) from None
        raise

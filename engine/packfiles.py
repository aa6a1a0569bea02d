"""Rule pack files: which files of a folder are packs, and reading each one with line numbers.

A pack folder is configuration that can reach every worker of a service, so reading it refuses, with
``file:line`` and never a traceback:

- entries that are not regular files (a FIFO would hang the reader, a device never ends), by name,
  rather than skipping them silently (a pack set without that pack would then pass);
- links that lead outside the folder (``rules/x.yaml -> /etc/shadow``): never read, so never echoed;
- files over the size limit, checked before reading;
- YAML anchors and aliases (no "billion laughs") and nesting deeper than the limit, as the events
  reach the composer;
- values YAML cannot build: an impossible date or time (``2026-02-30``, hour 25), an integer of more
  than 4,300 digits, each named with its line instead of an exception without one.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import YAMLError
from ruamel.yaml.parser import RoundTripParser

from engine.errors import COLLECTION_KEY_REFUSED, RuleIssue, RulePackError
from engine.files import FileRefused, check_inside, read_regular_file

MAX_PACK_BYTES = 2_000_000
MAX_NESTING = 40
PACK_SUFFIXES = (".yaml", ".yml")


class _Refused(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _GuardedParser(RoundTripParser):
    """Refuses anchors and aliases ("billion laughs"; legal YAML of no use in a rule pack) and nesting
    deeper than MAX_NESTING as the events are handed to the composer: before any node is built, so an
    alias bomb is never expanded and deep nesting never reaches the recursive composer's stack limit,
    at no cost to a normal pack (no second pass)."""

    _depth = 0

    def get_event(self) -> Any:
        event = super().get_event()
        kind = type(event).__name__
        if kind == "AliasEvent" or getattr(event, "anchor", None):
            raise _Refused(int(event.start_mark.line) + 1, "YAML anchors and aliases are not allowed in rule packs")
        if kind in ("MappingStartEvent", "SequenceStartEvent"):
            self._depth += 1
            if self._depth > MAX_NESTING:
                raise _Refused(int(event.start_mark.line) + 1, f"nesting deeper than {MAX_NESTING} levels")
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            self._depth -= 1
        return event


def _with_line(kind: str, build: Any) -> Any:
    """A constructor that names the line of a value it cannot build (Python raises without one)."""

    def construct(constructor: RoundTripConstructor, node: Any) -> Any:
        try:
            return build(constructor, node)
        except (ValueError, OverflowError) as exc:
            reason = str(exc)
            if "digits" in reason:
                reason = "more than 4,300 digits"
            elif reason.startswith("offset must be"):
                reason = "a UTC offset must be less than 24 hours"
            # the line says where; the value itself is not repeated (the file may not even be a pack)
            raise _Refused(int(node.start_mark.line) + 1, f"not a valid {kind}: {reason}") from None

    return construct


class _GuardedConstructor(RoundTripConstructor):
    """The round-trip constructor (line numbers kept), naming values it cannot build with their line."""

    def check_mapping_key(self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any) -> bool:
        """A key holding a list or mapping inside a list (``[[a]]: 1``) cannot be looked up: ruamel
        raises TypeError, which would end a load in a traceback. No rule pack has such a key: refused
        with its line (found by the whole suite's fuzzing of pack texts, 6 December)."""
        try:
            hash(key)
        except TypeError:
            raise _Refused(int(key_node.start_mark.line) + 1, COLLECTION_KEY_REFUSED) from None
        return bool(super().check_mapping_key(node, key_node, mapping, key, value))


_GuardedConstructor.add_constructor("tag:yaml.org,2002:timestamp",
                                    _with_line("date", RoundTripConstructor.construct_yaml_timestamp))
_GuardedConstructor.add_constructor("tag:yaml.org,2002:int",
                                    _with_line("number", RoundTripConstructor.construct_yaml_int))
_GuardedConstructor.add_constructor("tag:yaml.org,2002:float",
                                    _with_line("number", RoundTripConstructor.construct_yaml_float))


def _depth(node: Any, level: int = 0) -> int:
    if level > MAX_NESTING:
        return level
    if isinstance(node, Mapping):
        return max((_depth(v, level + 1) for v in node.values()), default=level)
    if isinstance(node, list):
        return max((_depth(v, level + 1) for v in node), default=level)
    return level


def pack_files(root: Path) -> list[Path]:
    """The ``*.yaml`` and ``*.yml`` entries under ``root`` (sorted), whatever their kind: reading refuses
    those that are not regular files, so none is silently left out (a folder named ``x.yaml`` is a
    folder, not a pack)."""
    return sorted(path for path in root.rglob("*")
                  if path.suffix in PACK_SUFFIXES and not (path.is_dir() and not path.is_symlink()))


def read_yaml(path: Path, display: str, root: Path | None = None) -> tuple[Any, list[RuleIssue]]:
    """Parse one YAML file (see the module docstring); ``root``: the pack folder it must stay inside."""
    try:
        if root is not None:
            check_inside(path, root)
        raw = read_regular_file(path, MAX_PACK_BYTES)
    except FileRefused as exc:
        return None, [RuleIssue(display, 0, None, exc.reason)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [RuleIssue(display, raw[: exc.start].count(b"\n") + 1, None, "file is not valid UTF-8")]
    document, issues = _parse(display, text)
    return document, list(issues)


@functools.lru_cache(maxsize=64)
def _parse(display: str, text: str) -> tuple[Any, tuple[RuleIssue, ...]]:
    """One pack text parsed, cached by its name and text: ruamel's pure round-trip parser takes about
    0.3 s for the shipped packs, and a process that loads them again (a reload, a test, a replay of
    many pack sets) mostly finds the same texts. The documents are read, never changed, by the pack
    loader (it builds its own records), so sharing them is safe; keep it so."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.Parser = _GuardedParser
    yaml.Constructor = _GuardedConstructor
    try:
        document = yaml.load(text)
    except _Refused as refused:
        return None, (RuleIssue(display, refused.line, None, refused.message),)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        error_line = int(mark.line) + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, (RuleIssue(display, error_line, None, f"YAML syntax error: {problem}"),)
    if document is None:  # an empty (e.g. truncated) file must not pass as a set without that pack
        return None, (RuleIssue(display, 1, None,
                                "the file is empty: a rule pack is a mapping with pack, version, title and rules"),)
    if _depth(document) > MAX_NESTING:
        return None, (RuleIssue(display, 1, None, f"nesting deeper than {MAX_NESTING} levels"),)
    return document, ()


def looks_like_pack(document: Any) -> bool:
    """A mapping with a ``pack`` key: only then are its parts named in errors. Anything else in the
    folder (a stray configuration file, a link's target) is refused without echoing what it holds."""
    return isinstance(document, Mapping) and "pack" in document



def snapshot(root: Path, into: Path) -> Path:
    """Copy the pack files of ``root`` into ``into/<root's name>``, each read once (regular files inside
    the folder only, size-bounded), and return the copy: a reload validates, publishes and installs that
    one copy, so a file rewritten meanwhile cannot make the set published differ from the set checked.
    A file that cannot be read (not regular, a link out, too large) refuses the set (RulePackError)."""
    if not root.is_dir():
        raise RulePackError([RuleIssue(str(root), 0, None, "rule folder does not exist")])
    target = into / root.name
    target.mkdir(parents=True, exist_ok=False)
    issues: list[RuleIssue] = []
    for path in pack_files(root):
        relative = path.relative_to(root)
        display = str(Path(root.name) / relative)
        try:
            check_inside(path, root)
            data = read_regular_file(path, MAX_PACK_BYTES)
        except FileRefused as exc:
            issues.append(RuleIssue(display, 0, None, exc.reason))
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_bytes(data)
    if issues:
        raise RulePackError(issues)
    return target

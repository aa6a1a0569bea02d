"""NDJSON list files (``.ndjson``, ``.jsonl``: one request a line) for large ``submit`` and ``evaluate``
runs (issue 21 point 6).

A JSON or YAML list file is parsed whole (at most ``engine.inputs.MAX_INPUT_BYTES``) and validated before
anything is decided. A file of hundreds of thousands of requests is better read as it is decided: one
line at a time, each line refused alone (naming the file and its line) or decided, so memory holds the
group being recorded, whatever the size of the file. The file itself is checked when the command
starts (a regular file that can be read), so a missing file is still named before any decision.
Blank lines are skipped; each line is read like a one-request JSON file (``engine.inputs``: duplicate
keys refused, nesting bounded), at most ``MAX_LINE_BYTES``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from engine.errors import BaygateError, FieldProblem, InputError
from engine.files import FileRefused, kind_of
from engine.inputs import items_from_data, parse_document
from engine.models import TransferRequest

NDJSON_SUFFIXES = (".ndjson", ".jsonl")
MAX_LINE_BYTES = 1_000_000
"""A request is a few kilobytes; a longer line is refused (and the file read on from the next)."""


def is_ndjson(name: str) -> bool:
    return name != "-" and Path(name).suffix.lower() in NDJSON_SUFFIXES


def check_file(name: str) -> None:
    """FileRefused unless ``name`` is a regular file this process can open."""
    try:
        found = os.stat(name)
    except OSError as exc:
        raise FileRefused(name, f"cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(found.st_mode):
        raise FileRefused(name, f"{kind_of(found.st_mode)}, not a regular file: not read")
    if not os.access(name, os.R_OK):
        raise FileRefused(name, "cannot read: Permission denied")


def read_items(name: str) -> Iterator[TransferRequest | InputError]:
    """The file's requests in order, read as they are asked for: each its request or the InputError
    naming the file's line (``line 12: ...``). A file that cannot be read on the way raises
    FileRefused; one with no request at all yields one InputError."""
    try:
        handle = open(name, "rb")  # noqa: SIM115 (a generator: closed in finally)
    except OSError as exc:
        raise FileRefused(name, f"cannot read: {exc.strerror}") from None
    found = 0
    try:
        for number, line in enumerate(_lines(handle), start=1):
            if line is None:
                found += 1
                yield _at_line(name, number, [FieldProblem("", f"longer than {MAX_LINE_BYTES} bytes")])
                continue
            if not line.strip():
                continue
            found += 1
            if not line.lstrip().startswith((b"{", b"[", b"\xef\xbb\xbf{")):  # JSON only, never read as YAML
                yield _at_line(name, number, [FieldProblem("", "not a JSON object (NDJSON: one JSON object a line)")])
                continue
            try:
                items, was_list = items_from_data(parse_document(line, name), name)
            except InputError as exc:
                yield _at_line(name, number, exc.problems)
                continue
            except BaygateError as exc:
                yield _at_line(name, number, [FieldProblem("", str(exc))])
                continue
            if was_list:  # NDJSON holds one request a line
                yield _at_line(name, number, [FieldProblem("", "one request a line (a JSON object), not a list")])
                continue
            item = items[0]
            yield _at_line(name, number, item.problems) if isinstance(item, InputError) else item
    except OSError as exc:
        raise FileRefused(name, f"cannot read: {exc.strerror}") from None
    finally:
        handle.close()
    if not found:
        yield InputError(name, [FieldProblem("", "the file holds no request (NDJSON: one JSON object a line)")])


def _at_line(name: str, number: int, problems: list[FieldProblem]) -> InputError:
    """The line's problems, each saying which line of the file (``line 12: data[0].subjects: ...``)."""
    return InputError(name, [FieldProblem("", f"line {number}: {problem}") for problem in problems])


def _lines(handle: BinaryIO) -> Iterator[bytes | None]:
    """Lines of at most MAX_LINE_BYTES; None in place of a longer one (the rest of it skipped)."""
    readline = handle.readline
    while True:
        line = readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:  # skip to the end of the over-long line
                rest = readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
            continue
        yield line

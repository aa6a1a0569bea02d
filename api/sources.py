"""The request files of ``evaluate`` and ``submit``: named files, folders of them, or ``-`` (standard
input), read safely (``engine.files``: regular files only, the size checked before reading) and split
into items, each a request or its problem (DESIGN section 6: a list file is decided item by item).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from api import ndjson
from engine import source_lines
from engine.errors import BaygateError, FieldProblem, InputError
from engine.files import FileRefused, read_regular_file, read_stream
from engine.inputs import MAX_INPUT_BYTES, items_from_data, parse_document
from engine.models import TransferRequest

REQUEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "<stdin>"


@dataclass
class Source:
    """One file's requests in order, or the error that refused the whole file. A large list file
    (NDJSON, ``api.ndjson``) keeps no items: ``stream`` reads them as they are asked for."""

    name: str
    items: list[TransferRequest | InputError] = field(default_factory=list)
    was_list: bool = False
    error: BaygateError | None = None
    stream: Callable[[], Iterator[TransferRequest | InputError]] | None = None

    def entries(self) -> Iterator[TransferRequest | InputError]:
        """The items in order (read from the file as they come for a streamed source)."""
        return self.stream() if self.stream is not None else iter(self.items)

    def index(self, position: int) -> int | None:
        """The item's index as shown (``file[2]``), or None for a file of one request."""
        return position if self.was_list else None


def expand(names: list[str]) -> list[str | Source]:
    """Folders become their request files (sorted); a folder with none is a refused Source."""
    expanded: list[str | Source] = []
    for name in names:
        path = Path(name)
        if name != "-" and path.is_dir():
            found = sorted(str(p) for p in path.iterdir() if p.suffix in REQUEST_SUFFIXES)
            if not found:
                expanded.append(Source(name, error=InputError(name, [FieldProblem(
                    "", "folder holds no .yaml, .yml or .json request")])))
            expanded += found
        else:
            expanded.append(name)
    return expanded


def read_source(name: str) -> Source:
    """One file (or ``-``) read and validated item by item; never raises for bad input."""
    shown = STDIN if name == "-" else name
    if ndjson.is_ndjson(name):
        try:
            ndjson.check_file(name)
        except FileRefused as exc:
            return Source(shown, error=InputError(exc.path, [FieldProblem("", exc.reason)]))
        return Source(shown, was_list=True, stream=lambda: ndjson.read_items(name))
    try:
        raw = (read_stream(sys.stdin.buffer, MAX_INPUT_BYTES, STDIN) if name == "-"
               else read_regular_file(name, MAX_INPUT_BYTES))
        items, was_list = items_from_data(parse_document(raw, shown), shown)
        if any(isinstance(item, InputError) for item in items):
            text = source_lines.text_of(raw)
            items = [source_lines.with_lines(item, text, (index,) if was_list else ())
                     if isinstance(item, InputError) else item for index, item in enumerate(items)]
    except FileRefused as exc:
        return Source(shown, error=InputError(exc.path, [FieldProblem("", exc.reason)]))
    except BaygateError as exc:
        return Source(shown, error=exc)
    return Source(shown, items, was_list)


def read_sources(names: list[str]) -> list[Source]:
    """Every file read and validated before anything is decided (so a missing file is named before
    any decision is printed); each keeps its items in order."""
    return [entry if isinstance(entry, Source) else read_source(entry) for entry in expand(names)]


def count_requests(sources: list[Source]) -> int:
    """The requests in ``sources`` (a streamed file counts as one: its size is not known before reading)."""
    return sum(len(source.items) if source.error is None and source.stream is None else 1 for source in sources)


def single_request(sources: list[Source]) -> bool:
    """One request from a one-request file: JSON prints the decision object alone (DESIGN section 6)."""
    return (len(sources) == 1 and sources[0].error is None and not sources[0].was_list and sources[0].stream is None
            and len(sources[0].items) == 1)

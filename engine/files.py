"""Reading the files a user names (requests, rule packs, options) without hanging, flooding memory or
leaking what another file holds.

- Only regular files are read. A FIFO would block ``open`` or ``read`` forever (``evaluate`` hung on
  one); a device such as ``/dev/zero`` never ends (read until MemoryError). The kind is checked with
  ``stat`` before opening, and again with ``fstat`` on the descriptor opened non-blocking, so a file
  swapped for a FIFO in between cannot block either.
- The size is checked before reading (``fstat``), and no more than the limit plus one byte is read,
  so a file that grows while read is still bounded.
- A symbolic link inside a folder of rule packs may not point outside the folder: ``rules/x.yaml ->
  /etc/shadow`` is refused by name, and its content is never read, let alone echoed in an error.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from engine.errors import BaygateError


class FileRefused(BaygateError):
    """A file that is not read: not a regular file, too large, outside its folder, or unreadable.
    The message names the file and why; never its content."""

    code = "baygate.file-refused"

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file(path: str | Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; FileRefused otherwise."""
    try:
        before = os.stat(path)
    except OSError as exc:
        raise FileRefused(path, f"cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(before.st_mode):
        raise FileRefused(path, f"{kind_of(before.st_mode)}, not a regular file: not read")
    if before.st_size > limit:
        raise FileRefused(path, f"larger than {limit} bytes ({before.st_size}): not read")
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise FileRefused(path, f"cannot read: {exc.strerror}") from None
    try:
        opened = os.fstat(descriptor)
        if not stat.S_ISREG(opened.st_mode):
            raise FileRefused(path, f"{kind_of(opened.st_mode)}, not a regular file: not read")
        if opened.st_size > limit:
            raise FileRefused(path, f"larger than {limit} bytes ({opened.st_size}): not read")
        with os.fdopen(descriptor, "rb", closefd=True) as handle:
            descriptor = -1
            data = handle.read(limit + 1)
    except OSError as exc:
        raise FileRefused(path, f"cannot read: {exc.strerror}") from None
    finally:
        if descriptor >= 0:
            os.close(descriptor)
    if len(data) > limit:
        raise FileRefused(path, f"larger than {limit} bytes: not read")
    return data


def check_inside(path: Path, root: Path) -> None:
    """Refuse a file of a folder that is, or passes through, a link leading outside the folder."""
    try:
        real_root = root.resolve(strict=True)
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # a dangling link, or a loop of links
        raise FileRefused(path, f"cannot be followed ({getattr(exc, 'strerror', None) or exc}): not read") from None
    if real != real_root and real_root not in real.parents:
        raise FileRefused(path, "a link that leads outside the folder: not read")


def read_stream(stream: BinaryIO, limit: int, name: str) -> bytes:
    """Standard input, read up to ``limit`` bytes (one more to tell that it is over)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(name, f"larger than {limit} bytes: not read further")
    return data

"""Rule pack texts stored by digest, so any recorded decision can be replayed under exactly its packs.

Choice (documented in the ledger's notes): we store the YAML file's text as it was loaded, not a
re-serialisation. The text keeps comments and line numbers (a replay reports the same file:line), and
it is self-verifying: parsing it and taking the pack digest the way ``engine.rulespec`` does gives back
the digest it is stored under; ``audit verify`` checks exactly that. A re-serialised form would lose
the YAML types (dates) that the pack loader needs.

The engine does not remember its folder, so the text is found from ``Pack.file`` (the file path
relative to the rules folder's parent) under the folders this process can know of, and accepted only
when its digest matches.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from pathlib import Path

from ruamel.yaml import YAML

from engine.config import SHIPPED_RULES, rules_directory
from engine.files import FileRefused, read_regular_file
from engine.ledger.errors import PackContentUnavailable
from engine.packfiles import MAX_PACK_BYTES
from engine.rulespec import Pack, pack_digest


@functools.lru_cache(maxsize=64)
def digest_of_text(text: str, loader: str = "safe") -> str | None:
    """The pack digest of a YAML text, computed as ``engine.rulespec`` computes it; None if unparsable.

    ``safe`` (libyaml, ten times faster) gives the same plain values as the pack loader's round-trip
    parser for every pack we know; ``text_has_digest`` falls back to ``rt`` should they ever differ.
    Cached by text: ``verify`` checks every stored pack on every call.
    """
    try:
        document = YAML(typ=loader).load(io.StringIO(text))
    except Exception:  # any YAML error means the text is not the pack we stored
        return None
    return pack_digest(document)


def text_has_digest(text: str, digest: str) -> bool:
    """Whether this YAML text is the pack with this digest."""
    return digest_of_text(text, "safe") == digest or digest_of_text(text, "rt") == digest


def candidate_paths(pack: Pack, extra_dirs: Iterable[Path | str]) -> list[Path]:
    """Where the file of ``pack`` may be: each known rules folder's parent joined with ``pack.file``."""
    folders = [Path(d) for d in extra_dirs] + [rules_directory(), SHIPPED_RULES]
    seen: list[Path] = []
    relative = Path(pack.file)
    for folder in folders:
        for base in (folder.parent, folder):
            candidate = relative if relative.is_absolute() else base / relative
            if candidate not in seen:
                seen.append(candidate)
        # the folder itself may have been renamed since the pack was loaded: try by name inside it
        inside = folder / Path(*relative.parts[1:]) if len(relative.parts) > 1 else folder / relative
        if inside not in seen:
            seen.append(inside)
    seen.append(Path.cwd() / relative)
    return seen


def pack_text(pack: Pack, extra_dirs: Iterable[Path | str] = ()) -> str:
    """The YAML text whose digest is ``pack.digest``, or PackContentUnavailable naming where we looked."""
    tried = candidate_paths(pack, extra_dirs)
    for path in tried:
        try:  # a regular file only: a FIFO put where a pack was would block the reader
            text = read_regular_file(path, MAX_PACK_BYTES).decode("utf-8")
        except (FileRefused, UnicodeDecodeError):
            continue
        if text_has_digest(text, pack.digest):
            return text
    raise PackContentUnavailable(
        f"rule pack {pack.name} {pack.version} ({pack.digest}): no file with this digest found "
        f"(looked at {', '.join(str(p) for p in tried)}); pass the rules folder to the Ledger "
        "(Ledger(url, rules_dirs=[...])) or set BAYGATE_RULES, so that the decision can be replayed later")

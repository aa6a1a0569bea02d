"""Digests of packs and pack sets: what every decision names (``rules.digest``) and what the ledger
stores pack texts by. One definition, used by loading and by the ledger when it reads stored texts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from engine.canonical_json import canonical
from engine.rulespec.yamlnodes import plain


def pack_digest(document: Any) -> str:
    """A pack's digest: sha256 of the canonical form of its parsed document (comments and layout
    do not count). The ledger recomputes it from stored texts, so there is one definition."""
    return "sha256:" + hashlib.sha256(canonical(plain(document)).encode()).hexdigest()

def pack_set_digest(members: Iterable[tuple[str, str]]) -> str:
    """A pack set's digest from its packs' (name, digest) pairs, whatever their order."""
    return "sha256:" + hashlib.sha256(canonical(sorted(members)).encode()).hexdigest()

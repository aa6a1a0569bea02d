"""API keys and roles (issue 6): who may call which route.

Keys come from ``BAYGATE_API_KEYS`` (``role=key,role=key``) or the file named by
``BAYGATE_API_KEYS_FILE`` (the same pairs, separated by commas or new lines, ``#`` comments). Only
SHA-256 digests of the keys are kept, and a presented key is compared with every configured digest
with ``hmac.compare_digest``, without stopping at the first match, so neither the comparison time nor
an exception message nor a log line tells anything about a key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.errors import BaygateError

SUBMITTER = "submitter"
AUDITOR = "auditor"
RULES_ADMIN = "rules_admin"
ROLES = (SUBMITTER, AUDITOR, RULES_ADMIN)
MIN_KEY_LENGTH = 16
"""A shorter key can be guessed; refusing it at start-up is cheaper than finding out later."""


class KeyConfigError(BaygateError):
    """The key configuration cannot be used; the message never contains a key."""

    code = "baygate.bad-key-config"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True)
class KeyRing:
    """Configured keys as (role, sha256 digest) pairs; empty means the service runs unguarded."""

    entries: tuple[tuple[str, bytes], ...] = ()

    @property
    def configured(self) -> bool:
        return bool(self.entries)

    def roles_for(self, presented: str) -> frozenset[str]:
        """Every role the key carries (one key may be given several roles); empty when unknown."""
        candidate = _digest(presented)
        roles = set()
        for role, digest in self.entries:
            if hmac.compare_digest(candidate, digest):
                roles.add(role)
        return frozenset(roles)

    def __repr__(self) -> str:  # never show digests either
        return f"KeyRing({len(self.entries)} keys)"


def parse_pairs(text: str, source: str) -> KeyRing:
    """``role=key`` pairs separated by commas or new lines; ``#`` starts a comment line."""
    entries: list[tuple[str, bytes]] = []
    lines = [line for line in text.splitlines() if not line.strip().startswith("#")]
    for number, item in enumerate(part.strip() for line in lines for part in line.split(",")):
        if not item:
            continue
        role, sep, key = item.partition("=")
        role, key = role.strip(), key.strip()
        if not sep or not key:
            raise KeyConfigError(f"{source}: entry {number + 1} is not role=key")
        if role not in ROLES:
            raise KeyConfigError(f"{source}: entry {number + 1}: unknown role {role!r} "
                                 f"(expected one of {', '.join(ROLES)})")
        if len(key) < MIN_KEY_LENGTH:
            raise KeyConfigError(f"{source}: entry {number + 1} ({role}): key shorter than "
                                 f"{MIN_KEY_LENGTH} characters")
        entries.append((role, _digest(key)))
    return KeyRing(tuple(entries))


def load_keys(environ: Mapping[str, str]) -> KeyRing:
    """Keys from the environment variable and the key file together."""
    rings: list[KeyRing] = []
    if environ.get("BAYGATE_API_KEYS"):
        rings.append(parse_pairs(environ["BAYGATE_API_KEYS"], "BAYGATE_API_KEYS"))
    path = environ.get("BAYGATE_API_KEYS_FILE")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise KeyConfigError(f"BAYGATE_API_KEYS_FILE: cannot read {path}: {exc.strerror}") from None
        rings.append(parse_pairs(text, path))
    return KeyRing(tuple(entry for ring in rings for entry in ring.entries))


def keys_from(pairs: Iterable[tuple[str, str]]) -> KeyRing:
    """For tests and embedding: a key ring from (role, key) pairs, checked like the environment's."""
    return parse_pairs(",".join(f"{role}={key}" for role, key in pairs), "keys")


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def is_loopback(host: str) -> bool:
    """Whether an address to bind to or a client address is on this machine only."""
    host = host.strip("[]")
    return host in LOOPBACK_HOSTS or host.startswith("127.")

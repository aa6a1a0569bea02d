"""API keys, their names and roles (issues 6 and 19): who may call which route, and who acted.

Keys come from ``BAYGATE_API_KEYS`` and from the file named by ``BAYGATE_API_KEYS_FILE``. Each entry
(entries are separated by new lines or commas; ``#`` starts a comment line) is either

- ``name role key``: a named key (the file's usual form), e.g. ``etl-pipeline submitter 8f1c...``;
- ``role=key``: the earlier form, still accepted. Such a key is named ``key-`` and the first eight
  hex digits of its SHA-256 (``key-1a2b3c4d``): a stable name, the same for each role the key is given,
  that tells nothing usable about the key.

One key may carry several roles (several entries with the same name and key). The name is what the
ledger records as the actor of every event the key causes (``key:NAME``), so a name stands for one
key: the same name with two keys, or one key under two names, is refused at start-up.

Only SHA-256 digests of the keys are kept, and a presented key is compared with every configured digest
with ``hmac.compare_digest``, without stopping at the first match, so neither the comparison time nor
an exception message nor a log line tells anything about a key.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.errors import BaygateError
from engine.files import FileRefused, read_regular_file

SUBMITTER = "submitter"
AUDITOR = "auditor"
RULES_ADMIN = "rules_admin"
ROLES = (SUBMITTER, AUDITOR, RULES_ADMIN)
MAX_KEY_FILE_BYTES = 1_000_000
MIN_KEY_LENGTH = 16
"""A shorter key can be guessed; refusing it at start-up is cheaper than finding out later."""
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
"""A key's name: what the ledger records as the actor, so short, printable and without spaces."""


class KeyConfigError(BaygateError):
    """The key configuration cannot be used; the message never contains a key."""

    code = "baygate.bad-key-config"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True)
class KeyEntry:
    """One configured key and one of its roles (a key with several roles has several entries)."""

    name: str
    role: str
    digest: bytes


@dataclass(frozen=True)
class Caller:
    """Who presented a known key: its name and every role it carries."""

    name: str
    roles: frozenset[str]


@dataclass(frozen=True)
class KeyRing:
    """Configured keys; empty means the service runs unguarded."""

    entries: tuple[KeyEntry, ...] = ()

    @property
    def configured(self) -> bool:
        return bool(self.entries)

    @functools.cached_property
    def callers(self) -> tuple[tuple[bytes, Caller], ...]:
        """Each configured digest with its caller (name and every role of that key), made once: a
        request then compares digests only, without building sets or callers."""
        roles: dict[bytes, set[str]] = {}
        names: dict[bytes, str] = {}
        for entry in self.entries:
            roles.setdefault(entry.digest, set()).add(entry.role)
            names[entry.digest] = entry.name
        return tuple((digest, Caller(names[digest], frozenset(roles[digest]))) for digest in roles)

    def identify(self, presented: str) -> Caller | None:
        """The caller a presented key belongs to, or None when it is not known. Every digest is
        compared (``hmac.compare_digest``), the loop never stopping at a match."""
        candidate = _digest(presented)
        found: Caller | None = None
        for digest, caller in self.callers:
            if hmac.compare_digest(candidate, digest):
                found = caller
        return found

    def roles_for(self, presented: str) -> frozenset[str]:
        """Every role the key carries (one key may be given several roles); empty when unknown."""
        caller = self.identify(presented)
        return caller.roles if caller is not None else frozenset()

    def __repr__(self) -> str:  # never show digests either
        return f"KeyRing({len(self.entries)} keys)"


def parse_entries(text: str, source: str) -> KeyRing:
    """``name role key`` or ``role=key`` entries, separated by commas or new lines; ``#`` comments."""
    entries: list[KeyEntry] = []
    lines = [line for line in text.splitlines() if not line.strip().startswith("#")]
    for number, item in enumerate(part.strip() for line in lines for part in line.split(",")):
        if not item:
            continue
        where = f"{source}: entry {number + 1}"
        words = item.split()
        if len(words) == 3 and "=" not in words[0] + words[1]:
            name, role, key = words
            if not NAME_PATTERN.match(name):
                raise KeyConfigError(f"{where}: the name {name[:70]!r} is not 1-64 letters, digits or ._@- "
                                     "(starting with a letter or digit)")
        elif "=" in item:
            role, _, key = item.partition("=")
            role, key = role.strip(), key.strip()
            name = f"key-{_digest(key).hex()[:8]}"  # the same for every role the key is given
        else:
            raise KeyConfigError(f"{where} is neither 'name role key' nor role=key")
        if not key:
            raise KeyConfigError(f"{where} is not role=key")
        if role not in ROLES:
            raise KeyConfigError(f"{where}: unknown role {role!r} (expected one of {', '.join(ROLES)})")
        if len(key) < MIN_KEY_LENGTH:
            raise KeyConfigError(f"{where} ({role}): key shorter than {MIN_KEY_LENGTH} characters")
        entries.append(KeyEntry(name, role, _digest(key)))
    return KeyRing(tuple(entries))


def parse_pairs(text: str, source: str) -> KeyRing:
    """The earlier name of :func:`parse_entries` (``role=key`` pairs are still one of its forms)."""
    return parse_entries(text, source)


def _one_name_one_key(ring: KeyRing) -> KeyRing:
    """The actor a key is recorded as must name that key alone."""
    by_name: dict[str, bytes] = {}
    by_key: dict[bytes, str] = {}
    for entry in ring.entries:
        if by_name.setdefault(entry.name, entry.digest) != entry.digest:
            raise KeyConfigError(f"API keys: the name {entry.name!r} is given to two different keys; each name "
                                 "stands for one key (it is what the ledger records as the actor)")
        if by_key.setdefault(entry.digest, entry.name) != entry.name:
            raise KeyConfigError(f"API keys: one key is named both {by_key[entry.digest]!r} and {entry.name!r}; "
                                 "give it one name (one line per role, same name)")
    return ring


def load_keys(environ: Mapping[str, str]) -> KeyRing:
    """Keys from the environment variable and the key file together."""
    rings: list[KeyRing] = []
    if environ.get("BAYGATE_API_KEYS") is not None and environ["BAYGATE_API_KEYS"] != "":
        rings.append(_not_blank(parse_entries(environ["BAYGATE_API_KEYS"], "BAYGATE_API_KEYS"), "BAYGATE_API_KEYS"))
    path = environ.get("BAYGATE_API_KEYS_FILE")
    if path is not None and path.strip() == "" and path != "":
        raise KeyConfigError("BAYGATE_API_KEYS_FILE is blank: name the key file, or unset it")
    if path:
        try:
            text = read_regular_file(path, MAX_KEY_FILE_BYTES).decode("utf-8")
        except FileRefused as exc:
            raise KeyConfigError(f"BAYGATE_API_KEYS_FILE: {exc}") from None
        except UnicodeDecodeError:
            raise KeyConfigError(f"BAYGATE_API_KEYS_FILE: {path} is not UTF-8 text") from None
        rings.append(_not_blank(parse_entries(text, path), f"BAYGATE_API_KEYS_FILE ({path})"))
    return _one_name_one_key(KeyRing(tuple(entry for ring in rings for entry in ring.entries)))


def _not_blank(ring: KeyRing, source: str) -> KeyRing:
    """A key setting that is set but holds no key (``"   "``, ``",,,"``, a file of comments) is refused:
    read as "no keys", it would serve every route without a key."""
    if not ring.configured:
        raise KeyConfigError(f"{source} is set but holds no key (role=key pairs): refusing to serve every "
                             "route without a key; unset it to serve this machine only, without keys")
    return ring


def keys_from(pairs: Iterable[tuple[str, str]]) -> KeyRing:
    """For tests and embedding: a key ring from (role, key) pairs, checked like the environment's."""
    return _one_name_one_key(parse_entries(",".join(f"{role}={key}" for role, key in pairs), "keys"))


def named_keys(entries: Iterable[tuple[str, str, str]]) -> KeyRing:
    """For tests and embedding: a key ring from (name, role, key) entries, checked like the file's."""
    return _one_name_one_key(parse_entries("\n".join(" ".join(entry) for entry in entries), "keys"))


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def is_loopback(host: str) -> bool:
    """Whether an address to bind to or a client address is on this machine only."""
    host = host.strip("[]")
    return host in LOOPBACK_HOSTS or host.startswith("127.")

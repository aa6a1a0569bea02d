"""Ed25519 signatures of the audit chain's committed heads (issue 19 point 1): the anchor that needs no
copy of anything kept elsewhere, only the public key.

Why: the chain's hashes are computed by anyone, so an insider with write access to the database who
deletes a submission from the middle and re-hashes every later event leaves a chain that verifies.
With a signing key configured (``BAYGATE_SIGNING_KEY_FILE``: an Ed25519 private key in PEM, readable
by its owner only), every transaction that appends to the chain also stores a signature of the head
it commits: ``(seq, hash)`` signed as :func:`head_message` says. Any later event links to that hash,
so one signature per commit covers every event up to it; a rewrite of any event by someone without
the key changes every later head, whose stored signatures then no longer match (``audit verify
--public-key FILE``: :mod:`engine.ledger.anchors`).

What it does not catch, and the docs say: a truncation back to an earlier signed head, or a rollback
to an older copy of the database (both end on a head that was signed); and an insider who also holds
the private key. Checkpoints kept elsewhere answer the first; nothing in the database answers the second.

The private key is read from its file into this process only: it never enters the database, a log
line or an error message. The database holds the public key (``chain_signing_keys`` and the
``signing_key`` event announcing it in the chain) and the signatures (``chain_signatures``).
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine.errors import ConfigError
from engine.ledger.errors import LedgerError

SIGNING_KEY_ENV = "BAYGATE_SIGNING_KEY_FILE"
ALGORITHM = "ed25519"


class SigningKeyError(ConfigError):
    """A signing or public key file that cannot be used (a setting: exit 3); the message never contains
    key material."""

    code = "baygate.bad-signing-key"


class SigningKeyRequired(LedgerError):
    """A write to a ledger whose chain is signed, by a process without the signing key: refused, since
    its unsigned head would make ``audit verify --public-key`` report the ledger as tampered with."""

    code = "baygate.signing-key-required"
    http_status = 503


def head_message(seq: int, head_hash: str) -> bytes:
    """What is signed for a committed head: a fixed label (no other protocol's message can be taken for
    it), the position and the hash."""
    return f"baygate audit chain head v1\n{seq}\n{head_hash}".encode("ascii")


def key_id(public_raw: bytes) -> str:
    """A short, stable name of a public key: the first 16 hex digits of the SHA-256 of its raw bytes."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def encoded_key_id(public_b64: str) -> str | None:
    """The key id of a public key as the chain records it (base64 of the raw bytes); None if it is not one."""
    try:
        return key_id(base64.b64decode(public_b64, validate=True))
    except ValueError:
        return None


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class ChainSigner:
    """The service's signing key, held in memory only."""

    _private: Ed25519PrivateKey
    key_id: str
    public_raw: bytes

    @classmethod
    def of(cls, private: Ed25519PrivateKey) -> ChainSigner:
        public_raw = _raw(private.public_key())
        return cls(private, key_id(public_raw), public_raw)

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode("ascii")

    def sign(self, seq: int, head_hash: str) -> str:
        """The base64 signature of a head (what ``chain_signatures.signature`` holds)."""
        return base64.b64encode(self._private.sign(head_message(seq, head_hash))).decode("ascii")

    def __repr__(self) -> str:  # never the key
        return f"ChainSigner(key_id={self.key_id})"


def load_signer(environ: Mapping[str, str] | None = None) -> ChainSigner | None:
    """The signing key named by ``BAYGATE_SIGNING_KEY_FILE``, or None when none is configured."""
    env = os.environ if environ is None else environ
    name = env.get(SIGNING_KEY_ENV, "").strip()
    if not name:
        return None
    path = Path(name)
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"{SIGNING_KEY_ENV}: cannot read {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(f"{SIGNING_KEY_ENV}: {path} can be read by other users (mode "
                              f"{stat.S_IMODE(mode):04o}); make it readable by its owner only (chmod 600)")
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(f"{SIGNING_KEY_ENV}: {path} is not an unencrypted PEM private key") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(f"{SIGNING_KEY_ENV}: {path} holds a private key of another kind; an Ed25519 key is "
                              "needed (openssl genpkey -algorithm ed25519)")
    return ChainSigner.of(private)


@dataclass(frozen=True)
class PublicKey:
    """A public key an auditor holds (``audit verify --public-key FILE``)."""

    key_id: str
    source: str
    key: Ed25519PublicKey

    def verifies(self, seq: int, head_hash: str, signature_b64: str) -> bool:
        try:
            signature = base64.b64decode(signature_b64, validate=True)
            self.key.verify(signature, head_message(seq, head_hash))
        except (InvalidSignature, ValueError):
            return False
        return True


def load_public_keys(paths: Iterable[str | Path]) -> dict[str, PublicKey]:
    """Public keys from PEM files (the ``-----BEGIN PUBLIC KEY-----`` form ``openssl pkey -pubout``
    writes), by key id. Raises SigningKeyError naming the file."""
    found: dict[str, PublicKey] = {}
    for name in paths:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SigningKeyError(f"--public-key {path}: cannot read: {exc.strerror}") from None
        public = public_key_from_pem(data, f"--public-key {path}", str(path))
        found[public.key_id] = public
    return found


def public_key_from_pem(data: bytes, where: str, source: str) -> PublicKey:
    """One public key in PEM (a file's bytes, or a verify job's ``public_keys`` item); SigningKeyError
    naming ``where``."""
    try:
        public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise SigningKeyError(f"{where}: not a PEM public key (-----BEGIN PUBLIC KEY-----)") from None
    if not isinstance(public, Ed25519PublicKey):
        raise SigningKeyError(f"{where}: a public key of another kind; the chain is signed with Ed25519 keys")
    ident = key_id(_raw(public))
    return PublicKey(ident, source, public)


def announced_key(ident: str, public_b64: str) -> PublicKey:
    """A public key as the chain announces it (``chain_signing_keys``: base64 of the raw 32 bytes). A
    value that is not one yields a key that verifies nothing (verify then names the signature)."""
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))
    except ValueError:
        public = Ed25519PrivateKey.generate().public_key()  # matches no signature ever made
    return PublicKey(ident, "the chain's announcement", public)


def public_key_pem(signer: ChainSigner) -> str:
    """The PEM of a signer's public key (what an auditor is given)."""
    public = Ed25519PublicKey.from_public_bytes(signer.public_raw)
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

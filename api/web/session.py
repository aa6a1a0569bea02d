"""Who is looking at the page: sign-in with an API key, the session cookie, CSRF tokens.

Where keys are configured a person signs in with their API key once; the page then keeps a session
cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Secure when
served over HTTPS, signed with a secret every worker shares (``BAYGATE_SESSION_SECRET_FILE``, or
``BAYGATE_SESSION_SECRET``; ``baygate serve`` makes one for its workers when neither is set, so
sessions then end when the service restarts). The cookie holds no key: a fingerprint of the key's
digest, its name, and the CSRF token. Every request looks the fingerprint up in the configured keys,
so a key removed from the configuration signs its sessions out at the next restart.

The cookie authorises the page's own routes only; no ``/v1`` route reads it (they take
``Authorization: Bearer``), so no API call can be made with it. Every form and every request the page
makes with htmx that changes anything carries the session's CSRF token (a form field, or the
``X-CSRF-Token`` header), compared in constant time. A visitor who has not signed in (or a service
without keys) still gets a session cookie holding only a CSRF token, so the sign-in form itself and
every form of a keyless loopback service are protected too.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from api.http.security import ROLES, KeyRing
from engine.errors import BaygateError
from engine.ledger.actors import LOOPBACK, Actor, key_actor

log = logging.getLogger("baygate.web")

SESSION_COOKIE = "baygate_session"
SESSION_SECONDS = 12 * 3600
"""A working day: a session older than this is asked to sign in again."""
SECRET_ENV = "BAYGATE_SESSION_SECRET"
SECRET_FILE_ENV = "BAYGATE_SESSION_SECRET_FILE"
MIN_SECRET_LENGTH = 32
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
OPEN_NAME = "loopback"
"""Who acts on a service without keys (loopback only): recorded as ``loopback``, as the API records it."""


class SessionConfigError(BaygateError):
    code = "baygate.bad-session-config"


def session_secret(environ: Mapping[str, str]) -> str:
    """The shared signing secret: from the file, else the variable, else a fresh one for this process
    (``baygate serve`` sets the variable for all its workers before they start)."""
    path = environ.get(SECRET_FILE_ENV)
    if path:
        try:
            secret = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SessionConfigError(f"{SECRET_FILE_ENV}: cannot read {path}: {exc.strerror}") from None
        source = SECRET_FILE_ENV
    else:
        secret, source = environ.get(SECRET_ENV, ""), SECRET_ENV
        if not secret:
            log.warning("no %s or %s: sessions are signed with a secret of this process only",
                        SECRET_FILE_ENV, SECRET_ENV)
            return secrets.token_urlsafe(32)
    if len(secret) < MIN_SECRET_LENGTH:
        raise SessionConfigError(f"{source}: the session secret is shorter than {MIN_SECRET_LENGTH} characters")
    return secret


def _fingerprint(digest: bytes) -> str:
    return hashlib.sha256(b"baygate.web.session\n" + digest).hexdigest()[:32]


def key_identity(keys: KeyRing, presented: str) -> tuple[str, frozenset[str], str] | None:
    """(name, roles, fingerprint) of a presented API key, or None when it is not configured. The name is
    the key's (``name role key`` lines), what the ledger records as ``key:NAME``."""
    caller = keys.identify(presented)
    if caller is None:
        return None
    digest = hashlib.sha256(presented.encode("utf-8")).digest()
    return caller.name, caller.roles, _fingerprint(digest)


def identity_of_fingerprint(keys: KeyRing, fingerprint: str) -> tuple[str | None, frozenset[str]]:
    """The name and roles of the configured key a session's fingerprint names, as configured now (a key
    removed or renamed signs its sessions out or renames them); (None, empty) when it is gone."""
    name: str | None = None
    roles = set()
    for entry in keys.entries:
        if hmac.compare_digest(_fingerprint(entry.digest), fingerprint):
            name = entry.name
            roles.add(entry.role)
    return name, frozenset(roles)


@dataclass(frozen=True)
class Viewer:
    """The person at the page: their key's name and roles, and their session's CSRF token."""

    name: str | None
    roles: frozenset[str]
    csrf: str
    keys_configured: bool

    @property
    def signed_in(self) -> bool:
        return self.name is not None

    def may(self, role: str) -> bool:
        return role in self.roles

    def actor(self, reason: str | None = None) -> Actor:
        """Who the ledger records as acting: ``key:NAME``, or ``loopback`` on a service without keys."""
        if not self.keys_configured or self.name is None:
            return Actor(LOOPBACK, reason)
        return key_actor(self.name, reason)


class Sessions:
    """Signs and reads the session cookie."""

    def __init__(self, secret: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="baygate.web.session")

    def read(self, cookie: str | None, keys: KeyRing) -> tuple[Viewer, dict[str, Any] | None]:
        """The viewer, and the session to write back when it must be (re)issued (else None)."""
        data: dict[str, Any] | None = None
        if cookie:
            try:
                loaded = self.serializer.loads(cookie, max_age=SESSION_SECONDS)
                data = loaded if isinstance(loaded, dict) and isinstance(loaded.get("c"), str) else None
            except BadSignature:  # also an expired one (SignatureExpired is a BadSignature)
                data = None
        issue = data is None
        if data is None:
            data = {"c": secrets.token_urlsafe(24)}
        if not keys.configured:
            return Viewer(OPEN_NAME, frozenset(ROLES), data["c"], False), (data if issue else None)
        fingerprint = data.get("f")
        name, roles = (identity_of_fingerprint(keys, fingerprint) if isinstance(fingerprint, str)
                       else (None, frozenset()))
        if name is None or not roles:
            if fingerprint is not None:  # the key is gone: keep the CSRF token, forget the identity
                data, issue = {"c": data["c"]}, True
            return Viewer(None, frozenset(), data["c"], True), (data if issue else None)
        return Viewer(name, roles, data["c"], True), (data if issue else None)

    def signed_in(self, name: str, fingerprint: str) -> dict[str, Any]:
        """A new session after sign-in, with a new CSRF token (the one before sign-in is not reused)."""
        return {"f": fingerprint, "n": name, "c": secrets.token_urlsafe(24)}

    def dumps(self, data: dict[str, Any]) -> str:
        return self.serializer.dumps(data)


def csrf_ok(viewer: Viewer, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(viewer.csrf.encode(), str(presented).encode())


def secret_for_workers(environ: MutableMapping[str, str]) -> None:
    """``baygate serve``: when no secret is configured, one for all workers of this run."""
    if not environ.get(SECRET_FILE_ENV) and not environ.get(SECRET_ENV):
        environ[SECRET_ENV] = secrets.token_urlsafe(48)


def secure_cookie(scheme: str) -> bool:
    return scheme == "https" or os.environ.get("BAYGATE_SESSION_SECURE") == "1"

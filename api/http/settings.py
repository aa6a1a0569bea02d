"""Settings of one HTTP service process, read once from the environment (or given by tests).

Workers started by uvicorn are separate processes that build their application from the
environment (``create_app_from_env``), so everything a worker needs must be expressible as
environment variables; ``baygate serve`` sets them from its options before starting uvicorn.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.http.security import KeyRing, load_keys
from engine.config import database_url, option_overrides, rules_directory
from engine.errors import ConfigError
from engine.ledger.database import in_memory, parse_url

MAX_BODY_BYTES = 5 * 1024 * 1024
"""A request is a few kilobytes; 5 MB leaves room for a large batch and refuses floods early."""

MAX_BATCH_ITEMS = 10_000
"""Issue 6: up to 10,000 requests a batch call; more is refused with 413 before any is evaluated."""


@dataclass(frozen=True)
class Settings:
    """What the application factory needs; immutable so that no request can change it."""

    rules_dir: Path
    database_url: str
    keys: KeyRing
    options: dict[str, Any] = field(default_factory=dict)
    max_body_bytes: int = MAX_BODY_BYTES
    max_batch_items: int = MAX_BATCH_ITEMS

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Every setting read and checked; a value that cannot be used is a ConfigError naming the
        variable (``baygate serve`` reads them once before starting any worker, so a bad value stops it
        with a one-line reason instead of crash-looping its workers)."""
        env = dict(os.environ if environ is None else environ)
        url = database_url(env.get("BAYGATE_DATABASE_URL") or None)
        parse_url(url)
        if in_memory(url):
            raise ConfigError("BAYGATE_DATABASE_URL names an in-memory SQLite database: the service records "
                              "submissions, and nothing would be kept; give a file or a PostgreSQL URL")
        return cls(
            rules_dir=rules_directory(env.get("BAYGATE_RULES") or None),
            database_url=url,
            keys=load_keys(env),
            options=option_overrides(env),
            max_body_bytes=whole_number(env, "BAYGATE_MAX_BODY_BYTES", MAX_BODY_BYTES, 1024, 1 << 30),
            max_batch_items=whole_number(env, "BAYGATE_MAX_BATCH_ITEMS", MAX_BATCH_ITEMS, 1, 1_000_000),
        )


HEAD_TIMEOUT_SECONDS = 10
MAX_HEAD_BYTES = 32 * 1024
"""A request's line and headers: a bearer key and a few headers are well under 2 KB."""


def head_limits(environ: dict[str, str] | None = None) -> tuple[int, int]:
    """(seconds to receive a request's head, its largest size): ``BAYGATE_HEADER_TIMEOUT_SECONDS`` and
    ``BAYGATE_MAX_HEADER_BYTES``; read by every worker's protocol, checked once by ``baygate serve``."""
    env = dict(os.environ if environ is None else environ)
    return (whole_number(env, "BAYGATE_HEADER_TIMEOUT_SECONDS", HEAD_TIMEOUT_SECONDS, 1, 3600),
            whole_number(env, "BAYGATE_MAX_HEADER_BYTES", MAX_HEAD_BYTES, 1024, 1 << 20))


def whole_number(env: dict[str, str], name: str, default: int, lowest: int, highest: int) -> int:
    """An integer setting within bounds, its default when unset or empty; ConfigError otherwise."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if raw.isascii() and raw.isdigit() and len(raw) <= 12 and lowest <= int(raw) <= highest:
        return int(raw)
    raise ConfigError(f"{name}={raw[:40]!r}: expected a whole number from {lowest:,} to {highest:,}")

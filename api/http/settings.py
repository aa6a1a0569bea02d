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
        env = dict(os.environ if environ is None else environ)
        return cls(
            rules_dir=rules_directory(env.get("BAYGATE_RULES") or None),
            database_url=database_url(env.get("BAYGATE_DATABASE_URL") or None),
            keys=load_keys(env),
            options=option_overrides(env),
            max_body_bytes=int(env.get("BAYGATE_MAX_BODY_BYTES") or MAX_BODY_BYTES),
            max_batch_items=int(env.get("BAYGATE_MAX_BATCH_ITEMS") or MAX_BATCH_ITEMS),
        )

"""Where the pytest-bdd suite finds its features and packs, and what it collects across a run."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"

FEATURES_ENV = "BAYGATE_FEATURES"
"""A folder of .feature files to run instead of features/ (e.g. a compliance officer's drafts)."""


def features_dir() -> Path:
    return Path(os.environ.get(FEATURES_ENV) or REPO / "features").resolve()


FIRED_RULES: set[str] = set()
"""Every rule id that fired in this process (reasons of every decision): the coverage report."""

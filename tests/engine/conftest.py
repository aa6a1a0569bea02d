"""Fixtures for the engine tests: the shipped packs, compiled once per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.evaluator import Engine
from engine.rulespec import PackSet, load_pack_set

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
SCENARIOS = ROOT / "tests" / "data" / "scenarios.yaml"


@pytest.fixture(scope="session")
def pack_set() -> PackSet:
    return load_pack_set(RULES)


@pytest.fixture(scope="session")
def engine(pack_set: PackSet) -> Engine:
    return Engine(pack_set)


def load_scenarios() -> list[dict[str, Any]]:
    return list(yaml.safe_load(SCENARIOS.read_text(encoding="utf-8"))["scenarios"])


def base_request(**overrides: Any) -> dict[str, Any]:
    """A Shenzhen -> Hong Kong request with notice, consent and PIA in place (only the route varies)."""
    request: dict[str, Any] = {
        "reference": "T-1",
        "exporter": {"id": "91440300TEST", "name": "Shenzhen Test Co.", "jurisdiction": "CN", "city": "Shenzhen"},
        "recipient": {"id": "HK-1", "name": "HK Test Ltd", "jurisdiction": "HK"},
        "purpose": "other",
        "planned_date": "2026-12-01",
        "data": [{"kind": "personal", "subjects": 1000}],
        "safeguards": {"separate_consent": True, "notice_given": True, "pia_completed_on": "2026-11-01"},
    }
    request.update(overrides)
    return request

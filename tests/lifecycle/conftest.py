"""Fixtures for the rule lifecycle tests: a SQLite ledger with recorded transfers, pack folders that
differ in one constant, and the ``baygate`` program run as users run it (a subprocess).

Reused: ``tests/ledger/conftest.transfer`` (a request where only the volume decides) and
``tests/http/conftest.start_server`` (a real ``baygate serve``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.evaluator import Engine
from engine.ledger import Ledger
from tests.ledger.conftest import ROOT, transfer

BAYGATE = Path(sys.executable).parent / "baygate"
THRESHOLD_LINE = "        - {fact: ytd.personal_subjects, lt: 100000}\n"


def baygate(*args: str, db: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAYGATE_") or k == "BAYGATE_TOTALS_KEY_FILE"}
    env["BAYGATE_DATABASE_URL"] = f"sqlite:///{db}"
    return subprocess.run([str(BAYGATE), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def lowered_threshold(tmp: Path, name: str = "rules") -> Path:
    """A copy of rules/ whose art. 5(4) de minimis (and the 100,000 band's floor) is 50,000, not 100,000."""
    folder = tmp / name
    shutil.copytree(ROOT / "rules", folder)
    target = folder / "cn-outbound.yaml"
    text = target.read_text(encoding="utf-8")
    assert text.count(THRESHOLD_LINE) == 1 and text.count("{fact: ytd.personal_subjects, gte: 100000}") == 1
    text = text.replace(THRESHOLD_LINE, THRESHOLD_LINE.replace("100000", "50000"))
    text = text.replace("{fact: ytd.personal_subjects, gte: 100000}", "{fact: ytd.personal_subjects, gte: 50000}")
    text = text.replace('version: "', 'version: "lowered-', 1)
    target.write_text(text, encoding="utf-8")
    return folder


SUBMITTED = {  # reference -> (exporter, subjects); 2026, consent, notice and PIA in place, no mechanism
    "SMALL": ("91440300MA5LIFE001", 30_000),      # under 50,000: exempt either way
    "MIDDLE": ("91440300MA5LIFE002", 60_000),     # 50,000-99,999: exempt before, standard contract after
    "LARGE": ("91440300MA5LIFE003", 120_000),     # 100,000 or more: a standard contract either way
    "FIRST": ("91440300MA5LIFE004", 40_000),      # under 50,000 on its own ...
    "SECOND": ("91440300MA5LIFE004", 40_000),     # ... but 80,000 with FIRST: changes (counts replayed)
}
CHANGED_BY_LOWER_THRESHOLD = {"MIDDLE", "SECOND"}


@pytest.fixture(scope="module")
def shipped_engine() -> Engine:
    return Engine.from_directory(ROOT / "rules")


@pytest.fixture
def recorded(tmp_path: Path, shipped_engine: Engine) -> Iterator[Path]:
    """A SQLite ledger holding SUBMITTED, decided under the shipped packs."""
    db = tmp_path / "ledger.db"
    ledger = Ledger(f"sqlite:///{db}", rules_dirs=[ROOT / "rules"])
    try:
        for reference, (exporter, subjects) in SUBMITTED.items():
            ledger.submit(shipped_engine, transfer(reference, subjects, exporter_id=exporter))
    finally:
        ledger.close()
    yield db

"""Fixtures and hooks shared by every feature: the step library, engines, the world, readable ids.

The step library lives in three phrase books (api/spec/phrases_*.py, shared with ``baygate test``),
registered with pytest-bdd by steps_en, steps_zh_hans and steps_zh_hant; pytest-bdd finds steps as
fixtures, so their step fixtures are imported into this conftest's namespace and every test module
under tests/bdd (and every feature) can use any of them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.spec.world import World
from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.rulespec import load_pack_set

from . import steps_en, steps_zh_hans, steps_zh_hant
from .paths import FIRED_RULES, RULES, features_dir
from .rule_coverage import FIRED_LOG_ENV

for _book in (steps_en, steps_zh_hans, steps_zh_hant):
    globals().update({name: value for name, value in vars(_book).items() if name.startswith("pytestbdd_")})



def pytest_configure(config: pytest.Config) -> None:
    """Register the features' tags as markers. (Chinese scenario ids stay readable, [附条件] rather
    than [\\u9644...], by the ini option pyproject.toml sets.)"""
    for tag in feature_tags():
        config.addinivalue_line("markers", f"{tag}: a tag used in the features")


def feature_tags() -> set[str]:
    """Tags written in the features (@cn-03, @wip ...): pytest-bdd turns them into marks, and the
    project runs with --strict-markers, so they are registered here instead of in code per tag."""
    tags: set[str] = set()
    for path in features_dir().rglob("*.feature"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("@"):
                tags.update(word.lstrip("@") for word in line.split() if word.startswith("@"))
    return tags


@pytest.fixture(scope="session")
def engine_for() -> Callable[[dict[str, Any]], Engine]:
    """One engine per set of pack options, built once per run (packs compile once per process)."""
    cache: dict[str, Engine] = {}

    def build(options: dict[str, Any]) -> Engine:
        key = json.dumps(options, sort_keys=True)
        if key not in cache:
            cache[key] = Engine.from_directory(RULES, options=options)
        return cache[key]

    return build


@pytest.fixture
def world(engine_for: Callable[[dict[str, Any]], Engine], tmp_path: Path) -> Iterator[World]:
    """A fresh scenario; its ledger, if it uses one, is a new SQLite file in the scenario's tmp_path."""
    def open_ledger() -> Ledger:
        return Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")

    scenario_world = World(engine_for=engine_for, ledger_factory=open_ledger, fired=FIRED_RULES)
    yield scenario_world
    close = getattr(scenario_world.ledger, "close", None) or getattr(scenario_world.ledger, "dispose", None)
    if callable(close):
        close()


def shipped_rules() -> list[str]:
    """Every rule id of the packs in rules/ (not the engine's own fail-closed reason)."""
    return [rule.id for rule in load_pack_set(RULES).rules]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """After a run of the features, list the shipped rules that no scenario reached."""
    if not FIRED_RULES:
        return
    unreached = [rule for rule in shipped_rules() if rule not in FIRED_RULES]
    log = os.environ.get(FIRED_LOG_ENV)
    if log:
        Path(log).write_text(json.dumps(sorted(FIRED_RULES)), encoding="utf-8")
    terminalreporter.write_sep("-", "baygate rule coverage")
    terminalreporter.write_line(f"rules reached by the scenarios run: {len(shipped_rules()) - len(unreached)}"
                                f" of {len(shipped_rules())}")
    for rule in unreached:
        terminalreporter.write_line(f"  not reached: {rule}")

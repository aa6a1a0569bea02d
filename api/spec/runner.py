"""Run Gherkin features against any rule pack folder (``baygate test``), as ``opa test`` runs policy tests.

The features are parsed and their scenario outlines expanded by gherkin-official (the parser
pytest-bdd uses); each scenario then runs in-process against the packs of the folder given, step by
step, through the same phrase books, handlers and checks as the project's pytest-bdd suite
(api/spec/steps.py and phrases_*.py). Every scenario gets a fresh world and, when it records, its
own SQLite ledger in a temporary folder.

A run fails when a scenario fails (a check that does not hold, a sentence no phrase book knows, a
word no vocabulary knows, a rule id no pack defines), and refuses to pass when it collects nothing:
an empty run proves nothing.
"""

from __future__ import annotations

import difflib
import inspect
import json
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from gherkin.errors import CompositeParserException, ParserError
from gherkin.parser import Parser
from gherkin.pickles.compiler import Compiler
from gherkin.token_scanner import TokenScanner

from api.spec.phrases_en import PHRASES as PHRASES_EN
from api.spec.phrases_zh_hans import PHRASES as PHRASES_ZH_HANS
from api.spec.phrases_zh_hant import PHRASES as PHRASES_ZH_HANT
from api.spec.steps import Phrase
from api.spec.world import World
from engine.errors import BaygateError
from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.rulespec import PackSet

PHRASES: tuple[Phrase, ...] = (*PHRASES_EN, *PHRASES_ZH_HANS, *PHRASES_ZH_HANT)


class SpecError(BaygateError):
    """Features that cannot be run: none found, or a file that is not valid Gherkin (file and line)."""

    code = "baygate.bad-spec"


@dataclass(frozen=True)
class StepResult:
    keyword: str
    text: str
    line: int
    status: str
    """passed, failed, or skipped (after a failed step)."""


@dataclass(frozen=True)
class ScenarioResult:
    feature: str
    """The feature file, as given or found."""
    feature_name: str
    name: str
    line: int
    tags: tuple[str, ...]
    steps: tuple[StepResult, ...]
    message: str | None
    """Why it failed (None when it passed): the step, and what the engine decided instead."""
    seconds: float

    @property
    def passed(self) -> bool:
        return self.message is None

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "feature_name": self.feature_name, "name": self.name, "line": self.line,
                "tags": list(self.tags), "status": "passed" if self.passed else "failed", "message": self.message,
                "seconds": round(self.seconds, 4),
                "steps": [{"keyword": s.keyword, "text": s.text, "line": s.line, "status": s.status}
                          for s in self.steps]}


@dataclass
class RunResult:
    rules_dir: str
    scenarios: list[ScenarioResult] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    """Every rule id of the packs run against."""
    fired: set[str] = field(default_factory=set)
    """Every rule id some decision of the run cited."""

    @property
    def failed(self) -> list[ScenarioResult]:
        return [scenario for scenario in self.scenarios if not scenario.passed]

    @property
    def unreached(self) -> list[str]:
        return [rule for rule in self.rules if rule not in self.fired]

    def as_dict(self) -> dict[str, Any]:
        return {"rules_dir": self.rules_dir, "scenarios": len(self.scenarios),
                "passed": len(self.scenarios) - len(self.failed), "failed": len(self.failed),
                "rules": {"total": len(self.rules), "reached": len(self.rules) - len(self.unreached),
                          "not_reached": self.unreached},
                "results": [scenario.as_dict() for scenario in self.scenarios]}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2)


def feature_files(paths: Iterable[Path]) -> list[Path]:
    """The .feature files named, and those under the folders named (sorted, each once)."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            found.update(dict.fromkeys(sorted(path.rglob("*.feature"))))
        elif path.is_file():
            found[path] = None
        else:
            raise SpecError(f"{path}: no such file or folder")
    return list(found)


@dataclass(frozen=True)
class _Scenario:
    """One runnable scenario (an outline's example row is one), as gherkin's pickles give them."""

    feature: Path
    feature_name: str
    name: str
    line: int
    tags: tuple[str, ...]
    steps: tuple[tuple[str, str, int, list[list[str]] | None], ...]
    """(keyword, text, line, data table rows or None) per step, the Background's first."""


def parse(path: Path) -> list[_Scenario]:
    """The scenarios of one feature file; SpecError naming file and line when it is not Gherkin."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from exc
    try:
        document: dict[str, Any] = cast(dict[str, Any], Parser().parse(TokenScanner(text)))
    except (CompositeParserException, ParserError) as exc:
        raise SpecError(f"{path}: not valid Gherkin: {exc}") from exc
    feature = document.get("feature")
    if not feature:
        return []
    document["uri"] = str(path)
    steps_by_id: dict[str, tuple[str, int]] = {}
    for child in _children(feature):
        for block in ("background", "scenario"):
            for step in (child.get(block) or {}).get("steps", []):
                steps_by_id[step["id"]] = (step["keyword"].strip(), step["location"]["line"])
    scenarios = []
    for pickle in cast(list[dict[str, Any]], Compiler().compile(cast(Any, document))):
        steps = []
        for step in pickle["steps"]:
            keyword, line = steps_by_id.get(step["astNodeIds"][0], ("*", 0))
            table = step.get("argument", {}).get("dataTable")
            rows = [[cell["value"] for cell in row["cells"]] for row in table["rows"]] if table else None
            steps.append((keyword, step["text"], line, rows))
        scenarios.append(_Scenario(path, feature.get("name", ""), pickle["name"], pickle["location"]["line"],
                                   tuple(tag["name"] for tag in pickle.get("tags", [])), tuple(steps)))
    return scenarios


def _children(node: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for child in node.get("children", []):
        yield child
        if "rule" in child:
            yield from _children(child["rule"])


@dataclass(frozen=True)
class _Match:
    phrase: Phrase
    arguments: dict[str, str | None]


_COMPILED = [(phrase, re.compile(phrase.pattern)) for phrase in PHRASES]


def match(text: str) -> _Match | None:
    """The phrase a sentence means (the books are unambiguous: tests/bdd/test_phrasebook.py)."""
    for phrase, pattern in _COMPILED:
        found = pattern.fullmatch(text)
        if found:
            return _Match(phrase, found.groupdict())
    return None


def _unknown_sentence(text: str) -> str:
    examples = [phrase.example for phrase in PHRASES]
    close = difflib.get_close_matches(text, examples, n=3, cutoff=0.4)
    hint = ("; the nearest documented sentences: " + " | ".join(close)) if close else ""
    return f"no phrase book knows this sentence: {text!r}{hint} (features/README.md lists every sentence)"


def _call(found: _Match, world: World, table: list[list[str]] | None) -> None:
    handler = found.phrase.handler
    accepted = inspect.signature(handler).parameters
    arguments: dict[str, Any] = {name: value for name, value in found.arguments.items() if name in accepted}
    if "datatable" in accepted:
        if table is None:
            raise AssertionError("this sentence takes a table below it")
        arguments["datatable"] = table
    handler(world, **arguments)


class _Engines:
    """One engine per set of pack options a run's scenarios ask for; the packs are loaded once."""

    def __init__(self, pack_set: PackSet) -> None:
        self.pack_set = pack_set
        self.cache: dict[str, Engine] = {}

    def __call__(self, options: dict[str, Any]) -> Engine:
        key = json.dumps(options, sort_keys=True, default=str)
        engine = self.cache.get(key)
        if engine is None:
            engine = self.cache[key] = Engine(self.pack_set, options)
        return engine


def run(paths: Iterable[Path], pack_set: PackSet, rules_dir: str,
        on_result: Callable[[ScenarioResult], None] | None = None) -> RunResult:
    """Run every scenario of the features under ``paths`` against ``pack_set``."""
    files = feature_files(paths)
    scenarios = [scenario for path in files for scenario in parse(path)]
    if not scenarios:
        where = ", ".join(str(path) for path in files) or "the paths given"
        raise SpecError(f"no scenario found in {where}: a run that collects nothing proves nothing")
    result = RunResult(rules_dir=rules_dir, rules=[rule.id for rule in pack_set.rules])
    engines = _Engines(pack_set)
    with tempfile.TemporaryDirectory(prefix="baygate-test-") as folder:
        for index, scenario in enumerate(scenarios):
            outcome = _run_one(scenario, engines, Path(folder) / f"ledger-{index}.db", result.fired)
            result.scenarios.append(outcome)
            if on_result is not None:
                on_result(outcome)
    return result


def _run_one(scenario: _Scenario, engines: _Engines, ledger_path: Path, fired: set[str]) -> ScenarioResult:
    started = time.perf_counter()
    world = World(engine_for=engines, ledger_factory=lambda: Ledger(f"sqlite:///{ledger_path}"), fired=fired)
    steps: list[StepResult] = []
    message: str | None = None
    try:
        for keyword, text, line, table in scenario.steps:
            if message is not None:
                steps.append(StepResult(keyword, text, line, "skipped"))
                continue
            found = match(text)
            try:
                if found is None:
                    raise AssertionError(_unknown_sentence(text))
                _call(found, world, table)
            except AssertionError as exc:
                message = f"{scenario.feature}:{line}: {keyword} {text}\n{exc}"
            except Exception as exc:  # an unknown word, a request the contract refuses, a ledger that refuses
                message = f"{scenario.feature}:{line}: {keyword} {text}\n{type(exc).__name__}: {exc}"
            steps.append(StepResult(keyword, text, line, "passed" if message is None else "failed"))
    finally:
        if world.ledger is not None:
            world.ledger.close()
    return ScenarioResult(str(scenario.feature), scenario.feature_name, scenario.name, scenario.line,
                          scenario.tags, tuple(steps), message, time.perf_counter() - started)

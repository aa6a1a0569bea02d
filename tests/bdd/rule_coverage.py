"""Which shipped rules no scenario reaches, and which settled research scenarios no feature covers.

Run it as a command from the repository root:

    .venv/bin/python -m tests.bdd.rule_coverage

It runs every feature (in a separate pytest process, so the numbers come from real evaluations,
not from reading the feature text), collects the rule ids that fired in any decision, and
prints the rules of rules/*.yaml that none reached. It exits non-zero when a rule is not reached,
when a scenario id of tests/data/scenarios.yaml (the research copy) is not tagged in any feature, or when
the run collected no scenario at all.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.rulespec import load_pack_set

from .world import FEATURES_ENV, REPO, RULES, features_dir

FIRED_LOG_ENV = "BAYGATE_BDD_FIRED_LOG"
SHARED_SCENARIOS = REPO / "tests" / "data" / "scenarios.yaml"
"""The project's own copy of ../shared/regulation/scenarios.yaml (DESIGN section 8: tests run from a
plain clone)."""


@dataclass(frozen=True)
class Report:
    """The outcome of one coverage run."""

    shipped: list[str]
    fired: set[str]
    passed: int
    failed: int
    exit_code: int
    output: str

    @property
    def unreached(self) -> list[str]:
        return [rule for rule in self.shipped if rule not in self.fired]


def run(features: Path | None = None) -> Report:
    """Run the features in a child pytest and collect the rule ids their decisions cite."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "fired.json"
        env = dict(os.environ, **{FIRED_LOG_ENV: str(log)})
        if features is not None:
            env[FEATURES_ENV] = str(features)
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", str(REPO / "tests" / "bdd" / "test_features.py"), "-q",
             "-p", "no:cacheprovider", "-p", "no:randomly"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
        fired = set(json.loads(log.read_text(encoding="utf-8"))) if log.exists() else set()
    counts = dict.fromkeys(("passed", "failed"), 0)
    for number, word in re.findall(r"(\d+) (passed|failed)", proc.stdout):
        counts[word] = int(number)
    return Report(shipped=[rule.id for rule in load_pack_set(RULES).rules], fired=fired,
                  passed=counts["passed"], failed=counts["failed"], exit_code=proc.returncode,
                  output=proc.stdout + proc.stderr)


def settled_scenario_ids() -> list[str]:
    """Scenario ids of the research scenarios (the project's copy)."""
    if not SHARED_SCENARIOS.exists():
        return []
    return re.findall(r"^- id: (\S+)", SHARED_SCENARIOS.read_text(encoding="utf-8"), flags=re.MULTILINE)


def tagged_ids(folder: Path | None = None) -> set[str]:
    """Tags written in the features: a research scenario is covered by a feature tagged @<its id>."""
    tags: set[str] = set()
    for path in (folder or features_dir()).rglob("*.feature"):
        tags.update(re.findall(r"(?:^|\s)@(\S+)", path.read_text(encoding="utf-8")))
    return tags


def main() -> int:
    report = run()
    uncovered = [sid for sid in settled_scenario_ids() if sid not in tagged_ids()]
    print(f"scenarios run: {report.passed + report.failed} ({report.passed} passed, {report.failed} failed)")
    print(f"rules reached: {len(report.shipped) - len(report.unreached)} of {len(report.shipped)}")
    for rule in report.unreached:
        print(f"  not reached: {rule}")
    for sid in uncovered:
        print(f"  research scenario with no feature: {sid}")
    if report.passed + report.failed == 0:
        print("no scenario was collected", file=sys.stderr)
        print(report.output[-3000:], file=sys.stderr)
        return 2
    return 1 if report.unreached or uncovered else 0


if __name__ == "__main__":
    sys.exit(main())

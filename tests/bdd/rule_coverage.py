"""Which shipped rules no scenario reaches, and which settled research scenarios no feature covers.

Run it as a command from the repository root:

    .venv/bin/python -m tests.bdd.rule_coverage

It runs every feature (through ``baygate test``'s runner, in-process, so the numbers come from real
evaluations, not from reading the feature text), collects the rule ids that fired in any decision, and
prints the rules of rules/*.yaml that none reached. It exits non-zero when a rule is not reached,
when a scenario id of tests/data/scenarios.yaml (the research copy) is not tagged in any feature, or when
the run collected no scenario at all.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from api.spec import runner
from engine.rulespec import load_pack_set

from .paths import REPO, RULES, features_dir

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
    """Run the features in-process (``baygate test``'s runner, the same phrase books as the pytest-bdd
    suite) and collect the rule ids their decisions cite."""
    pack_set = load_pack_set(RULES)
    shipped = [rule.id for rule in pack_set.rules]
    try:
        result = runner.run([features or features_dir()], pack_set, str(RULES))
    except runner.SpecError as exc:
        return Report(shipped=shipped, fired=set(), passed=0, failed=0, exit_code=3, output=str(exc))
    failures = "\n\n".join(scenario.message or "" for scenario in result.failed)
    return Report(shipped=shipped, fired=result.fired, passed=len(result.scenarios) - len(result.failed),
                  failed=len(result.failed), exit_code=1 if result.failed else 0, output=failures)


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

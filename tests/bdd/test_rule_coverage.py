"""Every shipped rule is reached by some scenario, and every settled research scenario has a feature.

The features run through ``baygate test``'s runner (rule_coverage.run) so that the figures come from
the engine's real decisions; the same check is a command: ``python -m tests.bdd.rule_coverage``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import rule_coverage


@pytest.fixture(scope="module")
def report() -> rule_coverage.Report:
    return rule_coverage.run()


def test_the_features_run_and_pass(report: rule_coverage.Report) -> None:
    assert report.passed > 0, f"no scenario ran:\n{report.output[-3000:]}"
    assert report.failed == 0, f"{report.failed} scenarios failed:\n{report.output[-5000:]}"


def test_every_shipped_rule_is_reached_by_a_scenario(report: rule_coverage.Report) -> None:
    assert report.shipped, "no rule packs found"
    assert not report.unreached, f"rules no scenario reaches: {report.unreached}"


def test_every_settled_research_scenario_has_a_tagged_feature() -> None:
    ids = rule_coverage.settled_scenario_ids()
    assert len(ids) >= 37, f"{rule_coverage.SHARED_SCENARIOS} holds no scenarios"
    assert not [sid for sid in ids if sid not in rule_coverage.tagged_ids()]


def test_a_run_that_collects_no_scenario_fails(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no feature here", encoding="utf-8")
    report = rule_coverage.run(tmp_path)
    assert report.exit_code != 0
    assert report.passed + report.failed == 0
    assert "no scenario found" in report.output

"""``baygate test``: behaviour specs against any pack folder, in-process through the same phrase books
as the pytest-bdd suite; it fails on a failing scenario, an unknown rule id, an unknown sentence and
a run that collects nothing, and writes JUnit XML and JSON for CI."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.engine.conftest import ROOT

THRESHOLD = """\
Feature: A rule author's threshold
  Scenario: 120,000 individuals need the contract tier
    Given the exporter is a company in Shenzhen
    And the recipient is a company in Hong Kong
    And notice, separate consent and an impact assessment are in place
    And the transfer carries personal information of 120,000 individuals
    When the transfer is evaluated
    Then the outcome is conditional
    And the rule cn.pi.100k-to-1m applies
"""

TRADITIONAL = """\
# language: zh-TW
功能: 香港同事的規格
  場景: 門檻以下
    假如輸出方是深圳的一間公司
    並且接收方是香港的一間公司
    並且告知、同意及私隱影響評估均已完成
    並且是次轉移5,000人的個人資料
    當評估是次轉移
    那麼結果為允許
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["test", *args])
    return result.exit_code, result.output


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_features_pass_against_the_shipped_packs() -> None:
    code, output = run("--rules", str(ROOT / "rules"), "-q", str(ROOT / "features"))
    assert code == 0, output[-3000:]
    assert " 0 failed" in output and "rules reached by the scenarios: " in output


def test_the_same_feature_against_another_pack_folder(tmp_path: Path) -> None:
    """A rule author raises the threshold to 200,000 in their copy: the feature now fails there only."""
    feature = write(tmp_path / "features", "threshold.feature", THRESHOLD)
    assert run("--rules", str(ROOT / "rules"), str(feature))[0] == 0
    changed = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", changed)
    pack = changed / "cn-outbound.yaml"
    pack.write_text(pack.read_text(encoding="utf-8").replace("lt: 100000}", "lt: 200000}").replace(
        "gte: 100000}", "gte: 200000}"), encoding="utf-8")
    code, output = run("--rules", str(changed), str(feature))
    assert code == 1, output
    assert "FAIL  120,000 individuals need the contract tier" in output
    assert "expected outcome conditional" in output and "threshold.feature:8" in output


def test_a_rule_id_no_pack_defines_fails_whatever_is_expected(tmp_path: Path) -> None:
    feature = write(tmp_path, "typo.feature", THRESHOLD.replace(
        "And the rule cn.pi.100k-to-1m applies", "And the rule cn.pi.100k-to-1M does not apply"))
    code, output = run("--rules", str(ROOT / "rules"), str(feature))
    assert code == 1 and "unknown rule id 'cn.pi.100k-to-1M'" in output


def test_an_unknown_sentence_fails_with_the_nearest_documented_ones(tmp_path: Path) -> None:
    feature = write(tmp_path, "words.feature", THRESHOLD.replace("When the transfer is evaluated",
                                                                "When the transfer gets evaluated"))
    code, output = run("--rules", str(ROOT / "rules"), str(feature))
    assert code == 1 and "no phrase book knows this sentence" in output and "the transfer is evaluated" in output
    assert "skipped" not in output  # the text report names the failing step; JSON lists the skipped ones


def test_traditional_chinese_features_run(tmp_path: Path) -> None:
    code, output = run("--rules", str(ROOT / "rules"), str(write(tmp_path, "門檻.feature", TRADITIONAL)))
    assert code == 0, output
    assert "PASS  門檻以下" in output


@pytest.mark.parametrize("content", [None, "Feature: nothing to run\n", "# only a comment\n"])
def test_a_run_that_collects_nothing_fails(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        write(tmp_path, "empty.feature", content)
    code, output = run("--rules", str(ROOT / "rules"), str(tmp_path))
    assert code == 3 and "no scenario found" in output


def test_a_file_that_is_not_gherkin_is_bad_input(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.feature", "this is not gherkin\nFeature: x\n  Scenario: y\n    Given a step\n")
    code, output = run("--rules", str(ROOT / "rules"), str(path))
    assert code == 3 and "broken.feature" in output and "not valid Gherkin" in output
    assert run("--rules", str(ROOT / "rules"), str(tmp_path / "missing.feature"))[0] == 3


def test_a_pack_folder_that_does_not_load_is_bad_input(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write(rules, "bad.yaml", "pack: x\nversion: '1'\nrules:\n  - id: r\n    when: {fact: nowhere, eq: 1}\n")
    code, output = run("--rules", str(rules), str(write(tmp_path, "t.feature", THRESHOLD)))
    assert code == 3 and "rule packs refused" in output


def test_junit_and_json_for_ci(tmp_path: Path) -> None:
    passing = write(tmp_path / "f", "pass.feature", THRESHOLD)
    write(tmp_path / "f", "fail.feature", THRESHOLD.replace("outcome is conditional", "outcome is permitted"))
    junit = tmp_path / "out" / "junit.xml"
    code, output = run("--rules", str(ROOT / "rules"), "--junit", str(junit), "--json", str(passing.parent))
    assert code == 1
    report = json.loads(output)
    assert (report["scenarios"], report["passed"], report["failed"]) == (2, 1, 1)
    failed = next(r for r in report["results"] if r["status"] == "failed")
    assert failed["feature"].endswith("fail.feature") and "expected outcome permitted" in failed["message"]
    assert [step["status"] for step in failed["steps"]][-2:] == ["failed", "skipped"]
    suites = ET.parse(junit).getroot()
    assert (suites.tag, suites.get("tests"), suites.get("failures")) == ("testsuites", "2", "1")
    failures = suites.findall(".//testcase/failure")
    assert len(failures) == 1 and "expected outcome permitted" in (failures[0].get("message") or "") + (
        failures[0].text or "")


MET_BY = """\
Feature: Which safeguard answered
  Background:
    Given the exporter is a company in Shenzhen
    And the recipient is a company in Hong Kong
    And notice, separate consent and an impact assessment are in place
    And the transfer carries personal information of 150,000 individuals

  Scenario: A GBA contract filed in time meets the contract tier
    Given a GBA standard contract took effect on 2026-11-10 and was filed on 2026-11-15
    When the transfer is evaluated
    Then the outcome is permitted
    And the requirement is met by the GBA standard contract

  Scenario: Nothing in place
    When the transfer is evaluated
    Then no mechanism in place meets the requirement
"""


def test_the_satisfied_by_sentences(tmp_path: Path) -> None:
    path = write(tmp_path, "met.feature", MET_BY)
    assert run("--rules", str(ROOT / "rules"), str(path))[0] == 0
    wrong = write(tmp_path, "wrong.feature", MET_BY.replace("met by the GBA standard contract",
                                                            "met by the standard contract"))
    code, output = run("--rules", str(ROOT / "rules"), str(wrong))
    assert code == 1 and "expected the requirement to be met by standard_contract" in output

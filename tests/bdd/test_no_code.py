"""Proof that a compliance officer needs no Python: a brand-new feature runs as it is.

The feature below is written only from the phrase books' documented examples (the README lists
the same sentences), saved in a fresh folder, and run by pytest-bdd in a child process through
the ordinary runner (tests/bdd/test_features.py with BAYGATE_FEATURES pointing at the folder).
One scenario is right and passes; one expects the wrong outcome and must fail, so the run is
shown to decide for real rather than to pass whatever is written.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .paths import FEATURES_ENV, REPO
from .test_phrasebook import ALL

NEW_FEATURE_EN = """\
Feature: Written by a compliance officer, never seen by the code
  Scenario: HR data to the regional head office
    Given the exporter is a company in Shenzhen
    And the recipient is a company in Hong Kong
    And the purpose is hr management
    And the transfer carries personal information of 120,000 individuals
    And notice, separate consent and an impact assessment are in place
    When the transfer is evaluated
    Then the outcome is permitted
    And the exemptions are hr management
    And a reason cites "art. 5(2)"

  Scenario: A wrong expectation must fail
    Given the exporter is a critical information infrastructure operator
    And the transfer carries personal information of 500 individuals
    When the transfer is evaluated
    Then the outcome is permitted
"""

NEW_FEATURE_ZH_TW = """\
# language: zh-TW
功能: 由香港同事撰寫的新規格
  場景大綱: 門檻：10萬人
    假如輸出方是深圳的一間公司
    並且接收方是香港的一間公司
    並且告知、同意及私隱影響評估均已完成
    並且是次轉移<人數>人的個人資料
    當評估是次轉移
    那麼結果為<結果>

    例子:
      | 人數   | 結果   |
      | 99,999 | 允許   |
      | 10萬   | 附條件 |
"""


def run_folder(folder: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **{FEATURES_ENV: str(folder)})
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "tests" / "bdd" / "test_features.py"), "-q", "-rA",
         "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_a_new_feature_file_runs_without_new_code(tmp_path: Path) -> None:
    (tmp_path / "new-en.feature").write_text(NEW_FEATURE_EN, encoding="utf-8")
    (tmp_path / "新規格.feature").write_text(NEW_FEATURE_ZH_TW, encoding="utf-8")
    proc = run_folder(tmp_path)
    out = proc.stdout + proc.stderr
    assert re.search(r"\b1 failed, 3 passed\b", out), out[-4000:]
    assert "PASSED tests/bdd/test_features.py::test_hr_data_to_the_regional_head_office" in out
    assert "FAILED tests/bdd/test_features.py::test_a_wrong_expectation_must_fail" in out
    assert "expected outcome permitted" in out  # the failure says what was expected and what came out
    assert "test_門檻10萬人[10萬-附條件]" in out  # Chinese ids stay readable in reports


def test_every_sentence_of_the_new_feature_is_a_documented_phrase() -> None:
    readme = (REPO / "features" / "README.md").read_text(encoding="utf-8")
    for feature in (NEW_FEATURE_EN, NEW_FEATURE_ZH_TW):
        for line in feature.splitlines():
            sentence = re.sub(r"^\s*(Given|When|Then|And|假如|並且|當|那麼)\s*", "", line)
            if sentence == line:
                continue
            sentence = sentence.replace("<人數>", "10萬").replace("<結果>", "允許")
            documented = [p for p in ALL if re.fullmatch(p.pattern, sentence) and f"`{p.example}`" in readme]
            assert documented, f"not a documented phrase: {sentence}"

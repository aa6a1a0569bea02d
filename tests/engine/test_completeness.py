"""The completeness check finds holes, conflicts and dead rules — and none in the shipped packs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from engine.completeness import check_completeness, dimensions
from engine.evaluator import Engine
from engine.rulespec import load_pack_set
from tests.engine.conftest import RULES


def copy_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    return folder


def drop_rule(folder: Path, file: str, rule_id: str) -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"  - id: {re.escape(rule_id)}\n.*?(?=\n  - id: |\nobligations:|\Z)", re.S)
    new, count = pattern.subn("", text)
    assert count == 1
    path.write_text(new, encoding="utf-8")


def test_shipped_packs_have_no_holes_conflicts_or_dead_rules() -> None:
    report = check_completeness(Engine(load_pack_set(RULES)))
    assert report.ok, [f.detail for f in report.holes + report.conflicts + report.dead_rules][:5]
    assert report.cases > 1000


def test_grid_values_come_from_the_rules() -> None:
    dims = dimensions(Engine(load_pack_set(RULES)))
    assert {99_999, 100_000, 100_001, 999_999, 1_000_000, 1_000_001} <= set(dims["ytd.personal_subjects"])
    assert {9_999, 10_000, 10_001} <= set(dims["ytd.sensitive_subjects"])
    assert {"hr_management", "contract_performance", "emergency_protection"} <= set(dims["purpose"])
    import datetime as dt
    assert {dt.date(2024, 3, 22), dt.date(2024, 3, 21)} <= set(dims["planned_date"])
    assert set(dims["option.gba_contract_at_assessment_level"]) == {True, False}


def test_a_missing_threshold_rule_is_a_hole(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    drop_rule(folder, "cn-outbound.yaml", "cn.pi.100k-to-1m")
    report = check_completeness(Engine(load_pack_set(folder)))
    assert report.holes
    assert any(100_000 <= int(f.case.get("ytd.personal_subjects", 0)) < 1_000_000 for f in report.holes)


def test_disagreeing_rules_at_one_level_are_a_conflict(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    (folder / "zz-conflict.yaml").write_text("""pack: conflict
version: "1"
title: A rule that disagrees with art. 8 about the options
rules:
  - id: zz.certification-only
    when:
      all:
        - {fact: leaves_mainland, eq: true}
        - {fact: ytd.personal_subjects, gte: 100000}
        - {fact: ytd.personal_subjects, lt: 1000000}
    then: {require: [certification]}
    cite: "Nothing (2024), art. 1"
    effective: {from: 2024-03-22}
    message: {en: "E", zh-Hans: "简", zh-Hant: "繁"}
  - id: zz.contract-only
    when:
      all:
        - {fact: leaves_mainland, eq: true}
        - {fact: ytd.personal_subjects, gte: 100000}
        - {fact: ytd.personal_subjects, lt: 1000000}
    then: {require: [standard_contract]}
    cite: "Nothing (2024), art. 2"
    effective: {from: 2024-03-22}
    message: {en: "E", zh-Hans: "简", zh-Hant: "繁"}
""", encoding="utf-8")
    report = check_completeness(Engine(load_pack_set(folder)))
    assert any("zz.certification-only" in f.detail and "zz.contract-only" in f.detail for f in report.conflicts)


def test_a_rule_that_can_never_fire_is_reported(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    (folder / "zz-dead.yaml").write_text("""pack: dead
version: "1"
title: An unsatisfiable rule
rules:
  - id: zz.never
    when:
      all:
        - {fact: leaves_mainland, eq: true}
        - {fact: leaves_mainland, eq: false}
    then: {prohibit: true}
    cite: "Nothing (2024), art. 3"
    effective: {from: 2024-03-22}
    message: {en: "E", zh-Hans: "简", zh-Hant: "繁"}
  - id: zz.never-note
    when:
      all:
        - {fact: exporter.jurisdiction, eq: HK}
        - {fact: leaves_mainland, eq: true}
    then: {note: true}
    cite: "Nothing (2024), art. 4"
    effective: {from: 2024-03-22}
    message: {en: "E", zh-Hans: "简", zh-Hant: "繁"}
""", encoding="utf-8")
    report = check_completeness(Engine(load_pack_set(folder)))
    why = "no case of the grid fires it (a literal no request can give, or conditions that contradict each other)"
    # Any rule, not only one that decides the route: a note whose conditions contradict is dead too.
    assert [f.detail for f in report.dead_rules] == [f"rules/zz-dead.yaml:5: rule zz.never: {why}",
                                                     f"rules/zz-dead.yaml:14: rule zz.never-note: {why}"]


def test_a_case_no_rule_decides_is_a_hole_whatever_its_direction(tmp_path: Path) -> None:
    """A case the packs say nothing decisive about would be a bare 'permitted' (the engine fails closed
    on it): a Hong Kong exporter without the PDPO rule, an exporter elsewhere without the scope rule."""
    folder = copy_rules(tmp_path)
    drop_rule(folder, "hk-pdpo.yaml", "hk.s33-not-in-force")
    drop_rule(folder, "scope.yaml", "scope.foreign-exporter")
    report = check_completeness(Engine(load_pack_set(folder)))
    bare = [f.case for f in report.holes if "bare 'permitted'" in f.detail]
    assert any(case["exporter.jurisdiction"] == "HK" and case["recipient.jurisdiction"] == "CN"
               and case.get("data.has_personal", True) for case in bare)
    assert any(case["exporter.jurisdiction"] not in ("CN", "HK", "MO") for case in bare)
    assert not [f for f in report.holes if "outbound" in f.detail]  # the Mainland outbound routes are all there


def test_negated_and_existence_tests_of_numbers_dates_and_sets_are_checked(tmp_path: Path) -> None:
    """The check writes its own fact sheets: a number, date or set it makes up to satisfy `ne`,
    `not_in` or `exists` must be of the fact's type, or durable-rules refuses the fact."""
    folder = copy_rules(tmp_path)
    (folder / "zz-negations.yaml").write_text("""pack: negations
version: "1"
title: Negated and existence tests of every kind of fact
rules:
  - id: zz.negations
    when:
      all:
        - {fact: leaves_mainland, eq: true}
        - {fact: onward.count, ne: 0}
        - {fact: data.personal_subjects, not_in: [0, 5]}
        - {fact: mechanism.standard_contract.effective_on, exists: true}
        - {fact: mechanism.standard_contract.effective_on, ne: 2020-01-01}
        - {fact: data.tags, exists: true}
    then: {require: [standard_contract]}
    cite: "Nothing (2024), art. 4"
    effective: {from: 2024-03-22}
    message: {en: "E", zh-Hans: "简", zh-Hant: "繁"}
""", encoding="utf-8")
    report = check_completeness(Engine(load_pack_set(folder)))
    assert report.cases > 1000
    assert report.dead_rules == []  # its witness, or a case near it, fired it

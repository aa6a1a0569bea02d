"""The rule language: every kind of error names file, line and rule id, and refuses the set whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.errors import RulePackError
from engine.rulespec import load_pack_set
from tests.engine.conftest import RULES

GOOD_RULE = """
  - id: t.rule
    title: A test rule
    when:
      all:
        - {fact: leaves_mainland, eq: true}
        - {fact: ytd.personal_subjects, gte: 100000}
    then:
      require: [standard_contract]
      obligations: [t.obligation]
    cite: "Test Act (2024), art. 1"
    effective: {from: 2024-03-22}
    message: {en: "E", zh-Hans: "简", zh-Hant: "繁"}
"""
PACK_HEAD = """pack: test
version: "1"
title: Test pack
rules:
"""
OBLIGATIONS = """
obligations:
  - id: t.obligation
    text: {en: "E", zh-Hans: "简", zh-Hant: "繁"}
    due: before_transfer
    cite: "Test Act (2024), art. 2"
"""


def write_pack(tmp_path: Path, rule: str, extra: str = OBLIGATIONS) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / "test.yaml").write_text(PACK_HEAD + rule + extra, encoding="utf-8")
    return folder


def issues(tmp_path: Path, rule: str, extra: str = OBLIGATIONS) -> list[str]:
    with pytest.raises(RulePackError) as info:
        load_pack_set(write_pack(tmp_path, rule, extra))
    return [str(issue) for issue in info.value.issues]


def test_a_good_pack_loads(tmp_path: Path) -> None:
    pack_set = load_pack_set(write_pack(tmp_path, GOOD_RULE))
    assert [rule.id for rule in pack_set.rules] == ["t.rule"]
    assert pack_set.digest.startswith("sha256:")


@pytest.mark.parametrize("old, new, expected", [
    ("fact: ytd.personal_subjects", "fact: ytd.people", "rules/test.yaml:11: rule t.rule: unknown fact 'ytd.people'"),
    ("gte: 100000", "gte: '100000'", "rules/test.yaml:11: rule t.rule: fact 'ytd.personal_subjects' is a number"),
    ("gte: 100000", "above: 100000", "rules/test.yaml:11: rule t.rule: unknown operator 'above'"),
    ("eq: true}", "eq: yes-please}", "rules/test.yaml:10: rule t.rule: fact 'leaves_mainland' is a bool"),
    ('    cite: "Test Act (2024), art. 1"\n', "", "rules/test.yaml:6: rule t.rule: missing citation"),
    ("    effective: {from: 2024-03-22}\n", "", "rules/test.yaml:6: rule t.rule: missing effective date"),
    ('zh-Hant: "繁"}', 'zh-TW: "繁"}', "rule t.rule: message lacks the zh-Hant text"),
    ("obligations: [t.obligation]", "obligations: [t.nowhere]", "rule t.rule: undefined obligation id 't.nowhere'"),
    ("require: [standard_contract]", "require: [handshake]", "rule t.rule: unknown mechanism 'handshake'"),
    ("gte: 100000", "gte: .inf", "rules/test.yaml:11: rule t.rule: fact 'ytd.personal_subjects' is a number"),
    ("id: t.rule", 'id: \'t"rule\'', "rules/test.yaml:6: rule id 't\"rule': use letters, digits"),
    ("id: t.rule", "id: __seen__", "rules/test.yaml:6: rule id '__seen__': use letters, digits"),
])
def test_each_error_names_file_line_and_rule(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD_RULE
    found = issues(tmp_path, GOOD_RULE.replace(old, new))
    assert any(expected in issue for issue in found), found


def option(option_id: str, default: str = "false", kind: str = "bool") -> str:
    return f"""options:
  - id: {option_id}
    type: {kind}
    default: {default}
    description: A reading of the law
    readings: {{"true": "Test Act (2024), art. 3", "false": "Test Act (2024), art. 4"}}
"""


@pytest.mark.parametrize("option_id, default, kind, expected", [
    ("a.b", "false", "bool", "option 'a.b': an option id is lower-case letters"),
    ("a__b", "false", "bool", None),
    ("Strict", "false", "bool", "option 'Strict': an option id is lower-case letters"),
    ("level", ".nan", "number", "option level: default must be a (finite) number"),
    ("level", "3", "number", None),
])
def test_option_ids_and_defaults(tmp_path: Path, option_id: str, default: str, kind: str,
                                 expected: str | None) -> None:
    """An option id becomes a compiled key (``option__<id>``): ``a.b`` and ``a__b`` would share one."""
    head = PACK_HEAD.replace("rules:\n", option(option_id, default, kind) + "rules:\n")
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "test.yaml").write_text(head + GOOD_RULE + OBLIGATIONS, encoding="utf-8")
    if expected is None:
        assert option_id in load_pack_set(folder).options
        return
    with pytest.raises(RulePackError) as info:
        load_pack_set(folder)
    assert any(expected in str(issue) for issue in info.value.issues), info.value.issues


def test_duplicate_rule_id(tmp_path: Path) -> None:
    found = issues(tmp_path, GOOD_RULE + GOOD_RULE)
    assert any("rule t.rule: duplicate rule id" in issue for issue in found)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    found = issues(tmp_path, GOOD_RULE.replace("title: A test rule", "title: A test: rule"))
    assert found == ["rules/test.yaml:7: YAML syntax error: mapping values are not allowed here"]


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    bomb = 'x: &a ["lol","lol"]\ny: &b [*a,*a,*a]\nz: [*b,*b,*b]\n'
    found = issues(tmp_path, GOOD_RULE, OBLIGATIONS + bomb)
    assert any("anchors and aliases are not allowed" in issue for issue in found)


@pytest.mark.parametrize("text", ["[[x]]: 1\n", "x:\n  - {[{a: 1}]: 1}\n"])
def test_a_key_holding_a_list_or_mapping_is_refused_with_its_line(tmp_path: Path, text: str) -> None:
    """Found by fuzzing pack texts: a key with a list or mapping inside a list made ruamel raise
    TypeError (a traceback, not a refusal)."""
    found = issues(tmp_path, GOOD_RULE, OBLIGATIONS + text)
    assert len(found) == 1
    assert found[0].startswith("rules/test.yaml:")
    assert found[0].endswith(": a mapping key must be plain text or a number, not a list or mapping")


def test_a_bad_pack_refuses_the_whole_set(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    good = load_pack_set(folder)
    text = (folder / "cn-outbound.yaml").read_text(encoding="utf-8")
    (folder / "cn-outbound.yaml").write_text(text.replace("fact: exporter.ciio", "fact: exporter.cio", 1),
                                             encoding="utf-8")
    with pytest.raises(RulePackError) as info:
        load_pack_set(folder)
    assert all(issue.file == "rules/cn-outbound.yaml" for issue in info.value.issues)
    assert good.rules  # the earlier, good set is untouched


def test_stages_put_derived_facts_first(tmp_path: Path) -> None:
    pack_set = load_pack_set(RULES)
    stage = {rule.id: rule.stage for rule in pack_set.rules}
    assert stage["cn.exempt.hr-management"] == 0
    assert stage["cn.exempt.under-threshold"] == 1  # reads other exemptions: residual art. 5(4)
    assert stage["cn.pi.100k-to-1m"] == 2


def test_every_shipped_rule_cites_and_has_dates_and_three_languages() -> None:
    pack_set = load_pack_set(RULES)
    assert len(pack_set.rules) >= 50
    for rule in pack_set.rules:
        assert rule.cite and rule.effective_from
        assert rule.message.en and rule.message.zh_Hans and rule.message.zh_Hant

"""#22.3: a message states a threshold through {fact:op}, taken from the rule's own condition."""

from __future__ import annotations

from pathlib import Path

from engine.placeholders import format_literal
from engine.rulespec import load_pack_set
from tests.engine.test_rulespec import issues, write_pack

RULE = """
  - id: t.threshold
    title: A threshold rule
    when:
      all:
        - {fact: ytd.personal_subjects, gte: LOW}
        - {fact: ytd.personal_subjects, lt: HIGH}
    then: {note: true}
    cite: "Test Act (2024), art. 1"
    effective: {from: 2024-03-22}
    message:
      en: "{ytd.personal_subjects:gte} or more but fewer than {ytd.personal_subjects:lt} individuals"
      zh-Hans: "{ytd.personal_subjects:gte}人以上、不满{ytd.personal_subjects:lt}人"
      zh-Hant: "{ytd.personal_subjects:gte}人以上、不滿{ytd.personal_subjects:lt}人"
"""


def message(tmp_path: Path, low: int, high: int) -> dict[str, str]:
    pack_set = load_pack_set(write_pack(tmp_path, RULE.replace("LOW", str(low)).replace("HIGH", str(high)), extra=""))
    return pack_set.rules[0].message.model_dump()


def test_the_message_follows_the_rule(tmp_path: Path) -> None:
    assert message(tmp_path, 100_000, 1_000_000) == {
        "en": "100,000 or more but fewer than 1,000,000 individuals",
        "zh-Hans": "10万人以上、不满100万人", "zh-Hant": "10万人以上、不滿100万人"}
    changed = message(tmp_path, 50_000, 1_000_000)  # change the threshold, and the text changes with it
    assert changed["en"].startswith("50,000 or more") and changed["zh-Hans"].startswith("5万人以上")


def test_numbers_per_language() -> None:
    assert [format_literal(n, "zh-Hans") for n in (10_000, 100_000, 12_345, 5_000, 10_000_000)] == \
        ["1万", "10万", "12,345", "5,000", "1000万"]
    assert format_literal(10_000_000, "en") == "10,000,000"


def test_a_placeholder_without_exactly_one_comparison_is_refused(tmp_path: Path) -> None:
    bad = RULE.replace("LOW", "1").replace("HIGH", "2").replace("{ytd.personal_subjects:lt} individuals",
                                                                "{ytd.sensitive_subjects:lt} individuals")
    found = issues(tmp_path, bad, extra="")
    assert found == ["rules/test.yaml:15: rule t.threshold: message placeholder {ytd.sensitive_subjects:lt}: the "
                     "rule's 'when' has no comparison of ytd.sensitive_subjects with 'lt' (it needs exactly one)"]
    two = RULE.replace("LOW", "1").replace("HIGH", "2").replace("{fact: ytd.personal_subjects, lt: 2}",
                                                                "{fact: ytd.personal_subjects, gte: 2}")
    assert any("has 2 comparison" in issue for issue in issues(tmp_path, two, extra=""))


def test_a_malformed_placeholder_is_refused(tmp_path: Path) -> None:
    bad = RULE.replace("LOW", "1").replace("HIGH", "2").replace("{ytd.personal_subjects:gte} or more", "{100000}")
    found = issues(tmp_path, bad, extra="")
    assert any("is not of the form {FACT:OPERATOR}" in issue for issue in found), found


def test_the_shipped_threshold_messages_use_placeholders() -> None:
    """Wherever a shipped message states a volume threshold, it comes from the rule."""
    rules = Path(__file__).parents[2] / "rules"
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(rules.glob("*.yaml")))
    for placeholder in ("{ytd.personal_subjects:lt}", "{ytd.personal_subjects:gte}", "{ytd.sensitive_subjects:gte}",
                        "{ytd.sensitive_subjects:lt}", "{since_prev_year.individuals:gte}",
                        "{exporter.processes_subjects:gt}", "{data.subjects_tagged.automotive:gt}"):
        assert placeholder in text


def test_no_shipped_message_repeats_a_threshold_of_its_own_rule() -> None:
    """A shipped message never writes out a number its rule compares with: it names it ({fact:op}), so
    changing the rule changes the message."""
    from ruamel.yaml import YAML

    from engine.conditions import Leaf
    from engine.placeholders import leaves_of
    from engine.rulespec import load_pack_set

    rules = Path(__file__).parents[2] / "rules"
    written = {rule["id"]: rule["message"] for path in sorted(rules.glob("*.yaml"))
               for rule in YAML(typ="safe").load(path.read_text(encoding="utf-8"))["rules"]}
    repeated = []
    for rule in load_pack_set(rules).rules:
        numbers = {leaf.value for leaf in leaves_of(rule.when) if isinstance(leaf, Leaf)
                   and isinstance(leaf.value, int) and not isinstance(leaf.value, bool) and leaf.value > 1}
        for number in numbers:
            spellings = {f"{number:,}", str(number)} | ({f"{number // 10_000}万"} if number % 10_000 == 0 else set())
            if any(spelling in text for text in written[rule.id].values() for spelling in spellings):
                repeated.append((rule.id, number))
    assert not repeated

"""#22.2: a literal that no request can give is an error naming file, line, rule id and the nearest value."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.rulespec import load_pack_set
from tests.engine.test_rulespec import issues, write_pack


def rule_with(condition: str, then: str = "note: true") -> str:
    return f"""
  - id: t.literal
    title: A rule comparing a fact with a literal
    when:
      all:
        - {condition}
    then: {{{then}}}
    cite: "Test Act (2024), art. 1"
    effective: {{from: 2024-03-22}}
    message: {{en: "E", zh-Hans: "简", zh-Hant: "繁"}}
"""


@pytest.mark.parametrize(("condition", "nearest"), [
    ("{fact: exporter.jurisdiction, eq: hk}", "'HK'"),
    ("{fact: recipient.jurisdiction, not_in: [HK, mo]}", "'MO'"),
    ("{fact: exporter.city, eq: Shenzhen}", "'shenzhen'"),
    ("{fact: exporter.sector, in: [banking, Healthcare]}", "'healthcare'"),
    ("{fact: exporter.zone, eq: 'Qianhai '}", "'qianhai'"),
    ("{fact: purpose, eq: contract_perfomance}", "'contract_performance'"),
    ("{fact: exporter.kind, eq: State_Organ}", "'state_organ'"),
    ("{fact: data.sensitive_types, contains: medical}", "'medical_health'"),
    ("{fact: data.tags, contains: automotives}", "'automotive'"),
    ("{fact: exemption, contains: contract-necessity}", "'contract_necessity'"),
    ("{fact: mode, eq: remote}", "'remote_access'"),
    ("{fact: direction, eq: cn_to_HK}", "'cn_to_hk'"),
])
def test_a_literal_no_request_can_give_is_refused_with_the_nearest_value(tmp_path: Path, condition: str,
                                                                         nearest: str) -> None:
    found = issues(tmp_path, rule_with(condition), extra="")
    assert len(found) == 1, found
    assert found[0].startswith("rules/test.yaml:10: rule t.literal: "), found  # file, line of the condition, rule id
    assert f"(nearest value: {nearest})" in found[0], found


def test_a_jurisdiction_that_is_no_iso_code_is_refused(tmp_path: Path) -> None:
    found = issues(tmp_path, rule_with("{fact: exporter.jurisdiction, eq: XQ}"), extra="")
    assert "ISO 3166-1 alpha-2" in found[0] and "rule t.literal" in found[0]


def test_literals_requests_can_give_load(tmp_path: Path) -> None:
    for condition in ("{fact: exporter.jurisdiction, in: [CN, HK, MO, TW, SG]}", "{fact: exporter.city, eq: shenzhen}",
                      "{fact: purpose, eq: direct_marketing}", "{fact: exporter.kind, eq: public_institution}",
                      "{fact: exemption, contains: statutory_duty}"):
        load_pack_set(write_pack(tmp_path, rule_with(condition), extra=""))


def test_effects_name_the_nearest_value(tmp_path: Path) -> None:
    found = issues(tmp_path, rule_with("{fact: leaves_mainland, eq: true}", "exempt: statutory-duty"), extra="")
    assert any("unknown exemption 'statutory-duty' (nearest value: 'statutory_duty')" in i for i in found), found
    found = issues(tmp_path, rule_with("{fact: leaves_mainland, eq: true}", "require: [standard-contract]"), extra="")
    assert any("(nearest value: 'standard_contract')" in i for i in found), found
    found = issues(tmp_path, rule_with("{fact: leaves_mainland, eq: true}", "approvals: [state_secrets]"), extra="")
    assert any("(nearest value: 'state_secret')" in i for i in found), found


def test_the_retired_public_body_is_refused_in_a_pack_and_read_as_a_state_organ_in_a_stored_one(tmp_path: Path) -> None:
    rule = rule_with("{fact: exporter.kind, eq: public_body}")
    found = issues(tmp_path, rule, extra="")
    assert "'public_body' is no longer a value of fact 'exporter.kind' (nearest value: 'state_organ')" in found[0]
    stored = load_pack_set(write_pack(tmp_path, rule, extra=""), stored=True)
    leaf = stored.rules[0].when.items[0]  # type: ignore[union-attr]
    assert (leaf.fact, leaf.value) == ("exporter.kind", "state_organ")

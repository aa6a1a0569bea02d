"""The project's own further scenarios (tests/data/more-scenarios.yaml), decided in-process."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from engine.evaluator import Engine
from engine.models import TransferRequest
from engine.rulespec import PackSet
from tests.engine.conftest import ROOT

MORE = yaml.safe_load((ROOT / "tests" / "data" / "more-scenarios.yaml").read_text(encoding="utf-8"))["scenarios"]


@pytest.mark.parametrize("scenario", MORE, ids=[s["id"] for s in MORE])
def test_more_scenarios(pack_set: PackSet, scenario: dict[str, Any]) -> None:
    engine = Engine(pack_set, scenario.get("options"))
    decision = engine.evaluate(TransferRequest.model_validate(scenario["request"]))
    expect = scenario["expect"]
    got = decision.model_dump(mode="json")
    assert (got["outcome"], got["mechanism"]) == (expect["outcome"], expect["mechanism"])
    assert sorted(got["mechanism_options"]) == sorted(expect["mechanism_options"])
    assert sorted(got["exemptions"]) == sorted(expect["exemptions"])
    for item in expect.get("missing_includes", []):
        assert any(all(m.get(k) == v for k, v in item.items()) for m in got["missing"]), got["missing"]
    check_rules_and_obligations(got, expect)


def check_rules_and_obligations(got: dict[str, Any], expect: dict[str, Any]) -> None:
    """The reasons a scenario names (``reasons_include``/``_exclude``: rule ids) and the obligations
    (``obligations_include``/``_exclude``: obligation ids): a citation that changes with the date is a
    rule or obligation of its own, so this is how a scenario pins the law cited on its day."""
    rules = [reason["rule"] for reason in got["reasons"]]
    obligations = [obligation["id"] for obligation in got["obligations"]]
    for rule in expect.get("reasons_include", []):
        assert rule in rules, rules
    for rule in expect.get("reasons_exclude", []):
        assert rule not in rules, rules
    for oid in expect.get("obligations_include", []):
        assert oid in obligations, obligations
    for oid in expect.get("obligations_exclude", []):
        assert oid not in obligations, obligations
    if got["outcome"] == "permitted":
        assert not got["missing"]
        assert any(not reason["rule"].startswith("engine.") for reason in got["reasons"]), "a bare permit"

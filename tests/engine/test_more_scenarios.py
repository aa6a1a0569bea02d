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

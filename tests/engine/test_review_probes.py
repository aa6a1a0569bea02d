"""The 58 test requests of the legal review of 2026-12 (tests/data/review-2026-12.yaml), decided in-process:
the answers the review found wrong now give its answer, and the others keep theirs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from engine.evaluator import Engine
from engine.models import TransferRequest
from tests.engine.conftest import ROOT
from tests.engine.test_more_scenarios import check_rules_and_obligations

PROBES = yaml.safe_load((ROOT / "tests" / "data" / "review-2026-12.yaml").read_text(encoding="utf-8"))["scenarios"]


def test_every_request_of_the_review_is_here() -> None:
    assert len(PROBES) == 58
    assert sum(1 for probe in PROBES if probe["review"].startswith(("E", "G"))) == 14


@pytest.mark.parametrize("probe", PROBES, ids=[p["id"] for p in PROBES])
def test_review_probe(engine: Engine, probe: dict[str, Any]) -> None:
    got = engine.evaluate(TransferRequest.model_validate(probe["request"])).model_dump(mode="json")
    expect = probe["expect"]
    assert (got["outcome"], got["mechanism"]) == (expect["outcome"], expect["mechanism"])
    assert sorted(got["mechanism_options"]) == sorted(expect["mechanism_options"])
    assert sorted(got["exemptions"]) == sorted(expect["exemptions"])
    for item in expect.get("missing_includes", []):
        assert any(all(m.get(k) == v for k, v in item.items()) for m in got["missing"]), got["missing"]
    check_rules_and_obligations(got, expect)

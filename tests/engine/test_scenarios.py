"""Every shared scenario (the project's own copy) decided right, in-process and through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.evaluator import Engine
from engine.models import TransferRequest
from tests.engine.conftest import ROOT, load_scenarios

SCENARIOS = load_scenarios()


def _check(decision: dict[str, Any], expect: dict[str, Any]) -> None:
    assert decision["outcome"] == expect["outcome"]
    assert decision["mechanism"] == expect["mechanism"]
    assert sorted(decision["mechanism_options"]) == sorted(expect["mechanism_options"])
    assert sorted(decision["exemptions"]) == sorted(expect["exemptions"])


def test_scenario_file_is_not_empty() -> None:
    assert len(SCENARIOS) >= 37


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_scenario_in_process(engine: Engine, scenario: dict[str, Any]) -> None:
    decision = engine.evaluate(TransferRequest.model_validate(scenario["request"]))
    _check(decision.model_dump(mode="json"), scenario["expect"])
    # Every reason carries a citation and messages in three languages.
    for reason in decision.reasons:
        assert reason.citation
        assert reason.message.en and reason.message.zh_Hans and reason.message.zh_Hant
    if scenario["expect"]["outcome"] == "conditional":
        assert decision.missing, "a conditional decision says what is missing"
    if scenario["expect"]["outcome"] == "prohibited":
        # The reasons come in precedence order (engine.rule_effects.precedence): the prohibition first.
        assert decision.reasons[0].effect == "prohibit", [reason.rule for reason in decision.reasons]
    if scenario["expect"]["outcome"] == "permitted":
        assert not decision.missing


def test_scenarios_through_the_cli(tmp_path: Path) -> None:
    files = []
    for scenario in SCENARIOS:
        path = tmp_path / f"{scenario['id']}.yaml"
        path.write_text(yaml.safe_dump(scenario["request"], allow_unicode=True, sort_keys=False), encoding="utf-8")
        files.append(str(path))
    baygate = Path(sys.executable).with_name("baygate")
    result = subprocess.run(
        [str(baygate), "evaluate", "--json", *files], capture_output=True, text=True, timeout=120,
        cwd=tmp_path, env={"PATH": str(baygate.parent), "BAYGATE_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                           "BAYGATE_RULES": str(ROOT / "rules")},
    )
    assert result.returncode in (1, 2), result.stderr  # the strongest outcome among them
    decisions = json.loads(result.stdout)  # a list of decisions, one per request, in order (DESIGN section 6)
    assert len(decisions) == len(SCENARIOS)
    for scenario, decision in zip(SCENARIOS, decisions, strict=True):
        _check(decision, scenario["expect"])


@pytest.mark.parametrize("scenario", SCENARIOS[:10], ids=[s["id"] for s in SCENARIOS[:10]])
def test_assembled_decisions_are_valid_models(engine: Engine, scenario: dict[str, Any]) -> None:
    # decide builds its records without revalidating them (speed); they must still be exactly what
    # validation would produce, or the JSON users and the ledger receive could drift from the schema.
    from engine.models import Decision

    decision = engine.evaluate(TransferRequest.model_validate(scenario["request"]))
    dumped = decision.model_dump_json()
    again = Decision.model_validate_json(dumped)
    assert again.model_dump_json() == dumped
    assert again == Decision.model_validate(decision.model_dump())

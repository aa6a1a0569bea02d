"""``--json`` results are written by pydantic's serializer (``api.results.indented``): the text must be
what ``json.dumps(..., ensure_ascii=False, indent=2)`` of the JSON-mode dump gave before (scripts and
people read it), for decisions, recorded items and refusals alike."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from api.results import ItemResult, indented
from engine.errors import FieldProblem, InputError
from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.ledger.errors import ReferenceConflict
from tests.engine.test_decide_caches import all_scenario_requests

ROOT_RULES = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.from_directory(ROOT_RULES)


def before(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def test_every_scenario_prints_as_json_dumps_did(engine: Engine) -> None:
    for request in all_scenario_requests():
        decision = engine.evaluate(request, PriorCounts(personal_subjects=150_000), as_of=dt.date(2026, 11, 25))
        assert indented(decision) == before(decision.model_dump(mode="json"))
        for kind in ("decided", "recorded", "already_recorded"):
            item = ItemResult("list.yaml", 3, kind, decision)  # type: ignore[arg-type]
            assert item.json_text() == before(item.as_json())


def test_refusals_print_as_json_dumps_did() -> None:
    problem = FieldProblem("data[0].subjects", "must be 0 or more (\u4e2d\u6587 \"quoted\")", line=7)
    bad = InputError("list.ndjson", [problem])
    for item in (ItemResult.refused("list.ndjson", 0, bad),
                 ItemResult.refused("list.ndjson", None, ReferenceConflict("reference R-1 was recorded\n before")),
                 ItemResult.refused("f.json", 2, bad, decision_id="01ABC", withdrawn_at=None)):
        assert item.json_text() == before(item.as_json())

"""``baygate init`` writes a commented request that evaluates as it stands and names every field and
value of the contract; ``baygate schema request|decision`` prints JSON Schemas that hold."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from api.cli import app
from api.http.encode import EXAMPLE_REQUEST
from api.request_template import template
from engine import models
from engine.evaluator import Engine
from engine.inputs import load_requests
from tests.engine.conftest import ROOT


def fields_of(model: type[BaseModel]) -> set[str]:
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for inner in re.findall(r"\b([A-Z][A-Za-z]+)\b", str(field.annotation)):
            nested = getattr(models, inner, None)
            if isinstance(nested, type) and issubclass(nested, BaseModel) and nested is not model:
                names |= fields_of(nested)
    return names


def test_init_writes_a_request_that_evaluates(tmp_path: Path) -> None:
    target = tmp_path / "transfer.yaml"
    result = CliRunner().invoke(app, ["init", str(target)])
    assert result.exit_code == 0 and target.exists()
    requests, _ = load_requests(target.read_bytes(), str(target))
    decision = Engine.from_directory(ROOT / "rules").evaluate(requests[0])
    assert decision.outcome == "conditional"  # nothing in place yet: the missing items say what to do
    again = CliRunner().invoke(app, ["init", str(target)])
    assert again.exit_code == 3 and "--force" in again.output
    assert CliRunner().invoke(app, ["init", "--force", str(target)]).exit_code == 0
    assert CliRunner().invoke(app, ["init", "-"]).stdout == template()


def test_the_template_names_every_field_of_the_contract() -> None:
    text = template()
    written = set(re.findall(r"^\s*(?:#\s*)?(?:-\s*)?([a-z_]+):", text, flags=re.MULTILINE))
    assert fields_of(models.TransferRequest) <= written, fields_of(models.TransferRequest) - written


def test_the_template_lists_every_value_of_every_closed_list() -> None:
    text = template()
    for values in (models.PARTY_KINDS, models.PURPOSES, models.MODES, models.SENSITIVE_TYPES, models.TAGS,
                   models.CLASSIFICATIONS, models.MECHANISM_TYPES, models.APPROVAL_KINDS):
        assert all(re.search(rf"\b{value}\b", text) for value in values), values
    assert all(len(line) <= 120 for line in text.splitlines())


def schema(name: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["schema", name])
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_the_request_schema_accepts_the_template_and_refuses_a_misspelt_field() -> None:
    validator = jsonschema_rs.Draft202012Validator(schema("request"))
    document = json.loads(json.dumps(yaml.safe_load(template()), default=str))
    assert validator.is_valid(document)
    assert validator.is_valid(EXAMPLE_REQUEST)
    assert not validator.is_valid({**EXAMPLE_REQUEST, "safegaurds": {}})
    assert not validator.is_valid({**EXAMPLE_REQUEST, "purpose": "whatever"})


def test_the_decision_schema_holds_for_a_real_decision() -> None:
    validator = jsonschema_rs.Draft202012Validator(schema("decision"))
    engine = Engine.from_directory(ROOT / "rules")
    for body in (EXAMPLE_REQUEST, {**EXAMPLE_REQUEST, "safeguards": {}}):
        decision = json.loads(engine.evaluate(models.TransferRequest.model_validate(body)).model_dump_json())
        errors = [str(error) for error in validator.iter_errors(decision)]
        assert not errors, errors
    assert not validator.is_valid({**decision, "missing": [{"kind": "mechanism", "id": "x", "text": {}}]})


def test_schema_of_something_else_is_a_usage_error() -> None:
    assert CliRunner().invoke(app, ["schema", "transfer"]).exit_code == 3

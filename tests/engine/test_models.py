"""The request contract: unknown fields refused, field paths named, cross-field checks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from engine.errors import InputError, problems_from_validation
from engine.inputs import load_requests
from engine.models import TransferRequest
from tests.engine.conftest import base_request


def problems(request: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        TransferRequest.model_validate(request)
    return [str(p) for p in problems_from_validation(info.value)]


def test_defaults_follow_the_design() -> None:
    request = TransferRequest.model_validate(base_request())
    assert request.mode == "provide" and request.new_purpose is False
    assert request.exporter.kind == "company" and request.exporter.ciio is False
    assert request.data[0].classification == "general" and request.data[0].sensitive == []
    assert request.declared_prior.personal_subjects == 0


def test_field_path_names_the_data_set() -> None:
    request = base_request(data=[{"kind": "personal", "subjects": 5}, {"kind": "personal", "subjects": 0}])
    assert problems(request) == ["data[1].subjects: must be at least 1 for a personal data set"]


def test_unknown_field_is_refused_with_its_path() -> None:
    request = base_request()
    request["safeguards"]["consent"] = True
    assert any(p.startswith("safeguards.consent:") for p in problems(request))


def test_mainland_party_needs_a_city() -> None:
    request = base_request()
    del request["exporter"]["city"]
    assert problems(request) == ["exporter.city: required for a CN party (it decides Greater Bay Area membership)"]


@pytest.mark.parametrize("subjects", [-1, 2_000_000_001])
def test_absurd_numbers_are_refused(subjects: int) -> None:
    assert any(p.startswith("data[0].subjects:") for p in problems(base_request(data=[{"kind": "personal",
                                                                                        "subjects": subjects}])))


def test_mechanism_dates_in_order() -> None:
    request = base_request()
    request["safeguards"]["mechanisms"] = [{"type": "standard_contract", "reference": "X",
                                            "effective_on": "2026-11-10", "expires_on": "2026-01-01"}]
    assert problems(request) == ["safeguards.mechanisms[0].expires_on: is before effective_on"]


def test_impossible_date_and_unknown_enum() -> None:
    found = problems(base_request(planned_date="2026-02-30", purpose="marketing"))
    assert any(p.startswith("planned_date:") for p in found)
    assert any(p.startswith("purpose:") for p in found)


def test_input_errors_name_the_source_and_list_index() -> None:
    raw = b"- reference: A\n  purpose: other\n"
    with pytest.raises(InputError) as info:
        load_requests(raw, "batch.yaml")
    text = str(info.value)
    assert "batch.yaml:1: [0].exporter: Field required" in text  # left out: the line of its request


@pytest.mark.parametrize("raw, source, expected", [
    (b"", "in.yaml", "input is empty"),
    (b"\xff\xfe\x00garbage", "in.yaml", "not valid UTF-8"),
    (b"reference: [unclosed", "in.yaml", "invalid YAML"),
    (b"a: &x [1]\nb: *x\n", "in.yaml", "aliases"),
    (b"{\"reference\": ", "in.json", "line 1: invalid JSON"),
    (b"{\"reference\": ", "-", "line 1: invalid JSON"),
    (b"{reference: X,\n purpose: [unclosed}\n", "in.yaml", "line 2: invalid YAML"),
], ids=["empty", "not-utf8", "broken-yaml", "alias", "broken-json", "broken-json-stdin", "broken-yaml-flow"])
def test_broken_documents_get_a_clear_error(raw: bytes, source: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        load_requests(raw, source)
    assert expected in str(info.value)


def test_a_yaml_file_in_flow_style_is_read_as_yaml() -> None:
    """YAML's flow style starts as JSON does; a .yaml file is read as YAML whatever its first character."""
    as_json = json.dumps(base_request())
    flow = as_json.replace('"reference"', "reference", 1)  # no longer JSON, still YAML
    (request,), _ = load_requests(flow.encode(), "flow.YML")
    (expected,), _ = load_requests(as_json.encode(), "as.json")
    assert request == expected
    with pytest.raises(InputError, match="line 1: invalid JSON"):
        load_requests(flow.encode(), "flow.json")


def test_a_python_dict_printed_into_a_yaml_file_is_refused_not_read_with_none_as_text() -> None:
    """``print(request)`` of a Python dict is no JSON (single quotes, ``None``) but reads as YAML, where
    ``None`` is the text 'None': two data sets of unnamed populations would be one population 'None',
    counted once (110,000 individuals read as 60,000: permitted under the threshold instead of a
    standard contract). A plain ``None`` is refused with what to write; quoted, it is the text."""
    document = base_request(data=[{"kind": "personal", "subjects": 60_000, "population": None},
                                  {"kind": "personal", "subjects": 50_000, "population": None}])
    with pytest.raises(InputError, match=r"data\[0\]\.population: 'None' is not a valid value: write null"):
        load_requests(repr(document).encode(), "request.yaml")
    block = "".join(f"{key}: None\n" if key == "reference" else "" for key in document)
    with pytest.raises(InputError, match="reference: 'None' is not a valid value"):
        load_requests(block.encode(), "block.yaml")
    quoted = json.dumps({**document, "reference": "None", "data": document["data"][:1]})
    (request,), _ = load_requests(quoted.encode(), "quoted.yaml")
    assert request.reference == "None" and request.data[0].population is None


def test_a_json_typo_in_a_yaml_file_is_reported_as_json_not_read_as_yaml() -> None:
    """Only a mapping whose first key is unquoted goes to YAML: ``"subjects": 60,000`` in a JSON
    document would read as YAML as another mapping; JSON names the line instead."""
    text = json.dumps(base_request(), indent=1).replace('"subjects": 1000', '"subjects": 1,000')
    assert "1,000" in text
    with pytest.raises(InputError, match="invalid JSON: Expecting property name") as refused:
        load_requests(text.encode(), "typo.yaml")
    assert "YAML" not in str(refused.value)

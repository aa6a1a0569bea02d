"""Strict reading (issue 18, point 2): a date is an ISO date, a flag is true or false, a count is a whole
number, a JSON key appears once, a reference has no invisible characters; and what is right still reads.

The bad cases themselves are in the catalogue (``badinputs.py``: the ``json-duplicate-*``, ``epoch-*``,
``bool-from-*``, ``count-from-*``, ``reference-*`` and ``yaml-*`` cases), which every door's test sends
through the CLI and HTTP. Here: the good forms, both HTTP lanes, the batch, ``?as_of=`` and ``--as-of``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from engine.errors import COLLECTION_KEY_REFUSED, InputError
from engine.inputs import DuplicateKey, load_requests, loads_json
from engine.strict import InvalidScalar
from tests.hardening.badinputs import as_yaml
from tests.hardening.conftest import InProcess, dumps, good_request


@pytest.mark.parametrize(("written", "expected"), [
    ("2026-12-01", dt.date(2026, 12, 1)), ("'2026-12-01'", dt.date(2026, 12, 1)),
    ('"2026-12-01"', dt.date(2026, 12, 1)), ("!!timestamp 2026-12-01", dt.date(2026, 12, 1)),
])
def test_iso_dates_in_yaml_still_read(written: str, expected: dt.date) -> None:
    (request,), _ = load_requests(as_yaml(planned_date=written), "in.yaml")
    assert request.planned_date == expected


def test_flags_and_counts_still_read() -> None:
    (request,), _ = load_requests(as_yaml(ciio="true", subjects="1_000"), "in.yaml")
    assert request.exporter.ciio is True and request.data[0].subjects == 1000
    (request,), _ = load_requests(dumps({**good_request(), "new_purpose": False}), "in.json")
    assert request.new_purpose is False


def test_a_reference_in_any_script_still_reads() -> None:
    for reference in ("SZH-2026-0042", "深圳-合同-0042", "Ref with spaces", "HK/2026/０４２"):
        (request,), _ = load_requests(dumps({**good_request(), "reference": reference}), "in.json")
        assert request.reference == reference


def test_duplicate_keys_are_named_by_their_path() -> None:
    with pytest.raises(DuplicateKey) as found:
        loads_json('[{"a": 1}, {"data": [{"k": 1, "k": 2}]}]')
    assert found.value.key == "[1].data[0].k"
    with pytest.raises(InputError, match=r"\[1\]\.purpose: this key appears twice"):
        load_requests(b"[" + dumps(good_request()) + b", " + dumps(good_request())[:-1] +
                      b', "purpose": "research"}]', "list.json")


@pytest.mark.parametrize("key", ["[purpose]", "{purpose: 1}", "[[purpose]]"])
def test_a_key_written_as_a_list_or_mapping_is_refused_with_its_line_as_packs_refuse_it(key: str) -> None:
    text = as_yaml().decode().replace("purpose:", f"{key}:", 1)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.lstrip().startswith(key))
    with pytest.raises(InputError, match=rf"line {line}: " + re.escape(COLLECTION_KEY_REFUSED)):
        load_requests(text.encode(), "in.yaml")


def test_a_huge_integer_is_a_value_with_a_field_not_an_exception() -> None:
    value = loads_json('{"n": 1' + "0" * 5000 + ', "m": 12}')
    assert isinstance(value["n"], InvalidScalar) and value["m"] == 12
    assert loads_json('{"n": ' + "9" * 4300 + "}")["n"] == int("9" * 4300)  # the limit itself still reads


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_both_http_lanes_refuse_a_duplicate_key(inprocess: InProcess, content_type: str) -> None:
    """``application/json`` takes the dry-run lane, the charset form FastAPI's standard way: both refuse."""
    body = dumps(good_request())[:-1] + b', "purpose": "research"}'
    for path in ("/v1/evaluate", "/v1/transfers"):
        answer = inprocess.client.post(path, content=body,
                                       headers=inprocess.headers("submitter", **{"Content-Type": content_type}))
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["path"] == "purpose" and "twice" in answer.text


def test_the_batch_refuses_a_duplicate_key_naming_the_item(inprocess: InProcess) -> None:
    body = json.dumps({"requests": [good_request(), good_request()]}).encode()
    doubled = body.replace(b'"purpose": ', b'"purpose": "research", "purpose": ', 2)
    answer = inprocess.client.post("/v1/evaluate/batch", content=doubled,
                                   headers=inprocess.headers("submitter", **{"Content-Type": "application/json"}))
    assert answer.status_code == 422 and answer.json()["errors"][0]["path"] == "requests[0].purpose", answer.text


def test_a_batch_item_with_an_epoch_date_is_answered_in_its_place(inprocess: InProcess) -> None:
    items = [good_request(), {**good_request(), "planned_date": 1764547200}]
    answer = inprocess.client.post("/v1/evaluate/batch", json={"requests": items},
                                   headers=inprocess.headers("submitter"))
    assert answer.status_code == 200, answer.text
    first, second = answer.json()["results"]
    assert "outcome" in first
    assert second["status"] == 422 and second["index"] == 1 and second["errors"][0]["path"] == "planned_date"


@pytest.mark.parametrize("day", ["1764547200", "20261201", "2026-W49-1", "2026-12-01T00:00:00"])
def test_as_of_takes_an_iso_date_only(inprocess: InProcess, day: str) -> None:
    answer = inprocess.client.post("/v1/evaluate", params={"as_of": day}, json=good_request(),
                                   headers=inprocess.headers("submitter"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0] == {"path": "as_of", "message": answer.json()["errors"][0]["message"],
                                          "in": "query"}
    assert "YYYY-MM-DD" in answer.text


@pytest.mark.parametrize("day", ["1764547200", "20261201", "2026-W49-1"])
def test_cli_as_of_takes_an_iso_date_only(day: str, tmp_path: Path) -> None:
    request = tmp_path / "one.json"
    request.write_bytes(dumps(good_request()))
    result = CliRunner().invoke(app, ["evaluate", "--as-of", day, str(request)],
                                env={"BAYGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"})
    assert result.exit_code == 3 and "--as-of" in result.stderr, (result.exit_code, result.stderr)

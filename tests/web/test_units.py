"""The page's pieces that are plain functions: labels, the form <-> request mapping, the CSV inventory,
the thresholds read from the packs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from pathlib import Path

import pytest

from api.web import labels
from api.web.forms import form_values, request_dict, validate
from api.web.inventory import (
    COLUMN_NAMES,
    InventoryError,
    Row,
    read_inventory,
    results_csv,
    spreadsheet_safe,
    template_csv,
)
from engine import models
from engine.fact_registry import GBA_MAINLAND_CITIES
from engine.rulespec import load_pack_set
from engine.thresholds import next_threshold, thresholds_in_force
from tests.web.conftest import ROOT

TODAY = dt.date(2026, 12, 6)


@pytest.mark.parametrize(("table", "values"), [
    (labels.PARTY_KINDS, models.PARTY_KINDS), (labels.PURPOSES, models.PURPOSES), (labels.MODES, models.MODES),
    (labels.SENSITIVE, models.SENSITIVE_TYPES), (labels.TAGS, models.TAGS),
    (labels.MECHANISMS, models.MECHANISM_TYPES), (labels.APPROVALS, models.APPROVAL_KINDS),
    (labels.CLASSIFICATIONS, models.CLASSIFICATIONS)])
def test_every_value_the_model_takes_has_a_label(table: dict[str, str], values: tuple[str, ...]) -> None:
    assert [value for value in values if value not in table] == []


def test_the_city_chooser_offers_the_cities_the_engine_counts_as_gba() -> None:
    assert {city.lower() for city in labels.GBA_CITIES} == set(GBA_MAINLAND_CITIES.values())


def _flatten(node: object, prefix: str = "") -> list[tuple[str, str]]:
    """The form's fields as a browser sends them."""
    if isinstance(node, dict):
        return [pair for key, value in node.items() for pair in _flatten(value, f"{prefix}{key}.")]
    if isinstance(node, list):
        if all(isinstance(item, str) for item in node):
            return [(prefix[:-1], item) for item in node]
        return [pair for i, item in enumerate(node) for pair in _flatten(item, f"{prefix}{i}.")]
    if node is True:
        return [(prefix[:-1], "true")]
    return [(prefix[:-1], str(node))]


REQUEST = {
    "reference": "R-1", "purpose": "research", "planned_date": "2026-12-15",
    "exporter": {"id": "E1", "name": "Exporter", "jurisdiction": "CN", "city": "Dongguan", "ciio": True},
    "recipient": {"id": "R1", "name": "Recipient", "jurisdiction": "SG"},
    "onward_recipients": [{"id": "O1", "name": "Onward", "jurisdiction": "CN", "city": "Wuhan"}],
    "data": [{"kind": "personal", "subjects": 12, "sensitive": ["biometric", "whereabouts"]},
             {"kind": "non_personal", "classification": "important"}],
    "safeguards": {"separate_consent": True, "mechanisms": [
        {"type": "certification", "reference": "C-9", "effective_on": "2026-01-02", "expires_on": "2028-01-01"}]},
    "declared_prior": {"personal_subjects": 5000},
}


def test_a_request_survives_the_form_both_ways() -> None:
    """Loaded into the form (choosers split into choice and typed text) and posted back, a request is
    the same request."""
    values = form_values(REQUEST)
    assert values["recipient"]["jurisdiction"] == "other" and values["recipient"]["jurisdiction_other"] == "SG"
    assert values["onward_recipients"][0]["city"] == "other"
    assert request_dict(_flatten(values)) == REQUEST
    request, errors = validate(request_dict(_flatten(values)))
    assert errors == {} and request is not None and request.exporter.ciio


def test_form_errors_name_the_field_path_and_blank_rows_go() -> None:
    fields = [("reference", "R"), ("exporter.jurisdiction", "CN"), ("exporter.city", ""), ("data.0.kind", "personal"),
              ("data.0.subjects", "0"), ("data.3.kind", ""), ("safeguards.mechanisms.0.type", "")]
    data = request_dict(fields)
    assert len(data["data"]) == 1 and "safeguards" not in data
    _request, errors = validate(data)
    assert "exporter.city" in errors and "data.0.subjects" in errors and "purpose" in errors


def test_numbers_may_be_typed_with_separators() -> None:
    assert request_dict([("data.0.subjects", "150,000")])["data"][0]["subjects"] == 150000


def test_the_template_is_a_valid_inventory() -> None:
    rows = list(read_inventory(template_csv()))
    assert len(rows) == 1 and rows[0].errors == [] and rows[0].request is not None
    assert rows[0].request.safeguards.mechanisms[0].type == "gba_standard_contract"


def test_inventory_errors_name_line_and_column() -> None:
    header = ",".join(COLUMN_NAMES)
    good = template_csv().splitlines()[1]
    bad = good.replace("120000", "0").replace(",yes,", ",perhaps,", 1)
    rows = list(read_inventory("\n".join([header, good, bad])))
    assert rows[0].errors == []
    assert rows[1].line == 3 and rows[1].request is None
    assert any(e.startswith("subjects:") for e in rows[1].errors)
    assert any("'perhaps' is not yes or no" in e for e in rows[1].errors)


@pytest.mark.parametrize(("text", "message"), [
    ("reference,colour\nX,red\n", "unknown column(s) colour"),
    ("reference,exporter_id\nX,Y\n", "missing required column(s)"),
    ("", "empty")])
def test_an_unreadable_inventory_is_refused_whole(text: str, message: str) -> None:
    with pytest.raises(InventoryError, match=re.escape(message)):
        list(read_inventory(text))


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_are_escaped(cell: str) -> None:
    assert spreadsheet_safe(cell) == "'" + cell
    row = Row(2, cell, None, ["bad"])
    assert f"'{cell}" in results_csv([row]).replace('"', "")


def test_plain_cells_are_left_alone() -> None:
    assert spreadsheet_safe("SZH-1") == "SZH-1" and spreadsheet_safe("") == ""


def test_thresholds_are_read_from_the_packs_in_force() -> None:
    found = thresholds_in_force(load_pack_set(ROOT / "rules"), TODAY)
    assert [(t.value, t.level) for t in found["ytd.personal_subjects"]] == [
        (100_000, "standard_contract"), (1_000_000, "security_assessment")]
    assert [(t.value, t.level) for t in found["ytd.sensitive_subjects"]] == [
        (1, "standard_contract"), (10_000, "security_assessment")]
    # The 2022 regime's thresholds (since the previous year) were in force on another day; on a day of
    # that regime the year-to-date rules of 2024 are not in force yet.
    assert "since_prev_year.personal_subjects" not in found
    assert thresholds_in_force(load_pack_set(ROOT / "rules"), dt.date(2023, 6, 1)) == {}


def test_a_changed_pack_changes_the_thresholds(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    pack = rules / "cn-outbound.yaml"
    pack.write_text(pack.read_text(encoding="utf-8").replace("gte: 1000000}", "gte: 800000}")
                    .replace("lt: 1000000}", "lt: 800000}"), encoding="utf-8")
    found = thresholds_in_force(load_pack_set(rules), TODAY)
    assert [t.value for t in found["ytd.personal_subjects"]] == [100_000, 800_000]


def test_the_next_route_and_its_headroom() -> None:
    found = thresholds_in_force(load_pack_set(ROOT / "rules"), TODAY)["ytd.personal_subjects"]
    nxt = next_threshold(found, 150_000)
    assert nxt is not None and nxt.value == 1_000_000
    nxt = next_threshold(found, 0)
    assert nxt is not None and nxt.value == 100_000
    assert next_threshold(found, 1_000_000) is None


def test_an_inventory_row_carries_the_direct_marketing_consent() -> None:
    """The CSV screening has a column for PDPO ss. 35J-35K, read into the request as the form reads it."""
    rows_in = list(csv.DictReader(io.StringIO(template_csv())))
    assert "direct_marketing_consent" in rows_in[0]
    rows_in[0]["direct_marketing_consent"] = "yes"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows_in[0]))
    writer.writeheader()
    writer.writerows(rows_in)
    rows = list(read_inventory(out.getvalue()))
    assert rows[0].errors == [] and rows[0].request is not None
    assert rows[0].request.safeguards.direct_marketing_consent is True

"""Screening an inventory of planned flows (issue 23 point 2): the CSV's columns, reading a file into
requests, and writing the results back as CSV that a spreadsheet cannot run.

One row is one planned transfer with one data set and at most one mechanism in place (a request with
more is assessed on the form, or sent as YAML/JSON to the API). The columns are documented in
``docs/web.md`` and in the template the page offers; list cells (sensitive, tags) are separated by
``;``; yes/no cells take ``true``, ``false``, ``yes``, ``no``, ``1``, ``0`` or nothing (no).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from api.web.forms import validate
from api.web.i18n import N_
from engine.models import Decision, TransferRequest

COLUMNS: tuple[tuple[str, bool, str], ...] = (
    ("reference", True, N_("your id for the flow")),
    ("exporter_id", True, N_("unified social credit code or business registration number")),
    ("exporter_name", True, ""),
    ("exporter_jurisdiction", True, N_("CN, HK, MO or another ISO code")),
    ("exporter_city", False, N_("required for CN: decides GBA membership")),
    ("exporter_kind", False,
     N_("company (default), research_institution, public_institution, state_organ, individual")),
    ("exporter_ciio", False, N_("yes/no")),
    ("recipient_id", True, ""),
    ("recipient_name", True, ""),
    ("recipient_jurisdiction", True, ""),
    ("recipient_city", False, N_("required for CN")),
    ("recipient_kind", False, ""),
    ("purpose", True, N_("e.g. business_services, contract_performance, hr_management, healthcare")),
    ("mode", False, N_("provide (default), remote_access, storage_abroad")),
    ("planned_date", True, N_("YYYY-MM-DD")),
    ("data_kind", True, N_("personal or non_personal")),
    ("subjects", False, N_("individuals; required for personal data")),
    ("sensitive", False, N_("e.g. medical_health;financial_account")),
    ("classification", False, N_("general (default), important, core, state_secret")),
    ("tags", False, N_("e.g. research;population_health")),
    ("separate_consent", False, N_("yes/no")),
    ("notice_given", False, N_("yes/no")),
    ("direct_marketing_consent", False, N_("yes/no: PDPO s. 35J notice and s. 35K written consent")),
    ("pia_completed_on", False, N_("YYYY-MM-DD")),
    ("mechanism_type", False, N_("standard_contract, gba_standard_contract, certification, security_assessment")),
    ("mechanism_reference", False, ""),
    ("mechanism_effective_on", False, N_("YYYY-MM-DD")),
    ("mechanism_filed_on", False, N_("YYYY-MM-DD")),
    ("mechanism_expires_on", False, N_("YYYY-MM-DD")),
    ("prior_personal_subjects", False, N_("earlier volume this year not in this ledger")),
    ("prior_sensitive_subjects", False, ""),
)
COLUMN_NAMES = tuple(name for name, _required, _note in COLUMNS)
REQUIRED = tuple(name for name, required, _note in COLUMNS if required)
MAX_ROWS = 2000
"""A screening is an interactive page; larger inventories go to POST /v1/evaluate/batch."""

TEMPLATE_EXAMPLE = {
    "reference": "FLOW-001", "exporter_id": "91440300MA5XXXXXXX", "exporter_name": "Qianhai Health Data Co., Ltd.",
    "exporter_jurisdiction": "CN", "exporter_city": "Shenzhen", "exporter_kind": "company", "exporter_ciio": "no",
    "recipient_id": "HK-12345678", "recipient_name": "Harbour Analytics Ltd.", "recipient_jurisdiction": "HK",
    "purpose": "business_services", "mode": "provide", "planned_date": "2026-12-01", "data_kind": "personal",
    "subjects": "120000", "sensitive": "", "classification": "general", "separate_consent": "yes",
    "notice_given": "yes", "pia_completed_on": "2026-11-01", "mechanism_type": "gba_standard_contract",
    "mechanism_reference": "GD-2026-123", "mechanism_effective_on": "2026-11-10", "mechanism_filed_on": "2026-11-15",
}

_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


@dataclass(frozen=True)
class Row:
    line: int
    reference: str
    request: TransferRequest | None
    errors: list[str]
    decision: Decision | None = None


def template_csv() -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMN_NAMES, lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(TEMPLATE_EXAMPLE)
    return out.getvalue()


class InventoryError(ValueError):
    """The file as a whole cannot be read (not CSV, unknown or missing columns, too many rows)."""


def _flag(value: str, column: str, errors: list[str]) -> bool | None:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return None
    errors.append(f"{column}: {value!r} is not yes or no")
    return None


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _number(value: str) -> Any:
    text = value.strip().replace(",", "").replace("_", "")
    return int(text) if text.isdigit() else (value.strip() or None)


def request_of(cells: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """A row's cells -> the request's JSON (errors of the cells themselves; the model checks the rest)."""
    errors: list[str] = []
    get = {key: (value or "").strip() for key, value in cells.items()}

    def party(prefix: str) -> dict[str, Any]:
        return {"id": get.get(f"{prefix}_id") or None, "name": get.get(f"{prefix}_name") or None,
                "jurisdiction": (get.get(f"{prefix}_jurisdiction") or "").upper() or None,
                "city": get.get(f"{prefix}_city") or None, "kind": get.get(f"{prefix}_kind") or None,
                "ciio": _flag(get.get(f"{prefix}_ciio", ""), f"{prefix}_ciio", errors)}

    data_set = {"kind": get.get("data_kind") or None, "subjects": _number(get.get("subjects", "")),
                "sensitive": _list(get.get("sensitive", "")), "classification": get.get("classification") or None,
                "tags": _list(get.get("tags", ""))}
    safeguards: dict[str, Any] = {
        "separate_consent": _flag(get.get("separate_consent", ""), "separate_consent", errors),
        "notice_given": _flag(get.get("notice_given", ""), "notice_given", errors),
        "direct_marketing_consent": _flag(get.get("direct_marketing_consent", ""), "direct_marketing_consent", errors),
        "pia_completed_on": get.get("pia_completed_on") or None}
    if get.get("mechanism_type"):
        safeguards["mechanisms"] = [{"type": get["mechanism_type"], "reference": get.get("mechanism_reference") or None,
                                     "effective_on": get.get("mechanism_effective_on") or None,
                                     "filed_on": get.get("mechanism_filed_on") or None,
                                     "expires_on": get.get("mechanism_expires_on") or None}]
    request = {"reference": get.get("reference") or None, "exporter": party("exporter"),
               "recipient": party("recipient"), "purpose": get.get("purpose") or None,
               "mode": get.get("mode") or None, "planned_date": get.get("planned_date") or None,
               "data": [data_set], "safeguards": safeguards,
               "declared_prior": {"personal_subjects": _number(get.get("prior_personal_subjects", "")),
                                  "sensitive_subjects": _number(get.get("prior_sensitive_subjects", ""))}}
    return _without_empty(request), errors


def _without_empty(node: Any) -> Any:
    if isinstance(node, dict):
        cleaned = {k: _without_empty(v) for k, v in node.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, [], {})}
    if isinstance(node, list):
        return [_without_empty(v) for v in node]
    return node


def read_inventory(text: str) -> Iterator[Row]:
    """Rows of a CSV inventory, each with its request or its errors naming line and column."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    if not header:
        raise InventoryError("the file is empty or has no header row")
    unknown = [name for name in header if name not in COLUMN_NAMES]
    if unknown:
        raise InventoryError(f"line 1: unknown column(s) {', '.join(unknown)}; the columns are "
                             f"{', '.join(COLUMN_NAMES)}")
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InventoryError(f"line 1: missing required column(s) {', '.join(missing)}")
    reader.fieldnames = header
    for count, cells in enumerate(reader, start=1):
        if count > MAX_ROWS:
            raise InventoryError(f"more than {MAX_ROWS} rows: send larger inventories to POST /v1/evaluate/batch")
        if None in cells:
            yield Row(reader.line_num, cells.get("reference") or "", None,
                      [f"more cells than the {len(header)} columns of the header"])
            continue
        if not any((value or "").strip() for value in cells.values()):
            continue
        data, errors = request_of(cells)
        request, problems = validate(data)
        errors += [f"{_column_of(path)}: {message}" for path, message in problems.items()]
        yield Row(reader.line_num, (cells.get("reference") or "").strip(), request if not errors else None, errors)


def _column_of(path: str) -> str:
    """A request path back to the CSV column it came from, where there is one."""
    for prefix, column in (("exporter.", "exporter_"), ("recipient.", "recipient_"),
                           ("data.0.kind", "data_kind"), ("data.0.", ""),
                           ("safeguards.mechanisms.0.", "mechanism_"), ("safeguards.", ""),
                           ("declared_prior.", "prior_")):
        if path.startswith(prefix):
            return column + path[len(prefix):] if not prefix.endswith("kind") else column
    return path


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading
    apostrophe, as OWASP's CSV injection advice says: shown as text, never run."""
    return "'" + value if value.startswith(FORMULA_START) else value


RESULT_COLUMNS = ("line", "reference", "outcome", "required", "options", "exemptions", "missing", "errors")


def results_csv(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RESULT_COLUMNS)
    for row in rows:
        decision = row.decision
        cells = [str(row.line), row.reference]
        if decision is not None:
            missing = "; ".join(item.text.en if item.text else "" for item in decision.missing)
            cells += [decision.outcome, decision.mechanism, " ".join(decision.mechanism_options),
                      " ".join(decision.exemptions), missing, ""]
        else:
            cells += ["", "", "", "", "", "; ".join(row.errors)]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return out.getvalue()

"""The assessment form and the request it stands for.

The form's field names are the request's own paths (``exporter.city``, ``data.0.subjects``,
``safeguards.mechanisms.1.expires_on``), so a form turns into the request's JSON by splitting names
on dots, and every validation error (which names a path) lands beside its field. The form keeps what
the person typed even when it does not validate; ``form_values`` goes the other way, for a request
loaded from a file.

Two choosers need a word: a party's jurisdiction is CN, HK, MO or another ISO code typed in
(``*.jurisdiction_other``); a Mainland party's city is one of the nine Greater Bay Area cities or
another city typed in (``*.city_other``). That choice is what decides GBA membership
(``engine.facts.in_gba_mainland``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from api.web.i18n import N_
from engine.errors import problems_from_validation
from engine.models import TransferRequest

OTHER = "other"
BOOLEAN_FIELDS = {"ciio", "new_purpose", "anonymized", "collected_outside_mainland", "separate_consent",
                  "notice_given", "direct_marketing_consent"}
LIST_FIELDS = {"sensitive", "tags"}
INTEGER_FIELDS = {"subjects", "processes_subjects", "personal_subjects", "sensitive_subjects",
                  "previous_year_personal_subjects", "previous_year_sensitive_subjects"}
CHOOSERS = {"jurisdiction": "jurisdiction_other", "city": "city_other"}
PARTY_PREFIXES = ("exporter", "recipient")
_INDEX = re.compile(r"^\d{1,4}$")
NOT_REQUEST = frozenset({"csrf_token", "record_reason"})
"""Form fields that are not part of the request (the reason goes into the ledger's event)."""


def _set(tree: dict[str, Any], path: list[str], value: Any) -> None:
    node: Any = tree
    for part in path[:-1]:
        key: Any = int(part) if _INDEX.match(part) else part
        node = node.setdefault(key, {})  # indices too: _lists turns index-keyed dicts into lists
    last = path[-1]
    node[int(last) if _INDEX.match(last) else last] = value


def _lists(node: Any) -> Any:
    """Dicts keyed by indices -> lists in index order (gaps from removed rows close up)."""
    if isinstance(node, dict):
        if node and all(isinstance(key, int) for key in node):
            return [_lists(node[key]) for key in sorted(node)]
        return {key: _lists(value) for key, value in node.items()}
    return node


def _scalar(name: str, values: list[str]) -> Any:
    leaf = name.rsplit(".", 1)[-1]
    if leaf in LIST_FIELDS:
        return [v for v in values if v]
    value = values[-1].strip() if values else ""
    if leaf in BOOLEAN_FIELDS:
        return value in ("true", "on", "1", "yes")
    if value == "":
        return None
    if leaf in INTEGER_FIELDS and re.fullmatch(r"[0-9][0-9,_ ]*", value):
        return int(re.sub(r"[,_ ]", "", value))
    return value


def _prune(node: Any) -> Any:
    """Leave out empty values, so that the model's defaults apply and a blank optional field is not an
    error; a data set, mechanism or approval row left wholly blank disappears."""
    if isinstance(node, dict):
        pruned = {key: _prune(value) for key, value in node.items()}
        return {key: value for key, value in pruned.items() if value not in (None, {}, [])}
    if isinstance(node, list):
        items = [_prune(item) for item in node]
        return [item for item in items if item not in (None, {})]
    return node


def request_dict(form: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The request's JSON from the form's fields (name, value) pairs."""
    grouped: dict[str, list[str]] = {}
    for name, value in form:
        if name in NOT_REQUEST or not re.fullmatch(r"[a-z_]+(\.[a-z_0-9]+)*", name):
            continue
        grouped.setdefault(name, []).append(value)
    tree: dict[str, Any] = {}
    for name in sorted(grouped):
        path = name.split(".")
        leaf = path[-1]
        if leaf in CHOOSERS.values():
            continue
        value = _scalar(name, grouped[name])
        if leaf in CHOOSERS and value == OTHER:
            typed = grouped.get(".".join([*path[:-1], CHOOSERS[leaf]]), [""])[-1].strip()
            chosen: Any = (typed.upper() if leaf == "jurisdiction" else typed) or None
            value = chosen
        _set(tree, path, value)
    request: dict[str, Any] = _drop_false(_prune(_lists(tree)))
    # Booleans left unticked are False, the model's default too: left out, for a short request.
    return request


def _drop_false(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _drop_false(v) for k, v in node.items() if v is not False}
    if isinstance(node, list):
        return [_drop_false(v) for v in node]
    return node


def validate(data: Mapping[str, Any]) -> tuple[TransferRequest | None, dict[str, str]]:
    """The request, or the errors by field path (the model's own messages, naming the field)."""
    try:
        return TransferRequest.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for problem in problems_from_validation(exc):
            path = re.sub(r"\[(\d+)\]", r".\1", problem.path) or "(request)"
            errors.setdefault(path, problem.message)
        return None, errors


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the form shows for a request's JSON (loaded from a file, or typed before): the nested
    JSON itself, with each party's choosers split into choice and typed text."""
    values: dict[str, Any] = _copy(data)
    for prefix in PARTY_PREFIXES:
        party = values.get(prefix)
        if isinstance(party, dict):
            _split_choosers(party)
    for party in values.get("onward_recipients") or []:
        if isinstance(party, dict):
            _split_choosers(party)
    return values


def _split_choosers(party: dict[str, Any]) -> None:
    from api.web.labels import GBA_CITIES, JURISDICTIONS

    jurisdiction = party.get("jurisdiction")
    if jurisdiction and jurisdiction not in JURISDICTIONS:
        party["jurisdiction_other"], party["jurisdiction"] = jurisdiction, OTHER
    city = party.get("city")
    if city:
        match = next((name for name in GBA_CITIES if name.lower() == str(city).strip().lower()), None)
        if match:
            party["city"] = match
        else:
            party["city_other"], party["city"] = city, OTHER


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


FIELD_LABELS = {
    "reference": N_("Your reference"), "planned_date": N_("Planned date"), "purpose": N_("Purpose"),
    "mode": N_("How"), "exporter": N_("Exporter"), "recipient": N_("Recipient"),
    "onward_recipients": N_("Onward recipient"), "name": N_("Name"), "id": N_("Identifier"),
    "jurisdiction": N_("Where it is"), "city": N_("City (Mainland)"), "kind": N_("Kind of party"),
    "data": N_("Data set"), "subjects": N_("Individuals"), "sensitive": N_("Sensitive personal information in it"),
    "classification": N_("Classification"), "safeguards": N_("Safeguards in place"),
    "mechanisms": N_("Mechanism in place"), "type": N_("Mechanism"), "effective_on": N_("In effect from"),
    "filed_on": N_("Filed on"), "expires_on": N_("Expires on"), "approvals": N_("Approval held"),
    "authority": N_("Authority"), "granted_on": N_("Granted on"),
    "pia_completed_on": N_("Impact assessment completed on"),
    "declared_prior": N_("Earlier volumes this ledger has not recorded"),
}
"""Words for the parts of a field's path, for the list of what is still missing (already translated
where the form shows them)."""


def path_words(path: str) -> list[str]:
    """``data.1.subjects`` -> ["Data set", "2", "Individuals"] (English msgids and numbers from 1)."""
    words = []
    for part in path.split("."):
        words.append(str(int(part) + 1) if part.isdigit() else FIELD_LABELS.get(part, part))
    return words


def field_id(path: str) -> str:
    """The HTML id of a field, from its path (``data.0.subjects`` -> ``f-data-0-subjects``)."""
    return "f-" + path.replace(".", "-")


EMPTY_REQUEST: dict[str, Any] = {
    "exporter": {"jurisdiction": "CN", "kind": "company"},
    "recipient": {"jurisdiction": "HK", "kind": "company"},
    "purpose": "business_services",
    "mode": "provide",
    "data": [{"kind": "personal", "classification": "general"}],
}

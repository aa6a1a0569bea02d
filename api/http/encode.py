"""Decisions as JSON bytes, with the caller's language first in every three-language text.

The engine's ``Messages`` always serialise en, zh-Hans, zh-Hant; ``Accept-Language`` only changes the
order (every language stays, so a client can still show another). English is the engine's own
order, so the common case is pydantic's fast ``model_dump_json`` with no reordering at all.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import to_json

from engine.models import Decision

EXAMPLE_REQUEST: dict[str, Any] = {
    "reference": "GBA-2026-0042",
    "exporter": {"id": "91440300MA5GBA0001", "name": "Nanshan Membership Services Co., Ltd.",
                 "jurisdiction": "CN", "city": "Shenzhen", "kind": "company", "sector": "retail"},
    "recipient": {"id": "71234561", "name": "Harbour Loyalty (HK) Ltd", "jurisdiction": "HK",
                  "kind": "company"},
    "purpose": "business_services",
    "planned_date": "2026-12-01",
    "data": [{"kind": "personal", "subjects": 150000, "classification": "general"}],
    "safeguards": {
        "separate_consent": True, "notice_given": True, "pia_completed_on": "2026-11-01",
        "mechanisms": [{"type": "gba_standard_contract", "reference": "GD-2026-123",
                        "effective_on": "2026-11-10", "filed_on": "2026-11-15"}],
    },
}
"""Shared scenario gba-01: Shenzhen to Hong Kong, 150,000 customers, GBA contract filed in time."""

EXAMPLE_NOTHING_IN_PLACE: dict[str, Any] = {
    **EXAMPLE_REQUEST, "reference": "GBA-2026-0043", "safeguards": {},
}

OPENAPI_EXAMPLES: dict[str, Any] = {
    "gba_contract_filed": {
        "summary": "Shenzhen to Hong Kong, GBA standard contract in place (permitted)",
        "value": EXAMPLE_REQUEST,
    },
    "nothing_in_place": {
        "summary": "The same transfer with no safeguards (conditional: what is missing)",
        "value": EXAMPLE_NOTHING_IN_PLACE,
    },
}


def _reorder(messages: dict[str, str], lang: str) -> dict[str, str]:
    return {lang: messages[lang], **{k: v for k, v in messages.items() if k != lang}}


def decision_dict(decision: Decision, lang: str) -> dict[str, Any]:
    data = decision.model_dump(mode="json")
    if lang != "en":
        for reason in data["reasons"]:
            reason["message"] = _reorder(reason["message"], lang)
        for obligation in data["obligations"]:
            obligation["text"] = _reorder(obligation["text"], lang)
        for item in data["missing"]:
            item["text"] = _reorder(item["text"], lang)
    return data


_FIELDS = ("decision_id", "reference", "outcome", "mechanism", "mechanism_options", "exemptions", "reasons",
           "satisfied_by", "missing", "obligations", "counts", "rules", "evaluated_at")
_JOINED = ("reasons", "satisfied_by", "missing", "obligations")
"""Consecutive fields the engine hands out together (see :func:`_parts_json`), written as one piece."""
_KEYS = {name: (b"{" if i == 0 else b",") + to_json(name) + b":" for i, name in enumerate(_FIELDS)}
_MEMO: dict[int, tuple[Any, bytes]] = {}
_MEMO_LIMIT = 8192


def _memo_json(value: Any) -> bytes:
    """JSON of an immutable part the engine reuses between decisions (reasons, obligation results,
    missing items, the rules info), by identity: the entry holds the object, so its id cannot be
    reused while cached."""
    entry = _MEMO.get(id(value))
    if entry is not None and entry[0] is value:
        return entry[1]
    if len(_MEMO) >= _MEMO_LIMIT:
        _MEMO.clear()
    encoded = to_json(value)
    _MEMO[id(value)] = (value, encoded)
    return encoded


_PARTS: dict[tuple[int, ...], tuple[tuple[Any, ...], bytes]] = {}


def _parts_json(reasons: list[Any], satisfied_by: Any, missing: list[Any], obligations: list[Any]) -> bytes:
    """``"reasons":[...],"satisfied_by":...,"missing":[...],"obligations":[...]`` as one piece, by the
    identities of the items: the engine hands out the same reasons, mechanism in place, missing items
    and obligation results together for every request that fires the same rules on the same facts, so
    these (about 10 KB of a 12 KB decision) are encoded once per set rather than item by item (about
    5 us a decision, measured). The entry holds the items, so no id in a cached key can be reused by
    another object."""
    key = (*map(id, reasons), 0, id(satisfied_by), *map(id, missing), 0, *map(id, obligations))  # ids are never 0
    entry = _PARTS.get(key)
    if entry is not None:
        return entry[1]
    if len(_PARTS) >= _MEMO_LIMIT:
        _PARTS.clear()
    encoded = b"".join((
        _KEYS["reasons"], b"[", b",".join([_memo_json(item) for item in reasons]), b"]",
        _KEYS["satisfied_by"], _memo_json(satisfied_by),
        _KEYS["missing"], b"[", b",".join([_memo_json(item) for item in missing]), b"]",
        _KEYS["obligations"], b"[", b",".join([_memo_json(item) for item in obligations]), b"]"))
    _PARTS[key] = ((*reasons, satisfied_by, *missing, *obligations), encoded)
    return encoded


def _fast_json(decision: Decision) -> bytes:
    """What ``model_dump_json`` writes (same serializer, part by part, byte for byte: a test compares
    them), with the parts the engine reuses between decisions encoded once."""
    values = decision.__dict__
    parts = []
    for name in _FIELDS:
        if name == "reasons":
            parts.append(_parts_json(values["reasons"], values["satisfied_by"], values["missing"],
                                     values["obligations"]))
            continue
        if name in _JOINED:
            continue
        parts.append(_KEYS[name])
        if name == "rules":
            parts.append(_memo_json(values[name]))
        else:
            parts.append(to_json(values[name]))
    parts.append(b"}")
    return b"".join(parts)


FAST_PATH = tuple(Decision.model_fields) == _FIELDS
"""The fast path knows Decision's fields; a new field falls back to model_dump_json until added."""


def decision_json(decision: Decision, lang: str) -> bytes:
    if lang == "en":
        return _fast_json(decision) if FAST_PATH else decision.model_dump_json().encode()
    return dumps(decision_dict(decision, lang))


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

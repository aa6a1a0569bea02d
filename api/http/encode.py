"""Decisions as JSON bytes, with the caller's language first in every three-language text.

The engine's ``Messages`` always serialise en, zh-Hans, zh-Hant; ``Accept-Language`` only changes the
order (every language stays, so a client can still show another). English is the engine's own
order, so the common case is pydantic's fast ``model_dump_json`` with no reordering at all.
"""

from __future__ import annotations

import json
from typing import Any

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
            if "text" in item:
                item["text"] = _reorder(item["text"], lang)
    return data


def decision_json(decision: Decision, lang: str) -> bytes:
    if lang == "en":
        return decision.model_dump_json().encode()
    return dumps(decision_dict(decision, lang))


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

"""An onward recipient elsewhere in the GBA than the recipient's own jurisdiction (a Macao affiliate of a
Hong Kong recipient, a Guangzhou company): the packs read the GBA contract's limit as the GBA as a whole
and allow it; the legal review of 2026-12 calls this contested (C7), so a note gives both readings, with
an unsure text (docs/law/gba.md, 'Eligibility'). Where the reading cannot matter, no note."""

from __future__ import annotations

from typing import Any

import pytest

from engine.evaluator import Engine
from engine.models import Decision, TransferRequest
from tests.engine.conftest import base_request

HONG_KONG = {"id": "HK-1", "name": "HK Test Ltd", "jurisdiction": "HK"}
MACAO = {"id": "MO-1", "name": "Macau Test Ltd", "jurisdiction": "MO"}
ZHUHAI = {"id": "91440400TEST", "name": "Zhuhai Test Co.", "jurisdiction": "CN", "city": "Zhuhai"}


def party(where: str) -> dict[str, Any]:
    if where in ("HK", "MO", "SG"):
        return {"id": f"{where}-9", "name": "Onward Ltd", "jurisdiction": where}
    return {"id": "9144TEST9", "name": "Onward Co.", "jurisdiction": "CN", "city": where}


def decide(engine: Engine, **overrides: Any) -> Decision:
    return engine.evaluate(TransferRequest.model_validate(base_request(**overrides)))


def reasons(decision: Decision) -> dict[str, Any]:
    return {reason.rule: reason for reason in decision.reasons}


@pytest.mark.parametrize(("exporter", "recipient", "onward", "planned_date", "rule"), [
    (None, HONG_KONG, "MO", "2026-12-01", "gba.onward-elsewhere-in-gba"),          # the review's p12
    (None, HONG_KONG, "Guangzhou", "2026-12-01", "gba.onward-elsewhere-in-gba"),   # the review's p13
    (ZHUHAI, MACAO, "HK", "2026-12-01", "gba.onward-elsewhere-in-gba"),
    (ZHUHAI, MACAO, "Foshan", "2024-09-10", "gba.onward-elsewhere-in-gba"),
    (None, HONG_KONG, "MO", "2024-09-09", "gba.onward-elsewhere-in-gba.2023"),     # the HK guidelines only
])
def test_an_onward_recipient_elsewhere_in_the_gba_is_allowed_with_both_readings_given(
        engine: Engine, exporter: dict[str, Any] | None, recipient: dict[str, Any], onward: str, planned_date: str,
        rule: str) -> None:
    # A bank, so that the GBA contract serves during the Hong Kong pilot (to 2024-10-31) as well.
    exporter = {**(exporter or base_request()["exporter"]), "sector": "banking"}
    decision = decide(engine, exporter=exporter, recipient=recipient, planned_date=planned_date,
                      onward_recipients=[party(onward)], data=[{"kind": "personal", "subjects": 150_000}])
    assert "gba_standard_contract" in decision.mechanism_options
    note = reasons(decision)[rule]
    assert note.effect == "note"
    assert note.unsure is not None and "own jurisdiction" in note.unsure and "medium" in note.unsure
    assert "own jurisdiction" in note.message.en and "所在法域" in note.message.zh_Hans
    assert "所在法域" in note.message.zh_Hant


@pytest.mark.parametrize(("recipient", "onward", "planned_date"), [
    (HONG_KONG, ["HK"], "2026-12-01"),              # onward within the recipient's own jurisdiction
    (HONG_KONG, [], "2026-12-01"),                  # no onward recipient
    (HONG_KONG, ["HK", "SG"], "2026-12-01"),        # outside the GBA: the contract does not serve at all
    (MACAO, ["HK"], "2024-09-09"),                  # before the Mainland–Macao guidelines
])
def test_no_note_where_the_reading_does_not_matter(engine: Engine, recipient: dict[str, Any], onward: list[str],
                                                   planned_date: str) -> None:
    exporter = ZHUHAI if recipient is MACAO else None
    decision = decide(engine, **({"exporter": exporter} if exporter else {}), recipient=recipient,
                      planned_date=planned_date, onward_recipients=[party(where) for where in onward])
    assert not [rule for rule in reasons(decision) if rule.startswith("gba.onward-elsewhere")]

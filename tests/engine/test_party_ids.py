"""One exporter, one identity (issue 19 point 4): party ids in one canonical form, invisible characters
refused naming the field, Mainland organisations' ids checked as unified social credit codes (a
warning reason by default, refused with BAYGATE_STRICT_IDS=1)."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from engine.errors import problems_from_validation
from engine.evaluator import Engine
from engine.models import TransferRequest, read_stored_request
from engine.party_ids import UNVERIFIED_RULE
from engine.strict import canonical_party_id
from engine.uscc import ALPHABET as USCC_ALPHABET
from engine.uscc import check_character as uscc_check_character
from engine.uscc import is_uscc

VALID = "91350100M000100Y43"
"""A well-formed unified social credit code (GB 32100-2015's check character: 3)."""


def request(exporter_id: str, **exporter: Any) -> TransferRequest:
    return TransferRequest.model_validate({
        "reference": "ID-1",
        "exporter": {"id": exporter_id, "name": "Qianhai Id Test Co.", "jurisdiction": "CN", "city": "Shenzhen",
                     **exporter},
        "recipient": {"id": "12345678", "name": "Hong Kong Analytics Ltd", "jurisdiction": "HK"},
        "purpose": "business_services", "planned_date": "2026-06-01",
        "data": [{"kind": "personal", "subjects": 1000}],
        "safeguards": {"separate_consent": True, "notice_given": True, "pia_completed_on": "2024-12-01"},
    })


@pytest.mark.parametrize("variant", [
    "91350100m000100y43",                   # lower case
    "91350100M000100Y43 ",                  # a trailing space
    "\u300091350100M000100Y43",             # an ideographic space before it
    "９１３５０１００Ｍ０００１００Ｙ４３",  # full-width digits and letters
    "91350100\uff2d000100y43\u00a0",        # mixed, with a no-break space
])
def test_the_issue_s_variants_are_one_id(variant: str) -> None:
    assert canonical_party_id(variant) == VALID
    assert request(variant).exporter.id == VALID


@pytest.mark.parametrize(("variant", "named"), [
    ("91350100M000100Y43\u200b", "U+200B (ZERO WIDTH SPACE) at position 19"),
    ("\ufeff91350100M000100Y43", "U+FEFF (ZERO WIDTH NO-BREAK SPACE) at position 1"),
    ("91350100\u202eM000100Y43", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("91350100M000100Y43\t", "U+0009"),
    ("91350100\u2066M000100Y43", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
])
def test_invisible_characters_are_refused_naming_the_field(variant: str, named: str) -> None:
    with pytest.raises(ValidationError) as raised:
        request(variant)
    (error,) = raised.value.errors()
    assert error["loc"] == ("exporter", "id") and named in error["msg"]


def test_a_recipient_s_id_is_canonical_too_and_an_empty_one_refused() -> None:
    document = request(VALID).model_dump(mode="json")
    document["recipient"]["id"] = " 12345678\u3000"
    assert TransferRequest.model_validate(document).recipient.id == "12345678"
    document["recipient"]["id"] = "\u3000 "
    with pytest.raises(ValidationError, match="empty once spaces are trimmed"):
        TransferRequest.model_validate(document)


def test_a_stored_request_reads_its_id_as_recorded() -> None:
    document = request(VALID).model_dump(mode="json")
    document["exporter"]["id"] = "91350100m000100y43 "
    assert read_stored_request(document).exporter.id == "91350100m000100y43 "


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_the_canonical_form_is_idempotent_and_nfkc_stable(text: str) -> None:
    try:
        once = canonical_party_id(text)
    except ValueError:
        return
    assert canonical_party_id(once) == once
    assert unicodedata.normalize("NFKC", once) == once
    assert once == once.strip(" ") and once
    assert all(char.isprintable() for char in once)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_the_check_character_is_computed_and_any_one_change_breaks_it(first17: str) -> None:
    code = first17 + uscc_check_character(first17)
    assert is_uscc(code)
    for position in range(18):
        for other in USCC_ALPHABET[:5]:
            if other != code[position]:
                changed = code[:position] + other + code[position + 1:]
                assert not is_uscc(changed)


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110108551385082Q", "914403001922038216"])
def test_published_codes_are_well_formed(code: str) -> None:
    assert is_uscc(code)


@pytest.mark.parametrize("code", ["91350100M000100Y44", "91350100M000100Y4", "91350100I000100Y43",
                                  "91350100M000100Y43X", "91440300MA5LEDGER1"])
def test_malformed_codes_are_not(code: str) -> None:
    assert not is_uscc(code)


@pytest.fixture(scope="module")
def engine() -> Engine:
    from tests.ledger.conftest import RULES
    return Engine.from_directory(RULES)


def test_a_mainland_organisation_s_malformed_id_is_a_warning_reason_in_three_languages(engine: Engine) -> None:
    decision = engine.evaluate(request("91440300MA5LEDGER1"))
    (reason,) = [reason for reason in decision.reasons if reason.rule == UNVERIFIED_RULE]
    assert reason.effect == "note" and reason.facts == {"exporter.id": "91440300MA5LEDGER1"}
    messages = reason.message.model_dump(by_alias=True)
    assert set(messages) == {"en", "zh-Hans", "zh-Hant"} and all("91440300MA5LEDGER1" in m for m in messages.values())
    assert "统一社会信用代码" in messages["zh-Hans"] and "統一社會信用代碼" in messages["zh-Hant"]
    assert decision.outcome == engine.evaluate(request(VALID)).outcome  # a warning: it decides nothing


@pytest.mark.parametrize("exporter", [{"id": VALID}, {"id": "L1234567", "kind": "individual"},
                                      {"id": "12345678", "jurisdiction": "HK", "city": None}])
def test_no_warning_for_a_well_formed_code_an_individual_or_another_jurisdiction(
        engine: Engine, exporter: dict[str, Any]) -> None:
    decision = engine.evaluate(request(exporter["id"], **{k: v for k, v in exporter.items() if k != "id"}))
    assert UNVERIFIED_RULE not in [reason.rule for reason in decision.reasons]


def test_strict_ids_refuse_a_malformed_code_naming_the_field(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAYGATE_STRICT_IDS", "1")
    with pytest.raises(ValidationError) as raised:
        request("91440300MA5LEDGER1")
    (error,) = raised.value.errors()
    assert error["loc"] == ("exporter", "id") and "not a well-formed unified social credit code" in error["msg"]
    problems = problems_from_validation(raised.value)
    assert [problem.path for problem in problems] == ["exporter.id"]
    assert engine.evaluate(request(VALID)).outcome  # a well-formed one is decided
    assert engine.evaluate(request("L1234567", kind="individual")).outcome  # an individual's is any id
    document = request(VALID).model_dump(mode="json")
    document["exporter"]["id"] = "91440300MA5LEDGER1"
    assert read_stored_request(document).exporter.id == "91440300MA5LEDGER1"  # recorded before: read as it was

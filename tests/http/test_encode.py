"""The HTTP layer's hand-written decision encoder (api/http/encode.py, a performance path) writes
what the model writes.

Every shared and project scenario is decided in-process and encoded both ways, twice (the second
time from the encoder's caches): byte for byte in English, the same JSON with the caller's language
first in Chinese. A field added to ``Decision`` without the encoder knowing it fails here.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import yaml

from api.http.encode import FAST_PATH, decision_json
from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.models import TransferRequest
from engine.rulespec import load_pack_set
from tests.engine.conftest import ROOT, load_scenarios

MORE = yaml.safe_load((ROOT / "tests" / "data" / "more-scenarios.yaml").read_text(encoding="utf-8"))["scenarios"]
REQUESTS: list[dict[str, Any]] = [s["request"] for s in load_scenarios()] + [s["request"] for s in MORE]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_pack_set(ROOT / "rules"))


def test_the_fast_path_knows_every_field_of_the_decision() -> None:
    assert FAST_PATH, "Decision has fields api/http/encode.py does not write: add them to _FIELDS"


@pytest.mark.parametrize("index", range(len(REQUESTS)))
def test_english_is_byte_for_byte_the_models_json(engine: Engine, index: int) -> None:
    request = TransferRequest.model_validate(REQUESTS[index])
    for prior in (PriorCounts(), PriorCounts(personal_subjects=950_000, populations={"members": 10})):
        for as_of in (None, dt.date(2026, 1, 1)):  # the rules info (reused per day) says the day
            decision = engine.evaluate(request, prior, as_of=as_of)
            assert decision_json(decision, "en") == decision.model_dump_json().encode()
            second = engine.evaluate(request, prior, as_of=as_of)  # another id, the same parts: from the caches
            assert decision_json(second, "en") == second.model_dump_json().encode()


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_chinese_is_the_same_json_with_that_language_first(engine: Engine, lang: str) -> None:
    for body in REQUESTS:
        decision = engine.evaluate(TransferRequest.model_validate(body))
        encoded = json.loads(decision_json(decision, lang))
        assert encoded == json.loads(decision.model_dump_json())
        texts = [r["message"] for r in encoded["reasons"]] + [m["text"] for m in encoded["missing"]]
        texts += [o["text"] for o in encoded["obligations"]]
        assert all(next(iter(text)) == lang for text in texts)

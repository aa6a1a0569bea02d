"""The HTTP service's fast decision encoder (a performance path) writes exactly what pydantic's
``model_dump_json`` writes, byte for byte, for every shared scenario, also when the engine hands out
parts it reused from earlier decisions (reasons, obligation results, missing items, rules info)."""

from __future__ import annotations

import datetime as dt

from api.bench.inprocess import sample_requests, shipped_engine
from api.http import encode
from engine.facts import PriorCounts


def test_fast_encoder_is_byte_identical_to_model_dump_json() -> None:
    assert encode.FAST_PATH, "Decision gained or reordered a field: add it to encode._FIELDS"
    engine = shipped_engine()
    for prior in (PriorCounts(), PriorCounts(personal_subjects=950_000, populations={"members": 10})):
        for as_of in (None, dt.date(2026, 1, 1)):  # the rules info (reused per day) says the day
            for request in sample_requests():
                for _ in range(2):  # the second time from the caches
                    decision = engine.evaluate(request, prior, as_of=as_of)
                    assert encode.decision_json(decision, "en") == decision.model_dump_json().encode()

"""The decision text the ledger records (``engine.ledger.decision_text``) is, byte for byte, the canonical
JSON of the whole decision: its SHA-256 is in the chain, and a text that differed in one byte from what
``canonical(decision.model_dump(mode="json"))`` gives would make replays and checks that recompute it
disagree with what was recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.canonical_json import canonical
from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.ledger import decision_text
from engine.models import Decision
from tests.engine.test_decide_caches import PRIORS, all_scenario_requests


def whole(decision: Decision) -> str:
    return canonical(decision.model_dump(mode="json"))


def test_every_scenario_under_every_prior_records_the_canonical_text(ledger_engine: Engine) -> None:
    assert decision_text.FAST_PATH
    requests = all_scenario_requests()
    for prior in PRIORS:
        for request in requests:  # later decisions reuse the parts earlier ones encoded
            decision = ledger_engine.evaluate(request, prior, as_of=dt.date(2026, 11, 25))
            assert decision_text.decision_canonical(decision) == whole(decision), request.reference


# Facts a rule read are free JSON (``Reason.facts``): floats, unicode, control characters, nesting.
facts = st.dictionaries(st.text(max_size=6), st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8")),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12), max_size=4)


@settings(max_examples=80, deadline=None)
@given(read=facts, reference=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12),
       subjects=st.integers(min_value=0, max_value=10**12))
def test_any_facts_and_reference_give_the_canonical_text(ledger_engine: Engine, read: dict[str, Any],
                                                         reference: str, subjects: int) -> None:
    request = all_scenario_requests()[0]
    decision = ledger_engine.evaluate(request, PriorCounts(personal_subjects=subjects))
    reasons = [reason.model_copy(update={"facts": read}) for reason in decision.reasons]
    changed = decision.model_copy(update={"reasons": reasons, "reference": reference})
    assert decision_text.decision_canonical(changed) == whole(changed)


def test_a_part_is_encoded_once_and_a_new_object_anew(ledger_engine: Engine) -> None:
    decision = ledger_engine.evaluate(all_scenario_requests()[0], PriorCounts())
    reason = decision.reasons[0]
    first = decision_text.part_text(reason)
    assert decision_text.part_text(reason) is first  # kept by identity
    other = reason.model_copy(update={"citation": reason.citation + " (other)"})
    assert decision_text.part_text(other) == canonical(other.model_dump(mode="json")) != first

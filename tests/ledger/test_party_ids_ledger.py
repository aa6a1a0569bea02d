"""One exporter, one identity in the ledger (issue 19 point 4), on SQLite and PostgreSQL: after 900,000
individuals counted for one id, the same id in lower case, with a trailing space or in full-width
characters counts on from 900,000 (the issue: it started again from 0 and got a lighter route); with a
zero-width character or a BOM it is refused, so it cannot start again either."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from engine.evaluator import Engine
from engine.ledger import Ledger
from tests.ledger.conftest import transfer

CODE = "91350100M000100Y43"
CONTRACT = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2025-12-01",
            "mechanisms": [{"type": "standard_contract", "reference": "SC-2026-1", "effective_on": "2026-01-05",
                            "filed_on": "2026-01-10"}]}


@pytest.mark.parametrize("variant", ["91350100m000100y43", "91350100M000100Y43 ",
                                     "９１３５０１００Ｍ０００１００Ｙ４３"])
def test_a_variant_of_the_id_counts_on_from_the_same_total(ledger: Ledger, ledger_engine: Engine, variant: str) -> None:
    first = ledger.submit(ledger_engine, transfer("ID-1", 900_000, exporter_id=CODE, safeguards=CONTRACT))
    assert first.decision.outcome == "permitted"
    again = ledger.submit(ledger_engine, transfer("ID-2", 200_000, exporter_id=variant, safeguards=CONTRACT))
    assert again.decision.counts.personal_subjects_before == 900_000
    assert again.decision.outcome == "conditional"  # over 1,000,000: the security assessment
    assert ledger.get("ID-2").exporter_id == CODE
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 900_000
    replay = ledger.submit(ledger_engine, transfer("ID-1", 900_000, exporter_id=variant, safeguards=CONTRACT))
    assert replay.replayed  # the same (exporter, reference): the recorded decision, not a second count


@pytest.mark.parametrize("variant", ["91350100M000100Y43\u200b", "\ufeff91350100M000100Y43"])
def test_a_zero_width_variant_is_refused_before_anything_is_counted(variant: str) -> None:
    with pytest.raises(ValidationError, match="invisible characters are not accepted in an id"):
        transfer("ID-3", 1_000, exporter_id=variant)

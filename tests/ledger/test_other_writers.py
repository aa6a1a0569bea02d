"""Bulk groups are decided ahead of the write lock only while another writer is seen
(``engine.ledger.other_writers``): alone, a process decides each transfer once; once another writer's
events are found in the audit chain between two of its groups, its next groups are decided ahead
again. Either way the decisions are the same (``engine.fired_ahead``); here, which way each group went.
"""

from __future__ import annotations

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.other_writers import OtherWriters
from tests.ledger.conftest import EXPORTER, transfer


def test_a_sighting_keeps_deciding_ahead_for_some_groups_then_lapses() -> None:
    seen = OtherWriters()
    seen.found_head(10)  # no group of ours committed yet: nothing to compare with
    assert not seen.decide_ahead
    seen.committed(12)
    seen.found_head(12)  # where we left it: alone
    assert not seen.decide_ahead
    seen.committed(14)
    seen.found_head(15)  # someone appended an event in between
    assert seen.decide_ahead
    for _ in range(OtherWriters.GROUPS - 1):
        seen.committed(seen.last_own_head + 2)  # type: ignore[operator]
        seen.found_head(seen.last_own_head)  # type: ignore[arg-type]
        assert seen.decide_ahead
    seen.found_head(seen.last_own_head)  # type: ignore[arg-type]
    assert not seen.decide_ahead
    assert OtherWriters(always=True).decide_ahead


def test_a_process_alone_decides_once_and_ahead_after_another_writer(
        ledger: Ledger, ledger_url: str, ledger_engine: Engine, decided_ahead: list[str]) -> None:
    alone = list(ledger.submit_many(ledger_engine, (transfer(f"A-{n}", 1_000) for n in range(9)), group=3))
    assert len(alone) == 9 and decided_ahead == []  # three groups, nobody else writing
    other = Ledger(ledger_url)  # another replica's writer
    try:
        other.submit(ledger_engine, transfer("O-1", 500))
    finally:
        other.close()
    after = list(ledger.submit_many(ledger_engine, (transfer(f"B-{n}", 1_000) for n in range(6)), group=3))
    assert decided_ahead == [f"B-{n}" for n in range(3, 6)]  # the first group finds the other's event
    assert [r.decision.counts.personal_subjects_before for r in after] == [9_500 + 1_000 * n for n in range(6)]
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 15_500
    assert ledger.verify().ok

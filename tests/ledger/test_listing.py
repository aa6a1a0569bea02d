"""Listing recorded transfers (``Ledger.list_transfers``) and the decision log (``Ledger.decisions_after``)
on both databases: filters, newest-first pages that follow their cursors without a gap or a repeat,
and the log in chain order, recorded decisions only."""

from __future__ import annotations

import pytest

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.listing import BadCursor, TransferQuery
from tests.ledger.conftest import transfer

OTHER = "91440300MA5LISTOTHER"


@pytest.fixture
def filled(ledger: Ledger, ledger_engine: Engine) -> Ledger:
    """12 transfers: 8 of the default exporter (7 permitted, then 1 conditional over 100,000), 4 of
    OTHER in 2025; the third is withdrawn."""
    for index in range(7):
        ledger.submit(ledger_engine, transfer(f"L-{index}", 10_000))
    ledger.submit(ledger_engine, transfer("L-BIG", 60_000))  # 130,000 this year: a contract is missing
    for index in range(4):
        ledger.submit(ledger_engine, transfer(f"O-{index}", 1_000, exporter_id=OTHER, planned_date="2025-06-01"))
    ledger.withdraw("L-2")
    return ledger


def every_page(ledger: Ledger, **filters: object) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = ledger.list_transfers(TransferQuery(**filters, cursor=cursor))  # type: ignore[arg-type]
        pages.append([item.reference for item in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_pages_newest_first_without_a_gap_or_a_repeat(filled: Ledger) -> None:
    pages = every_page(filled, limit=5)
    assert [len(page) for page in pages] == [5, 5, 2]
    references = [ref for page in pages for ref in page]
    assert references == ["O-3", "O-2", "O-1", "O-0", "L-BIG", "L-6", "L-5", "L-4", "L-3", "L-2", "L-1", "L-0"]
    one_page = filled.list_transfers(TransferQuery(limit=12))
    assert one_page.next_cursor is None and len(one_page.items) == 12


def test_filters(filled: Ledger) -> None:
    assert every_page(filled, exporter_id=OTHER) == [["O-3", "O-2", "O-1", "O-0"]]
    assert every_page(filled, year=2025) == [["O-3", "O-2", "O-1", "O-0"]]
    assert every_page(filled, outcome="conditional") == [["L-BIG"]]
    assert every_page(filled, status="withdrawn") == [["L-2"]]
    recorded = [ref for page in every_page(filled, status="recorded", limit=3) for ref in page]
    assert len(recorded) == 11 and "L-2" not in recorded
    assert every_page(filled, exporter_id="nobody") == [[]]


def test_items_say_their_state_and_what_they_counted(filled: Ledger) -> None:
    items = {item.reference: item for item in filled.list_transfers(TransferQuery(limit=20)).items}
    assert (items["L-2"].status, items["L-2"].withdrawn_at is not None) == ("withdrawn", True)
    assert (items["L-BIG"].outcome, items["L-BIG"].counted, items["L-BIG"].counted_personal_subjects) == (
        "conditional", False, 0)
    assert (items["L-0"].counted, items["L-0"].counted_personal_subjects, items["L-0"].year) == (True, 10_000, 2026)


@pytest.mark.parametrize("cursor", ["", "x12", "s", "s!!", "s" + "v" * 30])
def test_a_cursor_not_handed_out_is_refused(filled: Ledger, cursor: str) -> None:
    with pytest.raises(BadCursor):
        filled.list_transfers(TransferQuery(cursor=cursor))


def test_the_decision_log_follows_the_chain_and_skips_withdrawals(filled: Ledger) -> None:
    first = filled.decisions_after(0, 5)
    assert [entry.decision.reference for entry in first] == ["L-0", "L-1", "L-2", "L-3", "L-4"]
    rest = filled.decisions_after(first[-1].seq, 100)
    assert [entry.decision.reference for entry in rest] == ["L-5", "L-6", "L-BIG", "O-0", "O-1", "O-2", "O-3"]
    seqs = [entry.seq for entry in first + rest]
    assert seqs == sorted(seqs) and len(set(seqs)) == 12
    assert filled.decisions_after(seqs[-1], 10) == []
    line = rest[-1].as_json()
    assert line.startswith(f'{{"seq":{seqs[-1]},"exporter_id":"{OTHER}"') and '"decision":{"decision_id"' in line

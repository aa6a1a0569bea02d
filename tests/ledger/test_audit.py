"""Tampering with the ledger through raw SQL is found by ``verify``, which names the first bad event.

Each test records a few events through the API, changes the database as an insider with SQL access
would, and checks both that verification fails and which event it blames.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.audit import canonical, chain_hash
from tests.ledger.conftest import edit_stored_texts, transfer


@pytest.fixture
def recorded(ledger: Ledger, ledger_engine: Engine) -> dict[str, int]:
    """Three submissions and one withdrawal after the pack events; maps reference -> event seq."""
    seqs = {}
    for reference, subjects in (("A-1", 10_000), ("A-2", 20_000), ("A-3", 30_000)):
        ledger.submit(ledger_engine, transfer(reference, subjects))
        seqs[reference] = ledger.get(reference).event_seq
    ledger.withdraw("A-2")
    seqs["withdrawal"] = seqs["A-3"] + 1
    assert ledger.verify().ok
    return seqs


def sql(ledger: Ledger, statement: str, **params: Any) -> None:
    with ledger.sql_engine.begin() as conn:
        conn.execute(text(statement), params)


def test_an_untouched_chain_verifies(ledger: Ledger, recorded: dict[str, int]) -> None:
    result = ledger.verify()
    assert result.ok and result.first_bad is None and result.problem is None
    assert result.events == recorded["withdrawal"]


def test_editing_a_count_is_named_by_its_submission_event(ledger: Ledger, recorded: dict[str, int]) -> None:
    sql(ledger, "UPDATE transfers SET personal_subjects = 1 WHERE reference = 'A-1'")
    result = ledger.verify()
    assert not result.ok
    assert result.first_bad == recorded["A-1"]
    assert "personal_subjects was edited" in (result.problem or "")


def test_editing_a_stored_decision_is_found(ledger: Ledger, recorded: dict[str, int]) -> None:
    edit_stored_texts(ledger, "A-3", lambda request, decision: (request, decision.replace("permitted", "prohibited")))
    result = ledger.verify()
    assert result.first_bad == recorded["A-3"]
    assert "decision_sha256 was edited" in (result.problem or "")


def test_editing_an_event_body_is_found(ledger: Ledger, recorded: dict[str, int]) -> None:
    sql(ledger, "UPDATE events SET body = replace(body, '20000', '2000') WHERE seq = :seq", seq=recorded["A-2"])
    result = ledger.verify()
    assert result.first_bad == recorded["A-2"]
    assert "edited" in (result.problem or "")


def test_rehashing_an_edited_event_breaks_the_link_to_the_next(ledger: Ledger, recorded: dict[str, int]) -> None:
    with ledger.sql_engine.begin() as conn:
        row = conn.execute(text("SELECT body, prev_hash FROM events WHERE seq = :s"), {"s": recorded["A-1"]}).one()
        body = row.body.replace('"personal_subjects":10000', '"personal_subjects":1')
        conn.execute(text("UPDATE events SET body = :b, hash = :h WHERE seq = :s"),
                     {"b": body, "h": chain_hash(row.prev_hash, body), "s": recorded["A-1"]})
        conn.execute(text("UPDATE transfers SET personal_subjects = 1 WHERE reference = 'A-1'"))
    result = ledger.verify()
    assert result.first_bad == recorded["A-1"] + 1
    assert "does not follow" in (result.problem or "")


def test_deleting_an_event_is_found(ledger: Ledger, recorded: dict[str, int]) -> None:
    sql(ledger, "DELETE FROM events WHERE seq = :seq", seq=recorded["A-2"])
    result = ledger.verify()
    assert result.first_bad == recorded["A-2"]
    assert "deleted" in (result.problem or "")


def test_deleting_a_transfer_is_named_by_its_event(ledger: Ledger, recorded: dict[str, int]) -> None:
    sql(ledger, "DELETE FROM transfers WHERE reference = 'A-1'")
    result = ledger.verify()
    assert result.first_bad == recorded["A-1"]
    assert "deleted" in (result.problem or "")


def test_deleting_the_newest_events_is_found_by_the_head(ledger: Ledger, recorded: dict[str, int]) -> None:
    sql(ledger, "UPDATE transfers SET withdrawn_at = NULL, withdrawn_seq = NULL WHERE reference = 'A-2'")
    sql(ledger, "DELETE FROM events WHERE seq = :seq", seq=recorded["withdrawal"])
    result = ledger.verify()
    assert not result.ok
    assert result.first_bad == recorded["withdrawal"]
    assert "newest events were deleted" in (result.problem or "")


def test_inserting_an_event_in_the_middle_is_found(ledger: Ledger, recorded: dict[str, int]) -> None:
    with ledger.sql_engine.begin() as conn:
        at = recorded["A-2"]
        last = conn.execute(text("SELECT max(seq) FROM events")).scalar()
        for seq in range(int(last), at - 1, -1):  # make room, one row at a time (unique seq)
            conn.execute(text("UPDATE events SET seq = seq + 1 WHERE seq = :s"), {"s": seq})
        prev = conn.execute(text("SELECT hash FROM events WHERE seq = :s"), {"s": at - 1}).scalar()
        body = canonical({"seq": at, "kind": "note", "subject": "forged", "at": "2026-01-01", "data": {}})
        conn.execute(text("INSERT INTO events (seq, kind, subject, body, prev_hash, hash) "
                          "VALUES (:s, 'note', 'forged', :b, :p, :h)"),
                     {"s": at, "b": body, "p": prev, "h": chain_hash(str(prev), body)})
    result = ledger.verify()
    assert result.first_bad == at
    assert "unknown event kind" in (result.problem or "")


def test_inserting_a_transfer_without_an_event_is_found(ledger: Ledger, recorded: dict[str, int]) -> None:
    sql(ledger, "INSERT INTO transfers (decision_id, exporter_id, reference, request_sha256, request_json, "
                "decision_json, outcome, year, counted, personal_subjects, sensitive_subjects, rules_digest, "
                "recorded_at, event_seq) SELECT 'FORGED0000000000000000000X', exporter_id, 'A-9', "
                "request_sha256, request_json, decision_json, outcome, year, counted, 50000, 0, rules_digest, "
                "recorded_at, 999 FROM transfers WHERE reference = 'A-1'")
    sql(ledger, "UPDATE transfers SET record = (SELECT record FROM transfers WHERE reference = 'A-1') "
                "WHERE reference = 'A-9'")
    result = ledger.verify()
    assert result.first_bad == "transfer FORGED0000000000000000000X"
    assert "inserted" in (result.problem or "")


def test_reordering_events_is_found(ledger: Ledger, recorded: dict[str, int]) -> None:
    first, second = recorded["A-1"], recorded["A-2"]
    with ledger.sql_engine.begin() as conn:
        conn.execute(text("UPDATE events SET seq = -1 WHERE seq = :s"), {"s": first})
        conn.execute(text("UPDATE events SET seq = :a WHERE seq = :b"), {"a": first, "b": second})
        conn.execute(text("UPDATE events SET seq = :b WHERE seq = -1"), {"b": second})
    result = ledger.verify()
    assert result.first_bad == first
    assert not result.ok


def test_editing_a_stored_pack_is_named_by_its_pack_event(ledger: Ledger, recorded: dict[str, int]) -> None:
    sql(ledger, "UPDATE packs SET content = replace(content, '100000', '1000000') "
                "WHERE event_seq = (SELECT min(event_seq) FROM packs WHERE content LIKE '%100000%')")
    result = ledger.verify()
    assert not result.ok
    assert isinstance(result.first_bad, int) and result.first_bad < recorded["A-1"]
    assert "pack" in (result.problem or "")


def test_unwithdrawing_a_transfer_is_found(ledger: Ledger, recorded: dict[str, int]) -> None:
    sql(ledger, "UPDATE transfers SET withdrawn_at = NULL WHERE reference = 'A-2'")
    assert ledger.verify().first_bad == recorded["withdrawal"]

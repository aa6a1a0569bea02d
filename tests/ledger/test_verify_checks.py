"""One test per check of ``audit verify`` that no other test needs (issue 19 point 6): each edit here is
found by exactly the check it names, and the test asserts that check's wording, so removing the check
makes the test fail even where another check would still call the ledger broken.

Found by neutralising each check in turn and running the ledger tests: before these tests, removing the
hash comparison, the body's JSON and column checks, the idempotency-key check, the checks of pack
rows, of the head's hash, of the withdrawn state, of a pack without an event, of the chain's deleted
withdrawal row, of transfers recorded before revision 0005 and of the retally left every test green.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.audit import chain_hash, sha256
from tests.ledger.conftest import ROOT, edit_stored_texts, transfer
from tests.ledger.insider import Event, rewrite_chain, scalar, sql


@pytest.fixture
def recorded(ledger: Ledger, ledger_engine: Engine) -> dict[str, int]:
    """A counted transfer, a conditional (uncounted) one, a counted one naming a population, a
    withdrawal; maps reference -> event seq."""
    ledger.submit(ledger_engine, transfer("V-1", 10_000))
    ledger.submit(ledger_engine, transfer("V-2", 150_000))  # conditional: over 100,000 without a contract
    ledger.submit(ledger_engine, transfer("V-3", data=[{"kind": "personal", "subjects": 5_000,
                                                        "population": "members"}]))
    ledger.submit(ledger_engine, transfer("V-4", 2_000))
    ledger.withdraw("V-4")
    found = {reference: ledger.get(reference).event_seq for reference in ("V-1", "V-2", "V-3", "V-4")}
    found["withdrawal"] = found["V-4"] + 1
    assert ledger.get("V-2").decision.outcome == "conditional"
    assert ledger.verify().ok
    return found


def problem(ledger: Ledger) -> tuple[int | str | None, str]:
    result = ledger.verify()
    assert not result.ok
    return result.first_bad, result.problem or ""


def first_pack_event(ledger: Ledger) -> int:
    return int(scalar(ledger, "SELECT min(seq) FROM events WHERE kind = 'pack'"))


def test_an_edit_no_row_is_checked_against_is_found_by_the_hash(ledger: Ledger, recorded: dict[str, int]) -> None:
    seq = first_pack_event(ledger)
    sql(ledger, "UPDATE events SET body = replace(body, '\"version\":\"', '\"version\":\"9') WHERE seq = :s", s=seq)
    assert problem(ledger) == (seq, f"event {seq}: its content does not match its hash (edited)")


def test_a_body_that_is_not_json_is_named_even_with_its_hash_made_right(ledger: Ledger,
                                                                        recorded: dict[str, int]) -> None:
    seq = recorded["V-1"]
    with ledger.sql_engine.begin() as conn:
        prev = conn.execute(text("SELECT prev_hash FROM events WHERE seq = :s"), {"s": seq}).scalar()
        conn.execute(text("UPDATE events SET body = 'not json', hash = :h WHERE seq = :s"),
                     {"h": chain_hash(str(prev), "not json"), "s": seq})
    assert problem(ledger) == (seq, f"event {seq}: its body is not JSON (edited)")


@pytest.mark.parametrize("column", ["kind", "subject"])
def test_an_event_column_that_differs_from_its_hashed_body_is_named(ledger: Ledger, recorded: dict[str, int],
                                                                   column: str) -> None:
    """The columns are what lookups use; only the body is hashed."""
    seq = recorded["V-1"]
    other = "withdrawal" if column == "kind" else ledger.get("V-2").decision.decision_id
    sql(ledger, f"UPDATE events SET {column} = :v WHERE seq = :s", v=other, s=seq)
    assert problem(ledger) == (seq, f"event {seq}: seq, kind or subject differ from the hashed body "
                                    "(edited or reordered)")


def test_an_edited_idempotency_key_is_named(ledger: Ledger, recorded: dict[str, int]) -> None:
    """request_sha256 decides whether a request sent again is the same (replayed) or a conflict."""
    decision_id = ledger.get("V-1").decision.decision_id
    sql(ledger, "UPDATE transfers SET request_sha256 = :h WHERE reference = 'V-1'", h="0" * 64)
    assert problem(ledger) == (recorded["V-1"], f"event {recorded['V-1']}: transfer {decision_id}: its "
                                                "idempotency key (request_sha256) was edited")


# Every field a submission event hashes about its row, and an edit of the row's column that reads back
# unlike the hashed value on both backends.
FIELD_EDITS = [
    ("exporter", "exporter_id = 'SOMEONE-ELSE'"),
    ("reference", "reference = 'V-1-EDITED'"),
    ("decision_sha256", None),  # the decision's text, however it is stored (edit_stored_texts)
    ("outcome", "outcome = 'conditional'"),
    ("year", "year = 2025"),
    ("counted", "counted = false"),
    ("personal_subjects", "personal_subjects = 1"),
    ("sensitive_subjects", "sensitive_subjects = 7"),
    ("rules_digest", "rules_digest = 'sha256:edited'"),
    ("recorded_at", "recorded_at = '2020-01-01T00:00:00+00:00'"),
]


@pytest.mark.parametrize(("field", "edit"), FIELD_EDITS, ids=[field for field, _ in FIELD_EDITS])
def test_each_hashed_field_of_a_transfer_is_checked(ledger: Ledger, recorded: dict[str, int], field: str,
                                                   edit: str | None) -> None:
    decision_id = ledger.get("V-1").decision.decision_id
    if edit is None:
        edit_stored_texts(ledger, "V-1",
                          lambda request, decision: (request, decision.replace("permitted", "prohibited")))
    else:
        sql(ledger, f"UPDATE transfers SET {edit} WHERE decision_id = :d", d=decision_id)
    seq = recorded["V-1"]
    assert problem(ledger) == (seq, f"event {seq}: transfer {decision_id}: {field} was edited")


def test_a_withdrawal_of_a_transfer_never_submitted_is_named(ledger: Ledger, recorded: dict[str, int]) -> None:
    """An insider's forged withdrawal, with the chain hashed again after it."""
    forged: Event = {"kind": "withdrawal", "subject": "01FORGED00000000000000000X", "at": "2026-06-02T00:00:00",
                     "data": {"exporter": "X", "reference": "X", "released_personal_subjects": 0,
                              "released_sensitive_subjects": 0}}
    rewrite_chain(ledger, lambda _conn, chain: [*chain, forged])
    newest = recorded["withdrawal"] + 1
    assert problem(ledger) == (newest, f"event {newest}: withdrawn transfer 01FORGED00000000000000000X was deleted")


def test_marking_a_transfer_withdrawn_without_a_withdrawal_is_named(ledger: Ledger, recorded: dict[str, int]) -> None:
    """V-2 was not counted, so its totals cannot give the edit away: only the withdrawn state can."""
    decision_id = ledger.get("V-2").decision.decision_id
    sql(ledger, "UPDATE transfers SET withdrawn_at = '2026-06-03T00:00:00+00:00' WHERE reference = 'V-2'")
    seq = recorded["V-2"]
    assert problem(ledger) == (seq, f"event {seq}: transfer {decision_id} is marked withdrawn against the chain "
                                    "(edited)")


def test_a_deleted_pack_is_named_by_its_event(ledger: Ledger, recorded: dict[str, int]) -> None:
    seq = first_pack_event(ledger)
    digest = scalar(ledger, "SELECT digest FROM packs WHERE event_seq = :s", s=seq)
    sql(ledger, "DELETE FROM packs WHERE event_seq = :s", s=seq)
    assert problem(ledger) == (seq, f"event {seq}: pack {digest} was deleted")


def test_a_pack_text_edited_where_its_digest_does_not_look_is_named(ledger: Ledger,
                                                                    recorded: dict[str, int]) -> None:
    """A comment changes no rule (the digest is of the parsed pack), but the stored text is evidence."""
    seq = first_pack_event(ledger)
    digest = scalar(ledger, "SELECT digest FROM packs WHERE event_seq = :s", s=seq)
    sql(ledger, "UPDATE packs SET content = content || '\n# edited\n' WHERE event_seq = :s", s=seq)
    assert problem(ledger) == (seq, f"event {seq}: pack {digest}: its stored text was edited")


def test_a_pack_text_and_its_event_edited_together_are_named_by_the_digest(ledger: Ledger,
                                                                           recorded: dict[str, int]) -> None:
    seq = first_pack_event(ledger)
    digest = scalar(ledger, "SELECT digest FROM packs WHERE event_seq = :s", s=seq)
    content = str(scalar(ledger, "SELECT content FROM packs WHERE event_seq = :s", s=seq))
    edited = content.replace('cite: "', 'cite: "EDITED ', 1)
    assert edited != content

    def edit(conn: Connection, chain: list[Event]) -> list[Event]:
        conn.execute(text("UPDATE packs SET content = :c WHERE event_seq = :s"), {"c": edited, "s": seq})
        for event in chain:
            if event["seq"] == seq:
                event["data"]["content_sha256"] = sha256(edited)
        return chain

    rewrite_chain(ledger, edit)
    assert problem(ledger) == (seq, f"event {seq}: pack {digest}: its stored text does not have its digest")


def test_a_pack_without_an_event_is_named(ledger: Ledger, recorded: dict[str, int]) -> None:
    sql(ledger, "INSERT INTO packs (digest, name, version, file, content, first_used_at, event_seq) "
                "SELECT 'sha256:forged', name, version, file, content, first_used_at, event_seq FROM packs "
                "WHERE event_seq = :s", s=first_pack_event(ledger))
    assert problem(ledger) == ("pack sha256:forged", "pack sha256:forged has no event (inserted)")


def test_an_edited_head_hash_is_named(ledger: Ledger, recorded: dict[str, int]) -> None:
    newest = recorded["withdrawal"]
    sql(ledger, "UPDATE sealed_chain_head SET hash = :h WHERE id = 1", h="f" * 64)
    assert problem(ledger) == (newest, f"the chain ends at event {newest} but its head records event {newest}: "
                                       "the newest events were deleted, or the head was edited")


def test_a_population_figure_rewritten_with_its_event_and_totals_is_found_by_the_retally(
        ledger: Ledger, recorded: dict[str, int]) -> None:
    """An insider who makes V-3 count 1 individual instead of 5,000 in its row, its event and the totals,
    and hashes the chain again: every figure agrees with the chain, but not with the request the chain
    also vouches for, which the counting rules tally again."""
    decision_id = ledger.get("V-3").decision.decision_id
    exporter = ledger.get("V-3").exporter_id

    def edit(conn: Connection, chain: list[Event]) -> list[Event]:
        conn.execute(text("UPDATE transfers SET personal_subjects = 1 WHERE decision_id = :d"), {"d": decision_id})
        conn.execute(text("UPDATE transfer_populations SET subjects = 1 WHERE decision_id = :d"), {"d": decision_id})
        conn.execute(text("UPDATE exporter_year_totals SET personal_subjects = personal_subjects - 4999"))
        conn.execute(text("UPDATE exporter_year_population_figures SET largest_subjects = 1"))
        for event in chain:
            if event["subject"] == decision_id:
                event["data"]["personal_subjects"] = 1
                event["data"]["populations"] = {"members": 1}
        return chain

    rewrite_chain(ledger, edit)
    first_bad, found = problem(ledger)
    assert first_bad == f"counts {exporter} 2026"
    assert found.startswith(f"running totals of exporter {exporter} for 2026: the audit chain accounts for "
                            "personal 10001, sensitive 0, but its counted transfers tallied again under the "
                            "counting rules sum to personal 15000, sensitive 0")


@pytest.fixture
def upgraded_sqlite(tmp_path: Path) -> Iterator[Ledger]:
    copy = tmp_path / "ledger.db"
    shutil.copy(ROOT / "tests" / "data" / "ledger-before-0005.db", copy)
    ledger = Ledger(f"sqlite:///{copy}")
    try:
        yield ledger
    finally:
        ledger.close()


def test_a_population_figure_of_a_transfer_recorded_before_0005_is_checked(upgraded_sqlite: Ledger) -> None:
    """Such an event lists one figure per population; the figures per tally are the request's."""
    with upgraded_sqlite.sql_engine.connect() as conn:
        early = [(int(seq), str(subject)) for seq, subject, body in conn.execute(text(
            "SELECT seq, subject, body FROM events WHERE kind = 'submission' ORDER BY seq"))
            if '"sensitive_populations"' not in body and json.loads(body)["data"]["populations"]]
    seq, decision_id = early[0]
    sql(upgraded_sqlite, "UPDATE transfer_populations SET subjects = subjects + 1 WHERE decision_id = :d",
        d=decision_id)
    assert problem(upgraded_sqlite) == (seq, f"event {seq}: transfer {decision_id}: populations was edited")

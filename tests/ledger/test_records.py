"""Compact records (revision 0011, ``engine.ledger.records``): the texts come back byte for byte, a
dictionary is stored once per kind of decision, and ``audit verify`` names any edit of a record, a
dictionary or what the streaming walk relies on (positions in the chain, a population's exporter)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from engine.evaluator import Engine
from engine.ledger import Ledger, records
from engine.ledger.audit import canonical
from tests.ledger.conftest import stored_texts, transfer
from tests.ledger.insider import scalar, sql

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=60, deadline=None)
@given(request=json_values, decision=json_values, base=json_values)
def test_any_texts_come_back_exactly_with_or_without_a_dictionary(request: object, decision: object,
                                                                   base: object) -> None:
    request_json, decision_json = canonical(request), canonical(decision)
    dictionary = records.Dictionary.of(records.joined(canonical(base), canonical(base)))
    for used in (dictionary, None):
        record = records.pack(request_json, decision_json, used)
        assert records.unpack(record, used) == (request_json, decision_json)
        assert records.dictionary_digest(record) == (used.digest if used else None)


def test_a_record_is_small_next_to_the_first_of_its_kind(ledger: Ledger, ledger_engine: Engine) -> None:
    """The second transfer of a kind costs a few hundred bytes where its texts take kilobytes."""
    ledger.submit(ledger_engine, transfer("K-1", 10_000))
    ledger.submit(ledger_engine, transfer("K-2", 12_000))
    (first, _request_1, _decision_1), (second, request_2, decision_2) = stored_texts(ledger)
    assert first.request_json == "" and first.decision_json == ""  # new rows keep their texts in the record
    assert len(bytes(second.record)) < 400 < len(request_2) + len(decision_2)
    assert scalar(ledger, "SELECT COUNT(*) FROM record_dictionaries") == 1
    assert json.loads(decision_2)["reference"] == "K-2" and ledger.get("K-2").decision.reference == "K-2"


def test_a_dictionary_made_by_another_process_is_used_not_made_again(ledger_url: str,
                                                                      ledger_engine: Engine) -> None:
    first = Ledger(ledger_url)
    second = Ledger(ledger_url)  # another process: nothing remembered of the first's dictionaries
    try:
        first.submit(ledger_engine, transfer("P-1", 10_000))
        second.submit(ledger_engine, transfer("P-2", 11_000))
        assert scalar(first, "SELECT COUNT(*) FROM record_dictionaries") == 1
    finally:
        first.close()
        second.close()


def test_past_the_bound_of_dictionaries_records_are_compressed_alone(
        ledger: Ledger, ledger_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "MAX_DICTIONARIES", 0)
    ledger.submit(ledger_engine, transfer("B-1", 10_000))
    ((row, _request, decision),) = stored_texts(ledger)
    assert bytes(row.record)[0] == records.PLAIN and records.dictionary_digest(bytes(row.record)) is None
    assert json.loads(decision)["reference"] == "B-1"
    assert scalar(ledger, "SELECT COUNT(*) FROM record_dictionaries") == 0
    assert ledger.verify().ok


@pytest.fixture
def two_of_a_kind(ledger: Ledger, ledger_engine: Engine) -> dict[str, int]:
    for reference in ("D-1", "D-2"):
        ledger.submit(ledger_engine, transfer(reference, 10_000))
    ledger.submit(ledger_engine, transfer("D-3", data=[{"kind": "personal", "subjects": 5_000,
                                                        "population": "members"}]))
    assert ledger.verify().ok
    return {reference: ledger.get(reference).event_seq for reference in ("D-1", "D-2", "D-3")}


def test_an_edited_dictionary_is_named_at_the_first_transfer_it_serves(ledger: Ledger,
                                                                        two_of_a_kind: dict[str, int]) -> None:
    with ledger.sql_engine.begin() as conn:
        digest, content = conn.execute(text("SELECT digest, content FROM record_dictionaries "
                                            "ORDER BY digest LIMIT 1")).one()
        edited = bytes(content).replace(b"10000", b"99999")
        assert edited != bytes(content)
        conn.execute(text("UPDATE record_dictionaries SET content = :c WHERE digest = :d"), {"c": edited, "d": digest})
    result = ledger.verify()
    assert not result.ok and "compression dictionary" in (result.problem or "")
    assert "does not have its digest (edited)" in (result.problem or "")
    assert result.first_bad in two_of_a_kind.values()


def test_a_deleted_dictionary_is_named(ledger: Ledger, two_of_a_kind: dict[str, int]) -> None:
    sql(ledger, "DELETE FROM record_dictionaries")
    result = ledger.verify()
    assert result.first_bad == two_of_a_kind["D-1"]
    assert "not stored (deleted)" in (result.problem or "")


def test_a_record_cut_short_is_named(ledger: Ledger, two_of_a_kind: dict[str, int]) -> None:
    with ledger.sql_engine.begin() as conn:
        record = bytes(conn.execute(text("SELECT record FROM transfers WHERE reference = 'D-2'")).scalar_one())
        conn.execute(text("UPDATE transfers SET record = :r WHERE reference = 'D-2'"), {"r": record[:-5]})
    result = ledger.verify()
    assert result.first_bad == two_of_a_kind["D-2"]
    assert "its stored record cannot be read" in (result.problem or "")


def test_a_population_moved_to_another_exporter_is_named(ledger: Ledger, two_of_a_kind: dict[str, int]) -> None:
    sql(ledger, "UPDATE transfer_populations SET exporter_id = 'SOMEONE-ELSE'")
    result = ledger.verify()
    assert result.first_bad == two_of_a_kind["D-3"]
    assert "a population's exporter or year was edited" in (result.problem or "")


def test_a_transfer_moved_in_the_chain_is_named(ledger: Ledger, two_of_a_kind: dict[str, int]) -> None:
    sql(ledger, "UPDATE transfers SET event_seq = :s WHERE reference = 'D-1'", s=two_of_a_kind["D-2"])
    result = ledger.verify()
    assert result.first_bad == two_of_a_kind["D-1"]
    assert "its position in the chain (event_seq) was edited" in (result.problem or "")


def test_a_transfer_inserted_at_a_recorded_position_is_named(ledger: Ledger, two_of_a_kind: dict[str, int]) -> None:
    sql(ledger, "INSERT INTO transfers (decision_id, exporter_id, reference, request_sha256, request_json, "
                "decision_json, outcome, year, counted, personal_subjects, sensitive_subjects, rules_digest, "
                "recorded_at, event_seq, record) SELECT '00FORGED000000000000000000', exporter_id, 'D-9', "
                "request_sha256, request_json, decision_json, outcome, year, counted, 1, 0, rules_digest, "
                "recorded_at, event_seq, record FROM transfers WHERE reference = 'D-2'")
    result = ledger.verify()
    assert result.first_bad == "transfer 00FORGED000000000000000000"
    assert "has no submission event (inserted)" in (result.problem or "")


def test_a_withdrawal_moved_in_the_chain_is_named(ledger: Ledger, two_of_a_kind: dict[str, int]) -> None:
    ledger.withdraw("D-1")
    withdrawn = ledger.get("D-1")
    seq = int(scalar(ledger, "SELECT withdrawn_seq FROM transfers WHERE reference = 'D-1'"))
    assert withdrawn.withdrawn and ledger.verify().ok
    sql(ledger, "UPDATE transfers SET withdrawn_seq = :s WHERE reference = 'D-1'", s=two_of_a_kind["D-3"])
    result = ledger.verify()
    assert result.first_bad == seq and "its withdrawal was edited" in (result.problem or "")

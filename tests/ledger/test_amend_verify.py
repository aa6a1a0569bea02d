"""``audit verify`` as a stream (issue 21) over amended transfers (issue 22 point 7), SQLite and
PostgreSQL: the decisions amendments replaced are stored compact like every transfer since revision 0011,
are checked against their submission events, and each amendment event against the row it replaced; an
insider who edits either is named. Also what the replays and the decision log read back from them."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, insert, select, text, update

from engine.evaluator import Engine
from engine.ledger import Ledger, records
from engine.ledger.amend import amend
from engine.ledger.history import recorded_decisions
from engine.ledger.schema import replaced_decisions, transfers
from engine.models import TransferRequest
from engine.replay import replay
from tests.ledger.conftest import transfer

CONTRACT = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2024-12-01",
            "mechanisms": [{"type": "standard_contract", "reference": "SC-1", "effective_on": "2026-01-05",
                            "filed_on": "2026-01-10", "expires_on": "2027-01-20"}]}


def _amended(ledger: Ledger, engine: Engine) -> tuple[str, str, str]:
    """AV-1 recorded conditional (150,000 without a contract), then amended twice (a contract, then a
    later date): the ids of its three decisions, oldest first. AV-2 beside it, never amended."""
    first = ledger.submit(engine, transfer("AV-1", 150_000)).decision.decision_id
    ledger.submit(engine, transfer("AV-2", 2_000))
    request = transfer("AV-1", 150_000).model_dump(mode="json")
    second = amend(ledger, engine, "AV-1", TransferRequest.model_validate({**request, "safeguards": CONTRACT}))
    third = amend(ledger, engine, "AV-1", TransferRequest.model_validate(
        {**request, "safeguards": CONTRACT, "planned_date": "2026-07-01"}))
    return first, second.decision.decision_id, third.decision.decision_id


def test_replaced_decisions_are_compact_and_read_back(ledger: Ledger, ledger_engine: Engine) -> None:
    first, second, third = _amended(ledger, ledger_engine)
    with ledger.sql_engine.connect() as conn:
        rows = conn.execute(select(replaced_decisions).order_by(replaced_decisions.c.event_seq)).all()
        assert [row.decision_id for row in rows] == [first, second]
        assert all(row.record is not None and row.request_json == "" == row.decision_json for row in rows)
        new = conn.execute(select(transfers).where(transfers.c.decision_id == third)).one()
        assert new.record is not None and new.request_json == "" and new.decision_json == ""
        reader = records.DictionaryReader(conn)
        assert json.loads(reader.texts(rows[0])[1])["decision_id"] == first
    shown = ledger.get("AV-1")
    assert shown.decision.decision_id == third and [old.decision_id for old in shown.replaced] == [first, second]
    assert [old.decision["decision_id"] for old in shown.replaced] == [first, second]
    logged = [(entry.decision.decision_id, entry.replaced_by) for entry in ledger.decisions_after(0)]
    assert (first, second) in logged and (second, third) in logged and (third, None) in logged
    result = ledger.verify()
    assert result.ok, result.problem
    # Every version is re-decided, each on the counts of its moment (the walk and one id alone agree).
    walked = {found.decision_id: found.prior for found in recorded_decisions(ledger)}
    assert set(walked) >= {first, second, third}
    alone = {found.decision_id: found.prior for found in recorded_decisions(ledger, only=[first, second, third])}
    assert alone == {key: walked[key] for key in (first, second, third)}
    assert replay(ledger).ok


Edit = Callable[[Connection, tuple[str, str, str]], None]


def _back_in_force(conn: Connection, ids: tuple[str, str, str]) -> None:
    """The first decision copied back into the transfers (as if never replaced), under another reference."""
    row = conn.execute(select(replaced_decisions).where(replaced_decisions.c.decision_id == ids[0])).one()
    kept = {column.name: getattr(row, column.name) for column in transfers.columns
            if column.name not in ("withdrawn_at", "withdrawn_seq")}
    conn.execute(insert(transfers).values(**{**kept, "reference": "AV-1-again"}))


def _unmarked(conn: Connection, ids: tuple[str, str, str]) -> None:
    conn.execute(replaced_decisions.delete().where(replaced_decisions.c.decision_id == ids[1]))


def _moved_replacement(conn: Connection, ids: tuple[str, str, str]) -> None:
    conn.execute(update(replaced_decisions).where(replaced_decisions.c.decision_id == ids[0])
                 .values(replaced_seq=replaced_decisions.c.replaced_seq + 1))


def _other_transfer(conn: Connection, ids: tuple[str, str, str]) -> None:
    conn.execute(update(replaced_decisions).where(replaced_decisions.c.decision_id == ids[0])
                 .values(reference="AV-2"))


def _figures_edited(conn: Connection, ids: tuple[str, str, str]) -> None:
    conn.execute(update(replaced_decisions).where(replaced_decisions.c.decision_id == ids[1])
                 .values(populations='{"personal": {"members": "many"}}'))


def _counted_edited(conn: Connection, ids: tuple[str, str, str]) -> None:
    conn.execute(update(replaced_decisions).where(replaced_decisions.c.decision_id == ids[1])
                 .values(personal_subjects=1))


def _record_edited(conn: Connection, ids: tuple[str, str, str]) -> None:
    row = conn.execute(select(replaced_decisions).where(replaced_decisions.c.decision_id == ids[0])).one()
    reader = records.DictionaryReader(conn)
    request_json, decision_json = reader.texts(row)
    edited = decision_json.replace('"outcome":"conditional"', '"outcome":"permitted"')
    assert edited != decision_json
    conn.execute(update(replaced_decisions).where(replaced_decisions.c.decision_id == ids[0])
                 .values(record=records.pack(request_json, edited, reader.for_record(bytes(row.record)))))


def _forged_replaced(conn: Connection, ids: tuple[str, str, str]) -> None:
    """A decision of AV-2 marked replaced at the position of the second amendment, beside the real one."""
    row = conn.execute(select(transfers).where(transfers.c.reference == "AV-2")).one()
    real = conn.execute(select(replaced_decisions).where(replaced_decisions.c.decision_id == ids[1])).one()
    kept = {column.name: getattr(row, column.name) for column in transfers.columns
            if column.name not in ("withdrawn_at", "withdrawn_seq")}
    conn.execute(transfers.delete().where(transfers.c.decision_id == row.decision_id))
    conn.execute(text("DELETE FROM transfer_populations WHERE decision_id = :d"), {"d": row.decision_id})
    conn.execute(insert(replaced_decisions).values(**kept, populations="{}", replaced_by=ids[2],
                                                   replaced_at=real.replaced_at, replaced_seq=real.replaced_seq))


@pytest.mark.parametrize(("edit", "named"), [
    (_back_in_force, "both in force and replaced"),
    (_unmarked, "was deleted"),
    (_moved_replacement, "its replacement was edited"),
    (_other_transfer, "reference was edited"),
    (_figures_edited, "population figures are not readable"),
    (_counted_edited, "personal_subjects was edited"),
    (_record_edited, "decision_sha256 was edited"),
    (_forged_replaced, "is marked replaced, but no amendment replaced it"),
])
def test_an_edited_amendment_is_named(ledger: Ledger, ledger_engine: Engine, edit: Edit, named: str) -> None:
    ids = _amended(ledger, ledger_engine)
    assert ledger.verify().ok
    with ledger.sql_engine.begin() as conn:
        edit(conn, ids)
    found = ledger.verify()
    assert not found.ok
    assert named in str(found.problem), found.problem


def test_amended_ledgers_stay_verifiable_across_the_upgrade(ledger_url: str, ledger_engine: Engine) -> None:
    """Downgraded to 0010 (amendments, texts in their columns), every compact row is written back into its
    columns; upgraded again, the rows written before keep their texts there and verify, read and replay
    as before, beside new compact ones."""
    from alembic import command

    from engine.ledger.database import alembic_config

    ledger = Ledger(ledger_url)
    try:
        first, second, third = _amended(ledger, ledger_engine)
        with ledger.sql_engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0010")
            old = conn.execute(text("SELECT decision_id, decision_json FROM replaced_decisions "
                                    "ORDER BY event_seq")).all()
            assert [(row[0], json.loads(row[1])["decision_id"]) for row in old] == [(first, first), (second, second)]
            assert json.loads(conn.execute(text("SELECT decision_json FROM transfers WHERE decision_id = :d"),
                                           {"d": third}).scalar_one())["decision_id"] == third
        with ledger.sql_engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
            assert conn.execute(text("SELECT COUNT(*) FROM replaced_decisions WHERE record IS NULL")).scalar_one() == 2
        ledger.close()
        ledger = Ledger(ledger_url)  # a process of the new version (the dictionaries it knew went with 0011)
        result = ledger.verify()
        assert result.ok, result.problem
        assert [old.decision["decision_id"] for old in ledger.get("AV-1").replaced] == [first, second]
        request = transfer("AV-1", 150_000).model_dump(mode="json")
        fourth = amend(ledger, ledger_engine, "AV-1",
                       TransferRequest.model_validate({**request, "safeguards": CONTRACT}))
        assert [old.decision_id for old in ledger.get("AV-1").replaced] == [first, second, third]
        assert fourth.replaces == third
        result = ledger.verify()
        assert result.ok, result.problem
        assert replay(ledger).ok
    finally:
        ledger.close()

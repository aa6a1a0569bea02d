"""Revision 0005 on a ledger written by the version before it (``tests/data/ledger-before-0005.db``, made
by ``tests/data/make_ledger_before_0005.py`` with that version's code): its under-counts are recounted,
each correction is an audit event, and the ledger goes on from the right counts. On SQLite, and on
PostgreSQL with the same rows copied into a ledger at revision 0004.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.audit import append_event
from engine.ledger.database import alembic_config
from engine.ledger.history import recorded_decisions
from engine.replay import EARLIER_COUNTING, replay
from tests.ledger.conftest import ROOT, transfer

BEFORE_0005 = ROOT / "tests" / "data" / "ledger-before-0005.db"
# Rows copied in this order, so that every foreign key finds its row.
TABLES = ("packs", "pack_sets", "events", "audit_chain_head", "transfers", "transfer_populations",
          "exporter_year_totals", "exporter_year_populations")

# What the earlier version counted, and what the transfers it recorded amount to (the fixture's docstring).
COUNTED_BEFORE = {"WITHDRAWN-FIRST": (35_000, 0), "CONTACT-THEN-HEALTH": (5_000, 3_000),
                  "HEALTH-THEN-CONTACT": (87_000, 8_000), "PLAIN": (20_000, 0)}
RECOUNTED = {"WITHDRAWN-FIRST": (95_000, 0), "CONTACT-THEN-HEALTH": (5_000, 8_000),
             "HEALTH-THEN-CONTACT": (95_000, 8_000), "PLAIN": (20_000, 0)}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def earlier_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a ledger holding the fixture's rows at revision 0004, not yet upgraded."""
    if request.param == "sqlite":
        copy = tmp_path / "ledger.db"
        shutil.copy(BEFORE_0005, copy)
        yield f"sqlite:///{copy}"
        return
    url = str(request.getfixturevalue("postgres_url"))
    target = create_engine(url)
    source = create_engine(f"sqlite:///{BEFORE_0005}")
    try:
        with target.begin() as conn:
            command.upgrade(alembic_config(conn), "0004")
        source_tables, target_tables = MetaData(), MetaData()
        source_tables.reflect(source)
        target_tables.reflect(target)
        with source.connect() as read, target.begin() as write:
            write.execute(text("DELETE FROM audit_chain_head"))  # the empty chain's head, from revision 0001
            for name in TABLES:
                rows = [dict(row._mapping) for row in read.execute(select(source_tables.tables[name]))]
                if rows:
                    write.execute(insert(target_tables.tables[name]), rows)
    finally:
        source.dispose()
        target.dispose()
    yield url


def counts(ledger: Ledger) -> dict[str, tuple[int, int]]:
    found = {}
    for exporter in RECOUNTED:
        figures = ledger.counts(exporter, 2026)
        found[exporter] = (figures["personal_subjects"], figures["sensitive_subjects"])
    return found


def test_the_upgrade_recounts_what_the_earlier_version_under_counted(earlier_ledger: str) -> None:
    with create_engine(earlier_ledger).connect() as conn:
        stored = {row[0]: (row[1], row[2]) for row in conn.execute(text(
            "SELECT exporter_id, personal_subjects, sensitive_subjects FROM exporter_year_totals"))}
        last_seq = conn.execute(text("SELECT max(seq) FROM events")).scalar()
    assert stored == COUNTED_BEFORE

    ledger = Ledger(earlier_ledger)  # upgrades
    try:
        assert counts(ledger) == RECOUNTED
        with ledger.sql_engine.connect() as conn:
            recounts = [json.loads(body) for (body,) in conn.execute(text(
                "SELECT body FROM events WHERE kind = 'recount' ORDER BY seq"))]
        assert [event["seq"] for event in recounts] == [last_seq + 1, last_seq + 2, last_seq + 3]
        assert {event["data"]["exporter"]: (event["data"]["personal_subjects_change"],
                                            event["data"]["sensitive_subjects_change"]) for event in recounts} == {
            "WITHDRAWN-FIRST": (60_000, 0), "CONTACT-THEN-HEALTH": (0, 5_000), "HEALTH-THEN-CONTACT": (8_000, 0)}
        assert all(event["data"]["year"] == 2026 and "revision 0005" in event["data"]["reason"] for event in recounts)
        result = ledger.verify()
        assert result.ok, result.problem
        # The earlier decisions read the counts of their time: the rebuild gives them, before the recount.
        for recorded in recorded_decisions(ledger):
            decision_counts = recorded.decision["counts"]
            assert (decision_counts["personal_subjects_before"], decision_counts["sensitive_subjects_before"]) == \
                (recorded.prior.personal_subjects, recorded.prior.sensitive_subjects), recorded.reference
        # Each counted transfer's figures per tally, split from its request.
        with ledger.sql_engine.connect() as conn:
            figures = set(conn.execute(text(
                "SELECT t.reference, p.population, p.tally, p.subjects FROM transfer_populations p "
                "JOIN transfers t ON t.decision_id = p.decision_id")).all())
        assert figures == {("W-1", "members", "personal", 60_000), ("W-2", "members", "personal", 90_000),
                           ("C-1", "members", "personal", 5_000), ("C-2", "members", "sensitive", 8_000),
                           ("H-1", "members", "sensitive", 8_000), ("H-2", "members", "personal", 95_000)}
    finally:
        ledger.close()


def test_after_the_recount_decisions_and_withdrawals_go_on_from_the_right_counts(
        earlier_ledger: str, ledger_engine: Engine) -> None:
    ledger = Ledger(earlier_ledger)
    try:
        # 95,000 sent: 5,001 more cross 100,000 (at the earlier version's 35,000 they did not).
        crossing = ledger.submit(ledger_engine, transfer("AFTER-1", 5_001, exporter_id="WITHDRAWN-FIRST")).decision
        assert crossing.counts.personal_subjects_before == 95_000 and crossing.outcome == "conditional"
        # W-2's 90,000 members are the ones counted now: withdrawing it releases them all.
        assert ledger.withdraw("W-2", "WITHDRAWN-FIRST").released_personal_subjects == 90_000
        assert ledger.counts("WITHDRAWN-FIRST", 2026)["personal_subjects"] == 5_000
        result = ledger.verify()
        assert result.ok, result.problem
    finally:
        ledger.close()


def test_replays_explain_the_decisions_recorded_by_the_earlier_counting(earlier_ledger: str,
                                                                        ledger_engine: Engine) -> None:
    """Re-decided by the current counting, C-2 (health records after contact details) and H-2 (contact
    details after health records) count more than they did: each difference says why, and nothing
    recorded after the upgrade differs."""
    ledger = Ledger(earlier_ledger)
    try:
        ledger.submit(ledger_engine, transfer("AFTER-1", data=[{"kind": "personal", "subjects": 7_000,
                                                                "population": "members"}],
                                              exporter_id="CONTACT-THEN-HEALTH"))
        report = replay(ledger)
        assert report.checked == 9
        assert sorted(difference.reference for difference in report.differences) == ["C-2", "H-2"]
        assert all(difference.problem == EARLIER_COUNTING for difference in report.differences)
    finally:
        ledger.close()


def test_the_downgrade_gives_each_transfer_the_figures_its_event_lists(earlier_ledger: str) -> None:
    """So that the earlier version's ``audit verify`` finds the rows as its events hashed them."""
    ledger = Ledger(earlier_ledger)
    try:
        with ledger.sql_engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0004")
        with ledger.sql_engine.connect() as conn:
            rows = {(decision_id, population): subjects for decision_id, population, subjects in conn.execute(
                text("SELECT decision_id, population, subjects FROM transfer_populations"))}
            listed = {(subject, name): figure for subject, body in conn.execute(
                text("SELECT subject, body FROM events WHERE kind = 'submission'"))
                for name, figure in json.loads(body)["data"]["populations"].items()}
            assert not inspect(conn).has_table("exporter_year_population_figures")
            assert conn.execute(text("SELECT seq FROM audit_chain_head")).scalar() is not None
        assert rows == listed and len(rows) == 6
    finally:
        ledger.close()


@pytest.fixture
def upgraded_sqlite(tmp_path: Path) -> Iterator[Ledger]:
    copy = tmp_path / "ledger.db"
    shutil.copy(BEFORE_0005, copy)
    ledger = Ledger(f"sqlite:///{copy}")
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.mark.parametrize("edit", ["decision_json = '{}'", "decision_json = 'edited'",
                                  "request_json = 'edited', request_sha256 = '" + "0" * 64 + "'"])
def test_verify_names_an_edit_to_a_transfer_recorded_by_the_earlier_version(upgraded_sqlite: Ledger,
                                                                             edit: str) -> None:
    """Its figures per tally come from its request: the hashes are compared before it is read."""
    with upgraded_sqlite.sql_engine.begin() as conn:
        conn.execute(text(f"UPDATE transfers SET {edit} WHERE reference = 'C-2'"))
    result = upgraded_sqlite.verify()
    assert not result.ok and "was edited" in (result.problem or "")


def test_verify_names_a_recount_event_without_its_figures(upgraded_sqlite: Ledger) -> None:
    """Hashed into the chain like any event, but not what a recount records."""
    with upgraded_sqlite.sql_engine.begin() as conn:
        seq = append_event(conn, "recount", "PLAIN", "2026-12-04T00:00:00+00:00", {"personal_subjects_change": 1})
    result = upgraded_sqlite.verify()
    assert result.first_bad == seq and "recount event without" in (result.problem or "")


def test_verify_names_a_text_that_is_not_utf8(upgraded_sqlite: Ledger) -> None:
    with upgraded_sqlite.sql_engine.begin() as conn:
        conn.execute(text("UPDATE transfers SET reference = CAST(x'ff' || CAST(reference AS BLOB) AS TEXT) "
                          "WHERE reference = 'P-1'"))
    result = upgraded_sqlite.verify()
    assert not result.ok and "not UTF-8" in (result.problem or "")


def test_a_dry_run_of_the_earlier_version_finds_no_figures_to_misread(upgraded_sqlite: Ledger) -> None:
    """The fence stops an earlier version's writes; its dry runs read the running figures under their
    earlier name, which the upgrade took away, so they fail rather than count one figure for both."""
    with upgraded_sqlite.sql_engine.connect() as conn, pytest.raises(DBAPIError, match="exporter_year_populations"):
        conn.execute(text(EARLIER_DRY_RUN), {"e": "CONTACT-THEN-HEALTH", "y": 2026, "py": 2025})


# The dry-run statement of the version before revision 0005 (engine/ledger/totals.py PRIOR_SQL at e0b72de).
EARLIER_DRY_RUN = (
    "SELECT 0, CAST(year AS VARCHAR(16)), personal_subjects, sensitive_subjects FROM exporter_year_totals "
    "WHERE exporter_id = :e AND year IN (:y, :py) "
    "UNION ALL "
    "SELECT 1, population, largest_subjects, 0 FROM exporter_year_populations "
    "WHERE exporter_id = :e AND year = :y")

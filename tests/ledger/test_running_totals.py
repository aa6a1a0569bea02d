"""The running totals counting reads (``engine.ledger.totals``, revision 0004) against the transfer rows
they summarise, on SQLite and PostgreSQL: random histories of submissions (in groups) and withdrawals,
the upgrade that fills them, and ``audit verify`` finding a total that no longer matches its rows.

The oracles are the transfers not withdrawn tallied again in order, from their requests
(``replayed_prior``: the definition of counting), the chain-order rebuild of ``engine.ledger.history``
(what each decision should have read) and ``totals.recount`` (the totals rebuilt from the audit
chain's events).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from engine.evaluator import Engine
from engine.facts import PriorCounts, tally_for
from engine.ledger import Ledger, LedgerError, LedgerIntegrityError, LedgerOutOfDate, SubmitResult, database, priors
from engine.ledger import totals as running
from engine.ledger.amend import amend
from engine.ledger.amendments import AmendWithdrawn
from engine.ledger.audit import chain_totals
from engine.ledger.database import alembic_config
from engine.ledger.history import Walk, recorded_decisions
from engine.ledger.schema import TALLIES
from engine.models import TransferRequest
from tests.ledger.conftest import EXPORTER, stored_texts, transfer

OTHER = "91440300MA5OTHER01"

PLAIN = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2023-12-01"}
"""Consent, notice and a PIA before every planned date used here: small volumes are permitted."""
CONTRACT = {**PLAIN, "mechanisms": [{"type": "gba_standard_contract", "reference": "GD-1",
                                     "effective_on": "2024-01-10", "filed_on": "2024-01-15"}]}
"""Under which sensitive data and volumes over 100,000 are permitted (so counted) too, from 2025."""


def replayed_prior(ledger: Ledger, exporter_id: str, year: int) -> PriorCounts:
    """The exporter's PriorCounts for ``year`` as if its withdrawn transfers had never been recorded:
    its counted, not withdrawn transfers of the year and the one before tallied again, in the order
    recorded, each under the options of its decision. What withdrawals must leave behind (DESIGN section
    5: a withdrawn transfer releases its counts, and a population counts its increase over the largest
    figure sent before), worked out here from the requests, not from what the ledger stored."""
    rows = stored_texts(ledger, "exporter_id = :e AND counted = :yes AND withdrawn_at IS NULL AND year IN (:y, :py)",
                        e=exporter_id, yes=True, y=year, py=year - 1)
    sums = {year: [0, 0], year - 1: [0, 0]}
    figures: dict[tuple[int, str], dict[str, int]] = {(y, t): {} for y in (year, year - 1) for t in TALLIES}
    for row, request_json, decision_json in rows:
        options = json.loads(decision_json)["rules"]["options"]
        prior = PriorCounts(populations=dict(figures[(row.year, "personal")]),
                            sensitive_populations=dict(figures[(row.year, "sensitive")]))
        tally = tally_for(TransferRequest.model_validate_json(request_json), prior, options)
        sums[row.year][0] += tally.personal_subjects
        sums[row.year][1] += tally.sensitive_subjects
        for tally_name, sent in (("personal", tally.populations), ("sensitive", tally.sensitive_populations)):
            carried = figures[(row.year, tally_name)]
            for name, subjects in sent.items():
                carried[name] = max(carried.get(name, 0), subjects)
    return PriorCounts(personal_subjects=sums[year][0], sensitive_subjects=sums[year][1],
                       previous_year_personal_subjects=sums[year - 1][0],
                       previous_year_sensitive_subjects=sums[year - 1][1],
                       populations=figures[(year, "personal")], sensitive_populations=figures[(year, "sensitive")])


def stored(ledger: Ledger) -> running.Totals:
    with ledger.sql_engine.connect() as conn:
        return running.stored(conn)


def recounted(ledger: Ledger) -> running.Totals:
    """The totals as the audit chain accounts for them."""
    with ledger.sql_engine.connect() as conn:
        return chain_totals(conn)


def sql(ledger: Ledger, statement: str, **params: Any) -> None:
    with ledger.sql_engine.begin() as conn:
        conn.execute(text(statement), params)


def named(subjects: int, population: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "personal", "subjects": subjects, "population": population, **extra}


def submit_together(ledger: Ledger, engine: Engine, requests: list[TransferRequest]) -> list[SubmitResult]:
    """Submit as threads arriving together would: all queued, then committed group by group (at most
    one submission per exporter a group, the rest in the next ones), in this one thread."""
    items = [ledger.recorder.queue(engine, request, None) for request in requests]
    return [ledger.recorder.commit(item) for item in items]


# ------------------------------------------------------------------------------------ a mixed history

def record_mixed_history(ledger: Ledger, engine: Engine) -> None:
    """Two exporters, two years, populations, a withdrawn population maximum, uncounted transfers, an
    exporter-year whose only counted transfer is withdrawn. Totals in EXPECTED_SUMS/EXPECTED_POPULATIONS."""
    submit_together(ledger, engine, [
        transfer("M-1", data=[named(30_000, "members")]),
        transfer("M-B1", data=[named(1_000, "members")], exporter_id=OTHER),
    ])
    ledger.submit(engine, transfer("M-2", data=[named(50_000, "members")]))  # counts +20,000; members 50,000
    ledger.submit(engine, transfer("M-3", 5_000))
    ledger.submit(engine, transfer("M-4", safeguards=CONTRACT, data=[
        named(700, "patients", sensitive=["medical_health"]), {"kind": "personal", "subjects": 300}]))
    ledger.submit(engine, transfer("M-5", 700, data=[{"kind": "personal", "subjects": 700,
                                                      "sensitive": ["medical_health"]}]))  # conditional
    ledger.submit(engine, transfer("M-6", 5_000, purpose="contract_performance"))  # exempt: not counted
    ledger.submit(engine, transfer("M-7", planned_date="2025-06-01", data=[named(20_000, "patients")]))
    ledger.submit(engine, transfer("M-B2", 2_000, planned_date="2025-06-01", exporter_id=OTHER))
    ledger.withdraw("M-2")  # held the members maximum: back to 30,000
    ledger.withdraw("M-B2")  # OTHER's only counted transfer of 2025
    ledger.withdraw("M-5")  # not counted: changes nothing


EXPECTED_SUMS = {(EXPORTER, 2026): (35_300, 700), (EXPORTER, 2025): (20_000, 0), (OTHER, 2026): (1_000, 0)}
EXPECTED_POPULATIONS = {(EXPORTER, 2026, "members", "personal"): 30_000, (EXPORTER, 2026, "patients", "sensitive"): 700,
                        (EXPORTER, 2025, "patients", "personal"): 20_000, (OTHER, 2026, "members", "personal"): 1_000}


def nonzero(sums: Any) -> dict[tuple[str, int], tuple[int, int]]:
    """Sums rows other than zero (a sums row at zero reads as no row)."""
    return {key: value for key, value in sums.items() if value != (0, 0)}


def test_a_mixed_history_keeps_exact_totals(ledger: Ledger, ledger_engine: Engine) -> None:
    record_mixed_history(ledger, ledger_engine)
    kept = stored(ledger)
    assert nonzero(kept.sums) == EXPECTED_SUMS
    assert dict(kept.populations) == EXPECTED_POPULATIONS
    assert running.first_difference(recounted(ledger), kept) is None
    assert ledger.verify().ok
    for exporter, year in itertools.product((EXPORTER, OTHER), (2025, 2026)):
        assert ledger.prior_counts(transfer("next", exporter_id=exporter, planned_date=f"{year}-07-01")) == \
            replayed_prior(ledger, exporter, year)


def test_a_smaller_figure_later_keeps_the_larger(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("S-1", data=[named(40_000, "members")]))
    smaller = ledger.submit(ledger_engine, transfer("S-2", data=[named(10_000, "members")])).decision
    assert smaller.counts.counted and smaller.counts.personal_subjects_after == 40_000
    assert dict(stored(ledger).populations) == {(EXPORTER, 2026, "members", "personal"): 40_000}
    # Without S-1, S-2's 10,000 members were sent all the same: S-1 releases 30,000 of its 40,000.
    assert ledger.withdraw("S-1").released_personal_subjects == 30_000
    kept = stored(ledger)
    assert dict(kept.populations) == {(EXPORTER, 2026, "members", "personal"): 10_000}
    assert nonzero(kept.sums) == {(EXPORTER, 2026): (10_000, 0)}
    assert ledger.verify().ok
    assert ledger.withdraw("S-2").released_personal_subjects == 10_000
    kept = stored(ledger)
    assert dict(kept.populations) == {} and nonzero(kept.sums) == {}
    assert ledger.verify().ok


def test_a_withdrawal_that_adds_nothing_back_takes_nothing(ledger: Ledger, ledger_engine: Engine) -> None:
    """S-2 added no subjects (members had been sent) and S-1 stays: withdrawing S-2 takes none. A
    transfer of no personal data takes none either, and needs no sums row (a sums row at zero reads the
    same as none)."""
    ledger.submit(ledger_engine, transfer("S-1", data=[named(40_000, "members")]))
    ledger.submit(ledger_engine, transfer("S-2", data=[named(10_000, "members")]))
    assert ledger.withdraw("S-2").released_personal_subjects == 0
    kept = stored(ledger)
    assert dict(kept.populations) == {(EXPORTER, 2026, "members", "personal"): 40_000}
    assert nonzero(kept.sums) == {(EXPORTER, 2026): (40_000, 0)}
    assert ledger.submit(ledger_engine, transfer("S-3", exporter_id=OTHER, data=[{"kind": "non_personal"}])
                         ).decision.counts.counted
    sql(ledger, "DELETE FROM exporter_year_totals WHERE exporter_id = :e", e=OTHER)
    assert ledger.verify().ok
    assert ledger.withdraw("S-3").released_personal_subjects == 0
    assert ledger.verify().ok


def test_withdrawing_twice_and_the_last_figure_of_a_population(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("W-1", data=[named(40_000, "members")]))
    ledger.submit(ledger_engine, transfer("W-2", data=[named(40_000, "members")]))  # the same figure again
    ledger.withdraw("W-1")
    assert dict(stored(ledger).populations) == {(EXPORTER, 2026, "members", "personal"): 40_000}  # W-2 still names it
    assert ledger.withdraw("W-1").already_withdrawn
    ledger.withdraw("W-2")
    assert ledger.withdraw("W-2").already_withdrawn
    kept = stored(ledger)
    assert dict(kept.populations) == {}  # no transfer names it any more: the row is gone
    assert nonzero(kept.sums) == {}
    assert ledger.verify().ok
    assert ledger.prior_counts(transfer("next")) == PriorCounts()


def test_a_group_adds_each_exporter_year_once_even_with_two_transfers_of_it() -> None:
    """A group takes one submission per exporter (``recording.take_group``), but its totals do not rely on it:
    two transfers of one exporter-year are added together, populations at their larger figure, and an
    uncounted transfer adds nothing (nor its population figure, should one be passed)."""
    def row(decision_id: str, counted: bool, personal: int, sensitive: int = 0) -> dict[str, Any]:
        return {"decision_id": decision_id, "exporter_id": EXPORTER, "year": 2026, "counted": counted,
                "personal_subjects": personal, "sensitive_subjects": sensitive}

    sums, populations = running.group_additions(
        [row("D1", True, 10, 1), row("D2", True, 5, 2), row("D3", False, 0)],
        [{"decision_id": "D1", "population": "members", "tally": "personal", "subjects": 10},
         {"decision_id": "D2", "population": "members", "tally": "personal", "subjects": 7},
         {"decision_id": "D2", "population": "members", "tally": "sensitive", "subjects": 7},
         {"decision_id": "D3", "population": "members", "tally": "personal", "subjects": 99}])
    assert sums == [{"exporter_id": EXPORTER, "year": 2026, "personal_subjects": 15, "sensitive_subjects": 3}]
    assert populations == [{"exporter_id": EXPORTER, "year": 2026, "population": "members", "tally": "personal",
                            "largest_subjects": 10},
                           {"exporter_id": EXPORTER, "year": 2026, "population": "members", "tally": "sensitive",
                            "largest_subjects": 7}]


# ------------------------------------------------------------------------------------ the upgrade

def test_upgrading_a_ledger_at_0003_fills_the_totals_from_its_rows(ledger_url: str, ledger_engine: Engine) -> None:
    ledger = Ledger(ledger_url)
    record_mixed_history(ledger, ledger_engine)
    with ledger.sql_engine.begin() as conn:  # as a ledger written before revision 0004 stands
        command.downgrade(alembic_config(conn), "0003")
    with ledger.sql_engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
    assert not tables & {"exporter_year_totals", "exporter_year_populations"}
    ledger.close()

    reopened = Ledger(ledger_url)  # upgrades to 0004 (the backfill) and on
    try:
        with reopened.sql_engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == database.head_revision()
        filled = stored(reopened)
        assert dict(filled.sums) == EXPECTED_SUMS  # no row where nothing counted is left (OTHER, 2025)
        assert dict(filled.populations) == EXPECTED_POPULATIONS
        assert reopened.verify().ok
        for exporter, year in itertools.product((EXPORTER, OTHER), (2025, 2026)):
            assert reopened.prior_counts(transfer("n", exporter_id=exporter, planned_date=f"{year}-07-01")) == \
                replayed_prior(reopened, exporter, year)
        # and the totals go on from there
        reopened.submit(ledger_engine, transfer("M-8", data=[named(45_000, "members")]))
        assert stored(reopened).sums[(EXPORTER, 2026)] == (35_300 + 15_000, 700)
        assert reopened.verify().ok
    finally:
        reopened.close()


# What every write of a version before 0004 runs first (engine/ledger/audit.py and group.py as they were).
EARLIER_VERSION_HEAD = "SELECT seq, hash FROM chain_head WHERE id = 1"
# The same name for each revision an earlier version wrote at: before 0004, and 0004 itself.
HEADS_OF_EARLIER_VERSIONS = {"0003": "chain_head", "0004": "audit_chain_head"}


@pytest.mark.parametrize("revision", sorted(HEADS_OF_EARLIER_VERSIONS))
def test_writers_of_earlier_versions_are_fenced_out_and_let_back_by_the_downgrade(
        ledger_url: str, ledger_engine: Engine, revision: str) -> None:
    """A replica of an earlier version left running after the upgrade would record transfers, or
    withdraw them, by the counting of its time (short counts, a wrong route). Its writes read the chain
    head before anything else, under the name the upgrade takes away, so they fail and roll back whole;
    the downgrade gives the name back."""
    head = f"SELECT seq, hash FROM {HEADS_OF_EARLIER_VERSIONS[revision]} WHERE id = 1"
    ledger = Ledger(ledger_url)
    try:
        record_mixed_history(ledger, ledger_engine)
        with ledger.sql_engine.connect() as conn, pytest.raises(DBAPIError, match="chain_head"):
            conn.execute(text(head))
        with ledger.sql_engine.begin() as conn:
            command.downgrade(alembic_config(conn), revision)
        with ledger.sql_engine.connect() as conn:
            assert conn.execute(text(head)).one() is not None
    finally:
        ledger.close()


def test_the_upgrade_waits_for_a_write_of_an_earlier_version_under_way(ledger_url: str, ledger_engine: Engine) -> None:
    """The fence must come before the backfill: a write of an earlier version that holds the chain head
    when the upgrade starts is waited for, and its transfer is in the totals the upgrade fills."""
    ledger = Ledger(ledger_url)
    record_mixed_history(ledger, ledger_engine)
    with ledger.sql_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0003")
    ledger.close()

    earlier = create_engine(ledger_url)  # an earlier version's process
    upgraded: list[Ledger] = []
    try:
        with earlier.connect() as conn, conn.begin():
            head = EARLIER_VERSION_HEAD + (" FOR UPDATE" if conn.dialect.name == "postgresql" else "")
            conn.execute(text(head)).one()
            conn.execute(text(  # a copy of M-3 (5,000 counted), as that version records a transfer
                f"INSERT INTO transfers ({COLUMNS}) SELECT 'EARLIER0000000000000000001', exporter_id, 'M-EARLIER', "
                f"{', '.join(COLUMNS.split(', ')[3:])} FROM transfers WHERE reference = 'M-3'"))
            upgrade = threading.Thread(target=lambda: upgraded.append(Ledger(ledger_url)))
            upgrade.start()
            upgrade.join(1.0)
            assert upgrade.is_alive(), "the upgrade did not wait for the write under way"
        upgrade.join(60)
        assert upgraded, "the upgrade failed"
        personal, sensitive = EXPECTED_SUMS[(EXPORTER, 2026)]
        filled = stored(upgraded[0])
        assert nonzero(filled.sums) == {**EXPECTED_SUMS, (EXPORTER, 2026): (personal + 5_000, sensitive)}
        assert dict(filled.populations) == EXPECTED_POPULATIONS
    finally:
        earlier.dispose()
        for store in upgraded:
            store.close()


COLUMNS = ("decision_id, exporter_id, reference, request_sha256, request_json, decision_json, outcome, year, "
           "counted, personal_subjects, sensitive_subjects, rules_digest, recorded_at, event_seq")


def test_a_ledger_behind_the_newest_revision_is_not_counted_until_upgraded(
        ledger_url: str, ledger_engine: Engine) -> None:
    """A dry-run reader does not upgrade (api.counts). On a ledger at an earlier revision it refuses to
    count (the rules it was written under under-count populations) and says what to do."""
    ledger = Ledger(ledger_url)
    record_mixed_history(ledger, ledger_engine)
    for revision in ("0004", "0003"):
        with ledger.sql_engine.begin() as conn:
            command.downgrade(alembic_config(conn), revision)
        reader = Ledger(ledger_url, upgrade=False)
        try:
            with pytest.raises(LedgerOutOfDate, match=f"revision {revision}.*baygate db upgrade"):
                reader.prior_counts(transfer("next", planned_date="2026-07-01"))
            with pytest.raises(LedgerOutOfDate):
                reader.counts(EXPORTER, 2025)
        finally:
            reader.close()
    ledger.close()
    upgraded = Ledger(ledger_url)  # what `baygate db upgrade` does
    try:
        assert upgraded.prior_counts(transfer("next", planned_date="2026-07-01")) == \
            replayed_prior(upgraded, EXPORTER, 2026)
        assert upgraded.verify().ok
    finally:
        upgraded.close()


SENSITIVE_CONTRACT = {**PLAIN, "mechanisms": [{"type": "standard_contract", "reference": "SC-1",
                                               "effective_on": "2024-01-10", "filed_on": "2024-01-15"}]}


def test_the_tallies_of_population_figures_survive_a_downgrade_and_an_upgrade(
        ledger_url: str, ledger_engine: Engine) -> None:
    """Revision 0005 keeps a figure per tally. Taken back to 0004, the sensitive figures are dropped
    (what an earlier version reads under a name is what the events hashed under ``populations``, and a
    sensitive data set then counts in full: more, never less); upgraded again, they are split from the
    requests once more."""
    ledger = Ledger(ledger_url)
    ledger.submit(ledger_engine, transfer("C-1", data=[named(5_000, "members")], safeguards=SENSITIVE_CONTRACT))
    ledger.submit(ledger_engine, transfer("H-1", data=[named(8_000, "members", sensitive=["medical_health"])],
                                          safeguards=SENSITIVE_CONTRACT))
    before = stored(ledger)
    assert dict(before.populations) == {(EXPORTER, 2026, "members", "personal"): 5_000,
                                        (EXPORTER, 2026, "members", "sensitive"): 8_000}
    with ledger.sql_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0004")
    with ledger.sql_engine.connect() as conn:  # what an earlier version reads: the figures events listed
        assert conn.execute(text("SELECT population, subjects FROM transfer_populations ORDER BY subjects")).all() \
            == [("members", 5_000)]
        assert conn.execute(text("SELECT population, largest_subjects FROM exporter_year_populations")).all() \
            == [("members", 5_000)]
    ledger.close()
    upgraded = Ledger(ledger_url)
    try:
        assert stored(upgraded) == before
        assert upgraded.verify().ok
        assert dict(upgraded.prior_counts(transfer("next")).sensitive_populations) == {"members": 8_000}
    finally:
        upgraded.close()


# What writes of a version before 0005 run when a transfer names a population.
EARLIER_POPULATION_WRITES = (
    "INSERT INTO transfer_populations (decision_id, population, subjects) VALUES (:d, 'members', 1)",
    "INSERT INTO exporter_year_populations (exporter_id, year, population, largest_subjects) "
    "VALUES (:e, 2026, 'members', 1) ON CONFLICT (exporter_id, year, population) DO UPDATE SET "
    "largest_subjects = excluded.largest_subjects WHERE excluded.largest_subjects > "
    "exporter_year_populations.largest_subjects",
)


@pytest.mark.parametrize("statement", EARLIER_POPULATION_WRITES)
def test_population_writes_of_earlier_versions_fail(ledger: Ledger, ledger_engine: Engine, statement: str) -> None:
    """They would record one figure for both tallies: they fail, and their transaction rolls back."""
    ledger.submit(ledger_engine, transfer("C-1", data=[named(5_000, "members")]))
    with pytest.raises(DBAPIError):
        sql(ledger, statement, d=ledger.get("C-1").decision.decision_id, e=EXPORTER)


# ------------------------------------------------------------------------------------ audit verify

@pytest.fixture
def history(ledger: Ledger, ledger_engine: Engine) -> Ledger:
    record_mixed_history(ledger, ledger_engine)
    assert ledger.verify().ok
    return ledger


def test_verify_names_an_edited_sum(history: Ledger) -> None:
    sql(history, "UPDATE exporter_year_totals SET personal_subjects = personal_subjects - 1 "
                 "WHERE exporter_id = :e AND year = 2026", e=EXPORTER)
    result = history.verify()
    assert not result.ok
    assert result.first_bad == f"counts {EXPORTER} 2026"
    assert f"exporter {EXPORTER} for 2026" in (result.problem or "")
    assert "personal 35299" in (result.problem or "") and "personal 35300" in (result.problem or "")


# Edits SQLite lets through in any column (it keeps what it is given): each reads back unlike anything the
# ledger writes, and counting's filters (``year IN (...)``, ``counted = 1``) no longer find the row while
# a lenient int() or bool() would still accept it. (table, column, the edit, its WHERE clause.)
SQLITE_FORGERIES = [
    ("exporter_year_totals", "year", "year = 2026.5", "exporter_id = :e AND year = 2026"),
    ("exporter_year_totals", "year", "year = X'32303236'", "exporter_id = :e AND year = 2026"),
    ("exporter_year_totals", "personal_subjects", "personal_subjects = 'ninety'", "exporter_id = :e AND year = 2026"),
    ("exporter_year_population_figures", "year", "year = X'32303236'", "exporter_id = :e AND population = 'members'"),
    ("transfers", "year", "year = 2026.5", "reference = 'M-3'"),
    ("transfers", "counted", "counted = 2", "reference = 'M-1'"),
    ("transfers", "counted", "counted = 'yes'", "reference = 'M-1'"),
    ("transfers", "request_json", "request_json = CAST(request_json AS BLOB)", "reference = 'M-1'"),
    ("events", "body", "body = CAST(body AS BLOB)", "seq = 3"),
]


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("table", "column", "edit", "where"), SQLITE_FORGERIES,
                         ids=[f"{table}.{edit}" for table, _, edit, _ in SQLITE_FORGERIES])
def test_verify_names_a_value_sqlite_keeps_as_written(history: Ledger, table: str, column: str, edit: str,
                                                      where: str) -> None:
    sql(history, f"UPDATE {table} SET {edit} WHERE {where}", e=EXPORTER)
    result = history.verify()
    assert not result.ok
    assert str(result.first_bad).startswith(f"{table} ") and f": {column} holds" in (result.problem or "")
    assert "edited" in (result.problem or "")


def test_verify_names_a_population_figure_moved_to_another_tally(history: Ledger) -> None:
    seq = history.get("M-4").event_seq
    sql(history, "UPDATE transfer_populations SET tally = 'personal' WHERE population = 'patients' "
                 "AND tally = 'sensitive'")
    result = history.verify()
    assert result.first_bad == seq and "populations was edited" in (result.problem or "")
    sql(history, "UPDATE transfer_populations SET tally = 'both' WHERE population = 'patients'")
    result = history.verify()
    assert result.first_bad == seq and "tally was edited" in (result.problem or "")


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_a_total_moved_to_a_year_sqlite_keeps_as_written_is_what_counting_no_longer_finds(history: Ledger) -> None:
    """Why the storage check is needed: counting would read zero after this edit, a decoy row beside it
    (it refuses since the totals are sealed: the edited row's seal no longer matches)."""
    sql(history, "UPDATE exporter_year_totals SET personal_subjects = 0 WHERE exporter_id = :e AND year = 2026",
        e=EXPORTER)
    sql(history, "INSERT INTO exporter_year_totals VALUES (:e, 2026.5, 35300, 700, NULL)", e=EXPORTER)
    with pytest.raises(LedgerIntegrityError, match="changed outside the service"):
        history.counts(EXPORTER, 2026)
    result = history.verify()
    assert not result.ok and "2026.5" in (result.problem or "")


def test_verify_names_an_edited_sensitive_sum(history: Ledger) -> None:
    sql(history, "UPDATE exporter_year_totals SET sensitive_subjects = 0 WHERE exporter_id = :e AND year = 2026",
        e=EXPORTER)
    result = history.verify()
    assert result.first_bad == f"counts {EXPORTER} 2026" and "sensitive 700" in (result.problem or "")


def test_verify_names_a_missing_sums_row(history: Ledger) -> None:
    sql(history, "DELETE FROM exporter_year_totals WHERE exporter_id = :e AND year = 2025", e=EXPORTER)
    result = history.verify()
    assert not result.ok
    assert result.first_bad == f"counts {EXPORTER} 2025"
    assert "no row" in (result.problem or "")


def test_verify_names_an_edited_population_figure(history: Ledger) -> None:
    sql(history, "UPDATE exporter_year_population_figures SET largest_subjects = 50000 "
                 "WHERE exporter_id = :e AND year = 2026 AND population = 'members'", e=EXPORTER)
    result = history.verify()
    assert result.first_bad == f"counts {EXPORTER} 2026"
    assert "population 'members'" in (result.problem or "") and "30000" in (result.problem or "")


def test_verify_names_a_missing_population_row(history: Ledger) -> None:
    sql(history, "DELETE FROM exporter_year_population_figures WHERE exporter_id = :e AND population = 'members'",
        e=OTHER)
    result = history.verify()
    assert result.first_bad == f"counts {OTHER} 2026"
    assert "population 'members' (personal tally) stored no row" in (result.problem or "")


def test_verify_names_a_forged_population_row(history: Ledger) -> None:
    sql(history, "INSERT INTO exporter_year_population_figures (exporter_id, year, population, tally, "
                 "largest_subjects) VALUES (:e, 2026, 'forged', 'sensitive', 99999)", e=OTHER)
    result = history.verify()
    assert result.first_bad == f"counts {OTHER} 2026"
    assert "population 'forged'" in (result.problem or "") and "no counted transfer" in (result.problem or "")


def test_a_withdrawal_is_refused_on_totals_that_lost_its_subjects(history: Ledger, ledger_engine: Engine) -> None:
    sql(history, "DELETE FROM exporter_year_totals WHERE exporter_id = :e AND year = 2026", e=EXPORTER)
    events = history.verify().events
    with pytest.raises(LedgerError, match="running totals of exporter"):
        history.withdraw("M-1")
    assert not history.get("M-1").withdrawn
    with history.sql_engine.connect() as conn:
        assert conn.execute(text("SELECT max(seq) FROM events")).scalar() == events


# ------------------------------------------------------------------------------------ random histories

@dataclass(frozen=True)
class Submit:
    """Submissions arriving together (one group commit, or more when an exporter repeats)."""

    transfers: tuple[tuple[int, int, tuple[tuple[int, bool, str | None], ...], bool, str], ...]
    """(exporter, year, data sets (subjects, sensitive, population), under a contract, purpose) each."""


@dataclass(frozen=True)
class Withdraw:
    """Withdraw the pick-th transfer submitted so far (modulo): repeats withdraw twice."""

    pick: int


@dataclass(frozen=True)
class Amend:
    """Amend the pick-th transfer submitted so far (modulo; the decision in force of its transfer): its
    contract added or taken away (so it may start or stop counting), its planned date moved to the other
    year or not. A withdrawn one is refused."""

    pick: int
    move: bool


@dataclass(frozen=True)
class WithdrawPeak:
    """Withdraw the counted, not withdrawn transfer holding a population's largest figure."""

    exporter: int
    population: str


@dataclass(frozen=True)
class WithdrawFirst(WithdrawPeak):
    """Withdraw the first counted, not withdrawn transfer that names a population: the later ones that
    name it counted only their increase over its figure, and keep their individuals without it."""


EXPORTERS = 2
YEARS = (2025, 2026)
POPULATIONS = ("members", "patients")

# Weighted towards what counts (permitted: mostly under a contract, a quarter sensitive, some exempt
# purposes, some volumes that need more than a contract) and towards named populations.
data_sets = st.tuples(st.sampled_from([1, 700, 5_000, 20_000, 30_000, 60_000, 99_999, 150_000, 1_200_000]),
                      st.sampled_from([False, False, False, True]), st.sampled_from([None, *POPULATIONS, *POPULATIONS]))
submissions = st.tuples(st.integers(0, EXPORTERS - 1), st.sampled_from(YEARS),
                        st.lists(data_sets, min_size=1, max_size=3).map(tuple),
                        st.sampled_from([True, True, True, False]),
                        st.sampled_from(["business_services"] * 3 + ["contract_performance"]))
operations = st.one_of(
    st.lists(submissions, min_size=1, max_size=4).map(lambda items: Submit(tuple(items))),
    st.integers(0, 50).map(Withdraw),
    st.builds(Amend, st.integers(0, 50), st.booleans()),
    st.builds(WithdrawPeak, st.integers(0, EXPORTERS - 1), st.sampled_from(POPULATIONS)),
    st.builds(WithdrawFirst, st.integers(0, EXPORTERS - 1), st.sampled_from(POPULATIONS)),
)


@pytest.fixture
def shared_ledger(ledger_url: str) -> Iterator[Ledger]:
    """One ledger for every example of a property test; each example uses exporters of its own."""
    store = Ledger(ledger_url)
    try:
        yield store
    finally:
        store.close()


class History:
    """One example's exporters, and what it submitted."""

    _examples = itertools.count()

    def __init__(self) -> None:
        self.number = next(self._examples)
        self.exporters = [f"9144030000PROP{self.number:04d}{i}" for i in range(EXPORTERS)]
        self.submitted: list[str] = []
        self._references = itertools.count()

    def request(self, exporter: int, year: int, data: tuple[tuple[int, bool, str | None], ...],
                contract: bool, purpose: str) -> TransferRequest:
        sets = [{"kind": "personal", "subjects": subjects, "population": population,
                 **({"sensitive": ["medical_health"]} if sensitive else {})}
                for subjects, sensitive, population in data]
        return transfer(f"H{self.number}-{next(self._references)}", exporter_id=self.exporters[exporter],
                        planned_date=f"{year}-06-01", data=sets, purpose=purpose,
                        safeguards=CONTRACT if contract else PLAIN)


def run(ledger: Ledger, engine: Engine, history: History,
        operation: Submit | Withdraw | WithdrawPeak | Amend) -> None:
    if isinstance(operation, Submit):
        results = submit_together(ledger, engine, [history.request(*item) for item in operation.transfers])
        history.submitted += [result.decision.decision_id for result in results]
        event(f"{sum(r.decision.counts.counted and r.decision.outcome == 'permitted' for r in results)} of "
              f"{len(results)} submitted together counted")
    elif isinstance(operation, Withdraw):
        if history.submitted:
            withdrawn = ledger.withdraw(history.submitted[operation.pick % len(history.submitted)])
            event("withdrawn again" if withdrawn.already_withdrawn else "withdrawn")
    elif isinstance(operation, Amend):
        if history.submitted:
            amend_one(ledger, engine, history, history.submitted[operation.pick % len(history.submitted)],
                      operation.move)
    else:
        first = isinstance(operation, WithdrawFirst)
        with ledger.sql_engine.connect() as conn:
            found = conn.execute(text(
                "SELECT t.decision_id FROM transfer_populations p JOIN transfers t ON t.decision_id = p.decision_id "
                "WHERE t.exporter_id = :e AND p.population = :p AND t.counted = :yes AND t.withdrawn_at IS NULL "
                + ("ORDER BY t.event_seq LIMIT 1" if first else "ORDER BY p.subjects DESC, t.decision_id LIMIT 1")),
                {"e": history.exporters[operation.exporter], "p": operation.population, "yes": True}).scalar()
        if found is not None:
            withdrawn = ledger.withdraw(str(found))
            kept = withdrawn.counted_personal_subjects - withdrawn.released_personal_subjects
            event(f"a population's {'first' if first else 'peak'} withdrawn, "
                  f"{'keeping' if kept > 0 else 'adding back' if kept < 0 else 'releasing'} what it counted")
        else:
            event(f"no population's {'first' if first else 'peak'} to withdraw")


def amend_one(ledger: Ledger, engine: Engine, history: History, decision_id: str, move: bool) -> None:
    """Amend the transfer of ``decision_id``: its contract toggled, its year moved if ``move``."""
    recorded = ledger.get(decision_id)
    document = recorded.request.model_dump(mode="json")
    document["safeguards"] = PLAIN if recorded.request.safeguards.mechanisms else CONTRACT
    if move:
        document["planned_date"] = f"{YEARS[0] if recorded.request.planned_date.year != YEARS[0] else YEARS[1]}-06-01"
    try:
        amended = amend(ledger, engine, decision_id, TransferRequest.model_validate(document))
    except AmendWithdrawn:
        event("a withdrawn transfer is not amended")
        return
    history.submitted.append(amended.decision.decision_id)
    event(f"amended {recorded.decision.outcome} -> {amended.decision.outcome}{', moved' if move else ''}")


def check_counts(ledger: Ledger, history: History) -> None:
    """Totals equal the recount from the chain, and every read of them (dry runs, ledger counts) the
    counts of the transfers not withdrawn, tallied again as if the withdrawn ones had never been."""
    assert running.first_difference(recounted(ledger), stored(ledger)) is None
    for exporter, year in itertools.product(history.exporters, (*YEARS, YEARS[-1] + 1)):
        expected = replayed_prior(ledger, exporter, year)
        assert ledger.prior_counts(transfer("next", exporter_id=exporter, planned_date=f"{year}-07-01")) == expected
        assert ledger.counts(exporter, year) == {"exporter": exporter, "year": year,
                                                 "personal_subjects": expected.personal_subjects,
                                                 "sensitive_subjects": expected.sensitive_subjects}


def check_decisions(ledger: Ledger, engine: Engine, history: History) -> None:
    """Every decision read the counts its exporter had then (rebuilt from the rows in chain order):
    the sums it records, and the populations its tally was taken against. The rebuild of each one on
    its own (``only``) and every way of walking the chain carrying the counts forward agree."""
    rebuilt = list(recorded_decisions(ledger, only=history.submitted))
    by_id = {found.decision_id: found.prior for found in rebuilt}
    assert set(by_id) == set(history.submitted)  # the decisions amendments replaced are re-decided too
    check_walks(ledger, history, by_id, {found.decision_id: found.event_seq for found in rebuilt})
    for recorded in recorded_decisions(ledger, only=history.submitted):
        counts = recorded.decision["counts"]
        assert (counts["personal_subjects_before"], counts["sensitive_subjects_before"]) == \
            (recorded.prior.personal_subjects, recorded.prior.sensitive_subjects), recorded.reference
        if counts["counted"] and recorded.decision["outcome"] == "permitted":
            tally = tally_for(TransferRequest.model_validate(recorded.request), recorded.prior, engine.options)
            assert (counts["personal_subjects_after"] - counts["personal_subjects_before"],
                    counts["sensitive_subjects_after"] - counts["sensitive_subjects_before"]) == \
                (tally.personal_subjects, tally.sensitive_subjects), recorded.reference


def check_walks(ledger: Ledger, history: History, by_id: dict[str, PriorCounts], positions: dict[str, int]) -> None:
    """The priors of a walk of each exporter, of every exporter split over two and three workers, of a
    walk resumed halfway (its counts rebuilt from the rows), and of walks keeping one exporter-year at a
    time (rebuilt whenever met again) are the priors rebuilt one transfer at a time."""
    mine = set(history.submitted)

    def walked(walk: Walk) -> dict[str, PriorCounts]:
        return {found.decision_id: found.prior for found in recorded_decisions(ledger, walk=walk)
                if found.decision_id in mine}

    per_exporter: dict[str, PriorCounts] = {}
    for exporter in history.exporters:
        per_exporter.update(walked(Walk(exporter=exporter)))
    assert per_exporter == by_id
    for workers in (2, 3):
        split: dict[str, PriorCounts] = {}
        for worker in range(workers):
            found = walked(Walk(worker=worker, workers=workers))
            assert not set(found) & set(split)
            split.update(found)
        assert split == by_id
    if history.submitted:
        halfway = positions[history.submitted[len(history.submitted) // 2]]
        resumed = walked(Walk(start_seq=halfway))
        assert resumed == {key: value for key, value in by_id.items() if positions[key] >= halfway}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(priors, "CAPACITY", 1)
        assert walked(Walk(exporter=history.exporters[0])) == {
            key: value for key, value in by_id.items() if key in per_exporter and
            ledger.get(key).exporter_id == history.exporters[0]}
        assert walked(Walk()) == by_id


def run_history(ledger: Ledger, engine: Engine, steps: list[Submit | Withdraw | WithdrawPeak | Amend]) -> None:
    """Each step, the counts checked after it; then every decision's prior and the audit chain."""
    history = History()
    for operation in steps:
        run(ledger, engine, history, operation)
        check_counts(ledger, history)
    check_decisions(ledger, engine, history)
    result = ledger.verify()
    assert result.ok, result.problem


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(operations, min_size=1, max_size=12))
def test_random_histories_keep_the_totals_equal_to_the_rows(
        shared_ledger: Ledger, ledger_engine: Engine, steps: list[Submit | Withdraw | WithdrawPeak | Amend]) -> None:
    run_history(shared_ledger, ledger_engine, steps)


# One exporter, one year, transfers of two populations under a contract (so they count), withdrawn in
# any order: the histories in which a later transfer relies on a withdrawn one's population figure.
population_submissions = st.tuples(
    st.sampled_from([1_000, 20_000, 40_000, 60_000, 90_000]), st.sampled_from([False, False, True]),
    st.sampled_from(["members", "members", "patients"])
).map(lambda data: Submit(((0, 2026, (data,), True, "business_services"),)))
population_steps = st.one_of(
    population_submissions, population_submissions,
    st.integers(0, 20).map(Withdraw),
    st.builds(WithdrawFirst, st.just(0), st.sampled_from(POPULATIONS)),
    st.builds(Amend, st.integers(0, 20), st.just(False)),
)


def members_of(*figures: int) -> list[Submit]:
    return [Submit(((0, 2026, ((figure, False, "members"),), True, "business_services"),)) for figure in figures]


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(population_steps, min_size=3, max_size=10))
@example(steps=[*members_of(20_000, 60_000), WithdrawFirst(0, "members")])  # keeps 20,000 with the later one
@example(steps=[*members_of(40_000, 20_000), WithdrawFirst(0, "members"), WithdrawFirst(0, "members")])
@example(steps=[*members_of(20_000, 60_000, 90_000), Withdraw(1), WithdrawFirst(0, "members"), Withdraw(2)])
# An amendment at one position releases the replaced decision, then submits the new one: the peak amended
# twice, the first withdrawn between (the walks' and the one-transfer rebuilds' priors must agree).
@example(steps=[*members_of(20_000, 60_000, 40_000), Amend(1, False), Withdraw(0), Amend(3, False)])
# The peak withdrawn while a decision amended later still holds the next figure: a transfer between reads it.
@example(steps=[*members_of(20_000, 60_000, 40_000), Withdraw(1), *members_of(50_000), Amend(2, False)])
def test_withdrawals_among_transfers_of_one_population_count_as_if_never_recorded(
        shared_ledger: Ledger, ledger_engine: Engine, steps: list[Submit | Withdraw | WithdrawPeak | Amend]) -> None:
    run_history(shared_ledger, ledger_engine, steps)

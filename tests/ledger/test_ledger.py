"""Recording, idempotency, conflicts, withdrawal and counting through the Ledger's Python API,
on SQLite and on PostgreSQL (the ``ledger`` fixture is parametrised over both)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from engine.evaluator import Engine
from engine.ledger import (
    AmbiguousReference,
    DatabaseUnavailable,
    Ledger,
    NotFound,
    ReferenceConflict,
    database,
)
from engine.ledger.packs import digest_of_text
from engine.ledger.schema import events, metadata, packs, transfers
from tests.ledger.conftest import EXPORTER, transfer


def test_submit_records_request_and_decision_and_counts_permitted(ledger: Ledger, ledger_engine: Engine) -> None:
    result = ledger.submit(ledger_engine, transfer("R-1", 15_000))
    assert not result.replayed
    assert result.decision.outcome == "permitted"
    assert result.decision.exemptions == ["under_threshold"]
    recorded = ledger.get("R-1")
    assert recorded.decision == result.decision
    assert recorded.request == transfer("R-1", 15_000)
    assert recorded.counted and not recorded.withdrawn
    assert ledger.get(result.decision.decision_id).decision.decision_id == result.decision.decision_id
    assert ledger.counts(EXPORTER, 2026) == {"exporter": EXPORTER, "year": 2026,
                                            "personal_subjects": 15_000, "sensitive_subjects": 0}


def test_same_reference_same_request_is_replayed_without_counting_twice(
        ledger: Ledger, ledger_engine: Engine) -> None:
    first = ledger.submit(ledger_engine, transfer("R-1", 40_000))
    again = ledger.submit(ledger_engine, transfer("R-1", 40_000))
    assert again.replayed
    assert again.decision == first.decision
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 40_000
    assert ledger.verify().events == len(ledger_engine.pack_set.packs) + 1


def test_same_reference_different_request_is_a_conflict_and_records_nothing(
        ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("R-1", 40_000))
    with pytest.raises(ReferenceConflict) as caught:
        ledger.submit(ledger_engine, transfer("R-1", 41_000))
    assert caught.value.code == "baygate.reference-conflict"
    assert caught.value.http_status == 409
    assert "'R-1'" in str(caught.value) and "differs in: data" in str(caught.value)
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 40_000
    assert ledger.verify().ok


def test_the_same_reference_for_another_exporter_is_another_transfer(
        ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("R-1", 1_000))
    ledger.submit(ledger_engine, transfer("R-1", 2_000, exporter_id="91440300MA5OTHER01"))
    with pytest.raises(AmbiguousReference):
        ledger.get("R-1")
    assert ledger.get("R-1", exporter_id="91440300MA5OTHER01").request.data[0].subjects == 2_000
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 1_000


def test_every_decision_is_recorded_but_only_permitted_ones_count(ledger: Ledger, ledger_engine: Engine) -> None:
    no_consent = transfer("R-1", 5_000).model_copy(update={"safeguards": transfer("x").safeguards.model_copy(
        update={"separate_consent": False})})
    result = ledger.submit(ledger_engine, no_consent)
    assert result.decision.outcome == "conditional"
    assert ledger.get("R-1").counted is False
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 0


def test_exempt_volumes_are_recorded_but_not_counted(ledger: Ledger, ledger_engine: Engine) -> None:
    result = ledger.submit(ledger_engine, transfer("R-1", 5_000, purpose="contract_performance"))
    assert result.decision.outcome == "permitted"
    assert result.decision.exemptions == ["contract_necessity"]
    assert result.decision.counts.counted is False
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 0


def test_the_count_that_decided_is_the_count_recorded(ledger: Ledger, ledger_engine: Engine) -> None:
    outcomes = [ledger.submit(ledger_engine, transfer(f"R-{i}", 15_000)).decision for i in range(8)]
    assert [d.outcome for d in outcomes] == ["permitted"] * 6 + ["conditional"] * 2
    assert [d.counts.personal_subjects_before for d in outcomes] == [i * 15_000 for i in range(7)] + [90_000]
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 90_000


def test_withdraw_releases_counts_and_is_recorded(ledger: Ledger, ledger_engine: Engine) -> None:
    first = ledger.submit(ledger_engine, transfer("R-1", 60_000)).decision
    ledger.submit(ledger_engine, transfer("R-2", 30_000))
    before = ledger.verify().events
    withdrawn = ledger.withdraw(first.decision_id)
    assert not withdrawn.already_withdrawn
    assert withdrawn.released_personal_subjects == 60_000
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 30_000
    assert ledger.get("R-1").withdrawn
    assert ledger.verify().events == before + 1
    again = ledger.withdraw("R-1")
    assert again.already_withdrawn
    assert ledger.verify().events == before + 1
    # with R-1 released, another 60,000 stays under 100,000 (30,000 + 60,000)
    assert ledger.submit(ledger_engine, transfer("R-3", 60_000)).decision.outcome == "permitted"


def test_resubmitting_a_withdrawn_reference_replays_the_withdrawn_record(
        ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("R-1", 60_000))
    ledger.withdraw("R-1")
    assert ledger.submit(ledger_engine, transfer("R-1", 60_000)).replayed
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 0


def test_unknown_ids_are_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFound) as caught:
        ledger.withdraw("NO-SUCH-REF")
    assert caught.value.http_status == 404
    with pytest.raises(NotFound):
        ledger.get("NO-SUCH-REF")


def test_prior_counts_by_calendar_year(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("R-2025", 20_000, planned_date="2025-12-31"))
    ledger.submit(ledger_engine, transfer("R-2026", 30_000, planned_date="2026-01-01"))
    ledger.submit(ledger_engine, transfer("R-2026-S", 700, planned_date="2026-03-01",
                                          data=[{"kind": "personal", "subjects": 700,
                                                 "sensitive": ["medical_health"]}]))
    prior = ledger.prior_counts(transfer("next", planned_date="2026-07-01"))
    assert (prior.personal_subjects, prior.previous_year_personal_subjects) == (30_000, 20_000)
    assert ledger.get("R-2026-S").decision.outcome == "conditional"  # sensitive: a contract from 1 subject
    assert ledger.counts(EXPORTER, 2025)["personal_subjects"] == 20_000
    assert ledger.counts(EXPORTER, 2027)["personal_subjects"] == 0


def test_rule_packs_are_stored_by_digest_once(ledger: Ledger, ledger_engine: Engine) -> None:
    decision = ledger.submit(ledger_engine, transfer("R-1")).decision
    ledger.submit(ledger_engine, transfer("R-2"))
    with ledger.sql_engine.connect() as conn:
        stored = dict(conn.execute(select(packs.c.name, packs.c.digest)).all())
        kinds = conn.execute(select(events.c.kind, func.count()).group_by(events.c.kind)).all()
    assert stored == {p.name: p.digest for p in ledger_engine.pack_set.packs}
    assert dict(kinds) == {"pack": len(stored), "submission": 2}
    assert set(decision.rules.packs) == set(stored)
    for pack in ledger_engine.pack_set.packs:
        content = ledger.pack_content(pack.digest)
        assert digest_of_text(content) == pack.digest
        assert content == (Path(__file__).resolve().parents[2] / pack.file).read_text(encoding="utf-8")


def test_a_second_ledger_on_the_same_database_sees_the_records(ledger_url: str, ledger_engine: Engine) -> None:
    with_first = Ledger(ledger_url)
    with_first.submit(ledger_engine, transfer("R-1", 10_000))
    second = Ledger(ledger_url)
    assert second.counts(EXPORTER, 2026)["personal_subjects"] == 10_000
    assert second.submit(ledger_engine, transfer("R-1", 10_000)).replayed
    with_first.close()
    second.close()


def test_migrations_create_exactly_the_tables_the_code_queries(ledger: Ledger) -> None:
    with ledger.sql_engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert conn.execute(select(func.count()).select_from(transfers)).scalar() == 0
    assert differences == []
    assert revision == database.head_revision()


def test_ping_reports_an_unreachable_database_as_unavailable(tmp_path: Path) -> None:
    store = Ledger(f"sqlite:///{tmp_path / 'x.db'}")
    store.ping()
    with pytest.raises(DatabaseUnavailable) as caught:
        Ledger("postgresql://nobody@127.0.0.1:1/none")
    assert caught.value.http_status == 503
    with pytest.raises(DatabaseUnavailable):
        Ledger(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = Ledger(f"sqlite:///{tmp_path / 'wal.db'}")
    with store.sql_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_ledger_written_at_revision_0002_upgrades_with_its_counts(tmp_path: Path, ledger_engine: Engine) -> None:
    from alembic import command

    from engine.ledger.database import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    first = Ledger(url)
    first.submit(ledger_engine, transfer("OLD-1", 4_000))
    first.submit(ledger_engine, transfer("OLD-2", 6_000))
    with first.sql_engine.begin() as conn:  # as a ledger written before revision 0003 stands
        command.downgrade(alembic_config(conn), "0002")
        assert "ix_transfers_counting" in {row[1] for row in conn.exec_driver_sql("PRAGMA index_list(transfers)")}
    first.close()
    reopened = Ledger(url)
    try:
        with reopened.sql_engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == database.head_revision()
            names = {row[1] for row in conn.exec_driver_sql("PRAGMA index_list(transfers)")}
        assert "ix_transfers_exporter_seq" in names and "ix_transfers_counting" not in names
        assert reopened.counts(EXPORTER, 2026)["personal_subjects"] == 10_000
        assert reopened.verify().ok
    finally:
        reopened.close()


def test_counting_reads_the_running_totals_by_primary_key_on_sqlite(tmp_path: Path, ledger_engine: Engine) -> None:
    """The counts read a few rows of the running totals, looked up by key, and probe the transfers'
    index for one counted transfer an exporter-year (a deleted sums row is told so: engine.ledger.
    sealed_totals), never scanning transfers: their cost does not grow with the number of transfers
    (the plan says so, for the dry runs' statement and the group commit's)."""
    from engine.ledger.counting import FROM_TOTALS
    from engine.ledger.sealed_totals import MANY_SQL

    store = Ledger(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        store.submit(ledger_engine, transfer("PLAN-1", 1_000))
        with store.sql_engine.connect() as conn:
            plans = [conn.exec_driver_sql("EXPLAIN QUERY PLAN " + FROM_TOTALS.sqlite,
                                          {"e": EXPORTER, "y": 2026, "py": 2025, "yes": True}).all()]
            group_sql = MANY_SQL.replace("IN :es", "IN (:e, :o)").replace("IN :ys", "IN (:py, :y)")
            plans.append(conn.exec_driver_sql("EXPLAIN QUERY PLAN " + group_sql,
                                              {"e": EXPORTER, "o": "OTHER", "y": 2026, "py": 2025}).all())
        for plan, probes in zip(plans, (2, 0), strict=True):  # the group's probes: sealed_totals.probe
            details = [row[-1] for row in plan if row[-1].startswith(("SCAN", "SEARCH"))
                       and row[-1] not in ("SCAN this_year", "SCAN last_year")]  # the probes' one row
            totals = [d for d in details if "exporter_year_" in d]
            assert len(totals) == 2 and len(details) == 2 + probes, plan
            assert all(d.startswith("SEARCH exporter_year_") and "INDEX sqlite_autoindex_exporter_year_" in d
                       and "(exporter_id=? AND year=?)" in d for d in totals), plan
            assert all(d.startswith("SEARCH transfers USING COVERING INDEX") and "exporter_id=? AND year=? AND "
                       "counted=? AND withdrawn_at=?" in d for d in details if d not in totals), plan
    finally:
        store.close()

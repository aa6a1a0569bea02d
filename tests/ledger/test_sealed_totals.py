"""Decisions rest on counts the service wrote (issue 19 point 3): the running totals are sealed with a
key the database does not hold, and a decision on edited totals is refused (engine.ledger.seal,
engine.ledger.sealed_totals). Each edit an insider with database access (and no key) can make is tried
on SQLite and PostgreSQL; the refusal must come before anything is decided or recorded."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.errors import ConfigError
from engine.evaluator import Engine
from engine.ledger import Ledger, LedgerIntegrityError
from engine.ledger.seal import TotalsKey, default_key_path, load_totals_key
from tests.ledger.conftest import EXPORTER, transfer
from tests.ledger.insider import scalar, sql

OTHER = "91440300MA5SEALED02"
CONTRACT = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2025-12-01",
            "mechanisms": [{"type": "standard_contract", "reference": "SC-2026-1", "effective_on": "2026-01-05",
                            "filed_on": "2026-01-10"}]}
"""Under a filed standard contract a transfer is permitted (and counted) until the security assessment's
threshold: 1,000,000 individuals in the year."""


def members(subjects: int) -> list[dict[str, object]]:
    return [{"kind": "personal", "subjects": subjects, "population": "members"}]


@pytest.fixture
def counted(ledger: Ledger, ledger_engine: Engine) -> Ledger:
    """905,000 individuals counted for EXPORTER (so a next 200,000 needs the security assessment), a
    population figure, and last year's sums."""
    for request in (transfer("T-1", 900_000, safeguards=CONTRACT),
                    transfer("T-2", data=members(5_000), safeguards=CONTRACT),
                    transfer("T-0", 3_000, planned_date="2025-06-01")):
        assert ledger.submit(ledger_engine, request).decision.outcome == "permitted"
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 905_000
    return ledger


def events(ledger: Ledger) -> int:
    return int(scalar(ledger, "SELECT count(*) FROM events"))


def refused(ledger: Ledger, ledger_engine: Engine, match: str) -> None:
    """The next decision for EXPORTER is refused, recorded or dry run, and nothing is written."""
    before = events(ledger)
    with pytest.raises(LedgerIntegrityError, match=match) as raised:
        ledger.submit(ledger_engine, transfer("NEXT", 200_000, safeguards=CONTRACT))
    assert raised.value.http_status == 503 and raised.value.code == "baygate.ledger-integrity"
    assert str(raised.value).startswith("ledger integrity: ")
    with pytest.raises(LedgerIntegrityError, match=match):
        ledger.prior_counts(transfer("NEXT", 200_000))
    with pytest.raises(LedgerIntegrityError, match=match):
        ledger.counts(EXPORTER, 2026)
    assert events(ledger) == before
    assert scalar(ledger, "SELECT count(*) FROM transfers WHERE reference = 'NEXT'") == 0


def test_the_issue_s_edit_setting_the_total_to_zero_is_refused_not_decided(
        counted: Ledger, ledger_engine: Engine) -> None:
    """The issue: one statement set the total to 0 and the next decision went from conditional
    (security assessment) to permitted."""
    before = transfer("BEFORE", 200_000, safeguards=CONTRACT)
    assert counted.prior_counts(before).personal_subjects == 905_000
    assert counted.submit(ledger_engine, before).decision.outcome == "conditional"
    sql(counted, "UPDATE exporter_year_totals SET personal_subjects = 0 WHERE exporter_id = :e AND year = 2026",
        e=EXPORTER)
    refused(counted, ledger_engine, "exporter 91440300MA5LEDGER1 for 2026: it was changed outside the service")


@pytest.mark.parametrize("edit", [
    "UPDATE exporter_year_totals SET sensitive_subjects = 7 WHERE exporter_id = :e AND year = 2026",
    "UPDATE exporter_year_totals SET personal_subjects = 0 WHERE exporter_id = :e AND year = 2025",
    "UPDATE exporter_year_population_figures SET largest_subjects = 1 WHERE exporter_id = :e",
])
def test_an_edited_figure_is_refused(counted: Ledger, ledger_engine: Engine, edit: str) -> None:
    sql(counted, edit, e=EXPORTER)
    refused(counted, ledger_engine, "changed outside the service")


def test_a_deleted_population_figure_is_refused(counted: Ledger, ledger_engine: Engine) -> None:
    """Deleting the members figure would count the next 5,000 members again in full."""
    sql(counted, "DELETE FROM exporter_year_population_figures WHERE exporter_id = :e", e=EXPORTER)
    refused(counted, ledger_engine, "the running totals of exporter 91440300MA5LEDGER1 for 2026: it was changed")


def test_an_inserted_population_figure_with_a_copied_seal_is_refused(counted: Ledger, ledger_engine: Engine) -> None:
    sql(counted, "INSERT INTO exporter_year_population_figures (exporter_id, year, population, tally, "
                 "largest_subjects, mac) SELECT exporter_id, year, 'patients', tally, largest_subjects, mac "
                 "FROM exporter_year_population_figures WHERE exporter_id = :e", e=EXPORTER)
    refused(counted, ledger_engine, "population 'patients'")


def test_a_seal_copied_from_another_row_is_refused(counted: Ledger, ledger_engine: Engine) -> None:
    """Both rows' figures unchanged, but last year's row now carries this year's seal."""
    sql(counted, "UPDATE exporter_year_totals SET personal_subjects = (SELECT personal_subjects FROM "
                 "exporter_year_totals WHERE exporter_id = :e AND year = 2026), mac = (SELECT mac FROM "
                 "exporter_year_totals WHERE exporter_id = :e AND year = 2026) WHERE exporter_id = :e AND year = 2025",
        e=EXPORTER)
    refused(counted, ledger_engine, "exporter 91440300MA5LEDGER1 for 2025")


@pytest.mark.parametrize("year", [2026, 2025])
def test_a_deleted_sums_row_is_refused_while_counted_transfers_remain(
        counted: Ledger, ledger_engine: Engine, year: int) -> None:
    sql(counted, "DELETE FROM exporter_year_population_figures WHERE exporter_id = :e AND year = :y",
        e=EXPORTER, y=year)
    sql(counted, "DELETE FROM exporter_year_totals WHERE exporter_id = :e AND year = :y", e=EXPORTER, y=year)
    refused(counted, ledger_engine, f"for {year} are missing although it has counted transfers")


def test_a_row_without_a_seal_is_refused(counted: Ledger, ledger_engine: Engine) -> None:
    sql(counted, "UPDATE exporter_year_totals SET mac = NULL WHERE exporter_id = :e AND year = 2026", e=EXPORTER)
    refused(counted, ledger_engine, "carries no seal")


def test_a_withdrawal_on_edited_totals_is_refused_and_nothing_is_withdrawn(counted: Ledger) -> None:
    sql(counted, "UPDATE exporter_year_totals SET personal_subjects = personal_subjects + 1 "
                 "WHERE exporter_id = :e AND year = 2026", e=EXPORTER)
    before = events(counted)
    with pytest.raises(LedgerIntegrityError):
        counted.withdraw("T-2")
    assert events(counted) == before and not counted.get("T-2").withdrawn


def test_other_exporters_still_decide_and_the_seals_follow_every_write(counted: Ledger, ledger_engine: Engine) -> None:
    """An edit refuses that exporter's decisions only; the service's own writes (group commits,
    withdrawals that lower a population figure or drop it) keep every seal right."""
    sql(counted, "UPDATE exporter_year_totals SET personal_subjects = 0 WHERE exporter_id = :e", e=EXPORTER)
    counted.submit(ledger_engine, transfer("O-1", exporter_id=OTHER, data=members(7_000)))
    counted.submit(ledger_engine, transfer("O-2", exporter_id=OTHER, data=members(9_000)))
    counted.withdraw("O-2")
    assert counted.prior_counts(transfer("x", exporter_id=OTHER)).populations == {"members": 7_000}
    counted.withdraw("O-1")
    assert counted.counts(OTHER, 2026)["personal_subjects"] == 0
    assert counted.prior_counts(transfer("x", exporter_id=OTHER)).populations == {}
    assert scalar(counted, "SELECT count(*) FROM exporter_year_totals WHERE exporter_id = :e", e=OTHER) == 1


def test_a_process_with_another_key_is_told_so(counted: Ledger, ledger_engine: Engine) -> None:
    other = Ledger(counted.url, totals_key=TotalsKey.of(b"\x01" * 32))
    try:
        with pytest.raises(LedgerIntegrityError, match="sealed with another totals key"):
            other.submit(ledger_engine, transfer("NEXT", 1_000))
        other.seal_totals()  # db reseal: the chain accounts for every total, so they are sealed again
        assert other.counts(EXPORTER, 2026)["personal_subjects"] == 905_000
        with pytest.raises(LedgerIntegrityError, match="sealed with another totals key"):
            counted.counts(EXPORTER, 2026)
    finally:
        other.close()


def test_resealing_edited_totals_is_refused(counted: Ledger) -> None:
    """``db reseal`` (and the sealing after an upgrade) never vouches for totals the chain does not
    account for."""
    sql(counted, "UPDATE exporter_year_totals SET personal_subjects = 0 WHERE exporter_id = :e AND year = 2026",
        e=EXPORTER)
    with pytest.raises(LedgerIntegrityError, match="not sealed: running totals of exporter 91440300MA5LEDGER1"):
        counted.seal_totals()


def test_an_upgraded_ledger_is_sealed_by_its_first_writer_only_when_the_chain_accounts_for_it(
        counted: Ledger, ledger_engine: Engine) -> None:
    """Revision 0009 adds the seals empty; the first writing process seals them after checking them
    against the chain. Totals edited before (or during) the upgrade stay unsealed: refused."""
    sql(counted, "UPDATE exporter_year_totals SET mac = NULL")
    sql(counted, "UPDATE exporter_year_population_figures SET mac = NULL")
    reopened = Ledger(counted.url)
    try:
        assert reopened.unsealed_reason is None
        assert reopened.counts(EXPORTER, 2026)["personal_subjects"] == 905_000
    finally:
        reopened.close()
    sql(counted, "UPDATE exporter_year_totals SET mac = NULL, personal_subjects = 0 WHERE year = 2026")
    reopened = Ledger(counted.url)
    try:
        assert reopened.unsealed_reason is not None and "personal 0" in reopened.unsealed_reason
        refused(reopened, ledger_engine, "carries no seal")
    finally:
        reopened.close()


# ------------------------------------------------------------------------------------------ the key file

@pytest.fixture
def no_key_setting() -> Iterator[dict[str, str]]:
    yield {name: value for name, value in os.environ.items() if name != "BAYGATE_TOTALS_KEY_FILE"}


def test_the_default_key_is_created_once_readable_by_its_owner_only(tmp_path: Path,
                                                                     no_key_setting: dict[str, str]) -> None:
    environ = {**no_key_setting, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    first = load_totals_key(environ)
    path = default_key_path(environ)
    assert path == tmp_path / "config" / "baygate" / "totals.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_totals_key(environ).key_id == first.key_id
    assert path.read_text().strip() not in repr(first)


@pytest.mark.parametrize(("content", "mode", "message"), [
    ("ab" * 32 + "\n", 0o640, "can be read by other users (mode 0640)"),
    ("ab" * 8 + "\n", 0o600, "does not hold a key of 32 bytes or more"),
    ("not hex\n", 0o600, "does not hold a key of 32 bytes or more"),
])
def test_an_unusable_key_file_is_refused_naming_the_setting(tmp_path: Path, content: str, mode: int,
                                                           message: str) -> None:
    path = tmp_path / "totals.key"
    path.write_text(content)
    path.chmod(mode)
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        load_totals_key({"BAYGATE_TOTALS_KEY_FILE": str(path)})
    assert "BAYGATE_TOTALS_KEY_FILE" in str(raised.value) and content.strip() not in str(raised.value)


def test_the_key_never_enters_the_database(counted: Ledger) -> None:
    secret = Path(os.environ["BAYGATE_TOTALS_KEY_FILE"]).read_text().strip()
    with counted.sql_engine.connect() as conn:
        tables = [name for (name,) in conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'" if conn.dialect.name == "sqlite" else
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
        for table in tables:
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                assert secret not in repr(tuple(row)), table

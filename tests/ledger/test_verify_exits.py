"""``baygate audit verify``'s exit codes (DESIGN section 6; issue 19 point 2), through the installed
program: 0 intact, 1 tampered, 3 no ledger there or not a baygate ledger (and nothing is created or
changed by asking), 4 could not finish. A monitor must never read "could not check" as "intact"."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from engine.evaluator import Engine
from engine.ledger import Ledger
from tests.ledger.conftest import ROOT, transfer
from tests.ledger.test_cli import baygate


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_missing_file_is_no_ledger_and_is_not_created(tmp_path: Path) -> None:
    db = tmp_path / "typo.db"
    result = baygate("audit", "verify", db=db)
    assert result.returncode == 3, result.stderr
    assert "no ledger" in result.stderr and "does not exist" in result.stderr
    assert not db.exists() and not list(tmp_path.iterdir())


def test_an_empty_file_is_not_a_ledger_and_stays_empty(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    result = baygate("audit", "verify", db=db)
    assert result.returncode == 3
    assert "empty file" in result.stderr
    assert db.stat().st_size == 0


def test_an_empty_sqlite_database_is_not_a_ledger(tmp_path: Path) -> None:
    db = tmp_path / "blank.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 7")  # a valid database file with no table
    before = fingerprint(db)
    result = baygate("audit", "verify", db=db)
    assert result.returncode == 3
    assert "not a baygate ledger" in result.stderr
    assert fingerprint(db) == before


def test_another_applications_database_is_not_a_ledger_and_is_left_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('x')")
    before = fingerprint(db)
    result = baygate("audit", "verify", "--json", db=db)
    assert result.returncode == 3
    assert "customers" in result.stderr and "no audit chain" in result.stderr
    assert result.stdout == ""  # no JSON report claiming anything
    assert fingerprint(db) == before
    assert not Path(f"{db}-wal").exists()  # not converted to WAL either


def test_a_file_that_is_not_sqlite_is_not_a_ledger(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("these are not the ledger you are looking for\n" * 100, encoding="utf-8")
    result = baygate("audit", "verify", db=db)
    assert result.returncode == 3
    assert "not a SQLite database" in result.stderr


def test_a_ledger_of_an_earlier_revision_is_not_upgraded_by_verify(tmp_path: Path) -> None:
    db = tmp_path / "earlier.db"
    shutil.copy(ROOT / "tests" / "data" / "ledger-before-0005.db", db)
    before = fingerprint(db)
    result = baygate("audit", "verify", db=db)
    assert result.returncode == 3
    assert "revision 0004" in result.stderr and "baygate db upgrade" in result.stderr
    assert fingerprint(db) == before


def test_an_unreachable_database_could_not_finish(tmp_path: Path) -> None:
    result = baygate("audit", "verify", "--db", "postgresql://nobody@127.0.0.1:1/ledger", db=tmp_path / "x.db")
    assert result.returncode == 4, result.stderr
    assert "could not finish" in result.stderr
    assert "intact" not in result.stdout


def test_intact_is_0_and_tampered_is_1_and_a_dropped_table_is_tampering(
        tmp_path: Path, ledger_engine: Engine) -> None:
    db = tmp_path / "ledger.db"
    ledger = Ledger(f"sqlite:///{db}")
    ledger.submit(ledger_engine, transfer("EXIT-1"))
    ledger.close()
    intact = baygate("audit", "verify", db=db)
    assert intact.returncode == 0 and "intact" in intact.stdout
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE transfer_populations")
    dropped = baygate("audit", "verify", db=db)
    assert dropped.returncode == 1
    assert "transfer_populations is missing" in dropped.stderr


def test_out_of_memory_is_could_not_finish(tmp_path: Path, ledger_engine: Engine,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The one fault injected (a MemoryError cannot be had on demand from a real walk in a test's time):
    what the command answers when the walk runs out of memory."""
    db = tmp_path / "ledger.db"
    Ledger(f"sqlite:///{db}").close()

    def exhausted(_self: Ledger, *_args: object, **_kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(Ledger, "verify", exhausted)
    result = CliRunner().invoke(app, ["audit", "verify", "--db", f"sqlite:///{db}"])
    assert result.exit_code == 4
    assert "out of memory" in result.output


@pytest.mark.postgres
def test_a_postgresql_database_without_a_ledger_is_3_and_nothing_is_created(postgres_url: str) -> None:
    """The PostgreSQL side of the issue's "empty or unrelated" database: exit 3, no table created."""
    import psycopg

    def tables() -> list[str]:
        with psycopg.connect(postgres_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            return sorted(row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))

    empty = CliRunner().invoke(app, ["audit", "verify", "--db", postgres_url])
    assert empty.exit_code == 3 and "the database holds no table (nothing was created)" in empty.stderr, empty.output
    assert tables() == []
    with psycopg.connect(postgres_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("CREATE TABLE customers (id integer PRIMARY KEY, name text)")
    unrelated = CliRunner().invoke(app, ["audit", "verify", "--db", postgres_url])
    assert unrelated.exit_code == 3 and "not a baygate ledger" in unrelated.stderr, unrelated.output
    assert tables() == ["customers"]

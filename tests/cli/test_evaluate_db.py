"""``baygate evaluate --db URL`` reads that ledger's counts, as every ledger command takes --db."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from tests.ledger.conftest import transfer


def test_evaluate_reads_the_counts_of_the_ledger_named_by_db(tmp_path: Path) -> None:
    runner = CliRunner()
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text(transfer("DB-1", 60_000).model_dump_json(), encoding="utf-8")
    second.write_text(transfer("DB-2", 40_000).model_dump_json(), encoding="utf-8")
    recorded = f"sqlite:///{tmp_path / 'recorded.db'}"
    assert runner.invoke(app, ["submit", "--db", recorded, str(first)]).exit_code == 0
    against_it = runner.invoke(app, ["evaluate", "--json", "--db", recorded, str(second)])
    elsewhere = runner.invoke(app, ["evaluate", "--json", "--db", f"sqlite:///{tmp_path / 'none.db'}", str(second)])
    assert json.loads(against_it.stdout)["counts"]["personal_subjects_before"] == 60_000
    assert json.loads(elsewhere.stdout)["counts"]["personal_subjects_before"] == 0
    assert against_it.exit_code == 1 and elsewhere.exit_code == 0  # 100,000 reached only with the ledger's
    assert "no ledger at" in elsewhere.stderr  # and says it decided on the declared counts alone
    assert not (tmp_path / "none.db").exists()  # a dry run creates nothing

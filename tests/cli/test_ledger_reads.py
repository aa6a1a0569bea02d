"""``baygate ledger list`` and ``baygate ledger export`` on a SQLite ledger recorded by ``submit``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from tests.ledger.conftest import transfer


def recorded(tmp_path: Path, count: int) -> str:
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    for index in range(count):
        path = tmp_path / f"t{index}.json"
        path.write_text(transfer(f"CLI-L-{index}", 1_000 + index).model_dump_json(), encoding="utf-8")
        assert CliRunner().invoke(app, ["submit", "--db", db, str(path)]).exit_code == 0
    return db


def test_list_pages_and_all(tmp_path: Path) -> None:
    db = recorded(tmp_path, 3)
    runner = CliRunner()
    first = json.loads(runner.invoke(app, ["ledger", "list", "--db", db, "--json", "--limit", "2"]).stdout)
    assert [item["reference"] for item in first["items"]] == ["CLI-L-2", "CLI-L-1"] and first["next_cursor"]
    second = runner.invoke(app, ["ledger", "list", "--db", db, "--json", "--cursor", first["next_cursor"]])
    assert [item["reference"] for item in json.loads(second.stdout)["items"]] == ["CLI-L-0"]
    every = runner.invoke(app, ["ledger", "list", "--db", db, "--all", "--limit", "1"])
    assert every.exit_code == 0
    assert [line.split()[3] for line in every.stdout.splitlines()] == ["CLI-L-2", "CLI-L-1", "CLI-L-0"]
    assert "counted 1,002" in every.stdout.splitlines()[0]


def test_list_refuses_a_bad_cursor_and_a_bad_outcome(tmp_path: Path) -> None:
    db = recorded(tmp_path, 1)
    bad_cursor = CliRunner().invoke(app, ["ledger", "list", "--db", db, "--cursor", "nonsense"])
    assert bad_cursor.exit_code == 3 and "cursor" in bad_cursor.output
    assert CliRunner().invoke(app, ["ledger", "list", "--db", db, "--outcome", "maybe"]).exit_code == 3


def test_export_writes_every_decision_as_ndjson(tmp_path: Path) -> None:
    db = recorded(tmp_path, 3)
    out = tmp_path / "log.ndjson"
    result = CliRunner().invoke(app, ["ledger", "export", "--db", db, "-o", str(out)])
    assert result.exit_code == 0 and "exported 3 decisions" in result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["decision"]["reference"] for line in lines] == ["CLI-L-0", "CLI-L-1", "CLI-L-2"]
    after = CliRunner().invoke(app, ["ledger", "export", "--db", db, "--after", str(lines[0]["seq"])])
    assert [json.loads(line)["decision"]["reference"] for line in after.stdout.splitlines()] == ["CLI-L-1",
                                                                                                "CLI-L-2"]

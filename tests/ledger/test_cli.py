"""The ledger's commands through the installed ``baygate`` program, on a SQLite file: exit codes,
the counts JSON, a conflict as exit 3, a broken chain named by ``audit verify``, dry runs that read
the ledger's counts without creating a database."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from engine.ledger import database
from tests.ledger.conftest import EXPORTER, ROOT, transfer

BAYGATE = Path(sys.executable).parent / "baygate"


def baygate(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BAYGATE_DATABASE_URL=f"sqlite:///{db}")
    return subprocess.run([str(BAYGATE), *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)


def write(path: Path, reference: str, subjects: int) -> str:
    path.write_text(transfer(reference, subjects).model_dump_json(), encoding="utf-8")
    return str(path)


def test_submit_counts_withdraw_show_and_verify(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    dry = baygate("evaluate", write(tmp_path / "a.json", "CLI-1", 60_000), db=db)
    assert dry.returncode == 0 and not db.exists()  # a dry run creates nothing
    first = baygate("submit", "--json", str(tmp_path / "a.json"), db=db)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["outcome"] == "permitted"
    crossing = baygate("submit", write(tmp_path / "b.json", "CLI-2", 40_000), db=db)
    assert crossing.returncode == 1  # 100,000 reached: conditional
    dry_after = baygate("evaluate", "--json", write(tmp_path / "c.json", "CLI-3", 40_000), db=db)
    assert json.loads(dry_after.stdout)["counts"]["personal_subjects_before"] == 60_000
    counts = baygate("ledger", "counts", EXPORTER, "--year", "2026", "--json", db=db)
    assert json.loads(counts.stdout) == {"exporter": EXPORTER, "year": 2026, "personal_subjects": 60_000,
                                         "sensitive_subjects": 0}
    conflict = baygate("submit", write(tmp_path / "d.json", "CLI-1", 1), db=db)
    assert conflict.returncode == 3 and "already recorded" in conflict.stderr
    assert baygate("withdraw", "CLI-1", db=db).returncode == 0
    shown = json.loads(baygate("ledger", "show", "CLI-1", "--json", db=db).stdout)
    assert shown["withdrawn"] is True and shown["request"]["reference"] == "CLI-1"
    assert baygate("withdraw", "NO-SUCH", db=db).returncode == 3
    assert baygate("audit", "verify", db=db).returncode == 0
    with sqlite3.connect(db) as conn:
        seq = conn.execute("SELECT event_seq FROM transfers WHERE reference = 'CLI-2'").fetchone()[0]
        conn.execute("UPDATE transfers SET outcome = 'permitted' WHERE reference = 'CLI-2'")
    broken = baygate("audit", "verify", db=db)
    assert broken.returncode == 1
    assert f"broken at {seq}" in broken.stderr and "outcome was edited" in broken.stderr
    upgraded = baygate("db", "upgrade", "--db", f"sqlite:///{tmp_path / 'new.db'}", db=db)
    assert upgraded.returncode == 0 and f"revision {database.head_revision()} (newest)" in upgraded.stdout


def test_withdrawing_a_population_figure_a_later_transfer_relies_on_says_what_it_keeps(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    for reference, subjects in (("POP-1", 60_000), ("POP-2", 90_000)):
        request = transfer(reference, data=[{"kind": "personal", "subjects": subjects, "population": "members"}])
        (tmp_path / f"{reference}.json").write_text(request.model_dump_json(), encoding="utf-8")
        assert baygate("submit", str(tmp_path / f"{reference}.json"), db=db).returncode == 0
    withdrawn = baygate("withdraw", "POP-1", db=db)
    assert withdrawn.returncode == 0, withdrawn.stderr
    assert "released 0 personal and 0 sensitive subjects" in withdrawn.stdout
    assert "it had counted 60000 personal and 0 sensitive when recorded" in withdrawn.stdout
    counts = json.loads(baygate("ledger", "counts", EXPORTER, "--year", "2026", "--json", db=db).stdout)
    assert counts["personal_subjects"] == 90_000
    as_json = json.loads(baygate("withdraw", "POP-2", "--json", db=db).stdout)
    assert (as_json["released_personal_subjects"], as_json["counted_personal_subjects"]) == (90_000, 30_000)


def test_a_dry_run_on_a_ledger_of_an_earlier_version_asks_for_the_upgrade(tmp_path: Path) -> None:
    """A dry run writes nothing, so it does not upgrade: it refuses rather than count by the rules the
    ledger was written under (exit 4, could not finish, and what to do), and counts once ``db upgrade``
    has run."""
    db = tmp_path / "earlier.db"
    shutil.copy(ROOT / "tests" / "data" / "ledger-before-0005.db", db)
    request = tmp_path / "next.json"
    request.write_text(transfer("NEXT", 5_001).model_copy(update={"exporter": transfer("x").exporter.model_copy(
        update={"id": "WITHDRAWN-FIRST"})}).model_dump_json(), encoding="utf-8")
    refused = baygate("evaluate", str(request), db=db)
    assert refused.returncode == 4
    assert "revision 0004" in refused.stderr and "baygate db upgrade" in refused.stderr
    assert baygate("db", "upgrade", db=db).returncode == 0
    counted = baygate("evaluate", "--json", str(request), db=db)
    assert json.loads(counted.stdout)["counts"]["personal_subjects_before"] == 95_000

"""``--as-of`` (CLI) and ``?as_of=`` (HTTP): the pack versions in use on a day, from the ledger."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

from engine.evaluator import Engine
from engine.ledger import Ledger
from tests.ledger.conftest import ROOT, transfer
from tests.lifecycle.conftest import baygate, lowered_threshold

TODAY = dt.datetime.now(dt.UTC).date()


def backdate_stored_packs(db: Path, days: int) -> None:
    """Pretend the packs stored so far came into use ``days`` ago (the test cannot wait for a day)."""
    then = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="microseconds")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE packs SET first_used_at = ?", (then,))


def test_as_of_before_the_first_stored_version_is_an_error(recorded: Path, tmp_path: Path) -> None:
    request = tmp_path / "r.json"
    request.write_text(transfer("EARLY", 60_000).model_dump_json(), encoding="utf-8")
    answer = baygate("evaluate", "--as-of", "2020-01-01", str(request), db=recorded)
    assert answer.returncode == 3
    assert "2020-01-01" in answer.stderr and f"first stored day: {TODAY}" in answer.stderr
    submitted = baygate("submit", "--as-of", "2020-01-01", str(request), db=recorded)
    assert submitted.returncode == 3 and "2020-01-01" in submitted.stderr
    assert baygate("evaluate", "--as-of", TODAY.isoformat(), str(request), db=recorded).returncode == 0
    nothing = baygate("evaluate", "--as-of", "2020-01-01", str(request), db=tmp_path / "none.db")
    assert nothing.returncode == 3 and not (tmp_path / "none.db").exists()


def test_as_of_picks_the_old_version_after_a_pack_change(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    old = Engine.from_directory(ROOT / "rules")
    ledger = Ledger(f"sqlite:///{db}", rules_dirs=[ROOT / "rules"])
    ledger.store_packs(old)
    backdate_stored_packs(db, days=10)
    new_folder = lowered_threshold(tmp_path)
    new = Engine.from_directory(new_folder)
    ledger.rules_dirs.append(new_folder)
    ledger.store_packs(new)  # the lowered threshold comes into use today
    ledger.close()
    request = tmp_path / "r.json"
    request.write_text(transfer("ASOF", 60_000, exporter_id="91440300MA5ASOF001").model_dump_json(), encoding="utf-8")

    def decide(*extra: str) -> dict[str, object]:
        answer = baygate("evaluate", "--json", "--rules", str(new_folder), *extra, str(request), db=db)
        assert answer.returncode in (0, 1), answer.stderr
        return json.loads(answer.stdout)  # type: ignore[no-any-return]

    now = decide()
    assert now["outcome"] == "conditional" and now["rules"]["digest"] == new.digest
    before = decide("--as-of", (TODAY - dt.timedelta(days=5)).isoformat())
    assert before["outcome"] == "permitted" and before["rules"]["digest"] == old.digest
    assert before["rules"]["as_of"] == (TODAY - dt.timedelta(days=5)).isoformat()
    too_early = baygate("evaluate", "--as-of", (TODAY - dt.timedelta(days=11)).isoformat(), str(request), db=db)
    assert too_early.returncode == 3
    assert f"first stored day: {TODAY - dt.timedelta(days=10)}" in too_early.stderr


def test_as_of_follows_a_rollback_to_an_older_version(tmp_path: Path) -> None:
    """v1 in service, then v2, then v1 again: as of each day the set in service that day decides."""
    from engine.replay import PackLibrary

    db = tmp_path / "ledger.db"
    v1 = Engine.from_directory(ROOT / "rules")
    v2_folder = lowered_threshold(tmp_path)
    v2 = Engine.from_directory(v2_folder)
    ledger = Ledger(f"sqlite:///{db}", rules_dirs=[ROOT / "rules", v2_folder])

    def backdate_last_set(days: int) -> None:
        then = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="microseconds")
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE pack_sets SET started_at = ? WHERE seq = (SELECT max(seq) FROM pack_sets)",
                         (then,))
            conn.execute("UPDATE packs SET first_used_at = ? WHERE first_used_at > ?", (then, then))

    ledger.store_packs(v1)
    backdate_last_set(10)
    ledger.store_packs(v2)
    backdate_last_set(5)
    ledger.store_packs(v1)  # rolled back today
    ledger.store_packs(v1)  # the same set again records nothing new
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM pack_sets").fetchone()[0] == 3
    library = PackLibrary(ledger)
    assert library.pack_set_on(TODAY - dt.timedelta(days=7)).digest == v1.digest
    assert library.pack_set_on(TODAY - dt.timedelta(days=3)).digest == v2.digest
    assert library.pack_set_on(TODAY).digest == v1.digest  # first use alone would have said v2
    ledger.close()

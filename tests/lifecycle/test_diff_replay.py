"""``baygate rules diff`` and ``baygate audit replay`` on a real SQLite ledger."""

from __future__ import annotations

import json
from pathlib import Path

from engine.ledger import Ledger
from tests.ledger.conftest import ROOT, edit_stored_texts, transfer
from tests.lifecycle.conftest import CHANGED_BY_LOWER_THRESHOLD, SUBMITTED, baygate, lowered_threshold


def test_diff_with_a_changed_threshold_lists_exactly_the_affected_transfers(recorded: Path, tmp_path: Path) -> None:
    new = lowered_threshold(tmp_path)
    answer = baygate("rules", "diff", str(ROOT / "rules"), str(new), "--json", db=recorded)
    assert answer.returncode == 1, answer.stderr
    report = json.loads(answer.stdout)
    assert report["checked"] == len(SUBMITTED)
    assert {c["reference"] for c in report["changes"]} == CHANGED_BY_LOWER_THRESHOLD
    for change in report["changes"]:
        assert change["before"]["outcome"] == "permitted" and change["before"]["mechanism"] == "none"
        assert change["after"]["outcome"] == "conditional" and change["after"]["mechanism"] == "standard_contract"
        assert "cn.exempt.under-threshold" in change["rules_only_before"]
        assert "cn.pi.100k-to-1m" in change["rules_only_after"]
    text = baygate("rules", "diff", str(ROOT / "rules"), str(new), db=recorded)
    assert text.returncode == 1 and "MIDDLE" in text.stdout and "SMALL" not in text.stdout
    assert "fired only before: " in text.stdout


def test_diff_of_identical_packs_exits_0(recorded: Path) -> None:
    answer = baygate("rules", "diff", str(ROOT / "rules"), str(ROOT / "rules"), db=recorded)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert f"{len(SUBMITTED)} recorded transfers replayed, 0 change" in answer.stdout


def test_diff_refuses_a_bad_pack_folder(recorded: Path, tmp_path: Path) -> None:
    bad = lowered_threshold(tmp_path)
    (bad / "cn-outbound.yaml").write_text("pack: [", encoding="utf-8")
    answer = baygate("rules", "diff", str(ROOT / "rules"), str(bad), db=recorded)
    assert answer.returncode == 3 and "cn-outbound.yaml:" in answer.stderr


def test_replay_reproduces_every_recorded_decision(recorded: Path) -> None:
    answer = baygate("audit", "replay", "--json", db=recorded)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    report = json.loads(answer.stdout)
    assert report["checked"] == len(SUBMITTED) and report["differ"] == 0 and len(report["pack_sets"]) == 1
    one = baygate("audit", "replay", "SECOND", db=recorded)
    assert one.returncode == 0 and "1 of 1 recorded decisions reproduced" in one.stdout


def test_replay_uses_the_stored_pack_texts_not_a_folder(tmp_path: Path) -> None:
    """Decisions recorded under a pack folder that is gone since still replay, from the ledger's texts."""
    import shutil

    folder = lowered_threshold(tmp_path, "rules-then")
    db = tmp_path / "then.db"
    request = tmp_path / "middle.json"
    request.write_text(transfer("THEN", 60_000).model_dump_json(), encoding="utf-8")
    submitted = baygate("submit", "--rules", str(folder), str(request), db=db)
    assert submitted.returncode == 1, submitted.stderr  # conditional under the lowered threshold
    shutil.rmtree(folder)
    answer = baygate("audit", "replay", db=db)
    assert answer.returncode == 0 and "1 of 1 recorded decisions reproduced" in answer.stdout, answer.stderr


def test_replay_detects_a_tampered_stored_decision(recorded: Path) -> None:
    def permitted(request_json: str, decision_json: str) -> tuple[str, str]:
        decision = json.loads(decision_json)
        assert decision["outcome"] == "conditional"
        decision["outcome"], decision["mechanism"], decision["missing"] = "permitted", "none", []
        return request_json, json.dumps(decision)

    ledger = Ledger(f"sqlite:///{recorded}")
    try:
        edit_stored_texts(ledger, "LARGE", permitted)
    finally:
        ledger.close()
    answer = baygate("audit", "replay", db=recorded)
    assert answer.returncode == 1
    assert f"{len(SUBMITTED) - 1} of {len(SUBMITTED)} recorded decisions reproduced" in answer.stdout
    assert "LARGE" in answer.stderr and "outcome" in answer.stderr and "mechanism" in answer.stderr
    assert "MIDDLE" not in answer.stderr

"""Who acted (issue 19 point 5), at the ledger: every event names its actor and carries the reason given,
inside the hashed body; ``get`` and ``ledger show`` say who recorded and who withdrew; verify checks
the actor column against the chain and the pack set changes against their events. Both backends."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.actors import Actor, check_reason, key_actor, local_user
from tests.ledger.conftest import ROOT, transfer
from tests.ledger.insider import scalar, sql
from tests.ledger.test_cli import baygate


def event_data(ledger: Ledger, seq: int) -> dict[str, object]:
    body = json.loads(str(scalar(ledger, "SELECT body FROM events WHERE seq = :s", s=seq)))
    data: dict[str, object] = body["data"]
    return data


def test_submissions_withdrawals_and_pack_events_name_their_actor_and_reason(
        ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("A-1"), actor=key_actor("etl", "季度同步 quarterly sync"))
    ledger.withdraw("A-1", actor=key_actor("ops", "sent to the wrong recipient"))
    recorded = ledger.get("A-1")
    assert (recorded.recorded_by, recorded.reason) == ("key:etl", "季度同步 quarterly sync")
    assert (recorded.withdrawn_by, recorded.withdrawal_reason) == ("key:ops", "sent to the wrong recipient")
    assert event_data(ledger, recorded.event_seq)["actor"] == "key:etl"
    withdrawal = event_data(ledger, recorded.event_seq + 1)
    assert (withdrawal["actor"], withdrawal["reason"]) == ("key:ops", "sent to the wrong recipient")
    packs = scalar(ledger, "SELECT count(*) FROM events WHERE kind = 'pack' AND body LIKE :a",
                   a='%"actor":"key:etl"%')
    assert packs >= 1  # the packs first used by that submission
    assert ledger.verify().ok


def test_without_an_actor_the_library_acts_as_the_operating_system_user(ledger: Ledger,
                                                                        ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("A-2"))
    assert ledger.get("A-2").recorded_by == local_user().name
    assert local_user().name.startswith("user:")


def test_a_pack_set_put_in_service_is_an_event_naming_who_did_it(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.store_packs(ledger_engine, Actor("key:ops", "2026.12 packs"))
    seq = int(scalar(ledger, "SELECT max(seq) FROM events WHERE kind = 'pack_set'"))
    data = event_data(ledger, seq)
    assert (data["actor"], data["reason"]) == ("key:ops", "2026.12 packs")
    assert scalar(ledger, "SELECT event_seq FROM pack_sets ORDER BY seq DESC LIMIT 1") == seq
    ledger.store_packs(ledger_engine, Actor("key:ops"))  # the same set again: nothing new
    assert int(scalar(ledger, "SELECT max(seq) FROM events")) == seq
    assert ledger.verify().ok


def test_an_edited_actor_is_named_by_the_submission_event(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("A-3"), actor=key_actor("etl"))
    recorded = ledger.get("A-3")
    sql(ledger, "UPDATE transfers SET recorded_by = 'key:someone-else' WHERE reference = 'A-3'")
    result = ledger.verify()
    assert (result.first_bad, result.problem) == (
        recorded.event_seq, f"event {recorded.event_seq}: transfer {recorded.decision.decision_id}: actor was edited")


def test_an_edited_reason_is_caught_by_the_hash(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("A-4"), actor=key_actor("etl", "first reason"))
    seq = ledger.get("A-4").event_seq
    sql(ledger, "UPDATE events SET body = replace(body, 'first reason', 'other reason') WHERE seq = :s", s=seq)
    result = ledger.verify()
    assert (result.first_bad, result.problem) == (seq, f"event {seq}: its content does not match its hash (edited)")


@pytest.fixture
def in_service(ledger: Ledger, ledger_engine: Engine) -> int:
    ledger.store_packs(ledger_engine, Actor("key:ops"))
    return int(scalar(ledger, "SELECT max(seq) FROM events WHERE kind = 'pack_set'"))


def test_an_edited_pack_set_change_is_named_by_its_event(ledger: Ledger, in_service: int) -> None:
    sql(ledger, "UPDATE pack_sets SET members = '[]' WHERE event_seq = :s", s=in_service)
    result = ledger.verify()
    assert result.first_bad == in_service
    assert "its recorded set or moment was edited" in (result.problem or "")


def test_a_deleted_pack_set_change_is_named_by_its_event(ledger: Ledger, in_service: int) -> None:
    sql(ledger, "DELETE FROM pack_sets WHERE event_seq = :s", s=in_service)
    result = ledger.verify()
    assert result.first_bad == in_service and "was deleted" in (result.problem or "")


def test_a_pack_set_change_without_its_event_is_named(ledger: Ledger, in_service: int) -> None:
    sql(ledger, "INSERT INTO pack_sets (set_digest, members, started_at, event_seq) "
                "SELECT set_digest, members, started_at, 1 FROM pack_sets WHERE event_seq = :s", s=in_service)
    result = ledger.verify()
    assert result.first_bad == "pack set 1"
    assert result.problem == "the pack set change recorded at event 1 has no pack_set event there (inserted)"


def test_a_reason_is_one_line_of_printable_text_of_at_most_500_characters() -> None:
    assert check_reason("  fixing a typo  ") == "fixing a typo"
    assert check_reason("   ") is None and check_reason(None) is None
    with pytest.raises(InputError, match=r"reason: at most 500 characters \(got 501\)"):
        check_reason("x" * 501)
    with pytest.raises(InputError, match="U\\+001B"):
        check_reason("ok\x1b[31m red")


def test_the_command_line_records_the_operating_system_user_and_its_reason(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    request = tmp_path / "a.json"
    request.write_text(transfer("CLI-A").model_dump_json(), encoding="utf-8")
    assert baygate("submit", str(request), "--reason", "first upload", db=db).returncode == 0
    assert baygate("withdraw", "CLI-A", "--reason", "duplicate", db=db).returncode == 0
    shown = baygate("ledger", "show", "CLI-A", db=db)
    user = local_user().name
    assert f"Recorded by {user}, reason: first upload" in shown.stdout
    assert f"Withdrawn by {user}, reason: duplicate" in shown.stdout
    as_json = json.loads(baygate("ledger", "show", "CLI-A", "--json", db=db).stdout)
    assert (as_json["recorded_by"], as_json["reason"], as_json["withdrawn_by"], as_json["withdrawal_reason"]) == (
        user, "first upload", user, "duplicate")
    refused = baygate("withdraw", "CLI-A", "--reason", "x" * 501, db=db)
    assert refused.returncode == 3 and "--reason: at most 500 characters" in refused.stderr


def test_a_transfer_recorded_before_actors_were_says_so(tmp_path: Path) -> None:
    db = tmp_path / "earlier.db"
    shutil.copy(ROOT / "tests" / "data" / "ledger-before-0005.db", db)
    assert baygate("db", "upgrade", db=db).returncode == 0
    shown = baygate("ledger", "show", "P-1", db=db)
    assert shown.returncode == 0, shown.stderr
    assert "Recorded by (not recorded: written before actors were), no reason given" in shown.stdout
    assert baygate("audit", "verify", db=db).returncode == 0

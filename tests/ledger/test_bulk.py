"""Recording in bulk (``Ledger.submit_many``: list files, ``POST /v1/transfers/batch``): groups of many
transfers per transaction, each decided exactly as if submitted one after the other."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from api.cli import app
from engine.evaluator import Engine
from engine.ledger import Ledger, ReferenceConflict, SubmitResult
from engine.ledger.signing import load_public_keys
from engine.models import TransferRequest
from engine.rete import ReteError
from tests.ledger.conftest import EXPORTER, transfer
from tests.ledger.test_anchors import make_key, signer_of

OTHER = "91440300MA5BULKOTH"
CONTRACT = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2024-12-01",
            "mechanisms": [{"type": "gba_standard_contract", "reference": "GD-1", "effective_on": "2025-01-10",
                            "filed_on": "2025-01-15"}]}


def mixed() -> list[TransferRequest]:
    """Two exporters interleaved, crossing 100,000 within a group, a population sent again, sensitive data
    under a contract (counted), last year's transfers."""
    found = []
    for number in range(14):
        exporter = EXPORTER if number % 3 else OTHER
        data = ([{"kind": "personal", "subjects": 6_000 + 1_000 * number, "population": "members"}]
                if number % 4 == 0 else [{"kind": "personal", "subjects": 15_000}])
        if number % 5 == 0:
            data.append({"kind": "personal", "subjects": 900, "sensitive": ["medical_health"]})
        extra = {"safeguards": CONTRACT} if number % 5 == 0 else {}
        found.append(transfer(f"M-{number}", exporter_id=exporter, data=data,
                              planned_date="2025-06-01" if number == 1 else "2026-06-01", **extra))
    return found


def outcomes(results: list[SubmitResult | Exception]) -> list[tuple[str, int, int, bool]]:
    found = []
    for result in results:
        assert isinstance(result, SubmitResult), result
        counts = result.decision.counts
        found.append((result.decision.outcome, counts.personal_subjects_before, counts.sensitive_subjects_before,
                      result.replayed))
    return found


@pytest.mark.parametrize("group", [1, 4, 250])
def test_a_bulk_records_what_one_by_one_records(ledger_url: str, tmp_path: Path, ledger_engine: Engine,
                                                 group: int) -> None:
    one_by_one = Ledger(f"sqlite:///{tmp_path / 'one.db'}")
    bulk = Ledger(ledger_url)
    try:
        expected = outcomes([one_by_one.submit(ledger_engine, request) for request in mixed()])
        found = outcomes(list(bulk.submit_many(ledger_engine, iter(mixed()), group=group)))
        assert found == expected
        assert any(outcome == "conditional" for outcome, *_ in found)  # 100,000 crossed on the way
        for exporter in (EXPORTER, OTHER):
            for year in (2025, 2026):
                assert bulk.counts(exporter, year) == one_by_one.counts(exporter, year)
        result = bulk.verify()
        assert result.ok, result.problem
    finally:
        one_by_one.close()
        bulk.close()


def test_a_reference_twice_in_one_group_is_answered_as_recorded_or_refused(ledger: Ledger,
                                                                          ledger_engine: Engine) -> None:
    requests = [transfer("D-1", 10_000), transfer("D-1", 10_000), transfer("D-2", 5_000), transfer("D-1", 99),
                transfer("D-3", 1_000)]
    results = list(ledger.submit_many(ledger_engine, requests))
    first, again, other, conflict, last = results
    assert isinstance(first, SubmitResult) and not first.replayed
    assert isinstance(again, SubmitResult) and again.replayed and again.decision == first.decision
    assert isinstance(other, SubmitResult) and not other.replayed
    assert isinstance(conflict, ReferenceConflict) and "D-1" in str(conflict)
    # D-1 counted once: the one answered as recorded added nothing to the counts D-2 was decided on
    assert first.decision.counts.counted
    assert other.decision.counts.personal_subjects_before == 10_000
    assert isinstance(last, SubmitResult) and last.decision.counts.personal_subjects_before == 15_000  # not D-1 99's
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 16_000
    assert ledger.verify().ok


def test_an_engine_error_fails_its_submission_alone_and_its_reference_stays_free(
        ledger: Ledger, ledger_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault no valid request provokes today (durable-rules refusing a fact), injected once for E-1: that
    submission alone is refused, counts nothing, and E-1 sent again later in the group is a new transfer."""
    evaluate = ledger_engine.evaluate
    failed: list[str] = []

    def refusing_once(request: TransferRequest, *args: object, **kwargs: object) -> object:
        if request.reference == "E-1" and not failed:
            failed.append(request.reference)
            raise ReteError("durable-rules could not evaluate (injected)")
        return evaluate(request, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger_engine, "evaluate", refusing_once)
    requests = [transfer("E-0", 1_000), transfer("E-1", 2_000), transfer("E-2", 3_000), transfer("E-1", 4_000),
                transfer("E-1", 4_000), transfer("E-1", 5_000)]
    first, refused, second, new, again, taken = ledger.submit_many(ledger_engine, requests)
    assert isinstance(refused, ReteError)
    assert isinstance(first, SubmitResult) and isinstance(second, SubmitResult) and isinstance(new, SubmitResult)
    assert [r.decision.counts.personal_subjects_before for r in (first, second, new)] == [0, 1_000, 4_000]
    assert isinstance(again, SubmitResult) and again.replayed and again.decision == new.decision
    assert isinstance(taken, ReferenceConflict)
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 8_000
    result = ledger.verify()
    assert result.ok, result.problem


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_a_group_the_database_refuses_leaves_the_groups_before_it_recorded(ledger: Ledger,
                                                                           ledger_engine: Engine) -> None:
    with ledger.sql_engine.begin() as conn:
        conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON transfers WHEN NEW.reference = 'G-5' "
                          "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
    results = ledger.submit_many(ledger_engine, (transfer(f"G-{n}", 1_000) for n in range(8)), group=3)
    recorded = []
    with pytest.raises(Exception, match="refused by the test"):
        for result in results:
            recorded.append(result)
    assert len(recorded) == 3  # G-0..G-2; G-3..G-5 were one group, rolled back whole
    assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 3_000
    with ledger.sql_engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse"))
        assert conn.execute(text("SELECT COUNT(*) FROM transfers")).scalar() == 3
    assert ledger.verify().ok


def test_a_bulk_written_ledger_is_signed_at_every_commit_and_verifies_under_the_public_key(
        ledger_url: str, tmp_path: Path, ledger_engine: Engine) -> None:
    """Bulk recording is a writer of chain events like any other (landed.log 03:48): it announces the key
    and signs the head each group commits, so ``audit verify --public-key`` finds no unsigned stretch."""
    private, public = make_key(tmp_path, "service")
    bulk = Ledger(ledger_url, signer=signer_of(private))
    try:
        results = list(bulk.submit_many(ledger_engine, iter(mixed()), group=4))
        assert all(isinstance(result, SubmitResult) for result in results)
        with bulk.sql_engine.connect() as conn:
            signed = {int(seq) for (seq,) in conn.execute(text("SELECT seq FROM chain_signatures"))}
            newest = int(conn.execute(text("SELECT max(seq) FROM events")).scalar_one())
            firsts = [int(seq) for (seq,) in conn.execute(text("SELECT announced_seq FROM chain_signing_keys"))]
            group_heads = {int(seq) for (seq,) in conn.execute(text(  # the last transfer of each group of 4
                "SELECT event_seq FROM transfers WHERE reference IN ('M-3', 'M-7', 'M-11', 'M-13')"))}
        assert newest in signed and group_heads <= signed and firsts == [1]
        by_key = bulk.verify(public_keys=load_public_keys([public]))
        assert by_key.ok, by_key.problem
        assert f"key {signer_of(private).key_id} signed heads from event 1 to {newest}" in by_key.notes
        assert not any("before any signing key" in note for note in by_key.notes)
    finally:
        bulk.close()
    shown = CliRunner().invoke(app, ["audit", "verify", "--db", ledger_url, "--public-key", str(public)])
    assert shown.exit_code == 0, shown.output
    assert "signed heads from event 1" in shown.output and "before any signing key" not in shown.output


def test_a_batch_sent_again_is_answered_from_its_records_without_deciding_it_ahead(
        ledger: Ledger, ledger_engine: Engine, decided_ahead: list[str]) -> None:
    """A bulk group is decided ahead of its write lock (``Recorder.fire_ahead``), but not a request
    whose reference is recorded already, nor a reference's second appearance in the group: a batch
    sent again (a client's retry) costs a lookup, not a decision each."""
    ledger.recorder.other_writers.always = True  # as while another writer is seen (engine.ledger.other_writers)
    requests = mixed()
    first = list(ledger.submit_many(ledger_engine, iter([*requests, requests[2]]), group=100))
    assert sorted(decided_ahead) == sorted(request.reference for request in requests)
    assert [result.replayed for result in first if isinstance(result, SubmitResult)] == [False] * 14 + [True]
    decided_ahead.clear()
    again = list(ledger.submit_many(ledger_engine, iter(requests), group=100))
    assert decided_ahead == []
    assert outcomes(again) == [(outcome, personal, sensitive, True)
                               for outcome, personal, sensitive, _replayed in outcomes(first[:14])]

"""``baygate ledger merge-ids`` (issue 19 point 4): a ledger recorded before ids were canonicalised counts
each recorded variant of an id apart; the merge makes them one exporter with a signed chain event, the
running totals moved under their seal, and nothing hashed rewritten (on SQLite and PostgreSQL).

The variants are recorded the way an earlier version recorded them: through the real store, with the
request's id kept as written (``as_recorded_before``: the stored-request reading that keeps ids).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from api.cli import app
from engine.evaluator import Engine
from engine.ledger import (
    AmbiguousReference,
    Ledger,
    LedgerIntegrityError,
    ReferenceConflict,
    SubmitResult,
    exporter_report,
    history,
    id_merge,
)
from engine.ledger.amend import amend
from engine.ledger.id_merge import merge_ids
from engine.models import TransferRequest
from tests.ledger.conftest import transfer
from tests.ledger.insider import Event, reseal_as_key_holder, rewrite_chain, scalar, sql

CODE = "91350100M000100Y43"
LOWER = "91350100m000100y43"
SPACED = "91350100M000100Y43 "
HIDDEN = "91350100M000100Y43\u200b"


def as_recorded_before(reference: str, subjects: int, exporter_id: str, **changes: Any) -> TransferRequest:
    """A request as a version before canonical ids recorded it: its id as written."""
    document = transfer(reference, subjects, **changes).model_dump(mode="json")
    document["exporter"]["id"] = exporter_id
    return TransferRequest.model_validate(document, context={"stored_request": True})


def members(subjects: int, population: str = "members-2026") -> list[dict[str, Any]]:
    return [{"kind": "personal", "subjects": subjects, "population": population}]


def totals_of(ledger: Ledger, exporter_id: str, year: int = 2026) -> tuple[int, int] | None:
    with ledger.sql_engine.connect() as conn:
        row = conn.execute(text("SELECT personal_subjects, sensitive_subjects FROM exporter_year_totals "
                                "WHERE exporter_id = :e AND year = :y"), {"e": exporter_id, "y": year}).first()
    return None if row is None else (int(row[0]), int(row[1]))


def verified(ledger: Ledger) -> None:
    result = ledger.verify()
    assert result.ok, (result.first_bad, result.problem)


@pytest.fixture
def variants(ledger: Ledger, ledger_engine: Engine) -> dict[str, str]:
    """60,000 under the canonical id, 50,000 under its lower-case variant, 1,000 under a trailing space:
    each decided on its own id's counts alone (the dodge). Decision ids by reference."""
    recorded = {
        "R-1": ledger.submit(ledger_engine, transfer("R-1", 60_000, exporter_id=CODE)).decision,
        "R-2": ledger.submit(ledger_engine, as_recorded_before("R-2", 50_000, LOWER)).decision,
        "R-3": ledger.submit(ledger_engine, as_recorded_before("R-3", 1_000, SPACED)).decision,
    }
    assert recorded["R-2"].counts.personal_subjects_before == 0
    assert all(decision.outcome == "permitted" for decision in recorded.values())
    return {reference: decision.decision_id for reference, decision in recorded.items()}


def test_the_merge_counts_the_variants_as_one_exporter_and_verifies(
        ledger: Ledger, ledger_engine: Engine, variants: dict[str, str]) -> None:
    head_before = scalar(ledger, "SELECT max(seq) FROM events")
    bodies_before = scalar(ledger, "SELECT count(*) FROM events")
    report = merge_ids(ledger, dry_run=True)
    assert [(m.canonical, m.variants, m.event_seq) for m in report.merges] == [(CODE, [SPACED, LOWER], None)]
    assert scalar(ledger, "SELECT count(*) FROM events") == bodies_before  # a dry run records nothing
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 60_000

    (merge,) = merge_ids(ledger).merges
    assert merge.event_seq == head_before + 1
    assert (merge.years[0].personal_subjects, merge.years[0].before) == (
        111_000, {CODE: (60_000, 0), LOWER: (50_000, 0), SPACED: (1_000, 0)})
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 111_000
    assert ledger.counts(LOWER, 2026)["personal_subjects"] == 111_000  # any variant reads as the one id
    assert totals_of(ledger, LOWER) == (0, 0) and totals_of(ledger, SPACED) == (0, 0)
    assert [(row.exporter_id, row.personal_subjects) for row in exporter_report.busiest_exporters(ledger, 2026)] \
        == [(CODE, 111_000)]  # the merged ids are not exporters of their own any more
    # nothing hashed was rewritten: the transfers keep the ids they were recorded under
    assert scalar(ledger, "SELECT exporter_id FROM transfers WHERE reference = 'R-2'") == LOWER
    event = json.loads(scalar(ledger, "SELECT body FROM events WHERE seq = :s", s=merge.event_seq))
    assert (event["kind"], event["subject"], event["data"]["variants"]) == ("id-merge", CODE, [SPACED, LOWER])
    verified(ledger)
    # the next decision counts what every variant sent: 111,000 + 1,000 is past 100,000
    after = ledger.submit(ledger_engine, transfer("R-4", 1_000, exporter_id=CODE)).decision
    assert after.counts.personal_subjects_before == 111_000
    assert after.outcome != "permitted"
    verified(ledger)
    assert merge_ids(ledger).merges == []  # once merged, nothing more to do


def test_a_population_named_under_two_variants_counts_its_largest_figure_once(
        ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("P-1", data=members(60_000), exporter_id=CODE))
    ledger.submit(ledger_engine, as_recorded_before("P-2", 0, LOWER, data=members(90_000)))
    ledger.submit(ledger_engine, as_recorded_before("P-3", 5_000, LOWER))
    assert totals_of(ledger, CODE) == (60_000, 0) and totals_of(ledger, LOWER) == (95_000, 0)
    merge_ids(ledger)
    # as one exporter: the members sent were 90,000 (not 60,000 + 90,000), plus 5,000 others
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 95_000
    verified(ledger)
    next_one = ledger.submit(ledger_engine, transfer("P-4", data=members(94_000), exporter_id=CODE)).decision
    assert next_one.counts.personal_subjects_before == 95_000
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 95_000 + 4_000  # its increase only
    verified(ledger)


def test_a_variant_transfer_withdrawn_after_the_merge_releases_from_the_merged_totals(
        ledger: Ledger, ledger_engine: Engine, variants: dict[str, str]) -> None:
    merge_ids(ledger)
    result = ledger.withdraw("R-2", CODE)  # found by the canonical id, recorded under LOWER
    assert (result.decision_id, result.exporter_id, result.released_personal_subjects) == (
        variants["R-2"], LOWER, 50_000)
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 61_000
    assert totals_of(ledger, LOWER) == (0, 0)
    verified(ledger)


def test_a_variant_transfer_naming_a_population_releases_what_the_merged_tally_says(
        ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, as_recorded_before("P-1", 0, LOWER, data=members(60_000)))
    ledger.submit(ledger_engine, transfer("P-2", data=members(90_000), exporter_id=CODE))
    merge_ids(ledger)
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 90_000
    released = ledger.withdraw("P-2", CODE)
    # without P-2 the members sent are P-1's 60,000: P-2 releases 30,000 of the merged 90,000
    assert released.released_personal_subjects == 30_000
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 60_000
    verified(ledger)


def test_colliding_references_stand_and_need_the_decision_id(
        ledger: Ledger, ledger_engine: Engine) -> None:
    first = ledger.submit(ledger_engine, transfer("R-1", 10_000, exporter_id=CODE)).decision
    second_request = as_recorded_before("R-1", 20_000, LOWER)
    second = ledger.submit(ledger_engine, second_request).decision
    (merge,) = merge_ids(ledger).merges
    assert merge.collisions == [("R-1", [first.decision_id, second.decision_id])]
    event = json.loads(scalar(ledger, "SELECT body FROM events WHERE seq = :s", s=merge.event_seq))
    assert event["data"]["collisions"] == [{"reference": "R-1", "decision_ids": [first.decision_id,
                                                                                 second.decision_id]}]
    with pytest.raises(AmbiguousReference, match="recorded under several of its ids") as refused:
        ledger.withdraw("R-1", CODE)
    assert first.decision_id in str(refused.value) and second.decision_id in str(refused.value)
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 30_000  # nothing was withdrawn
    assert ledger.withdraw(second.decision_id).released_personal_subjects == 20_000
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 10_000
    verified(ledger)


def test_a_request_recorded_under_a_variant_sent_again_is_answered_not_counted_twice(
        ledger: Ledger, ledger_engine: Engine) -> None:
    old = ledger.submit(ledger_engine, as_recorded_before("R-9", 40_000, LOWER)).decision
    merge_ids(ledger)
    again = ledger.submit(ledger_engine, transfer("R-9", 40_000, exporter_id=LOWER))  # canonicalised now
    assert again.replayed and again.decision.decision_id == old.decision_id
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 40_000
    with pytest.raises(ReferenceConflict, match="merged into it"):
        ledger.submit(ledger_engine, transfer("R-9", 41_000, exporter_id=CODE))
    verified(ledger)


def test_in_bulk_a_reference_taken_under_a_variant_refuses_its_submission_alone(
        ledger: Ledger, ledger_engine: Engine) -> None:
    old = ledger.submit(ledger_engine, as_recorded_before("R-9", 40_000, LOWER)).decision
    merge_ids(ledger)
    again, new, taken, after = ledger.submit_many(ledger_engine, [
        transfer("R-9", 40_000, exporter_id=LOWER), transfer("R-10", 1_000, exporter_id=CODE),
        transfer("R-9", 41_000, exporter_id=CODE), transfer("R-11", 1_000, exporter_id=CODE)])
    assert isinstance(again, SubmitResult) and again.replayed and again.decision.decision_id == old.decision_id
    assert isinstance(taken, ReferenceConflict) and "merged into it" in str(taken)
    assert isinstance(new, SubmitResult) and new.decision.counts.personal_subjects_before == 40_000
    assert isinstance(after, SubmitResult) and after.decision.counts.personal_subjects_before == 41_000
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 42_000
    verified(ledger)


def test_a_variant_transfer_amended_after_the_merge_counts_under_the_merged_id(
        ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("A-1", 30_000, exporter_id=CODE))
    old = ledger.submit(ledger_engine, as_recorded_before("A-2", 20_000, LOWER)).decision
    merge_ids(ledger)
    amended = transfer("A-2", 20_000, exporter_id=CODE).model_dump(mode="json")  # the id as written now
    amended["safeguards"]["pia_completed_on"] = "2025-01-15"
    result = amend(ledger, ledger_engine, "A-2", TransferRequest.model_validate(amended), CODE)
    assert result.replaces == old.decision_id and not result.unchanged and result.counted
    # its 20,000 released, then decided on the merged 30,000 and counted again under the merged id
    assert result.decision.counts.personal_subjects_before == 30_000
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 50_000
    assert totals_of(ledger, LOWER) == (0, 0)
    assert scalar(ledger, "SELECT exporter_id FROM transfers WHERE reference = 'A-2'") == LOWER  # the same transfer
    verified(ledger)
    assert ledger.withdraw("A-2", CODE).released_personal_subjects == 20_000
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 30_000
    verified(ledger)


def test_an_id_with_an_invisible_character_merges_into_the_id_it_reads_as(
        ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("R-1", 70_000, exporter_id=CODE))
    ledger.submit(ledger_engine, as_recorded_before("R-2", 40_000, HIDDEN))
    (merge,) = merge_ids(ledger).merges
    assert merge.variants == [HIDDEN] and "invisible characters" in merge.notes[HIDDEN]
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 110_000
    verified(ledger)


def test_a_lone_variant_merges_into_its_canonical_id_with_no_transfer_of_its_own(
        ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, as_recorded_before("R-1", 80_000, LOWER))
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 0  # the dodge, before the merge
    (merge,) = merge_ids(ledger).merges
    assert merge.variants == [LOWER]
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 80_000
    assert ledger.list_transfers(_query(CODE)).items[0].reference == "R-1"
    assert [point.personal_subjects for point in exporter_report.year_curve(ledger, CODE, 2026)] == [80_000]
    verified(ledger)


def _query(exporter_id: str) -> Any:
    from engine.ledger.listing import TransferQuery

    return TransferQuery(exporter_id=exporter_id)


def test_a_later_variant_merges_after_an_earlier_merge(ledger: Ledger, ledger_engine: Engine,
                                                       variants: dict[str, str]) -> None:
    merge_ids(ledger)
    ledger.submit(ledger_engine, as_recorded_before("R-5", 2_000, "91350100M000100y43"))  # an old writer, later
    (merge,) = merge_ids(ledger).merges
    assert merge.variants == ["91350100M000100y43"] and merge.merged_before == [SPACED, LOWER]
    assert ledger.counts(CODE, 2026)["personal_subjects"] == 113_000
    verified(ledger)


def test_replays_count_across_the_merge_under_the_merged_id(ledger: Ledger, ledger_engine: Engine,
                                                            variants: dict[str, str]) -> None:
    merge_ids(ledger)
    after = ledger.submit(ledger_engine, transfer("R-4", 1_000, exporter_id=CODE)).decision
    ledger.withdraw("R-3", CODE)
    later = ledger.submit(ledger_engine, transfer("R-5", 1_000, exporter_id=CODE)).decision
    rebuilt = {item.decision_id: item.prior for item in history.recorded_decisions(ledger)}
    assert rebuilt[variants["R-2"]].personal_subjects == 0  # as it was decided, before the merge
    assert rebuilt[after.decision_id].personal_subjects == after.counts.personal_subjects_before == 111_000
    assert rebuilt[later.decision_id].personal_subjects == later.counts.personal_subjects_before
    replayed = CliRunner().invoke(app, ["audit", "replay", "--db", ledger.url])
    assert replayed.exit_code == 0, replayed.output  # every decision, before and after the merge, the same again


def test_replays_rebuild_counts_across_a_merge_with_a_population_named_under_two_ids(
        ledger: Ledger, ledger_engine: Engine) -> None:
    """Decisions after the merge that read a population figure recorded under the merged id (before and
    after the transfer holding the largest one is withdrawn), replayed: all at once, one by one (their
    counts rebuilt from the database at their position: the ids' own counts less what the merge counted
    once), by exporter, and in two workers (the merged id's transfers go with the canonical id's: HIDDEN
    alone would go to the other worker)."""
    ledger.submit(ledger_engine, as_recorded_before("P-1", 0, HIDDEN, data=members(90_000)))
    ledger.submit(ledger_engine, transfer("P-2", data=members(60_000), exporter_id=CODE))
    merge_ids(ledger)
    third = ledger.submit(ledger_engine, transfer("P-3", data=members(95_000), exporter_id=CODE)).decision
    assert (third.counts.personal_subjects_before, third.outcome) == (90_000, "permitted")  # 5,000 more
    assert ledger.withdraw("P-3", CODE).released_personal_subjects == 5_000  # HIDDEN's 90,000 remain the largest
    fourth = ledger.submit(ledger_engine, transfer("P-4", data=members(99_000), exporter_id=CODE)).decision
    assert (fourth.counts.personal_subjects_before, fourth.outcome) == (90_000, "permitted")  # 9,000 more
    runner = CliRunner()
    for arguments in ([], [third.decision_id], [fourth.decision_id], ["--exporter", CODE], ["--workers", "2"]):
        replayed = runner.invoke(app, ["audit", "replay", "--db", ledger.url, *arguments])
        assert replayed.exit_code == 0, (arguments, replayed.output)
    verified(ledger)


# ---------------------------------------------------------------------------------------- the insider

def test_an_alias_row_without_its_merge_event_is_named(ledger: Ledger, variants: dict[str, str]) -> None:
    sql(ledger, "INSERT INTO exporter_id_aliases (variant, canonical, merge_seq) VALUES (:v, :c, 1)", v=LOWER, c=CODE)
    result = ledger.verify()
    assert not result.ok and result.first_bad == "exporter id aliases" and "no id-merge event" in str(result.problem)


def test_a_deleted_or_edited_alias_of_a_merge_is_named(ledger: Ledger, variants: dict[str, str]) -> None:
    (merge,) = merge_ids(ledger).merges
    sql(ledger, "UPDATE exporter_id_aliases SET canonical = 'X' WHERE variant = :v", v=LOWER)
    result = ledger.verify()
    assert result.first_bad == merge.event_seq and "was edited" in str(result.problem)
    sql(ledger, "DELETE FROM exporter_id_aliases WHERE variant = :v", v=LOWER)
    result = ledger.verify()
    assert result.first_bad == merge.event_seq and "was deleted" in str(result.problem)


def test_a_merge_event_removed_by_a_full_rehash_is_found(ledger: Ledger, variants: dict[str, str]) -> None:
    merge_ids(ledger)

    def drop_merge(conn: Any, chain: list[Event]) -> list[Event]:
        return [event for event in chain if event["kind"] != "id-merge"]

    rewrite_chain(ledger, drop_merge)
    result = ledger.verify()
    assert not result.ok and "no id-merge event" in str(result.problem)
    sql(ledger, "DELETE FROM exporter_id_aliases")  # and the aliases with it: the merged totals remain
    result = ledger.verify()
    assert not result.ok and str(result.first_bad).startswith("counts ")


def test_merged_figures_rewritten_with_their_event_and_totals_are_found(
        ledger: Ledger, variants: dict[str, str]) -> None:
    """The insider holding the totals key rewrites the merge to count less (the event's figures consistent in
    themselves, the chain re-hashed, the totals resealed): the live transfers tallied again as one exporter
    say otherwise."""
    merge_ids(ledger)

    def count_less(conn: Any, chain: list[Event]) -> list[Event]:
        for event in chain:
            if event["kind"] == "id-merge":  # consistent in itself: 111,000 before, 51,000 "counted once"
                event["data"]["years"][0]["personal_subjects"] = 60_000
                event["data"]["years"][0]["counted_once"] = [51_000, 0]
        conn.execute(text("UPDATE exporter_year_totals SET personal_subjects = 60000 WHERE exporter_id = :e"),
                     {"e": CODE})
        return chain

    rewrite_chain(ledger, count_less)
    reseal_as_key_holder(ledger)
    result = ledger.verify()
    assert not result.ok and result.first_bad == f"counts {CODE} 2026", result.problem
    assert "accounts for personal 60000" in str(result.problem) and "tallied again" in str(result.problem)


@pytest.mark.parametrize("forged", ["before", "counted_once", "left out"])
def test_a_merge_event_whose_figures_do_not_hold_is_named(ledger: Ledger, variants: dict[str, str],
                                                          forged: str) -> None:
    """Figures before the merge that are not what the chain accounted for, that do not add up to the
    merged ones, or an id the merge names whose counts it leaves out (its figures consistent without
    them), chain re-hashed: named at the event."""
    (merge,) = merge_ids(ledger).merges

    def forge(conn: Any, chain: list[Event]) -> list[Event]:
        for event in chain:
            if event["kind"] == "id-merge":
                year = event["data"]["years"][0]
                if forged == "before":
                    year["before"][LOWER] = [0, 0]
                    year["counted_once"] = [-50_000, 0]
                elif forged == "left out":
                    del year["before"][LOWER]
                    year["personal_subjects"] = 61_000
                else:
                    year["counted_once"] = [1, 0]
        return chain

    rewrite_chain(ledger, forge)
    result = ledger.verify()
    wording = {"before": "before it, but the chain accounts for", "counted_once": "do not add up",
               "left out": "says it wrote 2026: personal 61000"}[forged]
    assert result.first_bad == merge.event_seq and wording in str(result.problem), result.problem


def test_a_merge_of_ids_that_do_not_read_as_one_is_named(ledger: Ledger, ledger_engine: Engine,
                                                         variants: dict[str, str]) -> None:
    """A forged merge (chain re-hashed) folding another exporter's counts into one id."""
    ledger.submit(ledger_engine, transfer("O-1", 5_000, exporter_id="91110108551385082Q"))
    merge_ids(ledger)

    def fold_other(conn: Any, chain: list[Event]) -> list[Event]:
        for event in chain:
            if event["kind"] == "id-merge":
                event["data"]["variants"].append("91110108551385082Q")
        conn.execute(text("INSERT INTO exporter_id_aliases (variant, canonical, merge_seq) "
                          "SELECT '91110108551385082Q', canonical, merge_seq FROM exporter_id_aliases LIMIT 1"))
        return chain

    rewrite_chain(ledger, fold_other)
    result = ledger.verify()
    assert not result.ok and "which it does not read as" in str(result.problem)


# ---------------------------------------------------------------------------------------- the command

def test_the_command_reports_then_merges(ledger: Ledger, variants: dict[str, str]) -> None:
    runner = CliRunner()
    upgraded = runner.invoke(app, ["db", "upgrade", "--db", ledger.url])
    assert upgraded.exit_code == 0 and "note: 2 recorded exporter id(s) read as another id of 1 exporter(s)" \
        in upgraded.stdout
    dry = runner.invoke(app, ["ledger", "merge-ids", "--db", ledger.url, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"{CODE}: would merge '{SPACED}', '{LOWER}'" in dry.stdout
    assert "2026: personal 111000, sensitive 0" in dry.stdout
    assert f"decision {variants['R-2']} ('R-2', '{LOWER}', 2026): the other ids had counted 60000" in dry.stdout
    assert "dry run: nothing was recorded" in dry.stdout
    merged = runner.invoke(app, ["ledger", "merge-ids", "--db", ledger.url, "--json", "--reason", "ticket 7"])
    assert merged.exit_code == 0, merged.output
    answer = json.loads(merged.stdout)
    (merge,) = answer["merges"]
    assert (answer["dry_run"], merge["canonical"], merge["variants"]) == (False, CODE, [SPACED, LOWER])
    assert [a["decision_id"] for a in merge["affected"]] == [variants["R-2"], variants["R-3"]]
    event = json.loads(scalar(ledger, "SELECT body FROM events WHERE seq = :s", s=merge["event_seq"]))
    assert event["data"]["reason"] == "ticket 7" and event["data"]["actor"].startswith("user:")
    again = runner.invoke(app, ["ledger", "merge-ids", "--db", ledger.url])
    assert again.exit_code == 0 and "nothing to merge" in again.stdout
    assert "note:" not in runner.invoke(app, ["db", "upgrade", "--db", ledger.url]).stdout
    shown = runner.invoke(app, ["ledger", "id-variants", "--db", ledger.url, "--json"])
    assert json.loads(shown.stdout)["groups"][0]["merged"] == {LOWER: merge["event_seq"], SPACED: merge["event_seq"]}


def test_the_command_refuses_edited_totals_and_merges_nothing(ledger: Ledger, variants: dict[str, str]) -> None:
    sql(ledger, "UPDATE exporter_year_totals SET personal_subjects = 0 WHERE exporter_id = :e", e=LOWER)
    refused = CliRunner().invoke(app, ["ledger", "merge-ids", "--db", ledger.url])
    assert refused.exit_code == 4 and "ledger integrity" in refused.output
    assert scalar(ledger, "SELECT count(*) FROM exporter_id_aliases") == 0


def test_the_command_creates_no_ledger_and_refuses_a_bad_reason(tmp_path: Any) -> None:
    missing = tmp_path / "none.db"
    for arguments in (["--dry-run"], []):
        refused = CliRunner().invoke(app, ["ledger", "merge-ids", "--db", f"sqlite:///{missing}", *arguments])
        assert refused.exit_code == 3, refused.output
        assert not missing.exists()
    bad = CliRunner().invoke(app, ["ledger", "merge-ids", "--db", f"sqlite:///{missing}", "--reason", "a\u200bb"])
    assert bad.exit_code == 3 and "--reason" in bad.output


def test_many_exporters_are_merged_in_chunks_of_one_transaction(
        ledger: Ledger, ledger_engine: Engine, variants: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    other = "91110108551385082Q"
    ledger.submit(ledger_engine, transfer("O-1", 5_000, exporter_id=other))
    ledger.submit(ledger_engine, as_recorded_before("O-2", 7_000, other.lower()))
    monkeypatch.setattr(id_merge, "CHUNK", 1)
    assert [merge.canonical for merge in merge_ids(ledger, dry_run=True).merges] == [other, CODE]
    merged = merge_ids(ledger)
    assert [(merge.canonical, merge.event_seq is not None) for merge in merged.merges] == [(other, True), (CODE, True)]
    assert (ledger.counts(CODE, 2026)["personal_subjects"], ledger.counts(other, 2026)["personal_subjects"]) == (
        111_000, 12_000)
    verified(ledger)


def test_totals_are_resealed_across_a_merge(ledger: Ledger, variants: dict[str, str]) -> None:
    """`db reseal` (after a change of totals key) seals only totals the chain accounts for: a merged
    ledger's, followed through its id-merge event, are; edited merged totals are refused."""
    merge_ids(ledger)
    assert ledger.seal_totals() > 0
    verified(ledger)
    sql(ledger, "UPDATE exporter_year_totals SET personal_subjects = 60000 WHERE exporter_id = :e", e=CODE)
    with pytest.raises(LedgerIntegrityError, match=f"running totals of exporter {CODE} for 2026"):
        ledger.seal_totals()

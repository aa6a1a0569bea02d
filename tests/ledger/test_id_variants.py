"""``baygate ledger id-variants`` (issue 19 point 4): a ledger recorded before ids were canonicalised
keeps its ids; the report names the ids that now read as one, the (exporter, reference) pairs that
collide, and the decisions whose counts would have differed (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from api.cli import app
from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.id_variants import report
from engine.models import TransferRequest
from tests.ledger.conftest import transfer

CODE = "91350100M000100Y43"


def as_recorded_before(reference: str, subjects: int, exporter_id: str, **changes: Any) -> TransferRequest:
    """A request as a version before canonical ids recorded it: its id as written."""
    document = transfer(reference, subjects, **changes).model_dump(mode="json")
    document["exporter"]["id"] = exporter_id
    return TransferRequest.model_validate(document, context={"stored_request": True})


def test_the_report_names_variants_collisions_and_the_decisions_they_changed(
        ledger: Ledger, ledger_engine: Engine) -> None:
    first = ledger.submit(ledger_engine, transfer("R-1", 60_000, exporter_id=CODE)).decision
    second = ledger.submit(ledger_engine, as_recorded_before("R-1", 50_000, "91350100m000100y43")).decision
    third = ledger.submit(ledger_engine, as_recorded_before("R-2", 1_000, "91350100M000100Y43 ")).decision
    ledger.submit(ledger_engine, transfer("OTHER", 5_000, exporter_id="91110108551385082Q"))
    assert second.counts.personal_subjects_before == 0  # the dodge the canonical form now prevents
    with ledger.sql_engine.connect() as conn:
        found = report(conn)
    (group,) = found.groups
    assert group.canonical == CODE and group.ids == ["91350100M000100Y43", "91350100M000100Y43 ",
                                                     "91350100m000100y43"]
    assert group.transfers == 3
    assert group.collisions == [("R-1", [first.decision_id, second.decision_id])]
    assert [(item.decision_id, item.other_personal_subjects) for item in group.affected] == [
        (second.decision_id, 60_000), (third.decision_id, 110_000)]
    assert found.refused == []


def test_the_command_prints_it_and_a_clean_ledger_says_so(ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("R-1", 60_000, exporter_id=CODE))
    clean = CliRunner().invoke(app, ["ledger", "id-variants", "--db", ledger.url])
    assert clean.exit_code == 0 and "every recorded exporter id is in its canonical form" in clean.stdout
    ledger.submit(ledger_engine, as_recorded_before("R-2", 1_000, "91350100m000100y43"))
    ledger.withdraw("R-1")  # withdrawn after R-2 was decided: R-2 still did not see its 60,000
    printed = CliRunner().invoke(app, ["ledger", "id-variants", "--db", ledger.url])
    assert printed.exit_code == 0, printed.output
    assert f"{CODE}: recorded as '{CODE}', '91350100m000100y43' (2 transfers)" in printed.stdout
    assert "the other ids had counted 60000 personal" in printed.stdout
    ledger.submit(ledger_engine, as_recorded_before("R-3", 2_000, "91350100M000100Y43 "))
    with ledger.sql_engine.connect() as conn:
        (group,) = report(conn).groups
    assert [item.other_personal_subjects for item in group.affected] == [60_000, 1_000]  # R-1 withdrawn by R-3
    as_json = json.loads(CliRunner().invoke(app, ["ledger", "id-variants", "--db", ledger.url, "--json"]).stdout)
    assert as_json["groups"][0]["affected"][0]["other_personal_subjects"] == 60_000

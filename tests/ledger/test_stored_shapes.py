"""Decisions recorded before ``satisfied_by`` and structured ``missing`` items (issue 22.4) still read,
show and replay: ``tests/data/ledger-before-structured-missing.db`` was written by that version's code
(see its generator for what it holds)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.ledger import Ledger
from engine.replay import replay
from engine.stored_shapes import upgrade_decision
from tests.ledger.conftest import ROOT

BEFORE = ROOT / "tests" / "data" / "ledger-before-structured-missing.db"


@pytest.fixture
def earlier(tmp_path: Path) -> Iterator[Ledger]:
    copy = tmp_path / "ledger.db"
    shutil.copy(BEFORE, copy)
    ledger = Ledger(f"sqlite:///{copy}")
    try:
        yield ledger
    finally:
        ledger.close()


def test_every_earlier_decision_replays_without_a_difference(earlier: Ledger) -> None:
    """The one difference is the engine's own later addition, not the change of shapes: since issue 20
    a judicial request's decision also says that the exemption whose conditions hold does not lift the
    prohibition (the reason engine.exemption-overridden)."""
    report = replay(earlier)
    assert report.checked == 7
    unexplained = [d for d in report.differences if not (
        d.fields == ["rule_ids"] and [r for r in d.replayed["rule_ids"] if r not in d.recorded["rule_ids"]]
        == ["engine.exemption-overridden"] and set(d.recorded["rule_ids"]) <= set(d.replayed["rule_ids"]))]
    assert unexplained == [], [(d.reference, d.fields, d.recorded, d.replayed) for d in unexplained]
    assert [d.reference for d in report.differences] == ["JUDICIAL-1"]


def test_earlier_missing_items_read_in_todays_shape(earlier: Ledger) -> None:
    shapes = {}
    for exporter in ("NOTHING-IN-PLACE", "JUDICIAL", "BEFORE-2022", "ASSESSMENT-LEVEL"):
        decision = earlier.get(f"{exporter}-1", exporter_id=exporter).decision
        shapes[exporter] = [item.model_dump(exclude={"text"}) for item in decision.missing]
        assert all(item.text.en and item.text.zh_Hant for item in decision.missing)
    assert shapes == {
        "NOTHING-IN-PLACE": [
            {"kind": "mechanism", "options": ["gba_standard_contract", "standard_contract", "certification"]},
            {"kind": "obligation", "id": "cn.notice"}, {"kind": "obligation", "id": "cn.pia"},
            {"kind": "obligation", "id": "cn.separate-consent"}],
        "JUDICIAL": [{"kind": "approval", "id": "foreign_judicial_request"}],
        "BEFORE-2022": [{"kind": "review", "id": "no-route"}, {"kind": "obligation", "id": "cn.pia"}],
        "ASSESSMENT-LEVEL": [{"kind": "mechanism", "options": ["security_assessment"]},
                             {"kind": "obligation", "id": "cn.sa-self-assessment"}],
    }


def test_an_earlier_conditional_decision_reads_as_not_counted(earlier: Ledger) -> None:
    """That version wrote ``counted: true`` and a moved ``after`` for a conditional transfer, which
    the ledger never counted: it reads as what recording it did."""
    counts = earlier.get("NOTHING-IN-PLACE-1", exporter_id="NOTHING-IN-PLACE").decision.counts
    assert (counts.counted, counts.personal_subjects_before, counts.personal_subjects_after) == (False, 0, 0)
    assert earlier.counts("NOTHING-IN-PLACE", 2026)["personal_subjects"] == 0
    permitted = earlier.get("GBA-IN-PLACE-1", exporter_id="GBA-IN-PLACE").decision.counts
    assert (permitted.counted, permitted.personal_subjects_after) == (True, 150_000)


def test_earlier_decisions_have_no_satisfied_by_and_say_so_by_null(earlier: Ledger) -> None:
    assert earlier.get("GBA-IN-PLACE-1", exporter_id="GBA-IN-PLACE").decision.satisfied_by is None


def test_a_decision_in_todays_shape_is_left_as_it_is() -> None:
    today = {"outcome": "conditional", "missing": [{"kind": "review", "id": "out-of-scope", "text": {}}],
             "counts": {"counted": False, "personal_subjects_before": 5, "personal_subjects_after": 5,
                        "sensitive_subjects_before": 0, "sensitive_subjects_after": 0}}
    assert upgrade_decision(today) is today


def test_an_unknown_review_prose_becomes_a_short_id() -> None:
    data = {"outcome": "conditional", "missing": [{"review": "Outside every pack's scope!"}]}
    assert upgrade_decision(data)["missing"] == [
        {"kind": "review", "id": "outside-every-pack-s-scope",
         "text": {"en": "Outside every pack's scope!", "zh-Hans": "Outside every pack's scope!",
                  "zh-Hant": "Outside every pack's scope!"}}]

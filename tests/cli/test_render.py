"""The readable decision (api/render.py) and ``--lang``: the mechanism in place that met the
requirement, structured missing items, counts that move only when recording counts, and output in
English, Simplified and Traditional Chinese under every tag users type."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from api.http.encode import EXAMPLE_NOTHING_IN_PLACE, EXAMPLE_REQUEST
from api.render import language, summary
from engine.evaluator import Engine
from engine.models import Decision, TransferRequest
from engine.rulespec import load_pack_set
from tests.engine.conftest import ROOT


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_pack_set(ROOT / "rules"))


def decide(engine: Engine, body: dict[str, object]) -> Decision:
    return engine.evaluate(TransferRequest.model_validate(body))


def test_the_required_level_and_the_mechanism_that_met_it(engine: Engine) -> None:
    decision = decide(engine, EXAMPLE_REQUEST)
    assert "  Required: contract tier — met by GBA standard contract GD-2026-123" in summary(decision, "en")
    assert "所需: 标准合同级别 — 已由大湾区标准合同 GD-2026-123 满足" in summary(decision, "zh-Hans")
    assert "所需: 標準合同級別 — 已由大灣區標準合同 GD-2026-123 滿足" in summary(decision, "zh-Hant")
    assert "Route:" not in summary(decision, "en")


def test_without_a_mechanism_the_options_and_what_is_missing(engine: Engine) -> None:
    text = summary(decide(engine, EXAMPLE_NOTHING_IN_PLACE), "en")
    assert ("Required: contract tier — any one of: GBA standard contract, standard contract, personal "
            "information protection certification") in text
    assert "    - [mechanism] Put in place one of:" in text
    assert "    - [obligation cn.pia] " in text


def test_a_conditional_transfer_shows_counts_that_do_not_move(engine: Engine) -> None:
    conditional = summary(decide(engine, EXAMPLE_NOTHING_IN_PLACE), "en")
    count_line = next(line for line in conditional.splitlines() if line.startswith("  Count for"))
    assert count_line == "  Count for 2026: 0 / sensitive 0 (not counted: not permitted as it stands)"
    permitted = summary(decide(engine, EXAMPLE_REQUEST), "en")
    assert "  Count for 2026: 0 -> 150,000 / sensitive 0 -> 0 (counted when recorded)" in permitted


def test_traditional_chinese_due_labels_and_mechanism_names(engine: Engine) -> None:
    text = summary(decide(engine, EXAMPLE_REQUEST), "zh-Hant")
    assert "期限: 大灣區標準合同生效之日起10個內地工作日內 -> 2026-11-24" in text
    assert "期限: 轉移前" in text and "before transfer" not in text and "Mainland working days" not in text


@pytest.mark.parametrize(("tag", "lang"), [("zh-CN", "zh-Hans"), ("zh_CN", "zh-Hans"), ("zh-Hans", "zh-Hans"),
                                           ("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"), ("ZH-hk", "zh-Hant"),
                                           ("zh-Hant", "zh-Hant"), ("en", "en"), ("en-GB", "en"), ("fr", None)])
def test_language_tags(tag: str, lang: str | None) -> None:
    assert language(tag) == lang


def test_lang_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(EXAMPLE_REQUEST, allow_unicode=True), encoding="utf-8")
    runner = CliRunner()
    outputs = {tag: runner.invoke(app, ["evaluate", "--lang", tag, "--db", f"sqlite:///{tmp_path / 'x.db'}",
                                        str(path)]) for tag in ("zh-CN", "zh-TW", "zh-HK")}
    assert all(result.exit_code == 0 for result in outputs.values()), {k: r.output for k, r in outputs.items()}
    assert "结论: 允许" in outputs["zh-CN"].output
    assert "結論: 允許" in outputs["zh-TW"].output and outputs["zh-TW"].output == outputs["zh-HK"].output
    refused = runner.invoke(app, ["evaluate", "--lang", "fr", str(path)])
    assert refused.exit_code == 3 and "--lang" in refused.output


def test_a_due_date_beyond_the_holiday_calendar_is_explained_in_chinese(engine: Engine) -> None:
    mechanism = {"type": "gba_standard_contract", "reference": "GD-2031-1", "effective_on": "2031-11-10",
                 "filed_on": "2031-11-15"}
    body = {**EXAMPLE_REQUEST, "planned_date": "2031-12-01",
            "safeguards": {**EXAMPLE_REQUEST["safeguards"], "mechanisms": [mechanism]}}
    decision = decide(engine, body)
    assert any(o.due_note for o in decision.obligations)
    text = summary(decision, "zh-Hant")
    assert "2031年不在本引擎已知的內地節假日安排內" in text and "outside the Mainland holiday calendar" not in text
    assert "outside the Mainland holiday calendar" in summary(decision, "en")


def test_why_a_listed_mechanism_does_not_count_is_told_in_every_language(engine: Engine) -> None:
    expired = {"type": "standard_contract", "reference": "SC-OLD", "effective_on": "2024-01-02",
               "filed_on": "2024-01-05", "expires_on": "2025-01-01"}
    decision = decide(engine, {**EXAMPLE_REQUEST, "safeguards": {"mechanisms": [expired]}})
    assert "個人信息出境標準合同 SC-OLD 在2026-12-01無效" in summary(decision, "zh-Hant")
    assert "个人信息出境标准合同 SC-OLD 在2026-12-01无效" in summary(decision, "zh-Hans")

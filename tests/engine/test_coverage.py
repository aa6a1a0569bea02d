"""docs/coverage.md is generated from the packs and the scenarios, and kept current."""

from __future__ import annotations

from typer.testing import CliRunner

from api.cli import app
from engine.coverage import split_citation
from tests.engine.conftest import ROOT


def test_split_citation() -> None:
    assert split_citation("PIPL (2021), arts. 38, 39; Provisions (2024), art. 10") == [
        ("PIPL (2021)", "arts. 38, 39"), ("Provisions (2024)", "art. 10")]
    assert split_citation("PDPO (Cap. 486), Sch. 1, DPP1(3)") == [("PDPO (Cap. 486)", "Sch. 1, DPP1(3)")]


def test_docs_coverage_is_current() -> None:
    result = CliRunner().invoke(app, ["rules", "coverage", "--markdown"])
    assert result.exit_code == 0, result.output
    assert result.output == (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8"), (
        "docs/coverage.md is stale: run `baygate rules coverage --markdown > docs/coverage.md`")

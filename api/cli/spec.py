"""``baygate test [--rules DIR] [PATH...]``: behaviour specs (Gherkin) against any rule pack folder.

Exit status: 0 every scenario passed; 1 some failed; 3 bad input (no scenario found, a file that is
not Gherkin, a pack folder that does not load); 4 could not finish.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import RulesOption
from api.exits import fail, fail_on
from api.spec import reports
from api.spec.runner import ScenarioResult, SpecError, run
from engine.config import rules_directory
from engine.errors import RulePackError
from engine.rulespec import load_pack_set

EXIT_SOME_FAILED = 1


def test(
    paths: Annotated[list[Path] | None, typer.Argument(
        metavar="[PATH]...", help=".feature files or folders of them (default: ./features).")] = None,
    rules: RulesOption = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Also write JUnit XML to this file (for CI).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON instead of text.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print failures and the summary only.")] = False,
) -> None:
    """Run behaviour specs against the packs of --rules (exit 1 when a scenario fails)."""
    folder = rules_directory(rules)
    try:
        pack_set = load_pack_set(folder)
    except RulePackError as exc:
        fail(f"{folder}: rule packs refused:\n{exc}")
    chosen = paths or [Path("features")]

    def show(scenario: ScenarioResult) -> None:
        if as_json or (quiet and scenario.passed):
            return
        typer.echo(reports.scenario_line(scenario))
        if not scenario.passed:
            typer.echo(reports.failure_details(scenario))

    try:
        result = run(chosen, pack_set, str(folder), on_result=show)
    except SpecError as exc:
        fail_on(exc)
    if junit is not None:
        try:
            reports.write(junit, reports.junit_xml(result))
        except OSError as exc:
            fail(f"{junit}: cannot write: {exc.strerror}")
    if as_json:
        typer.echo(result.to_json())
    else:
        typer.echo(reports.summary(result))
    raise typer.Exit(EXIT_SOME_FAILED if result.failed else 0)

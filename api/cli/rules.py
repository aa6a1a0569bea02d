"""``baygate rules validate|list|coverage`` and ``baygate facts``: the rule packs and the facts their
rules may read. (``rules diff`` replays the ledger: api/cli/lifecycle.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli.common import JsonOption, RulesOption, load_engine
from api.exits import EXIT_BAD_INPUT, fail, fail_on
from engine.config import option_overrides, rules_directory
from engine.errors import BaygateError, RulePackError
from engine.evaluator import Engine
from engine.fact_registry import FactRegistry
from engine.rulespec import load_pack_set

SHOWN_FINDINGS = 20


def rules_validate(
    directory: Annotated[str | None, typer.Argument(help="Rule pack folder.")] = None,
    complete: Annotated[bool, typer.Option("--complete/--syntax-only", help="Also check completeness: holes, "
                                           "conflicts and dead rules over a grid built from the rules.")] = True,
) -> None:
    """Check every pack of a folder (file, line and rule id for each error), then its completeness.

    Exit 0 when valid and complete, 1 when holes, conflicts or dead rules are found, 3 when invalid."""
    folder = rules_directory(directory)
    try:
        pack_set = load_pack_set(folder)
        engine = Engine(pack_set, option_overrides())
    except RulePackError as exc:
        typer.echo(str(exc), err=True)
        typer.echo(f"{len(exc.issues)} error(s); the pack set is refused.", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except BaygateError as exc:
        fail_on(exc)
    typer.echo(f"{folder}: {len(pack_set.packs)} packs, {len(pack_set.rules)} rules, "
               f"{len(pack_set.obligations)} obligations: valid ({pack_set.digest})")
    if not complete:
        return
    from engine.completeness import check_completeness

    report = check_completeness(engine)
    typer.echo(report.summary())
    for findings in (report.holes, report.conflicts, report.dead_rules):
        for finding in findings[:SHOWN_FINDINGS]:
            typer.echo(f"  {finding.kind}: {finding.detail}")
            if finding.case:
                typer.echo("    case: " + json.dumps(finding.case, ensure_ascii=False))
        if len(findings) > SHOWN_FINDINGS:
            typer.echo(f"  ... and {len(findings) - SHOWN_FINDINGS} more {findings[0].kind}s")
    if not report.ok:
        raise typer.Exit(1)


def rules_list(
    rules: RulesOption = None,
    as_json: JsonOption = False,
    options: Annotated[bool, typer.Option("--options", help="List the pack options and their values.")] = False,
) -> None:
    """List packs, their rules, and (with --options) the pack options in force."""
    engine = load_engine(rules)
    pack_set = engine.pack_set
    if as_json:
        typer.echo(json.dumps({
            "digest": pack_set.digest,
            "packs": [{"pack": p.name, "version": p.version, "title": p.title, "digest": p.digest,
                       "rules": [r.id for r in p.rules]} for p in pack_set.packs],
            "options": engine.options,
        }, ensure_ascii=False, indent=2))
        return
    if options:
        for option_id, decl in sorted(pack_set.options.items()):
            value = engine.options[option_id]
            default = " (default)" if value == decl.spec.default else " (set by configuration)"
            typer.echo(f"{option_id} = {json.dumps(value)}{default}  [{decl.pack}]")
            typer.echo(f"    {decl.spec.description}")
            for reading, cite in decl.readings.items():
                typer.echo(f"    {reading}: {cite}")
        return
    for pack in pack_set.packs:
        typer.echo(f"{pack.name} {pack.version}  {pack.title}  ({pack.file}, {len(pack.rules)} rules)")
        for rule in pack.rules:
            window = f"{rule.effective_from}..{rule.effective_to or ''}"
            flag = " [unsure]" if rule.unsure else ""
            typer.echo(f"  {rule.id:<40} {rule.then.kind:<18} {window:<23}{flag} {rule.title}")


def rules_coverage(
    scenarios: Annotated[list[str] | None, typer.Option("--scenarios", help="Scenario file(s) (default: the "
                                                        "project's tests/data/*scenarios.yaml).")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the Markdown of docs/coverage.md.")] = False,
    rules: RulesOption = None,
) -> None:
    """Each instrument and article -> the rules resting on it -> the scenarios that reach them."""
    from engine.coverage import coverage_markdown, coverage_rows, rules_reached
    from engine.inputs import parse_document

    data = Path(__file__).resolve().parents[2] / "tests" / "data"
    paths = [Path(p) for p in scenarios] if scenarios else [data / "scenarios.yaml", data / "more-scenarios.yaml"]
    items: list[Any] = []
    for path in paths:
        try:
            document = parse_document(path.read_bytes(), str(path))
        except OSError as exc:
            fail(f"{path}: cannot read: {exc.strerror}")
        except BaygateError as exc:
            fail(str(exc))
        found = document.get("scenarios") if isinstance(document, dict) else document
        if not isinstance(found, list):
            fail(f"{path}: expected a list of scenarios (or a mapping with 'scenarios')")
        items += found
    engine = load_engine(rules)
    reached = rules_reached(engine, items)
    if markdown:
        typer.echo(coverage_markdown(engine.pack_set, reached), nl=False)
        return
    for row in coverage_rows(engine.pack_set, reached):
        typer.echo(f"{row.instrument} | {row.article or '-'} | {row.rule_id} | {', '.join(row.scenarios) or 'NONE'}")
    unreached = sorted({r.id for r in engine.pack_set.rules} - set(reached))
    typer.echo(f"{len(engine.pack_set.rules) - len(unreached)} of {len(engine.pack_set.rules)} rules reached by "
               f"{len(items)} scenarios")


def facts(as_json: JsonOption = False, rules: RulesOption = None) -> None:
    """Print the fact registry: every fact a rule may read, its type and meaning."""
    try:
        registry = load_pack_set(rules_directory(rules)).registry
    except RulePackError:
        registry = FactRegistry()
    if as_json:
        typer.echo(json.dumps([{"name": s.name, "type": s.type, "meaning": s.meaning, "values": list(s.values),
                                "optional": s.optional, "derived": s.derived} for s in registry],
                              ensure_ascii=False, indent=2))
        return
    for spec in registry:
        values = f" ({', '.join(spec.values)})" if spec.values else ""
        extra = " [optional]" if spec.optional else (" [derived]" if spec.derived else "")
        typer.echo(f"{spec.name:<48} {spec.type:<7}{extra} {spec.meaning}{values}")

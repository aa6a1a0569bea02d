"""The `baygate` command line (DESIGN section 6).

Exit status: 0 permitted, 1 conditional, 2 prohibited (the strongest of several), 3 bad input or a
usage error (the error on stderr, naming file and field), 4 could not finish (a one-line reason on
stderr); never a traceback. ``api.exits`` maps every ending to these.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from api.exits import EXIT_BAD_INPUT, EXIT_BY_OUTCOME, GuardedGroup, fail, fail_on
from api.render import LANGUAGE_ALIASES, default_language, language
from api.results import ItemResult, ResultPrinter
from api.sources import read_sources, single_request
from engine.config import option_overrides, rules_directory, safe_url
from engine.errors import BaygateError, InputError, RulePackError
from engine.evaluator import Engine
from engine.facts import FactRegistry
from engine.rulespec import load_pack_set
from engine.strict import parse_iso_date

SHOWN_FINDINGS = 20

app = typer.Typer(help="Decide cross-border data transfers between Shenzhen and Hong Kong.", cls=GuardedGroup,
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
rules_app = typer.Typer(help="Validate and list rule packs.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

RulesOption = Annotated[str | None, typer.Option("--rules", help="Rule pack folder (default: BAYGATE_RULES "
                                                 "or the shipped rules/).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LangOption = Annotated[str | None, typer.Option("--lang", help="en; zh-Hans or zh-CN (Simplified); zh-Hant, zh-TW "
                                                "or zh-HK (Traditional, Hong Kong terms) (default: locale).")]
FilesArgument = Annotated[list[str], typer.Argument(help="Request files (YAML or JSON, one request or a list) "
                                                   "or folders of them; - reads standard input.")]
DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: BAYGATE_DATABASE_URL or "
                                              "sqlite:///baygate.db).")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Evaluate under the packs as they stood on "
                                                "this day (YYYY-MM-DD).")]


_ENGINES: dict[tuple[str, str], Engine] = {}
"""Engines built in this process, by pack set digest and options. One command builds one; a process
that runs many (a test, an embedding program) would otherwise register the same rulesets again each
time, and durable-rules never frees a registered ruleset (DESIGN section 7)."""


def load_engine(rules: str | None) -> Engine:
    try:
        pack_set = load_pack_set(rules_directory(rules))
        options = option_overrides()
        key = (pack_set.digest, json.dumps(options, sort_keys=True, default=str))
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = Engine(pack_set, options)
        return engine
    except RulePackError as exc:
        fail("rule packs refused:\n" + str(exc))
    except BaygateError as exc:
        fail_on(exc)


def parse_as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_iso_date(value)
    except ValueError:
        fail(f"--as-of: not a date (YYYY-MM-DD): {value!r}")


def check_lang(lang: str | None) -> str:
    chosen = language(lang) if lang else default_language()
    if chosen is None:
        fail(f"--lang: expected one of {', '.join(LANGUAGE_ALIASES)}, got {lang!r}")
    return chosen


RequireLedgerOption = Annotated[bool, typer.Option(
    "--require-ledger", help="Refuse (exit 3) when no ledger is at the database address, rather than decide on "
    "the requests' declared counts alone.")]


@app.command()
def evaluate(
    files: FilesArgument,
    as_json: JsonOption = False,
    lang: LangOption = None,
    as_of: AsOfOption = None,
    rules: RulesOption = None,
    require_ledger: RequireLedgerOption = False,
    db: DbOption = None,
) -> None:
    """Decide transfers without recording anything (dry run), item by item, on the counts of the
    ledger at --db: exit 3 if any request was refused, else the strongest decision's."""
    chosen = check_lang(lang)
    day = parse_as_of(as_of)
    sources = read_sources(files)
    from api.cli_lifecycle import engine_for_day

    engine = engine_for_day(load_engine(rules), day)
    from api.counts import prior_counts_source, with_no_ledger_reason

    counts = prior_counts_source(db)
    where = safe_url(counts.url)
    if not counts.ledger_found and require_ledger:
        fail(f"{where}: no ledger there (--require-ledger): nothing decided")
    warned = counts.ledger_found
    printer = ResultPrinter(as_json, chosen, single_request(sources))
    for source in sources:
        if source.error is not None:
            printer.add(ItemResult.refused(source.name, None, source.error))
            continue
        for position, item in enumerate(source.items):
            if isinstance(item, InputError):
                printer.add(ItemResult.refused(source.name, source.index(position), item))
                continue
            decision = engine.evaluate(item, counts.read(item), as_of=day)
            if not counts.ledger_found:
                decision = with_no_ledger_reason(decision, where)
                if not warned:
                    warned = True
                    typer.echo(f"baygate: warning: no ledger at {where}: deciding on the requests' declared "
                               "counts (declared_prior) alone; each decision says so (reason engine.no-ledger); "
                               "--require-ledger refuses instead", err=True)
            printer.add(ItemResult(source.name, source.index(position), "decided", decision))
    printer.close()
    raise typer.Exit(printer.exit_status())


@rules_app.command("validate")
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


@rules_app.command("list")
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


@rules_app.command("coverage")
def rules_coverage(
    scenarios: Annotated[list[str] | None, typer.Option("--scenarios", help="Scenario file(s) (default: the "
                                                        "project's tests/data/*scenarios.yaml).")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the Markdown of docs/coverage.md.")] = False,
    rules: RulesOption = None,
) -> None:
    """Each instrument and article -> the rules resting on it -> the scenarios that reach them."""
    from engine.coverage import coverage_markdown, coverage_rows, rules_reached
    from engine.inputs import parse_document

    data = Path(__file__).resolve().parent.parent / "tests" / "data"
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


@app.command()
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


# registers `serve`, `bench`, and `submit`, `withdraw`, `ledger`, `audit`, `db`; `rules diff`, `audit replay`
from api import (  # noqa: E402, F401
    cli_amend,
    cli_audit,
    cli_bench,
    cli_contract,
    cli_ledger,
    cli_ledger_reads,
    cli_lifecycle,
    cli_serve,
    cli_test,
)


def main() -> None:
    """The ``baygate`` entry point: the app's GuardedGroup maps every ending to its exit status."""
    app()


__all__ = ["EXIT_BAD_INPUT", "EXIT_BY_OUTCOME", "app", "fail", "fail_on", "main"]

"""``baygate evaluate``: decide transfers without recording anything (a dry run), item by item.

Exit status: 0 permitted, 1 conditional, 2 prohibited (the strongest of several), 3 bad input or a
usage error (the error on stderr, naming file and field), 4 could not finish (a one-line reason on
stderr); never a traceback. ``api.exits`` maps every ending to these.
"""

from __future__ import annotations

import typer

from api.cli.common import (
    AsOfOption,
    DbOption,
    FilesArgument,
    JsonOption,
    LangOption,
    RequireLedgerOption,
    RulesOption,
    check_lang,
    load_engine,
    parse_as_of,
)
from api.exits import fail
from api.results import ItemResult, ResultPrinter
from api.sources import read_sources, single_request
from engine.config import safe_url
from engine.errors import InputError


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
    from api.cli.lifecycle import engine_for_day

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
        for position, item in enumerate(source.entries()):
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

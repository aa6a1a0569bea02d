"""``baygate amend ID FILE`` (issue 22 point 7; DESIGN section 6): decide a recorded transfer afresh once
its safeguards changed, and record the new decision in place of the old (``engine.ledger.amend``).

Exit status as ``submit``'s: 0 permitted, 1 conditional, 2 prohibited (the new decision); 3 bad input,
including a change of parties, data or purpose (a new transfer: the fields that differ are named), a
withdrawn transfer, an unknown id; 4 could not finish.
"""

from __future__ import annotations

import json
from typing import Annotated, NoReturn

import typer

from api.cli.common import DbOption, JsonOption, LangOption, RulesOption, check_lang, load_engine
from api.cli.ledger import ExporterOption, ReasonOption, cli_actor, open_ledger
from api.exits import EXIT_BAD_INPUT, EXIT_BY_OUTCOME, EXIT_COULD_NOT_FINISH, exit_status, fail, fail_on
from api.render import summary
from api.results import ItemResult
from api.sources import read_sources
from engine.config import database_url, safe_url
from engine.errors import BaygateError, InputError
from engine.ledger.amend import AmendResult
from engine.ledger.amend import amend as amend_transfer


def amend(
    transfer_id: Annotated[str, typer.Argument(metavar="ID", help="Decision id (of any of its versions) or "
                                               "reference.")],
    file: Annotated[str, typer.Argument(metavar="FILE", help="The amended request (YAML or JSON; - reads stdin): "
                                        "the recorded one with its safeguards or planned date changed.")],
    exporter: ExporterOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
    rules: RulesOption = None,
    db: DbOption = None,
    reason: ReasonOption = None,
) -> None:
    """Amend a recorded transfer: only safeguards (mechanisms, approvals, consent, notice, impact
    assessment) and the planned date may change. It is decided afresh on the counts without its own
    earlier decision, recorded in the audit chain in place of that decision (as done by user:LOGIN,
    with --reason if given), and counts as the new decision says."""
    actor = cli_actor(reason)
    chosen = check_lang(lang)
    [source] = read_sources([file])
    if source.error is not None:
        fail_on(source.error)
    if source.was_list or len(source.items) != 1:
        held = "a list of requests" if source.was_list else f"{len(source.items)} requests"
        fail(f"{source.name}: amend takes one request, this file holds {held}")
    request = source.items[0]
    if isinstance(request, InputError):
        _refuse(source.name, request)
    engine = load_engine(rules)
    ledger = open_ledger(db, rules)
    try:
        result = amend_transfer(ledger, engine, transfer_id, request, exporter, actor)
    except InputError as exc:  # a change of parties, data or purpose: each field that differs
        _refuse(source.name, exc)
    except BaygateError as exc:
        fail_on(exc, safe_url(database_url(db)) if exit_status(exc) == EXIT_COULD_NOT_FINISH else None)
    _print(result, as_json, chosen)
    raise typer.Exit(EXIT_BY_OUTCOME[result.decision.outcome])


def _refuse(name: str, error: InputError) -> NoReturn:
    typer.echo(ItemResult.refused(name, None, error).problem_lines(), err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _print(result: AmendResult, as_json: bool, lang: str) -> None:
    if as_json:
        typer.echo(json.dumps({"result": "unchanged" if result.unchanged else "amended", **result.as_dict(),
                               "decision": result.decision.model_dump(mode="json")}, ensure_ascii=False, indent=2))
    else:
        if result.unchanged:
            typer.echo(f"{result.decision.reference}: the amended request is the one in force; nothing recorded")
        else:
            typer.echo(f"{result.decision.reference}: decision {result.decision.decision_id} replaces "
                       f"{result.replaces} ({result.replaced_outcome} -> {result.decision.outcome}); counted "
                       f"{result.counted_personal_subjects} personal and {result.counted_sensitive_subjects} "
                       f"sensitive, released {result.released_personal_subjects} and "
                       f"{result.released_sensitive_subjects}")
        typer.echo(summary(result.decision, lang))

"""Rule lifecycle commands (DESIGN sections 1 job 3, 6): ``rules diff OLD NEW``, ``audit replay [ID]``,
and the ``--as-of`` resolution that ``evaluate`` and ``submit`` share. Registered in
api/cli/__init__.py.

Exit status: ``rules diff`` 0 when no recorded transfer changes, 1 when some do; ``audit replay`` 0
when every decision is reproduced, 1 when any differs; both 3 on bad input (a refused pack folder, no
ledger there, an unknown id), 4 when they could not finish (an unreachable database, stored data that
does not verify). ``--as-of`` before the first stored pack version is bad input (3), naming the day
asked and the first stored day.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer

from api.cli.common import DbOption, JsonOption
from api.exits import EXIT_BAD_INPUT, EXIT_COULD_NOT_FINISH, fail, fail_on
from engine.config import database_url, option_overrides, safe_url
from engine.errors import BaygateError, RulePackError
from engine.evaluator import Engine
from engine.ledger import Ledger, LedgerError
from engine.ledger.database import sqlite_path
from engine.ledger.presence import require_ledger
from engine.replay import AsOfError, PackLibrary, diff, engine_as_of, replay
from engine.rulespec import PackSet, load_pack_set

EXIT_CHANGED = 1


def _open(db: str | None) -> Ledger:
    """The ledger, read as it is: a lifecycle command never creates a database or upgrades one."""
    url = database_url(db)
    try:
        require_ledger(url)  # nothing there, or not a ledger: exit 3 (4 unreachable), and nothing is created
        return Ledger(url, upgrade=False)
    except LedgerError as exc:
        fail_on(exc, safe_url(url))


def _load(folder: str) -> PackSet:
    try:
        return load_pack_set(folder)
    except RulePackError as exc:
        typer.echo(str(exc), err=True)
        fail(f"{folder}: rule packs refused ({len(exc.issues)} error(s))")


def engine_for_day(engine: Engine, day: dt.date | None, db: str | None = None) -> Engine:
    """The engine for ``--as-of DAY``: the current packs for today or no day, else the versions in use
    that day as stored in the ledger. Exit 3 when the ledger cannot answer for that day."""
    if day is None or day == dt.datetime.now(dt.UTC).date():
        return engine
    url = database_url(db)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        fail(f"--as-of {day}: no pack version is stored yet ({safe_url(url)} does not exist); "
             "evaluate without --as-of")
    ledger = Ledger(url, upgrade=False)
    try:
        return engine_as_of(PackLibrary(ledger), day, engine, option_overrides())
    except AsOfError as exc:
        if exc.first_day is not None and day < exc.first_day:
            fail(f"--as-of {day} is before the first stored pack version (first stored day: {exc.first_day})")
        fail(f"--as-of {day}: {exc}")
    except BaygateError as exc:
        fail_on(exc, f"--as-of {day}")
    except Exception as exc:  # an unreadable database: no answer, never today's packs instead
        fail_on(exc, f"--as-of {day}: cannot read the stored pack versions from {safe_url(url)}")
    finally:
        ledger.close()


def rules_diff(
    old: Annotated[str, typer.Argument(help="The pack folder in use (or any earlier one).")],
    new: Annotated[str, typer.Argument(help="The candidate pack folder.")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Replay every recorded transfer under OLD and NEW; list those whose outcome, mechanism or mechanism
    options change, and the rules that made the difference. Exit 0 when none changes, 1 when some do.

    Each transfer is decided with the counts its exporter had when it was recorded (what had really
    been sent) and the options recorded with it."""
    old_set, new_set = _load(old), _load(new)
    ledger = _open(db)
    try:
        report = diff(ledger, old_set, new_set)
    except BaygateError as exc:
        fail_on(exc)
    finally:
        ledger.close()
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(f"{old} ({old_set.digest}) -> {new} ({new_set.digest}): {report.checked} recorded "
                   f"transfers replayed, {len(report.changes)} change")
        for change in report.changes:
            withdrawn = " [withdrawn]" if change.withdrawn else ""
            typer.echo(f"{change.reference} ({change.decision_id}, exporter {change.exporter_id}){withdrawn}")
            typer.echo(f"  before: {_route(change.before)}")
            typer.echo(f"  after:  {_route(change.after)}")
            if change.only_before:
                typer.echo(f"  fired only before: {', '.join(change.only_before)}")
            if change.only_after:
                typer.echo(f"  fired only after:  {', '.join(change.only_after)}")
    if report.changes:
        raise typer.Exit(EXIT_CHANGED)


def _route(route: dict[str, Any]) -> str:
    options = ", ".join(route["mechanism_options"]) or "-"
    return f"{route['outcome']}, {route['mechanism']} (options: {options})"


def audit_replay(
    transfer_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="Decision id or reference "
                                                      "(default: every recorded decision).")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Re-evaluate recorded decisions under the pack versions, options and counts recorded with them;
    exit 1 naming every decision that comes out differently."""
    ledger = _open(db)
    try:
        only = None
        if transfer_id is not None:
            only = [ledger.get(transfer_id).decision.decision_id]
        report = replay(ledger, only)
    except BaygateError as exc:
        fail_on(exc)
    except ValueError as exc:  # stored data that does not verify or parse: the ledger's integrity
        fail(f"ledger integrity: {exc}", EXIT_COULD_NOT_FINISH)
    finally:
        ledger.close()
    if as_json:
        typer.echo(json.dumps({"checked": report.checked, "differ": len(report.differences),
                               "pack_sets": sorted(report.pack_sets),
                               "differences": [d.as_dict() for d in report.differences]},
                              ensure_ascii=False, indent=2, default=str))
    else:
        matched = report.checked - len(report.differences)
        typer.echo(f"{safe_url(ledger.url)}: {matched} of {report.checked} recorded decisions reproduced "
                   f"under their {len(report.pack_sets)} stored pack set(s)")
        for difference in report.differences:
            typer.echo(f"{difference.reference} ({difference.decision_id}): differs in "
                       f"{', '.join(difference.fields)}" + (f": {difference.problem}" if difference.problem else ""),
                       err=True)
            for key in difference.fields:
                if key in difference.recorded or key in difference.replayed:
                    typer.echo(f"  {key}: recorded {json.dumps(difference.recorded.get(key), default=str)}, "
                               f"replayed {json.dumps(difference.replayed.get(key), default=str)}", err=True)
    if report.differences:
        raise typer.Exit(EXIT_CHANGED)


__all__ = ["EXIT_BAD_INPUT", "audit_replay", "engine_for_day", "rules_diff"]

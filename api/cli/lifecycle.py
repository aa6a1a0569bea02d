"""Rule lifecycle commands (DESIGN sections 1 job 3, 6): ``rules diff OLD NEW``, ``audit replay [ID]``,
and the ``--as-of`` resolution that ``evaluate`` and ``submit`` share. Registered in
api/cli/__init__.py.

Exit status: ``rules diff`` 0 when no recorded transfer changes, 1 when some do; ``audit replay`` 0
when every decision is reproduced, 1 when any differs; both 3 on bad input (a refused pack folder, no
ledger there, an unknown id), 4 when they could not finish (an unreachable database, stored data that
does not verify). ``--as-of`` before the first stored pack version is bad input (3), naming the day
asked and the first stored day.

At scale (issue 21) both read the ledger as a stream in chain order, carrying each exporter-year's
counts forward, in worker processes (``engine.replay_workers``: ``--workers N`` splits the exporters
over N of them; each is replaced by a fresh one after a few engines, which durable-rules never frees),
print what they find as they find it (``--json``: one object whose list is written item by item, the
counts after it), and show progress (``api.progress``). ``--exporter`` and ``--since`` pick what is
re-decided; the counts before it are rebuilt from the rows. Ctrl-C stops them and their workers (130).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli.common import DbOption, JsonOption
from api.exits import EXIT_BAD_INPUT, EXIT_COULD_NOT_FINISH, fail, fail_on
from api.progress import Progress, progress
from engine import replay_workers
from engine.config import database_url, option_overrides, safe_url
from engine.errors import BaygateError, RulePackError
from engine.evaluator import Engine
from engine.ledger import Ledger, LedgerError
from engine.ledger.database import sqlite_path
from engine.ledger.history import Walk, walk_size
from engine.ledger.presence import require_ledger
from engine.replay import AsOfError, PackLibrary, Replayed, engine_as_of, replay_each
from engine.replay_workers import Task
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


WorkersOption = Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes, each taking a "
                                            "share of the exporters (default 1).")]
WalkExporterOption = Annotated[str | None, typer.Option("--exporter", help="Only this exporter's transfers (with "
                                                        "an ID: the exporter whose reference it is).")]
SinceOption = Annotated[str | None, typer.Option("--since", help="Only transfers recorded on or after this day "
                                                 "(YYYY-MM-DD, UTC); earlier ones only make the counts.")]
EngineBudgetOption = Annotated[int, typer.Option("--engine-budget", min=1, hidden=True, help="Engines a worker "
                                                 "builds before a fresh process carries on (tests).")]


def _walk(exporter: str | None, since: str | None) -> Walk:
    day = None
    if since is not None:
        try:
            day = dt.date.fromisoformat(since)
        except ValueError:
            fail(f"--since: not a date (YYYY-MM-DD): {since!r}")
    return Walk(exporter=exporter, since=day)


def _ready(ledger: Ledger) -> None:
    """The ledger at the newest revision (replays read its indexes and record format); exit 4 if not."""
    try:
        ledger.require_up_to_date()
    except LedgerError as exc:
        fail_on(exc, safe_url(ledger.url))


def _run(task: Task, workers: int, label: str, total: int, found: Callable[[dict[str, Any], Progress], None]
         ) -> tuple[int, set[str]]:
    """Run ``task`` in worker processes, showing progress and handing over each finding as it comes;
    returns how many were re-decided and under which pack sets."""
    checked, pack_sets = 0, set()
    try:
        with progress(label, total) as shown:
            for batch in replay_workers.run(task, workers):
                checked += batch.checked
                pack_sets |= batch.pack_sets
                for item in batch.found:
                    found(item, shown)
                shown.advance(batch.checked)
    except replay_workers.WorkerFailed as exc:
        fail(("could not finish: " if exc.status == EXIT_COULD_NOT_FINISH else "") + str(exc), exc.status)
    return checked, pack_sets


class _JsonList:
    """A JSON object whose one list is written item by item as found (nothing is kept), its counts after."""

    def __init__(self, head: dict[str, Any], key: str) -> None:
        opening = json.dumps(head, ensure_ascii=False)[:-1]
        typer.echo(f"{opening}{', ' if head else ''}\"{key}\": [", nl=False)
        self.count = 0

    def add(self, item: dict[str, Any]) -> None:
        typer.echo(("," if self.count else "") + "\n" + json.dumps(item, ensure_ascii=False, default=str), nl=False)
        self.count += 1

    def close(self, tail: dict[str, Any]) -> None:
        typer.echo("\n], " + json.dumps(tail, ensure_ascii=False, default=str)[1:])


def rules_diff(
    old: Annotated[str, typer.Argument(help="The pack folder in use (or any earlier one).")],
    new: Annotated[str, typer.Argument(help="The candidate pack folder.")],
    as_json: JsonOption = False,
    db: DbOption = None,
    workers: WorkersOption = 1,
    exporter: WalkExporterOption = None,
    since: SinceOption = None,
    engine_budget: EngineBudgetOption = replay_workers.ENGINE_BUDGET,
) -> None:
    """Replay every recorded transfer under OLD and NEW; list those whose outcome, mechanism or mechanism
    options change, and the rules that made the difference. Exit 0 when none changes, 1 when some do.

    Each transfer is decided with the counts its exporter had when it was recorded (what had really
    been sent) and the options recorded with it. The ledger is read as a stream, in chain order; each
    change is printed as it is found."""
    old_set, new_set = _load(old), _load(new)
    walk = _walk(exporter, since)
    ledger = _open(db)
    try:
        _ready(ledger)
        total = walk_size(ledger, walk)
    finally:
        ledger.close()
    listed = _JsonList({"old": old_set.digest, "new": new_set.digest}, "changes") if as_json else None

    def found(change: dict[str, Any], shown: Progress) -> None:
        if listed is not None:
            listed.add(change)
            return
        withdrawn = " [withdrawn]" if change["withdrawn"] else ""
        shown.echo(f"{change['reference']} ({change['decision_id']}, exporter {change['exporter']}){withdrawn}",
                   err=False)
        shown.echo(f"  before: {_route(change['before'])}", err=False)
        shown.echo(f"  after:  {_route(change['after'])}", err=False)
        if change["rules_only_before"]:
            shown.echo(f"  fired only before: {', '.join(change['rules_only_before'])}", err=False)
        if change["rules_only_after"]:
            shown.echo(f"  fired only after:  {', '.join(change['rules_only_after'])}", err=False)
        changes.append(1)

    changes: list[int] = []
    task = Task("diff", ledger.url, walk, old_rules=str(Path(old).resolve()), new_rules=str(Path(new).resolve()),
                engine_budget=engine_budget)
    checked, _sets = _run(task, workers, "rules diff", total, found)
    changed = listed.count if listed is not None else len(changes)
    if listed is not None:
        listed.close({"checked": checked, "changed": changed})
    else:
        typer.echo(f"{old} ({old_set.digest}) -> {new} ({new_set.digest}): {checked} recorded "
                   f"transfers replayed, {changed} change")
    if changed:
        raise typer.Exit(EXIT_CHANGED)


def _route(route: dict[str, Any]) -> str:
    options = ", ".join(route["mechanism_options"]) or "-"
    return f"{route['outcome']}, {route['mechanism']} (options: {options})"


def audit_replay(
    transfer_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="Decision id or reference "
                                                      "(default: every recorded decision).")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
    workers: WorkersOption = 1,
    exporter: WalkExporterOption = None,
    since: SinceOption = None,
    engine_budget: EngineBudgetOption = replay_workers.ENGINE_BUDGET,
) -> None:
    """Re-evaluate recorded decisions under the pack versions, options and counts recorded with them;
    exit 1 naming every decision that comes out differently. The ledger is read as a stream, in chain
    order; each difference is printed as it is found. One ID reads only what that transfer needs."""
    walk = _walk(exporter, since)
    ledger = _open(db)
    listed = _JsonList({}, "differences") if as_json else None
    differ: list[int] = []

    def found(difference: dict[str, Any], shown: Progress) -> None:
        differ.append(1)
        if listed is not None:
            listed.add(difference)
            return
        shown.echo(f"{difference['reference']} ({difference['decision_id']}): differs in "
                   f"{', '.join(difference['fields'])}" + (f": {difference['problem']}" if difference['problem']
                                                          else ""))
        for key in difference["fields"]:
            if key in difference["recorded"] or key in difference["replayed"]:
                shown.echo(f"  {key}: recorded {json.dumps(difference['recorded'].get(key), default=str)}, "
                           f"replayed {json.dumps(difference['replayed'].get(key), default=str)}")

    try:
        _ready(ledger)
        if transfer_id is not None:
            try:
                only = ledger.get(transfer_id, exporter).decision.decision_id
            except BaygateError as exc:
                fail_on(exc)
            except ValueError as exc:  # stored data that does not verify or parse: the ledger's integrity
                fail(f"ledger integrity: {exc}", EXIT_COULD_NOT_FINISH)
            checked, pack_sets = _replay_one(ledger, only, found)
        else:
            total = walk_size(ledger, walk)
            task = Task("replay", ledger.url, walk, engine_budget=engine_budget)
            checked, pack_sets = _run(task, workers, "audit replay", total, found)
    finally:
        ledger.close()
    if listed is not None:
        listed.close({"checked": checked, "differ": len(differ), "pack_sets": sorted(pack_sets)})
    else:
        typer.echo(f"{safe_url(ledger.url)}: {checked - len(differ)} of {checked} recorded decisions reproduced "
                   f"under their {len(pack_sets)} stored pack set(s)")
    if differ:
        raise typer.Exit(EXIT_CHANGED)


def _replay_one(ledger: Ledger, decision_id: str, found: Callable[[dict[str, Any], Progress], None]
                ) -> tuple[int, set[str]]:
    """One transfer, in this process: its counts rebuilt from its exporter-year's rows before it."""
    checked, pack_sets = 0, set()
    with progress("audit replay", 1) as shown:
        for outcome in replay_each(ledger, [decision_id]):
            assert isinstance(outcome, Replayed)
            checked += 1
            if outcome.pack_set is not None:
                pack_sets.add(outcome.pack_set)
            if outcome.difference is not None:
                found(outcome.difference.as_dict(), shown)
            shown.advance(1)
    return checked, pack_sets


__all__ = ["EXIT_BAD_INPUT", "audit_replay", "engine_for_day", "rules_diff"]

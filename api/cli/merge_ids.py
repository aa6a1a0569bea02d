"""``baygate ledger merge-ids``: make the recorded exporter ids that now read as one count as one
(issue 19 point 4; ``engine.ledger.id_merge``). Registered in api/cli/__init__.py.

Exit status: 0 merged, nothing to merge, or a dry run; 3 no ledger there (none is created), a bad
``--reason``; 4 could not finish (a running total that fails its seal: nothing is merged; an unreachable
database; a signed chain and no signing key).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from api.cli.common import DbOption, JsonOption
from api.cli.ledger import ReasonOption, cli_actor, open_existing_ledger
from api.exits import fail_on
from engine.config import database_url, safe_url
from engine.ledger import Ledger, LedgerError
from engine.ledger.id_merge import Merge, MergeReport, merge_ids
from engine.ledger.presence import require_ledger

DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Report what would be merged and which recorded "
                                            "decisions' counts change; record nothing.")]


def ledger_merge_ids(db: DbOption = None, dry_run: DryRunOption = False, reason: ReasonOption = None,
                     as_json: JsonOption = False) -> None:
    """Merge the exporter ids recorded before ids were canonicalised ('abc ', 'Abc') into the id they read
    as ('ABC'; docs/request.md, Parties): one signed id-merge event each in the audit chain, their running
    totals counted as one from then on. Nothing recorded is rewritten. Lists the past decisions whose
    counts would have differed, and the references recorded under several of the ids (those then need
    the decision id). Run it with --dry-run first."""
    actor = cli_actor(reason)
    ledger = open_existing_ledger(db) if dry_run else _open_for_merging(db)
    try:
        report = merge_ids(ledger, actor, dry_run=dry_run)
    except LedgerError as exc:
        fail_on(exc, safe_url(ledger.url))
    finally:
        ledger.close()
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    _print(report)


def _open_for_merging(db: str | None) -> Ledger:
    """The ledger at ``--db``, which must exist (exit 3 otherwise: a merge creates none), brought to the
    newest revision as any command that records does."""
    url = database_url(db)
    try:
        require_ledger(url)
        return Ledger(url)
    except LedgerError as exc:
        fail_on(exc, safe_url(url))


def _print(report: MergeReport) -> None:
    if not report.merges:
        typer.echo("nothing to merge: no recorded exporter ids read as another and count apart")
    for merge in report.merges:
        _print_merge(merge, report.dry_run)
    for recorded, why in report.unreadable:
        typer.echo(f"{recorded!r}: left as it is: it reads as no id ({why})")
    if report.dry_run and report.merges:
        typer.echo("dry run: nothing was recorded; run without --dry-run to merge")


def _print_merge(merge: Merge, dry_run: bool) -> None:
    variants = ", ".join(repr(name) for name in merge.variants)
    if dry_run:
        typer.echo(f"{merge.canonical}: would merge {variants}")
    else:
        typer.echo(f"{merge.canonical}: merged {variants} (event {merge.event_seq})")
    if merge.merged_before:
        typer.echo(f"  merged earlier: {', '.join(repr(name) for name in merge.merged_before)}")
    for name, why in sorted(merge.notes.items()):
        typer.echo(f"  {name!r} reads as {merge.canonical} with {why}")
    for year in merge.years:
        parts = ", ".join(f"{name!r} {p}/{s}" for name, (p, s) in sorted(year.before.items()))
        typer.echo(f"  {year.year}: personal {year.personal_subjects}, sensitive {year.sensitive_subjects} "
                   f"(personal/sensitive before: {parts})")
    for reference, decisions in merge.collisions:
        typer.echo(f"  reference {reference!r} was recorded under several of these ids: {', '.join(decisions)}; "
                   "both stand, and a lookup by this reference now needs the decision id")
    for item in merge.affected:
        typer.echo(f"  decision {item.decision_id} ({item.reference!r}, {item.exporter_id!r}, {item.year}): the "
                   f"other ids had counted {item.other_personal_subjects} personal and "
                   f"{item.other_sensitive_subjects} sensitive subjects it did not see")

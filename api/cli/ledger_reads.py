"""Reading the ledger in order from the shell: ``ledger list`` (recorded transfers, newest first, with
filters and cursors) and ``ledger export`` (the decision log as NDJSON, as ``GET /v1/decisions``
answers it). Registered in api/cli/__init__.py."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from api.cli.common import DbOption, JsonOption
from api.cli.ledger import open_ledger
from api.exits import fail, fail_on
from engine.ledger import LedgerError
from engine.ledger.listing import MAX_PAGE, TransferQuery

EXPORT_PAGE = 500

OutcomeChoice = Literal["permitted", "conditional", "prohibited"]
StatusChoice = Literal["recorded", "withdrawn"]


def ledger_list(
    exporter: Annotated[str | None, typer.Option("--exporter", help="Only this exporter's transfers.")] = None,
    year: Annotated[int | None, typer.Option("--year", help="Only this planned year's.", min=2000, max=2100)]
    = None,
    outcome: Annotated[OutcomeChoice | None, typer.Option("--outcome", help="Only this outcome.")] = None,
    status: Annotated[StatusChoice | None, typer.Option("--status", help="recorded (standing) or withdrawn.")]
    = None,
    limit: Annotated[int, typer.Option("--limit", help="Transfers per page.", min=1, max=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, typer.Option("--cursor", help="Start after this page (the cursor the "
                                               "previous page printed).")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every page, not only the first.")] = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List recorded transfers, newest first (a page at a time; --all for every page)."""
    ledger = open_ledger(db)
    query = TransferQuery(exporter_id=exporter, year=year, outcome=outcome, status=status, limit=limit,
                          cursor=cursor)
    items = []
    try:
        while True:
            page = ledger.list_transfers(query)
            items += page.items
            if not every or page.next_cursor is None:
                break
            query = TransferQuery(exporter_id=exporter, year=year, outcome=outcome, status=status, limit=limit,
                                  cursor=page.next_cursor)
    except LedgerError as exc:
        fail_on(exc)
    finally:
        ledger.close()
    if as_json:
        typer.echo(json.dumps({"items": [item.as_dict() for item in items], "next_cursor": page.next_cursor},
                              ensure_ascii=False, indent=2))
        return
    for item in items:
        counted = f"counted {item.counted_personal_subjects:,}" if item.counted else "not counted"
        typer.echo(f"{item.event_seq:>8}  {item.recorded_at}  {item.exporter_id}  {item.reference}  "
                   f"{item.outcome}  {item.status}  {counted}")
    if not items:
        typer.echo("no recorded transfer matches", err=True)
    if page.next_cursor is not None:
        typer.echo(f"more: --cursor {page.next_cursor}", err=True)


def ledger_export(
    after: Annotated[int, typer.Option("--after", help="The last chain position already exported "
                                       "(0: from the start).", min=0)] = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of standard "
                                                "output.")] = None,
    db: DbOption = None,
) -> None:
    """Write every recorded decision after --after as NDJSON (one JSON object a line, oldest first), as
    GET /v1/decisions answers: seq, exporter_id, recorded_at, decision."""
    ledger = open_ledger(db)
    written = 0
    last = after
    try:
        with (output.open("w", encoding="utf-8") if output else contextlib.nullcontext(sys.stdout)) as sink:
            while True:
                page = ledger.decisions_after(last, EXPORT_PAGE)
                for entry in page:
                    sink.write(entry.as_json() + "\n")
                written += len(page)
                if len(page) < EXPORT_PAGE:
                    break
                last = page[-1].seq
    except LedgerError as exc:
        fail_on(exc)
    except OSError as exc:
        fail(f"{output}: cannot write: {exc.strerror}")
    finally:
        ledger.close()
    typer.echo(f"exported {written} decisions" + (f" to {output}" if output else ""), err=True)


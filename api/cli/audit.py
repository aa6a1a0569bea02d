"""The audit commands (DESIGN section 6; issue 19): ``audit verify [--checkpoint FILE...] [--public-key
FILE...]`` and ``audit checkpoint [--json]``. Registered in api/cli/__init__.py.

``audit verify``: 0 intact; 1 tampered, naming the first bad event and what is wrong; 3 no ledger
there, not a baygate ledger (nothing is ever created), or a checkpoint or public key file that cannot
be read; 4 could not finish (the database cannot be reached, out of memory). A monitor must never read
"could not check" as "intact" or as "tampered".
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from api.cli.common import DbOption, JsonOption
from api.cli.ledger import open_existing_ledger
from api.exits import fail, fail_on
from api.progress import progress
from engine.errors import BaygateError
from engine.ledger import LedgerError
from engine.ledger.anchors import read_checkpoint
from engine.ledger.id_variants import counting_apart_note
from engine.ledger.signing import load_public_keys

EXIT_TAMPERED = 1

CheckpointOption = Annotated[list[str] | None, typer.Option(
    "--checkpoint", metavar="FILE", help="A checkpoint kept elsewhere (audit checkpoint --json): the chain must "
    "still hold its hash at its position (catches rewrites, truncations, rollbacks). Repeatable.")]
PublicKeyOption = Annotated[list[str] | None, typer.Option(
    "--public-key", metavar="FILE", help="A public key (PEM) of the chain's signing keys: every signed head must "
    "verify under one of those given, and the newest event must be signed. Repeatable, for keys rotated over time.")]


def audit_verify(as_json: JsonOption = False, db: DbOption = None, checkpoint: CheckpointOption = None,
                 public_key: PublicKeyOption = None) -> None:
    """Walk the audit chain, check every record against it, then the anchors: each checkpoint given, and
    every signature of a committed head.

    Exit 0 intact; 1 tampered, naming the first bad event and what is wrong; 3 no ledger at that
    address, not a baygate ledger (nothing is ever created), or an unreadable checkpoint or key file;
    4 could not finish: a monitor must never read "could not check" as either answer."""
    try:
        checkpoints = [read_checkpoint(path) for path in checkpoint or []]
        keys = load_public_keys(public_key) if public_key else None
    except BaygateError as exc:
        fail(str(exc))
    ledger = open_existing_ledger(db)
    try:
        # A stream in chain order (engine.ledger.verify): a bar on a terminal, a line every few seconds otherwise.
        with progress("audit verify", ledger.chain_length()) as shown:
            result = ledger.verify(checkpoints, keys, progress=lambda checked: shown.advance(checked - shown.done))
        with ledger.sql_engine.connect() as conn:  # not a break of the chain: counts an auditor should know of
            apart = counting_apart_note(conn)
    except LedgerError as exc:
        fail_on(exc)
    finally:  # anything else (out of memory, a lost connection) is exit 4 through api.exits, never 1
        ledger.close()
    notes = [*result.notes, *([apart] if apart else [])]
    if as_json:
        typer.echo(json.dumps({**result.__dict__, "notes": notes}, ensure_ascii=False, indent=2))
    elif result.ok:
        typer.echo(f"audit chain intact: {result.events} events")
        for note in notes:
            typer.echo(f"  {note}")
    if not result.ok:
        typer.echo(f"baygate: audit chain broken at {result.first_bad}: {result.problem}", err=True)
        raise typer.Exit(EXIT_TAMPERED)


def audit_checkpoint(as_json: JsonOption = False, db: DbOption = None) -> None:
    """Print the chain's head (position, hash, time; its signature when signed): a small document for an
    auditor to keep outside the database, and give back to ``audit verify --checkpoint``."""
    ledger = open_existing_ledger(db)
    try:
        taken = ledger.checkpoint()
    except LedgerError as exc:
        fail_on(exc)
    finally:
        ledger.close()
    if as_json:
        typer.echo(json.dumps(taken.document(), ensure_ascii=False, indent=2))
        return
    signed = f", signed by key {taken.key_id}" if taken.key_id else ", not signed"
    typer.echo(f"head: event {taken.seq}, hash {taken.hash}, written {taken.at or '-'}{signed}; taken {taken.taken_at}")
    typer.echo("keep it elsewhere: baygate audit checkpoint --json > FILE, then audit verify --checkpoint FILE")


__all__ = ["audit_checkpoint", "audit_verify"]

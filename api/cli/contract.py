"""The contract from the shell: ``baygate schema request|decision`` prints its JSON Schema, ``baygate init``
writes a commented request to start from (DESIGN section 3; docs/request.md explains every field)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from api.exits import fail
from api.request_template import template
from engine.models import Decision, TransferRequest

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class SchemaName(StrEnum):
    request = "request"
    decision = "decision"


def json_schema(name: str) -> dict[str, Any]:
    """The request as validated (what a caller may send), the decision as serialised (what it gets)."""
    if name == "request":
        schema = TransferRequest.model_json_schema(mode="validation")
    else:
        schema = Decision.model_json_schema(mode="serialization")
    return {"$schema": SCHEMA_DIALECT, **schema}


def schema(which: Annotated[SchemaName, typer.Argument(help="request or decision.")]) -> None:
    """Print the JSON Schema of a transfer request or of a decision."""
    typer.echo(json.dumps(json_schema(which.value), ensure_ascii=False, indent=2))


def init(
    path: Annotated[str, typer.Argument(help="File to write (- for standard output).")] = "transfer.yaml",
    force: Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists.")] = False,
) -> None:
    """Write a commented transfer request to fill in (every field, its meaning and its values)."""
    text = template()
    if path == "-":
        typer.echo(text, nl=False)
        return
    target = Path(path)
    if target.exists() and not force:
        fail(f"{path}: exists; choose another name or pass --force to overwrite it")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{path}: cannot write: {exc.strerror}")
    typer.echo(f"wrote {path}: fill it in, then: baygate evaluate {path}", err=True)

"""Where the rule packs, the pack options and the database come from.

Pack options are a deployment's choice, never a request's (DESIGN section 4): they come from a YAML
file named by ``BAYGATE_OPTIONS_FILE`` (a mapping of option id to value) and from environment
variables ``BAYGATE_OPTION_<ID>`` (upper case), the environment winning.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine.errors import FieldProblem, InputError
from engine.inputs import parse_document

SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
DEFAULT_DATABASE_URL = "sqlite:///baygate.db"


def rules_directory(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("BAYGATE_RULES"):
        return Path(os.environ["BAYGATE_RULES"])
    return SHIPPED_RULES


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("BAYGATE_DATABASE_URL") or DEFAULT_DATABASE_URL


def option_overrides(environ: dict[str, str] | None = None) -> dict[str, Any]:
    env = dict(os.environ if environ is None else environ)
    overrides: dict[str, Any] = {}
    options_file = env.get("BAYGATE_OPTIONS_FILE")
    if options_file:
        path = Path(options_file)
        try:
            data = parse_document(path.read_bytes(), str(path))
        except OSError as exc:
            raise InputError(str(path), [FieldProblem("", f"cannot read options file: {exc.strerror}")]) from None
        if not isinstance(data, dict):
            raise InputError(str(path), [FieldProblem("", "options file must be a mapping of option id to value")])
        overrides.update({str(k): v for k, v in data.items()})
    for key, value in env.items():
        if key.startswith("BAYGATE_OPTION_"):
            overrides[key[len("BAYGATE_OPTION_"):].lower()] = value
    return overrides

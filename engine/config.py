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
from engine.files import FileRefused, read_regular_file
from engine.inputs import parse_document
from engine.strict import InvalidScalar

SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
DEFAULT_DATABASE_URL = "sqlite:///baygate.db"
MAX_OPTIONS_BYTES = 1_000_000
"""An options file is a few lines; a larger one is refused before it is read."""


def rules_directory(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("BAYGATE_RULES"):
        return Path(os.environ["BAYGATE_RULES"])
    return SHIPPED_RULES


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("BAYGATE_DATABASE_URL") or DEFAULT_DATABASE_URL


def safe_url(url: str) -> str:
    """A database URL for messages: the password hidden, ``postgresql://`` spelt as the driver reads it."""
    from sqlalchemy.engine import make_url

    from engine.ledger.database import normalise_url

    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL: say no more of it than its scheme
        return url.split(":", 1)[0] + ":..." if ":" in url else "(unparseable database URL)"


def option_overrides(environ: dict[str, str] | None = None) -> dict[str, Any]:
    env = dict(os.environ if environ is None else environ)
    overrides: dict[str, Any] = {}
    options_file = env.get("BAYGATE_OPTIONS_FILE")
    if options_file:
        path = Path(options_file)
        try:
            data = parse_document(read_regular_file(path, MAX_OPTIONS_BYTES), str(path))
        except FileRefused as exc:
            raise InputError(str(path), [FieldProblem("", f"options file: {exc.reason}")]) from None
        if not isinstance(data, dict):
            raise InputError(str(path), [FieldProblem("", "options file must be a mapping of option id to value")])
        unusable = [FieldProblem(str(k), v.describe()) for k, v in data.items() if isinstance(v, InvalidScalar)]
        if unusable:
            raise InputError(str(path), unusable)
        overrides.update({str(k): v for k, v in data.items()})
    for key, value in env.items():
        if key.startswith("BAYGATE_OPTION_"):
            overrides[key[len("BAYGATE_OPTION_"):].lower()] = value
    return overrides

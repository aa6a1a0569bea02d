"""What the command groups share: the options several commands take (``--rules``, ``--json``,
``--lang``, ``--db``, ``--as-of``, the request files), building the engine once per process, and reading
``--as-of`` and ``--lang``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

from api.exits import fail, fail_on
from api.render import LANGUAGE_ALIASES, default_language, language
from engine.config import option_overrides, rules_directory
from engine.errors import BaygateError, RulePackError
from engine.evaluator import Engine
from engine.rulespec import load_pack_set
from engine.strict import parse_iso_date

RulesOption = Annotated[str | None, typer.Option("--rules", help="Rule pack folder (default: BAYGATE_RULES "
                                                 "or the shipped rules/).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LangOption = Annotated[str | None, typer.Option("--lang", help="en; zh-Hans or zh-CN (Simplified); zh-Hant, zh-TW "
                                                "or zh-HK (Traditional, Hong Kong terms) (default: locale).")]
FilesArgument = Annotated[list[str], typer.Argument(help="Request files (YAML or JSON, one request or a list) "
                                                   "or folders of them; - reads standard input.")]
DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: BAYGATE_DATABASE_URL or "
                                              "sqlite:///baygate.db).")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Evaluate under the packs as they stood on "
                                                "this day (YYYY-MM-DD).")]


_ENGINES: dict[tuple[str, str], Engine] = {}
"""Engines built in this process, by pack set digest and options. One command builds one; a process
that runs many (a test, an embedding program) would otherwise register the same rulesets again each
time, and durable-rules never frees a registered ruleset (DESIGN section 7)."""


def load_engine(rules: str | None) -> Engine:
    try:
        pack_set = load_pack_set(rules_directory(rules))
        options = option_overrides()
        key = (pack_set.digest, json.dumps(options, sort_keys=True, default=str))
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = Engine(pack_set, options)
        return engine
    except RulePackError as exc:
        fail("rule packs refused:\n" + str(exc))
    except BaygateError as exc:
        fail_on(exc)


def parse_as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_iso_date(value)
    except ValueError:
        fail(f"--as-of: not a date (YYYY-MM-DD): {value!r}")


def check_lang(lang: str | None) -> str:
    chosen = language(lang) if lang else default_language()
    if chosen is None:
        fail(f"--lang: expected one of {', '.join(LANGUAGE_ALIASES)}, got {lang!r}")
    return chosen


RequireLedgerOption = Annotated[bool, typer.Option(
    "--require-ledger", help="Refuse (exit 3) when no ledger is at the database address, rather than decide on "
    "the requests' declared counts alone.")]

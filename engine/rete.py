"""The one module that imports durable-rules (DESIGN section 7).

durable-rules keeps process-global C state that is not thread-safe, holds at most 1,024 live
session ids per ruleset, cannot replace or delete a ruleset, and its ``Host`` starts background
timers that call into that state. So this module:

- never creates a ``Host``: it drives ``durable.engine.Ruleset`` objects directly, with Python
  callables as actions, so nothing reaches the C state outside our lock;
- owns one process-wide lock around every call into the engine;
- gives every evaluation a fresh session id and deletes its state in ``finally``;
- registers each ruleset once per process under a name that carries the pack digest; a reload
  registers the new version under new names (memory grows per version; the service bounds it by
  recycling worker processes).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import durable_rules_engine
from durable.engine import Ruleset

from engine.compiler import SEEN_RULE, CompiledRuleset, Writer
from engine.errors import BaygateError


class ReteError(BaygateError):
    """durable-rules refused a fact (a limit of its C engine), or the fact sheet lacked a fact a
    ruleset reads; the evaluation is not answered."""

    code = "baygate.engine-error"


_LOCK = threading.Lock()
_REGISTERED: dict[str, Ruleset] = {}
_WRITERS: dict[str, Writer] = {}
"""Per ruleset, its compiled writer: a fact sheet as the ruleset's JSON message, only the keys its
rules read. durable-rules' cost grows with every property of a fact, read or not (measured: a 51-key
fact into a ruleset that reads 7 keys costs 35 us, the same fact cut to those 7 keys 8 us)."""
_SESSION_IDS = itertools.count(1)


def _unused_action(_closure: Any) -> None:  # pragma: no cover - actions are drained, never run
    raise AssertionError("baygate drains matched rules itself; durable actions never run")


class RulesetRefused(ReteError):
    """durable-rules would not build a compiled ruleset (a limit of its C engine: error 113, an
    expression too large for one rule); the pack set cannot be used."""


def register(ruleset: CompiledRuleset) -> None:
    """Register a compiled ruleset once per process (same name = same digest = same content)."""
    with _LOCK:
        if ruleset.name in _REGISTERED:
            return
        _REGISTERED[ruleset.name] = _built(ruleset)
        _WRITERS[ruleset.name] = ruleset.writer


def refusal(ruleset: CompiledRuleset) -> str | None:
    """Why durable-rules will not build ``ruleset``, or None: for finding the rule a refused ruleset
    owes it to (``Engine``). A ruleset built here cannot be deleted again (durable-rules has no way):
    only asked after a refusal, under names of their own."""
    with _LOCK:
        try:
            _built(ruleset)
        except RulesetRefused as refused:
            return str(refused)
    return None


def _built(ruleset: CompiledRuleset) -> Ruleset:
    definition = {name: dict(rule, run=_unused_action) for name, rule in ruleset.durable_definition().items()}
    try:
        return Ruleset(ruleset.name, None, definition)
    except Exception as exc:  # durable-rules raises a bare Exception with its C error code
        raise RulesetRefused(f"durable-rules would not build ruleset {ruleset.name}: {exc}") from None


def registered_count() -> int:
    with _LOCK:
        return len(_REGISTERED)


def _action_name(message_json: str) -> str:
    """The rule name of a started action: the single key of ``{"rule.id": {...fact...}}``.

    Slicing the key avoids parsing the whole fact back from JSON once per fired rule; rule ids
    never contain quotes (the loader's id pattern)."""
    start = message_json.index('"') + 1
    return message_json[start:message_json.index('"', start)]


def fire(ruleset_names: Iterable[str], facts: Mapping[str, Any]) -> list[str]:
    """Assert a fact sheet into each named ruleset and return the names of the rules that fired.

    Each ruleset gets the sheet as its compiled writer writes it (only the keys its rules read: a
    key no rule of the ruleset reads cannot change what matches) under a fresh session id, and its
    state is deleted afterwards whatever happens.
    Matched rules are drained through the C engine's action queue directly: durable's Python
    action machinery (closures, state JSON round trips, timers) is not needed to learn which rules
    matched, and costs about 7 us per fired rule.
    """
    fired: list[str] = []
    with _LOCK:
        for name in ruleset_names:
            handle = _REGISTERED[name]._handle
            sid = f"s{next(_SESSION_IDS)}"
            try:
                message = _WRITERS[name](facts, sid)
            except KeyError as exc:
                raise ReteError(f"ruleset {name} reads fact {exc.args[0]!r}, which the fact sheet lacks") from None
            try:
                result = durable_rules_engine.assert_fact(handle, message)
            except Exception as exc:
                # No state was created: deleting it would crash the process (measured). Say why instead.
                raise ReteError(f"durable-rules could not evaluate ruleset {name}: {exc}") from exc
            if result[0] != 0:  # pragma: no cover - the catch-all rule makes every fact handled
                # 1 = not handled, 2 = already observed: no state of ours exists, so none is deleted.
                raise ReteError(f"durable-rules did not take the fact in ruleset {name} (code {result[0]})")
            try:
                state_handle = result[1]
                started = durable_rules_engine.start_action_for_state(handle, state_handle)
                pending = started[1] if started else None
                while pending:
                    rule = _action_name(pending)
                    if rule != SEEN_RULE:
                        fired.append(rule)
                    pending = durable_rules_engine.complete_and_start_action(handle, state_handle)
            finally:
                durable_rules_engine.delete_state(handle, sid)
    return fired

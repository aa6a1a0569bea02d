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

from durable.engine import MessageNotHandledException, Ruleset

from engine.compiler import SEEN_RULE, CompiledRuleset
from engine.errors import BaygateError


class ReteError(BaygateError):
    """durable-rules refused a fact (a limit of its C engine); the evaluation is not answered."""

    code = "baygate.engine-error"


_LOCK = threading.Lock()
_REGISTERED: dict[str, Ruleset] = {}
_SESSION_IDS = itertools.count(1)
_fired: list[str] = []


def _recorder(rule_name: str) -> Any:
    def record(_closure: Any) -> None:
        _fired.append(rule_name)

    return record


def register(ruleset: CompiledRuleset) -> None:
    """Register a compiled ruleset once per process (same name = same digest = same content)."""
    with _LOCK:
        if ruleset.name in _REGISTERED:
            return
        definition = {name: dict(rule, run=_recorder(name)) for name, rule in ruleset.definition.items()}
        _REGISTERED[ruleset.name] = Ruleset(ruleset.name, None, definition)


def registered_count() -> int:
    with _LOCK:
        return len(_REGISTERED)


def _raise(error: Any, _state: Any) -> None:
    if error:
        raise error if isinstance(error, BaseException) else RuntimeError(str(error))


def fire(ruleset_names: Iterable[str], fact: Mapping[str, Any]) -> list[str]:
    """Assert one fact into each named ruleset and return the names of the rules that fired.

    Each ruleset gets a fresh session id, and its state is deleted afterwards whatever happens.
    """
    fired: list[str] = []
    with _LOCK:
        for name in ruleset_names:
            ruleset = _REGISTERED[name]
            sid = f"s{next(_SESSION_IDS)}"
            message = dict(fact, sid=sid)
            _fired.clear()
            try:
                handle = ruleset.assert_fact(message)
            except MessageNotHandledException:  # pragma: no cover - the catch-all rule prevents it
                continue
            except Exception as exc:
                # No state was created: deleting it would crash the process (measured). Say why instead.
                raise ReteError(f"durable-rules could not evaluate ruleset {name}: {exc}") from exc
            try:
                ruleset.do_actions(handle, _raise)
            finally:
                ruleset.delete_state(sid)
            fired.extend(rule for rule in _fired if rule != SEEN_RULE)
            _fired.clear()
    return fired

"""Who acted, and why (issue 19 point 5): every event the ledger records names its actor and carries an
optional reason, inside the hashed body, so the chain vouches for them like for everything else.

An actor is one string, its kind before the colon:

- ``key:NAME``: an HTTP call with the API key named NAME (``BAYGATE_API_KEYS_FILE``: ``name role key``);
- ``user:LOGIN``: the command line (or a program using the library), acting as the local operating-system
  user it runs as: whoever can run ``baygate submit`` on the ledger's host acts in their own name;
- ``loopback``: an HTTP call to a service with no API keys configured (it answers this machine only,
  so whoever it was was on this machine);
- ``service``: the service itself, with no caller (the packs it puts in service at start-up).

The reason is free text the caller gives (``--reason``, header ``X-Reason``): at most 500 characters
of printable text, no control characters (a reason is shown on terminals and in logs).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import Any

from engine.errors import FieldProblem, InputError

MAX_REASON = 500
SERVICE = "service"
LOOPBACK = "loopback"


@dataclass(frozen=True)
class Actor:
    """Who caused an event, and the reason they gave (None: none given)."""

    name: str
    reason: str | None = None

    def fields(self) -> dict[str, Any]:
        """What an event's data records about its actor (hashed with the rest of the event)."""
        return {"actor": self.name, "reason": self.reason}

    def because(self, reason: str | None) -> Actor:
        return Actor(self.name, reason)


def key_actor(name: str, reason: str | None = None) -> Actor:
    return Actor(f"key:{name}", reason)


def local_user(reason: str | None = None) -> Actor:
    """The operating-system user this process runs as (the command line's actor)."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers): the uid is still a fact
        login = f"uid-{os.getuid()}"
    return Actor(f"user:{login}", reason)


def check_reason(raw: str | None, field: str = "reason") -> str | None:
    """A reason as given, trimmed; None when empty. Raises InputError naming ``field`` for a reason that
    is too long or holds control characters."""
    if raw is None:
        return None
    reason = raw.strip()
    if not reason:
        return None
    if len(reason) > MAX_REASON:
        raise InputError("", [FieldProblem(field, f"at most {MAX_REASON} characters (got {len(reason)})")])
    if not reason.isprintable():
        bad = next(char for char in reason if not char.isprintable())
        raise InputError("", [FieldProblem(field, f"holds the control character U+{ord(bad):04X}; a reason is "
                                                  "one line of printable text")])
    return reason


def of_event(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """(actor, reason) an event recorded; (None, None) for events written before actors were recorded."""
    actor, reason = data.get("actor"), data.get("reason")
    return (actor if isinstance(actor, str) else None, reason if isinstance(reason, str) else None)

"""One JSON text per value: sorted keys, no spaces, UTF-8 kept (``default=str`` for dates).

Everything baygate hashes is hashed over this text: the audit chain's events (engine.ledger.audit)
and the digests of packs and pack sets (engine.rulespec.digests). It must never change: a stored hash
is recomputed from it, so a change would make every recorded chain and pack digest fail to verify.
"""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
"""What ``json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)``
builds on every call and then encodes with (the encoder keeps no state between calls): built once, as
json.dumps does for its own defaults, since making it cost as much as encoding a small value."""


def canonical(value: Any) -> str:
    return _ENCODER.encode(value)

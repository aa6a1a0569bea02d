"""The canonical JSON of a decision as the ledger records and hashes it, built from parts encoded once.

What is recorded is ``canonical(decision.model_dump(mode="json"))`` (``engine.canonical_json``): its
SHA-256 is in the submission event and every later check recomputes it from the stored text. That text
is about 7.5 KB, most of it the reasons (three-language messages, citations, facts), the missing items
and the obligations, and encoding it took about a sixth of a bulk-recorded transfer's time (the JSON-mode
dump and the sorted encoding, ~100 us). But the engine hands out the same reason, missing item and
obligation objects for every request that fires the same rules on the same facts (about 90 % of the
reasons and nearly every obligation of a bulk group, measured), so their canonical texts are kept by
object identity here and a decision's text is joined from them.

Why it is the same text byte for byte: ``json.dumps`` with ``sort_keys`` and these separators writes an
object as ``{`` + ``"key":value`` pairs in sorted key order joined by ``,`` + ``}`` and a list as ``[`` +
items joined by ``,`` + ``]``, each value written on its own the way it is written inside; pydantic
dumps a nested model the same alone as inside its parent (no field of Decision changes how its parts
serialise). So joining the canonical texts of the fields, sorted by name, is the canonical text of the
whole. tests/ledger/test_decision_text.py compares the two over every shipped scenario and random
requests; :data:`FAST_PATH` falls back to the whole dump if Decision's fields change.

Identity, not value: an entry holds its object, so no other object can take its id while it is kept;
the parts are frozen models the engine never changes once made (``api.http.encode`` relies on the same
for the HTTP answers).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from engine.canonical_json import canonical
from engine.models import Decision

_LISTS = ("reasons", "missing", "obligations")
"""Fields holding lists of parts the engine reuses between decisions."""
_SHARED = ("rules", "satisfied_by")
"""Fields holding one part the engine reuses (or None)."""
_KNOWN = ("counts", "decision_id", "evaluated_at", "exemptions", "mechanism", "mechanism_options", "missing",
          "obligations", "outcome", "reasons", "reference", "rules", "satisfied_by")
"""Decision's fields in sorted order, as this module knows them."""
FAST_PATH = tuple(sorted(Decision.model_fields)) == _KNOWN and all(
    field.alias is None and field.serialization_alias is None for field in Decision.model_fields.values())
"""The joined text is used only while Decision's fields are the ones above (a new field, or a renamed
one, falls back to encoding the whole dump until it is added here)."""
_REST = set(_LISTS + _SHARED)
_SERIALIZER = Decision.__pydantic_serializer__

_MEMO: dict[int, tuple[Any, str]] = {}
MEMO_LIMIT = 2_048
"""Parts kept at most (then forgotten all at once). An entry keeps its part alive: 16,384 raised the
peak of a 20,000-transfer list file's submit from 152 to 188 MB; 2,048 to 156 MB, as fast."""


def part_text(part: BaseModel) -> str:
    """The canonical JSON of a part of a decision (a reason, missing item, obligation result, the rules
    info, the mechanism in place), encoded once per object."""
    entry = _MEMO.get(id(part))
    if entry is not None and entry[0] is part:
        return entry[1]
    if len(_MEMO) >= MEMO_LIMIT:
        _MEMO.clear()
    encoded = canonical(part.model_dump(mode="json"))
    _MEMO[id(part)] = (part, encoded)
    return encoded


def decision_canonical(decision: Decision) -> str:
    """``canonical(decision.model_dump(mode="json"))``, the same text, from parts encoded once."""
    if not FAST_PATH:
        return canonical(decision.model_dump(mode="json"))
    values = decision.__dict__
    rest = _SERIALIZER.to_python(decision, mode="json", exclude=_REST)
    pieces = []
    for name in _KNOWN:
        if name in _LISTS:
            text = "[" + ",".join([part_text(item) for item in values[name]]) + "]"
        elif name in _SHARED:
            text = "null" if values[name] is None else part_text(values[name])
        else:
            text = canonical(rest[name])
        pieces.append(f'"{name}":{text}')
    return "{" + ",".join(pieces) + "}"

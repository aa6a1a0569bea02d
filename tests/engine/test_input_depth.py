"""JSON nesting is bounded (``engine.inputs.MAX_DEPTH``) exactly where it was once the walk that measures
it runs only for texts with more opening brackets than the bound."""

from __future__ import annotations

import json

import pytest

from engine.errors import InputError
from engine.inputs import MAX_DEPTH, parse_document


def nested(levels: int) -> bytes:
    return ("[" * levels + "1" + "]" * levels).encode()


def test_one_level_too_deep_is_refused_and_the_bound_itself_is_read() -> None:
    assert parse_document(nested(MAX_DEPTH), "deep.json") is not None
    with pytest.raises(InputError, match="nesting deeper than"):
        parse_document(nested(MAX_DEPTH + 1), "deep.json")
    with pytest.raises(InputError, match="nesting deeper than"):
        parse_document(json.dumps({"a": json.loads(nested(MAX_DEPTH + 1))}).encode(), "deep.json")


def test_brackets_inside_strings_do_not_make_a_shallow_document_deep() -> None:
    text = json.dumps({"reference": "[" * (MAX_DEPTH * 3), "note": "{" * 50}).encode()
    assert parse_document(text, "shallow.json")["note"] == "{" * 50

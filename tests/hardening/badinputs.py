"""The catalogue of bad inputs sent through every door (issue 10, point 1).

Each case is the raw bytes of a file or body and fragments the error must contain: the field path
or the kind of problem, so "naming what is wrong" is checked, not only the status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.hardening.conftest import good_request


@dataclass(frozen=True)
class Bad:
    id: str
    raw: bytes
    names: tuple[str, ...]
    """Fragments the error message must contain (any one of them; case-insensitive)."""
    json_body: bool = True
    """Whether the case is also a meaningful HTTP JSON body (YAML-only cases are not)."""


def _j(body: Any) -> bytes:
    return json.dumps(body).encode()


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = good_request()
    node: Any = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return body


def _without(*path: Any) -> dict[str, Any]:
    body = good_request()
    node: Any = body
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return body


YAML_REQUEST = """reference: {reference}
exporter: {{id: 91440300MA5STRICT1, name: Strict Co, jurisdiction: CN, city: Shenzhen, ciio: {ciio}}}
recipient: {{id: "71234561", name: Harbour Ltd, jurisdiction: HK}}
purpose: business_services
planned_date: {planned_date}
data:
  - {{kind: personal, subjects: {subjects}}}
"""


def as_yaml(reference: str = "STRICT-1", ciio: str = "false", planned_date: str = "2026-12-01",
            subjects: str = "1000") -> bytes:
    """A valid YAML request with one value replaced as written (no quoting: YAML reads it)."""
    return YAML_REQUEST.format(reference=reference, ciio=ciio, planned_date=planned_date,
                               subjects=subjects).encode()


ALIAS_BOMB = ("a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))).encode()
DEEP_JSON = b"[" * 50_000 + b"]" * 50_000
DEEP_YAML_FLOW = b"reference: " + b"[" * 50_000 + b"]" * 50_000 + b"\n"
DEEP_YAML_BLOCK = b"reference:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 400))
DEEP_JSON_OBJECT = ('{"reference": ' + '{"a": ' * 3000 + "1" + "}" * 3000 + "}").encode()

CASES: list[Bad] = [
    Bad("unknown-field", _j({**good_request(), "colour": "red"}), ("colour",)),
    Bad("unknown-nested-field", _j(_with(("safeguards", "separate_consnet"), True)), ("separate_consnet",)),
    Bad("wrong-type-subjects", _j(_with(("data", 0, "subjects"), "many")), ("data[0].subjects",)),
    Bad("wrong-type-data", _j({**good_request(), "data": "lots"}), ("data",)),
    Bad("wrong-type-bool", _j(_with(("exporter", "ciio"), "perhaps")), ("exporter.ciio",)),
    Bad("wrong-enum", _j({**good_request(), "purpose": "espionage"}), ("purpose",)),
    Bad("impossible-date", _j({**good_request(), "planned_date": "2026-02-30"}), ("planned_date",)),
    Bad("date-not-a-date", _j({**good_request(), "planned_date": "next tuesday"}), ("planned_date",)),
    Bad("absurd-date", _j({**good_request(), "planned_date": "9999-12-31"}), ("planned_date",)),
    Bad("negative-subjects", _j(_with(("data", 0, "subjects"), -5)), ("data[0].subjects",)),
    Bad("absurd-subjects", _j(_with(("data", 0, "subjects"), 10**30)), ("data[0].subjects",)),
    Bad("float-subjects", _j(_with(("data", 0, "subjects"), 12.5)), ("data[0].subjects",)),
    Bad("negative-prior", _j({**good_request(), "declared_prior": {"personal_subjects": -1}}),
        ("declared_prior.personal_subjects",)),
    Bad("infinite-subjects-yaml", b"reference: X\ndata:\n  - {kind: personal, subjects: .inf}\n",
        ("data[0].subjects",), json_body=False),
    Bad("missing-exporter", _j(_without("exporter")), ("exporter",)),
    Bad("missing-data", _j(_without("data")), ("data",)),
    Bad("empty-data", _j({**good_request(), "data": []}), ("data",)),
    Bad("missing-city-cn", _j(_without("exporter", "city")), ("city",)),
    Bad("personal-without-subjects", _j(_with(("data", 0), {"kind": "personal"})), ("data[0]",)),
    Bad("overlong-string", _j(_with(("exporter", "name"), "x" * 100_000)), ("exporter.name",)),
    Bad("mechanism-dates-reversed", _j(_with(("safeguards", "mechanisms"), [{
        "type": "standard_contract", "reference": "R", "effective_on": "2026-01-10",
        "expires_on": "2025-01-01"}])), ("safeguards.mechanisms[0]", "expires_on")),
    Bad("null-body", b"null", ("mapping", "object", "valid dictionary", "body")),
    Bad("scalar-body", b"42", ("mapping", "object", "valid dictionary", "body")),
    Bad("string-body", b'"a request"', ("mapping", "object", "valid dictionary", "body")),
    Bad("empty", b"", ("empty", "body")),
    Bad("whitespace", b"  \n\t\n", ("empty", "json", "body")),
    Bad("broken-json", b'{"reference": "X", "data": [', ("json",)),
    Bad("broken-yaml", b"reference: X\ndata: [1, 2\nexporter: }\n", ("yaml",), json_body=False),
    Bad("yaml-tab-indent", b"reference: X\n\texporter: 1\n", ("yaml",), json_body=False),
    Bad("yaml-duplicate-key", b"reference: A\nreference: B\n", ("duplicate", "yaml"), json_body=False),
    Bad("yaml-alias-bomb", ALIAS_BOMB, ("alias",), json_body=False),
    Bad("yaml-python-tag", b"reference: !!python/object/apply:os.system ['true']\n", ("yaml", "tag"),
        json_body=False),
    Bad("deep-json-array", DEEP_JSON, ("nesting", "deep", "json", "body")),
    Bad("deep-json-object", DEEP_JSON_OBJECT, ("nesting", "deep", "reference")),
    Bad("deep-yaml-flow", DEEP_YAML_FLOW, ("nesting",), json_body=False),
    Bad("deep-yaml-block", DEEP_YAML_BLOCK, ("nesting",), json_body=False),
    Bad("non-utf8", b'{"reference": "\xff\xfe caf\xe9", "purpose": "x"}', ("utf-8", "utf8", "json", "decode")),
    # Over HTTP, JSON in UTF-16/32 is detected and accepted (json.loads of bytes, RFC 8259 section 8.1
    # allows a reader to): the CLI requires UTF-8, so this case is the CLI's only.
    Bad("utf16", json.dumps(good_request()).encode("utf-16"), ("utf-8", "utf8", "json", "decode"),
        json_body=False),
    Bad("list-with-one-bad-item", _j([good_request(), {**good_request(), "mode": "teleport"}]),
        ("[1].mode", "[1]: mode"),
        json_body=False),
    Bad("empty-list", b"[]", ("empty", "mapping", "object", "body")),
    # Strict reading (issue 18, point 2): nothing is guessed
    Bad("json-duplicate-key", _j(good_request())[:-1] + b', "reference": "OTHER"}', ("reference", "twice")),
    Bad("json-duplicate-nested-key", _j(good_request()).replace(b'"subjects": ', b'"subjects": 1, "subjects": ', 1),
        ("data[0].subjects",)),
    Bad("epoch-date", _j({**good_request(), "planned_date": 1764547200}), ("planned_date", "YYYY-MM-DD")),
    Bad("epoch-date-string", _j({**good_request(), "planned_date": "1764547200"}), ("planned_date",)),
    Bad("date-and-time-string", _j({**good_request(), "planned_date": "2026-12-01T00:00:00"}), ("planned_date",)),
    Bad("basic-iso-date", _j({**good_request(), "planned_date": "20261201"}), ("planned_date",)),
    Bad("bool-from-yes", _j(_with(("exporter", "ciio"), "yes")), ("exporter.ciio", "true or false")),
    Bad("bool-from-f", _j(_with(("safeguards", "separate_consent"), "f")), ("safeguards.separate_consent",)),
    Bad("bool-from-1", _j(_with(("exporter", "ciio"), 1)), ("exporter.ciio",)),
    Bad("count-from-string", _j(_with(("data", 0, "subjects"), "12")), ("data[0].subjects", "without quotes")),
    Bad("count-from-whole-float", _j(_with(("data", 0, "subjects"), 12.0)), ("data[0].subjects",)),
    Bad("count-from-bool", _j(_with(("data", 0, "subjects"), True)), ("data[0].subjects",)),
    Bad("huge-int-json", _j(_with(("data", 0, "subjects"), 7)).replace(b'"subjects": 7',
                                                                       b'"subjects": 1' + b"0" * 5000),
        ("data[0].subjects", "4,300")),
    Bad("reference-control", _j({**good_request(), "reference": "SZH\u0007-1"}), ("reference", "U+0007")),
    Bad("reference-zero-width", _j({**good_request(), "reference": "SZH\u200b-1"}), ("reference", "U+200B")),
    Bad("reference-bidi", _j({**good_request(), "reference": "SZH\u202e-1"}), ("reference", "U+202E")),
    Bad("yaml-yes", as_yaml(ciio="yes"), ("exporter.ciio", "true or false"), json_body=False),
    Bad("yaml-impossible-date", as_yaml(planned_date="2026-02-30"), ("planned_date", "2026-02-30"), json_body=False),
    Bad("yaml-month-13", as_yaml(planned_date="2026-13-01"), ("planned_date",), json_body=False),
    Bad("yaml-day-00", as_yaml(planned_date="2026-12-00"), ("planned_date",), json_body=False),
    Bad("yaml-year-0000", as_yaml(planned_date="0000-12-01"), ("planned_date",), json_body=False),
    Bad("yaml-hour-25", as_yaml(planned_date="2026-12-01 25:00:00"), ("planned_date",), json_body=False),
    Bad("yaml-minute-61", as_yaml(planned_date="2026-12-01T10:61:00"), ("planned_date",), json_body=False),
    Bad("yaml-offset-24h", as_yaml(planned_date="2026-12-01T10:00:00+24:00"), ("planned_date", "offset"),
        json_body=False),
    Bad("yaml-timestamp-tag", as_yaml(planned_date="!!timestamp 2026-02-30"), ("planned_date",), json_body=False),
    Bad("yaml-date-and-time", as_yaml(planned_date="2026-12-01 10:00:00"), ("planned_date", "date and time"),
        json_body=False),
    Bad("yaml-impossible-date-in-reference", as_yaml(reference="2026-02-30"), ("reference",), json_body=False),
    Bad("yaml-impossible-date-in-unknown-key", as_yaml() + b"remarks: 2026-02-30\n", ("remarks",), json_body=False),
    Bad("yaml-huge-int", as_yaml(subjects="1" + "0" * 5000), ("data[0].subjects", "4,300"), json_body=False),
    Bad("yaml-binary", as_yaml(reference="!!binary aGVsbG8="), ("reference", "binary"), json_body=False),
    Bad("yaml-set", as_yaml(reference="!!set {a: null}"), ("reference", "set"), json_body=False),
]

OVERSIZED_FILE_BYTES = 20_000_001
"""engine.inputs.MAX_INPUT_BYTES + 1: a file this large is refused before it is parsed."""

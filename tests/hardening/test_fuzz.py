"""Fuzzing in the suite (issue 10, point 2): requests that are sometimes valid and sometimes subtly
broken, and rule packs built from random condition trees and documents. The only exceptions allowed
are the documented validation errors (InputError for requests, RulePackError for packs); a valid
request must be decided and a valid pack must compile and decide. Anything else is a bug.

Each test runs a few hundred examples and stays well under 20 s on the 2-core machine.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from engine.errors import InputError, RulePackError
from engine.evaluator import Engine
from engine.fact_registry import FactRegistry
from engine.facts import PriorCounts
from engine.inputs import load_requests, requests_from_data
from engine.models import (
    APPROVAL_KINDS,
    CLASSIFICATIONS,
    MECHANISM_TYPES,
    PARTY_KINDS,
    PURPOSES,
    SENSITIVE_TYPES,
    TAGS,
    TransferRequest,
)
from engine.rulespec import load_pack_set, parse_pack
from tests.hardening.conftest import ROOT, good_request

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_pack_set(ROOT / "rules"))


# ------------------------------------------------------------------ requests

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.sampled_from([0, 1, -1, 2_000_000_000, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["", "\x00", "CN", "HK", "2026-02-30", "2026-12-01", "9999-99-99", "0000-01-01", "\u202e",
                     "personal", "true", "null", "1e309", "\ud7ff" * 3, "x" * 400]),
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(str),
)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)

ENUM_CHOICES: dict[str, tuple[str, ...]] = {
    "purpose": PURPOSES, "kind": (*PARTY_KINDS, "personal", "non_personal"), "classification": CLASSIFICATIONS,
    "type": MECHANISM_TYPES, "mode": ("provide", "remote_access", "storage_abroad"),
}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


@st.composite
def plausible_requests(draw: st.DrawFn) -> dict[str, Any]:
    """A valid request with plausible variations (so many stay valid), then 0-3 subtle breakages."""
    body = good_request()
    body["purpose"] = draw(st.sampled_from(PURPOSES))
    body["mode"] = draw(st.sampled_from(["provide", "remote_access", "storage_abroad"]))
    body["planned_date"] = str(draw(st.dates(dt.date(2021, 1, 1), dt.date(2027, 12, 31))))
    body["exporter"]["jurisdiction"], body["exporter"]["city"] = draw(st.sampled_from(
        [("CN", "Shenzhen"), ("CN", "Beijing"), ("HK", None), ("MO", None), ("SG", None)]))
    body["recipient"]["jurisdiction"] = draw(st.sampled_from(["HK", "CN", "MO", "US", "SG"]))
    if body["recipient"]["jurisdiction"] == "CN":
        body["recipient"]["city"] = draw(st.sampled_from(["Shenzhen", "Shanghai"]))
    body["exporter"]["ciio"] = draw(st.booleans())
    body["data"] = [{
        "kind": "personal", "subjects": draw(st.integers(1, 2_000_000)),
        "sensitive": draw(st.lists(st.sampled_from(SENSITIVE_TYPES), max_size=2, unique=True)),
        "classification": draw(st.sampled_from(CLASSIFICATIONS)),
        "tags": draw(st.lists(st.sampled_from(TAGS), max_size=2, unique=True)),
        "population": draw(st.sampled_from([None, "members-2026"])),
    } for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        body["safeguards"]["approvals"] = [{"kind": draw(st.sampled_from(APPROVAL_KINDS)), "authority": "MoJ",
                                            "granted_on": "2026-11-20"}]
    body["declared_prior"] = {"personal_subjects": draw(st.integers(0, 1_500_000))}
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(body)
        path = draw(st.sampled_from(paths))
        parent = _parent(body, path)
        action = draw(st.sampled_from(["replace", "delete", "add-unknown", "enum-neighbour"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif action == "add-unknown" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
        elif action == "enum-neighbour" and isinstance(path[-1], str) and path[-1] in ENUM_CHOICES:
            choice = draw(st.sampled_from(ENUM_CHOICES[path[-1]]))
            parent[path[-1]] = draw(st.sampled_from([choice, choice.upper(), choice + " ", choice[:-1]]))
    return body


def _decide_or_refuse(engine: Engine, body: Any, raw: bytes | None = None) -> str:
    try:
        requests, _ = load_requests(raw, "fuzz.json") if raw is not None else requests_from_data(body, "fuzz")
    except InputError as exc:
        assert exc.problems and str(exc)
        return "refused"
    for request in requests:
        decision = engine.evaluate(request, PriorCounts())
        assert decision.outcome in ("permitted", "conditional", "prohibited")
        # a decided request survives the round trip the ledger makes
        again = TransferRequest.model_validate(json.loads(request.model_dump_json()))
        assert again == request
    return "decided"


@FUZZ
@given(body=plausible_requests())
def test_fuzzed_requests_are_decided_or_refused(engine: Engine, body: dict[str, Any]) -> None:
    _decide_or_refuse(engine, copy.deepcopy(body))


@FUZZ
@given(body=plausible_requests(), as_yaml=st.booleans(), cut=st.integers(0, 4000), flip=st.integers(0, 255))
def test_fuzzed_request_bytes_are_decided_or_refused(engine: Engine, body: dict[str, Any], as_yaml: bool,
                                                     cut: int, flip: int) -> None:
    if as_yaml:
        import io

        stream = io.StringIO()
        YAML(typ="safe", pure=True).dump(body, stream)
        raw = stream.getvalue().encode()
    else:
        raw = json.dumps(body, default=str).encode()
    # sometimes truncated, sometimes with one byte changed
    if cut and cut < len(raw):
        raw = raw[:cut] if cut % 2 else raw[:cut] + bytes([flip]) + raw[cut + 1:]
    _decide_or_refuse(engine, None, raw)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                     json_values.map(lambda v: json.dumps(v, default=str).encode())))
def test_arbitrary_bytes_are_refused_cleanly(engine: Engine, raw: bytes) -> None:
    _decide_or_refuse(engine, None, raw)


def test_the_request_fuzzer_reaches_both_answers(engine: Engine) -> None:
    """A fuzzer that only ever produced refusals (or only valid requests) would test little."""
    seen: set[str] = set()

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(body=plausible_requests())
    def run(body: dict[str, Any]) -> None:
        seen.add(_decide_or_refuse(engine, body))

    run()
    assert seen == {"decided", "refused"}


# ------------------------------------------------------------------ rule packs

REGISTRY = FactRegistry()
FACTS = [spec for spec in REGISTRY]
OPS = ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "exists"]


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    spec = draw(st.sampled_from(FACTS))
    name = spec.name if draw(st.integers(0, 9)) else draw(st.sampled_from(["no.such.fact", "direction.x", ""]))
    op = draw(st.sampled_from(OPS)) if draw(st.integers(0, 9)) else draw(st.sampled_from(["like", "EQ", "in "]))
    if spec.values and draw(st.booleans()):
        value: Any = draw(st.sampled_from(spec.values))
    elif spec.type == "int" and draw(st.booleans()):
        value = draw(st.integers(-5, 3_000_000))
    elif spec.type == "bool" and draw(st.booleans()):
        value = draw(st.booleans())
    else:
        value = draw(scalars)
    if op in ("in", "not_in") and draw(st.integers(0, 3)):
        value = [value] + ([draw(st.sampled_from(spec.values))] if spec.values else [])
    if op == "exists":
        value = draw(st.sampled_from([True, False, "yes", 1]))
    return {"fact": name, op: value}


conditions = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=0, max_size=3).map(lambda items: {"all": items}),
        st.lists(inner, min_size=0, max_size=3).map(lambda items: {"any": items}),
        inner.map(lambda item: {"not": item}),
    ),
    max_leaves=6,
)

EFFECTS = st.one_of(
    st.just({"note": True}),
    st.lists(st.sampled_from([*MECHANISM_TYPES, "telepathy"]), min_size=1, max_size=2, unique=True)
    .map(lambda r: {"require": r}),
    st.just({"prohibit": True}),
    st.sampled_from(["non_personal", "contract_necessity", "under_threshold", "made_up"]).map(lambda e: {"exempt": e}),
    st.just({"require": ["standard_contract"], "obligations": ["fz.duty"]}),
    st.just({"obligations": ["fz.undefined"]}),
    json_values,
)
MESSAGE = {"en": "m", "zh-Hans": "m", "zh-Hant": "m"}


@st.composite
def pack_documents(draw: st.DrawFn) -> dict[str, Any]:
    rules = []
    for index in range(draw(st.integers(1, 4))):
        rule: dict[str, Any] = {
            "id": f"fz.rule-{index}", "title": "fuzzed", "when": draw(conditions), "then": draw(EFFECTS),
            "cite": "Fuzz art. 1", "effective": {"from": str(draw(st.dates(dt.date(2020, 1, 1), dt.date(2027, 1, 1))))},
            "message": MESSAGE,
        }
        for _ in range(draw(st.integers(0, 1))):  # sometimes break one part of the rule
            key = draw(st.sampled_from(sorted(rule)))
            rule[key] = draw(json_values)
        rules.append(rule)
    return {"pack": "fuzz", "version": "1", "title": "fuzzed pack", "rules": rules,
            "obligations": [{"id": "fz.duty", "text": MESSAGE, "due": "before_transfer", "cite": "Fuzz art. 2"}]}


def _load_or_refuse(document: Any, folder: Path) -> str:
    """Write the pack as YAML, load it, and when valid compile it into an engine and decide with it."""
    stream = folder / "fuzz.yaml"
    plain = json.loads(json.dumps(document))  # no shared objects: the dumper would write them as aliases
    with stream.open("w", encoding="utf-8") as sink:
        YAML(typ="safe", pure=True).dump(plain, sink)
    try:
        pack_set = load_pack_set(folder)
    except RulePackError as exc:
        assert exc.issues and all(issue.file.endswith("fuzz.yaml") for issue in exc.issues)
        return "refused"
    engine = Engine(pack_set)
    for jurisdiction in ("HK", "SG"):
        request = TransferRequest.model_validate(good_request(recipient={
            "id": "R", "name": "R", "jurisdiction": jurisdiction}))
        assert engine.evaluate(request).outcome in ("permitted", "conditional", "prohibited")
    return "valid"


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(document=pack_documents())
def test_fuzzed_packs_compile_and_decide_or_are_refused(document: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _load_or_refuse(document, Path(folder))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(document=json_values)
def test_arbitrary_documents_are_refused_as_packs(document: Any) -> None:
    pack, issues = parse_pack(document, "fuzz.yaml", REGISTRY)
    assert pack is None and issues


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(max_size=400), position=st.integers(0, 30_000))
def test_mutated_pack_text_is_loaded_or_refused(text: str, position: int) -> None:
    """Random text spliced into a shipped pack: a syntax error, a refusal or (rarely) a valid pack."""
    original = (ROOT / "rules" / "hk-pdpo.yaml").read_text(encoding="utf-8")
    at = position % len(original)
    mutated = original[:at] + text + original[at:]
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "hk-pdpo.yaml").write_text(mutated, encoding="utf-8")
        try:
            load_pack_set(folder)
        except RulePackError as exc:
            assert exc.issues


def test_the_pack_fuzzer_reaches_valid_packs() -> None:
    """The generator must reach both sides (valid packs and refusals) or its fuzzing says little.
    Derandomized: with a fresh random seed each run, 120 examples missed the valid side now and then
    (seen in a whole-suite run on 6 December), a flaky answer about a fixed generator."""
    seen: set[str] = set()

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              derandomize=True)
    @given(document=pack_documents())
    def run(document: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            seen.add(_load_or_refuse(document, Path(folder)))

    run()
    assert seen == {"valid", "refused"}

"""The pack-level sections: ``options`` (readings of the law a deployment chooses), ``mechanisms``
(filing windows and validity) and ``counting`` (what counting leaves out).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from engine.fact_registry import FactRegistry, OptionSpec
from engine.facts import NO_COUNTING_POLICY, CountingPolicy, MechanismPolicy, ValidityTerm
from engine.models import MECHANISM_TYPES
from engine.rulespec.model import OptionDecl
from engine.rulespec.yamlnodes import Issues, as_date, line_of, plain

OPTION_KEYS = {"id", "type", "default", "description", "values", "readings", "stricter"}

OPTION_ID = re.compile(r"[a-z][a-z0-9_]*")
"""Option ids become facts (``option.<id>``) and compiled keys (``option__<id>``): lower case, digits
and underscores only, so that two options can never share a key (``a.b`` and ``a__b`` would)."""


def parse_options(doc: Mapping[str, Any], pack: str, out: Issues) -> list[OptionDecl]:
    decls: list[OptionDecl] = []
    nodes = doc.get("options") or []
    if not isinstance(nodes, list):
        out.add(line_of(doc, "options"), None, "'options' must be a list")
        return decls
    for index, node in enumerate(nodes):
        line = line_of(nodes, index)
        if not isinstance(node, Mapping):
            out.add(line, None, "an option must be a mapping")
            continue
        option_id = node.get("id")
        unknown = set(map(str, node)) - OPTION_KEYS
        if unknown:
            out.add(line, None, f"option {option_id}: unknown key(s) {sorted(unknown)}")
        otype = node.get("type", "bool")
        default = plain(node.get("default"))
        description = node.get("description")
        if not isinstance(option_id, str) or not option_id:
            out.add(line, None, "an option needs an id")
            continue
        if not OPTION_ID.fullmatch(option_id):
            out.add(line, None, f"option {option_id!r}: an option id is lower-case letters, digits and '_', "
                                "starting with a letter")
            continue
        if otype not in ("bool", "enum", "number"):
            out.add(line, None, f"option {option_id}: type must be bool, enum or number")
            continue
        values = tuple(str(v) for v in (node.get("values") or ()))
        if otype == "bool" and not isinstance(default, bool):
            out.add(line, None, f"option {option_id}: default must be true or false")
        if otype == "enum" and default not in values:
            out.add(line, None, f"option {option_id}: default must be one of its values {list(values)}")
        if otype == "number" and (isinstance(default, bool) or not isinstance(default, int | float)
                                  or not math.isfinite(default)):
            out.add(line, None, f"option {option_id}: default must be a (finite) number")
        if not isinstance(description, str) or not description.strip():
            out.add(line, None, f"option {option_id}: needs a description")
            description = ""
        readings = node.get("readings") or {}
        if not isinstance(readings, Mapping) or not readings:
            out.add(line, None, f"option {option_id}: needs 'readings' citing the sources behind each reading")
            readings = {}
        spec = OptionSpec(option_id, otype, default, str(description), values)
        decls.append(OptionDecl(spec, {str(k): str(v) for k, v in readings.items()},
                                plain(node.get("stricter")), pack))
    return decls

def _validity_option(term: Mapping[str, Any], mechanism: str, registry: FactRegistry | None, line: int,
                     out: Issues) -> tuple[str | None, int | None]:
    """``years_under_option: {OPTION: YEARS}`` of a validity term: another term under a bool option."""
    node = term.get("years_under_option")
    if node is None:
        return None, None
    if isinstance(node, Mapping) and len(node) == 1:
        option, years = next(iter(node.items()))
        spec = registry.get(f"option.{option}") if registry is not None else None
        if spec is not None and spec.type == "bool" and isinstance(years, int) and not isinstance(years, bool) \
                and years >= 1:
            return str(option), years
    out.add(line, None, f"mechanism {mechanism}: years_under_option takes {{OPTION: YEARS}}, a bool option a pack "
            "declares and a whole number of years")
    return None, None

def parse_mechanisms(doc: Mapping[str, Any], out: Issues,
                      registry: FactRegistry | None = None) -> dict[str, MechanismPolicy]:
    result: dict[str, MechanismPolicy] = {}
    node = doc.get("mechanisms") or {}
    if not isinstance(node, Mapping):
        out.add(line_of(doc, "mechanisms"), None, "'mechanisms' must be a mapping")
        return result
    for name, body in node.items():
        line = line_of(node, name)
        if name not in MECHANISM_TYPES:
            out.add(line, None, f"unknown mechanism '{name}' (known: {', '.join(MECHANISM_TYPES)})")
            continue
        if not isinstance(body, Mapping) or not isinstance(body.get("cite"), str):
            out.add(line, None, f"mechanism {name}: needs a mapping with 'cite'")
            continue
        days = body.get("filing_working_days")
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
            out.add(line, None, f"mechanism {name}: filing_working_days must be a whole number of days")
            continue
        terms: list[ValidityTerm] = []
        for term in body.get("validity_when_no_expiry") or []:
            start = as_date(term.get("issued_from")) if isinstance(term, Mapping) else None
            end = as_date(term.get("issued_to")) if isinstance(term, Mapping) and term.get("issued_to") else None
            years = term.get("years") if isinstance(term, Mapping) else None
            if start is None or isinstance(years, bool) or not isinstance(years, int) or years < 1:
                out.add(line_of(body, "validity_when_no_expiry") or line, None,
                        f"mechanism {name}: each validity_when_no_expiry entry needs issued_from (a date) "
                        "and years (a whole number)")
                continue
            option = _validity_option(term, name, registry, line_of(body, "validity_when_no_expiry") or line, out)
            terms.append(ValidityTerm(start, end, years, *option))
        result[str(name)] = MechanismPolicy(filing_working_days=days, validity=tuple(terms))
    return result

def parse_counting(doc: Mapping[str, Any], out: Issues) -> CountingPolicy:
    """``counting: {collected_outside_mainland: {uncounted_from: DATE, cite: ...}}`` (CountingPolicy)."""
    node = doc.get("counting")
    if node is None:
        return NO_COUNTING_POLICY
    line = line_of(doc, "counting")
    known = {"collected_outside_mainland"}
    if not isinstance(node, Mapping) or set(map(str, node)) - known:
        out.add(line, None, "'counting' is a mapping with collected_outside_mainland: {uncounted_from: "
                "YYYY-MM-DD, cite: ...}")
        return NO_COUNTING_POLICY
    body = node.get("collected_outside_mainland")
    start = as_date(body.get("uncounted_from")) if isinstance(body, Mapping) else None
    cite = body.get("cite") if isinstance(body, Mapping) else None
    if start is None or not isinstance(cite, str) or not cite.strip():
        out.add(line_of(node, "collected_outside_mainland") or line, None,
                "counting.collected_outside_mainland needs uncounted_from (a date) and cite")
        return NO_COUNTING_POLICY
    return CountingPolicy(start, cite.strip())

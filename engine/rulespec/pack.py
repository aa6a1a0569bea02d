"""Reading one rule pack: its rules (condition, effects, citation, dates, message in three languages)
and obligations, every problem named by file, line and rule id. The pack is returned only when it has
no problem.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from engine.conditions import facts_read
from engine.errors import RuleIssue
from engine.fact_registry import FactRegistry
from engine.models import Messages
from engine.packfiles import looks_like_pack
from engine.placeholders import render
from engine.rulespec.condition_parser import ConditionParser
from engine.rulespec.digests import pack_digest
from engine.rulespec.effects import parse_effects
from engine.rulespec.model import DUE_KINDS, LANGUAGES, DueSpec, Effects, ObligationSpec, Pack, RuleSpec
from engine.rulespec.sections import parse_counting, parse_mechanisms, parse_options
from engine.rulespec.yamlnodes import Issues, as_date, line_of

RULE_KEYS = {"id", "title", "when", "then", "cite", "effective", "message", "unsure"}

PACK_KEYS = {"pack", "version", "title", "description", "options", "mechanisms", "rules", "obligations",
             "decides_from", "counting"}

OBLIGATION_KEYS = {"id", "text", "due", "cite", "satisfied_when", "unsure"}

RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""Rule ids name durable-rules rules and are read back from its action messages by slicing the JSON
key (engine/rete.py): no quotes, backslashes or spaces, and never the catch-all rule's ``__seen__``."""


def _messages(node: Any, where: int, rule_id: str | None, what: str, out: Issues) -> Messages | None:
    if not isinstance(node, Mapping):
        out.add(where, rule_id, f"{what} must be a mapping with en, zh-Hans and zh-Hant")
        return None
    missing = [lang for lang in LANGUAGES if not isinstance(node.get(lang), str) or not str(node[lang]).strip()]
    extra = [str(k) for k in node if k not in LANGUAGES]
    if missing:
        out.add(where, rule_id, f"{what} lacks the {', '.join(missing)} text")
    if extra:
        out.add(where, rule_id, f"{what} has unknown language(s) {', '.join(extra)} (use en, zh-Hans, zh-Hant)")
    if missing or extra:
        return None
    return Messages.model_validate({lang: str(node[lang]).strip() for lang in LANGUAGES})

def _parse_due(node: Any, line: int, oid: str, registry: FactRegistry, out: Issues) -> DueSpec | None:
    if isinstance(node, str):
        if node not in DUE_KINDS:
            out.add(line, None, f"obligation {oid}: due must be one of {', '.join(DUE_KINDS)} or "
                    "{working_days: N, after: DATE_FACT}")
            return None
        return DueSpec(node)
    if isinstance(node, Mapping):
        days, after = node.get("working_days"), node.get("after")
        spec = registry.get(str(after))
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            out.add(line, None, f"obligation {oid}: working_days must be a whole number")
            return None
        if spec is None or spec.type != "date":
            out.add(line, None, f"obligation {oid}: 'after' must name a date fact, got {after!r}")
            return None
        return DueSpec("working_days", days, spec.name)
    out.add(line, None, f"obligation {oid}: due is missing")
    return None

def _effective(node: Any, line: int, rule_id: str, out: Issues) -> tuple[dt.date, dt.date | None] | None:
    if not isinstance(node, Mapping) or "from" not in node:
        out.add(line, rule_id, "missing effective date ('effective: {from: YYYY-MM-DD}')")
        return None
    start = as_date(node.get("from"))
    end = as_date(node["to"]) if node.get("to") is not None else None
    if start is None:
        out.add(line_of(node, "from") or line, rule_id, f"effective.from is not a date: {node.get('from')!r}")
        return None
    if node.get("to") is not None and end is None:
        out.add(line_of(node, "to") or line, rule_id, f"effective.to is not a date: {node.get('to')!r}")
        return None
    if end is not None and end < start:
        out.add(line, rule_id, "effective.to is before effective.from")
        return None
    return start, end

def _stage(then: Effects, reads: set[str], registry: FactRegistry) -> int:
    """Stage 0: rules that derive exemptions from request facts; stage 1: exemption rules that read
    stage-0 exemptions (the residual art. 5(4)); stage 2: every other rule, reading all of them."""
    reads_derived = any((spec := registry.get(name)) is not None and spec.derived for name in reads)
    if then.exempt:
        return 1 if reads_derived else 0
    return 2

def parse_pack(document: Any, display: str, registry: FactRegistry,
               stored: bool = False) -> tuple[Pack | None, list[RuleIssue]]:
    """One pack: every rule checked; the pack is returned only when it has no issue. ``stored``: the
    text was recorded in the ledger (see :func:`load_pack_set`)."""
    out = Issues(display)
    if not isinstance(document, Mapping) or not looks_like_pack(document):
        out.add(1, None, "not a rule pack: a rule pack is a mapping with pack, version, title and rules "
                         "(what this file holds is not shown)")
        return None, out.issues
    unknown = set(map(str, document)) - PACK_KEYS
    if unknown:
        out.add(1, None, f"unknown top-level key(s) {sorted(unknown)}")
    name, version = document.get("pack"), document.get("version")
    if not isinstance(name, str) or not name:
        out.add(1, None, "missing 'pack' (the pack's name)")
        name = display
    if not isinstance(version, str | int | float) or version == "":
        out.add(1, None, "missing 'version' (quote it, e.g. \"2024.03\")")
        version = "?"
    options = parse_options(document, str(name), out)
    mechanisms = parse_mechanisms(document, out, registry)
    counting = parse_counting(document, out)
    decides_from = None
    if document.get("decides_from") is not None:
        decides_from = as_date(document["decides_from"])
        if decides_from is None:
            out.add(line_of(document, "decides_from"), None, "decides_from must be a YYYY-MM-DD date")
    registry_for_pack = registry
    rules: list[RuleSpec] = []
    nodes = document.get("rules") or []
    if not isinstance(nodes, list):
        out.add(line_of(document, "rules"), None, "'rules' must be a list")
        nodes = []
    for index, node in enumerate(nodes):
        line = line_of(nodes, index)
        if not isinstance(node, Mapping):
            out.add(line, None, "a rule must be a mapping")
            continue
        rule_id = node.get("id")
        if not isinstance(rule_id, str) or not rule_id:
            out.add(line, None, "a rule needs an id")
            continue
        if not RULE_ID.fullmatch(rule_id):
            out.add(line, None, f"rule id {rule_id!r}: use letters, digits, '.', '-' and '_', starting with a "
                                "letter or digit")
            continue
        before = len(out.issues)
        extra = set(map(str, node)) - RULE_KEYS
        if extra:
            out.add(line, rule_id, f"unknown key(s) {sorted(extra)}")
        cite = node.get("cite")
        if not isinstance(cite, str) or not cite.strip():
            out.add(line, rule_id, "missing citation ('cite': instrument and article)")
        effective = _effective(node.get("effective"), line_of(node, "effective") or line, rule_id, out)
        message = _messages(node.get("message"), line_of(node, "message") or line, rule_id, "message", out)
        unsure = node.get("unsure")
        if unsure is not None and (not isinstance(unsure, str) or not unsure.strip()):
            out.add(line_of(node, "unsure"), rule_id, "'unsure' must say what is unsure")
        if "when" not in node:
            out.add(line, rule_id, "missing 'when' (the condition)")
            continue
        parser = ConditionParser(registry_for_pack, out, rule_id, stored)
        when = parser.parse(node["when"], line_of(node, "when") or line)
        then = parse_effects(node.get("then"), line_of(node, "then") or line, rule_id, out)
        if message is not None and parser.ok:
            texts, problems = render(message.model_dump(), when)
            for problem in problems:
                out.add(line_of(node, "message") or line, rule_id, problem)
            message = Messages.model_validate(texts) if not problems else None
        if len(out.issues) > before or then is None or effective is None or message is None:
            continue
        if then.exempt and "exemption" in facts_read(when) and _stage(then, facts_read(when), registry) != 1:
            out.add(line, rule_id, "internal: stage assignment failed")  # pragma: no cover
        rules.append(RuleSpec(
            id=rule_id, title=str(node.get("title") or rule_id), when=when, then=then, cite=str(cite).strip(),
            effective_from=effective[0], effective_to=effective[1], message=message,
            unsure=str(unsure).strip() if unsure else None, pack=str(name), file=display, line=line,
            stage=_stage(then, facts_read(when), registry),
        ))
    obligations: list[ObligationSpec] = []
    obl_nodes = document.get("obligations") or []
    if not isinstance(obl_nodes, list):
        out.add(line_of(document, "obligations"), None, "'obligations' must be a list")
        obl_nodes = []
    for index, node in enumerate(obl_nodes):
        line = line_of(obl_nodes, index)
        if not isinstance(node, Mapping) or not isinstance(node.get("id"), str):
            out.add(line, None, "an obligation must be a mapping with an id")
            continue
        oid = str(node["id"])
        before = len(out.issues)
        extra = set(map(str, node)) - OBLIGATION_KEYS
        if extra:
            out.add(line, None, f"obligation {oid}: unknown key(s) {sorted(extra)}")
        text = _messages(node.get("text"), line_of(node, "text") or line, None, f"obligation {oid}: text", out)
        cite = node.get("cite")
        if not isinstance(cite, str) or not cite.strip():
            out.add(line, None, f"obligation {oid}: missing citation ('cite')")
        due = _parse_due(node.get("due"), line_of(node, "due") or line, oid, registry, out)
        satisfied = None
        if node.get("satisfied_when") is not None:
            parser = ConditionParser(registry, out, f"(obligation) {oid}", stored)
            satisfied = parser.parse(node["satisfied_when"], line_of(node, "satisfied_when") or line)
        if len(out.issues) > before or text is None or due is None:
            continue
        obligations.append(ObligationSpec(oid, text, due, str(cite).strip(), satisfied,
                                          str(node["unsure"]) if node.get("unsure") else None,
                                          str(name), display, line))
    if out.issues:
        return None, out.issues
    digest = pack_digest(document)
    return Pack(str(name), str(version), str(document.get("title") or name), display, digest, tuple(rules),
                tuple(obligations), tuple(options), mechanisms, decides_from, counting), []

"""Loading a pack set: every pack of a folder read and validated together, whole or not at all.

What only the set can check is checked here: options declared once (any pack may read any pack's
option), pack names, rule and obligation ids unique across the folder, one mechanism policy and one
counting policy, every obligation a rule names defined.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from engine.errors import RuleIssue, RulePackError
from engine.fact_registry import FactRegistry
from engine.facts import NO_COUNTING_POLICY, MechanismPolicy
from engine.packfiles import pack_files, read_yaml
from engine.rulespec.digests import pack_set_digest
from engine.rulespec.model import ObligationSpec, OptionDecl, Pack, PackSet, RuleSpec
from engine.rulespec.pack import parse_pack
from engine.rulespec.sections import parse_options
from engine.rulespec.yamlnodes import Issues


def _display_name(path: Path, root: Path) -> str:
    try:
        return str(Path(root.name) / path.relative_to(root))
    except ValueError:
        return str(path)

def load_pack_set(directory: Path | str, files: Iterable[Path] | None = None, *, stored: bool = False) -> PackSet:
    """Load and validate every pack of a folder; raise RulePackError listing every issue.

    ``stored``: the folder holds pack texts recorded in the ledger (replay, as-of evaluation), which
    may compare a fact with a value retired since (``public_body``): such a literal is read as what it
    meant then, as a stored request's is (engine.models.read_stored_request), so that a recorded
    decision replays as it was made. A folder a user writes is held to the current values."""
    root = Path(directory)
    walked = files is None  # the folder's own files must stay inside it (a link out is refused)
    if files is None:
        if not root.is_dir():
            raise RulePackError([RuleIssue(str(root), 0, None, "rule folder does not exist")])
        files = pack_files(root)
    paths = list(files)
    issues: list[RuleIssue] = []
    documents: list[tuple[Any, str]] = []
    for path in paths:
        display = _display_name(path, root)
        document, read_issues = read_yaml(path, display, root if walked else None)
        issues += read_issues
        if document is not None:
            documents.append((document, display))
    if not paths:
        issues.append(RuleIssue(str(root), 0, None, "no rule packs (*.yaml) found"))
    # Options are declared by packs and read as facts by any pack: collect them first.
    option_decls: dict[str, OptionDecl] = {}
    for document, display in documents:
        if isinstance(document, Mapping):
            collector = Issues(display)
            for decl in parse_options(document, str(document.get("pack")), collector):
                if decl.spec.id in option_decls:
                    issues.append(RuleIssue(display, 0, None, f"option {decl.spec.id} is declared twice"))
                option_decls[decl.spec.id] = decl
    registry = FactRegistry(decl.spec for decl in option_decls.values())
    packs: list[Pack] = []
    for document, display in documents:
        pack, pack_issues = parse_pack(document, display, registry, stored)
        issues += pack_issues
        if pack is not None:
            packs.append(pack)
    seen_rules: dict[str, RuleSpec] = {}
    seen_obligations: dict[str, ObligationSpec] = {}
    seen_packs: dict[str, Pack] = {}
    mechanisms: dict[str, MechanismPolicy] = {}
    counting = NO_COUNTING_POLICY
    for pack in packs:
        if pack.name in seen_packs:
            issues.append(RuleIssue(pack.file, 1, None, f"pack name '{pack.name}' is also used by "
                                    f"{seen_packs[pack.name].file}"))
        seen_packs[pack.name] = pack
        for rule in pack.rules:
            if rule.id in seen_rules:
                other = seen_rules[rule.id]
                issues.append(RuleIssue(rule.file, rule.line, rule.id,
                                        f"duplicate rule id (also at {other.file}:{other.line})"))
            seen_rules[rule.id] = rule
        for obligation in pack.obligations:
            if obligation.id in seen_obligations:
                other_obligation = seen_obligations[obligation.id]
                issues.append(RuleIssue(obligation.file, obligation.line, None,
                                        f"obligation {obligation.id} is defined twice (also at "
                                        f"{other_obligation.file}:{other_obligation.line})"))
            seen_obligations[obligation.id] = obligation
        for mech, policy in pack.mechanisms.items():
            if mech in mechanisms and mechanisms[mech] != policy:
                issues.append(RuleIssue(pack.file, 1, None, f"mechanism {mech} is declared differently "
                                        "by another pack"))
            mechanisms[mech] = policy
        if pack.counting != NO_COUNTING_POLICY:
            if counting != NO_COUNTING_POLICY and counting != pack.counting:
                issues.append(RuleIssue(pack.file, 1, None, "'counting' is declared differently by another pack"))
            counting = pack.counting
    for rule in seen_rules.values():
        for oid in rule.then.obligations:
            if oid not in seen_obligations:
                issues.append(RuleIssue(rule.file, rule.line, rule.id, f"undefined obligation id '{oid}'"))
    if issues:
        raise RulePackError(issues)
    digest = pack_set_digest((p.name, p.digest) for p in packs)
    return PackSet(
        packs=tuple(packs), registry=registry, digest=digest,
        rules=tuple(rule for pack in packs for rule in pack.rules),
        obligations=seen_obligations, options=option_decls, mechanisms=mechanisms, counting=counting,
    )

"""The rule language: YAML rule packs read with line numbers, validated against the fact registry,
and loaded as one pack set (DESIGN section 4; rules/README.md is the language's reference).

A pack set (every ``*.yaml`` in a folder) is loaded whole or not at all: any error anywhere refuses
the set, so a bad pack can never replace a good one. Every error reads
``rules/file.yaml:LINE: rule ID: what is wrong``.

The modules, in the order a pack goes through them:

- :mod:`engine.rulespec.yamlnodes`: line numbers of YAML nodes, the issues of one file;
- :mod:`engine.rulespec.pack`: one pack, its rules and obligations, with
  :mod:`~engine.rulespec.condition_parser` (``when``), :mod:`~engine.rulespec.effects` (``then``) and
  :mod:`~engine.rulespec.sections` (options, mechanisms, counting);
- :mod:`engine.rulespec.loading`: a folder's packs as one :class:`PackSet`, with the checks across packs;
- :mod:`engine.rulespec.digests`: the digests decisions and the ledger name packs by;
- :mod:`engine.rulespec.model`: what all of that produces.

Import from here: ``from engine.rulespec import PackSet, load_pack_set``.
"""

from engine.rulespec.digests import pack_digest, pack_set_digest
from engine.rulespec.loading import load_pack_set
from engine.rulespec.model import (
    DUE_KINDS,
    LANGUAGES,
    MECHANISM_LEVEL,
    DueSpec,
    Effects,
    ObligationSpec,
    OptionDecl,
    Pack,
    PackSet,
    RuleSpec,
)
from engine.rulespec.pack import parse_pack

__all__ = [
    "DUE_KINDS",
    "LANGUAGES",
    "MECHANISM_LEVEL",
    "DueSpec",
    "Effects",
    "ObligationSpec",
    "OptionDecl",
    "Pack",
    "PackSet",
    "RuleSpec",
    "load_pack_set",
    "pack_digest",
    "pack_set_digest",
    "parse_pack",
]

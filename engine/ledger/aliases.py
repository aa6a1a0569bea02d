"""Recorded exporter ids that count as one (issue 19 point 4): the alias table, the arithmetic of a merge,
and the check of an ``id-merge`` event.

A ledger recorded before party ids were canonicalised (``engine.strict.canonical_party_id``) holds
transfers under ids such as 'abc ', 'Abc' and 'ABC', each with its own running totals. The audit chain
hashed them so, and is never rewritten: the transfers keep the id they were recorded under. What
``baygate ledger merge-ids`` (``engine.ledger.id_merge``) records instead is an ``id-merge`` chain event
per canonical id, naming the variants that now count as it, and one ``exporter_id_aliases`` row per
variant (revision 0013). From that event on:

- the canonical id's running totals hold its variants' (``merged_state``); the variants' rows stay at
  zero (sums rows are never deleted: ``engine.ledger.sealed_totals``);
- every read that starts from an exporter id (counts, find by reference, withdraw, amend, lists, the
  exporter page) reads the transfers of every id that counts as it (``members``), and every write of
  totals for a transfer recorded under a variant goes to its canonical id (``owner``);
- ``audit verify`` and the replays follow the merge at its position in the chain (``follow``,
  ``chain_tally.ChainTally.merge``, ``priors.PriorTracker.merged``).

This module only reads; ``engine.ledger.id_merge`` writes.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, inspect, text

from engine.ledger import database
from engine.ledger.errors import ReferenceConflict
from engine.ledger.schema import exporter_id_aliases
from engine.ledger.sealed_totals import YearState
from engine.models import TransferRequest, read_stored_request
from engine.strict import canonical_party_id

KIND = "id-merge"
"""The chain event of a merge."""

_OWNER = text("SELECT canonical FROM exporter_id_aliases WHERE variant = :v")
_MEMBERS = text("SELECT variant FROM exporter_id_aliases WHERE canonical = :c ORDER BY variant")
_OWNERS = text("SELECT variant, canonical FROM exporter_id_aliases WHERE variant IN :vs"
               ).bindparams(bindparam("vs", expanding=True))
_ALL = text("SELECT variant, canonical, merge_seq FROM exporter_id_aliases")


def kept(conn: Connection) -> bool:
    """Whether this database has the alias table (revision 0013 on): older ledgers read as they stand."""
    return bool(inspect(conn).has_table(exporter_id_aliases.name))


def owner(conn: Connection, recorded: str) -> str:
    """The id whose running totals count a transfer recorded under ``recorded``: its canonical id once
    merged, else itself."""
    found = conn.execute(_OWNER, {"v": recorded}).scalar()
    return recorded if found is None else str(found)


def lock_owner(conn: Connection, recorded: str) -> str:
    """Take the lock of the exporter whose totals count a transfer recorded under ``recorded`` (the one a
    withdrawal or an amendment of it writes), and return its id. Read again once the lock is held: a merge
    committed while this transaction waited makes another id the owner, whose lock is then taken too."""
    found = owner(conn, recorded)
    database.lock_exporter(conn, found)
    again = owner(conn, recorded)
    if again != found:
        database.lock_exporter(conn, again)
    return again


def owners(conn: Connection, recorded: Iterable[str]) -> dict[str, str]:
    """``owner`` of several recorded ids at once (those without an alias map to themselves)."""
    wanted = sorted(set(recorded))
    found = {str(v): str(c) for v, c in conn.execute(_OWNERS, {"vs": wanted})} if wanted else {}
    return {name: found.get(name, name) for name in wanted}


def members(conn: Connection, canonical: str) -> list[str]:
    """Every recorded id that counts as ``canonical``: itself first, then its merged variants."""
    return [canonical] + [str(v) for (v,) in conn.execute(_MEMBERS, {"c": canonical})]


def counting_as(conn: Connection, given: str) -> list[str]:
    """The recorded ids a lookup by exporter id ``given`` covers: every id counting as its canonical form
    (``members``), and ``given`` exactly as written (a variant not merged yet is still found by it)."""
    try:
        canonical = canonical_party_id(given)
    except ValueError:
        return [given]
    found = members(conn, canonical)
    return found if given in found else [*found, given]


def all_aliases(conn: Connection) -> dict[str, tuple[str, int]]:
    """variant -> (canonical id, position of the id-merge event that recorded it)."""
    return {str(v): (str(c), int(s)) for v, c, s in conn.execute(_ALL)}


def reads_as(recorded: str) -> tuple[str, str | None]:
    """The canonical id a recorded id reads as, and why it needed more than canonicalising (or None).

    An id that today's canonical form refuses (a zero-width, bidirectional or control character in it,
    which new requests may not carry) reads as the id left once those characters are taken out: 'ABC'
    followed by a zero-width space is the exporter 'ABC' that issue 19 says must not start again from 0.
    Raises ValueError when nothing readable is left."""
    try:
        return canonical_party_id(recorded), None
    except ValueError as refused:
        visible = "".join(char for char in unicodedata.normalize("NFKC", recorded)
                          if char.isprintable() or char == " ")
        return canonical_party_id(visible), f"its invisible characters taken out ({refused})"


def merged_state(parts: Iterable[YearState]) -> YearState:
    """One exporter-year's running totals as one exporter, from the totals each of its recorded ids held.

    The sums add up, except where a population was named under several ids: counting (DESIGN section 5)
    adds a population's increase over its largest figure so far, so as one exporter it counted its
    largest figure once, where each id counted its own largest. For each such population and tally the
    sum of the ids' figures is taken out and the largest put back; the population's figure is the
    largest. (The running totals are, per id, the subjects outside any population plus each population's
    largest figure: ``audit verify`` checks that against the transfers tallied again, merged ids and all.)
    """
    merged = YearState()
    summed: dict[tuple[str, str], int] = {}
    for part in parts:
        merged.personal += part.personal
        merged.sensitive += part.sensitive
        for figure, subjects in part.populations.items():
            summed[figure] = summed.get(figure, 0) + subjects
            merged.populations[figure] = max(merged.populations.get(figure, 0), subjects)
    for (name, tally), total in summed.items():
        overlap = total - merged.populations[(name, tally)]
        if tally == "sensitive":
            merged.sensitive -= overlap
        else:
            merged.personal -= overlap
    return merged


Sums = tuple[int, int]
"""(personal, sensitive) subjects."""


@dataclass(frozen=True)
class MergedYear:
    """One year of an id-merge event: the merged sums written, what each id counted before, and what
    counted once of the populations named under several ids (the sum of the befores less the merged)."""

    merged: Sums
    before: dict[str, Sums]
    counted_once: Sums


def _sums(value: Any) -> Sums | None:
    if isinstance(value, list) and len(value) == 2 and all(type(n) is int for n in value):
        return int(value[0]), int(value[1])
    return None


def event_years(data: Mapping[str, Any]) -> dict[int, MergedYear] | None:
    """An id-merge event's years, or None when malformed."""
    years = data.get("years")
    if not isinstance(years, list):
        return None
    found: dict[int, MergedYear] = {}
    for item in years:
        if not isinstance(item, dict) or not all(
                type(item.get(key)) is int for key in ("year", "personal_subjects", "sensitive_subjects")):
            return None
        before = item.get("before")
        once = _sums(item.get("counted_once"))
        if not isinstance(before, dict) or once is None:
            return None
        parts = {str(name): _sums(figures) for name, figures in before.items()}
        if any(figures is None for figures in parts.values()):
            return None
        found[int(item["year"])] = MergedYear((int(item["personal_subjects"]), int(item["sensitive_subjects"])),
                                              {name: figures for name, figures in parts.items() if figures is not None},
                                              once)
    return found


def check_event(seq: int, subject: str, data: Mapping[str, Any], recorded: Mapping[str, Any],
                merged_so_far: Mapping[str, str]) -> str | None:
    """Does the id-merge event at ``seq`` say what a merge writes, and do the alias rows still say it?
    ``recorded``: the alias rows by variant; ``merged_so_far``: variant -> canonical of the merges
    before it in the chain. (Its figures are checked against the recount by the caller.)"""
    variants = data.get("variants")
    if data.get("canonical") != subject or not isinstance(variants, list) or not variants \
            or not all(isinstance(v, str) for v in variants) or event_years(data) is None:
        return "an id-merge event without its canonical id, variants and merged figures"
    for variant in variants:
        try:
            reads, _why = reads_as(variant)
        except ValueError:
            reads = None
        if variant == subject or reads != subject:
            return f"merges id {variant!r} into {subject}, which it does not read as"
        if variant in merged_so_far:
            return f"merges id {variant!r}, which an earlier id-merge event merged already"
        row = recorded.get(variant)
        if row is None:
            return f"the alias of {variant!r} it recorded was deleted"
        if (str(row.canonical), int(row.merge_seq)) != (subject, seq):
            return f"the alias of {variant!r} it recorded was edited"
    if subject in merged_so_far:
        return f"merges ids into {subject}, itself merged into {merged_so_far[subject]} (edited)"
    return None


def unaccounted(recorded: Mapping[str, Any], merged: Mapping[str, str]) -> str | None:
    """The first alias row no id-merge event of the chain recorded (inserted), as verify words it."""
    for variant in sorted(set(recorded) - set(merged)):
        return f"the alias {variant!r} -> {recorded[variant].canonical} has no id-merge event (inserted)"
    return None


class MergeFollower(Protocol):
    """What a walk of the chain keeps to follow merges (``engine.ledger.chain_tally.ChainTally``): which ids
    count as which, each id's sums so far, and the merge itself, returning the merged sums per year.
    ``counted_once`` is what the event says counted once per year: a streaming walk keeps only the largest
    population figures at the chain's end, not those live at the merge, so it takes the event's figure
    (checked to add up with the ids' sums it does keep), and the totals after are checked against the
    live transfers tallied again as one exporter."""

    merged: dict[str, str]

    def sums_of(self, exporter: str, year: int) -> Sums: ...

    def merge(self, canonical: str, variants: Iterable[str], counted_once: Mapping[int, Sums]) -> dict[int, Sums]: ...


def follow(seq: int, subject: str, data: Mapping[str, Any], recorded: Mapping[str, Any],
           follower: MergeFollower) -> str | None:
    """An id-merge event met by a walk of the chain (``audit verify``): checked (``check_event``), each
    id's figures before it compared with the walk's, then followed (the walk's totals merged) and the
    figures the event says were written compared with the ones the walk gives. The problem, or None."""
    problem = check_event(seq, subject, data, recorded, follower.merged)
    if problem is not None:
        return problem
    years = event_years(data) or {}
    for year, item in sorted(years.items()):
        for name, figures in sorted(item.before.items()):
            if follower.sums_of(name, year) != figures:
                return (f"the merge into {subject} says {name!r} counted personal {figures[0]}, sensitive "
                        f"{figures[1]} in {year} before it, but the chain accounts for "
                        f"{_figures({year: follower.sums_of(name, year)})} (edited)")
        summed = (sum(p for p, _s in item.before.values()), sum(s for _p, s in item.before.values()))
        if (summed[0] - item.counted_once[0], summed[1] - item.counted_once[1]) != item.merged \
                or min(item.counted_once) < 0:
            return f"the merge into {subject}: its figures for {year} do not add up (edited)"
    merged = follower.merge(subject, data["variants"], {year: item.counted_once for year, item in years.items()})
    recounted = {year: sums for year, sums in merged.items() if sums != (0, 0)}
    declared = {year: item.merged for year, item in years.items() if item.merged != (0, 0)}
    if recounted != declared:
        return (f"the merge into {subject} says it wrote {_figures(declared)}, but the chain accounts for "
                f"{_figures(recounted)} (edited)")
    return None


def _figures(by_year: Mapping[int, Sums]) -> str:
    return "; ".join(f"{year}: personal {p}, sensitive {s}" for year, (p, s) in sorted(by_year.items())) or "nothing"


def as_requested_now(request_json: str) -> str | None:
    """A recorded request as the same request sent today is recorded (its party ids canonical, defaults
    filled in), as canonical JSON; None when today's validation refuses it."""
    from engine.ledger.audit import canonical

    try:
        stored = read_stored_request(json.loads(request_json)).model_dump(mode="json")
        return canonical(TransferRequest.model_validate(stored).model_dump(mode="json"))
    except ValueError:  # pydantic's ValidationError is one
        return None


def recorded_as_variant(rows: list[Any], request_json: str, texts: Callable[[Any], tuple[str, str]]) -> Any:
    """A submission whose reference its exporter recorded under ids since merged into its id (``rows``,
    oldest first): the row it repeats (its recorded decision is the answer, as for any repeated request),
    or ReferenceConflict, naming them, when it repeats none: the reference is taken. ``texts``: a row's
    request and decision texts (``records.DictionaryReader.texts``)."""
    for row in rows:
        if as_requested_now(texts(row)[0]) == request_json:
            return _repeated(row, request_json)
    taken = ", ".join(f"decision {row.decision_id} (recorded as {row.exporter_id!r}, {row.recorded_at})"
                      for row in rows)
    raise ReferenceConflict(f"reference {rows[0].reference!r} of exporter {rows[0].owner} was already recorded under "
                            f"an id since merged into it, for a different request: {taken}; a new transfer needs a "
                            "new reference")


def _repeated(row: Any, request_json: str) -> SimpleNamespace:
    """A row recorded under a variant, read as the existing transfer of a repeated request (what
    ``Recorder.record_one`` reads of one): its hash is that of the request as sent now, the one it repeats."""
    return SimpleNamespace(decision_id=row.decision_id, exporter_id=row.exporter_id, reference=row.reference,
                           request_json=row.request_json, decision_json=row.decision_json, record=row.record,
                           recorded_at=row.recorded_at, withdrawn_at=row.withdrawn_at,
                           request_sha256=_sha256(request_json))


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()

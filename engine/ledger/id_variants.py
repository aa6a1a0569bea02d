"""The ids of a ledger that now read as one (issue 19 point 4): a report, read only.

New requests' party ids are canonicalised (``engine.strict.canonical_party_id``), but what was
recorded before keeps the ids it was recorded with: the audit chain is evidence and is never
rewritten. This report lists, for a ledger, the recorded exporter ids that canonicalise to the
same id (variants), the ids that would be refused now (invisible characters), the (exporter,
reference) pairs that collide under the canonical form, and the recorded decisions whose counts would
have differed had the variants been one exporter: for each, what the other variants had counted
(counted, not withdrawn at the time, same year) before it was decided. (Sums of subjects: a
population named under two variants is counted in each, so the difference is an upper bound.)
``baygate ledger id-variants`` prints it; ``baygate ledger merge-ids`` prints it too, and merges them
(``engine.ledger.id_merge``): a group then says which of its ids were merged, by which chain event.

An id recorded with a zero-width, bidirectional or control character, which new requests may not carry,
reads as the id left once those are taken out (``aliases.reads_as``), and is grouped with it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, text

from engine.ledger import aliases

_IDS = text("SELECT DISTINCT exporter_id FROM transfers")
_OF = text("SELECT decision_id, exporter_id, reference, year, event_seq, withdrawn_seq, counted, "
           "personal_subjects, sensitive_subjects FROM transfers WHERE exporter_id IN :ids ORDER BY event_seq"
           ).bindparams(bindparam("ids", expanding=True))


@dataclass(frozen=True)
class Affected:
    """A recorded decision the other variants' counts would have changed."""

    decision_id: str
    reference: str
    exporter_id: str
    year: int
    other_personal_subjects: int
    other_sensitive_subjects: int


@dataclass
class VariantGroup:
    canonical: str
    ids: list[str]
    """Every recorded id reading as ``canonical`` (the canonical id itself if it was recorded)."""
    transfers: int = 0
    collisions: list[tuple[str, list[str]]] = field(default_factory=list)
    """(reference, decision ids) recorded under several variants."""
    affected: list[Affected] = field(default_factory=list)
    merged: dict[str, int] = field(default_factory=dict)
    """Ids already counting as ``canonical``: variant -> position of the id-merge event that merged it."""
    notes: dict[str, str] = field(default_factory=dict)
    """Ids that read as ``canonical`` only once their invisible characters are taken out: variant -> why."""

    @property
    def pending(self) -> list[str]:
        """The variants still counting apart from ``canonical`` (what ``merge-ids`` would merge)."""
        return [name for name in self.ids if name != self.canonical and name not in self.merged]


@dataclass
class IdReport:
    groups: list[VariantGroup]
    refused: list[tuple[str, str]]
    """(recorded id, why it reads as no id: nothing visible is left of it)."""

    @property
    def pending(self) -> list[VariantGroup]:
        """The groups with variants still counting apart."""
        return [group for group in self.groups if group.pending]


def counting_apart(conn: Connection) -> dict[str, list[str]]:
    """Canonical id -> the recorded ids reading as it that still count apart from it (not merged): what
    ``baygate db upgrade`` warns of. Reads the distinct recorded ids and the aliases only."""
    merged = aliases.all_aliases(conn) if aliases.kept(conn) else {}
    found: dict[str, list[str]] = defaultdict(list)
    for (recorded,) in conn.execute(_IDS):
        try:
            canonical, _why = aliases.reads_as(str(recorded))
        except ValueError:
            continue
        if str(recorded) != canonical and str(recorded) not in merged:
            found[canonical].append(str(recorded))
    return {canonical: sorted(ids) for canonical, ids in sorted(found.items())}


def counting_apart_note(conn: Connection) -> str | None:
    """What ``db upgrade`` and ``audit verify`` say when recorded ids still count apart (None: none do)."""
    apart = counting_apart(conn)
    if not apart:
        return None
    variants = sum(len(ids) for ids in apart.values())
    return (f"{variants} recorded exporter id(s) read as another id of {len(apart)} exporter(s) and still count "
            "apart from it (recorded before ids were canonicalised): `baygate ledger merge-ids --dry-run` lists "
            "them and the decisions whose counts change; `baygate ledger merge-ids` merges them (docs/request.md, "
            "Parties)")


def report(conn: Connection) -> IdReport:
    """Every group of recorded ids reading as one id (with one that is not the id itself), merged or not."""
    by_canonical: dict[str, list[str]] = defaultdict(list)
    notes: dict[str, str] = {}
    refused: list[tuple[str, str]] = []
    for (recorded,) in conn.execute(_IDS):
        try:
            canonical, why = aliases.reads_as(str(recorded))
        except ValueError as exc:
            refused.append((str(recorded), str(exc)))
            continue
        by_canonical[canonical].append(str(recorded))
        if why is not None:
            notes[str(recorded)] = why
    merged = aliases.all_aliases(conn) if aliases.kept(conn) else {}
    groups = []
    for canonical, ids in sorted(by_canonical.items()):
        if len(ids) > 1 or ids[0] != canonical:
            group = _group(conn, canonical, sorted(ids))
            group.merged = {name: seq for name, (owner, seq) in merged.items() if owner == canonical and name in ids}
            group.notes = {name: notes[name] for name in ids if name in notes}
            groups.append(group)
    return IdReport(groups, sorted(refused))


def _group(conn: Connection, canonical: str, ids: list[str]) -> VariantGroup:
    group = VariantGroup(canonical, ids)
    rows = conn.execute(_OF, {"ids": ids}).all()
    group.transfers = len(rows)
    references: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        references[str(row.reference)].append((str(row.exporter_id), str(row.decision_id)))
    group.collisions = [(reference, [decision for _id, decision in found])
                        for reference, found in sorted(references.items())
                        if len({recorded for recorded, _d in found}) > 1]
    # The chain's order: at each decision, what the other variants had counted (counted, not withdrawn
    # yet, same year): live sums by (year) and by (year, variant), kept as transfers come and go.
    withdrawals = [(int(row.withdrawn_seq), -1, row) for row in rows if row.withdrawn_seq is not None and row.counted]
    steps = sorted([(int(row.event_seq), 1, row) for row in rows] + withdrawals, key=lambda step: step[0])
    live: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    live_own: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for _seq, sign, row in steps:
        year, own = int(row.year), live_own[(int(row.year), str(row.exporter_id))]
        if sign == 1:
            personal, sensitive = live[year][0] - own[0], live[year][1] - own[1]
            if personal or sensitive:
                group.affected.append(Affected(str(row.decision_id), str(row.reference), str(row.exporter_id),
                                               year, personal, sensitive))
            if not row.counted:
                continue
        for totals in (live[year], own):
            totals[0] += sign * int(row.personal_subjects)
            totals[1] += sign * int(row.sensitive_subjects)
    return group

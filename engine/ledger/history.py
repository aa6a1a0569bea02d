"""The ledger's history, read back for replays, rule diffs and as-of evaluation (DESIGN sections 1, 3, 4).

Two things are read here and nowhere else:

- **The counts each recorded transfer was decided with.** The decision records only this year's
  ``counts.*_before``; the 2022-2024 regime also reads last year's counts and a named ``population``
  reads the largest figure sent earlier this year. So the prior is rebuilt from the ledger itself,
  walking submissions and withdrawals in audit-chain order (``event_seq``, ``withdrawn_seq``) and
  summing exactly what ``Counting.prior`` summed at that moment: counted transfers of the exporter,
  this year and last, not withdrawn before it, each withdrawal taking away what its event says it
  released (less than the transfer had added when a later transfer of the same population relied on
  its figure: ``engine.ledger.totals.released_by``), and each recount event (revision 0005) changing
  the sums as it recorded, and each id-merge event (``engine.ledger.aliases``) making the ids it
  merged count as one from its position on, with the totals it wrote. Submissions of one exporter are serialised (DESIGN
  section 5), so chain order is the order in which their counts were read. Replays check the rebuilt
  figure against the recorded ``counts.*_before``, so a rebuilt prior that drifted would be reported.
  The walk is a stream (one snapshot, rows read as they are needed) and each exporter-year's counts
  are carried from one event to the next (``engine.ledger.priors``): time linear in the ledger, memory
  bounded whatever its size. A decision an amendment replaced (``engine.ledger.amendments``) reads as a
  transfer that went out of force at the amendment: its release, then the new decision, at the
  amendment's position; both are re-decided.
- **Which pack versions were in use when.** A pack's text is stored by digest, with an audit event,
  the first time the pack is used (a submission, a service start or a reload); ``first_used_at`` is
  therefore the moment that version came into use. Every change of the whole set in service is also
  recorded (``pack_sets``, revision 0002), which is what follows a rollback to an older version or a
  removed pack; ledgers written before that revision fall back on first use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, select, text

from engine.facts import PriorCounts
from engine.ledger import amendments, database, priors, records, totals
from engine.ledger.schema import pack_sets, packs, replaced_decisions, transfers
from engine.ledger.store import Ledger


@dataclass(frozen=True)
class StoredPack:
    """A pack version stored in the ledger (its text is read separately: it can be large)."""

    digest: str
    name: str
    version: str
    file: str
    first_used_at: str

    @property
    def first_used_day(self) -> dt.date:
        """The UTC day this version came into use (``first_used_at`` is an ISO UTC timestamp)."""
        return dt.datetime.fromisoformat(self.first_used_at).astimezone(dt.UTC).date()


@dataclass(frozen=True)
class RecordedDecision:
    """One recorded transfer as stored (request and decision JSON exactly as in the database) and the
    prior counts the ledger held for its exporter when it was decided."""

    decision_id: str
    exporter_id: str
    reference: str
    request: dict[str, Any]
    decision: dict[str, Any]
    recorded_at: str
    event_seq: int
    withdrawn: bool
    prior: PriorCounts
    counted_by_earlier_rules: bool = False
    """Recorded before revision 0005, naming a population: its tally took one figure per population for
    both tallies, so re-deciding it by the current rules may count it differently."""
    unreadable: str | None = None
    """Why its stored texts cannot be read (an edited record or dictionary); ``request`` and
    ``decision`` are then empty. Its counts are still carried: they are columns of its row."""


def stored_packs(ledger: Ledger) -> list[StoredPack]:
    """Every stored pack version, oldest first."""
    query = select(packs.c.digest, packs.c.name, packs.c.version, packs.c.file, packs.c.first_used_at)
    with ledger.sql_engine.connect() as conn:
        rows = conn.execute(query.order_by(packs.c.event_seq)).all()
    return [StoredPack(r.digest, r.name, r.version, r.file, r.first_used_at) for r in rows]


@dataclass(frozen=True)
class PackSetInService:
    """A pack set put in service at ``started_at``: the set in use until the next one."""

    started_at: str
    members: dict[str, str]
    """Pack name -> digest."""

    @property
    def started_day(self) -> dt.date:
        return dt.datetime.fromisoformat(self.started_at).astimezone(dt.UTC).date()


def pack_sets_in_service(ledger: Ledger) -> list[PackSetInService]:
    """Every pack set put in service, oldest first (empty for ledgers written before revision 0002)."""
    with ledger.sql_engine.connect() as conn:
        rows = conn.execute(select(pack_sets.c.started_at, pack_sets.c.members).order_by(pack_sets.c.seq)).all()
    return [PackSetInService(r.started_at, {name: digest for name, digest in json.loads(r.members)}) for r in rows]


@dataclass(frozen=True)
class Walk:
    """Which recorded transfers a walk re-decides (all by default), in chain order:

    - ``exporter``: one exporter's transfers (read by exporter, in chain order);
    - ``since``: those recorded on or after that day (UTC), the counts before it rebuilt from the
      database as they stood (reading only the exporter-years met);
    - ``worker`` of ``workers``: the exporters one of N processes takes (:func:`partition`), so that N
      processes together re-decide each transfer once, each carrying its own exporters' counts.
    """

    exporter: str | None = None
    since: dt.date | None = None
    start_seq: int = 0
    """Carry on from this position of the chain (a walk resumed in a fresh process)."""
    worker: int = 0
    workers: int = 1
    assigned: Mapping[str, int] = field(default_factory=dict)
    """Exporter -> worker for the heaviest exporters (balanced by their transfers); the others by hash."""

    def mine(self, exporter_id: str) -> bool:
        if self.workers <= 1:
            return True
        return self.assigned.get(exporter_id, _hashed(exporter_id) % self.workers) == self.worker


def _hashed(exporter_id: str) -> int:
    return int.from_bytes(hashlib.sha256(exporter_id.encode("utf-8")).digest()[:8], "big")


_PER_EXPORTER = text("SELECT exporter_id, COUNT(*) FROM transfers GROUP BY exporter_id "
                     "ORDER BY COUNT(*) DESC LIMIT :n")


def partition(ledger: Ledger, workers: int, heaviest: int = 10_000) -> dict[str, int]:
    """Assign the ``heaviest`` exporters to ``workers`` processes, each to the one with the fewest
    transfers so far, largest first (the others go by hash: there are many and they are small). One
    exporter's transfers are never split: its counts are carried in one process."""
    loads = [0] * workers
    assigned: dict[str, int] = {}
    with ledger.sql_engine.connect() as conn:
        owners = priors.Owners(priors.merges(conn))  # ids merged into one exporter go with it
        heaviest_owners: dict[str, int] = {}
        for exporter_id, count in conn.execute(_PER_EXPORTER, {"n": heaviest}):
            owner = owners.final(str(exporter_id))
            heaviest_owners[owner] = heaviest_owners.get(owner, 0) + int(count)
    for owner, count in sorted(heaviest_owners.items(), key=lambda item: (-item[1], item[0])):
        least = loads.index(min(loads))
        assigned[owner] = least
        loads[least] += count
    return assigned


_SUBMITTED = select(transfers).order_by(transfers.c.event_seq)
_REPLACED = select(replaced_decisions).order_by(replaced_decisions.c.event_seq)
_WITHDRAWN = text(
    "SELECT t.decision_id, t.exporter_id, t.year, t.counted, t.personal_subjects, t.sensitive_subjects, "
    "t.withdrawn_seq, e.body FROM transfers t JOIN events e ON e.seq = t.withdrawn_seq "
    "WHERE t.withdrawn_at IS NOT NULL AND t.withdrawn_seq >= :from_seq ORDER BY t.withdrawn_seq")
# A decision an amendment replaced goes out of force at the amendment, which says what it released.
_AMENDED = text(
    "SELECT r.decision_id, r.exporter_id, r.year, r.counted, r.personal_subjects, r.sensitive_subjects, "
    "r.replaced_seq AS withdrawn_seq, r.populations, e.body FROM replaced_decisions r "
    "JOIN events e ON e.seq = r.replaced_seq WHERE r.replaced_seq >= :from_seq ORDER BY r.replaced_seq")
_FIRST_SINCE = text("SELECT MIN(event_seq) FROM transfers WHERE recorded_at >= :since")
_FIRST_REPLACED_SINCE = text("SELECT MIN(event_seq) FROM replaced_decisions WHERE recorded_at >= :since")
_EVENT_BODY = text("SELECT body FROM events WHERE seq = :s")
_STREAMED = {"stream_results": True, "yield_per": 500}


def recorded_decisions(ledger: Ledger, only: Iterable[str] | None = None,
                       walk: Walk | None = None) -> Iterator[RecordedDecision]:
    """Recorded transfers in chain order, each with the prior counts its exporter had when it was
    decided (``engine.ledger.priors``), read as a stream: memory does not grow with the ledger.

    ``only``: just these decision ids (each rebuilt from the rows of its exporter-year before it:
    a replay of one transfer reads only what it needs). Otherwise ``walk`` says which (all by default).
    The walk reads one snapshot of the database (PostgreSQL: repeatable read)."""
    with ledger.sql_engine.connect() as conn:
        if database.is_postgres(conn):
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if only is not None:
                yield from _by_id(conn, list(only))
            else:
                yield from _walk(conn, walk or Walk())


def _by_id(conn: Connection, decision_ids: list[str]) -> Iterator[RecordedDecision]:
    recounted = priors.recounts(conn)
    owners = priors.Owners(priors.merges(conn))
    reader = records.DictionaryReader(conn)
    kept = amendments.kept(conn)
    for decision_id in decision_ids:
        row = conn.execute(select(transfers).where(transfers.c.decision_id == decision_id)).first()
        if row is None and kept:  # a decision an amendment replaced is re-decided as any other
            found = conn.execute(select(replaced_decisions).where(
                replaced_decisions.c.decision_id == decision_id)).first()
            row = None if found is None else _out_of_force(found)
        if row is None:
            continue
        tracker = priors.PriorTracker(conn, from_start=False, recounted=recounted, owners=owners)
        yield _recorded(conn, row, reader, tracker)


def _out_of_force(row: Any) -> Any:
    """A decision an amendment replaced, read as a transfer that went out of force at the amendment
    (``amendments.replaced_rows``): ``withdrawn_at``/``withdrawn_seq`` are the amendment's."""
    return SimpleNamespace(**{**row._mapping, "withdrawn_at": row.replaced_at, "withdrawn_seq": row.replaced_seq})


def _first_since(conn: Connection, since: dt.date, kept: bool) -> int | None:
    """The position of the first decision recorded on or after ``since`` (in force or replaced)."""
    found = [conn.execute(query, {"since": since.isoformat()}).scalar()
             for query in ((_FIRST_SINCE, _FIRST_REPLACED_SINCE) if kept else (_FIRST_SINCE,))]
    positions = [int(seq) for seq in found if seq is not None]
    return min(positions) if positions else None


RELEASE, SUBMISSION, RECOUNT, MERGE = 0, 1, 2, 3
"""The kinds of step of a walk. At one position a release comes before a submission: an amendment's
replaced decision goes out of force before its new decision is counted (nothing else shares a position)."""


def _walk(conn: Connection, walk: Walk) -> Iterator[RecordedDecision]:
    recounted = priors.recounts(conn)
    kept = amendments.kept(conn)
    from_seq = walk.start_seq
    if walk.since is not None:
        first = _first_since(conn, walk.since, kept)
        if first is None:
            return
        from_seq = max(from_seq, first)
    owners = priors.Owners(priors.merges(conn))
    tracker = priors.PriorTracker(conn, from_start=from_seq == 0, recounted=recounted, owners=owners)
    reader = records.DictionaryReader(conn)
    # An exporter is followed with every id merged into it (engine.ledger.aliases), in one process.
    wanted = None if walk.exporter is None else owners.final(walk.exporter)

    def followed(exporter_id: str) -> bool:
        owner = owners.final(exporter_id)
        return (wanted is None or owner == wanted) and walk.mine(owner)

    released = [conn.execute(_WITHDRAWN.execution_options(**_STREAMED), {"from_seq": from_seq})]
    if kept:
        released.append(conn.execute(_AMENDED.execution_options(**_STREAMED), {"from_seq": from_seq}))
    steps = heapq.merge(
        ((int(row.event_seq), SUBMISSION, row) for row in _submitted(
            conn, None if wanted is None else owners.members(wanted), from_seq, kept)),
        ((int(row.withdrawn_seq), RELEASE, row) for row in
         heapq.merge(*released, key=lambda row: int(row.withdrawn_seq))),
        ((recount.seq, RECOUNT, recount) for recount in recounted if recount.seq >= from_seq),
        ((merge.seq, MERGE, merge) for merge in owners.merges if merge.seq >= from_seq),
        key=lambda step: (step[0], step[1]))
    since = walk.since.isoformat() if walk.since is not None else ""
    for seq, kind, found in steps:
        if kind == RECOUNT:
            if followed(found.exporter_id):
                tracker.recounted(found)
        elif kind == MERGE:
            if followed(found.canonical):
                tracker.merged(found)
        elif not followed(str(found.exporter_id)):
            continue
        elif kind == RELEASE:
            tracker.withdrawn(found, seq, priors.released_amounts(
                found.body, (int(found.personal_subjects), int(found.sensitive_subjects))))
        elif str(found.recorded_at) >= since:
            yield _recorded(conn, found, reader, tracker)
        else:  # recorded before the day asked, after the first one recorded on it: counts only
            tracker.submitted(found, True)


def _submitted(conn: Connection, exporters: list[str] | None, from_seq: int, kept: bool) -> Iterator[Any]:
    """The transfer rows in chain order from ``from_seq``: all of them (``ix_transfers_event_seq``), or
    one exporter's, recorded under any of ``exporters`` (``ix_transfers_exporter_seq``); with the decisions
    amendments replaced where they were recorded (``kept``: the ledger has them, revision 0010)."""
    query = _SUBMITTED.where(transfers.c.event_seq >= from_seq)
    replaced = _REPLACED.where(replaced_decisions.c.event_seq >= from_seq)
    if exporters is not None:
        query = query.where(transfers.c.exporter_id.in_(exporters))
        replaced = replaced.where(replaced_decisions.c.exporter_id.in_(exporters))
    in_force = conn.execute(query.execution_options(**_STREAMED))
    if not kept:
        yield from in_force
        return
    out_of_force = (_out_of_force(row) for row in conn.execute(replaced.execution_options(**_STREAMED)))
    yield from heapq.merge(in_force, out_of_force, key=lambda row: int(row.event_seq))


def _recorded(conn: Connection, row: Any, reader: records.DictionaryReader,
              tracker: priors.PriorTracker) -> RecordedDecision:
    """A transfer row as re-decided: its texts, the prior its exporter had, then its counts carried on."""
    prior = tracker.prior(str(row.exporter_id), int(row.year), int(row.event_seq))
    try:
        request_json, decision_json = reader.texts(row)
        request, decision = json.loads(request_json), json.loads(decision_json)
    except ValueError as exc:
        tracker.submitted(row, True)
        return RecordedDecision(row.decision_id, row.exporter_id, row.reference, {}, {}, row.recorded_at,
                                int(row.event_seq), row.withdrawn_at is not None, prior, unreadable=str(exc))
    naming = totals.names_a_population(request_json)
    tracker.submitted(row, naming)
    return RecordedDecision(
        decision_id=row.decision_id, exporter_id=row.exporter_id, reference=row.reference,
        request=request, decision=decision, recorded_at=row.recorded_at,
        event_seq=int(row.event_seq), withdrawn=row.withdrawn_at is not None, prior=prior,
        counted_by_earlier_rules=naming and _listed_before_0005(conn, int(row.event_seq)))


def _listed_before_0005(conn: Connection, seq: int) -> bool:
    """Whether a submission event was written before revision 0005: it lists no ``sensitive_populations``
    (every event since does)."""
    body = conn.execute(_EVENT_BODY, {"s": seq}).scalar()
    return body is not None and '"sensitive_populations"' not in str(body)


def walk_size(ledger: Ledger, walk: Walk) -> int:
    """How many transfers a walk re-decides (all its workers together): for progress, from the indexes."""
    with ledger.sql_engine.connect() as conn:
        kept = amendments.kept(conn)
        from_seq = walk.start_seq
        if walk.since is not None:
            first = _first_since(conn, walk.since, kept)
            if first is None:
                return 0
            from_seq = max(from_seq, first)
        size = 0
        owners = priors.Owners(priors.merges(conn))
        recorded = [None] if walk.exporter is None else owners.members(owners.final(walk.exporter))
        for exporter in recorded:  # an exporter's transfers under every id merged into it
            for table in ("transfers", "replaced_decisions") if kept else ("transfers",):
                query = text(f"SELECT COUNT(*) FROM {table} WHERE event_seq >= :s" +
                             (" AND exporter_id = :e" if exporter is not None else ""))
                size += int(conn.execute(query, {"s": from_seq, "e": exporter}).scalar() or 0)
        return size

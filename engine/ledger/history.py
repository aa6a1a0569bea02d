"""The ledger's history, read back for replays, rule diffs and as-of evaluation (DESIGN sections 1, 3, 4).

Two things are read here and nowhere else:

- **The counts each recorded transfer was decided with.** The decision records only this year's
  ``counts.*_before``; the 2022-2024 regime also reads last year's counts and a named ``population``
  reads the largest figure sent earlier this year. So the prior is rebuilt from the ledger itself,
  walking submissions and withdrawals in audit-chain order (``event_seq``, ``withdrawn_seq``) and
  summing exactly what ``Ledger._prior`` summed at that moment: counted transfers of the exporter,
  this year and last, not withdrawn before it, each withdrawal taking away what its event says it
  released (less than the transfer had added when a later transfer of the same population relied on
  its figure: ``engine.ledger.totals.released_by``), and each recount event (revision 0005) changing
  the sums as it recorded. Submissions of one exporter are serialised (DESIGN
  section 5), so chain order is the order in which their counts were read. Replays check the rebuilt
  figure against the recorded ``counts.*_before``, so a rebuilt prior that drifted would be reported.
- **Which pack versions were in use when.** A pack's text is stored by digest, with an audit event,
  the first time the pack is used (a submission, a service start or a reload); ``first_used_at`` is
  therefore the moment that version came into use. Every change of the whole set in service is also
  recorded (``pack_sets``, revision 0002), which is what follows a rollback to an older version or a
  removed pack; ledgers written before that revision fall back on first use.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, select

from engine.facts import PriorCounts
from engine.ledger import amendments, totals
from engine.ledger.schema import events, pack_sets, packs, transfer_populations, transfers
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


def recorded_decisions(ledger: Ledger, only: Iterable[str] | None = None) -> list[RecordedDecision]:
    """Recorded transfers in chain order, each with its rebuilt prior; ``only`` keeps the given decision
    ids (the walk still covers every transfer: earlier ones make the counts)."""
    wanted = set(only) if only is not None else None
    with ledger.sql_engine.connect() as conn:
        # A decision an amendment replaced reads as a transfer that went out of force at the amendment
        # (engine.ledger.amendments): its release, then the new decision, at the amendment's position.
        replaced = amendments.replaced_rows(conn) if amendments.kept(conn) else []
        rows = sorted([*conn.execute(select(transfers)).all(), *replaced], key=lambda row: int(row.event_seq))
        populations: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
        # A ledger read as it stands may predate revision 0005: its figures served both tallies, and are
        # read as the non-sensitive tally's (replays only: counting refuses such a ledger until upgraded).
        tally = transfer_populations.c.tally if totals.kept(conn) else literal("personal")
        for decision_id, population, tally_name, subjects in conn.execute(select(
                transfer_populations.c.decision_id, transfer_populations.c.population, tally,
                transfer_populations.c.subjects)):
            populations[decision_id][(population, tally_name)] = int(subjects)
        for row in replaced:
            populations[row.decision_id] = {(name, tally_name): subjects for tally_name, named
                                            in amendments.figures_of(row).items() for name, subjects in named.items()}
        released: dict[str, tuple[int, int]] = {}
        recounts: list[tuple[int, int, Any]] = []
        for seq, kind, body in conn.execute(select(events.c.seq, events.c.kind, events.c.body).where(
                events.c.kind.in_(("withdrawal", "recount", "amendment")))):
            event = json.loads(body)
            data = event["data"]
            if kind in ("withdrawal", "amendment"):
                released[event["subject"] if kind == "withdrawal" else data["replaces"]] = (
                    int(data["released_personal_subjects"]), int(data["released_sensitive_subjects"]))
            else:
                recounts.append((int(seq), 2, data))
        earlier_rules = _counted_by_earlier_rules(conn, rows)
    # Submissions, withdrawals and recounts in chain order: (seq, 0 = submit / 1 = withdraw / 2 = recount,
    # the transfer row or the recount's data).
    steps: list[tuple[int, int, Any]] = [(int(r.event_seq), 0, r) for r in rows]
    steps += [(int(r.withdrawn_seq), 1, r) for r in rows if r.withdrawn_seq is not None]
    steps += recounts
    # At one position, a release before a submission: an amendment's replaced decision goes out of force
    # before its new decision is counted (nothing else shares a position).
    steps.sort(key=lambda step: (step[0], step[1] != 1, step[1]))
    sums: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    live: dict[tuple[str, int], dict[str, dict[tuple[str, str], int]]] = defaultdict(dict)  # counted, not withdrawn
    found: list[RecordedDecision] = []
    for _seq, kind, row in steps:
        if kind == 2:  # the counting rules changed (revision 0005): the sums as they were recounted
            recounted = sums[(str(row["exporter"]), int(row["year"]))]
            recounted[0] += int(row["personal_subjects_change"])
            recounted[1] += int(row["sensitive_subjects_change"])
            continue
        key = (row.exporter_id, int(row.year))
        if kind == 1:
            if row.counted:
                personal, sensitive = released.get(row.decision_id,
                                                   (int(row.personal_subjects), int(row.sensitive_subjects)))
                sums[key][0] -= personal
                sums[key][1] -= sensitive
                live[key].pop(row.decision_id, None)
            continue
        if wanted is None or row.decision_id in wanted:
            last = sums.get((row.exporter_id, int(row.year) - 1), [0, 0])
            largest: dict[str, dict[str, int]] = {"personal": {}, "sensitive": {}}
            for figures in live[key].values():
                for (name, tally_name), subjects in figures.items():
                    in_tally = largest[tally_name]
                    in_tally[name] = max(in_tally.get(name, 0), subjects)
            prior = PriorCounts(personal_subjects=sums[key][0], sensitive_subjects=sums[key][1],
                                previous_year_personal_subjects=last[0],
                                previous_year_sensitive_subjects=last[1], populations=largest["personal"],
                                sensitive_populations=largest["sensitive"])
            found.append(RecordedDecision(
                decision_id=row.decision_id, exporter_id=row.exporter_id, reference=row.reference,
                request=json.loads(row.request_json), decision=json.loads(row.decision_json),
                recorded_at=row.recorded_at, event_seq=int(row.event_seq),
                withdrawn=row.withdrawn_at is not None, prior=prior,
                counted_by_earlier_rules=row.decision_id in earlier_rules))
        if row.counted:
            sums[key][0] += int(row.personal_subjects)
            sums[key][1] += int(row.sensitive_subjects)
            live[key][row.decision_id] = populations.get(row.decision_id, {})
    return found


def _counted_by_earlier_rules(conn: Any, rows: Sequence[Any]) -> set[str]:
    """The transfers naming a population whose submission events were written before revision 0005:
    they list no ``sensitive_populations`` (every event since does)."""
    naming = {int(row.event_seq): row.decision_id for row in rows if totals.names_a_population(row.request_json)}
    found: set[str] = set()
    seqs = sorted(naming)
    for start in range(0, len(seqs), 500):
        chunk = select(events.c.seq, events.c.body).where(events.c.seq.in_(seqs[start:start + 500]))
        for seq, body in conn.execute(chunk):
            if '"sensitive_populations"' not in body:
                found.add(naming[int(seq)])
    return found

"""Amending a recorded transfer (issue 22 point 7): decide it afresh and record the new decision in
place of the old one, in one transaction (what is stored where: ``engine.ledger.amendments``).

The transaction, under the exporter's lock and then the chain-head lock, as a withdrawal takes them:

1. the transfer in force under the id or reference (a withdrawn one is refused, 409), and the check
   that only safeguards and the planned date differ (else ``NotAnAmendment``, 422);
2. the replaced decision's contribution taken out of the running totals exactly as a withdrawal
   takes it (``totals.released_by``, ``totals.release``): the counts are now what they would be had
   it never been recorded;
3. the amended request decided on those counts (the packs in service), and its tally;
4. one ``amendment`` event: the new row as a submission event hashes it, the decision it replaces and
   what that one released, with the actor and reason; signed like every head (``chain_keys.prepare``);
5. the old row moved to ``replaced_decisions`` (with its population figures), the new row, its
   population figures and its addition to the running totals written.

So the counts follow the latest decision: a conditional transfer amended to permitted starts counting
at the amendment; a permitted one amended to conditional stops. The same amended request again
records nothing (``unchanged``): a retried call is safe.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update

from engine.evaluator import Engine
from engine.facts import tally_for
from engine.ledger import aliases, amendments, audit, chain_keys, records, sealed_totals, totals
from engine.ledger.actors import Actor, local_user
from engine.ledger.audit import canonical, sha256
from engine.ledger.recording import request_canonical
from engine.ledger.schema import dated_items, replaced_decisions, transfer_populations, transfers
from engine.ledger.store import Ledger
from engine.models import Decision, TransferRequest, read_stored_request


@dataclass(frozen=True)
class AmendResult:
    """An amendment: the new decision, the one it replaced, and how the counts moved."""

    decision: Decision
    replaces: str
    """The decision id it replaced (for ``unchanged``: the decision in force, which it is)."""
    replaced_outcome: str
    amended_at: str
    unchanged: bool
    """The amended request is the one in force already: nothing was recorded."""
    counted: bool
    released_personal_subjects: int
    released_sensitive_subjects: int
    counted_personal_subjects: int
    counted_sensitive_subjects: int

    def as_dict(self) -> dict[str, Any]:
        return {"decision_id": self.decision.decision_id, "reference": self.decision.reference,
                "outcome": self.decision.outcome, "replaces": self.replaces,
                "replaced_outcome": self.replaced_outcome, "amended_at": self.amended_at,
                "unchanged": self.unchanged, "counted": self.counted,
                "released_personal_subjects": self.released_personal_subjects,
                "released_sensitive_subjects": self.released_sensitive_subjects,
                "counted_personal_subjects": self.counted_personal_subjects,
                "counted_sensitive_subjects": self.counted_sensitive_subjects}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def amend(ledger: Ledger, engine: Engine, id_or_reference: str, request: TransferRequest,
          exporter_id: str | None = None, actor: Actor | None = None) -> AmendResult:
    """Replace the decision of the transfer in force under ``id_or_reference`` (a decision id of any of
    its versions, or its reference) with ``request`` decided afresh; see the module's docstring."""
    actor = actor or local_user()
    ledger.store_packs(engine, actor)  # the packs deciding it are stored (and in service) before it
    amended_json = request_canonical(request)
    amended = json.loads(amended_json)
    with ledger.transaction() as conn:
        found = ledger.find_in(conn, id_or_reference, exporter_id)
        # The exporter whose totals count the transfer: its canonical id once merged (engine.ledger.aliases).
        owner = aliases.lock_owner(conn, found.exporter_id)
        old = conn.execute(select(transfers).where(transfers.c.decision_id == found.decision_id)).one()
        if old.withdrawn_at is not None:
            raise amendments.AmendWithdrawn(
                f"transfer {old.reference!r} (decision {old.decision_id}) was withdrawn at {old.withdrawn_at}: a "
                "withdrawn transfer cannot be amended; submit it under a new reference to record it anew")
        reader = records.DictionaryReader(conn)
        old_request_json, old_decision_json = reader.texts(old)  # compact or as columns (revision 0011)
        # Compared as the same request sent today would read: a transfer recorded before party ids were
        # canonicalised ('abc ') is amended by a request naming its exporter as it is written now ('ABC').
        as_now = aliases.as_requested_now(old_request_json)
        recorded = (json.loads(as_now) if as_now is not None
                    else read_stored_request(json.loads(old_request_json)).model_dump(mode="json"))
        amendments.check_amendable(recorded, amended)
        if old_request_json == amended_json:
            return AmendResult(Decision.model_validate(json.loads(old_decision_json)), old.decision_id, old.outcome,
                               old.recorded_at, True, bool(old.counted), 0, 0, int(old.personal_subjects),
                               int(old.sensitive_subjects))
        now = _now()
        audit.lock_chain(conn)  # after the exporter's lock, as every transaction takes them
        chain_keys.prepare(conn, ledger.appender(conn), ledger.signer, chain_keys.latest_key(conn), actor, now)
        released = totals.released_by(conn, old, reader.texts) if old.counted else (0, 0)
        old_figures: dict[str, dict[str, int]] = {}
        for population, tally, subjects in conn.execute(select(
                transfer_populations.c.population, transfer_populations.c.tally, transfer_populations.c.subjects)
                .where(transfer_populations.c.decision_id == old.decision_id)):
            old_figures.setdefault(str(tally), {})[str(population)] = int(subjects)
        # Out of force first (as a withdrawal marks it), so that the totals and the counts read below
        # are what they would be had it never been recorded.
        conn.execute(update(transfers).where(transfers.c.decision_id == old.decision_id).values(withdrawn_at=now))
        if old.counted:
            totals.release(conn, ledger.totals_key, old, *released)
        year = request.planned_date.year
        # The totals read (and their seals checked) once, under the exporter's lock: the counts decided on,
        # and the state the new decision's addition is written over (sealed_totals.write).
        states = sealed_totals.read(conn, ledger.totals_key, [owner], [year - 1, year])
        prior = sealed_totals.prior_counts(states, owner, year)
        decision = engine.evaluate(request, prior)
        tally = tally_for(request, prior, engine.options, decision.counts.collected_abroad_uncounted)
        counted = decision.outcome == "permitted" and decision.counts.counted
        decision_json = canonical(decision.model_dump(mode="json"))
        row = {
            "decision_id": decision.decision_id, "exporter_id": old.exporter_id, "reference": old.reference,
            "request_sha256": sha256(amended_json), "request_json": amended_json,
            "decision_json": decision_json, "outcome": decision.outcome,
            "year": year, "counted": counted,
            "personal_subjects": tally.personal_subjects if counted else 0,
            "sensitive_subjects": tally.sensitive_subjects if counted else 0,
            "rules_digest": decision.rules.digest, "recorded_at": now, "recorded_by": actor.name,
        }
        figures = {"personal": tally.populations, "sensitive": tally.sensitive_populations} if counted else {}
        data = {**audit.submission_data(_Row(row), figures), "replaces": old.decision_id,
                "released_personal_subjects": released[0], "released_sensitive_subjects": released[1],
                "reason": actor.reason}
        seq = audit.append_event(conn, "amendment", decision.decision_id, now, data, ledger.signer)
        _move_out(conn, old, old_figures, decision.decision_id, now, seq)
        # Stored as every transfer since revision 0011: the texts in the compact record, the columns empty
        # (the event above hashed the texts themselves).
        record = ledger.compact_record(conn, amended_json, decision, decision_json)
        conn.execute(insert(transfers).values(**{**row, "request_json": "", "decision_json": ""}, event_seq=seq,
                                              record=record))
        population_rows = [{"decision_id": decision.decision_id, "population": name, "tally": tally_name,
                            "subjects": subjects, "exporter_id": old.exporter_id, "year": year}
                           for tally_name, named in figures.items() for name, subjects in sorted(named.items())]
        if population_rows:
            conn.execute(insert(transfer_populations), population_rows)
        totals.add(conn, ledger.totals_key, states, [{**row, "exporter_id": owner}], population_rows)
    return AmendResult(decision, old.decision_id, old.outcome, now, False, counted, released[0], released[1],
                       row["personal_subjects"], row["sensitive_subjects"])


class _Row:
    """A transfer row being written, read by attribute as ``audit.submission_data`` reads rows."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _move_out(conn: Any, old: Any, figures: dict[str, dict[str, int]], replaced_by: str, now: str, seq: int) -> None:
    """The replaced row into ``replaced_decisions`` as it was recorded, then out of ``transfers`` (its
    population rows and dated items first: they refer to it)."""
    kept = {column.name: getattr(old, column.name) for column in transfers.columns
            if column.name not in ("withdrawn_at", "withdrawn_seq")}
    conn.execute(insert(replaced_decisions).values(
        **kept, populations=canonical({tally: dict(sorted(named.items())) for tally, named in sorted(figures.items())}),
        replaced_by=replaced_by, replaced_at=now, replaced_seq=seq))
    conn.execute(delete(transfer_populations).where(transfer_populations.c.decision_id == old.decision_id))
    conn.execute(delete(dated_items).where(dated_items.c.decision_id == old.decision_id))
    conn.execute(delete(transfers).where(transfers.c.decision_id == old.decision_id))

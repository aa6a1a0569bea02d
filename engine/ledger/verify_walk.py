"""The walk of ``audit verify``: the events in seq order, each hashed with the one before it and checked
by its kind (submissions, amendments, withdrawals, recounts, packs, pack sets, signing keys, id merges)
against the rows it accounts for, which come beside it as ordered streams (``engine.ledger.verify_rows``;
the rows' checks in ``engine.ledger.verify_events``), the totals tallied as it goes
(``engine.ledger.chain_tally``). It stops at the first problem; rows no event accounts for are reported
after the chain. ``engine.ledger.verify`` turns what it finds into verify's answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from engine.ledger import aliases, amendments, audit, records
from engine.ledger.audit import GENESIS, AuditResult, chain_hash
from engine.ledger.chain_tally import ChainTally
from engine.ledger.schema import chain_head, chain_signing_keys, events, exporter_id_aliases, pack_sets, packs
from engine.ledger.verify_events import Deferred, amended_row, submission_checked
from engine.ledger.verify_rows import (
    AMENDED,
    IN_FORCE_AND_REPLACED,
    STREAMED,
    WITHDRAWN,
    Located,
    one_replaced,
    one_transfer,
    recorded,
)

Progress = Callable[[int], None]
"""Told the number of events checked so far, every PROGRESS_EVERY events."""
PROGRESS_EVERY = 5_000


def walk(connection: Connection, progress: Progress | None = None) -> AuditResult | tuple[int, ChainTally]:
    """The chain walked beside the rows: the first problem, or the number of events and their tally."""
    reader = records.DictionaryReader(connection)
    head = connection.execute(select(chain_head.c.seq, chain_head.c.hash).where(chain_head.c.id == 1)).one()
    both = connection.execute(IN_FORCE_AND_REPLACED).scalar()
    if both is not None:
        return AuditResult(False, 0, f"transfer {both}",
                           f"transfer {both} is both in force and replaced by an amendment (edited)")
    submitted = recorded(connection, reader)
    withdrawn_rows = iter(connection.execute(WITHDRAWN.execution_options(**STREAMED)))
    amended_rows = iter(connection.execute(AMENDED.execution_options(**STREAMED)))
    next_submitted, next_withdrawn = next(submitted, None), next(withdrawn_rows, None)
    next_amended = next(amended_rows, None)
    deferred = Deferred()
    seen_packs: set[str] = set()
    recorded_sets = {int(row.event_seq): row for row in connection.execute(select(pack_sets))
                     if row.event_seq is not None}  # changes recorded before revision 0007 have no event
    seen_sets: set[int] = set()
    announced = {int(row.announced_seq): row for row in connection.execute(select(chain_signing_keys))}
    merged_ids = {str(row.variant): row for row in connection.execute(select(exporter_id_aliases))}
    seen_keys: set[int] = set()  # announcements are rare: one per signing key
    tally = ChainTally()
    prev_hash = GENESIS
    count = 0
    for event in connection.execute(select(events).order_by(events.c.seq).execution_options(**STREAMED)):
        count += 1
        seq = int(event.seq)
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)

        def bad(problem: str, seq: int = seq, count: int = count) -> AuditResult:
            return AuditResult(False, count, seq, f"event {seq}: {problem}")

        if seq != count:
            what = "missing (deleted)" if seq > count else "duplicated or inserted"
            return AuditResult(False, count, count if seq > count else seq,
                               f"event {count}: {what}; the chain jumps to seq {seq}")
        if event.prev_hash != prev_hash:
            return bad("does not follow the event before it (an event was deleted, inserted or reordered)")
        if chain_hash(event.prev_hash, event.body) != event.hash:
            return bad("its content does not match its hash (edited)")
        try:
            body = json.loads(event.body)
        except ValueError:
            return bad("its body is not JSON (edited)")
        if body.get("seq") != seq or body.get("kind") != event.kind or body.get("subject") != event.subject:
            return bad("seq, kind or subject differ from the hashed body (edited or reordered)")
        data = body.get("data") or {}
        subject = str(event.subject)
        # Rows whose position the walk has passed without an event of theirs: inserted, or edited.
        while next_submitted is not None and int(next_submitted.row.event_seq) < seq:
            deferred.insert(next_submitted)
            next_submitted = next(submitted, None)
        while next_withdrawn is not None and int(next_withdrawn.withdrawn_seq) < seq:
            deferred.mark(next_withdrawn)
            next_withdrawn = next(withdrawn_rows, None)
        while next_amended is not None and int(next_amended.replaced_seq) < seq:
            deferred.unreplaced(next_amended)
            next_amended = next(amended_rows, None)
        if event.kind in ("submission", "amendment"):
            here: list[Located] = []
            while next_submitted is not None and int(next_submitted.row.event_seq) == seq:
                here.append(next_submitted)
                next_submitted = next(submitted, None)
            located = next((found for found in here if found.row.decision_id == subject), None)
            for other in here:
                if other is not located:
                    deferred.insert(other)
            if located is None:
                located = one_transfer(connection, reader, subject) or one_replaced(connection, reader, subject)
                if located is not None:
                    return bad(f"transfer {subject}: its position in the chain (event_seq) was edited")
            checked = submission_checked(subject, data, located)
            if isinstance(checked, str):
                return bad(checked)
            assert located is not None
            if event.kind == "amendment":  # first the decision it replaced goes out of force
                replaced_here: list[Any] = []
                while next_amended is not None and int(next_amended.replaced_seq) == seq:
                    replaced_here.append(next_amended)
                    next_amended = next(amended_rows, None)
                old = amended_row(connection, data, replaced_here, deferred)
                in_force = {str(old.decision_id)} if old is not None and int(old.event_seq) < seq else set()
                problem = amendments.check_event(seq, str(body.get("at")), data,
                                                 {} if old is None else {str(old.decision_id): old}, in_force)
                if problem:
                    return bad(problem)
                assert old is not None
                tally.withdrawal(old, data)
            if (located.row.withdrawn_at is None) != (located.row.withdrawn_seq is None):
                deferred.mark(located.row)
            tally.submission(located, data, checked)
        elif event.kind == "withdrawal":
            if next_withdrawn is not None and int(next_withdrawn.withdrawn_seq) == seq \
                    and next_withdrawn.decision_id == subject:
                next_withdrawn = next(withdrawn_rows, None)
            found = one_transfer(connection, reader, subject)
            problem = audit.withdrawal_problem(body, found.row if found is not None else None)
            if problem:
                return bad(problem)
            assert found is not None
            if found.row.withdrawn_seq != seq or int(found.row.event_seq) >= seq:
                return bad(f"transfer {subject}: its withdrawal was edited")
            tally.withdrawal(found.row, data)
        elif event.kind == "recount":
            problem = audit.recount_problem(data)
            if problem:
                return bad(problem)
            tally.recount(data)
        elif event.kind == "pack":
            pack = connection.execute(select(packs).where(packs.c.digest == subject)).first()
            problem = audit.pack_problem(subject, data, pack)
            if problem:
                return bad(problem)
            seen_packs.add(subject)
        elif event.kind == "pack_set":
            problem = audit.pack_set_problem(subject, body, recorded_sets.get(seq))
            if problem:
                return bad(problem)
            seen_sets.add(seq)
        elif event.kind == "signing_key":
            problem = audit.signing_key_problem(subject, body, announced.get(seq))
            if problem:
                return bad(problem)
            seen_keys.add(seq)
        elif event.kind == aliases.KIND:  # recorded ids that count as one from here on (engine.ledger.aliases)
            problem = aliases.follow(seq, subject, data, merged_ids, tally)
            if problem:
                return bad(problem)
        else:
            return bad(f"unknown event kind {event.kind!r}")
        prev_hash = event.hash
    for located in ([next_submitted] if next_submitted is not None else []) + list(submitted):
        deferred.insert(located)
    for row in ([next_withdrawn] if next_withdrawn is not None else []) + list(withdrawn_rows):
        deferred.mark(row)
    for row in ([next_amended] if next_amended is not None else []) + list(amended_rows):
        deferred.unreplaced(row)
    if int(head.seq) != count or head.hash != prev_hash:
        return AuditResult(False, count, count + 1 if int(head.seq) > count else int(head.seq),
                           f"the chain ends at event {count} but its head records event {head.seq}: "
                           "the newest events were deleted, or the head was edited")
    if deferred.inserted is not None:
        return AuditResult(False, count, f"transfer {deferred.inserted}",
                           f"transfer {deferred.inserted} has no submission event (inserted)")
    if deferred.unamended is not None:
        return AuditResult(False, count, f"transfer {deferred.unamended}",
                           f"transfer {deferred.unamended} is marked replaced, but no amendment replaced it (edited)")
    if deferred.marked is not None:
        decision_id, row = deferred.marked
        state = "withdrawn" if row.withdrawn_at else "not withdrawn"
        return AuditResult(False, count, int(row.event_seq), f"event {row.event_seq}: transfer {decision_id} is "
                                                             f"marked {state} against the chain (edited)")
    for (digest,) in connection.execute(select(packs.c.digest).order_by(packs.c.digest)):
        if digest not in seen_packs:
            return AuditResult(False, count, f"pack {digest}", f"pack {digest} has no event (inserted)")
    for seq in sorted(set(recorded_sets) - seen_sets):
        return AuditResult(False, count, f"pack set {seq}",
                           f"the pack set change recorded at event {seq} has no pack_set event there (inserted)")
    unmerged = aliases.unaccounted(merged_ids, tally.merged)
    if unmerged is not None:
        return AuditResult(False, count, "exporter id aliases", unmerged)
    for seq in sorted(set(announced) - seen_keys):
        return AuditResult(False, count, f"signing key {seq}",
                           f"the signing key recorded as announced at event {seq} has no signing_key event there "
                           "(inserted)")
    return count, tally

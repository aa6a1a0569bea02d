"""``audit verify`` as a stream: the chain walked in seq order beside the rows it accounts for, with
memory that does not grow with the ledger (issue 21; DESIGN section 9: 10^6 transfers within 2 minutes,
at most 300 MB). This module gives verify's answer (:func:`verify`, :func:`chain_totals`); its parts:

- ``engine.ledger.verify_walk``: the walk over the events, each checked by its kind;
- ``engine.ledger.verify_rows``: the rows beside it, read as ordered streams;
- ``engine.ledger.verify_events``: what a submission's, an amendment's row is checked against, and the
  rows no event accounts for;
- ``engine.ledger.chain_tally``: the totals as the chain accounts for them, and tallied again.

The checks themselves are ``engine.ledger.audit``'s (each event hashed with the one before it, each row
against what its event hashed, the running totals against the chain's arithmetic and the counting
rules), ``amendments.check_event``'s and ``aliases.follow``'s. What the walk adds is how the rows are
read: verify used to load every transfer, population and pack into memory first (16.7 KB a transfer:
16.7 GB at 10^6). Now ordered streams are merged:

- the events, by ``seq`` (their primary key);
- the transfers with their population figures, by ``event_seq`` (``ix_transfers_event_seq``): a
  submission event at seq N is checked against the row whose ``event_seq`` is N;
- the withdrawn transfers (``ix_transfers_withdrawn``), by ``withdrawn_seq``: a withdrawal event at
  seq N against the row withdrawn at N (a row with only one of ``withdrawn_at`` and ``withdrawn_seq`` is
  named from the stream above);
- the decisions amendments replaced (``replaced_decisions``, revision 0010) in two orders: by
  ``event_seq`` beside the transfers (their submission event is checked against them as against any
  row), and by ``replaced_seq`` (``ix_replaced_decisions_replaced_seq``): an ``amendment`` event at seq N
  is checked against the row replaced at N (``amendments.check_event``), then counts as the release of
  that decision followed by the submission of the new one, as ``audit verify`` always did.

A row no event accounts for (a transfer inserted, one marked withdrawn against the chain, a decision
marked replaced that no amendment replaced) is noticed when the walk passes its position, and reported
after the chain, as before, the first by decision id. The chain's totals, and the live transfers
tallied again under the counting rules, are kept per exporter-year (and population) as the events come
(``chain_tally.ChainTally``): memory grows with the exporters and populations, not with the transfers.
Pack texts and pack set changes (few) are read with their events. Once the chain has verified, the
stored totals are compared with the chain's, and the chain's with the tally again (:func:`verify`).
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from engine.ledger import audit, totals
from engine.ledger.audit import AuditResult
from engine.ledger.verify_walk import Progress, walk


def verify(connection: Connection, progress: Progress | None = None) -> AuditResult:
    """Walk the chain in seq order and cross-check the recorded rows; stop at the first problem. Then
    the running totals: against the chain's own arithmetic, and that against the counted transfers
    tallied again under the counting rules. ``progress`` is told how far the walk got."""
    dropped = audit.missing_table(connection)
    if dropped is not None:
        return dropped
    try:
        malformed = audit.sqlite_storage_problem(connection)
        if malformed is not None:
            return malformed
        walked = walk(connection, progress)
    except OperationalError as exc:
        if "decode" not in str(exc):
            raise
        # SQLite keeps any bytes in a text column; the driver cannot read ones that are not UTF-8.
        return AuditResult(False, 0, "text", f"a stored text is not UTF-8, which the ledger never writes (edited): "
                                             f"{str(getattr(exc, 'orig', exc)).splitlines()[0]}")
    if isinstance(walked, AuditResult):
        return walked
    count, tally = walked
    chain = tally.accounted()
    difference = totals.check(connection, chain)
    if difference is None:
        difference = totals.first_difference(tally.retallied(), chain, _RETALLY_WORDING)
    if difference is None:
        return AuditResult(True, count)
    return AuditResult(False, count, f"counts {difference.exporter_id} {difference.year}", difference.problem)


_RETALLY_WORDING = ("the audit chain accounts for", "its counted transfers tallied again under the counting rules",
                    "(the counting rules changed without a recount, or a count was recorded wrong)")


def chain_totals(connection: Connection) -> totals.Totals:
    """The running totals as the audit chain accounts for them (what ``verify`` compares the stored
    totals with). Raises ValueError when the chain itself does not verify."""
    walked = walk(connection)
    if isinstance(walked, AuditResult):
        raise ValueError(walked.problem)
    return walked[1].accounted()

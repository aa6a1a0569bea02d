"""The database side of a group commit (``Recorder.record_group``, engine.ledger.recording): one read
of everything a group needs before its evaluations, one write of everything it recorded after them.

Why this module: on PostgreSQL every statement is a round trip to the server, and the committing thread
must win the GIL back from the client threads after each one, so much of a group's time went into
round trips rather than the server's work: a pool checkout's ping, BEGIN, the exporter locks, the
references, the counts, the chain head ``FOR UPDATE``, the transfer, population and event inserts, the
head update and COMMIT (10-11 a group of 2-3 submissions). With psycopg 3's pipeline mode the
statements of each half are sent together and their results come back together, so a group costs two
round trips: BEGIN with the reads, and the writes with COMMIT (``transaction``; the committer keeps its
connection between groups, so there is no pool ping either: ``LedgerDatabase.group_write``).

Pipelining does not change what the statements see or the order they run in: the server runs them one
after the other, each with its own snapshot under READ COMMITTED, so the reads still run after the
exporter locks are granted and see everything committed before (which one statement could not do: its
snapshot would predate the locks). When a statement fails, the server skips the rest of the pipeline,
the error is raised at its sync, and the transaction is rolled back: nothing is half-written.

The chain head is read ``FOR UPDATE`` with the reads, after the exporter locks (the one lock order of
every ledger transaction), so it is held from the start of the group's evaluations instead of from the
end of the first (one evaluation, 0.3-0.5 ms here, longer than it was held before).

On SQLite the same statements run one after the other: it is in-process, there is no round trip to save.
"""

from __future__ import annotations

import re
import select
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, bindparam, text

from engine.facts import PriorCounts, Tally
from engine.ledger import audit, chain_keys, database, records, sealed_totals, totals
from engine.ledger.schema import chain_head, transfers
from engine.ledger.seal import TotalsKey
from engine.ledger.sealed_totals import ExporterYear, YearState
from engine.ledger.signing import ChainSigner

# The counts are read from the running totals (``engine.ledger.totals``; by primary key, however many
# transfers they sum up), every row's seal checked (``engine.ledger.sealed_totals``).
# The group's references as its exporters recorded them, then (owner set) as ids merged into its exporters
# recorded them (engine.ledger.aliases; a tiny table): one statement, so the merge costs no extra one.
_EXISTING_SQL = (
    "SELECT NULL AS owner, decision_id, exporter_id, reference, request_sha256, request_json, decision_json, "
    "record, recorded_at, withdrawn_at, event_seq FROM transfers WHERE exporter_id IN :es AND reference IN :rs "
    "UNION ALL SELECT a.canonical, t.decision_id, t.exporter_id, t.reference, t.request_sha256, t.request_json, "
    "t.decision_json, t.record, t.recorded_at, t.withdrawn_at, t.event_seq FROM exporter_id_aliases a "
    "JOIN transfers t ON t.exporter_id = a.variant WHERE a.canonical IN :es AND t.reference IN :rs")
_TRANSFER_COLUMNS = [c.name for c in transfers.columns if c.name not in ("withdrawn_at", "withdrawn_seq")]
_INSERT_TRANSFER = text(f"INSERT INTO transfers ({', '.join(_TRANSFER_COLUMNS)}) "
                        f"VALUES ({', '.join(':' + c for c in _TRANSFER_COLUMNS)})")
_INSERT_POPULATION = text("INSERT INTO transfer_populations (decision_id, population, tally, subjects, exporter_id, "
                          "year) VALUES (:decision_id, :population, :tally, :subjects, :exporter_id, :year)")

# SQLite: the same rows looked up by the group's (exporter, reference) pairs, one index probe each. Not
# ``exporter_id IN (...) AND reference IN (...)``: SQLite probes the unique index for every exporter times
# every reference (12,500 probes, 2 ms, for a bulk group of 250 references of 50 exporters). CROSS JOIN
# keeps the pairs the outer loop (SQLite's planner takes it as the join order). Sent through the driver
# (``exec_driver_sql``): hundreds of bound values cost SQLAlchemy's compiler more than the lookups.
_EXISTING_PAIRS_SQLITE = (
    "WITH wanted(e, r) AS (VALUES {pairs}) "
    "SELECT NULL AS owner, t.decision_id, t.exporter_id, t.reference, t.request_sha256, t.request_json, "
    "t.decision_json, t.record, t.recorded_at, t.withdrawn_at, t.event_seq "
    "FROM wanted CROSS JOIN transfers t ON t.exporter_id = wanted.e AND t.reference = wanted.r "
    "UNION ALL SELECT a.canonical, t.decision_id, t.exporter_id, t.reference, t.request_sha256, t.request_json, "
    "t.decision_json, t.record, t.recorded_at, t.withdrawn_at, t.event_seq "
    "FROM wanted CROSS JOIN exporter_id_aliases a ON a.canonical = wanted.e "
    "CROSS JOIN transfers t ON t.exporter_id = a.variant AND t.reference = wanted.r")
_PAIRS_A_STATEMENT = 1_000
"""Pairs looked up in one statement at most (two bound values each: far under SQLite's bound)."""


def _existing_sqlite(conn: Connection, keys: Sequence[tuple[str, str]]) -> list[Any]:
    """The rows of ``_EXISTING_SQL`` for the (exporter, reference) pairs ``keys`` (each once), on SQLite."""
    found: list[Any] = []
    for start in range(0, len(keys), _PAIRS_A_STATEMENT):
        chunk = keys[start:start + _PAIRS_A_STATEMENT]
        sql = _EXISTING_PAIRS_SQLITE.format(pairs=", ".join(["(?, ?)"] * len(chunk)))
        found += conn.exec_driver_sql(sql, tuple(value for pair in chunk for value in pair)).all()
    return found


_RECORDED_REFERENCES = text(
    "SELECT exporter_id, reference FROM transfers WHERE exporter_id IN :es AND reference IN :rs").bindparams(
    bindparam("es", expanding=True), bindparam("rs", expanding=True))


def recorded_references(conn: Connection, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of the (exporter, reference) ``keys`` are recorded under the exporter's own id, read without
    any lock: for deciding a group ahead (``Recorder.fire_ahead``), which skips them, not for deciding
    anything (the group's own read, under its locks, does that, merged ids included)."""
    found: set[tuple[str, str]] = set()
    for start in range(0, len(keys), _PAIRS_A_STATEMENT):
        chunk = keys[start:start + _PAIRS_A_STATEMENT]
        rows = conn.execute(_RECORDED_REFERENCES, {"es": sorted({e for e, _ in chunk}),
                                                   "rs": sorted({r for _, r in chunk})})
        found.update((str(exporter), str(reference)) for exporter, reference in rows)
    return found & set(keys)


def _psycopg_sql(sql: str) -> str:
    """The same statement for psycopg: ``IN :list`` becomes ``= ANY(%(list)s)`` (a list is sent as one
    array, so the statement text, and its server-side prepared plan, do not vary with the group's size)
    and ``:name`` becomes ``%(name)s``."""
    return re.sub(r":(\w+)", r"%(\1)s", re.sub(r"IN :(\w+)", r"= ANY(:\1)", sql))


# psycopg statements (PostgreSQL, pipelined). The exporter locks as database.lock_exporters takes them:
# in the order of their keys, the one global order, so no two transactions wait on each other in a cycle.
_PG_LOCKS = ("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(%(keys)s AS bigint[])) WITH ORDINALITY AS u(k, n) "
             "ORDER BY n")
_PG_HEAD = f"SELECT seq, hash FROM {chain_head.name} WHERE id = 1 FOR UPDATE"
_PG_EXISTING = _psycopg_sql(_EXISTING_SQL)


@dataclass(frozen=True)
class GroupReads:
    """What a group's evaluations need, read under its exporter locks."""

    existing: dict[tuple[str, str], Any]
    """Transfers already recorded under the group's references, by (exporter, reference)."""
    totals: dict[ExporterYear, YearState]
    """The running totals of the group's exporters, this year and last, every seal checked (an
    exporter-year without an entry has none: zero)."""
    head: tuple[int, str] | None
    """The chain head (seq, hash), already locked ``FOR UPDATE`` (PostgreSQL); None: read at the first
    append (SQLite, where BEGIN IMMEDIATE already holds the only write lock)."""
    signing_key: str | None = None
    """The key the chain announced last (``engine.ledger.chain_keys``), read under the locks."""
    merged_existing: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    """Transfers recorded under the group's references by ids merged into its exporters, by (exporter,
    reference) (``engine.ledger.aliases.recorded_as_variant`` tells whether a submission is one again)."""


def driver_connection(conn: Connection) -> psycopg.Connection[Any] | None:
    """The psycopg connection under a PostgreSQL connection; None on SQLite."""
    if conn.dialect.name != "postgresql":
        return None
    return cast(psycopg.Connection[Any], conn.connection.driver_connection)


def server_hung_up(conn: Connection) -> bool:
    """Whether the server has written to this idle PostgreSQL connection (or it is closed). Between
    transactions the server only does so to end it (an administrator's termination, a shutdown), so a
    kept connection it is true of would fail the next group. Costs no round trip: a poll of the socket."""
    pg = driver_connection(conn)
    if pg is None or pg.closed:
        return True
    poller = select.poll()  # not select.select: that refuses descriptors from 1024 on
    poller.register(pg.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


@contextmanager
def _sent_together(pg: psycopg.Connection[Any] | None) -> Iterator[None]:
    """Statements executed inside (on ``pg`` or the SQLAlchemy connection over it) are sent at once and
    their results read at the end: one round trip. psycopg raises the errors it reads there itself,
    outside SQLAlchemy, so a lost or refused connection becomes DatabaseUnavailable here, as
    ``LedgerDatabase.write`` makes it of SQLAlchemy's errors. Without ``pg`` (SQLite) it does nothing."""
    if pg is None:
        yield
        return
    try:
        with pg.pipeline():
            yield
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        raise database.unavailable(exc) from exc


@contextmanager
def transaction(conn: Connection) -> Iterator[None]:
    """The group's transaction on ``conn``, begun by the reads and committed by the writes on PostgreSQL.

    psycopg sends BEGIN by itself before a transaction's first statement and, in pipeline mode, waits
    for it: a round trip of its own. With the driver in autocommit mode for the group it sends none;
    ``read`` queues BEGIN ahead of the locks and ``write`` COMMIT behind the writes, and SQLAlchemy's
    commit finds nothing left to do. Should the group fail, SQLAlchemy's rollback still ends the
    transaction (psycopg sends ROLLBACK whenever one is open), and the caller must discard the
    connection (``Connection.invalidate``) rather than return it to the pool in autocommit mode. On
    success autocommit is switched off again (no round trip), so the connection is as it came."""
    pg = driver_connection(conn)
    with conn.begin():
        if pg is None:
            yield
            return
        pg.autocommit = True
        yield
    pg.autocommit = False


def read(conn: Connection, key: TotalsKey, exporters: list[str], keys: list[tuple[str, str]], years: list[int],
         needed: Collection[ExporterYear] | None = None) -> GroupReads:
    """Lock the exporters (PostgreSQL), then read what is recorded under the group's (exporter,
    reference) ``keys`` (each once), the counts (their seals checked with ``key``:
    ``LedgerIntegrityError`` otherwise) and (PostgreSQL) the chain head ``FOR UPDATE``; one round trip on
    PostgreSQL, BEGIN included (inside ``transaction``). ``needed``: the exporter-years the group
    decides on, if not every one of ``exporters`` x ``years`` (``sealed_totals.only``)."""
    pg = driver_connection(conn)
    if pg is None:
        existing, merged = _split(_existing_sqlite(conn, keys))
        counts = sealed_totals.read(conn, key, exporters, years, needed)
        return GroupReads(existing, counts, None, chain_keys.latest_key(conn), merged)
    with _sent_together(pg):
        pg.execute("BEGIN")  # see transaction()
        locks = pg.cursor()
        locks.execute(_PG_LOCKS, {"keys": sorted({database.lock_key(name) for name in exporters})})
        head = pg.cursor()
        head.execute(_PG_HEAD)
        found = pg.cursor(row_factory=namedtuple_row)
        found.execute(_PG_EXISTING, {"es": exporters, "rs": sorted({reference for _exporter, reference in keys})})
        counting = pg.cursor()
        counting.execute(sealed_totals.MANY_PG_SQL, {"es": exporters, "ys": years})
        signing = pg.cursor()
        signing.execute(chain_keys.LATEST_KEY_SQL)
    seq, digest = cast(tuple[int, str], head.fetchone())
    existing, merged = _split(found.fetchall())
    signed_by = signing.fetchone()
    counted = sealed_totals.only([tuple(row) for row in counting.fetchall()], needed)
    return GroupReads(existing, sealed_totals.verified(key, counted), (int(seq), str(digest)),
                      None if signed_by is None else str(signed_by[0]), merged)


def _split(rows: Sequence[Any]) -> tuple[dict[tuple[str, str], Any], dict[tuple[str, str], list[Any]]]:
    """The rows of ``_EXISTING_SQL``: by (exporter, reference) those recorded under the exporter's own id;
    by (exporter, reference), oldest first, those recorded under ids merged into it (``owner`` set)."""
    existing: dict[tuple[str, str], Any] = {}
    merged: dict[tuple[str, str], list[Any]] = {}
    for row in sorted(rows, key=lambda row: int(row.event_seq)):
        if row.owner is None:
            existing[(row.exporter_id, row.reference)] = row
        else:
            merged.setdefault((str(row.owner), str(row.reference)), []).append(row)
    return existing, merged


class GroupCounts:
    """The counts a group's evaluations read: as the group's read found them (its seals checked), plus
    what each transfer recorded earlier in the same group added. A group of the concurrent path holds
    one transfer per exporter, so nothing is added between them; a bulk group (``Ledger.submit_many``)
    may hold many of one exporter, each decided on the counts the ones before it left, exactly as if
    submitted one by one. What is written to the totals is worked out again from the group's rows
    (``totals.add``), so these are only ever read."""

    def __init__(self, states: Mapping[ExporterYear, YearState]) -> None:
        self._states = {where: state.copy() for where, state in states.items()}

    def prior(self, exporter_id: str, year: int) -> PriorCounts:
        """This year's sums and populations, last year's sums (as ``Counting.prior`` reads them)."""
        return sealed_totals.prior_counts(self._states, exporter_id, year)

    def add(self, exporter_id: str, year: int, tally: Tally) -> None:
        """A counted transfer recorded in the group: its subjects and population figures."""
        state = self._states.setdefault((exporter_id, year), YearState())
        state.personal += tally.personal_subjects
        state.sensitive += tally.sensitive_subjects
        for tally_name, sent in (("personal", tally.populations), ("sensitive", tally.sensitive_populations)):
            for name, subjects in sent.items():
                state.populations[(name, tally_name)] = max(state.populations.get((name, tally_name), 0), subjects)


class _LockedChain(audit.ChainWriter):
    """A ChainWriter whose head was read ``FOR UPDATE`` with the group's reads: appending reads nothing."""

    def __init__(self, connection: Connection, head: tuple[int, str], signer: ChainSigner | None) -> None:
        super().__init__(connection, signer)
        self._head = head


def chain(conn: Connection, reads: GroupReads, signer: ChainSigner | None = None) -> audit.ChainWriter:
    """The chain writer of a group: events hashed exactly as ``audit.append_event`` hashes them, the head
    it commits signed with ``signer`` (if any)."""
    return audit.ChainWriter(conn, signer) if reads.head is None else _LockedChain(conn, reads.head, signer)


@dataclass
class GroupRows:
    """What a group writes: its transfers, their population figures, the compression dictionaries first
    used by them (``engine.ledger.records``; their rows, and by kind to remember once committed)."""

    transfers: list[dict[str, Any]] = field(default_factory=list)
    populations: list[dict[str, Any]] = field(default_factory=list)
    dictionaries: list[dict[str, Any]] = field(default_factory=list)
    new_dictionaries: dict[str, records.Dictionary] = field(default_factory=dict)
    just_recorded: dict[tuple[str, str], Any] = field(default_factory=dict)
    """Rows recorded in this group, by (exporter, reference), with their texts: a later submission of
    the same reference in the group is answered from it as from a row recorded before."""

    def recorded(self, key: tuple[str, str]) -> Any:
        return self.just_recorded[key]


def write(conn: Connection, rows: GroupRows, chain: audit.ChainWriter, key: TotalsKey,
          totals_before: dict[ExporterYear, YearState]) -> None:
    """The group's dictionary, transfer, population and event rows, the running totals they add to
    (``totals.add``: ``totals_before`` is what the group read, ``GroupReads.totals``; sealed with ``key``)
    and the new chain head. The statements go through SQLAlchemy, so its statement events see them as
    before.

    On PostgreSQL COMMIT is sent behind them: the writes and the commit are one round trip, and the
    transaction is over when this returns (SQLAlchemy's own commit then finds nothing to do). If a
    write fails, the server skips the rest of the pipeline, COMMIT included, the error is raised here,
    and the caller's transaction block rolls back: nothing is written. On SQLite the transaction
    commits when the caller's block ends."""
    pg = driver_connection(conn)
    with _sent_together(pg):
        if rows.dictionaries:
            conn.execute(records.INSERT_DICTIONARY, rows.dictionaries)
        if rows.transfers:
            conn.execute(_INSERT_TRANSFER, rows.transfers)
        if rows.populations:
            conn.execute(_INSERT_POPULATION, rows.populations)
        totals.add(conn, key, totals_before, rows.transfers, rows.populations)
        chain.flush()
        if pg is not None:
            pg.execute("COMMIT")

"""A group commit's writes fail as a whole (``engine.ledger.group``). On PostgreSQL the writes and COMMIT
are sent in one pipeline: when a write fails there, the server must skip COMMIT, and nothing of the
group may be recorded (no row, no event, no running total), the exporter's lock must be released and
the connection must stay usable. The failing statement is the last write before COMMIT (the chain head
update), the one whose failure a pipelined COMMIT would most easily outrun, or one of the running
totals' upserts. Both backends."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import event

from engine.evaluator import Engine
from engine.ledger import Ledger, NotFound
from engine.ledger import group as group_io
from engine.ledger.database import lock_key
from engine.ledger.totals import stored
from tests.ledger.conftest import EXPORTER, transfer

OTHER = "91440300MA5OTHER01"


def break_statement(ledger: Ledger, table: str) -> list[bool]:
    """Make writes to ``table`` fail (a missing table) while the returned flag's first item is true."""
    breaking = [True]
    prefixes = (f"UPDATE {table}", f"INSERT INTO {table}", f"DELETE FROM {table}")

    @event.listens_for(ledger.sql_engine, "before_cursor_execute", retval=True)
    def _break(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               _executemany: bool) -> tuple[str, Any]:
        if breaking[0] and statement.startswith(prefixes):
            statement = statement.replace(table, "no_such_table", 1)
        return statement, parameters

    return breaking


def members(subjects: int) -> list[dict[str, Any]]:
    return [{"kind": "personal", "subjects": subjects, "population": "members"}]


@pytest.mark.parametrize("table", ["sealed_chain_head", "exporter_year_totals", "exporter_year_population_figures"])
def test_a_failing_write_records_nothing_and_the_next_submission_goes_through(
        ledger_url: str, ledger_engine: Engine, table: str) -> None:
    ledger = Ledger(ledger_url)
    try:
        ledger.submit(ledger_engine, transfer("W-1", data=members(15_000)))
        events_before = ledger.verify().events
        with ledger.sql_engine.connect() as conn:
            totals_before = stored(conn)
        breaking = break_statement(ledger, table)

        # The driver's error (PostgreSQL) or the ledger's DatabaseUnavailable (SQLite): either way it fails.
        # Two submissions of two exporters, one group: both fail, neither leaves a total.
        together = [ledger.recorder.queue(ledger_engine, transfer("W-O", 5_000, exporter_id=OTHER), None),
                    ledger.recorder.queue(ledger_engine, transfer("W-2", data=members(30_000)), None)]
        for item in together:
            with pytest.raises(Exception, match="no_such_table"):
                ledger.recorder.commit(item)
        breaking[0] = False

        result = ledger.verify()
        assert result.ok, result.problem
        assert result.events == events_before
        with pytest.raises(NotFound):
            ledger.get("W-2")
        with pytest.raises(NotFound):
            ledger.get("W-O")
        with ledger.sql_engine.connect() as conn:
            assert stored(conn) == totals_before
        assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 15_000
        # Lock released, connection usable: the same reference is recorded now, on the counts before.
        decision = ledger.submit(ledger_engine, transfer("W-2", data=members(30_000))).decision
        assert decision.counts.personal_subjects_before == 15_000
        assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 30_000
        assert ledger.verify().ok
    finally:
        ledger.close()


@pytest.mark.parametrize("table", ["exporter_year_totals", "exporter_year_population_figures"])
def test_a_failing_withdrawal_releases_nothing(ledger_url: str, ledger_engine: Engine, table: str) -> None:
    ledger = Ledger(ledger_url)
    try:
        ledger.submit(ledger_engine, transfer("W-1", data=members(15_000)))
        ledger.submit(ledger_engine, transfer("W-2", data=members(40_000)))
        events_before = ledger.verify().events
        with ledger.sql_engine.connect() as conn:
            totals_before = stored(conn)
        breaking = break_statement(ledger, table)
        with pytest.raises(Exception, match="no_such_table"):
            ledger.withdraw("W-2")
        breaking[0] = False
        assert not ledger.get("W-2").withdrawn
        result = ledger.verify()
        assert result.ok, result.problem
        assert result.events == events_before
        with ledger.sql_engine.connect() as conn:
            assert stored(conn) == totals_before
        assert ledger.withdraw("W-2").released_personal_subjects == 25_000
        assert dict(ledger.prior_counts(transfer("next")).populations) == {"members": 15_000}
        assert ledger.verify().ok
    finally:
        ledger.close()


@pytest.mark.postgres
def test_a_kept_connection_the_server_ended_is_not_used(postgres_url: str, ledger_engine: Engine) -> None:
    """On PostgreSQL the committer keeps its connection between groups (no pool ping per group). When
    the server ends it (here an administrator's termination), the next group notices without a round
    trip and starts on a fresh connection: no submission fails for it."""
    ledger = Ledger(postgres_url)
    try:
        ledger.submit(ledger_engine, transfer("K-1", 15_000))
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            ended = admin.execute("SELECT bool_and(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()
        assert ended == (True,)  # waited for: the backends have exited
        ledger.submit(ledger_engine, transfer("K-2", 15_000))
        ledger.submit(ledger_engine, transfer("K-3", 15_000))
        assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 45_000
        result = ledger.verify()
        assert result.ok, result.problem
    finally:
        ledger.close()


@pytest.mark.postgres
def test_a_kept_connection_on_a_descriptor_above_1023_is_checked_and_used(postgres_url: str,
                                                                          ledger_engine: Engine) -> None:
    """A busy worker has many sockets open, so its database connection may sit on a descriptor of 1024
    or more, which select() refuses (it failed the group with ValueError and leaked the connection)."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip(f"the open-file limit ({hard}) does not allow a descriptor above 1023")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2048), hard))
    fillers = []
    ledger = None
    try:
        while len(fillers) < 1100:  # every low descriptor taken: the next socket gets a high one
            fillers.append(os.open(os.devnull, os.O_RDONLY))
        ledger = Ledger(postgres_url)
        ledger.submit(ledger_engine, transfer("FD-1", 15_000))
        kept = ledger.db.kept
        assert kept is not None and group_io.driver_connection(kept[0]).fileno() >= 1024  # type: ignore[union-attr]
        assert group_io.server_hung_up(kept[0]) is False
        ledger.submit(ledger_engine, transfer("FD-2", 15_000))
        assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 30_000
    finally:
        if ledger is not None:
            ledger.close()
        for descriptor in fillers:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.postgres
def test_the_locks_taken_with_the_reads_are_held_until_the_writes_commit(postgres_url: str) -> None:
    """On PostgreSQL a group's reads (BEGIN, exporter locks, chain head FOR UPDATE) and its writes (with
    COMMIT) are two pipelines with the driver in autocommit mode: the transaction, and its locks, must
    span both, and the connection must come back out of autocommit mode."""
    ledger = Ledger(postgres_url)
    try:
        with ledger.db.group_write() as conn:
            reads = group_io.read(conn, ledger.totals_key, [EXPORTER], [(EXPORTER, "L-1")], [2025, 2026])
            pg = conn.connection.driver_connection
            assert pg is not None
            with psycopg.connect(postgres_url, autocommit=True) as other:
                other.execute("SET lock_timeout = '100ms'")
                with pytest.raises(psycopg.errors.LockNotAvailable):
                    other.execute("SELECT seq FROM sealed_chain_head WHERE id = 1 FOR UPDATE")
                with pytest.raises(psycopg.errors.LockNotAvailable):
                    other.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(EXPORTER)])
            group_io.write(conn, group_io.GroupRows(), group_io.chain(conn, reads), ledger.totals_key, reads.totals)
        assert pg.autocommit is False
        with psycopg.connect(postgres_url, autocommit=True) as other:  # released at COMMIT
            other.execute("SET lock_timeout = '100ms'")
            other.execute("SELECT seq FROM sealed_chain_head WHERE id = 1 FOR UPDATE")
            other.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(EXPORTER)])
    finally:
        ledger.close()

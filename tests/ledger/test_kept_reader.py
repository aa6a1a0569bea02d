"""The dry runs' kept connection (engine.ledger.counting.KeptReader): a connection kept between reads
must never make a dry run count less than a fresh one would, hold a transaction open, or outlive a
failure. On both backends."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from engine.evaluator import Engine
from engine.ledger import Ledger
from tests.ledger.conftest import transfer


def _personal(ledger: Ledger) -> int:
    return ledger.prior_counts(transfer("probe", planned_date="2026-07-01")).personal_subjects


def test_a_dry_run_counts_what_was_recorded_after_its_connection_was_opened(
        ledger: Ledger, ledger_url: str, ledger_engine: Engine) -> None:
    assert _personal(ledger) == 0  # the kept connection is open from here on
    ledger.submit(ledger_engine, transfer("A-1", subjects=1_000))
    assert _personal(ledger) == 1_000
    other = Ledger(ledger_url)  # another process's writer, as a second replica would be
    try:
        other.submit(ledger_engine, transfer("A-2", subjects=2_500))
    finally:
        other.close()
    assert _personal(ledger) == 3_500
    ledger.withdraw("A-1", transfer("A-1").exporter.id)
    assert _personal(ledger) == 2_500


def test_a_failed_kept_connection_is_replaced_and_the_read_still_answered(
        ledger: Ledger, ledger_engine: Engine) -> None:
    ledger.submit(ledger_engine, transfer("B-1", subjects=1_200))
    assert _personal(ledger) == 1_200
    kept = ledger.counting.kept
    broken = kept.connection()
    assert broken is not None
    assert broken.driver_connection is not None
    broken.driver_connection.close()  # as a restarted server or a lost file handle leaves it
    assert _personal(ledger) == 1_200  # answered through the pool, the broken connection dropped
    assert kept.connection() is None
    assert _personal(ledger) == 1_200  # a new kept connection
    assert kept.connection() is not None and kept.connection() is not broken


def test_reads_from_many_threads_at_once_all_count_right(ledger: Ledger, ledger_engine: Engine) -> None:
    """One thread reads on the kept connection at a time; the others go through the pool."""
    ledger.submit(ledger_engine, transfer("C-1", subjects=4_000))
    start = threading.Barrier(8)

    def read(_: int) -> list[int]:
        start.wait()
        return [_personal(ledger) for _ in range(50)]

    with ThreadPoolExecutor(8) as pool:
        answers = [n for batch in pool.map(read, range(8)) for n in batch]
    assert answers == [4_000] * 400


@pytest.mark.postgres
def test_the_kept_postgres_connection_holds_no_transaction_between_reads(
        postgres_url: str, ledger_engine: Engine) -> None:
    """An idle-in-transaction connection would hold its locks and stop a migration's DDL; in autocommit
    it holds none. Ended by the server, it is replaced and the read answered."""
    ledger = Ledger(postgres_url)
    try:
        ledger.submit(ledger_engine, transfer("D-1", subjects=300))
        assert _personal(ledger) == 300
        kept = ledger.counting.kept.connection()
        assert kept is not None
        pid = kept.driver_connection.info.backend_pid  # type: ignore[union-attr]
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            state = admin.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
            assert state == ("idle",)
            with admin.transaction():
                admin.execute("SET LOCAL lock_timeout = '2s'")
                admin.execute("LOCK TABLE exporter_year_totals IN ACCESS EXCLUSIVE MODE")  # what DDL takes
            ended = admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone()
            assert ended == (True,)
        assert _personal(ledger) == 300
        assert ledger.counting.kept.connection() is None
        assert _personal(ledger) == 300
        assert ledger.counting.kept.connection() is not None
    finally:
        ledger.close()


def _count_in_child(url: str, queue: multiprocessing.Queue[tuple[int, bool]]) -> None:
    ledger, inherited = _INHERITED[url]  # the parent's ledger and kept connection, as the fork left them
    count = _personal(ledger)
    own = ledger.counting.kept.connection()
    queue.put((count, own is not None and own is not inherited))


_INHERITED: dict[str, tuple[Ledger, object]] = {}


def test_a_forked_child_opens_its_own_connection(tmp_path: object, ledger_engine: Engine) -> None:
    """A connection never crosses a fork (SQLite's rule): the child reads on its own, and the
    parent's kept connection still works afterwards."""
    url = f"sqlite:///{tmp_path}/fork.db"
    ledger = Ledger(url)
    try:
        ledger.submit(ledger_engine, transfer("E-1", subjects=700))
        assert _personal(ledger) == 700
        parent_connection = ledger.counting.kept.connection()
        assert parent_connection is not None
        _INHERITED[url] = (ledger, parent_connection)
        context = multiprocessing.get_context("fork")
        queue: multiprocessing.Queue[tuple[int, bool]] = context.Queue()
        child = context.Process(target=_count_in_child, args=(url, queue))
        child.start()
        assert queue.get(timeout=60) == (700, True)  # counted on a connection of its own
        child.join(60)
        assert child.exitcode == 0
        assert _personal(ledger) == 700
        assert ledger.counting.kept.connection() is parent_connection
    finally:
        _INHERITED.pop(url, None)
        ledger.close()


def _totals_reads(ledger: Ledger) -> list[str]:
    """Every statement the kept SQLite connection runs from here on (sqlite3's own trace hook)."""
    _personal(ledger)  # the kept connection is open
    kept = ledger.counting.kept.connection()
    assert kept is not None and kept.driver_connection is not None
    statements: list[str] = []
    kept.driver_connection.set_trace_callback(statements.append)
    return statements


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_sqlite_totals_are_read_once_while_nothing_is_committed(
        ledger: Ledger, ledger_url: str, ledger_engine: Engine) -> None:
    """The dry runs' answers kept on SQLite (``PRAGMA data_version``): read again after every commit,
    by this process or another, and only then."""
    ledger.submit(ledger_engine, transfer("F-1", subjects=900))
    statements = _totals_reads(ledger)
    assert [_personal(ledger) for _ in range(3)] == [900] * 3
    totals = [s for s in statements if "exporter_year_totals" in s]
    assert len(totals) == 0  # the answer read when the connection was opened, the totals unchanged
    assert sum("data_version" in s for s in statements) == 3
    ledger.submit(ledger_engine, transfer("F-2", subjects=100))
    assert [_personal(ledger) for _ in range(2)] == [1_000] * 2
    assert sum("exporter_year_totals" in s for s in statements) == 1
    other = Ledger(ledger_url)
    try:
        other.submit(ledger_engine, transfer("F-3", subjects=10))
    finally:
        other.close()
    assert _personal(ledger) == 1_010
    assert sum("exporter_year_totals" in s for s in statements) == 2


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_totals_edited_after_an_answer_was_kept_are_refused(ledger: Ledger, ledger_engine: Engine) -> None:
    """An insider's edit is a commit like any other: the answer kept before it is not given again, the
    edited row's seal is checked and the dry run refused."""
    from sqlalchemy import text

    from engine.ledger.errors import LedgerIntegrityError

    ledger.submit(ledger_engine, transfer("G-1", subjects=5_000))
    assert _personal(ledger) == 5_000
    assert _personal(ledger) == 5_000  # kept
    with ledger.sql_engine.begin() as conn:
        conn.execute(text("UPDATE exporter_year_totals SET personal_subjects = 1"))
    for _ in range(2):  # nothing kept from a read that failed its seal
        with pytest.raises(LedgerIntegrityError, match="changed outside the service"):
            _personal(ledger)


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_a_replaced_kept_connection_keeps_nothing_of_the_one_before(
        ledger: Ledger, ledger_url: str, ledger_engine: Engine) -> None:
    """``data_version`` is a connection's own count: a new connection's may equal the number the
    last one had when its answers were read, so those answers go with it."""
    ledger.submit(ledger_engine, transfer("H-1", subjects=900))
    assert _personal(ledger) == 900  # kept, with the first connection's data_version
    other = Ledger(ledger_url)
    try:
        other.submit(ledger_engine, transfer("H-2", subjects=100))
    finally:
        other.close()
    broken = ledger.counting.kept.connection()
    assert broken is not None and broken.driver_connection is not None
    broken.driver_connection.close()
    assert _personal(ledger) == 1_000  # through the pool
    assert _personal(ledger) == 1_000  # on a new kept connection


def test_an_in_memory_ledger_counts_what_this_thread_recorded(ledger_engine: Engine) -> None:
    """SQLAlchemy pools an in-memory SQLite database with SingletonThreadPool: the kept connection is the
    very one this thread's writes commit on, whose own commits leave data_version as it was; its
    total_changes moves (found by review: the first answer, 0, was given again after every transfer)."""
    ledger = Ledger("sqlite://")
    try:
        assert _personal(ledger) == 0
        ledger.submit(ledger_engine, transfer("M-1", subjects=1_000))
        assert _personal(ledger) == 1_000
        ledger.submit(ledger_engine, transfer("M-2", subjects=500))
        assert _personal(ledger) == 1_500
    finally:
        ledger.close()

"""Waiting for SQLite's write lock (``engine.ledger.database.begin_immediate``): a writing transaction
starts with BEGIN IMMEDIATE, tried again while another connection holds the lock, for at most the busy
bound; every other statement keeps SQLite's busy handler. Real SQLite files, a second connection
holding the lock as another process would."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from engine.ledger.database import WRITE_OPTION, make_engine, sqlite_busy_seconds


def _holder(path: Path) -> sqlite3.Connection:
    """Another connection, holding the write lock until told otherwise."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _ledger_file(tmp_path: Path) -> Path:
    path = tmp_path / "lock.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.close()
    return path


def test_a_waiting_writer_begins_once_the_lock_is_let_go(tmp_path: Path) -> None:
    path = _ledger_file(tmp_path)
    engine = make_engine(f"sqlite:///{path}")
    holder = _holder(path)
    holder.execute("INSERT INTO t VALUES (1)")
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")  # began after the holder's commit
            assert [row[0] for row in conn.exec_driver_sql("SELECT x FROM t ORDER BY x")] == [1, 2]
    finally:
        release.join()
        holder.close()
        engine.dispose()


def test_other_statements_keep_the_busy_handler(tmp_path: Path) -> None:
    """The write lock is waited for by trying BEGIN IMMEDIATE again, with SQLite's handler off meanwhile;
    once begun, the connection's busy_timeout is the bound again (for whatever else may wait)."""
    path = _ledger_file(tmp_path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            timeout = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert timeout == int(sqlite_busy_seconds() * 1000)
    finally:
        engine.dispose()


def test_the_wait_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock never let go: after BAYGATE_SQLITE_BUSY_SECONDS the "database is locked" error goes up
    (the ledger answers it as DatabaseUnavailable: tests/hardening/test_faults.py), nothing written."""
    monkeypatch.setenv("BAYGATE_SQLITE_BUSY_SECONDS", "0.3")
    path = _ledger_file(tmp_path)
    engine = make_engine(f"sqlite:///{path}")
    holder = _holder(path)
    try:
        with pytest.raises(OperationalError, match="locked"), \
                engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            conn.exec_driver_sql("INSERT INTO t VALUES (3)")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()
    check = sqlite3.connect(path)
    assert check.execute("SELECT count(*) FROM t").fetchone() == (0,)
    check.close()

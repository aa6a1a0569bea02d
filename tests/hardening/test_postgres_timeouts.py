"""PostgreSQL timeouts (issue 18, point 8): a submission waiting on a lock held elsewhere gives up within
the configured time with a 503 and Retry-After (it waited past 40 s before), nothing is written, and
``/readyz`` does not say ready while the database cannot take writes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from engine.evaluator import Engine
from engine.ledger import DatabaseUnavailable, Ledger
from engine.ledger.database import lock_key, postgres_timeouts
from engine.models import TransferRequest
from tests.hardening.conftest import ROOT, Server, good_request, start_server

pytestmark = pytest.mark.postgres
LOCK_SECONDS = 2


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def held_lock(postgres_url: str) -> Iterator[tuple[str, dict[str, object]]]:
    """An exporter whose advisory lock another session holds (as a stuck transaction would)."""
    body = good_request()
    holder = psycopg.connect(_plain(postgres_url), autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key(body["exporter"]["id"]),))
        yield postgres_url, body
    finally:
        holder.close()


def test_the_ledger_gives_up_on_a_held_lock_within_the_bound(held_lock: tuple[str, dict[str, object]],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    url, body = held_lock
    monkeypatch.setenv("BAYGATE_PG_LOCK_TIMEOUT_SECONDS", str(LOCK_SECONDS))
    ledger = Ledger(url)
    try:
        engine = Engine.from_directory(ROOT / "rules")
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match="lock timeout"):
            ledger.submit(engine, TransferRequest.model_validate(body))
        assert time.monotonic() - started < LOCK_SECONDS + 5
        assert ledger.verify().events == 0  # nothing written
    finally:
        ledger.close()


def test_the_service_answers_503_with_retry_after(held_lock: tuple[str, dict[str, object]], tmp_path: Path) -> None:
    url, body = held_lock
    server: Server = start_server(tmp_path, url, extra_env={"BAYGATE_PG_LOCK_TIMEOUT_SECONDS": str(LOCK_SECONDS)})
    try:
        started = time.monotonic()
        answer = server.client("submitter").post("/v1/transfers", json=body)
        assert answer.status_code == 503 and answer.headers["retry-after"], answer.text
        assert time.monotonic() - started < LOCK_SECONDS + 10
        assert "127.0.0.1" not in answer.text
    finally:
        server.stop()


def test_readyz_is_not_ready_while_the_database_is_read_only(postgres_url: str, tmp_path: Path) -> None:
    server = start_server(tmp_path, postgres_url)
    database = _plain(postgres_url).rsplit("/", 1)[1]
    try:
        assert server.client().get("/readyz").status_code == 200
        with psycopg.connect(_plain(postgres_url), autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
        server.stop()  # new sessions read the setting: a fresh service, as after a failover
        server = start_server(tmp_path / "again", postgres_url)
        ready = server.client().get("/readyz")
        assert ready.status_code == 503 and ready.headers["retry-after"], ready.text
    finally:
        server.stop()
        with psycopg.connect(_plain(postgres_url), autocommit=True) as admin:
            admin.execute("SET default_transaction_read_only = off")
            admin.execute(f'ALTER DATABASE "{database}" RESET default_transaction_read_only')


def test_timeouts_are_settings() -> None:
    assert postgres_timeouts(environ={}) == {"connect_timeout": 10, "options": "-c lock_timeout=10000"}
    assert postgres_timeouts("-c search_path=x", {"BAYGATE_PG_STATEMENT_TIMEOUT_SECONDS": "30"})["options"] == \
        "-c search_path=x -c lock_timeout=10000 -c statement_timeout=30000"
    from engine.errors import ConfigError

    with pytest.raises(ConfigError, match="BAYGATE_PG_LOCK_TIMEOUT_SECONDS"):
        postgres_timeouts(environ={"BAYGATE_PG_LOCK_TIMEOUT_SECONDS": "ten"})

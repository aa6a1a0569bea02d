"""Fixtures that start real servers, shared by every test package (STYLE.md: one place for them).

``postgres_admin_url`` is a PostgreSQL server for the session: ``BAYGATE_TEST_DATABASE_URL`` when set
(a superuser URL: each test gets its own database created on that server), else a throwaway cluster
started as the ``postgres`` system user and stopped at the end. Without the server programs the
PostgreSQL tests skip with the install hint, unless ``BAYGATE_REQUIRE_POSTGRES=1`` (CI), where they fail.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.ledger.pgcluster import ClusterUnavailable, create_database, drop_database, start_cluster
from engine.ledger.seal import TOTALS_KEY_ENV


def _session_totals_key() -> None:
    """One totals key for the test session and every process it starts (they inherit the environment),
    in a throwaway directory, instead of the default file in the user's ~/.config (engine.ledger.seal)."""
    if os.environ.get(TOTALS_KEY_ENV):
        return
    folder = tempfile.mkdtemp(prefix="baygate-totals-key-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "totals.key"
    path.write_text("5e" * 32 + "\n", encoding="ascii")
    path.chmod(0o600)
    os.environ[TOTALS_KEY_ENV] = str(path)


_session_totals_key()

SLOW_FOLDERS = ("http", "hardening", "lifecycle", "bench", "browser")
"""Test folders whose tests start real servers (uvicorn on loopback) or run benchmarks."""
SLOW_FIXTURES = frozenset({"postgres_admin_url"})
SLOW_MODULES = frozenset({"test_cli.py", "test_processes.py", "test_no_code.py", "test_i18n.py"})
"""Modules elsewhere that start the program or a server in other processes."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what is slow, so that ``pytest -m "not slow"`` is the quick subset for daily work (README):
    in-process tests only, on SQLite, without servers, child processes or benchmarks."""
    for item in items:
        path = item.path
        folder = path.parent.name
        if folder in SLOW_FOLDERS or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or (
                path.name in SLOW_MODULES and folder in ("ledger", "bdd", "web")):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    configured = os.environ.get("BAYGATE_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    try:
        cluster = start_cluster()
    except ClusterUnavailable as exc:
        if os.environ.get("BAYGATE_REQUIRE_POSTGRES") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    try:
        yield cluster.admin_url
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    url = create_database(postgres_admin_url)
    try:
        yield url
    finally:
        drop_database(postgres_admin_url, url)

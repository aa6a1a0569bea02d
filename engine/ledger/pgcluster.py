"""A throwaway PostgreSQL cluster for tests and benchmarks (never used by the service).

The machines we test on have the server programs (``initdb``, ``pg_ctl``, ``postgres``) but no
running server, and run as root, which PostgreSQL refuses: so the cluster is created and started as
the ``postgres`` system user (``runuser``), in a temporary folder it owns, listening on a free
loopback port with its socket in that folder. ``fsync=off``: a test cluster is thrown away anyway.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

INSTALL_HINT = ("PostgreSQL server programs (initdb, pg_ctl) not found on PATH: install Debian's "
                "'postgresql' package (apt-get install postgresql) or set BAYGATE_TEST_DATABASE_URL")


class ClusterUnavailable(RuntimeError):
    """The programs are missing or the cluster would not start; the message says which and why."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def as_postgres(argv: list[str]) -> list[str]:
    """``argv`` to run as the ``postgres`` system user when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return argv
    if shutil.which("runuser") is None:  # pragma: no cover - Debian has runuser in util-linux
        raise ClusterUnavailable("running as root and runuser is missing: cannot start PostgreSQL as postgres")
    return ["runuser", "-u", "postgres", "--", *argv]


@dataclass
class Cluster:
    """A running throwaway cluster; ``url`` reaches its ``postgres`` database as superuser."""

    directory: Path
    port: int
    user: str

    @property
    def admin_url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        subprocess.run(as_postgres(["pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "-w",
                                     "stop"]), capture_output=True, check=False, timeout=60)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_cluster(fsync: bool = False) -> Cluster:
    """initdb and start a cluster in a new temporary folder; raise ClusterUnavailable when it cannot."""
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        raise ClusterUnavailable(INSTALL_HINT)
    directory = Path(tempfile.mkdtemp(prefix="baygate-pg-"))
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    data = directory / "data"
    port = _free_port()
    try:
        subprocess.run(as_postgres(["initdb", "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8",
                                     "--no-locale", "--no-sync"]), capture_output=True, check=True, timeout=120)
        options = (f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=100 "
                   f"-c fsync={'on' if fsync else 'off'} -c synchronous_commit={'on' if fsync else 'off'} "
                   "-c full_page_writes=off -c shared_buffers=64MB")
        subprocess.run(as_postgres(["pg_ctl", "-D", str(data), "-l", str(directory / "log"), "-o", options,
                                     "-w", "-t", "60", "start"]), capture_output=True, check=True, timeout=90)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log = (directory / "log").read_text(errors="replace")[-2000:] if (directory / "log").exists() else ""
        output = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(directory, ignore_errors=True)
        raise ClusterUnavailable(f"cannot start a throwaway PostgreSQL cluster: {exc}\n"
                                 f"{output.decode(errors='replace')}\n{log}") from exc
    return Cluster(directory, port, user)


def create_database(admin_url: str, prefix: str = "baygate_test") -> str:
    """A new empty database on the server of ``admin_url``; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def drop_database(admin_url: str, url: str) -> None:
    name = url.rpartition("/")[2]
    deadline = time.monotonic() + 10
    with psycopg.connect(admin_url, autocommit=True) as conn:
        while True:
            try:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except psycopg.errors.ObjectInUse:  # pragma: no cover - FORCE makes this rare
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

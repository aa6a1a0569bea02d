"""Ledgers at scale (issue 21): measure what auditors and rule authors run on a built ledger.

Each command runs as users run it, ``baygate ...`` in a process of its own, and is measured from
outside: wall time, the exit code, and the peak resident memory of the largest process of its tree
(``ru_maxrss`` from ``wait4``: the command and every worker process it waited for), plus the peak of
the whole tree's resident memory, sampled, for commands that start workers. What is not a command is
measured in this process: a withdrawal's time (the population index, point 7), submissions per
second at this size, and the bytes stored per transfer.

Ledgers are built by :mod:`api.bench.scale_build`; ``python -m api.bench.scripts.ledger_scale`` is the command line.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from api.bench import ROOT, scale_bulk
from api.bench.scale_build import Requests, exporter_id
from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.database import make_engine, sqlite_path

BAYGATE = Path(sys.executable).parent / "baygate"


@dataclass(frozen=True)
class Measured:
    operation: str
    seconds: float
    exit_code: int | None
    """None when it was stopped at the time limit."""
    peak_mb: float
    """Peak resident memory of the largest single process (the command or one of its workers)."""
    tree_peak_mb: float
    """Peak of the sum over the command and its workers, sampled every 0.2 s."""
    note: str = ""
    cpu_s: float = 0.0
    """CPU time (user + system) of the command and the workers it waited for: on a shared machine the
    wall time depends on the load, this much less."""


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its descendants, from /proc (0 for what has ended)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def run_command(name: str, argv: Sequence[str], timeout: float, env: dict[str, str] | None = None,
                command: Sequence[str] = (str(BAYGATE),)) -> Measured:
    """Run ``baygate argv`` (output discarded), timed, its memory measured; stopped at ``timeout``.
    ``command``: how to run baygate (another version of it, to compare)."""
    started = time.monotonic()
    process = subprocess.Popen([*command, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=env, start_new_session=True)
    tree_peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal tree_peak
        while not stop.wait(0.2):
            tree_peak = max(tree_peak, _tree_rss_kb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read() if process.stderr else b""),
                              daemon=True)
    reader.start()
    timed_out = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout:
            timed_out = True
            os.killpg(process.pid, 9)
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.05)
    seconds = time.monotonic() - started
    stop.set()
    reader.join(timeout=5)
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = b"".join(stderr_chunks).decode(errors="replace").strip().splitlines()
    note = f"stopped after {timeout:g} s" if timed_out else (stderr[-1][:160] if stderr else "")
    return Measured(name, round(seconds, 2), None if timed_out else process.returncode,
                    round(usage.ru_maxrss / 1024, 1), round(tree_peak / 1024, 1), note,
                    round(usage.ru_utime + usage.ru_stime, 2))


def lowered_rules(folder: Path) -> Path:
    """A copy of rules/ whose art. 5(4) de minimis (and the 100,000 band's floor) is 50,000: a pack
    change that changes some recorded routes, for ``rules diff``."""
    target = folder / "rules"
    shutil.copytree(ROOT / "rules", target)
    pack = target / "cn-outbound.yaml"
    content = pack.read_text(encoding="utf-8")
    content = content.replace("{fact: ytd.personal_subjects, lt: 100000}", "{fact: ytd.personal_subjects, lt: 50000}")
    content = content.replace("{fact: ytd.personal_subjects, gte: 100000}", "{fact: ytd.personal_subjects, gte: 50000}")
    pack.write_text(content.replace('version: "', 'version: "lowered-', 1), encoding="utf-8")
    return target


@dataclass(frozen=True)
class Subjects:
    """What the single-transfer operations act on: the largest exporter's newest transfer, and its
    newest transfer naming a population that is still counted."""

    exporter: str
    newest_reference: str
    newest_day: str
    naming_population: str | None
    transfers: int


def find_subjects(url: str) -> Subjects:
    engine = make_engine(url)
    big = exporter_id(0)
    try:
        with engine.connect() as conn:
            newest = conn.execute(text("SELECT reference, recorded_at FROM transfers WHERE exporter_id = :e "
                                       "ORDER BY event_seq DESC LIMIT 1"), {"e": big}).one()
            naming = conn.execute(text(
                "SELECT t.decision_id FROM transfers t WHERE t.exporter_id = :e AND t.counted = :yes "
                "AND t.withdrawn_at IS NULL AND EXISTS (SELECT 1 FROM transfer_populations p "
                "WHERE p.decision_id = t.decision_id) ORDER BY t.event_seq DESC LIMIT 1"),
                {"e": big, "yes": True}).scalar()
            count = int(conn.execute(text("SELECT COUNT(*) FROM transfers")).scalar() or 0)
            middle = conn.execute(text("SELECT recorded_at FROM transfers ORDER BY event_seq "
                                       "LIMIT 1 OFFSET :n"), {"n": max(0, count - count // 10)}).scalar()
    finally:
        engine.dispose()
    return Subjects(big, str(newest.reference), str(middle or newest.recorded_at)[:10], naming, count)


def operations(url: str, subjects: Subjects, lowered: Path, workers: int,
               public_key: str | None = None) -> dict[str, list[str]]:
    """Each measured command's arguments. ``--since`` picks the day the newest tenth began; verify
    checks the signatures against ``public_key`` when given (as an auditor would)."""
    db = ["--db", url]
    found = {
        "verify": ["audit", "verify", *db, *(["--public-key", public_key] if public_key else [])],
        "replay": ["audit", "replay", "--json", *db],
        "replay-one": ["audit", "replay", subjects.newest_reference, "--json", *db],
        "replay-exporter": ["audit", "replay", "--exporter", subjects.exporter, "--json", *db],
        "replay-since": ["audit", "replay", "--since", subjects.newest_day, "--json", *db],
        "diff": ["rules", "diff", str(ROOT / "rules"), str(lowered), "--json", *db],
    }
    if workers > 1:
        found[f"replay-w{workers}"] = [*found["replay"], "--workers", str(workers)]
        found[f"diff-w{workers}"] = [*found["diff"], "--workers", str(workers)]
    return found


def withdrawal_ms(url: str, count: int = 5) -> list[tuple[float, float]]:
    """Withdrawals of counted transfers naming a population, one after the other on one open ledger
    (as the service does them; the build withdraws one in 200 anyway): (wall ms, CPU ms) each. The
    wall time includes the commit's fsync (BAYGATE_SQLITE_SYNCHRONOUS=FULL)."""
    ledger = Ledger(url)
    found: list[tuple[float, float]] = []
    try:
        for _ in range(count):
            decision_id = find_subjects(url).naming_population
            if decision_id is None:
                break
            started, cpu = time.perf_counter(), time.process_time()
            ledger.withdraw(decision_id)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            found.append((round(wall * 1000, 1), round(cpu * 1000, 1)))
        return found
    finally:
        ledger.close()


def submit_rate(url: str, engine: Engine, rules: Path, count: int = 2_000, threads: int = 8) -> float:
    """Submissions per second at this size, 8 threads, new references of the build's kind."""
    requests = Requests.make(seed=int(time.time()))
    stamp = int(time.time())
    ledger = Ledger(url, rules_dirs=[rules])
    lock = threading.Lock()
    counter = iter(range(count))
    try:
        ledger.store_packs(engine)

        def client() -> None:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                document = requests.document(index)
                document["reference"] = f"M-{stamp}-{index}"
                from engine.models import TransferRequest

                ledger.submit(engine, TransferRequest.model_validate(document))

        started = time.monotonic()
        pool = [threading.Thread(target=client) for _ in range(threads)]
        for worker in pool:
            worker.start()
        for worker in pool:
            worker.join()
        return round(count / (time.monotonic() - started), 1)
    finally:
        ledger.close()


def stored_bytes(url: str) -> dict[str, Any]:
    """Bytes the database takes, in all and per transfer (SQLite: the file after a checkpoint;
    PostgreSQL: every table of the ledger with its indexes and TOAST)."""
    path = sqlite_path(url)
    if path is not None:
        with contextlib.closing(sqlite3.connect(path)) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            transfers = int(conn.execute(text("SELECT COUNT(*) FROM transfers")).scalar() or 0)
            if path is not None:
                total = path.stat().st_size
            else:
                total = int(conn.execute(text(
                    "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'")).scalar() or 0)
    finally:
        engine.dispose()
    return {"bytes": total, "transfers": transfers, "bytes_per_transfer": round(total / max(transfers, 1))}


def batch_op(name: str) -> tuple[int, int]:
    """Clients and workers of an ``http-batch`` operation: ``http-batch`` (1, 1), ``http-batch-cN`` (N, 1),
    ``http-batch-cN-wM`` (N, M); (0, 0) for a name that says neither well."""
    if name == "http-batch":
        return 1, 1
    clients, dash, workers = name.removeprefix("http-batch-c").partition("-w")
    if not clients.isdigit() or (dash and not workers.isdigit()):
        return 0, 0
    return int(clients), int(workers) if dash else 1


def measure(url: str, chosen: Sequence[str], timeout: float, workers: int = 2,
            say: Callable[[str], None] = print, command: Sequence[str] = (str(BAYGATE),),
            public_key: str | None = None) -> dict[str, Any]:
    """Every chosen operation on the ledger at ``url``; returns the figures (and prints them as they come)."""
    subjects = find_subjects(url)
    result: dict[str, Any] = {"url": url, "transfers": subjects.transfers, "operations": [], "load": {}}

    def tell(line: str) -> None:
        """Each figure with the machine's load average beside it (2 shared cores: figures are noisy)."""
        load = os.getloadavg()[0]
        if line.startswith("  "):
            result["load"][line.split()[0]] = round(load, 1)
        say(f"{line}  [load {load:.1f}]")

    tell(f"{url}: {subjects.transfers:,} transfers")
    with tempfile.TemporaryDirectory(prefix="baygate-scale-") as folder:
        lowered = lowered_rules(Path(folder))
        commands = operations(url, subjects, lowered, workers, public_key)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BAYGATE_")}
        for name in chosen:
            if name in commands:
                measured = run_command(name, commands[name], timeout, env, command)
                result["operations"].append(asdict(measured))
                tell(f"  {name:<18} {measured.seconds:>9.1f} s (CPU {measured.cpu_s:.1f} s)  "
                     f"peak {measured.peak_mb:>7.1f} MB "
                     f"(tree {measured.tree_peak_mb:.1f})  exit {measured.exit_code}  {measured.note}")
            elif name == "withdraw":
                times = withdrawal_ms(url)
                result["withdraw_ms"] = statistics.median(wall for wall, _cpu in times) if times else None
                result["withdraw_cpu_ms"] = statistics.median(cpu for _wall, cpu in times) if times else None
                tell(f"  withdraw           {result['withdraw_ms']} ms, CPU {result['withdraw_cpu_ms']} ms (median of "
                     f"{len(times)} on one open ledger: {times})")
            elif name == "submit":
                from api.bench.inprocess import shipped_engine

                result["submit_per_s"] = submit_rate(url, shipped_engine(), ROOT / "rules")
                tell(f"  submit             {result['submit_per_s']:,.0f}/s (8 threads, 2,000 transfers)")
            elif name == "submit-file":
                result["submit_file"] = scale_bulk.list_file(url)
                found = result["submit_file"]
                tell(f"  submit-file        {found['per_s']:,.0f}/s, {found['per_cpu_s']:,.0f} per CPU-second "
                     f"({found['count']:,} in {found['seconds']} s, "
                     f"peak {found['peak_mb']} MB, exit {found['exit_code']})  {found['note']}")
            elif name == "http-batch" or name.startswith("http-batch-c"):
                clients, serving = batch_op(name)  # not ``workers``: that is the replay's and diff's
                if clients < 1 or serving < 1:
                    tell(f"  {name}: say how many clients (and workers), e.g. http-batch-c2 or http-batch-c2-w2")
                    continue
                found = result[name.replace("-", "_")] = scale_bulk.http_batch(url, clients=clients, workers=serving)
                tell(f"  {name:<18} {found['per_s']:,.0f}/s, {found['per_cpu_s']:,.0f} per worker CPU-second "
                     f"({found['recorded']:,} in {found['seconds']} s, {clients} client(s), {serving} worker(s), "
                     f"batches of {found['batch']}; worker "
                     f"{found['worker_mb_before']} -> {found['worker_peak_mb']} MB"
                     + (f"; CPU shares {'/'.join(map(str, found['worker_cpu_shares']))} %" if serving > 1 else "")
                     + ")")
            elif name == "size":
                result["size"] = stored_bytes(url)
                tell(f"  size               {result['size']['bytes'] / 1e6:,.1f} MB, "
                     f"{result['size']['bytes_per_transfer']:,} bytes a transfer")
            else:
                tell(f"  {name}: unknown operation")
    return result

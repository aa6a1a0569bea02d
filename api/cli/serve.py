"""``baygate serve``: the HTTP service on uvicorn (DESIGN section 6).

Without API keys every route is open, so the service binds to loopback only and refuses another
``--host``; it says so at start-up. With several workers, Prometheus multiprocess mode is switched
on here, before any worker imports the metrics, so ``/metrics`` sums every worker. SIGTERM and
SIGINT shut down gracefully: no new connections, requests in flight are finished (up to
``--grace`` seconds). SIGHUP reloads the rule packs in every worker (a bad set is refused and logged),
and workers holding too many pack versions are replaced: see ``api.http.supervisor``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from api.exits import EXIT_BAD_INPUT, fail, fail_on
from api.http.accesslog import ACCESS_LOG_IDS_ENV
from api.http.lifecycle import RUN_DIR_ENV, Generations
from api.http.security import is_loopback, load_keys
from api.http.settings import Settings, head_limits
from engine import packfiles
from engine.config import rules_directory
from engine.errors import BaygateError, RulePackError
from engine.evaluator import coerce_options
from engine.ledger.database import make_engine
from engine.rulespec import load_pack_set


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind; without API keys, loopback only.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=0, max=65535)] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.", min=1, max=64)] = 1,
    rules: Annotated[str | None, typer.Option("--rules", help="Rule pack folder (default: BAYGATE_RULES "
                                              "or the shipped rules/).")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: BAYGATE_DATABASE_URL or "
                                           "sqlite:///baygate.db).")] = None,
    grace: Annotated[int, typer.Option("--grace", help="Seconds to finish requests in flight on shutdown.")]
    = 30,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="Log every request "
                                             "(method, path, status; never keys).")] = True,
    access_log_ids: Annotated[bool, typer.Option("--access-log-ids/--no-access-log-ids", help="Log paths as "
                                                 "sent, with transfer and exporter ids (default: ids and query "
                                                 "values left out).")] = False,
) -> None:
    """Run the HTTP API (OpenAPI at /docs)."""
    try:
        keys = load_keys(os.environ)
    except BaygateError as exc:
        fail_on(exc)
    if not keys.configured:
        if not is_loopback(host):
            fail(f"--host {host}: no API keys are configured (BAYGATE_API_KEYS or BAYGATE_API_KEYS_FILE), "
                 "so the service binds to loopback only; configure keys to serve other machines")
        typer.echo("baygate: no API keys configured: every route is open, bound to loopback only "
                   f"({host})", err=True)
    if rules:
        os.environ["BAYGATE_RULES"] = rules
    if db:
        os.environ["BAYGATE_DATABASE_URL"] = db
    os.environ[ACCESS_LOG_IDS_ENV] = "1" if access_log_ids else "0"
    folder = rules_directory()
    run_dir = Path(tempfile.mkdtemp(prefix="baygate-run-"))
    try:
        # read once into the run folder: the set checked here is the set published to the workers
        source = packfiles.snapshot(folder, run_dir / "start")
        pack_set = load_pack_set(source)  # refuse a bad pack set before any worker starts
        settings = Settings.from_env()  # every setting a worker reads, checked once here (see Settings)
        _, max_head = head_limits()
        options = settings.options
        coerce_options(pack_set, options)
        make_engine(settings.database_url).dispose()  # the backend and its settings (no connection yet)
    except RulePackError as exc:
        shutil.rmtree(run_dir, ignore_errors=True)
        typer.echo(str(exc), err=True)
        fail(f"{folder}: rule packs refused, not starting")
    except BaygateError as exc:
        shutil.rmtree(run_dir, ignore_errors=True)
        fail_on(exc, "not starting")
    from api.web.session import secret_for_workers

    secret_for_workers(os.environ)  # the web page's sessions: one signing secret for every worker
    metrics_dir = _multiprocess_dir(workers)
    # Workers load the published generation, so every worker (and every replacement) serves the
    # accepted packs; reloads publish the next one (api.http.lifecycle).
    os.environ[RUN_DIR_ENV] = str(run_dir)
    generations = Generations(run_dir)
    generations.publish(pack_set, source)
    import uvicorn

    from api.http.conventions import logging_config
    from api.http.server import HTTP_PROTOCOL
    from api.http.supervisor import Supervisor

    try:
        config = uvicorn.Config("api.http.app:create_app_from_env", factory=True, host=host, port=port,
                                workers=workers, http=HTTP_PROTOCOL, h11_max_incomplete_event_size=max_head,
                                timeout_graceful_shutdown=grace, access_log=access_log, log_level="info",
                                log_config=logging_config(), timeout_worker_healthcheck=HEALTHCHECK_SECONDS)
        Supervisor(config, [config.bind_socket()], generations, folder, options).run()
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


HEALTHCHECK_SECONDS = 30
"""How long the supervisor waits for a worker to answer its health check before killing it as hung
(uvicorn's default is 5 s). A starting worker loads and compiles the rule packs; on a loaded host (seen
at load 12 on 2 cores) its answer came later than 5 s, uvicorn killed it, and then every replacement in
turn ("Child process died"), so the service never came up."""


def _multiprocess_dir(workers: int) -> Path | None:
    """Prometheus multiprocess mode for several workers: a fresh folder (returned when we made it, to be
    removed at exit), or the configured one emptied, since stale files would count again."""
    if workers == 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        return None
    made = Path(tempfile.mkdtemp(prefix="baygate-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(made)
    return made


__all__ = ["EXIT_BAD_INPUT", "serve"]

"""Rule packs across worker processes: reload generations, catching up, retiring, and as-of engines.

A reload answered by one worker must hold for every worker (DESIGN section 1 job 3), and a worker
that is restarted must come back with the packs that were accepted, not with whatever is on disk by
then. So the accepted pack set is *published* in a run folder that ``baygate serve`` creates and names
in ``BAYGATE_RUN_DIR``:

- ``gen-N/<rules folder name>/...``: the exact texts of generation N (each checked against its
  digest while copied), written before
- ``current.json`` ``{"generation": N, "digest": ...}``, replaced atomically (``os.replace``) under an
  ``flock``, so a reader sees the old generation or the new one, whole.

Every request first compares ``current.json``'s ``stat`` with the one it saw last (one system call,
about a microsecond); when it changed, the worker loads generation N from its folder in the thread
pool (the event loop keeps serving), builds the engine and swaps it in with one attribute store, and
only then answers. So once ``POST /v1/rules/reload`` (or ``SIGHUP`` to ``baygate serve``) has answered,
no worker answers with the old packs. A bad pack set is never published: the reload is refused with
a 422 naming file, line and rule id, and every worker keeps serving the generation it has.

durable-rules can never free a ruleset (DESIGN section 7), so each pack version a worker loads (a
reload, or an old version for ``?as_of=``) stays in its memory. Once a worker has loaded more than
``BAYGATE_MAX_PACK_VERSIONS`` (default 4) versions it asks the supervisor to replace it by writing
``retire/<pid>``; the supervisor (``api.http.supervisor``) starts a fresh worker, waits until it is
ready, then stops the old one gracefully. Without a run folder (an app built directly, as some tests
do) reloads stay within the process, as before.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from api.http import metrics
from engine.evaluator import Engine
from engine.ledger.actors import SERVICE, Actor
from engine.ledger.packs import pack_text
from engine.replay import PackLibrary, engine_as_of
from engine.rulespec import PackSet, load_pack_set

log = logging.getLogger("uvicorn.error")  # worker lifecycle: shown with uvicorn's own process messages

RUN_DIR_ENV = "BAYGATE_RUN_DIR"
MAX_VERSIONS_ENV = "BAYGATE_MAX_PACK_VERSIONS"
DEFAULT_MAX_VERSIONS = 4
KEEP_GENERATIONS = 3
"""Generation folders kept besides the current one (a worker may still be reading the previous)."""


class Generations:
    """The published pack sets in a run folder (see the module docstring)."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.current_file = self.folder / "current.json"
        self.retire_dir = self.folder / "retire"
        self.published_stamp: tuple[int, int, int] | None = None
        """current.json's stamp right after this process's last publish (see PackLifecycle.install)."""

    @classmethod
    def from_env(cls) -> Generations | None:
        folder = os.environ.get(RUN_DIR_ENV)
        return cls(folder) if folder else None

    def stamp(self) -> tuple[int, int, int] | None:
        """What changes whenever current.json is replaced (inode, mtime, size); None if absent."""
        try:
            st = os.stat(self.current_file)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.current_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return data

    def root(self, generation: int) -> Path:
        """The rules folder of a generation (one folder inside ``gen-N``, named like the original)."""
        folders = [p for p in (self.folder / f"gen-{generation}").iterdir() if p.is_dir()]
        return folders[0]

    def load(self, generation: int) -> PackSet:
        return load_pack_set(self.root(generation))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def publish(self, pack_set: PackSet, rules_dir: Path) -> int:
        """Copy the texts of ``pack_set`` (found under ``rules_dir``, each checked against its digest)
        into a new generation and make it current; returns its number. The caller has validated it."""
        rules_dir = Path(rules_dir)
        with self._locked():
            current = self.current()
            if current is not None and current.get("digest") == pack_set.digest:
                self.published_stamp = self.stamp()
                return int(current["generation"])
            generation = int(current["generation"]) + 1 if current else 1
            target = self.folder / f"gen-{generation}"
            shutil.rmtree(target, ignore_errors=True)
            root = target / rules_dir.name
            for pack in pack_set.packs:
                parts = Path(pack.file).parts
                relative = Path(*parts[1:]) if len(parts) > 1 else Path(parts[0])
                (root / relative).parent.mkdir(parents=True, exist_ok=True)
                (root / relative).write_text(pack_text(pack, [rules_dir]), encoding="utf-8")
            temporary = self.folder / f"current.json.{os.getpid()}"
            temporary.write_text(json.dumps({"generation": generation, "digest": pack_set.digest,
                                             "published_at": dt.datetime.now(dt.UTC).isoformat()}),
                                 encoding="utf-8")
            os.replace(temporary, self.current_file)
            # taken under the lock: a generation another worker publishes right after is a change to it
            self.published_stamp = self.stamp()
            for old in self.folder.glob("gen-*"):
                number = old.name[4:]
                if number.isdigit() and int(number) < generation - KEEP_GENERATIONS:
                    shutil.rmtree(old, ignore_errors=True)
            return generation

    def request_retirement(self, pid: int) -> None:
        self.retire_dir.mkdir(parents=True, exist_ok=True)
        (self.retire_dir / str(pid)).touch()

    def retirements(self) -> list[int]:
        """Pids of workers that asked to be replaced (their requests are consumed)."""
        if not self.retire_dir.is_dir():
            return []
        pids = []
        for entry in self.retire_dir.iterdir():
            entry.unlink(missing_ok=True)
            if entry.name.isdigit():
                pids.append(int(entry.name))
        return pids


def max_versions() -> int:
    try:
        return max(1, int(os.environ.get(MAX_VERSIONS_ENV) or DEFAULT_MAX_VERSIONS))
    except ValueError:
        return DEFAULT_MAX_VERSIONS


class PackLifecycle:
    """One worker's view: keeps ``state.engine`` at the published generation, publishes its own
    reloads, builds as-of engines, and asks to be replaced once it holds too many versions."""

    def __init__(self, state: Any, generations: Generations | None, generation: int | None,
                 stamp: tuple[int, int, int] | None = None) -> None:
        self.state = state
        self.generations = generations
        self.generation = generation
        self.stamp = stamp
        """current.json as it was *before* the generation we serve was read: a generation published
        in between then shows as a change, never as one we already have."""
        self.loaded: set[str] = {state.engine.digest}
        self.limit = max_versions()
        self.retiring = False
        self._library: PackLibrary | None = None
        self._library_lock = threading.Lock()

    # ------------------------------------------------------------------ generations

    def stale(self) -> bool:
        """Cheap check on every request: has a new generation been published since we looked?"""
        return self.generations is not None and self.generations.stamp() != self.stamp

    def catch_up(self) -> None:
        """Load the published generation, if newer than ours, and swap it in (runs in the thread pool)."""
        generations = self.generations
        if generations is None:
            return
        with self.state.reload_lock:
            stamp = generations.stamp()
            if stamp == self.stamp:
                return
            current = generations.current()
            if current is None or current.get("digest") == self.state.engine.digest:
                self.stamp = stamp
                self.generation = int(current["generation"]) if current else self.generation
                return
            generation = int(current["generation"])
            try:
                engine = Engine(generations.load(generation), self.state.settings.options)
            except Exception:  # published sets were validated; say so loudly and keep serving
                log.exception("cannot load published rule pack generation %s; still serving %s",
                              generation, self.state.engine.digest)
                self.stamp = stamp
                return
            previous = self.state.engine.digest
            self.state.engine = engine
            self.stamp, self.generation = stamp, generation
            metrics.set_rules_digest(engine.digest)
            log.info("worker %s: rule pack generation %s swapped in: %s -> %s",
                     os.getpid(), generation, previous, engine.digest)
            self.note_loaded(engine)

    def install(self, engine: Engine, source: Path, actor: Actor | None = None) -> None:
        """A reload's engine, built from the snapshot ``source``: publish that snapshot for the other
        workers first, then swap it in here, and record in the ledger who put it in service (``actor``:
        the reloading key). Publishing can fail (a full disk): then nothing is swapped anywhere, and the
        error is the reload's answer, so no worker ever serves a set that is not the one recorded as
        current. The ledger learns the published folder, where the texts of this version stay while
        they may still be needed to store them by digest."""
        if self.generations is not None:
            generation = self.generations.publish(engine.pack_set, source)
            root = self.generations.root(generation)
            if root not in self.state.ledger.rules_dirs:
                self.state.ledger.rules_dirs.append(root)
            self.generation, self.stamp = generation, self.generations.published_stamp
        elif source not in self.state.ledger.rules_dirs:
            self.state.ledger.rules_dirs.append(source)  # an app without a run folder keeps its snapshots
        self.state.engine = engine
        self.note_loaded(engine, actor)

    def note_loaded(self, engine: Engine, actor: Actor | None = None, in_service: bool = True) -> None:
        """Count a pack version now registered in this process; when it is put in service, store its
        texts in the ledger and record the change of set (as-of reads both), and retire past the limit.
        A version loaded for ``?as_of=`` is not put in service: it came from the ledger, and recording
        it would tell as-of evaluation that the service went back to it."""
        self.loaded.add(engine.digest)
        if in_service:
            self.store(engine, actor)
        if len(self.loaded) > self.limit and not self.retiring and self.generations is not None:
            self.retiring = True
            log.info("worker %s holds %d rule pack versions (limit %d): asking to be replaced",
                     os.getpid(), len(self.loaded), self.limit)
            self.generations.request_retirement(os.getpid())

    def store(self, engine: Engine, actor: Actor | None = None) -> None:
        """Best effort: a database that is down must not stop a reload; submissions store packs too."""
        try:
            self.state.use_ledger().store_packs(engine, actor or Actor(SERVICE))
        except Exception as exc:
            log.warning("could not record rule packs %s in the ledger now (%s); the first submission "
                        "will", engine.digest, exc)

    # ------------------------------------------------------------------ as of

    def engine_as_of(self, day: dt.date | None) -> Engine:
        """The engine for ``?as_of=day`` (thread pool: an old version is loaded from the ledger once)."""
        with self._library_lock:
            if self._library is None:
                self._library = PackLibrary(self.state.use_ledger())
            library = self._library
            library.refresh()
            engine = engine_as_of(library, day, self.state.engine, self.state.settings.options)
        if engine.digest not in self.loaded:
            self.note_loaded(engine, in_service=False)
        return engine


def initial_pack_set(rules_dir: Path) -> tuple[PackSet, Generations | None, int | None,
                                                tuple[int, int, int] | None]:
    """What a starting worker serves: the published generation when there is one (so a replaced
    worker comes back with the accepted packs, not with an unreviewed edit on disk), else the folder;
    with the generation's number and the stamp of current.json taken before it was read."""
    generations = Generations.from_env()
    if generations is not None:
        stamp = generations.stamp()
        current = generations.current()
        if current is not None:
            generation = int(current["generation"])
            return generations.load(generation), generations, generation, stamp
    return load_pack_set(rules_dir), generations, None, None


class CatchUpMiddleware:
    """Pure ASGI: before each HTTP request, catch up with a newly published generation (stat only
    when nothing changed; the load itself runs in the thread pool)."""

    def __init__(self, app: ASGIApp, lifecycle: PackLifecycle) -> None:
        self.app = app
        self.lifecycle = lifecycle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.lifecycle.stale():
            from starlette.concurrency import run_in_threadpool

            await run_in_threadpool(self.lifecycle.catch_up)
        await self.app(scope, receive, send)


def lifecycle_of(app_state: Any) -> PackLifecycle:
    lifecycle: PackLifecycle = app_state.lifecycle
    return lifecycle


async def engine_for(app_state: Any, state: Any, as_of: dt.date | None) -> Engine:
    """The engine for an evaluate route: the one being served, or (``?as_of=`` on an earlier day) the
    pack versions in use that day. A day before the first stored version, or a future day, is a 422
    problem on the ``as_of`` query parameter naming the first stored day."""
    if as_of is None:
        return state.engine  # type: ignore[no-any-return]
    from starlette.concurrency import run_in_threadpool

    from api.http.problems import ProblemError
    from engine.replay import AsOfError

    try:
        return await run_in_threadpool(lifecycle_of(app_state).engine_as_of, as_of)
    except AsOfError as exc:
        first = exc.first_day.isoformat() if exc.first_day else None
        raise ProblemError(422, "bad-input", str(exc), errors=[{"path": "as_of", "message": str(exc),
                                                                 "in": "query"}],
                           first_stored_day=first) from None

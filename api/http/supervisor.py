"""``baygate serve``'s process supervisor: uvicorn's, plus pack reloads on SIGHUP and worker retirement.

uvicorn's multi-worker supervisor (0.54 here) already respawns a worker that dies and, on SIGHUP,
restarts every worker. We keep its respawning and change two things:

- **SIGHUP reloads the rule packs** instead of restarting blindly: the folder is loaded, validated and
  compiled here (compiled only, not registered: the supervisor never evaluates, and a registered
  ruleset could never be freed), then published as a new generation that every worker swaps in
  before its next answer (``api.http.lifecycle``). A bad set is logged with file, line and rule id
  and never published; the workers keep serving. A restart would instead have had each new worker
  read the folder on its own, and a bad pack would have stopped it from starting.
- **Retirement**: a worker that has loaded more pack versions than allowed writes ``retire/<pid>``;
  the supervisor starts its replacement, waits until it answers, and only then stops the old one
  gracefully (requests in flight finish), so memory stays bounded without refusing a request.

The supervisor is used for one worker too: a single worker needs replacing just the same.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from socket import socket
from typing import Any

from uvicorn.config import Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from api.http.lifecycle import Generations
from engine import packfiles
from engine.compiler import compile_pack_set
from engine.errors import RulePackError
from engine.evaluator import coerce_options
from engine.rulespec import load_pack_set

logger = logging.getLogger("uvicorn.error")
READY_SECONDS = 60


def reload_from_disk(generations: Generations, rules_dir: Path, options: Mapping[str, Any]) -> int | None:
    """Validate the folder whole and publish it; returns the generation, or None when refused."""
    try:
        with tempfile.TemporaryDirectory(prefix="baygate-sighup-") as folder:
            source = packfiles.snapshot(rules_dir, Path(folder))  # read once: what is checked is published
            pack_set = load_pack_set(source)
            coerce_options(pack_set, options)
            compile_pack_set(pack_set)
            current = generations.current()
            generation = generations.publish(pack_set, source)
    except RulePackError as exc:
        logger.error("SIGHUP: rule packs in %s refused, still serving the current generation:\n%s",
                     rules_dir, exc)
        return None
    except Exception as exc:
        logger.error("SIGHUP: rule packs in %s refused (%s), still serving the current generation",
                     rules_dir, exc)
        return None
    if current is not None and current.get("digest") == pack_set.digest:
        logger.info("SIGHUP: rule packs unchanged (%s, generation %s)", pack_set.digest, generation)
    else:
        logger.info("SIGHUP: rule packs %s published as generation %s", pack_set.digest, generation)
    return generation


class Supervisor(Multiprocess):
    """uvicorn's Multiprocess with SIGHUP = reload packs, and retirement of workers on request."""

    def __init__(self, config: Config, sockets: list[socket], generations: Generations, rules_dir: Path,
                 options: Mapping[str, Any]) -> None:
        super().__init__(config, sockets)
        self.generations = generations
        self.rules_dir = rules_dir
        self.options = dict(options)

    def handle_hup(self) -> None:
        logger.info("Received SIGHUP, reloading rule packs from %s.", self.rules_dir)
        reload_from_disk(self.generations, self.rules_dir, self.options)

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        if self.should_exit.is_set():
            return
        for pid in self.generations.retirements():
            for index, process in enumerate(self.processes):
                if process.pid == pid:
                    self.replace(index)

    def replace(self, index: int) -> None:
        """Bring up a new worker, then retire the old one; keep the old one if the new never starts."""
        old = self.processes[index]
        new = Process(self.config, self.sockets)
        new.start()
        # A worker starts in a second or two, longer while the others are busy loading a reload:
        # give it more than uvicorn's 5 s health-check timeout before giving up.
        if not new.wait_until_ready(max(self.config.timeout_worker_healthcheck, READY_SECONDS), self.should_exit):
            new.kill()
            new.join()
            if not self.should_exit.is_set() and old.pid is not None:
                logger.error(f"Replacement worker [{new.pid}] was not ready; keeping worker [{old.pid}] "
                             "and trying again.")
                self.generations.request_retirement(old.pid)
            return
        self.processes[index] = new
        logger.info(f"Worker [{old.pid}] replaced by [{new.pid}] (too many rule pack versions loaded).")
        old.terminate()
        # Joining waits for its requests in flight (up to the grace period): not on the supervisor's loop.
        threading.Thread(target=old.join, name=f"join-{old.pid}", daemon=True).start()

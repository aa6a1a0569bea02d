"""Ledgers at scale (issue 21): build one through the project's own submit path.

The figures of DESIGN section 9's "ledger at scale" (verify, replay and diff time and memory, storage
per transfer, withdrawals at 10^6) mean something only on a ledger that looks like a real one, recorded
the way a real one is. So a ledger is built here by ``Ledger.submit`` from several threads (group
commit, as ``baygate serve`` records), from requests made of the shared scenarios' (every route the
packs know: permitted, conditional and prohibited, exemptions, GBA contracts, sensitive data, the
2022-2024 regime), varied in exporter, reference, day and volume:

- exporters follow a Zipf law (the first sends about a sixth of everything: at 10^6 that is an
  exporter-year of 80,000 transfers, where replays used to be quadratic);
- one transfer in ten names a population of its exporter (one of 20), with a figure that grows, as
  a bank sends its customer base again;
- one transfer in 200 is withdrawn shortly after (a withdrawal mid-chain changes the counts replays
  must rebuild);
- one transfer in 250 is amended a while after (``engine.ledger.amend``: its planned date moved a day,
  so it is decided afresh; the decision it replaces moves to ``replaced_decisions`` and the amendment
  event releases it before the new one counts: what verify and the replays walk beside the transfers).

Item ``i`` is a pure function of ``i`` (and the seed), so a build that stops can be resumed: submitting
an item again answers the recorded decision (the reference is the idempotency key).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.bench import ROOT
from engine.evaluator import Engine
from engine.ledger import Ledger, NotFound
from engine.ledger.amend import amend
from engine.ledger.amendments import AmendWithdrawn
from engine.models import TransferRequest

EXPORTERS = 500
POPULATIONS = 20
WITHDRAW_EVERY = 200
WITHDRAW_LAG = 100
AMEND_EVERY = 250
AMEND_LAG = 150


def _templates() -> list[dict[str, Any]]:
    """The shared scenarios' requests (both files), as plain JSON documents."""
    from ruamel.yaml import YAML

    found: list[dict[str, Any]] = []
    for name in ("scenarios.yaml", "more-scenarios.yaml"):
        path = ROOT / "tests" / "data" / name
        for scenario in YAML(typ="safe").load(path.read_text(encoding="utf-8"))["scenarios"]:
            found.append(TransferRequest.model_validate(scenario["request"]).model_dump(mode="json"))
    return found


def exporter_id(number: int) -> str:
    return f"91440300SCALE{number:05d}"


@dataclass(frozen=True)
class Requests:
    """Item ``i`` of a scale ledger, the same on every call."""

    seed: int = 21
    templates: tuple[dict[str, Any], ...] = ()

    @classmethod
    def make(cls, seed: int = 21) -> Requests:
        return cls(seed, tuple(_templates()))

    def exporter_of(self, index: int) -> int:
        rng = random.Random(self.seed * 1_000_003 + index)
        return _zipf(rng)

    def document(self, index: int) -> dict[str, Any]:
        rng = random.Random(self.seed * 1_000_003 + index)
        number = _zipf(rng)
        template = self.templates[rng.randrange(len(self.templates))]
        document: dict[str, Any] = {**template}
        document["reference"] = f"S-{index:08d}"
        document["exporter"] = {**template["exporter"], "id": exporter_id(number)}
        year = int(str(template["planned_date"])[:4])
        day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        document["planned_date"] = min(day, dt.date(2026, 12, 31)).isoformat()
        data = [dict(item) for item in template["data"]]
        for item in data:
            if item.get("subjects"):
                item["subjects"] = rng.choice((1, 12, 150, 800, 2_500, 4_000, 9_000, 30_000))
        if data and data[0].get("subjects") and rng.random() < 0.1:
            data[0]["population"] = f"customers-{rng.randrange(POPULATIONS)}"
            data[0]["subjects"] = 1_000 + index // 50 + rng.randrange(500)
        document["data"] = data
        document.pop("declared_prior", None)
        return document

    def request(self, index: int) -> TransferRequest:
        return TransferRequest.model_validate(self.document(index))

    def amended(self, index: int) -> TransferRequest:
        """Item ``index`` amended: its planned date a day later (earlier on the last day of a year)."""
        document = self.document(index)
        day = dt.date.fromisoformat(document["planned_date"])
        document["planned_date"] = (day + dt.timedelta(days=-1 if (day.month, day.day) == (12, 31) else 1)).isoformat()
        return TransferRequest.model_validate(document)


def _zipf(rng: random.Random) -> int:
    """An exporter number in 0..EXPORTERS-1, the k-th with weight 1/(k+1)."""
    return rng.choices(range(EXPORTERS), weights=_WEIGHTS)[0]


_WEIGHTS = [1.0 / (k + 1) for k in range(EXPORTERS)]


def withdrawn_after(index: int) -> int | None:
    """The item withdrawn once item ``index`` is recorded, if any: every WITHDRAW_EVERY-th item, a
    while after it was recorded (so that later transfers of its exporter were decided with it)."""
    earlier = index - WITHDRAW_LAG
    return earlier if earlier >= 0 and earlier % WITHDRAW_EVERY == 7 else None


def amended_after(index: int) -> int | None:
    """The item amended once item ``index`` is recorded, if any: every AMEND_EVERY-th item, a while after."""
    earlier = index - AMEND_LAG
    return earlier if earlier >= 0 and earlier % AMEND_EVERY == 42 else None


def _amend(ledger: Ledger, engine: Engine, requests: Requests, index: int) -> bool:
    """Amend item ``index`` (once: the same amendment again records nothing); False if it was withdrawn."""
    try:
        return not amend(ledger, engine, f"S-{index:08d}", requests.amended(index),
                         exporter_id(requests.exporter_of(index))).unchanged
    except AmendWithdrawn:
        return False


def build_in_bulk(url: str, size: int, engine: Engine, rules: Path, seed: int = 21, group: int = 250,
                  say: Callable[[str], None] = print) -> dict[str, Any]:
    """The same ledger through ``Ledger.submit_many`` (a list file's path): groups of ``group`` in one
    transaction, the due withdrawals between groups. Faster to build (one commit a group), the same rows."""
    requests = Requests.make(seed)
    ledger = Ledger(url, rules_dirs=[rules])
    done = {"recorded": 0, "replayed": 0, "withdrawn": 0, "amended": 0}
    try:
        ledger.store_packs(engine)
        started = last = time.monotonic()
        for start in range(0, size, group):
            chunk = range(start, min(size, start + group))
            for result in ledger.submit_many(engine, (requests.request(index) for index in chunk)):
                if isinstance(result, Exception):
                    raise result
                done["replayed" if result.replayed else "recorded"] += 1
            for index in chunk:
                earlier = withdrawn_after(index)
                if earlier is not None:
                    done["withdrawn"] += not ledger.withdraw(f"S-{earlier:08d}", exporter_id(
                        requests.exporter_of(earlier))).already_withdrawn
                earlier = amended_after(index)
                if earlier is not None:
                    done["amended"] += _amend(ledger, engine, requests, earlier)
            if time.monotonic() - last >= 30:
                last = time.monotonic()
                total = done["recorded"] + done["replayed"]
                say(f"  {total:,} of {size:,} ({total / (last - started):,.0f}/s)")
        elapsed = time.monotonic() - started
    finally:
        ledger.close()
    return {**done, "seconds": round(elapsed, 1),
            "recorded_per_s": round(done["recorded"] / elapsed, 1) if elapsed else None}


def build(url: str, size: int, engine: Engine, rules: Path, threads: int = 8, seed: int = 21,
          say: Callable[[str], None] = print) -> dict[str, Any]:
    """Submit items 0..size-1 (those already recorded are answered as such) and withdraw every
    WITHDRAW_EVERY-th; returns what was done and how fast."""
    requests = Requests.make(seed)
    ledger = Ledger(url, rules_dirs=[rules])
    lock = threading.Lock()
    counter = iter(range(size))
    done = {"recorded": 0, "replayed": 0, "withdrawn": 0, "amended": 0}
    errors: list[BaseException] = []

    def next_index() -> int | None:
        with lock:
            return next(counter, None)

    def client() -> None:
        try:
            while (index := next_index()) is not None:
                result = ledger.submit(engine, requests.request(index))
                earlier = withdrawn_after(index)
                withdrew = False
                if earlier is not None:
                    with contextlib.suppress(NotFound):  # not committed yet by another thread: one fewer
                        withdrew = not ledger.withdraw(f"S-{earlier:08d}", exporter_id(
                            requests.exporter_of(earlier))).already_withdrawn
                amended = False
                if (earlier := amended_after(index)) is not None:
                    with contextlib.suppress(NotFound):  # not committed yet by another thread: one fewer
                        amended = _amend(ledger, engine, requests, earlier)
                with lock:
                    done["replayed" if result.replayed else "recorded"] += 1
                    done["withdrawn"] += withdrew
                    done["amended"] += amended
        except BaseException as exc:  # reported below, never hidden
            errors.append(exc)

    try:
        ledger.store_packs(engine)
        started = time.monotonic()
        workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
        for worker in workers:
            worker.start()
        last = started
        while any(worker.is_alive() for worker in workers):
            workers[0].join(timeout=1.0)
            if time.monotonic() - last >= 30:
                last = time.monotonic()
                total = done["recorded"] + done["replayed"]
                say(f"  {total:,} of {size:,} ({total / (last - started):,.0f}/s)")
        elapsed = time.monotonic() - started
    finally:
        ledger.close()
    if errors:
        raise errors[0]
    return {**done, "seconds": round(elapsed, 1),
            "recorded_per_s": round(done["recorded"] / elapsed, 1) if elapsed else None}

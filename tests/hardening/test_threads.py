"""The engine under threads (issue 10, point 3): 8 threads share one Engine through its public API and
their decisions equal the same decisions made one by one, in one thread.

The suite runs the issue's full 8 x 5,000 decisions (about 12 s here); ``BAYGATE_THREAD_DECISIONS``
sets the number per thread (e.g. 500 for a quick run, 50000 for a soak).
"""

from __future__ import annotations

import os
import random
import threading
from typing import Any

from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.models import Decision, TransferRequest
from engine.rulespec import load_pack_set
from tests.hardening.conftest import ROOT, good_request

THREADS = 8
PER_THREAD = int(os.environ.get("BAYGATE_THREAD_DECISIONS", "5000"))


def _varied_requests(count: int) -> list[tuple[TransferRequest, PriorCounts]]:
    """Requests across routes: volumes around every threshold, sensitive data, CIIO, classification,
    exemptions, mechanisms in place, both regimes, prohibited cases."""
    rng = random.Random(10)
    out = []
    for index in range(count):
        body = good_request(reference=f"TH-{index}")
        body["planned_date"] = rng.choice(["2023-06-01", "2024-03-21", "2024-03-22", "2026-12-01"])
        body["purpose"] = rng.choice(["other", "contract_performance", "hr_management", "judicial_request"])
        body["exporter"]["ciio"] = rng.random() < 0.1
        body["recipient"]["jurisdiction"] = rng.choice(["HK", "HK", "SG", "MO"])
        body["data"] = [{"kind": "personal",
                         "subjects": rng.choice([1, 9_999, 10_000, 99_999, 100_000, 999_999, 1_000_000]),
                         "sensitive": rng.choice([[], ["medical_health"]]),
                         "classification": rng.choice(["general"] * 6 + ["important", "core", "state_secret"])}]
        if rng.random() < 0.5:
            body["safeguards"]["mechanisms"] = []
        prior = PriorCounts(personal_subjects=rng.choice([0, 50_000, 900_000]))
        out.append((TransferRequest.model_validate(body), prior))
    return out


def _summary(decision: Decision) -> tuple[Any, ...]:
    return (decision.outcome, decision.mechanism, tuple(decision.mechanism_options), tuple(decision.exemptions),
            tuple(reason.rule for reason in decision.reasons),
            tuple(str(m) for m in decision.missing), tuple(o.id for o in decision.obligations))


def test_eight_threads_decide_as_one_thread_does() -> None:
    engine = Engine(load_pack_set(ROOT / "rules"))
    cases = _varied_requests(400)
    expected = [_summary(engine.evaluate(request, prior)) for request, prior in cases]
    assert len({e[0] for e in expected}) == 3  # every outcome is among them
    results: dict[int, list[tuple[int, tuple[Any, ...]]]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(worker: int) -> None:
        order = random.Random(worker)
        mine = []
        try:
            start.wait()
            for _ in range(PER_THREAD):
                index = order.randrange(len(cases))
                request, prior = cases[index]
                mine.append((index, _summary(engine.evaluate(request, prior))))
        except BaseException as exc:  # reported below
            errors.append(exc)
        results[worker] = mine

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert sum(len(r) for r in results.values()) == THREADS * PER_THREAD
    mismatches = [(index, got, expected[index]) for mine in results.values() for index, got in mine
                  if got != expected[index]]
    assert not mismatches, mismatches[:3]

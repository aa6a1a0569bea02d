"""In-process figures: a decision against durable-rules alone, memory growth, cost per rule count.

"durable-rules alone" is the engine adapter (:func:`engine.rete.fire`: lock, fresh session id,
writing each ruleset's fact as JSON, stages, state deletion) asserting exactly the facts the
evaluator asserted for the same request: the calls are recorded from a real evaluation and
replayed, so any stage the engine skips is skipped in the baseline too. "A decision" is
:meth:`Engine.evaluate`: fact derivation, the same rete calls and decision assembly.
"""

from __future__ import annotations

import copy
import gc
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from api.bench import ROOT
from engine import rete
from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.models import TransferRequest
from engine.rulespec import load_pack_set


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def sample_requests() -> list[TransferRequest]:
    """The shared scenarios' requests when the checkout has them, else the shipped examples."""
    scenarios = ROOT / "tests" / "data" / "scenarios.yaml"
    if scenarios.is_file():
        from ruamel.yaml import YAML

        data = YAML(typ="safe").load(scenarios.read_text(encoding="utf-8"))["scenarios"]
        return [TransferRequest.model_validate(s["request"]) for s in data]
    from engine.inputs import load_requests

    requests: list[TransferRequest] = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        requests += load_requests(path.read_bytes(), str(path))[0]
    if not requests:
        from api.http.encode import EXAMPLE_NOTHING_IN_PLACE, EXAMPLE_REQUEST

        requests = [TransferRequest.model_validate(EXAMPLE_REQUEST),
                    TransferRequest.model_validate(EXAMPLE_NOTHING_IN_PLACE)]
    return requests


@contextmanager
def _recording(calls: list[tuple[Any, ...]]) -> Iterator[None]:
    """Record every call the evaluator makes into rete.fire (arguments copied: the evaluator patches
    its fact sheet's exemptions between stages)."""
    real = rete.fire

    def recorder(*args: Any) -> Any:
        calls.append(copy.deepcopy(args))
        return real(*args)

    setattr(rete, "fire", recorder)  # noqa: B010 - a test double on purpose
    try:
        yield
    finally:
        setattr(rete, "fire", real)  # noqa: B010


def rete_calls(engine: Engine, request: TransferRequest, prior: PriorCounts) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    with _recording(calls):
        engine.evaluate(request, prior)
    return calls


def decision_timings(engine: Engine, requests: list[TransferRequest], rounds: int,
                     warmup: int = 20, varied: bool = False) -> dict[str, float]:
    """durable-only and whole-decision microseconds, interleaved request by request, in one block.

    With ``varied``, every round gives each request another prior count, none seen in the warm-up:
    the tallies a threshold rule reads change, so the engine's caches (reasons and assembled parts,
    keyed by the facts they read) miss for those rules as they would for a stream of different
    exporters. Without it the same requests repeat, the case the engine's caches serve best. Keys
    then end in ``_varied``."""
    return interleaved_decision_timings(engine, requests, rounds, blocks=1, warmup=warmup, kinds=(varied,))


def interleaved_decision_timings(engine: Engine, requests: list[TransferRequest], rounds: int, blocks: int = 5,
                                 warmup: int = 20, kinds: tuple[bool, ...] = (False, True)) -> dict[str, float]:
    """:func:`decision_timings` for each kind (plain, varied), measured in ``blocks`` blocks that
    alternate between the kinds. This machine is shared and now and then runs everything about half
    again as slow, for seconds at a time (seen on 4 December: durable-only alone at 92-98 us for a whole
    1.4 s phase, 63 us in the phase after it). In blocks, a spell shorter than the measurement falls on
    a fraction of each kind's pairs and leaves the medians alone; a longer one still shows, in
    durable-only as much as in the decision, which is how to tell it from a slower engine."""
    timings = [_Timing(engine, requests, rounds, varied) for varied in kinds]
    for timing in timings:
        timing.warm_up(warmup)
    # As `baygate serve` does once started (api/http/app.py): the start-up heap (packs, compiled
    # rules, the recorded calls) out of the collector's sight, so collections walk only new objects.
    gc.collect()
    gc.freeze()
    try:
        for block in range(blocks):
            for timing in timings:
                timing.run(range(block * rounds // blocks, (block + 1) * rounds // blocks))
    finally:
        gc.unfreeze()
    result: dict[str, float] = {}
    for timing in timings:
        result.update(timing.figures())
    return result


class _Timing:
    """One kind of decision timing: its recorded durable calls, warm-up and paired samples."""

    def __init__(self, engine: Engine, requests: list[TransferRequest], rounds: int, varied: bool) -> None:
        self.engine, self.requests, self.varied = engine, requests, varied
        self.plans = [[rete_calls(engine, request, self.prior_of(r)) for request in requests]
                      for r in range(rounds if varied else 1)]
        if varied:
            from engine.decision_plan import forget_plans

            forget_plans()  # recording the calls decided these exact requests: forget them
        self.durable: list[float] = []
        self.decision: list[float] = []

    def prior_of(self, round_index: int) -> PriorCounts:
        # Under 100,000 individuals, so the routes (and which rules fire) stay those of the scenarios.
        return PriorCounts(personal_subjects=(7_919 * (round_index + 1)) % 90_000) if self.varied else PriorCounts()

    def warm_up(self, rounds: int) -> None:
        for i in range(rounds):
            prior = PriorCounts(personal_subjects=90_000 + i) if self.varied else PriorCounts()
            for request in self.requests:
                self.engine.evaluate(request, prior)

    def run(self, round_indices: range) -> None:
        """durable-only and decision microseconds, request by request (same request, back to back)."""
        fire, evaluate, clock = rete.fire, self.engine.evaluate, time.perf_counter
        durable, decision = self.durable, self.decision
        for round_index in round_indices:
            prior = self.prior_of(round_index)
            for plan, request in zip(self.plans[round_index if self.varied else 0], self.requests, strict=True):
                start = clock()
                for args in plan:
                    fire(*args)
                durable.append((clock() - start) * 1e6)
                start = clock()
                evaluate(request, prior)
                decision.append((clock() - start) * 1e6)

    def figures(self) -> dict[str, float]:
        suffix = "_varied" if self.varied else ""
        result = {
            f"durable_only{suffix}_us_p50": round(statistics.median(self.durable), 1),
            f"durable_only{suffix}_us_p99": round(percentile(self.durable, 0.99), 1),
            f"decision{suffix}_us_p50": round(statistics.median(self.decision), 1),
            f"decision{suffix}_us_p99": round(percentile(self.decision, 0.99), 1),
        }
        # The overhead is taken per request (median of the paired differences): the two medians above
        # come from different requests, and durable-rules' share differs a lot between them.
        result[f"overhead{suffix}_us_p50"] = round(
            statistics.median(d - r for d, r in zip(self.decision, self.durable, strict=True)), 1)
        result[f"decisions{suffix}_timed"] = len(self.decision)
        return result


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_growth(engine: Engine, requests: list[TransferRequest], evaluations: int,
               warmup: int = 20_000, progress: Callable[[int], None] | None = None) -> dict[str, float]:
    """Resident memory growth (MB) over ``evaluations`` decisions, after a warm-up."""
    prior = PriorCounts()
    evaluate = engine.evaluate
    n = len(requests)
    for i in range(warmup):
        evaluate(requests[i % n], prior)
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    for i in range(evaluations):
        evaluate(requests[i % n], prior)
        if progress is not None and i % 100_000 == 0:
            progress(i)
    elapsed = time.perf_counter() - started
    gc.collect()
    growth = (rss_bytes() - before) / 1e6
    return {"rss_growth_mb_measured": round(growth, 2), "rss_evaluations": evaluations,
            "rss_evaluations_per_s": round(evaluations / elapsed)}


# ------------------------------------------------------------------------------------------------
# Cost against the number of rules


def synthetic_pack(count: int, name: str = "bench-synthetic") -> str:
    """A valid pack of ``count`` note rules over common facts; about one in ten matches a request of
    the shipped scenarios, so the alpha network has both matching and failing branches to walk."""
    facts = [("leaves_mainland", "eq", "true"), ("data.has_personal", "eq", "true"),
             ("exporter.ciio", "eq", "false"), ("recipient.in_gba", "eq", "true"),
             ("data.has_sensitive", "eq", "false")]
    lines = [f"pack: {name}", 'version: "1"', "title: Synthetic rules for baygate bench", "rules:"]
    for i in range(count):
        fact, op, value = facts[i % len(facts)]
        lines += [
            f"  - id: bench.r{i:04d}",
            f"    title: Synthetic rule {i}",
            "    when:",
            "      all:",
            f"        - {{fact: {fact}, {op}: {value}}}",
            f"        - {{fact: data.personal_subjects, gt: {1_000_000_000 + i if i % 10 else 0}}}",
            f"        - {{fact: onward.count, lt: {1 + (i % 3)}}}",
            "    then: {note: true}",
            '    cite: "synthetic"',
            "    effective: {from: 2020-01-01}",
            "    message:",
            f'      en: "Synthetic rule {i}."',
            f'      zh-Hans: "合成规则 {i}。"',
            f'      zh-Hant: "合成規則 {i}。"',
        ]
    return "\n".join(lines) + "\n"


def rule_scaling(requests: list[TransferRequest], counts: tuple[int, ...], rounds: int) -> list[dict[str, Any]]:
    """Per total rule count: a pack set of that many synthetic rules (compiled into rulesets of at
    most 60 rules, the compiler's cap), durable-only and decision microseconds."""
    rows = []
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="baygate-bench-rules-") as folder:
            Path(folder, "synthetic.yaml").write_text(synthetic_pack(count, f"bench-synthetic-{count}"),
                                                      encoding="utf-8")
            engine = Engine(load_pack_set(folder))
        timings = decision_timings(engine, requests, rounds, warmup=5)
        fired = statistics.mean(len(engine.fire(_facts(engine, r))) for r in requests)
        rulesets = sum(len(stage) for stage in engine.compiled.stages.values())
        rows.append({"rules": count, "rulesets": rulesets, "fired_mean": round(fired, 1),
                     "durable_only_us_p50": timings["durable_only_us_p50"],
                     "decision_us_p50": timings["decision_us_p50"],
                     "overhead_us_p50": timings["overhead_us_p50"]})
    return rows


def single_ruleset_scaling(requests: list[TransferRequest], counts: tuple[int, ...],
                           rounds: int) -> list[dict[str, Any]]:
    """durable-rules alone on ONE ruleset of 10, 100, 400 rules (the compiler's 60-rule cap bypassed:
    the synthetic rules match few enough per fact to stay under the alpha network's 64-entry stack)."""
    from engine.compiler import compile_ruleset

    rows = []
    prior = PriorCounts()
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="baygate-bench-rules-") as folder:
            Path(folder, "synthetic.yaml").write_text(synthetic_pack(count, f"bench-single-{count}"),
                                                      encoding="utf-8")
            pack_set = load_pack_set(folder)
        name = f"bench_single_{count}_{pack_set.digest.split(':')[-1][:12]}"
        rete.register(compile_ruleset(name, 2, pack_set.rules, pack_set.registry))
        engine = Engine(pack_set)
        facts = [_facts(engine, r, prior) | {"exemption": frozenset()} for r in requests]
        fired = [len(rete.fire([name], f)) for f in facts]
        samples = []
        for _ in range(rounds):
            for fact in facts:
                start = time.perf_counter()
                rete.fire([name], fact)
                samples.append((time.perf_counter() - start) * 1e6)
        rows.append({"rules_in_one_ruleset": count, "fired_mean": round(statistics.mean(fired), 1),
                     "durable_only_us_p50": round(statistics.median(samples), 1),
                     "durable_only_us_p99": round(percentile(samples, 0.99), 1)})
    return rows


def _facts(engine: Engine, request: TransferRequest, prior: PriorCounts | None = None) -> dict[str, Any]:
    from engine.facts import derive_facts

    return derive_facts(request, prior or PriorCounts(), engine.options, engine.mechanisms)


def shipped_engine(rules: Path | None = None) -> Engine:
    return Engine(load_pack_set(rules or ROOT / "rules"))


def phase_timings(engine: Engine, requests: list[TransferRequest], rounds: int) -> dict[str, float]:
    """Where a decision's time goes: median microseconds of fact derivation, writing the facts as
    each ruleset's JSON message (part of durable-only, inside :func:`engine.rete.fire`), decision
    assembly and JSON encoding of the decision (the HTTP service's), per request."""
    import datetime as dt

    from api.http.encode import decision_json
    from engine.decide import Evaluation, decide
    from engine.facts import derive_facts_and_tally

    prior = PriorCounts()
    clock = time.perf_counter
    phases: dict[str, list[float]] = {"derive": [], "write": [], "decide": [], "json": []}
    writers = [ruleset.writer for stage in engine.compiled.stages.values() for ruleset in stage if ruleset.rule_ids]
    for _ in range(rounds):
        for request in requests:
            start = clock()
            facts, tally = derive_facts_and_tally(request, prior, engine.options, engine.mechanisms)
            derived = clock()
            facts["exemption"] = frozenset()
            for write in writers:
                write(facts, "s0")
            written = clock()
            fired = engine.fire(facts)
            fired_at = clock()
            decision = decide(Evaluation(request=request, facts=facts, fired=fired, prior=prior, tally=tally,
                                         options=engine.options, as_of=dt.date.today()), engine.pack_set)
            decided = clock()
            decision_json(decision, "en")
            done = clock()
            phases["derive"].append(derived - start)
            phases["write"].append(written - derived)
            phases["decide"].append(decided - fired_at)
            phases["json"].append(done - decided)
    return {f"{name}_us_p50": round(statistics.median(values) * 1e6, 1) for name, values in phases.items()}

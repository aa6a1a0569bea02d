"""Random histories around a merge of recorded exporter ids (issue 19 point 4): transfers recorded under
variants of one id, some naming populations, withdrawals before and after the merge, transfers under the
canonical id after it. Whatever the history, the merged totals are those of one exporter (the subjects
outside any population, plus each population's largest live figure once), and ``audit verify`` passes.
One SQLite ledger for every example (each its own exporter), so examples cost a few submissions each."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.ledger.id_merge import merge_ids
from tests.ledger.conftest import transfer
from tests.ledger.test_id_merge import as_recorded_before

_EXPORTERS = itertools.count(1)


@dataclass(frozen=True)
class Send:
    variant: int
    """0: the canonical id; 1-3: lower case, a trailing space, a zero-width space."""
    subjects: int
    population: str | None


@dataclass(frozen=True)
class Withdraw:
    index: int
    """Of the transfers recorded so far (modulo their number)."""


sends = st.builds(Send, st.integers(0, 3), st.sampled_from([1_000, 4_000, 8_000]),
                  st.sampled_from([None, None, "members", "patients"]))
steps = st.lists(st.one_of(sends, sends, st.integers(0, 20).map(Withdraw)), max_size=6)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    ledger = Ledger(f"sqlite:///{Path(tmp_path_factory.mktemp('merge-histories')) / 'ledger.db'}")
    yield ledger
    ledger.close()


def variants_of(canonical: str) -> list[str]:
    return [canonical, canonical.lower(), canonical + " ", canonical + "\u200b"]


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(before=steps, after=steps)
@example(before=[Send(1, 4_000, "members"), Send(2, 8_000, "members")], after=[])  # one population, two ids
@example(before=[Send(1, 8_000, "members"), Send(0, 4_000, "members")], after=[Withdraw(0), Withdraw(1)])
def test_merged_totals_are_one_exporters_whatever_the_history(
        shared: Ledger, ledger_engine: Engine, before: list[Send | Withdraw], after: list[Send | Withdraw]) -> None:
    canonical = f"MERGE{next(_EXPORTERS)}CO"
    ids = variants_of(canonical)
    recorded: list[tuple[str, Send]] = []  # (reference, what it sent)
    live: set[str] = set()

    def play(step: Send | Withdraw, merged: bool) -> None:
        if isinstance(step, Withdraw):
            if recorded:
                reference = recorded[step.index % len(recorded)][0]
                shared.withdraw(reference, canonical if merged else None)  # by the merged id once merged
                live.discard(reference)
            return
        reference = f"{canonical}-{len(recorded)}"
        data = [{"kind": "personal", "subjects": step.subjects, "population": step.population}]
        request = (transfer(reference, exporter_id=canonical, data=data) if merged or step.variant == 0
                   else as_recorded_before(reference, 0, ids[step.variant], data=data))
        decision = shared.submit(ledger_engine, request).decision
        assert decision.outcome == "permitted" and decision.counts.counted
        recorded.append((reference, Send(0 if merged else step.variant, step.subjects, step.population)))
        live.add(reference)

    for step in before:
        play(step, merged=False)
    merge_ids(shared)
    for step in after:
        play(step, merged=True)
    outside = sum(send.subjects for ref, send in recorded if ref in live and send.population is None)
    largest: dict[str, int] = {}
    for ref, send in recorded:
        if ref in live and send.population is not None:
            largest[send.population] = max(largest.get(send.population, 0), send.subjects)
    assert shared.counts(canonical, 2026)["personal_subjects"] == outside + sum(largest.values())
    result = shared.verify()
    assert result.ok, result.problem

"""The ledger's group commit (a performance path): submissions from many threads of one process are
recorded several per transaction, and every property of one-by-one submission still holds — exactly 6
of 8 threads on one exporter permitted under the 100,000 threshold, each other exporter counted on its
own, a reference conflict or replay fails or answers alone, the audit chain verifies. SQLite and
PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine.evaluator import Engine
from engine.ledger import Ledger, ReferenceConflict
from engine.ledger.recording import Submission, take_group
from tests.ledger.conftest import EXPORTER, transfer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


def run_threads(targets: list[threading.Thread]) -> None:
    for thread in targets:
        thread.start()
    for thread in targets:
        thread.join(120)


def test_threads_on_one_exporter_and_many(url: str) -> None:
    engine = Engine.from_directory(ROOT / "rules")
    ledger = Ledger(url, rules_dirs=[ROOT / "rules"])
    try:
        outcomes: dict[str, str] = {}
        errors: list[BaseException] = []
        start = threading.Barrier(24)

        def submit(reference: str, subjects: int, exporter_id: str = EXPORTER) -> None:
            try:
                start.wait()
                result = ledger.submit(engine, transfer(reference, subjects, exporter_id=exporter_id))
                outcomes[reference] = result.decision.outcome
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=submit, args=(f"C-{i}", 15_000)) for i in range(8)]
        threads += [threading.Thread(target=submit, args=(f"O-{i}", 1000, f"OTHER-{i}")) for i in range(8)]
        # The same reference twice more for one other exporter with another request: one conflict each.
        threads += [threading.Thread(target=submit, args=("O-0", 2000 + i, "OTHER-0")) for i in range(4)]
        # And the same request again four times: replays (or the first recording), never a second count.
        threads += [threading.Thread(target=submit, args=("O-1", 1000, "OTHER-1")) for _ in range(4)]
        run_threads(threads)
        conflicts = [e for e in errors if isinstance(e, ReferenceConflict)]
        assert len(errors) == len(conflicts)
        assert sorted(outcomes[f"C-{i}"] for i in range(8)) == ["conditional"] * 2 + ["permitted"] * 6
        assert ledger.counts(EXPORTER, 2026)["personal_subjects"] == 90_000
        assert ledger.counts("OTHER-1", 2026)["personal_subjects"] == 1000
        assert ledger.counts("OTHER-0", 2026)["personal_subjects"] in (1000, 2000, 2001, 2002, 2003)
        assert len(conflicts) == 4  # of the five requests under reference O-0, one was recorded
        for i in range(2, 8):
            assert ledger.counts(f"OTHER-{i}", 2026)["personal_subjects"] == 1000
        assert ledger.verify().ok
    finally:
        ledger.close()


def test_a_group_holds_one_submission_per_exporter_in_arrival_order() -> None:
    def item(exporter_id: str, reference: str) -> Submission:
        return Submission(None, transfer(reference, exporter_id=exporter_id), None, "", "", {})  # type: ignore[arg-type]

    waiting = [item("A", "1"), item("A", "2"), item("B", "3"), item("A", "4"), item("C", "5")]
    group = take_group(waiting)
    assert [s.request.reference for s in group] == ["1", "3", "5"]
    assert [s.request.reference for s in waiting] == ["2", "4"]
    assert [s.request.reference for s in take_group(waiting)] == ["2"]

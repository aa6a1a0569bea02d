"""Decision ids are ULIDs: python-ulid reads them back, they are unique and sort by time."""

from __future__ import annotations

import datetime as dt

from ulid import ULID

from engine.decide import new_ulid


def test_decision_ids_are_ulids_python_ulid_reads_back() -> None:
    value = new_ulid()
    parsed = ULID.from_str(value)
    assert str(parsed) == value and len(value) == 26
    assert abs(parsed.datetime - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_decision_ids_are_unique_and_sorted_within_a_process() -> None:
    ids = [new_ulid() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert [int(ULID.from_str(i)) for i in ids] == sorted(int(ULID.from_str(i)) for i in ids)

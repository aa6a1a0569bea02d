"""Decision ids are ULIDs: python-ulid reads them back, they are unique and sort by time."""

from __future__ import annotations

import datetime as dt

from ulid import ULID

from engine import decide
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


def test_a_decision_id_spells_its_millisecond_and_its_80_random_bits() -> None:
    """The id is written two characters (ten bits) at a time; every bit must land where python-ulid
    reads it back, over many random values (a wrong shift or mask shows in most of them)."""
    for _ in range(2000):
        value = new_ulid()
        milliseconds, randomness = decide._ULID_LAST
        number = int(ULID.from_str(value))
        assert number >> 80 == milliseconds
        assert number & ((1 << 80) - 1) == randomness

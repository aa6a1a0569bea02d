"""Decision ids are ULIDs made by python-ulid: 26 Crockford base32 characters, unique, and sorted by
the time they were made, within a process and in forked workers."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time

import pytest
from ulid import ULID

from engine.decision_ids import new_ulid


def test_decision_ids_are_ulids_python_ulid_reads_back() -> None:
    value = new_ulid()
    parsed = ULID.from_str(value)
    assert str(parsed) == value and len(value) == 26
    assert set(value) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert abs(parsed.datetime - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_decision_ids_are_unique_and_sorted_within_a_process() -> None:
    ids = [new_ulid() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_ids_of_one_millisecond_count_on_and_later_ones_sort_after() -> None:
    first, second = new_ulid(), new_ulid()
    time.sleep(0.002)
    later = new_ulid()
    a, b = ULID.from_str(first), ULID.from_str(second)
    if a.milliseconds == b.milliseconds:
        assert int(b) == int(a) + 1
    assert ULID.from_str(later).milliseconds > b.milliseconds and later > second


def test_a_clock_stepped_back_does_not_make_ids_sort_backwards(monkeypatch: pytest.MonkeyPatch) -> None:
    before = new_ulid()
    stepped_back = time.time_ns() - 60 * 10**9  # the wall clock set back a minute (NTP)
    monkeypatch.setattr(time, "time_ns", lambda: stepped_back)
    after = [new_ulid() for _ in range(3)]
    assert [before, *after] == sorted([before, *after]) and len({before, *after}) == 4


def _ids_in_child(queue: multiprocessing.Queue[list[str]]) -> None:
    queue.put([new_ulid() for _ in range(2000)])


def test_a_forked_worker_never_repeats_its_parents_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker forked right after the parent made an id, both making ids in that same millisecond (the
    clock is held still): with the parent's generator state the worker would count on from the same
    last id as the parent, and make the parent's ids."""
    frozen = time.time_ns()
    monkeypatch.setattr(time, "time_ns", lambda: frozen)
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[list[str]] = context.Queue()
    new_ulid()
    child = context.Process(target=_ids_in_child, args=(queue,))
    child.start()
    mine = [new_ulid() for _ in range(2000)]
    theirs = queue.get(timeout=30)
    child.join(timeout=30)
    assert not set(mine) & set(theirs)


def test_the_text_is_python_ulids_own_for_any_sixteen_bytes() -> None:
    """new_ulid writes python-ulid's bytes with ulid-transform's encoder: the same text as str(ULID)."""
    import os

    from ulid_transform import bytes_to_ulid

    samples = [bytes(16), b"\xff" * 16, *(os.urandom(16) for _ in range(2000))]
    assert all(bytes_to_ulid(raw) == str(ULID.from_bytes(raw)) for raw in samples)

"""A decision's id and time: a ULID made by python-ulid (unique, sorted by the time it was made, in
every process of a service) and the moment to the second, as decisions show it."""

from __future__ import annotations

import datetime as dt
import os
import random
import time

from ulid import ULIDGenerator
from ulid_transform import bytes_to_ulid


class _SteadyClock:
    """Milliseconds since the epoch that never go back within a process: a wall clock stepped back
    (NTP) gives the last millisecond again, and python-ulid's monotonic policy then counts on from the
    last id, so decision ids made here keep sorting in the order they were made."""

    def __init__(self) -> None:
        self.last = 0

    def __call__(self) -> int:
        now = time.time_ns() // 1_000_000
        if now < self.last:
            return self.last
        self.last = now
        return now


def _ulid_generator() -> ULIDGenerator:
    """Decision ids must be unique and sortable, not secret: the 80 random bits of the first id in a
    millisecond come from a generator seeded from the OS, not from ``os.urandom`` per id."""
    source = random.Random(os.urandom(16))
    return ULIDGenerator(clock=_SteadyClock(), randomness=lambda _milliseconds: source.randbytes(10))


def _fresh_ulids_after_fork() -> None:
    """A forked worker starts its own generator: one inheriting the parent's last id would count on
    from it in the same millisecond, as the parent does, and both would make the same id."""
    global _ULIDS
    _ULIDS = _ulid_generator()


_ULIDS = _ulid_generator()
os.register_at_fork(after_in_child=_fresh_ulids_after_fork)


def new_ulid() -> str:
    """A ULID (48-bit milliseconds, 80 random bits, Crockford base32) made by python-ulid, monotonic
    within a process: an id made in the same millisecond as the last one is the last one plus one.
    Its 16 bytes are written as text by ulid-transform (C) rather than by ``str(ULID)``, python-ulid's
    pure-Python encoder: 0.05 us against 2, on every decision (same text: tests/engine/test_ids.py)."""
    return bytes_to_ulid(_ULIDS.generate().bytes)


_CLOCK: tuple[int, dt.datetime] = (0, dt.datetime.fromtimestamp(0, dt.UTC))


def now_to_the_second() -> dt.datetime:
    """Now in UTC, whole seconds (what decisions show); one datetime per second, not per decision.
    The pair is replaced in one assignment, so a thread never reads one second's number with
    another's datetime."""
    global _CLOCK
    second = int(time.time())
    clock = _CLOCK
    if clock[0] != second:
        clock = _CLOCK = (second, dt.datetime.fromtimestamp(second, dt.UTC))
    return clock[1]

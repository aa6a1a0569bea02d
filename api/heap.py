"""Python's cyclic garbage collector, set once a long-running baygate process has started: ``baygate
serve``'s workers and a list file's ``baygate submit``.

Why: everything built at start-up (the app, its schemas, the compiled packs) lives as long as the
process, and a batch or a list file then makes many objects that live until their group is recorded and
answered. With CPython's defaults the collector walked both, again and again: the start-up heap at
every full collection, a batch's objects at every collection of the youngest generation (every 700
allocations). So the start-up heap is frozen out of its sight (``gc.freeze``; a 1,000-item batch's
validation: 12 us an item frozen, 20-70 without), and the youngest generation is collected every
YOUNG_COLLECTION_THRESHOLD allocations (27 -> 15 us a recorded transfer in process;
``POST /v1/transfers/batch`` on one worker, alternately: 1,660-1,699 -> 1,805-1,836 recorded/s). The
older generations keep CPython's defaults (each collected every 10 collections of the one younger), so
cyclic garbage is still found within about a million allocations. Measured in docs/performance.md
(session 7).

The settings are the process's from then on (a test run that calls ``baygate submit`` in process keeps
them for the rest of its tests: harmless, they only change when the collector runs).

The price of freezing: should a reload of the packs drop the first engine, its reference cycles are never
collected; a worker is replaced after BAYGATE_MAX_PACK_VERSIONS versions anyway (durable-rules keeps
every version's rulesets).
"""

from __future__ import annotations

import gc

YOUNG_COLLECTION_THRESHOLD = 10_000
"""Allocations (net of deallocations) between two collections of the youngest generation (CPython: 700)."""


def settle_after_start_up() -> None:
    """Freeze what start-up built and collect the youngest generation less often (see the module)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])

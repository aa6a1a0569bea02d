"""Mainland working days (工作日) for filing deadlines.

The State Council's annual holiday notice moves working days around (调休: make-up working
weekends), so counting Monday-to-Friday is wrong around Spring Festival and National Day. The
chinese-calendar package carries those notices; for a year it does not know yet we fall back to
weekends only and say so, rather than pretend the date is exact.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import chinese_calendar

FALLBACK_NOTE = (
    "{year} is outside the Mainland holiday calendar known to this engine: counted on weekends only; "
    "check the State Council holiday notice"
)


@dataclass(frozen=True)
class WorkdayResult:
    """A computed date and, when the official calendar did not cover it, why it may be off."""

    day: dt.date
    note: str | None = None


@functools.lru_cache(maxsize=16384)
def is_mainland_workday(day: dt.date) -> tuple[bool, bool]:
    """Return (is a working day, known from the official calendar).

    Cached: chinese-calendar validates every date against its whole table (about 20 µs a call), and a
    decision asks for a dozen days."""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


@functools.lru_cache(maxsize=16384)
def add_working_days(start: dt.date, days: int) -> WorkdayResult:
    """The day on which ``days`` Mainland working days after ``start`` have passed.

    Cached (the result is immutable): every decision with a contract in place asks for its filing
    deadline, and walking the days costs a few microseconds each time.

    Mainland practice does not count the start day: a contract effective on Thu 2026-11-26 must be
    filed within 10 working days, by Thu 2026-12-10.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    counted = 0
    unknown_years: set[int] = set()
    while counted < days:
        current += dt.timedelta(days=1)
        workday, known = is_mainland_workday(current)
        if not known:
            unknown_years.add(current.year)
        if workday:
            counted += 1
    note = None
    if unknown_years:
        note = FALLBACK_NOTE.format(year=", ".join(str(y) for y in sorted(unknown_years)))
    return WorkdayResult(current, note)

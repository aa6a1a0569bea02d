"""Mainland working days: holidays and make-up working weekends (调休) from the official calendar."""

from __future__ import annotations

import datetime as dt

from engine.workdays import add_working_days, is_mainland_workday


def test_no_holiday_in_span_matches_research_example() -> None:
    # cn-outbound.md §16: a contract in effect on Thu 2026-11-26 must be filed by Thu 2026-12-10.
    assert add_working_days(dt.date(2026, 11, 26), 10).day == dt.date(2026, 12, 10)


def test_spring_festival_with_make_up_saturdays() -> None:
    # 2026-02-14 and 2026-02-28 are make-up working Saturdays; 15-23 February are holidays.
    result = add_working_days(dt.date(2026, 2, 13), 10)
    assert result.day == dt.date(2026, 3, 5)
    assert result.note is None


def test_national_day_week() -> None:
    assert add_working_days(dt.date(2026, 9, 29), 10).day == dt.date(2026, 10, 19)


def test_start_day_is_not_counted() -> None:
    assert add_working_days(dt.date(2026, 11, 23), 1).day == dt.date(2026, 11, 24)
    assert add_working_days(dt.date(2026, 11, 27), 1).day == dt.date(2026, 11, 30)  # Fri -> Mon


def test_year_outside_the_calendar_falls_back_to_weekends_and_says_so() -> None:
    workday, known = is_mainland_workday(dt.date(2031, 5, 1))
    assert not known
    assert workday  # a Thursday: only weekends are known for an unknown year
    result = add_working_days(dt.date(2031, 4, 25), 10)
    assert result.day == dt.date(2031, 5, 9)
    assert result.note is not None and "2031" in result.note

"""An exporter's year against the thresholds (issue 23 point 4): the figures and the charts' geometry.

The thresholds come from the packs in force today (``engine.thresholds``), never from this file. The
charts are plain SVG drawn by the template from the numbers here: no chart library, no script.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from engine.ledger.exporter_report import CurvePoint
from engine.thresholds import Threshold, next_threshold

WIDTH = 720
BAR_LEFT = 10
BAR_WIDTH = 700
CURVE_HEIGHT = 180
CURVE_LEFT = 70
CURVE_WIDTH = 630


@dataclass(frozen=True)
class Mark:
    x: float
    value: int
    level: str
    rule_id: str


@dataclass(frozen=True)
class TallyView:
    fact: str
    count: int
    thresholds: list[Threshold]
    next: Threshold | None
    headroom: int | None
    """Individuals that may still be sent this year before the next route (None: no route ahead)."""
    scale: int
    bar: float
    marks: list[Mark]
    curve: str
    """SVG polyline points of the year's cumulative count."""
    curve_marks: list[tuple[float, Threshold]] = field(default_factory=list)
    curve_top: int = 0


def _scale(count: int, thresholds: list[Threshold]) -> int:
    highest = max((t.value for t in thresholds), default=1)
    return max(int(highest * 1.1), int(count * 1.05), 10)


def tally_view(fact: str, count: int, thresholds: list[Threshold], curve: list[CurvePoint], year: int) -> TallyView:
    ahead = next_threshold(thresholds, count)
    headroom = max(ahead.value - 1 - count, 0) if ahead else None
    scale = _scale(count, thresholds)
    marks = [Mark(BAR_LEFT + BAR_WIDTH * t.value / scale, t.value, t.level, t.rule_id) for t in thresholds]
    # The curve: up to the next threshold (or the count), so the line it is heading for is in view.
    top = max(int(((ahead.value if ahead else count) or 1) * 1.1), int(count * 1.1), 10)
    start = dt.date(year, 1, 1)
    days = (dt.date(year, 12, 31) - start).days or 1
    sensitive = fact.endswith("sensitive_subjects")
    points: list[tuple[float, float]] = [(CURVE_LEFT, CURVE_HEIGHT)]
    last = 0
    for point in curve:
        offset = min(max((point.day - start).days, 0), days)
        value = point.sensitive_subjects if sensitive else point.personal_subjects
        x = CURVE_LEFT + CURVE_WIDTH * offset / days
        points.append((x, CURVE_HEIGHT - CURVE_HEIGHT * last / top))  # a step: flat until the day it rises
        points.append((x, CURVE_HEIGHT - CURVE_HEIGHT * value / top))
        last = value
    end_x = CURVE_LEFT + CURVE_WIDTH * min(max((dt.date.today() - start).days, 0), days) / days
    points.append((max(end_x, points[-1][0]), CURVE_HEIGHT - CURVE_HEIGHT * last / top))
    curve_marks = [(CURVE_HEIGHT - CURVE_HEIGHT * t.value / top, t) for t in thresholds if t.value <= top]
    return TallyView(fact, count, thresholds, ahead, headroom, scale, BAR_WIDTH * min(count, scale) / scale,
                     marks, " ".join(f"{x:.1f},{y:.1f}" for x, y in points), curve_marks, top)

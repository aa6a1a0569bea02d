"""What an exporter's page reads (issue 23 point 4): the year's curve, obligations coming due and
mechanisms about to expire, without reading every transfer of a large ledger.

The counts themselves come from ``Ledger.counts`` (the running totals). The curve sums the counted
rows by recording day through the counting index. Due dates and expiry dates live inside the stored
decision and request JSON, which is canonical (sorted keys, no spaces: ``engine.ledger.audit``), so a
``LIKE`` on the months the window touches picks the few rows worth parsing; each is then checked
exactly. Reading an exporter with 10,000 recorded transfers parses only the rows with a date in the
window.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from engine.ledger.schema import exporter_year_totals, transfers
from engine.ledger.store import Ledger


@dataclass(frozen=True)
class CurvePoint:
    day: dt.date
    personal_subjects: int
    """Counted individuals recorded up to and including this day (non-sensitive tally)."""
    sensitive_subjects: int


@dataclass(frozen=True)
class DueObligation:
    due_date: dt.date
    obligation_id: str
    text: dict[str, str]
    citation: str
    decision_id: str
    reference: str


@dataclass(frozen=True)
class ExpiringMechanism:
    expires_on: dt.date
    type: str
    reference: str
    transfers: int
    """Recorded, not withdrawn transfers that rely on it."""
    example_decision_id: str


@dataclass(frozen=True)
class ExporterTotal:
    exporter_id: str
    personal_subjects: int
    sensitive_subjects: int


def _months(start: dt.date, end: dt.date) -> list[str]:
    """``YYYY-MM-`` prefixes of every month from ``start`` to ``end``."""
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append(day.strftime("%Y-%m-"))
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


def year_curve(ledger: Ledger, exporter_id: str, year: int) -> list[CurvePoint]:
    """The year's counted individuals, cumulative by recording day (withdrawn transfers left out)."""
    day = func.substr(transfers.c.recorded_at, 1, 10)
    query = (select(day.label("day"), func.sum(transfers.c.personal_subjects), func.sum(transfers.c.sensitive_subjects))
             .where(transfers.c.exporter_id == exporter_id, transfers.c.year == year,
                    transfers.c.counted.is_(True), transfers.c.withdrawn_at.is_(None))
             .group_by(day).order_by(day))
    with ledger.sql_engine.connect() as conn:
        rows = conn.execute(query).all()
    points, personal, sensitive = [], 0, 0
    for row_day, added_personal, added_sensitive in rows:
        personal += int(added_personal or 0)
        sensitive += int(added_sensitive or 0)
        points.append(CurvePoint(dt.date.fromisoformat(row_day), personal, sensitive))
    return points


def obligations_due(ledger: Ledger, exporter_id: str, today: dt.date, days: int = 30) -> list[DueObligation]:
    """Obligations not shown done whose due date falls in the next ``days`` days, soonest first."""
    end = today + dt.timedelta(days=days)
    patterns = [transfers.c.decision_json.like(f'%"due_date":"{month}%') for month in _months(today, end)]
    query = (select(transfers.c.decision_id, transfers.c.reference, transfers.c.decision_json)
             .where(transfers.c.exporter_id == exporter_id, transfers.c.withdrawn_at.is_(None), or_(*patterns)))
    with ledger.sql_engine.connect() as conn:
        rows = conn.execute(query).all()
    due: list[DueObligation] = []
    for row in rows:
        for obligation in json.loads(row.decision_json).get("obligations", []):
            when = obligation.get("due_date")
            if not when or obligation.get("satisfied"):
                continue
            day = dt.date.fromisoformat(when)
            if today <= day <= end:
                due.append(DueObligation(day, obligation["id"], obligation.get("text", {}),
                                         obligation.get("citation", ""), row.decision_id, row.reference))
    return sorted(due, key=lambda item: (item.due_date, item.reference, item.obligation_id))


def mechanisms_expiring(ledger: Ledger, exporter_id: str, today: dt.date, days: int = 90) -> list[ExpiringMechanism]:
    """Mechanisms in place on recorded, not withdrawn transfers that expire in the next ``days`` days,
    one line per mechanism (type and reference) with the number of transfers relying on it."""
    end = today + dt.timedelta(days=days)
    patterns = [transfers.c.request_json.like(f'%"expires_on":"{month}%') for month in _months(today, end)]
    query = (select(transfers.c.decision_id, transfers.c.request_json)
             .where(transfers.c.exporter_id == exporter_id, transfers.c.withdrawn_at.is_(None), or_(*patterns)))
    with ledger.sql_engine.connect() as conn:
        rows = conn.execute(query).all()
    found: dict[tuple[str, str, dt.date], list[str]] = {}
    for row in rows:
        for mechanism in json.loads(row.request_json).get("safeguards", {}).get("mechanisms", []):
            when = mechanism.get("expires_on")
            if not when:
                continue
            day = dt.date.fromisoformat(when)
            if today <= day <= end:
                found.setdefault((mechanism["type"], mechanism["reference"], day), []).append(row.decision_id)
    return sorted((ExpiringMechanism(day, kind, reference, len(ids), ids[0])
                   for (kind, reference, day), ids in found.items()), key=lambda m: (m.expires_on, m.reference))


def busiest_exporters(ledger: Ledger, year: int, limit: int = 100) -> list[ExporterTotal]:
    """Exporters with counted individuals this year, most first (from the running totals)."""
    query = (select(exporter_year_totals.c.exporter_id, exporter_year_totals.c.personal_subjects,
                    exporter_year_totals.c.sensitive_subjects)
             .where(exporter_year_totals.c.year == year)
             .order_by((exporter_year_totals.c.personal_subjects + exporter_year_totals.c.sensitive_subjects).desc(),
                       exporter_year_totals.c.exporter_id)
             .limit(limit))
    with ledger.sql_engine.connect() as conn:
        return [ExporterTotal(r.exporter_id, int(r.personal_subjects), int(r.sensitive_subjects))
                for r in conn.execute(query).all()]

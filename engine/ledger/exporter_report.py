"""What an exporter's page reads (issue 23 point 4): the year's curve, obligations coming due and
mechanisms about to expire, without reading the large rows of every transfer.

The counts come from ``Ledger.counts`` (the running totals). The curve is read from a covering index
(``ix_transfers_curve``). Due dates and expiry dates live inside the stored decision and request JSON;
``dated_items`` holds them as rows by exporter and day (revision 0006), for transfers not withdrawn. It
is an index of the stored JSON kept by this module, not by the submission path: ``catch_up`` reads the
chain's events after the watermark, parses only the transfers submitted since, records their dates and
drops those of transfers withdrawn since (a few ms for what a page view
finds new), so that recording a transfer costs nothing more. It is not evidence: ``audit verify`` never
reads it; the texts shown come from the decisions themselves.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.ledger import aliases, records
from engine.ledger.schema import (
    dated_items,
    dated_items_watermark,
    events,
    exporter_id_aliases,
    exporter_year_totals,
    transfers,
)
from engine.ledger.store import Ledger

CATCH_UP_CHUNK = 500


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


def dated_rows(decision_id: str, exporter_id: str, request: Mapping[str, Any],
               decision: Mapping[str, Any]) -> list[dict[str, str]]:
    """The ``dated_items`` rows of one recorded transfer: its obligations not shown done that have a due
    date, and the expiry dates of its mechanisms in place."""
    rows: dict[tuple[str, str, str], dict[str, str]] = {}
    for obligation in decision.get("obligations", []):
        if obligation.get("due_date") and not obligation.get("satisfied"):
            key = ("due", str(obligation["id"])[:128], "")
            rows[key] = {"decision_id": decision_id, "kind": "due", "item": key[1], "detail": "",
                         "day": str(obligation["due_date"]), "exporter_id": exporter_id}
    for mechanism in request.get("safeguards", {}).get("mechanisms", []):
        if mechanism.get("expires_on"):
            key = ("expires", str(mechanism["type"])[:128], str(mechanism.get("reference", ""))[:128])
            rows[key] = {"decision_id": decision_id, "kind": "expires", "item": key[1], "detail": key[2],
                         "day": str(mechanism["expires_on"]), "exporter_id": exporter_id}
    return list(rows.values())


def _insert_ignoring_present(conn: Connection, rows: list[dict[str, str]]) -> None:
    """Two workers may catch up at once: a row already there is left as it is."""
    insert = postgres_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(dated_items).on_conflict_do_nothing(), rows)


def catch_up(ledger: Ledger) -> int:
    """Bring ``dated_items`` up to the chain's head: the dates of transfers submitted since the watermark
    are added, those of transfers withdrawn since are removed (a withdrawn transfer has nothing due).
    Returns how many events were read."""
    with ledger.sql_engine.connect() as conn:
        mark = int(conn.execute(select(dated_items_watermark.c.seq).where(dated_items_watermark.c.id == 1))
                   .scalar() or 0)
        head = conn.execute(select(func.max(events.c.seq)).where(events.c.seq > mark)).scalar()
        if head is None:
            return 0
        found = conn.execute(select(events.c.kind, events.c.subject).where(
            events.c.seq > mark, events.c.seq <= head,
            events.c.kind.in_(("submission", "amendment", "withdrawal")))).all()
    # An amendment's new decision is submitted like any (the decision it replaced left the transfers
    # table, its dated items with it, in the amendment's transaction: engine.ledger.amend).
    submitted = [subject for kind, subject in found if kind in ("submission", "amendment")]
    withdrawn = [subject for kind, subject in found if kind == "withdrawal"]
    rows: list[dict[str, str]] = []
    for start in range(0, len(submitted), CATCH_UP_CHUNK):
        chunk = submitted[start:start + CATCH_UP_CHUNK]
        with ledger.sql_engine.connect() as conn:
            reader = records.DictionaryReader(conn)
            recorded = conn.execute(select(transfers.c.decision_id, transfers.c.exporter_id, transfers.c.request_json,
                                           transfers.c.decision_json, transfers.c.record)
                                    .where(transfers.c.decision_id.in_(chunk))).all()
            for row in recorded:
                request_json, decision_json = reader.texts(row)
                rows += dated_rows(row.decision_id, row.exporter_id, json.loads(request_json),
                                   json.loads(decision_json))
    with ledger.sql_engine.begin() as conn:
        read = sorted({row["decision_id"] for row in rows})
        standing: set[str] = set()
        for start in range(0, len(read), CATCH_UP_CHUNK):  # less the decisions an amendment replaced since
            standing.update(conn.execute(select(transfers.c.decision_id).where(
                transfers.c.decision_id.in_(read[start:start + CATCH_UP_CHUNK]))).scalars())
        rows = [row for row in rows if row["decision_id"] in standing]
        if rows:
            _insert_ignoring_present(conn, rows)
        for start in range(0, len(withdrawn), CATCH_UP_CHUNK):  # after the adds: a withdrawal follows its submission
            chunk = withdrawn[start:start + CATCH_UP_CHUNK]
            conn.execute(delete(dated_items).where(dated_items.c.decision_id.in_(chunk)))
        conn.execute(update(dated_items_watermark).where(dated_items_watermark.c.id == 1,
                                                         dated_items_watermark.c.seq < head).values(seq=head))
    return len(found)


def _live(exporter_ids: list[str], kind: str, today: dt.date, end: dt.date) -> Any:
    """The condition on dated items: the exporter's, of ``kind``, from ``today`` to ``end`` (withdrawn
    transfers have none: ``catch_up`` removes them). One range of ``ix_dated_items_exporter_day``; the
    transfers' rows, which hold the request and decision texts, are not read."""
    return and_(dated_items.c.exporter_id.in_(exporter_ids), dated_items.c.kind == kind,
                dated_items.c.day >= today.isoformat(), dated_items.c.day <= end.isoformat())


def year_curve(ledger: Ledger, exporter_id: str, year: int) -> list[CurvePoint]:
    """The year's counted individuals, cumulative by recording day (withdrawn transfers left out; with the
    transfers of ids merged into the exporter's: engine.ledger.aliases)."""
    day = func.substr(transfers.c.recorded_at, 1, 10)
    with ledger.sql_engine.connect() as conn:
        query = (select(day.label("day"), func.sum(transfers.c.personal_subjects),
                        func.sum(transfers.c.sensitive_subjects))
                 .where(transfers.c.exporter_id.in_(aliases.counting_as(conn, exporter_id)), transfers.c.year == year,
                        transfers.c.counted.is_(True), transfers.c.withdrawn_at.is_(None))
                 .group_by(day).order_by(day))
        rows = conn.execute(query).all()
    points, personal, sensitive = [], 0, 0
    for row_day, added_personal, added_sensitive in rows:
        personal += int(added_personal or 0)
        sensitive += int(added_sensitive or 0)
        points.append(CurvePoint(dt.date.fromisoformat(row_day), personal, sensitive))
    return points


def obligations_due(ledger: Ledger, exporter_id: str, today: dt.date, days: int = 30,
                    limit: int | None = None) -> tuple[list[DueObligation], int]:
    """Obligations not shown done whose due date falls in the next ``days`` days, soonest first (at most
    ``limit``), and how many there are in all."""
    with ledger.sql_engine.connect() as conn:
        live = _live(aliases.counting_as(conn, exporter_id), "due", today, today + dt.timedelta(days=days))
        query = (select(dated_items.c.decision_id, dated_items.c.item, dated_items.c.day).where(live)
                 .order_by(dated_items.c.day, dated_items.c.decision_id, dated_items.c.item).limit(limit))
        shown = conn.execute(query).all()
        total = int(conn.execute(select(func.count()).select_from(dated_items).where(live)).scalar() or 0)
        texts, references = _obligation_texts(conn, {row.decision_id for row in shown})
    due = []
    for row in shown:
        text, citation = texts.get((row.decision_id, row.item), ({}, ""))
        due.append(DueObligation(dt.date.fromisoformat(row.day), row.item, text, citation, row.decision_id,
                                 references.get(row.decision_id, "")))
    return due, total


ObligationTexts = dict[tuple[str, str], tuple[dict[str, str], str]]


def _obligation_texts(conn: Connection, decision_ids: Iterable[str]) -> tuple[ObligationTexts, dict[str, str]]:
    """The obligations' texts and citations as the decisions stated them, and the transfers' references
    (for the few shown only)."""
    ids = sorted(decision_ids)
    if not ids:
        return {}, {}
    found = conn.execute(select(transfers.c.decision_id, transfers.c.reference, transfers.c.request_json,
                                transfers.c.decision_json, transfers.c.record)
                         .where(transfers.c.decision_id.in_(ids))).all()
    reader = records.DictionaryReader(conn)
    texts = {(row.decision_id, obligation["id"]): (obligation.get("text", {}), obligation.get("citation", ""))
             for row in found for obligation in json.loads(reader.texts(row)[1]).get("obligations", [])}
    return texts, {row.decision_id: row.reference for row in found}


def mechanisms_expiring(ledger: Ledger, exporter_id: str, today: dt.date, days: int = 90,
                        limit: int | None = None) -> tuple[list[ExpiringMechanism], int]:
    """Mechanisms in place on recorded, not withdrawn transfers that expire in the next ``days`` days,
    one line per mechanism (type, reference and day) with the number of transfers relying on it, soonest
    first (at most ``limit``); and how many such lines there are in all."""
    with ledger.sql_engine.connect() as conn:
        live = _live(aliases.counting_as(conn, exporter_id), "expires", today, today + dt.timedelta(days=days))
        groups = (select(dated_items.c.day, dated_items.c.item, dated_items.c.detail, func.count().label("transfers"),
                         func.min(dated_items.c.decision_id).label("example")).where(live)
                  .group_by(dated_items.c.day, dated_items.c.item, dated_items.c.detail))
        rows = conn.execute(groups.order_by(dated_items.c.day, dated_items.c.item, dated_items.c.detail)
                            .limit(limit)).all()
        total = int(conn.execute(select(func.count()).select_from(groups.subquery())).scalar() or 0)
    return [ExpiringMechanism(dt.date.fromisoformat(row.day), row.item, row.detail, int(row.transfers), row.example)
            for row in rows], total


def busiest_exporters(ledger: Ledger, year: int, limit: int = 100) -> list[ExporterTotal]:
    """Exporters with counted individuals this year, most first (from the running totals; an id merged into
    another is not one: its totals are that one's, engine.ledger.aliases)."""
    query = (select(exporter_year_totals.c.exporter_id, exporter_year_totals.c.personal_subjects,
                    exporter_year_totals.c.sensitive_subjects)
             .where(exporter_year_totals.c.year == year,
                    exporter_year_totals.c.exporter_id.not_in(select(exporter_id_aliases.c.variant)))
             .order_by((exporter_year_totals.c.personal_subjects + exporter_year_totals.c.sensitive_subjects).desc(),
                       exporter_year_totals.c.exporter_id)
             .limit(limit))
    with ledger.sql_engine.connect() as conn:
        return [ExporterTotal(r.exporter_id, int(r.personal_subjects), int(r.sensitive_subjects))
                for r in conn.execute(query).all()]

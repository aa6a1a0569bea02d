"""Indexes for listing transfers and for an exporter's page; the dates inside recorded decisions.

The ledger page (issue 23) and ``GET /v1/transfers`` (issue 22) list transfers newest first (by chain
position, ``event_seq``) under filters. On 100,000 transfers (SQLite, measured by benchmarks/web_pages.py)
one exporter's newest 50 took 246 ms (its 20,000 rows fetched and sorted) and an outcome no transfer has
1,270 ms (the whole table read: rows hold the request and decision texts). An index that starts with the
filter and ends with ``event_seq`` reads 50 entries in order (the indexes the interface issue's list
uses, under the same names); withdrawn transfers are few, and an index on ``withdrawn_at`` finds them
without a scan.

An exporter's page read the same large rows: the year's curve (recording day and counted individuals)
and the dates inside the stored JSON (obligations falling due, mechanisms expiring): 6.3 s for an
exporter with 20,000 transfers. ``ix_transfers_curve`` covers the curve; ``dated_items`` holds each
recorded, not withdrawn transfer's due dates and expiry dates as rows, indexed by exporter and day, filled
here for the transfers already recorded and kept up to date by ``engine.ledger.exporter_report.catch_up`` (from the
chain's events after ``dated_items_watermark``), so that recording a transfer writes nothing more.

On PostgreSQL this runs inside the upgrade's transaction, which holds writes to ``transfers`` while it
builds: upgrade a large ledger with ``baygate db upgrade`` before the new version serves. Nothing hashed
changes.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CURVE = ["exporter_id", "year", "counted", "withdrawn_at", "recorded_at", "personal_subjects", "sensitive_subjects"]


def upgrade() -> None:
    from engine.ledger.exporter_report import dated_rows

    op.create_index("ix_transfers_event_seq", "transfers", ["event_seq"])
    op.create_index("ix_transfers_exporter_seq", "transfers", ["exporter_id", "event_seq"])
    op.create_index("ix_transfers_outcome_seq", "transfers", ["outcome", "event_seq"])
    op.create_index("ix_transfers_withdrawn", "transfers", ["withdrawn_at"])
    op.create_index("ix_transfers_curve", "transfers", CURVE)
    dated = op.create_table(
        "dated_items",
        sa.Column("decision_id", sa.String(26), sa.ForeignKey("transfers.decision_id"), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("item", sa.String(128), primary_key=True),
        sa.Column("detail", sa.String(128), primary_key=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("exporter_id", sa.String(128), nullable=False),
    )
    op.create_index("ix_dated_items_exporter_day", "dated_items", ["exporter_id", "kind", "day"])
    watermark = op.create_table("dated_items_watermark",
                                sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                                sa.Column("seq", sa.BigInteger, nullable=False))
    connection = op.get_bind()
    batch: list[dict[str, str]] = []
    for row in connection.execute(sa.text("SELECT decision_id, exporter_id, request_json, decision_json "
                                          "FROM transfers WHERE withdrawn_at IS NULL")):
        batch += dated_rows(row.decision_id, row.exporter_id, json.loads(row.request_json),
                            json.loads(row.decision_json))
        if len(batch) >= 5000:
            op.bulk_insert(dated, batch)
            batch = []
    if batch:
        op.bulk_insert(dated, batch)
    head = connection.execute(sa.text("SELECT COALESCE(MAX(seq), 0) FROM events")).scalar()
    op.bulk_insert(watermark, [{"id": 1, "seq": int(head or 0)}])


def downgrade() -> None:
    op.drop_table("dated_items_watermark")
    op.drop_index("ix_dated_items_exporter_day", table_name="dated_items")
    op.drop_table("dated_items")
    op.drop_index("ix_transfers_curve", table_name="transfers")
    op.drop_index("ix_transfers_withdrawn", table_name="transfers")
    op.drop_index("ix_transfers_outcome_seq", table_name="transfers")
    op.drop_index("ix_transfers_exporter_seq", table_name="transfers")
    op.drop_index("ix_transfers_event_seq", table_name="transfers")

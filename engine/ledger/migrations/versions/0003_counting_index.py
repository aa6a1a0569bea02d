"""The counting index covers what the counts read, so counting never visits the table rows.

Every submission and dry run sums an exporter's counted, not withdrawn transfers of a year. With an
index on (exporter, year) alone each matching row was fetched from the table, where the request and
decision texts make rows a few kilobytes: 19 ms for 15,000 matching rows on SQLite, measured; with
the counted columns in the index (a covering index, both databases) 2.2 ms.

On PostgreSQL the index is built inside the upgrade's transaction (migrations run under one lock so
that replicas starting together upgrade once), which holds writes to ``transfers`` while it builds:
upgrade a large ledger with ``baygate db upgrade`` before the new version serves.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COVERING = ["exporter_id", "year", "counted", "withdrawn_at", "personal_subjects", "sensitive_subjects"]


def upgrade() -> None:
    op.create_index("ix_transfers_counts", "transfers", COVERING)
    op.drop_index("ix_transfers_counting", table_name="transfers")


def downgrade() -> None:
    op.create_index("ix_transfers_counting", "transfers", ["exporter_id", "year"])
    op.drop_index("ix_transfers_counts", table_name="transfers")

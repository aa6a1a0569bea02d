"""Amendments (issue 22 point 7): the decisions an amendment replaced, kept beside the transfers.

``replaced_decisions`` holds a transfer's earlier decisions once an amendment replaced them: every
column its ``transfers`` row had (the row as it was recorded), its population figures as JSON (tally ->
population -> subjects, as ``transfer_populations`` held them), and which decision replaced it, when,
at which chain position (the ``amendment`` event). ``transfers`` keeps the decision in force, so
counting, listing and finding by reference read one row per transfer as before.

Nothing existing changes: a ledger without amendments verifies and counts as it did. The downgrade
drops the table; a ledger that recorded amendments then no longer verifies (its amendment events name
rows that are gone), as it should not pass for one that never had them.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replaced_decisions",
        sa.Column("decision_id", sa.String(26), primary_key=True),
        sa.Column("exporter_id", sa.String(128), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("request_json", sa.Text, nullable=False),
        sa.Column("decision_json", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("counted", sa.Boolean, nullable=False),
        sa.Column("personal_subjects", sa.BigInteger, nullable=False),
        sa.Column("sensitive_subjects", sa.BigInteger, nullable=False),
        sa.Column("rules_digest", sa.String(80), nullable=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
        sa.Column("recorded_by", sa.String(160), nullable=True),
        sa.Column("populations", sa.Text, nullable=False),
        sa.Column("replaced_by", sa.String(26), nullable=False),
        sa.Column("replaced_at", sa.String(40), nullable=False),
        sa.Column("replaced_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_replaced_decisions_transfer", "replaced_decisions", ["exporter_id", "reference"])
    op.create_index("ix_replaced_decisions_event_seq", "replaced_decisions", ["event_seq"])


def downgrade() -> None:
    op.drop_index("ix_replaced_decisions_event_seq", "replaced_decisions")
    op.drop_index("ix_replaced_decisions_transfer", "replaced_decisions")
    op.drop_table("replaced_decisions")

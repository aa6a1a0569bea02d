"""The ledger's first schema: transfers, their populations, packs by digest, the audit chain.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfers",
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
        sa.Column("withdrawn_at", sa.String(40), nullable=True),
        sa.Column("withdrawn_seq", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("exporter_id", "reference", name="uq_transfers_exporter_reference"),
    )
    op.create_index("ix_transfers_counting", "transfers", ["exporter_id", "year"])
    op.create_index("ix_transfers_reference", "transfers", ["reference"])
    op.create_table(
        "transfer_populations",
        sa.Column("decision_id", sa.String(26), sa.ForeignKey("transfers.decision_id"), primary_key=True),
        sa.Column("population", sa.String(128), primary_key=True),
        sa.Column("subjects", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "packs",
        sa.Column("digest", sa.String(80), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("file", sa.String(300), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("first_used_at", sa.String(40), nullable=False),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.execute(sa.text("INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')"))


def downgrade() -> None:
    for table in ("chain_head", "events", "packs", "transfer_populations", "transfers"):
        op.drop_table(table)

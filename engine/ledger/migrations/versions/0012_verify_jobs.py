"""Verify jobs: the state of ``audit verify`` runs started over HTTP (``engine.ledger.verify_jobs``).

A verify of a large ledger runs in a process of its own (``POST /v1/audit/verify-jobs``); its state is
kept here so that any replica can answer ``GET /v1/audit/verify-jobs/{id}``: queued, running (with how
many events it has checked and when it last said so), done (with verify's answer) or failed (why).
Nothing hashed: the table is the service's bookkeeping, not part of the audit chain (``audit verify``
does not read it). ``anchors``: the checkpoints and public keys the job checks the chain against (JSON,
as the POST gave them); ``notes``: what the anchors showed (JSON list), as ``audit verify`` prints them.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verify_jobs",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.String(40), nullable=False),
        sa.Column("requested_by", sa.String(160), nullable=True),
        sa.Column("started_at", sa.String(40), nullable=True),
        sa.Column("heartbeat_at", sa.String(40), nullable=True),
        sa.Column("finished_at", sa.String(40), nullable=True),
        sa.Column("events_checked", sa.BigInteger, nullable=False),
        sa.Column("events_total", sa.BigInteger, nullable=True),
        sa.Column("ok", sa.Boolean, nullable=True),
        sa.Column("first_bad", sa.Text, nullable=True),
        sa.Column("problem", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("anchors", sa.Text, nullable=True),
        sa.Column("notes", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("verify_jobs")

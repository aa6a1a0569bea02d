"""Pack sets put in service, so that as-of evaluation follows rollbacks and removed packs.

A pack's ``first_used_at`` says when a version first decided; it cannot say that an older version
came back (a rollback) or that a pack was removed. Each time a different pack set is put in service
(service start, reload, a CLI submission) a row records the set and the moment.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pack_sets",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("set_digest", sa.String(80), nullable=False),
        sa.Column("members", sa.Text, nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pack_sets")

"""Recorded exporter ids that now count as one (issue 19 point 4): the table ``exporter_id_aliases``.

Ids are canonicalised before counting and recording since ``engine.strict.canonical_party_id``; a ledger
recorded before keeps its ids as they were hashed ('abc ', 'Abc' and 'ABC' each with their own running
totals). Bringing them together is not done here: it appends signed chain events, moves running totals
under their seal and changes what later decisions count, which needs the signing key, the totals key, an
actor and a reason, and a report the operator reads first. ``baygate ledger merge-ids`` does it
(``engine.ledger.id_merge``); this revision only creates the table it writes, variant -> canonical id,
with the position of the ``id-merge`` event that recorded each. Nothing existing changes: an upgraded
ledger verifies and counts as before until a merge is made.

The downgrade drops the table; a ledger that recorded merges then no longer verifies (its ``id-merge``
events name aliases that are gone), as it should not pass for one that never merged.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exporter_id_aliases",
        sa.Column("variant", sa.String(128), primary_key=True, autoincrement=False),
        sa.Column("canonical", sa.String(128), nullable=False),
        sa.Column("merge_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_exporter_id_aliases_canonical", "exporter_id_aliases", ["canonical"])


def downgrade() -> None:
    op.drop_index("ix_exporter_id_aliases_canonical", "exporter_id_aliases")
    op.drop_table("exporter_id_aliases")

"""The running totals sealed with a key the database does not hold (issue 19 point 3).

Each row of ``exporter_year_totals`` and ``exporter_year_population_figures`` gains a ``mac``: an
HMAC-SHA256 of its key columns and figures under the service's totals key (``engine.ledger.seal``;
the key is a file outside the database). Every read that decides checks it, so a total edited through
SQL refuses the decision instead of deciding on the edited figure.

The migration cannot compute MACs (it has no key): it adds the columns empty, and the first process
that opens the ledger with its key after the upgrade seals every row, once the totals are found equal
to what the audit chain accounts for (``Ledger.seal_totals``); until then nothing counts from them.

**Writers of earlier versions are fenced out**, as revisions 0004 and 0005 did: ``ledger_chain_head``
becomes ``sealed_chain_head``. Every write of every version reads the chain head first, so the rename
waits for their writes under way, and their later writes (which would leave totals unsealed) fail and
roll back whole. **Downgrade** drops the columns and lifts the fence.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table("ledger_chain_head", "sealed_chain_head")  # first: the fence (see above)
    op.add_column("exporter_year_totals", sa.Column("mac", sa.String(48), nullable=True))
    op.add_column("exporter_year_population_figures", sa.Column("mac", sa.String(48), nullable=True))


def downgrade() -> None:
    op.execute(sa.text("ALTER TABLE exporter_year_population_figures DROP COLUMN mac"))
    op.execute(sa.text("ALTER TABLE exporter_year_totals DROP COLUMN mac"))
    op.rename_table("sealed_chain_head", "ledger_chain_head")

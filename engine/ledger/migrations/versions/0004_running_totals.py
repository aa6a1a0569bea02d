"""Running totals per exporter and year, so that counting no longer reads every transfer of the year.

Every submission and dry run read an exporter's counts by summing its counted, not withdrawn transfers
of the year and joining each of them with its populations for the largest figure per population:
linear in the exporter's transfers (10-13 ms at 15,000 on SQLite, 55-95 ms at 100,000, measured; the
population half fetches every counted row from the table: the covering index of 0003 serves only the
sums). Two tables now hold the result, written in the transactions that record and withdraw transfers
(``engine.ledger.totals``) and compared with the rows by ``audit verify``: ``exporter_year_totals``
(sums per exporter and year) and ``exporter_year_populations`` (largest figure per exporter, year and
population).

The upgrade fills them from the existing rows with exactly the statements counting ran (counted and
not withdrawn; the largest figure per population), in the upgrade's transaction. On PostgreSQL the
backfill reads ``transfers`` under the upgrade's lock, as 0003's index build did: upgrade a large
ledger with ``baygate db upgrade`` before the new version serves.

**Writers of earlier versions are fenced out.** A process of an earlier version still running after the
upgrade (the other replicas of a rolling deploy: ``baygate serve`` upgrades at start) would record
transfers without adding them to the totals, and the counts the new version reads would be short: a
wrong route. So the upgrade first renames ``chain_head`` to ``audit_chain_head``. Every write of every
version reads the chain head (``FOR UPDATE`` on PostgreSQL) before it touches ``transfers``, so:

- the rename waits for the writes of earlier versions already under way (on PostgreSQL its exclusive
  lock conflicts with their row lock on the head; SQLite has one writer), and the backfill, after it,
  sees them;
- from then on a write of an earlier version fails on the missing ``chain_head`` and is rolled back
  whole: its caller gets an error (and retries on a new replica), never a record the totals lack.

Dry runs of earlier versions keep counting from the transfer rows, which every version writes: still
right. The downgrade renames it back, so an earlier version may serve again.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The statements are this revision's own (not imported from the code): a migration must keep meaning
# what it meant when it was written.
BACKFILL_SUMS = (
    "INSERT INTO exporter_year_totals (exporter_id, year, personal_subjects, sensitive_subjects) "
    "SELECT exporter_id, year, SUM(personal_subjects), SUM(sensitive_subjects) FROM transfers "
    "WHERE counted = :yes AND withdrawn_at IS NULL GROUP BY exporter_id, year")
BACKFILL_POPULATIONS = (
    "INSERT INTO exporter_year_populations (exporter_id, year, population, largest_subjects) "
    "SELECT t.exporter_id, t.year, p.population, MAX(p.subjects) FROM transfer_populations p "
    "JOIN transfers t ON t.decision_id = p.decision_id WHERE t.counted = :yes AND t.withdrawn_at IS NULL "
    "GROUP BY t.exporter_id, t.year, p.population")


def upgrade() -> None:
    # First: the fence (see above). It must come before the backfill reads ``transfers``.
    op.rename_table("chain_head", "audit_chain_head")
    op.create_table(
        "exporter_year_totals",
        sa.Column("exporter_id", sa.String(128), primary_key=True, autoincrement=False),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("personal_subjects", sa.BigInteger, nullable=False),
        sa.Column("sensitive_subjects", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "exporter_year_populations",
        sa.Column("exporter_id", sa.String(128), primary_key=True, autoincrement=False),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("population", sa.String(128), primary_key=True, autoincrement=False),
        sa.Column("largest_subjects", sa.BigInteger, nullable=False),
    )
    op.execute(sa.text(BACKFILL_SUMS).bindparams(yes=True))
    op.execute(sa.text(BACKFILL_POPULATIONS).bindparams(yes=True))


def downgrade() -> None:
    op.drop_table("exporter_year_populations")
    op.drop_table("exporter_year_totals")
    op.rename_table("audit_chain_head", "chain_head")

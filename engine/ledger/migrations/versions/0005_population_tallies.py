"""Population figures per tally: the non-sensitive and the sensitive tally each keep their own.

A population sent again counts only its increase over the largest earlier figure for it (DESIGN
section 5). The figure was kept per population name alone, for both tallies: 5,000 members' contact
details and then 8,000 members' health records counted 3,000 in the sensitive tally, though the
health records of all 8,000 were sent for the first time (Provisions (2024), arts. 7-8 count the
individuals whose sensitive personal information was provided, separately). ``transfer_populations``
and ``exporter_year_populations`` gain a ``tally`` column ('personal' or 'sensitive') in their
primary keys.

**Upgrade.** A transfer's figures are what its submission event hashed: ``populations`` (every event)
and, from this revision on, ``sensitive_populations``. Figures recorded before this revision were
taken across both tallies and are hashed under ``populations``: they become 'personal' figures, so
until the next 1 January a sensitive data set naming such a population counts in full in the
sensitive tally (more, never less, than it should). Sensitive figures are taken from the events that
list them (a ledger taken back below this revision and upgraded again: see the downgrade). The
running figures per exporter and year are then filled from the transfer rows with the statement
revision 0004 filled them with, per tally.

**Downgrade.** The sensitive figures are dropped: what an earlier version reads under a population's
name is then exactly what the events hashed under ``populations`` (its ``audit verify`` agrees), and
its counting counts a sensitive data set naming such a population in full. Upgrading again takes them
back from the events.

**Writers of earlier versions.** Their population rows lack the tally (NOT NULL, no default) and their
upserts of the running figures name a conflict target that is no longer a key, so a write of theirs
that names a population fails and rolls back whole; one that names none writes what this version
writes.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The statements are this revision's own (not imported from the code): a migration must keep meaning
# what it meant when it was written.
FILL_RUNNING_FIGURES = (
    "INSERT INTO exporter_year_populations (exporter_id, year, population, tally, largest_subjects) "
    "SELECT t.exporter_id, t.year, p.population, p.tally, MAX(p.subjects) FROM transfer_populations p "
    "JOIN transfers t ON t.decision_id = p.decision_id WHERE t.counted = :yes AND t.withdrawn_at IS NULL "
    "GROUP BY t.exporter_id, t.year, p.population, p.tally")
LISTING_SENSITIVE_FIGURES = ("SELECT subject, body FROM events WHERE kind = 'submission' "
                             "AND body LIKE '%\"sensitive_populations\"%'")


def _transfer_populations(with_tally: bool) -> list[sa.Column[Any]]:
    tally = [sa.Column("tally", sa.String(16), primary_key=True)] if with_tally else []
    return [sa.Column("decision_id", sa.String(26), sa.ForeignKey("transfers.decision_id"), primary_key=True),
            sa.Column("population", sa.String(128), primary_key=True), *tally,
            sa.Column("subjects", sa.BigInteger, nullable=False)]


def _exporter_year_populations(with_tally: bool) -> list[sa.Column[Any]]:
    tally = [sa.Column("tally", sa.String(16), primary_key=True, autoincrement=False)] if with_tally else []
    return [sa.Column("exporter_id", sa.String(128), primary_key=True, autoincrement=False),
            sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("population", sa.String(128), primary_key=True, autoincrement=False), *tally,
            sa.Column("largest_subjects", sa.BigInteger, nullable=False)]


def _set_aside(table: str) -> str:
    """Rename ``table`` out of the way (a primary key cannot be changed in place on SQLite); on
    PostgreSQL its key's index keeps its name otherwise, which the new table's key needs."""
    old = f"{table}_before_0005"
    op.rename_table(table, old)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"ALTER TABLE {old} RENAME CONSTRAINT {table}_pkey TO {old}_pkey"))
    return old


def upgrade() -> None:
    old = _set_aside("transfer_populations")
    op.create_table("transfer_populations", *_transfer_populations(with_tally=True))
    op.execute(sa.text("INSERT INTO transfer_populations (decision_id, population, tally, subjects) "
                       f"SELECT decision_id, population, 'personal', subjects FROM {old}"))
    op.drop_table(old)
    bind = op.get_bind()
    sensitive = [{"decision_id": subject, "population": name, "tally": "sensitive", "subjects": int(figure)}
                 for subject, body in bind.execute(sa.text(LISTING_SENSITIVE_FIGURES))
                 for name, figure in (json.loads(body).get("data", {}).get("sensitive_populations") or {}).items()]
    if sensitive:
        bind.execute(sa.text("INSERT INTO transfer_populations (decision_id, population, tally, subjects) "
                             "SELECT decision_id, :population, :tally, :subjects FROM transfers "
                             "WHERE decision_id = :decision_id"), sensitive)

    op.drop_table("exporter_year_populations")
    op.create_table("exporter_year_populations", *_exporter_year_populations(with_tally=True))
    op.execute(sa.text(FILL_RUNNING_FIGURES).bindparams(yes=True))


def downgrade() -> None:
    old = _set_aside("exporter_year_populations")
    op.create_table("exporter_year_populations", *_exporter_year_populations(with_tally=False))
    op.execute(sa.text("INSERT INTO exporter_year_populations (exporter_id, year, population, largest_subjects) "
                       f"SELECT exporter_id, year, population, largest_subjects FROM {old} WHERE tally = 'personal'"))
    op.drop_table(old)
    old = _set_aside("transfer_populations")
    op.create_table("transfer_populations", *_transfer_populations(with_tally=False))
    op.execute(sa.text("INSERT INTO transfer_populations (decision_id, population, subjects) "
                       f"SELECT decision_id, population, subjects FROM {old} WHERE tally = 'personal'"))
    op.drop_table(old)

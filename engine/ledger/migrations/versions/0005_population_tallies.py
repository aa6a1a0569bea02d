"""Population figures per tally, and every exporter-year recounted under the counting rules.

A population sent again counts only its increase over the largest earlier figure for it (DESIGN
section 5). The figure was kept per population name alone, for both tallies: 5,000 members' contact
details and then 8,000 members' health records counted 3,000 in the sensitive tally, though the
health records of all 8,000 were sent for the first time (Provisions (2024), arts. 7-8 count the
individuals whose sensitive personal information was provided, separately). And a withdrawal took
away all a transfer had counted even where a later transfer of the same population had counted only
its increase over it. Both under-counted. So:

1. **Writers of earlier versions are fenced out**, as revision 0004 did: ``audit_chain_head`` becomes
   ``ledger_chain_head``. Every write of every version reads the chain head first, so the rename waits
   for their writes under way, and their later writes (submissions and withdrawals alike, which would
   count by the earlier rules) fail and roll back whole.
2. ``transfer_populations`` and ``exporter_year_populations`` gain a ``tally`` column ('personal' or
   'sensitive') in their primary keys. A counted transfer's figures per tally are taken from its
   request (its data sets, and the option its decision was made under), exactly as ``tally_of``
   takes them; their larger is the one figure its submission event hashed, which ``audit verify``
   checks. The running figures are filled from them.
3. **Every exporter-year is recounted**: its counted, not withdrawn transfers tallied again in the
   order recorded (``engine.ledger.totals.retally``). Where the running sums differ, they are set to
   the recount and a ``recount`` event records the change (exporter, year, the change in each tally,
   the reason), so the audit chain accounts for every count, and replays rebuild what each earlier
   decision read before the correction. Decisions already recorded are not changed.

The recount reads every counted transfer that names a population (a SQL sum covers the others):
linear in the ledger, as revision 0004's backfill; upgrade a large ledger with ``baygate db upgrade``
before the new version serves.

**Downgrade.** The fence is lifted and the sensitive figures dropped: what an earlier version reads
under a population's name is then a figure its ``populations`` listed (its counting then counts a
sensitive data set naming such a population in full: more, never less). The recount events stay in
the chain; an earlier version's ``audit verify`` does not know them and reports the totals they
corrected. Upgrading again splits the figures from the requests once more.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import op

from engine.ledger.audit import canonical, chain_hash
from engine.ledger.totals import population_figures, retally

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The statements are this revision's own (not imported from the code): a migration must keep meaning
# what it meant when it was written. The counting rules it recounts with are the code's
# (``engine.ledger.totals``), as a recount should be, and the events are hashed as the chain hashes them.
FILL_RUNNING_FIGURES = (
    "INSERT INTO exporter_year_populations (exporter_id, year, population, tally, largest_subjects) "
    "SELECT t.exporter_id, t.year, p.population, p.tally, MAX(p.subjects) FROM transfer_populations p "
    "JOIN transfers t ON t.decision_id = p.decision_id WHERE t.counted = :yes AND t.withdrawn_at IS NULL "
    "GROUP BY t.exporter_id, t.year, p.population, p.tally")
NAMES_A_POPULATION = "request_json LIKE '%\"population\":\"%'"  # requests are stored as canonical JSON
COUNTED_NAMING = ("SELECT decision_id, exporter_id, year, event_seq, personal_subjects, sensitive_subjects, "
                  "request_json, decision_json, withdrawn_at FROM transfers WHERE counted = :yes AND "
                  + NAMES_A_POPULATION)
SUMS_OF_THE_OTHERS = ("SELECT exporter_id, year, SUM(personal_subjects), SUM(sensitive_subjects) FROM transfers "
                      "WHERE counted = :yes AND withdrawn_at IS NULL AND NOT " + NAMES_A_POPULATION
                      + " GROUP BY exporter_id, year")
REASON = ("revision 0005: population figures kept per tally, and withdrawals release what the tally would "
          "lack had the transfer never been recorded; the year's counted transfers tallied again")


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
    bind = op.get_bind()
    op.rename_table("audit_chain_head", "ledger_chain_head")  # first: the fence (see above)

    naming = bind.execute(sa.text(COUNTED_NAMING), {"yes": True}).all()
    old = _set_aside("transfer_populations")
    op.create_table("transfer_populations", *_transfer_populations(with_tally=True))
    figures = [{"decision_id": row.decision_id, "population": name, "tally": tally, "subjects": subjects}
               for row in naming
               for tally, named in population_figures(row.request_json, row.decision_json).items()
               for name, subjects in named.items()]
    if figures:
        bind.execute(sa.text("INSERT INTO transfer_populations (decision_id, population, tally, subjects) "
                             "VALUES (:decision_id, :population, :tally, :subjects)"), figures)
    op.drop_table(old)
    op.create_index("ix_transfer_populations_population", "transfer_populations", ["population"])
    op.drop_table("exporter_year_populations")
    op.create_table("exporter_year_populations", *_exporter_year_populations(with_tally=True))
    op.execute(sa.text(FILL_RUNNING_FIGURES).bindparams(yes=True))
    _recount(bind, [row for row in naming if row.withdrawn_at is None])


def _recount(bind: sa.Connection, naming: list[Any]) -> None:
    """Set each exporter-year's sums to its counted transfers tallied again, with a recount event for
    each one that changes."""
    expected = dict(retally(naming).sums)
    for exporter, year, personal, sensitive in bind.execute(sa.text(SUMS_OF_THE_OTHERS), {"yes": True}):
        before = expected.get((exporter, int(year)), (0, 0))
        expected[(exporter, int(year))] = (before[0] + int(personal), before[1] + int(sensitive))
    stored = {(exporter, int(year)): (int(personal), int(sensitive)) for exporter, year, personal, sensitive
              in bind.execute(sa.text("SELECT exporter_id, year, personal_subjects, sensitive_subjects "
                                      "FROM exporter_year_totals"))}
    changed = sorted(key for key in set(expected) | set(stored)
                     if expected.get(key, (0, 0)) != stored.get(key, (0, 0)))
    if not changed:
        return
    seq, prev_hash = bind.execute(sa.text("SELECT seq, hash FROM ledger_chain_head WHERE id = 1")).one()
    at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    events = []
    for exporter, year in changed:
        was, now = stored.get((exporter, year), (0, 0)), expected.get((exporter, year), (0, 0))
        seq += 1
        body = canonical({"seq": seq, "kind": "recount", "subject": exporter, "at": at, "data": {
            "exporter": exporter, "year": year, "personal_subjects_change": now[0] - was[0],
            "sensitive_subjects_change": now[1] - was[1], "reason": REASON}})
        digest = chain_hash(prev_hash, body)
        events.append({"seq": seq, "kind": "recount", "subject": exporter, "body": body, "prev_hash": prev_hash,
                       "hash": digest})
        prev_hash = digest
        bind.execute(sa.text("DELETE FROM exporter_year_totals WHERE exporter_id = :e AND year = :y"),
                     {"e": exporter, "y": year})
        bind.execute(sa.text("INSERT INTO exporter_year_totals (exporter_id, year, personal_subjects, "
                             "sensitive_subjects) VALUES (:e, :y, :p, :s)"), {"e": exporter, "y": year,
                                                                              "p": now[0], "s": now[1]})
    bind.execute(sa.text("INSERT INTO events (seq, kind, subject, body, prev_hash, hash) "
                         "VALUES (:seq, :kind, :subject, :body, :prev_hash, :hash)"), events)
    bind.execute(sa.text("UPDATE ledger_chain_head SET seq = :seq, hash = :hash WHERE id = 1"),
                 {"seq": seq, "hash": prev_hash})


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
    op.rename_table("ledger_chain_head", "audit_chain_head")

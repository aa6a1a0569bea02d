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
2. ``transfer_populations`` gains a ``tally`` column ('personal' or 'sensitive') in its primary key,
   and the running figures per exporter and year move to ``exporter_year_population_figures``, keyed
   by tally too (a new name: an earlier version's dry run, which the fence does not stop, fails on the
   missing ``exporter_year_populations`` rather than count one figure for both tallies). A counted
   transfer's figures per tally are taken from its request (its data sets, and the option its
   decision was made under), exactly as ``tally_of`` takes them; their larger is the one figure its
   submission event hashed, which ``audit verify`` checks. The running figures are filled from them.
3. **Every exporter-year is recounted**: its counted, not withdrawn transfers tallied again in the
   order recorded (``engine.ledger.totals.retally``). Where the running sums differ, they are set to
   the recount and a ``recount`` event records the change (exporter, year, the change in each tally,
   the reason), so the audit chain accounts for every count, and replays rebuild what each earlier
   decision read before the correction. Decisions already recorded are not changed.

The recount reads every counted transfer that names a population (a SQL sum covers the others):
linear in the ledger, as revision 0004's backfill; upgrade a large ledger with ``baygate db upgrade``
before the new version serves.

**Downgrade.** The fence is lifted, and each transfer keeps one figure per population: the one its
submission event lists under ``populations`` (for an event of this revision, the non-sensitive
tally's; an earlier version then counts a sensitive data set naming such a population in full: more,
never less). The recount events stay in the chain; an earlier version's ``audit verify`` does not know
them and reports the totals they corrected. Upgrading again splits the figures from the requests.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from engine.ledger.audit import canonical, chain_hash
from engine.ledger.totals import RunningTally, population_figures, tallied_data

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The statements are this revision's own (not imported from the code): a migration must keep meaning
# what it meant when it was written. The counting rules it recounts with are the code's
# (``engine.ledger.totals``), as a recount should be, and the events are hashed as the chain hashes them.
FILL_RUNNING_FIGURES = (
    "INSERT INTO exporter_year_population_figures (exporter_id, year, population, tally, largest_subjects) "
    "SELECT t.exporter_id, t.year, p.population, p.tally, MAX(p.subjects) FROM transfer_populations p "
    "JOIN transfers t ON t.decision_id = p.decision_id WHERE t.counted = :yes AND t.withdrawn_at IS NULL "
    "GROUP BY t.exporter_id, t.year, p.population, p.tally")
NAMES_A_POPULATION = "request_json LIKE '%\"population\":\"%'"  # requests are stored as canonical JSON
COUNTED_NAMING = ("SELECT decision_id, exporter_id, year, request_json, withdrawn_at FROM transfers "
                  "WHERE counted = :yes AND " + NAMES_A_POPULATION + " ORDER BY exporter_id, year, event_seq")
SUMS_OF_THE_OTHERS = ("SELECT exporter_id, year, SUM(personal_subjects), SUM(sensitive_subjects) FROM transfers "
                      "WHERE counted = :yes AND withdrawn_at IS NULL AND NOT " + NAMES_A_POPULATION
                      + " GROUP BY exporter_id, year")
LISTING_POPULATIONS = ("SELECT subject, body FROM events WHERE kind = 'submission' "
                       "AND body LIKE '%\"populations\":{\"%'")
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
    old = _set_aside("transfer_populations")
    op.create_table("transfer_populations", *_transfer_populations(with_tally=True))
    op.drop_table(old)
    recounted = _split_and_tally_again(bind)
    op.create_index("ix_transfer_populations_population", "transfer_populations", ["population"])
    op.drop_table("exporter_year_populations")
    op.create_table("exporter_year_population_figures", *_exporter_year_populations(with_tally=True))
    op.execute(sa.text(FILL_RUNNING_FIGURES).bindparams(yes=True))
    _recount(bind, recounted)


def _split_and_tally_again(bind: sa.Connection) -> dict[tuple[str, int], tuple[int, int]]:
    """One pass over the counted transfers naming a population, by exporter-year in recorded order
    (streamed: a platform's ledger holds millions): each one's figures per tally into
    ``transfer_populations``, and the not withdrawn ones tallied again. Returns their sums per
    exporter-year. A decision's text is read only when its option matters (a sensitive data set)."""
    insert = sa.text("INSERT INTO transfer_populations (decision_id, population, tally, subjects) "
                     "VALUES (:decision_id, :population, :tally, :subjects)")
    decision = sa.text("SELECT decision_json FROM transfers WHERE decision_id = :d")

    def decision_json(decision_id: str) -> str:
        return str(bind.execute(decision, {"d": decision_id}).scalar_one())

    pending: list[dict[str, Any]] = []
    running: dict[tuple[str, int], RunningTally] = {}
    streamed = sa.text(COUNTED_NAMING).execution_options(stream_results=True, yield_per=500)
    rows = bind.execute(streamed, {"yes": True})
    for row in rows:
        data, in_both = tallied_data(row.request_json, functools.partial(decision_json, row.decision_id))
        pending.extend({"decision_id": row.decision_id, "population": name, "tally": tally, "subjects": subjects}
                       for tally, named in population_figures(data, in_both).items()
                       for name, subjects in named.items())
        if len(pending) >= 500:
            bind.execute(insert, pending)
            pending.clear()
        if row.withdrawn_at is None:
            running.setdefault((str(row.exporter_id), int(row.year)), RunningTally()).add(data, in_both)
    if pending:
        bind.execute(insert, pending)
    return {key: (tally.personal, tally.sensitive) for key, tally in running.items()}


def _recount(bind: sa.Connection, naming: dict[tuple[str, int], tuple[int, int]]) -> None:
    """Set each exporter-year's sums to its counted transfers tallied again (those naming a population,
    ``naming``; a SQL sum for the others, whose tallies do not depend on order), with a recount event
    for each one that changes."""
    expected = dict(naming)
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
    # Each transfer's one figure per population is what its submission event lists under
    # ``populations``, whichever revision wrote it, so an earlier version's ``audit verify`` finds them as
    # hashed; the running figures are filled from them as revision 0004 filled them.
    bind = op.get_bind()
    listed = [{"decision_id": subject, "population": name, "subjects": int(subjects)}
              for subject, body in bind.execute(sa.text(LISTING_POPULATIONS))
              for name, subjects in (json.loads(body)["data"].get("populations") or {}).items()]
    old = _set_aside("transfer_populations")
    op.create_table("transfer_populations", *_transfer_populations(with_tally=False))
    if listed:
        bind.execute(sa.text("INSERT INTO transfer_populations (decision_id, population, subjects) "
                             "SELECT decision_id, :population, :subjects FROM transfers "
                             "WHERE decision_id = :decision_id"), listed)
    op.drop_table(old)
    op.drop_table("exporter_year_population_figures")
    op.create_table("exporter_year_populations", *_exporter_year_populations(with_tally=False))
    op.execute(sa.text(
        "INSERT INTO exporter_year_populations (exporter_id, year, population, largest_subjects) "
        "SELECT t.exporter_id, t.year, p.population, MAX(p.subjects) FROM transfer_populations p "
        "JOIN transfers t ON t.decision_id = p.decision_id WHERE t.counted = :yes AND t.withdrawn_at IS NULL "
        "GROUP BY t.exporter_id, t.year, p.population").bindparams(yes=True))
    op.rename_table("ledger_chain_head", "audit_chain_head")

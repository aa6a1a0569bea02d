"""Who acted: the actor of each recorded transfer, and the pack set changes as chain events.

Every event now carries the acting key's name (or the operating-system user, or the service) and an
optional reason inside its hashed body (``engine.ledger.actors``). Two columns hold what is looked up
rather than read from the chain:

- ``transfers.recorded_by``: the actor of the transfer's submission (a submitter key may read the
  transfers it recorded; lists filter by it). ``audit verify`` checks it against the submission event.
  Null for transfers recorded before this revision, whose events name no actor.
- ``pack_sets.event_seq``: the ``pack_set`` event that records a change of the pack set in service (a
  reload, a start-up on other packs) with its actor; ``audit verify`` checks the row against it. Null
  for changes recorded before this revision, when the chain did not record them.

Nothing is rewritten: earlier events stay as they were hashed. Writers of the earlier version still
running may go on recording (their rows have no actor, which verify accepts as it accepts old rows).
The downgrade drops both columns; the events keep their actors (an earlier version's verify ignores
the extra fields, but reports a ``pack_set`` event as an unknown kind).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


# Events already naming actors exist only where this revision was applied, downgraded and applied again:
# the columns are filled back from them, so the rows agree with the chain as before the downgrade.
SUBMISSIONS_WITH_ACTORS = ("SELECT seq, body FROM events WHERE kind = 'submission' "
                           "AND body LIKE '%\"actor\":\"%'")
PACK_SET_EVENTS = "SELECT seq, subject, body FROM events WHERE kind = 'pack_set'"


def upgrade() -> None:
    op.add_column("transfers", sa.Column("recorded_by", sa.String(160), nullable=True))
    op.add_column("pack_sets", sa.Column("event_seq", sa.BigInteger, nullable=True))
    bind = op.get_bind()
    for seq, body in bind.execute(sa.text(SUBMISSIONS_WITH_ACTORS)).all():
        bind.execute(sa.text("UPDATE transfers SET recorded_by = :a WHERE event_seq = :s"),
                     {"a": json.loads(body)["data"]["actor"], "s": seq})
    for seq, subject, body in bind.execute(sa.text(PACK_SET_EVENTS)).all():
        bind.execute(sa.text("UPDATE pack_sets SET event_seq = :s WHERE set_digest = :d AND started_at = :at"),
                     {"s": seq, "d": subject, "at": json.loads(body)["at"]})


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN on both databases (SQLite 3.35 on): a batch copy of ``transfers``
    # would drop the table that ``transfer_populations`` references.
    op.execute(sa.text("ALTER TABLE pack_sets DROP COLUMN event_seq"))
    op.execute(sa.text("ALTER TABLE transfers DROP COLUMN recorded_by"))

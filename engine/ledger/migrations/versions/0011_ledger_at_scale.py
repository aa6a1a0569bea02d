"""The ledger at scale (issue 21): compact records, the population index, and indexes for chain-order reads.

1. **Compact records** (``engine.ledger.records``). ``transfers`` gains ``record``: the request and the
   decision compressed with zlib against the texts of the first transfer of the same kind, kept once in
   the new table ``record_dictionaries``. Rows written from now on hold their texts there and leave
   ``request_json`` and ``decision_json`` empty; rows written before keep their texts where they are
   (nothing is rewritten: the upgrade stays fast at any size) and read, and verify, as before. The
   submission events are unchanged: they hold each text's SHA-256, which the decompressed texts must
   give.
2. **The population index covers exporter and year.** A withdrawal looks for the other live transfers
   of its exporter-year naming its populations; the index was on the population name alone, across
   exporters (up to 1.7 s at 10^6 transfers, under SQLite's write lock). ``transfer_populations`` gains
   the exporter id and the year of its transfer (filled from ``transfers``; ``audit verify`` checks
   they still agree) and is indexed on (exporter, year, population, tally, figure): the largest figure
   of a population in an exporter-year is the end of one index range.
3. **Chain-order reads.** Replays and ``rules diff`` read the transfers in chain order (revision 0006's
   ``ix_transfers_event_seq``) and rebuild the counts each was decided with; a replay of one transfer,
   or from a day, rebuilds them from what came before it in its exporter-year: 0006's
   ``ix_transfers_exporter_seq`` (exporter, position) now also holds the year, whether counted, the
   subjects and the withdrawal's position, so that is a range of the index, not of the rows;
   ``ix_events_kind`` (every event but submissions, by kind and position) finds the recounts. 0003's
   ``ix_transfers_counts`` goes: counting reads the running totals since 0004, and 0006's
   ``ix_transfers_curve`` holds every column it had.

Writers of earlier versions are not fenced out: the rows they write (texts in the columns) stay valid,
and one naming a population fails on the new columns and is rolled back whole. Their reads of rows
written from now on find empty texts: upgrade every replica.

Amendments (revision 0010) move a replaced decision's row whole into ``replaced_decisions``: that table
gains ``record`` too (the compact row moves as it is), and an index on the amendment's position
(``replaced_seq``), by which the streaming verify and the replays meet each amendment.

**Downgrade.** Every compact row's texts are written back into its columns (decompressed exactly as
recorded), then the columns, table and indexes of this revision are removed.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from engine.ledger import records

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

EXPORTER_SEQ = ["exporter_id", "event_seq", "year", "counted", "personal_subjects", "sensitive_subjects",
                "withdrawn_seq"]
EXPORTER_SEQ_0006 = ["exporter_id", "event_seq"]
COUNTS_0003 = ["exporter_id", "year", "counted", "withdrawn_at", "personal_subjects", "sensitive_subjects"]


def _transfer_populations(with_exporter_year: bool) -> list[sa.Column[Any]]:
    located: list[sa.Column[Any]] = [sa.Column("exporter_id", sa.String(128), nullable=False),
               sa.Column("year", sa.Integer, nullable=False)] if with_exporter_year else []
    return [sa.Column("decision_id", sa.String(26), sa.ForeignKey("transfers.decision_id"), primary_key=True),
            sa.Column("population", sa.String(128), primary_key=True),
            sa.Column("tally", sa.String(16), primary_key=True),
            sa.Column("subjects", sa.BigInteger, nullable=False), *located]


def _set_aside(table: str) -> str:
    """Rename ``table`` out of the way (SQLite cannot add NOT NULL columns to filled tables); on
    PostgreSQL its key's index keeps its name otherwise, which the new table's key needs."""
    old = f"{table}_before_0011"
    op.rename_table(table, old)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"ALTER TABLE {old} RENAME CONSTRAINT {table}_pkey TO {old}_pkey"))
    return old


def upgrade() -> None:
    op.add_column("transfers", sa.Column("record", sa.LargeBinary, nullable=True))
    op.add_column("replaced_decisions", sa.Column("record", sa.LargeBinary, nullable=True))
    op.create_index("ix_replaced_decisions_replaced_seq", "replaced_decisions", ["replaced_seq"])
    op.create_table("record_dictionaries",
                    sa.Column("digest", sa.String(64), primary_key=True),
                    sa.Column("kind", sa.String(64), nullable=False),
                    sa.Column("content", sa.LargeBinary, nullable=False))
    op.create_index("ix_record_dictionaries_kind", "record_dictionaries", ["kind"])

    old = _set_aside("transfer_populations")
    op.drop_index("ix_transfer_populations_population", table_name=old)
    op.create_table("transfer_populations", *_transfer_populations(with_exporter_year=True))
    op.execute(sa.text(f"INSERT INTO transfer_populations (decision_id, population, tally, subjects, exporter_id, "
                       f"year) SELECT p.decision_id, p.population, p.tally, p.subjects, t.exporter_id, t.year "
                       f"FROM {old} p JOIN transfers t ON t.decision_id = p.decision_id"))
    op.drop_table(old)
    op.create_index("ix_transfer_populations_counting", "transfer_populations",
                    ["exporter_id", "year", "population", "tally", "subjects"])

    op.drop_index("ix_transfers_exporter_seq", table_name="transfers")
    op.create_index("ix_transfers_exporter_seq", "transfers", EXPORTER_SEQ)
    op.drop_index("ix_transfers_counts", table_name="transfers")
    op.create_index("ix_events_kind", "events", ["kind", "seq"],
                    sqlite_where=sa.text("kind <> 'submission'"), postgresql_where=sa.text("kind <> 'submission'"))


def downgrade() -> None:
    _expand_records(op.get_bind())
    op.drop_index("ix_events_kind", table_name="events")
    op.create_index("ix_transfers_counts", "transfers", COUNTS_0003)
    op.drop_index("ix_transfers_exporter_seq", table_name="transfers")
    op.create_index("ix_transfers_exporter_seq", "transfers", EXPORTER_SEQ_0006)

    old = _set_aside("transfer_populations")
    op.drop_index("ix_transfer_populations_counting", table_name=old)
    op.create_table("transfer_populations", *_transfer_populations(with_exporter_year=False))
    op.execute(sa.text(f"INSERT INTO transfer_populations (decision_id, population, tally, subjects) "
                       f"SELECT decision_id, population, tally, subjects FROM {old}"))
    op.drop_table(old)
    op.create_index("ix_transfer_populations_population", "transfer_populations", ["population"])

    op.drop_index("ix_record_dictionaries_kind", table_name="record_dictionaries")
    op.drop_table("record_dictionaries")
    op.drop_index("ix_replaced_decisions_replaced_seq", table_name="replaced_decisions")
    op.execute(sa.text("ALTER TABLE replaced_decisions DROP COLUMN record"))
    op.execute(sa.text("ALTER TABLE transfers DROP COLUMN record"))  # SQLite 3.35 on, PostgreSQL


def _expand_records(bind: sa.Connection) -> None:
    """Write every compact row's texts back into its columns (the transfers, and the decisions
    amendments replaced), 500 rows at a time (by decision id)."""
    reader = records.DictionaryReader(bind)
    for table in ("transfers", "replaced_decisions"):
        page = sa.text(f"SELECT decision_id, record, request_json, decision_json FROM {table} "
                       "WHERE record IS NOT NULL AND decision_id > :after ORDER BY decision_id LIMIT 500")
        update = sa.text(f"UPDATE {table} SET request_json = :request, decision_json = :decision "
                         "WHERE decision_id = :d")
        after = ""
        while rows := bind.execute(page, {"after": after}).all():
            expanded = []
            for row in rows:
                request_json, decision_json = reader.texts(row)
                expanded.append({"d": row.decision_id, "request": request_json, "decision": decision_json})
            bind.execute(update, expanded)
            after = rows[-1].decision_id

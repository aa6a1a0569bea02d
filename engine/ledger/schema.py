"""The ledger's tables (SQLAlchemy Core). Migrations in ``migrations/versions`` create them; this
module is what the code queries, and ``tests/ledger`` checks that the two agree.

- ``transfers``: one row per recorded submission, with the request and the full decision (compressed
  in ``record`` since revision 0011, ``engine.ledger.records``; as JSON in ``request_json`` and
  ``decision_json`` before) and the columns counting reads (year, counted, personal and sensitive
  subjects, withdrawn_at).
- ``record_dictionaries``: the texts records are compressed against, one per kind of decision (0011).
- ``transfer_populations``: the figure each named population reached in a transfer, per tally (DESIGN
  section 5; the tally since revision 0005), with the transfer's exporter and year (0011: the index a
  withdrawal reads).
- ``exporter_year_totals``, ``exporter_year_population_figures``: the running totals counting reads, kept
  with the rows they summarise (revision 0004; ``engine.ledger.totals``).
- ``packs``: rule pack YAML text by digest, so a decision can be replayed under exactly its packs.
- ``exporter_id_aliases``: recorded exporter ids that count as another since an ``id-merge`` event
  (revision 0013; ``engine.ledger.aliases``).
- ``events``: the audit chain, one row per event, gapless ``seq``; ``sealed_chain_head`` holds the last
  seq and hash, so that removing the newest events is noticed as well. Every write reads it first, so
  renaming it fences out writers of earlier versions: ``chain_head`` before revision 0004,
  ``audit_chain_head`` before 0005, ``ledger_chain_head`` before 0009 (the sealed totals).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _recorded_decision_columns() -> list[Column[Any]]:
    """The columns of a recorded decision, fresh for each table that holds one (``transfers`` for the
    decision in force, ``replaced_decisions`` for those an amendment replaced), so the two cannot drift."""
    return [
        Column("decision_id", String(26), primary_key=True),
        Column("exporter_id", String(128), nullable=False),
        Column("reference", String(128), nullable=False),
        Column("request_sha256", String(64), nullable=False),
        Column("request_json", Text, nullable=False),
        Column("decision_json", Text, nullable=False),
        Column("outcome", String(16), nullable=False),
        Column("year", Integer, nullable=False),
        Column("counted", Boolean, nullable=False),
        Column("personal_subjects", BigInteger, nullable=False),
        Column("sensitive_subjects", BigInteger, nullable=False),
        Column("rules_digest", String(80), nullable=False),
        Column("recorded_at", String(40), nullable=False),
        Column("event_seq", BigInteger, nullable=False),
    ]


transfers = Table(
    "transfers",
    metadata,
    *_recorded_decision_columns(),
    Column("withdrawn_at", String(40), nullable=True),
    Column("withdrawn_seq", BigInteger, nullable=True),
    Column("recorded_by", String(160), nullable=True),  # the submission's actor (revision 0007)
    Column("record", LargeBinary, nullable=True),
    UniqueConstraint("exporter_id", "reference", name="uq_transfers_exporter_reference"),
)
Index("ix_transfers_reference", transfers.c.reference)
# Listing newest first under a filter (revision 0006): the filter, then the chain position.
Index("ix_transfers_event_seq", transfers.c.event_seq)
Index("ix_transfers_outcome_seq", transfers.c.outcome, transfers.c.event_seq)
Index("ix_transfers_withdrawn", transfers.c.withdrawn_at)
# An exporter's transfers in chain order (revision 0006), with what a replay of one transfer (or from a
# day) reads to rebuild the counts before it (revision 0011): a range of this index, not the rows.
Index("ix_transfers_exporter_seq", transfers.c.exporter_id, transfers.c.event_seq, transfers.c.year,
      transfers.c.counted, transfers.c.personal_subjects, transfers.c.sensitive_subjects, transfers.c.withdrawn_seq)
# An exporter's counted individuals by recording day (revision 0006): covers the curve's reads, and those
# of counting from the rows (revision 0003's ix_transfers_counts, whose columns it holds, is gone in 0011).
Index("ix_transfers_curve", transfers.c.exporter_id, transfers.c.year, transfers.c.counted, transfers.c.withdrawn_at,
      transfers.c.recorded_at, transfers.c.personal_subjects, transfers.c.sensitive_subjects)

record_dictionaries = Table(
    "record_dictionaries",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)
"""Preset dictionaries of the compressed records, by SHA-256 (``engine.ledger.records``, revision 0011)."""
Index("ix_record_dictionaries_kind", record_dictionaries.c.kind)

TALLIES = ("personal", "sensitive")
"""The two tallies a population figure belongs to (revision 0005): its individuals in the non-sensitive
tally, or in the sensitive one (``engine.facts.tally_of``)."""

transfer_populations = Table(
    "transfer_populations",
    metadata,
    Column("decision_id", String(26), ForeignKey("transfers.decision_id"), primary_key=True),
    Column("population", String(128), primary_key=True),
    Column("tally", String(16), primary_key=True),
    Column("subjects", BigInteger, nullable=False),
    Column("exporter_id", String(128), nullable=False),
    Column("year", Integer, nullable=False),
)
# A withdrawal finds the largest figure of a population in its exporter-year (revision 0011): the end of
# one range of this index, whatever the size of the ledger or the number of exporters naming it.
Index("ix_transfer_populations_counting", transfer_populations.c.exporter_id, transfer_populations.c.year,
      transfer_populations.c.population, transfer_populations.c.tally, transfer_populations.c.subjects)

exporter_year_totals = Table(
    "exporter_year_totals",
    metadata,
    Column("exporter_id", String(128), primary_key=True, autoincrement=False),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("personal_subjects", BigInteger, nullable=False),
    Column("sensitive_subjects", BigInteger, nullable=False),
    Column("mac", String(48), nullable=True),  # engine.ledger.seal (revision 0009; null until sealed)
)
"""Sums of the counted, not withdrawn transfers per exporter and year (no row: zero)."""

exporter_year_population_figures = Table(
    "exporter_year_population_figures",
    metadata,
    Column("exporter_id", String(128), primary_key=True, autoincrement=False),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("population", String(128), primary_key=True, autoincrement=False),
    Column("tally", String(16), primary_key=True, autoincrement=False),
    Column("largest_subjects", BigInteger, nullable=False),
    Column("mac", String(48), nullable=True),  # engine.ledger.seal (revision 0009; null until sealed)
)
"""The largest figure of each population named by a counted, not withdrawn transfer, per exporter, year
and tally."""

packs = Table(
    "packs",
    metadata,
    Column("digest", String(80), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("version", String(64), nullable=False),
    Column("file", String(300), nullable=False),
    Column("content", Text, nullable=False),
    Column("first_used_at", String(40), nullable=False),
    Column("event_seq", BigInteger, nullable=False),
)

pack_sets = Table(
    "pack_sets",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("set_digest", String(80), nullable=False),
    Column("members", Text, nullable=False),  # JSON list of [pack name, pack digest], sorted
    Column("started_at", String(40), nullable=False),
    Column("event_seq", BigInteger, nullable=True),  # its pack_set event (revision 0007; null before)
)
"""Every change of the pack set in service, with its moment: as-of evaluation follows rollbacks."""

events = Table(
    "events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
# Every event but submissions, by kind and position (revision 0011): the withdrawals and recounts that
# replays read, without walking the submissions.
Index("ix_events_kind", events.c.kind, events.c.seq, sqlite_where=events.c.kind != "submission",
      postgresql_where=events.c.kind != "submission")

chain_head = Table(
    "sealed_chain_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

dated_items = Table(
    "dated_items",
    metadata,
    Column("decision_id", String(26), ForeignKey("transfers.decision_id"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("item", String(128), primary_key=True),
    Column("detail", String(128), primary_key=True),
    Column("day", String(10), nullable=False),
    Column("exporter_id", String(128), nullable=False),
)
"""Dates inside recorded decisions and requests, one row each (revision 0006): an obligation's due date
(kind ``due``, item the obligation id) and a mechanism's expiry (kind ``expires``, item its type, detail its
reference). An index of the stored JSON for an exporter's page, not evidence: nothing verifies it, and
``engine.ledger.exporter_report`` brings it up to date from the chain before reading it."""
Index("ix_dated_items_exporter_day", dated_items.c.exporter_id, dated_items.c.kind, dated_items.c.day)

dated_items_watermark = Table(
    "dated_items_watermark",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
)
"""The last chain event whose transfer ``dated_items`` holds."""

chain_signatures = Table(
    "chain_signatures",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("signature", String(100), nullable=False),
)
"""The Ed25519 signature of every head committed with a signing key (revision 0008; engine.ledger.signing)."""

chain_signing_keys = Table(
    "chain_signing_keys",
    metadata,
    Column("announced_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("key_id", String(16), nullable=False),
    Column("public_key", String(64), nullable=False),
)
"""The public keys the chain announces (a ``signing_key`` event each), by the position of the event."""


replaced_decisions = Table(
    "replaced_decisions",
    metadata,
    *_recorded_decision_columns(),
    Column("recorded_by", String(160), nullable=True),
    Column("populations", Text, nullable=False),  # JSON: tally -> population -> subjects
    Column("replaced_by", String(26), nullable=False),
    Column("replaced_at", String(40), nullable=False),
    Column("replaced_seq", BigInteger, nullable=False),
    Column("record", LargeBinary, nullable=True),  # the compact record, as in ``transfers`` (revision 0011)
)
"""A transfer's decisions that an amendment replaced (revision 0010; engine.ledger.amendments): the row
as it was recorded, its population figures, and the decision, moment and ``amendment`` event that
replaced it. ``transfers`` keeps the decision in force."""
Index("ix_replaced_decisions_transfer", replaced_decisions.c.exporter_id, replaced_decisions.c.reference)
Index("ix_replaced_decisions_event_seq", replaced_decisions.c.event_seq)
# The amendments in chain order (revision 0011): what the streaming verify and the replays merge with the
# withdrawals.
Index("ix_replaced_decisions_replaced_seq", replaced_decisions.c.replaced_seq)


verify_jobs = Table(
    "verify_jobs",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("requested_at", String(40), nullable=False),
    Column("requested_by", String(160), nullable=True),
    Column("started_at", String(40), nullable=True),
    Column("heartbeat_at", String(40), nullable=True),
    Column("finished_at", String(40), nullable=True),
    Column("events_checked", BigInteger, nullable=False),
    Column("events_total", BigInteger, nullable=True),
    Column("ok", Boolean, nullable=True),
    Column("first_bad", Text, nullable=True),
    Column("problem", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("anchors", Text, nullable=True),
    Column("notes", Text, nullable=True),
)
"""``audit verify`` runs started over HTTP (revision 0012, ``engine.ledger.verify_jobs``): the service's
bookkeeping, not part of the audit chain."""

exporter_id_aliases = Table(
    "exporter_id_aliases",
    metadata,
    Column("variant", String(128), primary_key=True, autoincrement=False),
    Column("canonical", String(128), nullable=False),
    Column("merge_seq", BigInteger, nullable=False),
)
"""Recorded exporter ids that count as another id since the ``id-merge`` event at ``merge_seq`` (revision
0013; engine.ledger.aliases): a variant recorded before ids were canonicalised ('abc ', 'Abc') and the
canonical id ('ABC') it reads as. The transfers keep the id they were recorded (and hashed) under."""
Index("ix_exporter_id_aliases_canonical", exporter_id_aliases.c.canonical)

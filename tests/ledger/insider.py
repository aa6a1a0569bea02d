"""What an insider with write access to the database (and the source code) can do with SQL alone: edit
rows, and rewrite the audit chain so that every hash and link is right again. The tests of ``audit
verify``'s checks and of the anchors (checkpoints, signatures) play this part through these helpers,
on both backends. Nothing here uses a key the service holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text

from engine.ledger import Ledger, sealed_totals
from engine.ledger.audit import GENESIS, canonical, chain_hash

Event = dict[str, Any]
"""An event as its hashed body holds it: seq, kind, subject, at, data."""


def sql(ledger: Ledger, statement: str, **params: Any) -> None:
    with ledger.sql_engine.begin() as conn:
        conn.execute(text(statement), params)


def scalar(ledger: Ledger, statement: str, **params: Any) -> Any:
    with ledger.sql_engine.connect() as conn:
        return conn.execute(text(statement), params).scalar()


def events(conn: Connection) -> list[Event]:
    return [json.loads(body) for (body,) in conn.execute(text("SELECT body FROM events ORDER BY seq"))]


def rewrite_chain(ledger: Ledger, edit: Callable[[Connection, list[Event]], list[Event]]) -> dict[int, int]:
    """Read the whole chain, let ``edit`` change, drop or add events (and any row, through the
    connection), then number the events 1.. again, hash them all again, write them back, move the head
    and every row's pointer into the chain. Returns old seq -> new seq of the events kept: a chain that
    ``audit verify`` alone cannot tell from the one the service wrote."""
    with ledger.sql_engine.begin() as conn:
        chain = edit(conn, events(conn))
        renumbered: dict[int, int] = {}
        prev = GENESIS
        rows = []
        for position, event in enumerate(chain, start=1):
            if "seq" in event:
                renumbered[int(event["seq"])] = position
            body = canonical({**event, "seq": position})
            digest = chain_hash(prev, body)
            rows.append({"seq": position, "kind": event["kind"], "subject": event["subject"], "body": body,
                         "prev_hash": prev, "hash": digest})
            prev = digest
        conn.execute(text("DELETE FROM events"))
        if rows:
            conn.execute(text("INSERT INTO events (seq, kind, subject, body, prev_hash, hash) "
                              "VALUES (:seq, :kind, :subject, :body, :prev_hash, :hash)"), rows)
        conn.execute(text("UPDATE sealed_chain_head SET seq = :s, hash = :h WHERE id = 1"),
                     {"s": len(rows), "h": prev})
        for table, column in (("transfers", "event_seq"), ("transfers", "withdrawn_seq"), ("packs", "event_seq")):
            for old, new in renumbered.items():
                if old != new:
                    conn.execute(text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old"),
                                 {"new": -new, "old": old})
            conn.execute(text(f"UPDATE {table} SET {column} = -{column} WHERE {column} < 0"))
    return renumbered


def delete_transfer_and_rehash(ledger: Ledger, reference: str) -> None:
    """The issue's first attack: delete a submission from the middle of the chain, its rows and its
    share of the running totals, and hash every later event again."""
    with ledger.sql_engine.connect() as conn:
        row = conn.execute(text("SELECT decision_id, exporter_id, year, personal_subjects, sensitive_subjects "
                                "FROM transfers WHERE reference = :r"), {"r": reference}).one()

    def edit(conn: Connection, chain: list[Event]) -> list[Event]:
        conn.execute(text("DELETE FROM transfer_populations WHERE decision_id = :d"), {"d": row.decision_id})
        conn.execute(text("DELETE FROM transfers WHERE decision_id = :d"), {"d": row.decision_id})
        conn.execute(text("UPDATE exporter_year_totals SET personal_subjects = personal_subjects - :p, "
                          "sensitive_subjects = sensitive_subjects - :s WHERE exporter_id = :e AND year = :y"),
                     {"p": row.personal_subjects, "s": row.sensitive_subjects, "e": row.exporter_id, "y": row.year})
        return [event for event in chain if event["subject"] != row.decision_id]

    rewrite_chain(ledger, edit)


def drop_newest_and_move_head(ledger: Ledger, reference: str) -> None:
    """The issue's second attack: delete the newest submission and move the head back to the event
    before it (no re-hash needed: every earlier event is untouched)."""
    with ledger.sql_engine.begin() as conn:
        row = conn.execute(text("SELECT decision_id, exporter_id, year, personal_subjects, sensitive_subjects, "
                                "event_seq FROM transfers WHERE reference = :r"), {"r": reference}).one()
        newest = conn.execute(text("SELECT max(seq) FROM events")).scalar()
        assert row.event_seq == newest, "the transfer must be the newest event"
        conn.execute(text("DELETE FROM transfer_populations WHERE decision_id = :d"), {"d": row.decision_id})
        conn.execute(text("DELETE FROM transfers WHERE decision_id = :d"), {"d": row.decision_id})
        conn.execute(text("UPDATE exporter_year_totals SET personal_subjects = personal_subjects - :p, "
                          "sensitive_subjects = sensitive_subjects - :s WHERE exporter_id = :e AND year = :y"),
                     {"p": row.personal_subjects, "s": row.sensitive_subjects, "e": row.exporter_id, "y": row.year})
        conn.execute(text("DELETE FROM events WHERE seq = :s"), {"s": newest})
        previous = conn.execute(text("SELECT seq, hash FROM events WHERE seq = :s"), {"s": newest - 1}).one()
        conn.execute(text("UPDATE sealed_chain_head SET seq = :s, hash = :h WHERE id = 1"),
                     {"s": previous.seq, "h": previous.hash})


def reseal_as_key_holder(ledger: Ledger) -> None:
    """The insider who also holds the service's totals key (on the service's host): seals the totals as
    they now stand, with no check against the chain (what ``Ledger.seal_totals`` would refuse). Then
    the decisions read the edited figures, and only ``audit verify`` can tell (issue 19 point 3)."""
    with ledger.sql_engine.begin() as conn:
        sealed_totals.seal_all(conn, ledger.totals_key)

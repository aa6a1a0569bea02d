"""The rows ``audit verify`` walks beside the chain (``engine.ledger.verify_walk``), read as ordered
streams so that memory does not grow with the ledger: the transfers with their population figures by
``event_seq``, the decisions amendments replaced (by ``event_seq`` and by ``replaced_seq``), the withdrawn
transfers by ``withdrawn_seq``; and one row by decision id, where the streams did not bring it.

Each transfer comes as a :class:`Located`: its texts as recorded, hashed once from the bytes as stored
(what the submission event's hashes are checked against), and what is already wrong with it (a
population naming another exporter or year, a record or figures that cannot be read)."""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, select

from engine.ledger import amendments, records
from engine.ledger.schema import replaced_decisions, transfer_populations, transfers

STREAMED = {"stream_results": True, "yield_per": 1_000}
_POPULATION_COLUMNS = (transfer_populations.c.population.label("p_population"),
                       transfer_populations.c.tally.label("p_tally"),
                       transfer_populations.c.subjects.label("p_subjects"),
                       transfer_populations.c.exporter_id.label("p_exporter_id"),
                       transfer_populations.c.year.label("p_year"))
_SUBMITTED = (select(transfers, *_POPULATION_COLUMNS)
              .outerjoin(transfer_populations, transfer_populations.c.decision_id == transfers.c.decision_id)
              .order_by(transfers.c.event_seq, transfers.c.decision_id))
WITHDRAWN = (select(transfers).where(transfers.c.withdrawn_at.is_not(None), transfers.c.withdrawn_seq.is_not(None))
              .order_by(transfers.c.withdrawn_seq, transfers.c.decision_id))
_REPLACED = select(replaced_decisions).order_by(replaced_decisions.c.event_seq, replaced_decisions.c.decision_id)
AMENDED = select(replaced_decisions).order_by(replaced_decisions.c.replaced_seq, replaced_decisions.c.decision_id)
IN_FORCE_AND_REPLACED = (select(transfers.c.decision_id)
                          .join(replaced_decisions, replaced_decisions.c.decision_id == transfers.c.decision_id)
                          .order_by(transfers.c.decision_id).limit(1))


@dataclass
class Located:
    """A transfer row as the walk checks it: its texts as recorded, its population figures per tally,
    whether any of them names another exporter or year, and why its record cannot be read (if so)."""

    row: Any
    figures: dict[str, dict[str, int]] = field(default_factory=dict)
    misplaced: bool = False
    unreadable: str | None = None
    replaced: bool = False
    """A decision an amendment replaced (``replaced_decisions``): out of force since ``withdrawn_seq``."""
    figures_unreadable: bool = False



def _located(rows: list[Any], reader: records.DictionaryReader) -> Located:
    """One transfer from its LEFT JOIN rows (one per population figure, or one with none)."""
    first = rows[0]
    located = Located(first)
    for row in rows:
        if row.p_population is None:
            continue
        located.figures.setdefault(row.p_tally, {})[row.p_population] = row.p_subjects
        if (row.p_exporter_id, row.p_year) != (first.exporter_id, first.year):
            located.misplaced = True
    located.row = _with_texts(first._mapping, reader, located)
    return located


def _replaced_located(row: Any, reader: records.DictionaryReader) -> Located:
    """A decision an amendment replaced, read as a transfer that went out of force at the amendment
    (``amendments.replaced_rows``), with its population figures as its row keeps them (JSON)."""
    located = Located(row, replaced=True)
    try:
        located.figures = amendments.figures_of(row)
    except ValueError:
        located.figures_unreadable = True
    fields = {**row._mapping, "withdrawn_at": row.replaced_at, "withdrawn_seq": row.replaced_seq}
    located.row = _with_texts(fields, reader, located)
    return located


def _with_texts(fields: Mapping[str, Any], reader: records.DictionaryReader, located: Located) -> _Checked:
    try:
        request, decision = reader.raw_texts(SimpleNamespace(**fields))
    except ValueError as exc:
        located.unreadable = str(exc)
        request = decision = b""
    return _Checked(fields, request, decision)


class _Checked:
    """A transfer row with its texts as recorded: hashed once, from the bytes as stored (what the
    submission event's hashes are checked against: ``audit.text_hashes``), decoded only when read. The
    columns are plain attributes (the checks read each of them, for every transfer)."""

    def __init__(self, fields: Mapping[str, Any], request: bytes, decision: bytes) -> None:
        self.__dict__.update(fields)
        self._request = request
        self._decision = decision
        self.text_hashes = (hashlib.sha256(request).hexdigest(), hashlib.sha256(decision).hexdigest())

    @property
    def request_json(self) -> str:
        return self._request.decode("utf-8", errors="replace")

    @property
    def decision_json(self) -> str:
        return self._decision.decode("utf-8", errors="replace")


def _grouped(connection: Connection, reader: records.DictionaryReader) -> Iterator[Located]:
    """The transfers in ``event_seq`` order, each with its population figures."""
    group: list[Any] = []
    for row in connection.execute(_SUBMITTED.execution_options(**STREAMED)):
        if group and row.decision_id != group[0].decision_id:
            yield _located(group, reader)
            group = []
        group.append(row)
    if group:
        yield _located(group, reader)


def recorded(connection: Connection, reader: records.DictionaryReader) -> Iterator[Located]:
    """Every recorded decision in ``event_seq`` order: the transfers (the decisions in force) and the
    decisions amendments replaced, each where its submission (or amendment) event is."""
    replaced = (_replaced_located(row, reader)
                for row in connection.execute(_REPLACED.execution_options(**STREAMED)))
    return heapq.merge(_grouped(connection, reader), replaced,
                       key=lambda located: (int(located.row.event_seq), str(located.row.decision_id)))


def one_transfer(connection: Connection, reader: records.DictionaryReader, decision_id: str) -> Located | None:
    """One transfer by decision id, when the streams did not bring it where its event expects it."""
    rows = list(connection.execute(_SUBMITTED.where(transfers.c.decision_id == decision_id)))
    return _located(rows, reader) if rows else None


def one_replaced(connection: Connection, reader: records.DictionaryReader, decision_id: str) -> Located | None:
    """One replaced decision by decision id (where the streams did not bring it)."""
    row = connection.execute(select(replaced_decisions).where(replaced_decisions.c.decision_id == decision_id)).first()
    return None if row is None else _replaced_located(row, reader)

"""Prior counts for dry runs (``baygate evaluate``): the ledger's counts, read only.

A dry run must not write: when the SQLite file does not exist yet, or holds no ledger tables, every
exporter starts at zero and nothing is created. A database that exists but cannot be read is an
error (DatabaseUnavailable), never zeros, since zeros could turn a transfer over a threshold into a
``permitted`` answer.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import inspect

from engine.config import database_url
from engine.facts import PriorCounts
from engine.ledger import Ledger
from engine.ledger.database import sqlite_path, unavailable
from engine.models import TransferRequest

CountsReader = Callable[[TransferRequest], PriorCounts]


def _zero(_request: TransferRequest) -> PriorCounts:
    return PriorCounts()


def prior_counts_reader(url: str | None = None) -> CountsReader:
    """A function giving each request's prior counts from the ledger at ``url`` (or the configured one)."""
    chosen = database_url(url)
    path = sqlite_path(chosen)
    if path is not None and not path.exists():
        return _zero
    ledger = Ledger(chosen, upgrade=False)
    try:
        with ledger.sql_engine.connect() as conn:
            has_ledger = inspect(conn).has_table("transfers")
    except Exception as exc:
        ledger.close()
        raise unavailable(exc) from exc
    if not has_ledger:
        ledger.close()
        return _zero
    return ledger.prior_counts

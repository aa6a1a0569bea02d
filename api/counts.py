"""Prior counts for dry runs: until the ledger exists, every exporter starts at zero."""

from __future__ import annotations

from collections.abc import Callable

from engine.facts import PriorCounts
from engine.models import TransferRequest


def prior_counts_reader() -> Callable[[TransferRequest], PriorCounts]:
    return lambda _request: PriorCounts()

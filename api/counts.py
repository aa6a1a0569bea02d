"""Prior counts for dry runs (``baygate evaluate``): the ledger's counts, read only.

A dry run must not write: when the SQLite file does not exist yet, or holds no ledger tables, nothing
is created and the request's declared counts (``declared_prior``) are all there is. Deciding on them
alone is allowed (DESIGN section 6) but never silent: the command warns on stderr, and the decision
carries the reason ``engine.no-ledger`` (a reason, as ``engine.no-route`` is: it is what a reader of the
decision sees beside the rules that fired, in every language, without a change to the contract's
shape). ``--require-ledger`` refuses instead. A database that exists but cannot be read is an error
(DatabaseUnavailable), never zeros, since zeros could turn a transfer over a threshold into a
``permitted`` answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import inspect

from engine.config import database_url
from engine.facts import PriorCounts
from engine.ledger import Ledger
from engine.ledger.database import sqlite_path, unavailable
from engine.models import Decision, Reason, TransferRequest
from engine.texts import msg

CountsReader = Callable[[TransferRequest], PriorCounts]

NO_LEDGER_RULE = "engine.no-ledger"
NO_LEDGER_CITATION = "baygate engine policy: counting (DESIGN sections 5 and 6)"


def _zero(_request: TransferRequest) -> PriorCounts:
    return PriorCounts()


@dataclass(frozen=True)
class PriorCountsSource:
    """Where a dry run's prior counts come from: ``read`` gives them per request; ``ledger_found`` is
    False when there is no ledger at the address (then only the declared counts count)."""

    read: CountsReader
    ledger_found: bool
    url: str


def prior_counts_source(url: str | None = None) -> PriorCountsSource:
    """The ledger at ``url`` (or the configured one), read only; see the module docstring."""
    chosen = database_url(url)
    path = sqlite_path(chosen)
    if path is not None and not path.exists():
        return PriorCountsSource(_zero, False, chosen)
    ledger = Ledger(chosen, upgrade=False)
    try:
        with ledger.sql_engine.connect() as conn:
            has_ledger = inspect(conn).has_table("transfers")
    except Exception as exc:
        ledger.close()
        raise unavailable(exc) from exc
    if not has_ledger:
        ledger.close()
        return PriorCountsSource(_zero, False, chosen)
    return PriorCountsSource(ledger.prior_counts, True, chosen)


def prior_counts_reader(url: str | None = None) -> CountsReader:
    """A function giving each request's prior counts from the ledger at ``url`` (or the configured one)."""
    return prior_counts_source(url).read


def no_ledger_reason(where: str) -> Reason:
    """The reason a decision made without a ledger carries: the counts it tested are the declared ones."""
    return Reason(
        rule=NO_LEDGER_RULE, effect="note", citation=NO_LEDGER_CITATION,
        message=msg(
            f"No ledger was found at {where}: the counts tested are the request's declared_prior alone. "
            "Transfers this exporter recorded elsewhere are not counted, so a threshold may already be "
            "reached; evaluate against the ledger the transfer will be submitted to.",
            f"在 {where} 未找到台账：所检验的数量仅为请求中申报的 declared_prior，未计入该出口方在其他处"
            "登记的传输，可能已达到阈值；请针对将要提交的台账进行评估。",
            f"在 {where} 未找到台賬：所檢驗的數量僅為請求中申報的 declared_prior，未計入該出口方在其他處"
            "登記的傳輸，可能已達到閾值；請針對將要提交的台賬進行評估。"),
        facts={"ledger": "none"},
    )


def with_no_ledger_reason(decision: Decision, where: str) -> Decision:
    """The decision with the ``engine.no-ledger`` reason first (it qualifies every count below it)."""
    return decision.model_copy(update={"reasons": [no_ledger_reason(where), *decision.reasons]})

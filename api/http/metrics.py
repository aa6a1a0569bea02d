"""Prometheus metrics, named ``baygate_*``, correct with one worker or several.

With several uvicorn workers each process counts on its own; prometheus-client's multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``, set by ``baygate serve`` before any worker starts) keeps the values in
files that ``/metrics`` sums on every scrape. Info metrics do not exist in that mode, so the rules
digest is then a gauge of the same exposed name (``baygate_rules_info{digest=...} 1``).
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics import MetricWrapperBase

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

DECISIONS = Counter("baygate_decisions", "Decisions made, by outcome, mechanism level and route.",
                    ["outcome", "mechanism", "route"])
EVALUATION_SECONDS = Histogram("baygate_evaluation_duration_seconds",
                               "Time the engine takes for one decision (counts read included).",
                               ["route"], buckets=LATENCY_BUCKETS)
HTTP_SECONDS = Histogram("baygate_http_request_duration_seconds",
                         "HTTP request latency by method and route template.",
                         ["method", "route"], buckets=LATENCY_BUCKETS)
HTTP_REQUESTS = Counter("baygate_http_requests", "HTTP requests by method, route template and status.",
                        ["method", "route", "status"])
SUBMISSIONS = Counter("baygate_submissions", "Transfers submitted: recorded, replayed or refused.",
                      ["result"])
WITHDRAWALS = Counter("baygate_withdrawals", "Transfers withdrawn.")
BATCH_ITEMS = Counter("baygate_batch_items", "Items of batch evaluations: decided or refused as bad input.",
                      ["result"])
RELOADS = Counter("baygate_rules_reloads", "Rule pack reloads that swapped in a new pack set.")
RELOAD_FAILURES = Counter("baygate_rules_reload_failures", "Rule pack reloads refused (bad packs).")

if MULTIPROCESS:
    _RULES_GAUGE = Gauge("baygate_rules_info", "The rule pack set being served (digest).", ["digest"],
                         multiprocess_mode="livemax")
    _rules_info: Info | None = None
else:
    _rules_info = Info("baygate_rules", "The rule pack set being served (digest).")

_current_digest: str | None = None

M = TypeVar("M", bound=MetricWrapperBase)
_CHILDREN: dict[tuple[Any, ...], Any] = {}
_CHILDREN_LIMIT = 4096


def child(metric: M, *labels: str) -> M:
    """``metric.labels(*labels)``, remembered: ``labels`` checks and joins the values and takes a lock
    on every call (about 1 us of the 1.7 an observation costs); the request path asks for the same few
    children every time. Bounded, since a label may come from the client (the method)."""
    key = (metric, *labels)
    found = _CHILDREN.get(key)
    if found is None:
        if len(_CHILDREN) >= _CHILDREN_LIMIT:
            _CHILDREN.clear()
        found = _CHILDREN[key] = metric.labels(*labels)
    return found


def set_rules_digest(digest: str) -> None:
    """Called at start-up and after every reload that swapped the packs."""
    global _current_digest
    if _rules_info is not None:
        _rules_info.info({"digest": digest})
    else:
        if _current_digest and _current_digest != digest:
            _RULES_GAUGE.labels(digest=_current_digest).set(0)
        _RULES_GAUGE.labels(digest=digest).set(1)
    _current_digest = digest


def exposition() -> tuple[bytes, str]:
    """The text to answer a scrape with: this process's metrics, or all workers' summed."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def process_exit() -> None:
    """A worker leaving: its live gauges must no longer count (multiprocess mode only)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

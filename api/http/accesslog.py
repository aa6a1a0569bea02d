"""Access logs without the ids in paths: ``/v1/transfers/SZH-2026-0042/withdraw`` is logged as
``/v1/transfers/{id}/withdraw``, and query values are left out (``?exporter_id=…``).

A reference or an exporter id can name a person or a company's transfer; an access log is kept
longer and read by more people than the ledger. Workers install the filter unless
``BAYGATE_ACCESS_LOG_IDS=1`` (``baygate serve --access-log-ids``) asks for the paths as sent.
"""

from __future__ import annotations

import logging

ACCESS_LOG_IDS_ENV = "BAYGATE_ACCESS_LOG_IDS"
ID_AFTER = frozenset({"transfers", "exporters", "verify-jobs"})
"""A path segment after one of these is an id (``/v1/transfers/{id}``)..."""
NOT_IDS = frozenset({"batch"})
""" ...except these, which name routes (``/v1/transfers/batch``)."""


def redact_path(path: str) -> str:
    """The path with ids replaced by ``{id}`` and query values by ``…`` (names kept)."""
    route, _, query = path.partition("?")
    parts = route.split("/")
    for index in range(1, len(parts)):
        if parts[index - 1] in ID_AFTER and parts[index] and parts[index] not in NOT_IDS:
            parts[index] = "{id}"
    redacted = "/".join(parts)
    if query:
        names = [pair.partition("=")[0] for pair in query.split("&") if pair]
        redacted += "?" + "&".join(f"{name}=…" for name in names)
    return redacted


class RedactIds(logging.Filter):
    """Rewrites uvicorn's access records (args: client, method, path, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact_path(args[2]), args[3], args[4])
        return True


def redact_access_log() -> None:
    """Install the filter on uvicorn's access logger (once per process)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactIds) for f in logger.filters):
        logger.addFilter(RedactIds())

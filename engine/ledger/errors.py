"""Errors of the ledger, with stable codes and the HTTP status the service maps them to.

They subclass ``BaygateError`` so the CLI and the HTTP service render them in their one place; the
``http_status`` attribute saves each surface from keeping its own table of ledger errors.
"""

from __future__ import annotations

from engine.errors import BaygateError


class LedgerError(BaygateError):
    """Base of the ledger's errors."""

    code = "baygate.ledger-error"
    http_status = 500


class ReferenceConflict(LedgerError):
    """The exporter already recorded this reference for a different request (the idempotency key)."""

    code = "baygate.reference-conflict"
    http_status = 409


class TransferWithdrawn(LedgerError):
    """The same request again, under a reference whose transfer was withdrawn: its decision no longer
    stands and nothing is recorded again (a new reference records it anew)."""

    code = "baygate.transfer-withdrawn"
    http_status = 409

    def __init__(self, reference: str, decision_id: str, withdrawn_at: str) -> None:
        super().__init__(f"reference {reference!r} (decision {decision_id}) was recorded and then withdrawn at "
                         f"{withdrawn_at}: its decision no longer stands and it is not recorded again; "
                         "submit it under a new reference to record it anew")
        self.reference = reference
        self.decision_id = decision_id
        self.withdrawn_at = withdrawn_at


class AmbiguousReference(LedgerError):
    """A reference used by several exporters, given without the exporter id that tells them apart."""

    code = "baygate.ambiguous-reference"
    http_status = 409


class NotFound(LedgerError):
    """No recorded transfer has this decision id or reference."""

    code = "baygate.not-found"
    http_status = 404


class DatabaseUnavailable(LedgerError):
    """The database cannot be reached or refused the operation; retrying later may succeed.

    ``public`` is what a client of the HTTP service is told: the driver's own words name the database's
    host and port, which belong in the service's log, not in an answer to whoever asks."""

    code = "baygate.database-unavailable"
    http_status = 503

    def __init__(self, message: str, public: str | None = None) -> None:
        super().__init__(message)
        self.public = message if public is None else public


class LedgerOutOfDate(LedgerError):
    """The ledger's schema is older than this version counts with: counting it as it stands could give
    counts the current rules do not (revision 0005 recounts every exporter-year), so nothing is read
    until ``baygate db upgrade`` (or any command that records) brings it up to date."""

    code = "baygate.ledger-out-of-date"
    http_status = 503


class PackContentUnavailable(LedgerError):
    """A decision's rule pack could not be stored by digest, so it could not be replayed later.

    Refusing the submission keeps the promise that every recorded decision can be replayed.
    """

    code = "baygate.pack-content-unavailable"
    http_status = 500


class LedgerIntegrityError(LedgerError):
    """The running totals are not what the service wrote (``engine.ledger.seal``): refusing to decide on
    them (503, exit 4: could not finish, "ledger integrity")."""

    code = "baygate.ledger-integrity"
    http_status = 503

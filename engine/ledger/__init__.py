"""The ledger (DESIGN sections 1, 5): records decisions, counts what was sent, proves nothing changed."""

from engine.ledger.audit import AuditResult
from engine.ledger.database import upgrade
from engine.ledger.errors import (
    AmbiguousReference,
    DatabaseUnavailable,
    LedgerError,
    LedgerIntegrityError,
    LedgerOutOfDate,
    NotFound,
    PackContentUnavailable,
    ReferenceConflict,
    TransferWithdrawn,
)
from engine.ledger.lookups import RecordedTransfer
from engine.ledger.recording import SubmitResult
from engine.ledger.store import Ledger
from engine.ledger.withdrawal import WithdrawResult

__all__ = [
    "AmbiguousReference",
    "AuditResult",
    "DatabaseUnavailable",
    "Ledger",
    "LedgerError",
    "LedgerIntegrityError",
    "LedgerOutOfDate",
    "NotFound",
    "PackContentUnavailable",
    "RecordedTransfer",
    "ReferenceConflict",
    "SubmitResult",
    "TransferWithdrawn",
    "WithdrawResult",
    "upgrade",
]

"""What ``audit verify``'s walk (``engine.ledger.verify_walk``) checks the recorded rows against, beside
the checks of each event kind in ``engine.ledger.audit``, ``amendments`` and ``aliases``: the row of a
submission (or amendment) event, the row of the decision an amendment replaced, and the rows no event
accounts for (:class:`Deferred`: reported once the chain itself has verified, the first by decision id)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, select

from engine.ledger import audit
from engine.ledger.schema import TALLIES, replaced_decisions
from engine.ledger.verify_rows import Located


@dataclass
class Deferred:
    """The first (by decision id) row no event accounts for: reported once the chain has verified."""

    inserted: str | None = None
    marked: tuple[str, Any] | None = None
    unamended: str | None = None

    def insert(self, located: Located) -> None:
        decision_id = str(located.row.decision_id)
        if self.inserted is None or decision_id < self.inserted:
            self.inserted = decision_id

    def unreplaced(self, row: Any) -> None:
        """A row marked replaced at a position where no amendment replaced it."""
        decision_id = str(row.decision_id)
        if self.unamended is None or decision_id < self.unamended:
            self.unamended = decision_id

    def mark(self, row: Any) -> None:
        if self.marked is None or str(row.decision_id) < self.marked[0]:
            self.marked = (str(row.decision_id), row)


def amended_row(connection: Connection, data: dict[str, Any], replaced_here: list[Any],
                deferred: Deferred) -> Any:
    """The row of the decision an amendment event says it replaced, read as a transfer that went out
    of force at the amendment; the other rows marked replaced at its position are deferred (no amendment
    replaced them). None when no row of that decision is marked replaced."""
    old_id = data.get("replaces")
    found = None
    for row in replaced_here:
        if found is None and row.decision_id == old_id:
            found = row
        else:
            deferred.unreplaced(row)
    if found is None and isinstance(old_id, str):  # marked replaced at another position, or not at all
        found = connection.execute(select(replaced_decisions).where(replaced_decisions.c.decision_id == old_id)).first()
    if found is None:
        return None
    return SimpleNamespace(**{**found._mapping, "withdrawn_at": found.replaced_at, "withdrawn_seq": found.replaced_seq})


def submission_checked(subject: str, data: dict[str, Any], located: Located | None
                       ) -> str | dict[str, dict[str, int]]:
    """Does the transfer row still say what its submission event hashed? The problem, or its population
    figures as the event accounts for them."""
    if located is None:
        return f"transfer {subject} was deleted"
    if located.figures_unreadable:
        return f"replaced decision {subject}: its population figures are not readable (edited)"
    if located.unreadable is not None:
        return f"transfer {subject}: its stored record cannot be read ({located.unreadable}) (edited)"
    if located.misplaced:
        return f"transfer {subject}: a population's exporter or year was edited"
    if not set(located.figures) <= set(TALLIES):
        return f"transfer {subject}: a population's tally was edited"
    return audit.check_submission(subject, data, located.row, located.figures)

"""What an amendment is, and reading amended transfers back (issue 22 point 7).

An amendment replaces a recorded transfer's decision with one decided afresh, because its safeguards
changed (a contract signed, a certification obtained, consent collected, the planned date moved).
What may change is listed in ``AMENDABLE``; a change of parties, data or purpose is a new transfer,
refused with the field that differs (``NotAnAmendment``).

How it is stored: ``transfers`` keeps one row per transfer, the one in force (its latest decision), so
every read that counts, lists or finds a transfer by its reference keeps reading one table. The
decision an amendment replaces moves to ``replaced_decisions`` (revision 0010) with everything its row
held (its population figures as JSON), which decision replaced it, when, and the position of the
``amendment`` event that did. That event hashes the new row as a submission event does, plus the id
of the decision it replaces and what that decision's counts released, so ``audit verify`` checks
both rows against the chain and recounts the totals from it, and a replay re-decides every version.

This module has no writer (``engine.ledger.amend`` writes); ``audit``, ``history`` and ``store`` read
through it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, inspect, select

from engine.errors import FieldProblem, InputError
from engine.ledger import records
from engine.ledger.errors import LedgerError
from engine.ledger.schema import replaced_decisions

AMENDABLE = frozenset({"safeguards", "planned_date"})
"""Top-level request fields an amendment may change. ``safeguards`` holds the mechanisms, approvals,
separate consent, notice and the impact assessment's date."""

NEW_TRANSFER_FIELDS = {
    "exporter": "the exporter (a party)", "recipient": "the recipient (a party)",
    "onward_recipients": "the onward recipients (parties)", "purpose": "the purpose",
    "new_purpose": "whether the purpose is new", "data": "the data sent", "mode": "how the data is sent",
    "declared_prior": "the counts declared before the ledger", "reference": "the reference",
}
"""Everything else, in words: a change to any of these is a different transfer."""


class NotAnAmendment(InputError):
    """The amended request differs from the recorded one in a field an amendment may not change."""

    code = "baygate.not-an-amendment"


class AmendWithdrawn(LedgerError):
    """A withdrawn transfer cannot be amended: its decision no longer stands."""

    code = "baygate.transfer-withdrawn"
    http_status = 409


def check_amendable(recorded: Mapping[str, Any], amended: Mapping[str, Any]) -> None:
    """Raise NotAnAmendment naming every field outside ``AMENDABLE`` in which the two requests (as JSON,
    defaults filled in) differ."""
    differing = sorted(key for key in set(recorded) | set(amended)
                       if key not in AMENDABLE and recorded.get(key) != amended.get(key))
    if not differing:
        return
    problems = [FieldProblem(key, f"differs from the recorded request: a change of {NEW_TRANSFER_FIELDS.get(key, key)} "
                                  "is a new transfer, not an amendment; submit it under a new reference "
                                  "(an amendment may change only safeguards and planned_date)")
                for key in differing]
    raise NotAnAmendment("", problems)


@dataclass(frozen=True)
class ReplacedDecision:
    """A decision an amendment replaced, as ``ledger show`` and ``GET /v1/transfers/{id}`` list it."""

    decision_id: str
    outcome: str
    recorded_at: str
    recorded_by: str | None
    counted: bool
    event_seq: int
    replaced_by: str
    replaced_at: str
    replaced_seq: int
    decision: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"decision_id": self.decision_id, "outcome": self.outcome, "recorded_at": self.recorded_at,
                "recorded_by": self.recorded_by, "counted": self.counted, "event_seq": self.event_seq,
                "replaced_by": self.replaced_by, "replaced_at": self.replaced_at, "replaced_seq": self.replaced_seq}


def kept(conn: Connection) -> bool:
    """Whether this database has the table (revision 0010 on): replays read older ledgers as they stand."""
    return bool(inspect(conn).has_table(replaced_decisions.name))


def history(conn: Connection, exporter_id: str, reference: str) -> list[ReplacedDecision]:
    """The decisions of a transfer that amendments replaced, oldest first (the one in force is its row)."""
    rows = conn.execute(select(replaced_decisions).where(
        replaced_decisions.c.exporter_id == exporter_id, replaced_decisions.c.reference == reference)
        .order_by(replaced_decisions.c.event_seq)).all()
    reader = records.DictionaryReader(conn)  # compact rows (revision 0011) or texts in their columns
    return [ReplacedDecision(row.decision_id, row.outcome, row.recorded_at, row.recorded_by, bool(row.counted),
                             int(row.event_seq), row.replaced_by, row.replaced_at, int(row.replaced_seq),
                             json.loads(reader.texts(row)[1])) for row in rows]


def transfer_of(conn: Connection, decision_id: str) -> tuple[str, str] | None:
    """(exporter id, reference) of the transfer whose replaced decision this is; None if it is not one."""
    row = conn.execute(select(replaced_decisions.c.exporter_id, replaced_decisions.c.reference)
                       .where(replaced_decisions.c.decision_id == decision_id)).first()
    return None if row is None else (str(row.exporter_id), str(row.reference))


def replaced_rows(conn: Connection) -> list[Any]:
    """Every replaced decision as a transfer row that went out of force when it was replaced
    (``withdrawn_at``/``withdrawn_seq`` are the amendment's), with its population figures: what
    ``audit verify`` and the replays read beside ``transfers``."""
    found = []
    for row in conn.execute(select(replaced_decisions)):
        fields = dict(row._mapping)
        fields.update(withdrawn_at=row.replaced_at, withdrawn_seq=row.replaced_seq)
        found.append(SimpleNamespace(**fields))
    return found


def figures_of(row: Any) -> dict[str, dict[str, int]]:
    """A replaced row's population figures (tally -> population -> subjects), as transfer_populations
    held them; raises ValueError when the stored text is not such a mapping (it was edited)."""
    figures = json.loads(row.populations)
    if not isinstance(figures, dict) or not all(
            isinstance(named, dict) and all(isinstance(n, int) for n in named.values()) for named in figures.values()):
        raise ValueError("population figures are not a mapping of tallies to figures")
    return {str(tally): {str(name): int(n) for name, n in named.items()} for tally, named in figures.items()}


def check_event(seq: int, at: str, data: Mapping[str, Any], replaced: Mapping[str, Any], current: set[str]
                ) -> str | None:
    """Does the replaced row still say what the amendment event at ``seq`` hashed about it? ``replaced``:
    the replaced rows by decision id; ``current``: the transfers in force so far in the walk (recorded,
    not withdrawn, not replaced). The new row itself is checked as a submission's is."""
    old = data.get("replaces")
    if not isinstance(old, str):
        return "an amendment event without the decision it replaces"
    if old not in current:
        return f"amends decision {old}, which was not in force then"
    row = replaced.get(old)
    if row is None:
        return f"the decision it replaced ({old}) is no longer marked replaced (edited)"
    if (row.replaced_by, row.replaced_at, int(row.replaced_seq)) != (data.get("decision_id"), at, seq):
        return f"the decision it replaced ({old}): its replacement was edited"
    if (row.exporter_id, row.reference) != (data.get("exporter"), data.get("reference")):
        return f"the decision it replaced ({old}) is another transfer's (edited)"
    if not all(type(data.get(key)) is int for key in ("released_personal_subjects", "released_sensitive_subjects")):
        return "an amendment event without what the replaced decision released"
    return None

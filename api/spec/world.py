"""The scenario's world: a transfer request built step by step, and what the engine answered.

Steps in every language call the same methods here, so an English, a Simplified and a Traditional
Chinese feature that say the same thing build the same request and check the same decision.

Defaults are the contract's (DESIGN section 3), plus the few a request cannot do without, chosen to
be the common case of this project: a company in Shenzhen sends to a company in Hong Kong on
2026-12-01 for purpose ``other``. A feature states what matters to it and nothing else.

Checks raise ``AssertionError`` with the decision summarised, so a failing scenario tells the
compliance officer what the engine decided instead, not only that it differed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.models import Decision, TransferRequest
from engine.texts import ENGINE_REASON_IDS

DEFAULT_DATE = dt.date(2026, 12, 1)


def _party(role: str) -> dict[str, Any]:
    if role == "exporter":
        return {"id": "91440300MABDD00001", "name": "Shenzhen Exporter Co., Ltd.", "jurisdiction": "CN",
                "city": "Shenzhen"}
    return {"id": "31000000", "name": "Hong Kong Recipient Ltd.", "jurisdiction": "HK", "city": None}


EngineFactory = Callable[[dict[str, Any]], Engine]


@dataclass
class World:
    """One scenario's transfer, the options of the deployment, and the decisions received."""

    engine_for: EngineFactory
    ledger_factory: Callable[[], Any] | None = None
    fired: set[str] = field(default_factory=set)
    """Every rule id cited by a decision this world received (the run's rule coverage)."""
    exporter: dict[str, Any] = field(default_factory=lambda: _party("exporter"))
    recipient: dict[str, Any] = field(default_factory=lambda: _party("recipient"))
    onward: list[dict[str, Any]] = field(default_factory=list)
    purpose: str = "other"
    new_purpose: bool = False
    mode: str = "provide"
    planned_date: dt.date = DEFAULT_DATE
    data: list[dict[str, Any]] = field(default_factory=list)
    separate_consent: bool = False
    notice_given: bool = False
    pia_completed_on: dt.date | None = None
    pia_on_planned_date: bool = False
    mechanisms: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    prior: dict[str, int] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    reference: str = "BDD-0001"
    serial: int = 1
    decision: Decision | None = None
    ledger: Any = None
    last_submission: Any = None
    error: Exception | None = None

    # ---------------------------------------------------------------- building the request
    def party(self, role: str) -> dict[str, Any]:
        """The exporter, the recipient, or the last onward recipient named."""
        if role == "onward":
            if not self.onward:
                raise AssertionError("no onward recipient has been named yet")
            return self.onward[-1]
        return self.exporter if role == "exporter" else self.recipient

    def locate(self, role: str, kind: str | None, jurisdiction: str, city: str | None) -> None:
        """Place a party; an onward recipient is added anew each time one is named."""
        if role == "onward":
            self.onward.append({"id": f"ONWARD-{len(self.onward) + 1}",
                                "name": f"Onward Recipient {len(self.onward) + 1}"})
        target = self.party(role)
        target["jurisdiction"] = jurisdiction
        target["city"] = city
        if kind is not None:
            target["kind"] = kind

    def set_party(self, role: str, **fields: Any) -> None:
        self.party(role).update(fields)

    def add_data(self, kind: str, subjects: int = 0, sensitive: Iterable[str] = ()) -> None:
        self.data.append({"kind": kind, "subjects": subjects, "sensitive": list(sensitive)})

    def last_data(self) -> dict[str, Any]:
        if not self.data:
            raise AssertionError("no data set has been described yet (say what the transfer carries first)")
        return self.data[-1]

    def add_mechanism(self, mech_type: str, effective_on: dt.date, filed_on: dt.date | None = None,
                      expires_on: dt.date | None = None) -> None:
        self.mechanisms.append({
            "type": mech_type, "reference": f"{mech_type.upper()}-{len(self.mechanisms) + 1}",
            "effective_on": effective_on, "filed_on": filed_on, "expires_on": expires_on})

    def add_approval(self, kind: str, granted_on: dt.date) -> None:
        self.approvals.append({"kind": kind, "authority": "competent authority", "granted_on": granted_on})

    def usual_safeguards(self) -> None:
        """Notice, separate consent and an impact assessment done by the planned date."""
        self.notice_given = True
        self.separate_consent = True
        self.pia_on_planned_date = True

    def add_prior(self, key: str, subjects: int) -> None:
        self.prior[key] = self.prior.get(key, 0) + subjects

    def new_transfer(self, reference: str | None, planned: dt.date | None) -> None:
        """Another transfer by the same parties: data, mechanisms and declared volume start afresh."""
        self.serial += 1
        self.reference = reference or f"BDD-{self.serial:04d}"
        self.data = []
        self.prior = {}
        if planned is not None:
            self.planned_date = planned
        self.decision = None

    def request_dict(self) -> dict[str, Any]:
        pia = self.pia_completed_on
        if pia is None and self.pia_on_planned_date:
            pia = self.planned_date
        return {
            "reference": self.reference,
            "exporter": self.exporter,
            "recipient": self.recipient,
            "onward_recipients": self.onward,
            "purpose": self.purpose,
            "new_purpose": self.new_purpose,
            "mode": self.mode,
            "planned_date": self.planned_date,
            "data": self.data,
            "safeguards": {
                "separate_consent": self.separate_consent,
                "notice_given": self.notice_given,
                "pia_completed_on": pia,
                "mechanisms": self.mechanisms,
                "approvals": self.approvals,
            },
            "declared_prior": self.prior,
        }

    def request(self) -> TransferRequest:
        if not self.data:
            raise AssertionError("the transfer carries no data set: say what it carries, e.g. "
                                 "'the transfer carries personal information of 5,000 individuals'")
        return TransferRequest.model_validate(self.request_dict())

    # ---------------------------------------------------------------- actions
    def engine(self) -> Engine:
        return self.engine_for(self.options)

    def _received(self, decision: Decision) -> Decision:
        self.decision = decision
        self.fired.update(reason.rule for reason in decision.reasons)
        return decision

    def evaluate(self) -> Decision:
        """A dry run: nothing is recorded (DESIGN job 2)."""
        return self._received(self.engine().evaluate(self.request(), prior=PriorCounts()))

    def open_ledger(self) -> Any:
        if self.ledger is None:
            if self.ledger_factory is None:
                raise AssertionError("no ledger is available to this run")
            self.ledger = self.ledger_factory()
        return self.ledger

    def submit(self) -> Decision:
        """Record the transfer in the scenario's own ledger; the ledger counts the year."""
        result = self.open_ledger().submit(self.engine(), self.request())
        self.last_submission = result
        return self._received(result.decision)

    def withdraw(self, reference: str | None) -> None:
        target = reference or (self.decision.reference if self.decision else self.reference)
        self.open_ledger().withdraw(target, exporter_id=self.exporter["id"])

    # ---------------------------------------------------------------- checks
    def answer(self) -> Decision:
        if self.decision is None:
            raise AssertionError("nothing has been evaluated or submitted yet (add a 'When' step)")
        return self.decision

    def summary(self) -> str:
        decision = self.answer()
        return json.dumps({
            "outcome": decision.outcome, "mechanism": decision.mechanism,
            "mechanism_options": decision.mechanism_options, "exemptions": decision.exemptions,
            "reasons": [f"{r.rule} ({r.citation})" for r in decision.reasons],
            "satisfied_by": decision.satisfied_by.model_dump() if decision.satisfied_by else None,
            "missing": [m.model_dump(exclude={"text"}) for m in decision.missing],
            "obligations": [{"id": o.id, "due_date": str(o.due_date), "satisfied": o.satisfied}
                            for o in decision.obligations],
        }, indent=1, ensure_ascii=False)

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            raise AssertionError(f"{what}\nthe engine decided:\n{self.summary()}")

    def check_outcome(self, outcome: str) -> None:
        self.check(self.answer().outcome == outcome, f"expected outcome {outcome}")

    def check_mechanism(self, level: str) -> None:
        self.check(self.answer().mechanism == level, f"expected mechanism {level}")

    def check_options(self, options: list[str]) -> None:
        self.check(set(self.answer().mechanism_options) == set(options),
                   f"expected mechanism options {sorted(options)}")

    def check_exemptions(self, exemptions: list[str]) -> None:
        self.check(set(self.answer().exemptions) == set(exemptions), f"expected exemptions {sorted(exemptions)}")

    def check_cites(self, text: str) -> None:
        self.check(any(cites(r.citation, text) for r in self.answer().reasons),
                   f"expected a reason citing {text!r}")

    def check_says(self, text: str) -> None:
        self.check(any(text in r.message.en or text in r.message.zh_Hans or text in r.message.zh_Hant
                       for r in self.answer().reasons), f"expected a reason saying {text!r}")

    def check_rule(self, rule: str, fired: bool) -> None:
        """A rule id the packs do not define fails the step whatever is expected: "X does not apply"
        would otherwise pass for a misspelt or renamed rule and check nothing."""
        known = {spec.id for spec in self.engine().pack_set.rules} | ENGINE_REASON_IDS
        if rule not in known:
            raise AssertionError(f"unknown rule id {rule!r}: no pack of this rule folder defines it "
                                 f"(the rules are: {', '.join(sorted(known))})")
        rules = {r.rule for r in self.answer().reasons}
        self.check((rule in rules) == fired, f"expected rule {rule} {'to' if fired else 'not to'} apply")

    def check_missing(self, kind: str, value: str | None) -> None:
        """A ``mechanism`` item matches when ``value`` is one of its options; other kinds by id
        (any id of the kind when ``value`` is None)."""
        for item in self.answer().missing:
            if item.kind != kind:
                continue
            if value is None or (value in item.options if item.kind == "mechanism" else item.id == value):
                return
        self.check(False, f"expected missing to include {kind} {value or ''}".rstrip())

    def check_satisfied_by(self, mechanism: str | None) -> None:
        """Which mechanism in place met the requirement (``satisfied_by``); None: none did."""
        found = self.answer().satisfied_by
        self.check((found.type if found else None) == mechanism,
                   f"expected the requirement to be met by {mechanism}" if mechanism
                   else "expected no mechanism in place to meet the requirement")

    def check_nothing_missing(self) -> None:
        self.check(not self.answer().missing, "expected nothing missing")

    def obligation(self, oid: str) -> Any:
        for item in self.answer().obligations:
            if item.id == oid:
                return item
        self.check(False, f"expected an obligation {oid}")
        return None

    def check_due(self, oid: str, due: dt.date) -> None:
        found = self.obligation(oid)
        self.check(found.due_date == due, f"expected obligation {oid} due on {due}, it is due on "
                   f"{found.due_date}")

    def check_satisfied(self, oid: str, satisfied: bool) -> None:
        found = self.obligation(oid)
        self.check(found.satisfied == satisfied,
                   f"expected obligation {oid} {'satisfied' if satisfied else 'not satisfied'}")

    def check_counted(self, counted: bool) -> None:
        self.check(self.answer().counts.counted == counted,
                   f"expected this transfer {'to count' if counted else 'not to count'} toward the tallies")

    def check_ledger_counts(self, year: int, personal: int, sensitive: int | None) -> None:
        counts = self.open_ledger().counts(self.exporter["id"], year)
        ok = counts.get("personal_subjects") == personal and (
            sensitive is None or counts.get("sensitive_subjects") == sensitive)
        if not ok:
            raise AssertionError(f"expected {personal} personal and {sensitive} sensitive individuals "
                                 f"counted in {year}; the ledger counts {counts}")

    def check_replayed(self, replayed: bool) -> None:
        if self.last_submission is None:
            raise AssertionError("nothing has been submitted")
        if bool(self.last_submission.replayed) != replayed:
            raise AssertionError(f"expected the submission {'' if replayed else 'not '}to be a replay")


_ARTICLES = re.compile(r"\b(?P<unit>arts|ss)\.\s*(?P<list>(?:[0-9][0-9A-Za-z()]*)"
                       r"(?:\s*(?:,|-|and)\s*[0-9][0-9A-Za-z()]*)*)")


def _spelt_out(citation: str) -> str:
    """The citation with every list of articles (or sections) spelt out one at a time, each also after
    its instrument: "PIPL (2021), arts. 36, 37" adds "art. 36", "art. 37", "PIPL (2021), art. 36" and
    "PIPL (2021), art. 37"; a range "arts. 3-6" adds arts. 3 to 6."""
    extra: list[str] = []
    for piece in citation.split(";"):
        for match in _ARTICLES.finditer(piece):
            instrument = piece[: match.start()].strip().rstrip(",")
            items: list[str] = []
            unit = "art." if match.group("unit") == "arts" else "s."
            for part in re.split(r"\s*(?:,|and)\s*", match.group("list")):
                bounds = part.split("-")
                if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
                    items += [str(n) for n in range(int(bounds[0]), int(bounds[1]) + 1)]
                elif part:
                    items.append(part)
            for item in items:
                extra += [f"{unit} {item}", f"{instrument}, {unit} {item}"]
    return " ; ".join([citation, *extra])


def cites(citation: str, text: str) -> bool:
    """Whether ``citation`` cites ``text`` exactly: "art. 3" is found in "art. 3(1)" and "arts. 3, 38"
    but not in "art. 38" (nor "DPP3" in "DPP31"); article lists and ranges count article by article."""
    pattern = r"(?<![0-9A-Za-z])" + re.escape(text.strip()) + r"(?![0-9A-Za-z])"
    return re.search(pattern, _spelt_out(citation), flags=re.IGNORECASE) is not None


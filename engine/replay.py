"""Rule lifecycle over the ledger: replay recorded decisions, diff two pack sets, evaluate as of a day.

All three re-evaluate recorded requests, so they share two rules (see ``engine.ledger.history``):

- **Counts**: a recorded transfer is re-evaluated with the counts its exporter had when it was decided,
  rebuilt from the ledger in audit-chain order (this year's, last year's and named populations), never
  with today's counts. The volumes in the ledger are what was actually sent; a rule change does not
  un-send them. So ``rules diff`` shows, transfer by transfer, what the new packs would have answered
  given what had really been sent before, not a re-simulated history in which earlier answers changed.
- **Options**: a replay uses the options recorded in the decision, exactly. A diff uses each decision's
  recorded options too (so that only the pack change shows), keeping those the pack set declares and
  taking the pack default for an option the recorded decision did not know.

Pack sets are rebuilt from the texts the ledger stored by digest, written into a temporary folder
named like the original rules folder (so files, lines and rule ids read as they did), and checked to
give back the recorded digest. Engines are cached per digest and options: durable-rules can never free
a ruleset (DESIGN section 7), so a process builds each version once, and a walk given an engine
budget stops before building one more (``Stopped``): ``engine.lifecycle_workers`` then carries on in a
fresh process, whose memory starts again from nothing.

Replays and diffs are streams (:func:`replay_each`, :func:`diff_each`): one outcome per transfer, in
chain order, nothing kept; :func:`replay` and :func:`diff` collect them for small ledgers and tests.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import BaygateError, CouldNotFinish
from engine.essentials import COMPARED, ROUTE, essentials_of_json, essentials_of_model, route_of
from engine.evaluator import Engine, coerce_options
from engine.facts import PriorCounts
from engine.ledger.history import (
    PackSetInService,
    RecordedDecision,
    StoredPack,
    Walk,
    pack_sets_in_service,
    recorded_decisions,
    stored_packs,
)
from engine.ledger.store import Ledger
from engine.models import TransferRequest, read_stored_request
from engine.rulespec import PackSet, load_pack_set, pack_set_digest


class PackVersionsUnavailable(CouldNotFinish):
    """The ledger does not hold the pack texts a recorded decision or an as-of day needs (its integrity:
    CLI exit 4, HTTP 500)."""

    code = "baygate.pack-versions-unavailable"
    http_status = 500


class AsOfError(BaygateError):
    """An as-of day the ledger cannot answer: before the first stored pack version, or in the future."""

    code = "baygate.bad-as-of"

    def __init__(self, message: str, day: dt.date, first_day: dt.date | None) -> None:
        super().__init__(message)
        self.day = day
        self.first_day = first_day


class PackLibrary:
    """Pack sets and engines rebuilt from the texts stored in one ledger, cached for this process."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._stored: list[StoredPack] | None = None
        self._in_service: list[PackSetInService] | None = None
        self._sets: dict[str, PackSet] = {}
        self._engines: dict[tuple[str, str], Engine] = {}
        self._engines_by_recorded: dict[Any, Engine] = {}
        self.budget: int | None = None
        """Engines this library may still build (None: no limit); see :class:`EngineBudgetSpent`."""

    @property
    def stored(self) -> list[StoredPack]:
        if self._stored is None:
            self._stored = stored_packs(self.ledger)
        return self._stored

    @property
    def in_service(self) -> list[PackSetInService]:
        if self._in_service is None:
            self._in_service = pack_sets_in_service(self.ledger)
        return self._in_service

    def refresh(self) -> None:
        """Forget the list of stored versions (new ones may have been stored since)."""
        self._stored = None
        self._in_service = None

    def build(self, chosen: Iterable[StoredPack]) -> PackSet:
        """Load a pack set from stored texts, in a temporary folder shaped like the original one."""
        chosen = list(chosen)
        with tempfile.TemporaryDirectory(prefix="baygate-packs-") as tmp:
            roots = {Path(p.file).parts[0] if len(Path(p.file).parts) > 1 else "rules" for p in chosen}
            root = Path(tmp) / (roots.pop() if len(roots) == 1 else "rules")
            for number, pack in enumerate(chosen):
                parts = Path(pack.file).parts
                relative = Path(*parts[1:]) if len(parts) > 1 else Path(parts[-1])
                target = root / relative
                if target.exists():  # two stored files of one name: keep both, order kept by prefix
                    target = root / f"{number:03d}-{relative.name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(self.ledger.pack_content(pack.digest), encoding="utf-8")
            return load_pack_set(root, stored=True)

    def pack_set(self, digest: str, versions: Mapping[str, str]) -> PackSet:
        """The pack set a decision names (its ``rules.digest`` and ``rules.packs``), from stored texts.

        Packs are found by name and version; when one version was stored with several texts (a pack
        edited without bumping its version), every combination is tried until one gives the digest."""
        cached = self._sets.get(digest)
        if cached is not None:
            return cached
        candidates: list[list[StoredPack]] = []
        for name, version in sorted(versions.items()):
            found = [p for p in self.stored if p.name == name and p.version == version]
            if not found:
                raise PackVersionsUnavailable(f"pack set {digest}: the ledger stores no text of pack {name} "
                                              f"version {version}")
            candidates.append(found)
        for combination in itertools.product(*candidates):
            if _set_digest(combination) == digest:
                pack_set = self.build(combination)
                if pack_set.digest != digest:  # pragma: no cover - the stored texts verify their digests
                    raise PackVersionsUnavailable(f"pack set {digest}: stored texts give {pack_set.digest}")
                self._sets[digest] = pack_set
                return pack_set
        raise PackVersionsUnavailable(f"pack set {digest}: no combination of the stored versions "
                                      f"{json.dumps(dict(versions), ensure_ascii=False)} has this digest")

    def engine(self, pack_set: PackSet, options: Mapping[str, Any]) -> Engine:
        """An engine for this pack set and these (already complete) options, built once per process.
        Raises EngineBudgetSpent instead of building one more than the budget allows."""
        key = (pack_set.digest, json.dumps(dict(options), sort_keys=True))
        engine = self._engines.get(key)
        if engine is None:
            if self.budget is not None:
                if self.budget <= 0:
                    raise EngineBudgetSpent(pack_set.digest)
                self.budget -= 1
            engine = self._engines[key] = Engine(pack_set, options)
        return engine

    def engine_for_recorded_options(self, pack_set: PackSet, recorded: Mapping[str, Any],
                                    declared_only: bool = False) -> Engine:
        """:meth:`engine` for the options recorded with a decision: each must be one the set declares
        (``coerce_options``, as a replay checks them) or, ``declared_only``, those it does not declare are
        left out (:func:`options_for`, as a diff reads them). A walk meets the same few recorded option
        sets again and again: each is worked out once (OptionError, when it is one, raised every time)."""
        try:
            # each value's class in the key: True and 1 are equal (and hash alike) but not the same option value
            key: Any = (pack_set.digest, declared_only, tuple(sorted((k, v.__class__, v) for k, v in recorded.items())))
            engine = self._engines_by_recorded.get(key)
        except TypeError:  # a value that is not a JSON scalar (an edited record): worked out each time
            key, engine = None, None
        if engine is None:
            options = options_for(pack_set, recorded) if declared_only else coerce_options(pack_set, recorded)
            engine = self.engine(pack_set, options)
            if key is not None:
                if len(self._engines_by_recorded) >= 1024:
                    self._engines_by_recorded.clear()
                self._engines_by_recorded[key] = engine
        return engine

    # ------------------------------------------------------------------ as of a day

    def first_day(self) -> dt.date | None:
        days = [p.first_used_day for p in self.stored] + [s.started_day for s in self.in_service]
        return min(days, default=None)

    def versions_on(self, day: dt.date) -> list[StoredPack]:
        """The pack versions in use on ``day`` (UTC): for each pack name, the version that came into use
        last on or before that day. Raises AsOfError before the first stored version."""
        first = self.first_day()
        if first is None or day < first:
            stored = f"the first stored pack version came into use on {first}" if first else \
                "the ledger stores no pack version yet"
            raise AsOfError(f"as of {day}: no rule pack version was in use on that day ({stored})", day, first)
        # The set put in service last on or before that day, when the ledger recorded one (it follows
        # rollbacks and removed packs); each of its packs' texts was stored before it was recorded.
        by_digest = {pack.digest: pack for pack in self.stored}
        in_service = [s for s in self.in_service if s.started_day <= day]
        if in_service and all(digest in by_digest for digest in in_service[-1].members.values()):
            members = in_service[-1].members
            return [by_digest[members[name]] for name in sorted(members)]
        # Ledgers written before sets were recorded: each pack's latest version first used by then.
        latest: dict[str, StoredPack] = {}
        for pack in self.stored:  # oldest first, so a later version replaces an earlier one
            if pack.first_used_day <= day:
                latest[pack.name] = pack
        return [latest[name] for name in sorted(latest)]

    def pack_set_on(self, day: dt.date) -> PackSet:
        chosen = self.versions_on(day)
        digest = _set_digest(chosen)
        cached = self._sets.get(digest)
        if cached is None:
            cached = self._sets[digest] = self.build(chosen)
        return cached


class LedgerIntegrity(CouldNotFinish):
    """A stored record that cannot be read: the diff cannot answer for that transfer."""

    code = "baygate.ledger-integrity"


class EngineBudgetSpent(Exception):
    """This process has built as many engines as it may (durable-rules never frees one, DESIGN section 7)."""


def _set_digest(chosen: Iterable[StoredPack]) -> str:
    return pack_set_digest((p.name, p.digest) for p in chosen)


def options_for(pack_set: PackSet, recorded: Mapping[str, Any]) -> dict[str, Any]:
    """Recorded options restricted to those the pack set declares; the pack defaults for the rest."""
    return coerce_options(pack_set, {k: v for k, v in recorded.items() if k in pack_set.options})


def engine_as_of(library: PackLibrary, day: dt.date | None, current: Engine,
                 overrides: Mapping[str, Any], today: dt.date | None = None) -> Engine:
    """The engine to evaluate with as of ``day``: ``current`` for today or no day; otherwise the pack
    versions in use that day (from the ledger) with the deployment's options (those the old packs
    declare). ``planned_date`` still decides which rules are in force; this only picks versions."""
    today = today or dt.datetime.now(dt.UTC).date()
    if day is None or day == today:
        return current
    if day > today:
        raise AsOfError(f"as of {day}: the day is in the future (today is {today})", day, library.first_day())
    pack_set = library.pack_set_on(day)
    if pack_set.digest == current.digest:
        return current
    return library.engine(pack_set, options_for(pack_set, overrides))


# ---------------------------------------------------------------------------------------------- replay


@dataclass(frozen=True)
class Difference:
    """One recorded decision that re-evaluates differently: which parts, recorded and replayed."""

    decision_id: str
    reference: str
    fields: list[str]
    recorded: dict[str, Any]
    replayed: dict[str, Any]
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"decision_id": self.decision_id, "reference": self.reference, "fields": self.fields,
                "recorded": self.recorded, "replayed": self.replayed, "problem": self.problem}


@dataclass
class ReplayReport:
    checked: int = 0
    differences: list[Difference] = field(default_factory=list)
    pack_sets: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.differences


EARLIER_COUNTING = (
    "recorded before revision 0005, when a population's figure served both tallies and a withdrawal released "
    "all a transfer had counted: re-decided by the current counting it may count, and be decided, "
    "differently; revision 0005 recounted the ledger's totals (its recount events), not earlier decisions")


@dataclass(frozen=True)
class Replayed:
    """One recorded transfer re-decided: where it is in the chain, and how it differs (None: it does not)."""

    seq: int
    decision_id: str
    pack_set: str | None
    difference: Difference | None


@dataclass(frozen=True)
class Stopped:
    """The walk stopped before the transfer at ``seq``, which needs an engine over the budget: carry on
    from there in a fresh process (``Walk.start_seq``)."""

    seq: int


def replay_each(ledger: Ledger, only: Iterable[str] | None = None, library: PackLibrary | None = None,
                walk: Walk | None = None) -> Iterator[Replayed | Stopped]:
    """Re-evaluate recorded decisions under the pack versions, options, as-of day and prior counts
    recorded with them, one after the other in chain order; each outcome says whether its essentials
    differ (see ``engine.essentials``). Ends with ``Stopped`` when the library's engine budget is spent."""
    library = library or PackLibrary(ledger)
    for recorded in recorded_decisions(ledger, only, walk):
        try:
            yield _replayed(library, recorded)
        except EngineBudgetSpent:
            yield Stopped(recorded.event_seq)
            return


def _replayed(library: PackLibrary, recorded: RecordedDecision) -> Replayed:
    rules = recorded.decision.get("rules") or {}
    want = essentials_of_json(recorded.decision)

    def failed(fields: list[str], problem: str) -> Replayed:
        return Replayed(recorded.event_seq, recorded.decision_id, None,
                        Difference(recorded.decision_id, recorded.reference, fields, want, {}, problem))

    if recorded.unreadable is not None:
        return failed(["record"], f"cannot read the stored record: {recorded.unreadable}")
    try:
        pack_set = library.pack_set(str(rules.get("digest")), rules.get("packs") or {})
        engine = library.engine_for_recorded_options(pack_set, rules.get("options") or {})
        request = read_stored_request(recorded.request)
        as_of = dt.date.fromisoformat(str(rules.get("as_of"))) if rules.get("as_of") else None
        decision = engine.evaluate(request, recorded.prior, as_of=as_of)
    except BaygateError as exc:
        return failed(["rules"], str(exc))
    except ValueError as exc:  # a stored request or decision that no longer parses was edited
        return failed(["request"], f"cannot re-read the stored record: {exc}")
    got = essentials_of_model(decision)
    changed = [key for key in COMPARED if key in want and want[key] != got.get(key)]
    made = {"digest": decision.rules.digest, "packs": decision.rules.packs, "options": decision.rules.options}
    for key in ("digest", "packs", "options"):
        if rules.get(key) != made[key]:
            changed.append(f"rules.{key}")
    difference = None
    if changed:
        difference = Difference(recorded.decision_id, recorded.reference, changed,
                                {k: want[k] for k in changed if k in want}, {k: got[k] for k in changed if k in got},
                                EARLIER_COUNTING if recorded.counted_by_earlier_rules else None)
    return Replayed(recorded.event_seq, recorded.decision_id, pack_set.digest, difference)


def replay(ledger: Ledger, only: Iterable[str] | None = None, library: PackLibrary | None = None,
           walk: Walk | None = None) -> ReplayReport:
    """:func:`replay_each` collected (in one process, without an engine budget)."""
    report = ReplayReport()
    for outcome in replay_each(ledger, only, library, walk):
        assert isinstance(outcome, Replayed)
        report.checked += 1
        if outcome.pack_set is not None:
            report.pack_sets.add(outcome.pack_set)
        if outcome.difference is not None:
            report.differences.append(outcome.difference)
    return report


# ---------------------------------------------------------------------------------------------- diff


@dataclass(frozen=True)
class Change:
    """A recorded transfer whose route differs between two pack sets."""

    decision_id: str
    reference: str
    exporter_id: str
    withdrawn: bool
    fields: list[str]
    before: dict[str, Any]
    after: dict[str, Any]
    only_before: list[str]
    """Rule ids that fired under the old packs and not the new."""
    only_after: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"decision_id": self.decision_id, "reference": self.reference, "exporter": self.exporter_id,
                "withdrawn": self.withdrawn, "fields": self.fields, "before": self.before,
                "after": self.after, "rules_only_before": self.only_before, "rules_only_after": self.only_after}


@dataclass
class DiffReport:
    old_digest: str
    new_digest: str
    checked: int = 0
    changes: list[Change] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"old": self.old_digest, "new": self.new_digest, "checked": self.checked,
                "changed": len(self.changes), "changes": [c.as_dict() for c in self.changes]}


@dataclass(frozen=True)
class Compared:
    """One recorded transfer decided under both pack sets: its change of route (None: the same)."""

    seq: int
    decision_id: str
    change: Change | None


def diff_each(ledger: Ledger, old: PackSet, new: PackSet, walk: Walk | None = None,
              library: PackLibrary | None = None) -> Iterator[Compared | Stopped]:
    """Replay recorded transfers under ``old`` and ``new``, one after the other in chain order, each
    with the counts its exporter had then; each outcome names a changed outcome, mechanism or mechanism
    options, with the rule ids fired under one set and not the other."""
    library = library or PackLibrary(ledger)
    for recorded in recorded_decisions(ledger, None, walk):
        if recorded.unreadable is not None:
            raise LedgerIntegrity(f"transfer {recorded.decision_id} ({recorded.reference}): its stored record "
                                  f"cannot be read ({recorded.unreadable}); `baygate audit verify` names the edit")
        request = read_stored_request(recorded.request)
        options = (recorded.decision.get("rules") or {}).get("options") or {}
        try:
            before = _route(library, old, options, request, recorded.prior)
            after = _route(library, new, options, request, recorded.prior)
        except EngineBudgetSpent:
            yield Stopped(recorded.event_seq)
            return
        changed = [key for key in ROUTE if before[key] != after[key]]
        change = None
        if changed:
            change = Change(recorded.decision_id, recorded.reference, recorded.exporter_id, recorded.withdrawn,
                            changed, {k: before[k] for k in ROUTE}, {k: after[k] for k in ROUTE},
                            [r for r in before["rule_ids"] if r not in after["rule_ids"]],
                            [r for r in after["rule_ids"] if r not in before["rule_ids"]])
        yield Compared(recorded.event_seq, recorded.decision_id, change)


def diff(ledger: Ledger, old: PackSet, new: PackSet, walk: Walk | None = None) -> DiffReport:
    """:func:`diff_each` collected (in one process, without an engine budget)."""
    report = DiffReport(old.digest, new.digest)
    for outcome in diff_each(ledger, old, new, walk):
        assert isinstance(outcome, Compared)
        report.checked += 1
        if outcome.change is not None:
            report.changes.append(outcome.change)
    return report


def _route(library: PackLibrary, pack_set: PackSet, options: Mapping[str, Any], request: TransferRequest,
           prior: PriorCounts) -> dict[str, Any]:
    engine = library.engine_for_recorded_options(pack_set, options, declared_only=True)
    return route_of(engine.evaluate(request, prior))


__all__ = ["AsOfError", "Change", "Compared", "DiffReport", "Difference", "EngineBudgetSpent", "PackLibrary",
           "PackVersionsUnavailable", "RecordedDecision", "ReplayReport", "Replayed", "Stopped", "Walk", "diff",
           "diff_each", "engine_as_of", "essentials_of_json", "options_for", "replay", "replay_each"]

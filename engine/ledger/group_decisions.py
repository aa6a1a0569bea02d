"""A group's decisions, made in passes (``Recorder.record_group``): first every decision of the group,
in order, then every decision's stored forms, before any of them is recorded.

Why passes: made one transfer at a time, a decision's rules (durable-rules' C state and the engine's
Python objects), its canonical text, its hashing and its compression against a 32 KB preset
dictionary (zlib's state, about 300 KB) took turns in the processor's caches, and each found them
cold. Made a pass at a time, each finds its working set as the last transfer left it: the same work
in process took 240-280 us a transfer instead of 260-350 (docs/performance.md, session 7).

The order of the group is kept where it decides anything: a transfer is decided on the counts the
ones before it in the group left (``group.GroupCounts``), and one whose reference is already recorded,
before the group or by a transfer earlier in it, is not decided at all: ``record_one`` answers it
from that record (the same request again) or refuses it (another request).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.evaluator import Engine
from engine.facts import Tally, tally_for
from engine.fired_ahead import FiredAhead
from engine.ledger import group as group_io
from engine.ledger import records
from engine.ledger.audit import sha256
from engine.ledger.decision_text import decision_canonical
from engine.models import Decision, TransferRequest

Key = tuple[str, str]
"""A transfer's (exporter, reference)."""


def counts_toward_totals(decision: Decision) -> bool:
    """Whether recording ``decision`` adds to its exporter's counts: permitted, and of a kind that counts.
    The one test for both what later transfers of a group are decided on and what the group's rows
    say it counted: were they two, they could drift apart."""
    return decision.outcome == "permitted" and decision.counts.counted


@dataclass(frozen=True)
class Decided:
    """A transfer's decision and its stored forms, ready to be recorded."""

    decision: Decision
    tally: Tally
    decision_json: str
    decision_sha: str
    kind: str
    """Its kind of decision (``records.kind_of``): which dictionary its record is compressed with."""
    texts: bytes
    """The request's and the decision's texts as a record joins them (``records.joined``)."""
    dictionary: records.Dictionary | None
    record: bytes | None
    """``texts`` compressed against ``dictionary``, when this process already used one for ``kind``."""

    @property
    def counted(self) -> bool:
        return counts_toward_totals(self.decision)


class Deciding(Protocol):
    """What a pass reads of a submission (``recording.Submission``)."""

    engine: Engine
    request: TransferRequest
    request_json: str
    as_of: dt.date | None
    ahead: FiredAhead | None
    """Its rules fired before the group's lock, on guessed counts (``Recorder.fire_ahead``), or None."""


def key_of(item: Deciding) -> Key:
    return (item.request.exporter.id, item.request.reference)


def decide(group: Sequence[tuple[Deciding, bool]], counts: group_io.GroupCounts,
           dictionaries: records.DictionaryChooser) -> list[Decided | Exception | None]:
    """The decision of each submission of ``group`` (with whether its reference was recorded before the
    group), in order: None for one whose reference is recorded (before, or earlier in the group), the
    error for one the engine refused (it alone fails). ``counts`` is left with what the decided ones
    add, as the group will record it.

    An error in the second pass (the canonical text, kind or record of a decision the engine made: a
    bug, not a fault of the request) is raised and fails the whole group, nothing of it written: by
    then the transfers after it in the group were decided on counts that include it, so it cannot
    fail alone."""
    found: list[Decided | Exception | None] = [None] * len(group)
    decided: list[tuple[int, Deciding, Decision, Tally]] = []
    recorded_in_group: set[Key] = set()
    for index, (item, recorded_before) in enumerate(group):
        request = item.request
        key = key_of(item)
        if recorded_before or key in recorded_in_group:
            continue
        year = request.planned_date.year
        prior = counts.prior(request.exporter.id, year)
        try:
            decision = item.engine.evaluate(request, prior, as_of=item.as_of, ahead=item.ahead)
            tally = tally_for(request, prior, item.engine.options, decision.counts.collected_abroad_uncounted)
        except Exception as exc:  # refused before writing anything: this submission alone fails
            found[index] = exc
            continue
        recorded_in_group.add(key)
        if counts_toward_totals(decision):
            counts.add(request.exporter.id, year, tally)
        decided.append((index, item, decision, tally))
    for index, item, decision, tally in decided:
        found[index] = stored_forms(item.request_json, decision, tally, dictionaries)
    return found


def stored_forms(request_json: str, decision: Decision, tally: Tally,
                 dictionaries: records.DictionaryChooser) -> Decided:
    """``decision`` with its canonical text, its hash, its kind, and its record if the kind's
    dictionary is known here (else the writer chooses one, ``DictionaryChooser.choose``)."""
    decision_json = decision_canonical(decision)
    kind = records.kind_of(decision.rules.digest, decision.outcome, (reason.rule for reason in decision.reasons))
    texts = records.joined(request_json, decision_json)
    dictionary = dictionaries.known(kind)
    record = None if dictionary is None else records.pack_joined(texts, dictionary)
    return Decided(decision, tally, decision_json, sha256(decision_json), kind, texts, dictionary, record)

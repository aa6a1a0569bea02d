"""The fact sheet derived from a request and the ledger's counts (the facts are named and typed in
engine/fact_registry.py).

The derivation holds geography and arithmetic only; every legal threshold, date and consequence lives
in the rule packs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from engine.fact_registry import (
    EXEMPT_VOLUMES_COUNTED_OPTION,
    GBA_MAINLAND_CITIES,
)
from engine.models import (
    APPROVAL_KINDS,
    MECHANISM_TYPES,
    TAGS,
    DataSet,
    Mechanism,
    Party,
    TransferRequest,
)
from engine.workdays import add_working_days

# --------------------------------------------------------------------------------------------
# Counts and derivation


@dataclass(frozen=True)
class PriorCounts:
    """What the ledger recorded before this transfer for the exporter (DESIGN section 5)."""

    personal_subjects: int = 0
    sensitive_subjects: int = 0
    previous_year_personal_subjects: int = 0
    previous_year_sensitive_subjects: int = 0
    populations: Mapping[str, int] = field(default_factory=dict)
    """Largest figure recorded this year per named population, in the non-sensitive tally."""
    sensitive_populations: Mapping[str, int] = field(default_factory=dict)
    """The same in the sensitive tally: a population whose contact details were sent has not had its
    health records sent, so each tally keeps its own figures."""


class Tally(NamedTuple):
    """This transfer's contribution to the two tallies (a named tuple: one is made per decision)."""

    personal_subjects: int
    sensitive_subjects: int
    populations: dict[str, int]
    """Each named population's figure in this transfer, in the non-sensitive tally."""
    sensitive_populations: dict[str, int]
    """The same in the sensitive tally."""
    collected_abroad_left_out: bool = False
    """Some data set collected outside the Mainland was left out of both tallies (CountingPolicy)."""


@dataclass(frozen=True)
class ValidityTerm:
    """How long a mechanism issued in a window lasts when the request gives no ``expires_on``."""

    issued_from: dt.date
    issued_to: dt.date | None
    years: int
    option: str | None = None
    """A pack option (bool) under which the term is ``option_years`` instead (a contested reading)."""
    option_years: int | None = None


@dataclass(frozen=True)
class MechanismPolicy:
    """Per mechanism type: how many Mainland working days a filing may follow its taking effect, and
    how long it lasts when no expiry is given (a security assessment result: 2 or 3 years).

    Declared by the rule packs (`mechanisms:`), because these terms are law, not engine code.
    """

    filing_working_days: int | None = None
    validity: tuple[ValidityTerm, ...] = ()

    _answers: dict[tuple[dt.date, dt.date | None, dt.date | None, dt.date], bool] = field(
        default_factory=dict, compare=False, hash=False, repr=False)
    """Answers of :meth:`valid` already given (bounded): requests repeat a few mechanisms and days."""

    def valid(self, effective: dt.date, filed: dt.date | None, expires: dt.date | None, on: dt.date) -> bool:
        """Whether a mechanism of this type with these dates is valid on ``on``."""
        key = (effective, filed, expires, on)
        answer = self._answers.get(key)
        if answer is None:
            if len(self._answers) >= 4096:
                self._answers.clear()
            answer = self._answers[key] = _valid_under(self, effective, filed, expires, on)
        return answer

    def under(self, options: Mapping[str, bool | int | str]) -> MechanismPolicy:
        """This policy with each term an option lengthens or shortens set as ``options`` say: an engine
        works with the policy of its own options (they are fixed for its life)."""
        if not any(term.option for term in self.validity):
            return self
        terms = tuple(ValidityTerm(term.issued_from, term.issued_to, term.option_years)
                      if term.option and term.option_years and options.get(term.option) is True else term
                      for term in self.validity)
        return MechanismPolicy(filing_working_days=self.filing_working_days, validity=terms)

    def default_expiry(self, issued: dt.date) -> dt.date | None:
        for term in self.validity:
            if term.issued_from <= issued and (term.issued_to is None or issued <= term.issued_to):
                return _add_years(issued, term.years) - dt.timedelta(days=1)
        return None


@dataclass(frozen=True)
class CountingPolicy:
    """What the packs say counting leaves out (DESIGN section 5), declared by them (``counting:``)
    because it is law, not engine code: from ``collected_abroad_uncounted_from``, a personal data set
    collected and generated outside the Mainland (2024 Provisions art. 4: the exemption attaches to the
    data set) is left out of the tallies, unless the pack option ``exempt_volumes_counted`` counts
    exempt volumes."""

    collected_abroad_uncounted_from: dt.date | None = None
    cite: str = ""

    def leaves_out_collected_abroad(self, on: dt.date, options: Mapping[str, bool | int | str]) -> bool:
        start = self.collected_abroad_uncounted_from
        return start is not None and start <= on and not options.get(EXEMPT_VOLUMES_COUNTED_OPTION, False)


NO_COUNTING_POLICY = CountingPolicy()


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def normalise_city(city: str | None) -> str:
    return (city or "").strip().lower()


def in_gba_mainland(party: Party) -> bool:
    return party.jurisdiction == "CN" and normalise_city(party.city) in GBA_MAINLAND_CITIES


def in_gba(party: Party) -> bool:
    return _in_gba(in_gba_mainland(party), party.jurisdiction)


def _in_gba(in_gba_mainland: bool, jurisdiction: str) -> bool:
    """In the Greater Bay Area: one of the nine Mainland cities, Hong Kong or Macao."""
    return in_gba_mainland or jurisdiction in ("HK", "MO")


def direction_of(exporter: Party, recipient: Party) -> str:
    if exporter.jurisdiction == "CN":
        if recipient.jurisdiction == "CN":
            return "other"
        return {"HK": "cn_to_hk", "MO": "cn_to_mo"}.get(recipient.jurisdiction, "cn_to_other")
    if exporter.jurisdiction == "HK":
        if recipient.jurisdiction == "HK":
            return "other"
        return "hk_to_cn" if recipient.jurisdiction == "CN" else "hk_to_other"
    return "other"


def gba_pair_of(exporter: Party, recipient: Party) -> str:
    return _gba_pair(in_gba_mainland(exporter), in_gba_mainland(recipient), exporter.jurisdiction,
                     recipient.jurisdiction)


def _gba_pair(exporter_mainland: bool, recipient_mainland: bool, exporter_jurisdiction: str,
              recipient_jurisdiction: str) -> str:
    """mainland_hk: one party in the nine Mainland GBA cities and the other in Hong Kong; mainland_mo:
    the same with Macao; none otherwise. From flags derive works out once per party."""
    for mainland, other in ((exporter_mainland, recipient_jurisdiction), (recipient_mainland, exporter_jurisdiction)):
        if mainland:
            if other == "HK":
                return "mainland_hk"
            if other == "MO":
                return "mainland_mo"
    return "none"


def is_personal(data_set: DataSet) -> bool:
    """Personal information that counts: a personal data set not truly anonymised (PIPL art. 73(4))."""
    return data_set.kind == "personal" and not data_set.anonymized


def tally_of(data: Iterable[DataSet], prior: PriorCounts, sensitive_in_both: bool,
             leave_out_collected_abroad: bool = False) -> Tally:
    """This transfer's individuals in each tally, population-aware.

    The two tallies count different things (Provisions (2024), arts. 7-8: individuals whose personal
    information, excluding sensitive, was provided; individuals whose sensitive personal information
    was): sensitive data sets count in the sensitive tally, and in the non-sensitive one too only with
    ``sensitive_in_both``. A data set naming a population already sent this year counts, in each tally
    it counts in, only the increase over the largest earlier figure for it in that tally: members whose
    contact details were sent are new to the sensitive tally when their health records follow. Two data
    sets of one transfer naming the same population count once per tally, at the larger figure.
    With ``leave_out_collected_abroad`` (:class:`CountingPolicy`), a data set collected outside the
    Mainland counts in neither tally.
    """
    return _walk_data(data, prior, sensitive_in_both, dict(_TAGS_ZERO), leave_out_collected_abroad)


def _walk_data(data: Iterable[DataSet], prior: PriorCounts, sensitive_in_both: bool,
               facts: dict[str, FactValue], leave_out_collected_abroad: bool = False) -> Tally:
    """:func:`tally_of`, and the fact sheet's ``data.*`` facts written into ``facts`` (which holds
    every ``data.subjects_tagged.*`` fact at 0 already), in one walk.

    Counting lives here alone: the ledger (through :func:`tally_of`) and the rules (through
    :func:`derive_facts_and_tally`) read the same walk, so they cannot count differently. One walk
    rather than two because every decision runs it (one less loop and call: about 1 us, measured)."""
    personal = sensitive = collected_abroad = 0
    largest_personal: dict[str, int] = {}
    largest_sensitive: dict[str, int] = {}
    classification_list: list[str] = []
    tag_list: list[str] = []
    sensitive_list: list[str] = []
    has_personal = any_collected_in = False
    all_collected_outside = True
    for data_set in data:
        classification_list.append(data_set.classification)
        tags = data_set.tags
        if tags:
            tag_list += tags
        if not is_personal(data_set):
            continue  # not personal information (PIPL art. 73(4)): nothing to count
        has_personal = True
        subjects = data_set.subjects
        kinds = data_set.sensitive
        if kinds:
            sensitive_list += kinds
        if tags:
            for tag in dict.fromkeys(tags):  # a tag listed twice counts its individuals once
                key = _TAG_KEYS[tag]
                facts[key] = facts[key] + subjects  # type: ignore[operator]
        if not data_set.collected_outside_mainland:
            any_collected_in = True
            all_collected_outside = False
        else:
            collected_abroad += subjects
            if leave_out_collected_abroad:
                continue  # exempt with its data set (art. 4): in neither tally
        in_personal = not kinds or sensitive_in_both
        population = data_set.population
        if population is None:
            if in_personal:
                personal += subjects
            if kinds:
                sensitive += subjects
            continue
        if in_personal:
            largest_personal[population] = max(largest_personal.get(population, 0), subjects)
        if kinds:
            largest_sensitive[population] = max(largest_sensitive.get(population, 0), subjects)
    for population, subjects in largest_personal.items():
        personal += max(0, subjects - prior.populations.get(population, 0))
    for population, subjects in largest_sensitive.items():
        sensitive += max(0, subjects - prior.sensitive_populations.get(population, 0))
    classifications = frozenset(classification_list)
    facts["data.has_personal"] = has_personal
    facts["data.has_sensitive"] = bool(sensitive_list)
    facts["data.sensitive_types"] = frozenset(sensitive_list)
    facts["data.classifications"] = classifications
    facts["data.has_important"] = bool(classifications - {"general"})
    facts["data.has_core"] = "core" in classifications
    facts["data.has_state_secret"] = "state_secret" in classifications
    facts["data.tags"] = frozenset(tag_list)
    facts["data.personal_subjects"] = personal
    facts["data.sensitive_subjects"] = sensitive
    facts["data.all_collected_outside_mainland"] = has_personal and all_collected_outside
    facts["data.any_collected_in_mainland"] = any_collected_in
    facts["data.any_collected_outside_mainland"] = collected_abroad > 0
    facts["data.collected_abroad_subjects"] = collected_abroad
    return Tally(personal, sensitive, largest_personal, largest_sensitive,
                 leave_out_collected_abroad and collected_abroad > 0)


def _in_both_tallies(prior: PriorCounts, tally: Tally) -> int:
    """Individuals of named populations counted this year in both tallies: the same people's ordinary
    and sensitive information (members' contact details, then their health records). Each tally counts
    them, as the 2024 regime's two thresholds need; the 2022 regime counts individuals, so
    ``since_prev_year.individuals`` takes them once. A population's individuals in a tally are its
    largest figure there (ledger and this transfer), so those in both are the smaller of the two."""
    personal, sensitive = tally.populations, tally.sensitive_populations
    if not (personal or prior.populations) or not (sensitive or prior.sensitive_populations):
        return 0  # the usual case: no population named in one of the tallies
    both = 0
    for name in personal.keys() | prior.populations.keys():
        in_sensitive = max(sensitive.get(name, 0), prior.sensitive_populations.get(name, 0))
        if in_sensitive:
            both += min(max(personal.get(name, 0), prior.populations.get(name, 0)), in_sensitive)
    return both


def mechanism_valid(mech: Mechanism, on: dt.date, policy: MechanismPolicy | None) -> bool:
    """Whether this one mechanism is valid on ``on`` (decide names the one that meets a requirement)."""
    if mech.effective_on > on:
        return False
    if policy is not None:
        return policy.valid(mech.effective_on, mech.filed_on, mech.expires_on, on)
    return _valid_under(None, mech.effective_on, mech.filed_on, mech.expires_on, on)


def _valid_under(policy: MechanismPolicy | None, effective: dt.date, filed: dt.date | None,
                 expires: dt.date | None, on: dt.date) -> bool:
    """A mechanism in effect on ``on``: not expired, and filed or still inside its filing window."""
    if effective > on:
        return False
    expires_on = expires
    if expires_on is None and policy is not None:
        expires_on = policy.default_expiry(effective)
    if expires_on is not None and on > expires_on:
        return False
    window = policy.filing_working_days if policy else None
    if window is None:
        return True
    if filed is not None and filed <= on:
        return True
    return on <= add_working_days(effective, window).day


FactValue = bool | int | str | dt.date | frozenset[str] | None


_TAG_KEYS = {tag: f"data.subjects_tagged.{tag}" for tag in TAGS}
_TAGS_ZERO = dict.fromkeys(_TAG_KEYS.values(), 0)
_MECHANISM_KEYS = {mech: (f"mechanism.{mech}.present", f"mechanism.{mech}.valid", f"mechanism.{mech}.filed",
                          f"mechanism.{mech}.effective_on") for mech in MECHANISM_TYPES}
_MECHANISMS_NONE: dict[str, FactValue] = {}
for _keys in _MECHANISM_KEYS.values():
    _MECHANISMS_NONE.update({_keys[0]: False, _keys[1]: False, _keys[2]: False, _keys[3]: None})
_APPROVAL_KEYS = {kind: f"approval.{kind}" for kind in APPROVAL_KINDS}
_APPROVALS_NONE = dict.fromkeys(_APPROVAL_KEYS.values(), False)
_FACTS_TEMPLATE: dict[str, FactValue] = {**_TAGS_ZERO, **_MECHANISMS_NONE, **_APPROVALS_NONE}
"""No individuals tagged, no mechanism and no approval: the facts before the request's data and
safeguards are read."""


def derive_facts(
    request: TransferRequest,
    prior: PriorCounts,
    options: Mapping[str, bool | int | str],
    mechanism_policies: Mapping[str, MechanismPolicy],
    counting: CountingPolicy = NO_COUNTING_POLICY,
) -> dict[str, FactValue]:
    """The fact sheet: every registered fact (but derived ones) with its value for this request.

    Optional facts that are unknown are None; the compiler and the reference evaluator treat a
    comparison with an unknown value as false.
    """
    return derive_facts_and_tally(request, prior, options, mechanism_policies, counting=counting)[0]


def derive_facts_and_tally(
    request: TransferRequest,
    prior: PriorCounts,
    options: Mapping[str, bool | int | str],
    mechanism_policies: Mapping[str, MechanismPolicy],
    sheet_start: Mapping[str, FactValue] | None = None,
    counting: CountingPolicy = NO_COUNTING_POLICY,
) -> tuple[dict[str, FactValue], Tally]:
    """:func:`derive_facts` and this transfer's tally (the evaluator needs both; computed once).

    Every decision runs this, so it walks the request once per list and fills keys spelt in advance.
    ``sheet_start``: :func:`start_of_sheet` of ``options`` when the caller keeps it (the evaluator does:
    the options do not change between its evaluations). ``counting``: the packs' :class:`CountingPolicy`.
    """
    exporter, recipient = request.exporter, request.recipient
    on = request.planned_date
    safeguards = request.safeguards
    declared = request.declared_prior
    # The facts no request sets unless it says so (tags at 0, no mechanism, no approval) and the options,
    # copied in one go; the rest is written over them below.
    facts: dict[str, FactValue] = dict(start_of_sheet(options) if sheet_start is None else sheet_start)
    in_both = bool(options.get("count_sensitive_in_both", False))
    tally = _walk_data(request.data, prior, in_both, facts, counting.leaves_out_collected_abroad(on, options))
    onward = request.onward_recipients
    ytd_personal = prior.personal_subjects + declared.personal_subjects + tally.personal_subjects
    ytd_sensitive = prior.sensitive_subjects + declared.sensitive_subjects + tally.sensitive_subjects
    since_personal = ytd_personal + prior.previous_year_personal_subjects + declared.previous_year_personal_subjects
    since_sensitive = (ytd_sensitive + prior.previous_year_sensitive_subjects
                       + declared.previous_year_sensitive_subjects)
    pia = safeguards.pia_completed_on
    exporter_jurisdiction, recipient_jurisdiction = exporter.jurisdiction, recipient.jurisdiction
    exporter_city, recipient_city = normalise_city(exporter.city), normalise_city(recipient.city)
    exporter_mainland = exporter_jurisdiction == "CN" and exporter_city in GBA_MAINLAND_CITIES
    recipient_mainland = recipient_jurisdiction == "CN" and recipient_city in GBA_MAINLAND_CITIES
    # One update from one display: a display is built in C, a key at a time here costs more (measured).
    facts.update({
        "direction": direction_of(exporter, recipient),
        "leaves_mainland": exporter_jurisdiction == "CN" and recipient_jurisdiction != "CN",
        "purpose": request.purpose,
        "new_purpose": request.new_purpose,
        "mode": request.mode,
        "planned_date": on,
        "gba.pair": _gba_pair(exporter_mainland, recipient_mainland, exporter_jurisdiction,
                              recipient_jurisdiction),
        "onward.count": len(onward),
        "onward.outside_gba": any(not in_gba(p) for p in onward) if onward else False,
        "onward.outside_mainland": any(p.jurisdiction != "CN" for p in onward) if onward else False,
        "onward.outside_recipient_jurisdiction": (
            any(p.jurisdiction != recipient_jurisdiction for p in onward) if onward else False),
        "ytd.personal_subjects": ytd_personal,
        "ytd.sensitive_subjects": ytd_sensitive,
        "safeguards.separate_consent": safeguards.separate_consent,
        "safeguards.notice_given": safeguards.notice_given,
        "safeguards.direct_marketing_consent": safeguards.direct_marketing_consent,
        "safeguards.pia_done": pia is not None and pia <= on,
        "exporter.processes_subjects": exporter.processes_subjects,
        "since_prev_year.personal_subjects": since_personal,
        "since_prev_year.sensitive_subjects": since_sensitive,
        # Sensitive individuals are in the sensitive tally only, unless the option puts them in both; a
        # population named in both tallies this year is the same people, counted once.
        "since_prev_year.individuals": since_personal if in_both else (
            since_personal + since_sensitive - _in_both_tallies(prior, tally)),
        # Each party's facts written out in this one display: a helper's dict per party merged in costs more.
        "exporter.jurisdiction": exporter_jurisdiction, "exporter.city": exporter_city,
        "exporter.kind": exporter.kind, "exporter.ciio": exporter.ciio,
        "exporter.sector": (exporter.sector or "").strip().lower(),
        "exporter.zone": (exporter.zone or "").strip().lower(),
        "exporter.in_gba": _in_gba(exporter_mainland, exporter_jurisdiction),
        "exporter.in_gba_mainland": exporter_mainland,
        "recipient.jurisdiction": recipient_jurisdiction, "recipient.city": recipient_city,
        "recipient.kind": recipient.kind, "recipient.ciio": recipient.ciio,
        "recipient.sector": (recipient.sector or "").strip().lower(),
        "recipient.zone": (recipient.zone or "").strip().lower(),
        "recipient.in_gba": _in_gba(recipient_mainland, recipient_jurisdiction),
        "recipient.in_gba_mainland": recipient_mainland,
    })
    mechanisms = safeguards.mechanisms
    if len(mechanisms) == 1:  # the usual case, without grouping by type
        mech = mechanisms[0]
        present, valid, filed, effective_on = _MECHANISM_KEYS[mech.type]
        took_effect = mech.effective_on <= on
        facts[present] = True
        facts[valid] = mechanism_valid(mech, on, mechanism_policies.get(mech.type))
        facts[filed] = took_effect and mech.filed_on is not None and mech.filed_on <= on
        facts[effective_on] = mech.effective_on if took_effect else None
    elif mechanisms:
        by_type: dict[str, list[Mechanism]] = {}
        for mech in safeguards.mechanisms:
            by_type.setdefault(mech.type, []).append(mech)
        for mech_type, listed in by_type.items():
            present, valid, filed, effective_on = _MECHANISM_KEYS[mech_type]
            policy = mechanism_policies.get(mech_type)
            in_effect = [m for m in listed if m.effective_on <= on]
            facts[present] = True
            facts[valid] = any(mechanism_valid(m, on, policy) for m in listed)
            facts[filed] = any(m.filed_on is not None and m.filed_on <= on for m in in_effect)
            facts[effective_on] = max((m.effective_on for m in in_effect), default=None)
    for approval in safeguards.approvals:
        if approval.granted_on <= on:
            facts[_APPROVAL_KEYS[approval.kind]] = True
    return facts, tally


def option_facts(options: Mapping[str, bool | int | str]) -> dict[str, FactValue]:
    """The options as facts (``option.<id>``)."""
    return {f"option.{option_id}": value for option_id, value in options.items()}


def start_of_sheet(options: Mapping[str, bool | int | str]) -> dict[str, FactValue]:
    """What every fact sheet starts from: no individuals tagged, no mechanism and no approval, and the
    options as facts (no other fact is named ``option.*``, so nothing derived overwrites them)."""
    return {**_FACTS_TEMPLATE, **option_facts(options)}


def tally_for(request: TransferRequest, prior: PriorCounts, options: Mapping[str, bool | int | str],
              collected_abroad_uncounted: bool = False) -> Tally:
    """This transfer's contribution, as the ledger records it; ``collected_abroad_uncounted`` as its
    decision's counts say (the decision knows the packs' :class:`CountingPolicy`)."""
    return tally_of(request.data, prior, bool(options.get("count_sensitive_in_both", False)),
                    collected_abroad_uncounted)

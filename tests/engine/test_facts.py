"""Fact derivation: the per-decision shortcuts give the answers of the plain definitions, and the GBA
pair is right place by place."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.evaluator import Engine
from engine.facts import (
    PriorCounts,
    derive_facts,
    derive_facts_and_tally,
    direction_of,
    gba_pair_of,
    in_gba,
    in_gba_mainland,
    is_personal,
    normalise_city,
    tally_of,
)
from engine.models import CLASSIFICATIONS, SENSITIVE_TYPES, TAGS, DataSet, Party, TransferRequest
from tests.engine.conftest import base_request, load_scenarios

PLACES = [("CN", "Shenzhen"), ("CN", " 深圳市 "), ("CN", "廣州"), ("CN", "Shanghai"), ("HK", None), ("MO", None),
          ("SG", None), ("US", "Guangzhou")]


def party(jurisdiction: str, city: str | None, index: int) -> Party:
    return Party.model_validate({"id": f"P{index}", "name": f"Party {index}", "jurisdiction": jurisdiction,
                                 "city": city})


def test_party_and_pair_facts_follow_the_plain_definitions() -> None:
    """derive_facts works out each party's city and GBA membership once and the pair from them;
    every combination of places must give what gba_pair_of, in_gba and the rest say."""
    for (ej, ec), (rj, rc) in itertools.product(PLACES, PLACES):
        exporter, recipient = party(ej, ec, 1), party(rj, rc, 2)
        body = base_request()
        body["exporter"] = exporter.model_dump(exclude_none=True)
        body["recipient"] = recipient.model_dump(exclude_none=True)
        facts = derive_facts(TransferRequest.model_validate(body), PriorCounts(), {}, {})
        assert facts["gba.pair"] == gba_pair_of(exporter, recipient), (ej, ec, rj, rc)
        assert facts["direction"] == direction_of(exporter, recipient)
        for role, p in (("exporter", exporter), ("recipient", recipient)):
            assert facts[f"{role}.city"] == normalise_city(p.city)
            assert facts[f"{role}.in_gba"] == in_gba(p)
            assert facts[f"{role}.in_gba_mainland"] == in_gba_mainland(p)


def test_one_mechanism_gives_the_facts_the_general_path_gives() -> None:
    """One mechanism in place takes a shortcut; the same mechanism listed twice goes the general way
    (grouped by type) and must give the same facts, for every type and every kind of date."""
    from engine.evaluator import Engine
    from engine.models import MECHANISM_TYPES
    from tests.engine.conftest import RULES

    policies = Engine.from_directory(RULES).pack_set.mechanisms
    planned = "2026-12-01"
    dates = [("2026-11-10", None, None), ("2026-11-10", "2026-11-12", None), ("2026-11-17", None, None),
             ("2026-12-02", None, None), ("2023-01-05", "2023-01-06", None), ("2020-03-01", None, None),
             ("2025-01-01", "2025-01-02", "2026-11-30"), ("2026-12-01", "2026-12-01", "2026-12-01")]
    checked = 0
    for mech_type, (effective, filed, expires) in itertools.product(MECHANISM_TYPES, dates):
        mechanism = {"type": mech_type, "reference": "R-1", "effective_on": effective}
        if filed:
            mechanism["filed_on"] = filed
        if expires:
            mechanism["expires_on"] = expires
        one, twice = base_request(planned_date=planned), base_request(planned_date=planned)
        one["safeguards"] = {**one["safeguards"], "mechanisms": [mechanism]}
        twice["safeguards"] = {**twice["safeguards"], "mechanisms": [mechanism, dict(mechanism)]}
        facts_one = derive_facts(TransferRequest.model_validate(one), PriorCounts(), {}, policies)
        facts_twice = derive_facts(TransferRequest.model_validate(twice), PriorCounts(), {}, policies)
        assert facts_one == facts_twice, (mech_type, effective, filed, expires)
        checked += 1
    assert checked == len(MECHANISM_TYPES) * len(dates)


def test_a_fact_sheet_lacking_a_fact_a_ruleset_reads_is_refused(engine: Engine) -> None:
    """A missing fact is never read as unknown (that could change silently which rules fire): the
    writer raises, and the engine says which fact of which ruleset is missing."""
    from engine.compiler import key_encodings, message_writer
    from engine.fact_registry import FactRegistry
    from engine.rete import ReteError

    registry = FactRegistry()
    write = message_writer(key_encodings(registry), registry)
    facts = derive_facts(TransferRequest.model_validate(base_request()), PriorCounts(), {}, {})
    facts["exemption"] = frozenset()
    write(facts, "s1")
    for name in facts:
        with pytest.raises(KeyError, match=re.escape(name)):
            write({key: value for key, value in facts.items() if key != name}, "s1")
    sheet = derive_facts(TransferRequest.model_validate(base_request()), PriorCounts(), engine.options,
                         engine.pack_set.mechanisms)
    del sheet["leaves_mainland"]
    with pytest.raises(ReteError, match="reads fact 'leaves_mainland', which the fact sheet lacks"):
        engine.fire(sheet)


def test_the_fact_sheet_holds_every_registered_fact(engine: Engine) -> None:
    """Every fact a rule may read is on the sheet derive gives (the exemptions are added as stages
    run), so the compiled writers never fall back to reading a fact as unknown for want of it."""
    expected = {spec.name for spec in engine.pack_set.registry if not spec.derived}
    for scenario in load_scenarios():
        request = TransferRequest.model_validate(scenario["request"])
        facts = derive_facts(request, PriorCounts(), engine.options, engine.pack_set.mechanisms)
        assert set(facts) == expected, scenario["id"]


def test_gba_pairs_by_place() -> None:
    expected = {(("CN", "Shenzhen"), ("HK", None)): "mainland_hk", (("HK", None), ("CN", " 深圳市 ")): "mainland_hk",
                (("CN", "廣州"), ("MO", None)): "mainland_mo", (("MO", None), ("CN", "Shenzhen")): "mainland_mo",
                (("CN", "Shanghai"), ("HK", None)): "none", (("HK", None), ("CN", "Shanghai")): "none",
                (("CN", "Shenzhen"), ("CN", "廣州")): "none", (("US", "Guangzhou"), ("HK", None)): "none",
                (("HK", None), ("MO", None)): "none", (("CN", "Shenzhen"), ("SG", None)): "none"}
    for ((ej, ec), (rj, rc)), pair in expected.items():
        assert gba_pair_of(party(ej, ec, 1), party(rj, rc, 2)) == pair, (ej, ec, rj, rc)


DATA_SET = st.fixed_dictionaries({
    "kind": st.sampled_from(["personal", "personal", "non_personal"]),
    "subjects": st.integers(1, 3_000_000),
    "sensitive": st.lists(st.sampled_from(SENSITIVE_TYPES), max_size=3, unique=True),
    "classification": st.sampled_from(CLASSIFICATIONS),
    "tags": st.lists(st.sampled_from(TAGS), max_size=3),
    "anonymized": st.booleans(),
    "collected_outside_mainland": st.booleans(),
    "population": st.sampled_from([None, "members", "patients"]),
})
PRIOR = st.builds(PriorCounts, personal_subjects=st.integers(0, 10**6), sensitive_subjects=st.integers(0, 10**5),
                  populations=st.dictionaries(st.sampled_from(["members", "patients"]), st.integers(0, 10**6)),
                  sensitive_populations=st.dictionaries(st.sampled_from(["members", "patients"]),
                                                        st.integers(0, 10**6)))


def plain_tally(data: list[DataSet], prior: PriorCounts, sensitive_in_both: bool) -> tuple[int, int]:
    """Arts. 7-8 counted the slow, obvious way: per tally, the data sets it counts; a named population
    at its largest figure in the transfer, less its largest earlier figure in that tally."""
    totals = []
    for tally, earlier in (("personal", prior.populations), ("sensitive", prior.sensitive_populations)):
        counted = [d for d in data if is_personal(d)
                   and (bool(d.sensitive) if tally == "sensitive" else not d.sensitive or sensitive_in_both)]
        unnamed = sum(d.subjects for d in counted if d.population is None)
        named = {d.population for d in counted if d.population is not None}
        totals.append(unnamed + sum(
            max(0, max(d.subjects for d in counted if d.population == name) - earlier.get(name, 0))
            for name in named))
    return totals[0], totals[1]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.lists(DATA_SET, min_size=1, max_size=4), prior=PRIOR, sensitive_in_both=st.booleans())
def test_the_one_walk_over_the_data_gives_the_plain_definitions(data: list[dict[str, Any]], prior: PriorCounts,
                                                               sensitive_in_both: bool) -> None:
    """derive_facts_and_tally counts and describes the data sets in one walk, which tally_of (the
    ledger's count) shares; each fact and both tallies must be what the plain definitions say."""
    for data_set in data:
        if data_set["kind"] == "non_personal":
            data_set["sensitive"] = []
    body = base_request()
    body["data"] = data
    request = TransferRequest.model_validate(body)
    facts, tally = derive_facts_and_tally(request, prior, {"count_sensitive_in_both": sensitive_in_both}, {})
    personal = [d for d in request.data if is_personal(d)]
    assert facts["data.has_personal"] == bool(personal)
    assert facts["data.has_sensitive"] == any(d.sensitive for d in personal)
    assert facts["data.sensitive_types"] == {kind for d in personal for kind in d.sensitive}
    assert facts["data.classifications"] == {d.classification for d in request.data}
    assert facts["data.has_important"] == any(d.classification != "general" for d in request.data)
    assert facts["data.has_core"] == any(d.classification == "core" for d in request.data)
    assert facts["data.has_state_secret"] == any(d.classification == "state_secret" for d in request.data)
    assert facts["data.tags"] == {tag for d in request.data for tag in d.tags}
    assert facts["data.all_collected_outside_mainland"] == (
        bool(personal) and all(d.collected_outside_mainland for d in personal))
    assert facts["data.any_collected_in_mainland"] == any(not d.collected_outside_mainland for d in personal)
    for tag in TAGS:
        assert facts[f"data.subjects_tagged.{tag}"] == sum(d.subjects for d in personal if tag in d.tags), tag
    expected = plain_tally(list(request.data), prior, sensitive_in_both)
    assert (tally.personal_subjects, tally.sensitive_subjects) == expected
    assert (facts["data.personal_subjects"], facts["data.sensitive_subjects"]) == expected
    assert tally_of(request.data, prior, sensitive_in_both) == tally
    assert facts["ytd.personal_subjects"] == prior.personal_subjects + expected[0]
    assert facts["ytd.sensitive_subjects"] == prior.sensitive_subjects + expected[1]


def test_the_2022_regime_counts_every_individual(engine: Engine) -> None:
    """since_prev_year.individuals: both tallies, this year and last, ledger and declared, this transfer
    included; under count_sensitive_in_both the non-sensitive tally, which then holds everyone."""
    request = TransferRequest.model_validate(base_request(
        planned_date="2023-10-10", declared_prior={"personal_subjects": 1, "previous_year_sensitive_subjects": 2},
        data=[{"kind": "personal", "subjects": 10}, {"kind": "personal", "subjects": 20, "sensitive": ["biometric"]}]))
    prior = PriorCounts(personal_subjects=100, sensitive_subjects=200, previous_year_personal_subjects=300,
                        previous_year_sensitive_subjects=400)
    facts = derive_facts(request, prior, engine.options, engine.mechanisms)
    assert facts["since_prev_year.personal_subjects"] == 10 + 100 + 1 + 300
    assert facts["since_prev_year.sensitive_subjects"] == 20 + 200 + 2 + 400
    assert facts["since_prev_year.individuals"] == 411 + 622
    both = derive_facts(request, prior, {**engine.options, "count_sensitive_in_both": True}, engine.mechanisms)
    assert both["since_prev_year.individuals"] == both["since_prev_year.personal_subjects"] == 30 + 100 + 1 + 300


def test_sets_collected_abroad_are_left_out_of_the_tally_from_art_4s_date(engine: Engine) -> None:
    data = [{"kind": "personal", "subjects": 300_000, "collected_outside_mainland": True,
             "sensitive": ["medical_health"]}, {"kind": "personal", "subjects": 50_000}]
    for day, left_out in (("2024-03-21", False), ("2024-03-22", True)):
        request = TransferRequest.model_validate(base_request(planned_date=day, data=data))
        facts, tally = derive_facts_and_tally(request, PriorCounts(), engine.options, engine.mechanisms,
                                              counting=engine.pack_set.counting)
        assert tally.collected_abroad_left_out is left_out
        assert facts["data.collected_abroad_subjects"] == 300_000
        assert (facts["ytd.personal_subjects"], facts["ytd.sensitive_subjects"]) == \
            ((50_000, 0) if left_out else (50_000, 300_000))
        assert tally_of(request.data, PriorCounts(), False, left_out)[:2] == (tally.personal_subjects,
                                                                             tally.sensitive_subjects)
    counted = {**engine.options, "exempt_volumes_counted": True}
    request = TransferRequest.model_validate(base_request(planned_date="2026-12-01", data=data))
    facts, tally = derive_facts_and_tally(request, PriorCounts(), counted, engine.mechanisms,
                                          counting=engine.pack_set.counting)
    assert not tally.collected_abroad_left_out and facts["ytd.sensitive_subjects"] == 300_000


def test_a_population_sent_in_both_tallies_is_its_individuals_once_under_the_2022_regime(engine: Engine) -> None:
    """The 2022 regime counts individuals, sensitive or not: members whose contact details were sent and
    whose health records follow are counted in each tally (the 2024 regime's two thresholds need that),
    but they are the same people, so since_prev_year.individuals counts them once (DESIGN section 5)."""
    health = {"kind": "personal", "subjects": 60_000, "population": "members", "sensitive": ["medical_health"]}
    plain = {"kind": "personal", "subjects": 60_000, "population": "members"}

    def individuals(data: list[dict[str, Any]], prior: PriorCounts) -> Any:
        request = TransferRequest.model_validate(base_request(planned_date="2023-08-01", data=data))
        return derive_facts(request, prior, engine.options, engine.mechanisms)["since_prev_year.individuals"]

    # Contact details recorded this year; the health records now.
    assert individuals([health], PriorCounts(personal_subjects=60_000, populations={"members": 60_000})) == 60_000
    # Both in one request; and a larger figure in one tally than the other: the larger.
    assert individuals([plain, health], PriorCounts()) == 60_000
    assert individuals([{**health, "subjects": 70_000}],
                       PriorCounts(personal_subjects=60_000, populations={"members": 60_000})) == 70_000
    # Other people (no population, or another one) still add up; last year's tally too.
    assert individuals([{**health, "population": "patients"}],
                       PriorCounts(personal_subjects=60_000, populations={"members": 60_000},
                                   previous_year_personal_subjects=5)) == 120_005
    assert individuals([plain, {**health, "population": None}], PriorCounts()) == 120_000

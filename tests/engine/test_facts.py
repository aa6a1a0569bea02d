"""Fact derivation: the per-decision shortcuts give the answers of the plain definitions."""

from __future__ import annotations

import itertools

from engine.facts import (
    PriorCounts,
    derive_facts,
    direction_of,
    gba_pair_of,
    in_gba,
    in_gba_mainland,
    normalise_city,
)
from engine.models import Party, TransferRequest
from tests.engine.conftest import base_request

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

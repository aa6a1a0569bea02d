"""Every one of the nine Mainland GBA cities, in the spellings users write, is in the Greater Bay Area for
the GBA standard contract; cities just outside it (Shanwei, Qingyuan, Shaoguan, and Beijing) are not.
Dropping a city from engine.facts.GBA_MAINLAND_CITIES fails this test."""

from __future__ import annotations

import pytest

from engine.evaluator import Engine
from engine.models import TransferRequest
from tests.engine.conftest import base_request

NINE = {
    "Guangzhou": ("广州", "廣州市"), "Shenzhen": ("深圳", "深圳市"), "Zhuhai": ("珠海", "珠海市"),
    "Foshan": ("佛山", "佛山市"), "Huizhou": ("惠州", "惠州市"), "Dongguan": ("东莞", "東莞"),
    "Zhongshan": ("中山", "中山市"), "Jiangmen": ("江门", "江門"), "Zhaoqing": ("肇庆", "肇慶"),
}
OUTSIDE = ("Shanwei", "汕尾", "Qingyuan", "清远", "Shaoguan", "Beijing")


def decide(engine: Engine, city: str, counterpart: str = "HK") -> tuple[str, list[str]]:
    request = base_request(exporter={"id": "91440000TEST", "name": "Exporter", "jurisdiction": "CN", "city": city},
                           recipient={"id": "X-1", "name": "Recipient", "jurisdiction": counterpart},
                           data=[{"kind": "personal", "subjects": 150_000}])
    decision = engine.evaluate(TransferRequest.model_validate(request))
    return decision.mechanism, decision.mechanism_options


@pytest.mark.parametrize("city", [name for english, chinese in NINE.items() for name in (english, *chinese)])
def test_each_of_the_nine_mainland_gba_cities_may_use_the_gba_contract(engine: Engine, city: str) -> None:
    all_three = ["gba_standard_contract", "standard_contract", "certification"]
    assert decide(engine, city) == ("standard_contract", all_three)
    assert "gba_standard_contract" in decide(engine, city, counterpart="MO")[1]


def test_all_nine_are_listed() -> None:
    assert len(NINE) == 9


@pytest.mark.parametrize("city", OUTSIDE)
def test_a_city_just_outside_the_gba_may_not(engine: Engine, city: str) -> None:
    assert decide(engine, city) == ("standard_contract", ["standard_contract", "certification"])

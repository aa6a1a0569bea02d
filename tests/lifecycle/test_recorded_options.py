"""PackLibrary.engine_for_recorded_options: the options recorded with a decision, worked out once per distinct set.

A replay holds each recorded option to the packs (one no pack declares is an error, every time); a diff
leaves such an option out. One cache serves both, so the way of reading is part of its key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.evaluator import OptionError
from engine.ledger import Ledger
from engine.replay import PackLibrary
from engine.rulespec import load_pack_set
from tests.ledger.conftest import ROOT


@pytest.fixture()
def library(tmp_path: Path) -> Iterator[PackLibrary]:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", upgrade=True)
    yield PackLibrary(ledger)
    ledger.close()


def test_an_undeclared_option_is_left_out_by_a_diff_and_refused_by_a_replay_every_time(library: PackLibrary) -> None:
    pack_set = load_pack_set(ROOT / "rules")
    recorded = {"no_such_option": True, "count_sensitive_in_both": True}
    read_by_diff = library.engine_for_recorded_options(pack_set, recorded, declared_only=True)
    assert read_by_diff.options["count_sensitive_in_both"] is True and "no_such_option" not in read_by_diff.options
    for _ in range(2):  # the diff's reading is cached; the replay's refusal is not hidden by it
        with pytest.raises(OptionError, match="no_such_option"):
            library.engine_for_recorded_options(pack_set, recorded)
    assert library.engine_for_recorded_options(pack_set, dict(recorded), declared_only=True) is read_by_diff


def test_each_distinct_set_of_recorded_options_gets_its_own_engine_built_once(library: PackLibrary) -> None:
    pack_set = load_pack_set(ROOT / "rules")
    default = library.engine_for_recorded_options(pack_set, {})
    counted_in_both = library.engine_for_recorded_options(pack_set, {"count_sensitive_in_both": True})
    assert counted_in_both is not default and counted_in_both.options["count_sensitive_in_both"] is True
    assert library.engine_for_recorded_options(pack_set, {"count_sensitive_in_both": True}) is counted_in_both
    # the options as a replay reads them and as the engine keeps them: the same engine (by digest and options)
    assert library.engine_for_recorded_options(pack_set, {"count_sensitive_in_both": False}) is default
    assert library.engine_for_recorded_options(pack_set, {"count_sensitive_in_both": "true"}) is counted_in_both


def test_equal_values_of_another_type_are_read_again_not_taken_from_the_cache(library: PackLibrary) -> None:
    """1 and 1.0 are equal and hash alike; as a recorded option value 1 reads as true, 1.0 is refused."""
    pack_set = load_pack_set(ROOT / "rules")
    assert library.engine_for_recorded_options(pack_set, {"count_sensitive_in_both": 1}).options[
        "count_sensitive_in_both"] is True
    with pytest.raises(OptionError, match="count_sensitive_in_both"):
        library.engine_for_recorded_options(pack_set, {"count_sensitive_in_both": 1.0})


def test_an_unhashable_recorded_value_is_read_without_the_cache(library: PackLibrary) -> None:
    with pytest.raises(OptionError, match="count_sensitive_in_both"):
        library.engine_for_recorded_options(load_pack_set(ROOT / "rules"), {"count_sensitive_in_both": ["edited"]})

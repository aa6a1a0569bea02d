"""The key configuration (api.http.security): named keys (``name role key``), the earlier ``role=key``
form with a stable derived name, and the refusals that keep one name for one key. In process."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.http.security import KeyConfigError, load_keys, named_keys

SUBMIT = "s" * 20
AUDIT = "a" * 20


def test_a_file_names_its_keys_and_one_key_may_carry_several_roles(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(f"# name role key\netl submitter {SUBMIT}\netl auditor {SUBMIT}\nalice auditor {AUDIT}\n",
                    encoding="utf-8")
    ring = load_keys({"BAYGATE_API_KEYS_FILE": str(keys)})
    etl = ring.identify(SUBMIT)
    assert etl is not None and etl.name == "etl" and etl.roles == frozenset({"submitter", "auditor"})
    alice = ring.identify(AUDIT)
    assert alice is not None and (alice.name, alice.roles) == ("alice", frozenset({"auditor"}))
    assert ring.identify("x" * 20) is None and ring.roles_for("x" * 20) == frozenset()


def test_the_earlier_role_equals_key_form_still_works_and_its_name_is_stable() -> None:
    both = load_keys({"BAYGATE_API_KEYS": f"submitter={SUBMIT},auditor={SUBMIT}"}).identify(SUBMIT)
    assert both is not None and both.roles == frozenset({"submitter", "auditor"})
    ring = load_keys({"BAYGATE_API_KEYS": f"submitter={SUBMIT}, auditor = {AUDIT}"})
    first = ring.identify(SUBMIT)
    again = load_keys({"BAYGATE_API_KEYS": f"auditor={AUDIT},submitter={SUBMIT}"}).identify(SUBMIT)
    assert first is not None and again is not None and first.name == again.name
    assert first.name.startswith("key-") and len(first.name) == len("key-") + 8
    assert SUBMIT not in first.name
    assert ring.roles_for(AUDIT) == frozenset({"auditor"})


@pytest.mark.parametrize(("entries", "message"), [
    ([("etl", "submitter", SUBMIT), ("etl", "auditor", AUDIT)], "the name 'etl' is given to two different keys"),
    ([("etl", "submitter", SUBMIT), ("other", "auditor", SUBMIT)], "one key is named both 'etl' and 'other'"),
    ([("etl", "admin", SUBMIT)], "unknown role 'admin'"),
    ([("etl", "submitter", "short")], "key shorter than 16 characters"),
    ([("bad/name", "submitter", SUBMIT)], "the name 'bad/name' is not 1-64 letters"),
])
def test_keys_that_would_make_the_recorded_actor_ambiguous_are_refused(
        entries: list[tuple[str, str, str]], message: str) -> None:
    with pytest.raises(KeyConfigError, match=message) as caught:
        named_keys(entries)
    assert SUBMIT not in str(caught.value) and AUDIT not in str(caught.value)


def test_an_entry_of_neither_form_is_refused_naming_it() -> None:
    with pytest.raises(KeyConfigError, match="BAYGATE_API_KEYS: entry 1 is neither 'name role key' nor role=key"):
        load_keys({"BAYGATE_API_KEYS": "just-a-key-without-a-role"})

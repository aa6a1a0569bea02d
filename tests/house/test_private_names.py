"""No private name (``_name``) is reached across modules, ours or a library's (tests/house/privacy.py
says what is checked and why)."""

from __future__ import annotations

from tests.house.privacy import ROOT, our_modules, private_reaches, reaches_in


def test_no_private_name_is_reached_across_modules() -> None:
    found = sorted(str(reach) for reach in private_reaches())
    assert not found, "\n".join(found)


def test_the_check_finds_each_kind_of_reach() -> None:
    """Each form the check knows, in a made-up module, is found; public and dunder names are not."""
    modules = our_modules(ROOT)
    source = "\n".join([
        "import engine.decide",
        "import pydantic._internal",
        "from engine import decide",
        "from engine.decide import _build, decide as run",
        "from . import badinputs",
        "from pydantic._internal import _fields",
        "engine.decide._PLANS",
        "decide._effects_of",
        "badinputs._private",
        "decide.forget_plans, decide.__name__, run._not_a_module",
    ])
    found = {reach.what for reach in reaches_in(source, "tests/hardening/made_up.py", modules)}
    assert found == {
        "import pydantic._internal",
        "from engine.decide import _build",
        "from pydantic._internal import ...",
        "from pydantic._internal import _fields",
        "engine.decide._PLANS",
        "decide._effects_of",
        "badinputs._private",
    }, found

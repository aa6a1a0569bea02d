"""The house's layout holds (docs/architecture.md, "Rules of the house"): no import cycle among our
modules, and ``engine`` never imports ``api`` (the pipeline points one way; tests/house/imports.py
says how the graph is read)."""

from __future__ import annotations

from tests.house.imports import cycles, graph


def test_no_import_cycle_among_our_modules() -> None:
    found = cycles(graph())
    assert not found, "import cycles (module-level imports): " + "; ".join(" <-> ".join(c) for c in found)


def test_engine_never_imports_api() -> None:
    edges = graph(module_level_only=False)  # deferred imports inside functions count here too
    upward = sorted((a, b) for a, targets in edges.items() for b in targets
                    if a.split(".")[0] == "engine" and b.split(".")[0] == "api")
    assert not upward, upward


def test_the_cycle_finder_finds_a_cycle_and_no_false_one() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []

"""The import graph of our own modules, read from their syntax trees (nothing is imported), for
tests/house/test_imports.py: what imports what at module level, and the cycles in it.

A module's import of ``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__`` first, so it counts as an
import of those packages too, except the packages the importing module is itself in: they are
already being imported when it runs (a package's ``__init__`` that re-exports its modules is no
cycle). Imports inside functions (deferred on purpose, to keep a command's
start-up small) are not module-level and are left out of the cycles; they still count for the rule
that ``engine`` never imports ``api``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("engine", "api")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(path, root): path for top in PACKAGES for path in sorted((root / top).rglob("*.py"))
            if "migrations" not in path.parts}


def imported(node: ast.Import | ast.ImportFrom, here: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """Our modules an import statement runs (with the packages above them)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = here.split(".") if is_package else here.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, *([node.module] if node.module else [])])
        names = [base] + [f"{base}.{alias.name}" for alias in node.names]
    for name in names:
        parts = name.split(".")
        for end in range(1, len(parts) + 1):
            candidate = ".".join(parts[:end])
            if candidate in known and candidate != here and not here.startswith(candidate + "."):
                yield candidate


def graph(root: Path = ROOT, module_level_only: bool = True) -> dict[str, set[str]]:
    found = modules(root)
    known = set(found)
    edges: dict[str, set[str]] = {name: set() for name in found}
    for name, path in found.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        nodes = tree.body if module_level_only else list(ast.walk(tree))
        for node in _flattened(nodes) if module_level_only else nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                    continue
                edges[name].update(imported(node, name, path.name == "__init__.py", known))
    return edges


def _flattened(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, with those inside module-level if/try blocks (``if TYPE_CHECKING`` is
    left out: it never runs)."""
    for node in body:
        if isinstance(node, ast.If):
            test = node.test
            if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
                continue
            yield from _flattened(node.body)
            yield from _flattened(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _flattened(node.body)
            for handler in node.handlers:
                yield from _flattened(handler.body)
            yield from _flattened(node.orelse)
        else:
            yield node


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)

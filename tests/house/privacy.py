"""Find private names (``_name``) reached across modules: what tests/house/test_private_names.py forbids.

A leading underscore says "this module's own business": another module that imports it, or reads it
through the module (``module._name``), breaks silently when its owner renames or changes it, and a
newcomer cannot tell what the owner promises. The same holds for a library's private names
(``pydantic._internal``, ``config._inicache``): they change between releases without notice.

What is checked, per Python file, by reading its syntax tree (nothing is imported):

- ``from package.module import _name`` and ``import package._module`` (any package, ours or a library's);
- ``alias._name`` where ``alias`` is bound by an ``import`` in that file (a module, ours or a library's),
  or by ``from package import module`` where ``package.module`` is one of our modules.

Dunder names (``__version__``) are public by convention. SQLAlchemy's ``Row._mapping`` family is public
API named with an underscore so that it cannot clash with a column; such names are read from an object,
not a module, and are not looked at here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("api", "engine", "tests", "benchmarks", "fuzz")


@dataclass(frozen=True)
class Reach:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def our_modules(root: Path = ROOT) -> set[str]:
    """Dotted names of every module and package in the scanned folders."""
    names: set[str] = set()
    for top in SCANNED:
        for path in (root / top).rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names.add(".".join(parts))
    return names


def absolute(node: ast.ImportFrom, path: str) -> str:
    """The dotted module an ``import from`` names, relative ones (``from . import vocab``) resolved."""
    if node.level == 0:
        return node.module or ""
    package = list(Path(path).with_suffix("").parts)[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def reaches_in(source: str, path: str, modules: set[str]) -> list[Reach]:
    tree = ast.parse(source, filename=path)
    found: list[Reach] = []
    module_aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if any(is_private(part) for part in alias.name.split(".")):
                    found.append(Reach(path, node.lineno, f"import {alias.name}"))
                module_aliases.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            module = absolute(node, path)
            if any(is_private(part) for part in module.split(".")):
                found.append(Reach(path, node.lineno, f"from {module} import ..."))
            for alias in node.names:
                if is_private(alias.name):
                    found.append(Reach(path, node.lineno, f"from {module} import {alias.name}"))
                elif f"{module}.{alias.name}" in modules:
                    module_aliases.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            owner = dotted(node.value)
            if owner in module_aliases or (owner in modules and owner.split(".")[0] in module_aliases):
                found.append(Reach(path, node.lineno, f"{owner}.{node.attr}"))
    return found


def dotted(node: ast.expr) -> str:
    """``a.b.c`` for a chain of names, else an empty string."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = dotted(node.value)
        return f"{owner}.{node.attr}" if owner else ""
    return ""


def private_reaches(root: Path = ROOT) -> list[Reach]:
    modules = our_modules(root)
    found: list[Reach] = []
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            found += reaches_in(path.read_text(encoding="utf-8"), str(path.relative_to(root)), modules)
    return found


if __name__ == "__main__":
    for reach in private_reaches():
        print(reach)

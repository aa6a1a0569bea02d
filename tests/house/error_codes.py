"""The error codes the code can give, collected from its syntax tree (nothing is imported), for
tests/house/test_error_codes.py to hold against docs/errors.md.

A code is given where the code says so:

- ``code = "baygate.NAME"`` in a class body (a :class:`engine.errors.BaygateError` and its kin);
- the slug of a problem answer, written out in a call (``ProblemError(422, "bad-input", ...)``,
  ``problem_response(503, "database-unavailable", ...)``, ``problem_body``, and the guard's own
  ``_problem``), or a key of the problem titles (``TITLES`` in api/http/problems.py): ``baygate.SLUG``;
- a reason id of the engine (``"engine.NAME"``), such as ``engine.no-route``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ERRORS_DOC = ROOT / "docs" / "errors.md"
PROBLEM_CALLS = frozenset({"ProblemError", "problem_response", "problem_body", "_problem"})
SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
REASON_ID = re.compile(r"^engine\.[a-z][a-z0-9]*(-[a-z0-9]+)*$")
CODE = re.compile(r"^baygate\.[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def codes_in(source: str, path: str = "<source>") -> dict[str, str]:
    """Code -> where it is first given (``file:line``) in one module's source."""
    found: dict[str, str] = {}

    def note(code: str, node: ast.AST) -> None:
        found.setdefault(code, f"{path}:{getattr(node, 'lineno', 0)}")

    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if (isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code"
                                                         for t in item.targets)
                        and isinstance(item.value, ast.Constant) and isinstance(item.value.value, str)
                        and CODE.match(item.value.value)):
                    note(item.value.value, item)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in PROBLEM_CALLS:
                for arg in node.args[:3]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and SLUG.match(arg.value):
                        note(f"baygate.{arg.value}", node)
                        break
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "TITLES" for t in node.targets):
            if isinstance(node.value, ast.Dict):
                for key in node.value.keys:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        note(f"baygate.{key.value}", key)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and REASON_ID.match(node.value):
            note(node.value, node)
    return found


def codes_given(root: Path = ROOT) -> dict[str, str]:
    found: dict[str, str] = {}
    for top in ("api", "engine"):
        for path in sorted((root / top).rglob("*.py")):
            for code, where in codes_in(path.read_text(encoding="utf-8"), str(path.relative_to(root))).items():
                found.setdefault(code, where)
    return found


def documented(text: str) -> dict[str, str]:
    """Code -> its section in docs/errors.md: each code is a heading ``### `code` ``."""
    sections: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        heading = re.match(r"^###\s+`([a-z][a-z0-9.-]+)`\s*$", line)
        if heading:
            current = heading.group(1)
            sections[current] = ""
        elif line.startswith("#"):
            current = None
        elif current is not None:
            sections[current] += line + "\n"
    return sections

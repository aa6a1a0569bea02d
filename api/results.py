"""One result per request for ``evaluate`` and ``submit`` (DESIGN section 6): a list file is decided item
by item, and each item's result is printed in order, in text and as JSON.

A result is one of: ``decided`` (a dry run), ``recorded``, ``already_recorded`` (the same request was
recorded under its reference before: its recorded decision), or ``refused`` with its problem (a file
that does not parse, an item that does not validate, a reference already used for another request or
withdrawn). The exit status is 3 if any result was refused, else the strongest decision's.

:class:`ResultPrinter` prints each result as it comes (nothing is held back), so a command that
decides or records a long list in groups can stream: call ``printer.add(result)`` per item in order,
then ``printer.close()`` and exit with ``printer.exit_status()``. Text: decisions to stdout, refusals
to stderr as ``baygate: FILE[INDEX]: problem``. JSON: one request from a one-request file is the
decision object alone (as before); anything else is a list, one object per item, in order:

- ``evaluate``: the decision itself (the shape ``baygate schema decision`` gives, so ``jq '.[].outcome'``
  and schema checks work on a list as on one decision), or, for a refused item, a problem object as
  the HTTP batch answers in its place (RFC 9457 fields ``type``, ``title``, ``status``, ``detail``,
  ``code``, ``errors``) with ``"result": "refused"``, its ``source`` and ``index``;
- ``submit``: ``{"source": FILE, "index": N|null, "result": "recorded" | "already_recorded",
  "decision": {...}}``, where what became of the item matters as much as the decision, or the same
  problem object for a refused item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import typer
from pydantic_core import to_json

from api.exits import EXIT_BAD_INPUT, EXIT_BY_OUTCOME
from api.render import summary
from engine.errors import BaygateError, FieldProblem, InputError
from engine.models import Decision

ResultKind = Literal["decided", "recorded", "already_recorded", "refused"]


@dataclass(frozen=True)
class ItemResult:
    """What became of one request: its decision, or why it was refused."""

    source: str
    index: int | None
    """Position in a list file (0-based); None for a file holding one request (or the file itself)."""
    kind: ResultKind
    decision: Decision | None = None
    code: str | None = None
    """For a refusal: the stable error code (baygate.bad-input, baygate.reference-conflict, ...)."""
    detail: str | None = None
    errors: tuple[FieldProblem, ...] = ()
    status: int = 422
    """For a refusal: the HTTP status the same problem has in the service's answers."""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def refused(cls, source: str, index: int | None, error: BaygateError, **extra: Any) -> ItemResult:
        if isinstance(error, InputError):
            detail = "; ".join(str(p) for p in error.problems[:5]) + ("; ..." if len(error.problems) > 5 else "")
            return cls(source, index, "refused", code=error.code, detail=detail, errors=tuple(error.problems),
                       status=422, extra=extra)
        return cls(source, index, "refused", code=error.code, detail=str(error),
                   status=int(getattr(error, "http_status", 422)), extra=extra)

    @property
    def label(self) -> str:
        return self.source if self.index is None else f"{self.source}[{self.index}]"

    def exit_status(self) -> int:
        if self.kind == "refused" or self.decision is None:
            return EXIT_BAD_INPUT
        return EXIT_BY_OUTCOME[self.decision.outcome]

    def as_json(self) -> dict[str, Any]:
        """This item's object in a JSON list (see the module docstring)."""
        if self.kind == "refused":
            return self.problem_json()
        assert self.decision is not None
        decision = self.decision.model_dump(mode="json")
        if self.kind == "decided":
            return decision
        return {"source": self.source, "index": self.index, "result": self.kind, "decision": decision,
                **self.extra}

    def json_text(self) -> str:
        """:meth:`as_json` as indented JSON text (what ``--json`` prints for it)."""
        if self.kind == "refused":
            return indented(self.problem_json())
        assert self.decision is not None
        if self.kind == "decided":
            return indented(self.decision)
        return indented({"source": self.source, "index": self.index, "result": self.kind, "decision": self.decision,
                         **self.extra})

    def problem_json(self) -> dict[str, Any]:
        """A refusal as the problem object the HTTP batch answers in an item's place, with where it came
        from (``source``, ``index``) and ``"result": "refused"``."""
        code = self.code or "baygate.error"
        slug = code.removeprefix("baygate.")
        body: dict[str, Any] = {"type": f"urn:baygate:problem:{slug}", "title": slug.replace("-", " ").capitalize(),
                                "status": self.status, "detail": self.detail, "code": code}
        if self.errors:
            body["errors"] = [{"path": p.path, "message": p.message, **({"line": p.line} if p.line else {})}
                              for p in self.errors]
        return {**body, "source": self.source, "index": self.index, "result": "refused", **self.extra}

    def _problem_line(self, problem: FieldProblem) -> str:
        """``FILE:LINE: [INDEX].path: message`` where the line is known, else ``FILE[INDEX]: path: message``."""
        if not problem.line:
            return f"baygate: {self.label}: {problem}"
        path = problem.path if self.index is None else f"[{self.index}]" + (f".{problem.path}" if problem.path else "")
        return f"baygate: {self.source}:{problem.line}: " + (f"{path}: {problem.message}" if path else problem.message)

    def problem_lines(self) -> str:
        """A refusal as the stderr lines ``baygate: FILE[INDEX]: path: message``."""
        if self.errors:
            return "\n".join(self._problem_line(p) for p in self.errors)
        return f"baygate: {self.label}: {self.detail}"


def indented(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=2)`` of the JSON-mode dump (decisions in it
    included), written by pydantic's serializer in Rust: the same text (tests/cli/test_result_json.py),
    but for floats under 1e-4, spelt without an exponent (the same number). json.dumps writes indented
    JSON with its pure-Python encoder (indent turns the C one off): that took a quarter of a list file's
    submit, more than recording it (a decision is ~10 KB of indented JSON)."""
    return to_json(value, indent=2).decode()


class ResultPrinter:
    """Prints results in order as they come; see the module docstring for the formats."""

    def __init__(self, as_json: bool, lang: str, single: bool) -> None:
        self.as_json = as_json
        self.lang = lang
        self.single = single
        self.count = 0
        self.refused = 0
        self.strongest = 0

    def add(self, result: ItemResult) -> None:
        status = result.exit_status()
        if result.kind == "refused":
            self.refused += 1
            typer.echo(result.problem_lines(), err=True)
        else:
            self.strongest = max(self.strongest, status)
        if self.as_json:
            self._json(result)
        elif result.decision is not None:
            label = result.label + (", already recorded" if result.kind == "already_recorded" else "")
            typer.echo(("\n" if self.count else "") + summary(result.decision, self.lang, label))
        self.count += 1

    def _json(self, result: ItemResult) -> None:
        if self.single:
            if result.decision is not None:
                typer.echo(indented(result.decision))
            return
        typer.echo(("[\n" if self.count == 0 else ",\n") + result.json_text(), nl=False)

    def close(self) -> None:
        if self.as_json and not self.single:
            typer.echo("\n]" if self.count else "[]")
        if self.refused and self.count > 1:
            typer.echo(f"baygate: {self.refused} of {self.count} requests refused", err=True)

    def exit_status(self) -> int:
        return EXIT_BAD_INPUT if self.refused else self.strongest

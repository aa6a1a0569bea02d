"""Exit statuses of every command (DESIGN section 6) and the one guard that enforces them.

A pipeline reads a command's exit status as an answer: 1 means "conditional", 2 "prohibited". So
no status may ever say more than the program knows. Python's defaults would: a traceback exits 1
and Click's usage errors exit 2. Every ``baygate`` command therefore runs inside
:class:`GuardedGroup`, the Click group of the Typer app, which turns

- a usage error (an unknown option, a missing FILE, ``--year abc``, no command) into **3**, with
  Click's usage message on stderr;
- an error of the input (:class:`engine.errors.BaygateError` whose HTTP status is below 500:
  ``InputError``, ``RulePackError``, ``OptionError``, ``ReferenceConflict``, ``NotFound``, ...) into
  **3**;
- anything the program could not finish into **4** with a one-line reason on stderr: a
  ``BaygateError`` whose ``http_status`` is 500 or more (``DatabaseUnavailable``, ``LedgerOutOfDate``,
  ``PackContentUnavailable``, any other ``LedgerError``, :class:`engine.errors.CouldNotFinish` and its
  subclasses), a SQLAlchemy error that escaped the ledger, ``MemoryError``, ``RecursionError``, an
  ``OSError`` (a full disk, a closed pipe), and any other exception: never a traceback
  (``BAYGATE_TRACEBACK=1`` prints it after the reason, for a developer);
- Ctrl-C into 130, as shells do.

Commands keep choosing their own outcome statuses (``raise typer.Exit(code)``), and report a handled
error with :func:`fail` (exit 3 unless told otherwise) or :func:`fail_on` (the status that error
class maps to, with context before its message).
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from engine.errors import BaygateError, CouldNotFinish

EXIT_PERMITTED = 0
EXIT_CONDITIONAL = 1
EXIT_PROHIBITED = 2
EXIT_BAD_INPUT = 3
EXIT_COULD_NOT_FINISH = 4
EXIT_INTERRUPTED = 130
EXIT_BY_OUTCOME = {"permitted": EXIT_PERMITTED, "conditional": EXIT_CONDITIONAL, "prohibited": EXIT_PROHIBITED}

TRACEBACK_ENV = "BAYGATE_TRACEBACK"


def could_not_finish(error: BaseException) -> bool:
    """Whether an error means the program could not finish (exit 4, HTTP 5xx) rather than bad input."""
    if isinstance(error, CouldNotFinish):
        return True
    if isinstance(error, BaygateError):
        return int(getattr(error, "http_status", 400)) >= 500
    return True


def exit_status(error: BaseException) -> int:
    """The exit status for an error that ends a command (see the module docstring)."""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if is_usage_error(error):
        return EXIT_BAD_INPUT
    return EXIT_COULD_NOT_FINISH if could_not_finish(error) else EXIT_BAD_INPUT


def is_usage_error(error: BaseException) -> bool:
    """A usage error of the command line (Click's ``UsageError`` and its kin, as Typer raises them:
    Typer 0.29 vendors Click under a private name, so they are known by ``typer.TyperException`` or,
    with an older Typer on the real Click, by Click's exception protocol: ``exit_code`` and ``show``)."""
    return isinstance(error, typer.TyperException) or (
        hasattr(error, "exit_code") and callable(getattr(error, "show", None)))


def one_line_reason(error: BaseException) -> str:
    """A reason a user can act on, on one line; never a traceback, never a SQL statement."""
    if isinstance(error, BaygateError):
        return str(error)
    if isinstance(error, MemoryError):
        return "out of memory (the input is too large for this machine, or the machine is short of memory)"
    if isinstance(error, RecursionError):
        return "the input is nested too deeply to process"
    if isinstance(error, BrokenPipeError):
        return "the output was closed before everything was written (broken pipe)"
    from sqlalchemy.exc import SQLAlchemyError

    first = str(getattr(error, "orig", None) or error).strip().splitlines()
    detail = first[0] if first else ""
    if isinstance(error, SQLAlchemyError):
        return f"database unavailable: {detail or type(error).__name__}"
    if isinstance(error, OSError):
        return f"{error.strerror or detail or type(error).__name__}" + (f": {error.filename}" if error.filename else "")
    return f"internal error ({type(error).__name__}{': ' + detail if detail else ''})"


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """End a command with ``baygate: MESSAGE`` on stderr and ``code`` (default 3, bad input)."""
    typer.echo(f"baygate: {message}", err=True)
    raise typer.Exit(code)


def fail_on(error: BaseException, context: str | None = None) -> NoReturn:
    """End a command on a handled error with the status its class maps to (3 or 4), naming ``context``
    (a file, a database URL) before the error's own message."""
    status = exit_status(error)
    reason = one_line_reason(error)
    prefix = "could not finish: " if status == EXIT_COULD_NOT_FINISH else ""
    fail(prefix + (f"{context}: {reason}" if context else reason), status)


def report(error: BaseException) -> int:
    """Write the reason for an error that ended a command to stderr; return its exit status."""
    status = exit_status(error)
    if is_usage_error(error):
        getattr(error, "show", lambda: _echo_err(f"baygate: {error}"))()
        return status
    if isinstance(error, KeyboardInterrupt):
        _echo_err("baygate: interrupted")
        return status
    prefix = "could not finish: " if status == EXIT_COULD_NOT_FINISH else ""
    _echo_err(f"baygate: {prefix}{one_line_reason(error)}")
    if os.environ.get(TRACEBACK_ENV) and not isinstance(error, BaygateError):
        traceback.print_exception(error, file=sys.stderr)
    return status


def _echo_err(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # stderr itself closed: the status still tells
        typer.echo(text, err=True)


class GuardedGroup(TyperGroup):
    """The Typer app's Click group: runs a command and turns how it ended into the DESIGN's status.

    Click's own ``main`` (and Typer's) would exit 2 on usage errors, 1 on a closed pipe, and let any
    other exception end in a traceback (exit 1). This ``main`` builds the context and invokes the
    command as they do (``make_context`` and ``invoke``, Click's public API) and maps every ending
    itself. Used by ``baygate`` and by ``typer.testing.CliRunner`` alike (both call ``main``)."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, windows_expand_args: bool = True,
             **extra: Any) -> Any:
        status = self.run(list(sys.argv[1:] if args is None else args), prog_name or "baygate", **extra)
        if standalone_mode:
            sys.exit(status)
        return status

    def run(self, args: list[str], prog_name: str, **extra: Any) -> int:
        try:
            with self.make_context(prog_name, args, **extra) as ctx:
                self.invoke(ctx)
            return EXIT_PERMITTED
        except typer.Exit as done:
            return int(done.exit_code)
        except typer.Abort:
            _echo_err("baygate: aborted")
            return EXIT_INTERRUPTED
        except BrokenPipeError as error:
            _silence_stdout()
            return report(error)
        except (Exception, KeyboardInterrupt) as error:  # the one place every ending is mapped (MemoryError too)
            return report(error)


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the interpreter's final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass

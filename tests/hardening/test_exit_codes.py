"""Exit statuses (DESIGN section 6): usage errors are 3, not Click's 2 ("prohibited"); what the program
could not finish is 4 with a one-line reason, never a traceback's 1 ("conditional").

In-process through Typer's CliRunner (the same ``GuardedGroup.main`` that ``baygate`` runs), plus one
real process to show the installed entry point maps the same way.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli import app
from api.exits import EXIT_BAD_INPUT, EXIT_COULD_NOT_FINISH, GuardedGroup, exit_status, one_line_reason
from engine.errors import ConfigError, CouldNotFinish, FieldProblem, InputError
from engine.ledger.errors import DatabaseUnavailable, LedgerOutOfDate, NotFound, ReferenceConflict
from tests.hardening.conftest import ROOT, dumps, good_request

UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nothing"
"""Port 1 on loopback: the connection is refused at once (no server, no timeout to wait for)."""


def invoke(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text[-2000:]


USAGE_ERRORS = [
    ("evaluate", "--bogus", "x.yaml"),  # an unknown option
    ("evaluate",),  # no FILE
    ("submit",),
    ("ledger", "counts", "X", "--year", "abc"),  # a value of the wrong type
    ("serve", "--port", "seventy"),
    ("serve", "--port", "70000"),  # out of range
    ("no-such-command",),
    ("rules", "no-such-subcommand"),
    ("withdraw",),  # a missing argument
    ("audit", "verify", "--db"),  # an option without its value
    (),  # no command at all: help, then 3
    ("rules",),
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=[" ".join(a) or "(none)" for a in USAGE_ERRORS])
def test_usage_errors_exit_3(args: tuple[str, ...]) -> None:
    code, out, err = invoke(*args)
    assert code == EXIT_BAD_INPUT, (code, out, err)
    _no_traceback(out, err)
    if args not in ((), ("rules",)):
        assert "Error:" in err and out == ""


def test_help_is_still_0() -> None:
    assert invoke("--help")[0] == 0
    assert invoke("evaluate", "--help")[0] == 0


@pytest.fixture(scope="module")
def request_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exit-codes") / "good.json"
    path.write_bytes(dumps(good_request()))
    return path


@pytest.mark.parametrize("args", [
    ("submit", "{file}", "--db", UNREACHABLE),
    ("evaluate", "{file}"),
    ("withdraw", "X-1", "--db", UNREACHABLE),
    ("ledger", "show", "X-1", "--db", UNREACHABLE),
    ("ledger", "counts", "X", "--db", UNREACHABLE),
    ("audit", "verify", "--db", UNREACHABLE),
    ("db", "upgrade", "--db", UNREACHABLE),
], ids=lambda a: " ".join(a[:2]))
def test_an_unreachable_database_is_4(args: tuple[str, ...], request_file: Path) -> None:
    filled = [str(request_file) if a == "{file}" else a for a in args]
    code, out, err = invoke(*filled, env={"BAYGATE_DATABASE_URL": UNREACHABLE})
    assert code == EXIT_COULD_NOT_FINISH, (code, out, err)
    _no_traceback(out, err)
    assert "could not finish" in err and "database unavailable" in err, err
    assert len(err.strip().splitlines()) == 1, err  # one line
    assert out == ""


def test_a_ledger_whose_totals_do_not_hold_is_4(tmp_path: Path) -> None:
    """Ledger integrity: the running totals edited to zero; the next decision and a withdrawal that must
    release subjects are refused (the totals are sealed: engine.ledger.seal), never made on the edit."""
    db = tmp_path / "ledger.db"
    request = tmp_path / "one.json"
    first = good_request(reference="INTEGRITY-1")
    request.write_bytes(dumps(first))
    url = f"sqlite:///{db}"
    code, _, err = invoke("submit", str(request), "--db", url)
    assert code in (0, 1, 2), err
    with sqlite3.connect(db) as conn:
        changed = conn.execute("UPDATE exporter_year_totals SET personal_subjects = 0").rowcount
    assert changed >= 1
    code, out, err = invoke("withdraw", "INTEGRITY-1", "--db", url)
    assert code == EXIT_COULD_NOT_FINISH, (code, out, err)
    assert "ledger integrity" in err and "changed outside the service" in err and "could not finish" in err
    _no_traceback(out, err)
    request.write_bytes(dumps(good_request(reference="INTEGRITY-2", exporter=first["exporter"])))
    for code, out, err in (invoke("submit", str(request), "--db", url),  # and a dry run on the same counts:
                           invoke("evaluate", str(request), env={"BAYGATE_DATABASE_URL": url})):
        assert code == EXIT_COULD_NOT_FINISH, (code, out, err)
        assert "ledger integrity" in err, err
        _no_traceback(out, err)


def test_a_ledger_written_by_an_earlier_version_is_4_for_a_dry_run(tmp_path: Path, request_file: Path) -> None:
    db = tmp_path / "earlier.db"
    db.write_bytes((ROOT / "tests" / "data" / "ledger-before-0005.db").read_bytes())
    code, _, err = invoke("evaluate", str(request_file), env={"BAYGATE_DATABASE_URL": f"sqlite:///{db}"})
    assert code == EXIT_COULD_NOT_FINISH and "baygate db upgrade" in err, (code, err)


# ------------------------------------------------------------------ the guard itself, on a test command

probe = typer.Typer(cls=GuardedGroup, add_completion=False)


@probe.command()
def explode(kind: str) -> None:
    """Ends in the way named: the guard must map each one."""
    errors: dict[str, BaseException] = {
        "memory": MemoryError(), "recursion": RecursionError("maximum recursion depth exceeded"),
        "type": TypeError("unsupported operand"), "os": OSError(28, "No space left on device"),
        "pipe": BrokenPipeError(32, "Broken pipe"), "interrupt": KeyboardInterrupt(),
        "input": InputError("x.yaml", [FieldProblem("purpose", "unknown")]),
        "unavailable": DatabaseUnavailable("database unavailable: gone"),
    }
    raise errors[kind]


@probe.command()
def fine() -> None:
    """Ends well."""


@pytest.mark.parametrize(("kind", "status", "words"), [
    ("memory", 4, "out of memory"), ("recursion", 4, "nested too deeply"), ("type", 4, "internal error (TypeError"),
    ("os", 4, "No space left"), ("pipe", 4, "broken pipe"), ("interrupt", 130, "interrupted"),
    ("input", 3, "x.yaml"), ("unavailable", 4, "database unavailable: gone"),
])
def test_the_guard_maps_every_ending(kind: str, status: int, words: str) -> None:
    result = CliRunner().invoke(probe, ["explode", kind])
    assert result.exit_code == status, (result.exit_code, result.stderr)
    assert words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert CliRunner().invoke(probe, ["fine"]).exit_code == 0


def test_the_traceback_is_there_for_a_developer_who_asks() -> None:
    result = CliRunner().invoke(probe, ["explode", "type"], env={"BAYGATE_TRACEBACK": "1"})
    assert result.exit_code == 4 and "Traceback" in result.stderr


def test_error_classes_map_to_their_status() -> None:
    assert exit_status(InputError("x", [])) == 3
    assert exit_status(ReferenceConflict("x")) == 3 and exit_status(NotFound("x")) == 3
    assert exit_status(ConfigError("x")) == 3
    assert exit_status(DatabaseUnavailable("x")) == 4 and exit_status(LedgerOutOfDate("x")) == 4
    assert exit_status(CouldNotFinish("x")) == 4 and exit_status(MemoryError()) == 4
    from sqlalchemy.exc import OperationalError

    error = OperationalError("SELECT secret FROM t", {}, Exception("server closed the connection\nmore"))
    assert exit_status(error) == 4
    assert one_line_reason(error) == "database unavailable: server closed the connection"  # no SQL, one line


def test_the_installed_entry_point_maps_the_same(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "from api.cli import main; main()", "evaluate", "--bogus"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_BAD_INPUT and "No such option" in done.stderr
    _no_traceback(done.stderr)

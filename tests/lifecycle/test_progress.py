"""Progress of long commands: a rich bar on a terminal, a line every few seconds anywhere else."""

from __future__ import annotations

import io

import pytest

from api import progress as progress_module
from api.progress import Progress, progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_a_terminal_a_line_says_how_far_how_fast_and_how_long(capsys: pytest.CaptureFixture[str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "LINE_SECONDS", 0.0)
    with progress("audit replay", 1_000_000, io.StringIO()) as shown:
        shown.advance(250_000)
    err = capsys.readouterr().err
    assert err.startswith("baygate: audit replay: 250,000 of 1,000,000 (25 %), ")
    assert "/s, about " in err and " left" in err


def test_a_quick_command_prints_no_progress_line(capsys: pytest.CaptureFixture[str]) -> None:
    with progress("audit replay", 10, io.StringIO()) as shown:
        shown.advance(10)
    assert capsys.readouterr().err == ""


def test_the_time_left_reads_in_seconds_minutes_or_hours() -> None:
    shown = Progress("diff", 100)
    shown.started -= 10
    shown.done = 50
    assert shown.status(shown.started + 10).endswith("5/s, about 10 s left")
    shown.done = 1
    assert "about 16 min left" in shown.status(shown.started + 10)
    shown.done = 1
    assert "about 2.8 h left" in shown.status(shown.started + 100)


def test_on_a_terminal_a_bar_shows_the_count_and_lines_print_above_it() -> None:
    terminal = Terminal()
    with progress("rules diff", 40, terminal) as shown:
        shown.advance(10)
        shown.echo("REF-1 (01ABC): differs in outcome")
        shown.advance(30)
    output = terminal.getvalue()
    assert "rules diff" in output and "REF-1 (01ABC): differs in outcome" in output
    assert "40/40" in output or "10/40" in output

"""Progress of long commands (verify, replay, rules diff): a bar on a terminal, periodic lines otherwise.

On a ledger of 10^6 transfers a replay takes minutes; a command that prints nothing for minutes looks
hung. On a terminal (standard error is a TTY) a ``rich`` progress bar shows how many are done of how
many, the rate and the time left; anywhere else (a pipeline, a CI log, a cron mail) a line every
``LINE_SECONDS`` says the same, and a command done sooner says nothing extra. Lines the command prints
meanwhile (differences, on standard error) go through :meth:`Progress.echo`, so they appear above the
bar instead of through it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

LINE_SECONDS = 10.0


class Progress:
    """Counts work done against a total (None: not known); shows it as a bar or as periodic lines."""

    def __init__(self, label: str, total: int | None, every: float | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.every = LINE_SECONDS if every is None else every
        self.started = time.monotonic()
        self._last_line = self.started
        self._bar: tuple[RichProgress, TaskID] | None = None

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self._bar is not None:
            bar, task = self._bar
            bar.update(task, advance=count, rate=f"{self.done / max(now - self.started, 1e-9):,.0f}/s")
        elif now - self._last_line >= self.every:
            self._last_line = now
            typer.echo(f"baygate: {self.label}: {self.status(now)}", err=True)

    def status(self, now: float | None = None) -> str:
        """For example ``120,000 of 1,000,000 (12 %), 850/s, about 17 min left``."""
        elapsed = max((now if now is not None else time.monotonic()) - self.started, 1e-9)
        rate = self.done / elapsed
        if not self.total:
            return f"{self.done:,} done, {rate:,.0f}/s"
        left = f", about {_duration((self.total - self.done) / rate)} left" if rate > 0 else ""
        return f"{self.done:,} of {self.total:,} ({100 * self.done / self.total:.0f} %), {rate:,.0f}/s{left}"

    def echo(self, line: str, err: bool = True) -> None:
        """Print a line of the command's own output without breaking the bar."""
        if self._bar is not None and err:
            self._bar[0].console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            typer.echo(line, err=err)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5_400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3_600:.1f} h"


@contextmanager
def progress(label: str, total: int | None, stream: TextIO | None = None) -> Iterator[Progress]:
    """A Progress for a block: a rich bar when ``stream`` (standard error) is a terminal, else lines."""
    stream = stream or sys.stderr
    tracker = Progress(label, total)
    if not stream.isatty():
        yield tracker
        return
    bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                       TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=Console(file=stream),
                       transient=True)
    with bar:
        tracker._bar = (bar, bar.add_task(label, total=total, rate=""))
        yield tracker

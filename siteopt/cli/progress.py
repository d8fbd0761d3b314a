"""Progress of long commands on stderr: a stage line per stage, a click progress bar per count.

:class:`StageProgress` is a :data:`siteopt.progress.ProgressCallback` that the long commands
(``appraise``, ``sweep``, ``national``) pass down to the library. It writes only to stderr, only
when stderr is a terminal and the command was not given ``--quiet``, so standard output keeps
results alone and logs, pipes and tests stay clean.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

import click

QUIET_HELP = "No progress on stderr (it is shown only on a terminal anyway)."


def quiet_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--quiet``: no progress (the command's ``quiet`` argument)."""
    return click.option("--quiet", is_flag=True, help=QUIET_HELP)(func)


def accepts_progress(func: Callable[..., Any]) -> bool:
    """Whether ``func`` takes a ``progress`` keyword argument (library functions gain it one by
    one; a command passes its callback to those that take it)."""
    try:
        return "progress" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


class StageProgress:
    """Show ``progress(stage, done, total)`` calls as ``command: stage`` lines and bars.

    A stage without a count is one line (``appraise: named options...``); a counted stage is a
    click progress bar labelled with the stage, showing ``done/total`` and an estimate of the
    time left (``appraise: Pareto frontier  [####    ]  12/26``), ended by a newline when the
    count is complete or another stage begins. Use it as a context manager so an open bar is
    ended, also when the command fails.

    Parameters
    ----------
    command : str
        The command's name, the prefix of every line.
    quiet : bool
        ``--quiet``: show nothing.
    file : text stream, optional
        Where to write (default ``sys.stderr``). Nothing is shown unless it is a terminal.
    """

    def __init__(self, command: str, *, quiet: bool = False, file: TextIO | None = None) -> None:
        self.command = command
        self.file: TextIO = file if file is not None else sys.stderr
        isatty = getattr(self.file, "isatty", None)
        self.enabled = not quiet and callable(isatty) and bool(isatty())
        self._bar: Any = None  # click's progress bar (its class is private to click)
        self._bar_stage: tuple[str, int] | None = None

    def __call__(self, stage: str, done: int | None = None, total: int | None = None) -> None:
        if not self.enabled:
            return
        if done is None or total is None:
            self._end_bar()
            click.echo(f"{self.command}: {stage}...", file=self.file)
            return
        if self._bar is None or self._bar_stage != (stage, total):
            self._end_bar()
            if total <= 0:
                click.echo(f"{self.command}: {stage}: none", file=self.file)
                return
            self._bar = click.progressbar(length=total, label=f"{self.command}: {stage}",
                                          file=self.file, show_pos=True, show_eta=True)
            self._bar.__enter__()
            self._bar_stage = (stage, total)
        bar = self._bar
        step = min(done, total) - bar.pos
        if step > 0:
            bar.update(step)
        if done >= total:
            self._end_bar()

    def _end_bar(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
        self._bar = None
        self._bar_stage = None

    def __enter__(self) -> StageProgress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._end_bar()

"""Progress of long work, reported through one callback that any stage may call.

A stage of work tells its caller what it is doing by calling a :data:`ProgressCallback`
``progress(stage, done, total)``:

* ``progress("named options", None, None)`` -- a stage begins that has no count;
* ``progress("Pareto frontier", 0, 26)``, then ``(..., 1, 26)`` ... ``(..., 26, 26)`` -- a
  counted stage: ``done`` of ``total`` items finished (a stage of 0 items reports ``(0, 0)``).

``stage`` is a short lower-case phrase in plain words (no command name: the caller adds that).
The library never prints: the command line (:mod:`siteopt.cli.progress`) draws the callback as
stage lines and progress bars on stderr, only on a terminal and unless ``--quiet``. Every
function that takes a callback takes ``None`` too, meaning nobody is listening.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from typing import TypeVar

T = TypeVar("T")

ProgressCallback = Callable[[str, int | None, int | None], None]
"""``progress(stage, done, total)``: ``done`` and ``total`` are both None for a stage without a
count, else ``0 <= done <= total`` items."""


def report(progress: ProgressCallback | None, stage: str, done: int | None = None,
           total: int | None = None) -> None:
    """Call ``progress(stage, done, total)`` if there is a callback.

    Parameters
    ----------
    progress : ProgressCallback or None
    stage : str
        What is being done, e.g. ``"enumerating 342,144 configurations"``.
    done, total : int or None
        Items finished and items in all, for a counted stage; both None otherwise.

    Raises
    ------
    ValueError
        If only one of ``done`` and ``total`` is given, or ``done`` is outside ``[0, total]``.
    """
    if (done is None) != (total is None):
        raise ValueError(f"progress of {stage!r}: give both done and total, or neither")
    if done is not None and total is not None and not 0 <= done <= total:
        raise ValueError(f"progress of {stage!r}: done {done} is outside 0..{total}")
    if progress is not None:
        progress(stage, done, total)


def counted(progress: ProgressCallback | None, stage: str, items: Iterable[T],
            total: int | None = None) -> Iterator[T]:
    """Yield ``items``, reporting ``(stage, k, total)`` before the first and after each one.

    Parameters
    ----------
    progress : ProgressCallback or None
    stage : str
    items : iterable
        Sized (a list, a dict), or give ``total``.
    total : int, optional
        How many ``items`` there are (default ``len(items)``).

    Yields
    ------
    Each item of ``items``, in order.

    Raises
    ------
    ValueError
        If ``items`` has no length and ``total`` is not given, or it yields more than ``total``.
    """
    if total is None:
        if not isinstance(items, Sized):
            raise ValueError(f"progress of {stage!r}: give the total of an unsized iterable")
        total = len(items)
    report(progress, stage, 0, total)
    for k, item in enumerate(items, start=1):
        yield item
        report(progress, stage, k, total)

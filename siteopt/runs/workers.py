"""Worker processes that each hold one prepared scenario, for the independent solves of an
appraisal and the print maps.

The appraisal's solves (the optimum, the next best options, the named options, the Pareto
points, the keep-a-site variants) and the print maps do not depend on one another once the
enumeration has said which configurations they are, so they can run side by side.
:class:`PreparedPool` sends the :class:`~siteopt.runs.pipeline.Prepared` scenario to each
worker once (a pickle of about half a megabyte) and then each task as a module-level function
and its plain arguments: ``fn(prepared, *args)``.

Results are the same as in one process: every task builds and solves the same model from the
same data (HiGHS is deterministic), and the caller reads the results in the order it asked
for them, not the order they finish. With ``workers <= 1`` every task runs at once in this
process, in the order submitted, which is how the tests and small machines use it.

Workers are started with "spawn", not fork: a forked child inherits HiGHS's thread pool in
whatever state the parent's solves left it and can hang (see :mod:`siteopt.parallel`).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import pickle
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from siteopt.runs.pipeline import Prepared

R = TypeVar("R")

_PREPARED: Prepared | None = None
"""The worker's copy of the prepared scenario (set by :func:`_start_worker`)."""


def _start_worker(blob: bytes) -> None:
    global _PREPARED
    _PREPARED = pickle.loads(blob)


def _ready() -> int:
    """A task that does nothing: sent once per worker so that the workers start (and import)
    while the caller is still busy."""
    return os.getpid()


def _run(fn: Callable[..., R], args: tuple[Any, ...]) -> R:
    if _PREPARED is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("worker started without a prepared scenario")
    return fn(_PREPARED, *args)


def default_workers() -> int:
    """Worker processes for a run: the cores this process may use, at most 2 (the appraisal
    has two long chains of work; a third process would only queue)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


class PreparedPool:
    """Run ``fn(prepared, *args)`` tasks on ``workers`` processes, or here if ``workers <= 1``.

    Use as a context manager; the workers start when it is entered and stop when it is left
    (unfinished tasks are cancelled).

    Parameters
    ----------
    prepared : Prepared
    workers : int
        Worker processes (1: none, every task runs in the caller's process when submitted).
    """

    def __init__(self, prepared: Prepared, workers: int = 1) -> None:
        self.prepared = prepared
        self.workers = max(1, int(workers))
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    @property
    def parallel(self) -> bool:
        """Whether tasks run in worker processes."""
        return self._pool is not None

    def __enter__(self) -> PreparedPool:
        if self.workers > 1:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker, initargs=(pickle.dumps(self.prepared),))
            for _ in range(self.workers):
                self._pool.submit(_ready)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def submit(self, fn: Callable[..., R], *args: Any) -> concurrent.futures.Future[R]:
        """``fn(prepared, *args)`` as a future. ``fn`` must be a module-level function and
        ``args`` picklable when the pool has workers."""
        if self._pool is not None:
            return self._pool.submit(_run, fn, args)
        future: concurrent.futures.Future[R] = concurrent.futures.Future()
        try:
            future.set_result(fn(self.prepared, *args))
        except Exception as err:  # delivered by future.result(), as from a worker
            future.set_exception(err)
        return future

"""Worker processes that each hold one prepared scenario, for the independent solves of an
appraisal and the print maps.

The appraisal's solves (the optimum, the next best options, the named options, the Pareto
points, the keep-a-site variants) and the print maps do not depend on one another once the
enumeration has said which configurations they are, so they can run side by side.
:class:`PreparedPool` sends the :class:`~siteopt.runs.pipeline.Prepared` scenario (a pickle of
about half a megabyte) with each task, a module-level function
and its plain arguments: ``fn(prepared, *args)`` (each worker unpickles it once).

Results are the same as in one process: every task builds and solves the same model from the
same data (HiGHS is deterministic), and the caller reads the results in the order it asked
for them, not the order they finish. With ``workers <= 1`` every task runs at once in this
process, in the order submitted, which is how the tests and small machines use it.

Workers are started with "spawn", not fork: a forked child inherits HiGHS's thread pool in
whatever state the parent's solves left it and can hang (see :mod:`siteopt.parallel`).
"""

from __future__ import annotations

import concurrent.futures
import importlib
import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

from siteopt.runs.pipeline import Prepared

R = TypeVar("R")

_PREPARED: tuple[bytes, Prepared] | None = None
"""The worker's copy of the prepared scenario, with the pickle it came from."""


def _ready(modules: tuple[str, ...]) -> int:
    """A task that only imports ``modules``: sent once per worker so that the workers start
    (and import the solver and plotting libraries) while the caller is still preparing."""
    for name in modules:
        importlib.import_module(name)
    return os.getpid()


def _run(blob: bytes, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
    global _PREPARED
    if _PREPARED is None or _PREPARED[0] != blob:
        _PREPARED = (blob, pickle.loads(blob))
    return fn(_PREPARED[1], *args)


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

    Use as a context manager; the workers start when it is entered (and import the libraries
    while the caller goes on) and stop when it is left (unfinished tasks are cancelled).
    :meth:`bind` gives the pool its prepared scenario, which goes with each task (a pickle of
    about half a megabyte; each worker unpickles it once).

    Parameters
    ----------
    prepared : Prepared, optional
        The scenario, if known when the pool is made (else :meth:`bind` it before submitting).
    workers : int
        Worker processes (1: none, every task runs in the caller's process when submitted).
    warm_modules : sequence of str
        Modules each worker imports as soon as it starts (the tasks' modules).
    """

    def __init__(self, prepared: Prepared | None = None, workers: int = 1,
                 warm_modules: Sequence[str] = ()) -> None:
        self.prepared = prepared
        self.workers = max(1, int(workers))
        self.warm_modules = tuple(warm_modules)
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._blob = b""

    @property
    def parallel(self) -> bool:
        """Whether tasks run in worker processes."""
        return self._pool is not None

    def bind(self, prepared: Prepared) -> PreparedPool:
        """Use ``prepared`` for the tasks submitted from now on."""
        self.prepared = prepared
        self._blob = pickle.dumps(prepared) if self._pool is not None else b""
        return self

    def __enter__(self) -> PreparedPool:
        if self.workers > 1:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
            for _ in range(self.workers):
                self._pool.submit(_ready, self.warm_modules)
        if self.prepared is not None:
            self.bind(self.prepared)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def submit(self, fn: Callable[..., R], *args: Any) -> concurrent.futures.Future[R]:
        """``fn(prepared, *args)`` as a future. ``fn`` must be a module-level function and
        ``args`` picklable when the pool has workers."""
        if self.prepared is None:
            raise RuntimeError("PreparedPool.submit before bind(prepared)")
        if self._pool is not None:
            return self._pool.submit(_run, self._blob, fn, args)
        future: concurrent.futures.Future[R] = concurrent.futures.Future()
        try:
            future.set_result(fn(self.prepared, *args))
        except Exception as err:  # delivered by future.result(), as from a worker
            future.set_exception(err)
        return future

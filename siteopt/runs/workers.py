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

Workers are never forked from the caller: a forked child inherits HiGHS's thread pool in
whatever state the parent's solves left it and can hang (see :mod:`siteopt.parallel`). They are
forked from a "forkserver" process instead, a fresh interpreter that has imported the tasks'
modules and solved nothing (so the imports are paid once, not once per worker), or spawned
where the platform has no forkserver.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from siteopt.runs.pipeline import Prepared
from siteopt.runs.solve_cache import SUBFOLDER, SolveCache

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


def _context(warm_modules: Sequence[str]) -> multiprocessing.context.BaseContext:
    """"forkserver" where the platform has it (the server process imports ``warm_modules``
    once, clean, then forks each worker from itself), else "spawn"."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(warm_modules))
        return context
    return multiprocessing.get_context("spawn")


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
    cache_dir : Path, optional
        The cache folder: :meth:`submit_cached` keeps results in its ``solves/``
        (:class:`siteopt.runs.solve_cache.SolveCache`). None: nothing is cached.
    """

    def __init__(self, prepared: Prepared | None = None, workers: int = 1,
                 warm_modules: Sequence[str] = (), cache_dir: Path | None = None) -> None:
        self.prepared = prepared
        self.workers = max(1, int(workers))
        self.warm_modules = tuple(warm_modules)
        self.cache_dir = cache_dir
        self.cache: SolveCache | None = None
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
        if self.cache_dir is not None:
            self.cache = SolveCache(self.cache_dir / SUBFOLDER, prepared.inputs_sha256)
        return self

    def __enter__(self) -> PreparedPool:
        if self.workers > 1:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers, mp_context=_context(self.warm_modules))
            # starting a worker waits for the forkserver's imports: do it beside this thread
            pool = self._pool
            warm = self.warm_modules
            threading.Thread(target=lambda: [pool.submit(_ready, warm)
                                             for _ in range(self.workers)],
                             name="siteopt-workers-start", daemon=True).start()
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
        if self._pool is not None:
            if self.prepared is None:
                raise RuntimeError("PreparedPool.submit before bind(prepared)")
            return self._pool.submit(_run, self._blob, fn, args)
        return self._here(fn, *args)

    def _here(self, fn: Callable[..., R], *args: Any) -> concurrent.futures.Future[R]:
        """``fn(prepared, *args)`` run in this process, as a completed future."""
        if self.prepared is None:
            raise RuntimeError("PreparedPool.submit before bind(prepared)")
        future: concurrent.futures.Future[R] = concurrent.futures.Future()
        try:
            future.set_result(fn(self.prepared, *args))
        except Exception as err:  # delivered by future.result(), as from a worker
            future.set_exception(err)
        return future

    def submit_cached(self, fn: Callable[..., R], *args: Any) -> concurrent.futures.Future[R]:
        """:meth:`submit`, or the result kept from an earlier run of the same task on the same
        inputs with the same code (:class:`siteopt.runs.solve_cache.SolveCache`); a new
        result is kept once it arrives."""
        return self._cached(self.submit, fn, args)

    def call_cached(self, fn: Callable[..., R], *args: Any) -> R:
        """``fn(prepared, *args)`` here, or its kept result (as :meth:`submit_cached`)."""
        result: R = self._cached(self._here, fn, args).result()
        return result

    def _cached(self, start: Callable[..., concurrent.futures.Future[R]],
                fn: Callable[..., R], args: tuple[Any, ...]) -> concurrent.futures.Future[R]:
        """The kept result of ``fn(prepared, *args)`` as a completed future, else ``start``'s
        future of it, kept once it arrives without an error."""
        if self.cache is None:
            return start(fn, *args)
        cache = self.cache
        key = cache.key(fn, args)
        hit, value = cache.get(key)
        if hit:
            future: concurrent.futures.Future[R] = concurrent.futures.Future()
            future.set_result(value)
            return future
        future = start(fn, *args)

        def keep(done: concurrent.futures.Future[R]) -> None:
            if not done.cancelled() and done.exception() is None:
                cache.put(key, done.result())

        future.add_done_callback(keep)
        return future

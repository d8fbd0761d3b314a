"""Run independent tasks serially, on a local process pool, or on a Dask distributed scheduler.

One executor for every parallel path (the what-if sweep, the national decomposition by region),
so the choice of ``workers`` / ``scheduler`` means the same everywhere. Functions and items must
be picklable (module-level functions, plain data).

:class:`Executor` keeps its workers between calls (a sweep's two phases share one process pool
or Dask client, so each worker loads the shared inputs once). Items go to the workers in
batches of decreasing size (:func:`batches`: about 1/:data:`GUIDED_SHARE` of what is left per
worker, down to single items at the end), so that a long run of small tasks pays the scheduling
cost per batch while the last tasks still spread over every worker.
"""

from __future__ import annotations

import concurrent.futures
import math
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

GUIDED_SHARE = 8
"""Guided batching: each batch holds about 1/(GUIDED_SHARE x workers) of the items left (a
200-run sweep on 2 workers: batches of 13, 12, 11, ... 1 runs, 49 in all)."""


def batches(n_items: int, workers: int) -> list[range]:
    """Positions ``0..n_items-1`` cut into guided batches for ``workers`` workers (at least
    one)."""
    out, start = [], 0
    while start < n_items:
        size = max(1, math.ceil((n_items - start) / (GUIDED_SHARE * max(1, workers))))
        out.append(range(start, min(n_items, start + size)))
        start += size
    return out


class _Batch(Generic[T, R]):
    """``fn`` over a batch of items, in order (a picklable callable)."""

    def __init__(self, fn: Callable[[T], R]) -> None:
        self.fn = fn

    def __call__(self, items: Sequence[T]) -> list[R]:
        return [self.fn(item) for item in items]


class Executor:
    """Serial, a local process pool of ``workers`` (spawn-started), or a Dask ``scheduler``
    (``tcp://host:8786``, which overrides ``workers``); use it as a context manager and call
    :meth:`run_all` as often as needed."""

    def __init__(self, workers: int = 1, scheduler: str | None = None) -> None:
        self.workers = workers
        self.scheduler = scheduler
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._client: Any = None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop the process pool / close the Dask client (if one was started)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def run_all(self, fn: Callable[[T], R], items: Sequence[T],
                on_result: Callable[[R], None] | None = None) -> list[R]:
        """Apply ``fn`` to every item; results in completion order (in item order serially).

        ``on_result`` is called with each result as it arrives (progress, journals); in
        parallel, the results of one batch arrive together, in the batch's order.
        """
        results: list[R] = []
        for result in self._results(fn, list(items)):
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results

    def _results(self, fn: Callable[[T], R], items: list[T]) -> Iterator[R]:
        if self.scheduler is None and self.workers <= 1:
            for item in items:
                yield fn(item)
            return
        n_workers = self._n_workers()
        chunks = [[items[i] for i in part] for part in batches(len(items), n_workers)]
        task = _Batch(fn)
        if self.scheduler is not None:
            from distributed import as_completed

            client = self._dask()
            # scattered first, so that large items (a sweep's scoring contexts) travel as
            # data to the workers rather than inside the task graph
            futures = client.map(task, client.scatter(chunks, hash=False), pure=False)
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                yield from future.result()
            return
        pool = self._processes()
        for future in concurrent.futures.as_completed([pool.submit(task, c) for c in chunks]):
            yield from future.result()

    def _n_workers(self) -> int:
        if self.scheduler is None:
            return self.workers
        client = self._dask()
        client.wait_for_workers(1)
        info = client.scheduler_info()
        return max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))

    def _dask(self) -> Any:
        if self._client is None:
            from distributed import Client

            self._client = Client(self.scheduler)  # type: ignore[no-untyped-call]
        return self._client

    def _processes(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # "spawn", not fork: a forked child inherits HiGHS's thread pool in whatever state
            # the parent's solves left it and can hang; spawned workers start clean.
            context = multiprocessing.get_context("spawn")
            self._pool = concurrent.futures.ProcessPoolExecutor(max_workers=self.workers,
                                                                mp_context=context)
        return self._pool


def run_all(fn: Callable[[T], R], items: Sequence[T], *, workers: int = 1,
            scheduler: str | None = None,
            on_result: Callable[[R], None] | None = None) -> list[R]:
    """Apply ``fn`` to every item on a fresh :class:`Executor`; results in completion order.

    Parameters
    ----------
    fn, items
    workers : int
        1: in this process, in order; more: a local process pool of this size.
    scheduler : str or None
        A Dask scheduler address (``tcp://host:8786``); overrides ``workers``.
    on_result : callable, optional
        Called with each result as it arrives (progress, journals).
    """
    with Executor(workers, scheduler) as executor:
        return executor.run_all(fn, items, on_result=on_result)

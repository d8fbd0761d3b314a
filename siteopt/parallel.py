"""Run independent tasks serially, on a local process pool, or on a Dask distributed scheduler.

One executor for every parallel path (the what-if sweep, the national decomposition by region),
so the choice of ``workers`` / ``scheduler`` means the same everywhere. Functions and items must
be picklable (module-level functions, plain data).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_all(fn: Callable[[T], R], items: Sequence[T], *, workers: int = 1,
            scheduler: str | None = None,
            on_result: Callable[[R], None] | None = None) -> list[R]:
    """Apply ``fn`` to every item; results in completion order.

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
    results: list[R] = []

    def done(result: R) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    if scheduler is not None:
        from distributed import Client, as_completed

        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            futures = client.map(fn, list(items), pure=False)
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                done(future.result())
    elif workers <= 1:
        for item in items:
            done(fn(item))
    else:
        # "spawn", not fork: a forked child inherits HiGHS's thread pool in whatever state the
        # parent's solves left it and can hang; spawned workers start clean.
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers,
                                                    mp_context=context) as pool:
            for future in concurrent.futures.as_completed([pool.submit(fn, i) for i in items]):
                done(future.result())
    return results

"""What the two model stacks share: status words, the optimal-gap and tie tolerances, reading a
HiGHS model status, the k-nearest mask and the pounds-per-million unit.

The ward model (:mod:`siteopt.wards.model`, :mod:`siteopt.wards.solve`, PuLP with HiGHS or CBC)
and the national throughput model (:mod:`siteopt.national.model`,
:mod:`siteopt.national.solve`, highspy directly) import these from here, so neither imports the
other. This module imports no solver: a HiGHS model status is read by its enum member's name,
and HiGHS's banner is silenced through a constructor the caller passes
(:func:`quiet_highs_banner`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
import threading
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

STATUS_OPTIMAL = "optimal"
"""The solver proved optimality within :data:`OPTIMAL_GAP_TOL`."""
STATUS_FEASIBLE = "feasible"
"""The solver stopped with a solution whose gap is larger (or unknown)."""
STATUS_INFEASIBLE = "infeasible"
"""The solver proved that no solution exists."""
STATUS_NO_SOLUTION = "no solution"
"""The solver stopped (e.g. at its time limit) with no solution and no proof."""
STATUS_HEURISTIC = "heuristic"
"""Found by a heuristic, so nothing is proven."""

OPTIMAL_GAP_TOL = 1e-4
"""A solution is reported as optimal only if its relative gap is at most this (the default
relative gap of HiGHS and CBC); a looser gap gives "feasible (gap x%)"."""

TIE_GAP_REL = 1e-7
r"""Tie-break tolerance of :func:`siteopt.wards.solve.optimise`: after a proven-optimal solve of
objective :math:`z^*`, every solution with objective at most :math:`z^* + 10^{-7}
\max(|z^*|, 1)` counts as equally good (the size of HiGHS's and CBC's primal feasibility
tolerance, 1e-7, so only solutions the solver cannot tell apart tie, e.g. configurations with
the same assignment and more beds than it needs); among them the cheapest is chosen, then the
one with the fewest ward changes from today. The scenario's ``solver.tie_gap_rel`` overrides
it; ``solver.break_ties = false`` switches the tie-break off."""

GBP_PER_M = 1e6
"""Pounds in a million pounds (costs are shown, and weighted, in £m)."""

HIGHS_INFEASIBLE_NAMES = ("kInfeasible", "kUnboundedOrInfeasible")
"""HiGHS model statuses that mean infeasible (a MILP has a bounded objective)."""


def status_from_gap(gap_rel: float) -> str:
    """``optimal`` if a relative gap of ``gap_rel`` is within :data:`OPTIMAL_GAP_TOL`, else
    ``feasible``."""
    return STATUS_OPTIMAL if gap_rel <= OPTIMAL_GAP_TOL else STATUS_FEASIBLE


def status_text(status: str, gap_rel: float | None) -> str:
    """A status word as reports spell it: ``feasible (gap x%)`` for a feasible solution (the gap
    ``unknown`` if there is none), otherwise the word itself.

    Parameters
    ----------
    status : str
        One of the ``STATUS_*`` words.
    gap_rel : float or None
        Relative gap of the solution (0.01 is 1%).

    Returns
    -------
    str
    """
    if status == STATUS_FEASIBLE:
        gap = "unknown" if gap_rel is None else f"{100 * gap_rel:.2f}%"
        return f"feasible (gap {gap})"
    return status


def highs_status_name(model_status: object) -> str:
    """The name of a ``highspy.HighsModelStatus`` member, e.g. ``"kOptimal"``."""
    name = getattr(model_status, "name", None)
    if isinstance(name, str):
        return name
    return str(model_status).rsplit(".", 1)[-1]


def highs_status_word(model_status: object, has_solution: bool) -> str:
    """Read a HiGHS model status into a status word.

    Parameters
    ----------
    model_status : highspy.HighsModelStatus
        ``Highs.getModelStatus()``.
    has_solution : bool
        HiGHS holds a feasible primal solution (``primal_solution_status`` is feasible).

    Returns
    -------
    str
        :data:`STATUS_OPTIMAL` if HiGHS says optimal (the caller still checks the gap with
        :func:`status_from_gap`); :data:`STATUS_INFEASIBLE` if it proved infeasibility;
        :data:`STATUS_FEASIBLE` if it stopped otherwise with a solution; else
        :data:`STATUS_NO_SOLUTION`.
    """
    name = highs_status_name(model_status)
    if name == "kOptimal":
        return STATUS_OPTIMAL
    if name in HIGHS_INFEASIBLE_NAMES:
        return STATUS_INFEASIBLE
    return STATUS_FEASIBLE if has_solution else STATUS_NO_SOLUTION


HIGHS_BANNER_STARTS = ("Running HiGHS ", "Includes third-party software components")
"""How the lines of HiGHS's copyright banner begin (HiGHS 1.16: "Running HiGHS 1.16.0 (git
hash: ...): Copyright (c) 2026 under MIT licence terms" and "Includes third-party software
components, see THIRD_PARTY_NOTICES.md for full details")."""

_banner_lock = threading.Lock()
_banner_done = False


def quiet_highs_banner(make_highs: Callable[[], object]) -> None:
    """Stop HiGHS's copyright banner at its source, for the rest of this process.

    HiGHS writes its banner to the process's standard output (file descriptor 1, from C++) the
    first time a ``Highs`` object in the process is given a callback, which highspy's
    ``Highs()`` constructor does before any option (``output_flag``, ``log_to_console``) can be
    set; it then remembers, process-wide, that the banner was written and never writes it again.
    This function makes that first construction, once per process, with file descriptor 1
    pointed at a temporary file: the banner goes nowhere, and every later ``Highs()`` (PuLP
    makes one per solve) prints none. Nothing else is hidden: any captured line that is not a
    banner line (:data:`HIGHS_BANNER_STARTS`) is copied to stderr, and an exception from
    ``make_highs`` propagates. Solver logs asked for with ``msg``/``output_flag`` still print.

    Call it just before constructing HiGHS (cheap after the first call). Each process calls it
    for itself: a spawned worker starts with HiGHS not yet constructed.

    Parameters
    ----------
    make_highs : callable
        Constructs a HiGHS object, e.g. ``highspy.Highs`` (passed in so that this module
        imports no solver).
    """
    global _banner_done
    if _banner_done:
        return
    with _banner_lock:
        if _banner_done:
            return
        captured = _run_with_stdout_captured(make_highs)
        _banner_done = True
    other = [line for line in captured.splitlines()
             if line.strip() and not line.startswith(HIGHS_BANNER_STARTS)]
    if other:
        sys.stderr.write("\n".join(other) + "\n")
        sys.stderr.flush()


def _flush_c_stdio() -> None:
    """Flush C's stdio buffers (HiGHS may print with printf), where libc can be loaded."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).fflush(None)


def _run_with_stdout_captured(func: Callable[[], object]) -> str:
    """Call ``func`` with file descriptor 1 pointed at a temporary file; what it wrote there.

    Without a real file descriptor 1 (some embedding hosts), ``func`` runs as it is.
    """
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        func()
        return ""
    with tempfile.TemporaryFile() as tmp:
        try:
            _flush_c_stdio()
            os.dup2(tmp.fileno(), 1)
            func()
        finally:
            _flush_c_stdio()
            os.dup2(saved, 1)
            os.close(saved)
        tmp.seek(0)
        return tmp.read().decode("utf-8", errors="replace")


def nearest_mask(allowed: BoolArray, travel_min: FloatArray, k: int | None) -> BoolArray:
    """Each zone's ``k`` nearest allowed sites (ties by site order); all if ``k`` is None.

    Parameters
    ----------
    allowed : ndarray of bool, shape (n_zones, n_sites)
        Pairs that may be used.
    travel_min : ndarray, shape (n_zones, n_sites)
        Drive minutes.
    k : int or None

    Returns
    -------
    ndarray of bool, shape (n_zones, n_sites)
        A new array, a subset of ``allowed``.
    """
    if k is None or k >= allowed.shape[1]:
        return allowed.copy()
    masked = np.where(allowed, travel_min, np.inf)
    order = np.argsort(masked, axis=1, kind="stable")[:, :k]
    keep = np.zeros_like(allowed)
    np.put_along_axis(keep, order, True, axis=1)
    return keep & allowed

r"""Fast, exact verdicts on fixed configurations: what :func:`siteopt.wards.solve.evaluate` would
say, without building its MILP.

A sweep scores every named option and candidate configuration in every run (its regret). The
exact path, :func:`~siteopt.wards.solve.evaluate`, builds the whole site-configuration MILP in
PuLP with every option fixed and hands it to HiGHS: about 0.4 s a configuration on LLR, for a
transportation LP per service that HiGHS solves in milliseconds. Here that LP is built directly
from the instance's arrays, and the answer is used only where it is **certain** to be the exact
path's; everywhere else the verdict is "undecided" and the caller runs the exact path.

What the exact path decides
    With every option fixed, the model is, per service :math:`v`, the least-travel assignment
    :math:`\min \sum c_{zs} x_{zs}` with :math:`c_{zs} = \beta_v w_z t_{zs} / W`, rows (3)
    :math:`\sum_s x_{zs} = 1` for the active zones, (4) :math:`\sum_z d_{zv} x_{zs} \le u_{sv}`,
    :math:`0 \le x \le 1`, on the allowed pairs whose site has usable beds of :math:`v` (tight
    linking (5) forces the others to 0). It raises (infeasible, or fewer beds than the need)
    or returns a solution whose violations are :func:`~siteopt.wards.verify.check_solution`
    of the scenario's settings.

When this module is certain (and what it says)
    - **fails** (the exact path raises or lists a violation), proven: a site left without an
      option, a :func:`~siteopt.wards.instance.presolve_problems` problem (the exact path
      raises it), a breach of a limit on the configuration itself
      (:func:`~siteopt.wards.verify.check_limits_only`: capital, staff, sites, locks, cost; the
      exact path lists it whatever the assignment), an active zone with no open allowed
      site, usable beds short of the need by more than the solvers' tolerances (no assignment
      can hold it), or a breach that :func:`~siteopt.wards.verify.check_solution` finds even
      with a looser tolerance at the unique optimum (below);
    - **passes**: the LP's optimum is unique with a margin (every nonbasic column's reduced
      cost and every binding capacity row's dual at least :data:`RC_SAFETY` times HiGHS's dual
      feasibility tolerance from 0, so that a solver stopping within its tolerances finds this
      vertex and no other), and :func:`~siteopt.wards.verify.check_solution` finds nothing
      even with a tighter tolerance (by :data:`TOL_MARGIN`), so the exact path's solution,
      the same vertex up to floating-point rounding, passes too. The margin is an engineering
      certificate, not a proof about HiGHS's path: ``tests/test_score.py`` checks it against
      the exact path on hand-made worlds and on LLR under many scenarios (the largest
      difference in any assignment share between the two, with no margin at all, was 2.5e-13).

    Anything else (a degenerate optimum, a measure within :data:`TOL_MARGIN` of a limit,
    another solver, HiGHS options, a time limit, loose linking, an LP that HiGHS does not
    solve to optimality) is undecided. When every zone's nearest open site holds its need,
    that assignment is the optimum and no LP is solved.

:func:`fast_score` turns a verdict into the sweep's score where it is exact: ``inf`` for a
failure, and the annual cost (the same :func:`~siteopt.wards.results.totals` sum the exact path
computes) for a pass under the ``cost`` objective. Under ``access`` and ``weighted`` the score
is the mean drive of the exact path's own assignment, to the last bit, so a pass there is left
to the exact path.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from siteopt.solver_core import quiet_highs_banner
from siteopt.wards.instance import (
    FloatArray,
    Instance,
    ModelSettings,
    active_zones,
    allowed_pairs,
    presolve_problems,
    service_shares,
)
from siteopt.wards.results import totals
from siteopt.wards.solve import SolverOptions
from siteopt.wards.verify import DEFAULT_TOL, check_limits_only, check_solution

RC_SAFETY = 10.0
"""A nonbasic reduced cost (or binding row's dual) must be this many times HiGHS's dual
feasibility tolerance away from 0 for the optimum to count as unique: a numerical safety factor
of the certificate, not a planning assumption."""
TOL_MARGIN = 0.1 * DEFAULT_TOL
"""How far the checks' tolerance is tightened (for "passes") or loosened (for "fails") around
the exact path's :data:`~siteopt.wards.verify.DEFAULT_TOL`; it covers the floating-point
difference between two solvers' copies of the same vertex (observed: below 1e-12)."""
BEDS_MARGIN_REL = 1e-6
"""Usable beds this close to the need (relatively) leave feasibility to the exact path."""


@dataclass(frozen=True)
class Verdict:
    """What :func:`~siteopt.wards.solve.evaluate` would say about a configuration.

    Attributes
    ----------
    passes : bool or None
        True: it returns a solution with no violation; False: it raises or lists a violation;
        None: not certain (run the exact path).
    reason : str
        Why, in words (for tests and profiling).
    """

    passes: bool | None
    reason: str


@dataclass(frozen=True)
class ServiceLP:
    """One service's optimal assignment (positions and shares), or why there is none."""

    zone_idx: npt.NDArray[np.int64]
    site_idx: npt.NDArray[np.int64]
    share: FloatArray
    failed: bool = False
    reason: str = ""


@functools.lru_cache(maxsize=1)
def highs_dual_tolerance() -> float:
    """HiGHS's default ``dual_feasibility_tolerance`` (the exact path leaves it unchanged)."""
    quiet_highs_banner(highspy.Highs)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    return float(h.getOptionValue("dual_feasibility_tolerance")[1])


def not_applicable(settings: ModelSettings, options: SolverOptions) -> str:
    """Why the fast path does not apply to these settings and solver options ("" if it does)."""
    if options.solver != "highs":
        return f"solver {options.solver}"
    if options.highs_options:
        return "HiGHS options given"
    if options.time_limit_s is not None:
        return "a solver time limit"
    if not settings.tight_linking:
        return "loose linking"
    return ""


def verdict(instance: Instance, choice: Mapping[str, str], settings: ModelSettings,
            options: SolverOptions) -> Verdict:
    """What :func:`~siteopt.wards.solve.evaluate` would say about ``choice`` (see the module
    docstring); never raises (an unexpected case is undecided, for the exact path to handle)."""
    why = not_applicable(settings, options)
    if why:
        return Verdict(None, why)
    if set(instance.site_ids) - set(choice):
        return Verdict(False, "a site has no option")
    fixed = ModelSettings(objective="access", fixed_options=dict(choice), k_nearest=None,
                          tight_linking=settings.tight_linking)
    try:
        fixed.check(instance)
        usable = np.array([[float(site.option(choice[site.site_id]).usable_beds.get(v, 0.0))
                            for v in instance.services] for site in instance.sites])
    except Exception as err:  # the exact path raises it (or its own) again
        return Verdict(None, f"settings check: {type(err).__name__}")
    if presolve_problems(instance, fixed):
        return Verdict(False, "presolve: the need cannot be met")
    limits = check_limits_only(instance, settings, choice)
    if limits:  # the exact path lists these whatever the assignment (or raises)
        return Verdict(False, f"breaks: {limits[0]}")
    w_total = float(instance.zones.weight.sum())
    if w_total <= 0:
        return Verdict(None, "zone weights sum to 0")
    parts = []
    for v in range(len(instance.services)):
        part = service_assignment(instance, fixed, usable[:, v], v, w_total)
        if part.failed:
            return Verdict(False, part.reason)
        if part.reason:
            return Verdict(None, part.reason)
        parts.append(part)
    return checked(instance, settings, choice, parts)


def checked(instance: Instance, settings: ModelSettings, choice: Mapping[str, str],
            parts: list[ServiceLP]) -> Verdict:
    """The verdict of :func:`~siteopt.wards.verify.check_solution` on the unique optimum
    ``parts`` (one per service): certain only if a tighter and a looser tolerance agree."""
    keep = [p.share > 0 for p in parts]
    zone = np.concatenate([p.zone_idx[k] for p, k in zip(parts, keep, strict=True)])
    site = np.concatenate([p.site_idx[k] for p, k in zip(parts, keep, strict=True)])
    serv = np.concatenate([np.full(int(k.sum()), v, dtype=np.int64)
                           for v, k in enumerate(keep)])
    share = np.concatenate([np.minimum(p.share[k], 1.0) for p, k in zip(parts, keep,
                                                                        strict=True)])
    strict = check_solution(instance, settings, choice, zone, site, serv, share,
                            tol=DEFAULT_TOL - TOL_MARGIN)
    if not strict:
        return Verdict(True, "unique optimum passes every check")
    loose = check_solution(instance, settings, choice, zone, site, serv, share,
                           tol=DEFAULT_TOL + TOL_MARGIN)
    if loose:
        return Verdict(False, f"breaks: {loose[0]}")
    return Verdict(None, f"within the tolerance margin: {strict[0]}")


def service_assignment(instance: Instance, fixed: ModelSettings, usable: FloatArray, v: int,
                       w_total: float) -> ServiceLP:
    """Service ``v``'s unique least-travel assignment under the usable beds ``usable`` (per
    site); ``failed`` if none can exist, a ``reason`` if it is not certainly unique."""
    empty = np.zeros(0, dtype=np.int64)
    active = active_zones(instance)[:, v]
    pairs = allowed_pairs(instance, fixed, instance.services[v]) & (usable > 0)[None, :]
    pairs &= active[:, None]
    if (active & ~pairs.any(axis=1)).any():
        return ServiceLP(empty, empty, np.zeros(0), failed=True,
                         reason=f"{instance.services[v]}: a zone has no open site")
    demand = instance.zones.demand_beds[:, v]
    need = float(demand[active].sum())
    beds = float(usable[pairs.any(axis=0)].sum())
    if beds < need - BEDS_MARGIN_REL * max(1.0, need):
        return ServiceLP(empty, empty, np.zeros(0), failed=True,
                         reason=f"{instance.services[v]}: {beds:.3f} usable beds for "
                                f"{need:.3f} needed")
    if beds <= need + BEDS_MARGIN_REL * max(1.0, need):
        return ServiceLP(empty, empty, np.zeros(0), reason="beds within the margin of the need")
    cost = np.where(pairs, service_shares(instance)[v] * instance.zones.weight[:, None]
                    * np.where(pairs, instance.travel_min, 0.0) / w_total, 0.0)
    rc_min = RC_SAFETY * highs_dual_tolerance()
    nearest = nearest_assignment(pairs, cost, demand, usable, active, rc_min)
    if nearest is not None:
        return nearest
    return lp_assignment(pairs, cost, demand, usable, rc_min)


def nearest_assignment(pairs: npt.NDArray[np.bool_], cost: FloatArray, demand: FloatArray,
                       usable: FloatArray, active: npt.NDArray[np.bool_],
                       rc_min: float) -> ServiceLP | None:
    """Every active zone at its cheapest pair, if that holds every site's capacity and each
    zone's cheapest pair beats its next by at least ``rc_min`` (then it is the unique optimum:
    any other assignment moves some share to a pair dearer by ``rc_min`` or more); else None."""
    masked = np.where(pairs, cost, np.inf)[active]
    best = np.argmin(masked, axis=1)
    if masked.shape[1] > 1:
        two = np.partition(masked, 1, axis=1)[:, :2]
        if not np.all(two[:, 1] - two[:, 0] >= rc_min):
            return None
    load = np.bincount(best, weights=demand[active], minlength=len(usable))
    if np.any(load > usable):
        return None
    zones = np.flatnonzero(active).astype(np.int64)
    return ServiceLP(zones, best.astype(np.int64), np.ones(len(zones)))


def lp_assignment(pairs: npt.NDArray[np.bool_], cost: FloatArray, demand: FloatArray,
                  usable: FloatArray, rc_min: float) -> ServiceLP:
    """The transportation LP solved with HiGHS directly; a ``reason`` unless its optimum is
    certainly unique (every nonbasic column's reduced cost and every binding capacity row's
    dual at least ``rc_min`` from 0)."""
    empty = np.zeros(0, dtype=np.int64)
    zi, si = np.nonzero(pairs)  # by zone, then site (the exact path's order)
    n = len(zi)
    zone_rows = np.unique(zi)
    row_of_zone = np.full(pairs.shape[0], -1)
    row_of_zone[zone_rows] = np.arange(len(zone_rows))
    cap_sites = np.unique(si[demand[zi] > 0])
    row_of_site = np.full(pairs.shape[1], -1)
    row_of_site[cap_sites] = len(zone_rows) + np.arange(len(cap_sites))
    loaded = demand[zi] > 0
    cols = np.concatenate([np.arange(n), np.flatnonzero(loaded)])
    rows = np.concatenate([row_of_zone[zi], row_of_site[si[loaded]]])
    vals = np.concatenate([np.ones(n), demand[zi[loaded]]])
    matrix = sp.csc_matrix((vals, (rows, cols)), shape=(len(zone_rows) + len(cap_sites), n))
    h = solved_lp(cost[zi, si], matrix, len(zone_rows), usable[cap_sites])
    if h is None:
        return ServiceLP(empty, empty, np.zeros(0), reason="HiGHS did not solve the LP")
    sol, basis = h.getSolution(), h.getBasis()
    basic = highspy.HighsBasisStatus.kBasic
    col_nonbasic = np.array([s != basic for s in basis.col_status], dtype=bool)
    row_nonbasic = np.array([s != basic for s in basis.row_status], dtype=bool)
    col_dual = np.abs(np.asarray(sol.col_dual))
    cap_dual = np.abs(np.asarray(sol.row_dual))[len(zone_rows):]
    if np.any(col_dual[col_nonbasic] < rc_min) or np.any(
            cap_dual[row_nonbasic[len(zone_rows):]] < rc_min):
        return ServiceLP(empty, empty, np.zeros(0), reason="the optimum may not be unique")
    x = np.asarray(sol.col_value, dtype=np.float64)
    return ServiceLP(zi.astype(np.int64), si.astype(np.int64), x)


def solved_lp(cost: FloatArray, matrix: sp.csc_matrix, n_equal: int,
              capacity: FloatArray) -> highspy.Highs | None:
    """HiGHS on min ``cost @ x``, the first ``n_equal`` rows of ``matrix`` = 1, the rest <=
    ``capacity``, 0 <= x <= 1; the solved model, or None unless optimal with a valid basis."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.zeros(lp.num_col_)
    lp.col_upper_ = np.ones(lp.num_col_)
    lp.row_lower_ = np.concatenate([np.ones(n_equal), np.full(len(capacity), -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([np.ones(n_equal), np.asarray(capacity, dtype=np.float64)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    quiet_highs_banner(highspy.Highs)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or not h.getBasis().valid:
        return None
    return h


def fast_score(instance: Instance, choice: Mapping[str, str], settings: ModelSettings,
               options: SolverOptions) -> float | None:
    """The sweep's score of ``choice`` where it is certain: ``inf`` if the exact path raises
    or lists a violation, the annual cost if it passes under the ``cost`` objective; None to
    run the exact path."""
    result = verdict(instance, choice, settings, options)
    if result.passes is None:
        return None
    if not result.passes:
        return math.inf
    if settings.objective != "cost":
        return None
    return float(totals(instance, choice)["cost_gbp_per_year"])


"""Solve the throughput model honestly at national scale, and the heuristics it is compared with.

:func:`optimise` runs, and times, these steps:

1. **Column generation on the LP relaxation.** The model starts from each zone's ``k_nearest``
   sites. After each LP solve, every omitted pair of the full problem (all pairs within the
   maximum drive) is priced with the duals (:func:`siteopt.national.model.reduced_costs`);
   pairs with a negative reduced cost are added and the LP solved again. Each round gives a
   **lower bound valid for the full problem**: the LP value plus the sum of the negative reduced
   costs of the omitted pairs (Lagrangian bound; each share is at most 1). When no pair prices
   out, the bound is the full problem's LP bound exactly.
2. **Warm start**: open sites passed to HiGHS as a partial MIP start: the better (by
   nearest-site drive) of greedy drop from every site and greedy drop from the LP relaxation's
   rounded open sites, or a given plan (e.g. the decomposition by region).
3. **MILP** on the final column set, with the remaining time.
4. **Polish**: with the MILP's open sites fixed, the assignment LP is solved again over every
   allowed pair (column generation), which can only lower the value.

The gap reported is (value - lower bound) / value with the lower bound of step 1, which is valid
for the full problem; HiGHS's own gap (on the restricted column set) is reported beside it but
never used for the status. "optimal" means a gap of at most 0.01% against that bound.

The heuristics (:func:`keep_current`, :func:`greedy_drop`) use nearest-site assignment, as
published configuration studies do; :func:`assign_fixed` evaluates any set of open sites under
the throughput limits exactly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import highspy
import numpy as np

from siteopt.errors import InfeasibleError, SolverError
from siteopt.national.model import (
    BoolArray,
    FloatArray,
    IntArray,
    Pairs,
    ThroughputLP,
    ThroughputSettings,
    allowed_pairs,
    build_lp,
    pairs_from_mask,
    reduced_costs,
    site_open_ok,
    to_highs,
)
from siteopt.solver_core import (
    STATUS_HEURISTIC,
    highs_status_name,
    nearest_mask,
    quiet_highs_banner,
    status_from_gap,
    status_text,
)

PRICE_TOL = 1e-7
"""A pair prices out if its reduced cost (demand-minutes) is below minus this."""


@dataclass(frozen=True)
class ThroughputOptions:
    """How to solve.

    Parameters
    ----------
    time_limit_s : float
        Budget for the whole :func:`optimise` call (column generation, warm start, MILP,
        polish); the MILP gets what is left.
    gap_rel : float
        Stop the MILP once its solution is within this relative gap of the lower bound that is
        valid for the full problem (HiGHS's ``objective_target``), or HiGHS's own gap on its
        column set is this small.
    threads : int or None
    msg : bool
        Show HiGHS's log.
    max_pricing_rounds : int
        Column-generation rounds before the MILP (the bound stays valid if they run out).
    warm_start : bool
        Start the MILP from the greedy-drop solution.
    lp_solver : str
        HiGHS ``solver`` option for the LP relaxations (``ipm``, ``simplex``, ``choose``).
    mip_lp_solver : str
        HiGHS ``mip_lp_solver`` option (the MILP's LP solver: ``choose``, ``simplex``, ``ipm``).
    full_model_max_pairs : int
        If the full problem has at most this many pairs, the MILP is built on all of them, so
        HiGHS's own bound is valid for the full problem too (regions; not all of England).
    """

    time_limit_s: float = 300.0
    gap_rel: float = 0.002
    threads: int | None = None
    msg: bool = False
    max_pricing_rounds: int = 8
    warm_start: bool = True
    lp_solver: str = "ipm"
    mip_lp_solver: str = "choose"
    full_model_max_pairs: int = 300_000


@dataclass(frozen=True, eq=False)
class ThroughputSolution:
    """Open sites and a (fractional) assignment, with how they were found.

    Attributes
    ----------
    method : str
        ``"optimised"``, ``"greedy drop"``, ``"keep current"``.
    open_sites : ndarray of bool, shape (n_sites,)
    zone, site, share : ndarray
        The assignment: zone index, site index and share of the zone's demand (shares of a
        zone sum to 1).
    status : str
        "optimal", "feasible (gap x%)" or "heuristic".
    mean_travel_min : float
        Demand-weighted mean drive.
    objective : float
        The objective in the model's units (demand-minutes: :math:`D` times the objective of
        :mod:`siteopt.national.model`).
    lower_bound : float or None
        Lower bound on ``objective`` (demand-minutes), valid for the full problem.
    gap : float or None
        Relative gap of the objective against its valid lower bound.
    highs_gap : float or None
        HiGHS's own gap on the restricted column set (for information).
    timings_s : dict
        Seconds per step (``build``, ``lp``, ``pricing``, ``greedy``, ``mip``, ``polish``).
    sizes : dict
        Columns, rows, pairs of the MILP; pricing rounds; pairs added.
    notes : tuple of str
    """

    method: str
    open_sites: BoolArray
    zone: IntArray
    site: IntArray
    share: FloatArray
    status: str
    objective: float
    mean_travel_min: float
    lower_bound: float | None = None
    gap: float | None = None
    highs_gap: float | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


# -- running HiGHS -----------------------------------------------------------------------------
def _highs(options: ThroughputOptions, time_limit_s: float | None = None) -> highspy.Highs:
    quiet_highs_banner(highspy.Highs)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", bool(options.msg))
    if options.threads is not None:
        h.setOptionValue("threads", int(options.threads))
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(1.0, float(time_limit_s)))
    return h


class _LPTimeLimitError(SolverError):
    """An LP relaxation ran out of the time budget."""


@dataclass(frozen=True, eq=False)
class _LPResult:
    lp: ThroughputLP
    value: float
    col_value: FloatArray
    row_dual: FloatArray


def _solve_lp(lp: ThroughputLP, options: ThroughputOptions,
              time_limit_s: float | None = None) -> _LPResult | None:
    """Solve an LP relaxation; ``None`` if infeasible."""
    h = _highs(options, time_limit_s)
    # Interior point with crossover: 17 s on the England relaxation against about 75 s for
    # the dual simplex (BENCHMARKS.md); crossover still gives a basic solution and exact duals.
    h.setOptionValue("solver", options.lp_solver)
    to_highs(lp, h)
    h.run()
    status = h.getModelStatus()
    status_name = highs_status_name(status)
    if status_name == "kInfeasible":
        return None
    if status_name == "kTimeLimit":
        raise _LPTimeLimitError(f"the LP relaxation ({lp.n_cols:,} columns) did not finish "
                                f"within the {options.time_limit_s:g} s budget: raise "
                                "--time-limit")
    if status_name != "kOptimal":
        raise SolverError(f"HiGHS stopped the LP relaxation with status "
                          f"{h.modelStatusToString(status)!r}")
    sol = h.getSolution()
    return _LPResult(lp=lp, value=float(h.getInfo().objective_function_value),
                     col_value=np.asarray(sol.col_value), row_dual=np.asarray(sol.row_dual))


@dataclass
class _ColumnGeneration:
    mask: BoolArray
    lower_bound: float = -math.inf
    rounds: int = 0
    added: int = 0
    complete: bool = False
    last: _LPResult | None = None
    build_s: float = 0.0
    lp_s: float = 0.0
    pricing_s: float = 0.0


def _column_generation(travel: FloatArray, demand: FloatArray, site_ids: tuple[str, ...],
                       settings: ThroughputSettings, allowed: BoolArray, start: BoolArray,
                       options: ThroughputOptions, t_max: float, max_rounds: int,
                       deadline: float, hard_deadline: float = math.inf) -> _ColumnGeneration:
    """LP relaxation over a growing column set, with a valid bound each round.

    No round starts after ``deadline``; an LP solve still running at ``hard_deadline`` (the
    whole budget) is a :class:`SolverError`.
    """
    cg = _ColumnGeneration(mask=start & allowed)
    active = demand > 0
    while True:
        time_limit = (None if math.isinf(hard_deadline)
                      else max(1.0, hard_deadline - time.perf_counter()))
        t0 = time.perf_counter()
        lp = build_lp(travel, demand, site_ids, settings, pairs_from_mask(cg.mask, travel),
                      integer=False, travel_max_min=t_max)
        t1 = time.perf_counter()
        try:
            res = _solve_lp(lp, options, time_limit)
        except _LPTimeLimitError:
            if cg.last is None:
                raise
            return cg  # the previous round's bound stays valid
        t2 = time.perf_counter()
        cg.build_s += t1 - t0
        cg.lp_s += t2 - t1
        cg.rounds += 1
        if res is None:
            if np.array_equal(cg.mask, allowed):
                cg.last = None
                cg.complete = True
                return cg
            # the restricted LP may be infeasible where the full one is not: widen it
            cg.mask = allowed.copy()
            continue
        cg.last = res
        omitted = allowed & ~cg.mask
        omitted[~active] = False
        oz, os_ = np.nonzero(omitted)
        rc = reduced_costs(lp, travel, demand, res.row_dual, oz, os_, settings.within_travel_min)
        negative = rc < -PRICE_TOL
        cg.lower_bound = max(cg.lower_bound, res.value + float(rc[negative].sum()))
        cg.pricing_s += time.perf_counter() - t2
        if not negative.any():
            cg.lower_bound = max(cg.lower_bound, res.value)
            cg.complete = True
            return cg
        if cg.rounds >= max_rounds or time.perf_counter() > deadline:
            return cg
        cg.mask[oz[negative], os_[negative]] = True
        cg.added += int(negative.sum())


# -- assignment for a fixed set of open sites ---------------------------------------------------
def _fixed_settings(settings: ThroughputSettings, site_ids: tuple[str, ...],
                    open_sites: BoolArray) -> ThroughputSettings:
    return replace(
        settings,
        force_open=frozenset(s for s, o in zip(site_ids, open_sites, strict=True) if o),
        force_closed=frozenset(s for s, o in zip(site_ids, open_sites, strict=True) if not o),
        min_sites=None, max_sites=None,
    )


def _assignment(lp: ThroughputLP, col_value: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
    x = col_value[lp.n_sites:]
    keep = x > 1e-9
    return lp.pairs.zone[keep], lp.pairs.site[keep], x[keep]


def assign_fixed(travel: FloatArray, demand: FloatArray, site_ids: tuple[str, ...],
                 settings: ThroughputSettings, open_sites: BoolArray,
                 options: ThroughputOptions | None = None,
                 ) -> tuple[IntArray, IntArray, FloatArray, float] | None:
    """Best assignment to the given open sites under the throughput limits (exact LP).

    Column generation over every allowed pair of the open sites; ``None`` if no assignment
    meets the limits (e.g. an open site cannot reach its minimum).

    Returns
    -------
    (zone, site, share, travel) or None
        ``travel``: the demand-weighted drive, in demand-minutes.
    """
    opts = options or ThroughputOptions()
    fixed = _fixed_settings(settings, site_ids, open_sites)
    allowed = allowed_pairs(travel, fixed, open_sites)
    if np.any((demand > 0) & ~allowed.any(axis=1)):
        return None
    start = nearest_mask(allowed, travel, settings.k_nearest)
    cg = _column_generation(travel, demand, site_ids, fixed, allowed, start, opts,
                            _t_max(travel, allowed), max_rounds=50, deadline=math.inf)
    if cg.last is None:
        return None
    z, s, x = _assignment(cg.last.lp, cg.last.col_value)
    return z, s, x, float((demand[z] * travel[z, s] * x).sum())


# -- heuristics --------------------------------------------------------------------------------
def nearest_open(travel: FloatArray, open_sites: BoolArray) -> IntArray:
    """Each zone's nearest open site (ties by site order); -1 if none is reachable."""
    masked = np.where(open_sites[None, :], travel, np.inf)
    best = np.argmin(masked, axis=1)
    best[~np.isfinite(masked[np.arange(len(best)), best])] = -1
    return np.asarray(best, dtype=np.int64)


def _nearest_solution(method: str, travel: FloatArray, demand: FloatArray,
                      open_sites: BoolArray, notes: tuple[str, ...] = ()) -> ThroughputSolution:
    near = nearest_open(travel, open_sites)
    active = (demand > 0) & (near >= 0)
    z = np.flatnonzero(active)
    s = near[z]
    value = float((demand[z] * travel[z, s]).sum())
    return ThroughputSolution(method=method, open_sites=open_sites.copy(), zone=z, site=s,
                              share=np.ones(len(z)), status=STATUS_HEURISTIC, objective=value,
                              mean_travel_min=value / float(demand.sum()), notes=notes)


def keep_current(travel: FloatArray, demand: FloatArray,
                 current_open: BoolArray) -> ThroughputSolution:
    """Every current site stays open; each zone goes to its nearest (throughput limits ignored,
    so the result shows how many sites are outside them today)."""
    return _nearest_solution("keep current", travel, demand, current_open)


def greedy_drop(travel: FloatArray, demand: FloatArray, site_ids: tuple[str, ...],
                settings: ThroughputSettings, start_open: BoolArray) -> BoolArray:
    """Greedy drop, as in published configuration studies, with nearest-site assignment.

    From ``start_open`` (minus sites forced closed), close one site at a time while the
    configuration breaks a rule: more sites than ``max_sites``, or an open site below
    ``min_per_site``. Among the sites below the minimum (or all, if none is), close the one
    whose closure adds the least demand-weighted drive; never a site forced open, never one
    whose closure leaves a zone with no open site within ``max_travel_min``.

    Returns
    -------
    ndarray of bool
        The open sites.
    """
    n_s = len(site_ids)
    pos = {s: j for j, s in enumerate(site_ids)}
    locked = np.zeros(n_s, dtype=bool)
    for sid in settings.force_open:
        locked[pos[sid]] = True
    open_sites = start_open & site_open_ok(site_ids, settings)
    reach = allowed_pairs(travel, settings)
    t = np.where(reach, travel, np.inf)
    active = demand > 0
    while open_sites.sum() > 1:
        masked = np.where(open_sites[None, :], t, np.inf)
        two = np.argpartition(masked, 1, axis=1)[:, :2]
        t_two = np.take_along_axis(masked, two, axis=1)
        first = np.where(t_two[:, 0] <= t_two[:, 1], two[:, 0], two[:, 1])
        t1 = np.minimum(t_two[:, 0], t_two[:, 1])
        t2 = np.maximum(t_two[:, 0], t_two[:, 1])
        load = np.bincount(first[active], weights=demand[active], minlength=n_s)
        too_many = settings.max_sites is not None and open_sites.sum() > settings.max_sites
        small = open_sites & (load < (settings.min_per_site or 0.0) - 1e-9)
        if not too_many and not small.any():
            break
        extra = np.where(active, demand * (t2 - t1), 0.0)
        strands = np.bincount(first[active & ~np.isfinite(t2)], minlength=n_s) > 0
        increase = np.bincount(first[active], weights=np.where(np.isfinite(extra[active]),
                                                               extra[active], 0.0),
                               minlength=n_s)
        pool = small if small.any() else open_sites
        pool = pool & ~locked & ~strands
        if not pool.any():
            break
        cand = np.flatnonzero(pool)
        open_sites[cand[np.argmin(increase[cand])]] = False
    return open_sites


# -- the optimiser -----------------------------------------------------------------------------
def _t_max(travel: FloatArray, allowed: BoolArray) -> float:
    vals = travel[allowed]
    return float(vals.max()) if vals.size else 0.0


def presolve_conflicts(travel: FloatArray, demand: FloatArray, site_ids: tuple[str, ...],
                       zone_ids: tuple[str, ...], settings: ThroughputSettings) -> list[str]:
    """Limits that conflict before any solve, in plain words with numbers."""
    out: list[str] = []
    total = float(demand.sum())
    open_ok = site_open_ok(site_ids, settings)
    allowed = allowed_pairs(travel, settings, open_ok)
    stranded = np.flatnonzero((demand > 0) & ~allowed.any(axis=1))
    if stranded.size:
        shown = ", ".join(zone_ids[i] for i in stranded[:3])
        limit = (f"within {settings.max_travel_min:g} minutes"
                 if settings.max_travel_min is not None else "with a travel time")
        out.append(f"{stranded.size} zone(s) have no site {limit} ({shown}"
                   f"{' ...' if stranded.size > 3 else ''}): raise the maximum drive time")
    available = int(open_ok.sum())
    upper = min(available, settings.max_sites) if settings.max_sites is not None else available
    if settings.max_per_site is not None and upper * settings.max_per_site < total - 1e-6:
        need = math.ceil(total / settings.max_per_site - 1e-9)
        out.append(f"the demand of {total:,.0f} needs at least {need} sites of at most "
                   f"{settings.max_per_site:,.0f} each, but at most {upper} may be open: raise "
                   f"the site limit by {need - upper} or the maximum per site to "
                   f"{total / upper:,.0f}")
    n_forced = len(settings.force_open)
    if settings.max_sites is not None and n_forced > settings.max_sites:
        out.append(f"{n_forced} sites are forced open but at most {settings.max_sites} may be "
                   f"open: unlock {n_forced - settings.max_sites} or raise the site limit")
    if settings.min_sites is not None and settings.min_sites > available:
        out.append(f"at least {settings.min_sites} sites must be open but only {available} are "
                   "not forced closed: lower the minimum number of sites")
    lower = max(settings.min_sites or 0, len(settings.force_open))
    if settings.min_per_site and lower * settings.min_per_site > total + 1e-6:
        most = int(total // settings.min_per_site)
        out.append(f"at least {lower} sites must be open but the demand of {total:,.0f} fills "
                   f"only {most} sites to the minimum of {settings.min_per_site:,.0f}: lower the "
                   f"minimum per site to {total / lower:,.0f} or open fewer sites")
    return out


def optimise(travel: FloatArray, demand: FloatArray, site_ids: tuple[str, ...],
             zone_ids: tuple[str, ...], settings: ThroughputSettings,
             options: ThroughputOptions | None = None,
             start_open: BoolArray | None = None,
             warm_open: BoolArray | None = None) -> ThroughputSolution:
    """Solve the throughput model (module docstring), honestly.

    Parameters
    ----------
    travel, demand, site_ids, zone_ids
        The region's arrays (:class:`siteopt.national.region.Region`).
    settings, options
    start_open : ndarray of bool, optional
        Where greedy drop starts (default: every site).
    warm_open : ndarray of bool, optional
        Open sites of a known solution (e.g. the decomposition by region) to start the MILP
        from instead of greedy drop.

    Raises
    ------
    InfeasibleError
        With the limits that conflict and by how much.
    SolverError
        If HiGHS fails, or finds no solution in the time.
    """
    opts = options or ThroughputOptions()
    settings.check(site_ids)
    t_start = time.perf_counter()
    deadline = t_start + opts.time_limit_s
    conflicts = presolve_conflicts(travel, demand, site_ids, zone_ids, settings)
    if conflicts:
        raise InfeasibleError("; ".join(conflicts))
    n_s = len(site_ids)
    open_ok = site_open_ok(site_ids, settings)
    allowed = allowed_pairs(travel, settings, open_ok)
    t_max = _t_max(travel, allowed)
    timings: dict[str, float] = {}

    # 1. column generation on the LP relaxation -> valid lower bound
    start = nearest_mask(allowed, travel, settings.k_nearest)
    cg = _column_generation(travel, demand, site_ids, settings, allowed, start, opts, t_max,
                            opts.max_pricing_rounds, t_start + 0.4 * opts.time_limit_s,
                            hard_deadline=deadline)
    timings.update(build=cg.build_s, lp=cg.lp_s, pricing=cg.pricing_s)
    if cg.last is None:
        raise InfeasibleError(_lp_infeasible_message(demand, settings))

    # 2. warm start from greedy drop
    t0 = time.perf_counter()
    start_sites = start_open if start_open is not None else np.ones(n_s, dtype=bool)
    if warm_open is not None:
        greedy_open = warm_open.copy()
    else:
        # two candidates, kept by their nearest-site drive: greedy drop from every site, and
        # greedy drop from the LP relaxation's rounded open sites (o >= 0.5, at most the limit)
        from_all = greedy_drop(travel, demand, site_ids, settings, start_sites)
        rounded = _rounded_open(cg.last.col_value[:n_s], settings, site_ids)
        from_lp = greedy_drop(travel, demand, site_ids, settings, rounded)
        greedy_open = min((from_all, from_lp),
                          key=lambda o: _nearest_value(travel, demand, o, settings))
    timings["greedy"] = time.perf_counter() - t0

    # 3. the MILP on the final column set (or on every pair, if that is small enough)
    t0 = time.perf_counter()
    active = demand > 0
    n_allowed = int(allowed[active].sum())
    mask = allowed if n_allowed <= opts.full_model_max_pairs else cg.mask
    complete_set = bool(np.all(mask[active] | ~allowed[active]))
    lp = build_lp(travel, demand, site_ids, settings, pairs_from_mask(mask, travel),
                  integer=True, travel_max_min=t_max)
    timings["build"] += time.perf_counter() - t0
    remaining = deadline - time.perf_counter()
    if remaining < 1.0:
        raise SolverError(f"the time limit of {opts.time_limit_s:g} s ran out before the MILP "
                          "(column generation took it): raise --time-limit")
    h = _highs(opts, remaining)
    h.setOptionValue("mip_rel_gap", float(opts.gap_rel))
    h.setOptionValue("mip_lp_solver", opts.mip_lp_solver)
    if math.isfinite(cg.lower_bound) and cg.lower_bound > 0 and opts.gap_rel < 1:
        # stop as soon as a solution is within gap_rel of OUR bound (valid for the full
        # problem); HiGHS's own gap, on its column set, is usually smaller
        h.setOptionValue("objective_target", cg.lower_bound / (1.0 - opts.gap_rel))
    to_highs(lp, h)
    if opts.warm_start:
        idx = np.arange(n_s, dtype=np.int32)
        h.setSolution(n_s, idx, greedy_open.astype(np.float64))
    t0 = time.perf_counter()
    h.run()
    timings["mip"] = time.perf_counter() - t0
    info = h.getInfo()
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        status = h.modelStatusToString(h.getModelStatus())
        if highs_status_name(h.getModelStatus()) == "kInfeasible":
            raise InfeasibleError(
                "no set of open sites meets every limit (the MILP is infeasible although its "
                "relaxation is not): loosen the minimum per site or the site limits")
        raise SolverError(f"HiGHS found no solution ({status}) in {timings['mip']:.0f} s: "
                          "raise --time-limit")
    col = np.asarray(h.getSolution().col_value)
    open_sites = col[:n_s] > 0.5
    z, s, x = _assignment(lp, col)
    travel_part = float((demand[z] * travel[z, s] * x).sum())
    highs_gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None

    # 4. polish: best assignment to these open sites over every allowed pair
    t0 = time.perf_counter()
    polished = assign_fixed(travel, demand, site_ids, settings, open_sites, opts)
    timings["polish"] = time.perf_counter() - t0
    notes: list[str] = []
    if polished is not None and polished[3] < travel_part * (1 - 1e-9):
        gain_min = (travel_part - polished[3]) / float(demand.sum())
        if gain_min >= 5e-5:
            notes.append(f"polish lowered the mean drive by {gain_min:.4f} minutes using "
                         "pairs outside the MILP's column set")
        z, s, x = polished[:3]
        travel_part = polished[3]
    value = travel_part + _site_term(settings, open_sites, float(demand.sum()), t_max)
    lower = cg.lower_bound
    if complete_set and math.isfinite(info.mip_dual_bound):
        lower = max(lower, float(info.mip_dual_bound))  # HiGHS's bound covers every pair
    gap = max(0.0, (value - lower) / max(abs(value), 1e-9))
    status = status_text(status_from_gap(gap), gap)
    if settings.objective == "units":
        total = float(demand.sum())
        at_least = max(settings.min_sites or 0, len(settings.force_open),
                       math.ceil(total / settings.max_per_site - 1e-9)
                       if settings.max_per_site else 1)
        notes.append(_units_note(value, lower, int(open_sites.sum()), total, t_max, at_least))
    if not cg.complete and not complete_set:
        notes.append(f"column generation stopped after {cg.rounds} rounds with pairs still "
                     "pricing out; the bound allows for them (valid, but looser)")
    mean = travel_part / float(demand.sum())
    timings["total"] = time.perf_counter() - t_start
    return ThroughputSolution(
        method="optimised", open_sites=open_sites, zone=z, site=s, share=x, status=status,
        objective=value, mean_travel_min=mean, lower_bound=lower, gap=gap, highs_gap=highs_gap,
        timings_s=timings,
        sizes={"columns": lp.n_cols, "rows": lp.n_rows, "pairs": len(lp.pairs),
               "allowed_pairs": n_allowed, "pricing_rounds": cg.rounds,
               "pairs_added": cg.added, "greedy_open": int(greedy_open.sum())},
        notes=tuple(notes),
    )


def _units_note(value: float, lower: float, n_open: int, total: float, t_max: float,
                at_least: int = 0) -> str:
    r"""What the ``units`` objective's bound proves, in units and minutes.

    The objective is :math:`D(t^{max}+1)\,n + D\,T` with :math:`T < t^{max}+1`, so a bound
    :math:`c` on it (in units of :math:`D(t^{max}+1)`) proves :math:`n \ge \lfloor c \rfloor`;
    if that equals the units found, every optimum has exactly that many units and its mean
    drive is at least :math:`(c - n)(t^{max}+1)`. ``at_least`` is a count known otherwise
    (demand over the maximum per site, the minimum number of sites, the locks).
    """
    per_unit = total * (t_max + 1.0)
    c = lower / per_unit
    n_lb = max(math.floor(c + 1e-9), at_least)
    mean = (value - n_open * per_unit) / total
    if n_lb >= n_open:
        drive_lb = max(0.0, (c - n_open) * (t_max + 1.0))
        return (f"fewest units proven: {n_open}; with {n_open} units the mean drive is "
                f"{mean:.2f} min, at least {drive_lb:.2f} min")
    return (f"{n_open} units found, at least {n_lb} needed (not proven fewest: the objective's "
            "gap is mostly units): raise --time-limit, or use the access objective with "
            "--max-sites")


def _rounded_open(o_lp: FloatArray, settings: ThroughputSettings,
                  site_ids: tuple[str, ...]) -> BoolArray:
    """Sites with an LP value of at least 0.5, the largest first, at most ``max_sites``."""
    order = np.argsort(-o_lp, kind="stable")
    keep = order[o_lp[order] >= 0.5 - 1e-9]
    if settings.max_sites is not None:
        keep = keep[: settings.max_sites]
    out = np.zeros(len(site_ids), dtype=bool)
    out[keep] = True
    return out


def _nearest_value(travel: FloatArray, demand: FloatArray, open_sites: BoolArray,
                   settings: ThroughputSettings) -> float:
    """Demand-minutes of nearest-site assignment within the drive limit (inf if a zone has no
    open site in reach, or a rule is broken under nearest assignment)."""
    reach = np.where(allowed_pairs(travel, settings), travel, np.inf)
    near = nearest_open(reach, open_sites)
    active = demand > 0
    if np.any(near[active] < 0):
        return math.inf
    if settings.max_sites is not None and open_sites.sum() > settings.max_sites:
        return math.inf
    return float((demand[active] * reach[active, near[active]]).sum())


def _site_term(settings: ThroughputSettings, open_sites: BoolArray, total: float,
               t_max: float) -> float:
    """The objective's site part (demand-minutes) for these open sites."""
    n_open = float(open_sites.sum())
    if settings.objective == "units":
        return n_open * total * (t_max + 1.0)
    if settings.objective == "weighted":
        return n_open * total * settings.minutes_per_site
    return 0.0


def _lp_infeasible_message(demand: FloatArray, settings: ThroughputSettings) -> str:
    total = float(demand.sum())
    parts = [f"even the relaxation is infeasible: no assignment of the demand of {total:,.0f} "
             "meets the limits together"]
    if settings.within_travel_min is not None and settings.min_share_within is not None:
        parts.append(f"check the within-time limit ({settings.min_share_within:.0%} within "
                     f"{settings.within_travel_min:g} minutes) against the maximum per site "
                     f"({settings.max_per_site}) and the site limit ({settings.max_sites})")
    else:
        parts.append(f"check the minimum per site ({settings.min_per_site}) against the "
                     f"maximum drive ({settings.max_travel_min}) and the locks")
    return "; ".join(parts)


def throughput_objective_value(solution: ThroughputSolution, travel: FloatArray,
                               demand: FloatArray, site_ids: tuple[str, ...],
                               settings: ThroughputSettings) -> float:
    """The objective (demand-minutes) of a solution, recomputed from its assignment (with the
    same longest allowed drive as :func:`optimise`, sites forced closed left out)."""
    allowed = allowed_pairs(travel, settings, site_open_ok(site_ids, settings))
    travel_part = float((demand[solution.zone] * travel[solution.zone, solution.site]
                         * solution.share).sum())
    return travel_part + _site_term(settings, solution.open_sites, float(demand.sum()),
                                    _t_max(travel, allowed))


def heuristic_solutions(travel: FloatArray, demand: FloatArray, site_ids: tuple[str, ...],
                        settings: ThroughputSettings, current_open: BoolArray,
                        options: ThroughputOptions | None = None) -> list[ThroughputSolution]:
    """The comparators: keep every current site (nearest assignment) and greedy drop (its open
    sites with the exact assignment under the limits, or nearest assignment if none exists)."""
    out = [keep_current(travel, demand, current_open)]
    t0 = time.perf_counter()
    drop_open = greedy_drop(travel, demand, site_ids, settings, current_open)
    exact = assign_fixed(travel, demand, site_ids, settings, drop_open, options)
    if exact is None:
        sol = _nearest_solution("greedy drop", travel, demand, drop_open, (
            "no assignment to these sites meets the throughput limits; nearest-site "
            "assignment shown",))
    else:
        z, s, x, travel_part = exact
        sol = ThroughputSolution(method="greedy drop", open_sites=drop_open, zone=z, site=s,
                                 share=x, status=STATUS_HEURISTIC, objective=travel_part,
                                 mean_travel_min=travel_part / float(demand.sum()))
    out.append(replace(sol, timings_s={"total": time.perf_counter() - t0}))
    return out


def pairs_of(solution: ThroughputSolution) -> Pairs:
    """The solution's assignment pairs."""
    return Pairs(zone=solution.zone, site=solution.site)

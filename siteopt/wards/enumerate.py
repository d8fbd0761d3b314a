"""Exhaustive oracle: evaluate every configuration (one option per site) and keep the best.

Independent of :mod:`siteopt.wards.model` and :mod:`siteopt.wards.solve` (no PuLP): the
configuration-level limits are vectorised sums over the option tables (linked receipts by masks
on the grid), and for each configuration
that survives them the best fractional assignment under capacity is a transportation LP per
service (:func:`assignment_lp`), solved with ``scipy.optimize.linprog(method="highs")``.

Pruning is exact: configurations breaking a limit, or whose usable beds are below the need, are
dropped first; the rest are visited in order of a lower bound (the uncapacitated nearest-open-site
travel, plus the cost) and the search stops when the bound cannot beat the best found.
For LLR-sized instances (~9 sites x a few options) this is seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import linprog

from siteopt.solver_core import GBP_PER_M
from siteopt.wards.instance import (
    ALL_PEOPLE,
    DEPRIVED_GROUP,
    FloatArray,
    Instance,
    ModelSettings,
    equity_groups,
    group_zone_shares,
    service_shares,
)

BOUND_TOL = 1e-7
_CHUNK = 4096


@dataclass(frozen=True)
class EnumerationResult:
    """The best configuration found by exhaustive search.

    ``choice`` is None (and ``objective`` inf) if no configuration is feasible.
    """

    choice: dict[str, str] | None
    objective: float
    mean_travel_min: float
    cost_gbp_per_year: float
    n_configurations: int
    n_after_limits: int
    n_lps: int


def _site_option_lists(instance: Instance, settings: ModelSettings) -> list[list[int]]:
    out = []
    for site in instance.sites:
        idx = []
        for k, opt in enumerate(site.options):
            n_wards = sum(opt.wards.values())
            if site.site_id in settings.force_open and n_wards == 0:
                continue
            if site.site_id in settings.force_closed and n_wards > 0:
                continue
            fixed = settings.fixed_options.get(site.site_id)
            if fixed is not None and opt.option_id != fixed:
                continue
            idx.append(k)
        out.append(idx)
    return out


def _attr(instance: Instance, lists: Sequence[Sequence[int]], fn: object) -> list[FloatArray]:
    f = fn  # callable(site, option) -> float
    return [
        np.array([f(site, site.options[k]) for k in ks], dtype=np.float64)  # type: ignore[operator]
        for site, ks in zip(instance.sites, lists, strict=True)
    ]


@dataclass(frozen=True)
class AssignmentLP:
    """The least-travel assignment LP of one service (:func:`assignment_lp_detail`).

    ``value`` is this service's part of the mean drive :math:`T` (inf if infeasible);
    ``group_parts`` its part of each group's mean drive :math:`T_g` (and of
    :data:`~siteopt.wards.instance.ALL_PEOPLE`, :math:`T`) under the assignment found.
    """

    value: float
    feasible: bool
    group_parts: dict[str, float]


@dataclass(frozen=True)
class _LPRows:
    """One service's assignment LP: variables are the allowed (zone, site) pairs."""

    zi: npt.NDArray[np.intp]
    si: npt.NDArray[np.intp]
    cost: FloatArray
    a_eq: sp.csr_matrix
    b_eq: FloatArray
    a_ub: sp.csr_matrix
    b_ub: FloatArray


def _lp_rows(
    instance: Instance, settings: ModelSettings, usable: FloatArray, v: int
) -> _LPRows | None:
    """Rows (3), (4) and (12) of service ``v`` given per-site usable beds; None if a zone that
    needs the service has no allowed site."""
    z = instance.zones
    t = instance.travel_min
    demand = z.demand_beds[:, v]
    active = (demand > 0) | (z.weight > 0)
    ok = np.isfinite(t) & (usable[None, :] > 0) & active[:, None]
    if settings.max_travel_min is not None:
        ok &= t <= settings.max_travel_min
    if (active & ~ok.any(axis=1)).any():
        return None
    zi, si = np.nonzero(ok)
    n = len(zi)
    w_total = float(z.weight.sum())
    beta = service_shares(instance)[v]
    cost = beta * z.weight[zi] * t[zi, si] / w_total
    act_idx = np.flatnonzero(active)
    row_of = np.full(instance.n_zones, -1)
    row_of[act_idx] = np.arange(len(act_idx))
    a_eq = sp.csr_matrix((np.ones(n), (row_of[zi], np.arange(n))), shape=(len(act_idx), n))
    b_eq = np.ones(len(act_idx))
    a_ub = sp.csr_matrix((demand[zi], (si, np.arange(n))), shape=(instance.n_sites, n))
    b_ub = usable.copy()
    if settings.within_travel_min is not None and settings.min_share_within is not None:
        near = t[zi, si] <= settings.within_travel_min
        row = sp.csr_matrix(-(z.weight[zi] * near)[None, :])
        a_ub = sp.vstack([a_ub, row]).tocsr()
        b_ub = np.append(b_ub, -settings.min_share_within * w_total)
    return _LPRows(zi, si, cost, a_eq, b_eq, a_ub, b_ub)


def assignment_lp(
    instance: Instance,
    settings: ModelSettings,
    usable: FloatArray,
    v: int,
) -> tuple[float, bool]:
    """Least weighted travel of service ``v`` given per-site usable beds; (value, feasible).

    The value is ``beta_v / W * sum w_z t_zs x_zs`` (this service's part of the mean).
    """
    res = assignment_lp_detail(instance, settings, usable, v)
    return res.value, res.feasible


def group_coefficients(instance: Instance, v: int, zi: npt.NDArray[np.intp],
                       si: npt.NDArray[np.intp]) -> dict[str, FloatArray]:
    """Per group (and :data:`~siteopt.wards.instance.ALL_PEOPLE`): the coefficient
    :math:`\\beta_v (w_{gz} / W_g) t_{zs}` of each pair (``zi``, ``si``) of service ``v`` in
    the group's mean drive :math:`T_g`."""
    beta = service_shares(instance)[v]
    t = instance.travel_min[zi, si]
    out = {}
    for group in (None, *equity_groups(instance)):
        shares = group_zone_shares(instance, group)[zi]
        out[ALL_PEOPLE if group is None else group] = np.where(shares > 0, beta * shares * t, 0.0)
    return out


def assignment_lp_detail(
    instance: Instance, settings: ModelSettings, usable: FloatArray, v: int
) -> AssignmentLP:
    """:func:`assignment_lp` with this service's part of every group's mean drive."""
    rows = _lp_rows(instance, settings, usable, v)
    if rows is None:
        return AssignmentLP(np.inf, False, {})
    res = linprog(rows.cost, A_ub=rows.a_ub, b_ub=rows.b_ub, A_eq=rows.a_eq, b_eq=rows.b_eq,
                  bounds=(0, 1), method="highs")
    if res.status != 0:
        return AssignmentLP(np.inf, False, {})
    parts = {g: float(c @ res.x) for g, c in group_coefficients(instance, v, rows.zi,
                                                                 rows.si).items()}
    return AssignmentLP(float(res.fun), True, parts)


EQUITY_TOL_MIN = 1e-7
"""Minutes of slack allowed on an equity row when a least-travel assignment is checked against
it (the LP solvers' feasibility tolerance)."""


def meets_equity(settings: ModelSettings, group_means: Mapping[str, float]) -> bool:
    """Whether groups' mean drives (:func:`~siteopt.wards.instance.group_mean_travel`'s keys)
    meet the equity limits (16) of ``settings`` (True if it sets none)."""
    rise = settings.max_group_mean_travel_increase_min
    if rise is not None:
        base = settings.group_baseline_mean_travel_min
        if any(t > base[g] + rise + EQUITY_TOL_MIN
               for g, t in group_means.items() if g != ALL_PEOPLE):
            return False
    gap = settings.max_deprived_gap_min
    return gap is None or (group_means[DEPRIVED_GROUP] - group_means[ALL_PEOPLE]
                           <= gap + EQUITY_TOL_MIN)


def equity_assignment_lp(
    instance: Instance, settings: ModelSettings, usable_by_service: Sequence[FloatArray]
) -> tuple[float, bool, dict[str, float]]:
    """Least mean drive of a configuration under the equity limits (16), all services at once.

    The services' assignment LPs (rows (3), (4), (12)) side by side, plus one row per equity
    row of the model: exactly the MILP with the configuration fixed. Returns (mean drive
    :math:`T`, feasible, every group's mean drive :math:`T_g` and ``ALL_PEOPLE``'s).
    """
    blocks = [_lp_rows(instance, settings, np.asarray(u, dtype=np.float64), v)
              for v, u in enumerate(usable_by_service)]
    if any(b is None for b in blocks):
        return np.inf, False, {}
    rows = [b for b in blocks if b is not None]
    coefs = [group_coefficients(instance, v, b.zi, b.si) for v, b in enumerate(rows)]
    names = list(coefs[0])
    coef = {g: np.concatenate([c[g] for c in coefs]) for g in names}
    extra, rhs = [], []
    if settings.max_group_mean_travel_increase_min is not None:
        for g in (g for g in names if g != ALL_PEOPLE):
            extra.append(coef[g])
            rhs.append(settings.group_baseline_mean_travel_min[g]
                       + settings.max_group_mean_travel_increase_min)
    if settings.max_deprived_gap_min is not None:
        extra.append(coef[DEPRIVED_GROUP] - coef[ALL_PEOPLE])
        rhs.append(settings.max_deprived_gap_min)
    a_ub = sp.vstack([sp.block_diag([b.a_ub for b in rows]),
                      *([sp.csr_matrix(np.vstack(extra))] if extra else [])]).tocsr()
    res = linprog(np.concatenate([b.cost for b in rows]), A_ub=a_ub,
                  b_ub=np.concatenate([*(b.b_ub for b in rows), np.asarray(rhs)]),
                  A_eq=sp.block_diag([b.a_eq for b in rows]).tocsr(),
                  b_eq=np.concatenate([b.b_eq for b in rows]), bounds=(0, 1), method="highs")
    if res.status != 0:
        return np.inf, False, {}
    return float(res.fun), True, {g: float(c @ res.x) for g, c in coef.items()}


def least_travel_under_equity(
    instance: Instance,
    settings: ModelSettings,
    usable_by_service: Sequence[FloatArray],
    lps: Sequence[AssignmentLP],
) -> tuple[float, bool, dict[str, float]]:
    """A configuration's least mean drive under the equity limits, from its per-service
    least-travel LPs ``lps`` (all feasible).

    If their assignments together meet the equity limits, they are optimal under them too (the
    limits only remove assignments) and their sum is the answer; otherwise
    :func:`equity_assignment_lp` solves the services together with the equity rows. Returns
    (mean drive, feasible, groups' mean drives).
    """
    means = {g: float(sum(lp.group_parts[g] for lp in lps)) for g in lps[0].group_parts}
    if meets_equity(settings, means):
        return float(sum(lp.value for lp in lps)), True, means
    return equity_assignment_lp(instance, settings, usable_by_service)


def _uncapacitated_bound(
    instance: Instance, settings: ModelSettings, open_mask: np.ndarray, v: int
) -> FloatArray:
    """Per configuration: this service's mean travel if every zone used its nearest open site."""
    z = instance.zones
    t = instance.travel_min.copy()
    if settings.max_travel_min is not None:
        t[t > settings.max_travel_min] = np.inf
    active = (z.demand_beds[:, v] > 0) | (z.weight > 0)
    t = t[active]
    w = z.weight[active]
    tot = instance.total_demand_beds
    beta = tot[v] / tot.sum() if tot.sum() > 0 else 1.0 / len(instance.services)
    uniq, inv = np.unique(open_mask, axis=0, return_inverse=True)
    vals = np.empty(len(uniq))
    for start in range(0, len(uniq), _CHUNK):
        block = uniq[start : start + _CHUNK]
        tm = np.where(block[:, None, :], t[None, :, :], np.inf).min(axis=2)  # (b, zones)
        with np.errstate(invalid="ignore"):
            vals[start : start + len(block)] = np.where(
                np.isinf(tm).any(axis=1), np.inf, (tm * w[None, :]).sum(axis=1)
            )
    return np.asarray(beta * vals[inv.ravel()] / float(z.weight.sum()), dtype=np.float64)


def meets_equity_bound(
    instance: Instance, settings: ModelSettings, open_by_service: Sequence[np.ndarray]
) -> npt.NDArray[np.bool_]:
    """Per configuration: False where the rise limit of (16) cannot be met whatever the
    assignment, because some group's mean drive with every zone at its nearest open site (a
    lower bound, capacity aside) already rises by more than the limit.

    Parameters
    ----------
    open_by_service : sequence of ndarray of bool, shape (configurations, sites)
        Per service: whether each site offers it in each configuration.
    """
    n = len(open_by_service[0])
    rise = settings.max_group_mean_travel_increase_min
    ok = np.ones(n, dtype=bool)
    if rise is None:
        return ok
    t = np.where(np.isfinite(instance.travel_min), instance.travel_min, np.inf)
    if settings.max_travel_min is not None:
        t[t > settings.max_travel_min] = np.inf
    beta = service_shares(instance)
    groups = equity_groups(instance)
    shares = np.stack([group_zone_shares(instance, g) for g in groups], axis=1)  # (Z, G)
    limit = np.array([settings.group_baseline_mean_travel_min[g] + rise for g in groups])
    for start in range(0, n, _CHUNK):
        lb = np.zeros((min(n, start + _CHUNK) - start, len(groups)))
        for v, open_mask in enumerate(open_by_service):
            block = open_mask[start : start + _CHUNK]
            tm = np.where(block[:, None, :], t[None, :, :], np.inf).min(axis=2)  # (b, Z)
            with np.errstate(invalid="ignore"):
                lb += beta[v] * np.where(shares[None, :, :] > 0, tm[:, :, None] * shares, 0.0
                                         ).sum(axis=1)
        ok[start : start + len(lb)] = np.all(lb <= limit[None, :] + EQUITY_TOL_MIN, axis=1)
    return ok


def _weight_within(
    instance: Instance, settings: ModelSettings, open_mask: np.ndarray, within_min: float
) -> FloatArray:
    """Per configuration: the weight of zones with an open, allowed site within ``within_min``."""
    t = instance.travel_min
    near = np.isfinite(t) & (t <= within_min)
    if settings.max_travel_min is not None:
        near &= t <= settings.max_travel_min
    w = instance.zones.weight
    uniq, inv = np.unique(open_mask, axis=0, return_inverse=True)
    vals = np.empty(len(uniq))
    for start in range(0, len(uniq), _CHUNK):
        block = uniq[start : start + _CHUNK].astype(np.float64)
        reach = (near.astype(np.float64) @ block.T) > 0  # (zones, b)
        vals[start : start + len(block)] = w @ reach
    return np.asarray(vals[inv.ravel()], dtype=np.float64)


def enumerate_optimum(
    instance: Instance,
    settings: ModelSettings | None = None,
    *,
    max_configurations: int = 5_000_000,
) -> EnumerationResult:
    """Evaluate every configuration and return the optimum of ``settings.objective``.

    Raises
    ------
    ValueError
        If there are more than ``max_configurations`` configurations.
    """
    s = settings if settings is not None else ModelSettings()
    lists = _site_option_lists(instance, s)
    sizes = [len(ks) for ks in lists]
    n_conf = int(np.prod(sizes, dtype=np.int64))
    if n_conf > max_configurations:
        raise ValueError(f"{n_conf:,} configurations exceed the limit of {max_configurations:,}")
    if n_conf == 0:
        return EnumerationResult(None, np.inf, np.inf, np.inf, 0, 0, 0)
    grid = np.indices(sizes).reshape(len(sizes), -1).T  # (C, S) positions into lists
    keep, cost, usable_by_v = _limits(instance, s, lists, grid)
    idx = np.flatnonzero(keep)
    n_after = len(idx)
    if n_after == 0:
        return EnumerationResult(None, np.inf, np.inf, np.inf, n_conf, 0, 0)
    bound = _lower_bound(instance, s, grid, idx, usable_by_v, cost[idx])
    best, best_c, best_t, n_lps = _search(instance, s, grid, idx, usable_by_v, cost, bound)
    if best_c < 0:
        return EnumerationResult(None, np.inf, np.inf, np.inf, n_conf, n_after, n_lps)
    choice = {
        site.site_id: site.options[lists[j][grid[best_c, j]]].option_id
        for j, site in enumerate(instance.sites)
    }
    return EnumerationResult(
        choice=choice,
        objective=best,
        mean_travel_min=best_t,
        cost_gbp_per_year=float(cost[best_c]),
        n_configurations=n_conf,
        n_after_limits=n_after,
        n_lps=n_lps,
    )


def _grid_total(grid: np.ndarray, values: list[FloatArray]) -> FloatArray:
    """Per configuration of ``grid``: the sum over sites of ``values[site][position]``."""
    acc = np.zeros(len(grid))
    for j, vals in enumerate(values):
        acc += vals[grid[:, j]]
    return acc


def _limits(
    instance: Instance, s: ModelSettings, lists: Sequence[Sequence[int]], grid: np.ndarray
) -> tuple[np.ndarray, FloatArray, list[list[FloatArray]]]:
    """Which configurations meet the configuration-level limits and the bed need.

    Returns
    -------
    ndarray of bool, shape (C,)
        The configurations that meet them.
    ndarray, shape (C,)
        Each configuration's annual cost.
    list
        Per service, per site: the usable beds of each allowed option.
    """

    def total(fn: object) -> FloatArray:
        return _grid_total(grid, _attr(instance, lists, fn))

    keep = np.ones(len(grid), dtype=bool)
    capex = total(lambda _s, o: o.capex_gbp)
    disp = total(lambda _s, o: o.disposal_gbp) + _linked_receipts(instance, lists, grid)
    cost = total(lambda _s, o: o.revenue_gbp_per_year + o.capital_gbp_per_year)
    if s.capital_limit_gbp is not None:
        capital = capex - disp if s.capital_basis == "net" else capex
        keep &= capital <= s.capital_limit_gbp + 1e-6
    if s.max_staff_wte_rn is not None:
        keep &= total(lambda _s, o: o.staff_wte_rn) <= s.max_staff_wte_rn + 1e-9
    if s.max_staff_wte_total is not None:
        keep &= total(lambda _s, o: o.staff_wte_total) <= s.max_staff_wte_total + 1e-9
    if s.max_isolated_wards is not None:
        iso = total(
            lambda site, o: float(
                sum(o.wards.values()) == 1 and site.site_id not in s.isolated_allowed_sites
            )
        )
        keep &= iso <= s.max_isolated_wards
    n_in = total(lambda _s, o: float(sum(o.wards.values()) > 0))
    if s.min_inpatient_sites is not None:
        keep &= n_in >= s.min_inpatient_sites
    if s.max_inpatient_sites is not None:
        keep &= n_in <= s.max_inpatient_sites
    if s.max_cost_gbp_per_year is not None:
        keep &= cost <= s.max_cost_gbp_per_year + 1e-6
    usable_by_v = []
    for v, name in enumerate(instance.services):
        per_site = _attr(instance, lists, lambda _s, o, name=name: o.usable_beds.get(name, 0.0))
        usable_by_v.append(per_site)
        keep &= _grid_total(grid, per_site) >= instance.total_demand_beds[v] - 1e-9
    return keep, cost, usable_by_v


def _linked_receipts(
    instance: Instance, lists: Sequence[Sequence[int]], grid: np.ndarray
) -> FloatArray:
    """Per configuration of ``grid``: the linked receipts it realises (trigger option chosen and
    every site the receipt needs closed without a ward), by masks on the grid."""
    acc = np.zeros(len(grid))
    for link in instance.linked_receipts:
        site = instance.sites[link.site_idx]
        trig = np.array([site.options[k].option_id in link.option_ids
                         for k in lists[link.site_idx]], dtype=bool)
        mask = trig[grid[:, link.site_idx]] if len(trig) else np.zeros(len(grid), dtype=bool)
        for j in link.closed_site_idx:
            shut = np.array([sum(instance.sites[j].options[k].wards.values()) == 0
                             for k in lists[j]], dtype=bool)
            mask &= shut[grid[:, j]]
        acc += link.receipt_gbp * mask
    return acc


def _open_mask(
    usable_by_v: list[list[FloatArray]], v: int, grid: np.ndarray, idx: np.ndarray
) -> np.ndarray:
    """Per configuration ``idx`` and site: whether the site has usable beds of service ``v``."""
    return np.stack(
        [usable_by_v[v][j][grid[idx, j]] > 0 for j in range(grid.shape[1])], axis=1
    )


def _lower_bound(
    instance: Instance,
    s: ModelSettings,
    grid: np.ndarray,
    idx: np.ndarray,
    usable_by_v: list[list[FloatArray]],
    cost_k: FloatArray,
) -> FloatArray:
    """Per surviving configuration ``idx``: a lower bound of its objective (inf if it cannot
    meet the mean-travel bound or the share within the target time)."""
    lb_travel = np.zeros(len(idx))
    for v in range(len(instance.services)):
        lb_travel += _uncapacitated_bound(instance, s, _open_mask(usable_by_v, v, grid, idx), v)
    if s.objective == "access":
        bound = lb_travel
    elif s.objective == "cost":
        bound = np.where(np.isfinite(lb_travel), cost_k, np.inf)
    else:
        bound = s.travel_weight * lb_travel + s.cost_weight_per_gbp_m * cost_k / GBP_PER_M
    if s.max_mean_travel_min is not None:
        bound = np.where(lb_travel <= s.max_mean_travel_min + 1e-9, bound, np.inf)
    if s.max_group_mean_travel_increase_min is not None:
        masks = [_open_mask(usable_by_v, v, grid, idx) for v in range(len(instance.services))]
        bound = np.where(meets_equity_bound(instance, s, masks), bound, np.inf)
    if s.within_travel_min is not None and s.min_share_within is not None:
        # Necessary: enough weight has an open site within the time at all (capacity aside).
        w_total = float(instance.zones.weight.sum())
        for v in range(len(instance.services)):
            open_mask = _open_mask(usable_by_v, v, grid, idx)
            covered = _weight_within(instance, s, open_mask, s.within_travel_min)
            bound = np.where(covered >= s.min_share_within * w_total - 1e-9, bound, np.inf)
    return np.asarray(bound, dtype=np.float64)


def _search(
    instance: Instance,
    s: ModelSettings,
    grid: np.ndarray,
    idx: np.ndarray,
    usable_by_v: list[list[FloatArray]],
    cost: FloatArray,
    bound: FloatArray,
) -> tuple[float, int, float, int]:
    """Visit the configurations ``idx`` in order of ``bound`` until it cannot beat the best.

    Returns
    -------
    tuple
        (best objective, best configuration (-1 if none is feasible), its mean travel, number
        of assignment LPs solved).
    """
    order = np.argsort(bound, kind="stable")
    best = np.inf
    best_c = -1
    best_t = np.inf
    n_lps = 0
    for pos in order:
        if not np.isfinite(bound[pos]) or bound[pos] >= best - BOUND_TOL * max(1.0, abs(best)):
            break
        c = idx[pos]
        usable = [np.array([usable_by_v[v][j][grid[c, j]] for j in range(grid.shape[1])],
                           dtype=np.float64) for v in range(len(instance.services))]
        lps: list[AssignmentLP] = []
        for v, beds in enumerate(usable):
            n_lps += 1
            lps.append(assignment_lp_detail(instance, s, beds, v))
            if not lps[-1].feasible:
                break
        if not lps[-1].feasible:
            continue
        travel = float(sum(lp.value for lp in lps))
        if s.equity_limited:
            travel, feasible, _means = least_travel_under_equity(instance, s, usable, lps)
            if not feasible:
                continue
        if s.max_mean_travel_min is not None and travel > s.max_mean_travel_min + 1e-7:
            continue
        if s.objective == "access":
            obj = travel
        elif s.objective == "cost":
            obj = float(cost[c])
        else:
            obj = s.travel_weight * travel + s.cost_weight_per_gbp_m * float(cost[c]) / GBP_PER_M
        if obj < best - 1e-12:
            best, best_c, best_t = obj, int(c), travel
    return best, best_c, best_t, n_lps

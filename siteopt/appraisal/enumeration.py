"""Every configuration within the scenario's limits, when the configuration
space is small enough to list.

The scenario's configuration-level limits are applied as vectorised sums over the grid of
configurations (:func:`meets_limits`), and each survivor's least-travel assignment is an LP per
service (:func:`least_travel`, cached by the per-site beds of that service). Under an equity
limit (the groups' mean drives, row (16) of :mod:`siteopt.wards.model`) a configuration whose
least-travel assignments break it is solved again with every service and the equity rows in one
LP (:func:`siteopt.wards.enumerate.least_travel_under_equity`), exactly the MILP with the
configuration fixed. The efficient set of the result (:meth:`Enumerated.efficient`) checks the
Pareto frontier.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from siteopt.appraisal.settings import T_TOL_MIN
from siteopt.wards.enumerate import (
    AssignmentLP,
    assignment_lp_detail,
    least_travel_under_equity,
    meets_equity_bound,
)
from siteopt.wards.instance import FloatArray, Instance, ModelSettings


# ---------------------------------------------------------------------------------------------
# Enumeration
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Enumerated:
    """Every configuration that meets the scenario's limits, with its mean drive and cost."""

    n_configurations: int
    n_meeting_limits: int
    choices: list[dict[str, str]]
    mean_travel_min: FloatArray
    cost_gbp_per_year: FloatArray
    net_capital_gbp: FloatArray
    capex_gbp: FloatArray
    beds: dict[str, npt.NDArray[np.int64]]
    sites_with_beds: npt.NDArray[np.int64]
    seconds: float
    group_mean_travel_min: dict[str, FloatArray] = field(default_factory=dict)
    """Group id (and ``"all"``) -> each configuration's mean drive for the group's people,
    under the assignment found (the least-travel one, or under an equity limit the least-travel
    one that meets it); empty if the instance has no group weights."""

    def efficient(self) -> npt.NDArray[np.int64]:
        """Positions of the efficient (non-dominated) configurations, by mean drive."""
        order = np.lexsort((self.cost_gbp_per_year, self.mean_travel_min))
        keep: list[int] = []
        best_cost = np.inf
        for i in order:
            if self.cost_gbp_per_year[i] < best_cost - 1e-6:
                if keep and abs(self.mean_travel_min[i] - self.mean_travel_min[keep[-1]]) \
                        <= T_TOL_MIN:
                    keep[-1] = int(i)
                else:
                    keep.append(int(i))
                best_cost = float(self.cost_gbp_per_year[i])
        return np.asarray(keep, dtype=np.int64)


def configuration_count(instance: Instance) -> int:
    """Number of configurations (one option per site)."""
    return int(np.prod([len(s.options) for s in instance.sites], dtype=np.int64))


def enumerate_space(instance: Instance, settings: ModelSettings) -> Enumerated:
    """Evaluate every configuration of ``instance`` that meets the scenario's limits.

    Configuration-level limits (locks, capital, staff, isolated wards, site counts, cost bound,
    bed need, and a group's least possible rise under the equity limit) are vectorised; the
    assignment of each survivor is :func:`siteopt.wards.enumerate.assignment_lp_detail` per
    service, cached by that service's per-site beds, so configurations sharing the beds of a
    service share its LP (under an equity limit, see :func:`least_travel_by_group`).
    """
    start = time.perf_counter()
    sizes = [len(site.options) for site in instance.sites]
    grid = np.indices(sizes).reshape(len(sizes), -1).T
    sums = configuration_sums(instance, grid)
    keep = meets_limits(instance, settings, grid, sums)
    idx = np.flatnonzero(keep)
    if settings.max_group_mean_travel_increase_min is not None:
        idx = idx[meets_equity_bound(instance, settings, [u[idx] > 0 for u in sums.usable])]
    travel, ok, groups = least_travel_by_group(instance, settings, idx, sums.usable)
    if settings.max_mean_travel_min is not None:
        ok &= travel <= settings.max_mean_travel_min + 1e-7
    idx, travel = idx[ok], travel[ok]
    groups = {g: t[ok] for g, t in groups.items()}
    choices = [{site.site_id: site.options[grid[c, j]].option_id
                for j, site in enumerate(instance.sites)} for c in idx]
    beds = {v: np.stack([np.array([o.beds.get(v, 0) for o in site.options])[grid[idx, j]]
                         for j, site in enumerate(instance.sites)], axis=1).sum(axis=1)
            for v in instance.services}
    return Enumerated(
        n_configurations=len(grid),
        n_meeting_limits=len(idx),
        choices=choices,
        mean_travel_min=travel,
        cost_gbp_per_year=sums.cost[idx],
        net_capital_gbp=(sums.capex - sums.disposals)[idx],
        capex_gbp=sums.capex[idx],
        beds={v: np.asarray(b, dtype=np.int64) for v, b in beds.items()},
        sites_with_beds=np.asarray(sums.inpatient_sites[idx], dtype=np.int64),
        seconds=time.perf_counter() - start,
        group_mean_travel_min=groups,
    )


@dataclass(frozen=True, eq=False)
class ConfigurationSums:
    """Per configuration (a row of the grid): the sums the limits and measures need."""

    capex: FloatArray
    disposals: FloatArray
    cost: FloatArray
    """Revenue plus annualised capital (GBP per year)."""
    inpatient_sites: FloatArray
    usable: list[FloatArray]
    """Per service, shape (configurations, sites): each site's usable beds."""


def per_configuration(instance: Instance, grid: npt.NDArray[np.intp],
                      fn: Callable[[str, Any], float]) -> FloatArray:
    """``sum over sites of fn(site_id, option)`` for every configuration of ``grid``.

    Parameters
    ----------
    instance : Instance
    grid : ndarray of int, shape (configurations, sites)
        Each configuration's option position at every site.
    fn : callable
        (site_id, SiteOption) -> float.
    """
    acc = np.zeros(len(grid))
    for j, site in enumerate(instance.sites):
        vals = np.array([fn(site.site_id, o) for o in site.options], dtype=np.float64)
        acc += vals[grid[:, j]]
    return acc


def configuration_sums(instance: Instance, grid: npt.NDArray[np.intp]) -> ConfigurationSums:
    """Capex, disposals (linked receipts where realised), annual cost, inpatient sites and
    per-site usable beds of every configuration of ``grid``."""
    usable = [np.stack([np.array([o.usable_beds.get(v, 0.0) for o in site.options])[grid[:, j]]
                        for j, site in enumerate(instance.sites)], axis=1)
              for v in instance.services]
    return ConfigurationSums(
        capex=per_configuration(instance, grid, lambda _s, o: o.capex_gbp),
        disposals=per_configuration(instance, grid, lambda _s, o: o.disposal_gbp)
        + linked_receipts(instance, grid),
        cost=per_configuration(instance, grid,
                               lambda _s, o: o.revenue_gbp_per_year + o.capital_gbp_per_year),
        inpatient_sites=per_configuration(instance, grid, lambda _s, o: float(o.inpatient)),
        usable=usable,
    )


def linked_receipts(instance: Instance, grid: npt.NDArray[np.intp]) -> FloatArray:
    """Per configuration of ``grid``: the linked receipts it realises (its site's option
    triggers the scheme and every site the receipt needs closed keeps no ward), by masks."""
    acc = np.zeros(len(grid))
    for link in instance.linked_receipts:
        site = instance.sites[link.site_idx]
        trig = np.array([o.option_id in link.option_ids for o in site.options], dtype=bool)
        mask = trig[grid[:, link.site_idx]]
        for j in link.closed_site_idx:
            shut = np.array([not o.inpatient for o in instance.sites[j].options], dtype=bool)
            mask &= shut[grid[:, j]]
        acc += link.receipt_gbp * mask
    return acc


def meets_limits(instance: Instance, settings: ModelSettings, grid: npt.NDArray[np.intp],
                 sums: ConfigurationSums) -> npt.NDArray[np.bool_]:
    """Which configurations of ``grid`` meet the locks, the configuration-level limits and the
    bed need (usable beds at least the need of every service)."""
    s = settings
    keep = np.ones(len(grid), dtype=bool)
    for j, site in enumerate(instance.sites):
        allowed = np.array([
            (site.site_id not in s.force_open or o.inpatient)
            and (site.site_id not in s.force_closed or not o.inpatient)
            and s.fixed_options.get(site.site_id, o.option_id) == o.option_id
            for o in site.options])
        keep &= allowed[grid[:, j]]
    if s.capital_limit_gbp is not None:
        cap = sums.capex - sums.disposals if s.capital_basis == "net" else sums.capex
        keep &= cap <= s.capital_limit_gbp + 1e-6
    if s.max_staff_wte_rn is not None:
        keep &= per_configuration(instance, grid, lambda _s, o: o.staff_wte_rn) <= (
            s.max_staff_wte_rn + 1e-9)
    if s.max_staff_wte_total is not None:
        keep &= per_configuration(instance, grid, lambda _s, o: o.staff_wte_total) <= (
            s.max_staff_wte_total + 1e-9)
    if s.max_isolated_wards is not None:
        keep &= per_configuration(
            instance, grid,
            lambda sid, o: float(o.isolated and sid not in s.isolated_allowed_sites),
        ) <= s.max_isolated_wards
    if s.min_inpatient_sites is not None:
        keep &= sums.inpatient_sites >= s.min_inpatient_sites
    if s.max_inpatient_sites is not None:
        keep &= sums.inpatient_sites <= s.max_inpatient_sites
    if s.max_cost_gbp_per_year is not None:
        keep &= sums.cost <= s.max_cost_gbp_per_year + 1e-6
    for k in range(len(instance.services)):
        keep &= sums.usable[k].sum(axis=1) >= instance.total_demand_beds[k] - 1e-9
    return keep


def least_travel(instance: Instance, settings: ModelSettings, idx: npt.NDArray[np.intp],
                 usable: list[FloatArray]) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """The least-travel assignment's mean drive of each configuration ``idx``, and whether one
    exists (under the equity limits, if the scenario sets them).

    One :func:`siteopt.wards.enumerate.assignment_lp_detail` per service, cached by that
    service's per-site usable beds; a configuration's LPs stop at its first infeasible service.
    """
    travel, ok, _groups = least_travel_by_group(instance, settings, idx, usable)
    return travel, ok


def least_travel_by_group(
    instance: Instance, settings: ModelSettings, idx: npt.NDArray[np.intp],
    usable: list[FloatArray],
) -> tuple[FloatArray, npt.NDArray[np.bool_], dict[str, FloatArray]]:
    """:func:`least_travel` and each group's mean drive per configuration (NaN where there is
    no assignment).

    Per service, the least-travel LP is cached by the service's per-site beds; under an equity
    limit a configuration whose least-travel assignments break it gets one LP of all services
    with the equity rows (:func:`siteopt.wards.enumerate.least_travel_under_equity`), cached by
    every service's beds.
    """
    cache: dict[tuple[int, tuple[float, ...]], AssignmentLP] = {}
    joint: dict[tuple[tuple[float, ...], ...], tuple[float, bool, dict[str, float]]] = {}
    travel = np.zeros(len(idx))
    ok = np.ones(len(idx), dtype=bool)
    groups: dict[str, FloatArray] = {}
    for n, c in enumerate(idx):
        lps: list[AssignmentLP] = []
        keys = tuple(tuple(usable[k][c].tolist()) for k in range(len(instance.services)))
        for k, key in enumerate(keys):
            if (k, key) not in cache:
                cache[(k, key)] = assignment_lp_detail(
                    instance, settings, usable[k][c].astype(np.float64), k)
            lps.append(cache[(k, key)])
            if not lps[-1].feasible:
                break
        if not lps[-1].feasible:
            ok[n] = False
            continue
        means = {g: float(sum(lp.group_parts[g] for lp in lps)) for g in lps[0].group_parts}
        travel[n] = float(sum(lp.value for lp in lps))
        if settings.equity_limited:
            if keys not in joint:
                joint[keys] = least_travel_under_equity(
                    instance, settings, [u[c].astype(np.float64) for u in usable], lps)
            travel[n], ok[n], means = joint[keys]
        for g, t in means.items():
            groups.setdefault(g, np.full(len(idx), np.nan))[n] = t
    return travel, ok, groups

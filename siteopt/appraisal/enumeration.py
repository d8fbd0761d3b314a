"""Every configuration within the scenario's limits, when the configuration
space is small enough to list.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from siteopt.appraisal.settings import T_TOL_MIN
from siteopt.wards.enumerate import assignment_lp
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
    bed need) are vectorised; the assignment of each survivor is
    :func:`siteopt.wards.enumerate.assignment_lp` per service, cached by that service's per-site
    beds, so configurations sharing the beds of a service share its LP.
    """
    start = time.perf_counter()
    s = settings
    sizes = [len(site.options) for site in instance.sites]
    grid = np.indices(sizes).reshape(len(sizes), -1).T
    n_conf = len(grid)

    def per(fn: Callable[[str, Any], float]) -> FloatArray:
        acc = np.zeros(n_conf)
        for j, site in enumerate(instance.sites):
            vals = np.array([fn(site.site_id, o) for o in site.options], dtype=np.float64)
            acc += vals[grid[:, j]]
        return acc

    keep = np.ones(n_conf, dtype=bool)
    for j, site in enumerate(instance.sites):
        allowed = np.array([
            (site.site_id not in s.force_open or o.inpatient)
            and (site.site_id not in s.force_closed or not o.inpatient)
            and s.fixed_options.get(site.site_id, o.option_id) == o.option_id
            for o in site.options])
        keep &= allowed[grid[:, j]]
    capex = per(lambda _s, o: o.capex_gbp)
    disp = per(lambda _s, o: o.disposal_gbp)
    cost = per(lambda _s, o: o.revenue_gbp_per_year + o.capital_gbp_per_year)
    if s.capital_limit_gbp is not None:
        cap = capex - disp if s.capital_basis == "net" else capex
        keep &= cap <= s.capital_limit_gbp + 1e-6
    if s.max_staff_wte_rn is not None:
        keep &= per(lambda _s, o: o.staff_wte_rn) <= s.max_staff_wte_rn + 1e-9
    if s.max_staff_wte_total is not None:
        keep &= per(lambda _s, o: o.staff_wte_total) <= s.max_staff_wte_total + 1e-9
    if s.max_isolated_wards is not None:
        keep &= per(lambda sid, o: float(o.isolated and sid not in s.isolated_allowed_sites)
                    ) <= s.max_isolated_wards
    n_in = per(lambda _s, o: float(o.inpatient))
    if s.min_inpatient_sites is not None:
        keep &= n_in >= s.min_inpatient_sites
    if s.max_inpatient_sites is not None:
        keep &= n_in <= s.max_inpatient_sites
    if s.max_cost_gbp_per_year is not None:
        keep &= cost <= s.max_cost_gbp_per_year + 1e-6
    usable = []
    for k, v in enumerate(instance.services):
        u = np.stack([np.array([o.usable_beds.get(v, 0.0) for o in site.options])[grid[:, j]]
                      for j, site in enumerate(instance.sites)], axis=1)
        usable.append(u)
        keep &= u.sum(axis=1) >= instance.total_demand_beds[k] - 1e-9
    idx = np.flatnonzero(keep)
    cache: dict[tuple[int, tuple[float, ...]], tuple[float, bool]] = {}
    travel = np.zeros(len(idx))
    ok = np.ones(len(idx), dtype=bool)
    for n, c in enumerate(idx):
        for k in range(len(instance.services)):
            key = (k, tuple(usable[k][c].tolist()))
            if key not in cache:
                cache[key] = assignment_lp(instance, s, usable[k][c].astype(np.float64), k)
            val, feasible = cache[key]
            if not feasible:
                ok[n] = False
                break
            travel[n] += val
    if s.max_mean_travel_min is not None:
        ok &= travel <= s.max_mean_travel_min + 1e-7
    idx, travel = idx[ok], travel[ok]
    choices = [{site.site_id: site.options[grid[c, j]].option_id
                for j, site in enumerate(instance.sites)} for c in idx]
    beds = {v: np.stack([np.array([o.beds.get(v, 0) for o in site.options])[grid[idx, j]]
                         for j, site in enumerate(instance.sites)], axis=1).sum(axis=1)
            for v in instance.services}
    return Enumerated(
        n_configurations=n_conf,
        n_meeting_limits=len(idx),
        choices=choices,
        mean_travel_min=travel,
        cost_gbp_per_year=cost[idx],
        net_capital_gbp=(capex - disp)[idx],
        capex_gbp=capex[idx],
        beds={v: np.asarray(b, dtype=np.int64) for v, b in beds.items()},
        sites_with_beds=np.asarray(n_in[idx], dtype=np.int64),
        seconds=time.perf_counter() - start,
    )

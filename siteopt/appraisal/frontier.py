"""The cost/access Pareto frontier, by the epsilon-constraint walk or read off
the enumeration.

The frontier is annual cost (revenue plus annualised capital) against the 65+ mean drive time.
The epsilon-constraint walk (:func:`epsilon_walk`) starts from the least mean drive; then it
repeatedly minimises the mean drive with the cost at most the last point's cost less the cost
step, and makes the point efficient by minimising the cost at that mean drive. It stops at the
least-cost point, so every efficient point is found (points closer in cost than the step are
treated as one). The oracle is the MILP (:func:`pareto_frontier`) or the enumeration
(:func:`pareto_from_enumeration`); :func:`frontier_matches` compares a frontier with the
enumeration's efficient set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from siteopt.appraisal.enumeration import Enumerated
from siteopt.appraisal.measures import annual_cost, mean_travel
from siteopt.appraisal.settings import T_TOL_MIN
from siteopt.runs.pipeline import Prepared
from siteopt.wards.results import (
    Solution,
)
from siteopt.wards.solve import SolverOptions, optimise


def epsilon_walk(efficient: Callable[[float | None], Any], cost_of: Callable[[Any], float],
                 least_cost_gbp: float, cost_step_gbp: float, max_points: int = 500
                 ) -> list[Any]:
    """The epsilon-constraint walk along the frontier, from the least mean drive to the least cost.

    ``efficient(cap)`` returns the efficient point with the least mean drive among those with
    cost at most ``cap`` (None: no cap): least mean drive first, then least cost at that drive.
    The next cap is the last point's cost less ``cost_step_gbp``; the walk stops at the least
    cost, so no efficient point is skipped.
    """
    points = [efficient(None)]
    while len(points) < max_points:
        g_last = cost_of(points[-1])
        if g_last <= least_cost_gbp + cost_step_gbp:
            break
        points.append(efficient(g_last - cost_step_gbp))
    return points


def pareto_frontier(prepared: Prepared, options: SolverOptions, cost_step_gbp: float,
                    max_points: int = 500) -> list[Solution]:
    """Every efficient (mean drive, annual cost) point by the epsilon-constraint method on the
    MILP (each point: least mean drive under the cost cap, then least cost at that drive).

    Returned from the least mean drive to the least cost. Solved to a relative gap of 1e-9.
    """
    inst = prepared.instance
    base = prepared.scenario.model
    exact = dataclasses.replace(options, gap_rel=1e-9)

    def efficient(cost_cap: float | None) -> Solution:
        if cost_cap is None:
            cost_cap = base.max_cost_gbp_per_year
        # the cost step below breaks ties itself: no tie-break stages here
        a = optimise(inst, dataclasses.replace(base, objective="access",
                                               max_cost_gbp_per_year=cost_cap),
                     dataclasses.replace(exact, break_ties=False))
        bound = mean_travel(inst, a) * (1 + 1e-9) + T_TOL_MIN
        if base.max_mean_travel_min is not None:
            bound = min(bound, base.max_mean_travel_min)
        return optimise(inst, dataclasses.replace(base, objective="cost",
                                                  max_mean_travel_min=bound,
                                                  max_cost_gbp_per_year=cost_cap), exact,
                        initial_choice=a.choice)

    cheapest = optimise(inst, dataclasses.replace(base, objective="cost"), exact)
    g_min = annual_cost(inst, cheapest.choice)
    out: list[Solution] = epsilon_walk(efficient, lambda s: annual_cost(inst, s.choice), g_min,
                                       cost_step_gbp, max_points)
    return out


def pareto_from_enumeration(enum: Enumerated, cost_step_gbp: float, max_points: int = 500
                            ) -> list[int]:
    """The same epsilon-constraint walk with the enumeration as the exact oracle.

    Returns positions into ``enum`` (from the least mean drive to the least cost).
    """
    t, g = enum.mean_travel_min, enum.cost_gbp_per_year
    if len(t) == 0:
        return []

    def efficient(cost_cap: float | None) -> int:
        ok = np.ones(len(t), dtype=bool) if cost_cap is None else g <= cost_cap + 1e-6
        t_min = float(t[ok].min())
        near = ok & (t <= t_min * (1 + 1e-9) + T_TOL_MIN)
        cand = np.flatnonzero(near)
        return int(cand[np.argmin(g[cand])])

    out: list[int] = epsilon_walk(efficient, lambda i: float(g[i]), float(g.min()),
                                  cost_step_gbp, max_points)
    return out


def frontier_matches(frontier: Sequence[tuple[float, float]], enum: Enumerated,
                     cost_step_gbp: float) -> tuple[bool, str]:
    """Compare the frontier's (mean drive, cost) points with the enumeration's efficient set."""
    eff = enum.efficient()
    ref = sorted((float(enum.mean_travel_min[i]), float(enum.cost_gbp_per_year[i])) for i in eff)
    got = sorted(frontier)
    if len(ref) != len(got):
        return False, (f"the frontier has {len(got)} points, the enumeration's efficient set "
                       f"{len(ref)}")
    for (t1, g1), (t2, g2) in zip(got, ref, strict=True):
        if abs(t1 - t2) > 1e-5 or abs(g1 - g2) > min(1.0, cost_step_gbp):
            return False, (f"point ({t1:.4f} min, £{g1:,.0f}) differs from the enumeration's "
                           f"({t2:.4f} min, £{g2:,.0f})")
    return True, f"all {len(got)} points equal the enumeration's efficient set"

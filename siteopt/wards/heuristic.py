"""Warm starts for large instances: zone aggregation, then the same MILP on the small model.

Zones whose nearest sites are the same (the ``signature_sites`` nearest, in order) and whose
drive time to the nearest lies in the same ``band_min`` band are merged: demand and weight are
summed, the travel row is the weight-weighted mean of the members' rows (``inf`` to a site any
member cannot reach) and the local authority and IMD quintile are the first member's. The
aggregated instance is solved by :func:`siteopt.wards.solve.optimise` under a short time limit
and its configuration is the warm start of the full model. It is a heuristic: the full model may
reject it (a member zone may be further than the maximum drive time), in which case the solver
simply starts cold.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from siteopt.errors import SiteoptError
from siteopt.wards.instance import Instance, ModelSettings, Zones

DEFAULT_SIGNATURE_SITES = 2
DEFAULT_BAND_MIN = 10.0


def aggregate_zones(
    instance: Instance,
    *,
    signature_sites: int = DEFAULT_SIGNATURE_SITES,
    band_min: float = DEFAULT_BAND_MIN,
) -> tuple[Instance, np.ndarray]:
    """Merge zones with the same nearest sites and similar drive time.

    Returns
    -------
    Instance
        The aggregated instance (same sites and services).
    ndarray of int, shape (n_zones,)
        The aggregated zone of each original zone.
    """
    t = instance.travel_min
    k = min(signature_sites, instance.n_sites)
    order = np.argsort(t, axis=1, kind="stable")[:, :k]
    nearest = np.take_along_axis(t, order[:, :1], axis=1)[:, 0]
    band = np.where(np.isfinite(nearest), np.floor(nearest / band_min), -1).astype(np.int64)
    keys = np.concatenate([order, band[:, None]], axis=1)
    _, group = np.unique(keys, axis=0, return_inverse=True)
    group = group.ravel()
    n_groups = int(group.max()) + 1
    z = instance.zones
    weight = np.asarray(np.bincount(group, weights=z.weight, minlength=n_groups), np.float64)
    demand = np.asarray(
        [
            np.bincount(group, weights=z.demand_beds[:, v], minlength=n_groups)
            for v in range(len(instance.services))
        ],
        dtype=np.float64,
    ).T
    # weight-weighted mean travel rows (plain mean where a group has no weight)
    w_eff = np.where(weight[group] > 0, z.weight, 1.0)
    finite = np.isfinite(t)
    t0 = np.where(finite, t, 0.0)
    sums = np.zeros((n_groups, instance.n_sites))
    np.add.at(sums, group, t0 * w_eff[:, None])
    norm = np.bincount(group, weights=w_eff, minlength=n_groups)
    travel = sums / norm[:, None]
    unreachable = np.zeros((n_groups, instance.n_sites), dtype=bool)
    np.logical_or.at(unreachable, group, ~finite)
    travel[unreachable] = np.inf
    first = np.full(n_groups, -1)
    for i, g in enumerate(group):
        if first[g] < 0:
            first[g] = i
    zones = Zones(
        zone_ids=tuple(f"agg{g}" for g in range(n_groups)),
        demand_beds=demand,
        weight=weight,
        lad_name=tuple(z.lad_name[i] for i in first),
        imd_quintile=z.imd_quintile[first],
    )
    agg = replace(instance, zones=zones, travel_min=travel, name=f"{instance.name}_aggregated")
    return agg, group


def greedy_choice(
    instance: Instance,
    settings: ModelSettings,
    *,
    time_limit_s: float = 20.0,
    signature_sites: int = DEFAULT_SIGNATURE_SITES,
    band_min: float = DEFAULT_BAND_MIN,
) -> dict[str, str] | None:
    """A configuration to warm start from: the optimum (or incumbent) of the aggregated model.

    Returns None if the aggregated model has no solution within ``time_limit_s``.
    """
    from siteopt.wards.solve import SolverOptions, optimise

    agg, _ = aggregate_zones(instance, signature_sites=signature_sites, band_min=band_min)
    try:
        sol = optimise(
            agg,
            settings,
            SolverOptions(solver="highs", time_limit_s=time_limit_s),
            polish_assignment=False,
        )
    except SiteoptError:
        return None
    return dict(sol.choice)

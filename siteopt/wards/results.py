"""The result of a solve or an evaluation, its measures, and its deterministic JSON.

A :class:`Solution` is the same object whether the configuration was optimised
(:func:`siteopt.wards.solve.optimise`) or fixed and evaluated
(:func:`siteopt.wards.solve.evaluate`): the
chosen option per site, the assignment of zones to sites, the solver's honest status, and the
violations the independent checker (:mod:`siteopt.wards.verify`) found.

:func:`solution_to_dict` gives the JSON schema of ``siteopt solve --format json``; :func:`dumps`
writes it with sorted keys and rounded floats so the same inputs give byte-identical output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from siteopt.solver_core import status_text
from siteopt.wards.instance import FloatArray, Instance, IntArray

REPORT_WITHIN_MIN = 30.0
"""The drive time of the ``share_within_30_min`` measure."""

FLOAT_DIGITS = 6
SHARE_EPS = 1e-7
"""Assignment shares below this are solver noise and left out of the output."""


@dataclass(frozen=True, eq=False)
class Assignment:
    """Sparse assignment: parallel arrays of zone, site and service positions and the share."""

    zone_idx: IntArray
    site_idx: IntArray
    service_idx: IntArray
    share: FloatArray

    @staticmethod
    def empty() -> Assignment:
        e = np.zeros(0, dtype=np.int64)
        return Assignment(e, e.copy(), e.copy(), np.zeros(0))

    def __len__(self) -> int:
        return len(self.share)


@dataclass(frozen=True, eq=False)
class Solution:
    """A configuration (one option per site) with its assignment and solver status.

    Attributes
    ----------
    status : str
        ``"optimal"``, ``"feasible"`` (stopped with a solution, see ``gap``) or ``"infeasible"``.
    gap : float or None
        Relative MIP gap reported by the solver (0 when proven optimal).
    objective : float or None
        Objective value in the model's units (minutes, £/year or the weighted sum).
    objective_mode : str
    solver : str
    choice : Mapping[str, str]
        site_id -> option_id.
    assignment : Assignment
    build_time_s, solve_time_s : float
    evaluated : bool
        True if the configuration was fixed (status quo, a proposal), not optimised.
    label : str
    violations : tuple of str
        What :func:`siteopt.wards.verify.check_solution` found (empty = passes).
    """

    status: str
    gap: float | None
    objective: float | None
    objective_mode: str
    solver: str
    choice: Mapping[str, str]
    assignment: Assignment
    build_time_s: float = 0.0
    solve_time_s: float = 0.0
    evaluated: bool = False
    label: str = ""
    violations: tuple[str, ...] = field(default_factory=tuple)

    @property
    def status_text(self) -> str:
        """``optimal``, ``feasible (gap x%)`` or ``infeasible``, as the issue spells them
        (:func:`siteopt.solver_core.status_text`)."""
        return status_text(self.status, self.gap)


def _share_array(instance: Instance, a: Assignment) -> tuple[FloatArray, FloatArray]:
    """Per assignment row: travel minutes and the zone weight."""
    t = instance.travel_min[a.zone_idx, a.site_idx]
    w = instance.zones.weight[a.zone_idx]
    return np.asarray(t, dtype=np.float64), np.asarray(w, dtype=np.float64)


def service_shares(instance: Instance) -> FloatArray:
    """Each service's share of total bed need (equal shares if there is none)."""
    total = instance.total_demand_beds
    if total.sum() <= 0:
        return np.full(len(instance.services), 1.0 / len(instance.services))
    return np.asarray(total / total.sum(), dtype=np.float64)


def access_measures(
    instance: Instance,
    assignment: Assignment,
    zone_mask: np.ndarray | None = None,
    within_min: float = REPORT_WITHIN_MIN,
) -> dict[str, float]:
    """Weighted mean and max drive time and share within ``within_min``, for a group of zones.

    Services are combined in proportion to their bed need (as in the model's objective).
    """
    a = assignment
    t, w = _share_array(instance, a)
    keep = a.share > SHARE_EPS
    if zone_mask is not None:
        keep &= zone_mask[a.zone_idx]
    weight = instance.zones.weight if zone_mask is None else instance.zones.weight[zone_mask]
    total_w = float(weight.sum())
    beta = service_shares(instance)
    b = beta[a.service_idx]
    if total_w <= 0 or not keep.any():
        return {
            "weight": total_w,
            "mean_travel_min": 0.0,
            "max_travel_min": 0.0,
            f"share_within_{within_min:g}_min": 0.0,
        }
    wx = (w * a.share * b)[keep]
    mean = float((wx * t[keep]).sum() / total_w)
    within = float(wx[t[keep] <= within_min].sum() / total_w)
    pos = keep & (w > 0)
    mx = float(t[pos].max()) if pos.any() else 0.0
    return {
        "weight": total_w,
        "mean_travel_min": mean,
        "max_travel_min": mx,
        f"share_within_{within_min:g}_min": within,
    }


def totals(instance: Instance, choice: Mapping[str, str]) -> dict[str, Any]:
    """Beds, sites, capital, revenue and staff of a configuration.

    ``disposals_gbp`` and ``net_capital_gbp`` count a linked receipt (one that needs other
    sites closed, :class:`~siteopt.wards.instance.LinkedReceipt`) only where it is realised;
    ``receipts_gbp_by_scheme`` gives, per linked scheme the configuration triggers, the receipt
    it realises (0 if a site it needs closed keeps beds).
    """
    beds = {v: 0 for v in instance.services}
    usable = {v: 0.0 for v in instance.services}
    out = {
        "capex_gbp": 0.0,
        "disposals_gbp": 0.0,
        "revenue_gbp_per_year": 0.0,
        "capital_gbp_per_year": 0.0,
        "staff_wte_rn": 0.0,
        "staff_wte": 0.0,
    }
    sites_with_beds = paired = isolated = 0
    for site in instance.sites:
        opt = site.option(choice[site.site_id])
        for v in instance.services:
            beds[v] += int(opt.beds.get(v, 0))
            usable[v] += float(opt.usable_beds.get(v, 0.0))
        out["capex_gbp"] += opt.capex_gbp
        out["disposals_gbp"] += opt.disposal_gbp
        out["revenue_gbp_per_year"] += opt.revenue_gbp_per_year
        out["capital_gbp_per_year"] += opt.capital_gbp_per_year
        out["staff_wte_rn"] += opt.staff_wte_rn
        out["staff_wte"] += opt.staff_wte_total
        sites_with_beds += opt.inpatient
        paired += opt.paired
        isolated += opt.isolated
    linked = instance.realised_receipts(choice)
    out["disposals_gbp"] += sum(linked.values())
    return {
        **out,
        "receipts_gbp_by_scheme": dict(sorted(linked.items())),
        "beds": beds,
        "usable_beds": usable,
        "net_capital_gbp": out["capex_gbp"] - out["disposals_gbp"],
        "cost_gbp_per_year": out["revenue_gbp_per_year"] + out["capital_gbp_per_year"],
        "sites_with_beds": sites_with_beds,
        "paired_sites": paired,
        "isolated_wards": isolated,
    }


def objective_from_measures(objective: str, mean_travel_min: float, cost_gbp_per_year: float,
                            travel_weight: float = 1.0,
                            cost_weight_per_gbp_m: float = 1.0) -> float:
    """The model's objective recomputed from a configuration's measures (see
    :mod:`siteopt.wards.model`), so optimised and evaluated options can be compared and ranked."""
    if objective == "access":
        return float(mean_travel_min)
    if objective == "cost":
        return float(cost_gbp_per_year)
    return float(travel_weight * mean_travel_min
                 + cost_weight_per_gbp_m * cost_gbp_per_year / 1e6)


def _round(obj: Any) -> Any:
    if isinstance(obj, float | np.floating):
        val = round(float(obj), FLOAT_DIGITS)
        return 0.0 if val == 0 else val
    if isinstance(obj, dict):
        return {str(k): _round(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_round(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def solution_to_dict(instance: Instance, solution: Solution) -> dict[str, Any]:
    """The JSON object of ``siteopt solve --format json`` (see the module docstring)."""
    sites = []
    for site in instance.sites:
        opt = site.option(solution.choice[site.site_id])
        before = site.option(site.current_option_id) if site.current_option_id is not None else None
        sites.append(
            {
                "site_id": site.site_id,
                "name": site.name,
                "option_id": opt.option_id,
                "wards": {v: int(opt.wards.get(v, 0)) for v in instance.services},
                "beds": {v: int(opt.beds.get(v, 0)) for v in instance.services},
                "beds_before": (
                    None
                    if before is None
                    else {v: int(before.beds.get(v, 0)) for v in instance.services}
                ),
                "inpatient": opt.inpatient,
                "paired": opt.paired,
            }
        )
    zones = instance.zones
    lads = np.asarray(zones.lad_name)
    by_lad = {
        str(lad): access_measures(instance, solution.assignment, lads == lad)
        for lad in sorted(set(zones.lad_name))
    }
    by_imd = {
        str(int(q)): access_measures(instance, solution.assignment, zones.imd_quintile == q)
        for q in sorted(set(zones.imd_quintile.tolist()))
    }
    a = solution.assignment
    rows = sorted(
        (
            zones.zone_ids[int(z)],
            instance.sites[int(s)].site_id,
            instance.services[int(v)],
            float(sh),
        )
        for z, s, v, sh in zip(a.zone_idx, a.site_idx, a.service_idx, a.share, strict=True)
        if sh > SHARE_EPS
    )
    out: dict[str, Any] = _round(
        {
            "status": solution.status_text,
            "gap": solution.gap,
            "objective": solution.objective,
            "objective_mode": solution.objective_mode,
            "solver": solution.solver,
            "evaluated": solution.evaluated,
            "label": solution.label,
            "sites": sites,
            "totals": totals(instance, solution.choice),
            "access": access_measures(instance, solution.assignment),
            "access_by_lad": by_lad,
            "access_by_imd_quintile": by_imd,
            "assignment": [
                {"zone_id": z, "site_id": s, "service": v, "share": sh} for z, s, v, sh in rows
            ],
            "violations": list(solution.violations),
        }
    )
    return out


def dumps(instance: Instance, solution: Solution) -> str:
    """Deterministic JSON text (sorted keys, rounded floats, no timings)."""
    return json.dumps(solution_to_dict(instance, solution), sort_keys=True, indent=1) + "\n"

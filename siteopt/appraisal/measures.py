"""What every option is measured by: beds, 65+ drive times overall and by
group, capital, revenue, staff and Erlang refusal per site.

Also the record of one option of the long list (:class:`OptionResult`), its ward signature
(what makes two options different), :func:`evaluate_choice` (any configuration through the
pipeline's evaluation) and the model's two axes, :func:`mean_travel` and :func:`annual_cost`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from siteopt.appraisal.settings import WITHIN_MIN, AppraisalSettings
from siteopt.catalogue.capacity import erlang_b
from siteopt.runs.pipeline import Prepared, bed_shortfall, evaluate_configuration
from siteopt.wards.instance import FloatArray, Instance, equity_limit_notes
from siteopt.wards.results import (
    SHARE_EPS,
    Solution,
    service_shares,
    totals,
)


# ---------------------------------------------------------------------------------------------
# Measures
# ---------------------------------------------------------------------------------------------
def weighted_quantile(values: FloatArray, weights: FloatArray, q: float) -> float:
    """The smallest value whose cumulative weight reaches ``q`` of the total (0 if no weight)."""
    keep = weights > 0
    if not keep.any():
        return 0.0
    v, w = values[keep], weights[keep]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    pos = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-12), side="left"))
    return float(v[order][min(pos, len(v) - 1)])


def weighted_assignment_rows(
    instance: Instance, solution: Solution
) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray]:
    """Per assignment row: zone, drive minutes and 65+ weight (zone weight x share x beta)."""
    a = solution.assignment
    beta = service_shares(instance)
    keep = a.share > SHARE_EPS
    zone = a.zone_idx[keep]
    t = instance.travel_min[zone, a.site_idx[keep]]
    w = instance.zones.weight[zone] * a.share[keep] * beta[a.service_idx[keep]]
    return zone, np.asarray(t, dtype=np.float64), np.asarray(w, dtype=np.float64)


def access_summary(instance: Instance, solution: Solution,
                   zone_mask: npt.NDArray[np.bool_] | None = None) -> dict[str, float]:
    """65+ drive time: mean, 90th percentile, max, share within 20/30/45 minutes.

    Each zone's 65+ population is split over the sites that serve it, per service in
    proportion to the service's share of bed need (as the model's objective).
    """
    zone, t, w = weighted_assignment_rows(instance, solution)
    weight = instance.zones.weight
    if zone_mask is not None:
        sel = zone_mask[zone]
        zone, t, w = zone[sel], t[sel], w[sel]
        total = float(weight[zone_mask].sum())
    else:
        total = float(weight.sum())
    out = {"people_65_plus": total}
    if total <= 0 or len(t) == 0:
        out.update({"mean_travel_min": 0.0, "p90_travel_min": 0.0, "max_travel_min": 0.0})
        out.update({f"share_within_{m:g}_min": 0.0 for m in WITHIN_MIN})
        return out
    out["mean_travel_min"] = float((w * t).sum() / total)
    out["p90_travel_min"] = weighted_quantile(t, w, 0.9)
    out["max_travel_min"] = float(t[w > 0].max()) if (w > 0).any() else 0.0
    for m in WITHIN_MIN:
        out[f"share_within_{m:g}_min"] = float(w[t <= m + 1e-9].sum() / total)
    return out


def zone_mean_travel(instance: Instance, solution: Solution) -> FloatArray:
    """Each zone's 65+ mean drive minutes (services combined by bed-need share)."""
    zone, t, w = weighted_assignment_rows(instance, solution)
    wz = instance.zones.weight
    num = np.bincount(zone, weights=w * t, minlength=instance.n_zones)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(wz > 0, num / np.where(wz > 0, wz, 1.0), 0.0)
    return np.asarray(out, dtype=np.float64)


def site_refusal(instance: Instance, solution: Solution, target_occupancy: float
                 ) -> dict[str, dict[str, dict[str, float]]]:
    """Erlang B refusal probability per site and service with the assigned need.

    The offered load (Erlangs) is the mean number of occupied beds the assigned zones need:
    bed need (at the target occupancy) x target occupancy.
    """
    a = solution.assignment
    out: dict[str, dict[str, dict[str, float]]] = {}
    load = np.zeros((instance.n_sites, len(instance.services)))
    d = instance.zones.demand_beds
    np.add.at(load, (a.site_idx, a.service_idx), d[a.zone_idx, a.service_idx] * a.share)
    load *= target_occupancy
    for j, site in enumerate(instance.sites):
        opt = site.option(solution.choice[site.site_id])
        per: dict[str, dict[str, float]] = {}
        for k, svc in enumerate(instance.services):
            beds = int(opt.beds.get(svc, 0))
            if beds > 0:
                per[svc] = {"beds": float(beds), "load_erlangs": float(load[j, k]),
                            "refusal_probability": erlang_b(beds, float(load[j, k]))}
        if per:
            out[site.site_id] = per
    return out


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class OptionResult:
    """One option of the long list with every measure.

    Attributes
    ----------
    name : str
        Unique key (``status_quo``, ``stp_2016``, ``optimal``, ``next_best_1``, ``pareto_3``, a
        user's name).
    sources : tuple of str
        How the option entered the long list (an option found twice lists both).
    choice : dict
        site_id -> option_id (in the evaluation instance).
    solution : Solution
    measures : dict
        See :func:`option_measures`.
    hurdles : dict
        Hurdle name -> None (passed) or the reason it failed.
    economics : dict
        Green Book figures and the NPV against the status quo.
    """

    name: str
    sources: tuple[str, ...]
    choice: dict[str, str]
    solution: Solution
    measures: dict[str, Any]
    hurdles: dict[str, str | None] = field(default_factory=dict)
    economics: dict[str, Any] = field(default_factory=dict)

    @property
    def shortlisted(self) -> bool:
        """True if the option passes every hurdle."""
        return all(v is None for v in self.hurdles.values())


def ward_signature(instance: Instance, choice: Mapping[str, str]) -> tuple[tuple[int, ...], ...]:
    """Per site, the number of wards of each service: what makes two options different."""
    return tuple(
        tuple(int(site.option(choice[site.site_id]).wards.get(v, 0)) for v in instance.services)
        for site in instance.sites
    )


def space_providers(prepared: Prepared, default: str) -> dict[str, str]:
    """space_id -> provider, from wards.csv (first mention wins)."""
    out: dict[str, str] = {}
    wards = prepared.data.wards
    if "provider" in wards.columns:
        for space, prov in zip(wards["space_id"], wards["provider"], strict=True):
            out.setdefault(str(space), str(prov) if str(prov) not in ("", "nan") else default)
    return out


def option_measures(prepared: Prepared, solution: Solution, settings: AppraisalSettings,
                    ) -> dict[str, Any]:
    """Beds, sites, access, capital, revenue, staff and Erlang refusal of one option."""
    inst = prepared.evaluation_instance
    choice = dict(solution.choice)
    tot = totals(inst, choice)
    providers = space_providers(prepared, settings.default_provider)
    beds_by_provider: dict[str, dict[str, int]] = {}
    sites: dict[str, dict[str, Any]] = {}
    for site in inst.sites:
        opt = site.option(choice[site.site_id])
        for ward in prepared.catalogue.wards[site.site_id][opt.option_id]:
            prov = providers.get(ward.space_id, settings.default_provider)
            per = beds_by_provider.setdefault(prov, {v: 0 for v in inst.services})
            per[ward.service] += int(ward.beds)
        sites[site.site_id] = {
            "name": site.name,
            "lad_name": site.lad_name,
            "option_id": opt.option_id,
            "wards": {v: int(opt.wards.get(v, 0)) for v in inst.services},
            "beds": {v: int(opt.beds.get(v, 0)) for v in inst.services},
            "inpatient": opt.inpatient,
            "ward_pairing": "paired" if opt.paired else ("isolated" if opt.isolated else ""),
        }
    zones = inst.zones
    lads = np.asarray(zones.lad_name)
    shortfall = bed_shortfall(inst, choice)
    return {
        "sites": sites,
        "beds": tot["beds"],
        "beds_total": int(sum(tot["beds"].values())),
        "beds_by_provider": beds_by_provider,
        "usable_beds": tot["usable_beds"],
        "bed_need": dict(zip(inst.services, inst.total_demand_beds.tolist(), strict=True)),
        "bed_shortfall": {v: need - cap for v, (cap, need) in shortfall.items()},
        "sites_with_beds": tot["sites_with_beds"],
        "paired_sites": tot["paired_sites"],
        "isolated_wards": tot["isolated_wards"],
        "access": access_summary(inst, solution),
        "access_by_lad": {str(x): access_summary(inst, solution, lads == x)
                          for x in sorted(set(zones.lad_name))},
        "access_by_imd_quintile": {str(int(q)): access_summary(inst, solution,
                                                                zones.imd_quintile == q)
                                   for q in sorted(set(zones.imd_quintile.tolist()))},
        "capex_gbp": tot["capex_gbp"],
        "disposals_gbp": tot["disposals_gbp"],
        "net_capital_gbp": tot["net_capital_gbp"],
        "revenue_gbp_per_year": tot["revenue_gbp_per_year"],
        "capital_charge_gbp_per_year": tot["capital_gbp_per_year"],
        "cost_gbp_per_year": tot["cost_gbp_per_year"],
        "staff_wte": tot["staff_wte"],
        "staff_wte_rn": tot["staff_wte_rn"],
        "erlang_refusal": site_refusal(inst, solution, prepared.demand.target_occupancy),
        "status": solution.status_text,
        "violations": list(solution.violations),
        "equity_limit_breaches": equity_limit_breaches(prepared, solution),
    }


def equity_limit_breaches(prepared: Prepared, solution: Solution) -> list[str]:
    """The scenario's equity limits (group rise against business as usual, deprived gap) that
    an option breaks, in words; empty when the scenario sets none or the option meets them.
    Named options are evaluated as given, so they can break a limit the optimiser keeps."""
    s = prepared.scenario.model
    if s.max_group_mean_travel_increase_min is None and s.max_deprived_gap_min is None:
        return []
    a = solution.assignment
    notes = equity_limit_notes(prepared.evaluation_instance, s, a.zone_idx, a.site_idx,
                               a.service_idx, a.share)
    return [n for n in notes if "is broken" in n]


def evaluate_choice(prepared: Prepared, name: str, choice: Mapping[str, str]) -> Solution:
    """Evaluate any configuration through :func:`siteopt.runs.pipeline.evaluate_configuration`."""
    cat = dataclasses.replace(prepared.catalogue, configurations={
        **prepared.catalogue.configurations, name: dict(choice)})
    return evaluate_configuration(dataclasses.replace(prepared, catalogue=cat), name)


def mean_travel(instance: Instance, solution: Solution) -> float:
    """The model's mean drive time T of a solution (minutes)."""
    return access_summary(instance, solution)["mean_travel_min"]


def annual_cost(instance: Instance, choice: Mapping[str, str]) -> float:
    """The model's annual cost G: revenue plus annualised capital (GBP per year)."""
    return float(totals(instance, choice)["cost_gbp_per_year"])


def ensure_finite(x: float) -> float:
    """``x`` if finite, else 0 (for tables)."""
    return x if math.isfinite(x) else 0.0

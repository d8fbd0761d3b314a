"""Options appraisal: the long list, hurdles, measures, the Green Book economic case and "why".

Everything here is tables and matrices; the optimiser is used only through its public functions
(:func:`siteopt.solve.optimise`, :func:`siteopt.pipeline.evaluate_configuration`,
:func:`siteopt.enumerate.assignment_lp`).

The long list
    * **named options**: every configuration of ``wards.csv`` (``status_quo``, ``stp_2016``) and
      any a user lists in an options file (:func:`read_user_options`), evaluated by
      :func:`siteopt.pipeline.evaluate_configuration`, the same code path as every other option;
    * **optimal**: the scenario's optimum;
    * **next best N**: re-solves with a *no-good cut* per option found so far. Two options are
      the same if every site has the same number of wards of each service, so each new option
      differs in which sites keep beds or how many wards they run (bed counts alone do not
      make an option new). Objectives are non-decreasing by construction;
    * **Pareto frontier** of annual cost (revenue plus annualised capital) against the 65+ mean
      drive time, by the epsilon-constraint method: start from the least mean drive; then
      repeatedly minimise the mean drive with the cost at most the last point's cost less
      ``pareto_cost_step_gbp_per_year``, and make the point efficient by minimising the cost at
      that mean drive. It stops at the least-cost point, so every efficient point is found
      (points closer in cost than the step are treated as one);
    * **every feasible configuration** (:func:`enumerate_space`) when the configuration space has
      at most ``enumerate_max_configurations``: the scenario's limits are applied as vectorised
      sums, and each survivor's least-travel assignment is an LP per service (cached by the
      per-site beds of that service). Its efficient set checks the frontier.

Hurdles (short-listing), each with the reason an option fails
    bed need met; capital within the scenario's limit (net or gross); registered nurses within
    the scenario's limit or, if none is set, within ``rn_wte_headroom_vs_status_quo`` times
    today's; equity: every local authority and IMD quintile has at least
    ``equity_min_share_within_45_min`` of its 65+ population within 45 minutes of their ward.

Economic case (HM Treasury Green Book)
    See :func:`discount_factors` and :func:`economic_case`: capital at year 0 with the optimism
    bias uplift, disposal receipts at year 0, revenue in years 1..N, residual value at year N,
    net present cost; net present value against the status quo; switching values.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from siteopt.capacity import erlang_b
from siteopt.enumerate import assignment_lp
from siteopt.errors import DataError, InfeasibleError, Problem
from siteopt.instance import FloatArray, Instance, ModelSettings
from siteopt.model import SiteModel
from siteopt.pipeline import Prepared, bed_shortfall, evaluate_configuration
from siteopt.results import (
    SHARE_EPS,
    Solution,
    objective_from_measures,
    service_shares,
    totals,
)
from siteopt.solve import SolverOptions, optimise

WITHIN_MIN: tuple[float, ...] = (20.0, 30.0, 45.0)
"""Drive times of the ``share_within_<x>_min`` measures."""
EQUITY_WITHIN_MIN = 45.0
GBP_PER_M = 1e6
T_TOL_MIN = 1e-6
"""Mean drive times closer than this (minutes) are the same point."""
RESERVED_NAMES = ("optimal",)


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AppraisalSettings:
    """Parameters of the appraisal, from ``assumptions.toml`` (``[green_book]``, ``[appraisal]``).

    Attributes
    ----------
    discount_rate_years_0_30, discount_rate_years_31_plus : float
        Green Book discount rates (3.5%, then 3.0%).
    appraisal_years : int
        Appraisal period (60 for buildings).
    optimism_bias_capex : float
        Uplift on capital costs (0.24 = 24%).
    residual_value_method : {"straight_line", "none"}
        Residual value of capital at the end of the period.
    asset_life_years : int
        Life of a new or refurbished ward for the residual value.
    next_best : int
        How many next-best distinct options to generate.
    equity_min_share_within_45_min : float
        The equity hurdle.
    rn_wte_headroom_vs_status_quo : float
        Staffing hurdle when the scenario sets no RN limit: RN WTE at most this times today's.
    enumerate_max_configurations : int
        Enumerate every configuration only if the space is at most this big.
    pareto_cost_step_gbp_per_year : float
        Resolution of the Pareto frontier in cost.
    default_provider : str
        Provider of beds in spaces ``wards.csv`` does not name.
    """

    discount_rate_years_0_30: float = 0.035
    discount_rate_years_31_plus: float = 0.030
    appraisal_years: int = 60
    optimism_bias_capex: float = 0.24
    residual_value_method: str = "straight_line"
    asset_life_years: int = 60
    next_best: int = 5
    equity_min_share_within_45_min: float = 0.9
    rn_wte_headroom_vs_status_quo: float = 1.0
    enumerate_max_configurations: int = 2_000_000
    pareto_cost_step_gbp_per_year: float = 100.0
    default_provider: str = "LPT"

    KEYS: ClassVar[dict[str, str]] = {
        "discount_rate_years_0_30": "green_book.discount_rate_years_0_30",
        "discount_rate_years_31_plus": "green_book.discount_rate_years_31_75",
        "appraisal_years": "green_book.appraisal_years",
        "optimism_bias_capex": "green_book.optimism_bias_capex",
        "residual_value_method": "green_book.residual_value_method",
        "asset_life_years": "costs.capital_asset_life_years",
        "next_best": "appraisal.next_best_options",
        "equity_min_share_within_45_min": "appraisal.equity_min_share_within_45_min",
        "rn_wte_headroom_vs_status_quo": "appraisal.rn_wte_headroom_vs_status_quo",
        "enumerate_max_configurations": "appraisal.enumerate_max_configurations",
        "pareto_cost_step_gbp_per_year": "appraisal.pareto_cost_step_gbp_per_year",
        "default_provider": "appraisal.default_provider",
    }

    @classmethod
    def from_assumptions(
        cls, values: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
    ) -> AppraisalSettings:
        """Read the settings from flattened assumptions, then apply ``key -> value`` overrides.

        Override keys are the assumption keys (``green_book.optimism_bias_capex``) or the field
        names. Unknown keys and wrong values raise :class:`DataError`.
        """
        kwargs: dict[str, Any] = {}
        for fld, key in cls.KEYS.items():
            if key in values:
                kwargs[fld] = values[key]
        problems: list[Problem] = []
        by_key = {v: k for k, v in cls.KEYS.items()}
        for key, val in (overrides or {}).items():
            fld = by_key.get(key, key)
            if fld not in cls.KEYS:
                problems.append(Problem("--set", f"unknown appraisal key '{key}'; known: "
                                        f"{', '.join(sorted(cls.KEYS.values()))}", field=key))
                continue
            kwargs[fld] = val
        if problems:
            raise DataError(problems)
        out = cls(**kwargs)
        out.check()
        return out

    def check(self) -> None:
        """Raise :class:`DataError` listing every out-of-range value."""
        p: list[Problem] = []
        for name in ("discount_rate_years_0_30", "discount_rate_years_31_plus"):
            val = getattr(self, name)
            if not isinstance(val, int | float) or not 0 <= val <= 0.2:
                p.append(Problem("appraisal", f"{name} must be between 0 and 0.2", field=name))
        for name, lo, hi in (("appraisal_years", 1, 100), ("asset_life_years", 1, 200),
                             ("next_best", 0, 50),
                             ("enumerate_max_configurations", 0, 50_000_000)):
            val = getattr(self, name)
            if not isinstance(val, int) or isinstance(val, bool) or not lo <= val <= hi:
                p.append(Problem("appraisal", f"{name} must be an integer {lo}-{hi}", field=name))
        ranges: tuple[tuple[str, float, float], ...] = (("optimism_bias_capex", 0.0, 2.0),
            ("equity_min_share_within_45_min", 0.0, 1.0),
            ("rn_wte_headroom_vs_status_quo", 0.0, 10.0),
            ("pareto_cost_step_gbp_per_year", 1e-3, 1e7))
        for name, flo, fhi in ranges:
            val = getattr(self, name)
            if not isinstance(val, int | float) or not flo <= val <= fhi:
                p.append(Problem("appraisal", f"{name} must be between {flo:g} and {fhi:g}",
                                 field=name))
        if self.residual_value_method not in ("straight_line", "none"):
            p.append(Problem("appraisal", "residual_value_method must be straight_line or none",
                             field="residual_value_method"))
        if p:
            raise DataError(p)


# ---------------------------------------------------------------------------------------------
# Green Book
# ---------------------------------------------------------------------------------------------
def discount_factors(years: int, rate_0_30: float, rate_31_plus: float) -> FloatArray:
    """Green Book discount factors for years ``0..years``.

    ``DF(0) = 1`` and ``DF(t) = DF(t-1) / (1 + r_t)`` with ``r_t = rate_0_30`` for
    ``t <= 30`` and ``rate_31_plus`` after (the step-down of Green Book Annex A6).

    Examples
    --------
    >>> f = discount_factors(31, 0.035, 0.03)
    >>> round(float(f[30]), 6) == round(1.035 ** -30, 6)
    True
    >>> round(float(f[31]), 6) == round(1.035 ** -30 / 1.03, 6)
    True
    """
    rates = np.where(np.arange(1, years + 1) <= 30, rate_0_30, rate_31_plus)
    return np.asarray(np.concatenate([[1.0], np.cumprod(1.0 / (1.0 + rates))]), dtype=np.float64)


def economic_case(
    capex_gbp: float,
    disposals_gbp: float,
    revenue_gbp_per_year: float,
    settings: AppraisalSettings,
) -> dict[str, float]:
    """Net present cost of one option (2016/17 prices, present value at year 0).

    ``NPC = capex x (1 + optimism bias) - disposals + sum_{t=1..N} DF(t) x revenue
    - DF(N) x residual``, residual (straight line) ``= capex x max(0, 1 - N / asset life)``.
    """
    gb = settings
    df = discount_factors(gb.appraisal_years, gb.discount_rate_years_0_30,
                          gb.discount_rate_years_31_plus)
    capex_ob = capex_gbp * (1.0 + gb.optimism_bias_capex)
    pv_revenue = revenue_gbp_per_year * float(df[1:].sum())
    residual = 0.0
    if gb.residual_value_method == "straight_line":
        residual = capex_gbp * max(0.0, 1.0 - gb.appraisal_years / gb.asset_life_years)
    pv_residual = residual * float(df[-1])
    npc = capex_ob - disposals_gbp + pv_revenue - pv_residual
    return {
        "capex_with_optimism_bias_gbp": capex_ob,
        "optimism_bias_gbp": capex_ob - capex_gbp,
        "disposals_gbp": disposals_gbp,
        "pv_revenue_gbp": pv_revenue,
        "residual_value_gbp": residual,
        "pv_residual_gbp": pv_residual,
        "npc_gbp": npc,
        "annuity_factor_years_1_n": float(df[1:].sum()),
    }


def switching_values(
    option: Mapping[str, float], status_quo: Mapping[str, float], settings: AppraisalSettings
) -> dict[str, float | None]:
    """Values of the key assumptions at which the option's NPV against the status quo is zero.

    ``NPV = NPC(status quo) - NPC(option)``. Returned (None where no value exists):

    * ``revenue_saving_change``: the relative change of the option's annual revenue saving that
      makes NPV zero (-0.4 = the saving 40% smaller);
    * ``capex_change``: the relative change of the option's capex;
    * ``disposals_change``: the relative change of the option's disposal receipts;
    * ``optimism_bias``: the capex uplift (for both options) at which NPV is zero;
    * ``discount_rate``: one flat rate for all years at which NPV is zero (searched 0-20%).
    """
    def npc(cap: float, disp: float, rev: float, s: AppraisalSettings) -> float:
        return economic_case(cap, disp, rev, s)["npc_gbp"]

    o_cap, o_disp, o_rev = (option["capex_gbp"], option["disposals_gbp"],
                            option["revenue_gbp_per_year"])
    q_cap, q_disp, q_rev = (status_quo["capex_gbp"], status_quo["disposals_gbp"],
                            status_quo["revenue_gbp_per_year"])
    base = npc(q_cap, q_disp, q_rev, settings) - npc(o_cap, o_disp, o_rev, settings)
    ann = float(discount_factors(settings.appraisal_years, settings.discount_rate_years_0_30,
                                 settings.discount_rate_years_31_plus)[1:].sum())
    out: dict[str, float | None] = {"npv_gbp": base}
    saving_pv = (q_rev - o_rev) * ann
    out["revenue_saving_change"] = (-base / saving_pv) if abs(saving_pv) > 1e-6 else None
    # NPV is linear in capex: d NPV / d capex = -(1 + OB) + residual share x DF(N)
    d_cap = npc(o_cap + 1.0, o_disp, o_rev, settings) - npc(o_cap, o_disp, o_rev, settings)
    out["capex_change"] = (base / (d_cap * o_cap)) if o_cap > 0 and d_cap > 0 else None
    out["disposals_change"] = (-base / o_disp) if o_disp > 0 else None
    net_cap = o_cap - q_cap
    if abs(net_cap) > 1e-6:
        ob = settings.optimism_bias_capex + base / net_cap
        out["optimism_bias"] = ob if ob >= 0 else None
    else:
        out["optimism_bias"] = None

    def npv_at(rate: float) -> float:
        s = dataclasses.replace(settings, discount_rate_years_0_30=rate,
                                discount_rate_years_31_plus=rate)
        return npc(q_cap, q_disp, q_rev, s) - npc(o_cap, o_disp, o_rev, s)

    lo, hi = 0.0, 0.2
    f_lo, f_hi = npv_at(lo), npv_at(hi)
    if f_lo == 0:
        out["discount_rate"] = 0.0
    elif f_lo * f_hi > 0:
        out["discount_rate"] = None
    else:
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            f_mid = npv_at(mid)
            if f_lo * f_mid <= 0:
                hi = mid
            else:
                lo, f_lo = mid, f_mid
        out["discount_rate"] = 0.5 * (lo + hi)
    return out


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


def _rows(instance: Instance, solution: Solution) -> tuple[npt.NDArray[np.int64], FloatArray,
                                                           FloatArray]:
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
    zone, t, w = _rows(instance, solution)
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
    zone, t, w = _rows(instance, solution)
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
    }


def evaluate_choice(prepared: Prepared, name: str, choice: Mapping[str, str]) -> Solution:
    """Evaluate any configuration through :func:`siteopt.pipeline.evaluate_configuration`."""
    cat = dataclasses.replace(prepared.catalogue, configurations={
        **prepared.catalogue.configurations, name: dict(choice)})
    return evaluate_configuration(dataclasses.replace(prepared, catalogue=cat), name)


# ---------------------------------------------------------------------------------------------
# User options file
# ---------------------------------------------------------------------------------------------
USER_OPTION_COLUMNS = ("option", "site_id", "service", "wards", "beds")


def read_user_options(path: Path, prepared: Prepared) -> dict[str, dict[str, str]]:
    """Read a user's options file: option name -> site_id -> option_id.

    The CSV has columns ``option, site_id, service, wards, beds``: one row per option, site and
    service with the number of wards and the total beds of that service at that site. Sites
    an option does not list have no inpatient beds in it. Each site's wards and beds must match
    an option of the site's catalogue (the ward spaces limit what a site can hold). Every
    problem is reported with the file, row and field; nothing is evaluated if any is found.
    """
    name = Path(path).name
    problems: list[Problem] = []
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as err:
        raise DataError([Problem(name, f"cannot read the options file: {err.strerror}")]) from err
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in USER_OPTION_COLUMNS if c not in header]
    if missing:
        raise DataError([Problem(name, f"missing column(s) {', '.join(missing)}; expected "
                                 f"{', '.join(USER_OPTION_COLUMNS)}", row=1)])
    inst = prepared.evaluation_instance
    services = set(inst.services)
    site_ids = set(inst.site_ids)
    reserved = set(prepared.catalogue.configurations) | set(RESERVED_NAMES)
    wanted: dict[str, dict[str, dict[str, tuple[int, int]]]] = {}
    first_row: dict[str, int] = {}
    for i, rec in enumerate(reader, start=2):
        opt_name = (rec.get("option") or "").strip()
        site_id = (rec.get("site_id") or "").strip()
        svc = (rec.get("service") or "").strip()
        bad = False
        if not opt_name or not all(c.isalnum() or c in "_-" for c in opt_name):
            problems.append(Problem(name, "option must be a name of letters, digits, _ or -",
                                    row=i, field="option"))
            bad = True
        elif opt_name in reserved or opt_name.startswith(("next_best_", "pareto_")):
            problems.append(Problem(name, f"option name '{opt_name}' is taken by a built-in "
                                    "option; choose another", row=i, field="option"))
            bad = True
        if site_id not in site_ids:
            problems.append(Problem(name, f"unknown site '{site_id}'", row=i, field="site_id"))
            bad = True
        if svc not in services:
            problems.append(Problem(name, f"unknown service '{svc}'; services are "
                                    f"{', '.join(inst.services)}", row=i, field="service"))
            bad = True
        nums: dict[str, int] = {}
        for col in ("wards", "beds"):
            raw = (rec.get(col) or "").strip()
            try:
                nums[col] = int(raw)
                if nums[col] < 0:
                    raise ValueError
            except ValueError:
                problems.append(Problem(name, f"{col} must be a whole number >= 0, got "
                                        f"'{raw}'", row=i, field=col))
                bad = True
        if not bad and (nums["wards"] == 0) != (nums["beds"] == 0):
            problems.append(Problem(name, "wards and beds must both be 0 or both be positive",
                                    row=i, field="beds"))
            bad = True
        if bad:
            continue
        first_row.setdefault(opt_name, i)
        per_site = wanted.setdefault(opt_name, {}).setdefault(site_id, {})
        if svc in per_site:
            problems.append(Problem(name, f"option '{opt_name}' lists {site_id} {svc} twice",
                                    row=i, field="service"))
            continue
        per_site[svc] = (nums["wards"], nums["beds"])
    if not wanted and not problems:
        problems.append(Problem(name, "the file lists no options", row=2))
    out: dict[str, dict[str, str]] = {}
    for opt_name, sites_wanted in wanted.items():
        choice: dict[str, str] = {}
        for site in inst.sites:
            req = sites_wanted.get(site.site_id, {})
            target = {v: req.get(v, (0, 0)) for v in inst.services}
            match = [o.option_id for o in site.options
                     if all((int(o.wards.get(v, 0)), int(o.beds.get(v, 0))) == target[v]
                            for v in inst.services)]
            if not match:
                have = "; ".join(
                    ", ".join(f"{v} {o.wards.get(v, 0)}x/{o.beds.get(v, 0)} beds"
                              for v in inst.services) for o in site.options[:12])
                problems.append(Problem(
                    name, f"option '{opt_name}': {site.site_id} cannot hold "
                    + ", ".join(f"{v} {w} ward(s)/{b} beds" for v, (w, b) in target.items())
                    + f"; its options are: {have}", row=first_row[opt_name], field="beds"))
                continue
            # prefer an option the optimiser may choose, then the least net capital
            choice[site.site_id] = match[0]
        out[opt_name] = choice
    if problems:
        raise DataError(problems)
    return out


# ---------------------------------------------------------------------------------------------
# Generating options with the optimiser
# ---------------------------------------------------------------------------------------------
def no_good_cuts(instance: Instance, found: Sequence[Mapping[str, str]]
                 ) -> Callable[[SiteModel], None]:
    """An ``extra_constraints`` hook excluding every configuration with the ward signature of
    one already found (same number of wards of each service at every site)."""
    sigs = [ward_signature(instance, c) for c in found]

    def hook(model: SiteModel) -> None:
        n_sites = instance.n_sites
        for i, sig in enumerate(sigs):
            terms = []
            for j, site in enumerate(instance.sites):
                for opt in site.options:
                    if tuple(int(opt.wards.get(v, 0)) for v in instance.services) == sig[j]:
                        terms.append(model.y[(site.site_id, opt.option_id)])
            model.prob.addConstraint(sum(terms) <= n_sites - 1, f"nogood_{i}")

    return hook


def next_best(prepared: Prepared, first: Solution, n: int, options: SolverOptions
              ) -> list[Solution]:
    """The next ``n`` best distinct options after ``first`` (fewer if the space runs out)."""
    inst = prepared.instance
    found: list[Mapping[str, str]] = [first.choice]
    out: list[Solution] = []
    for _ in range(n):
        try:
            sol = optimise(inst, prepared.scenario.model, options,
                           extra_constraints=no_good_cuts(inst, found))
        except InfeasibleError:
            break
        out.append(sol)
        found.append(sol.choice)
    return out


def mean_travel(instance: Instance, solution: Solution) -> float:
    """The model's mean drive time T of a solution (minutes)."""
    return access_summary(instance, solution)["mean_travel_min"]


def annual_cost(instance: Instance, choice: Mapping[str, str]) -> float:
    """The model's annual cost G: revenue plus annualised capital (GBP per year)."""
    return float(totals(instance, choice)["cost_gbp_per_year"])


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
        a = optimise(inst, dataclasses.replace(base, objective="access",
                                               max_cost_gbp_per_year=cost_cap), exact)
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
    :func:`siteopt.enumerate.assignment_lp` per service, cached by that service's per-site beds,
    so configurations sharing the beds of a service share its LP.
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


# ---------------------------------------------------------------------------------------------
# Hurdles
# ---------------------------------------------------------------------------------------------
def hurdles(prepared: Prepared, m: Mapping[str, Any], status_quo: Mapping[str, Any],
            settings: AppraisalSettings) -> dict[str, str | None]:
    """Each hurdle -> None if passed, or the reason the option fails it."""
    s = prepared.scenario.model
    out: dict[str, str | None] = {}
    short = m["bed_shortfall"]
    out["bed_need"] = (None if not short else "short of beds: " + ", ".join(
        f"{v} {gap:.1f} beds below the need of {m['bed_need'][v]:.1f}" for v, gap in short.items()))
    if s.capital_limit_gbp is None:
        out["capital"] = None
    else:
        basis = s.capital_basis
        used = m["net_capital_gbp"] if basis == "net" else m["capex_gbp"]
        out["capital"] = (None if used <= s.capital_limit_gbp + 1e-6 else
                          f"{basis} capital £{used / GBP_PER_M:.2f}m exceeds the limit of "
                          f"£{s.capital_limit_gbp / GBP_PER_M:.2f}m")
    reasons = []
    rn_limit = s.max_staff_wte_rn
    rn_basis = "the scenario's limit"
    if rn_limit is None:
        rn_limit = status_quo["staff_wte_rn"] * settings.rn_wte_headroom_vs_status_quo
        rn_basis = (f"{settings.rn_wte_headroom_vs_status_quo:.0%} of today's "
                    f"{status_quo['staff_wte_rn']:.1f}")
    if m["staff_wte_rn"] > rn_limit + 1e-6:
        reasons.append(f"needs {m['staff_wte_rn']:.1f} registered-nurse WTE, more than "
                       f"{rn_limit:.1f} ({rn_basis})")
    if s.max_staff_wte_total is not None and m["staff_wte"] > s.max_staff_wte_total + 1e-6:
        reasons.append(f"needs {m['staff_wte']:.1f} WTE, more than the limit of "
                       f"{s.max_staff_wte_total:.1f}")
    out["staffing"] = "; ".join(reasons) or None
    key = f"share_within_{EQUITY_WITHIN_MIN:g}_min"
    low = []
    for group, label in (("access_by_lad", ""), ("access_by_imd_quintile", "IMD quintile ")):
        for name, acc in m[group].items():
            if acc["people_65_plus"] > 0 and acc[key] < settings.equity_min_share_within_45_min:
                low.append(f"{label}{name} {acc[key]:.0%}")
    out["equity"] = (None if not low else
                     f"fewer than {settings.equity_min_share_within_45_min:.0%} of people aged "
                     f"65+ within {EQUITY_WITHIN_MIN:g} minutes in " + ", ".join(low))
    return out


# ---------------------------------------------------------------------------------------------
# Why
# ---------------------------------------------------------------------------------------------
def keep_site_effects(prepared: Prepared, option: OptionResult, status_quo: OptionResult,
                      settings: AppraisalSettings) -> list[dict[str, Any]]:
    """For each site with fewer beds in ``option`` than today: what keeping today's beds would
    cost and change (the option with that one site as today, evaluated by the same code)."""
    inst = prepared.evaluation_instance
    out = []
    base_zone = zone_mean_travel(inst, option.solution)
    for site in inst.sites:
        now = status_quo.measures["sites"][site.site_id]
        then = option.measures["sites"][site.site_id]
        if sum(then["beds"].values()) >= sum(now["beds"].values()):
            continue
        choice = dict(option.choice)
        choice[site.site_id] = status_quo.choice[site.site_id]
        sol = evaluate_choice(prepared, f"{option.name}_keep_{site.site_id}", choice)
        kept = totals(inst, choice)
        base = totals(inst, option.choice)
        zone_after = zone_mean_travel(inst, sol)
        delta = zone_after - base_zone
        w = inst.zones.weight
        better = delta < -0.05
        people = float(w[better].sum())
        shorter = float(-(delta[better] * w[better]).sum() / people) if people > 0 else 0.0
        lads = np.asarray(inst.zones.lad_name)
        in_lad = lads == site.lad_name
        lad_before = float((base_zone[in_lad] * w[in_lad]).sum() / max(w[in_lad].sum(), 1e-9))
        lad_after = float((zone_after[in_lad] * w[in_lad]).sum() / max(w[in_lad].sum(), 1e-9))
        d_cost = kept["cost_gbp_per_year"] - base["cost_gbp_per_year"]
        d_rev = kept["revenue_gbp_per_year"] - base["revenue_gbp_per_year"]
        beds_now = ", ".join(f"{b} {v}" for v, b in now["beds"].items() if b)
        still_ok = not bed_shortfall(inst, choice)
        cap_limit = prepared.scenario.model.capital_limit_gbp
        used = (kept["net_capital_gbp"] if prepared.scenario.model.capital_basis == "net"
                else kept["capex_gbp"])
        money = (f"costs £{abs(d_cost) / GBP_PER_M:.2f}m a year "
                 f"{'more' if d_cost >= 0 else 'less'}")
        if people > 0:
            effect = (f"shortens the mean drive for {people:,.0f} people aged 65+ by "
                      f"{shorter:.1f} minutes"
                      + (f" ({site.lad_name}: {lad_before:.1f} to {lad_after:.1f} minutes on "
                         "average)" if site.lad_name else ""))
        else:
            effect = ("shortens no one's drive by more than 3 seconds (the beds the option "
                      "keeps nearby are enough)")
        sentence = f"Keeping {beds_now} beds at {site.name} {money} and {effect}."
        out.append({
            "option": option.name,
            "site_id": site.site_id,
            "site_name": site.name,
            "lad_name": site.lad_name,
            "beds_today": now["beds"],
            "beds_in_option": then["beds"],
            "extra_cost_gbp_per_year": d_cost,
            "extra_revenue_gbp_per_year": d_rev,
            "extra_net_capital_gbp": kept["net_capital_gbp"] - base["net_capital_gbp"],
            "within_capital_limit": cap_limit is None or used <= cap_limit + 1e-6,
            "people_65_plus_with_shorter_drive": people,
            "mean_minutes_shorter_for_them": shorter,
            "lad_mean_travel_min_before": lad_before,
            "lad_mean_travel_min_after": lad_after,
            "overall_mean_travel_min_after": access_summary(inst, sol)["mean_travel_min"],
            "sentence": sentence,
            "bed_need_met": still_ok,
        })
    return out


# ---------------------------------------------------------------------------------------------
# The whole appraisal
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Appraisal:
    """The appraisal of one scenario: every option with its measures, and the analyses."""

    prepared: Prepared
    settings: AppraisalSettings
    options: list[OptionResult]
    preferred: str
    frontier: list[str]
    enumeration: Enumerated | None
    frontier_check: dict[str, Any]
    why: list[dict[str, Any]]
    zone_travel_min: dict[str, FloatArray]
    timings_s: dict[str, float]
    notes: list[str]

    def option(self, name: str) -> OptionResult:
        """The option called ``name``."""
        for o in self.options:
            if o.name == name:
                return o
        raise KeyError(name)


def appraise(
    prepared: Prepared,
    settings: AppraisalSettings,
    user_options: Mapping[str, Mapping[str, str]] | None = None,
    *,
    enumerate_configurations: bool = True,
    frontier_method: str = "auto",
) -> Appraisal:
    """Build the long list, measure every option, apply hurdles, discount and explain.

    Parameters
    ----------
    prepared : Prepared
    settings : AppraisalSettings
    user_options : mapping, optional
        name -> site_id -> option_id (from :func:`read_user_options`).
    enumerate_configurations : bool
        Enumerate every configuration if the space has at most
        ``settings.enumerate_max_configurations``.
    frontier_method : {"auto", "milp", "enumeration"}
        How the epsilon-constraint walk finds each frontier point: with the MILP, or with the
        enumeration as the exact oracle (``auto``: the enumeration when there is one, as it
        takes milliseconds per point where the MILP takes seconds; the MILP walk is checked
        against it in the tests).
    """
    timings: dict[str, float] = {}
    notes: list[str] = []
    clock = time.perf_counter()
    inst_eval = prepared.evaluation_instance
    solver = prepared.scenario.solver
    if "status_quo" not in prepared.catalogue.configurations:
        raise DataError([Problem("wards.csv", "the appraisal needs a 'status_quo' configuration",
                                 field="configuration")])

    entries: list[tuple[str, str, Solution]] = []  # (name, source, solution)
    for name in prepared.catalogue.configurations:
        entries.append((name, "named (wards.csv)", evaluate_configuration(prepared, name)))
    for name, choice in (user_options or {}).items():
        entries.append((name, "named (options file)", evaluate_choice(prepared, name, choice)))
    timings["named_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    best = optimise(prepared.instance, prepared.scenario.model, solver)
    entries.append(("optimal", "optimal", best))
    for i, sol in enumerate(next_best(prepared, best, settings.next_best, solver), start=1):
        entries.append((f"next_best_{i}", f"next best {i}", sol))
    timings["optimal_and_next_best_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    enum: Enumerated | None = None
    n_conf = configuration_count(prepared.instance)
    if enumerate_configurations and n_conf <= settings.enumerate_max_configurations:
        enum = enumerate_space(prepared.instance, prepared.scenario.model)
    else:
        notes.append(f"{n_conf:,} configurations: not enumerated (limit "
                     f"{settings.enumerate_max_configurations:,})")
    timings["enumeration_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    step = settings.pareto_cost_step_gbp_per_year
    check: dict[str, Any] = {"checked": False, "method": frontier_method}
    if frontier_method == "milp" or (frontier_method == "auto" and enum is None):
        check["method"] = "milp"
        frontier_sols = pareto_frontier(prepared, solver, step)
        if enum is not None:
            pts = [(mean_travel(inst_eval, s), annual_cost(inst_eval, s.choice))
                   for s in frontier_sols]
            ok, detail = frontier_matches(pts, enum, step)
            check.update({"checked": True, "matches": ok, "detail": detail})
    else:
        if enum is None:
            raise DataError([Problem("appraisal", "the enumeration frontier needs the "
                                     "configuration space enumerated", field="frontier")])
        check["method"] = "enumeration"
        idx = pareto_from_enumeration(enum, step)
        frontier_sols = [evaluate_choice(prepared, f"pareto_{i}", enum.choices[j])
                         for i, j in enumerate(idx, start=1)]
        # cross-check both ends with the MILP: least mean drive and least cost
        exact = dataclasses.replace(solver, gap_rel=1e-9)
        cheapest = optimise(prepared.instance,
                            dataclasses.replace(prepared.scenario.model, objective="cost"), exact)
        ends = [(mean_travel(inst_eval, best), float(enum.mean_travel_min[idx[0]]),
                 "least mean drive"),
                (annual_cost(inst_eval, cheapest.choice), float(enum.cost_gbp_per_year[idx[-1]]),
                 "least cost")]
        bad = [f"{what}: MILP {a:.6f}, enumeration {b:.6f}" for a, b, what in ends
               if abs(a - b) > 1e-5 * max(1.0, abs(b))]
        check.update({"checked": True, "matches": not bad,
                      "detail": ("both ends of the frontier equal the MILP optima "
                                 "(least mean drive, least cost); the full MILP walk equals the "
                                 "enumeration in tests/test_appraisal.py")
                      if not bad else "; ".join(bad)})
    if check.get("checked") and not check.get("matches"):
        notes.append(f"Pareto frontier check failed: {check['detail']}")
    for i, sol in enumerate(frontier_sols, start=1):
        entries.append((f"pareto_{i}", f"Pareto point {i}", sol))
    timings["pareto_s"] = time.perf_counter() - clock

    # merge duplicates (same option id at every site): keep the first name, list all sources
    merged: dict[tuple[tuple[str, str], ...], tuple[str, list[str], Solution]] = {}
    alias: dict[str, str] = {}
    for name, source, sol in entries:
        key = tuple(sorted(sol.choice.items()))
        if key in merged:
            merged[key][1].append(source)
            alias[name] = merged[key][0]
        else:
            merged[key] = (name, [source], sol)
            alias[name] = name

    clock = time.perf_counter()
    results: list[OptionResult] = []
    for name, sources, sol in merged.values():
        results.append(OptionResult(name, tuple(sources), dict(sol.choice), sol,
                                    option_measures(prepared, sol, settings)))
    sq = next(r for r in results if r.name == "status_quo" or alias.get("status_quo") == r.name)
    sq_econ_in = {"capex_gbp": sq.measures["capex_gbp"],
                  "disposals_gbp": sq.measures["disposals_gbp"],
                  "revenue_gbp_per_year": sq.measures["revenue_gbp_per_year"]}
    sq_npc = economic_case(sq.measures["capex_gbp"], sq.measures["disposals_gbp"],
                           sq.measures["revenue_gbp_per_year"], settings)["npc_gbp"]
    sq_zone = zone_mean_travel(inst_eval, sq.solution)
    zone_travel: dict[str, FloatArray] = {}
    final: list[OptionResult] = []
    for r in results:
        m = r.measures
        econ: dict[str, Any] = economic_case(m["capex_gbp"], m["disposals_gbp"],
                                             m["revenue_gbp_per_year"], settings)
        econ["npv_vs_status_quo_gbp"] = sq_npc - econ["npc_gbp"]
        econ["revenue_saving_gbp_per_year"] = (sq.measures["revenue_gbp_per_year"]
                                               - m["revenue_gbp_per_year"])
        econ["switching_values"] = switching_values(
            {"capex_gbp": m["capex_gbp"], "disposals_gbp": m["disposals_gbp"],
             "revenue_gbp_per_year": m["revenue_gbp_per_year"]}, sq_econ_in, settings)
        zt = zone_mean_travel(inst_eval, r.solution)
        zone_travel[r.name] = zt
        m["zone_change_vs_status_quo"] = _zone_change(inst_eval, zt - sq_zone, m)
        final.append(dataclasses.replace(
            r, hurdles=hurdles(prepared, m, sq.measures, settings), economics=econ))
    timings["measures_s"] = time.perf_counter() - clock

    optimal = next(r for r in final if r.name == alias["optimal"])
    preferred = optimal.name
    if not optimal.shortlisted:
        generated = [r for r in final if r.shortlisted
                     and not any(src.startswith("named") for src in r.sources)]
        generated.sort(key=lambda r: objective_value(prepared.scenario.model, r.measures))
        if generated:
            preferred = generated[0].name
            notes.append(f"the scenario's optimum fails a hurdle, so the preferred option is "
                         f"'{preferred}', the best generated option that passes them all")
        else:
            notes.append("no generated option passes every hurdle; the optimum is shown as "
                         "the preferred option")

    clock = time.perf_counter()
    pref = next(r for r in final if r.name == preferred)
    why = keep_site_effects(prepared, pref, sq, settings)
    for r in final:
        if r.name != preferred and r.name != sq.name and any(
                s.startswith("named") for s in r.sources):
            why += keep_site_effects(prepared, r, sq, settings)
    timings["why_s"] = time.perf_counter() - clock

    frontier_names = [alias[f"pareto_{i}"] for i in range(1, len(frontier_sols) + 1)]
    for r in final:
        if any(v is not None for v in r.solution.violations) and not r.solution.evaluated:
            notes.append(f"independent check of '{r.name}': {'; '.join(r.solution.violations)}")
    return Appraisal(prepared, settings, final, preferred, frontier_names, enum, check, why,
                     zone_travel, timings, notes)


def objective_value(model: ModelSettings, m: Mapping[str, Any]) -> float:
    """The scenario's objective computed from an option's measures (for ranking)."""
    return objective_from_measures(model.objective, float(m["access"]["mean_travel_min"]),
                                   float(m["cost_gbp_per_year"]), model.travel_weight,
                                   model.cost_weight_per_gbp_m)


def _zone_change(instance: Instance, delta: FloatArray, m: Mapping[str, Any]
                 ) -> dict[str, Any]:
    """Summaries of the per-zone change in 65+ mean drive against the status quo."""
    w = instance.zones.weight
    lads = np.asarray(instance.zones.lad_name)

    def summary(mask: npt.NDArray[np.bool_]) -> dict[str, float]:
        ww = w[mask]
        dd = delta[mask]
        tot = float(ww.sum())
        return {
            "mean_change_min": float((dd * ww).sum() / tot) if tot > 0 else 0.0,
            "people_65_plus_longer_5_min": float(ww[dd > 5].sum()),
            "people_65_plus_shorter_5_min": float(ww[dd < -5].sum()),
            "largest_increase_min": float(dd.max()) if len(dd) else 0.0,
        }

    return {
        "all": summary(np.ones(len(w), dtype=bool)),
        "by_lad": {str(x): summary(lads == x) for x in sorted(set(instance.zones.lad_name))},
        "by_imd_quintile": {str(int(q)): summary(instance.zones.imd_quintile == q)
                            for q in sorted(set(instance.zones.imd_quintile.tolist()))},
    }


def ensure_finite(x: float) -> float:
    """``x`` if finite, else 0 (for tables)."""
    return x if math.isfinite(x) else 0.0

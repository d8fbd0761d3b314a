"""Options appraisal: the long list, hurdles, measures, the Green Book economic case and "why".

Everything here is tables and matrices; the optimiser is used only through its public functions
(:func:`siteopt.wards.solve.optimise`, :func:`siteopt.runs.pipeline.evaluate_configuration`,
:func:`siteopt.wards.enumerate.assignment_lp`).

The long list
    * **named options**: every configuration of ``wards.csv`` (``status_quo``, ``stp_2016``) and
      any a user lists in an options file (:func:`read_user_options`), evaluated by
      :func:`siteopt.runs.pipeline.evaluate_configuration`, the same code path as every other
      option;
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

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from siteopt.appraisal.economics import economic_case, switching_values
from siteopt.appraisal.enumeration import Enumerated, configuration_count, enumerate_space
from siteopt.appraisal.frontier import frontier_matches, pareto_from_enumeration, pareto_frontier
from siteopt.appraisal.longlist import next_best
from siteopt.appraisal.measures import (
    OptionResult,
    annual_cost,
    evaluate_choice,
    mean_travel,
    option_measures,
    zone_mean_travel,
)
from siteopt.appraisal.settings import EQUITY_WITHIN_MIN, GBP_PER_M, AppraisalSettings
from siteopt.appraisal.why import keep_site_effects
from siteopt.errors import DataError, Problem
from siteopt.runs.pipeline import Prepared, evaluate_configuration
from siteopt.wards.instance import FloatArray, Instance, ModelSettings
from siteopt.wards.results import (
    Solution,
    objective_from_measures,
)
from siteopt.wards.solve import optimise


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

"""Why each site loses beds: what keeping them would cost and change.

For an option and each site where it has fewer beds than today, the option is evaluated again
with that one site as it would be without the reconfiguration: today's wards, or where today's
wards cannot continue (a space not available in future) the do minimum's. The difference is
reported both ways, so a sentence never contradicts itself:

* the annual cost and the net capital of keeping the beds;
* the 65+ mean drive of the site's local authority before and after (and how many people aged
  65+ live there);
* across the whole area, the people aged 65+ whose drive gets shorter and those whose drive
  gets longer (beds elsewhere are reassigned when a site keeps its beds), each with the mean
  change for them (changes under :data:`CHANGE_TOL_MIN` are no change);
* the hurdles the kept configuration would fail (e.g. a small isolated ward).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from siteopt.appraisal.measures import (
    OptionResult,
    evaluate_choice,
    option_measures,
    zone_mean_travel,
)
from siteopt.appraisal.settings import GBP_PER_M, AppraisalSettings
from siteopt.appraisal.shortlist import do_minimum_choice, hurdles
from siteopt.runs.pipeline import Prepared
from siteopt.wards.instance import FloatArray, Site
from siteopt.wards.results import Solution

CHANGE_TOL_MIN = 0.05
"""Per-zone changes in mean drive smaller than this (3 seconds) count as no change."""


def beds_words(beds: Mapping[str, int]) -> str:
    """``47 rehab and 15 stroke beds`` (``no beds`` when empty)."""
    parts = [f"{b} {v}" for v, b in beds.items() if b]
    if not parts:
        return "no beds"
    return (" and ".join(parts) if len(parts) <= 2 else ", ".join(parts)) + " beds"


def people_changes(weight: FloatArray, delta: FloatArray) -> dict[str, float]:
    """People aged 65+ with a shorter and a longer drive, and the mean change for each."""
    short, long_ = delta < -CHANGE_TOL_MIN, delta > CHANGE_TOL_MIN
    n_s, n_l = float(weight[short].sum()), float(weight[long_].sum())
    return {
        "people_65_plus_shorter": n_s,
        "minutes_shorter": float(-(delta[short] * weight[short]).sum() / n_s) if n_s else 0.0,
        "people_65_plus_longer": n_l,
        "minutes_longer": float((delta[long_] * weight[long_]).sum() / n_l) if n_l else 0.0,
    }


def losing_sites(prepared: Prepared, choice: Mapping[str, str],
                 status_quo_choice: Mapping[str, str]) -> list[Site]:
    """The sites with fewer beds in ``choice`` than in the status quo."""
    return [site for site in prepared.evaluation_instance.sites
            if sum(site.option(choice[site.site_id]).beds.values())
            < sum(site.option(status_quo_choice[site.site_id]).beds.values())]


def keep_site_choices(prepared: Prepared, name: str, choice: Mapping[str, str],
                      status_quo_choice: Mapping[str, str]) -> list[tuple[str, dict[str, str]]]:
    """(name, configuration) of option ``name`` with each losing site kept as in the do
    minimum: the configurations :func:`keep_site_effects` measures."""
    keep_options = do_minimum_choice(prepared)
    return [(f"{name}_keep_{site.site_id}", {**choice, site.site_id: keep_options[site.site_id]})
            for site in losing_sites(prepared, choice, status_quo_choice)]


def keep_site_effects(prepared: Prepared, option: OptionResult, status_quo: OptionResult,
                      settings: AppraisalSettings,
                      solved: Mapping[str, Solution] | None = None) -> list[dict[str, Any]]:
    """For each site with fewer beds in ``option`` than today: what keeping them would cost
    and change (see the module docstring).

    ``solved`` holds the evaluations of :func:`keep_site_choices` by name, if already made
    (e.g. side by side on worker processes); the others are evaluated here.
    """
    inst = prepared.evaluation_instance
    base_zone = zone_mean_travel(inst, option.solution)
    w = inst.zones.weight
    lads = np.asarray(inst.zones.lad_name)
    out = []
    variants = dict(keep_site_choices(prepared, option.name, option.choice, status_quo.choice))
    for site in losing_sites(prepared, option.choice, status_quo.choice):
        now = status_quo.measures["sites"][site.site_id]["beds"]
        then = option.measures["sites"][site.site_id]["beds"]
        name = f"{option.name}_keep_{site.site_id}"
        sol = (solved or {}).get(name) or evaluate_choice(prepared, name, variants[name])
        kept = option_measures(prepared, sol, settings)
        delta = zone_mean_travel(inst, sol) - base_zone
        in_lad = lads == site.lad_name
        people_lad = float(w[in_lad].sum())
        row: dict[str, Any] = {
            "option": option.name, "site_id": site.site_id, "site_name": site.name,
            "lad_name": site.lad_name,
            "beds_today": dict(now), "beds_in_option": dict(then),
            "beds_if_kept": dict(kept["sites"][site.site_id]["beds"]),
            "extra_cost_gbp_per_year": kept["cost_gbp_per_year"]
            - option.measures["cost_gbp_per_year"],
            "extra_revenue_gbp_per_year": kept["revenue_gbp_per_year"]
            - option.measures["revenue_gbp_per_year"],
            "extra_net_capital_gbp": kept["net_capital_gbp"] - option.measures["net_capital_gbp"],
            "people_65_plus_in_lad": people_lad,
            "lad_mean_travel_min_before": float((base_zone[in_lad] * w[in_lad]).sum()
                                                / people_lad) if people_lad else 0.0,
            "lad_mean_travel_min_after": float(kept["access_by_lad"].get(
                site.lad_name, {}).get("mean_travel_min", 0.0)),
            "overall_mean_travel_min_after": float(kept["access"]["mean_travel_min"]),
            **people_changes(w, delta),
        }
        fails = {k: v for k, v in hurdles(prepared, kept, status_quo.measures, settings).items()
                 if v and not option.hurdles.get(k)}
        row["hurdles_failed_if_kept"] = fails
        # the figures the hurdle reasons quote
        row["net_capital_gbp_if_kept"] = float(kept["net_capital_gbp"])
        row["capital_limit_gbp"] = prepared.scenario.model.capital_limit_gbp
        row["isolated_ward_min_beds"] = settings.isolated_ward_min_beds
        row["within_capital_limit"] = "capital" not in fails and not option.hurdles.get("capital")
        row["bed_need_met"] = not kept["bed_shortfall"]
        row["sentence"] = keep_sentence(row)
        out.append(row)
    return out


def keep_sentence(r: Mapping[str, Any]) -> str:
    """The plain-English sentence of one :func:`keep_site_effects` row (every number in it is a
    field of the row)."""
    cost = float(r["extra_cost_gbp_per_year"])
    cap = float(r["extra_net_capital_gbp"])
    text = (f"Keeping {beds_words(r['beds_if_kept'])} at {r['site_name']} instead of "
            f"{beds_words(r['beds_in_option'])} would cost £{abs(cost) / GBP_PER_M:.2f}m a year "
            f"{'more' if cost >= 0 else 'less'}")
    if abs(cap) >= 0.005 * GBP_PER_M:
        text += (f" and {'add' if cap > 0 else 'save'} £{abs(cap) / GBP_PER_M:.2f}m of net "
                 "capital")
    text += "."
    if r["lad_name"]:
        text += (f" In {r['lad_name']}, home to {r['people_65_plus_in_lad']:,.0f} people aged "
                 f"65+, their mean drive to their ward would go from "
                 f"{r['lad_mean_travel_min_before']:.1f} to {r['lad_mean_travel_min_after']:.1f} "
                 "minutes.")
    n_s, n_l = float(r["people_65_plus_shorter"]), float(r["people_65_plus_longer"])
    if n_s or n_l:
        parts = []
        if n_s:
            parts.append(f"{n_s:,.0f} people aged 65+ would have a shorter drive (by "
                         f"{r['minutes_shorter']:.1f} minutes on average)")
        if n_l:
            parts.append(f"{n_l:,.0f} a longer one (by {r['minutes_longer']:.1f} minutes, as "
                         "beds elsewhere are shared out again)")
        text += " Across the area, " + " and ".join(parts) + "."
    else:
        text += " No one's drive would change by more than 3 seconds."
    fails = r["hurdles_failed_if_kept"]
    if fails:
        text += " It would fail the " + "; the ".join(
            f"{k.replace('_', ' ')} hurdle ({v})" for k, v in fails.items()) + "."
    return text

"""Why each site loses beds: what keeping them would cost and change.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from siteopt.appraisal.measures import (
    OptionResult,
    access_summary,
    evaluate_choice,
    zone_mean_travel,
)
from siteopt.appraisal.settings import GBP_PER_M, AppraisalSettings
from siteopt.runs.pipeline import Prepared, bed_shortfall
from siteopt.wards.results import (
    totals,
)


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

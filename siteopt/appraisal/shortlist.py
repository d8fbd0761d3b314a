"""Short-listing and the decision: hurdles, the benchmarks, benefit scores, the preferred option.

**Hurdles** (the critical success factors; each failure with its reason):

=============  ===============================================================================
bed need       usable beds of each service at least the planning year's need
capital        capital within the scenario's limit (net or gross)
staffing       registered nurses within the scenario's limit or, if none is set, within
               ``rn_wte_headroom_vs_status_quo`` times today's; total staff within its limit
equity         every local authority and deprivation quintile has at least
               ``equity_min_share_within_45_min`` of its 65+ population within 45 minutes;
               and, when the scenario sets an equity limit, no group's 65+ mean drive rises
               more than it allows against business as usual (or the most deprived quintile's
               stays within the allowed gap above everyone's)
access         no zone's drive to its ward over the scenario's ``max_travel_min``; the 65+
               mean drive within ``max_mean_travel_min`` (when the scenario sets them)
resilience     no isolated ward (the only ward on its site) below ``isolated_ward_min_beds``;
               the worst ward's Erlang refusal within ``capacity.target_refusal_probability``
               when ``refusal_hurdle`` says so (by default only when bed need is sized by the
               Erlang model: under the occupancy model every ward turns away more than the
               target, and the report says so in words)
=============  ===============================================================================

**Benchmarks.** Business as usual (BAU) is today's configuration (``status_quo``). It *can
continue* unless it uses a ward space that is not available in future (``ward_spaces.csv``,
``available_in_future = false``; in LLR the UHL stroke ward on the General site). The **do
minimum** is BAU with only what must change anyway: at each site whose today's wards cannot
continue, the available option closest to today's beds per service (then the least net
capital); every other site as today. Both are always on the short list.

The decision rule itself (dominance, value for money, robustness, receipt switching values) is
in :mod:`siteopt.appraisal.decision`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from siteopt.appraisal.benefits import (
    benefit_measures,
    criterion_scores,
    small_isolated_wards,
    worst_refusal,
)
from siteopt.appraisal.decision import (
    Candidate,
    rank,
    receipt_switching_values,
    weight_robustness,
)
from siteopt.appraisal.measures import OptionResult
from siteopt.appraisal.naming import beds_phrase, letters, option_title, scheme_phrase
from siteopt.appraisal.settings import (
    EQUITY_WITHIN_MIN,
    GBP_PER_M,
    MAIN_TABLE_MAX_OPTIONS,
    AppraisalSettings,
)
from siteopt.catalogue.demand import bed_need
from siteopt.catalogue.options import SchemeLine, scheme_lines
from siteopt.data.load import records
from siteopt.runs.pipeline import Prepared

BAU = "status_quo"
DO_MINIMUM = "do_minimum"
HURDLES = ("bed_need", "capital", "staffing", "equity", "access", "resilience")


# ---------------------------------------------------------------------------------------------
# Hurdles
# ---------------------------------------------------------------------------------------------
def capacity_model(prepared: Prepared) -> tuple[str, float]:
    """The capacity model sizing bed need (``occupancy`` or ``erlang``) and the refusal target."""
    a = prepared.data.assumptions
    c = prepared.scenario.catalogue
    return (c.capacity_model or str(a["capacity.model"]),
            float(c.refusal_probability or a["capacity.target_refusal_probability"]))


def refusal_is_hurdle(prepared: Prepared, settings: AppraisalSettings) -> bool:
    """Whether the worst-ward refusal is a hurdle in this scenario."""
    if settings.refusal_hurdle == "always":
        return True
    return settings.refusal_hurdle == "erlang" and capacity_model(prepared)[0] == "erlang"


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
        used = capital_used(prepared, m)
        out["capital"] = (None if used <= s.capital_limit_gbp + 1e-6 else
                          f"{s.capital_basis} capital £{used / GBP_PER_M:.2f}m exceeds the limit "
                          f"of £{s.capital_limit_gbp / GBP_PER_M:.2f}m")
    out["staffing"] = staffing_hurdle(prepared, m, status_quo, settings)
    key = f"share_within_{EQUITY_WITHIN_MIN:g}_min"
    low = []
    for group, label in (("access_by_lad", ""), ("access_by_imd_quintile", "IMD quintile ")):
        for name, acc in m[group].items():
            if acc["people_65_plus"] > 0 and acc[key] < settings.equity_min_share_within_45_min:
                low.append(f"{label}{name} {acc[key]:.0%}")
    equity = [] if not low else [
        f"fewer than {settings.equity_min_share_within_45_min:.0%} of people aged 65+ within "
        f"{EQUITY_WITHIN_MIN:g} minutes in " + ", ".join(low)]
    equity += m.get("equity_limit_breaches", [])
    out["equity"] = "; ".join(equity) or None
    out["access"] = access_hurdle(prepared, m)
    out["resilience"] = resilience_hurdle(prepared, m, settings)
    return out


def capital_used(prepared: Prepared, m: Mapping[str, Any]) -> float:
    """The capital the scenario's limit counts: net (capex less receipts) or gross capex."""
    basis = prepared.scenario.model.capital_basis
    return float(m["net_capital_gbp"] if basis == "net" else m["capex_gbp"])


def staffing_hurdle(prepared: Prepared, m: Mapping[str, Any], status_quo: Mapping[str, Any],
                    settings: AppraisalSettings) -> str | None:
    """Registered nurses (and all staff) within the limits, or the reason not."""
    s = prepared.scenario.model
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
    return "; ".join(reasons) or None


def access_hurdle(prepared: Prepared, m: Mapping[str, Any]) -> str | None:
    """The scenario's drive-time limits met, or the reason not."""
    s = prepared.scenario.model
    acc = m["access"]
    reasons = []
    if s.max_travel_min is not None and acc["max_travel_min"] > s.max_travel_min + 1e-6:
        reasons.append(f"people aged 65+ in some areas would drive {acc['max_travel_min']:.1f} "
                       f"minutes to their ward, over the limit of {s.max_travel_min:g}")
    if (s.max_mean_travel_min is not None
            and acc["mean_travel_min"] > s.max_mean_travel_min + 1e-6):
        reasons.append(f"the 65+ mean drive of {acc['mean_travel_min']:.1f} minutes is over the "
                       f"limit of {s.max_mean_travel_min:g}")
    return "; ".join(reasons) or None


def resilience_hurdle(prepared: Prepared, m: Mapping[str, Any],
                      settings: AppraisalSettings) -> str | None:
    """No small isolated ward and (where it is a hurdle) refusal within target, or why not."""
    reasons = []
    small = small_isolated_wards(m, settings.isolated_ward_min_beds)
    if small:
        reasons.append(f"isolated wards below the {settings.isolated_ward_min_beds}-bed "
                       "standard: " + ", ".join(f"{n} ({b} beds)" for n, b in small))
    if refusal_is_hurdle(prepared, settings):
        target = capacity_model(prepared)[1]
        worst = worst_refusal(m)
        if worst > target + 1e-12:
            reasons.append(f"the worst ward turns away {worst:.1%} of arrivals, over the "
                           f"{target:.0%} target")
    return "; ".join(reasons) or None


# ---------------------------------------------------------------------------------------------
# Benchmarks
# ---------------------------------------------------------------------------------------------
def bau_status(prepared: Prepared) -> dict[str, Any]:
    """Whether business as usual can continue, and which of today's wards cannot.

    Returns
    -------
    dict
        ``can_continue`` and ``unavailable``: per ward of today's configuration in a space not
        available in future, its site, space, service, beds and the note of ``ward_spaces.csv``.
    """
    data = prepared.data
    spaces = {str(r["space_id"]): r for r in records(data.ward_spaces)}
    names = dict(zip(data.sites["site_id"], data.sites["name"], strict=True))
    gone = []
    for r in records(data.wards[data.wards["configuration"] == BAU]):
        sp = spaces.get(str(r["space_id"]))
        if sp is not None and not bool(sp["available_in_future"]):
            gone.append({"site_id": str(r["site_id"]), "site_name": str(names[r["site_id"]]),
                         "space_id": str(r["space_id"]), "service": str(r["service"]),
                         "beds": int(r["beds"]), "provider": str(r.get("provider") or ""),
                         "note": str(sp.get("note") or "")})
    return {"can_continue": not gone, "unavailable": gone}


def do_minimum_choice(prepared: Prepared) -> dict[str, str]:
    """BAU with only what must change: see the module docstring."""
    today = prepared.catalogue.configurations[BAU]
    services = prepared.instance.services
    ev = {s.site_id: s for s in prepared.evaluation_instance.sites}
    choice: dict[str, str] = {}
    for site in prepared.instance.sites:
        now = today[site.site_id]
        if any(o.option_id == now for o in site.options):
            choice[site.site_id] = now
            continue
        beds_now = ev[site.site_id].option(now).beds
        best = min(site.options, key=lambda o: (
            sum(abs(int(o.beds.get(v, 0)) - int(beds_now.get(v, 0))) for v in services),
            o.net_capital_gbp(), o.option_id))
        choice[site.site_id] = best.option_id
    return choice


def receipts_booked(lines: Sequence[SchemeLine]) -> dict[str, float]:
    """scheme_id -> the disposal receipt a configuration realises from it (receipts that need
    another site closed count only when it is: :func:`scheme_lines` decides)."""
    return {ln.scheme_id: ln.receipt_realised_gbp for ln in lines if ln.receipt_realised_gbp > 0}


def need_at_population_year(prepared: Prepared) -> dict[str, float] | None:
    """Bed need per service with the population of the census year (no growth), or None when
    the planning year is the population year."""
    year = int(prepared.data.assumptions["meta.population_year"])
    if prepared.demand.planning_year == year:
        return None
    settings = dataclasses.replace(prepared.scenario.demand, planning_year=year)
    return bed_need(prepared.data, settings).total_beds()


# ---------------------------------------------------------------------------------------------
# The decision
# ---------------------------------------------------------------------------------------------
def candidate(prepared: Prepared, settings: AppraisalSettings, r: OptionResult,
              benchmarks: Sequence[str], bau_can_continue: bool,
              lines: Sequence[SchemeLine]) -> Candidate:
    """The decision's figures of one measured option (``lines``: its capital schemes)."""
    m = r.measures
    target = capacity_model(prepared)[1]
    values = benefit_measures(m, isolated_ward_min_beds=settings.isolated_ward_min_beds,
                              target_refusal=target, capital_schemes=len(lines))
    groups = [g[f"share_within_{EQUITY_WITHIN_MIN:g}_min"]
              for key in ("access_by_lad", "access_by_imd_quintile")
              for g in m[key].values() if g["people_65_plus"] > 0]
    hurdle_measures = {
        "bed_shortfall_beds": float(sum(m["bed_shortfall"].values())),
        "capital_used_gbp": capital_used(prepared, m),
        "staff_wte_rn": float(m["staff_wte_rn"]),
        "worst_group_share_within_45_min": float(min(groups, default=1.0)),
        "max_travel_min": float(m["access"]["max_travel_min"]),
        "small_isolated_wards": values["small_isolated_wards"],
        "worst_refusal": worst_refusal(m),
    }
    return Candidate(
        name=r.name, npv_gbp=float(r.economics["npv_vs_status_quo_gbp"]),
        npc_gbp=float(r.economics["npc_gbp"]),
        mean_travel_min=float(m["access"]["mean_travel_min"]),
        hurdle_measures=hurdle_measures,
        criterion_scores=criterion_scores(values, settings.benefit_scales),
        shortlisted=r.shortlisted or r.name in benchmarks, passes_hurdles=r.shortlisted,
        can_continue=bau_can_continue or r.name != BAU,
        receipts_gbp=receipts_booked(lines))


def decide(prepared: Prepared, settings: AppraisalSettings, final: Sequence[OptionResult],
           alias: Mapping[str, str], notes: list[str]) -> tuple[str, dict[str, Any]]:
    """The preferred option and everything the report says about how it was chosen.

    ``notes`` is appended to (in place) when no option is eligible.
    """
    bau = bau_status(prepared)
    do_min = alias.get(DO_MINIMUM, DO_MINIMUM)
    benchmarks = [BAU, do_min]
    lines = {r.name: scheme_lines(prepared.catalogue, r.choice) for r in final}
    cands = [candidate(prepared, settings, r, benchmarks, bau["can_continue"], lines[r.name])
             for r in final]
    ranking = rank(cands, settings.benefit_weights, settings.value_for_money_rule)
    optimal = alias["optimal"]
    if ranking.eligible:
        preferred = ranking.eligible[0]
    else:
        preferred = optimal
        notes.append("no short-listed option passes every hurdle; the optimum for the scenario "
                     "is shown as the preferred option, and it fails a hurdle")
    by_name = {r.name: r for r in final}
    groups = distinct_groups(prepared, [by_name[n] for n in ranking.eligible])
    distinct = [members[0] for members in groups.values()]
    table = main_table(final, distinct, benchmarks, optimal)
    today = by_name[BAU].measures
    phrases = building_phrases(prepared)
    model, target = capacity_model(prepared)
    base = {ln.scheme_id for ln in lines[do_min]}
    robustness = (weight_robustness(cands, ranking, settings.benefit_weights,
                                    settings.weight_samples, settings.weight_seed)
                  if settings.value_for_money_rule == "cost_per_benefit_point" else None)
    return preferred, {
        "rule": settings.value_for_money_rule,
        "business_as_usual": {"option": BAU, **bau},
        "do_minimum": do_min,
        "benchmarks": benchmarks,
        "shortlist": [c.name for c in cands if c.shortlisted],
        "eligible_in_order": ranking.eligible,
        "dominated_by": ranking.dominated_by,
        "value_for_money": ranking.value,
        "benefit_score": ranking.benefit,
        "criterion_scores": {c.name: dict(c.criterion_scores) for c in cands},
        "hurdle_measures": {c.name: dict(c.hurdle_measures) for c in cands},
        "receipts_gbp": {c.name: dict(c.receipts_gbp) for c in cands},
        "capital_schemes": {r.name: len(lines[r.name]) for r in final},
        "preferred": preferred,
        "runner_up": distinct[1] if len(distinct) > 1 else None,
        "distinct_eligible": distinct,
        "variants": {members[0]: members[1:] for members in groups.values()},
        "weights": dict(settings.benefit_weights),
        "robustness": robustness,
        "receipt_switching_values": receipt_switching_values(
            cands, ranking, settings.benefit_weights, settings.value_for_money_rule),
        "main_table": table,
        "letters": letters(table),
        "titles": {r.name: option_title(r.measures, today, [
            phrases[ln.scheme_id] for ln in lines[r.name]
            if ln.scheme_id in phrases and ln.scheme_id not in base]) for r in final},
        "beds": {r.name: beds_phrase(r.measures) for r in final},
        "refusal_is_hurdle": refusal_is_hurdle(prepared, settings),
        "capacity_model": model,
        "target_refusal_probability": target,
        "bed_need_population_year": need_at_population_year(prepared),
    }


def building_phrases(prepared: Prepared) -> dict[str, str]:
    """scheme_id -> the words for each scheme that builds a ward space (new or rebuilt)."""
    names = dict(zip(prepared.data.sites["site_id"], prepared.data.sites["name"], strict=True))
    return {str(r["scheme_id"]): scheme_phrase(str(r["kind"]), str(names[r["site_id"]]),
                                               int(r["beds_max"] or 0), str(r["services"] or ""))
            for r in records(prepared.data.capital_schemes)
            if r["kind"] in ("new_space", "replace_space")}


def distinct_groups(prepared: Prepared, options: Sequence[OptionResult]
                    ) -> dict[tuple[Any, ...], list[str]]:
    """Options grouped by what a panel sees as the choice: which sites keep inpatient beds and
    which capital schemes are built. Groups keep the order of ``options`` (their first member
    is the best); members differ only in ward sizes (e.g. a 24-bed ward kept as it is or
    rebuilt as a 21-bed module)."""
    out: dict[tuple[Any, ...], list[str]] = {}
    for r in options:
        sites = tuple(sorted(sid for sid, s in r.measures["sites"].items() if s["inpatient"]))
        schemes = tuple(sorted(
            sid for site_id, oid in r.choice.items()
            for sid in prepared.catalogue.schemes.get(site_id, {}).get(oid, ())))
        out.setdefault((sites, schemes), []).append(r.name)
    return out


def main_table(final: Sequence[OptionResult], eligible: Sequence[str],
               benchmarks: Sequence[str], optimal: str) -> list[str]:
    """The options of the report's main table, in order: the benchmarks, the options named in
    wards.csv, then the user's options, the eligible options by value for money and the optimum,
    at most :data:`MAIN_TABLE_MAX_OPTIONS` (the benchmarks, wards.csv's options, the preferred
    and the runner-up are always in)."""
    named = [r.name for r in final if "named (wards.csv)" in r.sources]
    users = [r.name for r in final if "named (options file)" in r.sources]
    must = list(dict.fromkeys([*benchmarks, *named, *eligible[:2]]))
    extra = [n for n in [*users, *eligible[2:], optimal] if n not in must]
    room = max(0, MAIN_TABLE_MAX_OPTIONS - len(must))
    keep = set(must) | set(extra[:room])
    order = list(dict.fromkeys([*benchmarks, *named, *users, *eligible, optimal]))
    return [n for n in order if n in keep]

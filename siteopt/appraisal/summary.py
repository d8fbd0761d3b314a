"""The plain-English summary: statements whose every number is a named figure.

Each :class:`Statement` carries its text and the figures it quotes, each figure with where a
reader (or a test) finds it in the run's tables: ``(file, row key, column)``, e.g.
``("appraisal.csv", {"option": "pareto_11"}, "mean_travel_min")``. ``tests/test_summary.py``
checks that every number in every sentence is one of its figures and recomputes each figure
from the written tables and the raw inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from siteopt.appraisal.naming import gbp_m, join_words, short_site_name

if TYPE_CHECKING:  # pragma: no cover - typing only (appraise imports this module lazily)
    from siteopt.appraisal.appraise import Appraisal

NEIGHBOURHOODS_LISTED = 3
"""How many neighbourhoods with the largest rise in drive time the summary names."""


@dataclass(frozen=True)
class Figure:
    """One number a statement quotes, and where it is in the run's tables."""

    value: float
    text: str
    """As printed in the sentence."""
    table: str
    key: Mapping[str, str]
    column: str
    scale: float = 1.0
    """The table holds ``value * scale`` (e.g. shares printed as percentages: 0.01)."""


@dataclass(frozen=True)
class Statement:
    """A sentence of the summary and the figures it quotes."""

    id: str
    text: str
    figures: list[Figure] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {"id": self.id, "text": self.text, "figures": [
            {"value": f.value, "text": f.text, "table": f.table, "key": dict(f.key),
             "column": f.column, "scale": f.scale} for f in self.figures]}


class Writer:
    """Builds one statement: ``w.num(...)`` returns the printed number and records it."""

    def __init__(self, sid: str) -> None:
        self.id = sid
        self.figures: list[Figure] = []

    def num(self, value: float, fmt: str, table: str, key: Mapping[str, str], column: str,
            scale: float = 1.0) -> str:
        """Format ``value`` (``money``: £x.xxm; ``min``: one decimal; ``int``: thousands
        separated; ``pct``: a whole percentage of a share; ``beds``: whole beds) and record it."""
        if fmt == "money":
            text = gbp_m(value)
        elif fmt == "min":
            text = f"{value:.1f}"
        elif fmt == "pct":
            text = f"{100 * value:.0f}%"
        elif fmt in ("int", "beds"):
            text = f"{value:,.0f}"
        else:
            raise ValueError(fmt)
        self.figures.append(Figure(float(value), text, table, dict(key), column, scale))
        return text

    def done(self, text: str) -> Statement:
        """The statement with the figures recorded so far."""
        return Statement(self.id, text, list(self.figures))


def opt(name: str) -> dict[str, str]:
    """The appraisal.csv key of an option."""
    return {"option": name}


def summary_statements(a: Appraisal) -> list[Statement]:
    """The summary, in reading order."""
    d = a.decision
    out = [recommendation(a), rule_statement(a), site_changes(a), drive_overall(a),
           drive_by_area(a), neighbourhoods(a)]
    if "stp_2016" in {o.name for o in a.options}:
        out.append(against_2016(a))
    out.append(costs_and_risks(a))
    out.append(business_as_usual(a))
    return [s for s in out if s.text] if d else []


def letter_title(a: Appraisal, name: str) -> str:
    """``Option D: 6 sites: ...``."""
    d = a.decision
    return f"Option {d['letters'].get(name, '?')} ({d['titles'][name]})"


def recommendation(a: Appraisal) -> Statement:
    """What the preferred option is."""
    p = a.preferred
    m = a.option(p).measures
    w = Writer("recommendation")
    beds = ", ".join(f"{w.num(b, 'beds', 'appraisal.csv', opt(p), f'beds_{v}')} {v}"
                     for v, b in m["beds"].items())
    n = w.num(m["sites_with_beds"], "int", "appraisal.csv", opt(p), "sites_with_beds")
    d = a.decision
    what = d["titles"][p].split(": ", 1)[-1].replace("inpatient beds close", "beds close")
    return w.done(f"The preferred option is Option {d['letters'].get(p, '?')}: {n} sites keep "
                  f"inpatient beds ({what}), with {beds} beds in all.")


def rule_statement(a: Appraisal) -> Statement:
    """How it was chosen, and the runner-up."""
    d = a.decision
    p, r = a.preferred, d["runner_up"]
    w = Writer("rule")
    n_all = w.num(len(a.options), "int", "appraisal.csv", {}, "count")
    n_pass = w.num(sum(o.shortlisted for o in a.options), "int", "appraisal.csv",
                   {"shortlisted": "true"}, "count")
    if d["rule"] == "cost_per_benefit_point" and p in d["value_for_money"]:
        vfm = w.num(d["value_for_money"][p], "money", "appraisal.csv", opt(p),
                    "npc_per_benefit_point_gbp")
        score = f"{d['benefit_score'][p]:.2f}"
        w.figures.append(Figure(d["benefit_score"][p], score, "appraisal.csv", opt(p),
                                "benefit_score"))
        how = (f"among those that no other short-listed option beats on every count, it has "
               f"the lowest net present cost per benefit point ({vfm} per point; benefit score "
               f"{score} out of 10)")
    else:
        how = "it is the optimum for the scenario (no option passes every hurdle)"
    text = (f"Of the {n_all} options appraised, {n_pass} pass every hurdle; {how}.")
    if r is not None and r in d["value_for_money"]:
        vfm2 = w.num(d["value_for_money"][r], "money", "appraisal.csv", opt(r),
                     "npc_per_benefit_point_gbp")
        text += f" The runner-up is {letter_title(a, r)}, at {vfm2} per point."
    return w.done(text)


def site_changes(a: Appraisal) -> Statement:
    """Which sites gain, lose or close beds against today."""
    p = a.preferred
    m, sq = a.option(p).measures, a.option("status_quo").measures
    w = Writer("site_changes")
    parts = []
    for sid, s in m["sites"].items():
        now, then = sq["sites"][sid]["beds"], s["beds"]
        if now == then:
            continue
        name = short_site_name(str(s["name"]))
        changes = []
        for v in then:
            if now[v] != then[v]:
                a_ = w.num(now[v], "beds", "sites.csv", {"option": "status_quo", "site_id": sid},
                           f"beds_{v}")
                b_ = w.num(then[v], "beds", "sites.csv", {"option": p, "site_id": sid},
                           f"beds_{v}")
                changes.append(f"{v} {a_} to {b_}")
        verb = "closes its inpatient beds" if not s["inpatient"] else "changes"
        parts.append(f"{name} {verb} ({', '.join(changes)})")
    if not parts:
        return w.done("Every site keeps today's beds.")
    return w.done("Against today: " + "; ".join(parts) + ".")


def drive_overall(a: Appraisal) -> Statement:
    """The 65+ mean drive and share within 30 minutes, against business as usual."""
    p = a.preferred
    acc, base = a.option(p).measures["access"], a.option("status_quo").measures["access"]
    w = Writer("drive_overall")
    t1 = w.num(acc["mean_travel_min"], "min", "appraisal.csv", opt(p), "mean_travel_min")
    t0 = w.num(base["mean_travel_min"], "min", "appraisal.csv", opt("status_quo"),
               "mean_travel_min")
    s1 = w.num(acc["share_within_30_min"], "pct", "appraisal.csv", opt(p), "share_within_30_min")
    s0 = w.num(base["share_within_30_min"], "pct", "appraisal.csv", opt("status_quo"),
               "share_within_30_min")
    return w.done(f"People aged 65+ would drive {t1} minutes on average to the ward of each "
                  f"service they use (today {t0}); {s1} would be within 30 minutes (today {s0}).")


def drive_by_area(a: Appraisal) -> Statement:
    """Each local authority's 65+ mean drive before and after."""
    p = a.preferred
    m, sq = a.option(p).measures, a.option("status_quo").measures
    w = Writer("drive_by_area")
    parts = []
    for lad, acc in m["access_by_lad"].items():
        key = {"option": p, "group": "local_authority", "name": lad}
        key0 = {"option": "status_quo", "group": "local_authority", "name": lad}
        t0 = w.num(sq["access_by_lad"][lad]["mean_travel_min"], "min", "access_by_group.csv",
                   key0, "mean_travel_min")
        t1 = w.num(acc["mean_travel_min"], "min", "access_by_group.csv", key, "mean_travel_min")
        parts.append(f"{lad} {t0} to {t1}")
    return w.done("The 65+ mean drive by local authority, today to the preferred option, in "
                  "minutes: " + "; ".join(parts) + ".")


def neighbourhoods(a: Appraisal) -> Statement:
    """The neighbourhoods whose drive rises most."""
    p = a.preferred
    z = a.prepared.evaluation_instance.zones
    names = dict(zip(a.prepared.data.zones["zone_id"], a.prepared.data.zones["zone_name"],
                     strict=True))
    delta = a.zone_travel_min[p] - a.zone_travel_min["status_quo"]
    order = [i for i in np.argsort(-delta, kind="stable") if delta[i] > 0][:NEIGHBOURHOODS_LISTED]
    w = Writer("neighbourhoods")
    if not order:
        return w.done("No neighbourhood's 65+ mean drive rises.")
    parts = []
    for i in order:
        zid = z.zone_ids[i]
        key = {"zone_id": zid}
        d = w.num(float(delta[i]), "min", "zone_change.csv", key, f"change_min_{p}")
        t0 = w.num(float(a.zone_travel_min["status_quo"][i]), "min", "zone_change.csv", key,
                   "mean_travel_min_status_quo")
        t1 = w.num(float(a.zone_travel_min[p][i]), "min", "zone_change.csv", key,
                   f"mean_travel_min_{p}")
        n = w.num(float(z.weight[i]), "int", "zone_change.csv", key, "people_65_plus")
        parts.append(f"{names[zid]} in {z.lad_name[i]} (+{d} minutes, {t0} to {t1}; {n} people "
                     "aged 65+)")
    return w.done("The largest rises in drive time are in " + join_words(parts) + ".")


def against_2016(a: Appraisal) -> Statement:
    """Why the preferred option differs from the 2016 proposal."""
    d = a.decision
    p, stp = a.option(a.preferred), a.option("stp_2016")
    pm, sm = p.measures, stp.measures
    w = Writer("against_2016")
    beds_s = " and ".join(f"{w.num(b, 'beds', 'appraisal.csv', opt('stp_2016'), f'beds_{v}')} "
                          f"{v}" for v, b in sm["beds"].items())
    text = f"The 2016 proposal has {beds_s} beds"
    short = sm["bed_shortfall"]
    pop = d.get("bed_need_population_year")
    year = a.prepared.demand.planning_year
    if short:
        need = " and ".join(
            f"{w.num(sm['bed_need'][v], 'min', 'appraisal.csv', opt('stp_2016'), f'bed_need_{v}')}"
            f" {v}" for v in short)
        text += f": fewer than the {year} need of {need} beds"
        if pop is not None and all(float(sm["usable_beds"][v]) >= pop[v] - 1e-9 for v in short):
            yr0 = a.prepared.data.assumptions["meta.population_year"]
            need0 = " and ".join(
                f"{w.num(pop[v], 'min', 'appraisal.csv', opt('stp_2016'), f'bed_need_{v}_{yr0}')}"
                f" {v}" for v in short)
            text += (f", though enough for the {yr0} need of {need0} beds: it falls short only "
                     f"because the number of older people grows by {year}")
    text += "."
    more = []
    for v in pm["beds"]:
        diff = pm["beds"][v] - sm["beds"][v]
        if diff:
            more.append(f"{abs(diff)} {'more' if diff > 0 else 'fewer'} {v}")
            w.figures.append(Figure(abs(diff), str(abs(diff)), "appraisal.csv",
                                    {"option": a.preferred, "minus": "stp_2016"}, f"beds_{v}"))
    if more:
        text += f" The preferred option has {join_words(more)} beds."
    n1 = w.num(pm["net_capital_gbp"], "money", "appraisal.csv", opt(a.preferred),
               "net_capital_gbp")
    n0 = w.num(sm["net_capital_gbp"], "money", "appraisal.csv", opt("stp_2016"),
               "net_capital_gbp")
    r1 = w.num(pm["revenue_gbp_per_year"], "money", "appraisal.csv", opt(a.preferred),
               "revenue_gbp_per_year")
    r0 = w.num(sm["revenue_gbp_per_year"], "money", "appraisal.csv", opt("stp_2016"),
               "revenue_gbp_per_year")
    text += (f" Its net capital (capex less receipts) is {n1} against the 2016 proposal's {n0}, "
             f"and it costs {r1} a year to run against {r0}.")
    fails = [k.replace("_", " ") for k, v in stp.hurdles.items() if v]
    if fails:
        text += f" The 2016 proposal fails the {join_words(fails)} hurdle" + \
            ("s." if len(fails) > 1 else ".")
    return w.done(text)


def costs_and_risks(a: Appraisal) -> Statement:
    """Capital, receipts and their dependencies, revenue, refusal."""
    d = a.decision
    p = a.preferred
    o = a.option(p)
    m = o.measures
    w = Writer("costs_and_risks")
    capex = w.num(m["capex_gbp"], "money", "appraisal.csv", opt(p), "capex_gbp")
    disp = w.num(m["disposals_gbp"], "money", "appraisal.csv", opt(p), "disposals_gbp")
    net_gbp = float(m["net_capital_gbp"])
    net = w.num(abs(net_gbp), "money", "appraisal.csv", opt(p), "net_capital_gbp",
                scale=1.0 if net_gbp >= 0 else -1.0)
    rev = w.num(m["revenue_gbp_per_year"], "money", "appraisal.csv", opt(p),
                "revenue_gbp_per_year")
    save = float(o.economics["revenue_saving_gbp_per_year"])
    sv = w.num(abs(save), "money", "appraisal.csv", opt(p),
               "revenue_saving_vs_status_quo_gbp_per_year", scale=1.0 if save >= 0 else -1.0)
    npv = w.num(o.economics["npv_vs_status_quo_gbp"], "money", "appraisal.csv", opt(p),
                "npv_vs_status_quo_gbp")
    limit = a.prepared.scenario.model.capital_limit_gbp
    lim = ""
    if limit is not None:
        lim_t = w.num(limit, "money", "scenario", {}, "model.capital_limit_gbp")
        lim = f", within the {lim_t} {a.prepared.scenario.model.capital_basis} capital limit"
    net_words = f"{net} net" if net_gbp >= 0 else f"a net surplus of {net}"
    text = (f"It needs {capex} of capital and books {disp} of disposal receipts, {net_words}"
            f"{lim}. It costs {rev} a year to run, {sv} a year "
            f"{'less' if save >= 0 else 'more'} than today, and its net present value against "
            f"business as usual is {npv} over {a.settings.appraisal_years} years.")
    worst = max((v["refusal_probability"] for per in m["erlang_refusal"].values()
                 for v in per.values()), default=0.0)
    wr = w.num(worst, "pct", "appraisal.csv", opt(p), "max_erlang_refusal")
    tg = w.num(d["target_refusal_probability"], "pct", "assumptions", {},
               "capacity.target_refusal_probability")
    text += (f" Its busiest ward would turn away {wr} of arrivals on the day in the Erlang "
             f"view, against a {tg} target (see Resilience).")
    return w.done(text)


def business_as_usual(a: Appraisal) -> Statement:
    """Why business as usual can or cannot continue, and what the do minimum costs."""
    d = a.decision
    bau = d["business_as_usual"]
    w = Writer("business_as_usual")
    if bau["can_continue"]:
        return w.done("Business as usual can continue: every ward it uses stays available.")
    gone = "; ".join(
        f"the {g['beds']} {g['service']} beds "
        + (f"of {g['provider']} " if g["provider"] else "")
        + (f"({g['note']})" if g["note"] else f"at {short_site_name(g['site_name'])}")
        for g in bau["unavailable"])
    for g in bau["unavailable"]:
        w.figures.append(Figure(g["beds"], str(g["beds"]), "wards.csv",
                                {"configuration": "status_quo", "space_id": g["space_id"]},
                                "beds"))
    dm = a.option(d["do_minimum"]).measures
    cap = w.num(dm["capex_gbp"], "money", "appraisal.csv", opt(d["do_minimum"]), "capex_gbp")
    fails = [k.replace("_", " ") for k, v in a.option(d["do_minimum"]).hurdles.items() if v]
    text = (f"Business as usual cannot continue: {gone} will not be available in future. The do "
            f"minimum re-provides them and changes nothing else, for {cap} of capital")
    text += (f"; it fails the {join_words(fails)} hurdle{'s' if len(fails) > 1 else ''}."
             if fails else ".")
    return w.done(text)


def statements_as_dicts(statements: Sequence[Statement]) -> list[dict[str, Any]]:
    """Plain JSON types."""
    return [s.as_dict() for s in statements]

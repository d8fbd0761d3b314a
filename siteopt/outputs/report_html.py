"""The self-contained HTML consultation report of an appraisal, and its charts.

Reading order (a panel member reads the first screen; an analyst reads on):

1. **Summary**: the statements of :mod:`siteopt.appraisal.summary` (every number in them is
   a figure of the tables, checked by ``tests/test_summary.py``).
2. **The short list**: at most eight options, lettered and named in words, then the beds at
   each hospital in each of them.
3. **How the preferred option was chosen**: hurdles, benchmarks, dominance and the value for
   money rule; the non-financial benefits scores and their robustness to the weights.
4. **Resilience**, **capital reconciled with the STP**, the **economic case** and switching
   values, the **phasing** of the preferred option and the 2016 proposal year by year
   (:mod:`siteopt.outputs.phasing`), **why** each site loses beds, drive times by area and
   deprivation, charts.
5. **Assumptions, sources and licences**; the appendix with every option of the long list.

Every data string is escaped; images are embedded PNGs; nothing is fetched from the network.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from siteopt.appraisal.benefits import CRITERIA, CRITERION_LABELS, MEASURE_LABELS, worst_refusal
from siteopt.appraisal.economics import discount_factors
from siteopt.appraisal.measures import OptionResult, weighted_assignment_rows
from siteopt.appraisal.naming import ROLE_LABELS, short_site_name
from siteopt.appraisal.naming import gbp_m as money
from siteopt.appraisal.phasing import plan_words
from siteopt.appraisal.settings import WITHIN_MIN
from siteopt.appraisal.shortlist import HURDLES
from siteopt.appraisal.summary import summary_statements
from siteopt.outputs.equality_report import equality_section_html
from siteopt.outputs.html_text import esc, table
from siteopt.outputs.phasing import appraisal_section_html
from siteopt.runs.scenario import scenario_label
from siteopt.solver_core import GBP_PER_M

if TYPE_CHECKING:  # pragma: no cover
    from siteopt.appraisal.appraise import Appraisal

HURDLE_LABELS = {"bed_need": "bed need", "capital": "capital limit",
                 "staffing": "staffing limit", "equity": "equity threshold",
                 "access": "drive-time limits", "resilience": "resilience"}
ROLE_WORDS = {"status_quo": "business as usual", "do_minimum": "do minimum",
              "stp_2016": "2016 proposal", "optimal": "optimum for the scenario"}
DATA_ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0: "
    "ONS Census 2021 population and boundaries (ONS, OGL), English Indices of Deprivation "
    "(MHCLG, OGL), NHS site lists and the LLR STP (NHS, OGL). Road network from OpenStreetMap "
    "contributors, available under the Open Database Licence (ODbL).")


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
def role(a: Appraisal, name: str) -> str:
    """What an option is in the decision: benchmark, preferred, runner-up, ..."""
    d = a.decision
    if name == a.preferred:
        return "preferred"
    if name == d.get("runner_up"):
        return "runner-up"
    if name in ROLE_WORDS:
        return ROLE_WORDS[name]
    o = a.option(name)
    if any(s.startswith("named (options file)") for s in o.sources):
        return "your option"
    return "generated"


def option_label(a: Appraisal, o: OptionResult) -> str:
    """``Option D: 6 sites: ...`` for the short list; a plain name for the rest."""
    d = a.decision
    title = d.get("titles", {}).get(o.name, o.name)
    letter = d.get("letters", {}).get(o.name)
    if letter:
        return f"Option {letter}: {title}"
    if o.name in ROLE_LABELS:
        return f"{ROLE_LABELS[o.name]}: {title}"
    if o.name.startswith("next_best_"):
        return f"Next best {o.name.rsplit('_', 1)[1]}: {title}"
    if o.name.startswith("pareto_resilient_"):
        return f"Frontier point R{o.name.rsplit('_', 1)[1]}: {title}"
    if o.name.startswith("pareto_"):
        return f"Frontier point {o.name.rsplit('_', 1)[1]}: {title}"
    return f"{o.name}: {title}"


def short_list(a: Appraisal) -> list[OptionResult]:
    """The main table's options, in order."""
    return [a.option(n) for n in a.decision.get("main_table", [a.preferred])]


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------
GREYS = ("#000000", "#555555", "#8c8c8c", "#b5b5b5", "#2b2b2b", "#6e6e6e", "#a0a0a0", "#d0d0d0")
"""Chart colours that stay distinct in greyscale print (lightness steps); line styles,
markers and hatching carry the difference too, and every option is labelled directly."""
LINE_STYLES = (("-", 2.6), ("--", 2.0), (":", 2.4), ("-.", 1.8), ((0, (5, 1)), 1.6),
               ((0, (1, 1)), 2.2), ((0, (3, 1, 1, 1)), 1.6), ("-", 1.0))
HATCHES = ("", "//", "..", "xx", "\\\\", "--", "++", "oo")


def png(fig: Any) -> str:
    """A matplotlib figure as base64 PNG (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def charts(a: Appraisal) -> dict[str, str]:
    """Base64 PNGs: cost against access, beds per site, drive-time distributions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    inst = a.prepared.evaluation_instance
    opts = short_list(a)
    d = a.decision
    fig, ax = plt.subplots(figsize=(8, 5))
    e = a.enumeration
    if e is not None:
        ax.scatter(e.cost_gbp_per_year / GBP_PER_M, e.mean_travel_min, s=8, color="#d9d9d9",
                   label=f"every configuration within the limits ({e.n_meeting_limits:,})")
    front = [a.option(n) for n in dict.fromkeys(a.frontier)]
    ax.plot([o.measures["cost_gbp_per_year"] / GBP_PER_M for o in front],
            [o.measures["access"]["mean_travel_min"] for o in front], "-o", color="#444444",
            ms=4, label=f"Pareto frontier ({len(front)} points)")
    markers = ["s", "D", "^", "v", "P", "X", "*", "h"]
    for i, o in enumerate(opts):
        x, y = o.measures["cost_gbp_per_year"] / GBP_PER_M, o.measures["access"]["mean_travel_min"]
        ax.scatter([x], [y], s=70, marker=markers[i % 8], color=GREYS[i % len(GREYS)],
                   edgecolor="#000000", zorder=5,
                   label=f"Option {d['letters'][o.name]} ({role(a, o.name)})")
        ax.annotate(d["letters"][o.name], (x, y), textcoords="offset points", xytext=(6, 4),
                    fontsize=9, fontweight="bold")
    ax.set_xlabel("annual cost: revenue + annualised capital (£m a year)")
    ax.set_ylabel("mean drive time, people aged 65+ (minutes)")
    ax.set_title("Cost against access")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out["pareto"] = png(fig)
    fig, ax = plt.subplots(figsize=(9, 5))
    width = 0.8 / max(1, len(opts))
    xs = np.arange(inst.n_sites)
    for i, o in enumerate(opts):
        beds = [sum(o.measures["sites"][s.site_id]["beds"].values()) for s in inst.sites]
        ax.bar(xs + i * width - 0.4 + width / 2, beds, width, color=GREYS[i % len(GREYS)],
               hatch=HATCHES[i % len(HATCHES)], edgecolor="#222222", linewidth=0.5,
               label=f"Option {d['letters'][o.name]}")
    ax.set_xticks(xs)
    ax.set_xticklabels([short_site_name(s.name) for s in inst.sites], rotation=35, ha="right",
                       fontsize=8)
    ax.set_ylabel("beds (all services)")
    ax.set_title("Beds per site")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    out["beds"] = png(fig)
    fig, ax = plt.subplots(figsize=(8, 5))
    for i, o in enumerate(opts):
        _z, t, w = weighted_assignment_rows(inst, o.solution)
        order = np.argsort(t)
        cum = np.cumsum(w[order]) / float(inst.zones.weight.sum())
        style = LINE_STYLES[i % len(LINE_STYLES)]
        ax.step(t[order], 100 * cum, where="post", label=f"Option {d['letters'][o.name]}",
                color=GREYS[i % len(GREYS)], linestyle=style[0], lw=style[1], zorder=10 - i,
                marker=markers[i % 8], markevery=max(1, len(t) // 8), ms=5)
    for m in WITHIN_MIN:
        ax.axvline(m, color="#999999", lw=0.8, ls=":")
    ax.set_xlabel("drive time to the ward of each service (minutes)")
    ax.set_ylabel("people aged 65+ within that time (%)")
    ax.set_title("Drive-time distribution")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out["travel"] = png(fig)
    return out


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------
CSS = """
body{font-family:Arial,Helvetica,sans-serif;margin:2em auto;max-width:1100px;color:#212b32;
line-height:1.45;padding:0 1em}
h1{color:#005eb8;margin-bottom:.2em}h2{border-bottom:2px solid #005eb8;padding-bottom:.2em;
margin-top:2em}
table{border-collapse:collapse;font-size:.82em;margin:1em 0;width:100%}
th,td{border:1px solid #d8dde0;padding:.3em .45em;text-align:right;vertical-align:top}
th{background:#f0f4f5}td:first-child,th:first-child{text-align:left}
td:nth-child(2){text-align:left}
tr.pref td{background:#e8f1fa;font-weight:bold}
table.text td,table.text th{text-align:left}
table.main td:nth-child(n+3),table.keyfig td{white-space:nowrap}
.fail{color:#b00020}.pass{color:#007f3b}
.summary{background:#f0f4f5;border-left:6px solid #005eb8;padding:.6em 1.2em;margin:1em 0}
.summary p{margin:.5em 0}.summary li{margin:.35em 0}
.lead{font-size:1.15em}table.keyfig td:not(:first-child){text-align:right}
img{max-width:100%;border:1px solid #d8dde0;margin:.5em 0}
.note{font-size:.85em;color:#4c6272}
table.phasing td:last-child{text-align:left;min-width:16em}
"""


def key_figures(a: Appraisal) -> str:
    """The first screen's table: the preferred option beside the benchmarks it is judged by."""
    d = a.decision
    names = list(dict.fromkeys(n for n in (a.preferred, d.get("runner_up"), "stp_2016",
                                           "status_quo") if n and n in d["titles"]))
    opts = [a.option(n) for n in names]
    head = ["", *[f"Option {d['letters'].get(o.name, '')} ({role(a, o.name)})" for o in opts]]
    rows = [
        ["Hospitals with inpatient beds", *[o.measures["sites_with_beds"] for o in opts]],
        ["Beds", *[d["beds"][o.name] for o in opts]],
        ["65+ mean drive to their ward", *[f"{o.measures['access']['mean_travel_min']:.1f} min"
                                           for o in opts]],
        ["65+ within 30 minutes", *[f"{o.measures['access']['share_within_30_min']:.0%}"
                                    for o in opts]],
        ["Net capital", *[money(o.measures["net_capital_gbp"]) for o in opts]],
        ["Running cost a year", *[money(o.measures["revenue_gbp_per_year"]) for o in opts]],
        ["NPV against business as usual",
         *[money(o.economics["npv_vs_status_quo_gbp"]) for o in opts]],
        ["Hurdles", *["passes all" if o.shortlisted else "fails: " + ", ".join(
            HURDLE_LABELS[h] for h in HURDLES if o.hurdles.get(h)) for o in opts]],
    ]
    return table(head, rows, "keyfig")


def summary_section(a: Appraisal) -> list[str]:
    """The summary box: the recommendation, the key figures, then the other statements."""
    statements = summary_statements(a)
    parts = ["<h2 id='summary'>Summary</h2><div class='summary'>"]
    if statements:
        parts.append(f"<p class='lead'><b>{esc(statements[0].text)}</b></p>")
        parts.append(key_figures(a))
        parts.append("<ul>" + "".join(f"<li>{esc(s.text)}</li>" for s in statements[1:])
                     + "</ul>")
    parts.append("</div>")
    return parts


def shortlist_section(a: Appraisal) -> list[str]:
    """The main table and the site x option beds table."""
    opts = short_list(a)
    d = a.decision
    parts = ["<h2 id='options'>The short list</h2>",
             "<p>Drive times are for people aged 65+, to the ward of each service they use, "
             "weighted by each service's share of bed need (the same measure on the maps). "
             "Money at 2016/17 prices; NPV over "
             f"{a.settings.appraisal_years} years against business as usual. The preferred "
             "option is highlighted.</p>"]
    header = ["Option", "Role", "Beds", "Mean drive (min)", "Within 30 min",
              "Worst area mean (min)", "Net capital", "Revenue a year", "NPV vs BAU",
              "Benefit score (0-10)", "NPC per benefit point", "Hurdles"]
    rows, classes = [], []
    for o in opts:
        m, e = o.measures, o.economics
        fails = [HURDLE_LABELS[h] for h in HURDLES if o.hurdles.get(h)]
        dom = d["dominated_by"].get(o.name)
        verdict = "passes all" if not fails else "fails: " + ", ".join(fails)
        if dom:
            verdict += f"; beaten on every count by Option {d['letters'].get(dom, dom)}" \
                if dom in d["letters"] else f"; beaten on every count by {dom}"
        vfm = d["value_for_money"].get(o.name)
        worst = max(g["mean_travel_min"] for g in m["access_by_lad"].values())
        rows.append([option_label(a, o), role(a, o.name), d["beds"][o.name],
                     f"{m['access']['mean_travel_min']:.1f}",
                     f"{m['access']['share_within_30_min']:.0%}", f"{worst:.1f}",
                     money(m["net_capital_gbp"]), money(m["revenue_gbp_per_year"]),
                     money(e["npv_vs_status_quo_gbp"]), f"{d['benefit_score'][o.name]:.2f}",
                     money(vfm) if vfm is not None else "not eligible", verdict])
        classes.append("pref" if o.name == a.preferred else "")
    parts.append(table(header, rows, "main", classes))
    parts.append("<h3>Beds at each hospital</h3>")
    services = list(a.prepared.evaluation_instance.services)
    site_ids = list(opts[0].measures["sites"])
    names = {sid: s["name"] for sid, s in opts[0].measures["sites"].items()}
    header = ["Hospital"] + [f"Option {d['letters'][o.name]}" for o in opts]
    rows = []
    for sid in site_ids:
        cells = [names[sid]]
        for o in opts:
            beds = o.measures["sites"][sid]["beds"]
            cells.append(" + ".join(f"{beds[v]} {v}" for v in services if beds[v]) or "none")
        rows.append(cells)
    parts.append(table(header, rows, "sites"))
    return parts


def decision_section(a: Appraisal) -> list[str]:
    """Hurdles, benchmarks, dominance and the value-for-money rule, in words."""
    d = a.decision
    s = a.settings
    n = len(a.options)
    passing = [o for o in a.options if o.shortlisted]
    rule = ("the lowest net present cost per weighted benefit point (NPC divided by the "
            "benefit score below)" if d["rule"] == "cost_per_benefit_point" else
            "the highest NPV against business as usual (the benefit score breaks ties)")
    cap = a.prepared.scenario.model
    hurdle_words = [
        "bed need: enough usable beds of each service for the planning year's need",
        "capital: " + ("no limit" if cap.capital_limit_gbp is None else
                       f"{cap.capital_basis} capital within {money(cap.capital_limit_gbp)}"),
        f"staffing: registered nurses within {s.rn_wte_headroom_vs_status_quo:.0%} of today's "
        "(or the scenario's limit)",
        f"equity: in every local authority and deprivation quintile at least "
        f"{s.equity_min_share_within_45_min:.0%} of people aged 65+ within 45 minutes",
        "access: the scenario's drive-time limits ("
        + ", ".join(x for x in [
            f"nobody over {cap.max_travel_min:g} minutes" if cap.max_travel_min else "",
            f"65+ mean within {cap.max_mean_travel_min:g} minutes"
            if cap.max_mean_travel_min else ""] if x) + ")",
        f"resilience: no isolated ward (the only ward on its site) below the "
        f"{s.isolated_ward_min_beds}-bed standard"
        + (f"; the busiest ward turns away at most {d['target_refusal_probability']:.0%} of "
           "arrivals" if d["refusal_is_hurdle"] else ""),
    ]
    parts = ["<h2 id='decision'>How the preferred option was chosen</h2>",
             "<p>The appraisal follows the HM Treasury Green Book: a long list, a short list "
             "by the critical success factors (hurdles), then the preferred option as the best "
             "value for money on the short list.</p><ol>",
             f"<li>Long list: {n} distinct options (business as usual, the do minimum, the "
             "named options, the optimum for the scenario, the next best options and every "
             "point of the cost/access frontier).</li>",
             "<li>Hurdles: " + esc("; ".join(hurdle_words)) + f". {len(passing)} of the {n} "
             "options pass them all.</li>",
             "<li>Business as usual and the do minimum stay on the short list as benchmarks "
             "whatever their hurdles say; business as usual cannot be preferred if it cannot "
             "continue.</li>",
             "<li>An option is not eligible when another short-listed option is at least as "
             "good on NPV, on the 65+ mean drive and on every hurdle measure, and better on "
             f"one ({beaten(a)}).</li>",
             f"<li>Rule: among the eligible options, the preferred option has {esc(rule)}.</li>"
             "</ol>"]
    elig = d["eligible_in_order"]
    if elig:
        pref = a.option(a.preferred)
        txt = f"Preferred: {option_label(a, pref)}."
        if d["runner_up"]:
            txt += f" Runner-up: {option_label(a, a.option(d['runner_up']))}."
        variants = d["variants"].get(a.preferred, [])
        if variants:
            txt += (f" {len(variants)} further eligible options are the same choice of sites "
                    "and schemes with a few beds more or fewer at some wards (appendix).")
        parts.append(f"<p><b>{esc(txt)}</b></p>")
    failing = [(option_label(a, o), HURDLE_LABELS[h], r) for o in short_list(a)
               for h, r in o.hurdles.items() if r]
    if failing:
        parts.append("<h3>Why short-listed options fail a hurdle</h3>")
        parts.append(table(["Option", "Hurdle", "Reason"], failing, "text"))
    parts += benefits_section(a)
    return parts


def beaten(a: Appraisal) -> str:
    """``Option B is beaten this way by Option A`` or ``no short-listed option is ...``."""
    d = a.decision
    pairs = [f"{label_or_name(a, b)} by {label_or_name(a, by)}"
             for b, by in d["dominated_by"].items()]
    if not pairs:
        return "no short-listed option is beaten this way"
    return "beaten this way: " + "; ".join(pairs)


def label_or_name(a: Appraisal, name: str) -> str:
    """``Option B`` for the short list, else the option's label."""
    letter = a.decision["letters"].get(name)
    return f"Option {letter}" if letter else option_label(a, a.option(name))


def benefits_section(a: Appraisal) -> list[str]:
    """Criteria, weights, scales, scores and robustness."""
    d = a.decision
    s = a.settings
    parts = ["<h3>Non-financial benefits</h3>",
             "<p>Each measure scores 0 to 10 on a fixed scale (the value scoring 0 and the value "
             "scoring 10, linear in between); a criterion scores the mean of its measures; the "
             "benefit score is the weighted sum. Weights and scales are in assumptions.toml "
             "([appraisal] benefit_weights, benefit_scales): assumptions for the programme "
             "board to set, changeable with --set.</p>"]
    rows = []
    for c, ms in CRITERIA.items():
        for m in ms:
            lo, hi = s.benefit_scales[m]
            rows.append([CRITERION_LABELS[c], f"{s.benefit_weights[c]:.0%}", MEASURE_LABELS[m],
                         scale_value(m, lo), scale_value(m, hi)])
    parts.append(table(["Criterion", "Weight", "Measure", "Scores 0 at", "Scores 10 at"], rows,
                       "text"))
    opts = short_list(a)
    rows = [[f"Option {d['letters'][o.name]}"]
            + [f"{d['criterion_scores'][o.name][c]:.2f}" for c in CRITERIA]
            + [f"{d['benefit_score'][o.name]:.2f}"] for o in opts]
    parts.append(table(["Option"] + [CRITERION_LABELS[c] for c in CRITERIA] + ["Benefit score"],
                       rows))
    rob = d.get("robustness")
    if rob:
        txt = (f"Robustness to the weights: the preferred option stays first under "
               f"{rob['share_preferred_first']:.1%} of {rob['samples']:,} random weight "
               f"vectors (uniform over all weightings, seed {rob['seed']}).")
        if rob["nearest"]:
            near = rob["nearest"][0]
            other = a.option(near["option"])
            new = ", ".join(f"{CRITERION_LABELS[c].lower()} {w:.0%}"
                            for c, w in near["weights"].items())
            txt += (f" The smallest change that makes another option first moves "
                    f"{near['weight_moved']:.0%} of the weight, to {new}, and makes "
                    f"{option_label(a, other)} first.")
        elif len(d["eligible_in_order"]) > 1:
            txt += (" No weighting of the criteria makes another eligible option first: the "
                    "preferred option's cost per point is lower under every weighting.")
        parts.append(f"<p>{esc(txt)}</p>")
    return parts


def scale_value(measure: str, value: float) -> str:
    """A benefit scale's end in the measure's unit."""
    if measure.endswith("_gbp"):
        return money(value)
    if measure.startswith("share_") or measure.startswith("worst_refusal"):
        return f"{value:.0%}"
    return f"{value:g}"


def resilience_section(a: Appraisal) -> list[str]:
    """The capacity model in use and what the refusal figures mean."""
    d = a.decision
    model = d["capacity_model"]
    target = d["target_refusal_probability"]
    occ = a.prepared.demand.target_occupancy
    refusals = [worst_refusal(o.measures) for o in short_list(a)]
    text = (f"Bed need is sized by the {model} model" + (
        f": beds = bed-days / 365 / {occ:.0%} occupancy" if model == "occupancy" else
        f": each site's beds are the fewest that turn away at most {target:.0%} of arrivals "
        "(Erlang loss model)") + ". The refusal figures are the Erlang B probability that a "
        "patient arriving finds every bed of the ward's service at the site full, with the "
        "need assigned to it as the offered load.")
    if model == "occupancy":
        text += (f" Wards planned at {occ:.0%} occupancy turn away "
                 f"{min(refusals):.0%}-{max(refusals):.0%} of arrivals at their busiest ward in "
                 f"the short list, above the {target:.0%} target: in practice patients wait in "
                 "an acute bed or go to another site. The refusal target is therefore not a "
                 "hurdle here (it applies when bed need is sized by the Erlang model: run with "
                 "--set catalogue.capacity_model=erlang to plan for it).")
    text += (f" Isolated wards below the {a.settings.isolated_ward_min_beds}-bed standard fail "
             "the resilience hurdle: a single small ward cannot share night cover and is "
             "vulnerable to short-notice sickness (STP Nov 2016).")
    return ["<h2 id='resilience'>Resilience</h2>", f"<p>{esc(text)}</p>"]


def capital_section(a: Appraisal) -> list[str]:
    """The STP reconciliation and the preferred option's schemes."""
    d = a.decision
    parts = ["<h2 id='capital'>Capital</h2>"]
    rec = d.get("capital_reconciliation")
    if rec:
        parts.append("<p>The 2016 proposal's capital as siteopt counts it, beside the STP's "
                     "published programme (stp_capital_programme.csv). The STP prints the "
                     "inpatient reconfiguration and the Oakham and Lutterworth ambulatory "
                     "schemes as separate programmes; siteopt's 2016 option triggers both, so "
                     "its total is their sum.</p>")
        rows = [[r["line"], money(r["stp_capex_gbp"]), money(r["stp_receipts_gbp"]),
                 money(r["stp_net_gbp"]), money(r["siteopt_capex_gbp"]),
                 money(r["siteopt_receipts_gbp"]), money(r["siteopt_net_gbp"])] for r in rec]
        parts.append(table(["Programme line", "STP capex", "STP disposals", "STP net",
                            "siteopt capex", "siteopt disposals", "siteopt net"], rows))
        gross = a.prepared.data.assumptions.sources.get("limits.capital_gross_gbp", "")
        gross_gbp = float(a.prepared.data.assumptions["limits.capital_gross_gbp"])
        note = (f"The STP also gives a gross figure of {money(gross_gbp)} for the relocation "
                f"of inpatient services ({gross}); it does not itemise it, so it is not "
                "reconciled line by line.")
        parts.append(f"<p class='note'>{esc(note)}</p>")
    schemes = d.get("schemes", {}).get(a.preferred, [])
    parts.append("<h3>The preferred option's schemes</h3>")
    if schemes:
        rows = [[s["site_name"], s["description"], money(s["capex_gbp"]),
                 money(s["receipt_realised_gbp"]),
                 ("needs beds to close at " + ", ".join(s["requires_closure"]))
                 if s["requires_closure"] else ""] for s in schemes]
        parts.append(table(["Site", "Scheme", "Capex", "Receipt booked", "Depends on"], rows,
                           "text"))
    else:
        parts.append("<p>None.</p>")
    sw = d.get("receipt_switching_values", [])
    if sw:
        items = []
        where = {sc["scheme_id"]: f"{sc['site_name']} ({sc['scheme_id']})" for sc in schemes}
        for x in sw:
            what = where.get(x["scheme_id"], x["scheme_id"])
            if x["switching_value_gbp"] is None:
                items.append(f"{what}: the preferred option stays best even with no "
                             f"receipt (booked {money(x['receipt_gbp'])}).")
            else:
                items.append(f"{what}: the preferred option stays best unless the "
                             f"receipt of {money(x['receipt_gbp'])} falls below "
                             f"{money(x['switching_value_gbp'])} (then "
                             f"{option_label(a, a.option(x['then_preferred']))}).")
        parts.append("<p>Switching values of the receipts:</p><ul>"
                     + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>")
    return parts


def economics_section(a: Appraisal) -> list[str]:
    """The Green Book table and the switching values of the short list."""
    s = a.settings
    df = discount_factors(s.appraisal_years, s.discount_rate_years_0_30,
                          s.discount_rate_years_31_plus)
    text = (f"Net present cost over {s.appraisal_years} years at 2016/17 prices: capital in "
            f"year 0 with a {s.optimism_bias_capex:.0%} optimism bias uplift, less disposal "
            f"receipts, plus revenue in years 1-{s.appraisal_years}, less the residual value "
            f"({s.residual_value_method.replace('_', ' ')}) in year {s.appraisal_years}. "
            f"Discount rate {s.discount_rate_years_0_30:.1%} to year 30 and "
            f"{s.discount_rate_years_31_plus:.1%} after (discount factor in year 30: "
            f"{df[min(30, s.appraisal_years)]:.4f}). NPV = NPC of business as usual minus NPC "
            "of the option.")
    rows = []
    for o in short_list(a):
        e = o.economics
        rows.append([option_label(a, o), money(o.measures["capex_gbp"]),
                     money(e["optimism_bias_gbp"]), money(o.measures["disposals_gbp"]),
                     money(e["pv_revenue_gbp"]), money(e["pv_residual_gbp"]), money(e["npc_gbp"]),
                     money(e["npv_vs_status_quo_gbp"])])
    parts = ["<h2 id='economics'>Economic case (HM Treasury Green Book)</h2>",
             f"<p>{esc(text)}</p>",
             table(["Option", "Capex", "Optimism bias", "Disposals", "PV revenue",
                    "PV residual", "NPC", "NPV vs BAU"], rows),
             "<h3>Switching values</h3><p>The value of each key assumption at which the "
             "option's NPV against business as usual falls to zero.</p>"]

    def pct(x: float | None) -> str:
        return "none" if x is None else f"{x:+.0%}"

    sw_rows = []
    for o in short_list(a):
        if o.name == "status_quo":
            continue
        sv = o.economics["switching_values"]
        sw_rows.append([option_label(a, o), money(sv["npv_gbp"] or 0.0),
                        pct(sv["revenue_saving_change"]), pct(sv["capex_change"]),
                        pct(sv["disposals_change"]),
                        "none" if sv["optimism_bias"] is None else f"{sv['optimism_bias']:.0%}",
                        "none in 0-20%" if sv["discount_rate"] is None
                        else f"{sv['discount_rate']:.2%}"])
    parts.append(table(["Option", "NPV", "Revenue saving change", "Capex change",
                        "Disposals change", "Optimism bias", "Discount rate"], sw_rows))
    return parts


def why_section(a: Appraisal) -> list[str]:
    """What keeping each site's beds would cost and change."""
    parts = ["<h2 id='why'>Why: what keeping each site's beds would cost and change</h2>"]
    if not a.why:
        return [*parts, "<p>No site has fewer beds than today in the preferred or named "
                "options.</p>"]
    for name in dict.fromkeys(w["option"] for w in a.why):
        parts.append(f"<h3>{esc(option_label(a, a.option(name)))}</h3><ul>" + "".join(
            f"<li>{esc(w['sentence'])}</li>" for w in a.why if w["option"] == name) + "</ul>")
    return parts


def groups_section(a: Appraisal) -> list[str]:
    """65+ mean drive by local authority and deprivation quintile: a row per group, a column per
    short-listed option (the change against business as usual in brackets)."""
    opts = short_list(a)
    d = a.decision
    rows = []
    first = opts[0].measures
    for gkey, ckey, lab in (("access_by_lad", "by_lad", ""),
                            ("access_by_imd_quintile", "by_imd_quintile", "IMD quintile ")):
        for name, acc in first[gkey].items():
            cells = [f"{lab}{name}", f"{acc['people_65_plus']:,.0f}"]
            for o in opts:
                g = o.measures[gkey][name]
                ch = o.measures["zone_change_vs_status_quo"][ckey][name]["mean_change_min"]
                cells.append(f"{g['mean_travel_min']:.1f} ({(round(ch, 1) or 0.0):+.1f})")
            rows.append(cells)
    return ["<h2 id='groups'>Drive times by local authority and deprivation</h2>",
            "<p>65+ mean drive to their ward in minutes, and in brackets the change against "
            "business as usual. IMD quintile 1 is the most deprived fifth of the area's "
            "neighbourhoods. The 90th percentile, the longest drive and the shares within 30 and "
            "45 minutes of every group are in access_by_group.csv.</p>",
            table(["Group", "People 65+", *[f"Option {d['letters'][o.name]}" for o in opts]],
                  rows, "groups")]


def assumptions_section(a: Appraisal) -> list[str]:
    """Every assumption the appraisal rests on, with its source, and the data attribution."""
    asm = a.prepared.data.assumptions
    keys = [k for k in asm.values if k.split(".")[0] in (
        "meta", "demand", "growth", "home_first", "capacity", "services", "staffing", "costs",
        "limits", "green_book", "appraisal", "base_case", "phasing")]
    rows = [[k, v if isinstance(v, str) else repr(v), asm.sources.get(k, "")]
            for k, v in ((k, asm.values[k]) for k in keys)]
    scen = a.prepared.scenario
    set_by = [f"{k} = {scen.values[k]!r} (from {scen.origin.get(k, '?')})"
              for k in sorted(scen.values)]
    return ["<h2 id='assumptions'>Assumptions, sources and licences</h2>",
            f"<p>Price base 2016/17; planning year {a.prepared.demand.planning_year}; growth "
            f"method {esc(a.prepared.demand.growth_method)}; Home First reductions "
            + esc(", ".join(f"{k} {v:.0%}"
                            for k, v in a.prepared.demand.home_first_reduction.items()))
            + f"; target occupancy {a.prepared.demand.target_occupancy:.0%}.</p>",
            "<p>Scenario values and where each came from: " + esc("; ".join(set_by)) + ".</p>",
            table(["Key", "Value", "Source"], rows, "text"),
            f"<p class='note'>{esc(DATA_ATTRIBUTION)}</p>"]


def appendix_section(a: Appraisal, files: Sequence[str], map_files: Sequence[str]
                     ) -> list[str]:
    """Every option of the long list, the method's checks and the files."""
    rows = []
    for o in a.options:
        m, e = o.measures, o.economics
        fails = [HURDLE_LABELS[h] for h in HURDLES if o.hurdles.get(h)]
        rows.append([option_label(a, o), a.decision["beds"][o.name],
                     f"{m['access']['mean_travel_min']:.2f}", money(m["net_capital_gbp"]),
                     money(m["revenue_gbp_per_year"]), money(e["npv_vs_status_quo_gbp"]),
                     f"{a.decision['benefit_score'][o.name]:.2f}",
                     "passes all" if not fails else "fails: " + ", ".join(fails)])
    fc, en = a.frontier_check, a.enumeration
    items = [f"Pareto frontier: {len(a.frontier)} efficient points by the epsilon-constraint "
             f"method ({fc.get('method')}); check: {fc.get('detail', 'not checked')}."]
    if en is not None:
        items.append(f"Every configuration was enumerated: {en.n_configurations:,} in all, "
                     f"{en.n_meeting_limits:,} within the scenario's limits and with enough "
                     f"beds (enumeration.csv), so no option is hidden.")
    items += [f"Note: {n}" for n in a.notes]
    items.append(f"Inputs SHA-256: {a.prepared.inputs_sha256}.")
    parts = ["<h2 id='appendix'>Appendix: every option of the long list</h2>",
             table(["Option", "Beds", "Mean drive (min)", "Net capital", "Revenue a year",
                    "NPV vs BAU", "Benefit score", "Hurdles"], rows, "longlist"),
             "<h3>Method and checks</h3><ul>"]
    parts += [f"<li>{esc(i)}</li>" for i in items]
    parts.append("</ul>")
    index = [f for f in map_files if f.endswith("maps.html")]
    if index:
        parts.append(f"<p>Maps of the short-listed options: <a href='{esc(index[0])}'>"
                     f"{esc(index[0])}</a>.</p>")
    parts.append("<h3>Files</h3><ul>" + "".join(
        f"<li><a href='{esc(f)}'>{esc(f)}</a></li>" for f in [*files, *map_files]) + "</ul>")
    return parts


def report_html(a: Appraisal, images: Mapping[str, str], files: Sequence[str],
                map_files: Sequence[str] = (),
                phasing_images: Mapping[str, str] | None = None) -> str:
    """The self-contained consultation report (every data string escaped); ``phasing_images``:
    option -> base64 PNG of its phasing timeline (:func:`siteopt.outputs.phasing.
    timeline_bytes`)."""
    region = a.prepared.data.assumptions["meta.region"]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{esc('Community hospital beds: options appraisal, ' + str(region))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{esc('Community hospital inpatient beds: options appraisal')}</h1>",
        f"<p class='note'>{esc(region)}; planning year {esc(a.prepared.demand.planning_year)}; "
        f"scenario {esc(scenario_label(a.prepared.scenario))}.</p>",
    ]
    parts += summary_section(a)
    parts += shortlist_section(a)
    parts += decision_section(a)
    parts += resilience_section(a)
    parts += capital_section(a)
    parts += economics_section(a)
    parts += appraisal_section_html(a.phasing, plan_words(a.decision, a.preferred), {
        s.site_id: s.name for s in a.prepared.evaluation_instance.sites}, phasing_images or {})
    parts += why_section(a)
    parts += groups_section(a)
    parts += equality_section_html(a)
    captions = {"pareto": "Cost against access: every configuration within the limits (grey), "
                          "the Pareto frontier (dark line) and the short-listed options, each "
                          "labelled by its letter.",
                "beds": "Beds per site in the short-listed options.",
                "travel": "Share of people aged 65+ within each drive time."}
    parts.append("<h2 id='charts'>Charts</h2>")
    for key, b64 in images.items():
        parts.append(f"<figure><img alt='{esc(captions.get(key, key))}' "
                     f"src='data:image/png;base64,{b64}'><figcaption class='note'>"
                     f"{esc(captions.get(key, key))}</figcaption></figure>")
    parts += assumptions_section(a)
    parts += appendix_section(a, files, map_files)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"

"""Write an appraisal: tables (CSV, XLSX), a self-contained HTML report and JSON.

Files under the run folder (every one written atomically, after everything is computed):

==========================  ==================================================================
``appraisal.csv``           one row per option: beds, sites, access, capital, revenue, staff,
                            Erlang refusal, Green Book NPC/NPV, hurdles
``appraisal.xlsx``          the same and the detail tables, one sheet each, plus every
                            assumption with its source
``access_by_group.csv``     65+ drive time per option and local authority / IMD quintile, and
                            the change from the status quo
``sites.csv``               wards, beds and Erlang refusal per option and site
``zone_change.csv``         each zone's 65+ mean drive per option and its change from today
``enumeration.csv``         every configuration that meets the scenario's limits (if enumerated)
``why.csv``                 what keeping each site's beds would cost and change
``appraisal.json``          everything above, for machines
``report.html``             the consultation report: plain-English summary, options table and
                            charts (PNG embedded, no external resources)
==========================  ==================================================================
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from siteopt.appraisal.appraise import Appraisal
from siteopt.appraisal.economics import discount_factors
from siteopt.appraisal.measures import OptionResult
from siteopt.appraisal.settings import WITHIN_MIN
from siteopt.fileio import write_atomically
from siteopt.runs.pipeline import manifest
from siteopt.solver_core import GBP_PER_M

HURDLES = ("bed_need", "capital", "staffing", "equity")
HURDLE_LABELS = {"bed_need": "bed need", "capital": "capital limit",
                 "staffing": "staffing limit", "equity": "equity threshold"}


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------
def option_label(o: OptionResult) -> str:
    """A reader's name for an option."""
    names = {"status_quo": "Status quo (2016 beds)", "stp_2016": "STP proposal (2016)",
             "optimal": "Optimal for the scenario"}
    if o.name in names:
        return names[o.name]
    if o.name.startswith("next_best_"):
        return f"Next best {o.name.rsplit('_', 1)[1]}"
    if o.name.startswith("pareto_"):
        return f"Pareto point {o.name.rsplit('_', 1)[1]}"
    return o.name


def max_refusal(o: OptionResult) -> float:
    """The highest Erlang refusal probability over the option's wards."""
    vals = [v["refusal_probability"] for per in o.measures["erlang_refusal"].values()
            for v in per.values()]
    return max(vals) if vals else 0.0


def option_rows(a: Appraisal) -> list[dict[str, Any]]:
    """The appraisal table: one row per option."""
    inst = a.prepared.evaluation_instance
    services = list(inst.services)
    providers = sorted({p for o in a.options for p in o.measures["beds_by_provider"]})
    rows = []
    for o in a.options:
        m, e = o.measures, o.economics
        acc = m["access"]
        row: dict[str, Any] = {
            "option": o.name,
            "label": option_label(o),
            "sources": "; ".join(o.sources),
            "preferred": o.name == a.preferred,
            "on_pareto_frontier": o.name in a.frontier,
            "shortlisted": o.shortlisted,
            "status": m["status"],
            "sites_with_beds": m["sites_with_beds"],
        }
        for v in services:
            row[f"beds_{v}"] = m["beds"][v]
        for p in providers:
            for v in services:
                row[f"beds_{p}_{v}"] = m["beds_by_provider"].get(p, {}).get(v, 0)
        for v in services:
            row[f"bed_need_{v}"] = m["bed_need"][v]
        row.update({
            "paired_sites": m["paired_sites"],
            "isolated_wards": m["isolated_wards"],
            "mean_travel_min": acc["mean_travel_min"],
            "p90_travel_min": acc["p90_travel_min"],
            "max_travel_min": acc["max_travel_min"],
        })
        for w in WITHIN_MIN:
            row[f"share_within_{w:g}_min"] = acc[f"share_within_{w:g}_min"]
        row.update({
            "mean_travel_change_vs_status_quo_min":
                m["zone_change_vs_status_quo"]["all"]["mean_change_min"],
            "people_65_plus_drive_longer_5_min":
                m["zone_change_vs_status_quo"]["all"]["people_65_plus_longer_5_min"],
            "capex_gbp": m["capex_gbp"],
            "disposals_gbp": m["disposals_gbp"],
            "net_capital_gbp": m["net_capital_gbp"],
            "revenue_gbp_per_year": m["revenue_gbp_per_year"],
            "revenue_saving_vs_status_quo_gbp_per_year": e["revenue_saving_gbp_per_year"],
            "capital_charge_gbp_per_year": m["capital_charge_gbp_per_year"],
            "cost_gbp_per_year": m["cost_gbp_per_year"],
            "staff_wte": m["staff_wte"],
            "staff_wte_rn": m["staff_wte_rn"],
            "max_erlang_refusal": max_refusal(o),
            "capex_with_optimism_bias_gbp": e["capex_with_optimism_bias_gbp"],
            "pv_revenue_gbp": e["pv_revenue_gbp"],
            "pv_residual_gbp": e["pv_residual_gbp"],
            "npc_gbp": e["npc_gbp"],
            "npv_vs_status_quo_gbp": e["npv_vs_status_quo_gbp"],
        })
        for h in HURDLES:
            row[f"fails_{h}"] = o.hurdles.get(h) or ""
        for site_id, s in m["sites"].items():
            for v in services:
                row[f"beds_{site_id}_{v}"] = s["beds"][v]
        rows.append(row)
    return rows


def group_rows(a: Appraisal) -> list[dict[str, Any]]:
    """65+ drive time per option and local authority or IMD quintile, with the change."""
    rows = []
    for o in a.options:
        m = o.measures
        for group, key, ckey in (("local_authority", "access_by_lad", "by_lad"),
                                 ("imd_quintile", "access_by_imd_quintile", "by_imd_quintile")):
            for name, acc in m[key].items():
                ch = m["zone_change_vs_status_quo"][ckey].get(name, {})
                row = {"option": o.name, "group": group, "name": name, **acc}
                row.update({f"change_{k}": v for k, v in ch.items()})
                rows.append(row)
    return rows


def site_rows(a: Appraisal) -> list[dict[str, Any]]:
    """Wards, beds and Erlang refusal per option and site."""
    services = list(a.prepared.evaluation_instance.services)
    rows = []
    for o in a.options:
        for site_id, s in o.measures["sites"].items():
            row: dict[str, Any] = {"option": o.name, "site_id": site_id, "name": s["name"],
                                   "option_id": s["option_id"], "ward_pairing": s["ward_pairing"]}
            for v in services:
                row[f"wards_{v}"] = s["wards"][v]
                row[f"beds_{v}"] = s["beds"][v]
                er = o.measures["erlang_refusal"].get(site_id, {}).get(v)
                row[f"load_erlangs_{v}"] = er["load_erlangs"] if er else ""
                row[f"refusal_probability_{v}"] = er["refusal_probability"] if er else ""
            rows.append(row)
    return rows


def zone_rows(a: Appraisal) -> list[dict[str, Any]]:
    """Each zone's 65+ mean drive per option and the change from the status quo."""
    z = a.prepared.evaluation_instance.zones
    sq = a.zone_travel_min["status_quo"]
    rows = []
    for i, zid in enumerate(z.zone_ids):
        row: dict[str, Any] = {"zone_id": zid, "lad_name": z.lad_name[i],
                               "imd_quintile": int(z.imd_quintile[i]),
                               "people_65_plus": float(z.weight[i])}
        for o in a.options:
            t = a.zone_travel_min[o.name]
            row[f"mean_travel_min_{o.name}"] = float(t[i])
            row[f"change_min_{o.name}"] = float(t[i] - sq[i])
        rows.append(row)
    return rows


def enumeration_rows(a: Appraisal) -> list[dict[str, Any]]:
    """Every configuration meeting the scenario's limits (empty if not enumerated)."""
    e = a.enumeration
    if e is None:
        return []
    eff = set(e.efficient().tolist())
    rows = []
    order = np.lexsort((e.cost_gbp_per_year, e.mean_travel_min))
    for i in order:
        row: dict[str, Any] = {"mean_travel_min": float(e.mean_travel_min[i]),
                               "cost_gbp_per_year": float(e.cost_gbp_per_year[i]),
                               "net_capital_gbp": float(e.net_capital_gbp[i]),
                               "capex_gbp": float(e.capex_gbp[i]),
                               "sites_with_beds": int(e.sites_with_beds[i]),
                               "efficient": int(i) in eff}
        row.update({f"beds_{v}": int(b[i]) for v, b in e.beds.items()})
        row.update(e.choices[int(i)])
        rows.append(row)
    return rows


def assumption_rows(a: Appraisal) -> list[dict[str, Any]]:
    """Every assumption with its value and source."""
    asm = a.prepared.data.assumptions
    return [{"key": k, "value": json.dumps(v, default=str) if not isinstance(v, str) else v,
             "source": asm.sources.get(k, "")} for k, v in asm.values.items()]


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV text with the union of the rows' keys as the header (first-seen order)."""
    header: dict[str, None] = {}
    for r in rows:
        header.update(dict.fromkeys(r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(header), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(v) for k, v in r.items()})
    return buf.getvalue()


def _cell(v: Any) -> Any:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return round(v, 6)
    return v


def to_xlsx(sheets: Mapping[str, Sequence[Mapping[str, Any]]]) -> bytes:
    """An XLSX workbook with one sheet per table (header row frozen and bold)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    first = True
    for name, rows in sheets.items():
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = name[:31]
        header: dict[str, None] = {}
        for r in rows:
            header.update(dict.fromkeys(r))
        cols = list(header)
        ws.append(cols)
        for c in ws[1]:
            c.font = Font(bold=True)
        for r in rows:
            ws.append([_xl(r.get(c, "")) for c in cols])
        ws.freeze_panes = "B2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xl(v: Any) -> Any:
    if isinstance(v, bool | int | float | str) or v is None:
        return v
    return json.dumps(v, default=str)


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------
def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        val = float(obj)
        return round(val, 6) if np.isfinite(val) else None
    return obj


def appraisal_document(a: Appraisal) -> dict[str, Any]:
    """Everything the appraisal found, as plain JSON types."""
    options = []
    for o in a.options:
        options.append({
            "name": o.name, "label": option_label(o), "sources": list(o.sources),
            "choice": o.choice, "shortlisted": o.shortlisted, "hurdles": o.hurdles,
            "measures": o.measures, "economics": o.economics,
        })
    e = a.enumeration
    doc = {
        "scenario": a.prepared.scenario.name,
        "preferred": a.preferred,
        "pareto_frontier": a.frontier,
        "frontier_check": a.frontier_check,
        "enumeration": None if e is None else {
            "n_configurations": e.n_configurations,
            "n_meeting_limits": e.n_meeting_limits,
            "n_efficient": len(e.efficient()),
            "seconds": e.seconds,
        },
        "settings": {k: getattr(a.settings, k) for k in a.settings.KEYS},
        "options": options,
        "why": a.why,
        "notes": a.notes,
        "timings_s": a.timings_s,
        "manifest": manifest(a.prepared, {o.name: o.solution for o in a.options}),
    }
    out: dict[str, Any] = _plain(doc)
    return out


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------
def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def key_options(a: Appraisal) -> list[OptionResult]:
    """The options the charts compare: named, preferred, optimal."""
    out = [o for o in a.options if any(s.startswith("named") for s in o.sources)]
    for name in (a.preferred, "optimal"):
        o = next((x for x in a.options if x.name == name), None)
        if o is not None and o not in out:
            out.append(o)
    return out


def charts(a: Appraisal) -> dict[str, str]:
    """Base64 PNGs: Pareto frontier, beds per site per option, drive-time distributions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    inst = a.prepared.evaluation_instance
    # 1. Pareto frontier
    fig, ax = plt.subplots(figsize=(8, 5))
    e = a.enumeration
    if e is not None:
        ax.scatter(e.cost_gbp_per_year / GBP_PER_M, e.mean_travel_min, s=8, color="#bbbbbb",
                   label=f"every configuration within the limits ({e.n_meeting_limits:,})")
    front = [a.option(n) for n in dict.fromkeys(a.frontier)]
    fx = [o.measures["cost_gbp_per_year"] / GBP_PER_M for o in front]
    fy = [o.measures["access"]["mean_travel_min"] for o in front]
    ax.plot(fx, fy, "-o", color="#005eb8", ms=4, label=f"Pareto frontier ({len(front)} points)")
    markers = ["s", "D", "^", "v", "P", "X"]
    for i, o in enumerate(key_options(a)):
        ax.scatter([o.measures["cost_gbp_per_year"] / GBP_PER_M],
                   [o.measures["access"]["mean_travel_min"]], s=70, marker=markers[i % 6],
                   zorder=5, label=option_label(o)
                   + (" (preferred)" if o.name == a.preferred else "")
                   + ("" if o.shortlisted else " (fails a hurdle)"))
    ax.set_xlabel("annual cost: revenue + annualised capital (£m a year)")
    ax.set_ylabel("mean drive time, people aged 65+ (minutes)")
    ax.set_title("Cost against access")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out["pareto"] = _png(fig)
    # 2. beds per site per option
    opts = key_options(a)
    fig, ax = plt.subplots(figsize=(9, 5))
    width = 0.8 / max(1, len(opts))
    xs = np.arange(inst.n_sites)
    for i, o in enumerate(opts):
        beds = [sum(o.measures["sites"][s.site_id]["beds"].values()) for s in inst.sites]
        ax.bar(xs + i * width - 0.4 + width / 2, beds, width, label=option_label(o))
    ax.set_xticks(xs)
    ax.set_xticklabels([s.name.replace(" Community Hospital", "").replace(" Hospital", "")
                        for s in inst.sites], rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("beds (all services)")
    ax.set_title("Beds per site")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    out["beds"] = _png(fig)
    # 3. drive-time distribution (65+)
    from siteopt.appraisal.measures import weighted_assignment_rows

    fig, ax = plt.subplots(figsize=(8, 5))
    for o in opts:
        _z, t, w = weighted_assignment_rows(inst, o.solution)
        order = np.argsort(t)
        cum = np.cumsum(w[order]) / float(inst.zones.weight.sum())
        ax.step(t[order], 100 * cum, where="post", label=option_label(o))
    for m in WITHIN_MIN:
        ax.axvline(m, color="#999999", lw=0.8, ls=":")
    ax.set_xlabel("drive time to the ward (minutes)")
    ax.set_ylabel("people aged 65+ within that time (%)")
    ax.set_title("Drive-time distribution")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out["travel"] = _png(fig)
    return out


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------
def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _m(x: float) -> str:
    """Pounds in millions, the sign before the pound sign (-£1.20m)."""
    sign = "-" if x < -0.005 * GBP_PER_M else ""
    return f"{sign}£{abs(x) / GBP_PER_M:,.2f}m"


def summary_paragraphs(a: Appraisal) -> list[str]:
    """The plain-English summary (text, not yet escaped)."""
    sq = a.option("status_quo")
    pref = a.option(a.preferred)
    n = len(a.options)
    short = [o for o in a.options if o.shortlisted]
    need = sq.measures["bed_need"]
    out = [
        f"We compared {n} options for community hospital inpatient beds in "
        f"{a.prepared.data.assumptions['meta.region']} for {a.prepared.demand.planning_year}: "
        f"today's beds (the status quo), the 2016 STP proposal, the best option for the "
        f"scenario, the next best distinct options and every point where cost can only be "
        f"cut by lengthening drive times (the Pareto frontier). The planning need is "
        + ", ".join(f"{v:.0f} {s} beds" for s, v in need.items()) + ".",
        f"{len(short)} of the {n} options pass every hurdle (enough beds for the need, "
        f"within the capital and staffing limits, and no local authority or deprivation "
        f"group with fewer than {a.settings.equity_min_share_within_45_min:.0%} of people "
        f"aged 65+ within 45 minutes).",
    ]
    pm = pref.measures
    out.append(
        f"The preferred option ({option_label(pref)}) keeps beds at {pm['sites_with_beds']} "
        f"sites with " + ", ".join(f"{b} {s}" for s, b in pm["beds"].items()) + " beds. "
        f"People aged 65+ would drive {pm['access']['mean_travel_min']:.1f} minutes on "
        f"average (today {sq.measures['access']['mean_travel_min']:.1f}); "
        f"{pm['access']['share_within_30_min']:.0%} would be within 30 minutes. It costs "
        f"{_m(pm['revenue_gbp_per_year'])} a year to run "
        f"({_m(abs(pref.economics['revenue_saving_gbp_per_year']))} a year "
        f"{'less' if pref.economics['revenue_saving_gbp_per_year'] >= 0 else 'more'} than "
        f"today) and needs {_m(pm['net_capital_gbp'])} net capital. Over "
        f"{a.settings.appraisal_years} years its net present value against the status quo is "
        f"{_m(pref.economics['npv_vs_status_quo_gbp'])}.")
    if "stp_2016" in {o.name for o in a.options}:
        stp = a.option("stp_2016")
        sm = stp.measures
        fails = [r for r in stp.hurdles.values() if r]
        out.append(
            f"The 2016 STP proposal keeps beds at {sm['sites_with_beds']} sites ("
            + ", ".join(f"{b} {s}" for s, b in sm["beds"].items()) + " beds), with a mean "
            f"drive of {sm['access']['mean_travel_min']:.1f} minutes and a revenue saving of "
            f"{_m(stp.economics['revenue_saving_gbp_per_year'])} a year. "
            + ("It passes every hurdle." if not fails else "It fails: " + "; ".join(fails)
               + "."))
    return out


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{_e(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


CSS = """
body{font-family:Arial,Helvetica,sans-serif;margin:2em auto;max-width:1100px;color:#212b32;
line-height:1.45;padding:0 1em}
h1{color:#005eb8}h2{border-bottom:2px solid #005eb8;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.82em;margin:1em 0;width:100%}
th,td{border:1px solid #d8dde0;padding:.3em .45em;text-align:right;vertical-align:top}
th{background:#f0f4f5}td:first-child,th:first-child{text-align:left}
tr.pref td{background:#e8f1fa;font-weight:bold}
.fail{color:#b00020}.pass{color:#007f3b}
img{max-width:100%;border:1px solid #d8dde0;margin:.5em 0}
.note{font-size:.85em;color:#4c6272}
"""


def report_html(a: Appraisal, images: Mapping[str, str], files: Sequence[str],
                map_files: Sequence[str] = ()) -> str:
    """The self-contained consultation report (every data string escaped)."""
    s = a.settings
    sq = a.option("status_quo")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{_e('Options appraisal: ' + str(a.prepared.scenario.name))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{_e('Community hospital inpatient beds: options appraisal')}</h1>",
        f"<p class='note'>{_e(a.prepared.data.assumptions['meta.region'])}; scenario "
        f"{_e(a.prepared.scenario.name)}; planning year {_e(a.prepared.demand.planning_year)}; "
        f"inputs SHA-256 {_e(a.prepared.inputs_sha256[:16])}&hellip;</p>",
        "<h2>Summary</h2>",
    ]
    parts += [f"<p>{_e(p)}</p>" for p in summary_paragraphs(a)]

    # options table
    parts.append("<h2>The options</h2>")
    parts.append("<p>Drive times are for people aged 65+, to the ward of each service they "
                 "would use, weighted by each service's share of bed need. Costs at 2016/17 "
                 "prices. The preferred option is highlighted.</p>")
    header = ["Option", "Sites with beds", "Beds", "Paired / isolated", "Mean drive (min)",
              "90th pct (min)", "Max (min)", "Within 20 / 30 / 45 min", "Net capital",
              "Revenue a year", "Saving a year", "Staff WTE", "Worst refusal", "NPV vs today",
              "Hurdles"]
    rows_html = []
    for o in a.options:
        m, ec = o.measures, o.economics
        acc = m["access"]
        fails = [HURDLE_LABELS[h] for h in HURDLES if o.hurdles.get(h)]
        cells = [
            option_label(o), m["sites_with_beds"],
            " + ".join(f"{b} {v}" for v, b in m["beds"].items()),
            f"{m['paired_sites']} / {m['isolated_wards']}",
            f"{acc['mean_travel_min']:.2f}", f"{acc['p90_travel_min']:.1f}",
            f"{acc['max_travel_min']:.1f}",
            " / ".join(f"{acc[f'share_within_{w:g}_min']:.0%}" for w in WITHIN_MIN),
            _m(m["net_capital_gbp"]), _m(m["revenue_gbp_per_year"]),
            _m(ec["revenue_saving_gbp_per_year"]), f"{m['staff_wte']:.0f}",
            f"{max_refusal(o):.1%}", _m(ec["npv_vs_status_quo_gbp"]),
        ]
        tds = "".join(f"<td>{_e(c)}</td>" for c in cells)
        verdict = ("<span class='pass'>passes all</span>" if not fails else
                   "<span class='fail'>fails: " + _e(", ".join(fails)) + "</span>")
        cls = " class='pref'" if o.name == a.preferred else ""
        rows_html.append(f"<tr{cls}>{tds}<td>{verdict}</td></tr>")
    parts.append("<table><thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header)
                 + "</tr></thead><tbody>" + "".join(rows_html) + "</tbody></table>")

    # hurdles
    failing = [(option_label(o), HURDLE_LABELS[h], r) for o in a.options
               for h, r in o.hurdles.items() if r]
    parts.append("<h2>Short-listing: why options fail a hurdle</h2>")
    parts.append(_table(["Option", "Hurdle", "Reason"], failing) if failing
                 else "<p>Every option passes every hurdle.</p>")

    # named options: bed totals by provider
    parts.append("<h2>Named options: beds by provider</h2>")
    prov_rows = []
    for o in a.options:
        if any(src.startswith("named") for src in o.sources):
            for p, per in sorted(o.measures["beds_by_provider"].items()):
                prov_rows.append([option_label(o), p] + [per[v] for v in per])
    services = list(a.prepared.evaluation_instance.services)
    parts.append(_table(["Option", "Provider"] + [f"{v} beds" for v in services], prov_rows))

    # charts
    parts.append("<h2>Charts</h2>")
    captions = {"pareto": "Cost against access: every configuration within the limits (grey), "
                          "the Pareto frontier (blue) and the named options.",
                "beds": "Beds per site in the named, preferred and optimal options.",
                "travel": "Share of people aged 65+ within each drive time."}
    for key, b64 in images.items():
        parts.append(f"<figure><img alt='{_e(captions.get(key, key))}' "
                     f"src='data:image/png;base64,{b64}'><figcaption class='note'>"
                     f"{_e(captions.get(key, key))}</figcaption></figure>")

    # economic case
    df30 = discount_factors(s.appraisal_years, s.discount_rate_years_0_30,
                            s.discount_rate_years_31_plus)
    parts.append("<h2>Economic case (HM Treasury Green Book)</h2>")
    method_text = (
        f"Net present cost over {s.appraisal_years} years at 2016/17 prices: capital in year 0 "
        f"with a {s.optimism_bias_capex:.0%} optimism bias uplift, less disposal receipts, plus "
        f"revenue in years 1-{s.appraisal_years}, less the residual value "
        f"({s.residual_value_method.replace('_', ' ')}) in year {s.appraisal_years}. Discount "
        f"rate {s.discount_rate_years_0_30:.1%} to year 30 and "
        f"{s.discount_rate_years_31_plus:.1%} after (discount factor in year 30: "
        f"{df30[min(30, s.appraisal_years)]:.4f}). NPV = NPC of the status quo minus NPC of "
        f"the option.")
    parts.append(f"<p>{_e(method_text)}</p>")
    econ_rows = []
    for o in a.options:
        e = o.economics
        econ_rows.append([option_label(o), _m(o.measures["capex_gbp"]),
                          _m(e["optimism_bias_gbp"]), _m(o.measures["disposals_gbp"]),
                          _m(e["pv_revenue_gbp"]), _m(e["pv_residual_gbp"]), _m(e["npc_gbp"]),
                          _m(e["npv_vs_status_quo_gbp"])])
    parts.append(_table(["Option", "Capex", "Optimism bias", "Disposals", "PV revenue",
                         "PV residual", "NPC", "NPV vs today"], econ_rows))
    parts.append("<h3>Switching values</h3><p>The value of each key assumption at which the "
                 "option's NPV against the status quo falls to zero.</p>")
    sw_rows = []
    for o in key_options(a):
        if o.name == sq.name:
            continue
        sv = o.economics["switching_values"]

        def pct(x: float | None) -> str:
            return "none" if x is None else f"{x:+.0%}"

        sw_rows.append([option_label(o), _m(sv["npv_gbp"] or 0.0),
                        pct(sv["revenue_saving_change"]), pct(sv["capex_change"]),
                        pct(sv["disposals_change"]),
                        "none" if sv["optimism_bias"] is None else f"{sv['optimism_bias']:.0%}",
                        "none in 0-20%" if sv["discount_rate"] is None
                        else f"{sv['discount_rate']:.2%}"])
    parts.append(_table(["Option", "NPV", "Revenue saving change", "Capex change",
                         "Disposals change", "Optimism bias", "Discount rate"], sw_rows))

    # why
    parts.append("<h2>Why: what keeping each site's beds would cost and change</h2>")
    if a.why:
        parts.append("<ul>" + "".join(
            f"<li><b>{_e(option_label(a.option(w['option'])))}</b>: {_e(w['sentence'])}"
            + ("" if w["within_capital_limit"] else _e(" (this breaks the capital limit)"))
            + "</li>" for w in a.why) + "</ul>")
    else:
        parts.append("<p>No site has fewer beds than today in the preferred or named "
                     "options.</p>")

    # equity by group
    parts.append("<h2>Drive times by local authority and deprivation</h2>")
    grp = []
    for o in key_options(a):
        for gkey, ckey, lab in (("access_by_lad", "by_lad", ""),
                                ("access_by_imd_quintile", "by_imd_quintile", "IMD quintile ")):
            for name, acc in o.measures[gkey].items():
                ch = o.measures["zone_change_vs_status_quo"][ckey][name]
                grp.append([option_label(o), f"{lab}{name}", f"{acc['people_65_plus']:,.0f}",
                            f"{acc['mean_travel_min']:.1f}",
                            f"{(round(ch['mean_change_min'], 1) or 0.0):+.1f}",
                            f"{acc['p90_travel_min']:.1f}", f"{acc['max_travel_min']:.1f}",
                            f"{acc['share_within_30_min']:.0%}",
                            f"{acc['share_within_45_min']:.0%}"])
    parts.append(_table(["Option", "Group", "People 65+", "Mean (min)", "Change vs today",
                         "90th pct", "Max", "Within 30", "Within 45"], grp))

    # method
    fc = a.frontier_check
    en = a.enumeration
    parts.append("<h2>Method and checks</h2><ul>")
    items = [
        f"Long list: {len(a.options)} distinct options. Next best options differ from each "
        f"other in which sites keep beds or how many wards of each service they run.",
        f"Pareto frontier: {len(a.frontier)} efficient points by the epsilon-constraint "
        f"method ({fc.get('method')}); check: {fc.get('detail', 'not checked')}.",
    ]
    if en is not None:
        items.append(f"Every configuration was enumerated: {en.n_configurations:,} in all, "
                     f"{en.n_meeting_limits:,} within the scenario's limits and with enough "
                     f"beds (see enumeration.csv), so no option is hidden.")
    items += [f"Note: {n}" for n in a.notes]
    items.append("Erlang refusal: the probability that a patient finds no bed free (Erlang B, "
                 "offered load = assigned bed need x target occupancy).")
    parts += [f"<li>{_e(i)}</li>" for i in items]
    parts.append("</ul>")
    index = [f for f in map_files if f.endswith("maps.html")]
    if index:
        parts.append(f"<p>Maps of the named, preferred and optimal options: "
                     f"<a href='{_e(index[0])}'>{_e(index[0])}</a>.</p>")
    parts.append("<h2>Files</h2><ul>" + "".join(
        f"<li><a href='{_e(f)}'>{_e(f)}</a></li>" for f in [*files, *map_files]) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------
def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render(a: Appraisal, map_files: Sequence[str] = ()) -> dict[str, str | bytes]:
    """Every output file's name and content, computed before anything is written."""
    tables = {
        "appraisal.csv": option_rows(a),
        "access_by_group.csv": group_rows(a),
        "sites.csv": site_rows(a),
        "zone_change.csv": zone_rows(a),
        "why.csv": a.why,
    }
    if a.enumeration is not None:
        tables["enumeration.csv"] = enumeration_rows(a)
    files: dict[str, str | bytes] = {name: to_csv(rows) for name, rows in tables.items()}
    sheets = {"Options": tables["appraisal.csv"], "Access by group": tables["access_by_group.csv"],
              "Sites": tables["sites.csv"], "Why": tables["why.csv"],
              "Enumeration": tables.get("enumeration.csv", []),
              "Assumptions": assumption_rows(a)}
    files["appraisal.xlsx"] = to_xlsx(sheets)
    files["appraisal.json"] = json.dumps(appraisal_document(a), sort_keys=True, indent=1) + "\n"
    names = [*files, "report.html"]
    files["report.html"] = report_html(a, charts(a), names, map_files)
    return files


def write_report(a: Appraisal, out_dir: Path, map_files: Sequence[str] = ()) -> list[Path]:
    """Render everything, then write each file atomically; return the paths."""
    files = render(a, map_files)
    paths = []
    for name, content in files.items():
        path = Path(out_dir) / name
        if isinstance(content, bytes):
            write_bytes_atomically(path, content)
        else:
            write_atomically(path, content)
        paths.append(path)
    return paths

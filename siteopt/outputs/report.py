"""Write an appraisal: tables (CSV, XLSX), a self-contained HTML report and JSON.

Files under the run folder (every one written atomically, after everything is computed):

==========================  ==================================================================
``appraisal.csv``           one row per option: beds, sites, access, capital, revenue, staff,
                            Erlang refusal, Green Book NPC/NPV, hurdles
``appraisal.xlsx``          the same and the detail tables, one formatted sheet each (headers in
                            words with units, number formats, filters), an About sheet with the
                            sources, licences and a data dictionary, and every assumption
``report.docx``             the report for consultation documents (Word styles, tables, maps)
``datapackage.json``        a Frictionless data package describing every CSV's columns
``access_by_group.csv``     65+ drive time per option and local authority / IMD quintile, and
                            the change from the status quo
``sites.csv``               wards, beds and Erlang refusal per option and site
``zone_change.csv``         each zone's 65+ mean drive per option and its change from today
``enumeration.csv``         every configuration that meets the scenario's limits (if enumerated)
``why.csv``                 what keeping each site's beds would cost and change
``equality.csv``            per option and group (IMD quintile, urban/rural, ethnic group,
                            disabled, no car, bad health, 65+, 80+): 65+ mean drive before and
                            after, change, shares within 30/45 min, people with rises over
                            10/20 min, the disproportion ratio and flag
``most_affected.csv``       the neighbourhoods whose drive rises most, with their deprivation,
                            car and connectivity figures
``phasing_<option>.csv``    the year-by-year programme of each phased option (the preferred
                            option and the 2016 proposal by default; issue 19), with its
                            timeline chart ``phasing_<option>_timeline.png``/``.pdf``
``appraisal.json``          everything above, for machines
``explorer.html``           the offline option explorer: pick each site's option, see its
                            figures and hurdles (from the enumeration; no server)
``report.html``             the consultation report: plain-English summary, options table and
                            charts (PNG embedded, no external resources)
==========================  ==================================================================
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from siteopt.appraisal.appraise import Appraisal
from siteopt.appraisal.benefits import CRITERIA, worst_refusal
from siteopt.appraisal.equality import section_statements
from siteopt.appraisal.phasing import plan_words
from siteopt.appraisal.settings import WITHIN_MIN
from siteopt.appraisal.shortlist import HURDLES
from siteopt.appraisal.summary import statements_as_dicts, summary_statements
from siteopt.fileio import csv_cell, write_atomically, write_bytes_atomically
from siteopt.outputs.columns import vocabulary
from siteopt.outputs.datapackage import datapackage, datapackage_json
from siteopt.outputs.docx_report import equality_input, report_docx
from siteopt.outputs.equality_report import equality_rows, neighbourhood_rows
from siteopt.outputs.explorer import explorer_html
from siteopt.outputs.phasing import (
    phasing_rows,
    phasing_table_name,
    plan_to_dict,
    timeline_bytes,
    timeline_stem,
)
from siteopt.outputs.report_html import charts, option_label, report_html, role
from siteopt.outputs.workbook import about_from_appraisal, to_workbook, why_rows
from siteopt.outputs.workbook import assumption_rows as flat_assumption_rows
from siteopt.runs.pipeline import manifest
from siteopt.runs.scenario import scenario_label


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------
def option_rows(a: Appraisal) -> list[dict[str, Any]]:
    """The appraisal table: one row per option."""
    inst = a.prepared.evaluation_instance
    services = list(inst.services)
    providers = sorted({p for o in a.options for p in o.measures["beds_by_provider"]})
    rows = []
    for o in a.options:
        m, e = o.measures, o.economics
        acc = m["access"]
        d = a.decision
        row: dict[str, Any] = {
            "option": o.name,
            "label": option_label(a, o),
            "letter": d["letters"].get(o.name, ""),
            "title": d["titles"][o.name],
            "role": role(a, o.name),
            "sources": "; ".join(o.sources),
            "preferred": o.name == a.preferred,
            "runner_up": o.name == d["runner_up"],
            "in_main_table": o.name in d["main_table"],
            "on_pareto_frontier": o.name in a.frontier,
            "shortlisted": o.shortlisted,
            "on_short_list": o.name in d["shortlist"],
            "eligible": o.name in d["eligible_in_order"],
            "dominated_by": d["dominated_by"].get(o.name, ""),
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
        pop = d.get("bed_need_population_year")
        if pop is not None:
            year = a.prepared.data.assumptions["meta.population_year"]
            for v in services:
                row[f"bed_need_{v}_{year}"] = pop[v]
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
            "max_erlang_refusal": worst_refusal(o.measures),
            "capex_with_optimism_bias_gbp": e["capex_with_optimism_bias_gbp"],
            "pv_revenue_gbp": e["pv_revenue_gbp"],
            "pv_residual_gbp": e["pv_residual_gbp"],
            "npc_gbp": e["npc_gbp"],
            "npv_vs_status_quo_gbp": e["npv_vs_status_quo_gbp"],
            "capital_schemes": d["capital_schemes"][o.name],
            "benefit_score": d["benefit_score"][o.name],
            "npc_per_benefit_point_gbp": d["value_for_money"].get(o.name, ""),
        })
        for c in CRITERIA:
            row[f"score_{c}"] = d["criterion_scores"][o.name][c]
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
    return csv_cell(v)


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
            "name": o.name, "label": option_label(a, o), "sources": list(o.sources),
            "choice": o.choice, "shortlisted": o.shortlisted, "hurdles": o.hurdles,
            "measures": o.measures, "economics": o.economics,
        })
    e = a.enumeration
    doc = {
        "scenario": a.prepared.scenario.name,
        "scenario_label": scenario_label(a.prepared.scenario),
        "preferred": a.preferred,
        "runner_up": a.decision.get("runner_up"),
        "decision": a.decision,
        "summary": statements_as_dicts(summary_statements(a)),
        "equality_statements": statements_as_dicts(section_statements(a)),
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
        "phasing": {name: plan_to_dict(plan) for name, plan in a.phasing.items()},
        "notes": a.notes,
        "timings_s": a.timings_s,
        "manifest": manifest(a.prepared, {o.name: o.solution for o in a.options}),
    }
    out: dict[str, Any] = _plain(doc)
    return out


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------
def render(a: Appraisal, map_files: Sequence[str] = (), map_dir: Path | None = None,
           maps_drawn: Callable[[], None] | None = None) -> dict[str, str | bytes]:
    """Every output file's name and content, computed before anything is written.

    ``map_dir`` is where the maps were drawn (their PNGs are embedded in the Word report);
    ``maps_drawn``, if given, is called (and waited for) just before the Word report reads
    them, so that the maps can be drawn elsewhere while the rest is rendered.
    """
    tables = {
        "appraisal.csv": option_rows(a),
        "access_by_group.csv": group_rows(a),
        "sites.csv": site_rows(a),
        "zone_change.csv": zone_rows(a),
        "why.csv": why_rows(a.why),
    }
    if a.enumeration is not None:
        tables["enumeration.csv"] = enumeration_rows(a)
    equality = equality_rows(a)
    if equality:
        tables["equality.csv"] = equality
        tables["most_affected.csv"] = neighbourhood_rows(a)
    words = plan_words(a.decision, a.preferred)
    sheet_titles = {}
    for name, plan in a.phasing.items():
        if plan.years:
            tables[phasing_table_name(name)] = phasing_rows(plan)
            sheet_titles[phasing_table_name(name)] = "Phasing " + words.get(name, name).split(
                " (")[0]
    files: dict[str, str | bytes] = {name: to_csv(rows) for name, rows in tables.items()}
    vocab = vocabulary(a)
    about = about_from_appraisal(a)
    files["appraisal.xlsx"] = to_workbook(
        {**tables, "assumptions": flat_assumption_rows(a.prepared.data.assumptions)}, about,
        vocab, sheet_titles)
    files["appraisal.json"] = json.dumps(appraisal_document(a), sort_keys=True, indent=1) + "\n"
    files["explorer.html"] = explorer_html(a)
    images = charts(a)
    timelines = {name: timeline_bytes(plan, words.get(name, name))
                 for name, plan in a.phasing.items() if plan.years}
    for name, chart in timelines.items():
        for ext, data in chart.items():
            files[f"{timeline_stem(name)}.{ext}"] = data
    if maps_drawn is not None:
        maps_drawn()
    pngs = [Path(map_dir) / f for f in map_files if f.endswith(".png")] if map_dir else []
    files["report.docx"] = report_docx(a, images, pngs, equality_input(a), date=about.date,
                                       phasing_pngs={n: c["png"] for n, c in timelines.items()})
    names = [*files, "report.html", "datapackage.json"]
    files["report.html"] = report_html(a, images, names, map_files, {
        n: base64.b64encode(c["png"]).decode("ascii") for n, c in timelines.items()})
    files["datapackage.json"] = datapackage_json(datapackage(
        tables, f"{about.region}: community hospital inpatient beds, options appraisal, "
        f"scenario {about.scenario}", vocab, name=f"siteopt-appraisal-{a.prepared.scenario.name}",
        other_files=["appraisal.json", "report.html", "report.docx", "explorer.html",
                     *[f"{timeline_stem(n)}.{ext}" for n, c in timelines.items() for ext in c]]))
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

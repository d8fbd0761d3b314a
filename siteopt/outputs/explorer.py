"""The offline option explorer (``explorer.html``): pick each site's ward option, see at once
that configuration's beds, 65+ drive, capital, revenue, NPV, hurdles and a map.

One self-contained page: no server, no network, works from ``file://``; its script and style
are inline and every data string reaches the page as JSON (:func:`siteopt.outputs.leaflet.js_value`
escapes ``<``, ``>`` and ``&``, so no name can close the ``<script>``) and is shown with
``textContent``, never parsed as markup.

What the page holds (:func:`explorer_data`)

* per site (in :attr:`~siteopt.runs.pipeline.Prepared.evaluation_instance` order) every option
  in words with the figures a configuration sums: capex, its own disposal receipt, revenue,
  annual cost (revenue plus annualised capital), registered-nurse and total WTE, beds and usable
  beds per service, wards; and whether the optimiser is offered it;
* the linked receipts (:attr:`~siteopt.wards.instance.Instance.linked_receipts`): counted only
  when their scheme's option is chosen and every site named keeps no ward;
* the enumeration (:class:`~siteopt.appraisal.enumeration.Enumerated`) packed as two columns,
  each row's configuration code (a mixed-radix number of the option positions, sorted, so the
  page finds a configuration by binary search) and its mean drive (float64), both base64: the
  money is summed in the page from the per-site figures in the order the enumeration sums them
  (:func:`enumeration_columns` is that sum in Python, which the tests hold to the enumeration);
* the Green Book case as the linear form of :func:`siteopt.appraisal.economics.economic_case`
  (:func:`npc_coefficients`) and the status quo's net present cost, so the page gives every
  configuration its NPV against business as usual;
* the long-list options (:attr:`~siteopt.appraisal.appraise.Appraisal.options`) with their
  appraised measures: group access in full (65+ mean drive and share within the equity minutes
  by local authority and deprivation quintile) and the equity hurdle are shown for these only;
  for an enumerated configuration the page shows the groups' mean drives when the enumeration
  kept them (``Enumerated.group_mean_travel_min``, one float32 column per group: shown to 0.1
  minute), and says
  "not precomputed" for the equity hurdle (it needs each group's share within 45 minutes, which
  the enumeration does not keep);
* the scenario's configuration-level limits (as :func:`siteopt.appraisal.enumeration.meets_limits`
  applies them) and the hurdle settings, so a configuration outside the limits shows which limit
  it breaks, or, within all of them but not enumerated, that no assignment of neighbourhoods
  meets the drive limits.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from siteopt.appraisal.appraise import Appraisal
from siteopt.appraisal.economics import economic_case
from siteopt.appraisal.naming import ROLE_LABELS, short_site_name
from siteopt.appraisal.settings import EQUITY_WITHIN_MIN, GBP_PER_M
from siteopt.appraisal.shortlist import BAU, HURDLES, refusal_is_hurdle
from siteopt.catalogue.options import Ward
from siteopt.errors import DataError
from siteopt.fileio import write_atomically
from siteopt.outputs.leaflet import js_value
from siteopt.outputs.map_data import boundaries, service_words
from siteopt.wards.instance import FloatArray, Instance

EXPLORER_FILE = "explorer.html"
MAP_WIDTH_PX = 540
MAP_MARGIN_PX = 24
MAP_LABEL_ROOM_PX = 90
"""Room on the right of the map for the easternmost site's label."""
BOUNDARY_SIMPLIFY_DEG = 0.004
"""Tolerance of the local authority outlines on the explorer's map (degrees, ~300 m): the map is
a sketch of where the sites are, not a boundary map."""
HURDLE_WORDS = {
    "bed_need": "Bed need",
    "capital": "Capital",
    "staffing": "Staffing",
    "equity": "Equity",
    "access": "Access",
    "resilience": "Resilience",
}


# ---------------------------------------------------------------------------------------------
# Options in words
# ---------------------------------------------------------------------------------------------
def wards_words(wards: Sequence[Ward], services: Sequence[str]) -> str:
    """An option's wards in words: ``closed``, ``1 rehab ward of 21 beds``,
    ``rehab 24 + stroke 24``."""
    if not wards:
        return "closed"
    if len(wards) == 1:
        return f"1 {wards[0].service} ward of {wards[0].beds} beds"
    rank = {v: i for i, v in enumerate(services)}
    ordered = sorted(wards, key=lambda w: (rank.get(w.service, len(rank)), -w.beds))
    return " + ".join(f"{w.service} {w.beds}" for w in ordered)


def money_words(gbp: float) -> str:
    """``£1.35m``."""
    return f"£{gbp / GBP_PER_M:.2f}m"


# ---------------------------------------------------------------------------------------------
# Packing
# ---------------------------------------------------------------------------------------------
def pack_column(values: npt.ArrayLike, dtype: str) -> str:
    """A column as base64 of little-endian ``dtype`` (``"<u4"``, ``"<f8"``)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def unpack_column(text: str, dtype: str) -> npt.NDArray[Any]:
    """The inverse of :func:`pack_column`."""
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def strides(instance: Instance) -> list[int]:
    """Per site, the weight of its option position in a configuration code (row-major: the last
    site varies fastest)."""
    sizes = [len(s.options) for s in instance.sites]
    out = [1] * len(sizes)
    for j in range(len(sizes) - 2, -1, -1):
        out[j] = out[j + 1] * sizes[j + 1]
    return out


def configuration_code(instance: Instance, choice: Mapping[str, str]) -> int:
    """The code of a configuration (site_id -> option_id) over ``instance``'s option positions.

    Raises
    ------
    KeyError
        If a site has no such option.
    """
    code = 0
    for stride, site in zip(strides(instance), instance.sites, strict=True):
        pos = [o.option_id for o in site.options].index(choice[site.site_id])
        code += stride * pos
    return code


def code_dtype(instance: Instance) -> str:
    """``<u4`` when every code fits 32 bits, else ``<f8`` (exact below 2**53).

    Raises
    ------
    ValueError
        If the configuration space has 2**53 or more configurations.
    """
    n = int(np.prod([len(s.options) for s in instance.sites], dtype=object))
    if n >= 2**53:
        raise ValueError(f"{n} configurations cannot be coded exactly in the explorer")
    return "<u4" if n < 2**32 else "<f8"


def enumeration_columns(a: Appraisal) -> dict[str, FloatArray]:
    """The enumeration's rows with their code, money and NPV, in the enumeration's order.

    The money is the per-site sum the page makes, in the order
    :func:`siteopt.appraisal.enumeration.configuration_sums` makes it; the NPV against business
    as usual is the linear Green Book form of :func:`npc_coefficients`.

    Returns
    -------
    dict
        ``code``, ``mean_travel_min``, ``capex_gbp``, ``disposals_gbp``, ``net_capital_gbp``,
        ``revenue_gbp_per_year``, ``cost_gbp_per_year``, ``npv_vs_status_quo_gbp``, ``staff_wte_rn``
        (empty arrays if there is no enumeration).
    """
    enum = a.enumeration
    inst = a.prepared.evaluation_instance
    choices = enum.choices if enum is not None else []
    pos = np.array([[[o.option_id for o in s.options].index(c[s.site_id]) for s in inst.sites]
                    for c in choices], dtype=np.int64).reshape(len(choices), len(inst.sites))

    def per_site(fn: Any) -> FloatArray:
        acc = np.zeros(len(pos))
        for j, site in enumerate(inst.sites):
            acc += np.array([float(fn(o)) for o in site.options])[pos[:, j]]
        return acc

    linked = np.zeros(len(pos))
    for link in inst.linked_receipts:
        trig = np.array([o.option_id in link.option_ids
                         for o in inst.sites[link.site_idx].options])[pos[:, link.site_idx]]
        for j in link.closed_site_idx:
            trig &= np.array([not o.inpatient for o in inst.sites[j].options])[pos[:, j]]
        linked += link.receipt_gbp * trig
    capex = per_site(lambda o: o.capex_gbp)
    disposals = per_site(lambda o: o.disposal_gbp) + linked
    revenue = per_site(lambda o: o.revenue_gbp_per_year)
    coef = npc_coefficients(a)
    npc = coef["capex"] * capex + coef["disposals"] * disposals + coef["revenue"] * revenue
    return {
        "code": (pos @ np.asarray(strides(inst), dtype=np.int64)).astype(np.float64),
        "mean_travel_min": (np.asarray(enum.mean_travel_min, dtype=np.float64)
                            if enum is not None else np.zeros(0)),
        "capex_gbp": capex,
        "disposals_gbp": disposals,
        "net_capital_gbp": capex - disposals,
        "revenue_gbp_per_year": revenue,
        "cost_gbp_per_year": per_site(lambda o: o.revenue_gbp_per_year + o.capital_gbp_per_year),
        "npv_vs_status_quo_gbp": coef["status_quo_npc"] - npc,
        "staff_wte_rn": per_site(lambda o: o.staff_wte_rn),
    }


def npc_coefficients(a: Appraisal) -> dict[str, float]:
    """The Green Book net present cost as ``capex x c + disposals x d + revenue x r`` (it is
    linear: :func:`siteopt.appraisal.economics.economic_case` at unit inputs gives each
    coefficient), and the status quo's net present cost as the appraisal has it."""
    s = a.settings
    zero = economic_case(0.0, 0.0, 0.0, s)["npc_gbp"]
    if abs(zero) > 1e-9:
        raise ValueError(f"the net present cost of nothing is {zero}, not 0: not linear")
    sq = a.option(BAU)
    return {
        "capex": economic_case(1.0, 0.0, 0.0, s)["npc_gbp"],
        "disposals": economic_case(0.0, 1.0, 0.0, s)["npc_gbp"],
        "revenue": economic_case(0.0, 0.0, 1.0, s)["npc_gbp"],
        "status_quo_npc": float(sq.economics["npc_gbp"]),
    }


def site_options(a: Appraisal) -> list[dict[str, Any]]:
    """Per site of the evaluation instance: its name, place and options with their figures."""
    p = a.prepared
    inst = p.evaluation_instance
    offered = {s.site_id: {o.option_id for o in s.options} for s in p.instance.sites}
    rows = {str(r["site_id"]): r for r in p.data.sites.to_dict("records")}
    names = {s.site_id: short_site_name(s.name) for s in inst.sites}
    links: dict[tuple[str, str], list[str]] = {}
    for link in inst.linked_receipts:
        site = inst.sites[link.site_idx]
        closed = " and ".join(names[inst.sites[j].site_id] for j in link.closed_site_idx)
        for oid in link.option_ids:
            links.setdefault((site.site_id, oid), []).append(
                f"receipt {money_words(link.receipt_gbp)} if {closed} closes")
    out = []
    for site in inst.sites:
        r = rows.get(site.site_id, {})
        opts = []
        for o in site.options:
            extra = []
            if o.option_id == site.current_option_id:
                extra.append("today")
            if o.capex_gbp > 0:
                extra.append(f"capex {money_words(o.capex_gbp)}")
            if o.disposal_gbp > 0:
                extra.append(f"receipt {money_words(o.disposal_gbp)}")
            extra += links.get((site.site_id, o.option_id), [])
            if o.option_id not in offered.get(site.site_id, set()):
                extra.append("not offered to the optimiser")
            words = wards_words(p.catalogue.wards[site.site_id][o.option_id], inst.services)
            opts.append({
                "id": o.option_id,
                "words": words + (f" ({'; '.join(extra)})" if extra else ""),
                "offered": o.option_id in offered.get(site.site_id, set()),
                "capex": o.capex_gbp, "disposal": o.disposal_gbp,
                "revenue": o.revenue_gbp_per_year,
                "cost": o.revenue_gbp_per_year + o.capital_gbp_per_year,
                "rn": o.staff_wte_rn, "wte": o.staff_wte_total,
                "beds": [int(o.beds.get(v, 0)) for v in inst.services],
                "usable": [float(o.usable_beds.get(v, 0.0)) for v in inst.services],
                "wards": o.n_wards,
            })
        out.append({"id": site.site_id, "name": site.name, "short": names[site.site_id],
                    "lad": str(r.get("lad_name", site.lad_name)),
                    "lat": float(r["lat"]), "lon": float(r["lon"]), "options": opts})
    return out


def limits_data(a: Appraisal) -> dict[str, Any]:
    """The scenario's configuration-level limits and the hurdles' settings, for the page."""
    p = a.prepared
    s = p.scenario.model
    inst = p.evaluation_instance
    idx = {site.site_id: j for j, site in enumerate(inst.sites)}
    sq = a.option(BAU).measures
    rn_limit = s.max_staff_wte_rn
    rn_basis = "the scenario's limit"
    if rn_limit is None:
        rn_limit = float(sq["staff_wte_rn"]) * a.settings.rn_wte_headroom_vs_status_quo
        rn_basis = (f"{a.settings.rn_wte_headroom_vs_status_quo:.0%} of today's "
                    f"{float(sq['staff_wte_rn']):.1f}")
    return {
        "force_open": sorted(idx[x] for x in s.force_open if x in idx),
        "force_closed": sorted(idx[x] for x in s.force_closed if x in idx),
        "fixed": {str(idx[k]): v for k, v in sorted(s.fixed_options.items()) if k in idx},
        "capital_limit_gbp": s.capital_limit_gbp, "capital_basis": s.capital_basis,
        "max_staff_wte_rn": s.max_staff_wte_rn, "max_staff_wte_total": s.max_staff_wte_total,
        "max_isolated_wards": s.max_isolated_wards,
        "isolated_allowed": sorted(idx[x] for x in s.isolated_allowed_sites if x in idx),
        "min_inpatient_sites": s.min_inpatient_sites,
        "max_inpatient_sites": s.max_inpatient_sites,
        "max_cost_gbp_per_year": s.max_cost_gbp_per_year,
        "max_travel_min": s.max_travel_min, "max_mean_travel_min": s.max_mean_travel_min,
        "within_travel_min": s.within_travel_min, "min_share_within": s.min_share_within,
        "equity_limited": bool(getattr(s, "equity_limited", False)),
        "rn_hurdle_wte": rn_limit, "rn_hurdle_basis": rn_basis,
        "isolated_ward_min_beds": a.settings.isolated_ward_min_beds,
        "refusal_is_hurdle": refusal_is_hurdle(p, a.settings),
        "equity_min_share": a.settings.equity_min_share_within_45_min,
        "equity_within_min": EQUITY_WITHIN_MIN,
    }


def group_access(m: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An option's 65+ mean drive and share within the equity minutes per local authority and
    deprivation quintile."""
    key = f"share_within_{EQUITY_WITHIN_MIN:g}_min"
    out = []
    for group, label in (("access_by_lad", ""), ("access_by_imd_quintile", "IMD quintile ")):
        for name, acc in m[group].items():
            out.append({"group": f"{label}{name}", "people": float(acc["people_65_plus"]),
                        "mean_travel_min": float(acc["mean_travel_min"]),
                        "share_within": float(acc[key])})
    return out


def long_list(a: Appraisal) -> list[dict[str, Any]]:
    """The long-list options with their code, label, title, mean drive, group access, NPV and
    hurdles as appraised."""
    inst = a.prepared.evaluation_instance
    titles = a.decision.get("titles", {})
    lettered = a.decision.get("letters", {})
    out = []
    for r in a.options:
        label = ROLE_LABELS.get(r.name) or (f"Option {lettered[r.name]}" if r.name in lettered
                                           else r.name.replace("_", " "))
        if r.name == a.preferred:
            label += " (preferred)"
        out.append({
            "name": r.name, "label": label, "title": str(titles.get(r.name, "")),
            "code": configuration_code(inst, r.choice),
            "mean_travel_min": float(r.measures["access"]["mean_travel_min"]),
            "groups": group_access(r.measures),
            "npv_vs_status_quo_gbp": float(r.economics.get("npv_vs_status_quo_gbp", 0.0)),
            "hurdles": {h: r.hurdles.get(h) for h in HURDLES},
        })
    return out


def enumeration_data(a: Appraisal) -> dict[str, Any] | None:
    """The enumeration's rows sorted by code: codes and mean drives packed (None if the space
    was not enumerated)."""
    if a.enumeration is None:
        return None
    cols = enumeration_columns(a)
    order = np.argsort(cols["code"], kind="stable")
    dtype = code_dtype(a.prepared.evaluation_instance)
    labels: Mapping[str, str] = getattr(a.prepared.evaluation_instance.zones, "group_label", {})
    groups: Mapping[str, FloatArray] = getattr(a.enumeration, "group_mean_travel_min", {})
    return {"n_configurations": int(a.enumeration.n_configurations),
            "n_rows": len(order), "code_dtype": dtype,
            "codes": pack_column(cols["code"][order], dtype),
            "mean_travel_min": pack_column(cols["mean_travel_min"][order], "<f8"),
            "groups": [{"id": g, "label": str(labels.get(g, g)),
                        "mean_travel_min": pack_column(np.asarray(t)[order], "<f4")}
                       for g, t in groups.items() if g != "all" and len(t) == len(order)]}


def outline_paths(a: Appraisal) -> list[list[list[float]]]:
    """Local authority outlines as rings of (lon, lat) rounded to 4 decimals, simplified; empty
    if the region has no boundary file."""
    try:
        shapes = boundaries(a.prepared, "lad")
    except DataError:
        return []
    rings: list[list[list[float]]] = []
    for _props, geom in shapes:
        simple = geom.simplify(BOUNDARY_SIMPLIFY_DEG)
        polys = getattr(simple, "geoms", [simple])
        for poly in polys:
            ext = getattr(poly, "exterior", None)
            if ext is not None:
                rings.append([[round(x, 4), round(y, 4)] for x, y in ext.coords])
    return rings


def explorer_data(a: Appraisal) -> dict[str, Any]:
    """Everything the page shows, as JSON-able data (see the module docstring)."""
    p = a.prepared
    inst = p.evaluation_instance
    if [s.site_id for s in inst.sites] != [s.site_id for s in p.instance.sites]:
        raise ValueError("the evaluation instance's sites are not the optimiser's, in order")
    code_dtype(inst)
    return {
        "region": str(p.data.assumptions["meta.region"]),
        "planning_year": int(p.demand.planning_year),
        "services": list(inst.services),
        "service_words": [service_words(v) for v in inst.services],
        "need": [float(x) for x in inst.total_demand_beds],
        "sites": site_options(a),
        "links": [{"scheme": ln.scheme_id, "site": ln.site_idx,
                   "options": [[o.option_id for o in inst.sites[ln.site_idx].options].index(x)
                               for x in ln.option_ids],
                   "closed": list(ln.closed_site_idx), "receipt": ln.receipt_gbp}
                  for ln in inst.linked_receipts],
        "limits": limits_data(a),
        "npc": npc_coefficients(a),
        "gbp_per_m": GBP_PER_M,
        "enumeration": enumeration_data(a),
        "long_list": long_list(a),
        "preferred": a.preferred,
        "hurdle_words": [[h, HURDLE_WORDS.get(h, h)] for h in HURDLES],
        "outlines": outline_paths(a),
        "map": {"width": MAP_WIDTH_PX, "margin": MAP_MARGIN_PX, "label_room": MAP_LABEL_ROOM_PX},
    }


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
def explorer_html(a: Appraisal) -> str:
    """The explorer page (one self-contained HTML document)."""
    data = explorer_data(a)
    title = f"Community hospital beds: option explorer, {data['region']}"
    return "\n".join([
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(title)}</title>",
        f"<style>{PAGE_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p class='note'>Pick, for each site, which wards it runs: the figures and the map "
        "change at once. Configurations within the scenario's limits come from the "
        f"appraisal's enumeration; planning year {data['planning_year']}. This page works "
        "offline: nothing is sent anywhere.</p>",
        "<div class='start'><label for='start'>Start from</label> <select id='start'></select>"
        "</div>",
        "<main><section id='picker' aria-label='Sites and their options'>"
        "<h2>Sites</h2><table id='sites'><thead><tr><th scope='col'>Site</th>"
        "<th scope='col'>Wards</th></tr></thead><tbody></tbody></table>"
        "<h2>Map</h2><div id='map'></div></section>",
        "<section id='result' aria-live='polite' aria-label='The configuration'>"
        "<h2>This configuration</h2><div id='status'></div>"
        "<table id='figures'><tbody></tbody></table>"
        "<h3>Hurdles</h3><table id='hurdles'><thead><tr><th scope='col'>Hurdle</th>"
        "<th scope='col'>Result</th><th scope='col'>Why</th></tr></thead><tbody></tbody>"
        "</table><h3>65+ drive by group</h3><div id='groups'></div></section></main>",
        "<footer id='about'></footer>",
        f"<script id='explorer-data' type='application/json'>{js_value(data)}</script>",
        f"<script>{PAGE_JS}</script>",
        "</body></html>",
        "",
    ])


def write_explorer(a: Appraisal, out_dir: Path) -> Path:
    """Write ``explorer.html`` into ``out_dir`` atomically; return its path."""
    path = Path(out_dir) / EXPLORER_FILE
    write_atomically(path, explorer_html(a))
    return path


PAGE_CSS = """
body{font:15px/1.4 system-ui,-apple-system,'Segoe UI',Arial,sans-serif;margin:16px 24px;
color:#1a1a1a;background:#fff}
h1{font-size:1.45em;margin:0 0 4px}h2{font-size:1.15em;margin:14px 0 6px}
h3{font-size:1.02em;margin:14px 0 4px}
.note{color:#444;max-width:70em;margin:2px 0 8px}
main{display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start}
#picker{flex:0 1 560px}#result{flex:1 1 480px;min-width:420px}
table{border-collapse:collapse}th,td{padding:3px 8px;text-align:left;vertical-align:top;
border-bottom:1px solid #ddd}th{background:#f2f2f2}td.num{text-align:right;
font-variant-numeric:tabular-nums;white-space:nowrap}
select{font:inherit;max-width:400px}
#status{padding:8px 10px;border-left:6px solid #555;background:#f4f4f4;margin:0 0 8px}
#status.ok{border-color:#1b7837}#status.out{border-color:#b2182b;background:#fbeeee}
.pass{color:#1b5e20;font-weight:600}.fail{color:#a50f15;font-weight:600}
.unknown{color:#555;font-style:italic}
#sites th{white-space:nowrap}
th .lad{display:block;font-weight:normal;color:#555;font-size:.85em}
#map svg{border:1px solid #ccc;background:#fafafa}
footer{margin-top:18px;color:#444;font-size:.9em;max-width:70em}
"""

PAGE_JS = r"""
(function () {
'use strict';
var D = JSON.parse(document.getElementById('explorer-data').textContent);
var S = D.sites, L = D.limits, NS = D.services.length;
var strides = [], k = 1;
for (var j = S.length - 1; j >= 0; j--) { strides[j] = k; k *= S[j].options.length; }
function unpack(text, dtype) {
  var bin = atob(text), n = bin.length, bytes = new Uint8Array(n);
  for (var i = 0; i < n; i++) bytes[i] = bin.charCodeAt(i);
  var dv = new DataView(bytes.buffer), size = dtype === '<f8' ? 8 : 4, out = [];
  for (var p = 0; p < n; p += size) out.push(dtype === '<u4' ? dv.getUint32(p, true) :
    (dtype === '<f4' ? dv.getFloat32(p, true) : dv.getFloat64(p, true)));
  return out;
}
var E = D.enumeration, codes = [], travel = [], groupCols = [];
if (E) { codes = unpack(E.codes, E.code_dtype); travel = unpack(E.mean_travel_min, '<f8');
  groupCols = E.groups.map(function (g) { return {label: g.label,
    values: unpack(g.mean_travel_min, '<f4')}; }); }
var longByCode = {};
D.long_list.forEach(function (o) { if (!(o.code in longByCode)) longByCode[o.code] = o; });
function findRow(code) {
  var lo = 0, hi = codes.length - 1;
  while (lo <= hi) {
    var mid = (lo + hi) >> 1;
    if (codes[mid] === code) return mid;
    if (codes[mid] < code) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}
function codeOf(pos) { var c = 0; for (var j = 0; j < S.length; j++) c += strides[j] * pos[j];
  return c; }
function posOf(code) { var pos = [];
  for (var j = 0; j < S.length; j++) { pos.push(Math.floor(code / strides[j]));
    code -= pos[j] * strides[j]; } return pos; }
function opt(pos, j) { return S[j].options[pos[j]]; }
function sum(pos, f) { var acc = 0; for (var j = 0; j < S.length; j++) acc += f(opt(pos, j), j);
  return acc; }
function figures(pos) {
  var linked = 0;
  D.links.forEach(function (ln) {
    var on = ln.options.indexOf(pos[ln.site]) >= 0;
    ln.closed.forEach(function (j) { on = on && opt(pos, j).wards === 0; });
    linked += ln.receipt * (on ? 1 : 0);
  });
  var f = {capex: sum(pos, function (o) { return o.capex; })};
  f.disposals = sum(pos, function (o) { return o.disposal; }) + linked;
  f.net = f.capex - f.disposals;
  f.revenue = sum(pos, function (o) { return o.revenue; });
  f.cost = sum(pos, function (o) { return o.cost; });
  f.npv = D.npc.status_quo_npc - (D.npc.capex * f.capex + D.npc.disposals * f.disposals
                                  + D.npc.revenue * f.revenue);
  f.rn = sum(pos, function (o) { return o.rn; });
  f.wte = sum(pos, function (o) { return o.wte; });
  f.sites = sum(pos, function (o) { return o.wards > 0 ? 1 : 0; });
  f.beds = []; f.usable = [];
  for (var v = 0; v < NS; v++) {
    f.beds.push(sum(pos, function (o) { return o.beds[v]; }));
    f.usable.push(sum(pos, function (o) { return o.usable[v]; }));
  }
  f.isolated = sum(pos, function (o, j) {
    return o.wards === 1 && L.isolated_allowed.indexOf(j) < 0 ? 1 : 0; });
  f.small = [];
  for (var j = 0; j < S.length; j++) {
    var o = opt(pos, j), b = o.beds.reduce(function (x, y) { return x + y; }, 0);
    if (o.wards === 1 && b < L.isolated_ward_min_beds) f.small.push(S[j].name + ' (' + b +
                                                                     ' beds)');
  }
  return f;
}
function m(x) { return '\u00a3' + (x / D.gbp_per_m).toFixed(2) + 'm'; }
function gbp(x) { var s = Math.round(Math.abs(x)).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (x < -0.5 ? '\u2212' : '') + '\u00a3' + s; }
function pct(x) { return Math.round(x * 100) + '%'; }
function shortfall(f) { var out = [];
  for (var v = 0; v < NS; v++) if (f.usable[v] < D.need[v] - 1e-9)
    out.push(D.services[v] + ' ' + (D.need[v] - f.usable[v]).toFixed(1) +
             ' beds below the need of ' + D.need[v].toFixed(1));
  return out; }
// Why a configuration is outside the limits (as siteopt.appraisal.enumeration.meets_limits).
function limitReasons(pos, f) {
  var r = [];
  for (var j = 0; j < S.length; j++) {
    var o = opt(pos, j);
    if (!o.offered) r.push(S[j].name + ': \u201c' + o.words + '\u201d is not offered to the ' +
      'optimiser (a named configuration\u2019s option, e.g. a ward space not available in future)');
    if (L.force_open.indexOf(j) >= 0 && o.wards === 0) r.push(S[j].name +
      ' must keep inpatient beds in this scenario');
    if (L.force_closed.indexOf(j) >= 0 && o.wards > 0) r.push(S[j].name +
      ' must close its inpatient beds in this scenario');
    if ((String(j) in L.fixed) && L.fixed[String(j)] !== o.id) r.push(S[j].name +
      ' is fixed to option ' + L.fixed[String(j)] + ' in this scenario');
  }
  if (L.capital_limit_gbp !== null) {
    var cap = L.capital_basis === 'net' ? f.net : f.capex;
    if (cap > L.capital_limit_gbp + 1e-6) r.push(L.capital_basis + ' capital ' + m(cap) +
      ' exceeds the limit of ' + m(L.capital_limit_gbp));
  }
  if (L.max_staff_wte_rn !== null && f.rn > L.max_staff_wte_rn + 1e-9) r.push('needs ' +
    f.rn.toFixed(1) + ' registered-nurse WTE, more than the limit of ' +
    L.max_staff_wte_rn.toFixed(1));
  if (L.max_staff_wte_total !== null && f.wte > L.max_staff_wte_total + 1e-9) r.push('needs ' +
    f.wte.toFixed(1) + ' WTE, more than the limit of ' + L.max_staff_wte_total.toFixed(1));
  if (L.max_isolated_wards !== null && f.isolated > L.max_isolated_wards) r.push(f.isolated +
    ' isolated wards, more than the limit of ' + L.max_isolated_wards);
  if (L.min_inpatient_sites !== null && f.sites < L.min_inpatient_sites) r.push(f.sites +
    ' sites with beds, fewer than the minimum of ' + L.min_inpatient_sites);
  if (L.max_inpatient_sites !== null && f.sites > L.max_inpatient_sites) r.push(f.sites +
    ' sites with beds, more than the maximum of ' + L.max_inpatient_sites);
  if (L.max_cost_gbp_per_year !== null && f.cost > L.max_cost_gbp_per_year + 1e-6)
    r.push('annual cost ' + m(f.cost) + ' over the limit of ' + m(L.max_cost_gbp_per_year));
  var s = shortfall(f);
  if (s.length) r.push('short of beds: ' + s.join(', '));
  return r;
}
function driveLimits() { var w = [];
  if (L.max_travel_min !== null) w.push('every neighbourhood within ' + L.max_travel_min +
                                        ' minutes of its ward');
  if (L.within_travel_min !== null && L.min_share_within !== null) w.push('at least ' +
    pct(L.min_share_within) + ' of people aged 65+ within ' + L.within_travel_min + ' minutes');
  if (L.max_mean_travel_min !== null) w.push('the 65+ mean drive within ' +
                                             L.max_mean_travel_min + ' minutes');
  if (L.equity_limited) w.push('the groups\u2019 mean drives within the scenario\u2019s ' +
                               'equity limit');
  return w.length ? w.join(' and ') : 'every neighbourhood able to reach a ward'; }
// Hurdles a configuration decides by itself (as siteopt.appraisal.shortlist.hurdles).
function hurdles(pos, f, meanTravel) {
  var h = {}, s = shortfall(f);
  h.bed_need = s.length ? 'short of beds: ' + s.join(', ') : null;
  if (L.capital_limit_gbp === null) h.capital = null; else {
    var used = L.capital_basis === 'net' ? f.net : f.capex;
    h.capital = used <= L.capital_limit_gbp + 1e-6 ? null : L.capital_basis + ' capital ' +
      m(used) + ' exceeds the limit of ' + m(L.capital_limit_gbp);
  }
  var st = [];
  if (f.rn > L.rn_hurdle_wte + 1e-6) st.push('needs ' + f.rn.toFixed(1) +
    ' registered-nurse WTE, more than ' + L.rn_hurdle_wte.toFixed(1) + ' (' +
    L.rn_hurdle_basis + ')');
  if (L.max_staff_wte_total !== null && f.wte > L.max_staff_wte_total + 1e-6) st.push('needs ' +
    f.wte.toFixed(1) + ' WTE, more than the limit of ' + L.max_staff_wte_total.toFixed(1));
  h.staffing = st.length ? st.join('; ') : null;
  h.equity = undefined;
  if (meanTravel === null) h.access = undefined; else {
    h.access = (L.max_mean_travel_min !== null && meanTravel > L.max_mean_travel_min + 1e-6) ?
      'the 65+ mean drive of ' + meanTravel.toFixed(1) + ' minutes is over the limit of ' +
      L.max_mean_travel_min : null;
  }
  if (f.small.length) h.resilience = 'isolated wards below the ' + L.isolated_ward_min_beds +
    '-bed standard: ' + f.small.join(', ');
  else h.resilience = L.refusal_is_hurdle ? undefined : null;
  return h;
}
function evaluate(pos) {
  var code = codeOf(pos), f = figures(pos), row = findRow(code), ll = longByCode[code] || null;
  var ev = {code: code, pos: pos.slice(), f: f, row: row, longList: ll,
            limits: limitReasons(pos, f)};
  ev.meanTravel = row >= 0 ? travel[row] : (ll ? ll.mean_travel_min : null);
  ev.hurdles = ll ? ll.hurdles : hurdles(pos, f, row >= 0 ? travel[row] : null);
  ev.computedHurdles = hurdles(pos, f, ev.meanTravel);
  return ev;
}
function el(tag, text, cls) { var e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text; if (cls) e.className = cls;
  return e; }
function row(tbody, label, text, id, value) {
  var tr = el('tr'); tr.appendChild(el('th', label)).scope = 'row';
  var td = el('td', text, 'num'); if (id) td.id = id;
  if (value !== undefined) td.setAttribute('data-value', String(value));
  tr.appendChild(td); tbody.appendChild(tr); }
var pos = [], selects = [];
function render() {
  var ev = evaluate(pos), f = ev.f, st = document.getElementById('status');
  st.textContent = '';
  var head;
  if (ev.row >= 0) { st.className = 'ok'; head = 'Within the scenario\u2019s limits: one of the ' +
    E.n_rows.toLocaleString('en-GB') + ' configurations (of ' +
    E.n_configurations.toLocaleString('en-GB') + ') the appraisal enumerated.'; }
  else if (!E) { st.className = ''; head = 'The configuration space was not enumerated: only ' +
    'the long-list options have a mean drive.'; }
  else { st.className = 'out'; head = 'Outside the scenario\u2019s limits: '; }
  st.appendChild(el('p', head)).id = 'status-head';
  if (E && ev.row < 0) {
    var ul = el('ul'); ul.id = 'reasons';
    var rs = ev.limits.length ? ev.limits : ['the assignment of zones is infeasible within the ' +
      'drive limit: no assignment of neighbourhoods to these wards keeps ' + driveLimits()];
    rs.forEach(function (x) { ul.appendChild(el('li', x)); }); st.appendChild(ul);
  }
  if (ev.longList) st.appendChild(el('p', 'This is the long-list option \u201c' +
    ev.longList.label + '\u201d' + (ev.longList.title ? ': ' + ev.longList.title : '') +
    ' (measured in full by the appraisal).')).id = 'status-long';
  var tb = document.querySelector('#figures tbody'); tb.textContent = '';
  for (var v = 0; v < NS; v++) row(tb, 'Beds, ' + D.service_words[v] + ' (need ' +
    D.need[v].toFixed(1) + ')', f.beds[v] + ' beds; ' + (f.usable[v] >= D.need[v] - 1e-9 ?
    'meets the need' : (D.need[v] - f.usable[v]).toFixed(1) + ' short'), 'beds-' + v, f.beds[v]);
  row(tb, 'Sites with inpatient beds', String(f.sites), 'sites', f.sites);
  row(tb, '65+ mean drive to their ward', ev.meanTravel === null ? 'not computed (outside ' +
    'the limits)' : ev.meanTravel.toFixed(2) + ' min', 'mean-travel',
    ev.meanTravel === null ? '' : ev.meanTravel);
  row(tb, 'Capital: capex', gbp(f.capex), 'capex', f.capex);
  row(tb, 'Capital: disposal receipts', gbp(f.disposals), 'disposals', f.disposals);
  row(tb, 'Capital: net (capex less receipts)', gbp(f.net), 'net-capital', f.net);
  row(tb, 'Revenue cost a year', gbp(f.revenue), 'revenue', f.revenue);
  row(tb, 'Annual cost (revenue + annualised capital)', gbp(f.cost), 'cost', f.cost);
  row(tb, 'NPV against business as usual (Green Book)', gbp(f.npv), 'npv', f.npv);
  row(tb, 'Registered-nurse WTE', f.rn.toFixed(1), 'rn', f.rn);
  var hb = document.querySelector('#hurdles tbody'); hb.textContent = '';
  D.hurdle_words.forEach(function (hw) {
    var k = hw[0], r = ev.hurdles[k], tr = el('tr'); tr.id = 'hurdle-' + k;
    tr.appendChild(el('th', hw[1])).scope = 'row';
    if (r === undefined) { tr.appendChild(el('td', 'not precomputed', 'unknown'));
      tr.appendChild(el('td', k === 'equity' ? 'needs the 65+ drive of every group, kept for ' +
        'the long-list options only' : (k === 'access' ? 'no mean drive: outside the limits' :
        'needs the wards\u2019 assigned load, kept for the long-list options only'))); }
    else if (r === null) { tr.appendChild(el('td', 'passed', 'pass'));
      tr.appendChild(el('td', '')); }
    else { tr.appendChild(el('td', 'failed', 'fail')); tr.appendChild(el('td', r)); }
    hb.appendChild(tr);
  });
  var g = document.getElementById('groups'); g.textContent = '';
  if (ev.longList) {
    var t = el('table'), h = el('tr');
    ['Group', 'People 65+', 'Mean drive', 'Within ' + L.equity_within_min + ' min'].forEach(
      function (x) { h.appendChild(el('th', x)).scope = 'col'; });
    t.appendChild(el('thead')).appendChild(h); var b = t.appendChild(el('tbody'));
    ev.longList.groups.forEach(function (x) { var tr = el('tr'); tr.appendChild(el('td', x.group));
      tr.appendChild(el('td', Math.round(x.people).toLocaleString('en-GB'), 'num'));
      tr.appendChild(el('td', x.mean_travel_min.toFixed(1) + ' min', 'num'));
      tr.appendChild(el('td', pct(x.share_within), 'num')); b.appendChild(tr); });
    g.appendChild(t);
  } else if (ev.row >= 0 && groupCols.length) {
    var t2 = el('table'), h2 = el('tr'); t2.id = 'group-means';
    ['Group', 'Mean drive'].forEach(function (x) { h2.appendChild(el('th', x)).scope = 'col'; });
    t2.appendChild(el('thead')).appendChild(h2); var b2 = t2.appendChild(el('tbody'));
    groupCols.forEach(function (gc) { var v = gc.values[ev.row], tr = el('tr');
      tr.appendChild(el('td', gc.label));
      tr.appendChild(el('td', isNaN(v) ? '\u2014' : v.toFixed(1) + ' min', 'num'));
      b2.appendChild(tr); });
    g.appendChild(t2);
    g.appendChild(el('p', 'From the enumeration\u2019s assignment; the share within ' +
      L.equity_within_min + ' minutes (the equity hurdle) is kept for the long-list options ' +
      'only.', 'note'));
  } else g.appendChild(el('p', 'Not precomputed: the 65+ drive by local authority and ' +
    'deprivation quintile is kept for the long-list options only (pick one under \u201cStart ' +
    'from\u201d).', 'unknown')).id = 'groups-note';
  drawMap(ev);
  window.siteoptExplorerState = {code: ev.code, row: ev.row};
}
var NSVG = 'http://www.w3.org/2000/svg', proj;
function svg(tag, attrs) { var e = document.createElementNS(NSVG, tag);
  for (var a in attrs) e.setAttribute(a, attrs[a]); return e; }
function setupMap() {
  var lats = S.map(function (s) { return s.lat; }), lons = S.map(function (s) { return s.lon; });
  D.outlines.forEach(function (r) {
    r.forEach(function (p) { lons.push(p[0]); lats.push(p[1]); }); });
  var la0 = Math.min.apply(null, lats), la1 = Math.max.apply(null, lats);
  var lo0 = Math.min.apply(null, lons), lo1 = Math.max.apply(null, lons);
  var kx = Math.cos((la0 + la1) / 2 * Math.PI / 180), W = D.map.width, M = D.map.margin;
  var sc = (W - 2 * M - D.map.label_room) / Math.max((lo1 - lo0) * kx, 1e-6);
  var H = Math.round((la1 - la0) * sc + 2 * M);
  proj = function (lat, lon) { return [M + (lon - lo0) * kx * sc, M + (la1 - lat) * sc]; };
  var root = svg('svg', {width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img'});
  root.appendChild(svg('title', {})).textContent = 'Sketch map of the sites and their beds';
  D.outlines.forEach(function (r) {
    var d = r.map(function (p, i) { var q = proj(p[1], p[0]);
      return (i ? 'L' : 'M') + q[0].toFixed(1) + ' ' + q[1].toFixed(1); }).join('') + 'Z';
    root.appendChild(svg('path', {d: d, fill: '#eef1f4', stroke: '#9aa5b1', 'stroke-width': 1}));
  });
  root.appendChild(svg('g', {id: 'map-sites'}));
  document.getElementById('map').appendChild(root);
  document.getElementById('map').appendChild(el('p', 'Filled circle: site with inpatient beds ' +
    '(area by beds); hollow: no inpatient beds. Outlines: local authorities. Not to survey ' +
    'accuracy; no background map (works offline).', 'note'));
}
function drawMap(ev) {
  var g = document.getElementById('map-sites'); g.textContent = '';
  var W = D.map.width, boxes = [], marks = S.map(function (s, j) {
    var o = opt(ev.pos, j), b = o.beds.reduce(function (x, y) { return x + y; }, 0);
    return {q: proj(s.lat, s.lon), b: b, o: o, r: b > 0 ? 3 + 1.6 * Math.sqrt(b) : 6}; });
  marks.forEach(function (k) { boxes.push([k.q[0] - k.r, k.q[1] - k.r, k.q[0] + k.r,
                                           k.q[1] + k.r]); });
  function overlap(bx) { // area covered by other symbols and labels, or off the map
    if (bx[0] < 0 || bx[2] > W) return Infinity;
    return boxes.reduce(function (acc, o) {
      return acc + Math.max(0, Math.min(bx[2], o[2]) - Math.max(bx[0], o[0])) *
        Math.max(0, Math.min(bx[3], o[3]) - Math.max(bx[1], o[1])); }, 0); }
  S.forEach(function (s, j) {
    var k = marks[j], q = k.q, r = k.r;
    var c = svg('circle', {cx: q[0].toFixed(1), cy: q[1].toFixed(1), r: r.toFixed(1),
      fill: k.b > 0 ? '#2b5c8a' : '#ffffff', stroke: k.b > 0 ? '#14324f' : '#555',
      'stroke-width': k.b > 0 ? 1 : 2, 'fill-opacity': k.b > 0 ? 0.85 : 1});
    c.appendChild(svg('title', {})).textContent = s.name + ': ' + k.o.words;
    g.appendChild(c);
    // the label place (right, left, lower, upper) that overlaps least, the first if tied
    var lines = [s.short, k.b > 0 ? k.b + ' beds' : 'no beds'], w = 6.3 * s.short.length + 4;
    var places = [[1, 0], [-1, 0], [1, 14], [1, -14], [-1, 14], [-1, -14], [1, 26], [1, -26],
                  [-1, 26], [-1, -26]], pick = places[0];
    var least = Infinity;
    for (var i = 0; i < places.length; i++) {
      var p = places[i], x0 = p[0] > 0 ? q[0] + r + 2 : q[0] - r - 2 - w, y0 = q[1] - 13 + p[1];
      var cover = overlap([x0, y0, x0 + w, y0 + 26]);
      if (cover < least) { least = cover; pick = p; }
      if (cover === 0) break;
    }
    var x = pick[0] > 0 ? q[0] + r + 3 : q[0] - r - 3, bx0 = pick[0] > 0 ? x - 1 : x - w + 1;
    boxes.push([bx0, q[1] - 13 + pick[1], bx0 + w, q[1] + 13 + pick[1]]);
    lines.forEach(function (text, n) {
      var t = svg('text', {x: x.toFixed(1), y: (q[1] - 2 + 13 * n + pick[1]).toFixed(1),
        'font-size': 11, 'font-weight': n ? 'normal' : 'bold', fill: '#111',
        'paint-order': 'stroke', stroke: '#fff', 'stroke-width': 3,
        'text-anchor': pick[0] > 0 ? 'start' : 'end'});
      t.textContent = text; g.appendChild(t); });
  });
}
function setPos(p) { pos = p.slice();
  selects.forEach(function (sel, j) { sel.value = String(pos[j]); }); render(); }
function build() {
  var tb = document.querySelector('#sites tbody');
  S.forEach(function (s, j) {
    var tr = el('tr'), th = el('th'), lab = el('label', s.short);
    lab.htmlFor = 'site-' + j; lab.title = s.name; th.appendChild(lab);
    th.appendChild(el('span', s.lad, 'lad')); th.scope = 'row'; tr.appendChild(th);
    var sel = el('select'); sel.id = 'site-' + j; sel.setAttribute('data-site', s.id);
    s.options.forEach(function (o, i) { var op = el('option', o.words); op.value = String(i);
      op.setAttribute('data-option', o.id); sel.appendChild(op); });
    sel.addEventListener('change', function () { pos[j] = Number(sel.value); render(); });
    selects.push(sel); var td = el('td'); td.appendChild(sel); tr.appendChild(td);
    tb.appendChild(tr);
  });
  var start = document.getElementById('start'), first = 0;
  D.long_list.forEach(function (o, i) {
    var op = el('option', o.label + (o.title ? ': ' + o.title : '')); op.value = String(i);
    start.appendChild(op); if (o.name === D.preferred) first = i; });
  start.addEventListener('change', function () {
    setPos(posOf(D.long_list[Number(start.value)].code)); });
  start.value = String(first);
  setupMap();
  setPos(posOf(D.long_list[first].code));
  document.getElementById('about').textContent = 'Money in 2016/17 prices. Capital: capex of ' +
    'the schemes each site\u2019s option needs; receipts include those that count only when ' +
    'another site closes. Annual cost: revenue plus annualised capital (the model\u2019s cost). ' +
    'NPV: the Green Book net present cost of business as usual less this configuration\u2019s ' +
    '(optimism bias, discounting and residual value as in the appraisal). The 65+ mean drive ' +
    'is the least-travel assignment within the scenario\u2019s drive limits, each service ' +
    'weighted by its share of bed need.';
}
window.siteoptExplorer = {evaluate: evaluate, posOf: posOf, codeOf: codeOf, setPos: setPos,
  limitReasons: function (p) { return limitReasons(p, figures(p)); }, data: D};
build();
}());
"""

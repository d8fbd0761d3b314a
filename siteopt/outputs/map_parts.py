"""The pieces of a map page: site symbols and popups, zone and boundary
features, the legend and the accessible tables beside the map.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from siteopt.outputs.leaflet import SOURCE_LINE, esc
from siteopt.outputs.map_data import (
    CHANGE_PALETTE,
    CHANGE_WORDS,
    MEASURE_HOW,
    MEASURE_WORDS,
    NEAREST_WORDS,
    TRAVEL_PALETTE,
    UNREACHABLE_COLOUR,
    WITHIN_KEY,
    ZONE_SHAPE_DIGITS,
    OptionView,
    SiteView,
    ZoneShapes,
    boundaries,
    catchment_divides,
    change_colour,
    change_labels,
    geojson_geometry,
    in_sentence,
    label_sides,
    marker_radius_px,
    mix_style,
    mix_words,
    service_mix,
    service_mixes,
    service_words,
    travel_colour,
    travel_labels,
    zone_shapes,
)
from siteopt.runs.pipeline import Prepared

ZONE_RADIUS_PX = 4.0
"""Radius of a zone (LSOA centroid) circle."""


UNASSIGNED_WORDS = "no ward planned"
"""A zone with no ward planned for it (none in LLR)."""


def _min(x: float, none: str = "no site reachable") -> str:
    return f"{x:.0f} min" if np.isfinite(x) else none


def _min1(x: float) -> str:
    """Minutes to one decimal, as the appraisal report prints them."""
    return f"{x:.1f} min" if np.isfinite(x) else "-"


# --------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------
def _shape_svg(shape: str, cx: float, cy: float, r: float, attrs: str) -> str:
    if shape == "circle":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" {attrs}/>'
    if shape == "square":
        s = r * 0.9
        return (f'<rect x="{cx - s:.1f}" y="{cy - s:.1f}" width="{2 * s:.1f}" '
                f'height="{2 * s:.1f}" {attrs}/>')
    sides = {"triangle": 3, "diamond": 4, "pentagon": 5, "hexagon": 6}.get(shape, 4)
    rr = r * (1.25 if sides == 3 else 1.05)
    dy = rr * 0.2 if sides == 3 else 0.0
    pts = " ".join(f"{cx + rr * np.sin(2 * np.pi * k / sides):.1f},"
                   f"{cy - rr * np.cos(2 * np.pi * k / sides) + dy:.1f}"
                   for k in range(sides))
    return f'<polygon points="{pts}" {attrs}/>'


def site_symbol_svg(services: Sequence[str], site: SiteView,
                    show_change: bool = True) -> tuple[str, int]:
    """(SVG markup, size in px) of a site's symbol: shape and colour by service mix, size by
    beds, a badge for the change against the baseline. Contains no data strings."""
    after = site.total_after
    if after > 0:
        shape, colour = mix_style(services, service_mix(services, site))
        r = marker_radius_px(after)
        attrs = f'fill="{colour}" stroke="#000" stroke-width="1.6"'
    elif site.total_before > 0:  # beds close here: the old size, hollow and dashed, with a cross
        shape, _ = mix_style(services, service_mix(services, site))
        r = marker_radius_px(site.total_before)
        attrs = ('fill="#fff" fill-opacity="0.85" stroke="#000" stroke-width="1.6" '
                 'stroke-dasharray="3 2"')
    else:
        shape, r = "circle", 5.0
        attrs = 'fill="#fff" stroke="#4d4d4d" stroke-width="2"'
    badge = 8.0
    size = int(np.ceil(2 * r + 2 * badge + 4))
    c = size / 2
    parts = [_shape_svg(shape, c, c, r, attrs)]
    kind = site.change
    if show_change and kind == "closes":
        d = r * 0.55
        parts.append(f'<path d="M{c - d:.1f},{c - d:.1f}L{c + d:.1f},{c + d:.1f}M{c + d:.1f},'
                     f'{c - d:.1f}L{c - d:.1f},{c + d:.1f}" stroke="#000" stroke-width="2.5"/>')
    elif show_change and kind in ("gains", "loses", "opens"):
        bx, by = c + r * 0.75, c - r * 0.75
        sign = "&#8722;" if kind == "loses" else "+"
        parts.append(f'<circle cx="{bx:.1f}" cy="{by:.1f}" r="{badge - 1:.1f}" fill="#fff" '
                     'stroke="#000" stroke-width="1.5"/>')
        parts.append(f'<text x="{bx:.1f}" y="{by + 4.5:.1f}" text-anchor="middle" '
                     f'font-size="14" font-weight="700" font-family="Arial,sans-serif" '
                     f'fill="#000">{sign}</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
           f'viewBox="0 0 {size} {size}" aria-hidden="true" focusable="false">'
           + "".join(parts) + "</svg>")
    return svg, size


def _site_words(view: OptionView, site: SiteView) -> str:
    """Plain text (not HTML) of a site's beds before and after, for accessible names."""
    base = "today" if view.baseline_name == "status_quo" else f"in {view.baseline_title}"
    return (f"{site.name}: {site.beds_words('before')} {base}; "
            f"{site.beds_words('after')} in this option ({CHANGE_WORDS[site.change]})")


def _site_popup(view: OptionView, site: SiteView) -> str:
    rows = "".join(
        f"<tr><th scope='row'>{esc(service_words(v))}</th>"
        f"<td class='num'>{site.beds_before.get(v, 0)}</td>"
        f"<td class='num'>{site.beds_after.get(v, 0)}</td></tr>" for v in view.services)
    base = "Today" if view.baseline_name == "status_quo" else esc(view.baseline_title)
    return (f"<strong>{esc(site.name)}</strong><br>{esc(site.town)}, {esc(site.lad_name)}"
            f"<p>{esc(CHANGE_WORDS[site.change]).capitalize()}.</p>"
            f"<table><thead><tr><th>Inpatient beds</th><th class='num'>{base}</th>"
            f"<th class='num'>This option</th></tr></thead><tbody>{rows}</tbody></table>")


LABEL_GAP_PX = 3
"""Gap between a hospital symbol and its name label (pixels)."""


def _label_offsets(radius_px: float) -> dict[str, list[float]]:
    """The label's offset from the symbol's centre for a Leaflet tooltip on each side."""
    r = round(radius_px + LABEL_GAP_PX, 1)
    return {"bottom": [0, r], "top": [0, -r], "right": [r, 0], "left": [-r, 0]}


def site_features(view: OptionView, with_beds: bool) -> list[dict[str, Any]]:
    """Marker features of the sites that have (or have not) inpatient beds in this option, each
    with its name as a permanent label (``label``, placed by :func:`label_sides`)."""
    out = []
    sides = label_sides(view)
    for k, site in enumerate(view.sites):
        if (site.total_after > 0) != with_beds:
            continue
        svg, size = site_symbol_svg(view.services, site)
        beds = max(site.total_after, site.total_before)
        radius = marker_radius_px(beds) if beds else 5.0
        out.append({
            "type": "Feature",
            "geometry": {"type": "Point",
                         "coordinates": [round(site.lon, 6), round(site.lat, 6)]},
            "properties": {
                "icon": {"html": svg, "className": "siteopt-site", "iconSize": [size, size],
                         "iconAnchor": [size // 2, size // 2]},
                "title": _site_words(view, site),
                "label": esc(site.name),
                "label_class": "siteopt-label" + ("" if with_beds else " siteopt-label-none"),
                "label_dir": sides[k],
                "label_offsets": _label_offsets(radius),
                "label_rank": -beds * len(view.sites) + k,
                "popup": _site_popup(view, site),
            },
        })
    return out


def _zone_popup(view: OptionView, i: int, extra: str = "") -> list[str]:
    """A zone's popup as lines of escaped HTML (the page joins them with ``<br>``)."""
    z = view.zones
    near = z.nearest_site[i]
    near_name = view.sites[near].name if near >= 0 else "none"
    lines = [f"<strong>{esc(z.zone_names[i])}</strong> ({esc(z.zone_ids[i])}), "
             f"{esc(z.lad_names[i])}",
             f"People aged 65+: {z.weight[i]:,.0f}",
             f"Mean drive to the ward of each service they use (as planned): "
             f"<strong>{_min(z.travel_min[i], UNASSIGNED_WORDS)}</strong>"]
    for use in z.uses[i]:
        lines.append(f"{esc(service_words(use.service)).capitalize()}: "
                     f"{esc(view.sites[use.site].name)}, {_min(use.travel_min)} "
                     f"({100 * use.share:.0f}% of this need)")
    lines.append(f"{NEAREST_WORDS[:1].upper()}{NEAREST_WORDS[1:]}: "
                 f"{_min(z.nearest_travel_min[i])} ({esc(near_name)})")
    note = _catchment_note(view, i)
    if note:
        lines.append(note)
    if extra:
        lines.append(extra)
    return lines


ZONE_EDGE_STYLE: Mapping[str, Any] = {"color": "#ffffff", "weight": 0.5, "opacity": 0.9,
                                      "fillOpacity": 0.9}
"""Style of a neighbourhood polygon (its fill colour is its class)."""

ZONE_DOT_STYLE: Mapping[str, Any] = {"radius": ZONE_RADIUS_PX, "color": "#333", "weight": 0.8,
                                     "opacity": 1.0, "fillOpacity": 0.9}
"""Style of a neighbourhood drawn as a dot (a region without neighbourhood polygons)."""


def zone_geometries(prepared: Prepared, view: OptionView) -> list[dict[str, Any]]:
    """Each zone's GeoJSON geometry, in zone order: its LSOA polygon (coordinates rounded to
    :data:`ZONE_SHAPE_DIGITS` places) or, without one, a point at its centroid."""
    z = view.zones
    return list(_zone_geometries(zone_shapes(prepared, z.zone_ids),
                                 tuple(float(x) for x in z.lon), tuple(float(y) for y in z.lat)))


@lru_cache(maxsize=4)
def _zone_geometries(shapes: ZoneShapes, lons: tuple[float, ...],
                     lats: tuple[float, ...]) -> tuple[dict[str, Any], ...]:
    out = []
    for i, geom in enumerate(shapes.geometries):
        if geom is None:
            out.append({"type": "Point", "coordinates": [round(lons[i], 6), round(lats[i], 6)]})
            continue
        parts = getattr(geom, "geoms", None)
        single = parts[0] if parts is not None and len(parts) == 1 else geom
        out.append(geojson_geometry(single, ZONE_SHAPE_DIGITS))
    return tuple(out)


def _catchment_note(view: OptionView, i: int) -> str:
    """Why a zone's catchment is not its nearest ward of that service, in words (or empty)."""
    z = view.zones
    c = int(z.catchment_site[i])
    if c < 0 or not view.services:
        return ""
    service = view.services[0]
    t_near = float(z.nearest_by_service[service][i])
    if not np.isfinite(t_near) or z.catchment_travel_min[i] <= t_near + 0.5:
        return ""
    k = int(z.nearest_site_by_service[service][i])
    where = f" ({esc(view.sites[k].name)}, {_min(t_near)})" if k >= 0 else ""
    return (f"Catchment: {esc(view.sites[c].name)}, further than the nearest "
            f"{esc(service_words(service))} ward{where}: the plan sends patients further when the "
            "nearer wards are full.")


def zone_features(view: OptionView, change_min: np.ndarray | None = None,
                  geometries: Sequence[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The zones' features, shaded by the maps' measure (:data:`MEASURE_WORDS`), or by its
    change against the baseline if ``change_min`` is given: polygons where ``geometries``
    (:func:`zone_geometries`) has them, else dots at the centroids."""
    z = view.zones
    out = []
    for i in range(len(z)):
        t = float(z.travel_min[i])
        if change_min is None:
            colour = travel_colour(t)
            tip = f"{esc(z.zone_names[i])}: {_min(t, UNASSIGNED_WORDS)} mean drive (as planned)"
            extra = ""
        else:
            d = float(change_min[i])
            colour = change_colour(d)
            if not np.isfinite(d):
                words = "not comparable (no ward planned)"
            elif abs(d) >= 0.5:
                words = f"{abs(d):.0f} min {'longer' if d > 0 else 'shorter'}"
            else:
                words = "no change"
            tip = f"{esc(z.zone_names[i])}: {words} ({_min(t, UNASSIGNED_WORDS)} in this option)"
            extra = (f"Change against {esc(in_sentence(view.baseline_title))}: "
                     f"<strong>{words}</strong>")
        geom = (dict(geometries[i]) if geometries is not None else
                {"type": "Point", "coordinates": [round(float(z.lon[i]), 6),
                                                  round(float(z.lat[i]), 6)]})
        style = ({**ZONE_DOT_STYLE, "fillColor": colour} if geom["type"] == "Point"
                 else {"fillColor": colour})
        out.append({
            "type": "Feature",
            "geometry": geom,
            "properties": {"style": style, "tooltip": tip,
                           "popup": _zone_popup(view, i, extra)},
        })
    return out


def lad_features(prepared: Prepared) -> list[dict[str, Any]]:
    """Local authority boundary features."""
    out = []
    for props, geom in boundaries(prepared, "lad"):
        name = str(props.get("lad_name", ""))
        out.append({"type": "Feature", "geometry": geojson_geometry(geom),
                    "properties": {"tooltip": esc(name)}})
    return out


def catchment_features(prepared: Prepared, view: OptionView) -> list[dict[str, Any]]:
    """The lines between catchments (the site the plan sends most of each area's
    first-service need to), drawn once each; not interactive, so the neighbourhoods under them
    keep their popups (which name their catchment)."""
    return [{"type": "Feature", "geometry": geojson_geometry(catchment_divides(prepared, view)),
             "properties": {"style": {"stroke": True, "fill": False, "interactive": False}}}]


CATCHMENT_WORDS = ("A catchment is the hospital the plan sends most of a neighbourhood's "
                   "{service} patients to. It can be further than the nearest hospital when the "
                   "nearer wards are full.")
"""What a catchment is, in the legend and the footer (``{service}``: the first service)."""


# --------------------------------------------------------------------------------------------
# Legend, tables, page
# --------------------------------------------------------------------------------------------
def _swatch_rows(colours: Sequence[str], labels: Sequence[str]) -> str:
    return "".join(f'<div class="row"><span class="sw" style="background:{c}"></span>'
                   f"<span>{esc(label)}</span></div>"
                   for c, label in zip(colours, labels, strict=True))


def _symbol_rows(view: OptionView) -> str:
    rows = []
    for mix in service_mixes(view.services):
        if not any(service_mix(view.services, s) == mix and s.total_after > 0 for s in view.sites):
            continue
        demo = SiteView("", "", "", "", 0, 0, {v: 0 for v in view.services},
                        {v: (16 if v in mix else 0) for v in view.services})
        svg, _ = site_symbol_svg(view.services, demo, show_change=False)
        rows.append(f'<div class="row">{svg}<span>{esc(mix_words(mix))}</span></div>')
    samples = []
    for beds in (10, 30, 60):
        r = marker_radius_px(beds)
        d = int(2 * r + 4)
        samples.append(f'<svg width="{d}" height="{d}" aria-hidden="true" focusable="false">'
                       f'<circle cx="{d / 2}" cy="{d / 2}" r="{r:.1f}" fill="#ccc" '
                       f'stroke="#000"/></svg> {beds}')
    rows.append("<div>Size shows beds:</div><div class=\"row\">" + " ".join(samples) + "</div>")
    rows.append("<div><b>+</b> more beds or new beds</div><div><b>&#8722;</b> fewer beds</div>")
    rows.append("<div><b>✕</b> dashed outline: beds close here</div>")
    none = SiteView("", "", "", "", 0, 0, {}, {})
    svg, _ = site_symbol_svg(view.services, none)
    rows.append(f'<div class="row">{svg}<span>site without inpatient beds</span></div>')
    return "".join(rows)


def zones_words(shapes: ZoneShapes | None) -> str:
    """How the neighbourhoods are drawn, in words: shaded polygons, or dots where the region's
    geodata has no polygon for them (the fallback says so)."""
    if shapes is None or shapes.n_polygons == 0:
        note = shapes.dots_words() if shapes is not None else ""
        return " ".join(x for x in ("Each dot is a neighbourhood (LSOA) at its centre.", note)
                        if x)
    return " ".join(x for x in ("Each shaded area is a neighbourhood (LSOA).",
                                shapes.dots_words()) if x)


def legend_html(view: OptionView, change: bool = False, catchments: bool = True,
                shapes: ZoneShapes | None = None) -> str:
    """The legend: zone colours (minutes of :data:`MEASURE_WORDS`, or its change), site symbols,
    lines (local authorities and, if ``catchments``, the catchment layer that is off when the
    page opens, with what a catchment is). ``shapes``: the zones' polygons (None: dots)."""
    if change:
        head = (f"<h3>Change in {esc(in_sentence(MEASURE_WORDS))}, against "
                f"{esc(in_sentence(view.baseline_title))}</h3>")
        body = _swatch_rows(CHANGE_PALETTE, change_labels())
    else:
        head = f"<h3>{esc(MEASURE_WORDS)}</h3>"
        body = _swatch_rows(TRAVEL_PALETTE, travel_labels())
    if not np.all(np.isfinite(view.zones.travel_min)):
        body += _swatch_rows([UNREACHABLE_COLOUR], [UNASSIGNED_WORDS])
    lines = ('<div class="row"><svg width="26" height="10" aria-hidden="true" focusable="false">'
             '<line x1="0" y1="5" x2="26" y2="5" stroke="#222" stroke-width="2"/></svg>'
             "<span>local authority</span></div>")
    if catchments:
        words = CATCHMENT_WORDS.format(service=service_words(view.services[0])
                                       if view.services else "")
        lines += ('<div class="row"><svg width="26" height="10" aria-hidden="true" '
                  'focusable="false"><line x1="0" y1="5" x2="26" y2="5" stroke="#000" '
                  'stroke-width="2.5" stroke-dasharray="6 4"/></svg><span>catchment boundary '
                  "(off at first: turn it on in the layer list at the top right)</span></div>"
                  f"<div>{esc(words)}</div>")
    return (f"<div>{head}<div>{esc(zones_words(shapes))} {esc(MEASURE_HOW)}</div>"
            f"{body}</div>"
            f"<div><h3>Hospitals</h3><div>Names are always shown; select a hospital for its "
            f"beds.</div>{_symbol_rows(view)}</div><div><h3>Lines</h3>{lines}</div>")


def _fmt_pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def sites_table_html(views: Sequence[OptionView]) -> str:
    """Sites with beds per service before and in each option, in words and numbers."""
    first = views[0]
    base = "Today" if first.baseline_name == "status_quo" else esc(first.baseline_title)
    head = (f"<tr><th scope='col'>Site</th><th scope='col'>Local authority</th>"
            f"<th scope='col'>{base}</th>"
            + "".join(f"<th scope='col'>{esc(v.title)}</th><th scope='col'>Change</th>"
                      for v in views) + "</tr>")
    body = []
    for k, site in enumerate(first.sites):
        cells = (f"<th scope='row'>{esc(site.name)}</th><td>{esc(site.lad_name)}</td>"
                 f"<td>{esc(site.beds_words('before'))}</td>")
        for v in views:
            s = v.sites[k]
            cells += (f"<td>{esc(s.beds_words('after'))}</td>"
                      f"<td>{esc(CHANGE_WORDS[s.change])}</td>")
        body.append(f"<tr>{cells}</tr>")
    return (f"<table><caption>Hospitals and their inpatient beds</caption><thead>{head}</thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


TRAVEL_COLUMNS: tuple[str, ...] = ("Mean drive", "Within 30 min", "Longest drive")
"""The column heads of :func:`travel_table_html` under each option."""


def travel_table_html(views: Sequence[OptionView]) -> str:
    """:data:`MEASURE_WORDS` by local authority, for each option: the report's mean, share
    within 30 minutes and longest drive (:meth:`OptionView.lad_table`)."""
    head = ("<tr><th scope='col' rowspan='2'>Local authority</th>"
            "<th scope='col' rowspan='2' class='num'>People aged 65+</th>"
            + "".join(f"<th scope='colgroup' colspan='3'>{esc(v.title)}</th>" for v in views)
            + "</tr><tr>"
            + "".join(f"<th scope='col' class='num'>{c}</th>" for c in TRAVEL_COLUMNS)
            * len(views) + "</tr>")
    tables = [v.lad_table() for v in views]
    body = []
    for r, row in enumerate(tables[0]):
        cells = (f"<th scope='row'>{esc(row['lad_name'])}</th>"
                 f"<td class='num'>{row['people_65_plus']:,.0f}</td>")
        for t in tables:
            x = t[r]
            cells += (f"<td class='num'>{_min1(x['mean_travel_min'])}</td>"
                      f"<td class='num'>{_fmt_pct(x[WITHIN_KEY])}</td>"
                      f"<td class='num'>{_min1(x['max_travel_min'])}</td>")
        body.append(f"<tr>{cells}</tr>")
    return (f"<table class='travel'><caption>{esc(MEASURE_WORDS)}. Mean: services weighted by "
            "their share of bed need, as in the appraisal report; longest: the longest drive to "
            f"a ward anyone is planned to make.</caption><thead>{head}</thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def zones_table_html(view: OptionView, change_min: np.ndarray | None = None) -> str:
    """Every zone's drive time (and change), folded away under a summary."""
    z = view.zones
    extra_head = "<th scope='col' class='num'>Change</th>" if change_min is not None else ""
    rows = []
    for i in np.lexsort((np.asarray(z.zone_ids), np.asarray(z.lad_names))):
        near = z.nearest_site[i]
        catch = z.catchment_site[i]
        cells = (f"<th scope='row'>{esc(z.zone_names[i])}</th><td>{esc(z.lad_names[i])}</td>"
                 f"<td class='num'>{z.weight[i]:,.0f}</td>"
                 f"<td class='num'>{_min(z.travel_min[i], UNASSIGNED_WORDS)}</td>"
                 f"<td>{esc(view.sites[catch].name) if catch >= 0 else 'none'}</td>"
                 f"<td class='num'>{_min(z.nearest_travel_min[i])}</td>"
                 f"<td>{esc(view.sites[near].name) if near >= 0 else 'none'}</td>")
        if change_min is not None:
            d = float(change_min[i])
            cells += f"<td class='num'>{d:+.0f} min</td>" if np.isfinite(d) else "<td>-</td>"
        rows.append(f"<tr>{cells}</tr>")
    return (f"<details><summary>Drive time for each of the {len(z)} neighbourhoods (LSOAs)"
            f"</summary><table><thead><tr><th scope='col'>Neighbourhood</th>"
            f"<th scope='col'>Local authority</th><th scope='col' class='num'>People 65+</th>"
            f"<th scope='col' class='num'>Mean drive to the wards they use (as planned)</th>"
            f"<th scope='col'>Catchment (site of most {esc(service_words(view.services[0]))} "
            "need)</th>"
            f"<th scope='col' class='num'>For comparison: drive to the nearest site with "
            f"inpatient beds</th><th scope='col'>Nearest site with beds</th>"
            f"{extra_head}</tr></thead><tbody>{''.join(rows)}</tbody></table></details>")


MEASURE_LABELS: Mapping[str, str] = {
    "sites_with_beds": "Hospitals with inpatient beds",
    "beds_total": "Inpatient beds",
    "paired_sites": "Hospitals with two or more wards",
    "isolated_wards": "Wards on their own at a hospital",
    "capex_gbp": "Capital cost",
    "disposals_gbp": "Receipts from selling sites",
    "net_capital_gbp": "Net capital cost",
    "revenue_gbp_per_year": "Running cost a year",
    "capital_charge_gbp_per_year": "Capital charge a year",
    "cost_gbp_per_year": "Running cost and capital charge a year",
    "staff_wte": "Staff (whole-time equivalents)",
    "staff_wte_rn": "Registered nurses (whole-time equivalents)",
}
"""Plain words for the scalar measures of :func:`siteopt.appraisal.measures.option_measures`; other
scalar keys are shown with underscores as spaces."""

MEASURES_NOT_SHOWN: frozenset[str] = frozenset({"status"})
"""Scalar measures the maps leave out: the solver's status word is jargon (and a fixed option
that fails its bed need is still "optimal" to the solver); problems are said in words instead
(:func:`notes_html`)."""


def _measure_value(key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return esc(value)
    x = float(value)
    if not np.isfinite(x):
        return "-"
    if key.endswith("_gbp_per_year"):
        return f"£{x / 1e6:,.2f}m"
    if key.endswith("_gbp"):
        return f"£{x / 1e6:,.2f}m"
    if key.endswith("_min"):
        return f"{x:.1f} min"
    if key.startswith("share_") or key.endswith("_share"):
        return f"{100 * x:.1f}%"
    return f"{x:,.0f}" if x == round(x) else f"{x:,.1f}"


def measures_table_html(views: Sequence[OptionView],
                        measures: Mapping[str, Mapping[str, Any]] | None) -> str:
    """The appraisal's scalar measures of each option (nested tables are left to the report);
    empty if there are none. Keys ending ``_gbp`` are shown in £m, ``_min`` in minutes."""
    if not measures:
        return ""
    per = [measures.get(v.name, {}) for v in views]
    keys = [k for k in dict.fromkeys(k for m in per for k in m)
            if k not in MEASURES_NOT_SHOWN
            and any(isinstance(m.get(k), int | float | str | np.integer | np.floating)
                    for m in per)]
    if not keys:
        return ""
    head = ("<tr><th scope='col'>Measure</th>"
            + "".join(f"<th scope='col' class='num'>{esc(v.title)}</th>" for v in views)
            + "</tr>")
    rows = "".join(
        f"<tr><th scope='row'>{esc(MEASURE_LABELS.get(k, k.replace('_', ' ')))}</th>"
        + "".join(f"<td class='num'>{_measure_value(k, m[k]) if k in m else '-'}</td>"
                  for m in per) + "</tr>" for k in keys)
    return (f"<table><caption>Appraisal measures</caption><thead>{head}</thead>"
            f"<tbody>{rows}</tbody></table>")


def notes_html(view: OptionView, named: bool = False) -> str:
    """What is wrong with the option (e.g. bed need not met) and how sure the search is, in
    words; empty if there is nothing to say. No solver status words. ``named``: say which
    option (pages with two)."""
    out = ""
    who = esc(view.title) if named else "This option"
    if view.problems:
        items = "".join(f"<li>{esc(n)}</li>" for n in view.problems)
        out += (f"<p class=\"problems\"><strong>{who} does not meet every requirement:"
                f"</strong></p><ul class=\"problems\">{items}</ul>")
    if view.search_note:
        out += f"<p>{who + ': ' if named else ''}{esc(view.search_note)}</p>"
    return out


def footer_html() -> str:
    return (
        "<footer><p>How to read the maps: each shaded area is a neighbourhood (a Lower Layer "
        "Super Output Area of about 1,500 people; where a region's geodata has no boundary for "
        "it, a dot at its population centre). Drive times are modelled car "
        "journeys on the road network, from the neighbourhood to a community hospital. The "
        f"colours and tables show one measure: {esc(in_sentence(MEASURE_WORDS))}. "
        f"{esc(MEASURE_HOW)} The ward a neighbourhood is planned to use is not always the "
        "nearest when beds there are full; popups also give the drive to the nearest site "
        "with inpatient beds, for comparison. The catchment is the hospital the plan sends most "
        "of the neighbourhood's rehabilitation patients to; it can be further than the nearest "
        "when the nearer wards are full (the catchment layer is off when a map opens). The "
        "background is plain and works offline; an OpenStreetMap background can be chosen in "
        "the layer list (it needs internet). Hospital names are always shown. The map works "
        "with a keyboard: Tab moves to the controls and the hospital symbols (Enter opens the "
        "details), the arrow keys pan and + / - zoom when the map has focus.</p>"
        f"<p>{esc(SOURCE_LINE)}</p></footer>"
    )

"""Interactive maps for consultation: one per option, a change map and side-by-side comparisons.

This is the only module that imports folium. Every page is **self-contained**: Leaflet 1.9.4
(BSD-2, vendored in ``siteopt/assets/leaflet``) is inlined, folium's CDN scripts (jQuery,
Bootstrap, Font Awesome) are not used, so a page works offline and calls no third-party server.
The OpenStreetMap background is the only thing fetched from the web; without it the data layers
still draw on a plain background.

Safety: every string that comes from data reaches the page either HTML-escaped
(:func:`esc`: ``<``, ``>``, ``&``, quotes, and the backtick, ``$`` and backslash that could end
a JavaScript template literal) or as a JSON string with ``<``, ``>`` and ``&`` written as
``\\u003c``-style escapes (:func:`js_value`), so a site named ``<script>alert(1)</script>`` is
text. Element ids are renumbered in order of appearance, so the same inputs give byte-identical
pages.

Accessibility: a skip link, a title, the legend in words, keyboard-usable controls (Leaflet's
zoom and layer controls; site markers are focusable buttons whose accessible name says the beds
before and after; the map pans and zooms with the arrow and +/- keys) and, next to each map, a
text alternative: tables of sites and drive times.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import numpy as np
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from siteopt.geodata_build import write_atomically
from siteopt.map_data import (
    CHANGE_PALETTE,
    CHANGE_WORDS,
    TRAVEL_PALETTE,
    UNREACHABLE_COLOUR,
    OptionView,
    SiteView,
    baseline_view,
    boundaries,
    catchment_areas,
    catchment_divides,
    change_colour,
    change_labels,
    ensure_dir,
    geojson_geometry,
    marker_radius_px,
    mix_style,
    mix_words,
    option_views,
    option_words,
    path_stem,
    service_mix,
    service_mixes,
    service_words,
    travel_colour,
    travel_labels,
)
from siteopt.paths import PACKAGE_DIR
from siteopt.pipeline import Prepared, evaluate_configuration
from siteopt.results import Solution

ASSET_DIR = PACKAGE_DIR / "assets" / "leaflet"

MAP_HEIGHT_PX = 640
"""Height of a map on the page; the tables follow below it."""

ZONE_RADIUS_PX = 4.0
"""Radius of a zone (LSOA centroid) circle."""

OSM_ATTRIBUTION = ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                   'contributors (ODbL)')
DATA_ATTRIBUTION = "ONS, OS data &copy; Crown copyright (OGL v3.0); NHS data (OGL)"
"""Short attribution on the map; the page's footer has the full lines of ``geodata/README.md``
("Licences and attribution")."""

SOURCE_LINE = (
    "Sources: siteopt model (drive times on the road network, bed need, the options). Source: "
    "Office for National Statistics licensed under the Open Government Licence v.3.0. Contains "
    "OS data © Crown copyright and database right (population, boundaries, neighbourhood "
    "centroids). NHS hospital list: NHS website data, Open Government Licence. IMD 2019 (MHCLG), "
    "Open Government Licence v3.0. Road network: © OpenStreetMap contributors, Open Database "
    "Licence (ODbL). Background map (online only): © OpenStreetMap contributors.")
"""The source line of every map, from ``geodata/README.md`` ("Licences and attribution")."""

PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #111; background: #fff; margin: 0; padding: 0 1rem 2rem 1rem; line-height: 1.4; }
h1 { font-size: 1.5rem; margin: 0.8rem 0 0.2rem 0; }
h2 { font-size: 1.2rem; margin-top: 1.5rem; }
p.lead { margin: 0 0 0.6rem 0; max-width: 70rem; }
.skip { position: absolute; left: -10000px; }
.skip:focus { position: static; display: inline-block; padding: 0.3rem; background: #ffd;
  color: #000; outline: 3px solid #000; }
.leaflet-container { background: #f2f2ef; font-size: 14px; }
.leaflet-container :focus-visible, .skip:focus-visible, summary:focus-visible {
  outline: 3px solid #000; outline-offset: 2px; }
.leaflet-tooltip, .leaflet-popup-content { color: #111; font-size: 14px; }
.siteopt-legend, .siteopt-title { background: #fff; color: #111; padding: 6px 8px;
  border: 1px solid #555; border-radius: 4px; max-width: 19rem; font-size: 13px; }
.siteopt-title { font-weight: 600; font-size: 15px; }
.siteopt-legend h3 { font-size: 13px; margin: 0.3rem 0 0.2rem 0; }
.siteopt-legend .row { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
.siteopt-legend .sw { width: 18px; height: 12px; border: 1px solid #333; flex: none; }
.siteopt-site { background: none; border: none; }
table { border-collapse: collapse; margin: 0.4rem 0 1rem 0; }
caption { text-align: left; font-weight: 600; padding: 0.2rem 0; }
th, td { border: 1px solid #777; padding: 3px 8px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; }
thead th { background: #e8e8e8; }
.compare-maps { display: flex; gap: 8px; }
.map-row { display: flex; gap: 10px; align-items: flex-start; }
.map-cell { flex: 1 1 auto; min-width: 0; }
aside.siteopt-legend.side { flex: 0 0 17rem; max-width: 17rem; }
aside.siteopt-legend.wide { max-width: none; display: flex; flex-wrap: wrap; gap: 0 2rem;
  margin-top: 6px; }
aside.siteopt-legend.wide > div { flex: 0 1 auto; }
.leaflet-control-layers { font-size: 13px; }
.compare-maps > div { flex: 1 1 50%; }
footer { margin-top: 1.5rem; font-size: 0.9rem; color: #333; max-width: 70rem; }
"""


# --------------------------------------------------------------------------------------------
# Escaping
# --------------------------------------------------------------------------------------------
def esc(text: object) -> str:
    """HTML-escape text for an element or attribute, also safe inside a JS template literal."""
    out = html.escape(str(text), quote=True)
    return out.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def js_value(obj: Any) -> str:
    """JSON for a ``<script>`` block: ``<``, ``>``, ``&``, backtick, ``$`` and line separators
    written as ``\\u`` escapes (the same string for JavaScript, no markup or template syntax)."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("`", "\\u0060").replace("$", "\\u0024")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _min(x: float) -> str:
    return f"{x:.0f} min" if np.isfinite(x) else "no site reachable"


# --------------------------------------------------------------------------------------------
# folium elements
# --------------------------------------------------------------------------------------------
def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def leaflet_assets() -> tuple[str, str]:
    """(CSS, JS) of the vendored Leaflet, with the CSS's images inlined as data URIs."""
    css = (ASSET_DIR / "leaflet.css").read_text(encoding="utf-8")
    for img in ("layers.png", "layers-2x.png"):
        uri = _data_uri(ASSET_DIR / "images" / img, "image/png")
        css = css.replace(f"url(images/{img})", f"url({uri})")
    css = css.replace("url(images/marker-icon.png)", "none")
    js = (ASSET_DIR / "leaflet.js").read_text(encoding="utf-8")
    if "</script" in js.lower() or "</style" in css.lower():
        raise RuntimeError("vendored Leaflet cannot be inlined safely")
    return css, js


def _inline_assets(figure: Figure) -> None:
    css, js = leaflet_assets()
    figure.header.add_child(Element(f"<style>{css}</style>\n<style>{PAGE_CSS}</style>\n"
                                    f"<script>{js}</script>"), name="siteopt_assets")


class DataLayer(folium.map.Layer):
    """A GeoJSON layer whose features carry their own style, icon, tooltip and popup.

    Properties of each feature: ``style`` (Leaflet path options, merged over ``base_style``),
    ``icon`` (``L.divIcon`` options: the feature is drawn as a keyboard-focusable marker),
    ``title`` (the marker's accessible name, plain text), ``tooltip`` and ``popup`` (HTML that
    is already escaped). Points without ``icon`` are circle markers.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJSON({{ this.data_js }}, {
  attribution: {{ this.attribution_js }},
  pointToLayer: function (f, ll) {
    var p = f.properties;
    if (p.icon) {
      return L.marker(ll, {icon: L.divIcon(p.icon), title: p.title, alt: p.title,
                           keyboard: true, riseOnHover: true});
    }
    return L.circleMarker(ll, Object.assign({}, {{ this.base_js }}, p.style || {}));
  },
  style: function (f) { return Object.assign({}, {{ this.base_js }}, f.properties.style || {}); },
  onEachFeature: function (f, layer) {
    if (f.properties.tooltip) {
      layer.bindTooltip(f.properties.tooltip, {sticky: {{ this.sticky_js }}});
    }
    if (f.properties.popup) { layer.bindPopup(f.properties.popup, {maxWidth: 340}); }
  }
});
{% endmacro %}
""")

    def __init__(self, name: str, features: list[dict[str, Any]], *,
                 base_style: Mapping[str, Any] | None = None, overlay: bool = True,
                 show: bool = True, sticky: bool = False, attribution: str = "") -> None:
        super().__init__(name=esc(name), overlay=overlay, control=True, show=show)
        self._name = "DataLayer"
        self.features = features
        self.data_js = js_value({"type": "FeatureCollection", "features": features})
        self.base_js = js_value(dict(base_style or {}))
        self.sticky_js = "true" if sticky else "false"
        self.attribution_js = js_value(attribution)

    def get_bounds(self) -> list[list[float | None]]:
        """[[south, west], [north, east]] of the layer's coordinates."""
        lats: list[float] = []
        lons: list[float] = []

        def walk(c: Any) -> None:
            if c and isinstance(c[0], int | float):
                lons.append(float(c[0]))
                lats.append(float(c[1]))
            else:
                for x in c:
                    walk(x)
        for f in self.features:
            walk(f["geometry"]["coordinates"])
        if not lats:
            return [[None, None], [None, None]]
        return [[min(lats), min(lons)], [max(lats), max(lons)]]


class HtmlControl(MacroElement):
    """A Leaflet control holding fixed, already-escaped HTML (legend, title)."""

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.control({position: {{ this.position_js }}});
{{ this.get_name() }}.onAdd = function () {
  var div = L.DomUtil.create('div', {{ this.css_js }});
  div.innerHTML = {{ this.html_js }};
  L.DomEvent.disableClickPropagation(div);
  L.DomEvent.disableScrollPropagation(div);
  return div;
};
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, html_text: str, position: str, css_class: str, kind: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = f"{kind}Control"
        self.kind = kind
        self.html_text = html_text
        self.html_js = js_value(html_text)
        self.position_js = js_value(position)
        self.css_js = js_value(css_class)


class Attribution(MacroElement):
    """Adds the data attribution (ONS, OS, NHS) to the map's attribution control."""

    _template = Template("""
{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text_js }});
{% endmacro %}
""")

    def __init__(self, text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Attribution"
        self.text_js = js_value(text)


class SyncViews(MacroElement):
    """Keeps two maps on the same view (what folium's DualMap does with Leaflet.Sync)."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var a = {{ this.left.get_name() }}, b = {{ this.right.get_name() }}, busy = false;
  function follow(src, dst) {
    src.on('move', function () {
      if (busy) { return; }
      busy = true;
      dst.setView(src.getCenter(), src.getZoom(), {animate: false});
      busy = false;
    });
  }
  follow(a, b);
  follow(b, a);
})();
{% endmacro %}
""")

    def __init__(self, left: folium.Map, right: folium.Map) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "SyncViews"
        self.left = left
        self.right = right


class Legend(MacroElement):
    """The legend, beside the map (``side``, closing the map row) or below the maps (``wide``).

    Outside the map so it never hides data or the layer control; the same HTML as the print
    maps' legend content.
    """

    _template = Template("""{% macro html(this, kwargs) %}{{ this.text }}{% endmacro %}""")

    def __init__(self, html_text: str, layout: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Legend"
        self.html_text = html_text
        aside = (f'<aside class="siteopt-legend {layout}" aria-label="Legend">{html_text}'
                 "</aside>")
        self.text = f"</div>{aside}</div>" if layout == "side" else aside


class PageHtml(MacroElement):
    """A block of the page (header, tables, footer) placed in the body in order."""

    _template = Template("""{% macro html(this, kwargs) %}{{ this.text }}{% endmacro %}""")

    def __init__(self, text: str, kind: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = f"Page{kind}"
        self.text = text


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
    base = "today" if view.baseline_name == "status_quo" else f"in {view.baseline_name}"
    return (f"{site.name}: {site.beds_words('before')} {base}; "
            f"{site.beds_words('after')} in this option ({CHANGE_WORDS[site.change]})")


def _site_popup(view: OptionView, site: SiteView) -> str:
    rows = "".join(
        f"<tr><th scope='row'>{esc(service_words(v))}</th>"
        f"<td class='num'>{site.beds_before.get(v, 0)}</td>"
        f"<td class='num'>{site.beds_after.get(v, 0)}</td></tr>" for v in view.services)
    base = "Today" if view.baseline_name == "status_quo" else esc(view.baseline_name)
    return (f"<strong>{esc(site.name)}</strong><br>{esc(site.town)}, {esc(site.lad_name)}"
            f"<p>{esc(CHANGE_WORDS[site.change]).capitalize()}.</p>"
            f"<table><thead><tr><th>Inpatient beds</th><th class='num'>{base}</th>"
            f"<th class='num'>This option</th></tr></thead><tbody>{rows}</tbody></table>")


def site_features(view: OptionView, with_beds: bool) -> list[dict[str, Any]]:
    """Marker features of the sites that have (or have not) inpatient beds in this option."""
    out = []
    for site in view.sites:
        if (site.total_after > 0) != with_beds:
            continue
        svg, size = site_symbol_svg(view.services, site)
        out.append({
            "type": "Feature",
            "geometry": {"type": "Point",
                         "coordinates": [round(site.lon, 6), round(site.lat, 6)]},
            "properties": {
                "icon": {"html": svg, "className": "siteopt-site", "iconSize": [size, size],
                         "iconAnchor": [size // 2, size // 2]},
                "title": _site_words(view, site),
                "tooltip": f"{esc(site.name)}: {esc(CHANGE_WORDS[site.change])}",
                "popup": _site_popup(view, site),
            },
        })
    return out


def _zone_popup(view: OptionView, i: int, extra: str = "") -> str:
    z = view.zones
    near = z.nearest_site[i]
    near_name = view.sites[near].name if near >= 0 else "none"
    catch = z.catchment_site[i]
    lines = [f"<strong>{esc(z.zone_names[i])}</strong> ({esc(z.zone_ids[i])}), "
             f"{esc(z.lad_names[i])}",
             f"People aged 65+: {z.weight[i]:,.0f}",
             f"Drive to the nearest site with inpatient beds: "
             f"<strong>{_min(z.nearest_travel_min[i])}</strong> ({esc(near_name)})"]
    if len(view.services) > 1:
        lines += [f"Nearest {esc(service_words(v))} beds: {_min(t[i])}"
                  for v, t in z.nearest_by_service.items()]
    if catch >= 0:
        lines.append(f"Catchment: {esc(view.sites[catch].name)} "
                     f"({_min(z.catchment_travel_min[i])})")
    if extra:
        lines.append(extra)
    return "<br>".join(lines)


def zone_features(view: OptionView, change_min: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Circle features of the zones, coloured by drive time (or by change if given)."""
    z = view.zones
    out = []
    for i in range(len(z)):
        t = float(z.nearest_travel_min[i])
        if change_min is None:
            colour = travel_colour(t)
            tip = f"{esc(z.zone_names[i])}: {_min(t)} to the nearest site with beds"
            extra = ""
        else:
            d = float(change_min[i])
            colour = change_colour(d)
            if not np.isfinite(d):
                words = "not comparable (no site reachable)"
            elif abs(d) >= 0.5:
                words = f"{abs(d):.0f} min {'longer' if d > 0 else 'shorter'}"
            else:
                words = "no change"
            tip = f"{esc(z.zone_names[i])}: {words} ({_min(t)} in this option)"
            extra = f"Change against {esc(view.baseline_name)}: <strong>{words}</strong>"
        out.append({
            "type": "Feature",
            "geometry": {"type": "Point",
                         "coordinates": [round(float(z.lon[i]), 6), round(float(z.lat[i]), 6)]},
            "properties": {"style": {"fillColor": colour}, "tooltip": tip,
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
    """Catchment outlines: zones merged by the site the model assigns them to."""
    out = []
    z = view.zones
    for s, geom in catchment_areas(prepared, view):
        members = z.catchment_site == s
        people = float(z.weight[members].sum())
        tip = (f"Catchment of {esc(view.sites[s].name)}: {int(members.sum())} areas, "
               f"{people:,.0f} people aged 65+")
        out.append({"type": "Feature", "geometry": geojson_geometry(geom),
                    "properties": {"tooltip": tip}})
    out.append({"type": "Feature", "geometry": geojson_geometry(catchment_divides(prepared, view)),
                "properties": {"style": {"stroke": True, "fill": False, "interactive": False}}})
    return out


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


def legend_html(view: OptionView, change: bool = False, catchments: bool = True) -> str:
    """The legend: zone colours (minutes), site symbols, catchment outline."""
    if change:
        head = (f"<h3>Change in drive time to the nearest site with beds, against "
                f"{esc(option_words(view.baseline_name).lower())}</h3>")
        body = _swatch_rows(CHANGE_PALETTE, change_labels())
    else:
        head = "<h3>Drive time to the nearest site with inpatient beds</h3>"
        body = _swatch_rows(TRAVEL_PALETTE, travel_labels())
    if not np.all(np.isfinite(view.zones.nearest_travel_min)):
        body += _swatch_rows([UNREACHABLE_COLOUR], ["no site reachable"])
    lines = ('<div class="row"><svg width="26" height="10" aria-hidden="true" focusable="false">'
             '<line x1="0" y1="5" x2="26" y2="5" stroke="#000" stroke-width="2.5" '
             'stroke-dasharray="6 4"/></svg><span>catchment of a site</span></div>'
             if catchments else "")
    lines += ('<div class="row"><svg width="26" height="10" aria-hidden="true" focusable="false">'
             '<line x1="0" y1="5" x2="26" y2="5" stroke="#555" stroke-width="1.5"/></svg>'
             "<span>local authority</span></div>")
    return (f"<div>{head}<div>Each dot is a neighbourhood (LSOA).</div>{body}</div>"
            f"<div><h3>Hospitals</h3>{_symbol_rows(view)}</div><div><h3>Lines</h3>{lines}</div>")


def _fmt_pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def sites_table_html(views: Sequence[OptionView]) -> str:
    """Sites with beds per service before and in each option, in words and numbers."""
    first = views[0]
    base = "Today" if first.baseline_name == "status_quo" else esc(first.baseline_name)
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


def travel_table_html(views: Sequence[OptionView]) -> str:
    """Drive times of people aged 65+ by local authority, for each option."""
    head = ("<tr><th scope='col' rowspan='2'>Local authority</th>"
            "<th scope='col' rowspan='2' class='num'>People aged 65+</th>"
            + "".join(f"<th scope='colgroup' colspan='3'>{esc(v.title)}</th>" for v in views)
            + "</tr><tr>"
            + "<th scope='col' class='num'>Mean drive to nearest site with beds</th>"
              "<th scope='col' class='num'>Within 30 min</th>"
              "<th scope='col' class='num'>Longest drive</th>" * len(views) + "</tr>")
    tables = [v.lad_table() for v in views]
    body = []
    for r, row in enumerate(tables[0]):
        cells = (f"<th scope='row'>{esc(row['lad_name'])}</th>"
                 f"<td class='num'>{row['people_65_plus']:,.0f}</td>")
        for t in tables:
            x = t[r]
            cells += (f"<td class='num'>{_min(x['mean_nearest_travel_min'])}</td>"
                      f"<td class='num'>{_fmt_pct(x['share_nearest_within_30_min'])}</td>"
                      f"<td class='num'>{_min(x['max_nearest_travel_min'])}</td>")
        body.append(f"<tr>{cells}</tr>")
    return ("<table><caption>Drive time for people aged 65+ to the nearest hospital with "
            f"inpatient beds</caption><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>")


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
                 f"<td class='num'>{_min(z.nearest_travel_min[i])}</td>"
                 f"<td>{esc(view.sites[near].name) if near >= 0 else 'none'}</td>"
                 f"<td>{esc(view.sites[catch].name) if catch >= 0 else 'none'}</td>")
        if change_min is not None:
            d = float(change_min[i])
            cells += f"<td class='num'>{d:+.0f} min</td>" if np.isfinite(d) else "<td>-</td>"
        rows.append(f"<tr>{cells}</tr>")
    return (f"<details><summary>Drive time for each of the {len(z)} neighbourhoods (LSOAs)"
            f"</summary><table><thead><tr><th scope='col'>Neighbourhood</th>"
            f"<th scope='col'>Local authority</th><th scope='col' class='num'>People 65+</th>"
            f"<th scope='col' class='num'>Drive to nearest site with beds</th>"
            f"<th scope='col'>Nearest site</th><th scope='col'>Catchment (model)</th>"
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
"""Plain words for the scalar measures of :func:`siteopt.appraisal.option_measures`; other
scalar keys are shown with underscores as spaces."""


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
            if any(isinstance(m.get(k), int | float | str | np.integer | np.floating)
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


def _notes_html(view: OptionView) -> str:
    notes = "".join(f"<li>{esc(n)}</li>" for n in view.notes)
    status = f"Model status: {esc(view.status_text)}."
    return f"<p>{status}</p>" + (f"<p>Notes:</p><ul>{notes}</ul>" if notes else "")


def _footer_html() -> str:
    return (
        "<footer><p>How to read the maps: each dot is a neighbourhood (a Lower Layer Super Output "
        "Area of about 1,500 people) at its population centre. Drive times are modelled car "
        "journeys on the road network, from the neighbourhood to a community hospital; the "
        "catchment is the hospital the model sends the neighbourhood's rehabilitation patients "
        "to, which is not always the nearest when beds are full. The map works with a keyboard: "
        "Tab moves to the controls and the hospital symbols (Enter opens the details), the arrow "
        "keys pan and + / - zoom when the map has focus.</p>"
        f"<p>{esc(SOURCE_LINE)}</p></footer>"
    )


def _new_figure(title: str) -> Figure:
    fig = Figure(title=esc(title))
    _inline_assets(fig)
    return fig


def _base_map(view: OptionView, title: str) -> folium.Map:
    (s, w), (n, e) = view.bounds
    m = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=9, tiles=None,
                   height=f"{MAP_HEIGHT_PX}px", control_scale=True, prefer_canvas=False)
    m.default_js = []
    m.default_css = []
    folium.TileLayer("OpenStreetMap", name=esc("OpenStreetMap background (needs internet)"),
                     attr=OSM_ATTRIBUTION, overlay=False, control=True).add_to(m)
    DataLayer("Plain background (works offline)", [], overlay=False, show=False).add_to(m)
    Attribution(DATA_ATTRIBUTION).add_to(m)
    HtmlControl(esc(title), "topleft", "siteopt-title", "Title").add_to(m)
    m.fit_bounds([[s, w], [n, e]], padding=(16, 16))
    return m


def _add_layers(m: folium.Map, prepared: Prepared, view: OptionView,
                change_min: np.ndarray | None = None, catchments: bool = True) -> None:
    DataLayer("Local authorities", lad_features(prepared),
              base_style={"color": "#555", "weight": 1.5, "fill": False},
              sticky=True).add_to(m)
    if catchments:
        DataLayer("Catchments (site each area is assigned to)", catchment_features(prepared, view),
                  base_style={"color": "#000", "weight": 2.5, "dashArray": "6 4", "stroke": False,
                              "fill": True, "fillOpacity": 0.0},
                  sticky=True).add_to(m)
    name = ("Neighbourhoods: change in drive time" if change_min is not None
            else "Neighbourhoods: drive time to nearest site with beds")
    DataLayer(name, zone_features(view, change_min),
              base_style={"radius": ZONE_RADIUS_PX, "color": "#333", "weight": 0.8,
                          "fillOpacity": 0.9, "opacity": 1.0}).add_to(m)
    DataLayer("Sites without inpatient beds", site_features(view, with_beds=False)).add_to(m)
    DataLayer("Sites with inpatient beds", site_features(view, with_beds=True)).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)


def _header(title: str, lead: str) -> str:
    return (f'<a class="skip" href="#tables">Skip the map: go to the tables of hospitals and '
            f"drive times</a><header><h1>{esc(title)}</h1><p class=\"lead\">{lead}</p></header>")


def option_map(prepared: Prepared, solutions: Mapping[str, Solution], name: str,
               baseline: str = "status_quo",
               measures: Mapping[str, Mapping[str, Any]] | None = None) -> folium.Map:
    """The interactive map of one option.

    Parameters
    ----------
    prepared : Prepared
    solutions : mapping of str to Solution
        Must hold ``name``; the baseline is evaluated if it is not among them.
    name : str
        The option to draw.
    baseline : str
        What beds are compared against (the marks for sites that gain or lose beds).
    measures : mapping, optional
        Option name -> appraisal measures (e.g. :func:`siteopt.appraisal.option_measures`);
        the scalar ones are listed in a table (see :func:`measures_table_html`).

    Returns
    -------
    folium.Map
        Its root figure is the whole page (title, map, tables, sources); save it with
        :func:`render_page` / :func:`write_page` for self-contained, stable HTML.
    """
    view = option_views(prepared, {name: solutions[name]}
                        | ({baseline: solutions[baseline]} if baseline in solutions else {}),
                        baseline)[name]
    title = f"{view.title}: community hospital inpatient beds and drive times"
    fig = _new_figure(title)
    lead = ("Where inpatient beds would be under this option, and how long people would drive "
            f"to the nearest hospital with beds. {_marks_text(view)}")
    fig.add_child(PageHtml(_header(title, lead), "Header"))
    m = _base_map(view, view.title)
    fig.add_child(PageHtml('<div class="map-row"><div class="map-cell">', "Open"))
    fig.add_child(m)
    _add_layers(m, prepared, view)
    fig.add_child(Legend(legend_html(view), "side"))
    fig.add_child(PageHtml(
        '<section id="tables" tabindex="-1"><h2>The map in words</h2>' + _notes_html(view)
        + sites_table_html([view]) + travel_table_html([view])
        + measures_table_html([view], measures) + zones_table_html(view)
        + "</section>" + _footer_html(), "Tables"))
    return m


def _marks_text(view: OptionView) -> str:
    by_kind: dict[str, list[str]] = {}
    for s in view.sites:
        by_kind.setdefault(s.change, []).append(s.name)
    parts = [f"{CHANGE_WORDS[k].capitalize()}: {', '.join(esc(n) for n in names)}."
             for k, names in by_kind.items() if k in ("opens", "closes", "gains", "loses")]
    return " ".join(parts) if parts else "The same sites keep the same beds as today."


def change_map(prepared: Prepared, solutions: Mapping[str, Solution], name: str,
               baseline: str = "status_quo",
               measures: Mapping[str, Mapping[str, Any]] | None = None) -> folium.Map:
    """A map of the change in drive time of each zone, ``name`` against ``baseline``."""
    views = option_views(prepared, solutions, baseline)
    view = views[name]
    base = views.get(baseline) or baseline_view(prepared, solutions, baseline)
    delta = view.change_min(base)
    title = f"{view.title}: change in drive time against {base.title.lower()}"
    fig = _new_figure(title)
    longer = int(np.sum(delta >= 1.0))
    shorter = int(np.sum(delta <= -1.0))
    lead = (f"Orange: neighbourhoods with a longer drive to the nearest hospital with inpatient "
            f"beds than today ({longer} of {len(delta)}); purple: shorter ({shorter}). "
            + _marks_text(view))
    fig.add_child(PageHtml(_header(title, lead), "Header"))
    m = _base_map(view, f"Change: {view.title}")
    fig.add_child(PageHtml('<div class="map-row"><div class="map-cell">', "Open"))
    fig.add_child(m)
    _add_layers(m, prepared, view, change_min=delta, catchments=False)
    fig.add_child(Legend(legend_html(view, change=True, catchments=False), "side"))
    fig.add_child(PageHtml(
        '<section id="tables" tabindex="-1"><h2>The map in words</h2>' + _notes_html(view)
        + sites_table_html([view]) + travel_table_html([base, view])
        + measures_table_html([base, view], measures)
        + zones_table_html(view, delta) + "</section>" + _footer_html(), "Tables"))
    return m


def comparison_map(prepared: Prepared, solutions: Mapping[str, Solution], left: str,
                   right: str, baseline: str = "status_quo",
                   measures: Mapping[str, Mapping[str, Any]] | None = None) -> Figure:
    """Two options side by side on maps that pan and zoom together.

    Returns the page's :class:`branca.element.Figure`; its two maps are ``figure.maps``.
    """
    views = option_views(prepared, solutions, baseline)
    lv, rv = views[left], views[right]
    title = f"{lv.title} and {rv.title} side by side"
    fig = _new_figure(title)
    lead = ("The two maps move together. Left: " + esc(lv.title) + ". Right: " + esc(rv.title)
            + ". Marks on the hospitals compare each with today.")
    fig.add_child(PageHtml(_header(title, lead), "Header"))
    maps = []
    for v in (lv, rv):
        m = _base_map(v, v.title)
        maps.append(m)
        _add_layers(m, prepared, v)
    fig.add_child(PageHtml('<div class="compare-maps"><div id="compare-left">', "Open"))
    fig.add_child(maps[0])
    fig.add_child(PageHtml('</div><div id="compare-right">', "Mid"))
    fig.add_child(maps[1])
    fig.add_child(PageHtml("</div></div>", "Close"))
    fig.add_child(Legend(legend_html(rv), "wide"))
    fig.add_child(SyncViews(maps[0], maps[1]))
    fig.add_child(PageHtml(
        '<section id="tables" tabindex="-1"><h2>The maps in words</h2>'
        + sites_table_html([lv, rv]) + travel_table_html([lv, rv])
        + measures_table_html([lv, rv], measures) + "</section>"
        + _footer_html(), "Tables"))
    return fig


# --------------------------------------------------------------------------------------------
# Rendering and writing
# --------------------------------------------------------------------------------------------
_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9A-Za-z])")


def render_page(obj: folium.Map | Figure) -> str:
    """The page's HTML: self-contained, with element ids numbered in order of appearance."""
    root = obj.get_root() if isinstance(obj, folium.Map) else obj
    text: str = root.render()
    ids: dict[str, str] = {}

    def stable(m: re.Match[str]) -> str:
        return ids.setdefault(m.group(0), f"{len(ids) + 1:04d}")
    text = _ID.sub(stable, text)
    text = text.replace("<html>", '<html lang="en">', 1)
    text = text.replace("initial-scale=1.0, maximum-scale=1.0, user-scalable=no",
                        "initial-scale=1.0")
    text = re.sub(r"[ \t]+\n", "\n", text)
    if re.search(r"<(script|link)[^>]+(src|href)=\"https?://", text):
        raise RuntimeError("a map page would load a script or style sheet from the web")
    return text


def write_page(obj: folium.Map | Figure, path: Path) -> Path:
    """Write a page atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    ensure_dir(path.parent)
    text = render_page(obj)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def map_plan(names: Sequence[str], baseline: str = "status_quo",
             compare: str | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """Which pages :func:`write_maps` writes: (kind, option names) in order.

    One ``option`` page per name; a ``change`` page per non-baseline option; a ``compare`` page of
    the baseline against each non-baseline option and, if there are two or more non-baseline
    options, of the first two (or of ``compare`` against each, if given).
    """
    others = [n for n in names if n != baseline]
    plan: list[tuple[str, tuple[str, ...]]] = [("option", (n,)) for n in names]
    plan += [("change", (n,)) for n in others]
    if compare is not None:
        plan += [("compare", (n, compare)) for n in names if n != compare]
    else:
        plan += [("compare", (baseline, n)) for n in others]
        if len(others) >= 2:
            plan.append(("compare", (others[0], others[1])))
    return plan


def page_name(kind: str, names: Sequence[str]) -> str:
    """The file name of a page."""
    stems = [path_stem(n) for n in names]
    if kind == "option":
        return f"map_{stems[0]}.html"
    if kind == "change":
        return f"change_{stems[0]}.html"
    return f"compare_{stems[0]}_vs_{stems[1]}.html"


def write_maps(prepared: Prepared, solutions: Mapping[str, Solution], out_dir: Path,
               baseline: str = "status_quo", compare: str | None = None,
               only: Sequence[str] | None = None,
               measures: Mapping[str, Mapping[str, Any]] | None = None) -> list[Path]:
    """Write every interactive map of the options, and an index page ``maps.html``.

    Parameters
    ----------
    prepared : Prepared
    solutions : mapping of str to Solution
        Option name -> solution (e.g. ``status_quo``, ``stp_2016``, ``optimal``).
    out_dir : Path
    baseline : str
        The option the change maps and the marks on sites compare against (evaluated from
        ``wards.csv`` if it is not among ``solutions``).
    compare : str, optional
        Compare every option with this one side by side (default: see :func:`map_plan`).
    only : sequence of str, optional
        Draw only these options (the others, e.g. the baseline, are used for reference).
    measures : mapping, optional
        Option name -> appraisal measures, listed beside the maps (see
        :func:`measures_table_html`).

    Returns
    -------
    list of Path
        The pages written, the index last.
    """
    solutions = dict(solutions)
    shown = list(only) if only is not None else list(solutions)
    unknown = [n for n in [*shown, *([compare] if compare else [])] if n not in solutions]
    if unknown:
        raise ValueError(f"no solution for option(s) {unknown}; have {list(solutions)}")
    out = ensure_dir(Path(out_dir))
    if baseline not in solutions:
        solutions[baseline] = evaluate_configuration(prepared, baseline)
    paths = []
    links = []
    for kind, names in map_plan(shown, baseline, compare):
        fname = page_name(kind, names)
        if kind == "option":
            obj: folium.Map | Figure = option_map(prepared, solutions, names[0], baseline,
                                                    measures)
            label = f"{option_words(names[0])}: beds and drive times"
        elif kind == "change":
            obj = change_map(prepared, solutions, names[0], baseline, measures)
            label = f"{option_words(names[0])}: change in drive time"
        else:
            obj = comparison_map(prepared, solutions, names[0], names[1], baseline,
                                 measures)
            label = (f"{option_words(names[0])} and "
                     f"{option_words(names[1])} side by side")
        paths.append(write_page(obj, out / fname))
        links.append((fname, label))
    index = out / "maps.html"
    items = "".join(f'<li><a href="{esc(f)}">{esc(t)}</a></li>' for f, t in links)
    text = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f"<title>Maps of the options</title><style>{PAGE_CSS}</style></head><body>"
            f"<h1>Maps of the options</h1><ul>{items}</ul>{_footer_html()}</body></html>\n")
    write_atomically(index, text)
    paths.append(index)
    return paths



def page_maps(obj: folium.Map | Figure) -> list[folium.Map]:
    """The maps of a page (one for an option or change map, two for a comparison)."""
    if isinstance(obj, folium.Map):
        return [obj]
    return [c for c in obj._children.values() if isinstance(c, folium.Map)]


def data_layers(m: folium.Map) -> list[DataLayer]:
    """The data layers of a map, in drawing order."""
    return [c for c in m._children.values() if isinstance(c, DataLayer)]


def page_counts(obj: folium.Map | Figure) -> dict[str, int]:
    """What a browser should draw: ``markers`` (site symbols) and ``paths`` (zones, boundaries,
    catchments) of the layers shown when the page opens."""
    markers = paths = 0
    for m in page_maps(obj):
        for layer in data_layers(m):
            if not layer.show:
                continue
            icons = sum(1 for f in layer.features if "icon" in f["properties"])
            markers += icons
            paths += len(layer.features) - icons
    return {"markers": markers, "paths": paths}

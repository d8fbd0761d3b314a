"""Self-contained Leaflet pages from folium: vendored assets, escaping, the page
controls (data layers, legends, synced views) and writing a page.

This is the only module besides :mod:`siteopt.outputs.maps` that imports folium. Every page is
**self-contained**: Leaflet 1.9.4 (BSD-2, vendored in ``siteopt/assets/leaflet``) is inlined,
folium's CDN scripts are not used, so a page works offline.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.elements import ElementAddToElement
from jinja2 import Template

from siteopt.fileio import write_atomically
from siteopt.outputs.map_data import (
    ensure_dir,
)
from siteopt.paths import PACKAGE_DIR

ASSET_DIR = PACKAGE_DIR / "assets" / "leaflet"

MAP_HEIGHT_PX = 640
"""Height of a map on the page; the tables follow below it."""

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
p.problems { margin: 0; color: #8a1c00; }
ul.problems { margin: 0.1rem 0 0.6rem 0; color: #8a1c00; }
.skip { position: absolute; left: -10000px; }
.skip:focus { position: static; display: inline-block; padding: 0.3rem; background: #ffd;
  color: #000; outline: 3px solid #000; }
.leaflet-container { background: #e4e4df; font-size: 14px; }
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
.leaflet-tooltip.siteopt-label { background: rgba(255,255,255,0.88); color: #000; border: none;
  box-shadow: none; padding: 0 3px; border-radius: 2px; font-size: 12px; font-weight: 600;
  line-height: 1.15; white-space: normal; width: max-content; max-width: 11em;
  text-align: center; pointer-events: none; }
.leaflet-tooltip.siteopt-label-none { font-weight: 400; font-style: italic; color: #333; }
.compare-maps .leaflet-tooltip.siteopt-label { font-size: 11px; max-width: 10em; }
.leaflet-tooltip.siteopt-label::before { display: none; }
.leaflet-control-attribution { max-width: 55%; white-space: normal; font-size: 11px;
  line-height: 1.25; }
.leaflet-control-scale { position: relative; z-index: 1000; }
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


FEATURES_JS = """
function siteoptRing(r, scale) {
  var out = [], x = 0, y = 0;
  for (var i = 0; i < r.length; i += 2) {
    x += r[i];
    y += r[i + 1];
    out.push([x / scale, y / scale]);
  }
  return out;
}
function siteoptGeometry(g, scale) {
  function poly(p) { return p.map(function (r) { return siteoptRing(r, scale); }); }
  if (g.p) { return {type: 'Polygon', coordinates: poly(g.p)}; }
  if (g.m) { return {type: 'MultiPolygon', coordinates: g.m.map(poly)}; }
  return g;
}
function siteoptPlaceLabels(map) {
  // Each permanent label on the first side (its own, then below, above, right, left) where it
  // is inside the map and overlaps no label placed before it and no other hospital's symbol,
  // else on the side where it overlaps least; bigger hospitals first.
  var items = [];
  map.eachLayer(function (layer) {
    var t = layer.getTooltip && layer.getTooltip();
    if (t && t.options.permanent && layer.feature && layer.feature.properties.label_offsets &&
        t.getElement()) { items.push([layer, t]); }
  });
  items.sort(function (a, b) {
    return a[0].feature.properties.label_rank - b[0].feature.properties.label_rank;
  });
  function box(e) { return e.getBoundingClientRect(); }
  function overlap(a, b) {
    var w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    var h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return w > 0 && h > 0 ? w * h : 0;
  }
  var frame = box(map.getContainer());
  var placed = [];
  function put(t, p, spot) {
    var off = p.label_offsets[spot[0]];
    t.options.direction = spot[0];
    t.options.offset = L.point(off[0] + spot[1] * spot[2], off[1]);
    t.update();
    return box(t.getElement());
  }
  items.forEach(function (item) {
    var p = item[0].feature.properties, t = item[1];
    var others = placed.concat(items.filter(function (o) {
      return o !== item && o[0].getElement();
    }).map(function (o) { return box(o[0].getElement().firstChild || o[0].getElement()); }));
    // spots: [side, shift sign, shift px]; above and below may also slide half a label
    // sideways
    var half = (box(t.getElement()).width || 0) / 2;
    var spots = [[p.label_dir, 0, 0], ['bottom', 0, 0], ['top', 0, 0], ['right', 0, 0],
                 ['left', 0, 0], ['bottom', 1, half], ['bottom', -1, half], ['top', 1, half],
                 ['top', -1, half]];
    var best = null, bestCost = 0;
    for (var k = 0; k < spots.length; k++) {
      var r = put(t, p, spots[k]);
      var area = (r.right - r.left) * (r.bottom - r.top);
      var cost = 2 * (area - overlap(r, frame));
      others.forEach(function (o) { cost += overlap(o, r); });
      if (best === null || cost < bestCost) { best = spots[k]; bestCost = cost; }
      if (cost === 0) { break; }
    }
    placed.push(put(t, p, best));
  });
}
var siteoptLabelsReady = new Promise(function (resolve) {
  // Labels are placed once the page has loaded and its fonts are ready (text widths are
  // final then); the browser tests wait on this promise.
  window.addEventListener('load', function () {
    var fonts = document.fonts ? document.fonts.ready : Promise.resolve();
    fonts.then(function () { setTimeout(resolve, 0); });
  });
});
function siteoptFeatures(shared, properties) {
  return {type: 'FeatureCollection', features: properties.map(function (p, i) {
    return {type: 'Feature', geometry: siteoptGeometry(shared.g[i], shared.scale), properties: p};
  })};
}
"""
"""Joins a page's shared geometries (:func:`share_geometries`, delta-encoded integers) with one
layer's properties."""


def _encode_ring(ring: list[list[float]], scale: int) -> list[int]:
    out: list[int] = []
    x0 = y0 = 0
    for x, y in ring:
        xi, yi = round(x * scale), round(y * scale)
        out += [xi - x0, yi - y0]
        x0, y0 = xi, yi
    return out


def encode_geometry(geom: Mapping[str, Any], scale: int) -> dict[str, Any]:
    """A GeoJSON polygon or multipolygon as rings of delta-encoded integers (coordinate times
    ``scale``; a third of the text of GeoJSON); other geometries as they are. The page's
    ``siteoptGeometry`` decodes it."""
    if geom["type"] == "Polygon":
        return {"p": [_encode_ring(r, scale) for r in geom["coordinates"]]}
    if geom["type"] == "MultiPolygon":
        return {"m": [[_encode_ring(r, scale) for r in p] for p in geom["coordinates"]]}
    return dict(geom)


class RawHtml(Element):
    """Fixed markup for the page's header (not compiled as a template: the inlined Leaflet and
    the shared geometries are large)."""

    _template = Template("{{ this.text }}")

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawHtml"
        self.text = text


def inline_assets(figure: Figure) -> None:
    css, js = leaflet_assets()
    figure.header.add_child(RawHtml(f"<style>{css}</style>\n<style>{PAGE_CSS}</style>\n"
                                    f"<script>{js}</script>\n<script>{FEATURES_JS}</script>"),
                            name="siteopt_assets")


SHARED_PREFIX = "siteoptGeometry_"


def share_geometries(figure: Figure, key: str, geometries: list[dict[str, Any]],
                     digits: int) -> str:
    """Put ``geometries`` (GeoJSON geometries, coordinates rounded to ``digits`` places) on the
    page once, delta-encoded (:func:`encode_geometry`), as a script variable that every
    :class:`DataLayer` of the page made with ``shared=`` the returned name draws from (the two
    maps of a side-by-side page share one copy of the neighbourhood polygons)."""
    name = SHARED_PREFIX + re.sub(r"[^0-9A-Za-z_]", "_", key)
    scale = 10 ** digits
    data = {"scale": scale, "g": [encode_geometry(g, scale) for g in geometries]}
    figure.header.add_child(RawHtml(f"<script>var {name} = {js_value(data)};</script>"),
                            name=name)
    return name


def render_raw(element: MacroElement, kwargs: Mapping[str, Any]) -> None:
    """Render a macro element as branca does, but put its header, html and script on the page
    as text: branca compiles each as a new Jinja template, which is slow for large data and
    would evaluate ``{{ }}`` or ``{% %}`` in a name from the data."""
    root = element.get_root()
    if not isinstance(root, Figure):
        raise RuntimeError("a map element must be in a page to render")
    module = element._template.module.__dict__
    for part, target in (("header", root.header), ("html", root.html),
                         ("script", root.script)):
        macro = module.get(part)
        if macro is not None:
            target.add_child(RawHtml(macro(element, kwargs)), name=element.get_name())
    for child in element._children.values():
        child.render(**kwargs)


class RawMacro(MacroElement):
    """A macro element rendered by :func:`render_raw`."""

    def render(self, **kwargs: Any) -> str:
        render_raw(self, kwargs)
        return ""


class DataLayer(folium.map.Layer):
    """A GeoJSON layer whose features carry their own style, icon, tooltip and popup.

    Properties of each feature: ``style`` (Leaflet path options, merged over ``base_style``),
    ``icon`` (``L.divIcon`` options: the feature is drawn as a keyboard-focusable marker),
    ``title`` (the marker's accessible name, plain text), ``label`` (a permanent label, HTML
    already escaped, with ``label_dir``, ``label_offset`` and ``label_class``), else
    ``tooltip`` (on hover), and ``popup`` (HTML that is already escaped). Points without
    ``icon`` are circle markers. With ``shared`` (the name :func:`share_geometries` returned
    for these features' geometries, in order) the layer writes only its properties.
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
    if (f.properties.label) {
      var side = f.properties.label_dir;
      layer.bindTooltip(f.properties.label, {permanent: true, interactive: false, opacity: 1,
        direction: side, offset: f.properties.label_offsets[side],
        className: f.properties.label_class || 'siteopt-label'});
    } else if (f.properties.tooltip) {
      layer.bindTooltip(f.properties.tooltip, {sticky: {{ this.sticky_js }}});
    }
    var popup = f.properties.popup;
    if (popup) {
      layer.bindPopup(Array.isArray(popup) ? popup.join('<br>') : popup, {maxWidth: 340});
    }
  }
});
{% if this.labels %}
(function (map) {
  function place() { siteoptPlaceLabels(map); }
  siteoptLabelsReady.then(place);
  map.on('zoomend overlayadd overlayremove resize', place);
})({{ this._parent.get_name() }});
{% endif %}
{% endmacro %}
""")

    def __init__(self, name: str, features: list[dict[str, Any]], *,
                 base_style: Mapping[str, Any] | None = None, overlay: bool = True,
                 show: bool = True, sticky: bool = False, attribution: str = "",
                 shared: str | None = None) -> None:
        super().__init__(name=esc(name), overlay=overlay, control=True, show=show)
        self._name = "DataLayer"
        self.features = features
        self.labels = any("label" in f["properties"] for f in features)
        if shared is not None:
            if not re.fullmatch(SHARED_PREFIX + r"[0-9A-Za-z_]+", shared):
                raise ValueError(f"not a shared geometry name: {shared!r}")
            props = js_value([f["properties"] for f in features])
            self.data_js = f"siteoptFeatures({shared}, {props})"
        else:
            self.data_js = js_value({"type": "FeatureCollection", "features": features})
        self.base_js = js_value(dict(base_style or {}))
        self.sticky_js = "true" if sticky else "false"
        self.attribution_js = js_value(attribution)

    def render(self, **kwargs: Any) -> str:
        """As folium's layer, but the script goes on the page as text: folium would compile it
        as a Jinja template, which is slow for large data and would run ``{{ }}`` in a name."""
        parent = self._parent
        if parent is None:
            raise RuntimeError("a data layer must be on a map to render")
        if self.show:
            self.add_child(ElementAddToElement(element_name=self.get_name(),
                                               element_parent_name=parent.get_name()),
                           name=self.get_name() + "_add")
        render_raw(self, kwargs)
        return ""

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


class HtmlControl(RawMacro):
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


class Attribution(RawMacro):
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


class SyncViews(RawMacro):
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


class Legend(RawMacro):
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


class PageHtml(RawMacro):
    """A block of the page (header, tables, footer) placed in the body in order."""

    _template = Template("""{% macro html(this, kwargs) %}{{ this.text }}{% endmacro %}""")

    def __init__(self, text: str, kind: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = f"Page{kind}"
        self.text = text


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
    """Write a page atomically (temporary file in the same folder, then rename), with the
    umask's mode (:func:`siteopt.fileio.write_atomically`), not mkstemp's 0600."""
    path = Path(path)
    ensure_dir(path.parent)
    write_atomically(path, render_page(obj))
    return path

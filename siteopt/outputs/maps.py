"""Interactive maps for consultation: one per option, a change map and side-by-side comparisons.

This is the only module that imports folium. Every page is **self-contained**: Leaflet 1.9.4
(BSD-2, vendored in ``siteopt/assets/leaflet``) is inlined, folium's CDN scripts (jQuery,
Bootstrap, Font Awesome) are not used, so a page works offline and calls no third-party server.
The maps open on a plain background and fetch nothing; the OpenStreetMap background (tiles from
the web) is a choice in each map's layer list, labelled "needs internet" (``tiles=True`` opens
the maps on it).

Neighbourhoods are shaded polygons (a choropleth) of the region's ``boundaries_lsoa.geojson``;
the polygons are written once per page and shared by its maps
(:func:`siteopt.outputs.leaflet.share_geometries`). A region without them gets dots at the
neighbourhood centroids, and the legend says so.

Safety: every string that comes from data reaches the page either HTML-escaped
(:func:`esc`: ``<``, ``>``, ``&``, quotes, and the backtick, ``$`` and backslash that could end
a JavaScript template literal) or as a JSON string with ``<``, ``>`` and ``&`` written as
``\u003c``-style escapes (:func:`js_value`), so a site named ``<script>alert(1)</script>`` is
text. Element ids are renumbered in order of appearance, so the same inputs give byte-identical
pages.

Accessibility: a skip link, a title, the legend in words, keyboard-usable controls (Leaflet's
zoom and layer controls; site markers are focusable buttons whose accessible name says the beds
before and after; the map pans and zooms with the arrow and +/- keys) and, next to each map, a
text alternative: tables of sites and drive times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import numpy as np
from branca.element import Figure

from siteopt.fileio import write_atomically
from siteopt.outputs.leaflet import (
    DATA_ATTRIBUTION,
    MAP_HEIGHT_PX,
    OSM_ATTRIBUTION,
    PAGE_CSS,
    Attribution,
    DataLayer,
    HtmlControl,
    Legend,
    PageHtml,
    SyncViews,
    esc,
    inline_assets,
    share_geometries,
    write_page,
)
from siteopt.outputs.map_data import (
    CHANGE_BREAKS_MIN,
    CHANGE_WORDS,
    MEASURE_WORDS,
    SHORT_TITLE_CHARS,
    ZONE_SHAPE_DIGITS,
    OptionView,
    ZoneShapes,
    ensure_dir,
    in_sentence,
    map_bounds,
    option_views,
    option_words,
    path_stem,
    short_title,
    zone_shapes,
)
from siteopt.outputs.map_parts import (
    ZONE_EDGE_STYLE,
    catchment_features,
    footer_html,
    lad_features,
    legend_html,
    measures_table_html,
    notes_html,
    site_features,
    sites_table_html,
    travel_table_html,
    zone_features,
    zone_geometries,
    zones_table_html,
)
from siteopt.runs.pipeline import Prepared, evaluate_configuration
from siteopt.wards.results import Solution


def _new_figure(title: str) -> Figure:
    fig = Figure(title=esc(title))
    inline_assets(fig)
    return fig


OPENING_PADDING_PX = {"top_left": (12, 52), "bottom_right": (12, 30)}
"""Room left round the region in the opening view (pixels, x then y): the title box at the top
left, the scale bar and attribution at the bottom."""

ZOOM_SNAP = 0.25
"""Zoom steps of the opening fit: quarter levels, so the whole region fills the map."""


def _base_map(prepared: Prepared, view: OptionView, title: str, tiles: bool = False) -> folium.Map:
    """A map fitted to the whole region (:func:`map_bounds`), on a plain background that needs
    no network; the OpenStreetMap background is a choice in the layer list labelled "needs
    internet" (shown at first only if ``tiles``)."""
    (s, w), (n, e) = map_bounds(prepared, view)
    m = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=9, tiles=None,
                   height=f"{MAP_HEIGHT_PX}px", control_scale=True, prefer_canvas=False,
                   zoomSnap=ZOOM_SNAP, zoomDelta=0.5)
    m.default_js = []
    m.default_css = []
    DataLayer(PLAIN_BACKGROUND, [], overlay=False, show=not tiles).add_to(m)
    folium.TileLayer("OpenStreetMap", name=esc(TILES_BACKGROUND), attr=OSM_ATTRIBUTION,
                     overlay=False, control=True, show=tiles).add_to(m)
    Attribution(DATA_ATTRIBUTION).add_to(m)
    HtmlControl(esc(title), "topleft", "siteopt-title", "Title").add_to(m)
    m.fit_bounds([[s, w], [n, e]], padding_top_left=OPENING_PADDING_PX["top_left"],
                 padding_bottom_right=OPENING_PADDING_PX["bottom_right"])
    return m


PLAIN_BACKGROUND = "Plain background (works offline)"
TILES_BACKGROUND = "OpenStreetMap background (needs internet)"


def _zone_layer_name(change: bool) -> str:
    return ("Neighbourhoods: change in drive time to the wards they use (as planned)" if change
            else "Neighbourhoods: drive time to the wards they use (as planned)")


CATCHMENT_LAYER = "Catchment boundaries (the hospital planned for most of the need of each area)"


def _add_layers(m: folium.Map, prepared: Prepared, view: OptionView, shared: str,
                geometries: list[dict[str, Any]], change_min: np.ndarray | None = None,
                catchments: bool = True) -> None:
    """The data layers, bottom to top: neighbourhoods (drawing from the page's ``shared``
    geometries), local authorities, catchments (off at first), sites."""
    DataLayer(_zone_layer_name(change_min is not None),
              zone_features(view, change_min, geometries), shared=shared,
              base_style=ZONE_EDGE_STYLE, sticky=True).add_to(m)
    DataLayer("Local authorities", lad_features(prepared),
              base_style={"color": "#222", "weight": 2, "fill": False},
              sticky=True).add_to(m)
    if catchments:
        DataLayer(CATCHMENT_LAYER, catchment_features(prepared, view),
                  base_style={"color": "#000", "weight": 2.5, "dashArray": "6 4",
                              "fill": False, "interactive": False},
                  show=False).add_to(m)
    DataLayer("Sites without inpatient beds", site_features(view, with_beds=False)).add_to(m)
    DataLayer("Sites with inpatient beds", site_features(view, with_beds=True)).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)


def _zones_on_page(fig: Figure, prepared: Prepared,
                   view: OptionView) -> tuple[str, list[dict[str, Any]], ZoneShapes]:
    """Put the zones' geometries on the page once; (their shared name, them, the shapes)."""
    geometries = zone_geometries(prepared, view)
    shapes = zone_shapes(prepared, view.zones.zone_ids)
    return share_geometries(fig, "zones", geometries, ZONE_SHAPE_DIGITS), geometries, shapes


def _header(title: str, lead: str, notes: str = "") -> str:
    """The page's skip link, heading, lead paragraph and notes (``lead`` and ``notes`` are
    HTML, already escaped)."""
    return (f'<a class="skip" href="#tables">Skip the map: go to the tables of hospitals and '
            f"drive times</a><header><h1>{esc(title)}</h1><p class=\"lead\">{lead}</p>"
            f"{notes}</header>")


def _views(prepared: Prepared, solutions: Mapping[str, Solution], names: Sequence[str],
           baseline: str, titles: Mapping[str, str] | None) -> dict[str, OptionView]:
    """Views of ``names`` and of the baseline (evaluated if it is not among ``solutions``)."""
    sols = dict(solutions)
    if baseline not in sols:
        sols[baseline] = evaluate_configuration(prepared, baseline)
    return option_views(prepared, sols, baseline, titles, names=[*names, baseline])


def option_map(prepared: Prepared, solutions: Mapping[str, Solution], name: str,
               baseline: str = "status_quo",
               measures: Mapping[str, Mapping[str, Any]] | None = None,
               titles: Mapping[str, str] | None = None, tiles: bool = False) -> folium.Map:
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
        Option name -> appraisal measures (e.g. :func:`siteopt.appraisal.measures.option_measures`);
        the scalar ones are listed in a table (see :func:`measures_table_html`).
    titles : mapping of str to str, optional
        Option name -> title in words (see :func:`siteopt.outputs.map_data.option_views`).

    Returns
    -------
    folium.Map
        Its root figure is the whole page (title, map, tables, sources); save it with
        :func:`render_page` / :func:`write_page` for self-contained, stable HTML.
    """
    view = _views(prepared, solutions, [name], baseline, titles)[name]
    title = f"{view.title}: community hospital inpatient beds and drive times"
    fig = _new_figure(title)
    lead = ("Where inpatient beds would be under this option, and how long people aged 65+ "
            "would drive to the ward of each service they use as the option plans it. "
            f"{_marks_text(view)}")
    fig.add_child(PageHtml(_header(title, lead, notes_html(view)), "Header"))
    m = _base_map(prepared, view, short_title(view.title, SHORT_TITLE_CHARS), tiles)
    fig.add_child(PageHtml('<div class="map-row"><div class="map-cell">', "Open"))
    fig.add_child(m)
    shared, geometries, shapes = _zones_on_page(fig, prepared, view)
    _add_layers(m, prepared, view, shared, geometries)
    fig.add_child(Legend(legend_html(view, shapes=shapes), "side"))
    fig.add_child(PageHtml(
        '<section id="tables" tabindex="-1"><h2>The map in words</h2>'
        + sites_table_html([view]) + travel_table_html([view])
        + measures_table_html([view], measures) + zones_table_html(view)
        + "</section>" + footer_html(), "Tables"))
    return m


def _marks_text(view: OptionView) -> str:
    by_kind: dict[str, list[str]] = {}
    for s in view.sites:
        by_kind.setdefault(s.change, []).append(s.name)
    parts = [f"{CHANGE_WORDS[k].capitalize()}: {', '.join(esc(n) for n in names)}."
             for k, names in by_kind.items() if k in ("opens", "closes", "gains", "loses")]
    if parts:
        return " ".join(parts)
    if view.baseline_name == "status_quo":
        return "The same sites keep the same beds as today."
    return f"The same sites keep the same beds as {esc(in_sentence(view.baseline_title))}."


def change_map(prepared: Prepared, solutions: Mapping[str, Solution], name: str,
               baseline: str = "status_quo",
               measures: Mapping[str, Mapping[str, Any]] | None = None,
               titles: Mapping[str, str] | None = None, tiles: bool = False) -> folium.Map:
    """A map of the change in each zone's drive time (:data:`MEASURE_WORDS`), ``name`` against
    ``baseline``."""
    views = _views(prepared, solutions, [name], baseline, titles)
    view, base = views[name], views[baseline]
    delta = view.change_min(base)
    against = in_sentence(base.title)
    title = f"{view.title}: change in drive time against {against}"
    fig = _new_figure(title)
    no_change = CHANGE_BREAKS_MIN[len(CHANGE_BREAKS_MIN) // 2]
    with np.errstate(invalid="ignore"):
        longer = int(np.sum(delta >= no_change))
        shorter = int(np.sum(delta <= -no_change))
    lead = (f"{esc(MEASURE_WORDS)}, this option against {esc(against)}. Orange: neighbourhoods "
            f"with a longer drive ({longer} of {len(delta)}); purple: shorter ({shorter}). "
            + _marks_text(view))
    fig.add_child(PageHtml(_header(title, lead, notes_html(view)), "Header"))
    m = _base_map(prepared, view, f"Change: {short_title(view.title, SHORT_TITLE_CHARS)}",
                  tiles)
    fig.add_child(PageHtml('<div class="map-row"><div class="map-cell">', "Open"))
    fig.add_child(m)
    shared, geometries, shapes = _zones_on_page(fig, prepared, view)
    _add_layers(m, prepared, view, shared, geometries, change_min=delta, catchments=False)
    fig.add_child(Legend(legend_html(view, change=True, catchments=False, shapes=shapes),
                         "side"))
    fig.add_child(PageHtml(
        '<section id="tables" tabindex="-1"><h2>The map in words</h2>'
        + sites_table_html([view]) + travel_table_html([base, view])
        + measures_table_html([base, view], measures)
        + zones_table_html(view, delta) + "</section>" + footer_html(), "Tables"))
    return m


def comparison_map(prepared: Prepared, solutions: Mapping[str, Solution], left: str,
                   right: str, baseline: str = "status_quo",
                   measures: Mapping[str, Mapping[str, Any]] | None = None,
                   titles: Mapping[str, str] | None = None, tiles: bool = False) -> Figure:
    """Two options side by side on maps that pan and zoom together.

    Returns the page's :class:`branca.element.Figure`; its two maps are ``figure.maps``.
    """
    views = _views(prepared, solutions, [left, right], baseline, titles)
    lv, rv = views[left], views[right]
    title = f"{lv.title} and {rv.title} side by side"
    fig = _new_figure(title)
    today = ("today" if baseline == "status_quo"
             else in_sentence(views[baseline].title))
    lead = ("The two maps move together. Left: " + esc(lv.title) + ". Right: " + esc(rv.title)
            + f". Marks on the hospitals compare each with {esc(today)}. Colours: "
            + esc(in_sentence(MEASURE_WORDS)) + ".")
    notes = notes_html(lv, named=True) + notes_html(rv, named=True)
    fig.add_child(PageHtml(_header(title, lead, notes), "Header"))
    maps = []
    shared, geometries, shapes = _zones_on_page(fig, prepared, lv)
    for v in (lv, rv):
        m = _base_map(prepared, v, short_title(v.title, SHORT_TITLE_CHARS), tiles)
        maps.append(m)
        _add_layers(m, prepared, v, shared, geometries)
    fig.add_child(PageHtml('<div class="compare-maps"><div id="compare-left">', "Open"))
    fig.add_child(maps[0])
    fig.add_child(PageHtml('</div><div id="compare-right">', "Mid"))
    fig.add_child(maps[1])
    fig.add_child(PageHtml("</div></div>", "Close"))
    fig.add_child(Legend(legend_html(rv, shapes=shapes), "wide"))
    fig.add_child(SyncViews(maps[0], maps[1]))
    fig.add_child(PageHtml(
        '<section id="tables" tabindex="-1"><h2>The maps in words</h2>'
        + sites_table_html([lv, rv]) + travel_table_html([lv, rv])
        + measures_table_html([lv, rv], measures) + "</section>"
        + footer_html(), "Tables"))
    return fig


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
               measures: Mapping[str, Mapping[str, Any]] | None = None,
               titles: Mapping[str, str] | None = None, tiles: bool = False) -> list[Path]:
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
    titles : mapping of str to str, optional
        Option name -> title in words (e.g. ``Option D: 6 sites: inpatient beds close at Rutland
        Memorial and Feilding Palmer``) for the page titles, headings, table headers and the
        index's links; options without one get :func:`siteopt.outputs.map_data.option_words`.
    tiles : bool
        Open the maps on the OpenStreetMap background (needs internet). Default: the plain
        background, which works offline; the tiles stay a choice in each map's layer list.

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
        words = [option_words(n, titles) for n in names]
        if kind == "option":
            obj: folium.Map | Figure = option_map(prepared, solutions, names[0], baseline,
                                                    measures, titles, tiles)
            label = f"{words[0]}: beds and drive times"
        elif kind == "change":
            obj = change_map(prepared, solutions, names[0], baseline, measures, titles, tiles)
            label = f"{words[0]}: change in drive time"
        else:
            obj = comparison_map(prepared, solutions, names[0], names[1], baseline,
                                 measures, titles, tiles)
            label = f"{words[0]} and {words[1]} side by side"
        paths.append(write_page(obj, out / fname))
        links.append((fname, label))
    index = out / "maps.html"
    items = "".join(f'<li><a href="{esc(f)}">{esc(t)}</a></li>' for f, t in links)
    text = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f"<title>Maps of the options</title><style>{PAGE_CSS}</style></head><body>"
            f"<h1>Maps of the options</h1><ul>{items}</ul>{footer_html()}</body></html>\n")
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

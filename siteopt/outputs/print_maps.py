"""Print maps (PNG at 300 dpi and PDF) of the options, drawn offline with matplotlib.

The same content as the web maps of :mod:`siteopt.outputs.maps`, from the same
:class:`~siteopt.outputs.map_data.OptionView`: neighbourhood polygons (LSOAs) shaded by the
appraisal's drive-time measure (:data:`~siteopt.outputs.map_data.MEASURE_WORDS`, or by its change),
hospitals by service mix, size and change, each with its name, local authorities; plus a title,
legend, scale bar, north arrow, a table of beds, and the source line. Drawn in British National
Grid metres (so the scale bar is true) with no web tiles. Catchment lines are left out by default
(``draw_map(catchments=True)`` draws them): without the explanation the web maps give, they read
as "the nearest hospital", which they are not.

Legible in greyscale (checked by converting the PNG with PIL's ``convert("L")``): the drive-time
palette is viridis (monotonic in lightness: light = short); on change maps the shade gives the
size of the change and hatching its direction (hatched = longer drive), since the two sides of
the diverging palette have similar greys; hospital services differ by shape as well as colour,
and symbols have a white ring to stand off the shading. A region without neighbourhood polygons
gets dots (triangles for the direction of change), and the page says so.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.patheffects as pe
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from siteopt.crs import geometry_to_bng, to_bng
from siteopt.fileio import write_bytes_atomically
from siteopt.outputs.map_data import (
    CHANGE_BREAKS_MIN,
    CHANGE_PALETTE,
    MEASURE_WORDS,
    TRAVEL_PALETTE,
    UNREACHABLE_COLOUR,
    WITHIN_KEY,
    OptionView,
    ZoneShapes,
    boundaries,
    catchment_divides,
    change_colour,
    change_labels,
    ensure_dir,
    in_sentence,
    marker_radius_px,
    mix_style,
    mix_words,
    option_views,
    service_mix,
    service_mixes,
    short_title,
    travel_colour,
    travel_labels,
    zone_shapes,
)
from siteopt.runs.pipeline import Prepared, evaluate_configuration
from siteopt.wards.results import Solution

DPI = 300
"""Resolution of the PNG files."""

PAGE_IN = (11.69, 8.27)
"""A4 landscape, inches."""

MPL_MARKERS = {"circle": "o", "triangle": "^", "square": "s", "diamond": "D", "pentagon": "p",
               "hexagon": "h"}

SOURCE_LINE = (
    "Sources: siteopt model. Office for National Statistics licensed under the Open Government "
    "Licence v.3.0; contains OS data © Crown copyright and database right. NHS website data (OGL). "
    "IMD 2019 (MHCLG, OGL). Road network © OpenStreetMap contributors (ODbL).")

SHORT_CHANGE = {"opens": "beds open", "closes": "beds close", "gains": "more beds",
                "loses": "fewer beds", "same": "no change", "none": "no beds"}

HALO = [pe.withStroke(linewidth=2.5, foreground="white")]


def _marker_size_pt2(beds: int, scale: float = 1.0) -> float:
    """Scatter marker area (points²) matching the web map's radius in px (1 px = 0.75 pt)."""
    d_pt = 2 * marker_radius_px(beds) * 0.75 * scale
    return float(d_pt ** 2)


def _draw_polygons(ax: Axes, geoms: Sequence[Any], **kw: Any) -> None:
    for geom in geoms:
        parts = getattr(geom, "geoms", [geom])
        for poly in parts:
            for ring in [poly.exterior, *poly.interiors]:
                x, y = ring.xy
                ax.plot(x, y, **kw)


SYMBOL_HALO = [pe.Stroke(linewidth=3.2, foreground="white"), pe.Normal()]
"""A white ring round each hospital symbol, so it stands off the shaded areas (also in grey)."""


def _draw_sites(ax: Axes, view: OptionView, scale: float = 1.0) -> None:
    xs, ys = to_bng([s.lat for s in view.sites], [s.lon for s in view.sites])
    for k, site in enumerate(view.sites):
        x, y = xs[k], ys[k]
        mix = service_mix(view.services, site)
        if site.total_after > 0:
            shape, colour = mix_style(view.services, mix)
            ax.scatter([x], [y], s=_marker_size_pt2(site.total_after, scale),
                       marker=MPL_MARKERS[shape], facecolor=colour, edgecolor="black",
                       linewidth=1.0, zorder=6, path_effects=SYMBOL_HALO)
        elif site.total_before > 0:
            shape, _ = mix_style(view.services, mix)
            ax.scatter([x], [y], s=_marker_size_pt2(site.total_before, scale),
                       marker=MPL_MARKERS[shape], facecolor="white", edgecolor="black",
                       linewidth=1.0, linestyle="--", zorder=6, path_effects=SYMBOL_HALO)
            ax.scatter([x], [y], s=60, marker="x", color="black", linewidth=1.8, zorder=7)
        else:
            ax.scatter([x], [y], s=28, marker="o", facecolor="white", edgecolor="#4d4d4d",
                       linewidth=1.4, zorder=6)
        if site.change in ("gains", "loses", "opens"):
            sign = "\N{MINUS SIGN}" if site.change == "loses" else "+"
            r_pt = marker_radius_px(site.total_after) * 0.75 * scale
            ax.annotate(sign, (x, y), xytext=(r_pt * 0.8, r_pt * 0.8), textcoords="offset points",
                        ha="center", va="center", fontsize=8, fontweight="bold", zorder=8,
                        bbox={"boxstyle": "circle,pad=0.15", "fc": "white", "ec": "black",
                              "lw": 0.8})


def _place_labels(ax: Axes, view: OptionView, scale: float) -> None:
    """Name each hospital, trying below, above, right and left of its symbol in turn so that no
    two names overlap (larger hospitals are placed first)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = ax.get_figure(root=True)
    if not isinstance(fig, Figure):
        return
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    ax.apply_aspect()
    xs, ys = to_bng([s.lat for s in view.sites], [s.lon for s in view.sites])
    from matplotlib.transforms import Bbox

    px_per_pt = fig.dpi / 72.0

    def radius_pt(k: int) -> float:
        beds = max(view.sites[k].total_after, view.sites[k].total_before)
        return marker_radius_px(beds) * 0.75 * scale if beds else 4.0

    symbols = []
    for k in range(len(view.sites)):
        cx, cy = ax.transData.transform((xs[k], ys[k]))
        rr = radius_pt(k) * px_per_pt
        symbols.append(Bbox.from_extents(cx - rr, cy - rr, cx + rr, cy + rr))
    placed: list[Any] = []
    order = sorted(range(len(view.sites)), key=lambda k: (-max(view.sites[k].total_after,
                                                               view.sites[k].total_before), k))
    for k in order:
        site = view.sites[k]
        beds = max(site.total_after, site.total_before)
        r = radius_pt(k) + 2.5
        size = 6.5 if beds else 5.5
        spots = [((0, -r), "center", "top"), ((0, r), "center", "bottom"),
                 ((r + 1, 0), "left", "center"), ((-r - 1, 0), "right", "center")]
        text = None
        for (dx, dy), ha, va in spots:
            if text is not None:
                text.remove()
            text = ax.annotate(site.name, (xs[k], ys[k]), xytext=(dx, dy),
                               textcoords="offset points", ha=ha, va=va, fontsize=size,
                               zorder=9, path_effects=HALO)
            box = text.get_window_extent(renderer).expanded(1.05, 1.1)
            others = placed + [b for j, b in enumerate(symbols) if j != k]
            if not any(box.overlaps(other) for other in others):
                break
        if text is not None:
            placed.append(text.get_window_extent(renderer))


def _scale_bar(ax: Axes) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    span = x1 - x0
    length_m = 10_000.0 if span > 40_000 else 5_000.0
    bx, by = x0 + 0.04 * span, y0 + 0.04 * (y1 - y0)
    h = 0.008 * (y1 - y0)
    half = length_m / 2
    ax.add_patch(Rectangle((bx, by), half, h, fc="black", ec="black", lw=0.8, zorder=10))
    ax.add_patch(Rectangle((bx + half, by), half, h, fc="white", ec="black", lw=0.8, zorder=10))
    for frac, text in ((0, "0"), (0.5, f"{half / 1000:g}"), (1, f"{length_m / 1000:g} km")):
        ax.text(bx + frac * length_m, by + 2.2 * h, text, ha="center", va="bottom", fontsize=7,
                zorder=10, path_effects=HALO)


def _north_arrow(ax: Axes) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x = x1 - 0.05 * (x1 - x0)
    y = y1 - 0.16 * (y1 - y0)
    length = 0.07 * (y1 - y0)
    ax.add_patch(FancyArrow(x, y, 0, length, width=0.012 * (x1 - x0),
                            head_width=0.03 * (x1 - x0), head_length=0.03 * (y1 - y0),
                            length_includes_head=True, fc="black", ec="black", zorder=10))
    ax.text(x, y + length + 0.01 * (y1 - y0), "N", ha="center", va="bottom", fontsize=11,
            fontweight="bold", zorder=10)


ZONE_EDGE: Mapping[str, Any] = {"edgecolor": "white", "linewidth": 0.15}
"""Edges between neighbourhood polygons: thin white lines, so a class boundary reads as a change
of shade, not as a line."""

LONGER_HATCH = "////"
"""Hatching of the neighbourhoods whose drive gets longer on a change map: the direction of the
change reads without colour (greyscale print), the shade gives its size."""

HATCH_COLOUR = "#1a1a1a"


def _zone_paths(shapes: ZoneShapes) -> list[MplPath | None]:
    """Each zone's polygon as a matplotlib path in BNG metres (holes kept), None for none."""
    return list(_zone_paths_cached(shapes))


@lru_cache(maxsize=4)
def _zone_paths_cached(shapes: ZoneShapes) -> tuple[MplPath | None, ...]:
    out: list[MplPath | None] = []
    for geom in shapes.geometries:
        if geom is None:
            out.append(None)
            continue
        rings = []
        for poly in getattr(geometry_to_bng(geom), "geoms", None) or [geometry_to_bng(geom)]:
            for ring in [poly.exterior, *poly.interiors]:
                rings.append(MplPath(np.asarray(ring.coords)[:, :2], closed=True))
        out.append(MplPath.make_compound_path(*rings))
    return tuple(out)


def _zone_classes(view: OptionView, change_min: np.ndarray | None
                  ) -> tuple[list[str], list[bool]]:
    """Per zone: its legend colour and whether it is hatched (longer drive on a change map)."""
    if change_min is None:
        return [travel_colour(float(t)) for t in view.zones.travel_min], [False] * len(view.zones)
    no_change = CHANGE_BREAKS_MIN[len(CHANGE_BREAKS_MIN) // 2]
    with np.errstate(invalid="ignore"):
        longer = [bool(d >= no_change) for d in change_min]
    return [change_colour(float(d)) for d in change_min], longer


def _draw_zones(ax: Axes, prepared: Prepared, view: OptionView,
                change_min: np.ndarray | None) -> None:
    """Neighbourhoods shaded by class (polygons; dots where the region has none), hatched where
    a change map's drive gets longer."""
    shapes = zone_shapes(prepared, view.zones.zone_ids)
    paths = _zone_paths(shapes)
    colours, hatched = _zone_classes(view, change_min)
    for hatch in (False, True):
        members = [(i, p) for i, p in enumerate(paths) if p is not None and hatched[i] == hatch]
        if members:
            patches = [PathPatch(p) for _, p in members]
            coll = PatchCollection(patches, facecolors=[colours[i] for i, _ in members],
                                   hatch=LONGER_HATCH if hatch else None, zorder=1, **ZONE_EDGE)
            if hatch:
                coll.set_hatchcolor(HATCH_COLOUR)
            ax.add_collection(coll)
    dots = np.array([p is None for p in paths])
    if not dots.any():
        return
    z = view.zones
    zx, zy = to_bng(z.lat, z.lon)
    if change_min is None:
        groups = [(dots, "o")]
    else:  # dots cannot be hatched: the direction of change is their shape
        lo, hi = CHANGE_BREAKS_MIN[len(CHANGE_BREAKS_MIN) // 2 - 1:len(CHANGE_BREAKS_MIN) // 2 + 1]
        groups = [(dots & (change_min <= lo), "v"), (dots & (change_min > hi), "^"),
                  (dots & (change_min > lo) & (change_min <= hi), "o")]
    for mask, marker in groups:
        if mask.any():
            ax.scatter(zx[mask], zy[mask], s=12, marker=marker,
                       c=[colours[i] for i in np.flatnonzero(mask)], edgecolors="#333333",
                       linewidths=0.3, zorder=5)


def draw_map(ax: Axes, prepared: Prepared, view: OptionView,
             change_min: np.ndarray | None = None, catchments: bool = False,
             labels: bool = True, marker_scale: float = 1.0) -> None:
    """Draw one option's map into ``ax`` (BNG metres); ``marker_scale`` shrinks the hospital
    symbols on smaller maps."""
    lads = boundaries(prepared, "lad")
    lad_bng = [geometry_to_bng(g) for _, g in lads]
    for geom in lad_bng:
        parts = getattr(geom, "geoms", [geom])
        for poly in parts:
            x, y = poly.exterior.xy
            ax.fill(x, y, fc="#f4f4f1", ec="none", zorder=0)
    _draw_polygons(ax, lad_bng, color="#222222", linewidth=0.9, zorder=2)
    _draw_polygons(ax, lad_bng, color="white", linewidth=2.2, zorder=1.9)
    for (props, _), geom in zip(lads, lad_bng, strict=True):
        p = geom.representative_point()
        ax.text(p.x, p.y, str(props.get("lad_name", "")), fontsize=6, color="#222222",
                style="italic", ha="center", va="center", zorder=3, path_effects=HALO)
    if catchments and change_min is None:
        divides = geometry_to_bng(catchment_divides(prepared, view))
        for line in getattr(divides, "geoms", [divides]):
            x, y = line.xy
            ax.plot(x, y, color="black", linewidth=1.1, linestyle=(0, (4, 2.5)), zorder=4)
    _draw_zones(ax, prepared, view, change_min)
    _draw_sites(ax, view, scale=marker_scale)
    minx, miny, maxx, maxy = np.array([g.bounds for g in lad_bng]).T
    pad = 3_000
    ax.set_xlim(minx.min() - pad, maxx.max() + pad)
    ax.set_ylim(miny.min() - pad, maxy.max() + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#777777")
    _scale_bar(ax)
    _north_arrow(ax)
    if labels:
        _place_labels(ax, view, marker_scale)


def legend_handles(view: OptionView, change: bool, catchments: bool = False,
                   dots: bool = False) -> tuple[list[Artist], list[str]]:
    """Legend entries: zone classes (shaded areas, hatched where a change map's drive gets
    longer; marker shapes if ``dots``), hospital symbols, change marks, lines."""
    handles: list[Artist] = []
    names: list[str] = []
    today = "today" if view.baseline_name == "status_quo" else in_sentence(view.baseline_title)
    if change:
        mid = len(CHANGE_PALETTE) // 2
        for k, (c, label) in enumerate(zip(CHANGE_PALETTE, change_labels(), strict=True)):
            if dots:
                marker = "v" if k < mid else ("^" if k > mid else "o")
                handles.append(Line2D([], [], marker=marker, linestyle="", markerfacecolor=c,
                                      markeredgecolor="#333333", markersize=6))
            else:
                handles.append(Patch(fc=c, ec="#333333", lw=0.5,
                                     hatch=LONGER_HATCH if k > mid else None,
                                     hatchcolor=HATCH_COLOUR))
            names.append(label + (" (hatched)" if k > mid and not dots else ""))
    else:
        for c, label in zip(TRAVEL_PALETTE, travel_labels(), strict=True):
            handles.append(Patch(fc=c, ec="#333333", lw=0.5))
            names.append(label)
    if not np.all(np.isfinite(view.zones.travel_min)):
        handles.append(Patch(fc=UNREACHABLE_COLOUR, ec="#333333", lw=0.5))
        names.append("no ward planned")
    for mix in service_mixes(view.services):
        if any(service_mix(view.services, s) == mix and s.total_after > 0 for s in view.sites):
            shape, colour = mix_style(view.services, mix)
            handles.append(Line2D([], [], marker=MPL_MARKERS[shape], linestyle="",
                                  markerfacecolor=colour, markeredgecolor="black",
                                  markersize=9))
            names.append(f"hospital with {mix_words(mix)}")
    handles += [Line2D([], [], marker="x", linestyle="", color="black", markersize=7),
                Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                       markeredgecolor="#4d4d4d", markersize=5),
                Line2D([], [], marker="$+$", linestyle="", color="black", markersize=7),
                Line2D([], [], marker="$-$", linestyle="", color="black", markersize=7)]
    names += ["beds close here (dashed outline)", "site without inpatient beds",
              f"more beds (or new beds) than {today}", f"fewer beds than {today}"]
    if catchments and not change:
        handles.append(Line2D([], [], color="black", linestyle=(0, (4, 2.5)), linewidth=1.1))
        names.append("catchment of a hospital")
    handles.append(Line2D([], [], color="#555555", linewidth=0.7))
    names.append("local authority")
    return handles, names


def _short(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters with an ellipsis."""
    return text if len(text) <= n else text[:n - 1] + "…"


def _beds_table(ax: Axes, view: OptionView) -> None:
    ax.axis("off")
    base = ("today" if view.baseline_name == "status_quo"
            else _short(short_title(view.baseline_title), 16))
    rows = [[_short(s.name, 42), str(s.total_before), str(s.total_after), SHORT_CHANGE[s.change]]
            for s in view.sites]
    table = ax.table(cellText=rows, colLabels=["Hospital", f"Beds {base}", "Beds here",
                                               "Change"],
                     loc="upper left", cellLoc="left", colLoc="left",
                     colWidths=[0.53, 0.14, 0.14, 0.17])
    table.auto_set_font_size(False)
    table.set_fontsize(6)
    table.scale(1, 1.15)
    for (r, _c), cell in table.get_celld().items():
        cell.set_edgecolor("#888888")
        cell.set_linewidth(0.4)
        if r == 0:
            cell.set_facecolor("#e8e8e8")


TITLE_CHARS = 95
"""Characters per line of a page title (13 pt bold across an A4 landscape page)."""

TEXT_CHARS = 150
"""Characters per line of the text under the title (8 pt)."""

LINE_FRAC = {13: 0.028, 8: 0.0165, 7: 0.0145}
"""Height of one line of text of each font size (points), as a fraction of the page height."""


def summary_text(view: OptionView) -> str:
    """The caption's figures for the whole area: the report's mean, share within 30 minutes and
    longest drive of :data:`MEASURE_WORDS`, at the report's precision."""
    total = view.lad_table()[-1]
    return (f"{MEASURE_WORDS}: mean {total['mean_travel_min']:.1f} min; "
            f"{100 * total[WITHIN_KEY]:.1f}% within 30 min; "
            f"longest {total['max_travel_min']:.1f} min.")


def notes_lines(view: OptionView) -> list[str]:
    """What is wrong with the option and how sure the search is, in words (none if nothing)."""
    lines = (["This option does not meet every requirement:",
              *(f"\N{BULLET} {p}" for p in view.problems)] if view.problems else [])
    return lines + ([view.search_note] if view.search_note else [])


def _text_block(fig: Figure, y: float, paragraphs: Sequence[str], size: int,
                width: int, **kw: Any) -> float:
    """Write ``paragraphs`` (each wrapped at ``width`` characters) from ``y`` down; the ``y``
    below them."""
    text = "\n".join(textwrap.fill(p, width) for p in paragraphs)
    if not text:
        return y
    fig.text(0.02, y, text, fontsize=size, ha="left", va="top", **kw)
    return y - (text.count("\n") + 1) * LINE_FRAC[size]


def _page_head(fig: Figure, title: str, paragraphs: Sequence[str]) -> float:
    """The page's title and the text under it; the ``y`` (page fraction) below them."""
    text = textwrap.fill(title, TITLE_CHARS)
    fig.suptitle(text, x=0.02, y=0.975, ha="left", va="top", fontsize=13, fontweight="bold")
    y = 0.975 - (text.count("\n") + 1) * LINE_FRAC[13] - 0.006
    return _text_block(fig, y, paragraphs, 8, TEXT_CHARS) - 0.012


def _zones_what(shapes: ZoneShapes) -> str:
    """The subject of a page's subtitle: shaded areas, or dots without polygons."""
    if shapes.n_polygons == 0:
        return "Each dot is a neighbourhood (LSOA) at its centre"
    return "Each shaded area is a neighbourhood (LSOA)"


def option_figure(prepared: Prepared, view: OptionView,
                  change_min: np.ndarray | None = None,
                  baseline_title: str = "") -> Figure:
    """A print page of one option (or of its change against the baseline, titled
    ``baseline_title`` or the view's baseline title)."""
    fig = Figure(figsize=PAGE_IN)
    change = change_min is not None
    against = in_sentence(baseline_title or view.baseline_title)
    shapes = zone_shapes(prepared, view.zones.zone_ids)
    what = _zones_what(shapes)
    if change:
        title = f"{view.title}: change in drive time against {against}"
        sub = (f"{what}: the change in its people's mean drive to the ward of each service they "
               f"use (as planned), against {against}; hatched where the drive gets longer.")
    else:
        title = f"{view.title}: community hospital inpatient beds and drive times"
        sub = (f"{what}: its people's mean drive to the ward of each service they use (as "
               "planned), services weighted by their share of bed need; hospital symbol area "
               "shows its beds.")
    top = _page_head(fig, title, [sub, summary_text(view), *notes_lines(view),
                                  *([shapes.dots_words()] if shapes.dots_words() else [])])
    ax = fig.add_axes((0.02, 0.06, 0.62, top - 0.06))
    draw_map(ax, prepared, view, change_min=change_min)
    side = fig.add_axes((0.66, 0.36, 0.33, top - 0.36))
    side.axis("off")
    handles, names = legend_handles(view, change, dots=shapes.n_polygons == 0)
    heading = (f"Change in drive time (minutes)\nagainst {textwrap.fill(short_title(against), 40)}"
               if change else "Drive time, people aged 65+,\nto the wards they use (as planned)")
    leg = side.legend(handles, names, loc="upper left", fontsize=7, title=heading,
                      title_fontsize=8, frameon=True, edgecolor="#777777", borderpad=0.8,
                      labelspacing=0.55, alignment="left")
    leg.get_frame().set_linewidth(0.6)
    _beds_table(fig.add_axes((0.66, 0.06, 0.33, 0.27)), view)
    fig.text(0.02, 0.015, SOURCE_LINE, fontsize=6, ha="left", color="#222222")
    return fig


def _pair_title(left: OptionView, right: OptionView) -> str:
    title = f"{left.title} and {right.title} side by side"
    if len(title) <= TITLE_CHARS:
        return title
    return f"{short_title(left.title)} and {short_title(right.title)} side by side"


def comparison_figure(prepared: Prepared, left: OptionView, right: OptionView) -> Figure:
    """Two options side by side on one print page, with one legend and the beds of both."""
    fig = Figure(figsize=PAGE_IN)
    today = "today" if left.baseline_name == "status_quo" else in_sentence(left.baseline_title)
    shapes = zone_shapes(prepared, left.zones.zone_ids)
    top = _page_head(fig, _pair_title(left, right), [
        f"{_zones_what(shapes)}: its people's mean drive to the ward of each service they use "
        "(as planned), services weighted by their share of bed need; hospital symbol area shows "
        f"its beds; marks compare each hospital with {today}.",
        *([shapes.dots_words()] if shapes.dots_words() else [])])
    heads = []
    for view in (left, right):
        paragraphs = [view.title, summary_text(view), *notes_lines(view)]
        heads.append("\n".join(textwrap.fill(p, 80) for p in paragraphs))
    head_frac = max(h.count("\n") + 1 for h in heads) * LINE_FRAC[7] + 0.01
    for k, view in enumerate((left, right)):
        ax = fig.add_axes((0.01 + 0.40 * k, 0.30, 0.39, top - head_frac - 0.30))
        draw_map(ax, prepared, view, labels=False, marker_scale=0.7)
        ax.set_title(heads[k], fontsize=7)
    side = fig.add_axes((0.81, 0.30, 0.18, top - 0.30))
    side.axis("off")
    handles, names = legend_handles(right, change=False, dots=shapes.n_polygons == 0)
    side.legend(handles, names, loc="upper left", fontsize=6.5,
                title="Drive time, people aged 65+,\nto the wards they use (as planned)",
                title_fontsize=7, frameon=True, edgecolor="#777777", alignment="left")
    table_ax = fig.add_axes((0.02, 0.05, 0.78, 0.22))
    table_ax.axis("off")
    rows = [[_short(a.name, 48), str(a.total_before), str(a.total_after), SHORT_CHANGE[a.change],
             str(b.total_after), SHORT_CHANGE[b.change]]
            for a, b in zip(left.sites, right.sites, strict=True)]
    base = "today" if left.baseline_name == "status_quo" else short_title(left.baseline_title)
    table = table_ax.table(cellText=rows, colLabels=["Hospital", _short(f"Beds {base}", 24),
                                                     _short(f"Beds: {short_title(left.title)}",
                                                            30), "Change",
                                                     _short(f"Beds: {short_title(right.title)}",
                                                            30), "Change"],
                           loc="upper left", cellLoc="left", colLoc="left",
                           colWidths=[0.30, 0.10, 0.17, 0.12, 0.17, 0.12])
    table.auto_set_font_size(False)
    table.set_fontsize(6)
    for (r, _c), cell in table.get_celld().items():
        cell.set_edgecolor("#888888")
        cell.set_linewidth(0.4)
        if r == 0:
            cell.set_facecolor("#e8e8e8")
    fig.text(0.02, 0.015, SOURCE_LINE, fontsize=6, ha="left", color="#222222")
    return fig


def save_figure(fig: Figure, path: Path) -> Path:
    """Save a figure atomically (PNG at :data:`DPI` or PDF by the suffix), without timestamps,
    with the umask's mode (:func:`siteopt.fileio.write_bytes_atomically`)."""
    path = Path(path)
    ensure_dir(path.parent)
    fmt = path.suffix.lstrip(".").lower()
    buf = io.BytesIO()
    metadata: dict[str, str | None] = ({"Software": None} if fmt == "png"
                                       else {"CreationDate": None, "ModDate": None,
                                             "Producer": None, "Creator": "siteopt"})
    fig.savefig(buf, format=fmt, dpi=DPI, metadata=metadata)
    write_bytes_atomically(path, buf.getvalue())  # with the umask's mode, not mkstemp's 0600
    return path


def write_static_maps(prepared: Prepared, solutions: Mapping[str, Solution], out_dir: Path,
                      baseline: str = "status_quo", formats: Sequence[str] = ("png", "pdf"),
                      compare: str | None = None,
                      only: Sequence[str] | None = None,
                      titles: Mapping[str, str] | None = None,
                      part: tuple[int, int] = (0, 1)) -> list[Path]:
    """Write the print maps: one per option, a change map per non-baseline option and the
    side-by-side pages of :func:`siteopt.outputs.maps.map_plan`, in each format.

    Parameters
    ----------
    prepared : Prepared
    solutions : mapping of str to Solution
    out_dir : Path
    baseline : str
        Evaluated from ``wards.csv`` if it is not among ``solutions``.
    formats : sequence of str
        ``png`` (300 dpi) and/or ``pdf``.
    compare, only, titles : optional
        As in :func:`siteopt.outputs.maps.write_maps` (``titles``: option name -> title in
        words for the page titles and table headers).
    part : (int, int)
        ``(k, n)``: draw only the pages ``k, k + n, k + 2n, ...`` of the plan, so that ``n``
        processes can share the work (:func:`static_map_names` lists every file in order).
    """
    from siteopt.outputs.maps import map_plan

    bad = [f for f in formats if f not in ("png", "pdf")]
    if bad:
        raise ValueError(f"unknown static map format(s): {bad}; use png or pdf")
    out = ensure_dir(Path(out_dir))
    sols = dict(solutions)
    shown = list(only) if only is not None else list(sols)
    unknown = [n for n in [*shown, *([compare] if compare else [])] if n not in sols]
    if unknown:
        raise ValueError(f"no solution for option(s) {unknown}; have {list(sols)}")
    if baseline not in sols:
        sols[baseline] = evaluate_configuration(prepared, baseline)
    needed = [n for _, names in map_plan(shown, baseline, compare) for n in names]
    views = option_views(prepared, sols, baseline, titles, names=[*needed, baseline])
    base = views[baseline]
    paths = []
    k, n = part
    for page, (kind, names) in enumerate(map_plan(shown, baseline, compare)):
        if page % n != k:
            continue
        if kind == "option":
            fig = option_figure(prepared, views[names[0]])
        elif kind == "change":
            view = views[names[0]]
            fig = option_figure(prepared, view, view.change_min(base))
        else:
            fig = comparison_figure(prepared, views[names[0]], views[names[1]])
        stem = page_stem(kind, names)
        for fmt in formats:
            paths.append(save_figure(fig, out / f"{stem}.{fmt}"))
    return paths


def page_stem(kind: str, names: Sequence[str]) -> str:
    """The file stem of a print-map page of :func:`siteopt.outputs.maps.map_plan`: the web
    page's name (:func:`siteopt.outputs.maps.page_name`) without ``.html``."""
    from siteopt.outputs.maps import page_name

    return page_name(kind, names).removesuffix(".html")


def static_map_names(shown: Sequence[str], baseline: str = "status_quo",
                     formats: Sequence[str] = ("png", "pdf"), compare: str | None = None
                     ) -> list[str]:
    """The file names :func:`write_static_maps` writes for the options ``shown``, in the order
    it returns them (all parts together)."""
    from siteopt.outputs.maps import map_plan

    return [f"{page_stem(kind, names)}.{fmt}" for kind, names in
            map_plan(list(shown), baseline, compare) for fmt in formats]


def static_maps_task(prepared: Prepared, solutions: Mapping[str, Solution], out_dir: Path,
                     titles: Mapping[str, str] | None, part: tuple[int, int]) -> list[Path]:
    """:func:`write_static_maps` of one part, as a task for
    :class:`siteopt.runs.workers.PreparedPool` (``fn(prepared, *args)``)."""
    return write_static_maps(prepared, solutions, out_dir, titles=titles, part=part)

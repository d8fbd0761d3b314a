"""Choropleth maps: neighbourhood polygons shaded by the report's drive-time measure (and, on
change maps, by its change on a scale diverging round 0), fitted to the whole region, one copy
of the polygons per page, dots only where a region has no polygons, and print maps whose
legend classes stay apart in greyscale. On the real LLR data; the browser checks are in
tests/test_maps_browser.py."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import shape

from siteopt.outputs import leaflet, maps, print_maps
from siteopt.outputs.map_data import (
    CHANGE_PALETTE,
    TRAVEL_PALETTE,
    change_class,
    map_bounds,
    option_views,
    travel_class,
    zone_shapes,
)
from siteopt.outputs.map_parts import zone_geometries
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import Prepared, evaluate_configuration, prepare
from siteopt.wards.results import Solution

ZONES_LAYER = "Neighbourhoods: drive time to the wards they use (as planned)"
CHANGE_LAYER = "Neighbourhoods: change in drive time to the wards they use (as planned)"


@pytest.fixture(scope="module")
def llr() -> tuple[Prepared, dict[str, Solution]]:
    prepared = prepare(DEFAULT_GEODATA_DIR)
    return prepared, {"status_quo": evaluate_configuration(prepared, "status_quo"),
                      "stp_2016": evaluate_configuration(prepared, "stp_2016")}


@pytest.fixture(scope="module")
def lsoa() -> dict[str, Any]:
    """The LSOA polygons as the geodata holds them, by code."""
    doc = json.loads((DEFAULT_GEODATA_DIR / "boundaries_lsoa.geojson").read_text("utf-8"))
    return {f["properties"]["lsoa_code"]: shape(f["geometry"]) for f in doc["features"]}


def _layer(m: Any, name: str) -> leaflet.DataLayer:
    return next(d for d in maps.data_layers(m) if d.layer_name == name)


def _grey(hex_colour: str) -> float:
    """PIL's ``convert("L")`` of a colour (ITU-R 601-2 luma)."""
    r, g, b = (int(hex_colour[k:k + 2], 16) for k in (1, 3, 5))
    return r * 299 / 1000 + g * 587 / 1000 + b * 114 / 1000


def test_polygons_coloured_by_class(llr: tuple[Prepared, dict[str, Solution]],
                                    lsoa: dict[str, Any]) -> None:
    """Every neighbourhood is its own LSOA polygon, filled with the class of its figure."""
    prepared, solutions = llr
    view = option_views(prepared, solutions)["stp_2016"]
    zones = _layer(maps.option_map(prepared, solutions, "stp_2016"), ZONES_LAYER).features
    assert len(zones) == len(view.zones) == len(lsoa) == 634
    # A sample: the first zone of each class present, and a few fixed ones.
    classes = [travel_class(float(t)) for t in view.zones.travel_min]
    sample = sorted({classes.index(k) for k in set(classes)} | {0, 1, 317, 633})
    assert len(set(classes)) >= 4  # LLR spans at least four classes under the 2016 plan
    for i in sample:
        f, code, t = zones[i], view.zones.zone_ids[i], float(view.zones.travel_min[i])
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon"), code
        drawn = shape(f["geometry"])
        truth = lsoa[code]
        # the same polygon, to the rounding of its coordinates (1e-4 degree)
        assert drawn.symmetric_difference(truth).area < 0.02 * truth.area, code
        assert f["properties"]["style"]["fillColor"] == TRAVEL_PALETTE[classes[i]], code
        popup = "<br>".join(f["properties"]["popup"])
        assert f"<strong>{t:.0f} min</strong>" in popup, code
    # Hand check: under 10 min is the lightest class and at least one zone has it.
    assert classes.count(0) > 0 and _grey(TRAVEL_PALETTE[0]) == max(map(_grey, TRAVEL_PALETTE))


def test_change_map_diverges_around_zero(llr: tuple[Prepared, dict[str, Solution]]) -> None:
    prepared, solutions = llr
    views = option_views(prepared, solutions)
    delta = views["stp_2016"].change_min(views["status_quo"])
    zones = _layer(maps.change_map(prepared, solutions, "stp_2016"), CHANGE_LAYER).features
    mid = len(CHANGE_PALETTE) // 2
    index = [CHANGE_PALETTE.index(f["properties"]["style"]["fillColor"]) for f in zones]
    for d, k in zip(delta, index, strict=True):
        if d >= 1:
            assert k > mid  # longer: the orange side
        elif d <= -1:
            assert k < mid  # shorter: the purple side
        else:
            assert k == mid  # no real change: the neutral middle
    assert min(index) < mid < max(index)  # both sides are used in LLR
    # The scale is symmetric round 0 and its lightness falls away from the middle both ways.
    for x in (0.5, 3.0, 7.0, 12.0):
        assert change_class(x) + change_class(-x) == 2 * mid
    grey = [_grey(c) for c in CHANGE_PALETTE]
    assert all(a < b for a, b in pairwise(grey[:mid + 1]))
    assert all(a > b for a, b in pairwise(grey[mid:]))


def test_view_fits_every_polygon(llr: tuple[Prepared, dict[str, Solution]],
                                 lsoa: dict[str, Any]) -> None:
    """The opening view holds every LSOA polygon (it used to stop at the zone centroids, which
    cut off the south of Harborough and Blaby)."""
    prepared, solutions = llr
    view = option_views(prepared, solutions)["stp_2016"]
    (s, w), (n, e) = map_bounds(prepared, view)
    for code, geom in lsoa.items():
        gw, gs, ge, gn = geom.bounds
        assert s <= gs and w <= gw and n >= gn and e >= ge, code
    assert s < float(view.zones.lat.min()) - 0.01  # the polygons reach further south
    page = leaflet.render_page(maps.option_map(prepared, solutions, "stp_2016"))
    assert f".fitBounds(\n                [[{s}, {w}], [{n}, {e}]]" in page


def _decode(ring: list[int], scale: int) -> list[tuple[float, float]]:
    xy = np.cumsum(np.asarray(ring, dtype=np.int64).reshape(-1, 2), axis=0) / scale
    return [(float(x), float(y)) for x, y in xy]


def test_one_copy_of_the_polygons_per_page(llr: tuple[Prepared, dict[str, Solution]]) -> None:
    """A side-by-side page writes the polygons once, delta-encoded, and both maps draw them;
    decoded, they are the geometries the layers were built with."""
    prepared, solutions = llr
    fig = maps.comparison_map(prepared, solutions, "status_quo", "stp_2016")
    page = leaflet.render_page(fig)
    assert page.count("var siteoptGeometry_zones = ") == 1
    assert page.count("siteoptFeatures(siteoptGeometry_zones, ") == 2
    start = page.index("var siteoptGeometry_zones = ") + len("var siteoptGeometry_zones = ")
    data = json.loads(page[start:page.index(";</script>", start)])
    view = option_views(prepared, solutions)["status_quo"]
    built = zone_geometries(prepared, view)
    assert len(data["g"]) == len(built) == 634
    for enc, geom in zip(data["g"], built, strict=True):
        rings = ([enc["p"]] if "p" in enc else enc["m"])
        want = ([geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"])
        assert len(rings) == len(want)
        for got_poly, want_poly in zip(rings, want, strict=True):
            for got_ring, want_ring in zip(got_poly, want_poly, strict=True):
                np.testing.assert_allclose(_decode(got_ring, data["scale"]), want_ring,
                                           atol=1e-9)
    # Smaller than plain GeoJSON of the same polygons.
    assert len(json.dumps(data)) < 0.6 * len(json.dumps(built))


def test_region_without_polygons_falls_back_to_dots(
        geodata_copy: Path, llr: tuple[Prepared, dict[str, Solution]], tmp_path: Path) -> None:
    (geodata_copy / "boundaries_lsoa.geojson").unlink()
    prepared = prepare(geodata_copy, travel=llr[0].travel)
    solutions = {"status_quo": evaluate_configuration(prepared, "status_quo"),
                 "stp_2016": evaluate_configuration(prepared, "stp_2016")}
    assert zone_shapes(prepared, prepared.data.zone_ids).n_polygons == 0
    m = maps.option_map(prepared, solutions, "stp_2016")
    zones = _layer(m, ZONES_LAYER).features
    assert {f["geometry"]["type"] for f in zones} == {"Point"}
    assert all(f["properties"]["style"]["radius"] > 0 for f in zones)
    page = leaflet.render_page(m)
    assert "no neighbourhood boundaries (boundaries_lsoa.geojson)" in page
    assert "Each dot is a neighbourhood (LSOA) at its centre." in page
    view = option_views(prepared, solutions)["stp_2016"]
    fig = print_maps.option_figure(prepared, view)
    texts = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "Each dot is a neighbourhood" in texts and "no neighbourhood boundaries" in texts


def _legend_swatches(fig: Any, png: Path) -> list[np.ndarray]:
    """The grey pixels inside each colour swatch of the page's legend, from the PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    legend = next(a.get_legend() for a in fig.axes if a.get_legend() is not None)
    fig.set_dpi(print_maps.DPI)  # lay the page out again as the PNG was drawn
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    with Image.open(png) as im:
        assert im.size == (round(fig.bbox.width), round(fig.bbox.height))
        grey = np.asarray(im.convert("L"), dtype=np.float64)
    out = []
    for patch in legend.get_patches():
        box = patch.get_window_extent(renderer)
        x0, x1 = int(box.x0) + 4, int(box.x1) - 4
        y0, y1 = grey.shape[0] - int(box.y1) + 4, grey.shape[0] - int(box.y0) - 4
        assert x1 > x0 and y1 > y0
        out.append(grey[y0:y1, x0:x1])
    return out


def test_print_legend_classes_differ_in_grey(llr: tuple[Prepared, dict[str, Solution]],
                                            tmp_path: Path) -> None:
    """Converted to grey, the drive-time classes are distinct, ordered lightness levels; the
    change classes differ in lightness or in hatching (longer drives are hatched)."""
    prepared, solutions = llr
    views = option_views(prepared, solutions)
    view = views["stp_2016"]
    fig = print_maps.option_figure(prepared, view)
    png = print_maps.save_figure(fig, tmp_path / "map.png")
    swatches = _legend_swatches(fig, png)[:len(TRAVEL_PALETTE)]
    levels = [float(s.mean()) for s in swatches]
    assert all(float(s.std()) < 3 for s in swatches), [float(s.std()) for s in swatches]
    assert all(a - b > 20 for a, b in pairwise(levels)), levels
    # The map draws the same grey levels: each class that three or more zones have covers part
    # of the page (a city LSOA is about 20 x 20 pixels at 300 dpi).
    with Image.open(png) as im:
        grey = np.asarray(im.convert("L"), dtype=np.float64)
    classes = [travel_class(float(t)) for t in view.zones.travel_min]
    present = [k for k in range(len(TRAVEL_PALETTE)) if classes.count(k) >= 3]
    assert len(present) >= 4
    for k in present:
        assert (np.abs(grey - levels[k]) < 2).mean() > 1e-4, (k, levels[k])

    fig = print_maps.option_figure(prepared, view, view.change_min(views["status_quo"]))
    png = print_maps.save_figure(fig, tmp_path / "change.png")
    swatches = _legend_swatches(fig, png)[:len(CHANGE_PALETTE)]
    mid = len(CHANGE_PALETTE) // 2
    hatched = [float(s.std()) > 15 for s in swatches]
    assert hatched == [k > mid for k in range(len(CHANGE_PALETTE))]
    means = [float(s.mean()) for s in swatches]
    for a in range(len(swatches)):
        for b in range(a + 1, len(swatches)):
            assert hatched[a] != hatched[b] or abs(means[a] - means[b]) > 20, (a, b, means)

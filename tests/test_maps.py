"""Maps for consultation: build-level checks on the folium pages, escaping, determinism, print
maps and the ``siteopt map`` command, on the real LLR data (the browser test is separate)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from siteopt.cli import cli
from siteopt.outputs import leaflet, maps
from siteopt.outputs.map_data import (
    CHANGE_PALETTE,
    MEASURE_WORDS,
    TRAVEL_BREAKS_MIN,
    TRAVEL_PALETTE,
    change_class,
    option_views,
    travel_class,
    travel_labels,
)
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import Prepared, evaluate_configuration, optimise_scenario, prepare
from siteopt.wards.results import Solution

EVIL = "<script>alert(1)</script>"
EVIL_JS = "`${alert(2)}`\\"
EVIL_JINJA = "{{ 7*7 }} Ward {# 1"
"""Template syntax in a name: shown as text, never evaluated (folium would compile it)."""


@pytest.fixture(scope="module")
def llr() -> tuple[Prepared, dict[str, Solution]]:
    prepared = prepare(DEFAULT_GEODATA_DIR)
    solutions = {"status_quo": evaluate_configuration(prepared, "status_quo"),
                 "stp_2016": evaluate_configuration(prepared, "stp_2016"),
                 "optimal": optimise_scenario(prepared)}
    return prepared, solutions


def _layers(m: Any) -> dict[str, leaflet.DataLayer]:
    return {layer.layer_name: layer for layer in maps.data_layers(m)}


def test_option_map_build(llr: tuple[Prepared, dict[str, Solution]]) -> None:
    prepared, solutions = llr
    m = maps.option_map(prepared, solutions, "stp_2016")
    data = prepared.data
    layers = _layers(m)
    with_beds = layers["Sites with inpatient beds"].features
    without = layers["Sites without inpatient beds"].features
    # STP 2016: 6 sites keep beds; Rutland Memorial and Feilding Palmer close; H&D never had any.
    assert len(with_beds) == 6 and len(without) == 3
    assert all("icon" in f["properties"] for f in with_beds + without)
    assert len(with_beds) + len(without) == len(data.sites)
    zones = layers["Neighbourhoods: drive time to the wards they use (as planned)"].features
    assert len(zones) == len(data.zones) == 634
    assert len(layers["Local authorities"].features) == 9
    # Catchments: the dividing lines only, off when the page opens (they read as "the nearest
    # hospital" and are not: the legend and the popups say what they are).
    catch = layers[maps.CATCHMENT_LAYER]
    assert len(catch.features) == 1 and catch.show is False
    assert catch.features[0]["geometry"]["type"] in ("LineString", "MultiLineString")
    # Neighbourhoods are polygons (a choropleth), no dots.
    assert {f["geometry"]["type"] for f in zones} <= {"Polygon", "MultiPolygon"}
    # Bounds: every site and zone inside, and the map is LLR (about 52.4-52.98 N, 1.6-0.4 W).
    (s, w), (n, e) = m.get_bounds()
    assert s <= data.zones["lat"].min() and n >= data.zones["lat"].max()
    assert w <= data.sites["lon"].min() and e >= data.sites["lon"].max()
    assert 52.3 < s < n < 53.0 and -1.7 < w < e < -0.4
    # Zone colours are the legend's classes of the report's measure (drive to the assigned
    # wards), not of the drive to the nearest site with beds.
    view = option_views(prepared, solutions)["stp_2016"]
    for f, t in zip(zones, view.zones.travel_min, strict=True):
        assert f["properties"]["style"]["fillColor"] == TRAVEL_PALETTE[travel_class(t)]
    assert (view.zones.travel_min > view.zones.nearest_travel_min + 1).any()
    popup = "<br>".join(zones[0]["properties"]["popup"])
    assert "to the ward of each service they use (as planned)" in popup
    assert "nearest site with inpatient beds (for comparison only)" in popup
    # Closed sites are marked, in words too.
    titles = " | ".join(f["properties"]["title"] for f in without)
    assert "Rutland Memorial Hospital" in titles and "close here" in titles
    # Legend, layer control, title and attribution are on the page.
    page = leaflet.render_page(m)
    root_children = list(m.get_root()._children.values())
    legends = [c for c in root_children if isinstance(c, leaflet.Legend)]
    assert len(legends) == 1
    assert all(label in legends[0].html_text for label in travel_labels())
    colours_part = legends[0].html_text.split("<h3>Hospitals</h3>")[0]
    assert MEASURE_WORDS in colours_part and "nearest" not in colours_part
    # The catchment layer says what a catchment is (not the nearest hospital).
    assert "can be further than the nearest hospital when the nearer wards are full" in (
        legends[0].html_text)
    assert "L.control.layers" in page
    assert "<title>STP 2016 proposal: community hospital inpatient beds" in page
    assert "<h1>STP 2016 proposal" in page
    assert "OpenStreetMap" in page and "ONS" in page and "NHS" in page
    assert "OpenStreetMap background (needs internet)" in page
    assert maps.page_counts(m) == {"markers": 9, "paths": 634 + 9}
    # Every hospital is labelled permanently with its name.
    labels = [f["properties"]["label"] for f in with_beds + without]
    assert sorted(labels) == sorted(leaflet.esc(n) for n in data.sites["name"])
    # No solver words: the 2016 plan fails its bed need, and the page says so in words.
    assert "optimal" not in page.lower() and "Model status" not in page
    assert "does not meet every requirement" in page and "Bed need not met" in page


def test_pages_are_self_contained(llr: tuple[Prepared, dict[str, Solution]]) -> None:
    prepared, solutions = llr
    page = leaflet.render_page(maps.comparison_map(prepared, solutions, "status_quo", "stp_2016"))
    assert "cdn." not in page and "code.jquery.com" not in page
    assert re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?https?:", page) is None
    assert 'version="1.9.4"' in page or '"1.9.4"' in page
    assert '<html lang="en">' in page and "user-scalable=no" not in page
    assert page.count("L.map(") == 2 and ".on('move'" in page  # two maps kept in step


def test_change_map(llr: tuple[Prepared, dict[str, Solution]]) -> None:
    prepared, solutions = llr
    m = maps.change_map(prepared, solutions, "stp_2016")
    layer = "Neighbourhoods: change in drive time to the wards they use (as planned)"
    zones = _layers(m)[layer].features
    views = option_views(prepared, solutions)
    sq, stp = views["status_quo"], views["stp_2016"]
    delta = stp.change_min(sq)
    colours = [f["properties"]["style"]["fillColor"] for f in zones]
    assert colours == [CHANGE_PALETTE[change_class(d)] for d in delta]
    np.testing.assert_allclose(delta, stp.zones.travel_min - sq.zones.travel_min)
    # Closing Rutland Memorial lengthens drives in Rutland; nobody's nearest site gets closer
    # (the planned wards can: beds elsewhere are reassigned).
    near = stp.zones.nearest_travel_min - sq.zones.nearest_travel_min
    assert (near >= -1e-9).all() and (delta > 10).any()
    rutland = np.array([lad == "Rutland" for lad in stp.zones.lad_names])
    assert (delta[rutland] > 5).mean() > 0.9
    # The zones' change, weighted by people 65+, is the change of Rutland's mean in the table.
    w = stp.zones.weight[rutland]
    lad = {r["lad_name"]: r for r in stp.lad_table()}
    lad_sq = {r["lad_name"]: r for r in sq.lad_table()}
    assert float((w * delta[rutland]).sum() / w.sum()) == pytest.approx(
        lad["Rutland"]["mean_travel_min"] - lad_sq["Rutland"]["mean_travel_min"])
    page = leaflet.render_page(m)
    assert "against status quo (beds today)" in page


def test_classes_and_palettes() -> None:
    assert len(TRAVEL_PALETTE) == len(TRAVEL_BREAKS_MIN) + 1 == len(travel_labels())
    assert travel_class(0) == 0 and travel_class(10) == 1 and travel_class(75) == 5
    assert travel_class(float("inf")) == -1
    assert change_class(0.0) == 3 and change_class(-12) == 0 and change_class(12) == 6


def _evil_geodata(geodata_copy: Path) -> Path:
    path = geodata_copy / "sites.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["name"] = EVIL
    rows[1]["name"] = EVIL_JS
    rows[2]["town"] = "<img src=x onerror=alert(3)>"
    rows[3]["name"] = EVIL_JINJA
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return geodata_copy


def evil_prepared(geodata_copy: Path, llr: tuple[Prepared, dict[str, Solution]]) -> Prepared:
    """The LLR data with hostile site names (same travel matrix)."""
    return prepare(_evil_geodata(geodata_copy), travel=llr[0].travel)


def test_names_from_data_are_escaped(geodata_copy: Path,
                                     llr: tuple[Prepared, dict[str, Solution]]) -> None:
    prepared = evil_prepared(geodata_copy, llr)
    solutions = {"status_quo": evaluate_configuration(prepared, "status_quo"),
                 "stp_2016": evaluate_configuration(prepared, "stp_2016")}
    pages = [leaflet.render_page(maps.option_map(prepared, solutions, "stp_2016")),
             leaflet.render_page(maps.change_map(prepared, solutions, "stp_2016")),
             leaflet.render_page(maps.comparison_map(prepared, solutions, "status_quo",
                                                  "stp_2016"))]
    for page in pages:
        assert EVIL not in page
        assert "<img src=x" not in page
        assert "${alert(2)}" not in page
        # Shown as text: escaped in the tables, and as \u003c-escaped JSON in the scripts.
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "\\u003cscript\\u003ealert(1)" in page
        assert page.count("<script>") == page.count("</script>")
        assert "{{ 7*7 }} Ward {# 1" in page and "49 Ward" not in page


def test_appraisal_measures_are_listed(llr: tuple[Prepared, dict[str, Solution]]) -> None:
    prepared, solutions = llr
    measures = {"stp_2016": {"net_capital_gbp": 3.54e6, "sites_with_beds": 6,
                             "access": {"nested": 1}, "note": EVIL},
                "status_quo": {"net_capital_gbp": 0.0, "sites_with_beds": 8}}
    page = leaflet.render_page(maps.comparison_map(prepared, solutions, "status_quo", "stp_2016",
                                                measures=measures))
    assert "<caption>Appraisal measures</caption>" in page
    assert "Net capital cost</th><td class='num'>£0.00m</td><td class='num'>£3.54m</td>" in page
    assert "Hospitals with inpatient beds</th><td class='num'>8</td><td class='num'>6</td>" in page
    assert "nested" not in page and EVIL not in page
    plain = leaflet.render_page(maps.option_map(prepared, solutions, "stp_2016"))
    assert "Appraisal measures" not in plain


def test_pages_are_deterministic(llr: tuple[Prepared, dict[str, Solution]],
                                 tmp_path: Path) -> None:
    prepared, solutions = llr
    a = leaflet.render_page(maps.option_map(prepared, solutions, "optimal"))
    b = leaflet.render_page(maps.option_map(prepared, solutions, "optimal"))
    assert a == b
    assert "map_0001" in a  # ids are numbered, not random
    p1 = leaflet.write_page(maps.change_map(prepared, solutions, "stp_2016"), tmp_path / "a.html")
    p2 = leaflet.write_page(maps.change_map(prepared, solutions, "stp_2016"), tmp_path / "b.html")
    assert p1.read_bytes() == p2.read_bytes()


def test_write_maps_plan(llr: tuple[Prepared, dict[str, Solution]], tmp_path: Path) -> None:
    prepared, solutions = llr
    only = {"stp_2016": solutions["stp_2016"]}  # the baseline is evaluated when missing
    paths = maps.write_maps(prepared, only, tmp_path)
    assert [p.name for p in paths] == ["map_stp_2016.html", "change_stp_2016.html",
                                       "compare_status_quo_vs_stp_2016.html", "maps.html"]
    index = (tmp_path / "maps.html").read_text(encoding="utf-8")
    assert all(p.name in index for p in paths[:-1])
    assert maps.map_plan(["status_quo", "stp_2016", "optimal"]) == [
        ("option", ("status_quo",)), ("option", ("stp_2016",)), ("option", ("optimal",)),
        ("change", ("stp_2016",)), ("change", ("optimal",)),
        ("compare", ("status_quo", "stp_2016")), ("compare", ("status_quo", "optimal")),
        ("compare", ("stp_2016", "optimal"))]


def test_static_maps(llr: tuple[Prepared, dict[str, Solution]], tmp_path: Path) -> None:
    from PIL import Image

    from siteopt.outputs import print_maps as static_maps
    prepared, solutions = llr
    views = option_views(prepared, solutions)
    fig = static_maps.option_figure(prepared, views["stp_2016"])
    png = static_maps.save_figure(fig, tmp_path / "m.png")
    pdf = static_maps.save_figure(fig, tmp_path / "m.pdf")
    with Image.open(png) as im:
        assert im.size == (round(11.69 * 300), round(8.27 * 300))
        dpi = im.info.get("dpi")
        assert dpi is not None and round(dpi[0]) == 300
        grey = np.asarray(im.convert("L"))
    assert grey.min() < 40 and grey.max() > 240  # black ink on white paper
    assert pdf.read_bytes().startswith(b"%PDF")
    texts = [t for a in fig.findobj(match=lambda a: hasattr(a, "get_text"))
             if isinstance(t := a.get_text(), str)]
    joined = " ".join(texts)
    for needle in ("N", "10 km", "Office for National Statistics", "OpenStreetMap",
                   "under 10 min", "Rutland Memorial Hospital", MEASURE_WORDS,
                   "This option does not meet every requirement:", "Bed need not met"):
        assert needle in joined, needle
    assert "optimal" not in joined.lower() and "nearest" not in joined


def test_map_command(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(cli, ["map", "--option", "no_such", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "no option 'no_such'" in res.output and "Traceback" not in res.output
    res = runner.invoke(cli, ["map", "--option", "stp_2016", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    written = [Path(line).name for line in res.output.split()]
    assert written == ["map_stp_2016.html", "change_stp_2016.html",
                       "compare_status_quo_vs_stp_2016.html", "maps.html"]


def test_titles_in_words(llr: tuple[Prepared, dict[str, Solution]], tmp_path: Path) -> None:
    """Titles given by name are the pages' titles, headings, table headers and index links
    (escaped); options without one keep their plain words."""
    prepared, solutions = llr
    titles = {"stp_2016": "Option D: 6 sites: beds close at Rutland Memorial & Feilding <Palmer>",
              "status_quo": "Option A: status quo"}
    sols = {n: solutions[n] for n in ("status_quo", "stp_2016", "optimal")}
    maps.write_maps(prepared, sols, tmp_path, titles=titles)
    esc_d = "Option D: 6 sites: beds close at Rutland Memorial &amp; Feilding &lt;Palmer&gt;"
    index = (tmp_path / "maps.html").read_text(encoding="utf-8")
    assert f'<a href="map_stp_2016.html">{esc_d}: beds and drive times</a>' in index
    assert "Optimised option: beds and drive times" in index  # no title given: plain words
    assert "pareto" not in index and "stp_2016<" not in index
    page = (tmp_path / "map_stp_2016.html").read_text(encoding="utf-8")
    assert f"<title>{esc_d}: community hospital" in page and f"<h1>{esc_d}" in page
    assert f"<th scope='colgroup' colspan='3'>{esc_d}</th>" in page
    assert "Feilding <Palmer>" not in page
    change = (tmp_path / "change_stp_2016.html").read_text(encoding="utf-8")
    assert "change in drive time against option A: status quo" in change
    compare = (tmp_path / "compare_stp_2016_vs_optimal.html").read_text(encoding="utf-8")
    assert f"<h1>{esc_d} and Optimised option side by side" in compare


def test_words_helpers() -> None:
    from siteopt.outputs.map_data import in_sentence, option_words, plain_notes
    assert option_words("stp_2016") == "STP 2016 proposal"
    assert option_words("pareto_1") == "pareto 1"
    assert option_words("pareto_1", {"pareto_1": "Option C: 7 sites"}) == "Option C: 7 sites"
    assert option_words("pareto_1", {"other": "x"}) == "pareto 1"
    assert in_sentence("Status quo (beds today)") == "status quo (beds today)"
    assert in_sentence("Option D: 6 sites") == "option D: 6 sites"
    assert in_sentence("STP 2016 proposal") == "STP 2016 proposal"
    from siteopt.wards.results import Assignment
    stopped = Solution("feasible", 0.0123, 1.0, "mean_travel", "highs", {}, Assignment.empty(),
                       violations=("bed need not met: rehab short",))
    problems, note = plain_notes(stopped)
    assert problems == ("Bed need not met: rehab short",)
    assert "time limit" in note and "up to 1.23%" in note and "optimal" not in note
    fixed = Solution("optimal", 0.0, 1.0, "mean_travel", "highs", {}, Assignment.empty(),
                     evaluated=True)
    assert plain_notes(fixed) == ((), "")

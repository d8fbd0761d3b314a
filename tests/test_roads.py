"""Road graphs: OSM parsing on a tiny hand-written extract and on the real Rutland extract,
simplification, strongly connected component, the strategic network, save/load."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from siteopt.errors import DataError
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.travel import graph as road_graph
from siteopt.travel import osm, strategic
from siteopt.travel import speeds as road_speeds

ROADS_DIR = DEFAULT_GEODATA_DIR / "roads"

# A tiny OSM world, about 100 m between nodes along a line of latitude 52.6 (east-west):
#   1 --- 2 --- 3 --- 4     primary, maxspeed 30 mph, two-way
#         |           |
#         5 --------> 6     residential, oneway=yes (5 -> 6), no maxspeed
#   7 --- 8                 footway (not drivable)
#   9 --- 10                an isolated residential street (not in the largest SCC)
LON0, LAT0, DLON = -0.7, 52.6, 0.00147  # 0.00147 deg of longitude ~ 99.6 m at 52.6 N
TINY_OSM = f"""<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" version="1" lat="{LAT0}" lon="{LON0}"/>
  <node id="2" version="1" lat="{LAT0}" lon="{LON0 + DLON}"/>
  <node id="3" version="1" lat="{LAT0}" lon="{LON0 + 2 * DLON}"/>
  <node id="4" version="1" lat="{LAT0}" lon="{LON0 + 3 * DLON}"/>
  <node id="5" version="1" lat="{LAT0 - 0.0009}" lon="{LON0 + DLON}"/>
  <node id="6" version="1" lat="{LAT0 - 0.0009}" lon="{LON0 + 3 * DLON}"/>
  <node id="7" version="1" lat="{LAT0 + 0.002}" lon="{LON0}"/>
  <node id="8" version="1" lat="{LAT0 + 0.002}" lon="{LON0 + DLON}"/>
  <node id="9" version="1" lat="{LAT0 + 0.004}" lon="{LON0}"/>
  <node id="10" version="1" lat="{LAT0 + 0.004}" lon="{LON0 + DLON}"/>
  <way id="100" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="primary"/><tag k="maxspeed" v="30 mph"/></way>
  <way id="101" version="1"><nd ref="2"/><nd ref="5"/><tag k="highway" v="residential"/></way>
  <way id="102" version="1"><nd ref="5"/><nd ref="6"/>
    <tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
  <way id="103" version="1"><nd ref="6"/><nd ref="4"/><tag k="highway" v="residential"/></way>
  <way id="104" version="1"><nd ref="7"/><nd ref="8"/><tag k="highway" v="footway"/></way>
  <way id="105" version="1"><nd ref="9"/><nd ref="10"/><tag k="highway" v="residential"/></way>
</osm>
"""


@pytest.fixture()
def tiny_osm(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.osm"
    path.write_text(TINY_OSM, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def speeds() -> dict[tuple[str, str], float]:
    return road_speeds.read_speeds(ROADS_DIR / "speeds.csv")


@pytest.fixture(scope="module")
def params() -> dict[str, float]:
    return road_speeds.read_parameters(ROADS_DIR / "parameters.csv")


def test_parse_maxspeed() -> None:
    assert osm.parse_maxspeed_kph("30 mph") == pytest.approx(48.28032)
    assert osm.parse_maxspeed_kph("50") == 50.0
    assert osm.parse_maxspeed_kph("80 km/h") == 80.0
    assert osm.parse_maxspeed_kph("national") is None
    assert osm.parse_maxspeed_kph(None) is None
    assert osm.parse_maxspeed_kph("0") is None


def test_tiny_osm_graph(tiny_osm: Path, speeds: dict[tuple[str, str], float],
                        params: dict[str, float]) -> None:
    g = osm.osm_to_graph(tiny_osm, speeds, params)
    # footway excluded; the isolated street is present before the SCC step
    assert 7 not in g and 8 not in g
    assert g.has_edge(9, 10)
    # one-way respected
    assert g.has_edge(5, 6) and not g.has_edge(6, 5)
    # length and time from maxspeed * factor
    e = g[1][2]
    assert e["length_m"] == pytest.approx(99.6, abs=0.5)
    speed = 30 * road_speeds.MPH_TO_KPH * params["maxspeed_factor"]
    assert e["travel_min"] == pytest.approx(e["length_m"] / 1000 / speed * 60)
    # untagged residential uses the class speed (rural: no urban areas given)
    e = g[2][5]
    assert e["travel_min"] == pytest.approx(e["length_m"] / 1000
                                            / speeds[("residential", "rural")] * 60)
    scc = road_graph.largest_scc(g)
    assert 9 not in scc and 10 not in scc
    assert set(scc.nodes) == {1, 2, 3, 4, 5, 6}


def test_simplify_keeps_shortest_times(tiny_osm: Path, speeds: dict[tuple[str, str], float],
                                       params: dict[str, float]) -> None:
    g = road_graph.largest_scc(osm.osm_to_graph(tiny_osm, speeds, params))
    s = road_graph.simplify_graph(g)
    assert s.number_of_nodes() < g.number_of_nodes()
    assert 3 not in s  # a two-way pass-through node
    for a in s.nodes:
        full = nx.single_source_dijkstra_path_length(g, a, weight="travel_min")
        simple = nx.single_source_dijkstra_path_length(s, a, weight="travel_min")
        for b, t in simple.items():
            assert t == pytest.approx(full[b])


def test_simplify_one_way_chain() -> None:
    g = nx.DiGraph()
    for n in range(4):
        g.add_node(n, x=0.0, y=0.0)
    for a, b in [(0, 1), (1, 2), (2, 3)]:
        g.add_edge(a, b, length_m=100.0, travel_min=1.0, speed_kph=6.0, highway="road")
    s = road_graph.simplify_graph(g)
    assert list(s.edges) == [(0, 3)]
    assert s[0][3]["travel_min"] == 3.0 and s[0][3]["length_m"] == 300.0


def test_save_load_roundtrip(tmp_path: Path, tiny_osm: Path,
                             speeds: dict[tuple[str, str], float],
                             params: dict[str, float]) -> None:
    g = road_graph.largest_scc(osm.osm_to_graph(tiny_osm, speeds, params))
    path = road_graph.save_graph(g, tmp_path / "g.npz")
    h = road_graph.load_graph(path)
    assert set(h.nodes) == set(g.nodes)
    assert set(h.edges) == set(g.edges)
    for a, b, d in g.edges(data=True):
        assert h[a][b]["travel_min"] == d["travel_min"]
        assert h[a][b]["length_m"] == d["length_m"]
        assert h[a][b]["highway"] == d["highway"]
    assert h.nodes[1]["x"] == g.nodes[1]["x"]


def test_load_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(2))
    with pytest.raises(DataError, match="not a siteopt-roads-1"):
        road_graph.load_graph(bad)
    with pytest.raises(DataError, match="not found"):
        road_graph.load_graph(tmp_path / "missing.npz")


def test_missing_weight_is_an_error(tmp_path: Path) -> None:
    g = nx.DiGraph()
    g.add_node(1, x=0.0, y=52.0)
    g.add_node(2, x=0.001, y=52.0)
    g.add_edge(1, 2, length_m=70.0)  # no travel_min: networkx would silently count 1
    with pytest.raises(DataError, match="travel_min"):
        road_graph.save_graph(g, tmp_path / "g.npz")


def test_speeds_file_validation(tmp_path: Path) -> None:
    p = tmp_path / "speeds.csv"
    p.write_text("highway,setting,speed_kph,source\nprimary,rural,-5,x\nprimary,town,50,\n",
                 encoding="utf-8")
    with pytest.raises(DataError) as err:
        road_speeds.read_speeds(p)
    text = "\n".join(err.value.lines())
    assert "row 2, field 'speed_kph'" in text
    assert "row 3, field 'setting'" in text and "row 3, field 'source'" in text


def test_build_inputs_of_the_shipped_folder_pass() -> None:
    strategic.check_build_inputs(ROADS_DIR, strategic=True)


def test_parameters_file_reports_every_problem_at_once(tmp_path: Path) -> None:
    """A hand-made parameters.csv with five faults: each is one line with row and field."""
    rows = [r.split(",", 2) for r in (ROADS_DIR / "parameters.csv").read_text(
        encoding="utf-8").splitlines()[1:]]
    values = {r[0]: r[1] for r in rows}
    values.update(detour_factor="-1", snap_candidates="2.5", access_speed_urban_kph="fast")
    del values["access_fixed_min"]
    values["detour_factr"] = "1.3"
    p = tmp_path / "parameters.csv"
    p.write_text("name,value,unit,source\n" + "".join(
        f"{k},{v},x,{'' if k == 'max_snap_m' else 'a source'}\n" for k, v in values.items()),
        encoding="utf-8")
    with pytest.raises(DataError) as err:
        road_speeds.read_parameters(p, label="parameters.csv")
    lines = err.value.lines()
    order = list(values)
    row = {k: order.index(k) + 2 for k in order}
    assert sorted(lines) == sorted([
        f"parameters.csv, row {row['access_speed_urban_kph']}, field 'value': 'fast' is not a "
        "number; write a number of km/h (access_speed_urban_kph)",
        f"parameters.csv, row {row['detour_factor']}, field 'value': detour_factor = -1 is below "
        "the plausible minimum 1 ratio (range 1-3 ratio: a road is never shorter than the "
        "straight line (1.0); circuity in UK and US studies is about 1.2-1.4 (Boscoe et al. "
        "2012), so above 3 is a typing error); correct the value",
        f"parameters.csv, row {row['snap_candidates']}, field 'value': snap_candidates = 2.5 "
        "must be a whole number",
        f"parameters.csv, row {row['max_snap_m']}, field 'source': every parameter needs a "
        "source",
        f"parameters.csv, row {row['detour_factr']}, field 'name': unknown parameter "
        "'detour_factr'; the parameters are: " + ", ".join(
            k for (f, k) in road_speeds.plausible_ranges() if f == "parameters.csv"),
        "parameters.csv, field 'name': no row for parameter 'access_fixed_min'; add it (a number "
        "of min, 0-30 min, with its source)",
    ])


def test_urban_areas_are_read_and_checked(tmp_path: Path) -> None:
    p = tmp_path / "urban_areas.csv"
    p.write_bytes(b"\xef\xbb\xbfname,lat,lon,radius_km,source\r\nA,52.6,-1.1,2.5,s\r\n"
                  b"A,52.7,-1.1,60,s\r\n")
    with pytest.raises(DataError) as err:
        road_speeds.read_urban_areas(p, label="u.csv")
    assert [ln.split(":")[0] for ln in err.value.lines()] == [
        "u.csv, row 3, field 'name'", "u.csv, row 3, field 'radius_km'"]
    p.write_bytes(b"\xef\xbb\xbfname,lat,lon,radius_km,source\r\nA,52.6,-1.1,2.5,s\r\n")
    assert road_speeds.read_urban_areas(p) == [road_speeds.UrbanArea("A", 52.6, -1.1, 2.5)]


def test_graph_file_format_is_checked(tmp_path: Path) -> None:
    """A two-node graph, saved, then broken array by array: each break is refused by name."""
    g = nx.DiGraph()
    g.add_node(1, x=-1.0, y=52.0)
    g.add_node(2, x=-1.01, y=52.0)
    g.add_edge(1, 2, length_m=684.0, travel_min=0.7, highway="primary")
    path = road_graph.save_graph(g, tmp_path / "g.npz")
    good = road_graph.load_graph_arrays(path)
    assert good.node_id.tolist() == [1, 2] and good.travel_min.tolist() == [0.7]
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    for key, value, field in (("edge_v", np.array([2], dtype=np.int32), "edge_v"),
                              ("travel_min", np.array([np.nan]), "travel_min"),
                              ("lat", np.array([52.0, 91.0]), "lat/lon"),
                              ("highway_code", np.array([3], dtype=np.uint8), "highway_code")):
        broken = tmp_path / f"{key}.npz"
        np.savez_compressed(broken, **{**arrays, key: value})
        with pytest.raises(DataError) as err:
            road_graph.load_graph_arrays(broken, label="g.npz")
        assert [p.field for p in err.value.problems] == [field], err.value.lines()
    truncated = tmp_path / "t.npz"
    truncated.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DataError, match="truncated or damaged"):
        road_graph.load_graph_arrays(truncated)


def test_every_assumption_has_a_source(tiny_osm: Path) -> None:
    """Every shipped speed and parameter has a source and is read as written; every drivable
    class has its own speed in both settings, so a built graph never falls back on ``road``."""
    with (ROADS_DIR / "speeds.csv").open(newline="", encoding="utf-8") as f:
        speed_rows = list(csv.DictReader(f))
    with (ROADS_DIR / "parameters.csv").open(newline="", encoding="utf-8") as f:
        param_rows = list(csv.DictReader(f))
    assert speed_rows and param_rows
    assert all(r["source"].strip() for r in speed_rows + param_rows)
    speeds = road_speeds.read_speeds(ROADS_DIR / "speeds.csv")
    params = road_speeds.read_parameters(ROADS_DIR / "parameters.csv")
    assert speeds == {(r["highway"], r["setting"]): float(r["speed_kph"]) for r in speed_rows}
    assert params == {r["name"]: float(r["value"]) for r in param_rows}
    assert all(v > 0 for v in speeds.values())
    assert {(h, s) for h in osm.DRIVABLE_HIGHWAYS for s in ("rural", "urban")} <= set(speeds)
    assert 0 < params["maxspeed_factor"] <= 1
    # the graph built with them: every edge runs at its class speed (rural, no urban areas) or
    # at the tagged limit times the factor, and its time is its length at that speed
    g = osm.osm_to_graph(tiny_osm, speeds, params)
    assert g.number_of_edges() > 0
    for _, _, d in g.edges(data=True):
        limit = 30 * road_speeds.MPH_TO_KPH * params["maxspeed_factor"]
        expected = limit if d["highway"] == "primary" else speeds[(d["highway"], "rural")]
        assert d["speed_kph"] == pytest.approx(expected)
        assert d["travel_min"] == pytest.approx(d["length_m"] / 1000 / expected * 60)


def test_strategic_tables_unknown_node(tmp_path: Path) -> None:
    nodes = tmp_path / "n.csv"
    nodes.write_text("node,lat,lon,note\nA,52.0,-1.0,a\nB,52.1,-1.0,b\n", encoding="utf-8")
    routes = tmp_path / "r.csv"
    routes.write_text("ref,highway,nodes,note\nA1,trunk,A B C,x\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"unknown nodes \['C'\]"):
        strategic.strategic_geojson_from_tables(nodes, routes)


def test_strategic_graph_shares_junctions(tmp_path: Path,
                                          speeds: dict[tuple[str, str], float]) -> None:
    nodes = tmp_path / "n.csv"
    nodes.write_text("node,lat,lon,note\nA,52.0,-1.0,a\nB,52.1,-1.0,b\nC,52.1,-0.9,c\n",
                     encoding="utf-8")
    routes = tmp_path / "r.csv"
    routes.write_text("ref,highway,nodes,note\nA1,trunk,A B,x\nA2,primary,B C,y\n",
                      encoding="utf-8")
    gj = tmp_path / "s.geojson"
    gj.write_text(json.dumps(strategic.strategic_geojson_from_tables(nodes, routes)),
                  encoding="utf-8")
    g = strategic.strategic_to_graph(gj, speeds)
    assert g.number_of_nodes() == 3 and g.number_of_edges() == 4
    a = next(n for n, d in g.nodes(data=True) if d["y"] == 52.0)
    c = next(n for n, d in g.nodes(data=True) if d["x"] == -0.9)
    t = nx.shortest_path_length(g, a, c, weight="travel_min")
    ab_km = road_graph.haversine_m(52.0, -1.0, 52.1, -1.0) / 1000
    bc_km = road_graph.haversine_m(52.1, -1.0, 52.1, -0.9) / 1000
    expected = (ab_km / speeds[("trunk", "rural")] + bc_km / speeds[("primary", "rural")]) * 60
    assert t == pytest.approx(float(expected))


def test_strategic_limit_scales_rural_speed(tmp_path: Path,
                                            speeds: dict[tuple[str, str], float]) -> None:
    """A stretch with a documented limit runs at the class speed x limit / national limit."""
    nodes = tmp_path / "n.csv"
    nodes.write_text("node,lat,lon,note\nA,52.0,-1.0,a\nB,52.1,-1.0,b\nC,52.2,-1.0,c\n",
                     encoding="utf-8")
    routes = tmp_path / "r.csv"
    routes.write_text("ref,highway,maxspeed_mph,nodes,note\nA1,trunk,,A B,x\n"
                      "A1,trunk,50,B C,y\n", encoding="utf-8")
    data = strategic.strategic_geojson_from_tables(nodes, routes)
    assert "maxspeed_mph" not in data["features"][0]["properties"]
    assert data["features"][1]["properties"]["maxspeed_mph"] == 50
    gj = tmp_path / "s.geojson"
    gj.write_text(json.dumps(data), encoding="utf-8")
    g = strategic.strategic_to_graph(gj, speeds)
    a, b, c = (next(n for n, d in g.nodes(data=True) if d["y"] == y)
               for y in (52.0, 52.1, 52.2))
    assert g[a][b]["speed_kph"] == pytest.approx(speeds[("trunk", "rural")])
    assert g[b][c]["speed_kph"] == pytest.approx(speeds[("trunk", "rural")] * 50 / 60)
    assert g[c][b]["speed_kph"] == pytest.approx(speeds[("trunk", "rural")] * 50 / 60)
    ratios = strategic.strategic_limit_ratios(gj)
    assert sorted(set(ratios.values())) == [pytest.approx(50 / 60), 1.0]
    assert road_speeds.limit_ratio("motorway", 70) == 1.0
    assert road_speeds.limit_ratio("trunk", 70) == pytest.approx(70 / 60)
    assert road_speeds.limit_ratio("secondary", None) == 1.0


def test_strategic_limit_must_be_a_number(tmp_path: Path) -> None:
    nodes = tmp_path / "n.csv"
    nodes.write_text("node,lat,lon,note\nA,52.0,-1.0,a\nB,52.1,-1.0,b\n", encoding="utf-8")
    routes = tmp_path / "r.csv"
    routes.write_text("ref,highway,maxspeed_mph,nodes,note\nA1,trunk,fast,A B,x\n",
                      encoding="utf-8")
    with pytest.raises(DataError, match="maxspeed_mph"):
        strategic.strategic_geojson_from_tables(nodes, routes)


def test_shipped_geojson_matches_tables() -> None:
    """The committed GeoJSON is exactly what the tables produce (no hand edits drift)."""
    built = strategic.strategic_geojson_from_tables(ROADS_DIR / "strategic_nodes.csv",
                                                ROADS_DIR / "strategic_routes.csv")
    shipped = json.loads((ROADS_DIR / "strategic_roads.geojson").read_text(encoding="utf-8"))
    assert shipped == built


# ------------------------------------------------------------------ the real Rutland extract

OAKHAM = (52.6703, -0.7277)  # market place
UPPINGHAM = (52.5876, -0.7224)  # market place
STAMFORD_EDGE = (52.6510, -0.5060)  # A606 at the Rutland boundary west of Stamford (Tinwell)


@pytest.fixture(scope="module")
def rutland(raw_dir: Path) -> tuple[nx.DiGraph, road_graph.BuildReport, float]:
    start = time.perf_counter()
    g, report = osm.build_osm_graph(raw_dir / "osm" / "rutland-latest-2018.osm.pbf",
                                      ROADS_DIR)
    return g, report, time.perf_counter() - start


def _nearest(g: nx.DiGraph, lat: float, lon: float) -> int:
    nodes = list(g.nodes)
    lats = np.array([g.nodes[n]["y"] for n in nodes])
    lons = np.array([g.nodes[n]["x"] for n in nodes])
    return int(nodes[int(np.argmin(road_graph.haversine_m(lats, lons, lat, lon)))])


def test_rutland_build(rutland: tuple[nx.DiGraph, road_graph.BuildReport, float]) -> None:
    g, report, seconds = rutland
    assert seconds < 30
    assert report.raw_nodes > 15_000  # drivable-way nodes of the 113k-node extract
    assert 2_000 < report.nodes < report.raw_nodes  # simplified
    assert nx.is_strongly_connected(g)
    road_graph.check_edge_weights(g)


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        # Oakham - Uppingham: 9.3 km straight, about 11 km by the A6003, 60 mph road; free-flow
        # (OSRM-like, which is what the speeds are calibrated to) about 9-10 min, congested 13
        (OAKHAM, UPPINGHAM, 8.0, 18.0),
        # Oakham - Stamford edge: 15.5 km straight, about 18 km by the A606 past Empingham
        (OAKHAM, STAMFORD_EDGE, 12.0, 25.0),
        # Uppingham - Stamford edge: 15 km straight, A47 then A6121 or lanes, about 20 km
        (UPPINGHAM, STAMFORD_EDGE, 13.0, 28.0),
    ],
)
def test_rutland_drive_times_plausible(
    rutland: tuple[nx.DiGraph, road_graph.BuildReport, float],
    a: tuple[float, float], b: tuple[float, float], low: float, high: float,
) -> None:
    """Checks: times within a plausible band, average speed 35-90 km/h over the straight line
    times 1.2, and both directions within 20% of each other."""
    g = rutland[0]
    na, nb = _nearest(g, *a), _nearest(g, *b)
    there = nx.shortest_path_length(g, na, nb, weight="travel_min")
    back = nx.shortest_path_length(g, nb, na, weight="travel_min")
    assert low <= there <= high
    assert abs(there - back) <= 0.2 * there
    km = float(road_graph.haversine_m(a[0], a[1], b[0], b[1])) / 1000
    speed_kph = 1.2 * km / (there / 60)
    assert 35 <= speed_kph <= 90

"""Travel-time matrices: tiny hand-built graphs with known answers, networkx = CSR, cache
invalidation, precomputed matrices, the CLI, and the accuracy check against the reference."""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner

from siteopt import crs
from siteopt.cli import cli
from siteopt.data import validate
from siteopt.data.load import load_geodata
from siteopt.errors import DataError
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.travel import check as tcheck
from siteopt.travel import graph as road_graph
from siteopt.travel import matrix as tr

ROADS_DIR = DEFAULT_GEODATA_DIR / "roads"
GRAPH = ROADS_DIR / tr.DEFAULT_GRAPH_NAME

# Tiny world: four nodes on a square about 1 km apart, near Leicester.
#   A (0) -> B (1): 2 min      B -> A: 2 min
#   B (1) -> C (2): 3 min      (one way)
#   C (2) -> D (3): 1 min      D -> C: 1 min
#   A (0) -> D (3): 10 min     D -> A: 10 min
#   E (4): an island, unreachable
LAT = [52.60, 52.60, 52.61, 52.61, 52.70]
LON = [-1.10, -1.085, -1.085, -1.10, -1.00]
EDGES = [(0, 1, 2.0), (1, 0, 2.0), (1, 2, 3.0), (2, 3, 1.0), (3, 2, 1.0), (0, 3, 10.0),
         (3, 0, 10.0), (4, 4, 0.5)]


def tiny_arrays() -> road_graph.GraphArrays:
    u = np.array([e[0] for e in EDGES if e[0] != e[1]], dtype=np.int32)
    v = np.array([e[1] for e in EDGES if e[0] != e[1]], dtype=np.int32)
    t = np.array([e[2] for e in EDGES if e[0] != e[1]])
    return road_graph.GraphArrays(
        node_id=np.arange(5, dtype=np.int64), lon=np.array(LON), lat=np.array(LAT),
        edge_u=u, edge_v=v, length_m=t * 1000.0, travel_min=t,
        highway_code=np.zeros(len(t), dtype=np.uint8), highway_names=("road",),
    )


EXACT = tr.AccessModel(access_speed_urban_kph=30.0, access_speed_rural_kph=30.0,
                       detour_factor=1.0, snap_candidates=1, max_snap_m=5000.0)


def at_nodes(idx: list[int], prefix: str) -> tr.Points:
    return tr.Points(tuple(f"{prefix}{i}" for i in idx), np.array([LAT[i] for i in idx]),
                     np.array([LON[i] for i in idx]))


@pytest.mark.parametrize("method", ["csr", "networkx"])
def test_tiny_graph_known_answers(method: tr.Method) -> None:
    m = tr.matrix_from_arrays(tiny_arrays(), at_nodes([0, 1, 2, 3, 4], "o"),
                              at_nodes([0, 2, 4], "d"), EXACT, method=method)
    expected = np.array([
        [0.0, 5.0, np.inf],   # A: to C via B (2 + 3)
        [2.0, 3.0, np.inf],   # B
        [11.0, 0.0, np.inf],  # C: to A only via D (1 + 10); B -> C is one-way
        [10.0, 1.0, np.inf],  # D
        [np.inf, np.inf, 0.0],  # E: island
    ])
    assert m.travel_min == pytest.approx(expected, abs=1e-6)
    assert set(m.unreachable_pairs()) == {("o0", "d4"), ("o1", "d4"), ("o2", "d4"),
                                          ("o3", "d4"), ("o4", "d0"), ("o4", "d2")}


def test_access_time_added_not_ignored() -> None:
    # an origin 500 m north of A: access = 0.5 km * 1.3 / 30 km/h * 60 + 2 min fixed
    access = replace(EXACT, detour_factor=1.3, access_fixed_min=2.0)
    lat_off = 500.0 / 111_250.0  # metres to degrees of latitude at 52.6 N (about)
    o = tr.Points(("near_a",), np.array([LAT[0] + lat_off]), np.array([LON[0]]))
    m = tr.matrix_from_arrays(tiny_arrays(), o, at_nodes([1], "d"), access)
    snap = tr.snap_points(tiny_arrays(), o, access)
    assert snap.nearest_m[0] == pytest.approx(500.0, rel=0.01)
    access_min = 2.0 + snap.nearest_m[0] * 1.3 / 1000 / 30 * 60
    # origin access + A->B 2 min + destination access (fixed part only: it sits on B)
    assert m.travel_min[0, 0] == pytest.approx(access_min + 2.0 + 2.0, abs=1e-6)


def test_too_far_points_are_reported() -> None:
    far = tr.Points(("far",), np.array([52.0]), np.array([-1.1]))  # ~67 km south of A
    m = tr.matrix_from_arrays(tiny_arrays(), far, at_nodes([0], "d"), EXACT)
    assert m.too_far_ids == ("far",)
    assert np.isfinite(m.travel_min[0, 0])  # still computed, with its access time


def test_snap_candidates_pick_the_quickest() -> None:
    # a destination between A and D; with k=2 the origin at B may use either
    access = replace(EXACT, snap_candidates=2)
    d = tr.Points(("mid",), np.array([52.605]), np.array([-1.10]))
    m2 = tr.matrix_from_arrays(tiny_arrays(), at_nodes([1], "o"), d, access)
    m1 = tr.matrix_from_arrays(tiny_arrays(), at_nodes([1], "o"), d, EXACT)
    assert m2.travel_min[0, 0] <= m1.travel_min[0, 0]


def random_graph(seed: int) -> road_graph.GraphArrays:
    rng = np.random.default_rng(seed)
    n = 300
    g = nx.gnm_random_graph(n, 1200, seed=seed, directed=True)
    u = np.array([a for a, _ in g.edges], dtype=np.int32)
    v = np.array([b for _, b in g.edges], dtype=np.int32)
    t = rng.uniform(0.1, 5.0, len(u))
    return road_graph.GraphArrays(np.arange(n, dtype=np.int64), rng.uniform(-1.3, -0.9, n),
                             rng.uniform(52.4, 52.8, n), u, v, t * 800, t,
                             np.zeros(len(u), dtype=np.uint8), ("road",))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_networkx_equals_csr_random(seed: int) -> None:
    arrays = random_graph(seed)
    rng = np.random.default_rng(seed + 100)
    o = tr.Points(tuple(f"o{i}" for i in range(60)), rng.uniform(52.4, 52.8, 60),
                  rng.uniform(-1.3, -0.9, 60))
    d = tr.Points(tuple(f"d{i}" for i in range(7)), rng.uniform(52.4, 52.8, 7),
                  rng.uniform(-1.3, -0.9, 7))
    access = replace(EXACT, snap_candidates=3)
    a = tr.matrix_from_arrays(arrays, o, d, access, method="csr").travel_min
    b = tr.matrix_from_arrays(arrays, o, d, access, method="networkx").travel_min
    assert np.array_equal(np.isinf(a), np.isinf(b))
    fin = np.isfinite(a)
    assert np.max(np.abs(a[fin] - b[fin])) <= 1e-9


@pytest.fixture(scope="module")
def zones_sites() -> tuple[tr.Points, tr.Points]:
    return (tr.Points.from_csv(DEFAULT_GEODATA_DIR / "zones.csv", id_column="zone_id"),
            tr.Points.from_csv(DEFAULT_GEODATA_DIR / "sites.csv", id_column="site_id"))


def test_networkx_equals_csr_on_llr(zones_sites: tuple[tr.Points, tr.Points]) -> None:
    zones, sites = zones_sites
    arrays = road_graph.load_graph_arrays(GRAPH)
    access = tr.AccessModel.from_roads_dir(ROADS_DIR)
    a = tr.matrix_from_arrays(arrays, zones, sites, access, method="csr").travel_min
    b = tr.matrix_from_arrays(arrays, zones, sites, access, method="networkx").travel_min
    assert a.shape == (634, 9)
    assert np.all(np.isfinite(a))
    assert np.max(np.abs(a - b)) <= 1e-9


def test_zone_site_travel_real(tmp_path: Path) -> None:
    m = tr.zone_site_travel(load_geodata(DEFAULT_GEODATA_DIR), cache_dir=tmp_path)
    assert m.travel_min.shape == (634, 9)
    assert m.too_far_ids == ()
    assert m.unreachable_pairs() == []
    # every zone has a site within 40 minutes; no pair beyond 2 hours
    assert m.travel_min.min(axis=1).max() < 40
    assert m.travel_min.max() < 120
    # each local authority's zones are, on average, quickest to their own hospital(s)
    import pandas as pd

    zones = pd.read_csv(DEFAULT_GEODATA_DIR / "zones.csv", dtype={"zone_id": str})
    sites = pd.read_csv(DEFAULT_GEODATA_DIR / "sites.csv", dtype={"site_id": str})
    assert list(m.origin_ids) == list(zones["zone_id"])
    assert list(m.destination_ids) == list(sites["site_id"])
    for lad, site in [("Rutland", "oakham"), ("Melton", "melton"), ("Charnwood", "loughborough")]:
        rows = (zones["lad_name"] == lad).to_numpy()
        mean_min = m.travel_min[rows].mean(axis=0)
        assert m.destination_ids[int(np.argmin(mean_min))] == site


def test_travel_stage_on_validated_geodata_equals_the_csv_path(
        tmp_path: Path, zones_sites: tuple[tr.Points, tr.Points]) -> None:
    """The travel stage on the validated GeoData gives exactly the matrix the old path gave
    (points read from zones.csv/sites.csv, fresh computation, no cache), under the same key."""
    data = load_geodata(DEFAULT_GEODATA_DIR)
    zones, sites = zones_sites
    assert data.zone_points.ids == zones.ids and data.site_points.ids == sites.ids
    assert np.array_equal(data.zone_points.lat, zones.lat)
    assert np.array_equal(data.zone_points.lon, zones.lon)
    assert np.array_equal(data.site_points.lat, sites.lat)
    assert np.array_equal(data.site_points.lon, sites.lon)
    # same cache key as before (the key hashes the points), so existing caches stay valid
    assert (tr.cache_key(GRAPH, ROADS_DIR, data.zone_points, data.site_points)
            == tr.cache_key(GRAPH, ROADS_DIR, zones, sites))
    fresh = tr.travel_matrix(GRAPH, zones, sites, roads_dir=ROADS_DIR, cache_dir=None)
    for cache in (tmp_path, tmp_path):  # computed, then a cache hit
        m = tr.zone_site_travel(data, cache_dir=cache)
        assert m.origin_ids == fresh.origin_ids and m.destination_ids == fresh.destination_ids
        assert np.array_equal(m.travel_min, fresh.travel_min)
        assert m.too_far_ids == fresh.too_far_ids
    assert len(list(tmp_path.glob("travel_*.npz"))) == 1


def test_one_great_britain_range_for_geodata_and_points(tmp_path: Path) -> None:
    """validate.py (geodata files) and Points.from_csv (any points) use crs's one range."""
    lat_col = next(c for c in validate.SITES.columns if c.name == "lat")
    lon_col = next(c for c in validate.ZONES.columns if c.name == "lon")
    assert (lat_col.min_value, lat_col.max_value) == crs.GB_LAT_RANGE_DEG == (49.8, 61.0)
    assert (lon_col.min_value, lon_col.max_value) == crs.GB_LON_RANGE_DEG == (-8.7, 2.0)
    assert crs.in_gb(52.6, -1.1) and crs.in_gb(49.8, -8.7) and crs.in_gb(61.0, 2.0)
    assert not crs.in_gb(-1.1, 52.6) and not crs.in_gb(49.5, -1.0) and not crs.in_gb(51.0, 2.3)
    p = tmp_path / "o.csv"
    p.write_text("id,lat,lon\njersey,49.2,-2.1\nlri,52.6278,-1.1348\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        tr.Points.from_csv(p)
    assert [str(x) for x in err.value.problems] == [
        f"{p}, row 2, field 'lat': (49.2, -2.1) is outside Great Britain: check lat/lon are not "
        "swapped"]


def test_crs_conversions_round_trip() -> None:
    from shapely.geometry import Point

    lat, lon = np.array([52.6278, 52.6703]), np.array([-1.1348, -0.7277])
    x, y = crs.to_bng(lat, lon)
    # Leicester Royal Infirmary: about 458,600 E, 303,900 N
    assert 458_000 < x[0] < 459_500 and 303_000 < y[0] < 305_000
    lat2, lon2 = crs.to_wgs84(x, y)
    assert np.max(np.abs(lat2 - lat)) < 1e-7 and np.max(np.abs(lon2 - lon)) < 1e-7
    g = crs.geometry_to_bng(Point(lon[0], lat[0]))
    assert g.coords[0] == (x[0], y[0])
    back = crs.geometry_to_wgs84(g).coords[0]
    assert abs(back[0] - lon[0]) < 1e-7 and abs(back[1] - lat[0]) < 1e-7


def copy_roads(tmp_path: Path) -> Path:
    dest = tmp_path / "roads"
    dest.mkdir()
    for name in (tr.DEFAULT_GRAPH_NAME, "parameters.csv", "urban_areas.csv"):
        shutil.copy2(ROADS_DIR / name, dest / name)
    return dest


def test_cache_reuse_and_invalidation(tmp_path: Path) -> None:
    roads_dir = copy_roads(tmp_path)
    graph = roads_dir / tr.DEFAULT_GRAPH_NAME
    cache = tmp_path / "cache"
    o = at_nodes([0, 1], "o")
    d = tr.Points(("lri",), np.array([52.6278]), np.array([-1.1348]))
    first = tr.travel_matrix(graph, o, d, cache_dir=cache)
    files = sorted(cache.glob("*.npz"))
    assert len(files) == 1
    again = tr.travel_matrix(graph, o, d, cache_dir=cache)
    assert np.array_equal(first.travel_min, again.travel_min)
    assert sorted(cache.glob("*.npz")) == files  # reused
    # moving a point: new key, new file, different answer
    o2 = tr.Points(o.ids, o.lat + np.array([0.0, 0.05]), o.lon)
    moved = tr.travel_matrix(graph, o2, d, cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 2
    assert moved.travel_min[1, 0] != first.travel_min[1, 0]
    # renaming a point changes the key too
    o3 = tr.Points(("x0", "x1"), o.lat, o.lon)
    tr.travel_matrix(graph, o3, d, cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 3
    # a changed parameter file: never the stale matrix
    params = roads_dir / "parameters.csv"
    params.write_text(params.read_text(encoding="utf-8").replace(
        "access_fixed_min,", "access_fixed_min,1", 1), encoding="utf-8")
    bumped = tr.travel_matrix(graph, o, d, cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 4
    assert not np.array_equal(bumped.travel_min, first.travel_min)
    # a changed graph file: new key
    arrays = road_graph.load_graph_arrays(graph)
    g = road_graph.arrays_to_graph(replace(arrays, travel_min=arrays.travel_min * 1.5))
    road_graph.save_graph(g, graph)
    slower = tr.travel_matrix(graph, o, d, cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 5
    assert np.all(slower.travel_min > bumped.travel_min)


# ------------------------------------------------------------------ precomputed matrices


def write_matrix(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["zone_id", "site_id", "travel_min"])
        w.writerows(rows)
    return path


def test_precomputed_valid(tmp_path: Path) -> None:
    p = write_matrix(tmp_path / "m.csv", [("z1", "s1", "5"), ("z1", "s2", "7.5"),
                                          ("z2", "s2", "inf"), ("z2", "s1", "3")])
    m = tr.read_precomputed_matrix(p, ["z1", "z2"], ["s1", "s2"])
    assert m.travel_min[0].tolist() == [5.0, 7.5]
    assert m.travel_min[1, 0] == 3.0 and np.isinf(m.travel_min[1, 1])
    assert m.unreachable_pairs() == [("z2", "s2")]


def test_precomputed_reports_every_problem(tmp_path: Path) -> None:
    p = write_matrix(tmp_path / "m.csv", [
        ("z1", "s1", "5"), ("z1", "s1", "6"),      # duplicate
        ("z1", "s2", "-1"),                         # negative
        ("z2", "s1", "abc"),                        # not a number
        ("z9", "s1", "4"),                          # unknown zone
        ("z2", "s7", "4"),                          # unknown site
    ])
    with pytest.raises(DataError) as err:
        tr.read_precomputed_matrix(p, ["z1", "z2", "z3"], ["s1", "s2"])
    text = "\n".join(err.value.lines())
    assert "row 3, field 'site_id': duplicate pair (z1, s1)" in text
    assert "row 4, field 'travel_min'" in text
    assert "row 5, field 'travel_min': 'abc' is not a number" in text
    assert "unknown zone_id values (e.g. z9)" in text
    assert "unknown site_id values (e.g. s7)" in text
    assert "zone z3 has no rows" in text
    # a row with a bad time is still a row: s2 has one (z1's -1), so only z2 lacks it
    assert "site s2 has no rows" not in text
    assert "zone z2 lacks sites ['s2']" in text


def test_precomputed_missing_columns(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text("origin,site_id,minutes\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"missing columns \['travel_min', 'zone_id'\]"):
        tr.read_precomputed_matrix(p, ["z1"], ["s1"])


def test_points_validation(tmp_path: Path) -> None:
    p = tmp_path / "o.csv"
    p.write_text("id,lat,lon\na,-1.1,52.6\na,52.6,-1.1\n,x,1\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        tr.Points.from_csv(p)
    text = "\n".join(err.value.lines())
    assert "row 2, field 'lat': (-1.1, 52.6) is outside Great Britain" in text
    assert "row 3, field 'id': duplicate id 'a'" in text
    assert "row 4, field 'id': empty id" in text


# ------------------------------------------------------------------ CLI


def test_cli_travel_times(tmp_path: Path) -> None:
    o = tmp_path / "o.csv"
    o.write_text("id,lat,lon\noakham,52.6703,-0.7277\nlboro,52.7710,-1.2050\n", encoding="utf-8")
    d = tmp_path / "d.csv"
    d.write_text("id,lat,lon\nlri,52.6278,-1.1348\n", encoding="utf-8")
    out = tmp_path / "t.csv"
    res = CliRunner().invoke(cli, ["travel-times", "--origins", str(o), "--destinations", str(d),
                                   "--out", str(out), "--no-cache"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["origin_id"] for r in rows] == ["oakham", "lboro"]
    assert list(rows[0]) == ["origin_id", "destination_id", "travel_min"]
    oakham, lboro = (float(r["travel_min"]) for r in rows)
    assert 30 < oakham < 55  # Oakham - Leicester Royal Infirmary, about 40 min
    assert 15 < lboro < 35   # Loughborough - LRI, about 25 min


def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    o = tmp_path / "o.csv"
    o.write_text("id,latitude,lon\na,52.6,-1.1\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["travel-times", "--origins", str(o), "--destinations", str(o),
                                   "--out", str(tmp_path / "t.csv")])
    assert res.exit_code == 2
    assert "missing columns ['lat']" in res.output
    assert "Traceback" not in res.output


def test_cli_help_for_every_travel_command() -> None:
    for args in (["travel-times", "--help"], ["travel-check", "--help"],
                 ["geodata", "roads", "--help"]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0 and "Example" in res.output


def test_cli_roads_build(tmp_path: Path, raw_dir: Path) -> None:
    out = tmp_path / "rutland.npz"
    res = CliRunner().invoke(cli, ["geodata", "roads", "--osm",
                                   str(raw_dir / "osm" / "rutland-latest-2018.osm.pbf"),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    g = road_graph.load_graph(out)
    assert nx.is_strongly_connected(g)


# ------------------------------------------------------------------ accuracy against OSRM


@pytest.fixture(scope="module")
def reference(raw_dir: Path) -> tcheck.Reference:
    return tcheck.read_reference(
        raw_dir / "reference" / "LLR_lsoa11_drive_minutes_to_stroke_units_calibration.csv",
        raw_dir / "llr" / "LLR_lsoa11_pwc_wgs84.csv",
        raw_dir / "england" / "stroke_hospitals_2022_samuel.csv",
    )


def test_split_rule_is_fixed() -> None:
    assert tcheck.holdout_half("E01025706") in ("A", "B")
    assert [tcheck.holdout_half(f"E0102570{i}") for i in range(10)] == [
        tcheck.holdout_half(f"E0102570{i}") for i in range(10)]


def test_accuracy_on_held_out_lsoas(reference: tcheck.Reference, tmp_path: Path) -> None:
    """The shipped graph (speeds calibrated on half A) against the reference on half B."""
    m = tr.travel_matrix(GRAPH, reference.origins, reference.destinations, cache_dir=tmp_path)
    r = tcheck.reference_check(reference, m.travel_min, calibration_half="A")
    assert r.n_holdout > 120 and r.n_calibration > 120
    # the naive baselines, computed the same way, are as the issue states
    assert r.baseline_pooled.mae_min == pytest.approx(2.7, abs=0.2)
    assert r.baseline_per_destination.mae_min == pytest.approx(2.35, abs=0.2)
    # the road graph clearly beats both
    assert r.model.mae_min < r.baseline_per_destination.mae_min - 0.4
    assert r.model.p90_abs_min < r.baseline_per_destination.p90_abs_min - 0.8
    assert abs(r.model.bias_min) < 0.5


@pytest.mark.xfail(strict=True, reason="issue 3 target (MAE <= 1.5, P90 <= 3.5 min on held-out "
                   "LSOAs) not yet met by the hand-authored strategic network: see BENCHMARKS.md")
def test_accuracy_target(reference: tcheck.Reference, tmp_path: Path) -> None:
    m = tr.travel_matrix(GRAPH, reference.origins, reference.destinations, cache_dir=tmp_path)
    r = tcheck.reference_check(reference, m.travel_min, calibration_half="A")
    assert r.model.mae_min <= 1.5
    assert r.model.p90_abs_min <= 3.5


# ------------------------------------------------- independent check: LLR LSOAs not in the file


@pytest.fixture(scope="module")
def independent(raw_dir: Path, reference: tcheck.Reference) -> tcheck.CheckResult:
    """The shipped graph on the 311 LLR LSOAs that are not in the calibration file (times from
    the national file of the same calibrated times; baselines fitted on all 300)."""
    hold = tcheck.read_holdout(
        raw_dir / "england" / "england_lsoa11_stroke_travel_time_calibrated.zip",
        raw_dir / "reference" / "LLR_lsoa11_drive_minutes_to_stroke_units_calibration.csv",
        raw_dir / "llr" / "LLR_lsoa11_pwc_wgs84.csv",
        raw_dir / "england" / "stroke_hospitals_2022_samuel.csv",
    )
    assert hold.travel_min.shape == (311, 7)
    assert not set(hold.origins.ids) & set(reference.origins.ids)
    m = tr.travel_matrix(GRAPH, hold.origins, hold.destinations, cache_dir=None)
    return tcheck.independent_check(reference, hold, m.travel_min)


def test_independent_check_beats_baselines(independent: tcheck.CheckResult) -> None:
    r = independent
    assert (r.n_calibration, r.n_holdout) == (300, 311)
    # the baselines, fitted on all 300 reference LSOAs, are as the issue states
    assert r.baseline_pooled.mae_min == pytest.approx(2.7, abs=0.1)
    assert r.baseline_pooled.p90_abs_min == pytest.approx(5.7, abs=0.1)
    assert r.baseline_per_destination.mae_min == pytest.approx(2.3, abs=0.1)
    assert r.baseline_per_destination.p90_abs_min == pytest.approx(4.9, abs=0.1)
    # the road graph clearly beats both
    assert r.model.mae_min < r.baseline_per_destination.mae_min - 0.5
    assert r.model.p90_abs_min < r.baseline_per_destination.p90_abs_min - 1.0
    assert abs(r.model.bias_min) < 0.5
    for d, s in r.model_by_destination.items():
        assert s.mae_min < 3.0, d


@pytest.mark.xfail(strict=True, reason="issue 3 target (MAE <= 1.5, P90 <= 3.5 min on the LLR "
                   "LSOAs not in the calibration file) not yet met: see BENCHMARKS.md")
def test_independent_check_target(independent: tcheck.CheckResult) -> None:
    assert independent.model.mae_min <= 1.5
    assert independent.model.p90_abs_min <= 3.5


def test_cli_travel_check_holdout(raw_dir: Path) -> None:
    res = CliRunner().invoke(cli, [
        "travel-check", "--reference",
        str(raw_dir / "reference" / "LLR_lsoa11_drive_minutes_to_stroke_units_calibration.csv"),
        "--holdout",
        str(raw_dir / "england" / "england_lsoa11_stroke_travel_time_calibrated.zip")])
    assert res.exit_code == 0, res.output
    assert "independent check: 311 LLR LSOAs not in the reference x 7" in res.output
    assert "NN15BD" in res.output and "held-out half B" in res.output


def test_read_holdout_errors(tmp_path: Path, raw_dir: Path) -> None:
    import zipfile

    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("t.csv", "LSOA,LE15WW\nRutland 001A,12.0\n")
    with pytest.raises(DataError, match=r"missing from t\.csv"):
        tcheck.read_holdout(bad,
                        raw_dir / "reference" /
                        "LLR_lsoa11_drive_minutes_to_stroke_units_calibration.csv",
                        raw_dir / "llr" / "LLR_lsoa11_pwc_wgs84.csv",
                        raw_dir / "england" / "stroke_hospitals_2022_samuel.csv")

"""County-size OSM graphs: merging overlapping extracts, the array pipeline (read, SCC, simplify,
spatial order, save) against the networkx one, the contracted shortest paths of an unsimplified
graph (scipy equals networkx), and bad extracts.

The hand-made extracts are written with pyosmium's writer. The world, about 100 m between
nodes along latitude 52.6 (x = a node, ids in brackets; "|" is the border at node 4):

    [1]--[2]--[3]--[4]--[5]--[6]--[7]     way 200 "primary" 1-2-3-4, way 201 "residential"
     |                        |            4-5-6-7 (crosses nothing), way 202 "tertiary"
    [8]-----------[9]--------[10]          3-4-5 (crosses the border), way 203 "unclassified"
                                           1-8-9-10-6, way 204 "footway" 8-2, way 205 a
                                           building 11-12-13-11 (not a highway)

The west extract holds the nodes west of the border (1-3, 8, 9, 11-13) and every way with a
node there, complete: 200, 202, 203, 204, 205 and all their nodes (so 4, 5, 6, 10 too). The
east extract holds the nodes from the border east (4-7, 10) and the ways 200, 201, 202, 203
with all their nodes. Ways 200, 202 and 203 and their nodes are in both.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner

from siteopt.cli import cli
from siteopt.errors import DataError
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.travel import graph as road_graph
from siteopt.travel import matrix as tr
from siteopt.travel import osm
from siteopt.travel import speeds as road_speeds

osmium = pytest.importorskip("osmium")
ROADS_DIR = DEFAULT_GEODATA_DIR / "roads"
LON0, LAT0, DLON = -0.7, 52.6, 0.00147
POS = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (3, 0), 5: (4, 0), 6: (5, 0), 7: (6, 0),
       8: (0, -1), 9: (3, -1), 10: (5, -1), 11: (1, 1), 12: (1.2, 1), 13: (1.2, 1.2)}
WAYS: dict[int, tuple[list[int], dict[str, str]]] = {
    200: ([1, 2, 3, 4], {"highway": "primary", "maxspeed": "30 mph"}),
    201: ([4, 5, 6, 7], {"highway": "residential"}),
    202: ([3, 4, 5], {"highway": "tertiary"}),
    203: ([1, 8, 9, 10, 6], {"highway": "unclassified"}),
    204: ([8, 2], {"highway": "footway"}),
    205: ([11, 12, 13, 11], {"building": "yes"}),
}


def _write(path: Path, node_ids: set[int], way_ids: set[int],
           drop_locations: frozenset[int] = frozenset()) -> Path:
    from osmium.osm.mutable import Node, Way

    writer = osmium.SimpleWriter(str(path), overwrite=True)
    try:
        for n in sorted(node_ids - drop_locations):
            dx, dy = POS[n]
            writer.add_node(Node(id=n, location=(LON0 + dx * DLON, LAT0 + dy * 0.0009)))
        for w in sorted(way_ids):
            refs, tags = WAYS[w]
            writer.add_way(Way(id=w, nodes=refs, tags=tags))
    finally:
        writer.close()
    return path


def _extract(path: Path, inside: set[int]) -> Path:
    """Geofabrik's "complete ways": nodes inside, ways with a node inside, their nodes."""
    ways = {w for w, (refs, _) in WAYS.items() if inside & set(refs)}
    nodes = inside | {n for w in ways for n in WAYS[w][0]}
    return _write(path, nodes, ways)


@pytest.fixture()
def extracts(tmp_path: Path) -> tuple[Path, Path, Path]:
    west = _extract(tmp_path / "west.osm.pbf", {1, 2, 3, 8, 9, 11, 12, 13})
    east = _extract(tmp_path / "east.osm.pbf", {4, 5, 6, 7, 10})
    both = _write(tmp_path / "both.osm.pbf", set(POS), set(WAYS))
    return west, east, both


@pytest.fixture(scope="module")
def speeds() -> dict[tuple[str, str], float]:
    return road_speeds.read_speeds(ROADS_DIR / "speeds.csv")


@pytest.fixture(scope="module")
def params() -> dict[str, float]:
    return road_speeds.read_parameters(ROADS_DIR / "parameters.csv")


def _edges(a: road_graph.GraphArrays) -> dict[tuple[int, int], tuple[float, float, str]]:
    ids = a.node_id.tolist()
    return {(ids[u], ids[v]): (ln, t, a.highway_names[c]) for u, v, ln, t, c in zip(
        a.edge_u.tolist(), a.edge_v.tolist(), a.length_m.tolist(), a.travel_min.tolist(),
        a.highway_code.tolist(), strict=True)}


def test_extracts_overlap_as_geofabrik_cuts_them(extracts: tuple[Path, Path, Path]) -> None:
    west, east, _ = extracts
    raw = osm.read_ways([west, east])
    assert raw.ways == 4 and raw.duplicate_ways == 3  # 200, 202 and 203 were in both
    assert sorted(raw.node_id.tolist()) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


def test_merged_extracts_are_one_connected_graph_without_duplicates(
        extracts: tuple[Path, Path, Path], speeds: dict[tuple[str, str], float],
        params: dict[str, float]) -> None:
    west, east, both = extracts
    merged, _ = osm.osm_to_arrays([west, east], speeds, params)
    pairs = list(zip(merged.edge_u.tolist(), merged.edge_v.tolist(), strict=True))
    assert len(pairs) == len(set(pairs))  # no duplicate edges
    assert len(set(merged.node_id.tolist())) == len(merged.node_id) == 10
    # 4 two-way ways of 3 + 3 + 2 + 4 node pairs; way 202's 3-4 and 4-5 are also in ways 200
    # and 201 (one edge kept per direction)
    assert len(pairs) == 2 * (3 + 3 + 2 + 4) - 4
    g = road_graph.arrays_to_graph(merged)
    assert nx.is_strongly_connected(g)  # the border ways join west and east
    # the same graph as one file holding everything once
    single, _ = osm.osm_to_arrays(both, speeds, params)
    assert np.array_equal(single.node_id, merged.node_id)
    assert _edges(single) == _edges(merged)
    # the quicker of the two parallel 3-4 edges (primary 30 mph x factor vs tertiary)
    e34 = _edges(merged)[(3, 4)]
    limit = 30 * road_speeds.MPH_TO_KPH * params["maxspeed_factor"]
    tertiary = speeds[("tertiary", "rural")]
    assert e34[2] == ("primary" if limit > tertiary else "tertiary")
    # west alone lacks 7 (only way 201, east of the border, reaches it)
    west_only, _ = osm.osm_to_arrays(west, speeds, params)
    assert 7 not in west_only.node_id.tolist()


def test_a_node_located_only_in_the_other_extract_joins(
        tmp_path: Path, speeds: dict[tuple[str, str], float], params: dict[str, float]) -> None:
    """An extract cut without complete ways lacks node 5's location; the other has it."""
    west = _write(tmp_path / "w.osm.pbf", {1, 2, 3, 4, 5}, {200, 202}, frozenset({5}))
    east = _write(tmp_path / "e.osm.pbf", {4, 5, 6, 7}, {201})
    alone, _ = osm.osm_to_arrays(west, speeds, params)
    assert 5 not in alone.node_id.tolist()  # the way is cut at the missing node
    assert (4, 5) not in _edges(alone)
    merged, _ = osm.osm_to_arrays([west, east], speeds, params)
    assert {(4, 5), (5, 4)} <= set(_edges(merged))
    assert nx.is_strongly_connected(road_graph.arrays_to_graph(merged))


def test_arrays_equal_the_networkx_graph(extracts: tuple[Path, Path, Path],
                                         speeds: dict[tuple[str, str], float],
                                         params: dict[str, float]) -> None:
    west, east, _ = extracts
    areas = [road_speeds.UrbanArea("town", LAT0, LON0 + 5 * DLON, 0.25)]
    arrays, _ = osm.osm_to_arrays([west, east], speeds, params, areas)
    g = osm.osm_to_graph([west, east], speeds, params, areas)
    assert _edges(arrays) == _edges(road_graph.graph_to_arrays(g))
    urban = _edges(arrays)[(6, 7)]  # midpoint inside the town: the urban class speed
    assert urban[1] == pytest.approx(urban[0] / 1000 / speeds[("residential", "urban")] * 60)


def test_urban_mask_equals_is_urban() -> None:
    rng = np.random.default_rng(7)
    areas = road_speeds.read_urban_areas(ROADS_DIR / "urban_areas.csv")
    lat = rng.uniform(52.0, 53.0, 20_000)
    lon = rng.uniform(-1.6, -0.3, 20_000)
    lat[:len(areas)] = [a.lat + a.radius_km / 111.2 for a in areas]  # on the edge of each
    lon[:len(areas)] = [a.lon for a in areas]
    assert np.array_equal(osm.urban_mask(lat, lon, areas),
                          road_speeds.is_urban(lat, lon, areas))


def _random_graph(seed: int, n: int, chain: int) -> road_graph.GraphArrays:
    """A strongly connected random road-like graph: a ring of junctions with chords, each link
    a chain of ``chain`` pass-through nodes, some one-way; sorted, no parallels."""
    rng = np.random.default_rng(seed)
    links = [(i, (i + 1) % n) for i in range(n)]
    links += [tuple(int(x) for x in rng.choice(n, 2, replace=False)) for _ in range(n)]
    edges: dict[tuple[int, int], float] = {}
    nxt = n
    for a, b in links:
        oneway = rng.random() < 0.2 and (a, b) not in links[:n]
        path = [a, *range(nxt, nxt + chain), b]
        nxt += chain
        for x, y in itertools.pairwise(path):
            edges[(x, y)] = float(rng.uniform(0.1, 2.0))
            if not oneway:
                edges[(y, x)] = float(rng.uniform(0.1, 2.0))
    keys = sorted(edges)
    u = np.array([k[0] for k in keys], dtype=np.int64)
    v = np.array([k[1] for k in keys], dtype=np.int64)
    t = np.array([edges[k] for k in keys])
    ids = np.arange(nxt, dtype=np.int64) * 7 + 3
    lon = -1.2 + rng.uniform(0, 0.3, nxt)
    lat = 52.5 + rng.uniform(0, 0.3, nxt)
    return road_graph.GraphArrays(ids, lon, lat, u.astype(np.int32), v.astype(np.int32),
                                  t * 800.0, t, np.zeros(len(u), dtype=np.uint8), ("road",))


def _pass_through_reference(a: road_graph.GraphArrays) -> np.ndarray:
    g = nx.DiGraph()
    g.add_nodes_from(range(len(a.node_id)))
    g.add_edges_from(zip(a.edge_u.tolist(), a.edge_v.tolist(), strict=True))
    out = np.zeros(len(a.node_id), dtype=bool)
    for n in g.nodes:
        preds, succs = set(g.predecessors(n)), set(g.successors(n))
        if n in preds:
            continue
        out[n] = ((len(preds) == 1 and len(succs) == 1 and preds != succs)
                  or (len(preds) == 2 and preds == succs))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simplify_arrays_keeps_every_shortest_time(seed: int) -> None:
    from scipy.sparse.csgraph import dijkstra

    raw = osm.largest_scc_arrays(_random_graph(seed, 12, 3))
    through = osm.pass_through(raw.edge_u.astype(np.int64), raw.edge_v.astype(np.int64),
                                  len(raw.node_id))
    assert np.array_equal(through, _pass_through_reference(raw))
    # a dead end with a self-loop (2) has two-way links to {1, 2}, but is kept
    u = np.array([0, 1, 1, 2, 2], dtype=np.int64)
    v = np.array([1, 0, 2, 1, 2], dtype=np.int64)
    through = osm.pass_through(u, v, 3)
    assert through.tolist() == [False, True, False]
    simple = osm.simplify_arrays(raw)
    assert len(simple.node_id) < len(raw.node_id) / 2
    assert not _pass_through_reference(simple).any() or len(simple.node_id) <= 3
    assert nx.is_strongly_connected(road_graph.arrays_to_graph(simple))
    full = dijkstra(tr.graph_to_csr(raw), directed=True)
    small = dijkstra(tr.graph_to_csr(simple), directed=True)
    where = np.searchsorted(raw.node_id, simple.node_id)
    assert np.allclose(small, full[np.ix_(where, where)], rtol=0, atol=1e-9)


def test_spatial_order_is_the_same_graph() -> None:
    a = osm.largest_scc_arrays(_random_graph(4, 10, 2))
    b = osm.spatial_order(a)
    assert _edges(a) == _edges(b)
    assert sorted(b.node_id.tolist()) == a.node_id.tolist()
    pairs = list(zip(b.edge_u.tolist(), b.edge_v.tolist(), strict=True))
    assert pairs == sorted(pairs)


@pytest.mark.parametrize("method", ["csr", "networkx"])
def test_unsimplified_graph_matrix_scipy_equals_networkx(method: str) -> None:
    """An unsimplified graph (most nodes pass traffic through) takes the contracted path;
    scipy and networkx agree exactly, and both agree with the uncontracted computation."""
    raw = osm.largest_scc_arrays(_random_graph(5, 15, 6))
    through = osm.pass_through(raw.edge_u.astype(np.int64), raw.edge_v.astype(np.int64),
                                  len(raw.node_id))
    assert through.mean() >= osm.CONTRACT_MIN_SHARE
    rng = np.random.default_rng(0)
    origins = tr.Points(tuple(f"o{i}" for i in range(30)), rng.uniform(52.5, 52.8, 30),
                        rng.uniform(-1.2, -0.9, 30))
    dests = tr.Points(("a", "b", "c"), rng.uniform(52.5, 52.8, 3), rng.uniform(-1.2, -0.9, 3))
    access = tr.AccessModel.from_roads_dir(ROADS_DIR)
    fast = tr.matrix_from_arrays(raw, origins, dests, access, method="csr")
    other = tr.matrix_from_arrays(raw, origins, dests, access, method=method)
    assert np.array_equal(fast.travel_min, other.travel_min)
    # reference: networkx on the whole (uncontracted) graph with the same snapping
    index = tr.node_index(raw)
    o_snap = tr.snap_points(raw, origins, access, index)
    d_snap = tr.snap_points(raw, dests, access, index)
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(raw.edge_v.tolist(), raw.edge_u.tolist(),
                                  np.maximum(raw.travel_min, tr.MIN_EDGE_MIN).tolist(),
                                  strict=True), weight="w")
    for j in range(3):
        for c in range(d_snap.node_index.shape[1]):
            g.add_edge(("dest", j), int(d_snap.node_index[j, c]), w=d_snap.access_min[j, c])
        dist = nx.single_source_dijkstra_path_length(g, ("dest", j), weight="w")
        want = [min(o_snap.access_min[i, c] + dist[int(o_snap.node_index[i, c])]
                    for c in range(o_snap.node_index.shape[1])) for i in range(30)]
        assert np.allclose(fast.travel_min[:, j], want, rtol=0, atol=1e-9)


def test_llr_default_graph_is_not_contracted() -> None:
    """The shipped graph is used as it is (so its matrix is bit for bit the earlier one)."""
    a = road_graph.load_graph_arrays(ROADS_DIR / tr.DEFAULT_GRAPH_NAME)
    through = osm.pass_through(a.edge_u.astype(np.int64), a.edge_v.astype(np.int64),
                                  len(a.node_id))
    assert through.mean() < osm.CONTRACT_MIN_SHARE


# ------------------------------------------------------------------ bad extracts and the CLI


def test_bad_extracts_are_one_line_errors(tmp_path: Path) -> None:
    corrupt = tmp_path / "bad.osm.pbf"
    corrupt.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 10)
    no_roads = _write(tmp_path / "buildings.osm.pbf", {11, 12, 13}, {205})
    for path, text in ((tmp_path / "missing.osm.pbf", "file not found"),
                       (corrupt, "cannot be read as an OpenStreetMap extract"),
                       (no_roads, "no drivable highways")):
        with pytest.raises(DataError) as err:
            osm.read_ways([path])
        lines = err.value.lines()
        assert len(lines) == 1 and text in lines[0] and str(path) in lines[0], lines


def test_cli_merges_two_extracts(tmp_path: Path, extracts: tuple[Path, Path, Path]) -> None:
    west, east, _ = extracts
    out = tmp_path / "merged.npz"
    res = CliRunner().invoke(cli, ["geodata", "roads", "--osm", str(west), "--osm", str(east),
                                   "--out", str(out), "--no-simplify"])
    assert res.exit_code == 0, res.output
    assert "west.osm.pbf + east.osm.pbf" in res.output
    g = road_graph.load_graph(out)
    assert g.number_of_nodes() == 10 and nx.is_strongly_connected(g)
    simple = tmp_path / "simple.npz"
    res = CliRunner().invoke(cli, ["geodata", "roads", "--osm", str(west), "--osm", str(east),
                                   "--out", str(simple)])
    assert res.exit_code == 0, res.output
    assert road_graph.load_graph(simple).number_of_nodes() < 10


def test_cli_bad_extract_exit_2_nothing_written(tmp_path: Path,
                                                extracts: tuple[Path, Path, Path]) -> None:
    corrupt = tmp_path / "bad.osm.pbf"
    corrupt.write_bytes(b"garbage" * 100)
    out = tmp_path / "g.npz"
    out.write_bytes(b"an earlier graph")
    res = CliRunner().invoke(cli, ["geodata", "roads", "--osm", str(extracts[0]), "--osm",
                                   str(corrupt), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "bad.osm.pbf" in res.output
    assert out.read_bytes() == b"an earlier graph"


# ------------------------------------------------------------------ the real Rutland extract


def test_rutland_arrays_match_the_networkx_build(raw_dir: Path) -> None:
    """The array build (SCC, simplify, spatial order) gives the networkx build's drive times
    between the nodes both keep."""
    from scipy.sparse.csgraph import dijkstra

    pbf = raw_dir / "osm" / "rutland-latest-2018.osm.pbf"
    arrays, report = osm.build_osm_arrays(pbf, ROADS_DIR)
    graph, nx_report = osm.build_osm_graph(pbf, ROADS_DIR)
    assert (report.raw_nodes, report.raw_edges) == (nx_report.raw_nodes, nx_report.raw_edges)
    assert report.nodes <= nx_report.nodes
    reference = road_graph.graph_to_arrays(graph)
    common = np.intersect1d(arrays.node_id, reference.node_id)
    assert len(common) > 0.9 * len(arrays.node_id)
    pick = np.random.default_rng(1).choice(common, 20, replace=False)
    pos_a = {n: i for i, n in enumerate(arrays.node_id.tolist())}
    pos_r = {n: i for i, n in enumerate(reference.node_id.tolist())}
    da = dijkstra(tr.graph_to_csr(arrays), indices=[pos_a[n] for n in pick.tolist()])
    dr = dijkstra(tr.graph_to_csr(reference), indices=[pos_r[n] for n in pick.tolist()])
    cols_a = [pos_a[n] for n in common.tolist()]
    cols_r = [pos_r[n] for n in common.tolist()]
    assert np.allclose(da[:, cols_a], dr[:, cols_r], rtol=0, atol=1e-9)


def test_default_build_reproduces_the_shipped_graph(raw_dir: Path, tmp_path: Path) -> None:
    """`geodata roads --default` with Rutland rebuilds llr_roads.npz byte for byte."""
    roads = tmp_path / "roads"
    shutil.copytree(ROADS_DIR, roads)
    out = tmp_path / "llr_roads.npz"
    res = CliRunner().invoke(cli, ["geodata", "roads", "--default", "--osm",
                                   str(raw_dir / "osm" / "rutland-latest-2018.osm.pbf"),
                                   "--roads-dir", str(roads), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes() == (ROADS_DIR / tr.DEFAULT_GRAPH_NAME).read_bytes()

"""Road graphs from OpenStreetMap extracts (pyosmium), up to county size and merged.

Reading (:func:`read_ways`): one pass per extract over its highway ways with node locations
(pyosmium's ``FileProcessor.with_locations()`` and a ``highway`` key filter, so buildings,
landuse and other objects never reach Python), the ways' node ids as a list and their
coordinates from pyosmium's WKB factory, both into flat arrays. Several extracts merge by id:
a way id already read is skipped and a node id takes its first known position, so the ways
that neighbouring Geofabrik extracts both hold (complete, across the border) count once and
join the ways of both sides at their shared nodes.

Building: :func:`build_osm_arrays` (``siteopt geodata roads --osm ...``) stays in numpy and
scipy (vectorised edges and speeds, parallel edges, the largest strongly connected component,
chain contraction, nodes in space-filling-curve order) for county-size extracts;
:func:`build_osm_graph` gives the networkx graph that ``--default`` merges with the strategic
network (unchanged, so the default graph rebuilds byte for byte).

Why pyosmium (``osmium``) and not pyrosm: pyosmium is the reference binding of libosmium, reads
``.osm.pbf`` as a stream with node locations resolved in C++ (the Rutland extract in 0.05 s),
has wheels for current Pythons and no pinned geopandas/shapely/cykhash stack; pyrosm loads whole
layers into GeoDataFrames (more memory, slower for a national extract) and has had long gaps
between releases. We only need ways with a ``highway`` tag and their node coordinates, which is
exactly what a pyosmium ``FileProcessor`` with a tag filter gives.
"""

from __future__ import annotations

import math
import time
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from siteopt.errors import DataError, Problem
from siteopt.travel.graph import (
    EARTH_RADIUS_M,
    GRAPH_FORMAT,
    BuildReport,
    GraphArrays,
    add_min_edge,
    check_graph_arrays,
    haversine_m,
    largest_scc,
    simplify_graph,
)
from siteopt.travel.speeds import (
    MPH_TO_KPH,
    UrbanArea,
    is_urban,
    read_parameters,
    read_speeds,
    read_urban_areas,
)

DRIVABLE_HIGHWAYS = frozenset(
    {
        "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
        "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
        "residential", "living_street", "service", "road",
    }
)
"""OSM ``highway`` values a car may drive on (tracks, paths and footways excluded)."""
NO_CAR_ACCESS = frozenset({"no", "private"})
"""``access``/``motor_vehicle``/``motorcar`` values that close a way to through traffic."""
EXCLUDED_SERVICE = frozenset({"parking_aisle", "driveway", "drive-through", "emergency_access"})
"""``service=*`` values excluded (they never carry through trips)."""


def parse_maxspeed_kph(value: str | None) -> float | None:
    """Parse an OSM ``maxspeed`` tag into km/h, or None if absent or not a number.

    ``"30 mph"`` -> 48.28, ``"50"`` -> 50 (km/h is OSM's default unit), ``"none"``,
    ``"national"``, ``"signals"`` and ranges -> None (the highway class speed applies).
    """
    if not value:
        return None
    text = value.strip().lower().split(";")[0]
    factor = 1.0
    if text.endswith("mph"):
        factor, text = MPH_TO_KPH, text[:-3]
    elif text.endswith("km/h"):
        text = text[:-4]
    elif text.endswith("kph"):
        text = text[:-3]
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number * factor if number > 0 else None


def _oneway(tags: Mapping[str, str], highway: str) -> int:
    """1 forward only, -1 backward only, 0 both ways."""
    value = tags.get("oneway", "")
    if value in ("yes", "true", "1"):
        return 1
    if value in ("-1", "reverse"):
        return -1
    if value == "no":
        return 0
    if highway == "motorway" or tags.get("junction") in ("roundabout", "circular"):
        return 1
    return 0


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RawWays:
    """The drivable ways of one or more extracts, as flat arrays (before any graph step).

    Nodes are in order of first appearance in the ways (files in the order given, ways in file
    order); each directed edge is one consecutive node pair of a way in a direction its
    ``oneway`` allows, in way order (forward before backward).
    """

    node_id: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    edge_u: npt.NDArray[np.int64]
    edge_v: npt.NDArray[np.int64]
    highway_code: npt.NDArray[np.uint8]
    maxspeed_kph: npt.NDArray[np.float64]
    """NaN where the way has no usable ``maxspeed``."""
    highway_names: tuple[str, ...]
    ways: int
    duplicate_ways: int
    """Ways skipped because an earlier extract held the same way id (the extracts' overlap)."""


HIGHWAY_NAMES: tuple[str, ...] = tuple(sorted(DRIVABLE_HIGHWAYS))
ACCESS_KEYS = ("access", "motor_vehicle", "motorcar")
WKB_HEADER_HEX = 18
"""A WKB line string's byte order, type and point count (9 bytes), as hex characters."""


def _open_extract(path: Path) -> Any:
    """A pyosmium FileProcessor over the highway ways of ``path`` with node locations."""
    import osmium  # imported lazily: only the OSM build needs it

    if not path.is_file():
        raise DataError([Problem(str(path), "file not found: give an .osm.pbf extract")])
    return (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway")))


def _way_kind(tags: Any) -> tuple[int, int, float] | None:
    """(highway code, direction, maxspeed km/h or NaN) of a drivable way, else None."""
    highway = tags.get("highway", "")
    if highway not in DRIVABLE_HIGHWAYS:
        return None
    if any(tags.get(k) in NO_CAR_ACCESS for k in ACCESS_KEYS):
        return None
    if highway == "service" and tags.get("service") in EXCLUDED_SERVICE:
        return None
    if tags.get("area") == "yes":
        return None
    small = {"oneway": tags.get("oneway", ""), "junction": tags.get("junction", "")}
    maxspeed = parse_maxspeed_kph(tags.get("maxspeed"))
    return (HIGHWAY_NAMES.index(highway), _oneway(small, highway),
            math.nan if maxspeed is None else maxspeed)


def _way_coords_hex(obj: Any, wkb: Any, all_nodes: Any) -> str:
    """The way's node coordinates (lon, lat per node, little-endian doubles) as hex; NaN for a
    node whose location the extract lacks."""
    try:
        text = str(wkb.create_linestring(obj, all_nodes))
        if text[:2] == "01":  # little-endian WKB, as written on every platform we run on
            return text[WKB_HEADER_HEX:]
    except Exception:  # pyosmium raises several types for a missing location
        pass
    coords = []
    for n in obj.nodes:
        loc = n.location
        coords += [loc.lon, loc.lat] if loc.valid() else [math.nan, math.nan]
    return np.asarray(coords, dtype="<f8").tobytes().hex()


def read_ways(osm_paths: Sequence[Path]) -> RawWays:
    """Read the drivable ways of one or more extracts (pyosmium), merged.

    A way id seen in an earlier extract is skipped (neighbouring Geofabrik extracts both hold
    the ways that cross their border, complete); a node id takes its position from its first
    occurrence with a known location, so ways from different extracts join at their shared
    nodes. A node whose location no extract holds cuts its way there (no edge jumps over it).

    Parameters
    ----------
    osm_paths : sequence of Path
        ``.osm.pbf`` (or ``.osm``) extracts.

    Raises
    ------
    DataError
        A missing or unreadable extract, or no drivable way in any of them.
    """
    import osmium

    wkb = osmium.geom.WKBFactory()
    seen: set[int] = set()
    refs = array("q")
    way_len = array("q")
    kinds: list[tuple[int, int, float]] = []
    hexes: list[str] = []
    duplicates = 0
    for path in osm_paths:
        try:
            for obj in _open_extract(path):
                if not obj.is_way():
                    continue
                kind = _way_kind(obj.tags)
                if kind is None:
                    continue
                if obj.id in seen:
                    duplicates += 1
                    continue
                seen.add(obj.id)
                way_refs = [n.ref for n in obj.nodes]
                refs.extend(way_refs)
                way_len.append(len(way_refs))
                kinds.append(kind)
                hexes.append(_way_coords_hex(obj, wkb, osmium.geom.ALL))
        except DataError:
            raise
        except Exception as err:  # libosmium's errors reach Python as several types
            raise DataError([Problem(str(path), f"cannot be read as an OpenStreetMap extract "
                                     f"({type(err).__name__}: {err}); give an .osm.pbf file, "
                                     "e.g. a fresh download from download.geofabrik.de")]) from err
    if not kinds:
        names = ", ".join(str(p) for p in osm_paths)
        raise DataError([Problem(names, "no drivable highways found in the extract: give an "
                                 "extract that holds roads (highway=primary, residential, ...)")])
    xy = np.frombuffer(bytes.fromhex("".join(hexes)), dtype="<f8").astype(np.float64)
    del hexes
    raw = _raw_ways(np.frombuffer(refs, dtype=np.int64), xy.reshape(-1, 2),
                    np.frombuffer(way_len, dtype=np.int64), kinds, duplicates)
    if len(raw.edge_u) == 0:
        names = ", ".join(str(p) for p in osm_paths)
        raise DataError([Problem(names, f"none of the {raw.ways} drivable ways has two nodes "
                                 "with a location: the extract lacks its nodes; download it "
                                 "again (Geofabrik extracts hold every node of their ways)")])
    return raw


def _raw_ways(refs: npt.NDArray[np.int64], xy: npt.NDArray[np.float64],
              way_len: npt.NDArray[np.int64], kinds: list[tuple[int, int, float]],
              duplicates: int) -> RawWays:
    """Node table (first valid occurrence of each id) and directed edges of the ways."""
    n_refs = len(refs)
    if xy.shape[0] != n_refs:
        raise DataError([Problem("OpenStreetMap extract", f"{xy.shape[0]} coordinates for "
                                 f"{n_refs} way nodes: the extract is damaged; download it again")])
    valid = np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1])
    # first occurrence of each id with a location: sort by (id, invalid, position)
    order = np.lexsort((np.arange(n_refs), ~valid, refs))
    first = np.ones(n_refs, dtype=bool)
    first[1:] = refs[order][1:] != refs[order][:-1]
    head = order[first]  # one occurrence per id (a valid one if any)
    head = head[valid[head]]
    head.sort()  # order of first appearance
    node_id = refs[head]
    by_id = np.argsort(node_id, kind="stable")
    slot = np.minimum(np.searchsorted(node_id, refs, sorter=by_id), max(len(node_id) - 1, 0))
    pos = by_id[slot] if len(node_id) else np.zeros(n_refs, dtype=np.int64)
    known = node_id[pos] == refs if len(node_id) else np.zeros(n_refs, dtype=bool)
    # consecutive pairs inside each way, both ends located, distinct ids
    way_of = np.repeat(np.arange(len(way_len)), way_len)
    a = np.arange(n_refs - 1)
    keep = (way_of[a] == way_of[a + 1]) & known[a] & known[a + 1] & (refs[a] != refs[a + 1])
    a = a[keep]
    kind = np.array([k[:2] for k in kinds], dtype=np.int64).reshape(-1, 2)
    speed = np.array([k[2] for k in kinds], dtype=np.float64)
    w = way_of[a]
    direction = kind[w, 1]
    both = np.stack([direction >= 0, direction <= 0], axis=1).ravel()
    pair = np.repeat(np.arange(len(a)), 2)[both]
    forward = np.tile([True, False], len(a))[both]
    tail = np.where(forward, a[pair], a[pair] + 1)
    headp = np.where(forward, a[pair] + 1, a[pair])
    return RawWays(node_id=node_id, lon=xy[head, 0].copy(), lat=xy[head, 1].copy(),
                   edge_u=pos[tail], edge_v=pos[headp],
                   highway_code=kind[w[pair], 0].astype(np.uint8),
                   maxspeed_kph=speed[w[pair]], highway_names=HIGHWAY_NAMES,
                   ways=len(kinds), duplicate_ways=duplicates)


# --------------------------------------------------------------------------- edge times


def edge_times(raw: RawWays, speeds: Mapping[tuple[str, str], float],
               parameters: Mapping[str, float], urban_areas: Iterable[UrbanArea] = ()
               ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                          npt.NDArray[np.float64]]:
    """Length (haversine), speed and drive minutes of every raw edge.

    The speed is ``maxspeed`` times ``maxspeed_factor`` where tagged, else the class speed of
    ``speeds`` in the edge's setting (``urban`` if its midpoint lies in an urban area, else
    ``rural``; a class without its own speed takes ``road``'s).

    Returns
    -------
    (length_m, speed_kph, travel_min) : tuple of ndarray
    """
    factor = float(parameters["maxspeed_factor"])
    lon_u, lat_u = raw.lon[raw.edge_u], raw.lat[raw.edge_u]
    lon_v, lat_v = raw.lon[raw.edge_v], raw.lat[raw.edge_v]
    length_m = haversine_m(lat_u, lon_u, lat_v, lon_v)
    urban = urban_mask((lat_u + lat_v) / 2, (lon_u + lon_v) / 2, urban_areas)
    table = np.array([[speeds.get((h, s)) or speeds[("road", s)] for s in ("rural", "urban")]
                      for h in raw.highway_names], dtype=np.float64)
    class_kph = table[raw.highway_code, urban.astype(np.int64)]
    tagged = np.isfinite(raw.maxspeed_kph)
    speed_kph = np.where(tagged, raw.maxspeed_kph * factor, class_kph)
    return length_m, speed_kph, length_m / 1000.0 / speed_kph * 60.0


def urban_mask(lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64],
               urban_areas: Iterable[UrbanArea]) -> npt.NDArray[np.bool_]:
    """:func:`siteopt.travel.speeds.is_urban` for millions of points, with the same result.

    Each area's test runs only on the points of its latitude band (a great-circle distance is
    at least the arc of the latitude difference; the band is widened by 0.1%), found by one
    sort, so the cost is the points near each area rather than every point times every area.
    """
    inside = np.zeros(len(lat), dtype=bool)
    order = np.argsort(lat, kind="stable")
    sorted_lat = lat[order]
    for area in urban_areas:
        band_deg = math.degrees(area.radius_km * 1000.0 / EARTH_RADIUS_M) * 1.001 + 1e-9
        lo = int(np.searchsorted(sorted_lat, area.lat - band_deg, "left"))
        hi = int(np.searchsorted(sorted_lat, area.lat + band_deg, "right"))
        near = order[lo:hi]
        inside[near] |= is_urban(lat[near], lon[near], [area])
    return inside


# --------------------------------------------------------------------------- networkx graph


def _as_paths(osm_path: Path | Sequence[Path]) -> list[Path]:
    return [osm_path] if isinstance(osm_path, Path) else list(osm_path)


def osm_to_graph(
    osm_path: Path | Sequence[Path],
    speeds: Mapping[tuple[str, str], float],
    parameters: Mapping[str, float],
    urban_areas: Iterable[UrbanArea] = (),
) -> nx.DiGraph:
    """Read OpenStreetMap extracts into a directed drive graph (not yet simplified).

    Keeps ways whose ``highway`` is in :data:`DRIVABLE_HIGHWAYS` and that cars may use, adds one
    directed edge per consecutive node pair and direction allowed by ``oneway``, with
    ``length_m`` (haversine) and ``travel_min`` from ``maxspeed`` (times ``maxspeed_factor``)
    where tagged, else from the class speed in ``speeds`` for the edge's setting; of parallel
    edges the quickest (the first of equals) is kept.

    Parameters
    ----------
    osm_path : Path or sequence of Path
        One or more ``.osm.pbf`` (or ``.osm``) extracts, merged by :func:`read_ways`.
    speeds : mapping
        From :func:`read_speeds`.
    parameters : mapping
        From :func:`read_parameters`; uses ``maxspeed_factor``.
    urban_areas : iterable of UrbanArea
        Edges whose midpoint lies inside one use the ``urban`` class speeds.

    Returns
    -------
    networkx.DiGraph
        For county-size extracts use :func:`osm_to_arrays` (no networkx).
    """
    raw = read_ways(_as_paths(osm_path))
    length_m, speed_kph, _ = edge_times(raw, speeds, parameters, urban_areas)
    ids = raw.node_id.tolist()
    graph = nx.DiGraph()
    graph.add_nodes_from((n, {"x": x, "y": y})
                         for n, x, y in zip(ids, raw.lon.tolist(), raw.lat.tolist(), strict=True))
    names = raw.highway_names
    for a, b, length, speed, code in zip(raw.edge_u.tolist(), raw.edge_v.tolist(),
                                         length_m.tolist(), speed_kph.tolist(),
                                         raw.highway_code.tolist(), strict=True):
        add_min_edge(graph, ids[a], ids[b], length, speed, names[code])
    graph.remove_nodes_from([n for n in list(graph.nodes) if graph.degree(n) == 0])
    return graph


def build_osm_graph(
    osm_path: Path | Sequence[Path], roads_dir: Path
) -> tuple[nx.DiGraph, BuildReport]:
    """OSM extracts -> simplified largest-SCC drive graph (networkx), using the data files in
    ``roads_dir``; the path of ``siteopt geodata roads --default`` (the strategic merge takes a
    networkx graph). :func:`build_osm_arrays` is the county-size path.

    Parameters
    ----------
    osm_path : Path or sequence of Path
        The ``.osm.pbf`` extracts.
    roads_dir : Path
        Folder holding ``speeds.csv``, ``parameters.csv`` and ``urban_areas.csv``.
    """
    start = time.perf_counter()
    speeds = read_speeds(roads_dir / "speeds.csv")
    params = read_parameters(roads_dir / "parameters.csv")
    areas = read_urban_areas(roads_dir / "urban_areas.csv")
    raw = osm_to_graph(osm_path, speeds, params, areas)
    graph = largest_scc(simplify_graph(raw))
    report = BuildReport(raw.number_of_nodes(), raw.number_of_edges(), graph.number_of_nodes(),
                         graph.number_of_edges(), time.perf_counter() - start)
    return graph, report


# --------------------------------------------------------------------------- array graph


def _arrays(node_id: npt.NDArray[np.int64], lon: npt.NDArray[np.float64],
            lat: npt.NDArray[np.float64], u: npt.NDArray[np.int64], v: npt.NDArray[np.int64],
            length_m: npt.NDArray[np.float64], travel_min: npt.NDArray[np.float64],
            code: npt.NDArray[np.int64], names: Sequence[str]) -> GraphArrays:
    """The graph-file layout: nodes that have an edge, by ascending id; edges by (u, v);
    highway names sorted, only those used (as :func:`siteopt.travel.graph.graph_to_arrays`)."""
    used = np.zeros(len(node_id), dtype=bool)
    used[u] = True
    used[v] = True
    nodes = np.nonzero(used)[0]
    nodes = nodes[np.argsort(node_id[nodes], kind="stable")]
    new = np.full(len(node_id), -1, dtype=np.int64)
    new[nodes] = np.arange(len(nodes))
    nu, nv = new[u], new[v]
    order = np.lexsort((nv, nu))
    present = np.unique(code)
    kept = tuple(sorted(names[int(c)] for c in present))
    remap = np.zeros(max(len(names), 1), dtype=np.uint8)
    remap[present] = [kept.index(names[int(c)]) for c in present]
    return GraphArrays(node_id=node_id[nodes].astype(np.int64), lon=lon[nodes], lat=lat[nodes],
                       edge_u=nu[order].astype(np.int32), edge_v=nv[order].astype(np.int32),
                       length_m=length_m[order], travel_min=travel_min[order],
                       highway_code=remap[code[order]], highway_names=kept)


def quickest_edges(u: npt.NDArray[np.int64], v: npt.NDArray[np.int64],
                   travel_min: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Positions of the edges to keep of parallel ones: per (u, v) the quickest, the first of
    equals (as :func:`siteopt.travel.graph.add_min_edge` keeps them), in their given order."""
    if len(u) == 0:
        return np.zeros(0, dtype=np.int64)
    key = u.astype(np.int64) * (int(max(u.max(), v.max())) + 1) + v.astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    repeated = np.zeros(len(u), dtype=bool)
    same = sorted_key[1:] == sorted_key[:-1]
    repeated[1:] |= same
    repeated[:-1] |= same
    keep = np.ones(len(u), dtype=bool)
    dup = order[repeated]  # the edges of (u, v) pairs that occur more than once
    if len(dup):
        by = np.lexsort((dup, travel_min[dup], key[dup]))
        k = key[dup][by]
        first = np.ones(len(by), dtype=bool)
        first[1:] = k[1:] != k[:-1]
        keep[dup] = False
        keep[dup[by][first]] = True
    return np.asarray(np.nonzero(keep)[0], dtype=np.int64)


def osm_to_arrays(
    osm_path: Path | Sequence[Path],
    speeds: Mapping[tuple[str, str], float],
    parameters: Mapping[str, float],
    urban_areas: Iterable[UrbanArea] = (),
) -> tuple[GraphArrays, RawWays]:
    """The raw drive graph of :func:`osm_to_graph` as :class:`GraphArrays`, without networkx
    (same nodes, edges, lengths and times; node order by id).

    Returns
    -------
    (GraphArrays, RawWays)
        The graph, and what was read (for counts).
    """
    raw = read_ways(_as_paths(osm_path))
    length_m, _, travel_min = edge_times(raw, speeds, parameters, urban_areas)
    keep = quickest_edges(raw.edge_u, raw.edge_v, travel_min)
    arrays = _arrays(raw.node_id, raw.lon, raw.lat, raw.edge_u[keep], raw.edge_v[keep],
                     length_m[keep], travel_min[keep], raw.highway_code[keep].astype(np.int64),
                     raw.highway_names)
    return arrays, raw


def _subgraph(arrays: GraphArrays, keep_edge: npt.NDArray[np.bool_]) -> GraphArrays:
    names = arrays.highway_names
    return _arrays(arrays.node_id, arrays.lon, arrays.lat,
                   arrays.edge_u[keep_edge].astype(np.int64),
                   arrays.edge_v[keep_edge].astype(np.int64), arrays.length_m[keep_edge],
                   arrays.travel_min[keep_edge],
                   arrays.highway_code[keep_edge].astype(np.int64), names)


def largest_scc_arrays(arrays: GraphArrays) -> GraphArrays:
    """The largest strongly connected component (scipy), as :class:`GraphArrays`; of two
    equally large the one holding the lower node id."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(arrays.node_id)
    adjacency = csr_matrix((np.ones(len(arrays.edge_u), dtype=np.int8),
                            (arrays.edge_u, arrays.edge_v)), shape=(n, n))
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    sizes = np.bincount(labels)
    biggest = int(labels[np.nonzero(sizes[labels] == sizes.max())[0][0]])
    inside = labels == biggest
    return _subgraph(arrays, inside[arrays.edge_u] & inside[arrays.edge_v])


def pass_through(u: npt.NDArray[np.int64], v: npt.NDArray[np.int64], n_nodes: int
                 ) -> npt.NDArray[np.bool_]:
    """Which nodes only pass traffic through.

    A node passes traffic through (the rule of :func:`siteopt.travel.graph.simplify_graph`)
    with one way in and one way out to two different neighbours, or two-way links to exactly
    two neighbours, and no self-loop.

    Parameters
    ----------
    u, v : ndarray of int
        Edge tails and heads (node positions), without parallel edges (fewer than 2**26
        nodes); self-loops allowed.
    n_nodes : int
    """
    out_deg = np.bincount(u, minlength=n_nodes)
    in_deg = np.bincount(v, minlength=n_nodes)
    # a set of at most two neighbours is fixed by the sum and the sum of squares of their
    # positions (exact in float64 below 2**26 nodes), so no sort is needed
    buffer = u.astype(np.float64)
    in_sum = np.bincount(v, weights=buffer, minlength=n_nodes)
    in_sq = np.bincount(v, weights=np.multiply(buffer, buffer, out=buffer), minlength=n_nodes)
    np.copyto(buffer, v)
    out_sum = np.bincount(u, weights=buffer, minlength=n_nodes)
    out_sq = np.bincount(u, weights=np.multiply(buffer, buffer, out=buffer), minlength=n_nodes)
    del buffer
    one_way = (in_deg == 1) & (out_deg == 1) & (in_sum != out_sum)
    two_way = (in_deg == 2) & (out_deg == 2) & (in_sum == out_sum) & (in_sq == out_sq)
    through = one_way | two_way
    through[u[u == v]] = False  # a node with a self-loop is kept (as simplify_graph does)
    return np.asarray(through, dtype=bool)


@dataclass(frozen=True)
class Contracted:
    """Edges after contracting pass-through chains (positions into the original nodes)."""

    u: npt.NDArray[np.int64]
    v: npt.NDArray[np.int64]
    first_edge: npt.NDArray[np.int64]
    """The original edge each new edge starts with (for its ``highway``)."""
    sums: tuple[npt.NDArray[np.float64], ...]
    """Each of the given edge values, summed along the chain in the direction of travel."""
    kept: npt.NDArray[np.bool_]
    """The nodes that remain (every node that is not contracted away)."""


def contract_chains(
    u: npt.NDArray[np.int64], v: npt.NDArray[np.int64], n_nodes: int,
    values: Sequence[npt.NDArray[np.float64]],
    protect: npt.NDArray[np.bool_] | None = None,
    *,
    through: npt.NDArray[np.bool_] | None = None,
) -> Contracted:
    """Replace every chain of pass-through nodes (:func:`pass_through`, except ``protect``)
    by one edge from its first to its last node; shortest times between the remaining nodes
    stay the same (up to the rounding of the summed times).

    A chain that returns to its start is dropped; pass-through rings with no other node are
    kept as they are. Parallel results are not merged (the caller keeps the quickest).

    Parameters
    ----------
    u, v : ndarray of int
        Sorted by (u, v), no parallel edges.
    n_nodes : int
    values : sequence of ndarray
        Per-edge values to sum along chains (e.g. ``length_m``, ``travel_min``).
    protect : ndarray of bool, optional
        Nodes never contracted (e.g. where points join the graph).
    through : ndarray of bool, optional
        :func:`pass_through` of these edges, if already computed.
    """
    through = (pass_through(u, v, n_nodes) if through is None else through).copy()
    if protect is not None:
        through &= ~protect
    out_start = np.concatenate([[0], np.cumsum(np.bincount(u, minlength=n_nodes))])[:-1]
    start = np.nonzero(~through[u])[0]
    cur = start.copy()
    sums = [np.asarray(x[start], dtype=np.float64).copy() for x in values]
    seen = np.zeros(len(u), dtype=bool)
    seen[start] = True
    active = np.nonzero(through[v[cur]])[0]
    while active.size:
        edge = cur[active]
        # past a pass-through node: its only out-edge (one-way), or of its two out-edges
        # (sorted) the one that does not turn back (two-way)
        first_out = out_start[v[edge]]
        nxt = first_out + (v[first_out] == u[edge])
        cur[active] = nxt
        seen[nxt] = True
        for total, x in zip(sums, values, strict=True):
            total[active] += x[nxt]
        active = active[through[v[nxt]]]
    rest = np.nonzero(~seen)[0]  # edges of pass-through rings: kept as they are
    new_u = np.concatenate([u[start], u[rest]])
    new_v = np.concatenate([v[cur], v[rest]])
    first = np.concatenate([start, rest])
    loop = new_u == new_v
    kept = ~through
    kept[u[rest]] = True
    return Contracted(new_u[~loop], new_v[~loop], first[~loop],
                      tuple(np.concatenate([t, x[rest]])[~loop]
                            for t, x in zip(sums, values, strict=True)), kept)


def simplify_arrays(arrays: GraphArrays, *, max_rounds: int = 20) -> GraphArrays:
    """Contract pass-through chains into single edges (lengths and times summed in the
    direction of travel, the first edge's ``highway``), exactly for shortest drive times.

    The array counterpart of :func:`siteopt.travel.graph.simplify_graph` for county-size
    graphs (:func:`contract_chains`): every chain of pass-through nodes between two other
    nodes becomes one edge; of parallel results the quickest is kept (the networkx version
    instead keeps the last node of the slower one, so the two may differ in nodes, never in
    times between kept nodes); a chain that comes back to its start is dropped. Repeats while
    that leaves new pass-through nodes. A ring of pass-through nodes only is kept as it is.

    Parameters
    ----------
    arrays : GraphArrays
        Strongly connected (from :func:`largest_scc_arrays`), edges sorted by (u, v), no
        self-loops or parallel edges (from :func:`osm_to_arrays`).
    """
    for _ in range(max_rounds):
        u, v = arrays.edge_u.astype(np.int64), arrays.edge_v.astype(np.int64)
        before = len(arrays.node_id)
        c = contract_chains(u, v, before, (arrays.length_m, arrays.travel_min))
        if c.kept.all():
            return arrays
        length, minutes = c.sums
        keep = quickest_edges(c.u, c.v, minutes)
        arrays = _arrays(arrays.node_id, arrays.lon, arrays.lat, c.u[keep], c.v[keep],
                         length[keep], minutes[keep],
                         arrays.highway_code[c.first_edge[keep]].astype(np.int64),
                         arrays.highway_names)
        if len(arrays.node_id) == before:
            return arrays
    return arrays


CONTRACT_MIN_SHARE = 0.5
"""The shortest paths run on a contracted copy of the graph when at least this share of its
nodes only pass traffic through (an unsimplified OSM build: about 90%; a simplified graph and
the LLR default: under 5%, so they are used as they are). A performance switch, not a model
assumption: contraction keeps every node where a point joins the graph and changes drive times
only in the last digits of rounding (the sums along a chain are added in another order)."""


def path_graph(arrays: GraphArrays, protect: npt.NDArray[np.bool_], min_edge_min: float
               ) -> tuple[GraphArrays, npt.NDArray[np.int64]]:
    """The graph the shortest paths run on, and each node's position in it.

    ``arrays`` itself (positions unchanged) unless its edges are sorted by (u, v) without
    parallels (a siteopt graph file) and :data:`CONTRACT_MIN_SHARE` of its nodes pass traffic
    through; then those chains, except at ``protect``, are contracted (:func:`contract_chains`)
    with every edge's time first raised to ``min_edge_min``, the quickest of parallel results
    kept; the remaining nodes keep their order.
    """
    n = len(arrays.node_id)
    u, v = arrays.edge_u.astype(np.int64), arrays.edge_v.astype(np.int64)
    same = np.arange(n, dtype=np.int64)
    key = u * n + v
    if len(key) < 2 or not np.all(key[1:] > key[:-1]):
        return arrays, same
    del key
    through = pass_through(u, v, n) & ~protect
    if through.sum() < CONTRACT_MIN_SHARE * n:
        return arrays, same
    chains = contract_chains(u, v, n, (np.maximum(arrays.travel_min, min_edge_min),),
                             protect, through=through)
    (minutes,) = chains.sums
    keep = quickest_edges(chains.u, chains.v, minutes)
    nodes = np.nonzero(chains.kept)[0]
    position = np.cumsum(chains.kept) - 1
    m = len(keep)
    work = GraphArrays(arrays.node_id[nodes], arrays.lon[nodes], arrays.lat[nodes],
                       position[chains.u[keep]].astype(np.int32),
                       position[chains.v[keep]].astype(np.int32), np.zeros(m), minutes[keep],
                       np.zeros(m, dtype=np.uint8), arrays.highway_names)
    return work, np.asarray(position, dtype=np.int64)


MORTON_BITS = 16
"""Bits per axis of the space-filling (Morton, Z-order) code that orders a built graph's nodes."""


def _spread_bits(x: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Put a zero bit between each of the low 16 bits of ``x`` (for a Morton code)."""
    x = x & 0xFFFF
    x = (x | (x << 8)) & 0x00FF00FF
    x = (x | (x << 4)) & 0x0F0F0F0F
    x = (x | (x << 2)) & 0x33333333
    return (x | (x << 1)) & 0x55555555


def spatial_order(arrays: GraphArrays) -> GraphArrays:
    """The same graph with its nodes in Z-order (Morton code of their position on a
    65,536 x 65,536 grid over the graph's extent; ties by node id) and edges by (u, v).

    Nodes near each other on the ground are near each other in memory, so a shortest-path
    search over a county-size graph reads memory locally: scipy's Dijkstra is about three
    times quicker than on nodes in OSM id order (``benchmarks/bench_osm.py``). Drive times
    are unchanged: only the positions of the nodes in the arrays move.
    """
    cells = float(2**MORTON_BITS - 1)

    def cell(values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        span = float(values.max() - values.min()) or 1.0
        return np.asarray(np.floor((values - values.min()) / span * cells), dtype=np.int64)

    code = _spread_bits(cell(arrays.lon)) | (_spread_bits(cell(arrays.lat)) << 1)
    order = np.lexsort((arrays.node_id, code))
    new = np.empty(len(order), dtype=np.int64)
    new[order] = np.arange(len(order))
    u, v = new[arrays.edge_u], new[arrays.edge_v]
    edges = np.lexsort((v, u))
    return GraphArrays(arrays.node_id[order], arrays.lon[order], arrays.lat[order],
                       u[edges].astype(np.int32), v[edges].astype(np.int32),
                       arrays.length_m[edges], arrays.travel_min[edges],
                       arrays.highway_code[edges], arrays.highway_names)


def save_graph_arrays(arrays: GraphArrays, path: Path) -> Path:
    """Write :class:`GraphArrays` as a graph file (the format of
    :mod:`siteopt.travel.graph`, byte for byte what :func:`save_graph` writes for the same
    graph), atomically, after checking the format's rules."""
    content = {"format": np.array(GRAPH_FORMAT), "node_id": arrays.node_id, "lon": arrays.lon,
               "lat": arrays.lat, "edge_u": arrays.edge_u, "edge_v": arrays.edge_v,
               "length_m": arrays.length_m, "travel_min": arrays.travel_min,
               "highway_code": arrays.highway_code,
               "highway_names": np.array(arrays.highway_names)}
    problems = check_graph_arrays(content, str(path))
    if problems:
        raise DataError(problems)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **content)  # type: ignore[arg-type]
    tmp.replace(path)
    return path


def build_osm_arrays(
    osm_path: Path | Sequence[Path], roads_dir: Path, *, simplify: bool = True
) -> tuple[GraphArrays, BuildReport]:
    """OSM extracts -> largest-SCC drive graph as arrays (simplified unless ``simplify`` is
    False), using the data files in ``roads_dir``; memory-lean (no networkx) for county-size
    extracts.

    Parameters
    ----------
    osm_path : Path or sequence of Path
        One or more ``.osm.pbf`` extracts (merged, see :func:`read_ways`).
    roads_dir : Path
        Folder holding ``speeds.csv``, ``parameters.csv`` and ``urban_areas.csv``.
    simplify : bool
        Contract pass-through chains (:func:`simplify_arrays`).

    Returns
    -------
    (GraphArrays, BuildReport)
        Nodes in :func:`spatial_order`, edges by (u, v).
    """
    start = time.perf_counter()
    speeds = read_speeds(roads_dir / "speeds.csv")
    params = read_parameters(roads_dir / "parameters.csv")
    areas = read_urban_areas(roads_dir / "urban_areas.csv")
    raw, _ = osm_to_arrays(osm_path, speeds, params, areas)
    graph = largest_scc_arrays(raw)
    if simplify:
        graph = simplify_arrays(graph)
    graph = spatial_order(graph)
    report = BuildReport(len(raw.node_id), len(raw.edge_u), len(graph.node_id),
                         len(graph.edge_u), time.perf_counter() - start)
    return graph, report

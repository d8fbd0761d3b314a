"""Road graphs for drive times: the graph, its file format, simplification, merging, checks.

The graph builders are :mod:`siteopt.travel.osm` (OpenStreetMap extracts) and
:mod:`siteopt.travel.strategic` (the hand-authored strategic network); both produce the graph
described here, and :mod:`siteopt.travel.matrix` computes drive times on it.

Functions take a graph and return a graph (in the style of osmnx). A graph is a
:class:`networkx.DiGraph` whose nodes carry ``x`` (longitude) and ``y`` (latitude) in WGS84 and
whose edges carry ``length_m``, ``travel_min``, ``speed_kph`` and ``highway``.

Assumptions live in data files, never in code (see ``geodata/roads/README.md``):

- ``speeds.csv``: speed in km/h per OSM ``highway`` class and setting (``urban``/``rural``), each
  with its source.
- ``parameters.csv``: the few global parameters (maxspeed factor, access speeds, detour factor,
  number of snap candidates, snap and link limits), each with its source.
- ``urban_areas.csv``: built-up areas as circles (name, lat, lon, radius_km); an edge or a point
  inside one is ``urban``.

Graph file format (``.npz``, :func:`save_graph` / :func:`load_graph`)
---------------------------------------------------------------------
A numpy ``savez_compressed`` archive with these arrays:

``format``
    the string ``"siteopt-roads-1"``.
``node_id`` (int64, n)
    node ids (OSM node ids for OSM nodes; negative ids for strategic-network nodes).
``lon``, ``lat`` (float64, n)
    WGS84 coordinates of the nodes.
``edge_u``, ``edge_v`` (int32, m)
    positions (not ids) in ``node_id`` of each directed edge's tail and head.
``length_m``, ``travel_min`` (float64, m)
    edge length in metres and free-flow drive time in minutes.
``highway_code`` (uint8, m) and ``highway_names`` (str, k)
    the edge's highway class, as an index into ``highway_names``.

Loading builds the DiGraph with one ``add_edges_from`` call; :func:`load_graph_arrays` gives the
arrays themselves for code that goes straight to scipy.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from siteopt.crs import GB_LAT_RANGE_DEG, GB_LON_RANGE_DEG, to_bng
from siteopt.errors import DataError, Problem

GRAPH_FORMAT = "siteopt-roads-1"
EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), for haversine lengths."""


@dataclass(frozen=True)
class GraphArrays:
    """A road graph as flat arrays (the content of a graph file)."""

    node_id: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    edge_u: npt.NDArray[np.int32]
    edge_v: npt.NDArray[np.int32]
    length_m: npt.NDArray[np.float64]
    travel_min: npt.NDArray[np.float64]
    highway_code: npt.NDArray[np.uint8]
    highway_names: tuple[str, ...]


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distance in metres between WGS84 points (vectorised)."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a)), dtype=np.float64)


def add_min_edge(
    graph: nx.DiGraph, a: int, b: int, length_m: float, speed_kph: float, highway: str
) -> None:
    travel_min = length_m / 1000.0 / speed_kph * 60.0
    old = graph.get_edge_data(a, b)
    if old is not None and old["travel_min"] <= travel_min:
        return
    graph.add_edge(a, b, length_m=length_m, travel_min=travel_min, speed_kph=speed_kph,
                   highway=highway)


def simplify_graph(graph: nx.DiGraph) -> nx.DiGraph:
    """Contract degree-2 chains into single edges (lengths and times summed).

    A node is removed when it only passes traffic through: one way in and one way out to two
    different neighbours (one-way chain), or two-way links to exactly two neighbours. The new
    edge keeps the first edge's ``highway`` and the summed ``length_m`` and ``travel_min``;
    where an edge already joins the two ends, the quicker is kept. Shortest drive times between
    the remaining nodes are unchanged.

    Returns
    -------
    networkx.DiGraph
        A new graph.
    """
    g = graph.copy()
    for n in list(g.nodes):
        preds = set(g.predecessors(n))
        succs = set(g.successors(n))
        if n in preds or n in succs:
            continue
        if len(preds) == 1 and len(succs) == 1 and preds != succs:
            (u,), (w,) = preds, succs
            pairs = [(u, w)]
        elif len(preds) == 2 and preds == succs:
            u, w = sorted(preds)
            pairs = [(u, w), (w, u)]
        else:
            continue
        if any(g.has_edge(a, b) and g[a][b]["travel_min"] <= g[a][n]["travel_min"]
               + g[n][b]["travel_min"] for a, b in pairs):
            # an existing quicker edge would make the contraction lose a route choice only if
            # we kept the slower one; keep the node to stay exact and simple
            continue
        for a, b in pairs:
            e1, e2 = g[a][n], g[n][b]
            g.add_edge(a, b, length_m=e1["length_m"] + e2["length_m"],
                       travel_min=e1["travel_min"] + e2["travel_min"],
                       speed_kph=(e1["length_m"] + e2["length_m"]) / 1000.0
                       / ((e1["travel_min"] + e2["travel_min"]) / 60.0),
                       highway=e1["highway"])
        g.remove_node(n)
    return g


def largest_scc(graph: nx.DiGraph) -> nx.DiGraph:
    """The largest strongly connected component, as a new graph (every node reaches every other)."""
    if graph.number_of_nodes() == 0:
        return graph.copy()
    nodes = max(nx.strongly_connected_components(graph), key=len)
    return graph.subgraph(nodes).copy()


def merge_graphs(
    strategic: nx.DiGraph,
    detailed: nx.DiGraph,
    parameters: Mapping[str, float],
    *,
    detailed_hull_buffer_m: float = 0.0,
) -> nx.DiGraph:
    """Join a detailed (OSM) graph into a strategic one.

    Strategic edges whose midpoint lies inside the detailed graph's convex hull are dropped (the
    detailed graph is the truth there). Every strategic node within ``link_max_m`` of a detailed
    node is joined to its nearest detailed node in both directions by a link whose time is the
    straight-line distance times ``detour_factor`` at ``access_speed_rural_kph``.

    Returns
    -------
    networkx.DiGraph
        A new graph holding both node sets.
    """
    from scipy.spatial import cKDTree
    from shapely import MultiPoint, Point, prepared


    d_nodes = np.array(list(detailed.nodes))
    d_lon = np.array([detailed.nodes[n]["x"] for n in d_nodes])
    d_lat = np.array([detailed.nodes[n]["y"] for n in d_nodes])
    d_x, d_y = to_bng(d_lat, d_lon)
    hull = MultiPoint(np.column_stack([d_x, d_y])).convex_hull.buffer(detailed_hull_buffer_m)
    hull_p = prepared.prep(hull)
    merged = nx.DiGraph()
    merged.add_nodes_from(strategic.nodes(data=True))
    s_nodes = list(strategic.nodes)
    s_lon = np.array([strategic.nodes[n]["x"] for n in s_nodes])
    s_lat = np.array([strategic.nodes[n]["y"] for n in s_nodes])
    s_x, s_y = to_bng(s_lat, s_lon)
    pos = {n: (s_x[i], s_y[i]) for i, n in enumerate(s_nodes)}
    for a, b, data in strategic.edges(data=True):
        mid = Point((pos[a][0] + pos[b][0]) / 2, (pos[a][1] + pos[b][1]) / 2)
        if not hull_p.contains(mid):
            merged.add_edge(a, b, **data)
    merged.add_nodes_from(detailed.nodes(data=True))
    merged.add_edges_from(detailed.edges(data=True))
    tree = cKDTree(np.column_stack([d_x, d_y]))
    dist, idx = tree.query(np.column_stack([s_x, s_y]))
    speed = float(parameters["access_speed_rural_kph"])
    detour = float(parameters["detour_factor"])
    for i, n in enumerate(s_nodes):
        if dist[i] <= parameters["link_max_m"]:
            m = int(d_nodes[idx[i]])
            length_m = float(dist[i]) * detour
            for a, b in ((n, m), (m, n)):
                add_min_edge(merged, a, b, length_m, speed, "link")
    merged.remove_nodes_from([n for n in list(merged.nodes) if merged.degree(n) == 0])
    return merged


# --------------------------------------------------------------------------- save / load


def graph_to_arrays(graph: nx.DiGraph) -> GraphArrays:
    """Flatten a graph into :class:`GraphArrays` (node order: sorted ids)."""
    node_id = np.array(sorted(graph.nodes), dtype=np.int64)
    index = {int(n): i for i, n in enumerate(node_id)}
    edges = sorted(graph.edges(data=True), key=lambda e: (index[e[0]], index[e[1]]))
    names = tuple(sorted({str(d.get("highway", "road")) for _, _, d in edges}))
    code = {name: i for i, name in enumerate(names)}
    return GraphArrays(
        node_id=node_id,
        lon=np.array([graph.nodes[n]["x"] for n in node_id.tolist()], dtype=np.float64),
        lat=np.array([graph.nodes[n]["y"] for n in node_id.tolist()], dtype=np.float64),
        edge_u=np.array([index[a] for a, _, _ in edges], dtype=np.int32),
        edge_v=np.array([index[b] for _, b, _ in edges], dtype=np.int32),
        length_m=np.array([d["length_m"] for _, _, d in edges], dtype=np.float64),
        travel_min=np.array([d["travel_min"] for _, _, d in edges], dtype=np.float64),
        highway_code=np.array([code[str(d.get("highway", "road"))] for _, _, d in edges],
                              dtype=np.uint8),
        highway_names=names,
    )


def save_graph(graph: nx.DiGraph, path: Path) -> Path:
    """Write a graph file (format in the module docstring), atomically. Returns the path."""
    check_edge_weights(graph, str(path))
    arrays = graph_to_arrays(graph)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(
        tmp, format=np.array(GRAPH_FORMAT), node_id=arrays.node_id, lon=arrays.lon,
        lat=arrays.lat, edge_u=arrays.edge_u, edge_v=arrays.edge_v, length_m=arrays.length_m,
        travel_min=arrays.travel_min, highway_code=arrays.highway_code,
        highway_names=np.array(arrays.highway_names),
    )
    tmp.replace(path)
    return path


NODE_ARRAYS = ("node_id", "lon", "lat")
EDGE_ARRAYS = ("edge_u", "edge_v", "length_m", "travel_min", "highway_code")
GRAPH_ARRAYS = ("format", *NODE_ARRAYS, *EDGE_ARRAYS, "highway_names")
"""The arrays of a graph file (see the module docstring)."""
REBUILD_HINT = "rebuild it with `siteopt geodata roads` (see geodata/roads/README.md)"


def load_graph_arrays(path: Path, *, label: str | None = None) -> GraphArrays:
    """Read a graph file into :class:`GraphArrays` (no networkx), checking it.

    Parameters
    ----------
    path : Path
    label : str, optional
        How problems name the file (default: the path).

    Raises
    ------
    DataError
        A missing, truncated or damaged file, or one whose arrays break the format (see
        :func:`check_graph_arrays`), with every problem found.
    """
    label = label or str(path)
    if not path.is_file():
        raise DataError([Problem(label, "road graph file not found: build it with "
                                 "'siteopt geodata roads'")])
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise DataError([Problem(label, f"is a single array, not a {GRAPH_FORMAT} graph "
                                            f"archive; {REBUILD_HINT}")])
        with archive as z:
            if "format" not in z or str(z["format"]) != GRAPH_FORMAT:
                raise DataError([Problem(label, f"not a {GRAPH_FORMAT} graph file; "
                                                f"{REBUILD_HINT}")])
            missing = [k for k in GRAPH_ARRAYS if k not in z]
            if missing:
                raise DataError([Problem(label, f"lacks the array(s) {', '.join(missing)}; "
                                                f"{REBUILD_HINT}")])
            loaded = {k: np.asarray(z[k]) for k in GRAPH_ARRAYS}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, KeyError, TypeError, zipfile.BadZipFile,
            zlib.error) as err:
        raise DataError([Problem(label, f"cannot be read as a graph file ({type(err).__name__}:"
                                        f" {err}); the file is truncated or damaged: "
                                        f"{REBUILD_HINT}")]) from err
    problems = check_graph_arrays(loaded, label)
    if problems:
        raise DataError(problems)
    return GraphArrays(
        node_id=loaded["node_id"], lon=loaded["lon"], lat=loaded["lat"],
        edge_u=loaded["edge_u"], edge_v=loaded["edge_v"], length_m=loaded["length_m"],
        travel_min=loaded["travel_min"], highway_code=loaded["highway_code"],
        highway_names=tuple(str(s) for s in loaded["highway_names"].ravel()),
    )


def check_graph_arrays(arrays: Mapping[str, npt.NDArray[Any]], label: str) -> list[Problem]:
    """Every rule of the graph format a drive-time computation relies on.

    Node arrays are 1-D numbers of one length (at least two nodes) with unique ids and finite
    WGS84 positions in Great Britain; edge arrays are 1-D numbers of one length (at least one
    edge) whose ends are node positions, with finite non-negative lengths and times and a
    highway code that indexes ``highway_names``.
    """
    problems: list[Problem] = []
    for group, least in ((NODE_ARRAYS, 2), (EDGE_ARRAYS, 1)):
        lengths = {k: arrays[k].shape for k in group}
        bad = [k for k in group if arrays[k].ndim != 1 or arrays[k].dtype.kind not in "iuf"]
        if bad or len(set(lengths.values())) != 1 or next(iter(lengths.values()))[0] < least:
            sizes = ", ".join(f"{k} {lengths[k]}" for k in group)
            problems.append(Problem(label, f"arrays {', '.join(group)} must be 1-D numbers of "
                                           f"one length (at least {least}); found {sizes}; "
                                           f"{REBUILD_HINT}", field=", ".join(group)))
    if problems:
        return problems
    n = len(arrays["node_id"])
    if len(np.unique(arrays["node_id"])) != n:
        problems.append(Problem(label, f"node ids repeat; {REBUILD_HINT}", field="node_id"))
    lat, lon = arrays["lat"], arrays["lon"]
    outside = ~(np.isfinite(lat) & np.isfinite(lon) & (lat >= GB_LAT_RANGE_DEG[0])
                & (lat <= GB_LAT_RANGE_DEG[1]) & (lon >= GB_LON_RANGE_DEG[0])
                & (lon <= GB_LON_RANGE_DEG[1]))
    if outside.any():
        k = int(np.argmax(outside))
        problems.append(Problem(label, f"{int(outside.sum())} node(s) lie outside Great "
                                       f"Britain or are not numbers (e.g. node "
                                       f"{arrays['node_id'][k]} at lat {lat[k]}, lon {lon[k]}); "
                                       f"{REBUILD_HINT}", field="lat/lon"))
    for key in ("edge_u", "edge_v"):
        ends = arrays[key]
        if arrays[key].dtype.kind == "f" or np.any(ends < 0) or np.any(ends >= n):
            problems.append(Problem(label, f"{key} must hold node positions 0-{n - 1}; "
                                           f"{REBUILD_HINT}", field=key))
    for key in ("length_m", "travel_min"):
        values = arrays[key]
        bad_values = ~np.isfinite(values) | (values < 0)
        if bad_values.any():
            k = int(np.argmax(bad_values))
            problems.append(Problem(label, f"{int(bad_values.sum())} edge(s) have a missing or "
                                           f"negative {key} (e.g. edge {k}: {values[k]}); "
                                           f"{REBUILD_HINT}", field=key))
    names = arrays["highway_names"]
    codes = arrays["highway_code"]
    if names.ndim != 1 or len(names) == 0 or np.any(codes < 0) or np.any(codes >= len(names)):
        problems.append(Problem(label, f"highway_code must index highway_names; {REBUILD_HINT}",
                                field="highway_code"))
    return problems


def distance_to_graph_m(arrays: GraphArrays, lat: npt.ArrayLike,
                        lon: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Straight-line metres (British National Grid) from each point to its nearest node."""
    from scipy.spatial import cKDTree

    nx_, ny_ = to_bng(arrays.lat, arrays.lon)
    px, py = to_bng(np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float)))
    dist, _ = cKDTree(np.column_stack([nx_, ny_])).query(np.column_stack([px, py]))
    return np.asarray(dist, dtype=np.float64)


def arrays_to_graph(arrays: GraphArrays) -> nx.DiGraph:
    """Build the networkx DiGraph from :class:`GraphArrays`."""
    graph = nx.DiGraph()
    ids = arrays.node_id.tolist()
    graph.add_nodes_from(
        (n, {"x": x, "y": y})
        for n, x, y in zip(ids, arrays.lon.tolist(), arrays.lat.tolist(), strict=True)
    )
    names = arrays.highway_names
    graph.add_edges_from(
        (ids[u], ids[v], {"length_m": length, "travel_min": t, "highway": names[c]})
        for u, v, length, t, c in zip(arrays.edge_u.tolist(), arrays.edge_v.tolist(),
                                      arrays.length_m.tolist(), arrays.travel_min.tolist(),
                                      arrays.highway_code.tolist(), strict=True)
    )
    return graph


def load_graph(path: Path) -> nx.DiGraph:
    """Read a graph file into a networkx DiGraph."""
    return arrays_to_graph(load_graph_arrays(path))


def check_edge_weights(graph: nx.DiGraph, name: str = "graph") -> None:
    """Raise DataError if any edge lacks a finite, non-negative ``travel_min`` or ``length_m``.

    networkx silently counts a missing weight as 1; this check makes that impossible.
    """
    problems: list[Problem] = []
    for a, b, data in graph.edges(data=True):
        for key in ("travel_min", "length_m"):
            value = data.get(key)
            if value is None or not math.isfinite(value) or value < 0:
                problems.append(Problem(name, f"edge {a}->{b} has {key}={value!r}: every edge "
                                        "needs a finite, non-negative value", field=key))
        if len(problems) >= 20:
            break
    if problems:
        raise DataError(problems)


# --------------------------------------------------------------------------- pipelines


@dataclass(frozen=True)
class BuildReport:
    """What a graph build did."""

    raw_nodes: int
    raw_edges: int
    nodes: int
    edges: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """As a plain dict (for JSON or printing)."""
        return {"raw_nodes": self.raw_nodes, "raw_edges": self.raw_edges, "nodes": self.nodes,
                "edges": self.edges, "seconds": round(self.seconds, 3)}

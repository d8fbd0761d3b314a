"""Road graphs for drive times: OpenStreetMap extracts, the strategic network, save and load.

Functions take a graph and return a graph (in the style of osmnx). A graph is a
:class:`networkx.DiGraph` whose nodes carry ``x`` (longitude) and ``y`` (latitude) in WGS84 and
whose edges carry ``length_m``, ``travel_min``, ``speed_kph`` and ``highway``.

Why pyosmium (``osmium``) and not pyrosm: pyosmium is the reference binding of libosmium, reads
``.osm.pbf`` as a stream with node locations resolved in C++ (the Rutland extract in 0.05 s),
has wheels for current Pythons and no pinned geopandas/shapely/cykhash stack; pyrosm loads whole
layers into GeoDataFrames (more memory, slower for a national extract) and has had long gaps
between releases. We only need ways with a ``highway`` tag and their node coordinates, which is
exactly what a pyosmium ``FileProcessor`` with a tag filter gives.

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

import csv
import itertools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from siteopt.errors import DataError, Problem

GRAPH_FORMAT = "siteopt-roads-1"
EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), for haversine lengths."""
MPH_TO_KPH = 1.609344
"""Exact: one international mile is 1,609.344 m."""
NATIONAL_LIMIT_MPH = {"motorway": 70.0}
"""The national speed limit a strategic road's rural class speed stands for (Highway Code rule
124: 70 mph on motorways and dual carriageways, 60 mph on single carriageways). A class not
listed here stands for 60 mph. A stretch with a documented lower (or dual-carriageway 70 mph)
limit, ``maxspeed_mph`` in ``strategic_routes.csv``, runs at the class speed times
``maxspeed_mph / national limit``: the fitted class speed is a share of the limit achieved."""
DEFAULT_LIMIT_MPH = 60.0

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


@dataclass(frozen=True)
class UrbanArea:
    """A built-up area, approximated by a circle."""

    name: str
    lat: float
    lon: float
    radius_km: float


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


# --------------------------------------------------------------------------- data files


def read_speeds(path: Path) -> dict[tuple[str, str], float]:
    """Read ``speeds.csv``: speed in km/h per (highway, setting).

    Parameters
    ----------
    path : Path
        CSV with columns ``highway, setting, speed_kph, source``.

    Returns
    -------
    dict
        ``{(highway, setting): speed_kph}``, setting in ``{"urban", "rural"}``.

    Raises
    ------
    DataError
        A missing column, a non-positive speed, an unknown setting or an empty source.
    """
    problems: list[Problem] = []
    speeds: dict[tuple[str, str], float] = {}
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"highway", "setting", "speed_kph", "source"} - set(reader.fieldnames or [])
        if missing:
            raise DataError([Problem(str(path), f"missing columns {sorted(missing)}")])
        for row_no, row in enumerate(reader, start=2):
            try:
                speed = float(row["speed_kph"])
            except ValueError:
                speed = math.nan
            if not speed > 0:
                problems.append(
                    Problem(str(path), "speed must be a positive number of km/h", row_no,
                            "speed_kph")
                )
            if row["setting"] not in ("urban", "rural"):
                problems.append(Problem(str(path), "setting must be urban or rural", row_no,
                                        "setting"))
            if not row["source"].strip():
                problems.append(Problem(str(path), "every speed needs a source", row_no,
                                        "source"))
            speeds[(row["highway"], row["setting"])] = speed
    if problems:
        raise DataError(problems)
    return speeds


def read_parameters(path: Path) -> dict[str, float]:
    """Read ``parameters.csv`` (``name, value, unit, source``) into ``{name: value}``.

    Raises
    ------
    DataError
        A value that is not a number or a row without a source.
    """
    problems: list[Problem] = []
    params: dict[str, float] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row_no, row in enumerate(csv.DictReader(f), start=2):
            try:
                params[row["name"]] = float(row["value"])
            except (ValueError, TypeError):
                problems.append(Problem(str(path), "value must be a number", row_no, "value"))
            if not (row.get("source") or "").strip():
                problems.append(Problem(str(path), "every parameter needs a source", row_no,
                                        "source"))
    if problems:
        raise DataError(problems)
    return params


def read_urban_areas(path: Path) -> list[UrbanArea]:
    """Read ``urban_areas.csv`` (``name, lat, lon, radius_km, source``)."""
    with path.open(newline="", encoding="utf-8") as f:
        return [
            UrbanArea(r["name"], float(r["lat"]), float(r["lon"]), float(r["radius_km"]))
            for r in csv.DictReader(f)
        ]


def is_urban(
    lat: npt.ArrayLike, lon: npt.ArrayLike, urban_areas: Iterable[UrbanArea]
) -> npt.NDArray[np.bool_]:
    """Whether each point lies inside one of the urban areas."""
    lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
    lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
    inside = np.zeros(lat_a.shape, dtype=bool)
    for area in urban_areas:
        d_m = haversine_m(lat_a, lon_a, np.full_like(lat_a, area.lat),
                          np.full_like(lon_a, area.lon))
        inside |= d_m <= area.radius_km * 1000.0
    return inside


def urban_length_m(
    lat1: float, lon1: float, lat2: float, lon2: float, urban_areas: Iterable[UrbanArea],
    *, pieces: int = 0,
) -> tuple[float, float]:
    """Length of a straight segment and how much of it lies in urban areas, in metres.

    The segment is cut into pieces of at most about 200 m (or ``pieces``) and each piece's
    midpoint is tested with :func:`is_urban`.
    """
    length_m = float(haversine_m(lat1, lon1, lat2, lon2))
    n = pieces or max(1, math.ceil(length_m / 200.0))
    f = (np.arange(n) + 0.5) / n
    inside = is_urban(lat1 + f * (lat2 - lat1), lon1 + f * (lon2 - lon1), urban_areas)
    return length_m, length_m * float(inside.mean())


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distance in metres between WGS84 points (vectorised)."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a)), dtype=np.float64)


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


# --------------------------------------------------------------------------- building


def _edge_speed_kph(
    highway: str, setting: str, maxspeed_kph: float | None,
    speeds: Mapping[tuple[str, str], float], maxspeed_factor: float,
) -> float:
    if maxspeed_kph is None:
        return speeds.get((highway, setting)) or speeds[("road", setting)]
    return maxspeed_kph * maxspeed_factor


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


def osm_to_graph(
    osm_path: Path,
    speeds: Mapping[tuple[str, str], float],
    parameters: Mapping[str, float],
    urban_areas: Iterable[UrbanArea] = (),
) -> nx.DiGraph:
    """Read an OpenStreetMap extract into a directed drive graph (not yet simplified).

    Keeps ways whose ``highway`` is in :data:`DRIVABLE_HIGHWAYS` and that cars may use, adds one
    directed edge per consecutive node pair and direction allowed by ``oneway``, with
    ``length_m`` (haversine) and ``travel_min`` from ``maxspeed`` (times ``maxspeed_factor``)
    where tagged, else from the class speed in ``speeds`` for the edge's setting.

    Parameters
    ----------
    osm_path : Path
        An ``.osm.pbf`` (or ``.osm``) extract.
    speeds : mapping
        From :func:`read_speeds`.
    parameters : mapping
        From :func:`read_parameters`; uses ``maxspeed_factor``.
    urban_areas : iterable of UrbanArea
        Edges whose midpoint lies inside one use the ``urban`` class speeds.

    Returns
    -------
    networkx.DiGraph
    """
    import osmium  # imported lazily: only the OSM build needs it

    if not osm_path.exists():
        raise DataError([Problem(str(osm_path), "file not found: give an .osm.pbf extract")])
    factor = float(parameters["maxspeed_factor"])
    areas = list(urban_areas)
    coords: dict[int, tuple[float, float]] = {}
    raw_edges: list[tuple[int, int, str, float | None]] = []
    processor = (
        osmium.FileProcessor(str(osm_path))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for obj in processor:
        if not isinstance(obj, osmium.osm.Way):
            continue
        tags = {t.k: t.v for t in obj.tags}
        highway = tags.get("highway", "")
        if highway not in DRIVABLE_HIGHWAYS:
            continue
        if any(tags.get(k) in NO_CAR_ACCESS for k in ("access", "motor_vehicle", "motorcar")):
            continue
        if highway == "service" and tags.get("service") in EXCLUDED_SERVICE:
            continue
        if tags.get("area") == "yes":
            continue
        refs: list[int] = []
        for n in obj.nodes:
            if not n.location.valid():
                continue
            coords[n.ref] = (n.location.lon, n.location.lat)
            refs.append(n.ref)
        direction = _oneway(tags, highway)
        maxspeed = parse_maxspeed_kph(tags.get("maxspeed"))
        for a, b in itertools.pairwise(refs):
            if a == b:
                continue
            if direction >= 0:
                raw_edges.append((a, b, highway, maxspeed))
            if direction <= 0:
                raw_edges.append((b, a, highway, maxspeed))
    if not raw_edges:
        raise DataError([Problem(str(osm_path), "no drivable highways found in the extract")])
    u = np.array([e[0] for e in raw_edges])
    v = np.array([e[1] for e in raw_edges])
    lon_u = np.array([coords[i][0] for i in u])
    lat_u = np.array([coords[i][1] for i in u])
    lon_v = np.array([coords[i][0] for i in v])
    lat_v = np.array([coords[i][1] for i in v])
    length_m = haversine_m(lat_u, lon_u, lat_v, lon_v)
    urban = is_urban((lat_u + lat_v) / 2, (lon_u + lon_v) / 2, areas)
    graph = nx.DiGraph()
    graph.add_nodes_from((n, {"x": xy[0], "y": xy[1]}) for n, xy in coords.items())
    for i, (a, b, highway, maxspeed) in enumerate(raw_edges):
        setting = "urban" if urban[i] else "rural"
        speed = _edge_speed_kph(highway, setting, maxspeed, speeds, factor)
        _add_min_edge(graph, a, b, float(length_m[i]), speed, highway)
    graph.remove_nodes_from([n for n in list(graph.nodes) if graph.degree(n) == 0])
    return graph


def _add_min_edge(
    graph: nx.DiGraph, a: int, b: int, length_m: float, speed_kph: float, highway: str
) -> None:
    travel_min = length_m / 1000.0 / speed_kph * 60.0
    old = graph.get_edge_data(a, b)
    if old is not None and old["travel_min"] <= travel_min:
        return
    graph.add_edge(a, b, length_m=length_m, travel_min=travel_min, speed_kph=speed_kph,
                   highway=highway)


def limit_ratio(highway: str, maxspeed_mph: object = None) -> float:
    """Rural speed factor of a strategic stretch: its documented limit over the class's national
    limit (1.0 when no limit is documented). See :data:`NATIONAL_LIMIT_MPH`."""
    if maxspeed_mph in (None, ""):
        return 1.0
    return float(str(maxspeed_mph)) / NATIONAL_LIMIT_MPH.get(highway, DEFAULT_LIMIT_MPH)


def strategic_limit_ratios(
    geojson_path: Path,
) -> dict[tuple[tuple[float, float], tuple[float, float]], float]:
    """:func:`limit_ratio` of every strategic segment, keyed by its two ends' rounded
    ``(lon, lat)`` in both directions (the larger ratio where two stretches share a segment)."""
    data = json.loads(geojson_path.read_text(encoding="utf-8"))
    out: dict[tuple[tuple[float, float], tuple[float, float]], float] = {}
    for feature in data.get("features", []):
        props = feature.get("properties") or {}
        ratio = limit_ratio(str(props.get("highway", "")), props.get("maxspeed_mph"))
        pts = [(round(lon, 6), round(lat, 6)) for lon, lat in feature["geometry"]["coordinates"]]
        for a, b in itertools.pairwise(pts):
            for key in ((a, b), (b, a)):
                out[key] = max(out.get(key, 0.0), ratio)
    return out


def strategic_to_graph(
    geojson_path: Path,
    speeds: Mapping[tuple[str, str], float],
    urban_areas: Iterable[UrbanArea] = (),
    *,
    first_node_id: int = -1,
) -> nx.DiGraph:
    """Build a drive graph from a GeoJSON of strategic road segments.

    Each feature is a LineString with properties ``ref`` (road number), ``highway``
    (``motorway``, ``trunk``, ``primary`` or ``secondary``) and optionally ``oneway``
    (true: drawn direction only) and ``maxspeed_mph`` (a documented limit outside built-up
    areas; the rural class speed is scaled by :func:`limit_ratio`). Vertices with identical
    coordinates (to 1e-6 degree) are the same node, so roads meet only where they share a vertex
    (a junction). An edge's time sums its urban length at the class's urban speed and the rest
    at its rural speed (``speeds``; urban length from :func:`urban_length_m`).

    Parameters
    ----------
    geojson_path : Path
    speeds : mapping
        From :func:`read_speeds`.
    urban_areas : iterable of UrbanArea
    first_node_id : int
        Strategic nodes get ids ``first_node_id, first_node_id - 1, ...`` (negative by default,
        so they never clash with OSM node ids).

    Returns
    -------
    networkx.DiGraph
    """
    data = json.loads(geojson_path.read_text(encoding="utf-8"))
    areas = list(urban_areas)
    problems: list[Problem] = []
    ids: dict[tuple[float, float], int] = {}
    graph = nx.DiGraph()

    def node_for(lon: float, lat: float) -> int:
        key = (round(lon, 6), round(lat, 6))
        if key not in ids:
            ids[key] = first_node_id - len(ids)
            graph.add_node(ids[key], x=key[0], y=key[1])
        return ids[key]

    for i, feature in enumerate(data.get("features", [])):
        props = feature.get("properties") or {}
        geom = feature.get("geometry") or {}
        highway = str(props.get("highway", ""))
        if geom.get("type") != "LineString" or (highway, "rural") not in speeds:
            problems.append(Problem(str(geojson_path),
                                    f"feature {i} ({props.get('ref')}): needs a LineString and a "
                                    "highway class listed in speeds.csv", field="highway"))
            continue
        oneway = bool(props.get("oneway", False))
        ratio = limit_ratio(highway, props.get("maxspeed_mph"))
        pts = geom["coordinates"]
        for (lon1, lat1), (lon2, lat2) in itertools.pairwise(pts):
            a, b = node_for(lon1, lat1), node_for(lon2, lat2)
            if a == b:
                continue
            length_m, urban_m = urban_length_m(lat1, lon1, lat2, lon2, areas)
            travel_min = (urban_m / speeds[(highway, "urban")]
                          + (length_m - urban_m) / (speeds[(highway, "rural")] * ratio)
                          ) / 1000.0 * 60.0
            speed = length_m / 1000.0 / (travel_min / 60.0) if travel_min > 0 else 1.0
            _add_min_edge(graph, a, b, length_m, speed, highway)
            if not oneway:
                _add_min_edge(graph, b, a, length_m, speed, highway)
    if problems:
        raise DataError(problems)
    return graph


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

    from siteopt.travel import to_bng

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
                _add_min_edge(merged, a, b, length_m, speed, "link")
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


def load_graph_arrays(path: Path) -> GraphArrays:
    """Read a graph file into :class:`GraphArrays` (no networkx)."""
    if not path.exists():
        raise DataError([Problem(str(path), "road graph file not found: build it with "
                                 "'siteopt geodata roads'")])
    with np.load(path, allow_pickle=False) as z:
        if "format" not in z or str(z["format"]) != GRAPH_FORMAT:
            raise DataError([Problem(str(path), f"not a {GRAPH_FORMAT} graph file")])
        return GraphArrays(
            node_id=z["node_id"], lon=z["lon"], lat=z["lat"], edge_u=z["edge_u"],
            edge_v=z["edge_v"], length_m=z["length_m"], travel_min=z["travel_min"],
            highway_code=z["highway_code"],
            highway_names=tuple(str(s) for s in z["highway_names"]),
        )


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


def build_osm_graph(
    osm_path: Path, roads_dir: Path
) -> tuple[nx.DiGraph, BuildReport]:
    """OSM extract -> simplified largest-SCC drive graph, using the data files in ``roads_dir``.

    Parameters
    ----------
    osm_path : Path
        The ``.osm.pbf`` extract.
    roads_dir : Path
        Folder holding ``speeds.csv``, ``parameters.csv`` and ``urban_areas.csv``.
    """
    import time

    start = time.perf_counter()
    speeds = read_speeds(roads_dir / "speeds.csv")
    params = read_parameters(roads_dir / "parameters.csv")
    areas = read_urban_areas(roads_dir / "urban_areas.csv")
    raw = osm_to_graph(osm_path, speeds, params, areas)
    graph = largest_scc(simplify_graph(raw))
    report = BuildReport(raw.number_of_nodes(), raw.number_of_edges(), graph.number_of_nodes(),
                         graph.number_of_edges(), time.perf_counter() - start)
    return graph, report


def build_default_graph(
    roads_dir: Path, detailed: nx.DiGraph | None = None
) -> nx.DiGraph:
    """The LLR default graph: strategic network, merged with a detailed OSM graph if given.

    Parameters
    ----------
    roads_dir : Path
        Folder with ``strategic_roads.geojson`` and the data files.
    detailed : networkx.DiGraph, optional
        An OSM drive graph (e.g. Rutland, from :func:`build_osm_graph`), joined in with
        :func:`merge_graphs`.
    """
    speeds = read_speeds(roads_dir / "speeds.csv")
    params = read_parameters(roads_dir / "parameters.csv")
    areas = read_urban_areas(roads_dir / "urban_areas.csv")
    graph = strategic_to_graph(roads_dir / "strategic_roads.geojson", speeds, areas)
    if detailed is not None:
        graph = merge_graphs(graph, detailed, params)
    return largest_scc(graph)


def strategic_geojson_from_tables(nodes_csv: Path, routes_csv: Path) -> dict[str, Any]:
    """Author the strategic-network GeoJSON from two hand-written tables.

    Parameters
    ----------
    nodes_csv : Path
        ``node, lat, lon, note``: junctions and towns, positions from public maps.
    routes_csv : Path
        ``ref, highway, nodes, note`` and optionally ``maxspeed_mph``: each road (or stretch
        of a road) as a space-separated sequence of node names, with its documented limit.

    Returns
    -------
    dict
        A GeoJSON FeatureCollection, one LineString feature per route (properties ``ref``,
        ``highway``, ``nodes``, ``note``), ready for :func:`strategic_to_graph`.

    Raises
    ------
    DataError
        Unknown node names, duplicate nodes, routes with fewer than two nodes.
    """
    problems: list[Problem] = []
    coords: dict[str, tuple[float, float]] = {}
    with nodes_csv.open(newline="", encoding="utf-8") as f:
        for row_no, row in enumerate(csv.DictReader(f), start=2):
            if row["node"] in coords:
                problems.append(Problem(str(nodes_csv), f"duplicate node {row['node']}", row_no,
                                        "node"))
            coords[row["node"]] = (float(row["lon"]), float(row["lat"]))
    features: list[dict[str, Any]] = []
    with routes_csv.open(newline="", encoding="utf-8") as f:
        for row_no, row in enumerate(csv.DictReader(f), start=2):
            names = row["nodes"].split()
            unknown = [n for n in names if n not in coords]
            if unknown:
                problems.append(Problem(str(routes_csv), f"unknown nodes {unknown}", row_no,
                                        "nodes"))
                continue
            if len(names) < 2:
                problems.append(Problem(str(routes_csv), "a route needs two or more nodes",
                                        row_no, "nodes"))
                continue
            props: dict[str, Any] = {"ref": row["ref"], "highway": row["highway"],
                                     "nodes": row["nodes"], "note": row.get("note", "")}
            limit = (row.get("maxspeed_mph") or "").strip()
            if limit:
                try:
                    props["maxspeed_mph"] = int(limit)
                except ValueError:
                    problems.append(Problem(str(routes_csv), "maxspeed_mph must be a whole "
                                            "number of mph", row_no, "maxspeed_mph"))
                    continue
            features.append({
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "LineString",
                             "coordinates": [list(coords[n]) for n in names]},
            })
    if problems:
        raise DataError(problems)
    return {
        "type": "FeatureCollection",
        "name": "siteopt strategic road network (LLR and surroundings)",
        "attribution": "Authored for siteopt from public knowledge of road numbers, junctions "
                       "and town positions; see geodata/roads/README.md",
        "features": features,
    }


def write_strategic_geojson(roads_dir: Path) -> Path:
    """Write ``strategic_roads.geojson`` from the tables in ``roads_dir``; returns its path."""
    data = strategic_geojson_from_tables(roads_dir / "strategic_nodes.csv",
                                         roads_dir / "strategic_routes.csv")
    out = roads_dir / "strategic_roads.geojson"
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    return out

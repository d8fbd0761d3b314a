"""Road graphs from OpenStreetMap extracts (pyosmium).

Why pyosmium (``osmium``) and not pyrosm: pyosmium is the reference binding of libosmium, reads
``.osm.pbf`` as a stream with node locations resolved in C++ (the Rutland extract in 0.05 s),
has wheels for current Pythons and no pinned geopandas/shapely/cykhash stack; pyrosm loads whole
layers into GeoDataFrames (more memory, slower for a national extract) and has had long gaps
between releases. We only need ways with a ``highway`` tag and their node coordinates, which is
exactly what a pyosmium ``FileProcessor`` with a tag filter gives.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path

import networkx as nx
import numpy as np

from siteopt.errors import DataError, Problem
from siteopt.travel.graph import BuildReport, add_min_edge, haversine_m, largest_scc, simplify_graph
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
        add_min_edge(graph, a, b, float(length_m[i]), speed, highway)
    graph.remove_nodes_from([n for n in list(graph.nodes) if graph.degree(n) == 0])
    return graph


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

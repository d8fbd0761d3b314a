"""The hand-authored strategic road network: its tables, speeds, urban areas and graph.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from siteopt.crs import in_gb
from siteopt.errors import DataError, Problem
from siteopt.travel.graph import add_min_edge, largest_scc, merge_graphs
from siteopt.travel.speeds import (
    UrbanArea,
    limit_ratio,
    number,
    read_csv_records,
    read_parameters,
    read_speeds,
    read_urban_areas,
    urban_length_m,
)

NODE_COLUMNS = ("node", "lat", "lon")
ROUTE_COLUMNS = ("ref", "highway", "nodes")


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
            add_min_edge(graph, a, b, length_m, speed, highway)
            if not oneway:
                add_min_edge(graph, b, a, length_m, speed, highway)
    if problems:
        raise DataError(problems)
    return graph


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


def strategic_geojson_from_tables(
    nodes_csv: Path, routes_csv: Path,
    speeds: Mapping[tuple[str, str], float] | None = None,
) -> dict[str, Any]:
    """Author the strategic-network GeoJSON from two hand-written tables.

    Parameters
    ----------
    nodes_csv : Path
        ``node, lat, lon, note``: junctions and towns, positions from public maps.
    routes_csv : Path
        ``ref, highway, nodes, note`` and optionally ``maxspeed_mph``: each road (or stretch
        of a road) as a space-separated sequence of node names, with its documented limit.
    speeds : mapping, optional
        From :func:`read_speeds`: if given, every route's class must have a rural and an urban
        speed there.

    Returns
    -------
    dict
        A GeoJSON FeatureCollection, one LineString feature per route (properties ``ref``,
        ``highway``, ``nodes``, ``note``), ready for :func:`strategic_to_graph`.

    Raises
    ------
    DataError
        Every problem of the two tables (unreadable files, missing columns, positions that are
        not numbers in Great Britain, unknown or duplicate node names, routes with fewer than
        two nodes, a class without speeds), each naming the file, row and field.
    """
    problems: list[Problem] = []
    coords = _read_nodes(nodes_csv, problems)
    features: list[dict[str, Any]] = []
    routes_label = str(routes_csv)
    for row_no, row in read_csv_records(routes_csv, ROUTE_COLUMNS, routes_label, problems) or []:
        names = row["nodes"].split()
        unknown = [n for n in names if n not in coords]
        if unknown:
            problems.append(Problem(routes_label, f"unknown nodes {unknown}", row_no, "nodes"))
            continue
        if len(names) < 2:
            problems.append(Problem(routes_label, "a route needs two or more nodes", row_no,
                                    "nodes"))
            continue
        if speeds is not None and not {(row["highway"], "rural"), (row["highway"], "urban")} <= set(
                speeds):
            problems.append(Problem(routes_label, f"highway class '{row['highway']}' has no "
                                                  "rural and urban speed in speeds.csv; add them "
                                                  "or use a listed class", row_no, "highway"))
            continue
        props: dict[str, Any] = {"ref": row["ref"], "highway": row["highway"],
                                 "nodes": row["nodes"], "note": row.get("note", "")}
        limit = row.get("maxspeed_mph") or ""
        if limit:
            try:
                props["maxspeed_mph"] = int(limit)
            except ValueError:
                problems.append(Problem(routes_label, "maxspeed_mph must be a whole number of "
                                                      "mph", row_no, "maxspeed_mph"))
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


def _read_nodes(nodes_csv: Path, problems: list[Problem]) -> dict[str, tuple[float, float]]:
    """``strategic_nodes.csv``: node name -> (lon, lat), every bad row added to ``problems``."""
    label = str(nodes_csv)
    coords: dict[str, tuple[float, float]] = {}
    for record in read_csv_records(nodes_csv, NODE_COLUMNS, label, problems) or []:
        row_no, row = record
        if not row["node"]:
            problems.append(Problem(label, "is blank; name the node", row_no, "node"))
            continue
        if row["node"] in coords:
            problems.append(Problem(label, f"duplicate node {row['node']}", row_no, "node"))
        lat = number(record, "lat", label, problems, "a WGS84 latitude in degrees, e.g. 52.63")
        lon = number(record, "lon", label, problems, "a WGS84 longitude in degrees, e.g. -1.13")
        if lat is None or lon is None:
            continue
        if not in_gb(lat, lon):
            problems.append(Problem(label, f"({lat:g}, {lon:g}) is outside Great Britain; check "
                                           "lat/lon are not swapped", row_no, "lat"))
        coords[row["node"]] = (lon, lat)
    return coords


def check_build_inputs(roads_dir: Path, *, strategic: bool) -> None:
    """Check every file ``siteopt geodata roads`` reads, before any work.

    Parameters
    ----------
    roads_dir : Path
        The folder of ``speeds.csv``, ``parameters.csv`` and ``urban_areas.csv`` and, with
        ``strategic``, ``strategic_nodes.csv`` and ``strategic_routes.csv``.
    strategic : bool
        Whether the strategic network is built too (``--default``).

    Raises
    ------
    DataError
        Every problem in every one of those files, each naming the file, row and field.
    """
    problems: list[Problem] = []
    speeds: dict[tuple[str, str], float] | None = None
    try:
        speeds = read_speeds(roads_dir / "speeds.csv")
    except DataError as err:
        problems += err.problems
    for reader, name in ((read_parameters, "parameters.csv"),
                         (read_urban_areas, "urban_areas.csv")):
        try:
            reader(roads_dir / name)
        except DataError as err:
            problems += err.problems
    if strategic:
        try:
            strategic_geojson_from_tables(roads_dir / "strategic_nodes.csv",
                                          roads_dir / "strategic_routes.csv", speeds)
        except DataError as err:
            problems += err.problems
    if problems:
        raise DataError(problems)


def write_strategic_geojson(roads_dir: Path) -> Path:
    """Write ``strategic_roads.geojson`` from the tables in ``roads_dir``; returns its path.

    Every file of the build (:func:`check_build_inputs`) is checked first, so a bad table never
    leaves a rewritten GeoJSON behind.
    """
    check_build_inputs(roads_dir, strategic=True)
    data = strategic_geojson_from_tables(roads_dir / "strategic_nodes.csv",
                                         roads_dir / "strategic_routes.csv")
    out = roads_dir / "strategic_roads.geojson"
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    return out

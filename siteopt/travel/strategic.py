"""The hand-authored strategic road network: its tables, speeds, urban areas and graph.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from siteopt.errors import DataError, Problem
from siteopt.travel.graph import add_min_edge, largest_scc, merge_graphs
from siteopt.travel.speeds import (
    UrbanArea,
    limit_ratio,
    read_parameters,
    read_speeds,
    read_urban_areas,
    urban_length_m,
)


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

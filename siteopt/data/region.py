"""The region's extent: its boundary files, and sites and zones inside it and near its roads.

- Boundary files (``boundaries_*.geojson``, :data:`siteopt.data.validate.BOUNDARY_FILES`) must be
  WGS84 GeoJSON FeatureCollections of valid (Multi)Polygons in the UK, each feature with its
  code and name: a self-intersecting ring passes a bounds check but breaks every map.
- Every site and zone must lie within ``region_margin_km`` (``geodata/roads/plausible_ranges.csv``)
  of the region's local-authority boundaries (:data:`REGION_FILE`), and, when the region has a
  road graph, within ``max_snap_m`` (``roads/parameters.csv``) of one of its nodes. A point in
  Dublin or the North Sea lies inside Great Britain's latitude/longitude ranges, so the table
  schema alone lets it through.

Every check returns a list of :class:`~siteopt.errors.Problem`, each naming the file, the row
(header row 1), the field and the fix; nothing here raises on bad data.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from siteopt.crs import geometry_to_bng, in_gb, to_bng
from siteopt.data.validate import read_text
from siteopt.errors import Problem

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

REGION_FILE = "boundaries_lad.geojson"
"""The boundary file whose union is the region's extent."""
WGS84_CRS_NAMES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "EPSG:4326",
    "urn:ogc:def:crs:EPSG::4326",
}
REPAIR_HINT = ("repair it with shapely's make_valid or in QGIS (Vector > Geometry Tools > Fix "
               "Geometries) and save it again as GeoJSON")


def read_boundaries(path: Path, code_prop: str, name_prop: str
                    ) -> tuple[list[BaseGeometry] | None, list[Problem]]:
    """Read a boundary file and check it.

    A boundary file must be a WGS84 GeoJSON FeatureCollection of valid (Multi)Polygons in the
    UK, each feature carrying ``code_prop`` and ``name_prop``.

    Returns
    -------
    (geometries, problems)
        The features' shapely geometries (WGS84 lon/lat; None when the file has any problem)
        and every problem found.
    """
    problems: list[Problem] = []
    text = read_text(path, problems)
    if text is None:
        return None, problems
    name = path.name
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        return None, [Problem(name, f"is not valid JSON (line {err.lineno}: {err.msg}); "
                                    "re-export it as GeoJSON", row=err.lineno)]
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return None, [Problem(name, "is not a GeoJSON FeatureCollection; re-export it as "
                                    "GeoJSON")]
    crs = doc.get("crs", {}).get("properties", {}).get("name") if isinstance(
        doc.get("crs"), dict) else None
    if crs is not None and crs not in WGS84_CRS_NAMES:
        problems.append(Problem(name, f"CRS is {crs}; siteopt needs WGS84 longitude/latitude "
                                      "(reproject with e.g. `ogr2ogr -t_srs EPSG:4326`)",
                                field="crs"))
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        problems.append(Problem(name, "has no features; it needs one polygon per area"))
        return None, problems
    geoms = [_feature(feat, k, name, code_prop, name_prop, problems)
             for k, feat in enumerate(features, start=1)]
    if problems:
        return None, problems
    return [g for g in geoms if g is not None], problems


def _feature(feat: Any, k: int, name: str, code_prop: str, name_prop: str,
             problems: list[Problem]) -> BaseGeometry | None:
    """Feature ``k`` of a boundary file as a valid shapely geometry, or None with problems."""
    from shapely.errors import GEOSException
    from shapely.geometry import shape
    from shapely.validation import explain_validity

    if not isinstance(feat, dict):
        problems.append(Problem(name, f"feature {k} is not a GeoJSON Feature object"))
        return None
    props_doc = feat.get("properties")
    props: dict[str, Any] = props_doc if isinstance(props_doc, dict) else {}
    for prop in (code_prop, name_prop):
        if not props.get(prop):
            problems.append(Problem(name, f"feature {k} has no '{prop}' property; add it",
                                    field=prop))
    label = f"feature {k}" + (f" ({props[name_prop]})" if props.get(name_prop) else "")
    geom_value = feat.get("geometry")
    geom_doc: dict[str, Any] = geom_value if isinstance(geom_value, dict) else {}
    if geom_doc.get("type") not in ("Polygon", "MultiPolygon"):
        problems.append(Problem(name, f"{label} geometry is {geom_doc.get('type')}, not a "
                                      "Polygon or MultiPolygon", field="geometry"))
        return None
    try:
        geom = shape(geom_doc)
        lon_min, lat_min, lon_max, lat_max = geom.bounds
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, GEOSException) as err:
        problems.append(Problem(name, f"{label} has malformed coordinates ({err}); {REPAIR_HINT}",
                                field="geometry"))
        return None
    if geom.is_empty or not all(math.isfinite(b) for b in geom.bounds):
        problems.append(Problem(name, f"{label} has no coordinates; {REPAIR_HINT}",
                                field="geometry"))
        return None
    if not (in_gb(lat_min, lon_min) and in_gb(lat_max, lon_max)):
        hint = (" (looks like British National Grid metres: reproject to EPSG:4326)"
                if lon_max > 1000 else " (lat/lon swapped?)")
        problems.append(Problem(name, f"{label} lies outside the UK: lon {lon_min:.3f} to"
                                      f" {lon_max:.3f}, lat {lat_min:.3f} to {lat_max:.3f}"
                                      f"{hint}", field="geometry"))
        return None
    if not geom.is_valid:
        problems.append(Problem(name, f"{label} is not a valid polygon "
                                      f"({explain_validity(geom)}); {REPAIR_HINT}",
                                field="geometry"))
        return None
    return geom


def check_boundaries(path: Path, code_prop: str, name_prop: str) -> list[Problem]:
    """Every problem of a boundary file (see :func:`read_boundaries`)."""
    return read_boundaries(path, code_prop, name_prop)[1]


def _usable_points(table: pd.DataFrame, id_column: str
                   ) -> tuple[list[int], list[str], npt.NDArray[np.float64],
                              npt.NDArray[np.float64]]:
    """Rows whose lat/lon the schema accepted (numbers in Great Britain): positions, ids,
    lat, lon."""
    rows: list[int] = []
    ids: list[str] = []
    lats: list[float] = []
    lons: list[float] = []
    for i, pid, lat, lon in zip(table.index, table[id_column], table["lat"], table["lon"],
                                strict=True):
        if lat is None or lon is None or not in_gb(float(lat), float(lon)):
            continue
        rows.append(int(i) + 2)
        ids.append(str(pid))
        lats.append(float(lat))
        lons.append(float(lon))
    return rows, ids, np.array(lats, dtype=np.float64), np.array(lons, dtype=np.float64)


def check_in_region(table: pd.DataFrame, filename: str, id_column: str,
                    region: Sequence[BaseGeometry], margin_km: float) -> list[Problem]:
    """Points (``lat``/``lon`` of ``table``) farther than ``margin_km`` outside the region.

    Parameters
    ----------
    table : DataFrame
        Sites or zones, with ``id_column``, ``lat`` and ``lon``.
    filename : str
        The table's file, for the problems.
    id_column : str
    region : sequence of shapely geometries
        The features of :data:`REGION_FILE` (WGS84).
    margin_km : float
        ``region_margin_km`` of ``plausible_ranges.csv``.
    """
    import shapely

    rows, ids, lat, lon = _usable_points(table, id_column)
    if not rows:
        return []
    extent = shapely.union_all([geometry_to_bng(g) for g in region])
    x, y = to_bng(lat, lon)
    outside_km = np.asarray(shapely.distance(extent, shapely.points(x, y)), float) / 1000.0
    problems: list[Problem] = []
    for k in np.nonzero(outside_km > margin_km)[0].tolist():
        problems.append(Problem(filename, f"{ids[k]} at lat {lat[k]:g}, lon {lon[k]:g} is "
                                          f"{outside_km[k]:.0f} km outside the region's "
                                          f"boundaries ({REGION_FILE}; at most {margin_km:g} km "
                                          "is allowed, region_margin_km in "
                                          "geodata/roads/plausible_ranges.csv); correct lat/lon "
                                          "or use the geodata folder of the point's region",
                                rows[k], "lat/lon"))
    return problems


def check_near_graph(table: pd.DataFrame, filename: str, id_column: str,
                     graph: Any, max_snap_m: float, skip_rows: set[int]) -> list[Problem]:
    """Points (``lat``/``lon`` of ``table``) farther than ``max_snap_m`` from every road node.

    Parameters
    ----------
    table : DataFrame
        Sites or zones, with ``id_column``, ``lat`` and ``lon``.
    filename : str
    id_column : str
    graph : GraphArrays
        The region's road graph (:func:`siteopt.travel.graph.load_graph_arrays`).
    max_snap_m : float
        ``max_snap_m`` of ``roads/parameters.csv``.
    skip_rows : set of int
        Rows already reported (e.g. outside the region), not reported again.
    """
    from siteopt.travel.graph import distance_to_graph_m

    rows, ids, lat, lon = _usable_points(table, id_column)
    if not rows:
        return []
    dist_m = distance_to_graph_m(graph, lat, lon)
    problems: list[Problem] = []
    for k in np.nonzero(dist_m > max_snap_m)[0].tolist():
        if rows[k] in skip_rows:
            continue
        problems.append(Problem(filename, f"{ids[k]} at lat {lat[k]:g}, lon {lon[k]:g} is "
                                          f"{dist_m[k] / 1000:.1f} km from the nearest node of "
                                          f"the road graph (roads/llr_roads.npz; at most "
                                          f"max_snap_m = {max_snap_m:g} m, roads/parameters.csv);"
                                          " correct lat/lon or extend the road graph to cover "
                                          "it", rows[k], "lat/lon"))
    return problems

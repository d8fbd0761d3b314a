"""Coordinates: the one place that converts between WGS84 and the British National Grid.

Everything in siteopt that projects points or geometries (snapping to the road graph, Voronoi
catchments, print maps) goes through this module, and every check that a WGS84 point lies in
Great Britain uses :data:`GB_LAT_RANGE_DEG` and :data:`GB_LON_RANGE_DEG`.

=====================  =================================================================
``WGS84``              ``EPSG:4326``, the coordinates of every geodata file (lat/lon degrees)
``BNG``                ``EPSG:27700``, British National Grid (easting/northing metres)
``to_bng``             WGS84 lat/lon arrays -> BNG easting/northing arrays
``to_wgs84``           BNG easting/northing arrays -> WGS84 lat/lon arrays
``geometry_to_bng``    a shapely geometry from WGS84 lon/lat to BNG metres
``geometry_to_wgs84``  a shapely geometry from BNG metres to WGS84 lon/lat
``in_gb``              whether a WGS84 point lies within the Great Britain ranges
=====================  =================================================================
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

WGS84 = "EPSG:4326"
"""WGS84 longitude/latitude in degrees: the coordinates of every geodata file."""
BNG = "EPSG:27700"
"""British National Grid: metres, for snapping, Voronoi cells and the print maps' scale bar."""

GB_LAT_RANGE_DEG = (49.8, 61.0)
"""WGS84 latitudes of Great Britain and Northern Ireland, with a margin (degrees)."""
GB_LON_RANGE_DEG = (-8.7, 2.0)
"""WGS84 longitudes of Great Britain and Northern Ireland, with a margin (degrees)."""

FloatArray = npt.NDArray[np.float64]

def in_gb(lat_deg: float, lon_deg: float) -> bool:
    """Whether a WGS84 point lies within :data:`GB_LAT_RANGE_DEG` x :data:`GB_LON_RANGE_DEG`.

    Parameters
    ----------
    lat_deg, lon_deg : float
        WGS84 latitude and longitude in degrees.

    Returns
    -------
    bool
        False for a point outside the ranges, e.g. one whose lat and lon are swapped.
    """
    return (GB_LAT_RANGE_DEG[0] <= lat_deg <= GB_LAT_RANGE_DEG[1]
            and GB_LON_RANGE_DEG[0] <= lon_deg <= GB_LON_RANGE_DEG[1])


@functools.cache
def _transformer(source: str, target: str) -> Any:
    """A pyproj ``Transformer`` (``always_xy``: x = lon/easting, y = lat/northing), made once."""
    from pyproj import Transformer

    return Transformer.from_crs(source, target, always_xy=True)


def to_bng(lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 lat/lon (degrees) to British National Grid easting, northing (metres).

    Parameters
    ----------
    lat, lon : array_like
        WGS84 latitude and longitude in degrees.

    Returns
    -------
    (easting_m, northing_m) : tuple of ndarray
    """
    x, y = _transformer(WGS84, BNG).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def to_wgs84(easting_m: npt.ArrayLike, northing_m: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """British National Grid easting, northing (metres) to WGS84 lat/lon (degrees).

    Parameters
    ----------
    easting_m, northing_m : array_like

    Returns
    -------
    (lat, lon) : tuple of ndarray
    """
    lon, lat = _transformer(BNG, WGS84).transform(np.asarray(easting_m, float),
                                                  np.asarray(northing_m, float))
    return np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)


def _reproject(geom: BaseGeometry, source: str, target: str) -> BaseGeometry:
    import shapely

    transformer = _transformer(source, target)

    def fn(xy: FloatArray) -> FloatArray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    transform: Callable[..., BaseGeometry] = shapely.transform
    return transform(geom, fn)


def geometry_to_bng(geom: BaseGeometry) -> BaseGeometry:
    """A shapely geometry in WGS84 lon/lat (degrees) in British National Grid metres."""
    return _reproject(geom, WGS84, BNG)


def geometry_to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    """A shapely geometry in British National Grid metres in WGS84 lon/lat (degrees)."""
    return _reproject(geom, BNG, WGS84)

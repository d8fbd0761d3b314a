"""Coordinates: the one place that converts between WGS84 and the British National Grid."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_TRANSFORMER_CACHE: dict[str, object] = {}


def to_bng(
    lat: npt.ArrayLike, lon: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """WGS84 lat/lon to British National Grid (EPSG:27700) easting, northing in metres."""
    from pyproj import Transformer

    tr = _TRANSFORMER_CACHE.get("bng")
    if tr is None:
        tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
        _TRANSFORMER_CACHE["bng"] = tr
    x, y = tr.transform(np.asarray(lon, float), np.asarray(lat, float))  # type: ignore[attr-defined]
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

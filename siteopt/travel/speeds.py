"""Speeds shared by every road graph: class speeds, speed limits, the speed
parameters and the urban areas where the urban class speed applies.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from siteopt.errors import DataError, Problem
from siteopt.travel.graph import haversine_m

MPH_TO_KPH = 1.609344
"""Exact: one international mile is 1,609.344 m."""
NATIONAL_LIMIT_MPH = {"motorway": 70.0}
"""The national speed limit a strategic road's rural class speed stands for (Highway Code rule
124: 70 mph on motorways and dual carriageways, 60 mph on single carriageways). A class not
listed here stands for 60 mph. A stretch with a documented lower (or dual-carriageway 70 mph)
limit, ``maxspeed_mph`` in ``strategic_routes.csv``, runs at the class speed times
``maxspeed_mph / national limit``: the fitted class speed is a share of the limit achieved."""
DEFAULT_LIMIT_MPH = 60.0


@dataclass(frozen=True)
class UrbanArea:
    """A built-up area, approximated by a circle."""

    name: str
    lat: float
    lon: float
    radius_km: float


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


def limit_ratio(highway: str, maxspeed_mph: object = None) -> float:
    """Rural speed factor of a strategic stretch: its documented limit over the class's national
    limit (1.0 when no limit is documented). See :data:`NATIONAL_LIMIT_MPH`."""
    if maxspeed_mph in (None, ""):
        return 1.0
    return float(str(maxspeed_mph)) / NATIONAL_LIMIT_MPH.get(highway, DEFAULT_LIMIT_MPH)

"""Speeds shared by every road graph: class speeds, speed limits, the speed
parameters and the urban areas where the urban class speed applies.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from siteopt.crs import GB_LAT_RANGE_DEG, GB_LON_RANGE_DEG, in_gb
from siteopt.errors import DataError, Problem
from siteopt.paths import DEFAULT_GEODATA_DIR
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

RANGES_FILE = DEFAULT_GEODATA_DIR / "roads" / "plausible_ranges.csv"
"""The plausible range of every road parameter, class speed, urban radius and the region
margin, each with its source (``file, field, min, max, unit, source``). siteopt's own rules, so
always the embedded copy, never a region's."""
PARAMETER_COLUMNS = ("name", "value", "unit", "source")
SPEED_COLUMNS = ("highway", "setting", "speed_kph", "source")
URBAN_AREA_COLUMNS = ("name", "lat", "lon", "radius_km", "source")
RANGE_COLUMNS = ("file", "field", "min", "max", "unit", "source")
WHOLE_NUMBER_PARAMETERS = ("snap_candidates",)
"""Parameters that count things (the rest are measures)."""
DELIMITER_NAMES = {";": "';'", "\t": "tabs", "|": "'|'"}
"""Field separators a spreadsheet may save instead of commas, and how a message names them."""

Record = tuple[int, dict[str, str]]
"""A data row of a CSV file: its row number as a spreadsheet shows it, and column -> text."""


@dataclass(frozen=True)
class PlausibleRange:
    """The values a field may plausibly take (inclusive), with its unit and source."""

    min_value: float
    max_value: float
    unit: str
    source: str

    def text(self) -> str:
        """E.g. ``'1-3 ratio'``."""
        return f"{self.min_value:g}-{self.max_value:g} {self.unit}"


def foreign_delimiter(first_line: str) -> str | None:
    """The separator a header line uses instead of commas (';', tab or '|'), or None."""
    if "," in first_line:
        return None
    return next((sep for sep in DELIMITER_NAMES if sep in first_line), None)


def delimiter_message(sep: str) -> str:
    """The one line that says a file uses another separator, and the fix."""
    return f"the file uses {DELIMITER_NAMES[sep]} between fields; save it as comma-separated"


def read_csv_records(path: Path, columns: Sequence[str], label: str,
                     problems: list[Problem], *,
                     format_doc: str = "geodata/roads/README.md") -> list[Record] | None:
    """Read a CSV file's data rows, checking what every table needs.

    The file must exist, be UTF-8 (a byte-order mark is allowed, and CRLF line ends), use commas,
    have every one of ``columns`` in its header and at least one data row; a row with more or
    fewer fields than the header is a problem (and is padded or cut). Blank rows are skipped.

    Parameters
    ----------
    path : Path
    columns : sequence of str
        The columns the header must have (in any order; others are kept).
    label : str
        How problems name the file (e.g. ``roads/parameters.csv``).
    problems : list of Problem
        Every problem found is appended (in place).
    format_doc : str
        Where the file's format is described (for the fix of a missing or header-only file).

    Returns
    -------
    list of (row, record) or None
        None when the file cannot be used at all.
    """
    if not path.is_file():
        problems.append(Problem(label, f"file not found in {path.parent}; add it (see "
                                       f"{format_doc} for the format)"))
        return None
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as err:
        problems.append(Problem(label, f"cannot be read ({err.strerror}); check the file"))
        return None
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        problems.append(Problem(label, f"is not UTF-8 text (bad byte 0x{raw[err.start]:02x} on "
                                       f"line {line}); save it as UTF-8", row=line))
        return None
    if not text.strip():
        problems.append(Problem(label, "file is empty; it needs the header row "
                                       f"{','.join(columns)} and data rows"))
        return None
    sep = foreign_delimiter(text.lstrip().splitlines()[0])
    if sep is not None:
        problems.append(Problem(label, delimiter_message(sep)))
        return None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as err:
        problems.append(Problem(label, f"is not a readable CSV file ({err}); re-save it as "
                                       "comma-separated UTF-8 text"))
        return None
    header = [h.strip() for h in rows[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        problems.append(Problem(label, f"missing column(s) {', '.join(missing)}; the header "
                                       f"must have: {','.join(columns)}", row=1,
                                field=missing[0]))
        return None
    records: list[Record] = []
    for row_no, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(Problem(label, f"has {len(cells)} fields but the header has "
                                           f"{len(header)}; check for a stray comma or quote",
                                    row=row_no))
            cells = (cells + [""] * len(header))[: len(header)]
        records.append((row_no, {h: c.strip() for h, c in zip(header, cells, strict=True)}))
    if not records:
        problems.append(Problem(label, f"has a header but no data rows; add the rows (see "
                                       f"{format_doc})"))
        return None
    return records


def number(record: Record, column: str, label: str, problems: list[Problem],
           what: str) -> float | None:
    """The finite number in ``column`` of a row, or None with a problem naming the row."""
    row_no, rec = record
    text = rec[column]
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problems.append(Problem(label, f"'{text}' is not a number; write {what}", row_no,
                                column))
        return None
    return value


def check_range(value: float, rng: PlausibleRange | None, label: str, row: int, column: str,
                problems: list[Problem], subject: str = "") -> None:
    """A problem if ``value`` lies outside its plausible range (see :data:`RANGES_FILE`)."""
    if rng is None or rng.min_value <= value <= rng.max_value:
        return
    side = "below the plausible minimum" if value < rng.min_value else (
        "above the plausible maximum")
    bound = rng.min_value if value < rng.min_value else rng.max_value
    problems.append(Problem(label, f"{subject}{value:g} is {side} {bound:g} {rng.unit} (range "
                                   f"{rng.text()}: {rng.source}); correct the value", row,
                            column))


@functools.cache
def plausible_ranges(path: Path = RANGES_FILE) -> dict[tuple[str, str], PlausibleRange]:
    """Read :data:`RANGES_FILE`: ``{(file, field): PlausibleRange}``.

    Raises
    ------
    DataError
        The file is siteopt's own: a problem in it is a broken installation.
    """
    problems: list[Problem] = []
    label = f"siteopt's {path.name} ({path})"
    out: dict[tuple[str, str], PlausibleRange] = {}
    for record in read_csv_records(path, RANGE_COLUMNS, label, problems) or []:
        row_no, rec = record
        lo = number(record, "min", label, problems, "a number")
        hi = number(record, "max", label, problems, "a number")
        if lo is None or hi is None:
            continue
        if lo > hi or not rec["source"]:
            problems.append(Problem(label, "needs min <= max and a source", row_no, "min"))
        out[(rec["file"], rec["field"])] = PlausibleRange(lo, hi, rec["unit"], rec["source"])
    if problems:
        raise DataError(problems)
    return out


def read_speeds(path: Path, *, label: str | None = None) -> dict[tuple[str, str], float]:
    """Read ``speeds.csv``: speed in km/h per (highway, setting).

    Parameters
    ----------
    path : Path
        CSV with columns ``highway, setting, speed_kph, source``.
    label : str, optional
        How problems name the file (default: the path).

    Returns
    -------
    dict
        ``{(highway, setting): speed_kph}``, setting in ``{"urban", "rural"}``.

    Raises
    ------
    DataError
        Every problem: an unreadable file, a missing column, a speed that is not a positive
        number within its plausible range, an unknown setting, a duplicate or an empty source.
    """
    label = label or str(path)
    problems: list[Problem] = []
    speeds: dict[tuple[str, str], float] = {}
    rng = plausible_ranges().get(("speeds.csv", "speed_kph"))
    for record in read_csv_records(path, SPEED_COLUMNS, label, problems) or []:
        row_no, row = record
        try:
            speed = float(row["speed_kph"])
        except ValueError:
            speed = math.nan
        if not speed > 0 or not math.isfinite(speed):
            problems.append(Problem(label, "speed must be a positive number of km/h", row_no,
                                    "speed_kph"))
        else:
            check_range(speed, rng, label, row_no, "speed_kph", problems)
        if row["setting"] not in ("urban", "rural"):
            problems.append(Problem(label, "setting must be urban or rural", row_no,
                                    "setting"))
        if not row["source"]:
            problems.append(Problem(label, "every speed needs a source", row_no, "source"))
        key = (row["highway"], row["setting"])
        if key in speeds:
            problems.append(Problem(label, f"{key[0]} {key[1]} is listed twice; keep one row",
                                    row_no, "highway"))
        speeds[key] = speed
    if problems:
        raise DataError(problems)
    return speeds


def read_parameters(path: Path, *, label: str | None = None) -> dict[str, float]:
    """Read ``parameters.csv`` (``name, value, unit, source``) into ``{name: value}``.

    Every parameter of :data:`RANGES_FILE` must appear once, as a number within its plausible
    range (whole for :data:`WHOLE_NUMBER_PARAMETERS`), with a source; no other name may appear.

    Raises
    ------
    DataError
        Every problem, each naming the file, row and field.
    """
    label = label or str(path)
    problems: list[Problem] = []
    ranges = {f: r for (file, f), r in plausible_ranges().items() if file == "parameters.csv"}
    params: dict[str, float] = {}
    records = read_csv_records(path, PARAMETER_COLUMNS, label, problems)
    for record in records or []:
        row_no, row = record
        name = row["name"]
        if name not in ranges:
            problems.append(Problem(label, f"unknown parameter '{name}'; the parameters are: "
                                           f"{', '.join(ranges)}", row_no, "name"))
            continue
        if name in params:
            problems.append(Problem(label, f"'{name}' is listed twice; keep one row", row_no,
                                    "name"))
        rng = ranges[name]
        value = number(record, "value", label, problems, f"a number of {rng.unit} ({name})")
        if value is not None:
            if name in WHOLE_NUMBER_PARAMETERS and value != int(value):
                problems.append(Problem(label, f"{name} = {value:g} must be a whole number",
                                        row_no, "value"))
            check_range(value, rng, label, row_no, "value", problems, f"{name} = ")
            params[name] = value
        if not row["source"]:
            problems.append(Problem(label, "every parameter needs a source", row_no, "source"))
    if records is not None:
        for name, rng in ranges.items():
            if name not in params and not any(r["name"] == name for _, r in records):
                problems.append(Problem(label, f"no row for parameter '{name}'; add it (a "
                                               f"number of {rng.unit}, {rng.text()}, with its "
                                               "source)", field="name"))
    if problems:
        raise DataError(problems)
    return params


def read_urban_areas(path: Path, *, label: str | None = None) -> list[UrbanArea]:
    """Read ``urban_areas.csv`` (``name, lat, lon, radius_km, source``).

    Every row needs a unique name, a WGS84 position in Great Britain, a radius within its
    plausible range and a source; the file needs at least one row.

    Raises
    ------
    DataError
        Every problem, each naming the file, row and field.
    """
    label = label or str(path)
    problems: list[Problem] = []
    rng = plausible_ranges().get(("urban_areas.csv", "radius_km"))
    areas: list[UrbanArea] = []
    seen: dict[str, int] = {}
    for record in read_csv_records(path, URBAN_AREA_COLUMNS, label, problems) or []:
        row_no, row = record
        name = row["name"]
        if not name:
            problems.append(Problem(label, "is blank; name the built-up area", row_no, "name"))
        elif name in seen:
            problems.append(Problem(label, f"'{name}' is listed twice (first in row "
                                           f"{seen[name]}); keep one row", row_no, "name"))
        seen.setdefault(name, row_no)
        lat = number(record, "lat", label, problems, "a WGS84 latitude in degrees, e.g. 52.63")
        lon = number(record, "lon", label, problems, "a WGS84 longitude in degrees, e.g. -1.13")
        radius = number(record, "radius_km", label, problems, "the radius in km, e.g. 2.5")
        if lat is not None and lon is not None and not in_gb(lat, lon):
            problems.append(Problem(label, f"({lat:g}, {lon:g}) is outside Great Britain "
                                           f"(latitudes {GB_LAT_RANGE_DEG[0]:g}-"
                                           f"{GB_LAT_RANGE_DEG[1]:g}, longitudes "
                                           f"{GB_LON_RANGE_DEG[0]:g}-{GB_LON_RANGE_DEG[1]:g}); "
                                           "check lat/lon are not swapped", row_no, "lat"))
        if radius is not None:
            check_range(radius, rng, label, row_no, "radius_km", problems)
        if not row["source"]:
            problems.append(Problem(label, "every urban area needs a source", row_no, "source"))
        if lat is not None and lon is not None and radius is not None:
            areas.append(UrbanArea(name, lat, lon, radius))
    if problems:
        raise DataError(problems)
    return areas


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

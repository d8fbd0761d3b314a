"""Validation of every geodata input: collect all problems, then report them together.

Each check returns a list of :class:`~siteopt.errors.Problem`; nothing here raises on bad data.
:func:`siteopt.data.load.load_geodata` runs all checks and raises one
:class:`~siteopt.errors.DataError` carrying every problem, each naming the file, the row (as a
spreadsheet shows it: header row 1, first data row 2), the field and the fix.

The table schemas below are the file format of a region's geodata; ``geodata/README.md`` is the
human-readable version of the same definitions.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import pandas as pd

from siteopt.crs import GB_LAT_RANGE_DEG, GB_LON_RANGE_DEG, in_gb
from siteopt.errors import Problem
from siteopt.travel.speeds import delimiter_message, foreign_delimiter

Kind = Literal["str", "int", "float", "bool"]

ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0"}


@dataclass(frozen=True)
class Column:
    """One column of a table: its type, whether it may be blank, and its allowed values."""

    name: str
    kind: Kind = "str"
    required: bool = True
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[str, ...] | None = None
    unique: bool = False
    is_id: bool = False
    hint: str = ""
    header_optional: bool = False
    """The column may be left out of the header (added in a later version; read as blank)."""


@dataclass(frozen=True)
class TableSchema:
    """The columns a CSV file must have, in any order."""

    filename: str
    columns: tuple[Column, ...]
    unique_together: tuple[tuple[str, ...], ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _lat() -> Column:
    return Column("lat", "float", min_value=GB_LAT_RANGE_DEG[0], max_value=GB_LAT_RANGE_DEG[1],
                  hint="WGS84 latitude in degrees, e.g. 52.63")


def _lon() -> Column:
    return Column("lon", "float", min_value=GB_LON_RANGE_DEG[0], max_value=GB_LON_RANGE_DEG[1],
                  hint="WGS84 longitude in degrees, e.g. -1.13")


def _pop(name: str) -> Column:
    return Column(name, "int", min_value=0, hint="a whole number of people")


AGE_BAND_COLUMNS = (
    "pop_0_15", "pop_16_24", "pop_25_34", "pop_35_49", "pop_50_64", "pop_65_79", "pop_80_plus",
)
"""Population columns of zones.csv, one per age band of ``[demand] age_bands``, in order."""

SPACE_STATUSES = ("in_use", "mothballed")
SCHEME_KINDS = ("new_space", "replace_space", "on_closure", "not_inpatient")

SITES = TableSchema("sites.csv", (
    Column("site_id", unique=True, is_id=True, hint="a short id such as 'oakham'"),
    Column("name"),
    Column("town"),
    Column("lad_name", hint="the local authority the site is in"),
    Column("ods_code", required=False),
    Column("postcode", required=False),
    _lat(),
    _lon(),
    Column("nhs_parent", required=False),
    Column("estate_owner", required=False),
    Column("must_stay_open", "bool", hint="true if the site stays open for other services"),
    Column("estate_notes", required=False),
    Column("location_note", required=False),
    Column("source", required=False),
))

WARD_SPACES = TableSchema("ward_spaces.csv", (
    Column("site_id", is_id=True),
    Column("space_id", unique=True, is_id=True),
    Column("beds_max", "int", min_value=0, max_value=200,
           hint="the most beds the ward space can physically hold"),
    Column("services", hint="the services the space can host, separated by ';', e.g. "
                            "rehab;stroke"),
    Column("status", choices=SPACE_STATUSES),
    Column("available_in_future", "bool"),
    Column("note", required=False),
    Column("source", required=False),
))

WARDS = TableSchema("wards.csv", (
    Column("site_id", is_id=True),
    Column("configuration", is_id=True, hint="a named configuration such as 'status_quo'"),
    Column("space_id", is_id=True),
    Column("service"),
    Column("beds", "int", min_value=1, max_value=200, hint="a whole number of beds, 1 or more"),
    Column("provider", required=False),
    Column("source", required=False),
), unique_together=(("configuration", "space_id"),))

CAPITAL_SCHEMES = TableSchema("capital_schemes.csv", (
    Column("scheme_id", unique=True, is_id=True),
    Column("site_id", is_id=True),
    Column("kind", choices=SCHEME_KINDS),
    Column("space_id", required=False),
    Column("beds_max", "int", min_value=0, max_value=200),
    Column("services", required=False, hint="services the built space can host, e.g. rehab"),
    Column("capex_gbp", "float", min_value=0, max_value=1e10, hint="pounds, e.g. 8600000"),
    Column("disposal_gbp", "float", min_value=0, max_value=1e10, hint="pounds, e.g. 4000000"),
    Column("receipt_requires_closure", required=False, header_optional=True,
           hint="site ids (separated by ';') whose inpatient beds must close before the "
                "disposal receipt can be realised, e.g. oakham; blank if none"),
    Column("year", required=False),
    Column("description", required=False),
    Column("source", required=False),
))

ZONES = TableSchema("zones.csv", (
    Column("zone_id", unique=True, is_id=True, hint="e.g. an LSOA code"),
    Column("zone_name"),
    Column("lad_name"),
    _lat(),
    _lon(),
    *(_pop(c) for c in AGE_BAND_COLUMNS),
    _pop("pop_65_plus"),
    _pop("pop_total"),
    Column("imd_score", "float", min_value=0, max_value=100),
    Column("imd_quintile", "int", min_value=1, max_value=5,
           hint="1 = most deprived fifth, 5 = least deprived"),
    Column("msoa11_code", required=False),
    Column("msoa11_name", required=False),
))

BED_DAY_RATES = TableSchema("bed_day_rates.csv", (
    Column("service"),
    Column("age_band"),
    Column("bed_days_per_person_year", "float", min_value=0, max_value=365),
    Column("source", required=False),
), unique_together=(("service", "age_band"),))

def _share(name: str, what: str) -> Column:
    return Column(name, "float", min_value=0, max_value=1,
                  hint=f"the fraction of {what}, 0 to 1, e.g. 0.125")


IMD_RANKS = 33755
"""LSOAs (2021) in England, ranked by the English Indices of Deprivation 2025 (1 = most
deprived)."""
ETHNIC_GROUPS: dict[str, str] = {
    "asian": "Asian, Asian British or Asian Welsh",
    "black": "Black, Black British, Black Welsh, Caribbean or African",
    "mixed": "Mixed or Multiple ethnic groups",
    "white": "White",
    "other": "Other ethnic group",
}
"""The five high-level ethnic groups of Census 2021 TS021: id -> the census's label."""
ETHNIC_SHARE_COLUMNS = tuple(f"share_ethnic_{g}" for g in ETHNIC_GROUPS)
ETHNIC_SUM_TOLERANCE = 1e-3
"""How far the five ethnic shares of a zone may sum from 1 (they are rounded to 6 decimals)."""

ZONE_EQUALITY = TableSchema("zone_equality.csv", (
    Column("zone_id", unique=True, is_id=True, hint="a zone_id of zones.csv"),
    Column("ward_name", hint="the electoral ward the zone is in"),
    Column("neighbourhood_name", hint="a neighbourhood name people recognise, e.g. the House of "
                                      "Commons Library MSOA name"),
    Column("iod25_imd_score", "float", min_value=0, max_value=100,
           hint="IoD2025 IMD score, higher = more deprived"),
    Column("iod25_imd_rank", "int", min_value=1, max_value=IMD_RANKS,
           hint=f"national rank, 1 = most deprived of {IMD_RANKS:,}"),
    Column("iod25_imd_decile", "int", min_value=1, max_value=10,
           hint="national decile, 1 = most deprived tenth"),
    Column("iod25_imd_quintile", "int", min_value=1, max_value=5,
           hint="national quintile, 1 = most deprived fifth = ceil(decile / 2)"),
    Column("iod25_geographical_barriers_score", "float",
           hint="IoD2025 geographical barriers sub-domain score, higher = more barriers"),
    Column("iod25_connectivity_score", "float", min_value=0, max_value=100,
           hint="DfT Transport Connectivity Metric, 0-100, higher = better connected"),
    _share("share_disabled", "residents disabled under the Equality Act"),
    *(_share(c, f"residents of the {g} ethnic group")
      for c, g in zip(ETHNIC_SHARE_COLUMNS, ETHNIC_GROUPS, strict=True)),
    _share("share_households_no_car", "households with no car or van"),
    Column("no_car_is_msoa_estimate", "bool",
           hint="true when the car share is the zone's MSOA's (an estimate)"),
    _share("share_bad_health", "residents in bad or very bad health"),
    _share("share_one_person_households", "households of one person"),
    Column("ruc2011_class", hint="the ONS Rural-Urban Classification 2011 class, e.g. 'Urban "
                                 "city and town'"),
    Column("rural", "bool", hint="true for a rural class (one that starts with 'Rural')"),
))
"""The optional companion of zones.csv: deprivation, protected characteristics, car
availability, health and rurality of each zone, for the equality impact assessment."""

TABLES: tuple[TableSchema, ...] = (
    SITES, WARD_SPACES, WARDS, CAPITAL_SCHEMES, ZONES, BED_DAY_RATES,
)
OPTIONAL_TABLES: tuple[TableSchema, ...] = (ZONE_EQUALITY,)
"""Tables a region may leave out; the figures that need them are then skipped."""

BOUNDARY_FILES: dict[str, tuple[str, str]] = {
    "boundaries_lad.geojson": ("lad_code", "lad_name"),
    "boundaries_msoa.geojson": ("msoa_code", "msoa_name"),
}
"""Boundary files and the two properties every feature must carry (code, name)."""
OPTIONAL_BOUNDARY_FILES: dict[str, tuple[str, str]] = {
    "boundaries_lsoa.geojson": ("lsoa_code", "lsoa_name"),
}
"""Boundary files a region may leave out (checked like the others when present)."""


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------
def read_text(path: Path, problems: list[Problem]) -> str | None:
    """Read a whole file as UTF-8; on failure add a problem and return None."""
    name = path.name
    if not path.is_file():
        problems.append(Problem(name, f"file not found in {path.parent}; add it (see "
                                      "geodata/README.md for the format) or point --geodata at "
                                      "the right folder"))
        return None
    try:
        raw = path.read_bytes()
    except OSError as err:
        problems.append(Problem(name, f"cannot be read ({err.strerror}); check the file's "
                                      "permissions"))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        problems.append(Problem(name, f"is not UTF-8 text (bad byte 0x{raw[err.start]:02x} on "
                                      f"line {line}); save it as UTF-8", row=line))
        return None
    if not text.strip():
        problems.append(Problem(name, "file is empty; it needs a header row and data rows"))
        return None
    return text


def read_table(path: Path, schema: TableSchema) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a CSV file against its schema.

    Returns
    -------
    (table, problems)
        The typed table (None when the file cannot be used at all) and every problem found.
        Rows with problems are still returned, so cross-file checks can go on.
    """
    problems: list[Problem] = []
    text = read_text(path, problems)
    if text is None:
        return None, problems
    name = schema.filename
    sep = foreign_delimiter(text.lstrip().splitlines()[0])
    if sep is not None:
        return None, [Problem(name, delimiter_message(sep))]
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as err:
        return None, [Problem(name, f"is not a readable CSV file ({err}); re-save it as "
                                    "comma-separated UTF-8 text")]
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(cell.strip() for cell in r)]
    missing = [c.name for c in schema.columns if c.name not in header and not c.header_optional]
    extra = [h for h in header if h not in schema.names]
    for col_name in missing:
        problems.append(Problem(name, f"missing column '{col_name}'; the header must have: "
                                      f"{', '.join(schema.names)}", field=col_name))
    for col_name in extra:
        problems.append(Problem(name, f"unexpected column '{col_name}'; remove it or rename it "
                                      f"to one of: {', '.join(schema.names)}", field=col_name))
    dupes = sorted({h for h in header if header.count(h) > 1})
    for col_name in dupes:
        problems.append(Problem(name, f"column '{col_name}' appears twice in the header",
                                field=col_name))
    if missing or dupes:
        return None, problems
    if not body:
        problems.append(Problem(name, "has a header but no data rows"))
        return None, problems
    index = {h: i for i, h in enumerate(header)}
    records: list[dict[str, Any]] = []
    for i, cells in enumerate(body):
        row_no = i + 2
        if len(cells) != len(header):
            problems.append(Problem(name, f"has {len(cells)} fields but the header has "
                                          f"{len(header)}; check for a stray comma or quote",
                                    row=row_no))
            cells = (cells + [""] * len(header))[: len(header)]
        record: dict[str, Any] = {}
        for col in schema.columns:
            cell = cells[index[col.name]].strip() if col.name in index else ""
            record[col.name] = _convert(cell, col, name, row_no, problems)
        records.append(record)
    table = _frame(records, schema)
    for col in schema.columns:
        if col.unique:
            _check_unique(table, (col.name,), name, problems)
    for cols in schema.unique_together:
        _check_unique(table, cols, name, problems)
    return table, problems


def _frame(records: list[dict[str, Any]], schema: TableSchema) -> pd.DataFrame:
    """Typed columns: numbers as int64/float64 when complete, everything else as objects.

    Missing values stay ``None`` (never NaN), so checks can test ``is None``.
    """
    data: dict[str, pd.Series] = {}
    for col in schema.columns:
        values = [r[col.name] for r in records]
        if col.kind in ("int", "float") and all(x is not None for x in values):
            data[col.name] = pd.Series(values, dtype="int64" if col.kind == "int" else "float64")
        else:
            data[col.name] = pd.Series(values, dtype=object)
    return pd.DataFrame(data, columns=schema.names)


def _convert(cell: str, col: Column, filename: str, row: int,
             problems: list[Problem]) -> Any:
    hint = f" ({col.hint})" if col.hint else ""
    if cell == "" or cell.lower() in {"nan", "na", "null", "none"}:
        if col.required:
            problems.append(Problem(filename, f"is blank; fill in a value{hint}", row, col.name))
        return None
    value: Any
    if col.kind == "str":
        value = cell
        if col.is_id and not ID_PATTERN.match(cell):
            problems.append(Problem(filename, f"id '{cell}' may only use letters, digits, '_', "
                                              "'.' and '-'", row, col.name))
    elif col.kind == "bool":
        low = cell.lower()
        if low in TRUE_WORDS:
            value = True
        elif low in FALSE_WORDS:
            value = False
        else:
            problems.append(Problem(filename, f"'{cell}' is not true/false; write true or false",
                                    row, col.name))
            return None
    else:
        try:
            number = float(cell.replace(",", "")) if col.kind == "float" else float(cell)
        except ValueError:
            problems.append(Problem(filename, f"'{cell}' is not a number{hint}", row, col.name))
            return None
        if not math.isfinite(number):
            problems.append(Problem(filename, f"'{cell}' is not a finite number{hint}", row,
                                    col.name))
            return None
        if col.kind == "int":
            if number != int(number):
                problems.append(Problem(filename, f"'{cell}' is not a whole number{hint}", row,
                                        col.name))
                return None
            value = int(number)
        else:
            value = number
        if col.min_value is not None and number < col.min_value:
            problems.append(Problem(filename, f"{cell} is below the minimum {col.min_value:g}"
                                              f"{hint}", row, col.name))
        elif col.max_value is not None and number > col.max_value:
            problems.append(Problem(filename, f"{cell} is above the maximum {col.max_value:g}"
                                              f"{hint}", row, col.name))
    if col.choices is not None and value not in col.choices:
        problems.append(Problem(filename, f"'{cell}' is not one of: {', '.join(col.choices)}",
                                row, col.name))
    return value


def _check_unique(table: pd.DataFrame, cols: tuple[str, ...], filename: str,
                  problems: list[Problem]) -> None:
    keys = table[list(cols)]
    dup = keys.duplicated(keep="first") & keys.notna().all(axis=1)
    for i in table.index[dup]:
        first = int(table.index[(keys == keys.loc[i]).all(axis=1)][0])
        what = ", ".join(f"{c}={table.at[i, c]!s}" for c in cols)
        problems.append(Problem(filename, f"duplicate {what} (first used in row {first + 2}); "
                                          "ids must be unique", int(i) + 2, "/".join(cols)))


# ---------------------------------------------------------------------------------------------
# Checks within one table
# ---------------------------------------------------------------------------------------------
def check_coordinates(table: pd.DataFrame, filename: str) -> list[Problem]:
    """Flag rows whose lat/lon look swapped (a UK lon in lat and a UK lat in lon)."""
    problems: list[Problem] = []
    for i, lat, lon in zip(table.index, table["lat"], table["lon"], strict=True):
        if lat is None or lon is None:
            continue
        if not in_gb(lat, lon) and in_gb(lon, lat):
            problems.append(Problem(filename, f"lat={lat} and lon={lon} look swapped (UK latitudes"
                                              f" are {_range_text(GB_LAT_RANGE_DEG)}, longitudes "
                                              f"{_range_text(GB_LON_RANGE_DEG)}); swap the two "
                                              "columns", int(i) + 2, "lat/lon"))
    return problems


def _range_text(bounds: tuple[float, float]) -> str:
    """``(49.8, 61.0)`` -> ``'49.8-61'``."""
    return f"{bounds[0]:g}-{bounds[1]:g}"


def check_zone_population(zones: pd.DataFrame) -> list[Problem]:
    """Population: positive totals, age bands that add up, 65+ = 65-79 + 80+."""
    problems: list[Problem] = []
    name = ZONES.filename
    for i, rec in zones.iterrows():
        row = int(str(i)) + 2
        total = rec["pop_total"]
        bands = [rec[c] for c in AGE_BAND_COLUMNS]
        if total is not None and total <= 0:
            problems.append(Problem(name, f"pop_total is {total}; a zone needs people (drop "
                                          "empty zones)", row, "pop_total"))
        if total is not None and all(b is not None for b in bands) and sum(bands) != total:
            problems.append(Problem(name, f"age bands add up to {sum(bands)} but pop_total is "
                                          f"{total}; make them agree", row, "pop_total"))
        p65, p6579, p80 = rec["pop_65_plus"], rec["pop_65_79"], rec["pop_80_plus"]
        if None not in (p65, p6579, p80) and p6579 + p80 != p65:
            problems.append(Problem(name, f"pop_65_79 + pop_80_plus = {p6579 + p80} but "
                                          f"pop_65_plus is {p65}; make them agree", row,
                                    "pop_65_plus"))
    return problems


def check_zone_equality(equality: pd.DataFrame, zones: pd.DataFrame | None) -> list[Problem]:
    """The equality companion covers every zone once and agrees with itself and zones.csv.

    Every zone_id of zones.csv has a row (and no other zone does); the national quintile is
    ``ceil(decile / 2)``; the five ethnic shares sum to 1 (within
    :data:`ETHNIC_SUM_TOLERANCE`); ``rural`` says whether the class starts with "Rural"; and
    zones.csv's ``imd_quintile`` is this file's national quintile.
    """
    problems: list[Problem] = []
    name = ZONE_EQUALITY.filename
    for i, rec in equality.iterrows():
        row = int(str(i)) + 2
        decile, quintile = rec["iod25_imd_decile"], rec["iod25_imd_quintile"]
        if decile is not None and quintile is not None and quintile != math.ceil(decile / 2):
            problems.append(Problem(name, f"quintile {quintile} does not match decile {decile} "
                                          f"(the quintile is ceil(decile / 2) = "
                                          f"{math.ceil(decile / 2)})", row,
                                    "iod25_imd_quintile"))
        shares = [rec[c] for c in ETHNIC_SHARE_COLUMNS]
        if all(x is not None for x in shares) and abs(sum(shares) - 1) > ETHNIC_SUM_TOLERANCE:
            problems.append(Problem(name, f"the ethnic shares sum to {sum(shares):.6f}, not 1; "
                                          "they are fractions of the zone's residents",
                                    row, "share_ethnic_*"))
        cls, rural = rec["ruc2011_class"], rec["rural"]
        if cls is not None and rural is not None and rural != str(cls).lower().startswith(
                "rural"):
            problems.append(Problem(name, f"rural is {str(rural).lower()} but the class is "
                                          f"'{cls}'; rural is true exactly for the 'Rural ...' "
                                          "classes", row, "rural"))
    if zones is None:
        return problems
    zone_ids = [z for z in zones["zone_id"] if z is not None]
    have = set(equality["zone_id"].dropna())
    missing = [z for z in zone_ids if z not in have]
    if missing:
        problems.append(Problem(name, f"no row for {len(missing)} zone(s) of zones.csv (first "
                                      f"{missing[0]}); add one row per zone (`siteopt geodata "
                                      "build` derives them)", field="zone_id"))
    known = set(zone_ids)
    for i, z in zip(equality.index, equality["zone_id"], strict=True):
        if z is not None and z not in known:
            problems.append(Problem(name, f"zone '{z}' is not in zones.csv; remove the row",
                                    int(i) + 2, "zone_id"))
    national = dict(zip(equality["zone_id"], equality["iod25_imd_quintile"], strict=True))
    differ = [(int(i) + 2, q, national[z])
              for i, z, q in zip(zones.index, zones["zone_id"], zones["imd_quintile"], strict=True)
              if q is not None and national.get(z) is not None and q != national[z]]
    if differ:
        row, q, q_national = differ[0]
        others = f" (and {len(differ) - 1} more rows)" if len(differ) > 1 else ""
        problems.append(Problem(ZONES.filename, f"imd_quintile {q} differs from the national "
                                                f"IoD2025 quintile {q_national} in {name}"
                                                f"{others}; use the national quintile", row,
                                "imd_quintile"))
    return problems


# ---------------------------------------------------------------------------------------------
# Checks across tables
# ---------------------------------------------------------------------------------------------
def check_references(
    table: pd.DataFrame, column: str, valid: Iterable[str], filename: str, target: str,
) -> list[Problem]:
    """Every value of ``table[column]`` must be one of ``valid`` (ids defined in ``target``)."""
    valid_set = set(valid)
    problems: list[Problem] = []
    for i, value in zip(table.index, table[column], strict=True):
        if value is not None and value not in valid_set:
            choices = ", ".join(sorted(valid_set)) or "(none)"
            problems.append(Problem(filename, f"'{value}' is not defined in {target}; use one of: "
                                              f"{choices}", int(i) + 2, column))
    return problems


def check_wards(
    wards: pd.DataFrame, spaces: pd.DataFrame, schemes: pd.DataFrame, services: Sequence[str],
) -> list[Problem]:
    """Wards must use a service of the assumptions and fit a ward space of their own site."""
    problems = check_references(wards, "service", services, WARDS.filename,
                                "assumptions.toml [services]")
    space_site = dict(zip(spaces["space_id"], spaces["site_id"], strict=True))
    space_beds = dict(zip(spaces["space_id"], spaces["beds_max"], strict=True))
    space_services = {sid: set(str(x or "").split(";"))
                      for sid, x in zip(spaces["space_id"], spaces["services"], strict=True)}
    for _, s in schemes.iterrows():
        if s["kind"] in ("new_space", "replace_space") and s["space_id"]:
            space_site.setdefault(s["space_id"], s["site_id"])
            space_beds[s["space_id"]] = max(space_beds.get(s["space_id"]) or 0,
                                            s["beds_max"] or 0)
            space_services.setdefault(s["space_id"], set()).update(
                str(s["services"] or "").split(";"))
    for i, w in wards.iterrows():
        row = int(str(i)) + 2
        sid = w["space_id"]
        if sid is None:
            continue
        if sid not in space_site:
            problems.append(Problem(WARDS.filename, f"ward space '{sid}' is not in "
                                                    "ward_spaces.csv nor made by a scheme in "
                                                    "capital_schemes.csv; add it there", row,
                                    "space_id"))
            continue
        if w["site_id"] is not None and space_site[sid] != w["site_id"]:
            problems.append(Problem(WARDS.filename, f"ward space '{sid}' belongs to site "
                                                    f"'{space_site[sid]}', not '{w['site_id']}'",
                                    row, "space_id"))
        if w["service"] in services and w["service"] not in space_services.get(sid, set()):
            hosts = ";".join(sorted(space_services[sid] - {""}))
            problems.append(Problem(WARDS.filename, f"ward space '{sid}' cannot host "
                                                    f"{w['service']} (its services: {hosts}); "
                                                    "add the service to the space or move the "
                                                    "ward", row, "service"))
        cap = space_beds.get(sid)
        if w["beds"] is not None and cap is not None and w["beds"] > cap:
            problems.append(Problem(WARDS.filename, f"{w['beds']} beds do not fit ward space "
                                                    f"'{sid}', which holds at most {cap}; lower "
                                                    "beds or raise beds_max", row, "beds"))
    return problems


def check_receipt_dependencies(schemes: pd.DataFrame, site_ids: Sequence[str]) -> list[Problem]:
    """``receipt_requires_closure`` names known sites other than the scheme's own, on a scheme
    with a disposal receipt."""
    problems: list[Problem] = []
    if "receipt_requires_closure" not in schemes.columns:
        return problems
    name = CAPITAL_SCHEMES.filename
    known = set(site_ids)
    for i, s in schemes.iterrows():
        row = int(str(i)) + 2
        raw = s["receipt_requires_closure"]
        if raw is None or str(raw).strip() in ("", "nan"):
            continue
        needed = [x.strip() for x in str(raw).split(";") if x.strip()]
        for sid in needed:
            if sid not in known:
                problems.append(Problem(name, f"receipt_requires_closure names '{sid}', which "
                                              f"is not a site_id in sites.csv", row,
                                        "receipt_requires_closure"))
            elif sid == s["site_id"]:
                problems.append(Problem(name, "receipt_requires_closure names the scheme's own "
                                              "site; an on_closure scheme already depends on "
                                              "its site closing", row,
                                        "receipt_requires_closure"))
        if needed and not float(s["disposal_gbp"] or 0) > 0:
            problems.append(Problem(name, "receipt_requires_closure is set but the scheme has no "
                                          "disposal receipt (disposal_gbp is 0)", row,
                                    "receipt_requires_closure"))
    return problems


def check_schemes(schemes: pd.DataFrame, spaces: pd.DataFrame) -> list[Problem]:
    """Space schemes name a ward space: an existing one to replace, or a new one to create."""
    problems: list[Problem] = []
    existing = dict(zip(spaces["space_id"], spaces["site_id"], strict=True))
    name = CAPITAL_SCHEMES.filename
    for i, s in schemes.iterrows():
        row = int(str(i)) + 2
        kind, sid = s["kind"], s["space_id"]
        if kind in ("new_space", "replace_space"):
            if not sid:
                problems.append(Problem(name, f"a '{kind}' scheme must name the ward space it "
                                              "builds", row, "space_id"))
            elif kind == "replace_space" and existing.get(sid) != s["site_id"]:
                problems.append(Problem(name, f"replace_space names '{sid}', which is not a ward "
                                              f"space of site '{s['site_id']}' in "
                                              "ward_spaces.csv", row, "space_id"))
            elif kind == "new_space" and sid in existing:
                problems.append(Problem(name, f"new_space '{sid}' already exists in "
                                              "ward_spaces.csv; use kind replace_space or a new "
                                              "id", row, "space_id"))
            if s["beds_max"] is not None and s["beds_max"] <= 0:
                problems.append(Problem(name, f"a '{kind}' scheme must give the beds the space "
                                              "will hold (beds_max > 0)", row, "beds_max"))
            if not s["services"]:
                problems.append(Problem(name, f"a '{kind}' scheme must list the services the "
                                              "space will host (e.g. rehab)", row, "services"))
        elif sid:
            problems.append(Problem(name, f"a '{kind}' scheme does not build a ward space; leave "
                                          "space_id blank", row, "space_id"))
    return problems


def check_service_lists(table: pd.DataFrame, filename: str,
                        services: Sequence[str]) -> list[Problem]:
    """The ``services`` column lists known services separated by ';'."""
    problems: list[Problem] = []
    for i, value in zip(table.index, table["services"], strict=True):
        if not value:
            continue
        for svc in str(value).split(";"):
            if svc.strip() not in services:
                problems.append(Problem(filename, f"'{svc.strip()}' is not defined in "
                                                  "assumptions.toml [services]; use one of: "
                                                  f"{', '.join(services)}, separated by ';'",
                                        int(i) + 2, "services"))
    return problems


def check_bed_day_rates(rates: pd.DataFrame, services: Sequence[str],
                        age_bands: Sequence[str]) -> list[Problem]:
    """One rate for every service and age band of the assumptions, and no others."""
    name = BED_DAY_RATES.filename
    problems = check_references(rates, "service", services, name,
                                "assumptions.toml [services]")
    problems += check_references(rates, "age_band", age_bands, name,
                                 "assumptions.toml [demand] age_bands")
    have = set(zip(rates["service"], rates["age_band"], strict=True))
    for svc in services:
        for band in age_bands:
            if (svc, band) not in have:
                problems.append(Problem(name, f"no rate for service '{svc}', age band '{band}'; "
                                              "add the row (rerun `siteopt geodata build` to "
                                              "derive it)"))
    return problems


# ---------------------------------------------------------------------------------------------
# Assumptions (TOML)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """What one assumption key must hold."""

    kind: Literal["int", "float", "str", "list", "dict"]
    min_value: float | None = None
    max_value: float | None = None


SERVICE_KEYS: dict[str, Spec] = {
    "label": Spec("str"),
    "module_beds": Spec("int", 1, 60),
    "baseline_beds": Spec("int", 0, 100000),
}
STAFFING_KEYS: dict[str, Spec] = {
    "rn_wte_per_ward": Spec("float", 0, 100),
    "rn_wte_per_bed": Spec("float", 0, 10),
    "other_wte_per_ward": Spec("float", 0, 100),
    "other_wte_per_bed": Spec("float", 0, 10),
}
FIXED_KEYS: dict[str, Spec] = {
    "meta.region": Spec("str"),
    "meta.population_year": Spec("int", 1990, 2100),
    "meta.baseline_year": Spec("int", 1990, 2100),
    "demand.target_occupancy": Spec("float", 0.5, 1.0),
    "demand.age_bands": Spec("list"),
    "growth.default_planning_year": Spec("int", 1990, 2100),
    "growth.method": Spec("str"),
    "growth.age_group_of_band": Spec("list"),
    "growth.area_of_lad": Spec("dict"),
    "growth.stp_five_year_pct.children": Spec("float", -50, 100),
    "growth.stp_five_year_pct.adults": Spec("float", -50, 100),
    "growth.stp_five_year_pct.older_people": Spec("float", -50, 100),
    "growth.lpt_two_year_pct.children": Spec("dict"),
    "growth.lpt_two_year_pct.adults": Spec("dict"),
    "growth.lpt_two_year_pct.older_people": Spec("dict"),
    "capacity.model": Spec("str"),
    "capacity.target_refusal_probability": Spec("float", 0.0001, 0.5),
    "staffing.isolated_ward.extra_rn_wte": Spec("float", 0, 50),
    "costs.rn_gbp_per_wte": Spec("float", 0, 500000),
    "costs.other_gbp_per_wte": Spec("float", 0, 500000),
    "costs.non_pay_gbp_per_bed": Spec("float", 0, 1000000),
    "costs.inpatient_site_gbp_per_year": Spec("float", 0, 1e8),
    "costs.capital_annuity_rate": Spec("float", 0, 0.2),
    "costs.capital_asset_life_years": Spec("int", 1, 200),
    "limits.capital_net_gbp": Spec("float", -1e10, 1e10),
    "limits.capital_gross_gbp": Spec("float", 0, 1e10),
    "limits.max_travel_min": Spec("float", 1, 600),
    "green_book.discount_rate_years_0_30": Spec("float", 0, 0.2),
    "green_book.discount_rate_years_31_75": Spec("float", 0, 0.2),
    "green_book.appraisal_years": Spec("int", 1, 100),
    "green_book.optimism_bias_capex": Spec("float", 0, 2),
    "green_book.residual_value_method": Spec("str"),
    "appraisal.next_best_options": Spec("int", 0, 50),
    "appraisal.equity_min_share_within_45_min": Spec("float", 0, 1),
    "appraisal.rn_wte_headroom_vs_status_quo": Spec("float", 0, 10),
    "appraisal.enumerate_max_configurations": Spec("int", 0, 50000000),
    "appraisal.pareto_cost_step_gbp_per_year": Spec("float", 0.001, 1e7),
    "appraisal.default_provider": Spec("str"),
    "appraisal.isolated_ward_min_beds": Spec("int", 0, 60),
    "appraisal.refusal_hurdle": Spec("str"),
    "appraisal.value_for_money_rule": Spec("str"),
    "appraisal.benefit_weights": Spec("dict"),
    "appraisal.benefit_scales": Spec("dict"),
    "appraisal.weight_samples": Spec("int", 10, 100000),
    "appraisal.weight_seed": Spec("int", 0, 2**31 - 1),
    "appraisal.phase_options": Spec("list"),
    "base_case.objective": Spec("str"),
    "base_case.max_mean_travel_min": Spec("float", 1, 600),
    "equality.disproportion_ratio": Spec("float", 1, 100),
    "equality.min_population_change_min": Spec("float", 0, 60),
    "equality.most_affected_neighbourhoods": Spec("int", 1, 1000),
    "phasing.horizon_years": Spec("int", 1, 60),
    "phasing.capital_limit_gbp_per_year": Spec("float", 0, 1e10),
    "phasing.capital_basis": Spec("str"),
}
GROWTH_METHODS = ("lpt_two_year", "stp_five_year", "none")
CAPACITY_MODELS = ("occupancy", "erlang")
AGE_GROUPS = ("children", "adults", "older_people")


def flatten_assumptions(doc: Mapping[str, Any], filename: str,
                        problems: list[Problem]) -> tuple[dict[str, Any], dict[str, str]]:
    """Flatten ``{value, source}`` leaves into dotted keys; every leaf needs a source."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, item in node.items():
            dotted = f"{prefix}{key}"
            if isinstance(item, Mapping) and "value" in item:
                extra = sorted(set(item) - {"value", "source"})
                if extra:
                    problems.append(Problem(filename, f"unexpected field(s) {', '.join(extra)}; "
                                                      "an entry has only value and source",
                                            field=dotted))
                source = item.get("source")
                if not isinstance(source, str) or not source.strip():
                    problems.append(Problem(filename, "has no source; add source = \"...\" "
                                                      "(a document, or 'assumption: why')",
                                            field=dotted))
                values[dotted] = item["value"]
                sources[dotted] = str(source or "")
            elif isinstance(item, Mapping):
                walk(item, dotted + ".")
            else:
                problems.append(Problem(filename, "is a bare value; write it as { value = ..., "
                                                  "source = \"...\" }", field=dotted))

    walk(doc, "")
    return values, sources


def expected_assumption_keys(values: Mapping[str, Any]) -> dict[str, Spec]:
    """Every key the assumptions must define, given the services they name."""
    services = sorted({k.split(".")[1] for k in values if k.startswith("services.")})
    keys = dict(FIXED_KEYS)
    for svc in services:
        for key, spec in SERVICE_KEYS.items():
            keys[f"services.{svc}.{key}"] = spec
        for key, spec in STAFFING_KEYS.items():
            keys[f"staffing.{svc}.{key}"] = spec
        keys[f"demand.relative_rate.{svc}.weights"] = Spec("list")
        keys[f"home_first.reduction_{svc}"] = Spec("float", 0.0, 0.95)
    return keys


def check_assumptions(values: Mapping[str, Any], filename: str) -> list[Problem]:
    """Types, ranges and internal consistency of the flattened assumptions."""
    problems: list[Problem] = []
    expected = expected_assumption_keys(values)
    if not any(k.startswith("services.") for k in values):
        problems.append(Problem(filename, "defines no services; add [services.<name>] tables "
                                          "(e.g. rehab, stroke)", field="services"))
    for key in sorted(set(values) - set(expected)):
        close = sorted(k for k in expected if k.rsplit(".", 1)[0] == key.rsplit(".", 1)[0])
        hint = f"; valid keys here: {', '.join(close)}" if close else ""
        problems.append(Problem(filename, f"unknown key{hint}", field=key))
    for key, spec in expected.items():
        if key not in values:
            problems.append(Problem(filename, f"missing; add {key.rsplit('.', 1)[-1]} = "
                                              "{ value = ..., source = \"...\" }", field=key))
            continue
        problems += _check_spec(values[key], spec, key, filename)
    if problems:
        return problems
    bands = values["demand.age_bands"]
    if list(bands) != [c.removeprefix("pop_") for c in AGE_BAND_COLUMNS]:
        wanted = [c.removeprefix("pop_") for c in AGE_BAND_COLUMNS]
        problems.append(Problem(filename, f"age bands must be {wanted} to match the zones.csv "
                                          "columns", field="demand.age_bands"))
    for key in expected:
        if key.endswith(".weights") or key == "growth.age_group_of_band":
            seq = values[key]
            if len(seq) != len(bands):
                problems.append(Problem(filename, f"has {len(seq)} entries but there are "
                                                  f"{len(bands)} age bands", field=key))
    for key in expected:
        if key.endswith(".weights"):
            for w in values[key]:
                if not isinstance(w, (int, float)) or isinstance(w, bool) or w < 0:
                    problems.append(Problem(filename, f"weight {w!r} must be a number >= 0",
                                            field=key))
                    break
    for group in values["growth.age_group_of_band"]:
        if group not in AGE_GROUPS:
            problems.append(Problem(filename, f"'{group}' is not one of {', '.join(AGE_GROUPS)}",
                                    field="growth.age_group_of_band"))
    areas = set(values["growth.area_of_lad"].values())
    for group in AGE_GROUPS:
        key = f"growth.lpt_two_year_pct.{group}"
        table = values[key]
        for area in sorted(areas - set(table)):
            problems.append(Problem(filename, f"no growth rate for area '{area}'", field=key))
        for area, pct in table.items():
            if not isinstance(pct, (int, float)) or not -50 <= pct <= 100:
                problems.append(Problem(filename, f"growth {pct!r}% for '{area}' must be a "
                                                  "number between -50 and 100", field=key))
    if values["growth.method"] not in GROWTH_METHODS:
        problems.append(Problem(filename, f"'{values['growth.method']}' is not one of "
                                          f"{', '.join(GROWTH_METHODS)}", field="growth.method"))
    if values["phasing.capital_basis"] not in ("net", "gross"):
        problems.append(Problem(filename, f"'{values['phasing.capital_basis']}' is not net or "
                                          "gross", field="phasing.capital_basis"))
    if values["capacity.model"] not in CAPACITY_MODELS:
        problems.append(Problem(filename, f"'{values['capacity.model']}' is not one of "
                                          f"{', '.join(CAPACITY_MODELS)}", field="capacity.model"))
    return problems


def _check_spec(value: Any, spec: Spec, key: str, filename: str) -> list[Problem]:
    types: dict[str, tuple[type, ...]] = {
        "int": (int,), "float": (int, float), "str": (str,), "list": (list,), "dict": (dict,),
    }
    if isinstance(value, bool) or not isinstance(value, types[spec.kind]):
        return [Problem(filename, f"{value!r} should be {_article(spec.kind)}", field=key)]
    if spec.kind in ("int", "float"):
        number = float(cast(float, value))
        if spec.min_value is not None and number < spec.min_value:
            return [Problem(filename, f"{number:g} is below the minimum {spec.min_value:g}",
                            field=key)]
        if spec.max_value is not None and number > spec.max_value:
            return [Problem(filename, f"{number:g} is above the maximum {spec.max_value:g}",
                            field=key)]
    return []


def _article(kind: str) -> str:
    return {"int": "a whole number", "float": "a number", "str": "text", "list": "a list",
            "dict": "a table"}[kind]

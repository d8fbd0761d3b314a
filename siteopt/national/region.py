"""External regions: a travel matrix plus demand and site tables, without a road graph.

The LLR default builds its own travel times from a road graph (:mod:`siteopt.travel`). Regions
and national reviews usually already have a matrix (OSRM, a commercial router, a published
study). This module loads one, with the demand and site tables that go with it, into a
:class:`Region`: plain arrays that :mod:`siteopt.national.model` takes.

A **region spec** (TOML, e.g. ``regions/england_stroke.toml``) says where the three files are and
which columns to read; relative paths are resolved against the spec file's folder::

    [region]
    name = "England and Wales stroke units"
    demand_label = "stroke admissions a year"

    [matrix]                 # layout "long": zone_id,site_id,travel_min (the travel-times format)
    path = "..."             # layout "wide": one row per zone, one column per site
    layout = "wide"
    zone_column = "LSOA"

    [zones]
    path = "..."
    id_column = "lsoa11nm"
    demand_column = "LSOA_predicted_admissions"

    [sites]
    path = "..."
    id_column = "Postcode"
    name_column = "Stroke Team"
    current_column = "Admissions 21/22"      # optional: today's throughput per site
    group_column = "Strategic Clinical Network"  # optional: for region filters and reports

    [regions.east_midlands]  # named filters (optional)
    zone_prefixes = ["Leicester", "Rutland", ...]   # zone id = "<prefix> <code>"
    site_groups = ["East Midlands SCN"]

    [throughput]             # defaults of the throughput model, each with its source
    min_per_site = { value = 600, source = "..." }

Matrix cells left empty (or pairs absent from a long matrix) mean "no time given" and are treated
as unreachable; their number is reported in :attr:`Region.notes`. Zones of the demand table with
no row in the matrix are left out and listed in the notes too. Everything else that is wrong
(missing columns, text where minutes should be, negative values, unknown ids, duplicates) is a
:class:`~siteopt.errors.DataError` naming the file, row and field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from siteopt.errors import DataError, Problem

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_LAYOUTS = ("wide", "long")


@dataclass(frozen=True, eq=False)
class Region:
    """Zones, sites and drive times of one region, as parallel arrays.

    Parameters
    ----------
    name : str
    zone_ids : tuple of str
    demand : ndarray, shape (n_zones,)
        Demand per zone a year (e.g. predicted stroke admissions), finite, >= 0.
    site_ids, site_names, site_groups : tuple of str
    current_per_site : ndarray, shape (n_sites,)
        Today's throughput per site (``nan`` where unknown).
    travel_min : ndarray, shape (n_zones, n_sites)
        Drive minutes; ``np.inf`` where no time is given.
    demand_label : str
        What the demand counts, for reports.
    notes : tuple of str
        What the loader left out or treated specially, in words with numbers.
    """

    name: str
    zone_ids: tuple[str, ...]
    demand: FloatArray
    site_ids: tuple[str, ...]
    site_names: tuple[str, ...]
    site_groups: tuple[str, ...]
    current_per_site: FloatArray
    travel_min: FloatArray
    demand_label: str = "demand a year"
    notes: tuple[str, ...] = ()

    @property
    def n_zones(self) -> int:
        return len(self.zone_ids)

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    def subset(self, zone_mask: BoolArray, site_mask: BoolArray, name: str) -> Region:
        """The region restricted to the zones and sites selected by the masks."""
        zi = np.flatnonzero(zone_mask)
        si = np.flatnonzero(site_mask)
        travel = np.ascontiguousarray(self.travel_min[np.ix_(zi, si)])
        # notes of the load describe the whole files; say so, and count what the subset keeps
        notes = [f"whole input, before selecting: {n}" for n in self.notes]
        unreachable = int(np.isinf(travel).sum())
        if unreachable:
            notes.append(f"{unreachable} zone-site pair(s) of this selection are unreachable")
        return replace(
            self,
            name=name,
            notes=tuple(notes),
            zone_ids=tuple(self.zone_ids[i] for i in zi),
            demand=self.demand[zi],
            site_ids=tuple(self.site_ids[j] for j in si),
            site_names=tuple(self.site_names[j] for j in si),
            site_groups=tuple(self.site_groups[j] for j in si),
            current_per_site=self.current_per_site[si],
            travel_min=travel,
        )


@dataclass(frozen=True)
class RegionFilter:
    """A named selection of zones and sites.

    Parameters
    ----------
    zone_prefixes : tuple of str
        Keep zones whose id is ``"<prefix> <code>"`` for one of these prefixes (LSOA names are
        "<local authority> <code>", e.g. ``"Leicester 001A"``). Empty: every zone.
    zone_ids : tuple of str
        Keep exactly these zones (in addition to the prefixes).
    site_groups : tuple of str
        Keep sites in these groups (e.g. Strategic Clinical Networks). Empty: every site.
    """

    zone_prefixes: tuple[str, ...] = ()
    zone_ids: tuple[str, ...] = ()
    site_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegionSpec:
    """Where a region's files are and which columns to read (see the module docstring)."""

    path: Path
    name: str
    demand_label: str
    matrix_path: Path
    matrix_layout: str
    matrix_zone_column: str
    zones_path: Path
    zone_id_column: str
    zone_demand_column: str
    sites_path: Path
    site_id_column: str
    site_name_column: str | None
    site_current_column: str | None
    site_group_column: str | None
    regions: Mapping[str, RegionFilter] = field(default_factory=dict)
    throughput: Mapping[str, Any] = field(default_factory=dict)


def read_spec(path: Path) -> RegionSpec:
    """Read a region spec (TOML); every problem at once as a :class:`DataError`."""
    name = str(path)
    if not path.exists():
        raise DataError([Problem(name, "region spec not found: give the path of a .toml file")])
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise DataError([Problem(name, f"not valid TOML ({err}): fix the syntax")]) from None
    problems: list[Problem] = []
    base = path.resolve().parent

    def table(key: str) -> dict[str, Any]:
        val = raw.get(key)
        if not isinstance(val, dict):
            problems.append(Problem(name, f"missing table [{key}]", field=key))
            return {}
        return val

    def text(tbl: dict[str, Any], section: str, key: str, *, required: bool = True) -> str | None:
        val = tbl.get(key)
        if val is None:
            if required and tbl:
                problems.append(Problem(name, f"[{section}] needs {key} = \"...\"",
                                        field=f"{section}.{key}"))
            return None
        if not isinstance(val, str) or not val.strip():
            problems.append(Problem(name, f"[{section}] {key} must be a non-empty string",
                                    field=f"{section}.{key}"))
            return None
        return val

    region_t, matrix_t, zones_t, sites_t = (
        table(k) for k in ("region", "matrix", "zones", "sites")
    )
    layout = text(matrix_t, "matrix", "layout", required=False) or "long"
    if layout not in _LAYOUTS:
        problems.append(Problem(name, f"[matrix] layout {layout!r} is not wide|long",
                                field="matrix.layout"))
    filters: dict[str, RegionFilter] = {}
    regions_t = raw.get("regions", {})
    if not isinstance(regions_t, dict):
        problems.append(Problem(name, "[regions] must be a table of named filters",
                                field="regions"))
        regions_t = {}
    for key, val in regions_t.items():
        ok = isinstance(val, dict) and all(
            isinstance(val.get(k, []), list) and all(isinstance(x, str) for x in val.get(k, []))
            for k in ("zone_prefixes", "zone_ids", "site_groups")
        )
        unknown = sorted(set(val) - {"zone_prefixes", "zone_ids", "site_groups"}) if ok else []
        if not ok or unknown:
            problems.append(Problem(name, f"[regions.{key}] takes lists of strings "
                                    "zone_prefixes, zone_ids, site_groups", field=f"regions.{key}"))
            continue
        filters[key] = RegionFilter(tuple(val.get("zone_prefixes", [])),
                                    tuple(val.get("zone_ids", [])),
                                    tuple(val.get("site_groups", [])))
    throughput = raw.get("throughput", {})
    if not isinstance(throughput, dict):
        problems.append(Problem(name, "[throughput] must be a table", field="throughput"))
        throughput = {}
    values = {
        "matrix_path": text(matrix_t, "matrix", "path"),
        "zones_path": text(zones_t, "zones", "path"),
        "sites_path": text(sites_t, "sites", "path"),
        "zone_id_column": text(zones_t, "zones", "id_column"),
        "zone_demand_column": text(zones_t, "zones", "demand_column"),
        "site_id_column": text(sites_t, "sites", "id_column"),
    }
    zone_col = text(matrix_t, "matrix", "zone_column", required=layout == "wide")
    if problems:
        raise DataError(problems)
    return RegionSpec(
        path=path,
        name=str(region_t.get("name", path.stem)),
        demand_label=str(region_t.get("demand_label", "demand a year")),
        matrix_path=base / str(values["matrix_path"]),
        matrix_layout=layout,
        matrix_zone_column=zone_col or "zone_id",
        zones_path=base / str(values["zones_path"]),
        zone_id_column=str(values["zone_id_column"]),
        zone_demand_column=str(values["zone_demand_column"]),
        sites_path=base / str(values["sites_path"]),
        site_id_column=str(values["site_id_column"]),
        site_name_column=text(sites_t, "sites", "name_column", required=False),
        site_current_column=text(sites_t, "sites", "current_column", required=False),
        site_group_column=text(sites_t, "sites", "group_column", required=False),
        regions=filters,
        throughput=throughput,
    )


def _read_table(path: Path, columns: Sequence[str], what: str) -> pd.DataFrame:
    name = str(path)
    if not path.exists():
        raise DataError([Problem(name, f"{what} not found: check the path in the region spec")])
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, OSError) as err:
        raise DataError([Problem(name, f"cannot read the {what} as CSV ({err})")]) from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError([Problem(name, f"missing columns {missing}: the region spec names them; "
                                 f"the file has {list(frame.columns)[:8]}")])
    return frame


def _numbers(values: pd.Series, file: str, column: str, *, blank_ok: bool,
             problems: list[Problem]) -> FloatArray:
    """Parse a text column to floats; blanks are NaN if allowed; bad cells become problems."""
    text = values.astype(str).str.strip()
    out = pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(np.float64)
    bad = np.isnan(out) & (text != "").to_numpy()
    if not blank_ok:
        bad |= (text == "").to_numpy()
    bad |= out < 0
    for i in np.flatnonzero(bad)[:5].tolist():
        problems.append(Problem(file, f"{text.iloc[i]!r} is not a number >= 0", i + 2, column))
    if bad.sum() > 5:
        problems.append(Problem(file, f"{int(bad.sum()) - 5} more bad values", field=column))
    return out


def _read_wide_numeric(
    path: Path, zone_column: str
) -> tuple[list[str], list[str], FloatArray] | None:
    """Fast path for a clean wide matrix: ``None`` if any cell is not a number >= 0."""
    if not path.exists():
        return None
    try:
        frame = pd.read_csv(path, dtype={zone_column: str}, keep_default_na=False,
                            na_values=[""])
    except (ValueError, UnicodeDecodeError, OSError):
        return None
    if zone_column not in frame.columns:
        return None
    cols = [c for c in frame.columns if c != zone_column]
    if not all(pd.api.types.is_numeric_dtype(frame[c]) for c in cols):
        return None
    minutes = frame[cols].to_numpy(np.float64)
    if np.any(minutes < 0):
        return None
    zone_ids = frame[zone_column].astype(str).str.strip().tolist()
    return zone_ids, [str(c).strip() for c in cols], minutes


def _read_matrix(spec: RegionSpec) -> tuple[list[str], list[str], FloatArray, int]:
    """Zone ids, site ids, minutes (NaN = not given) and the number of cells not given."""
    path = spec.matrix_path
    name = str(path)
    problems: list[Problem] = []
    if spec.matrix_layout == "wide":
        fast = _read_wide_numeric(path, spec.matrix_zone_column)
        if fast is not None:
            zone_ids, site_ids, minutes = fast
        else:  # some cell is not a number: read as text to say which
            frame = _read_table(path, [spec.matrix_zone_column], "travel matrix")
            zone_ids = frame[spec.matrix_zone_column].str.strip().tolist()
            cols = [c for c in frame.columns if c != spec.matrix_zone_column]
            site_ids = [c.strip() for c in cols]
            minutes = np.empty((len(zone_ids), len(cols)))
            for j, col in enumerate(cols):
                minutes[:, j] = _numbers(frame[col], name, col, blank_ok=True, problems=problems)
                if len(problems) > 20:
                    break
    else:
        frame = _read_table(path, ["zone_id", "site_id", "travel_min"], "travel matrix")
        z = frame["zone_id"].str.strip()
        s = frame["site_id"].str.strip()
        t = _numbers(frame["travel_min"], name, "travel_min", blank_ok=False, problems=problems)
        dup = (z + "\x00" + s).duplicated(keep="first").to_numpy()
        for i in np.flatnonzero(dup)[:5].tolist():
            problems.append(Problem(name, f"duplicate pair ({z.iloc[i]}, {s.iloc[i]})", i + 2,
                                    "site_id"))
        zone_ids = list(dict.fromkeys(z.tolist()))
        site_ids = list(dict.fromkeys(s.tolist()))
        zi = pd.Index(zone_ids).get_indexer(pd.Index(z))
        si = pd.Index(site_ids).get_indexer(pd.Index(s))
        minutes = np.full((len(zone_ids), len(site_ids)), np.nan)
        minutes[zi, si] = t
    for label, ids in (("zone", zone_ids), ("site", site_ids)):
        seen = pd.Index(ids)
        if seen.has_duplicates:
            dups = sorted(set(seen[seen.duplicated()]))[:5]
            problems.append(Problem(name, f"{label} ids repeat: {dups}: each must appear once"))
        if any(not i for i in ids):
            problems.append(Problem(name, f"a {label} id is blank: fill it in"))
    if problems:
        raise DataError(problems)
    return zone_ids, site_ids, minutes, int(np.isnan(minutes).sum())


def load_region(spec: RegionSpec) -> Region:
    """Load the matrix, zones and sites of a spec into a :class:`Region` (all zones and sites).

    Raises
    ------
    DataError
        Every problem found, one per line, naming the file, row and column.
    """
    zone_ids, site_ids, minutes, n_blank = _read_matrix(spec)
    problems: list[Problem] = []
    notes: list[str] = []

    zones = _read_table(spec.zones_path, [spec.zone_id_column, spec.zone_demand_column],
                        "zones table")
    zname = str(spec.zones_path)
    zid = zones[spec.zone_id_column].str.strip()
    in_matrix = zid.isin(zone_ids).to_numpy()
    demand_all = _numbers(zones[spec.zone_demand_column].where(in_matrix, "0"), zname,
                          spec.zone_demand_column, blank_ok=False, problems=problems)
    dup = zid.duplicated().to_numpy()
    for i in np.flatnonzero(dup)[:5].tolist():
        problems.append(Problem(zname, f"zone {zid.iloc[i]} appears twice", i + 2,
                                spec.zone_id_column))
    left_out = zid[~in_matrix].tolist()
    if left_out:
        shown = ", ".join(left_out[:5]) + (" ..." if len(left_out) > 5 else "")
        notes.append(f"{len(left_out)} zone(s) of the zones table have no travel times and are "
                     f"left out: {shown}")
    demand_by_zone = dict(zip(zid[in_matrix], demand_all[in_matrix], strict=True))
    no_demand = [z for z in zone_ids if z not in demand_by_zone]
    if no_demand:
        problems.append(Problem(zname, f"{len(no_demand)} zone(s) of the travel matrix have no row "
                                f"(e.g. {', '.join(no_demand[:3])}): add them with their demand",
                                field=spec.zone_id_column))

    site_cols = [spec.site_id_column] + [c for c in (spec.site_name_column,
                                                     spec.site_current_column,
                                                     spec.site_group_column) if c]
    sites = _read_table(spec.sites_path, site_cols, "sites table")
    sname = str(spec.sites_path)
    sid = sites[spec.site_id_column].str.strip()
    if sid.duplicated().any():
        problems.append(Problem(sname, f"site ids repeat: {sorted(set(sid[sid.duplicated()]))[:5]}",
                                field=spec.site_id_column))
    pos = {s: i for i, s in enumerate(sid)}
    unknown = [s for s in site_ids if s not in pos]
    if unknown:
        problems.append(Problem(sname, f"{len(unknown)} site(s) of the travel matrix are not in "
                                f"the sites table (e.g. {', '.join(unknown[:3])}): add them",
                                field=spec.site_id_column))
    if problems:
        raise DataError(problems)
    unused = [s for s in sid if s not in set(site_ids)]
    if unused:
        notes.append(f"{len(unused)} site(s) of the sites table have no travel times and are not "
                     f"candidates: {', '.join(unused[:5])}{' ...' if len(unused) > 5 else ''}")
    rows = [pos[s] for s in site_ids]
    names = (sites[spec.site_name_column].iloc[rows].str.strip().tolist()
             if spec.site_name_column else list(site_ids))
    groups = (sites[spec.site_group_column].iloc[rows].str.strip().tolist()
              if spec.site_group_column else [""] * len(site_ids))
    if spec.site_current_column:
        current = _numbers(sites[spec.site_current_column], sname, spec.site_current_column,
                           blank_ok=True, problems=problems)[rows]
        if problems:
            raise DataError(problems)
    else:
        current = np.full(len(site_ids), np.nan)
    if n_blank:
        where = np.argwhere(np.isnan(minutes))
        zones_hit = sorted({zone_ids[i] for i in where[:, 0]})
        notes.append(f"{n_blank} matrix cell(s) are empty and treated as unreachable "
                     f"(zones: {', '.join(zones_hit[:5])}{' ...' if len(zones_hit) > 5 else ''})")
    travel = np.where(np.isnan(minutes), np.inf, minutes)
    return Region(
        name=spec.name,
        zone_ids=tuple(zone_ids),
        demand=np.array([demand_by_zone[z] for z in zone_ids], dtype=np.float64),
        site_ids=tuple(site_ids),
        site_names=tuple(names),
        site_groups=tuple(groups),
        current_per_site=current,
        travel_min=np.ascontiguousarray(travel),
        demand_label=spec.demand_label,
        notes=tuple(notes),
    )


def select(region: Region, flt: RegionFilter, name: str) -> Region:
    """Apply a :class:`RegionFilter`; a filter that selects nothing is a :class:`DataError`."""
    problems: list[Problem] = []
    zones = np.asarray(region.zone_ids, dtype=object)
    if flt.zone_prefixes or flt.zone_ids:
        zone_mask = np.isin(zones, list(flt.zone_ids))
        area = np.array([z.rsplit(" ", 1)[0] for z in region.zone_ids], dtype=object)
        zone_mask |= np.isin(area, list(flt.zone_prefixes))
        unknown = sorted(set(flt.zone_prefixes) - set(area.tolist()))
        if unknown:
            problems.append(Problem(f"region {name}", f"no zone ids start with {unknown[:5]}: "
                                    "check the spellings (zone ids are '<area> <code>')"))
        missing = sorted(set(flt.zone_ids) - set(region.zone_ids))
        if missing:
            problems.append(Problem(f"region {name}", f"unknown zone ids {missing[:5]}"))
    else:
        zone_mask = np.ones(region.n_zones, dtype=bool)
    if flt.site_groups:
        groups = np.asarray(region.site_groups, dtype=object)
        site_mask = np.isin(groups, list(flt.site_groups))
        unknown = sorted(set(flt.site_groups) - set(region.site_groups))
        if unknown:
            problems.append(Problem(f"region {name}", f"no sites in groups {unknown}: the groups "
                                    f"are {sorted(set(region.site_groups))}"))
    else:
        site_mask = np.ones(region.n_sites, dtype=bool)
    if problems:
        raise DataError(problems)
    return region.subset(zone_mask, site_mask, f"{region.name}: {name}")


def prefix_filter(prefixes: Sequence[str]) -> RegionFilter:
    """A filter keeping zones whose id starts with ``"<prefix> "`` for one of ``prefixes``."""
    return RegionFilter(zone_prefixes=tuple(prefixes))

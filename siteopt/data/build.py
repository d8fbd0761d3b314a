"""Build the embedded LLR geodata from the raw public files, reproducibly.

``siteopt geodata build --raw ../shared/geodata`` reads the raw ONS/NHS files (see
``../shared/geodata/SOURCES.md``) and the curated STP facts in ``geodata/curated/`` and writes the
derived files of a geodata folder (see :mod:`siteopt.data.load`). Running it twice gives
byte-identical files: rows are sorted, numbers have fixed formats and nothing depends on time or
randomness. Files are written to a temporary folder first and moved into place only when every
step has succeeded, so a failed build leaves the old files untouched.

Derivations
-----------
- **Sites**: curated STP facts joined to the NHS site list (coordinates, ODS code, postcode) by
  name; the local authority by point-in-polygon on the LAD boundaries.
- **Zones**: Census 2021 LSOAs with population by age band. The 65+ are split into 65-79 and 80+
  with the 80+ share of their 2011 MSOA (ONS mid-year estimates). The LSOA 2021 -> MSOA 2011 link
  goes through the ONS LSOA 2011 -> 2021 lookup where the LSOA is in it, else by the MSOA polygon
  containing the population-weighted centroid. ``imd_score`` and ``imd_quintile`` are the
  zone's own English Indices of Deprivation 2025 score and *national* quintile (1 = most deprived
  fifth of England's LSOAs, ``ceil(decile / 2)``).
- **Zone equality** (``zone_equality.csv``, :func:`derive_zone_equality`): per zone, IoD2025
  score, rank, decile and quintile, the geographical-barriers sub-domain and the DfT connectivity
  indicator; Census 2021 shares disabled (TS038) and by ethnic group (TS021) of the LSOA; the
  shares of households without a car (TS045), in bad or very bad health (TS037) and of
  one-person households (TS003) of the zone's MSOA 2021 (the LSOA's name is its MSOA's name plus
  one letter); the 2024 electoral ward and the House of Commons Library neighbourhood name; and
  the Rural-Urban Classification 2011 of the 2011 LSOA(s) the zone comes from
  (:func:`rurality_of_zones`).
- **Bed-day rates**: the relative age weights of the assumptions, scaled per service so that the
  Census 2021 population at the target occupancy needs exactly the baseline beds.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from shapely.geometry import Point, shape
from shapely.strtree import STRtree

from siteopt.data import validate as v
from siteopt.data.load import ASSUMPTIONS_FILE, Assumptions, load_assumptions
from siteopt.errors import DataError, Problem
from siteopt.paths import DEFAULT_GEODATA_DIR, refuse_write_inside_package

RAW_FILES = {
    "census": "llr/LLR_lsoa21_census2021_agebands_pwc.csv",
    "lookup": "llr/LLR_lsoa11_lsoa21_lookup.csv",
    "msoa": "llr/LLR_msoa11_age_imd.csv",
    "hospitals": "llr/LLR_community_hospitals.csv",
    "lad": "llr/LLR_LAD_Dec2017_SGC_WGS84.geojson",
    "msoa_geo": "llr/LLR_MSOA_Dec2011_BSC.geojson",
    "lsoa_geo": "llr/LLR_LSOA_Dec2021_BSC_V4.geojson",
    "iod": "llr/LLR_iod2025_lsoa21.csv",
    "iod_subdomains": "llr/LLR_iod2025_lsoa21_subdomains.csv",
    "iod_indicators": "llr/LLR_iod2025_lsoa21_indicators.csv",
    "disability": "llr/LLR_census2021_ts038_disability_lsoa21.csv",
    "ethnicity": "llr/LLR_census2021_ts021_ethnicity_lsoa21.csv",
    "cars": "llr/LLR_census2021_msoa21_number_of_cars_5a_pct.csv",
    "health": "llr/LLR_census2021_msoa21_health_in_general_4a_pct.csv",
    "households": "llr/LLR_census2021_msoa21_hh_family_composition_4a_pct.csv",
    "msoa21_names": "llr/LLR_msoa21_names_hocl.csv",
    "ruc": "llr/LLR_ruc2011_lsoa11.csv",
    "lsoa11_pwc": "llr/LLR_lsoa11_pwc_wgs84.csv",
    "wards24": "llr/LLR_lsoa21_ward24_ltla24_lookup.csv",
}
RAW_COLUMNS = {
    "census": ["lsoa21_code", "lsoa21_name", "age_0_15", "age_16_24", "age_25_34", "age_35_49",
               "age_50_64", "age_65_plus", "total", "lad_name", "lon", "lat"],
    "lookup": ["LSOA11CD", "LSOA11NM", "LSOA21CD", "LSOA21NM"],
    "msoa": ["MSOA", "65-79", "80+"],
    "hospitals": ["site", "ods_code", "postcode", "latitude", "longitude", "parent", "note"],
    "iod": ["lsoa21_code", "IMD_score", "IMD_rank", "IMD_decile"],
    "iod_subdomains": ["lsoa21_code", "geographical_barriers_score"],
    "iod_indicators": ["lsoa21_code", "connectivity_score"],
    "disability": ["lsoa21_code", "disability", "n", "total_residents"],
    "ethnicity": ["lsoa21_code", "ethnic_group", "n", "total_residents"],
    "cars": ["areacd", "number_of_cars_5a-000"],
    "health": ["areacd", "health_in_general_4a-003"],
    "households": ["areacd", "hh_family_composition_4a-002"],
    "msoa21_names": ["msoa21cd", "msoa21nm", "msoa21hclnm"],
    "ruc": ["LSOA11CD", "RUC11CD", "RUC11"],
    "lsoa11_pwc": ["X", "Y", "lsoa11cd"],
    "wards24": ["lsoa21_code", "ward24_name"],
}
DISABLED_LABEL = "Disabled under the Equality Act"
"""The TS038 category counted as disabled."""
MSOA_PERCENT_COLUMNS = {
    "share_households_no_car": ("cars", "number_of_cars_5a-000"),
    "share_bad_health": ("health", "health_in_general_4a-003"),
    "share_one_person_households": ("households", "hh_family_composition_4a-002"),
}
"""MSOA 2021 Census percentages a zone takes from its MSOA: column -> (raw file, column). The
ONS categories: TS045 ``-000`` no cars or vans in household; TS037 ``-003`` bad or very bad
health; TS003 ``-002`` one-person household."""
SHARE_DECIMALS = 6
CURATED_FILES = {
    "sites": "sites_stp2016.csv",
    "spaces": "ward_spaces_stp2016.csv",
    "wards": "wards_stp2016.csv",
    "schemes": "capital_schemes_stp2016.csv",
}
CURATED_VERBATIM = ("stp_capital_programme.csv", "scheme_phasing.csv")
"""Curated reference files copied as they are (the STP's published capital programme, which
the appraisal reconciles the 2016 proposal's capital with; each scheme's build years, earliest
start, receipt lag and STP year, which phasing reads)."""
COORD_DECIMALS = 6


@dataclass(frozen=True)
class BuildReport:
    """What a build wrote."""

    out_dir: Path
    files: tuple[str, ...]
    n_sites: int
    n_zones: int


def build_geodata(raw_dir: Path, out_dir: Path = DEFAULT_GEODATA_DIR,
                  curated_dir: Path | None = None,
                  assumptions_path: Path | None = None) -> BuildReport:
    """Derive a geodata folder from the raw LLR files.

    Parameters
    ----------
    raw_dir : Path
        The raw geodata (``../shared/geodata``), with the ``llr/`` files of ``RAW_FILES``.
    out_dir : Path
        Where to write the derived files (created if missing); default the embedded geodata,
        which only a checkout may rewrite (installed, it is inside the package: pass another).
    curated_dir : Path, optional
        The curated STP facts; default ``out_dir/curated`` or, if absent, the embedded ones.
    assumptions_path : Path, optional
        The assumptions used to calibrate bed-day rates; default ``out_dir/assumptions.toml`` or,
        if absent, the embedded one (which is then copied to ``out_dir``).

    Raises
    ------
    DataError
        If a raw or curated file is missing or malformed, or ``out_dir`` is inside the
        installed package; nothing is written then.
    """
    raw_dir = Path(raw_dir)
    out_dir = Path(out_dir)
    refuse_write_inside_package(out_dir, "pass --out DIR")
    curated_dir = Path(curated_dir) if curated_dir else _first_dir(
        out_dir / "curated", DEFAULT_GEODATA_DIR / "curated")
    assumptions_path = Path(assumptions_path) if assumptions_path else _first_file(
        out_dir / ASSUMPTIONS_FILE, DEFAULT_GEODATA_DIR / ASSUMPTIONS_FILE)

    problems: list[Problem] = []
    raw = _read_raw(raw_dir, problems)
    curated = {k: _read_csv(curated_dir / f, problems) for k, f in CURATED_FILES.items()}
    assumptions, found = load_assumptions(assumptions_path)
    problems += found
    if problems:
        raise DataError(problems)
    assert assumptions is not None

    lad_geo = json.loads((raw_dir / RAW_FILES["lad"]).read_text(encoding="utf-8"))
    msoa_geo = json.loads((raw_dir / RAW_FILES["msoa_geo"]).read_text(encoding="utf-8"))
    lsoa_geo = json.loads((raw_dir / RAW_FILES["lsoa_geo"]).read_text(encoding="utf-8"))
    outputs: dict[str, str] = {}
    sites = derive_sites(curated["sites"], raw["hospitals"], lad_geo, problems)
    zones = derive_zones(raw["census"], raw["lookup"], raw["msoa"], msoa_geo, problems)
    if problems:
        raise DataError(problems)
    equality = derive_zone_equality(zones, raw, problems)
    if problems:
        raise DataError(problems)
    zones["imd_score"] = equality["iod25_imd_score"].to_numpy()
    zones["imd_quintile"] = equality["iod25_imd_quintile"].to_numpy()
    outputs[v.SITES.filename] = _to_csv(sites, v.SITES.names)
    outputs[v.WARD_SPACES.filename] = _to_csv(curated["spaces"], v.WARD_SPACES.names)
    outputs[v.WARDS.filename] = _to_csv(curated["wards"], v.WARDS.names)
    outputs[v.CAPITAL_SCHEMES.filename] = _to_csv(curated["schemes"], v.CAPITAL_SCHEMES.names)
    outputs[v.ZONES.filename] = _to_csv(zones, v.ZONES.names)
    outputs[v.ZONE_EQUALITY.filename] = _to_csv(equality, v.ZONE_EQUALITY.names)
    outputs[v.BED_DAY_RATES.filename] = _to_csv(calibrate_bed_day_rates(zones, assumptions),
                                                v.BED_DAY_RATES.names)
    outputs["boundaries_lad.geojson"] = _geojson(lad_geo, {"lad17cd": "lad_code",
                                                           "lad17nm": "lad_name"})
    outputs["boundaries_msoa.geojson"] = _geojson(msoa_geo, {"MSOA11CD": "msoa_code",
                                                             "MSOA11NM": "msoa_name"})
    outputs["boundaries_lsoa.geojson"] = _geojson(lsoa_geo, {"lsoa21_code": "lsoa_code",
                                                             "lsoa21_name": "lsoa_name"})
    for name in CURATED_VERBATIM:
        src = curated_dir / name
        if src.is_file():
            outputs[name] = src.read_text(encoding="utf-8")
    if assumptions_path.resolve() != (out_dir / ASSUMPTIONS_FILE).resolve():
        outputs[ASSUMPTIONS_FILE] = assumptions_path.read_text(encoding="utf-8")
    _write_atomically(out_dir, outputs)
    return BuildReport(out_dir, tuple(sorted(outputs)), len(sites), len(zones))


# ---------------------------------------------------------------------------------------------
# Sites
# ---------------------------------------------------------------------------------------------
def derive_sites(curated: pd.DataFrame, hospitals: pd.DataFrame, lad_geo: dict[str, Any],
                 problems: list[Problem]) -> pd.DataFrame:
    """Join curated site facts to the NHS site list and place each site in its LAD."""
    by_name = hospitals.set_index("site")
    lads = [(f["properties"]["lad17nm"], shape(f["geometry"])) for f in lad_geo["features"]]
    rows = []
    for i, rec in curated.iterrows():
        nhs = rec["nhs_site"]
        if nhs not in by_name.index:
            problems.append(Problem(CURATED_FILES["sites"], f"nhs_site '{nhs}' is not in the NHS "
                                                            "site list; use its 'site' name",
                                    int(str(i)) + 2, "nhs_site"))
            continue
        h = by_name.loc[nhs]
        lat, lon = float(h["latitude"]), float(h["longitude"])
        point = Point(lon, lat)
        lad = next((name for name, geom in lads if geom.covers(point)), None)
        if lad is None:  # just outside a generalised boundary: take the nearest
            lad = min(lads, key=lambda item: item[1].distance(point))[0]
        rows.append({
            "site_id": rec["site_id"], "name": rec["name"], "town": rec["town"],
            "lad_name": lad, "ods_code": h["ods_code"], "postcode": h["postcode"],
            "lat": round(lat, COORD_DECIMALS), "lon": round(lon, COORD_DECIMALS),
            "nhs_parent": h["parent"], "estate_owner": rec["estate_owner"],
            "must_stay_open": rec["must_stay_open"], "estate_notes": rec["estate_notes"],
            "location_note": h["note"], "source": rec["source"],
        })
    return pd.DataFrame(rows, columns=v.SITES.names)


# ---------------------------------------------------------------------------------------------
# Zones
# ---------------------------------------------------------------------------------------------
def derive_zones(census: pd.DataFrame, lookup: pd.DataFrame, msoa: pd.DataFrame,
                 msoa_geo: dict[str, Any], problems: list[Problem]) -> pd.DataFrame:
    """Census 2021 LSOAs with the 65-79/80+ split and the MSOA 2011 link (IMD is added from
    IoD2025 by :func:`build_geodata`)."""
    msoa = msoa.set_index("MSOA")
    code_of_msoa = {f["properties"]["MSOA11NM"]: f["properties"]["MSOA11CD"]
                    for f in msoa_geo["features"]}
    polygons = [shape(f["geometry"]) for f in msoa_geo["features"]]
    names = [f["properties"]["MSOA11NM"] for f in msoa_geo["features"]]
    tree = STRtree(polygons)
    lsoa11_of = dict(zip(lookup["LSOA21CD"], lookup["LSOA11NM"], strict=True))

    def msoa_of(rec: pd.Series) -> str:
        name11 = lsoa11_of.get(rec["lsoa21_code"])
        if isinstance(name11, str) and name11[:-1] in msoa.index:
            return name11[:-1]
        point = Point(float(rec["lon"]), float(rec["lat"]))
        hits = [names[j] for j in tree.query(point, predicate="covered_by")]
        if not hits:
            hits = [names[int(tree.nearest(point))]]
        return str(hits[0])

    zones = pd.DataFrame({
        "zone_id": census["lsoa21_code"],
        "zone_name": census["lsoa21_name"],
        "lad_name": census["lad_name"],
        "lat": census["lat"].astype(float).round(COORD_DECIMALS),
        "lon": census["lon"].astype(float).round(COORD_DECIMALS),
    })
    for band in ("0_15", "16_24", "25_34", "35_49", "50_64"):
        zones[f"pop_{band}"] = census[f"age_{band}"].astype(int)
    zones["msoa11_name"] = census.apply(msoa_of, axis=1)
    missing = sorted(set(zones["msoa11_name"]) - set(msoa.index))
    for name in missing:
        problems.append(Problem(RAW_FILES["msoa"], f"no row for MSOA '{name}'", field="MSOA"))
    if missing:
        return zones
    p65 = census["age_65_plus"].astype(int).to_numpy()
    m6579 = msoa.loc[zones["msoa11_name"], "65-79"].to_numpy(dtype=float)
    m80 = msoa.loc[zones["msoa11_name"], "80+"].to_numpy(dtype=float)
    share80 = np.divide(m80, m6579 + m80, out=np.zeros_like(m80), where=(m6579 + m80) > 0)
    p80 = np.floor(p65 * share80 + 0.5).astype(int)
    zones["pop_65_79"] = p65 - p80
    zones["pop_80_plus"] = p80
    zones["pop_65_plus"] = p65
    zones["pop_total"] = census["total"].astype(int)
    zones["msoa11_code"] = zones["msoa11_name"].map(code_of_msoa).fillna("")
    return zones.sort_values("zone_id", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Zone equality
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rurality:
    """The Rural-Urban Classification 2011 of the 2021 zones, and how it was reached."""

    ruc11_code: pd.Series
    """zone_id -> the RUC2011 code (e.g. ``C1``) of the class the zone takes."""
    ruc11_class: pd.Series
    """zone_id -> the class in words (e.g. ``Urban city and town``)."""
    split_zones: tuple[str, ...]
    """2021 zones that are a part of a 2011 LSOA split into several."""
    merged_zones: tuple[str, ...]
    """2021 zones made of several 2011 LSOAs."""
    inferred_zones: tuple[str, ...]
    """2021 zones missing from the lookup (the lookup lists each 2011 LSOA once, so the other
    parts of a split LSOA are not in it): their 2011 LSOA was found by name and centroid."""


def derive_zone_equality(zones: pd.DataFrame, raw: dict[str, pd.DataFrame],
                         problems: list[Problem]) -> pd.DataFrame:
    """The companion table ``zone_equality.csv``: one row per zone, in zones.csv order.

    Parameters
    ----------
    zones : DataFrame
        The derived zones (``zone_id``, ``zone_name``, ``lat``, ``lon``), sorted by zone_id.
    raw : dict of DataFrame
        The raw tables of :data:`RAW_FILES` (text cells).
    problems : list of Problem
        Where a missing zone, MSOA or category, or a cell that is not a number, is reported
        (naming the raw file and field); the table is then incomplete and must not be written.

    Returns
    -------
    DataFrame
        The columns of :data:`siteopt.data.validate.ZONE_EQUALITY`; shares are fractions
        formatted with :data:`SHARE_DECIMALS` decimals.
    """
    ids = list(zones["zone_id"])
    out = pd.DataFrame({"zone_id": ids})
    n_before = len(problems)
    wards = _one_row_per_zone(raw["wards24"], "wards24", ids, problems)
    iod = _one_row_per_zone(raw["iod"], "iod", ids, problems)
    sub = _one_row_per_zone(raw["iod_subdomains"], "iod_subdomains", ids, problems)
    ind = _one_row_per_zone(raw["iod_indicators"], "iod_indicators", ids, problems)
    disabled = _category_rows(raw["disability"], "disability", "disability", DISABLED_LABEL,
                              ids, problems)
    ethnic = {g: _category_rows(raw["ethnicity"], "ethnicity", "ethnic_group", label, ids,
                                problems) for g, label in v.ETHNIC_GROUPS.items()}
    msoa = _msoa21_of_zones(zones, raw["msoa21_names"], problems)
    rurality = rurality_of_zones(zones, raw["lookup"], raw["ruc"], raw["lsoa11_pwc"], problems)
    if len(problems) > n_before:
        return out
    assert wards is not None and iod is not None and sub is not None and ind is not None
    assert disabled is not None and msoa is not None and rurality is not None
    out["ward_name"] = wards["ward24_name"].to_numpy()
    out["neighbourhood_name"] = msoa["msoa21hclnm"].to_numpy()
    out["iod25_imd_score"] = _numbers(iod, "IMD_score", "iod", problems, 0, 100)
    rank = _numbers(iod, "IMD_rank", "iod", problems, 1, v.IMD_RANKS)
    decile = _numbers(iod, "IMD_decile", "iod", problems, 1, 10)
    out["iod25_geographical_barriers_score"] = _numbers(sub, "geographical_barriers_score",
                                                        "iod_subdomains", problems)
    out["iod25_connectivity_score"] = _numbers(ind, "connectivity_score", "iod_indicators",
                                               problems, 0, 100)
    out["share_disabled"] = _share_of_residents(disabled, "disability", problems)
    for group, table in ethnic.items():
        assert table is not None
        out[f"share_ethnic_{group}"] = _share_of_residents(table, "ethnicity", problems)
    for column, (key, raw_column) in MSOA_PERCENT_COLUMNS.items():
        pct = _msoa_values(raw[key], key, raw_column, msoa["msoa21cd"], problems)
        out[column] = [_share_text(x / 100.0) for x in pct]
    out["no_car_is_msoa_estimate"] = True
    out["ruc2011_class"] = rurality.ruc11_class.loc[ids].to_numpy()
    out["rural"] = [str(c).lower().startswith("rural") for c in out["ruc2011_class"]]
    if len(problems) > n_before:
        return out
    out["iod25_imd_rank"] = rank.astype(int)
    out["iod25_imd_decile"] = decile.astype(int)
    out["iod25_imd_quintile"] = np.ceil(decile / 2).astype(int)
    return out


def rurality_of_zones(zones: pd.DataFrame, lookup: pd.DataFrame, ruc: pd.DataFrame,
                      pwc11: pd.DataFrame, problems: list[Problem]) -> Rurality | None:
    """The RUC2011 class of each 2021 zone, from the 2011 LSOA(s) it comes from.

    - A zone in the ONS LSOA 2011 -> 2021 lookup takes the class of its 2011 LSOA; a zone made
      of several 2011 LSOAs (merged) takes the class covering most of them, a tie going to the
      more rural class (the higher RUC code).
    - A split 2011 LSOA passes its class to each part. The lookup file lists each 2011 LSOA once,
      so some parts of split LSOAs are not in it: such a zone's 2011 LSOA is one whose code
      changed in the lookup and whose 2021 part lies in the same MSOA 2021 (the LSOA name less
      its last letter); of several, the one whose population-weighted centroid (2011) is
      nearest the zone's; with none, the nearest 2011 centroid of the lookup's LSOAs.
    """
    from siteopt.crs import to_bng

    n_before = len(problems)
    rel = RAW_FILES["ruc"]
    ruc = ruc.drop_duplicates("LSOA11CD")
    code_of = dict(zip(ruc["LSOA11CD"], ruc["RUC11CD"], strict=True))
    class_of = dict(zip(ruc["RUC11CD"], ruc["RUC11"], strict=False))
    for lsoa11 in sorted(set(lookup["LSOA11CD"]) - set(code_of)):
        problems.append(Problem(rel, f"no class for LSOA 2011 {lsoa11} of the lookup; use the "
                                     "full ONS RUC2011 LSOA file", field="LSOA11CD"))
    centroid = pwc11.drop_duplicates("lsoa11cd").set_index("lsoa11cd")
    missing_pwc = sorted(set(lookup["LSOA11CD"]) - set(centroid.index))
    for lsoa11 in missing_pwc:
        problems.append(Problem(RAW_FILES["lsoa11_pwc"], f"no centroid for LSOA 2011 {lsoa11}",
                                field="lsoa11cd"))
    if len(problems) > n_before:
        return None
    x11, y11 = to_bng(centroid["Y"].astype(float).to_numpy(),
                      centroid["X"].astype(float).to_numpy())
    pos11 = {c: (x11[k], y11[k]) for k, c in enumerate(centroid.index)}
    parents: dict[str, list[str]] = {}
    for lsoa11, lsoa21 in zip(lookup["LSOA11CD"], lookup["LSOA21CD"], strict=True):
        parents.setdefault(lsoa21, []).append(lsoa11)
    changed = lookup[lookup["LSOA11CD"] != lookup["LSOA21CD"]]
    x21, y21 = to_bng(zones["lat"].to_numpy(dtype=float), zones["lon"].to_numpy(dtype=float))
    inferred: dict[str, str] = {}
    for k, (zone, name) in enumerate(zip(zones["zone_id"], zones["zone_name"], strict=True)):
        if zone in parents:
            continue
        near = changed.loc[changed["LSOA21NM"].str[:-1] == str(name)[:-1], "LSOA11CD"]
        candidates = sorted(set(near)) or sorted(set(lookup["LSOA11CD"]))
        inferred[zone] = min(candidates, key=lambda c: (
            math.hypot(pos11[c][0] - x21[k], pos11[c][1] - y21[k]), c))
    for zone, lsoa11 in inferred.items():
        parents[zone] = [lsoa11]
    codes = {}
    for zone in zones["zone_id"]:
        classes = [code_of[p] for p in parents[zone]]
        codes[zone] = max(set(classes), key=lambda c: (classes.count(c), c))
    n_parts: dict[str, int] = {}
    for zone in zones["zone_id"]:
        for p in parents[zone]:
            n_parts[p] = n_parts.get(p, 0) + 1
    code_series = pd.Series(codes)
    return Rurality(
        ruc11_code=code_series,
        ruc11_class=code_series.map(class_of),
        split_zones=tuple(z for z in zones["zone_id"] if any(n_parts[p] > 1
                                                            for p in parents[z])),
        merged_zones=tuple(z for z in zones["zone_id"] if len(parents[z]) > 1),
        inferred_zones=tuple(sorted(inferred)),
    )


def _one_row_per_zone(table: pd.DataFrame, key: str, zone_ids: Sequence[str],
                      problems: list[Problem], id_column: str = "lsoa21_code"
                      ) -> pd.DataFrame | None:
    """``table`` (a raw LSOA file) with one row per zone, in ``zone_ids`` order; None (and a
    problem) if a zone has no row or several."""
    rel = RAW_FILES[key]
    table = table.assign(_row=np.arange(len(table)) + 2)
    wanted = set(zone_ids)
    counts = table.loc[table[id_column].isin(wanted), id_column].value_counts()
    missing = [z for z in zone_ids if z not in counts.index]
    twice = sorted(counts.index[counts > 1])
    if missing:
        problems.append(Problem(rel, f"no row for {len(missing)} zone(s) of the census file "
                                     f"(first {missing[0]}); use the file for every LSOA 2021 "
                                     "of the region", field=id_column))
    if twice:
        problems.append(Problem(rel, f"{len(twice)} zone(s) have more than one row (first "
                                     f"{twice[0]}); keep one row per LSOA", field=id_column))
    if missing or twice:
        return None
    return table[table[id_column].isin(wanted)].set_index(id_column).loc[list(zone_ids)]


def _category_rows(table: pd.DataFrame, key: str, column: str, label: str,
                   zone_ids: Sequence[str], problems: list[Problem]) -> pd.DataFrame | None:
    """The rows of a long-format census file for one category, one per zone."""
    rows = table[table[column] == label]
    if rows.empty:
        problems.append(Problem(RAW_FILES[key], f"no rows of category '{label}'; use the ONS "
                                                "Census 2021 labels", field=column))
        return None
    return _one_row_per_zone(rows, key, zone_ids, problems)


def _numbers(table: pd.DataFrame, column: str, key: str, problems: list[Problem],
             min_value: float | None = None, max_value: float | None = None
             ) -> npt.NDArray[np.float64]:
    """A column of a raw table as floats; a problem (row and field) for a cell that is not a
    finite number within the range."""
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    low = -math.inf if min_value is None else min_value
    high = math.inf if max_value is None else max_value
    bad = ~np.isfinite(values) | (values < low) | (values > high)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        span = "" if min_value is None else f" from {low:g} to {high:g}"
        problems.append(Problem(RAW_FILES[key], f"'{table[column].iloc[k]}' is not a number"
                                                f"{span}; use the published file",
                                int(table["_row"].iloc[k]) if "_row" in table else None,
                                column))
    return values


def _share_of_residents(table: pd.DataFrame, key: str, problems: list[Problem]) -> list[str]:
    """``n / total_residents`` of one category's rows, as share text."""
    n = _numbers(table, "n", key, problems, 0)
    total = _numbers(table, "total_residents", key, problems, 1)
    return [_share_text(a / b) for a, b in zip(n, total, strict=True)]


def _msoa21_of_zones(zones: pd.DataFrame, names: pd.DataFrame,
                     problems: list[Problem]) -> pd.DataFrame | None:
    """The MSOA 2021 row of ``LLR_msoa21_names_hocl.csv`` of each zone (by name: an LSOA's name
    is its MSOA's name plus one letter), in zones order."""
    by_name = names.drop_duplicates("msoa21nm").set_index("msoa21nm")
    msoa_names = [str(n)[:-1] for n in zones["zone_name"]]
    unknown = [(z, n) for z, n in zip(zones["zone_id"], zones["zone_name"], strict=True)
               if str(n)[:-1] not in by_name.index]
    if unknown:
        zone, name = unknown[0]
        problems.append(Problem(RAW_FILES["msoa21_names"], f"no MSOA 2021 named '{name[:-1]}' "
                                                           f"for zone {zone} ('{name}'); use the "
                                                           "names file of every MSOA 2021 of "
                                                           "the region", field="msoa21nm"))
        return None
    return by_name.loc[msoa_names].reset_index()


def _msoa_values(table: pd.DataFrame, key: str, column: str, msoa_codes: pd.Series,
                 problems: list[Problem]) -> npt.NDArray[np.float64]:
    """A percentage column of an MSOA 2021 file for each zone's MSOA."""
    table = table.assign(_row=np.arange(len(table)) + 2).drop_duplicates("areacd")
    missing = sorted(set(msoa_codes) - set(table["areacd"]))
    if missing:
        problems.append(Problem(RAW_FILES[key], f"no row for MSOA 2021 {missing[0]}"
                                                f"{' and others' if len(missing) > 1 else ''}",
                                field="areacd"))
        return np.zeros(len(msoa_codes))
    rows = table.set_index("areacd").loc[list(msoa_codes)]
    return _numbers(rows, column, key, problems, 0, 100)


def _share_text(x: float) -> str:
    return f"{x:.{SHARE_DECIMALS}f}"


# ---------------------------------------------------------------------------------------------
# Bed-day rates
# ---------------------------------------------------------------------------------------------
def calibrate_bed_day_rates(zones: pd.DataFrame, assumptions: Assumptions) -> pd.DataFrame:
    """Scale each service's relative age weights so today's population needs today's beds.

    For service s with weights w_a, baseline beds B_s and target occupancy o, the rate is
    r_a = k_s w_a bed-days per person per year, with k_s = 365 o B_s / sum_a(w_a P_a) and P_a the
    region's population in age band a.
    """
    occupancy = float(assumptions["demand.target_occupancy"])
    bands = assumptions.age_bands
    pop = np.array([zones[f"pop_{b}"].sum() for b in bands], dtype=float)
    rows = []
    for svc in assumptions.services:
        weights = np.array(assumptions[f"demand.relative_rate.{svc}.weights"], dtype=float)
        baseline = float(assumptions[f"services.{svc}.baseline_beds"])
        scale = 365.0 * occupancy * baseline / float(weights @ pop)
        for band, w in zip(bands, weights, strict=True):
            rows.append({
                "service": svc, "age_band": band,
                "bed_days_per_person_year": float(f"{scale * w:.8g}"),
                "source": (f"calibrated: relative weight {w:g} x {scale:.6g}, so that the "
                           f"{int(pop.sum())} residents at {occupancy:g} occupancy need the "
                           f"{baseline:g} baseline {svc} beds"),
            })
    return pd.DataFrame(rows, columns=v.BED_DAY_RATES.names)


# ---------------------------------------------------------------------------------------------
# I/O helpers
# ---------------------------------------------------------------------------------------------
def _first_dir(*candidates: Path) -> Path:
    return next((c for c in candidates if c.is_dir()), candidates[-1])


def _first_file(*candidates: Path) -> Path:
    return next((c for c in candidates if c.is_file()), candidates[-1])


def _read_raw(raw_dir: Path, problems: list[Problem]) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for key, rel in RAW_FILES.items():
        path = raw_dir / rel
        if not path.is_file():
            problems.append(Problem(str(path), "raw file not found; pass --raw with the folder "
                                               "that holds llr/ (e.g. ../shared/geodata)"))
            continue
        if key in RAW_COLUMNS:
            table = _read_csv(path, problems)
            for col in RAW_COLUMNS[key]:
                if col not in table.columns:
                    problems.append(Problem(str(path), f"missing column '{col}'", field=col))
            out[key] = table
    return out


def _read_csv(path: Path, problems: list[Problem]) -> pd.DataFrame:
    text = v.read_text(path, problems)
    if text is None:
        return pd.DataFrame()
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def _format(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.10g}"
    return str(value)


def _to_csv(table: pd.DataFrame, columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for rec in table[list(columns)].itertuples(index=False):
        writer.writerow([_format(x) for x in rec])
    return buf.getvalue()


def _geojson(doc: dict[str, Any], rename: dict[str, str]) -> str:
    """A compact, deterministic WGS84 GeoJSON keeping only the renamed properties."""
    def rnd(c: Any) -> Any:
        if c and isinstance(c[0], (int, float)):
            return [round(float(c[0]), COORD_DECIMALS), round(float(c[1]), COORD_DECIMALS)]
        return [rnd(part) for part in c]

    features = []
    for f in doc["features"]:
        props = {new: f["properties"][old] for old, new in rename.items()}
        geom = {"type": f["geometry"]["type"], "coordinates": rnd(f["geometry"]["coordinates"])}
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    code = next(iter(rename.values()))
    features.sort(key=lambda f: str(f["properties"][code]))  # type: ignore[index]
    out = {"type": "FeatureCollection",
           "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
           "features": features}
    return json.dumps(out, separators=(",", ":"), sort_keys=True) + "\n"


def _write_atomically(out_dir: Path, outputs: dict[str, str]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir))
    try:
        for name, text in outputs.items():
            (staging / name).write_text(text, encoding="utf-8", newline="")
        for name in outputs:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

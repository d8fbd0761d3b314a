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
  containing the population-weighted centroid. IMD 2019 is the MSOA score; quintiles are formed
  within the region by population (1 = most deprived fifth of the region's people).
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
}
RAW_COLUMNS = {
    "census": ["lsoa21_code", "lsoa21_name", "age_0_15", "age_16_24", "age_25_34", "age_35_49",
               "age_50_64", "age_65_plus", "total", "lad_name", "lon", "lat"],
    "lookup": ["LSOA11CD", "LSOA11NM", "LSOA21CD"],
    "msoa": ["MSOA", "IMD2019Score", "65-79", "80+"],
    "hospitals": ["site", "ods_code", "postcode", "latitude", "longitude", "parent", "note"],
}
CURATED_FILES = {
    "sites": "sites_stp2016.csv",
    "spaces": "ward_spaces_stp2016.csv",
    "wards": "wards_stp2016.csv",
    "schemes": "capital_schemes_stp2016.csv",
}
CURATED_VERBATIM = ("stp_capital_programme.csv",)
"""Curated reference files copied as they are (the STP's published capital programme, which
the appraisal reconciles the 2016 proposal's capital with)."""
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
    outputs: dict[str, str] = {}
    sites = derive_sites(curated["sites"], raw["hospitals"], lad_geo, problems)
    zones = derive_zones(raw["census"], raw["lookup"], raw["msoa"], msoa_geo, problems)
    if problems:
        raise DataError(problems)
    outputs[v.SITES.filename] = _to_csv(sites, v.SITES.names)
    outputs[v.WARD_SPACES.filename] = _to_csv(curated["spaces"], v.WARD_SPACES.names)
    outputs[v.WARDS.filename] = _to_csv(curated["wards"], v.WARDS.names)
    outputs[v.CAPITAL_SCHEMES.filename] = _to_csv(curated["schemes"], v.CAPITAL_SCHEMES.names)
    outputs[v.ZONES.filename] = _to_csv(zones, v.ZONES.names)
    outputs[v.BED_DAY_RATES.filename] = _to_csv(calibrate_bed_day_rates(zones, assumptions),
                                                v.BED_DAY_RATES.names)
    outputs["boundaries_lad.geojson"] = _geojson(lad_geo, {"lad17cd": "lad_code",
                                                           "lad17nm": "lad_name"})
    outputs["boundaries_msoa.geojson"] = _geojson(msoa_geo, {"MSOA11CD": "msoa_code",
                                                             "MSOA11NM": "msoa_name"})
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
    """Census 2021 LSOAs with 65-79/80+ split, MSOA 2011 link and IMD quintile."""
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
    zones["imd_score"] = msoa.loc[zones["msoa11_name"], "IMD2019Score"].to_numpy(
        dtype=float).round(4)
    zones["imd_quintile"] = imd_quintiles(zones["msoa11_name"], zones["imd_score"],
                                          zones["pop_total"])
    zones["msoa11_code"] = zones["msoa11_name"].map(code_of_msoa).fillna("")
    return zones.sort_values("zone_id", kind="stable").reset_index(drop=True)


def imd_quintiles(group: pd.Series, score: pd.Series, population: pd.Series) -> pd.Series:
    """Population quintiles of deprivation within the region (1 = most deprived fifth).

    Groups (MSOAs, which carry the score) are ranked by score, most deprived first, and each is
    placed in the quintile that holds the middle of its population; all zones of a group share
    its quintile.
    """
    frame = pd.DataFrame({"group": group, "score": score, "pop": population})
    per = frame.groupby("group").agg(score=("score", "first"), pop=("pop", "sum"))
    per = per.sort_values(["score", "pop"], ascending=[False, False], kind="stable")
    cum = per["pop"].cumsum() - per["pop"] / 2
    quint = np.minimum(5, np.floor(cum / per["pop"].sum() * 5).astype(int) + 1)
    return frame["group"].map(quint).astype(int)


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

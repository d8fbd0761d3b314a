"""Load a region's geodata folder, validated, into plain typed tables.

A geodata folder (the embedded LLR default is ``geodata/`` in the repository) holds:

===========================  ==================================================================
``sites.csv``                candidate sites (community hospitals), WGS84 lat/lon
``ward_spaces.csv``          the physical ward spaces of each site and the beds each can hold
``wards.csv``                named configurations (``status_quo``, ``stp_2016``, ...): the ward
                             in each space, its service and beds
``capital_schemes.csv``      capital schemes: new or replaced ward spaces, and the capex and
                             receipts when a site's inpatient wards close
``zones.csv``                demand zones (LSOAs) with population by age band, 80+, IMD
``bed_day_rates.csv``        bed-days per person per year by service and age band (calibrated)
``zone_equality.csv``        optional: deprivation (IoD2025), protected characteristics, car
                             availability, health and rurality of each zone, for the equality
                             impact assessment (without it, equality figures are skipped)
``assumptions.toml``         every other parameter, each with its source
``scheme_phasing.csv``       optional: each ward scheme's build years, earliest start and
                             receipt lag, for phasing (:mod:`siteopt.data.phasing`)
``boundaries_*.geojson``     local authority and MSOA boundaries for maps (the LAD union is the
                             region's extent); optionally the LSOA (zone) boundaries
``roads/``                   optional: the road graph ``llr_roads.npz`` with ``parameters.csv``
                             and ``urban_areas.csv`` (read by every run); the build inputs
                             (:data:`UNCHECKED_FILES`) are checked by ``siteopt geodata roads``
===========================  ==================================================================

:func:`load_geodata` checks everything (see :mod:`siteopt.data.validate`) and raises a single
:class:`~siteopt.errors.DataError` listing every problem, or returns a :class:`GeoData`: the
tables and assumptions (:mod:`siteopt.data.validate`), the boundary files and every site and zone
inside the region and near its roads (:mod:`siteopt.data.region`), and the road files a run reads
(:func:`read_roads_folder`). :func:`unchecked_files` lists the files it leaves to the commands
that read them.

:func:`load_inputs` is the one input path of every run (``solve``, ``appraise``, ``map``,
``whatif``, ``sweep``): the validated geodata and, if the user brings one, a precomputed travel
matrix checked against the geodata's zones and sites. The travel stage then takes the validated
points (:attr:`GeoData.zone_points`, :attr:`GeoData.site_points`), never the CSV files again.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from siteopt.data import region
from siteopt.data import validate as v
from siteopt.data.phasing import check_scheme_phasing
from siteopt.errors import DataError, Problem

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from siteopt.travel.graph import GraphArrays
    from siteopt.travel.matrix import Points, TravelMatrix

ASSUMPTIONS_FILE = "assumptions.toml"
ROADS_DIR = "roads"
"""Sub-folder of a geodata folder holding the road graph and its parameters."""


@dataclass(frozen=True)
class Assumptions:
    """The flattened assumptions: dotted key -> value, and dotted key -> source."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def services(self) -> list[str]:
        """Service names in file order (e.g. ``['rehab', 'stroke']``)."""
        seen: dict[str, None] = {}
        for key in self.values:
            if key.startswith("services."):
                seen.setdefault(key.split(".")[1])
        return list(seen)

    @property
    def age_bands(self) -> list[str]:
        return list(self.values["demand.age_bands"])


@dataclass(frozen=True)
class GeoData:
    """Everything a region brings, validated. Tables keep the columns of their CSV schema."""

    directory: Path
    sites: pd.DataFrame
    ward_spaces: pd.DataFrame
    wards: pd.DataFrame
    capital_schemes: pd.DataFrame
    zones: pd.DataFrame
    bed_day_rates: pd.DataFrame
    assumptions: Assumptions
    zone_equality: pd.DataFrame | None = None
    """``zone_equality.csv`` (columns of :data:`~siteopt.data.validate.ZONE_EQUALITY`), rows in
    zones.csv order; None when the region has no such file (equality figures are skipped)."""

    @property
    def configurations(self) -> list[str]:
        """Named configurations in wards.csv, in file order."""
        return list(dict.fromkeys(self.wards["configuration"]))

    def boundary_path(self, kind: str) -> Path:
        """Path of ``boundaries_<kind>.geojson`` (``kind`` is 'lad', 'msoa' or the optional
        'lsoa')."""
        return self.directory / f"boundaries_{kind}.geojson"

    @property
    def zone_ids(self) -> tuple[str, ...]:
        """Zone ids in zones.csv order."""
        return tuple(str(z) for z in self.zones["zone_id"])

    @property
    def site_ids(self) -> tuple[str, ...]:
        """Site ids in sites.csv order."""
        return tuple(str(s) for s in self.sites["site_id"])

    @property
    def zone_points(self) -> Points:
        """The zones as travel-stage points (validated WGS84 lat/lon), in zones.csv order."""
        return _points(self.zone_ids, self.zones)

    @property
    def site_points(self) -> Points:
        """The sites as travel-stage points (validated WGS84 lat/lon), in sites.csv order."""
        return _points(self.site_ids, self.sites)

    @property
    def roads_dir(self) -> Path:
        """The road-graph folder, ``roads/`` (optional: see :func:`check_roads_folder`)."""
        return self.directory / ROADS_DIR


def _points(ids: tuple[str, ...], table: pd.DataFrame) -> Points:
    from siteopt.travel.matrix import Points

    return Points(ids, table["lat"].to_numpy(dtype=np.float64),
                  table["lon"].to_numpy(dtype=np.float64))


@dataclass(frozen=True, eq=False)
class Inputs:
    """A region's validated inputs: the geodata and the user's own travel matrix, if any."""

    data: GeoData
    travel: TravelMatrix | None = None
    """The precomputed matrix (rows in zones.csv order, columns in sites.csv order), or None
    when drive times come from the road graph."""
    travel_csv: Path | None = None
    """The file ``travel`` was read from."""


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table as plain dicts (column -> value)."""
    return [{str(k): v for k, v in row.items()} for row in table.to_dict("records")]


def load_assumptions(path: Path) -> tuple[Assumptions | None, list[Problem]]:
    """Read and check an assumptions TOML file."""
    problems: list[Problem] = []
    text = v.read_text(path, problems)
    if text is None:
        return None, problems
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return None, [Problem(path.name, f"is not valid TOML ({err}); fix the syntax")]
    values, sources = v.flatten_assumptions(doc, path.name, problems)
    problems += v.check_assumptions(values, path.name)
    return Assumptions(values, sources), problems


def load_geodata(directory: Path) -> GeoData:
    """Load and validate a geodata folder.

    Parameters
    ----------
    directory : Path
        The folder (see the module docstring for its files).

    Returns
    -------
    GeoData

    Raises
    ------
    DataError
        Listing every problem found in every file.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError([Problem(str(directory), "geodata folder not found; pass --geodata with "
                                                 "a folder made by `siteopt geodata build`")])
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame | None] = {}
    for schema in v.TABLES:
        table, found = v.read_table(directory / schema.filename, schema)
        tables[schema.filename] = table
        problems += found
    assumptions, found = load_assumptions(directory / ASSUMPTIONS_FILE)
    problems += found
    boundaries: dict[str, list[BaseGeometry] | None] = {}
    for filename, (code_prop, name_prop) in v.BOUNDARY_FILES.items():
        boundaries[filename], found = region.read_boundaries(directory / filename, code_prop,
                                                             name_prop)
        problems += found
    for filename, (code_prop, name_prop) in v.OPTIONAL_BOUNDARY_FILES.items():
        if (directory / filename).exists():
            problems += region.read_boundaries(directory / filename, code_prop, name_prop)[1]
    for schema in v.OPTIONAL_TABLES:
        if (directory / schema.filename).exists():
            table, found = v.read_table(directory / schema.filename, schema)
            tables[schema.filename] = table
            problems += found

    sites = tables[v.SITES.filename]
    spaces = tables[v.WARD_SPACES.filename]
    wards = tables[v.WARDS.filename]
    schemes = tables[v.CAPITAL_SCHEMES.filename]
    zones = tables[v.ZONES.filename]
    rates = tables[v.BED_DAY_RATES.filename]

    if sites is not None:
        problems += v.check_coordinates(sites, v.SITES.filename)
        site_ids = list(sites["site_id"].dropna())
        for table, schema in ((spaces, v.WARD_SPACES), (wards, v.WARDS),
                              (schemes, v.CAPITAL_SCHEMES)):
            if table is not None:
                problems += v.check_references(table, "site_id", site_ids, schema.filename,
                                               v.SITES.filename)
        if schemes is not None:
            problems += v.check_receipt_dependencies(schemes, site_ids)
    problems += check_scheme_phasing(directory, schemes, sites)
    if zones is not None:
        problems += v.check_coordinates(zones, v.ZONES.filename)
        problems += v.check_zone_population(zones)
    equality = tables.get(v.ZONE_EQUALITY.filename)
    if equality is not None:
        problems += v.check_zone_equality(equality, zones)
    if schemes is not None and spaces is not None:
        problems += v.check_schemes(schemes, spaces)
    assumptions_ok = assumptions is not None and not any(
        p.file == ASSUMPTIONS_FILE for p in problems)
    if assumptions_ok and assumptions is not None:
        services = assumptions.services
        if wards is not None and spaces is not None and schemes is not None:
            problems += v.check_wards(wards, spaces, schemes, services)
            problems += v.check_service_lists(spaces, v.WARD_SPACES.filename, services)
            problems += v.check_service_lists(schemes, v.CAPITAL_SCHEMES.filename, services)
        if rates is not None:
            problems += v.check_bed_day_rates(rates, services, assumptions.age_bands)
        if zones is not None:
            areas = assumptions["growth.area_of_lad"]
            problems += v.check_references(zones, "lad_name", areas, v.ZONES.filename,
                                           "assumptions.toml [growth] area_of_lad")
    roads = read_roads_folder(directory / ROADS_DIR)
    problems += roads.problems
    problems += check_points(tables, boundaries.get(region.REGION_FILE), roads)
    if problems:
        raise DataError(problems)
    assert sites is not None and spaces is not None and wards is not None
    assert schemes is not None and zones is not None and rates is not None
    assert assumptions is not None
    if equality is not None:  # in zones.csv order (the check above proved a row per zone)
        equality = equality.set_index("zone_id", drop=False).loc[zones["zone_id"]].reset_index(
            drop=True)
    return GeoData(directory, sites, spaces, wards, schemes, zones, rates, assumptions, equality)


def load_inputs(geodata_dir: Path, *, travel_csv: Path | None = None) -> Inputs:
    """Load and validate a geodata folder and, if given, a precomputed travel matrix.

    Parameters
    ----------
    geodata_dir : Path
        The region's geodata folder (see the module docstring).
    travel_csv : Path, optional
        A precomputed matrix (CSV ``zone_id, site_id, travel_min``) to use instead of the road
        graph; every (zone, site) pair of the geodata must appear exactly once (see
        :func:`siteopt.travel.matrix.read_precomputed_matrix`).

    Returns
    -------
    Inputs

    Raises
    ------
    DataError
        Every problem of the geodata folder (:func:`load_geodata`); then, if the geodata is
        sound, every problem of the matrix, each naming the file, row, field and fix.
    """
    from siteopt.travel.matrix import read_precomputed_matrix

    data = load_geodata(geodata_dir)
    if travel_csv is None:
        return Inputs(data)
    travel_csv = Path(travel_csv)
    travel = read_precomputed_matrix(travel_csv, data.zone_ids, data.site_ids,
                                     origins=data.zone_points, destinations=data.site_points)
    return Inputs(data, travel, travel_csv)


RUN_ROAD_FILES = ("llr_roads.npz", "parameters.csv", "urban_areas.csv")
"""The files of ``roads/`` that every run reads (graph, access parameters, urban areas)."""
UNCHECKED_FILES: tuple[tuple[str, str], ...] = (
    ("roads/speeds.csv", "read only by `siteopt geodata roads` (building a graph), which checks "
                         "it first"),
    ("roads/strategic_nodes.csv, roads/strategic_routes.csv",
     "read only by `siteopt geodata roads --default`, which checks them first"),
    ("roads/strategic_roads.geojson", "written from the two strategic tables by `siteopt "
                                      "geodata roads --default`; no run reads it"),
    ("curated/*.csv", "read only by `siteopt geodata build`, which checks them first"),
)
"""Files a geodata folder may hold that ``siteopt validate`` does not check, and why."""
ABSENT_OPTIONAL_FILES: tuple[tuple[str, str], ...] = (
    ("zone_equality.csv", "absent, so the equality and health inequalities figures are "
                          "skipped; `siteopt geodata build` derives it for LLR (see "
                          "geodata/README.md for the format)"),
)
"""Optional files whose absence ``siteopt validate`` mentions, and what is skipped then."""


def unchecked_files(directory: Path) -> list[tuple[str, str]]:
    """The entries of :data:`UNCHECKED_FILES` present in a geodata folder, and of
    :data:`ABSENT_OPTIONAL_FILES` absent from it: (files, why).

    ``siteopt validate`` prints one line for each, so a user knows what "geodata OK" covers.
    """
    out: list[tuple[str, str]] = []
    for names, why in UNCHECKED_FILES:
        patterns = [n.strip() for n in names.split(",")]
        if any(any(Path(directory).glob(pattern)) for pattern in patterns):
            out.append((names, why))
    for name, why in ABSENT_OPTIONAL_FILES:
        if not (Path(directory) / name).exists():
            out.append((name, why))
    return out


@dataclass(frozen=True)
class RoadFiles:
    """The run-time files of a region's ``roads/`` folder, read and checked."""

    problems: list[Problem]
    graph: GraphArrays | None = None
    """The road graph (None if absent or broken)."""
    parameters: dict[str, float] | None = None
    """``parameters.csv`` (None if absent or broken)."""


def read_roads_folder(roads_dir: Path) -> RoadFiles:
    """Read and check the files of ``roads/`` that every run reads (:data:`RUN_ROAD_FILES`).

    The folder is optional (a region may bring a precomputed travel matrix instead); if it is
    there, the graph, ``parameters.csv`` and ``urban_areas.csv`` must all be sound: a missing,
    empty, truncated or implausible one is a problem naming the file, row and field.
    """
    if not roads_dir.is_dir():
        return RoadFiles([])
    from siteopt.travel import graph as road_graph
    from siteopt.travel import speeds

    problems: list[Problem] = []
    graph_name, params_name, areas_name = RUN_ROAD_FILES
    graph: GraphArrays | None = None
    params: dict[str, float] | None = None
    try:
        graph = road_graph.load_graph_arrays(roads_dir / graph_name,
                                             label=f"{ROADS_DIR}/{graph_name}")
    except DataError as err:
        problems += err.problems
    try:
        params = speeds.read_parameters(roads_dir / params_name,
                                        label=f"{ROADS_DIR}/{params_name}")
    except DataError as err:
        problems += err.problems
    try:
        speeds.read_urban_areas(roads_dir / areas_name, label=f"{ROADS_DIR}/{areas_name}")
    except DataError as err:
        problems += err.problems
    return RoadFiles(problems, graph, params)


def check_roads_folder(roads_dir: Path) -> list[Problem]:
    """Every problem of the run-time road files (see :func:`read_roads_folder`)."""
    return read_roads_folder(roads_dir).problems


def check_points(tables: Mapping[str, pd.DataFrame | None],
                 region_geoms: list[BaseGeometry] | None, roads: RoadFiles) -> list[Problem]:
    """Sites and zones inside the region (its boundaries plus ``region_margin_km``) and within
    ``max_snap_m`` of the road graph (when the region has a sound one)."""
    from siteopt.travel.speeds import plausible_ranges

    margin = plausible_ranges()[("geodata", "region_margin_km")].max_value
    problems: list[Problem] = []
    for schema, id_column in ((v.SITES, "site_id"), (v.ZONES, "zone_id")):
        table = tables.get(schema.filename)
        if table is None:
            continue
        found: list[Problem] = []
        if region_geoms:
            found = region.check_in_region(table, schema.filename, id_column, region_geoms,
                                           margin)
        if roads.graph is not None and roads.parameters is not None:
            found += region.check_near_graph(table, schema.filename, id_column, roads.graph,
                                             roads.parameters["max_snap_m"],
                                             {p.row for p in found if p.row is not None})
        problems += found
    return problems


@dataclass(frozen=True)
class Summary:
    """The headline figures of a geodata folder, as ``siteopt validate`` prints them."""

    region: str
    n_sites: int
    n_sites_with_beds: int
    beds: dict[str, dict[str, int]]
    """configuration -> service -> beds."""
    beds_by_provider: dict[str, dict[str, int]]
    """provider -> service -> beds, status quo."""
    n_zones: int
    population: int
    population_65_plus: int
    population_80_plus: int


def summarise(data: GeoData, baseline: str = "status_quo") -> Summary:
    """Headline figures: sites, beds by configuration and service, zones and population."""
    wards = data.wards
    beds: dict[str, dict[str, int]] = {}
    for config in data.configurations:
        sub = wards[wards["configuration"] == config]
        beds[config] = {svc: int(sub.loc[sub["service"] == svc, "beds"].sum())
                        for svc in data.assumptions.services}
    base = wards[wards["configuration"] == baseline]
    by_provider: dict[str, dict[str, int]] = {}
    grouped = base.assign(provider=base["provider"].fillna("not stated"))
    for rec in grouped.groupby(["provider", "service"], as_index=False)["beds"].sum().itertuples():
        by_provider.setdefault(str(rec.provider), {})[str(rec.service)] = int(str(rec.beds))
    zones = data.zones
    return Summary(
        region=str(data.assumptions["meta.region"]),
        n_sites=len(data.sites),
        n_sites_with_beds=int(base["site_id"].nunique()),
        beds=beds,
        beds_by_provider=by_provider,
        n_zones=len(zones),
        population=int(zones["pop_total"].sum()),
        population_65_plus=int(zones["pop_65_plus"].sum()),
        population_80_plus=int(zones["pop_80_plus"].sum()),
    )

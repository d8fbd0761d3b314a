"""The data flow end to end: geodata -> travel times -> demand -> catalogue -> solve/evaluate.

:func:`prepare` runs the stages up to the model's input once (so a what-if or a sweep can reuse
them): the one input path :func:`siteopt.data.load.load_inputs`, the travel stage
:func:`travel_times`, demand and catalogue. :func:`optimise_scenario` and
:func:`evaluate_configuration` solve or evaluate on it, and :func:`write_run` writes a run's
files with a manifest. Every stage is also callable alone from
its own module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from siteopt import __version__
from siteopt.catalogue.demand import Demand, bed_need
from siteopt.catalogue.options import Catalogue, build_catalogue
from siteopt.data.equality import GROUP_LABELS, group_weights
from siteopt.data.load import GeoData, Inputs, load_inputs
from siteopt.errors import DataError, Problem
from siteopt.fileio import csv_text, write_atomically
from siteopt.paths import geodata_label
from siteopt.runs.scenario import Scenario, load_scenario
from siteopt.travel.matrix import TravelMatrix, zone_site_travel
from siteopt.wards.instance import ALL_PEOPLE, Instance, group_mean_travel
from siteopt.wards.results import Solution, solution_to_dict
from siteopt.wards.solve import evaluate, optimise


@dataclass(frozen=True, eq=False)
class Prepared:
    """Everything up to the model's input, for one scenario."""

    data: GeoData
    scenario: Scenario
    demand: Demand
    travel: TravelMatrix
    catalogue: Catalogue
    inputs_sha256: str

    @property
    def instance(self) -> Instance:
        """The optimiser's instance."""
        return self.catalogue.instance

    @property
    def evaluation_instance(self) -> Instance:
        """The instance that also holds named options the optimiser may not choose."""
        return self.catalogue.evaluation_instance


def prepare(
    geodata_dir: Path,
    scenario_path: Path | None = None,
    overrides: Sequence[str] = (),
    *,
    travel_csv: Path | None = None,
    cache_dir: Path | None = None,
    inputs: Inputs | None = None,
    travel: TravelMatrix | None = None,
) -> Prepared:
    """Load, validate and derive the model input of a scenario.

    Parameters
    ----------
    geodata_dir : Path
        The region's geodata folder.
    scenario_path : Path, optional
        A scenario TOML file; None for the defaults.
    overrides : sequence of str
        ``section.key=value`` overrides.
    travel_csv : Path, optional
        A precomputed matrix (``zone_id, site_id, travel_min``) instead of the road graph.
    cache_dir : Path, optional
        Where travel matrices are cached (default
        :func:`siteopt.travel.matrix.default_cache_dir`).
    inputs : Inputs, optional
        Already loaded inputs (:func:`siteopt.data.load.load_inputs`), reused across the runs of
        a what-if or a sweep; ``geodata_dir`` and ``travel_csv`` are then not read again.
    travel : TravelMatrix, optional
        An already computed travel matrix (reused across runs).
    """
    if inputs is None:
        inputs = load_inputs(geodata_dir, travel_csv=travel_csv if travel is None else None)
    data = inputs.data
    scenario = load_scenario(scenario_path, overrides, data.assumptions)
    if travel is None:
        travel = travel_times(inputs, cache_dir=cache_dir)
    travel_min = aligned_travel(data, travel)
    demand = bed_need(data, scenario.demand)
    catalogue = build_catalogue(data, demand, travel_min, scenario.catalogue)
    digest = inputs_hash(data.directory, scenario, travel_min)
    return with_equity_limits(Prepared(data, scenario, demand, travel, catalogue, digest))


EQUITY_BASELINE = "status_quo"
"""The configuration of wards.csv whose groups' mean drives are business as usual for the
equity limit ``model.max_group_mean_travel_increase_min``."""


def with_equity_limits(prepared: Prepared) -> Prepared:
    """The model's numbers for the scenario's equity limits (``[model]``
    ``max_group_mean_travel_increase_min``, ``max_deprived_gap_min``); ``prepared`` itself if
    it sets neither.

    Both instances get the group weights of :func:`siteopt.data.equality.group_weights` (people
    aged 65+ of each group per zone) and their plain labels; under the rise limit, every group's
    business-as-usual mean drive the scenario does not give in
    ``group_baseline_mean_travel_min`` is that of :data:`EQUITY_BASELINE`, evaluated as
    :func:`evaluate_configuration` does (least travel within its beds).

    Raises
    ------
    DataError
        If the geodata has no ``zone_equality.csv`` or wards.csv no ``status_quo``.
    """
    settings = prepared.scenario.model
    if not settings.equity_limited:
        return prepared
    weights = group_weights(prepared.data)

    def grouped(instance: Instance) -> Instance:
        zones = dataclasses.replace(instance.zones, group_weight=weights,
                                    group_label=dict(GROUP_LABELS))
        return dataclasses.replace(instance, zones=zones)

    catalogue = dataclasses.replace(
        prepared.catalogue, instance=grouped(prepared.catalogue.instance),
        evaluation_instance=grouped(prepared.catalogue.evaluation_instance))
    out = dataclasses.replace(prepared, catalogue=catalogue)
    if settings.max_group_mean_travel_increase_min is None:
        return out
    if EQUITY_BASELINE not in catalogue.configurations:
        raise DataError([Problem("wards.csv", f"has no configuration '{EQUITY_BASELINE}', the "
                                              "business as usual of the limit on any group's "
                                              "rise in mean drive; add it or drop the limit",
                                 field="configuration")])
    plain = dataclasses.replace(settings, max_group_mean_travel_increase_min=None,
                                max_deprived_gap_min=None)
    bau = evaluate_configuration(
        dataclasses.replace(out, scenario=dataclasses.replace(out.scenario, model=plain)),
        EQUITY_BASELINE)
    a = bau.assignment
    means = group_mean_travel(out.evaluation_instance, a.zone_idx, a.site_idx, a.service_idx,
                              a.share)
    baseline = {g: t for g, t in means.items() if g != ALL_PEOPLE}
    baseline.update(settings.group_baseline_mean_travel_min)
    model = dataclasses.replace(settings, group_baseline_mean_travel_min=baseline)
    return dataclasses.replace(out, scenario=dataclasses.replace(out.scenario, model=model))


def travel_times(inputs: Inputs, *, cache_dir: Path | None = None) -> TravelMatrix:
    """The travel stage: the user's precomputed matrix if :func:`load_inputs` read one, else
    drive times on the road graph from the validated zones and sites.

    Parameters
    ----------
    inputs : Inputs
    cache_dir : Path, optional
        Where road-graph matrices are cached (default
        :func:`siteopt.travel.matrix.default_cache_dir`).
    """
    if inputs.travel is not None:
        return inputs.travel
    return zone_site_travel(inputs.data, cache_dir=cache_dir)


def aligned_travel(data: GeoData, travel: TravelMatrix) -> npt.NDArray[np.float64]:
    """The travel matrix with rows in zones.csv order and columns in sites.csv order."""
    zone_pos = {z: i for i, z in enumerate(travel.origin_ids)}
    site_pos = {s: j for j, s in enumerate(travel.destination_ids)}
    zones, sites = data.zone_ids, data.site_ids
    problems = [Problem("travel matrix", f"has no row for zone '{z}'") for z in zones
                if z not in zone_pos][:5]
    problems += [Problem("travel matrix", f"has no column for site '{s}'") for s in sites
                 if s not in site_pos]
    if problems:
        raise DataError(problems)
    rows = np.array([zone_pos[z] for z in zones])
    cols = np.array([site_pos[s] for s in sites])
    matrix = np.asarray(travel.travel_min, dtype=np.float64)
    out: npt.NDArray[np.float64] = matrix[np.ix_(rows, cols)]
    return out


def inputs_hash(geodata_dir: Path, scenario: Scenario, travel_min: np.ndarray) -> str:
    """SHA-256 of every input: geodata files, the resolved scenario and the travel matrix."""
    h = hashlib.sha256()
    for path in sorted(Path(geodata_dir).glob("*")):
        if path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    h.update(json.dumps(scenario.values, sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(np.round(travel_min, 9)).tobytes())
    return h.hexdigest()


SCALED_NEED_MARGIN = 1e-9
"""A configuration short of beds is measured on the share of the need it can hold, scaled down
by this relative margin more, so that rounding never leaves the scaled need a hair above the
beds (which made an exactly-full configuration look unable to hold any of it)."""


def optimise_scenario(prepared: Prepared) -> Solution:
    """Solve the scenario's MILP."""
    s = prepared.scenario
    return optimise(prepared.instance, s.model, s.solver)


def evaluate_configuration(prepared: Prepared, name: str) -> Solution:
    """Evaluate a named configuration of wards.csv (e.g. ``status_quo``) by the same code path.

    The scenario's limits are checked and reported as violations, never enforced.
    """
    choice = prepared.catalogue.configurations.get(name)
    if choice is None:
        known = ", ".join(prepared.catalogue.configurations) or "(none)"
        raise DataError([Problem("wards.csv", f"no configuration '{name}'; known: {known}",
                                 field="configuration")])
    s = prepared.scenario
    instance = prepared.evaluation_instance
    shortfall = bed_shortfall(instance, choice)
    if not shortfall:
        return evaluate(instance, choice, s.model, s.solver, label=name)
    # The configuration has fewer usable beds than the need: measure it on the share of the
    # need it can hold (every zone served in the same proportion) and say how short it is.
    scale = np.ones(len(instance.services))
    for k, svc in enumerate(instance.services):
        if svc in shortfall:
            capacity, need = shortfall[svc]
            scale[k] = capacity / need * (1.0 - SCALED_NEED_MARGIN) if need > 0 else 1.0
    zones = dataclasses.replace(instance.zones, demand_beds=instance.zones.demand_beds * scale)
    scaled = dataclasses.replace(instance, zones=zones)
    solution = evaluate(scaled, choice, s.model, s.solver, label=name)
    notes = tuple(f"bed need not met: {svc} has {cap:.1f} usable beds for a need of {need:.1f} "
                  f"({need - cap:.1f} short); drive times are for the share it can hold"
                  for svc, (cap, need) in shortfall.items())
    return dataclasses.replace(solution, violations=notes + tuple(solution.violations))


def bed_shortfall(instance: Instance, choice: Mapping[str, str]) -> dict[str, tuple[float, float]]:
    """Services whose usable beds in ``choice`` fall short of the need: (usable, need)."""
    out = {}
    need = instance.total_demand_beds
    for k, svc in enumerate(instance.services):
        usable = sum(site.option(choice[site.site_id]).usable_beds.get(svc, 0.0)
                     for site in instance.sites)
        if usable < need[k] - 1e-9:
            out[svc] = (float(usable), float(need[k]))
    return out


# ---------------------------------------------------------------------------------------------
# Writing a run
# ---------------------------------------------------------------------------------------------
def versions() -> dict[str, str]:
    """Versions of Python, siteopt and the libraries that shape results."""
    out = {"python": platform.python_version(), "siteopt": __version__}
    for pkg in ("pulp", "highspy", "numpy", "scipy", "pandas", "networkx"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def manifest(prepared: Prepared, solutions: Mapping[str, Solution]) -> dict[str, Any]:
    """What a business case cites: inputs hash, scenario, versions, solver and status."""
    s = prepared.scenario
    return {
        "siteopt_version": __version__,
        "inputs_sha256": prepared.inputs_sha256,
        "geodata": geodata_label(prepared.data.directory),
        "scenario": {"name": s.name, "files": [Path(f).name for f in s.files],
                     "overrides": list(s.overrides)},
        "planning_year": prepared.demand.planning_year,
        "versions": versions(),
        "runs": {name: {"solver": sol.solver, "status": sol.status_text, "gap": sol.gap,
                        "evaluated": sol.evaluated,
                        "independent_check": "passed" if not sol.violations else "violations"}
                 for name, sol in solutions.items()},
    }


def run_files(prepared: Prepared, name: str, solution: Solution) -> dict[str, str]:
    """The files of one solution: JSON, sites table and assignment table."""
    instance = prepared.evaluation_instance if solution.evaluated else prepared.instance
    doc = solution_to_dict(instance, solution)
    services = list(instance.services)
    site_rows = []
    for site in doc["sites"]:
        row: list[Any] = [site["site_id"], site["name"], site["option_id"]]
        row += [site["wards"][v] for v in services] + [site["beds"][v] for v in services]
        before = site["beds_before"] or {}
        row += [before.get(v, "") for v in services]
        row += ["true" if site["inpatient"] else "false", "true" if site["paired"] else "false"]
        site_rows.append(row)
    header = (["site_id", "name", "option_id"] + [f"wards_{v}" for v in services]
              + [f"beds_{v}" for v in services] + [f"beds_before_{v}" for v in services]
              + ["inpatient", "paired"])
    assignment = [[a["zone_id"], a["site_id"], a["service"], a["share"]]
                  for a in doc["assignment"]]
    return {
        f"{name}.json": json.dumps(doc, sort_keys=True, indent=1) + "\n",
        f"{name}_sites.csv": csv_text(header, site_rows),
        f"{name}_assignment.csv": csv_text(["zone_id", "site_id", "service", "share"], assignment),
    }


def write_run(out_dir: Path, prepared: Prepared, solutions: Mapping[str, Solution]) -> list[Path]:
    """Write every solution's files and the manifest, each atomically; return the paths."""
    files: dict[str, str] = {}
    for name, sol in solutions.items():
        files.update(run_files(prepared, name, sol))
    files["manifest.json"] = json.dumps(manifest(prepared, solutions), sort_keys=True,
                                        indent=1) + "\n"
    paths = []
    for fname, text in files.items():
        path = Path(out_dir) / fname
        write_atomically(path, text)
        paths.append(path)
    return paths

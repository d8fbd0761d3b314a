"""National and regional runs: region -> throughput model -> optimum and heuristics -> files.

The orchestration of ``siteopt national`` (the LLR equivalent is :mod:`siteopt.runs.pipeline`):

* :func:`settings_from_spec` -- the spec's ``[throughput]`` defaults, with command-line overrides;
* :func:`load` -- read the spec and select the region (named, by zone prefix or site group);
* :func:`run` -- optimise, run the comparators (keep every current site, greedy drop and,
  optionally, each site group planned alone: :func:`solve_by_group`), measure each
  (:func:`measures`);
* :func:`write_outputs` -- ``summary.json``, ``comparison.csv``, ``sites.csv``, ``zones.csv``.

Every figure is computed from the assignment and the region's raw arrays here, and recomputed
independently from the raw CSV files in the tests.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from siteopt.errors import DataError, InfeasibleError, Problem, SiteoptError
from siteopt.fileio import csv_text, write_atomically
from siteopt.national.model import ThroughputSettings
from siteopt.national.region import Region, RegionFilter, RegionSpec, load_region, read_spec, select
from siteopt.national.solve import (
    ThroughputOptions,
    ThroughputSolution,
    heuristic_solutions,
    optimise,
)
from siteopt.parallel import run_all
from siteopt.paths import NATIONAL_SPEC, REPO_DIR
from siteopt.progress import ProgressCallback, report
from siteopt.solver_core import STATUS_HEURISTIC

DEFAULT_SPEC = REPO_DIR / NATIONAL_SPEC
"""The checkout's national stroke-unit instance (issue 8); needs ``../shared/geodata/england``.
The CLI looks in the current folder first (:func:`siteopt.paths.default_national_spec`)."""

ACCESS_BANDS_MIN: tuple[float, ...] = (30.0, 45.0, 60.0)


def settings_from_spec(spec: RegionSpec, overrides: Mapping[str, Any]) -> ThroughputSettings:
    """Throughput settings: the spec's ``[throughput]`` values, then ``overrides`` (not None)."""
    known = {f.name for f in fields(ThroughputSettings)}
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, entry in spec.throughput.items():
        if key not in known:
            problems.append(Problem(str(spec.path), f"[throughput] {key} is not a setting; "
                                    f"known: {', '.join(sorted(known))}", field=key))
            continue
        value = entry.get("value") if isinstance(entry, dict) else entry
        if not isinstance(entry, dict) or "source" not in entry:
            problems.append(Problem(str(spec.path), f"[throughput] {key} needs "
                                    "{ value = ..., source = \"...\" }", field=key))
        values[key] = value
    if problems:
        raise DataError(problems)
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("force_open", "force_closed"):
        if key in values:
            values[key] = frozenset(values[key])
    try:
        return ThroughputSettings(**values)
    except TypeError as err:
        raise DataError([Problem(str(spec.path), f"bad throughput setting: {err}")]) from None


def region_of(spec: RegionSpec, region_name: str | None, zone_prefixes: Sequence[str] = (),
              site_groups: Sequence[str] = ()) -> Region:
    """Load the spec's data and select a named region, or prefixes/groups, or everything."""
    region = load_region(spec)
    if region_name is not None:
        if region_name not in spec.regions:
            raise DataError([Problem(str(spec.path), f"no region {region_name!r}; the spec has "
                                     f"{sorted(spec.regions) or 'none'}: add [regions."
                                     f"{region_name}] or use --zone-prefix")])
        return select(region, spec.regions[region_name], region_name)
    if zone_prefixes or site_groups:
        return select(region, RegionFilter(tuple(zone_prefixes), (), tuple(site_groups)),
                      "selection")
    return region


def current_sites(region: Region) -> np.ndarray:
    """Sites open today: those with a current throughput above 0 (every site if unknown)."""
    cur = region.current_per_site
    if np.all(np.isnan(cur)):
        return np.ones(region.n_sites, dtype=bool)
    return np.asarray(np.nan_to_num(cur) > 0)


def measures(region: Region, solution: ThroughputSolution,
             settings: ThroughputSettings) -> dict[str, Any]:
    """Access and throughput figures of a solution, from its assignment and the raw arrays."""
    d = region.demand
    total = float(d.sum())
    z, s, x = solution.zone, solution.site, solution.share
    served = d[z] * x
    t = region.travel_min[z, s]
    load = np.bincount(s, weights=served, minlength=region.n_sites)
    open_sites = solution.open_sites
    out: dict[str, Any] = {
        "open_sites": int(open_sites.sum()),
        "demand_total": total,
        "demand_served": float(served.sum()),
        "mean_travel_min": float((served * t).sum() / total),
        "max_travel_min": float(t[x > 1e-6].max()) if len(t) else math.nan,
    }
    for band in ACCESS_BANDS_MIN:
        out[f"share_within_{band:g}_min"] = float(served[t <= band].sum() / total)
    loads = load[open_sites]
    out["per_site_min"] = float(loads.min()) if loads.size else math.nan
    out["per_site_median"] = float(np.median(loads)) if loads.size else math.nan
    out["per_site_max"] = float(loads.max()) if loads.size else math.nan
    lo, hi = settings.min_per_site, settings.max_per_site
    out["sites_below_min"] = int((loads < lo - 1e-6).sum()) if lo else 0
    out["sites_above_max"] = int((loads > hi + 1e-6).sum()) if hi is not None else 0
    out["zones_split"] = int((np.bincount(z, minlength=region.n_zones) > 1).sum())
    return out


@dataclass(frozen=True)
class NationalRun:
    """Everything ``siteopt national`` reports."""

    region: Region
    settings: ThroughputSettings
    options: ThroughputOptions
    solutions: tuple[ThroughputSolution, ...]
    load_s: float

    def measures(self) -> list[dict[str, Any]]:
        return [measures(self.region, sol, self.settings) for sol in self.solutions]


def run(region: Region, settings: ThroughputSettings,
        options: ThroughputOptions, load_s: float = 0.0, *, by_region: bool = False,
        workers: int = 1, scheduler: str | None = None,
        progress: ProgressCallback | None = None) -> NationalRun:
    """Optimise, then run the comparators, on ``region``.

    With ``by_region``, the decomposition by site group (:func:`solve_by_group`) runs first,
    in parallel (``workers`` processes or a Dask ``scheduler``); it is reported as a comparator
    ("regions separately") and its open sites start the national MILP. ``progress``
    (:data:`siteopt.progress.ProgressCallback`) hears each stage, and each region planned alone.
    """
    current = current_sites(region)
    parts: tuple[ThroughputSolution, ...] = ()
    warm = None
    if by_region:
        decomposed = solve_by_group(region, settings, options, workers=workers,
                                    scheduler=scheduler, progress=progress)
        parts = (decomposed,)
        warm = decomposed.open_sites
    report(progress, f"optimising {region.n_zones:,} zones x {region.n_sites} sites (column "
                     f"generation, then the MILP; budget {options.time_limit_s:g} s)")
    best = optimise(region.travel_min, region.demand, region.site_ids, region.zone_ids,
                    settings, options, warm_open=warm)
    report(progress, "comparators: keep every current unit, greedy drop")
    others = heuristic_solutions(region.travel_min, region.demand, region.site_ids, settings,
                                 current, options)
    return NationalRun(region=region, settings=settings, options=options,
                       solutions=(best, *others, *parts), load_s=load_s)


# -- decomposition by region -------------------------------------------------------------------
@dataclass(frozen=True)
class _Part:
    """One group's closed sub-problem (picklable, for process pools and Dask)."""

    group: str
    zone_index: np.ndarray
    site_index: np.ndarray
    travel_min: np.ndarray
    demand: np.ndarray
    site_ids: tuple[str, ...]
    zone_ids: tuple[str, ...]
    settings: ThroughputSettings
    options: ThroughputOptions


def _solve_part(part: _Part) -> dict[str, Any]:
    """Solve one group; errors come back as text (a worker must not die on a bad region)."""
    t0 = time.perf_counter()
    try:
        sol = optimise(part.travel_min, part.demand, part.site_ids, part.zone_ids, part.settings,
                       part.options)
    except SiteoptError as err:
        return {"group": part.group, "error": str(err), "seconds": time.perf_counter() - t0}
    return {"group": part.group, "open": sol.open_sites, "zone": part.zone_index[sol.zone],
            "site": part.site_index[sol.site], "share": sol.share, "status": sol.status,
            "gap": sol.gap, "lower_bound": sol.lower_bound,
            "seconds": time.perf_counter() - t0}


def group_partition(region: Region) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Group -> (zone indices, site indices): each site in its group, each zone in the group of
    its nearest site."""
    groups = np.asarray(region.site_groups, dtype=object)
    nearest = np.argmin(region.travel_min, axis=1)
    zone_group = groups[nearest]
    return {g: (np.flatnonzero(zone_group == g), np.flatnonzero(groups == g))
            for g in sorted(set(region.site_groups))}


def solve_by_group(region: Region, settings: ThroughputSettings, options: ThroughputOptions, *,
                   workers: int = 1, scheduler: str | None = None,
                   progress: ProgressCallback | None = None) -> ThroughputSolution:
    """Decomposition by region: each site group (e.g. Strategic Clinical Network) planned alone.

    Zones go to the group of their nearest site; each group's sub-problem (its zones, its
    sites, the same per-site limits) is solved independently, in parallel. The union is a
    feasible national solution (every zone served, every open site within its limits) that
    ignores cross-border flows; its value against the national optimum is the price of planning
    region by region. ``progress`` counts the regions as they finish.

    Raises
    ------
    DataError
        If a national site limit binds (it cannot be split between regions without choosing
        how), or the sites have no groups.
    InfeasibleError
        If a group's sub-problem is infeasible (named, with the reason).
    """
    if len(set(region.site_groups)) < 2:
        raise DataError([Problem("sites", "the decomposition by region needs a group column "
                                 "with at least two groups (sites.group_column in the spec)")])
    if settings.max_sites is not None and settings.max_sites < region.n_sites:
        raise DataError([Problem("settings", f"a national limit of {settings.max_sites} sites "
                                 f"binds ({region.n_sites} candidates) and cannot be split "
                                 "between regions: drop --by-region or raise --max-sites",
                                 field="max_sites")])
    t0 = time.perf_counter()
    parts = []
    for group, (zi, si) in group_partition(region).items():
        ids = tuple(region.site_ids[j] for j in si)
        sub = replace(settings, max_sites=None, min_sites=None,
                      force_open=frozenset(settings.force_open & set(ids)),
                      force_closed=frozenset(settings.force_closed & set(ids)))
        parts.append(_Part(group=group, zone_index=zi, site_index=si,
                           travel_min=np.ascontiguousarray(region.travel_min[np.ix_(zi, si)]),
                           demand=region.demand[zi], site_ids=ids,
                           zone_ids=tuple(region.zone_ids[i] for i in zi), settings=sub,
                           options=options))
    stage = f"planning each of {len(parts)} regions alone"
    report(progress, stage, 0, len(parts))
    finished: list[str] = []

    def tick(result: dict[str, Any]) -> None:
        finished.append(str(result["group"]))
        report(progress, stage, len(finished), len(parts))

    results = run_all(_solve_part, parts, workers=workers, scheduler=scheduler, on_result=tick)
    errors = [f"region {r['group']}: {r['error']}" for r in results if "error" in r]
    if errors:
        raise InfeasibleError("; ".join(sorted(errors)))
    open_sites = np.zeros(region.n_sites, dtype=bool)
    for r, part in ((r, next(p for p in parts if p.group == r["group"])) for r in results):
        open_sites[part.site_index[r["open"]]] = True
    z = np.concatenate([r["zone"] for r in results])
    s = np.concatenate([r["site"] for r in results])
    x = np.concatenate([r["share"] for r in results])
    travel_part = float((region.demand[z] * region.travel_min[z, s] * x).sum())
    worst = max(r["gap"] or 0.0 for r in results)
    slowest = max(r["seconds"] for r in results)
    return ThroughputSolution(
        method="by region", open_sites=open_sites, zone=z, site=s, share=x,
        status=STATUS_HEURISTIC, objective=travel_part,
        mean_travel_min=travel_part / float(region.demand.sum()),
        timings_s={"total": time.perf_counter() - t0, "slowest_region": slowest},
        sizes={"regions": len(parts)},
        notes=(f"{len(parts)} regions solved separately (largest regional gap {worst:.2%}); "
               "cross-border flows are left out",),
    )


def load(spec_path: Path, region_name: str | None, zone_prefixes: Sequence[str] = (),
         site_groups: Sequence[str] = ()) -> tuple[RegionSpec, Region, float]:
    """Read the spec and the region; returns the seconds it took."""
    t0 = time.perf_counter()
    spec = read_spec(spec_path)
    region = region_of(spec, region_name, zone_prefixes, site_groups)
    return spec, region, time.perf_counter() - t0


# -- output files ------------------------------------------------------------------------------
def _r(x: float, nd: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


COMPARISON_COLUMNS = (
    "method", "status", "gap", "open_sites", "mean_travel_min", "max_travel_min",
    "share_within_30_min", "share_within_45_min", "share_within_60_min", "per_site_min",
    "per_site_median", "per_site_max", "sites_below_min", "sites_above_max", "zones_split",
)


def output_files(result: NationalRun) -> dict[str, str]:
    """File name -> text of every output file."""
    reg = result.region
    ms = result.measures()
    comparison = []
    for sol, m in zip(result.solutions, ms, strict=True):
        values = {**m, "method": sol.method, "status": sol.status,
                  "gap": "" if sol.gap is None else _r(sol.gap, 6)}
        comparison.append([values[c] if isinstance(values[c], str | None) else _r(values[c], 4)
                           for c in COMPARISON_COLUMNS])
    loads = [np.bincount(sol.site, weights=reg.demand[sol.zone] * sol.share,
                         minlength=reg.n_sites) for sol in result.solutions]
    methods = [sol.method.replace(" ", "_") for sol in result.solutions]
    site_rows = []
    for j, sid in enumerate(reg.site_ids):
        row: list[Any] = [sid, reg.site_names[j], reg.site_groups[j],
                          _r(reg.current_per_site[j], 1)]
        for sol, load in zip(result.solutions, loads, strict=True):
            row += [int(sol.open_sites[j]), _r(load[j], 2)]
        site_rows.append(row)
    site_header = ["site_id", "name", "group", "current_per_year"]
    for method in methods:
        site_header += [f"{method}_open", f"{method}_per_year"]
    best = result.solutions[0]
    order = np.lexsort((best.site, best.zone))
    zone_rows = [[reg.zone_ids[best.zone[i]], reg.site_ids[best.site[i]],
                  _r(best.share[i], 6), _r(reg.travel_min[best.zone[i], best.site[i]], 2)]
                 for i in order]
    summary = {
        "region": reg.name,
        "demand_label": reg.demand_label,
        "zones": reg.n_zones,
        "sites": reg.n_sites,
        "notes": list(reg.notes),
        "settings": {k: (sorted(v) if isinstance(v, frozenset) else v)
                     for k, v in asdict(result.settings).items()},
        "options": asdict(result.options),
        "load_s": _r(result.load_s, 2),
        "results": [
            {
                "method": sol.method,
                "status": sol.status,
                "gap": _r(sol.gap, 6) if sol.gap is not None else None,
                "highs_gap_restricted": _r(sol.highs_gap, 6) if sol.highs_gap is not None
                else None,
                "lower_bound_mean_travel_min": None if sol.lower_bound is None
                or result.settings.objective != "access"
                else _r(sol.lower_bound / float(reg.demand.sum()), 4),
                "measures": {k: _r(v, 4) if isinstance(v, float) else v for k, v in m.items()},
                "timings_s": {k: _r(v, 2) for k, v in sol.timings_s.items()},
                "sizes": sol.sizes,
                "notes": list(sol.notes),
            }
            for sol, m in zip(result.solutions, ms, strict=True)
        ],
    }
    return {
        "summary.json": json.dumps(summary, indent=2, sort_keys=False) + "\n",
        "comparison.csv": csv_text(COMPARISON_COLUMNS, comparison),
        "sites.csv": csv_text(site_header, site_rows),
        "zones.csv": csv_text(["zone_id", "site_id", "share", "travel_min"], zone_rows),
    }


def write_outputs(out_dir: Path, result: NationalRun) -> list[Path]:
    """Write every output file, each atomically with the umask's mode (all computed first).

    The CSV files are written by :func:`siteopt.fileio.csv_text`, so text from the spec's
    tables (site names, groups, ids) is safe in a spreadsheet. The command writes into a
    :class:`siteopt.outdir.RunFolder`'s temporary folder, so a run's files are one unit.
    """
    files = output_files(result)
    written = []
    for name, text in files.items():
        path = out_dir / name
        write_atomically(path, text)
        written.append(path)
    return written


def table(result: NationalRun) -> str:
    """A plain-text comparison for the terminal."""
    reg = result.region
    lines = [f"{reg.name}: {reg.n_zones:,} zones, {reg.n_sites} sites, "
             f"{reg.demand.sum():,.0f} {reg.demand_label}"]
    lines += [f"  data: {n}" for n in reg.notes]
    head = (f"{'method':<13} {'status':<22} {'sites':>5} {'mean':>6} {'max':>6} "
            f"{'<=30':>6} {'<=45':>6} {'<=60':>6} {'min/site':>9} {'max/site':>9} "
            f"{'<min':>4} {'>max':>4}")
    lines.append(head)
    for sol, m in zip(result.solutions, result.measures(), strict=True):
        lines.append(
            f"{sol.method:<13} {sol.status:<22} {m['open_sites']:>5} "
            f"{m['mean_travel_min']:>6.2f} {m['max_travel_min']:>6.1f} "
            f"{m['share_within_30_min']:>6.1%} {m['share_within_45_min']:>6.1%} "
            f"{m['share_within_60_min']:>6.1%} {m['per_site_min']:>9,.0f} "
            f"{m['per_site_max']:>9,.0f} {m['sites_below_min']:>4} {m['sites_above_max']:>4}")
    best = result.solutions[0]
    tm = best.timings_s
    n_pairs, n_allowed = best.sizes.get("pairs", 0), best.sizes.get("allowed_pairs", 0)
    coverage = ("every allowed pair in the model" if n_pairs >= n_allowed else
                f"{n_pairs:,} of {n_allowed:,} allowed pairs in the model, the rest priced "
                "with the LP duals")
    lines.append(f"optimised: {tm.get('total', 0):.1f} s (model build {tm.get('build', 0):.1f} s, "
                 f"LP relaxation {tm.get('lp', 0):.1f} s, MILP {tm.get('mip', 0):.1f} s); "
                 f"{coverage}")
    for sol in result.solutions:
        lines += [f"  note ({sol.method}): {n}" for n in sol.notes]
    return "\n".join(lines)


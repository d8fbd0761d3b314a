"""``siteopt national``: which units keep a service, on an external national or regional matrix."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import click

from siteopt.cli.console import solver_chatter_to_stderr
from siteopt.cli.output import run_folder
from siteopt.cli.progress import StageProgress, quiet_option
from siteopt.errors import DataError, Problem
from siteopt.national.region import read_spec
from siteopt.national.run import (
    output_files,
    region_of,
    run,
    settings_from_spec,
    table,
    write_outputs,
)
from siteopt.national.solve import ThroughputOptions
from siteopt.paths import NATIONAL_SPEC, default_national_spec


@click.command()
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, show_default="regions/england_stroke.toml of this folder or the "
                                         "checkout",
              help="Region spec (TOML): the travel matrix, demand and site tables, named "
                   "regions and the throughput defaults.")
@click.option("--region", "region_name", default=None, metavar="NAME",
              help="A named region of the spec (e.g. east_midlands); default: everything.")
@click.option("--zone-prefix", "zone_prefixes", multiple=True, metavar="AREA",
              help="Keep zones whose id starts with 'AREA ' (repeatable), e.g. 'Leicester'.")
@click.option("--site-group", "site_groups", multiple=True, metavar="GROUP",
              help="Keep sites of this group (repeatable), e.g. 'East Midlands SCN'.")
@click.option("--objective", type=click.Choice(["access", "units", "weighted"]), default=None,
              help="access: least mean drive; units: fewest sites, then least drive; "
                   "weighted: mean drive + --minutes-per-site x sites.")
@click.option("--minutes-per-site", type=click.FloatRange(min=0), default=None,
              help="weighted objective: minutes of mean drive worth one site.")
@click.option("--min-per-site", type=click.FloatRange(min=0), default=None,
              help="Minimum throughput of an open site a year (spec default: 600).")
@click.option("--max-per-site", type=click.FloatRange(min=0), default=None,
              help="Maximum throughput of an open site a year (spec default: 2000).")
@click.option("--min-sites", type=click.IntRange(min=0), default=None)
@click.option("--max-sites", type=click.IntRange(min=0), default=None,
              help="At most this many open sites.")
@click.option("--max-travel-min", type=click.FloatRange(min=0), default=None,
              help="Nobody served further than this drive.")
@click.option("--within-min", "within_travel_min", type=click.FloatRange(min=0), default=None,
              help="With --min-share: at least that share of demand within this drive.")
@click.option("--min-share", "min_share_within", type=click.FloatRange(0, 1), default=None)
@click.option("--force-open", multiple=True, metavar="SITE_ID", help="Repeatable.")
@click.option("--force-closed", multiple=True, metavar="SITE_ID", help="Repeatable.")
@click.option("--k-nearest", type=click.IntRange(min=1), default=None,
              help="Pairs per zone in the first model (the rest are priced; exactness kept).")
@click.option("--time-limit", "time_limit_s", type=click.FloatRange(min=1), default=300.0,
              show_default=True, help="Budget for the whole optimisation, seconds.")
@click.option("--gap", "gap_rel", type=click.FloatRange(0, 1), default=0.002, show_default=True,
              help="Stop once the solution is within this relative gap of the lower bound (valid "
                   "for the full problem).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Output folder (default outputs/national/<region> of this "
                                 "folder).")
@click.option("--by-region", is_flag=True,
              help="Also plan each site group (region) alone, in parallel, as a comparator and "
                   "as the MILP's warm start.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Local processes for --by-region.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler for --by-region (e.g. tcp://host:8786).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@quiet_option
def national(spec_path: Path | None, region_name: str | None, zone_prefixes: Sequence[str],
             site_groups: Sequence[str], objective: str | None, minutes_per_site: float | None,
             min_per_site: float | None, max_per_site: float | None, min_sites: int | None,
             max_sites: int | None, max_travel_min: float | None,
             within_travel_min: float | None, min_share_within: float | None,
             force_open: Sequence[str], force_closed: Sequence[str], k_nearest: int | None,
             time_limit_s: float, gap_rel: float, out_dir: Path | None, by_region: bool,
             workers: int, scheduler: str | None, fmt: str, quiet: bool) -> None:
    """Which units keep an inpatient service, each within a throughput range, nationally.

    Reads an external travel matrix with demand and site tables (no road graph), optimises
    with HiGHS (sparse assignment with column generation, so the gap is proven against the
    full problem), and compares with keeping every current unit and with greedy drop. Writes
    summary.json, comparison.csv, sites.csv and zones.csv. Shows each stage on stderr (on a
    terminal, unless --quiet).

    \b
    Examples:
      siteopt national --region east_midlands
      siteopt national                          # all 34,752 LSOAs x 125 units
      siteopt national --max-sites 90 --max-travel-min 60
      siteopt national --by-region --workers 2  # also each region planned alone
    """
    overrides = {
        "objective": objective, "minutes_per_site": minutes_per_site,
        "min_per_site": min_per_site, "max_per_site": max_per_site, "min_sites": min_sites,
        "max_sites": max_sites, "max_travel_min": max_travel_min,
        "within_travel_min": within_travel_min, "min_share_within": min_share_within,
        "force_open": tuple(force_open) or None, "force_closed": tuple(force_closed) or None,
        "k_nearest": k_nearest,
    }
    if spec_path is None:
        spec_path = default_national_spec()
    if spec_path is None:
        raise DataError([Problem(str(NATIONAL_SPEC), "not found in this folder (nor beside a "
                                 "siteopt checkout); pass --spec FILE")])
    t0 = time.perf_counter()
    spec = read_spec(spec_path)
    target = out_dir or Path.cwd() / "outputs" / "national" / (
        region_name or ("selection" if zone_prefixes or site_groups else "all"))
    inputs = {"--spec": spec.path, "the spec's travel matrix": spec.matrix_path,
              "the spec's zones table": spec.zones_path,
              "the spec's sites table": spec.sites_path}
    # the output folder is checked and locked before the (large) tables are read
    with StageProgress("national", quiet=quiet) as progress, \
            run_folder(target, inputs) as out:
        progress("reading the travel matrix, zones and sites")
        region = region_of(spec, region_name, zone_prefixes, site_groups)
        load_s = time.perf_counter() - t0
        settings = settings_from_spec(spec, overrides)
        options = ThroughputOptions(time_limit_s=time_limit_s, gap_rel=gap_rel)
        with solver_chatter_to_stderr():
            result = run(region, settings, options, load_s, by_region=by_region,
                         workers=workers, scheduler=scheduler, progress=progress)
        progress("writing summary.json, comparison.csv, sites.csv and zones.csv")
        files = output_files(result)  # computed before anything is written
        written = write_outputs(out.staging, result)
        out.commit()
    if fmt == "json":
        click.echo(files["summary.json"], nl=False)
    else:
        click.echo(table(result))
        click.echo(f"wrote {len(written)} files to {target}")

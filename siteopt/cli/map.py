"""``siteopt map``: the consultation maps of one option (web page or print)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from siteopt.cli.console import solver_chatter_to_stderr
from siteopt.cli.options import cache_option, geodata_option, scenario_options
from siteopt.cli.output import run_folder, scenario_inputs
from siteopt.errors import DataError, Problem
from siteopt.runs.pipeline import Prepared, evaluate_configuration, optimise_scenario, prepare
from siteopt.wards.results import Solution

DEFAULT_MAPS_DIR = Path("outputs") / "maps"
"""Where ``siteopt map`` writes by default: under the current folder's ``outputs/``, beside the
other commands' outputs (and git-ignored in a checkout)."""

OPTIMAL = "optimal"
"""The option name that means "optimise the scenario" rather than a configuration of wards.csv."""


def solve_named(prepared: Prepared, name: str) -> Solution:
    """``optimal`` -> the scenario's optimum; any other name -> that configuration, evaluated."""
    if name == OPTIMAL:
        return optimise_scenario(prepared)
    if name not in prepared.catalogue.configurations:
        known = ", ".join([OPTIMAL, *prepared.catalogue.configurations])
        raise DataError([Problem("--option", f"no option '{name}'; known: {known}",
                                 field="option")])
    return evaluate_configuration(prepared, name)


@click.command("map")
@geodata_option
@cache_option
@scenario_options
@click.option("--option", "option", required=True, metavar="NAME",
              help="A configuration of wards.csv (e.g. status_quo, stp_2016) or 'optimal'.")
@click.option("--compare", "compare", default=None, metavar="NAME",
              help="Also draw this option side by side with --option.")
@click.option("--baseline", default="status_quo", show_default=True, metavar="NAME",
              help="What the marks on hospitals and the change map compare against.")
@click.option("--format", "fmt", type=click.Choice(["html", "png", "pdf"]), default="html",
              show_default=True, help="Interactive web page, or print map (PNG 300 dpi / PDF).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_MAPS_DIR, show_default=True,
              help="Folder to write the maps to (under outputs/, which git ignores).")
@click.option("--tiles", is_flag=True,
              help="Open the web maps on the OpenStreetMap background (needs internet); "
                   "default: a plain background that works offline.")
def map_command(geodata_dir: Path, scenario_path: Path | None, overrides: Sequence[str],
                travel_csv: Path | None, option: str, compare: str | None, baseline: str,
                fmt: str, out_dir: Path, cache_dir: Path | None, tiles: bool) -> None:
    """Draw the maps of an option for consultation.

    Writes the option's map (hospitals with their beds before and after, neighbourhoods shaded
    by the 65+ mean drive to the wards they use as planned, catchments, local authorities), its
    change map
    against the baseline (unless it is the baseline), and a side-by-side page: with --compare,
    of the two options; otherwise of the baseline and the option.
    Web pages are self-contained and work offline; print maps need no web tiles.

    \b
    Examples:
      siteopt map --option stp_2016
      siteopt map --option optimal --compare stp_2016
      siteopt map --option stp_2016 --format pdf --out outputs/maps/print
    """
    from siteopt.outputs.maps import write_maps
    from siteopt.outputs.print_maps import write_static_maps

    names = list(dict.fromkeys([option] + ([compare] if compare else [])))
    # the output folder is checked and locked before any work
    with run_folder(out_dir, scenario_inputs(geodata_dir, scenario_path, travel_csv)) as run, \
            solver_chatter_to_stderr():
        prepared = prepare(geodata_dir, scenario_path, overrides, travel_csv=travel_csv,
                           cache_dir=cache_dir)
        run.add_inputs(scenario_inputs(geodata_dir, None, None, prepared.scenario.files))
        solutions = {n: solve_named(prepared, n) for n in names}
        solutions_all = dict(solutions)
        if baseline not in solutions_all:
            solutions_all[baseline] = solve_named(prepared, baseline)
        if fmt == "html":
            paths = write_maps(prepared, solutions_all, run.staging, baseline=baseline,
                               only=names, compare=compare, tiles=tiles)
        else:
            paths = write_static_maps(prepared, solutions_all, run.staging, baseline=baseline,
                                      formats=(fmt,), only=names, compare=compare)
        run.commit()
    for path in paths:
        click.echo(str(run.final(path)))

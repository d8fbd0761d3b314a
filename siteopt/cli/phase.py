"""``siteopt phase``: the year-by-year programme the capital allows for a configuration."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path

import click

from siteopt.cli.console import solver_chatter_to_stderr
from siteopt.cli.options import cache_option, geodata_option, scenario_options, solver_overrides
from siteopt.cli.output import run_folder, scenario_inputs
from siteopt.errors import DataError, Problem


@click.command()
@geodata_option
@cache_option
@scenario_options
@click.option("--option", "option", default="optimal", show_default=True, metavar="NAME",
              help="The target configuration: a name of wards.csv (stp_2016, ...) or 'optimal' "
                   "(the scenario's optimum, solved first).")
@click.option("--options", "options_csv", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Your own options (CSV: option, site_id, service, wards, "
                                 "beds, as for siteopt appraise); --option names one of them.")
@click.option("--choose-end-state", "choose_end_state", is_flag=True, default=False,
              help="Choose the end state with its phasing (the ward model's options and limits "
                   "for the planning year) instead of phasing --option.")
@click.option("--objective", type=click.Choice(["npc", "completion", "access"]), default=None,
              help="Least net present cost, earliest completion, or least 65+ drive over the "
                   "years (overrides phasing.objective).")
@click.option("--solver", type=click.Choice(["highs", "cbc"]), default=None,
              help="MILP solver (default highs).")
@click.option("--time-limit", "time_limit_s", type=click.FloatRange(min=0.01), default=None,
              help="Time limit per solve stage in seconds; a stopped solve reports its gap.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Table for people, JSON for machines.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Also write phasing.csv, .json, .html and the timeline chart "
                                 "(PNG, PDF) here.")
def phase(geodata_dir: Path, scenario_path: Path | None, overrides: Sequence[str],
          travel_csv: Path | None, option: str, options_csv: Path | None,
          choose_end_state: bool, objective: str | None, solver: str | None,
          time_limit_s: float | None, fmt: str, out_dir: Path | None,
          cache_dir: Path | None) -> None:
    """Phase a configuration year by year within the annual capital envelopes.

    Chooses the year each capital scheme starts and each site's wards move from today's to the
    target's, so that each year's capital (capex spread over the build years, less the receipts
    realised that year on the net basis) stays within the scenario's [phasing] envelope; beds
    move only into finished wards, closures follow the ward that takes their beds, and the bed
    shortfall against each year's need is kept least. An envelope that allows no programme is
    explained with the amount each year is short.

    \b
    Examples:
      siteopt phase --option stp_2016 --scenario scenarios/phasing_stp_2016.toml
      siteopt phase --set 'phasing.capital_limit_other_years_gbp=4e6' --objective completion
      siteopt phase --option stp_2016 --format json --out outputs/phase1
      siteopt phase --options my_options.csv --option my_plan
      siteopt phase --choose-end-state --set phasing.capital_limit_other_years_gbp=4e6
    """
    from siteopt.appraisal.longlist import read_user_options
    from siteopt.appraisal.phasing import phase_configuration
    from siteopt.outputs.phasing import plan_json, summary_lines, table_lines, write_phasing_files
    from siteopt.runs.pipeline import prepare

    extra = list(overrides)
    if choose_end_state:
        extra.append("phasing.choose_end_state=true")
    if objective:
        extra.append(f"phasing.objective={json.dumps(objective)}")
    extra += solver_overrides(solver, time_limit_s)
    with contextlib.ExitStack() as stack:
        inputs = {**scenario_inputs(geodata_dir, scenario_path, travel_csv),
                  "--options": options_csv}
        run = (stack.enter_context(run_folder(out_dir, inputs)) if out_dir is not None
               else None)
        with solver_chatter_to_stderr():
            prepared = prepare(geodata_dir, scenario_path, extra, travel_csv=travel_csv,
                               cache_dir=cache_dir)
            if run is not None:
                run.add_inputs(scenario_inputs(geodata_dir, None, None, prepared.scenario.files))
            user = read_user_options(options_csv, prepared) if options_csv is not None else {}
            if options_csv is not None and option not in user:
                raise DataError([Problem(options_csv.name, f"has no option '{option}'; it has "
                                         f"{', '.join(sorted(user))}", field="option")])
            plan = phase_configuration(prepared, user.get(option, option), label=option)
        if run is not None:
            write_phasing_files(plan, run.staging)
            run.commit()
    if fmt == "json":
        click.echo(plan_json(plan), nl=False)
        return
    for line in [*summary_lines(plan), "", *table_lines(plan)]:
        click.echo(line)
    if plan.stp_comparison:
        click.echo("")
        click.echo("against the 2016 plan's order:")
        for line in plan.stp_comparison:
            click.echo(f"  {line}")
    if plan.years:
        click.echo("independent check: " + ("passed" if not plan.violations
                                           else "; ".join(plan.violations)))
    if out_dir is not None:
        click.echo(f"files written to {out_dir}")

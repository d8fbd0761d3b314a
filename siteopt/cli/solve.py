"""``siteopt solve``: choose which sites keep inpatient wards, and how many."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from siteopt.cli.console import solver_chatter_to_stderr
from siteopt.cli.options import cache_option, geodata_option, scenario_options, solver_overrides
from siteopt.cli.output import run_folder, scenario_inputs
from siteopt.runs.pipeline import (
    Prepared,
    evaluate_configuration,
    optimise_scenario,
    prepare,
    write_run,
)
from siteopt.runs.scenario import scenario_label
from siteopt.wards.instance import Instance
from siteopt.wards.results import Solution, solution_to_dict, totals


@click.command()
@geodata_option
@cache_option
@scenario_options
@click.option("--objective", type=click.Choice(["access", "cost", "weighted"]), default=None,
              help="What to minimise (overrides the scenario's model.objective).")
@click.option("--solver", type=click.Choice(["highs", "cbc"]), default=None,
              help="MILP solver (default highs).")
@click.option("--time-limit", "time_limit_s", type=click.FloatRange(min=0.01), default=None,
              help="Solver time limit in seconds; a stopped solve reports its gap.")
@click.option("--evaluate", "configuration", default=None, metavar="NAME",
              help="Evaluate a named configuration of wards.csv (e.g. status_quo, stp_2016) "
                   "instead of optimising.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Table for people, JSON for machines.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Also write the result files and a run manifest here.")
def solve(geodata_dir: Path, scenario_path: Path | None, overrides: Sequence[str],
          travel_csv: Path | None, objective: str | None, solver: str | None,
          time_limit_s: float | None, configuration: str | None, fmt: str,
          out_dir: Path | None, cache_dir: Path | None) -> None:
    """Choose which sites keep inpatient wards and how many, within the scenario's limits.

    Minimises the mean drive time of people aged 65+ (objective access), the running cost plus
    annualised capital (cost), or both (weighted), subject to bed need, capital, staffing,
    maximum drive time and locks. A solve stopped by its time limit says "feasible (gap x%)",
    never "optimal". Every result is re-checked by an independent verifier.

    \b
    Examples:
      siteopt solve
      siteopt solve --set model.capital_limit_gbp=10e6 --objective cost
      siteopt solve --scenario scenarios/capital_10m.toml --format json --out outputs/run1
      siteopt solve --evaluate stp_2016
    """
    extra = list(overrides)
    if objective:
        extra.append(f"model.objective={json.dumps(objective)}")
    extra += solver_overrides(solver, time_limit_s)
    with contextlib.ExitStack() as stack:
        # the output folder is checked and locked before any work
        run = (stack.enter_context(run_folder(out_dir, scenario_inputs(
            geodata_dir, scenario_path, travel_csv))) if out_dir is not None else None)
        with solver_chatter_to_stderr():
            prepared = prepare(geodata_dir, scenario_path, extra, travel_csv=travel_csv,
                               cache_dir=cache_dir)
            if run is not None:
                run.add_inputs(scenario_inputs(geodata_dir, None, None, prepared.scenario.files))
            if configuration:
                solution = evaluate_configuration(prepared, configuration)
                name = configuration
            else:
                solution = optimise_scenario(prepared)
                name = "solution"
        if run is not None:
            write_run(run.staging, prepared, {name: solution})
            run.commit()
    instance = prepared.evaluation_instance if solution.evaluated else prepared.instance
    if fmt == "json":
        click.echo(json.dumps(solution_to_dict(instance, solution), sort_keys=True, indent=1))
    else:
        for line in table(prepared, instance, solution):
            click.echo(line)
        if out_dir is not None:
            click.echo(f"files written to {out_dir}")


def _gbp_m(x: float) -> str:
    return f"£{x / 1e6:.2f}m"


def _beds_text(beds: dict[str, Any], services: Sequence[str]) -> str:
    parts = [f"{v} {int(beds.get(v, 0))}" for v in services if int(beds.get(v, 0)) > 0]
    return ", ".join(parts) if parts else "no beds"


def table(prepared: Prepared, instance: Instance, solution: Solution) -> list[str]:
    """The human-readable summary of a solution."""
    services = list(instance.services)
    doc = solution_to_dict(instance, solution)
    today_choice = prepared.catalogue.configurations.get("status_quo", {})
    eval_sites = {s.site_id: s for s in prepared.evaluation_instance.sites}
    s = prepared.scenario
    lines = [
        f"siteopt: {solution.status_text} ({solution.solver}, "
        f"{'evaluated' if solution.evaluated else 'objective ' + s.model.objective}); "
        f"scenario {scenario_label(s)}, planning year {prepared.demand.planning_year}",
        "bed need: " + ", ".join(f"{v} {b:.1f}" for v, b in prepared.demand.total_beds().items())
        + f" beds (at {prepared.demand.target_occupancy:.0%} occupancy)",
        "",
        f"{'site':<42} {'today':<22} {'after':<22} wards",
    ]
    closed, opened = [], []
    for site in doc["sites"]:
        today_opt = (eval_sites[site["site_id"]].option(today_choice[site["site_id"]])
                     if site["site_id"] in today_choice else None)
        today = _beds_text(dict(today_opt.beds), services) if today_opt else "-"
        after = _beds_text(site["beds"], services)
        n_wards = sum(site["wards"].values())
        kind = "paired" if site["paired"] else ("isolated" if n_wards == 1 else "")
        lines.append(f"{site['name'][:42]:<42} {today:<22} {after:<22} {kind}")
        if today_opt is not None and today_opt.inpatient and not site["inpatient"]:
            closed.append(site["name"])
        if today_opt is not None and not today_opt.inpatient and site["inpatient"]:
            opened.append(site["name"])
    t = totals(instance, solution.choice)
    today_sites = sum(1 for sid, oid in today_choice.items()
                      if eval_sites[sid].option(oid).inpatient)
    acc = doc["access"]
    lines += [
        "",
        f"sites with beds: {today_sites} today -> {t['sites_with_beds']}"
        + (f"; beds close at: {', '.join(closed)}" if closed else "")
        + (f"; beds open at: {', '.join(opened)}" if opened else ""),
        "beds: " + ", ".join(f"{v} {t['beds'][v]}" for v in services)
        + f"; {t['paired_sites']} paired sites, {t['isolated_wards']} isolated wards",
        f"drive time for people aged 65+: mean {acc['mean_travel_min']:.1f} min, "
        f"max {acc['max_travel_min']:.1f} min, {acc['share_within_30_min']:.1%} within 30 min",
        f"capital: capex {_gbp_m(t['capex_gbp'])}, disposals {_gbp_m(t['disposals_gbp'])}, "
        f"net {_gbp_m(t['net_capital_gbp'])}"
        + (f" (limit {_gbp_m(s.model.capital_limit_gbp)} {s.model.capital_basis})"
           if s.model.capital_limit_gbp is not None else ""),
        f"staff: {t['staff_wte']:.1f} WTE, of whom {t['staff_wte_rn']:.1f} registered nurses; "
        f"revenue {_gbp_m(t['revenue_gbp_per_year'])} a year",
        "independent check: " + ("passed" if not solution.violations else
                                 "; ".join(solution.violations[:5])
                                 + (f" (+{len(solution.violations) - 5} more)"
                                    if len(solution.violations) > 5 else "")),
    ]
    return lines

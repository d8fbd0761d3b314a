"""``siteopt whatif`` and ``siteopt sweep``: what-if runs for business cases."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from siteopt.cli.console import solver_chatter_to_stderr
from siteopt.cli.options import cache_option, geodata_option
from siteopt.cli.output import run_folder
from siteopt.cli.progress import QUIET_HELP, StageProgress
from siteopt.runs.pipeline import versions
from siteopt.runs.sweep import load_spec, run_sweep, spec_as_dict, write_outputs
from siteopt.runs.whatif import compare_lines, outcome_dict, run_whatif

SWEEP_STATE_FILES = ("runs.jsonl",)
"""Files :func:`siteopt.runs.sweep.run_sweep` keeps up to date in the sweep's folder itself
(the journal of finished runs a rerun resumes from): carried from run to run, never stale."""


@click.command()
@geodata_option
@cache_option
@click.argument("scenarios", nargs=-1, required=True,
                type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--travel", "travel_csv", type=click.Path(dir_okay=False, exists=True,
                                                        path_type=Path), default=None,
              help="Precomputed drive times (CSV: zone_id, site_id, travel_min).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def whatif(geodata_dir: Path, scenarios: Sequence[Path], travel_csv: Path | None,
           fmt: str, cache_dir: Path | None) -> None:
    """Solve each scenario and show what changes against the first.

    Sites that gain or lose beds, beds, drive times, capital, revenue and staff.

    \b
    Example:
      siteopt whatif scenarios/base.toml scenarios/capital_10m.toml \\
          scenarios/home_first_plus_10.toml scenarios/no_extra_nurses.toml
    """
    with solver_chatter_to_stderr():
        outcomes = run_whatif(geodata_dir, scenarios, travel_csv, cache_dir=cache_dir)
    if fmt == "json":
        click.echo(json.dumps([outcome_dict(o) for o in outcomes], indent=1, sort_keys=True))
        return
    for line in compare_lines(outcomes):
        click.echo(line)


@click.command()
@geodata_option
@cache_option
@click.argument("spec_path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Output folder (default outputs/sweep-<spec name>).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Local worker processes (1 = serial).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run on this Dask distributed scheduler instead of local processes.")
@click.option("--travel", "travel_csv", type=click.Path(dir_okay=False, exists=True,
                                                        path_type=Path), default=None,
              help="Precomputed drive times (CSV: zone_id, site_id, travel_min).")
@click.option("--quiet", is_flag=True, help=QUIET_HELP)
@click.option("--restart", is_flag=True,
              help="Discard the finished runs of --out (e.g. after changing an input) instead "
                   "of resuming from them.")
def sweep(geodata_dir: Path, spec_path: Path, out_dir: Path | None, workers: int,
          scheduler: str | None, travel_csv: Path | None, quiet: bool,
          cache_dir: Path | None, restart: bool) -> None:
    """Run a grid or Latin-hypercube sweep of independent solves and summarise it.

    Writes runs.csv and runs.parquet (one row per run), summary.json (stability of each site,
    regret of each named option and candidate, the min-max-regret option), tornado.png and a
    manifest. Failed runs are listed with their parameters. Rerunning with the same --out
    resumes: finished runs are not redone. Shows each stage, and a bar while the runs solve
    and are scored, on stderr (on a terminal, unless --quiet).

    \b
    Example:
      siteopt sweep scenarios/sweep_llr.toml --workers 2
      siteopt sweep scenarios/sweep_llr.toml --scheduler tcp://127.0.0.1:8786
    """
    spec = load_spec(spec_path)
    out = out_dir or Path("outputs") / f"sweep-{spec_path.stem}"
    inputs = {"the sweep spec": spec_path, "its base scenario": spec.base,
              "--geodata": geodata_dir, "--travel": travel_csv}
    # checked and locked before any work; the journal of finished runs stays in the folder
    # itself (so an interrupted sweep resumes) while the summaries are written as one unit
    with StageProgress("sweep", quiet=quiet) as progress, \
            run_folder(out, inputs, state_files=SWEEP_STATE_FILES) as run:
        with solver_chatter_to_stderr():
            result = run_sweep(spec, geodata_dir, out, workers=workers, scheduler=scheduler,
                               travel_csv=travel_csv, cache_dir=cache_dir, restart=restart,
                               progress=progress)
        progress("writing runs.csv, runs.parquet and summary.json")
        paths = write_outputs(result, run.staging)
        if result.tornado:
            from siteopt.outputs.charts import tornado_chart

            progress("drawing the tornado chart")
            paths.append(tornado_chart(result.tornado, run.staging / "tornado.png",
                                       result.objective_mode))
        manifest = {"spec": spec_as_dict(spec), "versions": versions(),
                    "geodata": str(geodata_dir), "scheduler": scheduler, "workers": workers,
                    "runs": len(result.runs), "resumed": result.resumed}
        run.write("manifest.json", json.dumps(manifest, indent=1, sort_keys=True,
                                              default=str) + "\n")
        run.commit()
    solved = len(result.runs) - len(result.failed)
    click.echo(f"{len(result.runs)} runs: {solved} solved, {len(result.failed)} failed"
               + (f", {result.resumed} resumed from an earlier run" if result.resumed else ""))
    for r in result.failed[:10]:
        click.echo(f"  run {r['run_id']} {r.get('status')}: {r.get('message', '')[:160]} "
                   f"(parameters {json.dumps(r['params'], sort_keys=True)})")
    if len(result.failed) > 10:
        click.echo(f"  ... and {len(result.failed) - 10} more in summary.json")
    click.echo("sites keeping beds (share of solved runs): " + ", ".join(
        f"{s} {share:.0%}" for s, share in sorted(result.stability.items(),
                                                  key=lambda kv: -kv[1])))
    for label, r in result.regret.items():
        click.echo(f"  {label}: max regret {r['max_regret']:.4g}, infeasible in "
                   f"{int(r['runs_infeasible'])} runs")
    click.echo(f"min-max-regret option: {result.min_max_regret}")
    click.echo(f"wrote {len(paths) + 1} files to {out}")

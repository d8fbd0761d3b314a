"""``siteopt appraise``: the options appraisal end to end, the main command."""

from __future__ import annotations

import contextlib
import re
import sys
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import click

from siteopt.cli.console import solver_chatter_to_stderr
from siteopt.cli.options import cache_option, geodata_option, scenario_options
from siteopt.cli.output import run_folder, scenario_inputs
from siteopt.cli.progress import StageProgress, accepts_progress, quiet_option
from siteopt.errors import DataError, Problem
from siteopt.outdir import RUN_MANIFEST
from siteopt.paths import cache_dir as default_cache_dir
from siteopt.progress import ProgressCallback, counted, report
from siteopt.runs.workers import PreparedPool, default_workers

APPRAISAL_SECTIONS = ("green_book.", "appraisal.")
PRINT_MAP_PARTS_PER_WORKER = 2
"""The print maps are drawn in this many parts per worker (pages dealt round), so that a
worker that finishes early takes the next part."""


def split_overrides(overrides: Sequence[str]) -> tuple[list[str], dict[str, Any]]:
    """Split ``--set`` values into scenario overrides and appraisal ones (``green_book.*``,
    ``appraisal.*``); the latter are read as TOML values (a bare word is a string)."""
    scenario: list[str] = []
    appraisal: dict[str, Any] = {}
    problems: list[Problem] = []
    for text in overrides:
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not key.startswith(APPRAISAL_SECTIONS):
            scenario.append(text)
            continue
        if not sep or not raw.strip():
            problems.append(Problem("--set", f"'{text}' is not SECTION.KEY=VALUE", field=key))
            continue
        try:
            appraisal[key] = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", raw.strip()):
                appraisal[key] = raw.strip()
            else:
                problems.append(Problem("--set", f"cannot read the value of '{text}'",
                                        field=key))
    if problems:
        raise DataError(problems)
    return scenario, appraisal


def run_maps(prepared: Any, solutions: Mapping[str, Any], out_dir: Path,
             measures: Mapping[str, Mapping[str, Any]] | None = None,
             static_names: Sequence[str] | None = None,
             titles: Mapping[str, str] | None = None,
             progress: ProgressCallback | None = None,
             pool: PreparedPool | None = None) -> tuple[list[str], list[str], Callable[[], None]]:
    """Draw the maps if the maps modules are installed; (files, notes, wait).

    The interactive maps (:mod:`siteopt.outputs.maps`) get every option in ``solutions`` with its
    appraisal ``measures``; the print maps (:mod:`siteopt.outputs.print_maps`, PNG and PDF, the slow
    part) only ``static_names``. Each of the two is a stage of ``progress``, which is passed on
    to a map writer that takes a ``progress`` argument.

    With a ``pool`` of worker processes the print maps are shared among the workers and drawn
    while this process goes on: ``files`` lists them already, and ``wait()`` returns once
    they are drawn (appending to ``notes`` if they failed). Without one, ``wait`` does nothing.
    """
    files: list[str] = []
    notes: list[str] = []
    static = {n: s for n, s in solutions.items()
              if static_names is None or n in static_names}
    named = {"titles": titles} if titles else {}
    pending: list[Future[list[Path]]] = []
    if pool is not None and pool.parallel:
        from siteopt.outputs import print_maps

        report(progress, f"print maps (PNG, PDF) of {len(static)} options, on "
                         f"{pool.workers} processes")
        parts = PRINT_MAP_PARTS_PER_WORKER * pool.workers  # smaller parts share out evenly
        pending = [pool.submit(print_maps.static_maps_task, dict(static), out_dir, titles,
                               (k, parts)) for k in range(parts)]
    writers: list[tuple[str, str, Mapping[str, Any], dict[str, Any], str]] = [
        ("siteopt.outputs.maps", "write_maps", solutions,
                {**({"measures": measures} if measures else {}), **named},
                f"web maps of {len(solutions)} options")]
    if not pending:
        writers.append(("siteopt.outputs.print_maps", "write_static_maps", static, named,
                        f"print maps (PNG, PDF) of {len(static)} options"))
    for module, func, sols, extra, stage in writers:
        try:
            mod = __import__(module, fromlist=[func])
        except ImportError:
            notes.append(f"maps skipped: {module} is not available in this installation")
            continue
        writer = getattr(mod, func)
        report(progress, stage)
        kwargs: dict[str, Any] = dict(extra)
        if progress is not None and accepts_progress(writer):
            kwargs["progress"] = progress
        try:
            paths = writer(prepared, sols, out_dir, baseline="status_quo", **kwargs)
        except OSError:  # a full disk or a read-only folder stops the run, it is not a map bug
            raise
        except Exception as err:  # the maps are another module's; report, do not hide
            notes.append(f"maps failed in {module}.{func}: {type(err).__name__}: {err}")
            continue
        files += [str(Path(p).relative_to(out_dir)) if Path(p).is_relative_to(out_dir)
                  else str(p) for p in paths]
    if pending:
        from siteopt.outputs.print_maps import static_map_names

        files += static_map_names(list(static))

    def wait() -> None:
        for future in pending:
            try:
                future.result()
            except OSError:
                raise
            except Exception as err:  # as above
                notes.append("maps failed in siteopt.outputs.print_maps.write_static_maps: "
                             f"{type(err).__name__}: {err}")
        pending.clear()

    return files, notes, wait


@click.command()
@geodata_option
@cache_option
@scenario_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Output folder (default: outputs/<scenario name>/).")
@click.option("--options", "options_csv", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Your own options (CSV: option, site_id, service, wards, "
                                 "beds); sites an option does not list have no beds.")
@click.option("--next-best", "next_best", type=click.IntRange(0, 50), default=None,
              help="How many next-best distinct options to generate (default from "
                   "assumptions.toml [appraisal]).")
@click.option("--frontier", "frontier_method",
              type=click.Choice(["auto", "milp", "enumeration"]), default="auto",
              show_default=True,
              help="How the epsilon-constraint method finds each Pareto point: the MILP, or the "
                   "enumeration as exact oracle (auto: enumeration when the space is small).")
@click.option("--no-maps", is_flag=True, help="Do not draw maps.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Processes for the solves and the print maps (default: the cores this "
                   "process may use, at most 2; 1 solves everything here). The results are "
                   "the same for any number.")
@quiet_option
def appraise(geodata_dir: Path, scenario_path: Path | None, overrides: Sequence[str],
             travel_csv: Path | None, out_dir: Path | None, options_csv: Path | None,
             next_best: int | None, frontier_method: str, no_maps: bool,
             workers: int | None, cache_dir: Path | None, quiet: bool) -> None:
    """Appraise the options end to end: validate, travel times, options, appraisal, report.

    Builds the long list (status quo, STP proposal, your options, the optimum, the next best
    distinct options, every Pareto-efficient point, and every feasible configuration when the
    space is small), applies the hurdles, measures each option, discounts it the Green Book
    way and explains each site that loses beds. Writes appraisal.csv/.xlsx/.json and
    report.html under --out. Shows each stage on stderr (on a terminal, unless --quiet).

    \b
    Examples:
      siteopt appraise
      siteopt appraise --scenario scenarios/capital_10m.toml --out outputs/capital_10m
      siteopt appraise --set green_book.optimism_bias_capex=0.4 --next-best 10
      siteopt appraise --options my_options.csv
    """
    from siteopt.appraisal.appraise import appraise as run_appraisal
    from siteopt.appraisal.longlist import read_user_options
    from siteopt.appraisal.settings import AppraisalSettings
    from siteopt.outputs.report import render
    from siteopt.outputs.report_html import option_label
    from siteopt.runs.pipeline import prepare
    from siteopt.runs.scenario import scenario_label

    start = time.perf_counter()
    scenario_overrides, appraisal_overrides = split_overrides(overrides)
    if next_best is not None:
        appraisal_overrides["appraisal.next_best_options"] = next_best
    inputs = {**scenario_inputs(geodata_dir, scenario_path, travel_csv), "--options": options_csv}
    with contextlib.ExitStack() as stack:
        progress = stack.enter_context(StageProgress("appraise", quiet=quiet))
        # the output folder is checked and locked before any work (the default folder is
        # named after the scenario, so that one once the scenario is read)
        run = stack.enter_context(run_folder(out_dir, inputs)) if out_dir is not None else None
        # the workers start now and import while this process prepares the inputs
        pool = stack.enter_context(PreparedPool(
            workers=workers if workers is not None else default_workers(),
            warm_modules=("siteopt.appraisal.solves",
                          *(() if no_maps else ("siteopt.outputs.print_maps",))),
            cache_dir=cache_dir if cache_dir is not None else default_cache_dir()))
        progress("preparing the inputs (validation, drive times, ward options)")
        with solver_chatter_to_stderr():
            prepared = prepare(geodata_dir, scenario_path, scenario_overrides,
                               travel_csv=travel_csv, cache_dir=cache_dir)
        target = out_dir if out_dir is not None else Path("outputs") / prepared.scenario.name
        if run is None:
            run = stack.enter_context(run_folder(target, inputs))
        run.add_inputs(scenario_inputs(geodata_dir, None, None, prepared.scenario.files))
        stack.enter_context(solver_chatter_to_stderr())
        settings = AppraisalSettings.from_assumptions(prepared.data.assumptions.values,
                                                      appraisal_overrides)
        user = read_user_options(options_csv, prepared) if options_csv is not None else None
        pool.bind(prepared)
        # appraise() reports its own stages once it takes a progress callback
        staged: dict[str, Any] = {}
        if accepts_progress(run_appraisal):
            staged["progress"] = progress
        else:
            progress("appraisal (long list, Pareto frontier, measures, economic case)")
        result = run_appraisal(prepared, settings, user, frontier_method=frontier_method,
                               pool=pool, **staged)
        if pool.cache is not None and pool.cache.hits:
            progress(f"{pool.cache.hits} of {pool.cache.hits + pool.cache.misses} solves read "
                     f"from the cache of earlier runs with the same inputs ({pool.cache.folder})")
        map_files: list[str] = []
        map_notes: list[str] = []
        maps_drawn: Callable[[], None] | None = None
        if not no_maps:
            # maps for the named options, the preferred and the optimum (not the whole long
            # list); print maps for the named and preferred options only
            names = set(result.decision["main_table"])
            sols = {o.name: o.solution for o in result.options if o.name in names}
            measures = {o.name: o.measures for o in result.options if o.name in names}
            static = [o.name for o in result.options
                      if any(s.startswith("named") for s in o.sources)] + [result.preferred]
            titles = {o.name: option_label(result, o) for o in result.options
                      if o.name in names}
            map_files, map_notes, maps_drawn = run_maps(prepared, sols, run.staging, measures,
                                                        static, titles, progress, pool)
        progress("the report and tables")
        noted = len(map_notes)
        result.notes.extend(map_notes)
        files = render(result, map_files, run.staging, maps_drawn)
        if len(map_notes) > noted:  # the print maps failed while the rest was rendered
            result.notes.extend(map_notes[noted:])
            files = render(result, map_files, run.staging)
        for n in map_notes:
            click.echo(f"note: {n}", err=True)
        for name in counted(progress, "writing files", list(files)):
            run.write(name, files[name])
        run.commit()
    pref = result.option(result.preferred)
    npv = float(pref.economics["npv_vs_status_quo_gbp"])
    seconds = time.perf_counter() - start
    d = result.decision
    passing = sum(o.shortlisted for o in result.options)
    click.echo(f"siteopt appraise, scenario {scenario_label(prepared.scenario)}: "
               f"{len(result.options)} options, {passing} pass every hurdle; {seconds:.1f} s")
    if not d["eligible_in_order"]:
        click.echo("no short-listed option passes every hurdle: the optimum for the scenario is "
                   "shown as the preferred option, and it fails a hurdle (see the report)")
    click.echo(f"preferred: Option {d['letters'].get(result.preferred, '?')}: "
               f"{d['titles'][result.preferred]} (mean drive "
               f"{pref.measures['access']['mean_travel_min']:.1f} min, NPV vs business as usual "
               f"{'-' if npv < 0 else ''}£{abs(npv) / 1e6:.1f}m)")
    rule = ("the lowest net present cost per weighted benefit point"
            if d["rule"] == "cost_per_benefit_point"
            else "the highest NPV against business as usual")
    click.echo(f"rule: {rule}, among the {len(d['eligible_in_order'])} short-listed options "
               "that pass every hurdle and that no other short-listed option dominates")
    if d.get("runner_up"):
        click.echo(f"runner-up: Option {d['letters'].get(d['runner_up'], '?')}: "
                   f"{d['titles'][d['runner_up']]}")
    for name in sorted([*files, RUN_MANIFEST]):
        click.echo(str(target / name))
    if map_files:
        click.echo(f"{target}/: {len(map_files)} map files (maps.html indexes them)")
    sys.stdout.flush()

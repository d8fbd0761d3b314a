"""What-if comparisons and parameter sweeps, run serially, on local processes or on Dask.

Sweep specification (TOML)::

    base = "base.toml"            # optional scenario every run starts from (relative path)
    runs = 200                    # Latin hypercube: number of runs
    method = "lhs"                # "lhs" (Latin hypercube) or "grid" (every combination)
    seed = 20261124               # the sample is reproducible from the seed
    named_options = ["status_quo", "stp_2016"]   # scored for regret in every run
    candidates = 5                # also score the 5 most frequent optimal configurations

    [parameters]
    "model.capital_limit_gbp" = { min = 5e6, max = 20e6 }
    "demand.home_first_reduction.rehab" = { min = 0.10, max = 0.35 }
    "model.max_staff_wte_rn" = { values = [120, 140, 160] }   # grid, or sampled uniformly
    "demand.planning_year" = { min = 2024, max = 2031, integer = true }

A parameter key is any scenario key (``section.key``), or ``section.key.name`` for one entry of
a table-valued key (such as one service's Home First reduction). Each run is an independent
solve of the base scenario with the run's values as ``--set`` overrides.

Per run the record holds the parameters, the solver's honest status, the measures (beds, sites,
capital, cost, staff, drive times) and the beds chosen at each site; failed runs (infeasible,
solver errors) are kept with their parameters and message, never dropped. Summaries:

- **stability**: the share of solved runs in which each site keeps inpatient beds;
- **regret**: every candidate (the named options and the most frequent optimal configurations)
  is evaluated in every run; its regret in a run is its objective minus that run's optimum
  (``inf`` where it breaks the run's limits or cannot hold the need); the **min-max-regret**
  option is the candidate whose worst regret is smallest;
- **tornado**: for each parameter, the objective's mean over the runs in the lowest third of the
  parameter's range against the highest third.

Scoring: a configuration's score is what :func:`siteopt.wards.solve.evaluate` (for the named
options :func:`siteopt.runs.pipeline.evaluate_configuration`) makes of it. Where
:func:`siteopt.wards.score.fast_score` is certain of that answer (a limit broken, beds short,
or, under the ``cost`` objective, a unique least-travel assignment that passes every check)
it is used; everywhere else the exact path runs. The scores are the same floats either way.

Execution: ``serial``, ``processes`` (a local process pool) or a Dask distributed scheduler
(``tcp://host:port``), one :class:`siteopt.parallel.Executor` for both phases, with the runs
sent in guided batches (:func:`siteopt.parallel.batches`). Each worker loads the geodata and
the travel matrix once and reuses them for every run; each solve sends back its run's
:class:`ScoringContext` (for up to :data:`MAX_CONTEXTS` runs), so the scoring phase does not
prepare the run again. Finished runs are appended to ``runs.jsonl`` as they arrive (a batch at
a time in parallel), so an
interrupted sweep resumes without redoing them, but only on the same inputs: the journal's
first line records every input by content (:mod:`siteopt.runs.resume`: geodata files, travel
matrix or road graph, base scenario and its ``extends`` chain, the spec, siteopt's version), and
a rerun on changed inputs stops with one line naming what changed, unless ``restart=True``
discards the earlier runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from siteopt.data.load import Inputs, load_inputs
from siteopt.errors import DataError, Problem, SiteoptError
from siteopt.parallel import Executor
from siteopt.progress import ProgressCallback, report
from siteopt.runs.pipeline import (
    Prepared,
    bed_shortfall,
    evaluate_configuration,
    optimise_scenario,
    prepare,
    travel_times,
)
from siteopt.runs.resume import fingerprint, inputs_record, open_journal
from siteopt.runs.scenario import SECTIONS, load_scenario, valid_keys
from siteopt.travel.matrix import TravelMatrix
from siteopt.wards.instance import Instance, ModelSettings
from siteopt.wards.results import Solution, access_measures, objective_from_measures, totals
from siteopt.wards.score import fast_score
from siteopt.wards.solve import SolverOptions, evaluate

Method = Literal["lhs", "grid"]
INF = math.inf


# ---------------------------------------------------------------------------------------------
# Specification and sampling
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """One swept parameter: a range (``low``-``high``) or a list of ``values``."""

    key: str
    low: float | None = None
    high: float | None = None
    values: tuple[Any, ...] | None = None
    integer: bool = False


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep specification (see the module docstring)."""

    parameters: tuple[Parameter, ...]
    base: Path | None = None
    runs: int = 20
    method: Method = "lhs"
    seed: int = 0
    named_options: tuple[str, ...] = ("status_quo",)
    candidates: int = 5


SPEC_KEYS = ("base", "runs", "method", "seed", "named_options", "candidates", "parameters")


def load_spec(path: Path) -> SweepSpec:
    """Read and check a sweep specification; every problem is reported together."""
    problems: list[Problem] = []
    name = Path(path).name
    if not Path(path).is_file():
        raise DataError([Problem(str(path), "sweep file not found; check the path")])
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise DataError([Problem(name, f"is not valid UTF-8 TOML ({err}); fix the syntax")]
                        ) from None
    for key in sorted(set(doc) - set(SPEC_KEYS)):
        problems.append(Problem(name, f"unknown key; valid keys: {', '.join(SPEC_KEYS)}",
                                field=key))
    runs = doc.get("runs", 20)
    if not isinstance(runs, int) or isinstance(runs, bool) or not 1 <= runs <= 100_000:
        problems.append(Problem(name, f"{runs!r} should be a whole number from 1 to 100000",
                                field="runs"))
    method = doc.get("method", "lhs")
    if method not in ("lhs", "grid"):
        problems.append(Problem(name, f"'{method}' is not one of: lhs, grid", field="method"))
    seed = doc.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        problems.append(Problem(name, f"{seed!r} should be a whole number", field="seed"))
    named = doc.get("named_options", ["status_quo"])
    if not isinstance(named, list) or not all(isinstance(x, str) for x in named):
        problems.append(Problem(name, "should be a list of configuration names",
                                field="named_options"))
        named = []
    cands = doc.get("candidates", 5)
    if not isinstance(cands, int) or isinstance(cands, bool) or not 0 <= cands <= 100:
        problems.append(Problem(name, f"{cands!r} should be a whole number from 0 to 100",
                                field="candidates"))
    base = doc.get("base")
    base_path = None
    if base is not None:
        if not isinstance(base, str):
            problems.append(Problem(name, f"{base!r} should be a file name", field="base"))
        else:
            base_path = (Path(path).parent / base)
            if not base_path.is_file():
                problems.append(Problem(name, f"base scenario '{base}' not found next to the "
                                              "sweep file", field="base"))
    params = _parse_parameters(doc.get("parameters"), name, method, problems)
    if problems:
        raise DataError(problems)
    return SweepSpec(parameters=tuple(params), base=base_path, runs=int(runs), method=method,
                     seed=int(seed), named_options=tuple(named), candidates=int(cands))


def _parse_parameters(table: Any, name: str, method: str,
                      problems: list[Problem]) -> list[Parameter]:
    if not isinstance(table, Mapping) or not table:
        problems.append(Problem(name, "needs a [parameters] table with at least one parameter",
                                field="parameters"))
        return []
    out = []
    for key, item in table.items():
        fld = f"parameters.{key}"
        parts = key.split(".")
        if len(parts) not in (2, 3) or parts[0] not in SECTIONS \
                or parts[1] not in valid_keys(parts[0]):
            problems.append(Problem(name, f"'{key}' is not a scenario key (section.key or "
                                          "section.key.name); see `siteopt solve --help`",
                                    field=fld))
            continue
        if not isinstance(item, Mapping):
            problems.append(Problem(name, "should be a table such as { min = 1, max = 2 } or "
                                          "{ values = [1, 2] }", field=fld))
            continue
        extra = sorted(set(item) - {"min", "max", "values", "integer"})
        if extra:
            problems.append(Problem(name, f"unknown field(s) {', '.join(extra)}; use min, max, "
                                          "values, integer", field=fld))
        integer = bool(item.get("integer", False))
        if "values" in item:
            values = item["values"]
            if not isinstance(values, list) or not values:
                problems.append(Problem(name, "values should be a non-empty list", field=fld))
                continue
            out.append(Parameter(key, values=tuple(values), integer=integer))
            continue
        low, high = item.get("min"), item.get("max")
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (low, high)):
            problems.append(Problem(name, "needs numeric min and max, or values", field=fld))
            continue
        if low > high:  # type: ignore[operator]
            problems.append(Problem(name, f"min {low} is above max {high}", field=fld))
            continue
        if method == "grid":
            problems.append(Problem(name, "a grid needs values = [...] for every parameter",
                                    field=fld))
            continue
        out.append(Parameter(key, low=float(low), high=float(high),  # type: ignore[arg-type]
                             integer=integer))
    return out


def sample(spec: SweepSpec) -> list[dict[str, Any]]:
    """The parameter values of every run, reproducible from the spec's seed."""
    if spec.method == "grid":
        keys = [p.key for p in spec.parameters]
        grid = itertools.product(*[p.values or () for p in spec.parameters])
        return [dict(zip(keys, combo, strict=True)) for combo in grid]
    from scipy.stats import qmc

    rng_points = qmc.LatinHypercube(d=len(spec.parameters), seed=spec.seed).random(spec.runs)
    runs = []
    for point in rng_points:
        values: dict[str, Any] = {}
        for u, p in zip(point, spec.parameters, strict=True):
            if p.values is not None:
                values[p.key] = p.values[min(int(u * len(p.values)), len(p.values) - 1)]
            else:
                assert p.low is not None and p.high is not None
                x = p.low + float(u) * (p.high - p.low)
                values[p.key] = round(x) if p.integer else float(f"{x:.6g}")
        runs.append(values)
    return runs


def overrides_for(values: Mapping[str, Any], base_values: Mapping[str, Any]) -> list[str]:
    """``--set`` strings for one run; ``section.key.name`` entries merge into the base table."""
    tables: dict[str, dict[str, Any]] = {}
    out = []
    for key, value in values.items():
        parts = key.split(".")
        if len(parts) == 3:
            head = ".".join(parts[:2])
            base = base_values.get(head)
            tables.setdefault(head, dict(base) if isinstance(base, Mapping) else {})
            tables[head][parts[2]] = value
        else:
            out.append(f"{key}={_toml(value)}")
    for head, table in tables.items():
        out.append(f"{head}={_toml(table)}")
    return out


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)


# ---------------------------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ScoringContext:
    """What scoring candidate configurations in a run needs: the optimiser's instance, the
    scenario's model settings and solver options (kept from the run's solve, so that the
    scoring phase does not prepare the run again)."""

    instance: Instance
    settings: ModelSettings
    options: SolverOptions


CONTEXT_KEY = "_context"
"""Key of a run record's :class:`ScoringContext` on its way from a worker (never journaled)."""
MAX_CONTEXTS = 500
"""Runs whose scoring context the parent keeps between the phases (about 0.1 MB each); the
scoring phase prepares any other run again."""


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run (picklable)."""

    run_id: int
    geodata_dir: str
    scenario_path: str | None
    overrides: tuple[str, ...]
    params: dict[str, Any]
    travel_csv: str | None = None
    named_options: tuple[str, ...] = ()
    candidates: tuple[tuple[str, dict[str, str]], ...] = ()
    """(label, site_id -> option_id) to score in this run, for regret."""
    cache_dir: str | None = None
    """Where road-graph matrices are cached (None: the default cache folder)."""
    inputs_sha256: str = ""
    """:func:`siteopt.runs.resume.fingerprint` of the sweep's inputs (content, not paths)."""
    context: ScoringContext | None = field(default=None, compare=False, repr=False)
    """Phase 2: the run's :class:`ScoringContext` kept from its solve (None: prepare again)."""

    @property
    def key(self) -> str:
        """A hash of what determines the run's result, for resuming: the inputs' content, the
        run's overrides and what it scores (no paths)."""
        text = json.dumps([self.inputs_sha256, self.overrides, self.named_options,
                           self.candidates], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


_WORKER_CACHE: dict[tuple[str, str | None, str | None, str], tuple[Inputs, TravelMatrix]] = {}


def _shared(task: RunTask) -> tuple[Inputs, TravelMatrix]:
    """The inputs (:func:`siteopt.data.load.load_inputs`) and travel matrix, loaded once per
    worker process (and again when their content changed, e.g. a serial rerun in one
    process after an edit)."""
    key = (task.geodata_dir, task.travel_csv, task.cache_dir, task.inputs_sha256)
    if key not in _WORKER_CACHE:
        inputs = load_inputs(Path(task.geodata_dir),
                             travel_csv=Path(task.travel_csv) if task.travel_csv else None)
        travel = travel_times(inputs,
                              cache_dir=Path(task.cache_dir) if task.cache_dir else None)
        _WORKER_CACHE[key] = (inputs, travel)
    return _WORKER_CACHE[key]


def solution_objective(prepared: Prepared, instance: Instance, solution: Solution) -> float:
    """The scenario's objective recomputed from a solution's measures (comparable across
    optimised and evaluated solutions)."""
    return settings_objective(prepared.scenario.model, instance, solution)


def settings_objective(m: ModelSettings, instance: Instance, solution: Solution) -> float:
    """:func:`solution_objective` from the model settings alone."""
    mean = access_measures(instance, solution.assignment)["mean_travel_min"]
    cost = totals(instance, solution.choice)["cost_gbp_per_year"]
    return objective_from_measures(m.objective, mean, cost, m.travel_weight,
                                   m.cost_weight_per_gbp_m)


def run_one(task: RunTask) -> dict[str, Any]:
    """Solve one run and score the named options and candidates in it; never raises."""
    start = time.perf_counter()
    record: dict[str, Any] = {"run_id": task.run_id, "key": task.key, "params": task.params}
    try:
        inputs, travel = _shared(task)
        prepared = prepare(Path(task.geodata_dir), Path(task.scenario_path)
                           if task.scenario_path else None, task.overrides, inputs=inputs,
                           travel=travel)
    except SiteoptError as err:
        record.update(status="error", message=" | ".join(err.lines()))
        record["seconds"] = time.perf_counter() - start
        return record
    try:
        solution = optimise_scenario(prepared)
    except SiteoptError as err:
        record.update(status="infeasible" if "infeasible" in str(err).lower() else "error",
                      message=" | ".join(err.lines()))
    else:
        inst = prepared.instance
        t = totals(inst, solution.choice)
        acc = access_measures(inst, solution.assignment)
        record.update(
            status=solution.status_text, gap=solution.gap, message="",
            objective=solution_objective(prepared, inst, solution),
            choice=dict(sorted(solution.choice.items())),
            beds={site.site_id: dict(site.option(solution.choice[site.site_id]).beds)
                  for site in inst.sites},
            measures={
                "mean_travel_min": acc["mean_travel_min"],
                "max_travel_min": acc["max_travel_min"],
                "share_within_30_min": acc["share_within_30_min"],
                **{f"beds_{v}": int(b) for v, b in t["beds"].items()},
                "sites_with_beds": int(t["sites_with_beds"]),
                "capex_gbp": t["capex_gbp"], "disposals_gbp": t["disposals_gbp"],
                "net_capital_gbp": t["net_capital_gbp"],
                "revenue_gbp_per_year": t["revenue_gbp_per_year"],
                "cost_gbp_per_year": t["cost_gbp_per_year"],
                "staff_wte": t["staff_wte"], "staff_wte_rn": t["staff_wte_rn"],
            },
            violations=list(solution.violations),
        )
    record["scores"] = _scores(prepared, task)
    s = prepared.scenario
    record[CONTEXT_KEY] = ScoringContext(prepared.instance, s.model, s.solver)
    record["seconds"] = time.perf_counter() - start
    return record


def _scores(prepared: Prepared, task: RunTask) -> dict[str, float]:
    """Objective of each named option and candidate in this run (inf if it breaks a limit)."""
    scores = {name: named_score(prepared, name) for name in task.named_options}
    s = prepared.scenario
    scores.update(candidate_scores(ScoringContext(prepared.instance, s.model, s.solver),
                                   task.candidates))
    return scores


def named_score(prepared: Prepared, name: str) -> float:
    """The objective of wards.csv's configuration ``name`` in this run, as
    :func:`siteopt.runs.pipeline.evaluate_configuration` measures it (inf if it breaks a limit
    or cannot hold the need): certain answers from :func:`siteopt.wards.score.fast_score`, the
    rest by the exact path."""
    s = prepared.scenario
    choice = prepared.catalogue.configurations.get(name)
    if choice is not None:
        if bed_shortfall(prepared.evaluation_instance, choice):
            return INF  # evaluated on a share of the need, with the shortfall as violations
        fast = fast_score(prepared.evaluation_instance, choice, s.model, s.solver)
        if fast is not None:
            return fast
    try:
        sol = evaluate_configuration(prepared, name)
    except SiteoptError:
        return INF
    return INF if sol.violations else solution_objective(prepared, prepared.evaluation_instance,
                                                         sol)


def candidate_scores(context: ScoringContext,
                     candidates: Sequence[tuple[str, Mapping[str, str]]]) -> dict[str, float]:
    """The objective of each (label, configuration) in this run, as
    :func:`siteopt.wards.solve.evaluate` measures it (inf if it breaks a limit): certain
    answers from :func:`siteopt.wards.score.fast_score`, the rest by the exact path."""
    scores: dict[str, float] = {}
    inst, m, options = context.instance, context.settings, context.options
    for label, choice in candidates:
        fast = fast_score(inst, choice, m, options)
        if fast is not None:
            scores[label] = fast
            continue
        try:
            sol = evaluate(inst, choice, m, options, label=label)
        except (SiteoptError, KeyError):
            scores[label] = INF
            continue
        scores[label] = INF if sol.violations else settings_objective(m, inst, sol)
    return scores


# ---------------------------------------------------------------------------------------------
# Executors
# ---------------------------------------------------------------------------------------------
Progress = Callable[[dict[str, Any]], None]


def execute(tasks: Sequence[RunTask], *, runner: Callable[[RunTask], dict[str, Any]] | None = None,
            workers: int = 1, scheduler: str | None = None,
            on_result: Progress | None = None,
            executor: Executor | None = None) -> list[dict[str, Any]]:
    """Run tasks serially (``workers=1``), on a local process pool, or on a Dask scheduler.

    ``runner`` is :func:`run_one` (solve) by default, or :func:`run_scores`; ``executor`` an
    open :class:`siteopt.parallel.Executor` to run them on (else one of ``workers`` /
    ``scheduler`` for this call). Results come back sorted by ``run_id`` whatever the order
    they finished in.
    """
    if executor is None:
        with Executor(workers, scheduler) as own:
            return execute(tasks, runner=runner, on_result=on_result, executor=own)
    results = executor.run_all(runner or run_one, tasks, on_result=on_result)
    return sorted(results, key=lambda r: int(r["run_id"]))


# ---------------------------------------------------------------------------------------------
# A whole sweep
# ---------------------------------------------------------------------------------------------
@dataclass
class SweepResult:
    """Runs and summaries of a sweep."""

    runs: list[dict[str, Any]]
    stability: dict[str, float]
    regret: dict[str, dict[str, float]]
    """candidate -> {max_regret, mean_regret, runs_infeasible}."""
    min_max_regret: str | None
    candidates: dict[str, dict[str, str]]
    tornado: list[dict[str, float | str]]
    resumed: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    objective_mode: str = "access"


def run_sweep(spec: SweepSpec, geodata_dir: Path, out_dir: Path, *, workers: int = 1,
              scheduler: str | None = None, travel_csv: Path | None = None,
              on_result: Progress | None = None, cache_dir: Path | None = None,
              restart: bool = False, progress: ProgressCallback | None = None) -> SweepResult:
    """Run a sweep in two phases: solve every run, then score the candidates in every run.

    Finished runs are appended to ``out_dir/runs.jsonl``; a rerun on the same inputs skips
    them (resume). The inputs are validated here first (:func:`siteopt.data.load.load_inputs`,
    so a bad geodata folder or travel matrix stops the sweep with one error), then loaded once
    per worker. ``cache_dir`` is where road-graph matrices are cached (default
    :func:`siteopt.travel.matrix.default_cache_dir`). ``on_result`` is called with each run's
    record as it finishes; ``progress`` (:data:`siteopt.progress.ProgressCallback`) hears the
    stages: checking the inputs, solving the runs (counted), scoring the candidates (counted),
    summarising.

    Raises
    ------
    DataError
        Bad inputs; or ``out_dir`` holds runs made from other inputs (one line naming which
        changed, :func:`siteopt.runs.resume.open_journal`) and ``restart`` is False. Nothing
        is written then.
    """
    report(progress, "checking the inputs")
    data = load_inputs(geodata_dir, travel_csv=travel_csv).data
    base = load_scenario(spec.base, (), data.assumptions)
    for name in spec.named_options:
        if name not in data.configurations:
            raise DataError([Problem("sweep", f"named option '{name}' is not a configuration "
                                              f"in wards.csv; known: "
                                              f"{', '.join(data.configurations)}",
                                     field="named_options")])
    spec_doc = {k: v for k, v in spec_as_dict(spec).items() if k != "base"}
    record = inputs_record(spec=spec_doc, geodata_dir=geodata_dir, travel_csv=travel_csv,
                           scenario_files=base.files)
    journal = out_dir / "runs.jsonl"
    open_journal(journal, record, restart=restart)
    values = sample(spec)
    common = {"geodata_dir": str(geodata_dir),
              "scenario_path": str(spec.base) if spec.base else None,
              "travel_csv": str(travel_csv) if travel_csv else None,
              "named_options": spec.named_options,
              "cache_dir": str(cache_dir) if cache_dir else None,
              "inputs_sha256": fingerprint(record)}
    tasks = [RunTask(run_id=i, overrides=tuple(overrides_for(v, base.values)), params=v,
                     **common) for i, v in enumerate(values)]  # type: ignore[arg-type]
    with Executor(workers, scheduler) as executor:
        return _two_phases(spec, tasks, journal, executor, on_result, progress,
                           base.model.objective)


def _two_phases(spec: SweepSpec, tasks: Sequence[RunTask], journal: Path, executor: Executor,
                on_result: Progress | None, progress: ProgressCallback | None,
                objective_mode: str) -> SweepResult:
    """Solve every run, then score the most frequent optima in every run, on ``executor``."""
    contexts: dict[int, ScoringContext] = {}
    runs, resumed = _resume_or_run(tasks, journal, "solve", executor, on_result,
                                   progress=progress, contexts=contexts)
    # Phase 2: the most frequent optimal configurations become candidates, scored everywhere.
    freq = Counter(json.dumps(r["choice"], sort_keys=True) for r in runs if "choice" in r)
    candidates = {f"candidate_{k + 1}": json.loads(text)
                  for k, (text, _) in enumerate(freq.most_common(spec.candidates))}
    if candidates:
        cand_tasks = [RunTask(run_id=t.run_id, geodata_dir=t.geodata_dir,
                              scenario_path=t.scenario_path, overrides=t.overrides,
                              params=t.params, travel_csv=t.travel_csv,
                              candidates=tuple(candidates.items()), cache_dir=t.cache_dir,
                              inputs_sha256=t.inputs_sha256, context=contexts.get(t.run_id))
                      for t in tasks]
        contexts.clear()
        scored, more = _resume_or_run(cand_tasks, journal, "score", executor,
                                      on_result, score_only=True, progress=progress,
                                      what=f"scoring {len(candidates)} candidates in")
        resumed += more
        by_id = {int(r["run_id"]): r for r in scored}
        for r in runs:
            r["scores"] = {**r.get("scores", {}), **by_id[int(r["run_id"])].get("scores", {})}
    report(progress, "summarising (stability, regret, tornado)")
    result = summarise(spec, runs, candidates, resumed)
    result.objective_mode = objective_mode
    return result


def _resume_or_run(tasks: Sequence[RunTask], journal: Path, phase: str, executor: Executor,
                   on_result: Progress | None, score_only: bool = False,
                   progress: ProgressCallback | None = None, what: str = "solving",
                   contexts: dict[int, ScoringContext] | None = None,
                   ) -> tuple[list[dict[str, Any]], int]:
    finished: dict[int, dict[str, Any]] = {}
    if journal.is_file():
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by an interruption
            if rec.get("phase") == phase:
                finished[int(rec["run_id"])] = rec
    todo = [t for t in tasks if finished.get(t.run_id, {}).get("key") != t.key]
    resumed = len(tasks) - len(todo)
    stage = f"{what} {len(todo)} runs" + (f" ({resumed} resumed from an earlier run)"
                                          if resumed else "")
    finished_now = [0]
    report(progress, stage, 0, len(todo))

    def record(rec: dict[str, Any]) -> None:
        context = rec.pop(CONTEXT_KEY, None)
        if contexts is not None and context is not None and len(contexts) < MAX_CONTEXTS:
            contexts[int(rec["run_id"])] = context
        rec["phase"] = phase
        with journal.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec, sort_keys=True, default=_json_default) + "\n")
        if on_result is not None:
            on_result(rec)
        finished_now[0] = min(finished_now[0] + 1, len(todo))
        report(progress, stage, finished_now[0], len(todo))

    fresh = execute(todo, runner=run_scores if score_only else run_one, on_result=record,
                    executor=executor)
    merged = {t.run_id: finished[t.run_id] for t in tasks if t not in todo}
    merged.update({int(r["run_id"]): r for r in fresh})
    return [merged[t.run_id] for t in tasks], resumed


def run_scores(task: RunTask) -> dict[str, Any]:
    """Phase 2: score the candidates of one run (no optimisation), on the run's
    :class:`ScoringContext` if the task carries it, else on the run prepared again."""
    record: dict[str, Any] = {"run_id": task.run_id, "key": task.key}
    try:
        if task.context is not None and not task.named_options:
            record["scores"] = candidate_scores(task.context, task.candidates)
        else:
            inputs, travel = _shared(task)
            prepared = prepare(Path(task.geodata_dir), Path(task.scenario_path)
                               if task.scenario_path else None, task.overrides, inputs=inputs,
                               travel=travel)
            record["scores"] = _scores(prepared, task)
    except SiteoptError as err:
        record["scores"] = {label: INF for label, _ in task.candidates}
        record["message"] = " | ".join(err.lines())
    return record


def summarise(spec: SweepSpec, runs: list[dict[str, Any]],
              candidates: Mapping[str, dict[str, str]], resumed: int = 0) -> SweepResult:
    """Stability, regret, min-max regret and tornado from the run records."""
    solved = [r for r in runs if "choice" in r]
    sites = sorted({s for r in solved for s in r["beds"]})
    stability = {s: (sum(1 for r in solved if sum(r["beds"][s].values()) > 0) / len(solved)
                     if solved else 0.0) for s in sites}
    labels = list(spec.named_options) + list(candidates)
    regret: dict[str, dict[str, float]] = {}
    for label in labels:
        values = [r["scores"].get(label, INF) - r["objective"] for r in solved]
        finite = [v for v in values if math.isfinite(v)]
        regret[label] = {
            "max_regret": max(values) if values else INF,
            "mean_regret": float(np.mean(finite)) if finite else INF,
            "runs_infeasible": float(sum(1 for v in values if not math.isfinite(v))),
        }
    ranked = sorted(labels, key=lambda k: (regret[k]["runs_infeasible"],
                                           regret[k]["max_regret"], k))
    best = ranked[0] if ranked else None
    failed = [r for r in runs if "choice" not in r]
    return SweepResult(runs=runs, stability=stability, regret=regret, min_max_regret=best,
                       candidates=dict(candidates), tornado=tornado(spec, solved),
                       resumed=resumed, failed=failed)


def tornado(spec: SweepSpec, solved: Sequence[dict[str, Any]]) -> list[dict[str, float | str]]:
    """Objective mean over the low third vs the high third of each parameter's values."""
    bars: list[dict[str, float | str]] = []
    if len(solved) < 3:
        return bars
    for p in spec.parameters:
        xs = np.array([_numeric(r["params"][p.key]) for r in solved])
        ys = np.array([r["objective"] for r in solved], dtype=float)
        order = np.argsort(xs, kind="stable")
        third = max(1, len(order) // 3)
        low = float(np.mean(ys[order[:third]]))
        high = float(np.mean(ys[order[-third:]]))
        bars.append({"parameter": p.key, "objective_low": low, "objective_high": high,
                     "swing": abs(high - low)})
    bars.sort(key=lambda b: -float(b["swing"]))
    return bars


def _numeric(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return float(hash(json.dumps(value, sort_keys=True)) % 1000)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    return str(obj)


# ---------------------------------------------------------------------------------------------
# Output files
# ---------------------------------------------------------------------------------------------
def runs_table(result: SweepResult) -> pd.DataFrame:
    """One row per run: parameters, status, measures, beds per site, candidate scores."""
    rows = []
    for r in result.runs:
        row: dict[str, Any] = {"run_id": r["run_id"], "status": r.get("status", ""),
                               "message": r.get("message", ""), "gap": r.get("gap"),
                               "objective": r.get("objective"), "seconds": r.get("seconds")}
        row.update({f"param:{k}": v for k, v in r["params"].items()})
        row.update(r.get("measures", {}))
        for site, beds in sorted(r.get("beds", {}).items()):
            for v, b in sorted(beds.items()):
                row[f"beds:{site}:{v}"] = b
        for label, score in sorted(r.get("scores", {}).items()):
            row[f"score:{label}"] = score
        rows.append(row)
    return pd.DataFrame(rows)


def write_outputs(result: SweepResult, out_dir: Path) -> list[Path]:
    """runs.csv, runs.parquet and summary.json (the tornado chart is drawn by
    :func:`siteopt.outputs.charts.tornado_chart`, which the CLI calls after this)."""
    from siteopt.fileio import write_atomically

    out_dir.mkdir(parents=True, exist_ok=True)
    table = runs_table(result)
    paths = []
    csv_path = out_dir / "runs.csv"
    write_atomically(csv_path, table.to_csv(index=False, lineterminator="\n"))
    paths.append(csv_path)
    parquet_path = out_dir / "runs.parquet"
    tmp = out_dir / ".runs.parquet.tmp"
    table.astype({c: "string" for c in table.columns if table[c].dtype == object}).to_parquet(
        tmp, index=False)
    tmp.replace(parquet_path)
    paths.append(parquet_path)
    summary = {
        "runs": len(result.runs), "solved": len(result.runs) - len(result.failed),
        "failed": [{"run_id": r["run_id"], "status": r.get("status"),
                    "message": r.get("message"), "params": r["params"]} for r in result.failed],
        "resumed": result.resumed, "stability": result.stability,
        "regret": {k: {kk: (vv if math.isfinite(vv) else "inf") for kk, vv in v.items()}
                   for k, v in result.regret.items()},
        "min_max_regret": result.min_max_regret, "candidates": result.candidates,
        "tornado": result.tornado,
    }
    summary_path = out_dir / "summary.json"
    write_atomically(summary_path, json.dumps(summary, indent=1, sort_keys=True,
                                              default=_json_default) + "\n")
    paths.append(summary_path)
    return paths


def spec_as_dict(spec: SweepSpec) -> dict[str, Any]:
    """The spec as plain data (for manifests)."""
    doc = asdict(spec)
    doc["base"] = str(spec.base) if spec.base else None
    return doc

"""What-if and sweeps: spec parsing, sampling, resume, failures, processes and Dask == serial."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from siteopt.cli import cli
from siteopt.data.load import load_geodata
from siteopt.errors import DataError
from siteopt.outputs.charts import tornado_chart
from siteopt.parallel import Executor, batches
from siteopt.paths import DEFAULT_GEODATA_DIR, REPO_DIR
from siteopt.runs.pipeline import evaluate_configuration, prepare
from siteopt.runs.scenario import load_scenario
from siteopt.runs.sweep import (
    CONTEXT_KEY,
    SweepSpec,
    load_spec,
    overrides_for,
    run_sweep,
    sample,
    write_outputs,
)
from siteopt.wards.instance import Instance
from siteopt.wards.solve import optimise

pytestmark = pytest.mark.slow  # sweeps on real LLR data, one on a Dask cluster

SCENARIOS = REPO_DIR / "scenarios"


def spec_file(tmp_path: Path, body: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


SMALL = f"""
base = "{(SCENARIOS / 'base.toml').as_posix()}"
method = "grid"
named_options = ["status_quo", "stp_2016"]
candidates = 1
[parameters]
"model.max_staff_wte_rn" = {{ values = [100, 170, 180] }}
"demand.home_first_reduction.rehab" = {{ values = [0.2, 0.3] }}
"""


def comparable(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep = ("run_id", "params", "status", "objective", "choice", "beds", "measures", "scores",
            "message")
    return [{k: r.get(k) for k in keep} for r in runs]


def test_spec_errors_are_reported_together(tmp_path: Path) -> None:
    path = spec_file(tmp_path, """
runs = 0
method = "random"
colour = "blue"
[parameters]
"model.capital_limt_gbp" = { min = 1, max = 2 }
"model.capital_limit_gbp" = { min = 5, max = 2 }
""")
    with pytest.raises(DataError) as info:
        load_spec(path)
    lines = info.value.lines()
    assert "spec.toml, field 'colour': unknown key; valid keys: base, runs, method, seed, " \
           "named_options, candidates, parameters" in lines
    assert "spec.toml, field 'runs': 0 should be a whole number from 1 to 100000" in lines
    assert "spec.toml, field 'method': 'random' is not one of: lhs, grid" in lines
    assert any("'model.capital_limt_gbp' is not a scenario key" in x for x in lines)
    assert "spec.toml, field 'parameters.model.capital_limit_gbp': min 5 is above max 2" in lines


def test_latin_hypercube_is_stratified_and_reproducible(tmp_path: Path) -> None:
    spec = load_spec(spec_file(tmp_path, """
runs = 10
seed = 11
[parameters]
"model.capital_limit_gbp" = { min = 0, max = 10 }
"demand.planning_year" = { min = 2021, max = 2031, integer = true }
"""))
    runs = sample(spec)
    assert runs == sample(spec)
    xs = sorted(r["model.capital_limit_gbp"] for r in runs)
    # One value in each tenth of the range.
    assert [int(x) for x in xs] == list(range(10))
    assert all(isinstance(r["demand.planning_year"], int) for r in runs)


def test_grid_is_every_combination(tmp_path: Path) -> None:
    spec = load_spec(spec_file(tmp_path, """
method = "grid"
[parameters]
"model.capital_limit_gbp" = { values = [1e6, 2e6, 3e6] }
"model.objective" = { values = ["access", "cost"] }
"""))
    runs = sample(spec)
    assert len(runs) == 6
    assert {(r["model.capital_limit_gbp"], r["model.objective"]) for r in runs} == {
        (c, o) for c in (1e6, 2e6, 3e6) for o in ("access", "cost")}


def test_nested_parameters_merge_into_the_base_table() -> None:
    out = overrides_for({"demand.home_first_reduction.rehab": 0.3, "model.max_travel_min": 40},
                        {"demand.home_first_reduction": {"rehab": 0.2, "stroke": 0.25}})
    assert out == ["model.max_travel_min=40",
                   "demand.home_first_reduction={ rehab = 0.3, stroke = 0.25 }"]


@pytest.fixture(scope="module")
def serial_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[SweepSpec, Any, Path]:
    tmp = tmp_path_factory.mktemp("serial")
    spec = load_spec(spec_file(tmp, SMALL))
    out = tmp / "out"
    return spec, run_sweep(spec, DEFAULT_GEODATA_DIR, out, workers=1), out


def test_serial_sweep_keeps_failed_runs_with_their_parameters(serial_result: Any) -> None:
    _spec, result, out = serial_result
    assert len(result.runs) == 6
    statuses = [r["status"] for r in result.runs]
    # 100 registered nurses cannot staff the beds needed; 170 can.
    assert statuses == ["infeasible", "infeasible"] + ["optimal"] * 4
    assert [r["params"]["model.max_staff_wte_rn"] for r in result.failed] == [100, 100]
    for r in result.failed:
        assert "the registered-nurse limit of 100.0 WTE is" in r["message"]
    paths = [*write_outputs(result, out),
             tornado_chart(result.tornado, out / "tornado.png", result.objective_mode)]
    names = {p.name for p in paths}
    assert {"runs.csv", "runs.parquet", "summary.json", "tornado.png"} <= names
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["failed"]) == len(result.failed)
    assert set(summary["stability"]) >= {"oakham", "evington"}
    assert summary["min_max_regret"] in summary["regret"]
    import pandas as pd

    table = pd.read_parquet(out / "runs.parquet")
    assert len(table) == 6 and "param:model.max_staff_wte_rn" in table.columns


def annual_cost_of(instance: Instance, choice: dict[str, str]) -> float:
    """Revenue plus annualised capital of a configuration, summed straight from the catalogue."""
    return float(sum(site.option(choice[site.site_id]).revenue_gbp_per_year
                     + site.option(choice[site.site_id]).capital_gbp_per_year
                     for site in instance.sites))


def test_regret_is_objective_minus_the_runs_optimum(serial_result: Any) -> None:
    """Every run is re-solved outside the sweep (the pipeline's inputs, the MILP of
    :func:`siteopt.wards.solve.optimise`): its optimum, its least cost (the base objective),
    the named options' scores, the stability of every site and the regrets follow."""
    spec, result, _ = serial_result
    solved = [r for r in result.runs if "choice" in r]
    for label, reg in result.regret.items():
        values = [r["scores"][label] - r["objective"] for r in solved]
        assert reg["max_regret"] == pytest.approx(max(values))
        assert all(v >= -1e-6 * abs(r["objective"]) for v, r in zip(values, solved,
                                                                    strict=True)
                   if np.isfinite(v))
    base = load_scenario(spec.base, (), load_geodata(DEFAULT_GEODATA_DIR).assumptions)
    assert base.model.objective == "cost"
    regrets: dict[str, list[float]] = {name: [] for name in spec.named_options}
    keeps: dict[str, list[bool]] = {}
    for run in solved:
        prepared = prepare(DEFAULT_GEODATA_DIR, spec.base,
                           overrides_for(run["params"], base.values))
        assert prepared.scenario.model.max_staff_wte_rn == run["params"]["model.max_staff_wte_rn"]
        sol = optimise(prepared.instance, prepared.scenario.model, prepared.scenario.solver)
        cost = annual_cost_of(prepared.instance, dict(sol.choice))
        assert sol.objective == pytest.approx(cost, rel=1e-6)
        assert run["objective"] == pytest.approx(cost, rel=1e-6)
        assert run["objective"] == pytest.approx(
            annual_cost_of(prepared.instance, run["choice"]), rel=1e-9)
        for site in prepared.instance.sites:
            keeps.setdefault(site.site_id, []).append(
                site.option(run["choice"][site.site_id]).inpatient)
        for name in spec.named_options:
            named = evaluate_configuration(prepared, name)
            score = (np.inf if named.violations
                     else annual_cost_of(prepared.evaluation_instance, dict(named.choice)))
            assert run["scores"][name] == pytest.approx(score, rel=1e-9)
            regrets[name].append(score - cost)
    assert result.stability == pytest.approx(
        {site: float(np.mean(kept)) for site, kept in keeps.items()})
    for name, values in regrets.items():
        assert result.regret[name]["max_regret"] == pytest.approx(max(values), rel=1e-6)
        assert result.regret[name]["runs_infeasible"] == sum(not np.isfinite(v)
                                                             for v in values)


def test_resume_does_not_redo_finished_runs(serial_result: Any) -> None:
    spec, first, out = serial_result
    again = run_sweep(spec, DEFAULT_GEODATA_DIR, out, workers=1)
    assert again.resumed == 2 * len(first.runs)  # both phases
    assert comparable(again.runs) == comparable(first.runs)


def test_interrupted_journal_resumes_the_rest(tmp_path: Path, serial_result: Any) -> None:
    spec, first, out = serial_result
    lines = (out / "runs.jsonl").read_text().splitlines()
    inputs_line = lines[0]
    assert json.loads(inputs_line)["phase"] == "inputs"
    solve_lines = [x for x in lines if json.loads(x)["phase"] == "solve"]
    (tmp_path / "runs.jsonl").write_text("\n".join([inputs_line, *solve_lines[:2]])
                                         + "\n{\"cut")
    again = run_sweep(spec, DEFAULT_GEODATA_DIR, tmp_path, workers=1)
    assert again.resumed == 2
    assert comparable(again.runs) == comparable(first.runs)


def test_two_processes_give_the_serial_results(tmp_path: Path, serial_result: Any) -> None:
    """Both phases on one pool of 2 spawned workers (the scoring phase on the contexts the
    solves sent back): the same runs, scores and journal lines as serially."""
    spec, first, out = serial_result
    result = run_sweep(spec, DEFAULT_GEODATA_DIR, tmp_path / "proc", workers=2)
    assert comparable(result.runs) == comparable(first.runs)

    def lines(folder: Path) -> list[str]:
        recs = [json.loads(x) for x in (folder / "runs.jsonl").read_text().splitlines()[1:]]
        return sorted(json.dumps({k: v for k, v in r.items() if k != "seconds"},
                                 sort_keys=True) for r in recs)

    assert lines(tmp_path / "proc") == lines(out)
    assert not any(CONTEXT_KEY in x for x in lines(tmp_path / "proc"))


def test_scoring_without_contexts_prepares_again(tmp_path: Path, serial_result: Any) -> None:
    """The scoring phase of a run resumed from the journal (no context kept) prepares it
    again and scores the same."""
    spec, first, out = serial_result
    lines = (out / "runs.jsonl").read_text().splitlines()
    keep = [x for x in lines if json.loads(x)["phase"] in ("inputs", "solve")]
    (tmp_path / "runs.jsonl").write_text("\n".join(keep) + "\n")
    again = run_sweep(spec, DEFAULT_GEODATA_DIR, tmp_path, workers=1)
    assert again.resumed == len(first.runs)
    assert comparable(again.runs) == comparable(first.runs)


def test_guided_batches_cover_every_item_once() -> None:
    for n, workers in ((200, 2), (9, 2), (1, 4), (0, 2), (37, 1)):
        parts = batches(n, workers)
        assert [i for part in parts for i in part] == list(range(n))
        sizes = [len(part) for part in parts]
        assert sizes == sorted(sizes, reverse=True) and (not sizes or sizes[-1] == 1)
    assert [len(p) for p in batches(200, 2)][:3] == [13, 12, 11]
    assert len(batches(9, 2)) == 9  # few items (the national regions): one per batch


def test_executor_runs_in_order_serially_and_all_in_parallel() -> None:
    with Executor(1) as serial:
        assert serial.run_all(abs, [-3, 1, -2]) == [3, 1, 2]
    got: list[int] = []
    with Executor(2) as pool:
        first = pool.run_all(abs, list(range(-20, 0)), on_result=got.append)
        second = pool.run_all(abs, [-5, 5])  # the same pool again
    assert sorted(first) == list(range(1, 21)) and sorted(got) == sorted(first)
    assert sorted(second) == [5, 5]


def test_dask_cluster_gives_the_serial_results(tmp_path: Path, serial_result: Any) -> None:
    distributed = pytest.importorskip("distributed")
    spec, first, _ = serial_result
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        result = run_sweep(spec, DEFAULT_GEODATA_DIR, tmp_path / "dask", workers=1,
                           scheduler=cluster.scheduler_address)
    assert comparable(result.runs) == comparable(first.runs)


def test_whatif_cli_compares_against_the_first() -> None:
    result = CliRunner().invoke(cli, ["whatif", str(SCENARIOS / "base.toml"),
                                      str(SCENARIOS / "home_first_plus_10.toml"),
                                      str(SCENARIOS / "no_extra_nurses.toml")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("what-if against base")
    assert "home-first-plus-10 against base:" in out
    assert "rehab beds: " in out
    assert "twenty-fewer-nurses against base:\n  no solution: The scenario is infeasible: " \
           "the registered-nurse limit of 123.0 WTE is" in out


def test_example_scenarios_all_load() -> None:
    from siteopt.data.load import load_geodata
    from siteopt.runs.scenario import load_scenario

    assumptions = load_geodata(DEFAULT_GEODATA_DIR).assumptions
    for path in sorted(SCENARIOS.glob("*.toml")):
        if path.name.startswith("sweep"):
            assert load_spec(path).runs >= 1
        else:
            assert load_scenario(path, (), assumptions).name

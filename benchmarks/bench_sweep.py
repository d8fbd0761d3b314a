"""Runs per second of an LLR sweep: serial, 2 local worker processes, a 2-worker Dask cluster.

Run: python3 benchmarks/bench_sweep.py [--runs 200] [--modes serial,processes,dask]
                                       [--compare /path/to/other/checkout]
     python3 benchmarks/bench_sweep.py --breakdown 20

Each mode starts from an empty output folder (no resume) and runs the same Latin-hypercube
sample of scenarios/sweep_llr.toml (both phases: the solves, then the candidates' scores), in a
fresh Python process of its own. With ``--compare DIR`` every mode also runs on the siteopt of
the checkout DIR (``PYTHONPATH=DIR``, spawned workers inherit it), alternating with this one,
so that the two are measured side by side under the same machine load. Every run's results
(all but timings) are digested: the table says whether every mode of every checkout gave the
serial run's results.

``--breakdown N`` times the stages of N runs in this process instead (prepare, the MILP, and
scoring the named options and the 5 most frequent optima both ways: by the exact path alone, as
before, and by the fast path with the exact path where it is not certain), checks that the two
ways give the same scores, and counts how often the fast path was certain.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
RESULT_KEYS = ("run_id", "params", "status", "gap", "objective", "choice", "beds", "measures",
               "violations", "scores", "message")


def results_digest(runs: list[dict[str, Any]]) -> str:
    """SHA-256 of every run's results (everything but its timings)."""
    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    rows = [clean({k: r.get(k) for k in RESULT_KEYS}) for r in runs]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def one(mode: str, runs: int) -> dict[str, Any]:
    """One mode in this process, on whichever siteopt it imports."""
    import siteopt
    from siteopt.paths import DEFAULT_GEODATA_DIR, REPO_DIR
    from siteopt.runs.sweep import load_spec, run_sweep

    spec = dataclasses.replace(load_spec(REPO_DIR / "scenarios" / "sweep_llr.toml"), runs=runs)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        if mode == "dask":
            from distributed import LocalCluster

            with LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address=None) as cluster:
                ready = time.perf_counter()
                result = run_sweep(spec, DEFAULT_GEODATA_DIR, out,
                                   scheduler=cluster.scheduler_address)
        else:
            ready = start
            result = run_sweep(spec, DEFAULT_GEODATA_DIR, out,
                               workers=1 if mode == "serial" else 2)
        end = time.perf_counter()
    worker_s = sum(float(r.get("seconds", 0.0)) for r in result.runs)
    return {"mode": mode, "siteopt": str(Path(siteopt.__file__).parent.parent),
            "runs": len(result.runs), "wall_s": end - start, "cluster_start_s": ready - start,
            "failed": len(result.failed), "solve_phase_worker_s_per_run": worker_s / runs,
            "load_before": load_before, "load_after": os.getloadavg()[0],
            "results_sha256": results_digest(result.runs)}


def breakdown(runs: int) -> None:
    """Per-run stage times on this checkout, both scoring paths side by side (see above)."""
    from collections import Counter, defaultdict

    from siteopt.data.load import load_inputs
    from siteopt.errors import SiteoptError
    from siteopt.paths import DEFAULT_GEODATA_DIR, REPO_DIR
    from siteopt.runs.pipeline import evaluate_configuration, optimise_scenario, prepare
    from siteopt.runs.pipeline import travel_times as shared_travel
    from siteopt.runs.scenario import load_scenario
    from siteopt.runs.sweep import (
        ScoringContext,
        candidate_scores,
        load_spec,
        named_score,
        overrides_for,
        sample,
        settings_objective,
    )
    from siteopt.wards.score import fast_score
    from siteopt.wards.solve import evaluate

    spec = dataclasses.replace(load_spec(REPO_DIR / "scenarios" / "sweep_llr.toml"), runs=runs)
    inputs = load_inputs(DEFAULT_GEODATA_DIR)
    travel = shared_travel(inputs)
    base = load_scenario(spec.base, (), inputs.data.assumptions)
    clock: dict[str, float] = defaultdict(float)
    prepared = []
    choices: Counter[str] = Counter()
    for values in sample(spec):
        t0 = time.perf_counter()
        p = prepare(DEFAULT_GEODATA_DIR, spec.base, overrides_for(values, base.values),
                    inputs=inputs, travel=travel)
        t1 = time.perf_counter()
        with contextlib.suppress(SiteoptError):  # an infeasible run has no optimum
            choices[json.dumps(dict(optimise_scenario(p).choice), sort_keys=True)] += 1
        clock["prepare"] += t1 - t0
        clock["optimise (MILP, tie-break, explanations)"] += time.perf_counter() - t1
        prepared.append(p)
    cands = [(f"candidate_{k + 1}", json.loads(text))
             for k, (text, _) in enumerate(choices.most_common(spec.candidates))]
    certain: Counter[str] = Counter()
    for p in prepared:
        s = p.scenario
        t0 = time.perf_counter()
        exact: dict[str, float] = {}
        for name in spec.named_options:
            try:
                sol = evaluate_configuration(p, name)
                exact[name] = math.inf if sol.violations else settings_objective(
                    s.model, p.evaluation_instance, sol)
            except SiteoptError:
                exact[name] = math.inf
        for label, choice in cands:
            try:
                sol = evaluate(p.instance, choice, s.model, s.solver, label=label)
                exact[label] = math.inf if sol.violations else settings_objective(
                    s.model, p.instance, sol)
            except (SiteoptError, KeyError):
                exact[label] = math.inf
        t1 = time.perf_counter()
        fast = {name: named_score(p, name) for name in spec.named_options}
        fast.update(candidate_scores(ScoringContext(p.instance, s.model, s.solver), cands))
        t2 = time.perf_counter()
        assert fast == exact, (fast, exact)
        certain["candidates certain"] += sum(
            fast_score(p.instance, c, s.model, s.solver) is not None for _, c in cands)
        clock["score 7 options: exact path (before)"] += t1 - t0
        clock["score 7 options: fast path (after)"] += t2 - t1
    print(f"{runs} runs, per run (s):")
    for stage, seconds in clock.items():
        print(f"  {stage}: {seconds / runs:.3f}")
    print(f"  fast path certain for {certain['candidates certain']} of {runs * len(cands)} "
          "candidate scores (named options: see tests/test_score.py); scores equal: yes")


def measure(mode: str, runs: int, tree: Path | None) -> dict[str, Any]:
    """:func:`one` in a fresh process, on the siteopt of ``tree`` (None: this checkout)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    with tempfile.NamedTemporaryFile(suffix=".json") as handle:
        subprocess.run([sys.executable, str(HERE), "--one", mode, "--runs", str(runs),
                        "--result", handle.name], cwd=tree or HERE.parent.parent, env=env,
                       check=True)
        doc: dict[str, Any] = json.loads(Path(handle.name).read_text())
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--modes", default="serial,processes,dask")
    parser.add_argument("--compare", type=Path, help="another checkout to measure alongside")
    parser.add_argument("--breakdown", type=int, metavar="N",
                        help="time the stages of N runs in this process instead")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.breakdown:
        breakdown(args.breakdown)
        return
    if args.one:
        args.result.write_text(json.dumps(one(args.one, args.runs)))
        return
    trees: list[tuple[str, Path | None]] = [("this", None)]
    if args.compare:
        trees.append(("compare", args.compare.resolve()))
    rows = []
    for mode in args.modes.split(","):
        for name, tree in trees:
            row = {"tree": name, **measure(mode, args.runs, tree)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    serial = {r["tree"]: r["wall_s"] for r in rows if r["mode"] == "serial"}
    reference = rows[0]["results_sha256"]
    print("\n| checkout | mode | wall s | s per run | runs/s | x serial | solve-phase worker s "
          "per run | load avg | results = first row |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        speedup = serial.get(r["tree"], math.nan) / r["wall_s"]
        print(f"| {r['tree']} ({r['siteopt']}) | {r['mode']} | {r['wall_s']:.1f} | "
              f"{r['wall_s'] / r['runs']:.2f} | {r['runs'] / r['wall_s']:.2f} | "
              f"{speedup:.2f} | {r['solve_phase_worker_s_per_run']:.2f} | "
              f"{r['load_before']:.1f}-{r['load_after']:.1f} | "
              f"{'yes' if r['results_sha256'] == reference else 'NO'} |")


if __name__ == "__main__":
    main()

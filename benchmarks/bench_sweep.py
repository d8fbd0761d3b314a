"""Runs per second of an LLR sweep: serial, 2 local worker processes, a 2-worker Dask cluster.

Run: python3 benchmarks/bench_sweep.py [--runs 200]

Each mode starts from an empty output folder (no resume) and runs the same Latin-hypercube
sample of scenarios/sweep_llr.toml (both phases: the solves, then the candidates' scores).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

from siteopt.paths import DEFAULT_GEODATA_DIR, REPO_DIR
from siteopt.runs.sweep import load_spec, run_sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--modes", default="serial,processes,dask")
    args = parser.parse_args()
    spec = dataclasses.replace(load_spec(REPO_DIR / "scenarios" / "sweep_llr.toml"),
                               runs=args.runs)
    for mode in args.modes.split(","):
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
        solve_s = sum(float(r.get("seconds", 0.0)) for r in result.runs)
        print(f"{mode:>9}: {len(result.runs)} runs in {end - start:6.1f} s "
              f"({len(result.runs) / (end - start):.2f} runs/s; cluster start "
              f"{ready - start:.1f} s; {len(result.failed)} infeasible; mean per-run "
              f"worker time {solve_s / len(result.runs):.2f} s)")


if __name__ == "__main__":
    main()

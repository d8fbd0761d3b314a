"""Benchmark the whole options appraisal on LLR; prints a Markdown table.

Usage::

    python benchmarks/bench_appraise.py [--repeats 1] [--milp-frontier]

Measures ``siteopt appraise`` as a command in a fresh process (validate, travel times, the long
list, enumeration, measures, Green Book, report, maps), the in-process stage timings of the
appraisal, and with ``--milp-frontier`` the epsilon-constraint frontier walked with the MILP on
full LLR (minutes; checked against the enumeration's efficient set).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from siteopt.appraisal.appraise import appraise
from siteopt.appraisal.frontier import frontier_matches, pareto_frontier
from siteopt.appraisal.measures import annual_cost, mean_travel
from siteopt.appraisal.settings import AppraisalSettings
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import prepare

TARGET_S = 60.0


def command_seconds(repeats: int) -> list[float]:
    """Wall-clock seconds of ``siteopt appraise`` in a fresh process, per repeat."""
    out = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "siteopt", "appraise", "--out",
                            str(Path(tmp) / "run")], check=True, capture_output=True)
            out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--milp-frontier", action="store_true")
    args = parser.parse_args()

    cmd = command_seconds(args.repeats)
    start = time.perf_counter()
    prepared = prepare(DEFAULT_GEODATA_DIR)
    t_prepare = time.perf_counter() - start
    settings = AppraisalSettings.from_assumptions(prepared.data.assumptions.values)
    start = time.perf_counter()
    a = appraise(prepared, settings)
    t_appraise = time.perf_counter() - start
    enum = a.enumeration
    print("| step | time |")
    print("|---|---|")
    print(f"| `siteopt appraise`, whole command, fresh process (median of {len(cmd)}) | "
          f"**{statistics.median(cmd):.1f} s** (target < {TARGET_S:.0f} s) |")
    print(f"| prepare (geodata, travel matrix from cache, demand, catalogue) | "
          f"{t_prepare:.2f} s |")
    print(f"| appraisal in process (no report, no maps) | {t_appraise:.1f} s |")
    for key, val in a.timings_s.items():
        print(f"| - {key.removesuffix('_s').replace('_', ' ')} | {val:.2f} s |")
    print()
    print(f"options: {len(a.options)}; Pareto points: {len(a.frontier)}; preferred: "
          f"{a.preferred}; enumeration: "
          + ("none" if enum is None else
             f"{enum.n_configurations:,} configurations, {enum.n_meeting_limits:,} within the "
             f"limits, {len(enum.efficient())} efficient"))
    print(f"frontier check: {a.frontier_check}")
    if args.milp_frontier:
        start = time.perf_counter()
        sols = pareto_frontier(prepared, prepared.scenario.solver,
                               settings.pareto_cost_step_gbp_per_year)
        t_milp = time.perf_counter() - start
        inst = prepared.evaluation_instance
        pts = [(mean_travel(inst, s), annual_cost(inst, s.choice)) for s in sols]
        ok = frontier_matches(pts, enum, settings.pareto_cost_step_gbp_per_year) \
            if enum is not None else (False, "not enumerated")
        print(f"MILP epsilon-constraint frontier on full LLR: {len(sols)} points in "
              f"{t_milp:.0f} s; equals the enumeration: {ok}")


if __name__ == "__main__":
    main()

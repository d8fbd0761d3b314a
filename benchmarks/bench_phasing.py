"""Benchmark the phasing MILP on LLR over a ten-year horizon (issue 19; target under 10 s).

Usage::

    python benchmarks/bench_phasing.py [--repeats 3] [--out FILE.md]

For each case (the 2016 proposal and the base case's optimum, each under a stated envelope,
with each objective) it times, in one process and side by side: building the phasing input
from a prepared scenario (scheme data, ten years of bed need, the access measure of every
intermediate configuration for the access objective), building the PuLP model, and solving
its stages with HiGHS (and CBC for the least-NPC case). The scenario is prepared once (the
travel matrix from the cache), as ``siteopt phase`` does before phasing. Prints a Markdown
table (medians of the repeats) and writes it to ``--out`` if given.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import time
from pathlib import Path

from siteopt.appraisal.phasing import build_phase_input, target_choice
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import prepare
from siteopt.wards.phasing_model import build_phasing_model
from siteopt.wards.phasing_solve import solve_phasing

TARGET_S = 10.0
OPTION_D = {"coalville": "rehab24+stroke24", "loughborough": "rehab24",
            "hinckley_bosworth": "rehab21+rehab16", "hinckley_district": "closed",
            "evington": "rehab24+rehab21+stroke15", "melton": "rehab21", "oakham": "closed",
            "market_harborough": "rehab15+stroke15", "lutterworth": "closed"}
"""The appraisal's preferred option on the embedded data (Option D, ``pareto_11``)."""
HORIZON = ["phasing.first_year=2026", "phasing.last_year=2035"]
CASES = [
    # (label, option, envelope overrides, objective, solver)
    ("stp_2016, net 4m a year", "stp_2016", ["phasing.capital_limit_other_years_gbp=4e6"],
     "npc", "highs"),
    ("stp_2016, net 4m a year", "stp_2016", ["phasing.capital_limit_other_years_gbp=4e6"],
     "npc", "cbc"),
    ("stp_2016, net 4m a year", "stp_2016", ["phasing.capital_limit_other_years_gbp=4e6"],
     "completion", "highs"),
    ("stp_2016, net 4m a year", "stp_2016", ["phasing.capital_limit_other_years_gbp=4e6"],
     "access", "highs"),
    ("optimal, net 4m a year", "optimal", ["phasing.capital_limit_other_years_gbp=4e6"],
     "npc", "highs"),
    ("option D (preferred), net 4m a year", OPTION_D,
     ["phasing.capital_limit_other_years_gbp=4e6"], "npc", "highs"),
    ("option D, net 4m a year, shortfall only reported", OPTION_D,
     ["phasing.capital_limit_other_years_gbp=4e6", "phasing.shortfall_first=false"],
     "completion", "highs"),
    ("optimal, net 4m a year", "optimal", ["phasing.capital_limit_other_years_gbp=4e6"],
     "access", "highs"),
    ("stp_2016, gross 3m a year (infeasible)", "stp_2016",
     ["phasing.capital_limit_other_years_gbp=3e6", 'phasing.capital_basis="gross"'],
     "npc", "highs"),
]


def run_case(option: str | dict[str, str], overrides: list[str], objective: str, solver: str,
             repeats: int) -> dict[str, object]:
    prepared = prepare(DEFAULT_GEODATA_DIR, None,
                       [*HORIZON, *overrides, f'phasing.objective="{objective}"'])
    _, target = target_choice(prepared, option)  # the optimum is solved once, not timed
    options = dataclasses.replace(prepared.scenario.solver,
                                  solver=solver)  # type: ignore[arg-type]
    inputs, builds, solves, totals = [], [], [], []
    status, size = "", (0, 0)
    for _ in range(repeats):
        t0 = time.perf_counter()
        pi = build_phase_input(prepared, target)
        t1 = time.perf_counter()
        model = build_phasing_model(pi.instance, objective)  # type: ignore[arg-type]
        t2 = time.perf_counter()
        schedule = solve_phasing(pi.instance, objective, options,  # type: ignore[arg-type]
                                 shortfall_first=prepared.scenario.phasing.shortfall_first)
        t3 = time.perf_counter()
        inputs.append(t1 - t0)
        builds.append(t2 - t1)
        solves.append(schedule.solve_time_s)
        totals.append(t3 - t2 + (t1 - t0))
        status = schedule.status_text
        size = (model.n_variables, model.n_constraints)
    return {"input_s": statistics.median(inputs), "build_s": statistics.median(builds),
            "solve_s": statistics.median(solves), "total_s": statistics.median(totals),
            "status": status, "size": size, "sites": pi.instance.n_sites}


def joint_case(overrides: list[str], repeats: int) -> str:
    """A table row for choosing the end state with its phasing (the whole call timed)."""
    from siteopt.appraisal.phasing import phase_jointly

    prepared = prepare(DEFAULT_GEODATA_DIR, None, [*HORIZON, *overrides])
    totals, builds, solves = [], [], []
    plan = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        plan = phase_jointly(prepared)
        totals.append(time.perf_counter() - t0)
        builds.append(plan.build_time_s)
        solves.append(plan.solve_time_s)
    assert plan is not None
    return (f"| end state chosen with its phasing, net 4m a year | npc | highs | "
            f"{len(plan.site_moves)} | {plan.n_variables} / {plan.n_constraints} | - | "
            f"{statistics.median(builds):.3f} | {statistics.median(solves):.3f} | "
            f"{statistics.median(totals):.3f} | {plan.status_text} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    load = os.getloadavg()
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"at the start (other agents running: timings are noisy). Medians of {args.repeats} "
        "repeats, in one process. Horizon 2026/27-2035/36 (ten years).",
        "",
        "| case | objective | solver | sites moving | variables / rows | input (s) | "
        "model build (s) | solve, all stages (s) | input + build + solve (s) | status |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    worst = 0.0
    for label, option, overrides, objective, solver in CASES:
        r = run_case(option, overrides, objective, solver, args.repeats)
        worst = max(worst, float(r["total_s"]))  # type: ignore[arg-type]
        v, c = r["size"]  # type: ignore[misc]
        lines.append(f"| {label} | {objective} | {solver} | {r['sites']} | {v} / {c} | "
                     f"{r['input_s']:.3f} | {r['build_s']:.3f} | {r['solve_s']:.3f} | "
                     f"{r['total_s']:.3f} | {r['status']} |")
    lines.append(joint_case(["phasing.capital_limit_other_years_gbp=4e6"], args.repeats))
    joint = float(lines[-1].split("|")[9])
    lines += ["", f"Phasing a given configuration: slowest case {worst:.2f} s against the "
              f"{TARGET_S:.0f} s target: " + ("met." if worst < TARGET_S else "NOT met.")
              + f" Choosing the end state with its phasing (the optional flag, the whole ward "
              f"model inside): {joint:.1f} s, over the target."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

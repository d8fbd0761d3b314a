"""Benchmark the site MILP: model build vs solve, both solvers, LLR-sized and scale instances.

Usage::

    python benchmarks/bench_model.py --size llr                    # 9 sites x 650 zones
    python benchmarks/bench_model.py --size mid --time-limit 300   # 50 x 5,000
    python benchmarks/bench_model.py --size scale --time-limit 300 --solvers highs

Instances are seeded synthetic worlds (:mod:`siteopt.wards.synthetic`): 0-3 rehab wards per site,
0-1 stroke ward at 40% of sites, demand at half of the largest possible capacity, drive times
from straight-line distance. Scenario: minimise the weighted mean drive time subject to a net
capital limit (a quarter of the capex of building every site to its maximum), the 90-minute
maximum drive time, at most a quarter of sites with an isolated ward; assignment to each zone's
``k`` nearest sites per service. Prints one Markdown table row per run.
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import replace

import highspy
import pulp

from siteopt.wards.enumerate import enumerate_optimum
from siteopt.wards.heuristic import greedy_choice
from siteopt.wards.instance import Instance, ModelSettings
from siteopt.wards.model import build_model
from siteopt.wards.solve import SolverOptions, solve_model

SIZES = {"llr": (9, 650), "mid": (50, 5_000), "scale": (200, 35_000)}
SEED = 2026
MAX_TRAVEL_MIN = 90.0
CAPITAL_SHARE = 0.25
ISOLATED_SHARE = 0.25


def scenario(instance: Instance, objective: str, k_nearest: int | None) -> ModelSettings:
    most_capex = sum(max(o.capex_gbp for o in s.options) for s in instance.sites)
    return ModelSettings(
        objective=objective,  # type: ignore[arg-type]
        max_travel_min=MAX_TRAVEL_MIN,
        capital_limit_gbp=CAPITAL_SHARE * most_capex,
        max_isolated_wards=int(ISOLATED_SHARE * instance.n_sites),
        k_nearest=k_nearest,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="llr")
    ap.add_argument("--solvers", default="highs,cbc")
    ap.add_argument("--objective", default="access", choices=["access", "cost", "weighted"])
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--gap", type=float, default=0.01, help="relative gap to stop at")
    ap.add_argument("--k", type=int, default=8, help="k nearest sites per zone and service")
    ap.add_argument("--warm", action="store_true", help="warm start from the greedy heuristic")
    ap.add_argument("--no-link", action="store_true", help="drop the x <= open linking rows")
    ap.add_argument("--link-k", type=int, default=None, help="linking rows for k nearest only")
    ap.add_argument("--enumerate", action="store_true", help="also run the exhaustive oracle")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument(
        "--highs-option", action="append", default=[], help="NAME=VALUE, e.g. mip_lp_solver=ipm"
    )
    args = ap.parse_args()

    from siteopt.wards.synthetic import synthetic_instance

    n_sites, n_zones = SIZES[args.size]
    t0 = time.perf_counter()
    inst = synthetic_instance(n_sites, n_zones, seed=SEED)
    gen_s = time.perf_counter() - t0
    settings = scenario(inst, args.objective, args.k)
    if args.no_link:
        settings = replace(settings, tight_linking=False)
    if args.link_k is not None:
        settings = replace(settings, link_k_nearest=args.link_k)
    print(
        f"# {platform.python_version()}, PuLP {pulp.__version__}, highspy "
        f"{highspy.Highs().version()}, instance {inst.name} generated in {gen_s:.2f} s"
    )
    start = None
    if args.warm:
        t0 = time.perf_counter()
        start = greedy_choice(inst, settings)
        print(f"# greedy start in {time.perf_counter() - t0:.2f} s: {start is not None}")
    highs_options = dict(o.split("=", 1) for o in args.highs_option)
    if highs_options:
        print(f"# HiGHS options: {highs_options}")
    print(
        "| instance | objective | k | solver | vars / rows | build s | solve s | status | gap "
        "| value |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for solver in args.solvers.split(","):
        for _ in range(args.repeat):
            model = build_model(inst, settings)
            out = solve_model(
                model,
                SolverOptions(
                    solver=solver,  # type: ignore[arg-type]
                    time_limit_s=args.time_limit,
                    gap_rel=args.gap,
                    highs_options=highs_options,
                ),
                initial_choice=start,
            )
            gap = "-" if out.gap is None else f"{100 * out.gap:.2f}%"
            value = "-" if out.objective is None else f"{out.objective:.4f}"
            print(
                f"| {n_sites} x {n_zones:,} | {args.objective} | {args.k} | {solver} | "
                f"{model.n_variables:,} / {model.n_constraints:,} | {model.build_time_s:.2f} | "
                f"{out.solve_time_s:.2f} | {out.status} | {gap} | {value} |",
                flush=True,
            )
    if args.enumerate:
        t0 = time.perf_counter()
        res = enumerate_optimum(inst, replace(settings, k_nearest=None))
        print(
            f"# enumeration: {res.n_configurations:,} configurations, {res.n_after_limits:,} "
            f"within limits, {res.n_lps} LPs, objective {res.objective:.6f}, "
            f"{time.perf_counter() - t0:.2f} s"
        )


if __name__ == "__main__":
    main()

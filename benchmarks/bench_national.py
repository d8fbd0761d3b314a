"""Benchmark the national throughput model: whole England (34,752 LSOAs x 125 stroke units).

Usage::

    python benchmarks/bench_national.py                         # whole instance, 300 s budget
    python benchmarks/bench_national.py --region east_midlands  # the CI slice
    python benchmarks/bench_national.py --max-sites 90 --no-warm-start

Reads ``regions/england_stroke.toml`` (the raw files in ../shared/geodata/england), runs
``siteopt.national.run`` (column generation on the LP relaxation, greedy-drop warm start, MILP,
polish; then the comparators) and prints the split of the time, the gap proven against the full
problem, peak memory (ru_maxrss of this process) and the headline access figures, plus one
Markdown table row for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from datetime import date

import highspy

from siteopt.national.run import DEFAULT_SPEC, load, run, settings_from_spec
from siteopt.national.solve import ThroughputOptions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region", default=None)
    ap.add_argument("--objective", choices=["access", "units", "weighted"], default=None)
    ap.add_argument("--minutes-per-site", type=float, default=None)
    ap.add_argument("--max-sites", type=int, default=None)
    ap.add_argument("--max-travel-min", type=float, default=None)
    ap.add_argument("--min-per-site", type=float, default=None)
    ap.add_argument("--k-nearest", type=int, default=None)
    ap.add_argument("--link-k", type=int, default=None)
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--gap", type=float, default=0.002)
    ap.add_argument("--lp-solver", default="ipm")
    ap.add_argument("--mip-lp-solver", default="choose")
    ap.add_argument("--by-region", action="store_true")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--no-warm-start", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    spec, region, load_s = load(DEFAULT_SPEC, args.region)
    settings = settings_from_spec(spec, {
        "objective": args.objective, "minutes_per_site": args.minutes_per_site,
        "max_travel_min": args.max_travel_min,
        "max_sites": args.max_sites, "min_per_site": args.min_per_site,
        "k_nearest": args.k_nearest, "link_k_nearest": args.link_k})
    options = ThroughputOptions(time_limit_s=args.time_limit, gap_rel=args.gap,
                                lp_solver=args.lp_solver, mip_lp_solver=args.mip_lp_solver,
                                warm_start=not args.no_warm_start)
    result = run(region, settings, options, load_s, by_region=args.by_region,
                 workers=args.workers)
    wall = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    best = result.solutions[0]
    tm = best.timings_s
    opt_total = tm["total"]
    print(f"machine: {platform.node()} {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, HiGHS {highspy.Highs().version()}, {date.today()}")
    print(f"instance: {region.n_zones:,} zones x {region.n_sites} sites, "
          f"{best.sizes['allowed_pairs']:,} allowed pairs; model {best.sizes['columns']:,} "
          f"columns x {best.sizes['rows']:,} rows ({best.sizes['pairs']:,} pairs, "
          f"{best.sizes['pairs_added']} added by pricing in {best.sizes['pricing_rounds']} rounds)")
    print(f"settings: objective {settings.objective} (minutes per site "
          f"{settings.minutes_per_site}), max travel {settings.max_travel_min}, "
          f"min {settings.min_per_site}, max {settings.max_per_site}, "
          f"max sites {settings.max_sites}, k {settings.k_nearest}, link k "
          f"{settings.link_k_nearest}, warm start {options.warm_start}, LP {options.lp_solver}, "
          f"MILP LP {options.mip_lp_solver}, by region {args.by_region}")
    print(f"time: load {load_s:.1f} s; optimise {opt_total:.1f} s = build {tm['build']:.1f} + "
          f"LP {tm['lp']:.1f} + pricing {tm['pricing']:.1f} + greedy {tm['greedy']:.1f} + "
          f"MILP {tm['mip']:.1f} + polish {tm['polish']:.1f}; build share "
          f"{tm['build'] / opt_total:.1%}; whole run with comparators {wall:.1f} s")
    highs_gap = "n/a" if best.highs_gap is None else f"{best.highs_gap:.2%}"
    print(f"result: {best.status} (HiGHS on its column set: {highs_gap}); peak RSS "
          f"{peak_gb:.2f} GB")
    if args.by_region:
        dec = result.solutions[-1].timings_s
        print(f"decomposition by region (warm start): {dec['total']:.1f} s on {args.workers} "
              f"worker(s), slowest region {dec['slowest_region']:.1f} s; decomposition + "
              f"optimise {dec['total'] + opt_total:.1f} s")
    for sol, m in zip(result.solutions, result.measures(), strict=True):
        print(f"  {sol.method:<13} sites {m['open_sites']:>3}  mean {m['mean_travel_min']:.2f}  "
              f"max {m['max_travel_min']:.1f}  <=30 {m['share_within_30_min']:.1%}  "
              f"<=45 {m['share_within_45_min']:.1%}  <=60 {m['share_within_60_min']:.1%}  "
              f"per site {m['per_site_min']:,.0f}-{m['per_site_max']:,.0f}  "
              f"<min {m['sites_below_min']} >max {m['sites_above_max']}")
    for note in best.notes:
        print(f"note: {note}")
    m0 = result.measures()[0]
    print(f"| {region.n_zones:,} x {region.n_sites} | {settings.max_sites} | "
          f"{'warm' if options.warm_start else 'cold'} | {tm['build']:.1f} | {opt_total:.0f} | "
          f"{best.status} | {peak_gb:.2f} | {m0['open_sites']} | {m0['mean_travel_min']:.2f} | "
          f"{m0['share_within_30_min']:.1%} / {m0['share_within_45_min']:.1%} / "
          f"{m0['share_within_60_min']:.1%} |")


if __name__ == "__main__":
    main()

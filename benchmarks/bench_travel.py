"""Benchmark the road graph and travel-time matrices; prints a Markdown table.

Usage::

    python benchmarks/bench_travel.py [--repeats 3]

Measures (median of ``--repeats`` runs): loading the default graph (arrays, and as networkx);
the LLR matrix (634 zones x 9 sites) with the fast path (scipy CSR) and with networkx, warm
(graph file cached by the OS, no matrix cache) and cold (a fresh Python process: imports, graph
load, snapping, shortest paths; the geodata is loaded and validated first, as every run does), and
a matrix cache hit; a larger matrix (634 zones x 100
candidate points, seeded random positions in LLR); the Rutland OSM build.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from siteopt.data.load import load_geodata
from siteopt.paths import DEFAULT_GEODATA_DIR, REPO_DIR
from siteopt.travel import graph as road_graph
from siteopt.travel import matrix as tr
from siteopt.travel import osm
from siteopt.travel import speeds as road_speeds

ROADS = DEFAULT_GEODATA_DIR / "roads"
GRAPH = ROADS / tr.DEFAULT_GRAPH_NAME
RUTLAND = REPO_DIR.parent / "shared" / "geodata" / "osm" / "rutland-latest-2018.osm.pbf"


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median wall-clock seconds of ``fn()``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = args.repeats
    data = load_geodata(DEFAULT_GEODATA_DIR)
    zones, sites = data.zone_points, data.site_points
    rng = np.random.default_rng(20261124)
    cands = tr.Points(tuple(f"c{i}" for i in range(100)), rng.uniform(52.40, 52.95, 100),
                      rng.uniform(-1.55, -0.45, 100))
    access = tr.AccessModel.from_roads_dir(ROADS)
    arrays = road_graph.load_graph_arrays(GRAPH)
    rows: list[tuple[str, float]] = []
    rows.append(("graph load: arrays (.npz)",
                 timed(lambda: road_graph.load_graph_arrays(GRAPH), n)))
    rows.append(("graph load: networkx DiGraph", timed(lambda: road_graph.load_graph(GRAPH), n)))
    for label, dests in (("634 x 9 (LLR zones x sites)", sites),
                         ("634 x 100 (zones x candidates)", cands)):
        for method in ("csr", "networkx"):
            def run(d: tr.Points = dests, m: tr.Method = method) -> object:
                return tr.matrix_from_arrays(arrays, zones, d, access, method=m)
            rows.append((f"matrix {label}, {method}, warm (graph loaded)", timed(run, n)))

        def uncached(d: tr.Points = dests) -> object:
            return tr.travel_matrix(GRAPH, zones, d)
        rows.append((f"matrix {label}, csr, incl. graph load, no cache", timed(uncached, n)))
    with tempfile.TemporaryDirectory() as tmp:
        tr.zone_site_travel(data, cache_dir=Path(tmp))
        rows.append(("zone_site_travel, cache hit",
                     timed(lambda: tr.zone_site_travel(data, cache_dir=Path(tmp)), n)))
        code = ("from pathlib import Path; from siteopt.travel.matrix import zone_site_travel; "
                "from siteopt.data.load import load_geodata; "
                "from siteopt.paths import DEFAULT_GEODATA_DIR; "
                "zone_site_travel(load_geodata(DEFAULT_GEODATA_DIR), "
                f"cache_dir=Path({tmp!r}) / 'cold')")

        def cold() -> None:
            for f in (Path(tmp) / "cold").glob("*"):
                f.unlink()
            subprocess.run([sys.executable, "-c", code], check=True)

        rows.append(("634 x 9 cold: fresh process, imports + geodata load + graph load + "
                     "matrix, no cache",
                     timed(cold, n)))
    if RUTLAND.exists():
        report: list[road_graph.BuildReport] = []

        def build() -> None:
            report.append(osm.build_osm_graph(RUTLAND, ROADS)[1])

        rows.append(("Rutland OSM build (read, simplify, SCC)", timed(build, n)))
        # a larger graph: the Rutland OSM graph before simplification (largest SCC only)
        speeds = road_speeds.read_speeds(ROADS / "speeds.csv")
        params = road_speeds.read_parameters(ROADS / "parameters.csv")
        raw = road_graph.largest_scc(osm.osm_to_graph(RUTLAND, speeds, params))
        big = road_graph.graph_to_arrays(raw)
        rut = tr.Points(tuple(f"r{i}" for i in range(100)), rng.uniform(52.55, 52.74, 100),
                        rng.uniform(-0.80, -0.47, 100))
        for method in ("csr", "networkx"):
            def run_big(m: tr.Method = method) -> object:  # type: ignore[assignment]
                return tr.matrix_from_arrays(big, zones, rut, access, method=m)
            rows.append((f"Rutland OSM unsimplified ({len(big.node_id)} nodes, "
                         f"{len(big.edge_u)} edges): 634 x 100, {method}", timed(run_big, n)))
    print(f"| task | seconds (median of {n}) |")
    print("|---|---|")
    for label, sec in rows:
        print(f"| {label} | {sec:.3f} |")
    print()
    print(f"default graph: {len(arrays.node_id)} nodes, {len(arrays.edge_u)} edges, "
          f"{GRAPH.stat().st_size / 1e6:.2f} MB")
    if RUTLAND.exists():
        r = report[-1]
        print(f"Rutland: {r.raw_nodes} -> {r.nodes} nodes, {r.raw_edges} -> {r.edges} edges")


if __name__ == "__main__":
    main()

"""Time the geodata build and the full validation of the embedded LLR data.

Run: python3 benchmarks/bench_geodata.py [--raw ../shared/geodata]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from siteopt.data.build import build_geodata
from siteopt.data.load import load_geodata
from siteopt.paths import DEFAULT_GEODATA_DIR, REPO_DIR


def median_seconds(func: object, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, default=REPO_DIR.parent / "shared" / "geodata")
    args = parser.parse_args()
    load = median_seconds(lambda: load_geodata(DEFAULT_GEODATA_DIR))
    print(f"load_geodata + validation (median of 5): {load:.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        build = median_seconds(lambda: build_geodata(args.raw, Path(tmp)), repeats=3)
    print(f"geodata build (median of 3): {build:.3f} s")


if __name__ == "__main__":
    main()

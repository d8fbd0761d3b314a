"""The main job (``siteopt appraise`` on the embedded LLR data) before and after, side by side.

Checks out ``--rev`` into a temporary git worktree and runs ``siteopt appraise --out DIR`` with
its code (``PYTHONPATH``) and with this checkout, alternately, ``--repeat`` times each, every run
in a fresh process from an empty output folder, after one untimed warm-up run of each (the
travel matrix cache is warm, as on any run after the first). For each run it records the wall
time, the CPU time the whole machine spent (the forkserver's workers are not the command's
children; so measure on an idle machine) and the main process's own, the main process's peak
resident memory and, from the stage messages the command prints,
when each stage began: so the breakdown is measured in the same runs as the totals.

Usage::

    python3 benchmarks/bench_main_job.py --rev 03ab985 --repeat 3 [--workers 2]

Prints a Markdown table of medians, then each stage's start (seconds from the start of the
process) in the median run of each.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

STAGE_PRINTER = """
import sys, time
T0 = time.perf_counter()
import siteopt.cli.progress as P
_last = [None]
def _call(self, stage, done=None, total=None):
    if stage != _last[0]:
        print(f"@stage {time.perf_counter() - T0:.2f} {stage}", file=sys.stderr, flush=True)
        _last[0] = stage
P.StageProgress.__call__ = _call
from siteopt.cli import main
if __name__ == "__main__":
    main()
"""
"""Runs the command with each stage message printed (with its time) even without a terminal."""


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (``/proc/stat``): the workers
    are forked by a forkserver, not this process's children, so their CPU is read this way
    (it includes anything else running: measure on an idle machine)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_once(pythonpath: str | None, args: list[str], scratch: Path) -> dict[str, Any]:
    """One whole-process run: wall, machine CPU, peak RSS, stage starts."""
    script = scratch / "stages.py"
    script.write_text(STAGE_PRINTER)
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = busy_cpu_s()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script), *args], cwd=scratch, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    cpu = busy_cpu_s() - cpu0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    stages = [(float(line.split()[1]), line.split(" ", 2)[2])
              for line in proc.stderr.splitlines() if line.startswith("@stage ")]
    return {"wall_s": wall,
            "cpu_s": cpu, "own_cpu_s": (after.ru_utime - before.ru_utime)
            + (after.ru_stime - before.ru_stime),
            "peak_mib": after.ru_maxrss / 1024.0, "stages": stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rev", required=True, help="the commit to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None,
                        help="--workers for this checkout's run (default: its own default)")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="siteopt-bench-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(old),
                        args.rev], check=True, capture_output=True)
        try:
            new_args = ["appraise", "--out", "out"] + (
                ["--workers", str(args.workers)] if args.workers else [])
            plans = {"before": (str(old), ["appraise", "--out", "out"]),
                     "after": (None, new_args)}
            for i in range(args.repeat + 1):
                for label, (pythonpath, cmd) in plans.items():
                    scratch = Path(tmp) / f"{label}_{i}"
                    scratch.mkdir()
                    result = run_once(pythonpath, cmd, scratch)
                    if i > 0:  # the first round warms the caches
                        runs[label].append(result)
                    print(f"{label} run {i}: {result['wall_s']:.1f} s wall", file=sys.stderr)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(old)],
                           check=False, capture_output=True)
    print(f"`siteopt appraise`, {args.rev} (before) and this checkout (after), median of "
          f"{args.repeat}, load average {os.getloadavg()[0]:.2f} at the end\n")
    print("| | before | after |\n|---|---|---|")
    for key, what in (("wall_s", "wall seconds"),
                      ("cpu_s", "CPU seconds, whole machine (workers included)"),
                      ("own_cpu_s", "CPU seconds of the main process"),
                      ("peak_mib", "peak RSS of the main process (MiB)")):
        cells = [statistics.median(r[key] for r in runs[k]) for k in ("before", "after")]
        print(f"| {what} | {cells[0]:.1f} | {cells[1]:.1f} |")
    for label in ("before", "after"):
        ordered = sorted(runs[label], key=lambda r: r["wall_s"])
        median_run = ordered[len(ordered) // 2]
        print(f"\nStages, {label} (median run, {median_run['wall_s']:.1f} s):\n")
        print("| starts at (s) | stage |\n|---|---|")
        for at, stage in median_run["stages"]:
            print(f"| {at:.2f} | {stage} |")
        print(f"| {median_run['wall_s']:.2f} | (end) |")


if __name__ == "__main__":
    main()

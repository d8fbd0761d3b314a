"""Time whole commands of this checkout against an older commit, side by side in one run.

A refactor that changes no output (``layout_digest.py`` shows that) should change no speed
either. This checks out ``--rev`` into a temporary git worktree, then runs each command
alternately with the old code (``PYTHONPATH`` pointing at the worktree) and with this checkout,
``--repeat`` times each, from an empty scratch folder, after one untimed warm-up run of each
(so both travel caches are warm). It prints the median wall time of each.

Usage::

    python3 benchmarks/bench_layout.py --rev 23c4b49 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMANDS = {
    "appraise": ["appraise", "--out", "out_appraise"],
    "solve": ["solve", "--format", "json"],
    "validate": ["validate"],
}


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall seconds of one ``python -m siteopt ARGS`` process (it must exit 0)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "siteopt", *args], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    """Run the comparison and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="the older commit to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--commands", default=",".join(COMMANDS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="siteopt-bench-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old), args.rev],
                       cwd=REPO, check=True)
        try:
            base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            envs = {"old": {**base, "PYTHONPATH": str(old)}, "new": base}
            times: dict[tuple[str, str], list[float]] = {}
            for name in args.commands.split(","):
                for side, env in envs.items():
                    scratch = Path(tmp) / f"{side}-{name}"
                    scratch.mkdir()
                    timed(COMMANDS[name], scratch, env)  # warm-up: travel cache, imports
                for _ in range(args.repeat):
                    for side, env in envs.items():
                        scratch = Path(tmp) / f"{side}-{name}"
                        times.setdefault((name, side), []).append(
                            timed(COMMANDS[name], scratch, env))
            print(f"{'command':10s} {'old ' + args.rev:>16s} {'this checkout':>16s}  (median "
                  f"of {args.repeat}, wall s)")
            for name in args.commands.split(","):
                o = statistics.median(times[(name, "old")])
                n = statistics.median(times[(name, "new")])
                print(f"{name:10s} {o:16.2f} {n:16.2f}  ({(n - o) / o:+.1%})")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=REPO,
                           check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

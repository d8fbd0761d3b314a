"""Digest every output of the main commands, to show that a refactor changes no output.

Runs ``siteopt appraise``, ``solve`` (table, JSON, ``--out``, ``--evaluate``), ``map``, ``sweep``
(a 6-run grid), ``whatif`` (table and JSON), ``validate`` and ``national --region east_midlands``
into a scratch folder, then digests each file (SHA-256). Timings are the only thing allowed to
differ, so they are taken out before digesting: JSON keys and table columns (CSV, JSON lines,
Parquet) named ``seconds`` or ending in ``_s`` or ``_seconds``, the ``"...; 52.4 s"`` tail of a
summary line, the national run's time split, and the creation time inside a workbook (the
workbook is digested by its cell values). Everything else is compared byte for byte.

Usage::

    python3 benchmarks/layout_digest.py --write benchmarks/layout_digest.json   # record
    python3 benchmarks/layout_digest.py --check benchmarks/layout_digest.json   # compare

``--check`` prints each file whose digest differs (or is missing or new) and exits 1 if any does.
The national run needs ``../shared/geodata/england`` beside the repository; without it that
command is skipped and said so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED_ENGLAND = REPO.parent / "shared" / "geodata" / "england"
SWEEP_SPEC = """\
base = "{base}"
runs = 6
method = "grid"
named_options = ["status_quo", "stp_2016"]
candidates = 3

[parameters]
"model.capital_limit_gbp" = {{ values = [6e6, 12e6] }}
"model.max_staff_wte_rn" = {{ values = [130, 150, 170] }}
"""
LABEL_DIRS = [("solve_out", "solve"), ("map_html", "map"), ("map_png", "map_png")]
TIMING_TAIL = re.compile(r"; \d+(\.\d+)? s$", re.MULTILINE)
SECONDS = re.compile(r"\b\d+(\.\d+)? s\b")
PROGRESS = re.compile(r"^.*\r", re.MULTILINE)


def commands(out: Path, spec: Path) -> list[tuple[str, list[str]]]:
    """The commands to digest, each as (label, siteopt arguments)."""
    scen = REPO / "scenarios"
    cmds = [
        ("validate", ["validate"]),
        ("appraise", ["appraise", "--out", str(out / "appraise")]),
        ("solve_table", ["solve"]),
        ("solve_json", ["solve", "--format", "json"]),
        ("solve_out", ["solve", "--scenario", str(scen / "base.toml"), "--out",
                       str(out / "solve")]),
        ("solve_weighted", ["solve", "--objective", "weighted", "--format", "json"]),
        ("evaluate_stp", ["solve", "--evaluate", "stp_2016", "--format", "json"]),
        ("evaluate_sq", ["solve", "--evaluate", "status_quo"]),
        ("map_html", ["map", "--option", "stp_2016", "--compare", "status_quo",
                      "--out", str(out / "map")]),
        ("map_png", ["map", "--option", "optimal", "--format", "png",
                     "--out", str(out / "map_png")]),
        ("whatif", ["whatif", str(scen / "base.toml"), str(scen / "capital_10m.toml")]),
        ("whatif_json", ["whatif", str(scen / "base.toml"), str(scen / "capital_10m.toml"),
                         "--format", "json"]),
        ("sweep", ["sweep", str(spec), "--workers", "1", "--quiet", "--out",
                   str(out / "sweep")]),
    ]
    if SHARED_ENGLAND.is_dir():
        cmds.append(("national", ["national", "--region", "east_midlands", "--out",
                                  str(out / "national")]))
    else:
        print(f"skipped: national (no {SHARED_ENGLAND})")
    return cmds


def is_timing(key: str) -> bool:
    """Whether a JSON key or table column holds a timing."""
    return key == "seconds" or key.endswith("_s") or key.endswith("_seconds")


def strip_timings(obj: Any) -> Any:
    """A JSON value with its timing keys removed."""
    if isinstance(obj, dict):
        return {k: strip_timings(v) for k, v in obj.items() if not is_timing(k)}
    if isinstance(obj, list):
        return [strip_timings(v) for v in obj]
    return obj


def digest_file(path: Path, scratch: Path) -> str:
    """SHA-256 of a file with its timings (and only its timings) taken out."""
    if path.suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path)
        cells = [[ws.title, [list(r) for r in ws.iter_rows(values_only=True)]]
                 for ws in book.worksheets]
        data = json.dumps(cells, default=str).encode()
    elif path.suffix == ".json":
        data = json.dumps(strip_timings(json.loads(path.read_text())), sort_keys=True).encode()
    elif path.suffix == ".jsonl":
        data = "\n".join(json.dumps(strip_timings(json.loads(line)), sort_keys=True)
                         for line in path.read_text().splitlines()).encode()
    elif path.suffix in (".csv", ".parquet"):
        import pandas as pd

        table = (pd.read_parquet(path) if path.suffix == ".parquet"
                 else pd.read_csv(path, dtype=str, keep_default_na=False))
        timing = [c for c in table.columns if is_timing(str(c))]
        data = (path.read_bytes() if not timing and path.suffix == ".csv"
                else table.drop(columns=timing).to_csv(index=False).encode())
    else:
        data = path.read_bytes()
    data = data.replace(str(scratch).encode(), b"<scratch>")
    return hashlib.sha256(data).hexdigest()


def normalise_text(text: str, scratch: Path) -> str:
    """Console output without timings, progress redraws or the scratch folder's name."""
    text = PROGRESS.sub("", text.replace(str(scratch), "<scratch>"))
    text = TIMING_TAIL.sub("; <t> s", text)
    # the national run prints its time split ("optimised: 1.4 s (model build 0.1 s, ...)")
    return "\n".join(SECONDS.sub("<t> s", line) if line.startswith("optimised") else line
                     for line in text.split("\n"))


def run_all(scratch: Path, only: set[str]) -> dict[str, str]:
    """Run every command into ``scratch`` and digest what each wrote and printed."""
    spec = scratch / "sweep_small.toml"
    spec.write_text(SWEEP_SPEC.format(base=(REPO / "scenarios" / "base.toml").as_posix()))
    digests: dict[str, str] = {}
    for label, args in commands(scratch, spec):
        if only and label not in only:
            continue
        # a fixed date for the workbook's About sheet and the Word report's properties
        env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH",
                                                                 "1764633600")}
        proc = subprocess.run([sys.executable, "-m", "siteopt", *args], cwd=scratch,
                              capture_output=True, text=True, check=False, env=env)
        stdout = normalise_text(proc.stdout, scratch)
        digests[f"{label}:exit"] = str(proc.returncode)
        digests[f"{label}:stdout"] = hashlib.sha256(stdout.encode()).hexdigest()
        print(f"{label}: exit {proc.returncode}")
    for path in sorted(scratch.rglob("*")):
        # run_manifest.json records when, where and as which run the files were written
        if path.is_file() and path != spec and path.name != "run_manifest.json":
            digests[str(path.relative_to(scratch))] = digest_file(path, scratch)
    return digests


def main() -> int:
    """Record or check the digests."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="record the digests in this JSON file")
    group.add_argument("--check", type=Path, help="compare with the digests in this JSON file")
    parser.add_argument("--keep", type=Path, help="run into this folder and keep it")
    parser.add_argument("--only", default="", help="comma-separated command labels to run "
                        "(e.g. appraise,solve_json); --check then compares only their digests")
    args = parser.parse_args()
    only = {x for x in args.only.split(",") if x}
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        digests = run_all(args.keep.resolve(), only)
    else:
        with tempfile.TemporaryDirectory(prefix="siteopt-digest-") as tmp:
            digests = run_all(Path(tmp), only)
    if args.write:
        args.write.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
        print(f"{len(digests)} digests written to {args.write}")
        return 0
    recorded: dict[str, str] = json.loads(args.check.read_text())
    if only:
        recorded = {k: v for k, v in recorded.items() if k.split(":")[0].split("/")[0] in only
                    or k.split("/")[0] in {dict(LABEL_DIRS).get(o, o) for o in only}}
    bad = sorted(k for k in set(recorded) | set(digests) if recorded.get(k) != digests.get(k))
    for key in bad:
        state = ("missing" if key not in digests else "new" if key not in recorded
                 else "differs")
        print(f"{state}: {key}")
    print(f"{len(digests) - len(bad)} of {len(set(recorded) | set(digests))} digests equal")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

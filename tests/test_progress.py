"""Progress of long work: the callback, its drawing on a terminal, and the long commands.

The library reports ``progress(stage, done, total)`` (:mod:`siteopt.progress`); the command line
draws it on stderr only on a terminal and without ``--quiet`` (:mod:`siteopt.cli.progress`).
The terminal tests run the real command with stderr on a pseudo-terminal; the others with
stderr on a pipe, where nothing but errors and notes may appear, and never HiGHS's banner.
"""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from siteopt.cli.progress import StageProgress, accepts_progress
from siteopt.national.model import ThroughputSettings
from siteopt.national.region import load_region, read_spec
from siteopt.national.run import run as national_run
from siteopt.national.solve import ThroughputOptions
from siteopt.paths import REPO_DIR
from siteopt.progress import counted, report

Call = tuple[str, int | None, int | None]
BANNER = re.compile(r"Running HiGHS|Copyright \(c\)|THIRD_PARTY_NOTICES")


class Recorder:
    """A progress callback that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def __call__(self, stage: str, done: int | None, total: int | None) -> None:
        self.calls.append((stage, done, total))

    def stages(self) -> list[str]:
        return list(dict.fromkeys(s for s, _, _ in self.calls))


class Terminal(io.StringIO):
    """A text stream that says it is a terminal (what a user's stderr is)."""

    def isatty(self) -> bool:
        return True


def screen(text: str) -> list[str]:
    """The lines a terminal ends up showing: each line's last redraw, escapes removed."""
    text = re.sub(r"\x1b\[\?25[lh]", "", text).replace("\r\n", "\n")
    return [line.split("\r")[-1].rstrip() for line in text.split("\n") if line.strip()]


# -- the callback ------------------------------------------------------------------------------
def test_counted_reports_zero_then_each_item_after_it_is_done() -> None:
    rec = Recorder()
    seen: list[tuple[str, list[Call]]] = []
    for item in counted(rec, "maps", ["a", "b", "c"]):
        seen.append((item, list(rec.calls)))
    assert rec.calls == [("maps", 0, 3), ("maps", 1, 3), ("maps", 2, 3), ("maps", 3, 3)]
    # while "b" is worked on, only "a" is reported done
    assert seen[1] == ("b", [("maps", 0, 3), ("maps", 1, 3)])


def test_report_without_a_callback_does_nothing_and_checks_its_counts() -> None:
    report(None, "anything")
    report(None, "counted", 2, 5)
    list(counted(None, "nothing", []))
    with pytest.raises(ValueError, match="both done and total"):
        report(None, "half", 3)
    with pytest.raises(ValueError, match=r"outside 0\.\.5"):
        report(Recorder(), "over", 6, 5)
    with pytest.raises(ValueError, match="unsized"):
        list(counted(None, "generator", (i for i in range(3))))


def test_empty_counted_stage_reports_zero_of_zero() -> None:
    rec = Recorder()
    assert list(counted(rec, "next best", [])) == []
    assert rec.calls == [("next best", 0, 0)]


# -- drawing on a terminal ---------------------------------------------------------------------
def test_stages_and_bars_on_a_terminal() -> None:
    term = Terminal()
    with StageProgress("appraise", file=term) as progress:
        progress("named options", None, None)
        for k in range(27):
            progress("Pareto frontier", k, 26)
        progress("maps", 0, 0)
        progress("writing files", 0, 9)
        progress("writing files", 4, 9)
    lines = screen(term.getvalue())
    assert lines[0] == "appraise: named options..."
    assert lines[1].startswith("appraise: Pareto frontier") and lines[1].endswith("26/26")
    assert "[" + "#" * 10 in lines[1]
    assert lines[2] == "appraise: maps: none"
    # a bar left open (the command stopped) is ended with a newline, at its last count
    assert lines[3].startswith("appraise: writing files") and "4/9" in lines[3]
    assert term.getvalue().endswith("\n")


def test_nothing_is_shown_quiet_or_off_a_terminal() -> None:
    for quiet, stream in ((True, Terminal()), (False, io.StringIO())):
        with StageProgress("sweep", quiet=quiet, file=stream) as progress:
            progress("solving 4 runs", 0, 4)
            progress("solving 4 runs", 4, 4)
            progress("summarising", None, None)
        assert stream.getvalue() == ""


def test_accepts_progress_reads_the_signature() -> None:
    def with_it(x: int, *, progress: object = None) -> None: ...
    def without(x: int) -> None: ...
    assert accepts_progress(with_it) and not accepts_progress(without)
    assert accepts_progress(national_run)


# -- the library's stages ----------------------------------------------------------------------
def two_group_region(tmp_path: Path) -> Path:
    """Four zones, four units in two groups; a hand-checkable national spec."""
    (tmp_path / "m.csv").write_text(
        "zone_id,site_id,travel_min\n"
        + "".join(f"{z},{s},{t}\n" for z, row in
                  (("A 001", (5, 9, 40, 50)), ("A 002", (8, 6, 45, 55)),
                   ("B 001", (40, 42, 7, 12)), ("B 002", (48, 44, 10, 4)))
                  for s, t in zip(("S1", "S2", "S3", "S4"), row, strict=True)))
    (tmp_path / "z.csv").write_text("zone_id,demand\nA 001,10\nA 002,20\nB 001,30\nB 002,40\n")
    (tmp_path / "s.csv").write_text("site_id,name,network\nS1,One,North\nS2,Two,North\n"
                                    "S3,Three,South\nS4,Four,South\n")
    spec = tmp_path / "spec.toml"
    spec.write_text('[region]\nname = "t"\n[matrix]\npath = "m.csv"\nlayout = "long"\n'
                    '[zones]\npath = "z.csv"\nid_column = "zone_id"\ndemand_column = "demand"\n'
                    '[sites]\npath = "s.csv"\nid_column = "site_id"\nname_column = "name"\n'
                    'group_column = "network"\n')
    return spec


def test_national_run_reports_each_region_and_stage(tmp_path: Path) -> None:
    region = load_region(read_spec(two_group_region(tmp_path)))
    rec = Recorder()
    result = national_run(region, ThroughputSettings(max_sites=2), ThroughputOptions(
        time_limit_s=30), by_region=False, progress=rec)
    assert rec.stages() == [
        "optimising 4 zones x 4 sites (column generation, then the MILP; budget 30 s)",
        "comparators: keep every current unit, greedy drop"]
    assert result.solutions[0].open_sites.sum() == 2
    rec = Recorder()
    national_run(region, ThroughputSettings(), ThroughputOptions(time_limit_s=30),
                 by_region=True, progress=rec)
    stage = "planning each of 2 regions alone"
    assert [c for c in rec.calls if c[0] == stage] == [(stage, 0, 2), (stage, 1, 2),
                                                       (stage, 2, 2)]
    assert rec.stages()[0] == stage


# -- the commands ------------------------------------------------------------------------------
def run_on_terminal(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``python -m siteopt ARGS`` with stderr on a pseudo-terminal: (exit, stdout, what the
    terminal received)."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc = subprocess.run([sys.executable, "-m", "siteopt", *args], cwd=cwd,
                              stdout=subprocess.PIPE, stderr=slave, text=True, check=False)
    finally:
        os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    return proc.returncode, proc.stdout, b"".join(chunks).decode(errors="replace")


SWEEP_SPEC = f"""
base = "{(REPO_DIR / 'scenarios' / 'base.toml').as_posix()}"
method = "grid"
named_options = ["status_quo"]
candidates = 1
[parameters]
"demand.home_first_reduction.rehab" = {{ values = [0.2, 0.3] }}
"""


@pytest.fixture(scope="module")
def sweep_spec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("sweep")
    spec = folder / "two_runs.toml"
    spec.write_text(SWEEP_SPEC, encoding="utf-8")
    yield spec


@pytest.mark.slow
def test_sweep_shows_both_phases_on_a_terminal_only(sweep_spec: Path) -> None:
    folder = sweep_spec.parent
    code, out, term = run_on_terminal(["sweep", str(sweep_spec), "--workers", "1",
                                       "--out", str(folder / "on_terminal")], folder)
    assert code == 0, term
    lines = screen(term)
    assert lines[0] == "sweep: checking the inputs..."
    assert any(re.match(r"sweep: solving 2 runs +\[#+\] +2/2", x) for x in lines), lines
    assert any(re.match(r"sweep: scoring 1 candidates in 2 runs +\[#+\] +2/2", x)
               for x in lines), lines
    assert "sweep: summarising (stability, regret, tornado)..." in lines
    assert "sweep: writing runs.csv, runs.parquet and summary.json..." in lines
    assert not BANNER.search(term) and not BANNER.search(out)
    assert "sweep:" not in out and out.startswith("2 runs: 2 solved, 0 failed")
    # rerun: every run resumed, the count says so; --quiet on the terminal shows nothing
    code, _, term = run_on_terminal(["sweep", str(sweep_spec), "--workers", "1",
                                     "--out", str(folder / "on_terminal")], folder)
    assert code == 0 and "sweep: solving 0 runs (2 resumed from an earlier run): none" in \
        screen(term)
    code, out, term = run_on_terminal(["sweep", str(sweep_spec), "--workers", "1", "--quiet",
                                       "--out", str(folder / "quiet")], folder)
    assert code == 0 and term == "" and out.startswith("2 runs: 2 solved")
    # stderr on a pipe (a log, CI): no progress, no banner, nothing at all
    proc = subprocess.run([sys.executable, "-m", "siteopt", "sweep", str(sweep_spec),
                           "--workers", "1", "--out", str(folder / "piped")], cwd=folder,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("2 runs: 2 solved")


@pytest.mark.slow
def test_appraise_shows_its_stages_and_no_solver_banner(tmp_path: Path) -> None:
    """One appraisal (no maps, no next best) with stderr on a terminal."""
    code, out, term = run_on_terminal(["appraise", "--no-maps", "--next-best", "0",
                                       "--out", str(tmp_path / "appraisal")], tmp_path)
    assert code == 0, term
    lines = screen(term)
    assert lines[0] == "appraise: preparing the inputs (validation, drive times, ward options)..."
    assert "appraise: the report and tables..." in lines
    assert any(re.match(r"appraise: writing files +\[#+\] +(\d+)/\1$", x) for x in lines), lines
    # the appraisal's own stages once appraise() takes the callback, else one stage line
    assert any(re.fullmatch(r"appraise: the optimum, the named options and the Pareto frontier"
                            r"( \(\d processes\))?\.\.\.", x) for x in lines), lines
    assert "appraise: why each site loses beds..." in lines
    assert not BANNER.search(term), term
    assert not BANNER.search(out) and "appraise:" not in out
    assert out.startswith("siteopt appraise, scenario base")


# -- where siteopt map writes ------------------------------------------------------------------
def test_map_writes_under_the_ignored_outputs_folder_by_default() -> None:
    from siteopt.cli.map import map_command

    out = next(p for p in map_command.params if p.name == "out_dir")
    assert Path(str(out.default)) == Path("outputs") / "maps"
    ignored = (REPO_DIR / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "outputs/*" in ignored

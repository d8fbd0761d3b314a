"""Outputs written safely (issue 15): no input overwritten, a run is one unit, umask modes.

Small hand-checkable folders for :mod:`siteopt.outdir`, then every overlap case of the commands
(refused before any work: exit 2, one line naming both paths, no traceback, nothing changed).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from siteopt import outdir
from siteopt.cli import cli
from siteopt.fileio import csv_text, file_mode, write_atomically
from siteopt.outdir import RUN_MANIFEST, OutputError, RunFile, RunFolder, RunLock


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    """Temporary folders and lock files a run left in ``parent``."""
    return sorted(p.name for p in parent.iterdir() if ".siteopt-" in p.name)


def one_run(out: Path, files: dict[str, str], **kw: object) -> list[Path]:
    with RunFolder(out, command="test", **kw) as run:  # type: ignore[arg-type]
        for name, text in files.items():
            run.write(name, text)
        return run.commit()


# ----------------------------------------------------------------------------- the unit
def test_first_run_writes_files_and_manifest_with_digests(tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    paths = one_run(out, {"a.csv": "x,y\n1,2\n", "b.json": "{}\n"})
    assert [p.name for p in paths] == ["a.csv", "b.json", RUN_MANIFEST]
    doc = json.loads((out / RUN_MANIFEST).read_text())
    assert doc["command"] == "test" and doc["written_utc"].endswith("+00:00")
    assert doc["files"]["a.csv"] == {"sha256": hashlib.sha256(b"x,y\n1,2\n").hexdigest(),
                                     "bytes": 8}
    assert sorted(doc["files"]) == ["a.csv", "b.json"]
    assert leftovers(out.parent) == []


def test_files_follow_the_umask_not_mkstemp(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        outdir.umask.cache_clear()
        assert file_mode() == 0o644
        one_run(tmp_path / "out", {"a.csv": "1\n"})
        write_atomically(tmp_path / "single.txt", "x")
    finally:
        os.umask(old)
        outdir.umask.cache_clear()
    for path in (tmp_path / "out" / "a.csv", tmp_path / "out" / RUN_MANIFEST,
                 tmp_path / "single.txt"):
        assert path.stat().st_mode & 0o777 == 0o644, path
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755


def test_second_run_replaces_the_first_keeps_what_is_not_a_runs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    one_run(out, {"report.html": "old\n", "maps.html": "old maps\n"})
    (out / ".gitkeep").write_text("")
    (out / "notes").mkdir()
    (out / "notes" / "mine.txt").write_text("keep me\n")
    one_run(out, {"report.html": "new\n"})
    assert (out / "report.html").read_text() == "new\n"
    assert not (out / "maps.html").exists()  # the earlier run's, stale: gone
    assert (out / ".gitkeep").exists() and (out / "notes" / "mine.txt").read_text() == "keep me\n"
    doc = json.loads((out / RUN_MANIFEST).read_text())
    assert sorted(doc["files"]) == ["report.html"]
    assert doc["not_of_this_run"] == [".gitkeep", "notes"]
    assert leftovers(tmp_path) == []


def test_failed_run_changes_nothing_and_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "out"
    one_run(out, {"a.csv": "1\n", "b.csv": "2\n"})
    before = tree(out)
    with pytest.raises(ZeroDivisionError), RunFolder(out, command="test") as run:
        run.write("a.csv", "changed\n")
        _ = 1 / 0
    assert tree(out) == before and leftovers(tmp_path) == []


def test_the_swap_works_where_folders_cannot_be_exchanged(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outdir, "exchange", lambda a, b: False)
    out = tmp_path / "out"
    one_run(out, {"a.csv": "1\n"})
    (out / "keep").mkdir()
    one_run(out, {"b.csv": "2\n"})
    assert sorted(p.name for p in out.iterdir()) == ["b.csv", "keep", RUN_MANIFEST]
    assert leftovers(tmp_path) == []


def test_a_symlinked_output_folder_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    one_run(real, {"a.csv": "1\n"})
    (tmp_path / "link").symlink_to(real)
    one_run(tmp_path / "link", {"b.csv": "2\n"})
    assert (tmp_path / "link").is_symlink()
    assert sorted(p.name for p in real.iterdir()) == ["b.csv", RUN_MANIFEST]


def test_state_files_of_a_sweep_are_carried_not_stale(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "runs.jsonl").write_text('{"run_id": 0}\n')
    one_run(out, {"summary.json": "{}\n"}, state_files=("runs.jsonl",))
    with (out / "runs.jsonl").open("a") as fh:  # the next sweep appends in place
        fh.write('{"run_id": 1}\n')
    one_run(out, {"summary.json": "{}\n"}, state_files=("runs.jsonl",))
    assert (out / "runs.jsonl").read_text().count("run_id") == 2
    doc = json.loads((out / RUN_MANIFEST).read_text())
    assert list(doc["state_files"]) == ["runs.jsonl"] and "runs.jsonl" not in doc["files"]


def test_leftovers_of_a_killed_run_are_cleaned_up(tmp_path: Path) -> None:
    out = tmp_path / "out"
    one_run(out, {"a.csv": "1\n"})
    before = tree(out)
    new = tmp_path / ".out.siteopt-new-1-00aa"  # killed while writing
    new.mkdir()
    (new / "a.csv").write_text("half")
    swap = tmp_path / ".out.siteopt-swap-2-00bb"  # killed just before the swap
    swap.mkdir()
    (swap / "a.csv").write_text("never swapped")
    one_run(out, {"a.csv": "1\n"})
    assert leftovers(tmp_path) == [] and tree(out)["a.csv"] == before["a.csv"]


def test_a_killed_swap_is_finished_and_the_users_folders_come_back(tmp_path: Path) -> None:
    """Killed between the exchange and moving the user's folder back: the output holds the new
    run, the old folder beside it holds the user's folder; the next run puts it back."""
    out = tmp_path / "out"
    one_run(out, {"a.csv": "new\n"})
    run_id = json.loads((out / RUN_MANIFEST).read_text())["run_id"]
    old = tmp_path / f".out.siteopt-swap-{run_id}"
    old.mkdir()
    (old / "stale.csv").write_text("earlier run")
    (old / RUN_MANIFEST).write_text(json.dumps({"run_id": "x", "files": {"stale.csv": {}}}))
    (old / "mine").mkdir()
    (old / "mine" / "f.txt").write_text("user")
    one_run(out, {"a.csv": "newer\n"})
    assert (out / "mine" / "f.txt").read_text() == "user" and not (out / "stale.csv").exists()
    assert leftovers(tmp_path) == []


def test_killed_between_two_renames_the_earlier_folder_is_put_back(tmp_path: Path) -> None:
    out = tmp_path / "out"
    one_run(out, {"a.csv": "1\n"})
    before = tree(out)
    out.rename(tmp_path / ".out.siteopt-old-3-00cc")  # the output moved aside, then killed
    with RunFolder(out, command="test"):  # entering recovers (and the run writes nothing)
        assert tree(out) == before
    assert leftovers(tmp_path) == []


def test_a_second_run_is_refused_while_one_holds_the_lock(tmp_path: Path) -> None:
    out = tmp_path / "out"
    lock = RunLock(out.resolve(), "--out")
    lock.acquire()
    try:
        with pytest.raises(OutputError) as err, RunFolder(out, command="test"):
            pass
        assert str(err.value) == (f"{lock.path}: another siteopt run (pid {os.getpid()}) is "
                                  f"writing into {out.resolve()}; wait for it to finish, or give "
                                  "--out another path")
    finally:
        lock.release()
    one_run(out, {"a.csv": "1\n"})  # released: the next run goes ahead
    assert leftovers(tmp_path) == []


def test_a_run_inside_a_folder_being_written_is_refused(tmp_path: Path) -> None:
    outer = tmp_path / "outputs"
    one_run(outer, {"summary.json": "{}\n"})
    inner = RunLock((outer / "base").resolve(), "--out")
    inner.acquire()
    try:
        with pytest.raises(OutputError, match=r"a siteopt run \(pid \d+\) is writing inside"):
            one_run(outer, {"summary.json": "{}\n"})
    finally:
        inner.release()


def test_current_folder_file_in_the_way_and_root_are_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="is the current folder"):
        RunFolder(Path("."), command="test").__enter__()
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder; give --out a folder"):
        RunFolder(tmp_path / "f", command="test").__enter__()
    with pytest.raises(OutputError, match="is a file, not a folder, so --out"):
        RunFolder(tmp_path / "f" / "sub", command="test").__enter__()
    with pytest.raises(OutputError, match="root"):
        RunFolder(Path("/"), command="test").__enter__()
    assert (tmp_path / "f").read_text() == "x" and leftovers(tmp_path) == []


def test_run_file_replaces_one_file_in_one_step(tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    out.write_text("earlier\n")
    with pytest.raises(RuntimeError), RunFile(out) as run:
        run.path.write_text("half")
        raise RuntimeError("killed")
    assert out.read_text() == "earlier\n"
    with RunFile(out) as run:
        run.path.write_text("new\n")
        run.commit()
    assert out.read_text() == "new\n" and out.stat().st_mode & 0o777 == file_mode()
    assert leftovers(tmp_path) == []


# ----------------------------------------------------------------------------- overlaps
def test_check_outside_inputs_is_contains_inside(tmp_path: Path) -> None:
    g = tmp_path / "g"
    (g / "sub").mkdir(parents=True)
    outdir.check_outside_inputs(tmp_path / "elsewhere", {"--geodata": g, "--travel": None})
    for out, how in ((g, "is"), (g / "sub", "is inside"), (tmp_path, "contains")):
        with pytest.raises(outdir.DataError) as err:
            outdir.check_outside_inputs(out, {"--geodata": g})
        assert str(err.value) == (f"{out}: --out {how} the input {g.resolve()} (--geodata): "
                                  "writing there would overwrite inputs; give --out a path "
                                  "outside every input")


def snapshot(*folders: Path) -> dict[str, bytes]:
    return {f"{f}/{k}": v for f in folders for k, v in tree(f).items()}


def refused(args: list[str], *folders: Path, needle: str) -> str:
    """Run a command that must be refused before any work; returns its one error line."""
    before = snapshot(*folders)
    res = CliRunner().invoke(cli, args)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2, res.output
    assert ("Traceback" not in res.output and res.exception is None) or isinstance(
        res.exception, SystemExit), res.output
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    assert needle in lines[0], lines[0]
    assert snapshot(*folders) == before
    return lines[0]


GEODATA_FILES = ("sites.csv", "zones.csv")


def test_appraise_into_its_own_geodata_folder_is_refused(geodata_copy: Path) -> None:
    line = refused(["appraise", "--geodata", str(geodata_copy), "--out", str(geodata_copy),
                    "--no-maps"], geodata_copy, needle="--out is the input")
    assert str(geodata_copy) in line and "(--geodata)" in line


def test_appraise_with_options_inside_out_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "appraisal.csv").write_text("option,site_id,service,wards,beds\n")
    line = refused(["appraise", "--options", str(out / "appraisal.csv"), "--out", str(out),
                    "--no-maps"], out, needle="--out contains the input")
    assert "(--options)" in line and str(out / "appraisal.csv") in line


def test_solve_map_validate_into_an_input_are_refused(tmp_path: Path, geodata_copy: Path) -> None:
    scen = tmp_path / "scen"
    scen.mkdir()
    (scen / "s.toml").write_text('name = "s"\n')
    refused(["solve", "--scenario", str(scen / "s.toml"), "--out", str(scen)], scen,
            needle="(--scenario)")
    refused(["map", "--option", "status_quo", "--geodata", str(geodata_copy), "--out",
             str(geodata_copy / "maps")], geodata_copy, needle="--out is inside the input")
    refused(["validate", "--geodata", str(geodata_copy), "--out", str(geodata_copy)],
            geodata_copy, needle="--out is the input")


def test_travel_times_over_its_origins_is_refused(tmp_path: Path) -> None:
    pts = tmp_path / "o.csv"
    pts.write_text("id,lat,lon\na,52.63,-1.13\n")
    refused(["travel-times", "--origins", str(pts), "--destinations", str(pts), "--out",
             str(pts)], tmp_path, needle="(--origins, --destinations)")


def test_sweep_into_the_folder_of_its_spec_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "sweep.toml"
    spec.write_text('runs = 2\nmethod = "lhs"\n[parameters]\n'
                    '"model.capital_limit_gbp" = { min = 5e6, max = 20e6 }\n')
    refused(["sweep", str(spec), "--out", str(tmp_path), "--quiet"], tmp_path,
            needle="(the sweep spec)")


def small_spec(folder: Path) -> Path:
    """A national spec whose tables sit beside it (2 zones, 2 sites, a long matrix)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "matrix.csv").write_text("zone_id,site_id,travel_min\nA 1,s1,10\nA 1,s2,20\n"
                                       "A 2,s1,30\nA 2,s2,5\n")
    (folder / "zones.csv").write_text("zone,demand\nA 1,100\nA 2,200\n")
    (folder / "sites.csv").write_text("site,name\ns1,One\ns2,Two\n")
    spec = folder / "spec.toml"
    spec.write_text('[region]\nname = "tiny"\ndemand_label = "admissions"\n'
                    '[matrix]\npath = "matrix.csv"\nlayout = "long"\n'
                    '[zones]\npath = "zones.csv"\nid_column = "zone"\ndemand_column = "demand"\n'
                    '[sites]\npath = "sites.csv"\nid_column = "site"\nname_column = "name"\n')
    return spec


def test_national_into_the_folder_of_its_tables_is_refused(tmp_path: Path) -> None:
    spec = small_spec(tmp_path / "region")
    line = refused(["national", "--spec", str(spec), "--out", str(tmp_path / "region")],
                   tmp_path / "region", needle="--out contains the input")
    assert str(spec) in line or "matrix.csv" in line


def test_national_writes_one_unit_with_safe_cells(tmp_path: Path) -> None:
    spec = small_spec(tmp_path / "region")
    sites = tmp_path / "region" / "sites.csv"
    sites.write_text('site,name\ns1,"=HYPERLINK(""http://x"",""click"")"\ns2,-5\n')
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["national", "--spec", str(spec), "--out", str(out),
                                   "--min-per-site", "0"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["comparison.csv", RUN_MANIFEST,
                                                     "sites.csv", "summary.json", "zones.csv"]
    text = (out / "sites.csv").read_text()
    assert "'=HYPERLINK" in text and "\ns2,-5," in text  # a number stays a number
    assert all(p.stat().st_mode & 0o777 == file_mode() for p in out.iterdir())


@pytest.mark.parametrize("cell, written", [
    ("=1+1", "'=1+1"), ("+44 116", "'+44 116"), ("@SUM(A1)", "'@SUM(A1)"), ("-x", "'-x"),
    ("\tx", "'\tx"), ("-1.5", "-1.5"), ("+3", "+3"), ("2e-3", "2e-3"), ("plain", "plain")])
def test_csv_text_defuses_formulas_and_keeps_numbers(cell: str, written: str) -> None:
    assert csv_text(["name", "n"], [[cell, -2.5]]) == f"name,n\n{written},-2.5\n"

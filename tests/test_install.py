"""siteopt installs anywhere: a normal (non-editable) wheel runs from an empty folder, reads its
embedded data from inside the package and writes nothing there; the cache and the defaults that
used to sit beside the package (cache, national spec, outputs) resolve elsewhere.

The slow test builds the wheel from a copy of the source, installs it with ``--no-deps`` into a
fresh virtual environment that reuses this Python's installed dependencies
(``--system-site-packages``), and proves that the wheel, not this checkout's editable install,
is what runs.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import siteopt
import siteopt.paths as paths
from siteopt.cli import cli
from siteopt.national.run import DEFAULT_SPEC
from siteopt.travel.matrix import default_cache_dir

SOURCE = ("pyproject.toml", "README.md", "siteopt", "geodata")
"""What the wheel is built from (copied, so the build writes nothing into the checkout)."""


# --------------------------------------------------------------------------- quick checks


def test_default_geodata_dir_is_the_checkouts_geodata_folder() -> None:
    assert (paths.DEFAULT_GEODATA_DIR / "sites.csv").is_file()
    assert (paths.DEFAULT_GEODATA_DIR / "roads" / "llr_roads.npz").is_file()
    # run from this checkout (editable install): the folder `siteopt geodata build` rebuilds
    assert paths.CHECKOUT_DIR == paths.REPO_DIR
    assert paths.DEFAULT_GEODATA_DIR == paths.REPO_DIR / "geodata"


def test_cache_dir_honours_siteopt_cache_dir(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.setenv(paths.CACHE_ENV, str(tmp_path / "here"))
    assert paths.cache_dir() == tmp_path / "here"
    assert default_cache_dir() == tmp_path / "here"
    monkeypatch.setenv(paths.CACHE_ENV, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert paths.cache_dir() == tmp_path / "xdg" / "siteopt"
    assert not paths.cache_dir().is_relative_to(paths.PACKAGE_DIR)


def test_cache_dir_option_caches_there_for_one_command(tmp_path: Path) -> None:
    before = os.environ.get(paths.CACHE_ENV)
    res = CliRunner().invoke(cli, ["solve", "--cache-dir", str(tmp_path / "c"),
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "c").glob("travel_*.npz"))) == 1
    assert os.environ.get(paths.CACHE_ENV) == before  # put back when the command ended


def test_pyproject_lists_every_sub_package() -> None:
    """pyproject.toml lists the packages (geodata/ is mapped in): a new sub-package must be
    added there, or the wheel would silently miss it."""
    config = tomllib.loads((paths.REPO_DIR / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(paths.REPO_DIR).parts)
               for p in paths.PACKAGE_DIR.rglob("__init__.py")}
    assert set(config["packages"]) == on_disk | {paths.EMBEDDED_PACKAGE}
    assert config["package-dir"] == {paths.EMBEDDED_PACKAGE: "geodata"}


def test_national_default_spec_from_this_folder_then_the_checkout(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(paths.REPO_DIR)
    assert paths.default_national_spec() == DEFAULT_SPEC  # from the checkout root: as before
    monkeypatch.chdir(tmp_path)
    assert paths.default_national_spec() == DEFAULT_SPEC  # elsewhere: the checkout's
    (tmp_path / "regions").mkdir()
    (tmp_path / paths.NATIONAL_SPEC).write_text("")
    assert paths.default_national_spec() == (tmp_path / paths.NATIONAL_SPEC).resolve()


def test_national_without_a_spec_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(paths, "CHECKOUT_DIR", None)  # as installed from a wheel
    res = CliRunner().invoke(cli, ["national", "--region", "east_midlands"])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        "error: regions/england_stroke.toml: not found in this folder (nor beside a siteopt "
        "checkout); pass --spec FILE"]
    assert not (tmp_path / "outputs").exists()


def test_writes_into_the_installed_package_are_refused(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    monkeypatch.setattr(paths, "CHECKOUT_DIR", None)  # as installed from a wheel
    runner = CliRunner()
    res = runner.invoke(cli, ["geodata", "build", "--raw", str(tmp_path),
                              "--out", str(paths.PACKAGE_DIR / "_geodata")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "read-only; pass --out DIR to write elsewhere" in res.output
    res = runner.invoke(cli, ["geodata", "roads", "--default",
                              "--roads-dir", str(paths.PACKAGE_DIR / "assets")])
    assert res.exit_code == 2 and "pass --roads-dir DIR" in res.output
    assert not (paths.PACKAGE_DIR / "_geodata").exists()


# --------------------------------------------------------------------------- the wheel


def run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its text output."""
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def site_files(site_packages: Path) -> set[str]:
    """Every file under a site-packages folder, relative to it."""
    return {str(p.relative_to(site_packages)) for p in site_packages.rglob("*") if p.is_file()}


def comparable(path: Path) -> object:
    """A file's content with its timings taken out: JSON without ``*_s``/``seconds`` keys, a
    workbook by its cell values (its creation time differs), any other file as bytes."""
    if path.suffix == ".json":
        def strip(obj: object) -> object:
            if isinstance(obj, dict):
                return {k: strip(v) for k, v in obj.items()
                        if not (k == "seconds" or k.endswith("_s"))}
            return [strip(v) for v in obj] if isinstance(obj, list) else obj
        return strip(json.loads(path.read_text()))
    if path.suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path)
        return [(ws.title, list(ws.iter_rows(values_only=True))) for ws in book.worksheets]
    return path.read_bytes()


def assert_same_outputs(installed: Path, checkout: Path) -> None:
    """The installed run wrote the same files as the checkout's run, with the same content."""
    names = sorted(p.name for p in checkout.iterdir())
    assert sorted(p.name for p in installed.iterdir()) == names
    assert len(names) > 30  # report, tables, workbook and the maps
    # run_manifest.json records when and where each run wrote (its time, id and folder)
    differ = [n for n in names if n != "run_manifest.json"
              and comparable(installed / n) != comparable(checkout / n)]
    assert not differ, differ


@pytest.mark.slow
def test_wheel_installs_and_runs_from_an_empty_folder(tmp_path: Path) -> None:
    src, dist, venv = tmp_path / "src", tmp_path / "dist", tmp_path / "venv"
    src.mkdir()
    for name in SOURCE:
        item = paths.REPO_DIR / name
        if item.is_dir():
            shutil.copytree(item, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(item, src / name)
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", ".", "-w", dist],
                cwd=src)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("siteopt-*.whl")

    made = run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv],
               cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python, siteopt_bin = venv / "bin" / "python", venv / "bin" / "siteopt"
    installed = run([python, "-m", "pip", "install", "--no-deps", "--quiet", wheel], cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    empty, cache, xdg = tmp_path / "empty", tmp_path / "cache", tmp_path / "xdg"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update({paths.CACHE_ENV: str(cache), "XDG_CACHE_HOME": str(xdg)})
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # pip compiled the package: no new .pyc either
    where = run([python, "-c", "import json, sysconfig, siteopt, siteopt.paths as p, "
                 "siteopt.outputs.leaflet as lf, importlib.metadata as m; print(json.dumps({"
                 "'file': siteopt.__file__, 'purelib': sysconfig.get_paths()['purelib'], "
                 "'checkout': str(p.CHECKOUT_DIR), 'geodata': str(p.DEFAULT_GEODATA_DIR), "
                 "'leaflet': str(lf.ASSET_DIR / 'leaflet.js'), 'version': siteopt.__version__, "
                 "'dist_version': m.version('siteopt')}))"], cwd=empty, env=env)
    assert where.returncode == 0, where.stderr
    info = json.loads(where.stdout)
    site_packages = Path(info["purelib"])
    # the wheel runs, not this checkout's editable install (whose finder is on the system path)
    assert site_packages.is_relative_to(venv)
    assert Path(info["file"]) == site_packages / "siteopt" / "__init__.py"
    assert info["checkout"] == "None"
    assert Path(info["geodata"]) == site_packages / "siteopt" / "_geodata"
    assert Path(info["leaflet"]).is_file()
    assert info["version"] == info["dist_version"] == siteopt.__version__
    for name in ("siteopt/py.typed", "siteopt/_geodata/roads/llr_roads.npz",
                 "siteopt/_geodata/curated/wards_stp2016.csv"):
        assert (site_packages / name).is_file(), name
    before = site_files(site_packages)

    validate = run([siteopt_bin, "validate"], cwd=empty, env=env)
    assert validate.returncode == 0, validate.stderr
    with (paths.DEFAULT_GEODATA_DIR / "sites.csv").open(newline="") as f:
        n_sites = sum(1 for _ in csv.DictReader(f))
    assert f"geodata OK: {info['geodata']}" in validate.stdout
    assert f"sites: {n_sites} " in validate.stdout

    appraise = run([siteopt_bin, "appraise"], cwd=empty, env=env)
    assert appraise.returncode == 0, appraise.stderr
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    here = run([sys.executable, "-m", "siteopt", "appraise"], cwd=checkout, env=env)
    assert here.returncode == 0, here.stderr
    assert_same_outputs(empty / "outputs" / "base", checkout / "outputs" / "base")

    solve = run([siteopt_bin, "solve", "--out", "outputs/run"], cwd=empty, env=env)
    assert solve.returncode == 0, solve.stderr
    assert solve.stdout.startswith("siteopt: optimal"), solve.stdout
    assert "independent check: passed" in solve.stdout
    assert (empty / "outputs" / "run").is_dir() and any((empty / "outputs" / "run").iterdir())
    assert len(list(cache.glob("travel_*.npz"))) == 1
    assert not (xdg / "siteopt").exists()  # SITEOPT_CACHE_DIR won over the user's cache folder
    # (matplotlib keeps its own font cache under XDG_CACHE_HOME; that is outside the package)

    national = run([siteopt_bin, "national", "--region", "east_midlands"], cwd=empty, env=env)
    assert national.returncode == 2 and "Traceback" not in national.stderr
    assert "pass --spec FILE" in national.stderr
    rebuild = run([siteopt_bin, "geodata", "build", "--raw", empty], cwd=empty, env=env)
    assert rebuild.returncode == 2 and "pass --out DIR" in rebuild.stderr

    assert site_files(site_packages) == before  # nothing written inside the installed package
    assert sorted(p.name for p in empty.iterdir()) == ["outputs"]

"""A sweep resumes only on the inputs its earlier runs were made from (issue 15).

One real one-run sweep on a copy of the LLR data (a base scenario extending another, a travel
matrix file) is run once; each test copies that world to a new place (so paths differ, content
not), changes one input and checks the refusal names it, or that unchanged inputs resume.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import siteopt
from siteopt.cli import cli
from siteopt.data.load import load_inputs
from siteopt.errors import DataError
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs import resume
from siteopt.runs.pipeline import travel_times
from siteopt.runs.sweep import SweepResult, load_spec, run_sweep

FIX = "use --restart to start afresh or a new --out"
SPEC = """
base = "base.toml"
method = "grid"
named_options = ["status_quo"]
candidates = 0
[parameters]
"model.max_staff_wte_rn" = { values = [170] }
"""
ROOT = """
# the LLR base case of scenarios/base.toml, written out so the test owns it
name = "root"
[demand]
planning_year = 2026
growth_method = "lpt_two_year"
[model]
objective = "cost"
max_mean_travel_min = 20.0
max_travel_min = 60.0
capital_limit_gbp = 5.95e6
capital_basis = "net"
[solver]
solver = "highs"
time_limit_s = 60
"""
BASE = """
extends = "root.toml"
name = "base"
[model]
max_travel_min = 60.0
"""


@dataclass(frozen=True)
class World:
    """A folder with geodata, scenarios, a spec, a travel matrix and a sweep's output."""

    root: Path

    @property
    def geodata(self) -> Path:
        return self.root / "geodata"

    @property
    def spec(self) -> Path:
        return self.root / "spec.toml"

    @property
    def travel(self) -> Path:
        return self.root / "times.csv"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def journal(self) -> Path:
        return self.out / "runs.jsonl"

    def sweep(self, *, road_graph: bool = False, restart: bool = False) -> SweepResult:
        return run_sweep(load_spec(self.spec), self.geodata, self.out, workers=1,
                         travel_csv=None if road_graph else self.travel,
                         cache_dir=self.root / "cache", restart=restart)

    def copy(self, to: Path) -> World:
        shutil.copytree(self.root, to)
        return World(to)

    def refusal(self, *, road_graph: bool = False) -> str:
        """The one line a resume is refused with; the journal is left as it was."""
        before = self.journal.read_bytes()
        with pytest.raises(DataError) as err:
            self.sweep(road_graph=road_graph)
        assert self.journal.read_bytes() == before
        lines = err.value.lines()
        assert len(lines) == 1
        return lines[0]

    def refused(self, what: str) -> str:
        return f"{self.journal}: cannot resume the earlier runs: {what}; {FIX}"


def make_world(root: Path) -> World:
    world = World(root)
    root.mkdir()
    shutil.copytree(DEFAULT_GEODATA_DIR, world.geodata)
    (root / "root.toml").write_text(ROOT, encoding="utf-8")
    (root / "base.toml").write_text(BASE, encoding="utf-8")
    world.spec.write_text(SPEC, encoding="utf-8")
    travel_times(load_inputs(world.geodata), cache_dir=root / "cache").to_csv(world.travel)
    return world


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, SweepResult]:
    """The world with the travel matrix file, after one sweep into ``out``."""
    world = make_world(tmp_path_factory.mktemp("resume") / "world")
    return world, world.sweep()


@pytest.fixture(scope="module")
def earlier_on_roads(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The world after one sweep on the road graph (no travel file)."""
    world = make_world(tmp_path_factory.mktemp("resume_roads") / "world")
    world.sweep(road_graph=True)
    return world


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# ------------------------------------------------------------------ unchanged inputs resume


def test_first_line_of_the_journal_records_the_inputs(earlier: tuple[World, SweepResult]
                                                      ) -> None:
    world, result = earlier
    assert result.resumed == 0 and result.runs[0]["status"] == "optimal"
    first = json.loads(world.journal.read_text(encoding="utf-8").splitlines()[0])
    assert first["phase"] == "inputs"
    rec = first["inputs"]
    assert rec["siteopt_version"] == siteopt.__version__
    assert [s["name"] for s in rec["scenario"]] == ["root.toml", "base.toml"]
    assert rec["travel"]["source"] == "file" and rec["travel"]["name"] == "times.csv"
    assert "zones.csv" in rec["geodata"] and "base" not in rec["spec"]


def test_unchanged_inputs_in_another_folder_resume(earlier: tuple[World, SweepResult],
                                                   tmp_path: Path) -> None:
    world, first = earlier
    moved = world.copy(tmp_path / "moved")  # every path differs, no content does
    again = moved.sweep()
    assert again.resumed == 1
    assert again.runs[0]["key"] == first.runs[0]["key"]
    assert again.runs[0]["measures"] == first.runs[0]["measures"]


def test_unchanged_road_graph_inputs_resume(earlier_on_roads: World, tmp_path: Path) -> None:
    assert earlier_on_roads.copy(tmp_path / "w").sweep(road_graph=True).resumed == 1


# ------------------------------------------------------------------ each changed input


def test_edited_geodata_file_is_named(earlier: tuple[World, SweepResult], tmp_path: Path
                                      ) -> None:
    world = earlier[0].copy(tmp_path / "w")
    edit(world.geodata / "zones.csv", "E01013600,Leicester 003A,", "E01013600,Leicester 3A,")
    assert world.refusal() == world.refused("geodata file zones.csv changed")


def test_edited_travel_matrix_is_named(earlier: tuple[World, SweepResult], tmp_path: Path
                                       ) -> None:
    world = earlier[0].copy(tmp_path / "w")
    lines = world.travel.read_text(encoding="utf-8").splitlines(keepends=True)
    zone, site, minutes = lines[1].strip().split(",")
    lines[1] = f"{zone},{site},{float(minutes) + 1:.3f}\n"
    world.travel.write_text("".join(lines), encoding="utf-8")
    assert world.refusal() == world.refused("the travel matrix file times.csv changed "
                                            "(other times)")


def test_travel_matrix_instead_of_the_road_graph_is_named(earlier_on_roads: World,
                                                          tmp_path: Path) -> None:
    """The issue's case: the same --out, now with --travel."""
    world = earlier_on_roads.copy(tmp_path / "w")
    assert world.refusal() == world.refused(
        "the travel matrix changed (now the file times.csv, was the road graph)")


def test_edited_road_graph_parameters_are_named(earlier_on_roads: World, tmp_path: Path
                                                ) -> None:
    world = earlier_on_roads.copy(tmp_path / "w")
    edit(world.geodata / "roads" / "parameters.csv", "detour_factor,1.3,", "detour_factor,1.4,")
    assert world.refusal(road_graph=True) == world.refused(
        "the road graph's roads/parameters.csv changed")


def test_edited_base_scenario_is_named(earlier: tuple[World, SweepResult], tmp_path: Path
                                       ) -> None:
    world = earlier[0].copy(tmp_path / "w")
    edit(world.root / "base.toml", "max_travel_min = 60.0", "max_travel_min = 55.0")
    assert world.refusal() == world.refused("the base scenario base.toml changed")


def test_edited_extended_scenario_is_named(earlier: tuple[World, SweepResult], tmp_path: Path
                                           ) -> None:
    world = earlier[0].copy(tmp_path / "w")
    edit(world.root / "root.toml", "max_mean_travel_min = 20.0", "max_mean_travel_min = 21.0")
    assert world.refusal() == world.refused("the scenario root.toml that base.toml extends "
                                            "changed")


def test_a_new_extends_chain_is_named(earlier: tuple[World, SweepResult], tmp_path: Path
                                      ) -> None:
    world = earlier[0].copy(tmp_path / "w")
    shutil.copy(world.root / "root.toml", world.root / "base.toml")  # no extends any more
    assert world.refusal() == world.refused(
        "the base scenario changed (now base.toml, was base.toml < root.toml; '<' reads "
        "'extends')")


def test_edited_spec_is_named(earlier: tuple[World, SweepResult], tmp_path: Path) -> None:
    world = earlier[0].copy(tmp_path / "w")
    edit(world.spec, 'named_options = ["status_quo"]', 'named_options = ["stp_2016"]')
    assert world.refusal() == world.refused("the sweep spec changed (named_options)")


def test_a_comment_in_the_spec_is_not_a_change(earlier: tuple[World, SweepResult],
                                               tmp_path: Path) -> None:
    world = earlier[0].copy(tmp_path / "w")
    world.spec.write_text("# the same sweep\n" + SPEC, encoding="utf-8")
    assert world.sweep().resumed == 1


def test_new_siteopt_version_is_named(earlier: tuple[World, SweepResult], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    world = earlier[0].copy(tmp_path / "w")
    was = siteopt.__version__
    monkeypatch.setattr(siteopt, "__version__", "9.9.9")
    assert world.refusal() == world.refused(f"siteopt's version changed (now 9.9.9, was {was})")


def test_every_change_is_named_in_one_line(earlier: tuple[World, SweepResult], tmp_path: Path
                                           ) -> None:
    world = earlier[0].copy(tmp_path / "w")
    edit(world.root / "base.toml", "max_travel_min = 60.0", "max_travel_min = 55.0")
    with (world.geodata / "README.md").open("a", encoding="utf-8") as fh:
        fh.write("\nA note.\n")
    assert world.refusal() == world.refused(
        "geodata file README.md changed; the base scenario base.toml changed")


def test_journal_without_a_record_of_its_inputs_is_refused(
        earlier: tuple[World, SweepResult], tmp_path: Path) -> None:
    """A journal written before this change (runs only) is not trusted."""
    world = earlier[0].copy(tmp_path / "w")
    lines = world.journal.read_text(encoding="utf-8").splitlines(keepends=True)
    world.journal.write_text("".join(lines[1:]), encoding="utf-8")
    assert world.refusal() == world.refused(
        "the journal has no record of their inputs (an older siteopt wrote it)")


# ------------------------------------------------------------------ restart


def comparable(run: dict[str, Any]) -> dict[str, Any]:
    return {k: run.get(k) for k in ("params", "status", "objective", "choice", "measures",
                                    "message")}


def test_restart_discards_earlier_runs_and_starts_afresh(earlier: tuple[World, SweepResult],
                                                         tmp_path: Path) -> None:
    world = earlier[0].copy(tmp_path / "w")
    first = earlier[1].runs[0]
    edit(world.root / "base.toml", "[model]", "[demand]\nplanning_year = 2031\n[model]")
    elsewhere = world.copy(tmp_path / "new_out")
    shutil.rmtree(elsewhere.out)
    fresh = world.sweep(restart=True)
    assert fresh.resumed == 0
    assert fresh.runs[0]["key"] != first["key"]
    # the same as a sweep into a new --out, and not the earlier run (2031's bed need)
    assert comparable(fresh.runs[0]) == comparable(elsewhere.sweep().runs[0])
    assert comparable(fresh.runs[0]) != comparable(first)
    records = [json.loads(x) for x in world.journal.read_text(encoding="utf-8").splitlines()]
    assert [r["phase"] for r in records] == ["inputs", "solve"]  # the old run is gone
    assert world.sweep().resumed == 1  # and the new journal resumes


def test_bad_input_with_restart_keeps_the_earlier_runs(earlier: tuple[World, SweepResult],
                                                       tmp_path: Path) -> None:
    world = earlier[0].copy(tmp_path / "w")
    before = world.journal.read_bytes()
    edit(world.root / "base.toml", "max_travel_min = 60.0", 'max_travel_min = "sixty"')
    with pytest.raises(DataError):
        world.sweep(restart=True)
    assert world.journal.read_bytes() == before


def test_cli_refusal_is_one_line_exit_2(earlier_on_roads: World, tmp_path: Path) -> None:
    world = earlier_on_roads.copy(tmp_path / "w")
    res = CliRunner().invoke(cli, ["sweep", str(world.spec), "--geodata", str(world.geodata),
                                   "--out", str(world.out), "--travel", str(world.travel),
                                   "--workers", "1", "--quiet",
                                   "--cache-dir", str(world.root / "cache")])
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == ["error: " + world.refused(
        "the travel matrix changed (now the file times.csv, was the road graph)")]
    assert "Traceback" not in res.output


# ------------------------------------------------------------------ records by hand


def record(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "siteopt_version": "1.0", "spec": {"runs": 5, "seed": 1},
        "geodata": {"sites.csv": "a", "zones.csv": "b"},
        "travel": {"source": "file", "name": "t.csv", "sha256": "c"},
        "scenario": [{"name": "root.toml", "sha256": "d"}, {"name": "base.toml", "sha256": "e"}]}
    return {**base, **changes}


def test_changes_by_hand() -> None:
    old = record()
    assert resume.changes(old, record()) == []
    assert resume.changes(old, record(geodata={"sites.csv": "a", "zones.csv": "b",
                                               "new.csv": "f"})) == [
        "geodata file new.csv was added"]
    assert resume.changes(old, record(geodata={"zones.csv": "b"})) == [
        "geodata file sites.csv was removed"]
    assert resume.changes(old, record(spec={"runs": 6, "seed": 2})) == [
        "the sweep spec changed (runs, seed)"]
    renamed = record(travel={"source": "file", "name": "u.csv", "sha256": "c"})
    assert resume.changes(old, renamed) == []  # same content, other name
    assert resume.fingerprint(renamed) == resume.fingerprint(old)
    assert resume.changes(old, record(travel={"source": "file", "name": "u.csv",
                                              "sha256": "x"})) == [
        "the travel matrix file u.csv changed (other times, was t.csv)"]
    assert resume.fingerprint(record(siteopt_version="2")) != resume.fingerprint(old)

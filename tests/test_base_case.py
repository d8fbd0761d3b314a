"""One base case: the defaults and scenarios/base.toml are the same run (issue 14, item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from siteopt.cli import cli
from siteopt.data.load import load_geodata
from siteopt.paths import CHECKOUT_DIR, DEFAULT_GEODATA_DIR
from siteopt.runs.scenario import load_scenario, scenario_label

BASE = (CHECKOUT_DIR or Path(".")) / "scenarios" / "base.toml"


def test_defaults_and_base_toml_resolve_to_the_same_settings() -> None:
    a = load_geodata(DEFAULT_GEODATA_DIR).assumptions
    default = load_scenario(None, assumptions=a)
    base = load_scenario(BASE, assumptions=a)
    for section in ("demand", "catalogue", "model", "solver"):
        assert getattr(default, section) == getattr(base, section), section
    assert dict(default.values) == dict(base.values)
    assert default.name == base.name == "base"
    # every value of the base case comes from the assumptions, none from the file
    assert set(base.origin.values()) == {"assumptions.toml"}
    assert default.model.objective == a["base_case.objective"]
    assert default.model.max_mean_travel_min == a["base_case.max_mean_travel_min"]
    assert default.model.capital_limit_gbp == a["limits.capital_net_gbp"]
    # the name printed says where the settings came from
    assert scenario_label(default) == "base (the base case in assumptions.toml)"
    assert scenario_label(base).startswith("base (") and "base.toml" in scenario_label(base)


def test_solve_default_and_base_toml_give_the_same_answer(tmp_path: Path) -> None:
    runner = CliRunner()
    outs = []
    for extra in ([], ["--scenario", str(BASE)]):
        r = runner.invoke(cli, ["solve", "--format", "json", *extra])
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        outs.append(doc)
    for k in ("sites", "objective", "objective_mode", "access", "totals", "status"):
        assert outs[0][k] == outs[1][k], k


@pytest.mark.slow
def test_appraise_default_and_base_toml_give_the_same_tables(tmp_path: Path) -> None:
    runner = CliRunner()
    for name, extra in (("default", []), ("base", ["--scenario", str(BASE)])):
        r = runner.invoke(cli, ["appraise", "--no-maps", "--next-best", "1",
                                 "--out", str(tmp_path / name), *extra])
        assert r.exit_code == 0, r.output
    for table in ("appraisal.csv", "sites.csv", "access_by_group.csv", "why.csv"):
        assert (tmp_path / "default" / table).read_bytes() == \
            (tmp_path / "base" / table).read_bytes(), table
    a = json.loads((tmp_path / "default" / "appraisal.json").read_text("utf-8"))
    b = json.loads((tmp_path / "base" / "appraisal.json").read_text("utf-8"))
    assert a["preferred"] == b["preferred"]
    assert a["scenario_label"] != b["scenario_label"]

"""`siteopt solve` on the real LLR data: JSON schema, determinism, and figures recomputed
independently from the inputs."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from siteopt.catalogue.demand import bed_need
from siteopt.cli import cli
from siteopt.data.load import load_geodata
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.travel.matrix import zone_site_travel


def run_json(*args: str) -> dict[str, Any]:
    """Run the real command in a subprocess: stdout must be pure JSON (no solver banners)."""
    out = subprocess.run([sys.executable, "-m", "siteopt", "solve", "--format", "json", *args],
                         capture_output=True, text=True, check=True)
    parsed: dict[str, Any] = json.loads(out.stdout)
    return parsed


@pytest.fixture(scope="module")
def solved() -> dict[str, Any]:
    return run_json()


def test_json_has_the_documented_schema(solved: dict[str, Any]) -> None:
    assert solved["status"] == "optimal"
    assert solved["solver"] == "highs"
    assert {"gap", "objective", "sites", "totals", "access", "assignment"} <= set(solved)
    site = solved["sites"][0]
    assert {"site_id", "name", "wards", "beds", "inpatient", "paired"} <= set(site)
    assert set(site["beds"]) == {"rehab", "stroke"}
    totals = solved["totals"]
    assert {"beds", "sites_with_beds", "capex_gbp", "disposals_gbp", "net_capital_gbp",
            "revenue_gbp_per_year", "staff_wte"} <= set(totals)
    assert {"mean_travel_min", "max_travel_min", "share_within_30_min"} <= set(solved["access"])
    row = solved["assignment"][0]
    assert set(row) >= {"zone_id", "site_id", "service", "share"}
    assert solved["violations"] == []


def test_figures_recomputed_from_the_inputs(solved: dict[str, Any]) -> None:
    data = load_geodata(DEFAULT_GEODATA_DIR)
    demand = bed_need(data)
    travel = zone_site_travel(data)
    t = {(z, s): travel.travel_min[i, j] for i, z in enumerate(travel.origin_ids)
         for j, s in enumerate(travel.destination_ids)}
    # Beds and sites from the per-site rows.
    sites = solved["sites"]
    for svc in ("rehab", "stroke"):
        assert solved["totals"]["beds"][svc] == sum(s["beds"][svc] for s in sites)
    assert solved["totals"]["sites_with_beds"] == sum(1 for s in sites if s["inpatient"])
    totals = solved["totals"]
    assert totals["net_capital_gbp"] == pytest.approx(totals["capex_gbp"]
                                                      - totals["disposals_gbp"])
    # Every zone's need is fully assigned, within capacity, within the drive-time limit.
    share = {}
    for row in solved["assignment"]:
        key = (row["zone_id"], row["service"])
        share[key] = share.get(key, 0.0) + row["share"]
    need = {s: demand.demand_beds[:, k] for k, s in enumerate(demand.services)}
    for k, zone in enumerate(demand.zone_ids):
        for svc in demand.services:
            if need[svc][k] > 0:
                assert share[(zone, svc)] == pytest.approx(1.0, abs=1e-6)
    load: dict[tuple[str, str], float] = {}
    zone_pos = {z: k for k, z in enumerate(demand.zone_ids)}
    for row in solved["assignment"]:
        svc_need = need[row["service"]][zone_pos[row["zone_id"]]]
        key = (row["site_id"], row["service"])
        load[key] = load.get(key, 0.0) + row["share"] * svc_need
        assert t[(row["zone_id"], row["site_id"])] <= 60 + 1e-6
    for s in sites:
        for svc in demand.services:
            assert load.get((s["site_id"], svc), 0.0) <= s["beds"][svc] + 1e-6
    # Mean drive time of the 65+: services weighted by their share of total need.
    weight = dict(zip(data.zones["zone_id"], data.zones["pop_65_plus"], strict=True))
    total_need = {svc: need[svc].sum() for svc in demand.services}
    beta = {svc: total_need[svc] / sum(total_need.values()) for svc in demand.services}
    mean = sum(weight[r["zone_id"]] * r["share"] * beta[r["service"]]
               * t[(r["zone_id"], r["site_id"])] for r in solved["assignment"])
    mean /= sum(weight.values())
    assert solved["access"]["mean_travel_min"] == pytest.approx(mean, rel=1e-5)


def test_same_inputs_same_files(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a", "b"):
        result = runner.invoke(cli, ["solve", "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert {"manifest.json", "solution.json", "solution_sites.csv",
            "solution_assignment.csv"} <= set(files)
    for name in files:
        if name == "run_manifest.json":  # records when and where the run wrote: differs
            continue
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert len(manifest["inputs_sha256"]) == 64
    assert manifest["runs"]["solution"]["status"] == "optimal"
    assert manifest["runs"]["solution"]["independent_check"] == "passed"
    with (tmp_path / "a" / "solution_sites.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 9


def test_table_for_people() -> None:
    result = CliRunner().invoke(cli, ["solve"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("siteopt: optimal (highs, objective cost); scenario base")
    assert "planning year 2026" in out.splitlines()[0]
    assert "Rutland Memorial Hospital" in out
    assert "drive time for people aged 65+: mean" in out
    assert "independent check: passed" in out


def test_evaluate_status_quo_reports_limit_breaches_without_failing() -> None:
    result = CliRunner().invoke(cli, ["solve", "--evaluate", "status_quo", "--set",
                                      "model.max_travel_min=45"])
    assert result.exit_code == 0, result.output
    assert "rehab 192, stroke 56" in result.stdout
    assert "independent check: zone" in result.stdout
    assert "over the 45 min limit" in result.stdout


def test_bad_override_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["solve", "--set", "model.capital_limt_gbp=1",
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --set, field 'model.capital_limt_gbp': unknown "
                                    "key; valid keys of [model]:")
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_infeasible_scenario_explains_which_limits_conflict() -> None:
    result = CliRunner().invoke(cli, ["solve", "--set", "model.max_staff_wte_total=300"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: The scenario is infeasible: the staff limit of "
                                    "300.0 WTE is ")
    assert "WTE short of the cheapest configuration that covers the bed need" in result.stderr


def test_zero_max_travel_says_by_how_much_it_must_rise() -> None:
    result = CliRunner().invoke(cli, ["solve", "--set", "model.max_travel_min=0"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    err = result.stderr
    assert err.startswith("error: The scenario is infeasible: the 0-minute limit on any zone's "
                          "drive is ")
    assert re.search(r"is (\d+\.\d) minutes short for rehab \(zone E\d+ needs \1 minutes to its "
                     r"nearest site that can offer rehab\)", err), err
    assert re.search(r"raise the maximum drive time to at least \d+\.\d minutes", err), err


def test_time_limited_solve_is_never_called_optimal_without_proof() -> None:
    out = subprocess.run([sys.executable, "-m", "siteopt", "solve", "--format", "json",
                          "--time-limit", "0.01"], capture_output=True, text=True)
    if out.returncode == 0:
        doc = json.loads(out.stdout)
        assert doc["status"] == "optimal" or doc["status"].startswith("feasible (gap ")
    else:
        assert out.returncode == 2
        assert "no solution found within the 0.01 s time limit" in out.stderr
        assert "try a longer --time-limit" in out.stderr
        assert "infeasible" not in out.stderr.replace("not known to be infeasible", "")
        assert out.stdout == ""


def test_numpy_free_json(solved: dict[str, Any]) -> None:
    assert np.isfinite(solved["access"]["max_travel_min"])


def test_stp_2016_is_evaluated_with_its_shortfall_against_todays_need() -> None:
    result = CliRunner().invoke(cli, ["solve", "--evaluate", "stp_2016"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "beds: rehab 150, stroke 45" in out
    assert "sites with beds: 8 today -> 6" in out
    assert "capital: capex £22.30m, disposals £18.76m, net £3.54m" in out
    assert "bed need not met: rehab has 150.0 usable beds for a need of 165.1 (15.1 short)" in out


def test_no_solver_banner_in_any_output() -> None:
    """HiGHS's copyright banner ("Running HiGHS 1.x ... Copyright", "Includes third-party
    software components") is printed neither on stdout nor on stderr (``siteopt appraise``:
    tests/test_progress.py)."""
    banner = re.compile(r"Running HiGHS|Copyright \(c\)|THIRD_PARTY_NOTICES")
    out = subprocess.run([sys.executable, "-m", "siteopt", "solve"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("siteopt: optimal"), out.stdout
    assert not banner.search(out.stdout) and not banner.search(out.stderr), out.stderr

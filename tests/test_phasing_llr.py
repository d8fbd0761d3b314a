"""Phasing on the embedded LLR data: the 2016 proposal under the STP's own annual capital, the
base case's optimum under a stated envelope, the Green Book figures, bad input and the CLI
(issue 19)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from siteopt.appraisal.economics import economic_case
from siteopt.appraisal.phasing import (
    build_phase_input,
    phase_configuration,
    phased_npc,
    target_choice,
)
from siteopt.cli import cli
from siteopt.data.phasing import read_scheme_phasing
from siteopt.errors import DataError
from siteopt.outputs.phasing import phasing_csv, plan_json, write_phasing_files
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import Prepared, prepare
from siteopt.wards.results import totals

ROOT = Path(__file__).resolve().parents[1]
STP_SCENARIO = ROOT / "scenarios" / "phasing_stp_2016.toml"
STP_YEARS = {"market_harborough_ward": 2018, "lutterworth_closure": 2019,
             "melton_extension": 2019, "evington_stroke_ward": 2020, "oakham_closure": 2020}
"""The STP's year of each scheme (capital section, Nov 2016)."""


@pytest.fixture(scope="module")
def stp() -> Prepared:
    return prepare(DEFAULT_GEODATA_DIR, STP_SCENARIO)


@pytest.fixture(scope="module")
def base() -> Prepared:
    return prepare(DEFAULT_GEODATA_DIR, None, ["phasing.capital_limit_other_years_gbp=4e6"])


def test_the_2016_plan_under_the_stps_capital_reproduces_its_order(stp: Prepared) -> None:
    plan = phase_configuration(stp, "stp_2016")
    assert plan.status == "optimal" and plan.violations == ()
    assert {s.scheme_id: s.start_year for s in plan.schemes} == STP_YEARS
    # the beds move in the year after each scheme: Lutterworth with Market Harborough's ward,
    # Oakham with Melton's, the General's stroke beds with Evington's new ward
    assert plan.site_moves["market_harborough"] == plan.site_moves["lutterworth"] == 2019
    assert plan.site_moves["melton"] == plan.site_moves["oakham"] == 2020
    assert plan.site_moves["evington"] == 2021
    capex = {r.year: r.capex_gbp for r in plan.years if r.capex_gbp}
    assert capex == pytest.approx({2018: 8.6e6, 2019: 5.2e6, 2020: 8.5e6})
    assert sum(s.capex_gbp for s in plan.schemes) == pytest.approx(22.3e6)
    assert plan.stp_comparison[0] == ("first scheme: market_harborough_ward in 2018/19 (the STP: "
                                      "market_harborough_ward in 2018/19)")
    assert plan.stp_comparison[-1] == "5 of 5 schemes start in the STP's year"
    # receipts a year after the site (and the site whose beds it needs gone) is vacated
    assert {r.scheme_id: r.year for r in plan.receipts} == {
        "market_harborough_ward": 2020, "lutterworth_closure": 2020,
        "melton_extension": 2021, "oakham_closure": 2021}


def test_a_short_stp_envelope_is_explained_in_pounds(stp: Prepared) -> None:
    short = prepare(DEFAULT_GEODATA_DIR, STP_SCENARIO,
                    ["phasing.capital_limit_gbp_by_year={2018 = 8.0e6, 2019 = 5.2e6, "
                     "2020 = 8.5e6}"])
    plan = phase_configuration(short, "stp_2016")
    assert plan.status == "infeasible" and plan.years == ()
    # Market Harborough's £8.6m fits no other year; the shortage is named once, in pounds
    assert plan.explanation == (
        "no programme completes the moves by 2027 within the gross capital envelopes: the "
        "cheapest order that keeps the bed shortfall at its least (7,848 bed-days) needs £0.60m "
        "more in all: 2018's envelope (£8.00m gross) is £0.60m short",)


def test_the_base_case_optimum_under_4m_a_year(base: Prepared) -> None:
    plan = phase_configuration(base, "optimal")
    assert plan.status == "optimal" and plan.violations == ()
    for r in plan.years:
        assert r.net_capital_gbp <= 4e6 + 1.0
    assert plan.completion_year is not None and plan.completion_year <= plan.last_year
    assert (plan.first_year, plan.last_year) == (2026, 2035)
    # the all-at-once NPV is the appraisal's: economic case of the target against today's
    _, target = target_choice(base, "optimal")
    pi = build_phase_input(base, target)
    t = totals(base.evaluation_instance, target)
    q = totals(base.evaluation_instance, pi.current)
    npc = economic_case(t["capex_gbp"], t["disposals_gbp"], t["revenue_gbp_per_year"],
                        pi.appraisal)["npc_gbp"]
    sq = economic_case(q["capex_gbp"], q["disposals_gbp"], q["revenue_gbp_per_year"],
                       pi.appraisal)["npc_gbp"]
    assert plan.npc_all_at_once_gbp == pytest.approx(npc)
    assert plan.npv_all_at_once_gbp == pytest.approx(sq - npc)
    assert plan.npv_phased_gbp is not None
    assert plan.npv_difference_gbp == pytest.approx(plan.npv_phased_gbp
                                                    - plan.npv_all_at_once_gbp)


def test_phased_npc_of_all_at_once_flows_is_the_appraisals(base: Prepared) -> None:
    _, target = target_choice(base, "stp_2016")
    pi = build_phase_input(base, target)
    capex, receipts = np.zeros(5), np.zeros(5)
    capex[0], receipts[0] = 22.3e6, 18.758e6
    revenue = np.full(5, 20e6)
    got = phased_npc(pi, capex, receipts, revenue, 20e6)
    want = economic_case(22.3e6, 18.758e6, 20e6, pi.appraisal)["npc_gbp"]
    assert got == pytest.approx(want, rel=1e-12)


def test_outputs_are_deterministic(stp: Prepared, tmp_path: Path) -> None:
    a = phase_configuration(stp, "stp_2016")
    b = phase_configuration(stp, "stp_2016")
    assert plan_json(a) == plan_json(b) and phasing_csv(a) == phasing_csv(b)
    files = write_phasing_files(a, tmp_path)
    assert sorted(p.name for p in files) == ["phasing.csv", "phasing.html", "phasing.json",
                                             "phasing_timeline.pdf", "phasing_timeline.png"]
    doc = json.loads((tmp_path / "phasing.json").read_text())
    assert doc["green_book"]["npv_difference_gbp"] == pytest.approx(a.npv_difference_gbp)
    assert doc["independent_check"] == "passed"
    header = phasing_csv(a).splitlines()[0].split(",")
    assert header[:5] == ["year", "capex_gbp", "receipts_gbp", "net_capital_gbp", "envelope_gbp"]


def test_timeline_chart_reads_in_greyscale(stp: Prepared, tmp_path: Path) -> None:
    from PIL import Image

    write_phasing_files(phase_configuration(stp, "stp_2016"), tmp_path)
    grey = np.asarray(Image.open(tmp_path / "phasing_timeline.png").convert("L"))
    # bars, markers and text are drawn in black and greys: several distinct dark levels
    assert (grey < 60).mean() > 0.002 and len(np.unique(grey // 32)) >= 4


def test_bad_scheme_phasing_rows_are_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "scheme_phasing.csv").write_text(
        "scheme_id,build_years,earliest_start_year,receipt_lag_years,takes_beds_of,source\n"
        "melton_extension,0,2018,1,oakham,x\n"
        "nowhere,1,2018,1,,x\n"
        "oakham_closure,1,2018,1,atlantis,x\n", encoding="utf-8")
    schemes = {"melton_extension": "melton", "oakham_closure": "oakham",
               "market_harborough_ward": "market_harborough"}
    with pytest.raises(DataError) as info:
        read_scheme_phasing(tmp_path, schemes, ["melton", "oakham", "market_harborough"],
                            needed=["market_harborough_ward"])
    lines = info.value.lines()
    assert lines[0].startswith("scheme_phasing.csv, row 2, field 'build_years':")
    assert any(x.startswith("scheme_phasing.csv, row 3, field 'scheme_id': scheme 'nowhere' is "
                            "not in capital_schemes.csv") for x in lines)
    assert any("row 4, field 'takes_beds_of': takes_beds_of names 'atlantis'" in x
               for x in lines)
    assert any("has no row for scheme 'market_harborough_ward'" in x for x in lines)


def test_missing_scheme_phasing_file_says_what_to_add(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"scheme_phasing\.csv: not found in the geodata folder"):
        read_scheme_phasing(tmp_path, {}, [])


@pytest.mark.parametrize(("override", "expected"), [
    ("phasing.capital_limit_gbp_by_year={2040 = 1e6}",
     "error: --set, field 'phasing.capital_limit_gbp_by_year.2040': year 2040 is outside the "
     "horizon 2026-2035; move it or widen phasing.first_year/last_year"),
    ("phasing.envelope=3", "error: --set, field 'phasing.envelope': unknown key; valid keys of "
                           "[phasing]: first_year, last_year, horizon_years, "
                           "capital_limit_gbp_by_year, capital_limit_other_years_gbp, "
                           "capital_basis, objective, shortfall_first, choose_end_state"),
    ("phasing.capital_basis=both", "error: --set, field 'phasing.capital_basis': 'both' is not "
                                   "one of: net, gross"),
])
def test_bad_phasing_keys_are_refused_in_one_line(override: str, expected: str) -> None:
    result = CliRunner().invoke(cli, ["phase", "--option", "stp_2016", "--set", override])
    assert result.exit_code == 2
    assert result.stderr.strip() == expected
    assert "Traceback" not in result.output


def test_unknown_option_is_refused() -> None:
    result = CliRunner().invoke(cli, ["phase", "--option", "plan_z"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --option, field 'option': no configuration "
                                    "'plan_z'; known: status_quo, stp_2016")


def test_cli_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["phase", "--option", "stp_2016", "--scenario",
                                      str(STP_SCENARIO), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("phasing of stp_2016: optimal (objective "
                                                    "npc, gross capital); horizon 2018/19-2027/28")
    assert "5 of 5 schemes start in the STP's year" in result.stdout
    assert "independent check: passed" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "phasing.csv", "phasing.html", "phasing.json", "phasing_timeline.pdf",
        "phasing_timeline.png", "run_manifest.json"]
    js = CliRunner().invoke(cli, ["phase", "--option", "stp_2016", "--scenario",
                                  str(STP_SCENARIO), "--format", "json", "--objective",
                                  "completion"])
    assert js.exit_code == 0
    doc = json.loads(js.stdout)
    assert doc["objective"] == "completion" and doc["status"] == "optimal"
    assert doc["completion_year"] <= 2027


OPTION_D = """option,site_id,service,wards,beds
option_d,coalville,rehab,1,24
option_d,coalville,stroke,1,24
option_d,loughborough,rehab,1,24
option_d,hinckley_bosworth,rehab,2,37
option_d,evington,rehab,2,45
option_d,evington,stroke,1,15
option_d,melton,rehab,1,21
option_d,market_harborough,rehab,1,15
option_d,market_harborough,stroke,1,15
"""
"""The appraisal's preferred option on the embedded data (Option D, ``pareto_11``: Oakham and
Lutterworth close, Melton's extension, Hinckley 21 + 16, Evington 24 + 21 and the new stroke
ward), as a user options file."""


def test_the_preferred_option_from_an_options_file(tmp_path: Path) -> None:
    path = tmp_path / "options.csv"
    path.write_text(OPTION_D, encoding="utf-8")
    args = ["phase", "--options", str(path), "--option", "option_d", "--set",
            "phasing.capital_limit_other_years_gbp=4e6", "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["option"] == "option_d" and doc["status"] == "optimal"
    moves = doc["site_moves"]
    # Oakham's beds go to Melton's new ward: they close no earlier than it opens
    assert moves["oakham"] >= moves["melton"]
    assert {s["scheme_id"] for s in doc["schemes"]} == {
        "melton_extension", "oakham_closure", "evington_stroke_ward", "lutterworth_closure"}
    assert all(y["net_capital_gbp"] <= 4e6 + 1 for y in doc["years"])
    assert doc["independent_check"] == "passed"
    bad = CliRunner().invoke(cli, ["phase", "--options", str(path), "--option", "option_e"])
    assert bad.exit_code == 2
    assert bad.stderr.strip() == ("error: options.csv, field 'option': has no option "
                                  "'option_e'; it has option_d")


def test_html_section_and_workbook_sheet(stp: Prepared, tmp_path: Path) -> None:
    from openpyxl import Workbook, load_workbook

    from siteopt.outputs.phasing import phasing_section_html, write_phasing_sheet, year_table

    plan = phase_configuration(stp, "stp_2016")
    html = "\n".join(phasing_section_html(plan, heading="Phasing <the 2016 proposal>"))
    assert "<h2 id='phasing-stp_2016'>Phasing &lt;the 2016 proposal&gt;</h2>" in html
    assert "5 of 5 schemes start in the STP&#x27;s year" in html
    wb = Workbook()
    ws = wb.create_sheet("Phasing")
    write_phasing_sheet(ws, plan)
    wb.save(tmp_path / "w.xlsx")
    back = load_workbook(tmp_path / "w.xlsx")["Phasing"]
    header, rows = year_table(plan)
    assert [c.value for c in back[1]] == header
    assert back.max_row == len(rows) + 1 == 11
    assert back["B2"].value == pytest.approx(8.6e6) and back["B2"].number_format == "£#,##0"

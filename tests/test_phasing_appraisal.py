"""The appraisal's phasing (issue 19 item 4): the defaults as data, the check of
scheme_phasing.csv, the options phased, and every figure of the report's Phasing section
recomputed here from the data files, the plan's schedule and the phasing instance's arrays
(never from the code that wrote the section).

The fast tests phase the 2016 proposal directly under the assumptions' default envelope; the
slow one runs the LLR appraisal and opens its JSON, workbook, Word report and data package.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from siteopt.appraisal.appraise import Appraisal, appraise
from siteopt.appraisal.naming import short_site_name
from siteopt.appraisal.phasing import (
    PhasePlan,
    build_phase_input,
    fy,
    options_to_phase,
    phase_configuration,
    phase_task,
    plan_words,
)
from siteopt.appraisal.settings import AppraisalSettings
from siteopt.data.load import load_assumptions, load_geodata
from siteopt.errors import DataError
from siteopt.outputs.phasing import (
    appraisal_section_html,
    display_table,
    plan_statements,
    stp_statement,
)
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import Prepared, prepare
from siteopt.runs.scenario import load_scenario


def gbp_m(x: float) -> str:
    """Pounds in millions as the report writes them (written here again, on purpose)."""
    return ("-" if x < -5000 else "") + f"£{abs(x) / 1e6:.2f}m"


# ---------------------------------------------------------------------------------------------
# Defaults as data, and the checks
# ---------------------------------------------------------------------------------------------
def test_phasing_defaults_come_from_the_assumptions_and_a_scenario_overrides_them() -> None:
    asm, problems = load_assumptions(DEFAULT_GEODATA_DIR / "assumptions.toml")
    assert problems == [] and asm is not None
    assert asm["phasing.capital_limit_gbp_per_year"] == pytest.approx(19.95e6 / 3)
    assert "19.95m over three years" in asm.sources["phasing.capital_limit_gbp_per_year"]
    base = load_scenario(None, (), asm)
    assert (base.phasing.horizon_years, base.phasing.capital_limit_other_years_gbp,
            base.phasing.capital_basis) == (asm["phasing.horizon_years"], 6.65e6, "net")
    assert base.origin["phasing.capital_limit_other_years_gbp"] == "assumptions.toml"
    mine = load_scenario(None, ["phasing.capital_limit_other_years_gbp=4e6",
                                'phasing.capital_basis="gross"'], asm)
    assert (mine.phasing.capital_limit_other_years_gbp, mine.phasing.capital_basis) == \
        (4e6, "gross")
    assert mine.origin["phasing.capital_basis"] == "--set"
    settings = AppraisalSettings.from_assumptions(asm.values)
    assert settings.phase_options == ["preferred", "stp_2016"]
    assert AppraisalSettings.from_assumptions(
        asm.values, {"appraisal.phase_options": []}).phase_options == []
    with pytest.raises(DataError, match="phase_options must be a list of option names"):
        AppraisalSettings.from_assumptions(asm.values, {"appraisal.phase_options": "preferred"})


def test_a_bad_phasing_assumption_is_one_line(geodata_copy: Path) -> None:
    path = geodata_copy / "assumptions.toml"
    path.write_text(path.read_text("utf-8").replace(
        'capital_basis = { value = "net"', 'capital_basis = { value = "both"'), "utf-8")
    with pytest.raises(DataError) as err:
        load_geodata(geodata_copy)
    assert err.value.lines() == ["assumptions.toml, field 'phasing.capital_basis': 'both' is "
                                 "not net or gross"]


def test_validate_checks_scheme_phasing_csv(geodata_copy: Path) -> None:
    path = geodata_copy / "scheme_phasing.csv"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    bad = [x.replace("melton_extension,1,", "melton_extension,0,") for x in lines
           if not x.startswith("oakham_closure,")]
    path.write_text("".join(bad), "utf-8")
    with pytest.raises(DataError) as err:
        load_geodata(geodata_copy)
    assert err.value.lines() == [
        "scheme_phasing.csv, row 3, field 'build_years': 0 is below the minimum 1 (whole "
        "financial years from the start of work to opening, e.g. 1)",
        "scheme_phasing.csv, field 'scheme_id': has no row for scheme 'oakham_closure', which "
        "capital_schemes.csv lists as a ward scheme; add its build_years, earliest_start_year "
        "and receipt_lag_years"]
    path.unlink()  # the file is optional: without it the folder is sound
    load_geodata(geodata_copy)


def test_without_scheme_phasing_the_task_returns_the_reason(geodata_copy: Path) -> None:
    (geodata_copy / "scheme_phasing.csv").unlink()
    shutil.copytree(DEFAULT_GEODATA_DIR / "roads", geodata_copy / "roads")
    prepared = prepare(geodata_copy)
    settings = AppraisalSettings.from_assumptions(prepared.data.assumptions.values)
    result = phase_task(prepared, "stp_2016", prepared.catalogue.configurations["stp_2016"],
                        settings)
    assert isinstance(result, tuple)
    assert result[0].startswith("scheme_phasing.csv: not found in the geodata folder")


def test_options_to_phase_and_their_words() -> None:
    settings = dataclasses.replace(AppraisalSettings(),
                                   phase_options=["preferred", "stp_2016", "nowhere", "x"])
    notes: list[str] = []
    got = options_to_phase(settings, "x", {"x": {"a": "1"}, "stp_2016": {"a": "2"}}, notes)
    assert got == {"x": {"a": "1"}, "stp_2016": {"a": "2"}}  # x once though named twice
    assert notes == ["phasing: 'nowhere' (appraisal.phase_options) is not an option of the "
                     "long list, so it is not phased"]
    decision = {"titles": {"x": "t", "stp_2016": "t", "y": "t", "z": "t"},
                "letters": {"x": "D", "stp_2016": "B", "y": "A"}}
    assert plan_words(decision, "x") == {"x": "Option D (the preferred option)",
                                         "stp_2016": "Option B (the 2016 proposal)",
                                         "y": "Option A", "z": "z"}


# ---------------------------------------------------------------------------------------------
# Every figure of the section, recomputed
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def llr() -> Prepared:
    return prepare(DEFAULT_GEODATA_DIR)


@pytest.fixture(scope="module")
def stp_plan(llr: Prepared) -> PhasePlan:
    return phase_configuration(llr, "stp_2016")


def discount(n: int, r1: float, r2: float) -> np.ndarray:
    out = [1.0]
    for t in range(1, n + 1):
        out.append(out[-1] / (1 + (r1 if t <= 30 else r2)))
    return np.array(out)


def recompute(prepared: Prepared, plan: PhasePlan) -> dict[str, Any]:
    """Every year's money and beds of the plan's schedule, from the data files, the schedule
    (start years and move years) and the phasing instance's per-site arrays."""
    geo = prepared.data.directory
    schemes = pd.read_csv(geo / "capital_schemes.csv").set_index("scheme_id")
    timing = pd.read_csv(geo / "scheme_phasing.csv").set_index("scheme_id")
    asm = prepared.data.assumptions
    inst = build_phase_input(prepared, plan.end_state).instance
    first, n = plan.first_year, plan.last_year - plan.first_year + 1
    n_flow = n + 4
    capex, receipts = np.zeros(n_flow), np.zeros(n_flow)
    for s in plan.schemes:
        build = int(timing.loc[s.scheme_id, "build_years"])
        if s.kind == "closure":  # built from the year its site's beds close
            assert s.start_year == plan.site_moves[s.site_id]
        else:  # finished before its site moves
            assert s.start_year + build <= plan.site_moves[s.site_id]
        for y in range(s.start_year, s.start_year + build):
            capex[y - first] += float(schemes.loc[s.scheme_id, "capex_gbp"]) / build
        receipt = float(schemes.loc[s.scheme_id, "disposal_gbp"])
        if receipt > 0:
            need = {s.site_id} | {x for x in str(schemes.loc[s.scheme_id,
                                                             "receipt_requires_closure"])
                                  .split(";") if x and x != "nan"}
            year = max(plan.site_moves.get(x, first) for x in need) + int(
                timing.loc[s.scheme_id, "receipt_lag_years"])
            receipts[year - first] += receipt
    moved = np.array([[first + t >= plan.site_moves[sid] for sid in inst.site_ids]
                      for t in range(n_flow)], dtype=float)
    revenue = inst.fixed_revenue_gbp + moved @ inst.revenue_after + (1 - moved) @ \
        inst.revenue_before
    beds = inst.fixed_usable + moved[:n] @ inst.usable_after + (1 - moved[:n]) @ \
        inst.usable_before
    per_bed = 365.0 * float(asm["demand.target_occupancy"])
    short = np.maximum(inst.need_beds - beds, 0).sum(axis=1) * per_bed
    double = np.array([sum(inst.revenue_before[b] for a, b in inst.precedence
                           if moved[t, a] and not moved[t, b]) for t in range(n)])
    years = int(asm["green_book.appraisal_years"])
    df = discount(max(years, n_flow), float(asm["green_book.discount_rate_years_0_30"]),
                  float(asm["green_book.discount_rate_years_31_75"]))
    ob = 1 + float(asm["green_book.optimism_bias_capex"])
    end_revenue = inst.fixed_revenue_gbp + float(inst.revenue_after.sum())
    rev = np.full(years + 1, end_revenue)
    rev[:n_flow] = revenue
    residual = capex.sum() * max(0.0, 1 - years / float(asm["costs.capital_asset_life_years"]))
    npc = float((df[:n_flow] * (capex * ob - receipts)).sum() + (df[1:years + 1]
                                                                 * rev[1:]).sum()
                - residual * df[years])
    return {"capex": capex, "receipts": receipts, "net": capex - receipts, "revenue": revenue,
            "beds": beds, "need": inst.need_beds, "short": short, "double": double,
            "services": inst.services, "npc": npc}


def test_the_plan_is_feasible_under_the_default_envelope(stp_plan: PhasePlan) -> None:
    assert stp_plan.status == "optimal" and stp_plan.violations == ()
    assert (stp_plan.first_year, stp_plan.last_year, stp_plan.capital_basis) == \
        (2026, 2035, "net")
    assert all(r.envelope_gbp == 6.65e6 for r in stp_plan.years)
    assert all(r.net_capital_gbp <= 6.65e6 + 1 for r in stp_plan.years)


def test_every_sentence_and_table_figure_is_recomputed(llr: Prepared,
                                                       stp_plan: PhasePlan) -> None:
    plan, words = stp_plan, "Option C (the 2016 proposal)"
    names = {s.site_id: s.name for s in llr.evaluation_instance.sites}
    x = recompute(llr, plan)
    n = len(plan.years)
    npv_phased = plan.npv_all_at_once_gbp + plan.npc_all_at_once_gbp - x["npc"]
    assert plan.npv_phased_gbp == pytest.approx(npv_phased, abs=1.0)
    lead, order, capital, beds, double, npv = plan_statements(plan, words, names)
    completion = max(plan.site_moves.values())
    assert lead == (f"{words} is phased over 2026/27-2035/36 under a net capital envelope of "
                    f"{gbp_m(6.65e6)} a year: the programme is optimal and complete in "
                    f"{fy(completion)}.")
    clauses = dict(c.split(": ", 1) for c in re.split(
        r"\. (?=\d{4}/\d{2}: )", order.removeprefix("The order: ").removesuffix(".")))
    for s in plan.schemes:  # each scheme's start, in its year's clause, with its capex
        assert f"scheme starts ({gbp_m(s.capex_gbp)})" in clauses[fy(s.start_year)]
    for sid, year in plan.site_moves.items():  # each move in its year's clause
        assert short_site_name(names[sid]) in clauses[fy(year)]
    assert set(clauses) == {fy(s.start_year) for s in plan.schemes} | {
        fy(y) for y in plan.site_moves.values()}
    capex_h, receipts_h, net_h = x["capex"][:n], x["receipts"][:n], x["net"][:n]
    peak = int(np.argmax(net_h))
    assert capital == (f"Capital over the horizon: {gbp_m(capex_h.sum())} of capex and "
                       f"{gbp_m(receipts_h.sum())} of receipts; the most net capital in one "
                       f"year is {gbp_m(net_h[peak])}, in {fy(2026 + peak)}.")
    short_years = [t for t in range(n) if x["short"][t] > 0.5]
    assert beds == (f"Beds fall short of need by {x['short'].sum():,.0f} bed-days over the "
                    f"horizon, in {len(short_years)} of {n} years (from "
                    f"{fy(2026 + short_years[0])}).")
    assert double == (f"Running old and new wards side by side (double running) costs "
                      f"{gbp_m(x['double'].sum())} over the horizon.")
    diff = npv_phased - plan.npv_all_at_once_gbp
    assert diff < 0
    assert npv == (f"Green Book NPV against business as usual: {gbp_m(npv_phased)} phased, "
                   f"against {gbp_m(plan.npv_all_at_once_gbp)} all at once (the appraisal's "
                   f"figure, all capital in year 0): phasing lowers the NPV by "
                   f"{gbp_m(-diff)}.")
    header, rows = display_table(plan, names)
    assert len(rows) == n
    for t, row in enumerate(rows):
        cells = dict(zip(header, row, strict=True))
        assert cells["Year"] == fy(2026 + t)
        assert [cells["Capex"], cells["Receipts"], cells["Net capital"]] == [
            gbp_m(x["capex"][t]), gbp_m(x["receipts"][t]), gbp_m(x["net"][t])]
        assert cells["Envelope"] == gbp_m(6.65e6)
        for k, v in enumerate(x["services"]):
            assert cells[f"Beds {v} / need"] == f"{x['beds'][t, k]:.0f} / {x['need'][t, k]:.1f}"
        assert cells["Shortfall (bed-days)"] == f"{x['short'][t]:,.0f}"
        assert cells["Running cost"] == gbp_m(x["revenue"][t])
        assert cells["Double running"] == gbp_m(x["double"][t])


def test_the_2016_plan_is_compared_with_the_stps_order(llr: Prepared,
                                                       stp_plan: PhasePlan) -> None:
    timing = pd.read_csv(llr.data.directory / "scheme_phasing.csv").set_index("scheme_id")
    ours: dict[int, list[str]] = {}
    stp: dict[int, list[str]] = {}
    for s in stp_plan.schemes:
        ours.setdefault(s.start_year, []).append(s.scheme_id)
        stp.setdefault(int(timing.loc[s.scheme_id, "stp_start_year"]), []).append(s.scheme_id)

    def words(groups: dict[int, list[str]]) -> str:
        return ", then ".join(f"{' and '.join(sorted(v))} ({fy(y)})"
                              for y, v in sorted(groups.items()))

    same = sum(1 for s in stp_plan.schemes
               if s.start_year == int(timing.loc[s.scheme_id, "stp_start_year"]))
    order = ("is the STP's" if [sorted(v) for _, v in sorted(ours.items())]
             == [sorted(v) for _, v in sorted(stp.items())] else "differs from the STP's")
    assert stp_statement(stp_plan) == (
        f"Against the STP's own order (scheme_phasing.csv): the phased programme starts work on "
        f"{words(ours)}; the STP on {words(stp)}. The order {order}; {same} of "
        f"{len(stp_plan.schemes)} schemes start in the STP's year.")
    assert "market_harborough_ward (2018/19)" in stp_statement(stp_plan)
    html = "\n".join(appraisal_section_html({"stp_2016": stp_plan}, {"stp_2016": "Option C"},
                                            {}, {"stp_2016": base64.b64encode(b"x").decode()}))
    assert "Phasing of Option C" in html and "<img alt=" in html
    assert html.count("<table") == 1


def test_an_envelope_that_allows_nothing_is_a_note_not_an_error(llr: Prepared) -> None:
    tight = prepare(DEFAULT_GEODATA_DIR, None, ["phasing.capital_limit_other_years_gbp=1e6",
                                                'phasing.capital_basis="gross"'])
    from siteopt.appraisal.phasing import collect_phasing
    from siteopt.runs.workers import PreparedPool

    settings = AppraisalSettings.from_assumptions(llr.data.assumptions.values)
    with PreparedPool(tight, 1) as pool:
        future = pool.submit(phase_task, "stp_2016",
                             tight.catalogue.configurations["stp_2016"], settings)
        notes: list[str] = []
        plans = collect_phasing({"stp_2016": future}, {"stp_2016": "Option C"}, notes)
    plan = plans["stp_2016"]
    assert plan.years == () and plan.status == "infeasible"
    assert notes == [f"phasing of Option C: {plan.status_text}: " + " ".join(plan.explanation)]
    assert "envelope (£1.00m gross) is" in notes[0] and "short" in notes[0]
    assert plan_statements(plan, "Option C", {})[0].startswith("Option C: no programme")


# ---------------------------------------------------------------------------------------------
# The appraisal's files
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def appraisal(llr: Prepared) -> Appraisal:
    settings = AppraisalSettings.from_assumptions(llr.data.assumptions.values,
                                                  {"appraisal.next_best_options": 1})
    return appraise(llr, settings)


@pytest.mark.slow
def test_the_appraisal_phases_the_preferred_option_and_the_2016_proposal(
        appraisal: Appraisal, tmp_path: Path) -> None:
    import frictionless
    from docx import Document
    from openpyxl import load_workbook

    from siteopt.outputs.columns import describe_table, vocabulary
    from siteopt.outputs.report import render

    a = appraisal
    assert list(a.phasing) == [a.preferred, "stp_2016"]
    for name, plan in a.phasing.items():
        assert plan.status == "optimal" and plan.violations == ()
        assert plan.end_state == a.option(name).choice
        assert plan.npv_all_at_once_gbp == pytest.approx(
            a.option(name).economics["npv_vs_status_quo_gbp"], abs=1.0)
        assert plan.npv_phased_gbp == pytest.approx(
            plan.npv_all_at_once_gbp + plan.npc_all_at_once_gbp - recompute(a.prepared,
                                                                            plan)["npc"],
            abs=1.0)
    files = render(a)
    doc = json.loads(files["appraisal.json"])
    assert set(doc["phasing"]) == {a.preferred, "stp_2016"}
    assert doc["phasing"]["stp_2016"]["green_book"]["npv_phased_vs_status_quo_gbp"] == \
        pytest.approx(a.phasing["stp_2016"].npv_phased_gbp, abs=1e-3)
    assert doc["settings"]["phase_options"] == ["preferred", "stp_2016"]
    letter = a.decision["letters"][a.preferred]
    wb = load_workbook(io.BytesIO(files["appraisal.xlsx"]))
    sheet = wb[f"Phasing Option {letter}"]
    assert sheet["A1"].value == "Financial year" and sheet["B1"].font.bold
    assert sheet.max_row == 1 + len(a.phasing[a.preferred].years)
    assert sheet["B2"].number_format == '"£"#,##0;-"£"#,##0'
    vocab = vocabulary(a)
    pkg = json.loads(files["datapackage.json"])
    paths = {r["path"] for r in pkg["resources"]}
    for name in a.phasing:
        assert {f"phasing_{name}.csv", f"phasing_{name}_timeline.png",
                f"phasing_{name}_timeline.pdf"} <= paths
        rows = list(pd.read_csv(io.StringIO(str(files[f"phasing_{name}.csv"]))).to_dict(
            "records"))
        describe_table(f"phasing_{name}.csv", rows, vocab)  # raises if undocumented
        assert bytes(files[f"phasing_{name}_timeline.png"])[:8] == b"\x89PNG\r\n\x1a\n"
        assert bytes(files[f"phasing_{name}_timeline.pdf"])[:5] == b"%PDF-"
    html = str(files["report.html"])
    assert "<h2 id='phasing'>" in html and html.count("<img ") == 3 + len(a.phasing)
    assert f"Phasing of Option {letter} (the preferred option)" in html
    for file_name, content in files.items():
        (tmp_path / file_name).write_bytes(content if isinstance(content, bytes)
                                           else content.encode("utf-8"))
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, [e.message for task in report.tasks for e in task.errors][:10]
    word = Document(str(tmp_path / "report.docx"))
    headings = [p.text for p in word.paragraphs if p.style.name.startswith("Heading")]
    assert "Phasing: the programme year by year" in headings
    assert f"Phasing of Option {letter} (the preferred option)" in headings
    assert len(word.inline_shapes) == 3 + len(a.phasing)  # the charts and the timelines

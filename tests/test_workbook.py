"""The analyst's workbook and the output data dictionary (siteopt.outputs.workbook, .columns).

* hand-checkable tables: headers in words with units, each numeric column in its number format
  (£ with thousands separators, %, minutes to 1 dp, beds as integers), widths, filters, frozen
  header, the About sheet with the data dictionary, no dict or list text in any cell, formula
  text neutralised, the same bytes twice;
* flattening: dicts become columns, lists text or one row per item, why rows get every hurdle;
* on a real LLR appraisal (slow): every column of every table is described, and the workbook of
  all of them passes the same checks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from siteopt.appraisal.appraise import Appraisal, appraise
from siteopt.appraisal.settings import AppraisalSettings
from siteopt.appraisal.shortlist import HURDLES
from siteopt.data.load import Assumptions
from siteopt.outputs.columns import (
    GBP_FORMAT,
    UnknownColumnError,
    Vocabulary,
    columns_of,
    describe,
    describe_table,
    vocabulary,
)
from siteopt.outputs.equality_report import equality_rows, neighbourhood_rows
from siteopt.outputs.report import (
    enumeration_rows,
    group_rows,
    option_rows,
    site_rows,
    to_csv,
    zone_rows,
)
from siteopt.outputs.workbook import (
    About,
    about_from_appraisal,
    assumption_rows,
    flatten_rows,
    to_workbook,
    why_rows,
)
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import prepare

DAY = dt.date(2025, 3, 4)
ABOUT = About(title="Test appraisal", scenario="base (test)", date=DAY, region="Testshire")

OPTIONS = [
    {"option": "status_quo", "label": "Option A: 2 sites", "preferred": False,
     "beds_rehab": 40, "mean_travel_min": 16.2924, "share_within_30_min": 0.971166,
     "capex_gbp": 21614245.85, "revenue_gbp_per_year": 1234567.0, "max_erlang_refusal": 0.0312,
     "fails_resilience": "isolated wards below the 21-bed standard", "fails_capital": "",
     "beds_north_rehab": 24, "beds_south_rehab": 16, "npc_per_benefit_point_gbp": ""},
    {"option": "pareto_1", "label": "=HYPERLINK(\"http://x\",\"click\")", "preferred": True,
     "beds_rehab": 42, "mean_travel_min": 17.0, "share_within_30_min": 0.9,
     "capex_gbp": 0.0, "revenue_gbp_per_year": -5.5, "max_erlang_refusal": 0.01,
     "fails_resilience": "", "fails_capital": "", "beds_north_rehab": 42,
     "beds_south_rehab": 0, "npc_per_benefit_point_gbp": 123456.0},
]
SITES = [{"option": "status_quo", "site_id": "north", "name": "North Hospital",
          "option_id": "rehab24", "ward_pairing": "isolated", "wards_rehab": 1,
          "beds_rehab": 24, "load_erlangs_rehab": 20.5, "refusal_probability_rehab": 0.05}]
WHY = [{"option": "pareto_1", "site_id": "south", "site_name": "South Hospital",
        "beds_today": {"rehab": 16, "stroke": 0}, "beds_in_option": {"rehab": 0, "stroke": 0},
        "beds_if_kept": {"rehab": 16, "stroke": 0}, "extra_cost_gbp_per_year": 1e5,
        "hurdles_failed_if_kept": {"resilience": "a 16-bed isolated ward"},
        "sentence": "Keeping 16 rehab beds ..."}]

EXPECTED_FORMATS = {
    "Capital expenditure (£)": GBP_FORMAT,
    "Running cost (£ a year)": GBP_FORMAT,
    "65+ within 30 minutes (%)": "0.0%",
    "65+ mean drive to their ward (min)": "0.0",
    "Beds: rehab": "0",
    "Busiest ward's refusal probability (%)": "0.00%",
}


def cells(ws: Worksheet) -> Iterator[Any]:
    for row in ws.iter_rows(values_only=True):
        yield from row


def check_sheet(ws: Worksheet, infos: Sequence[Any], n_rows: int) -> None:
    """Headers in words, formats on every numeric cell, widths, filter, frozen header."""
    assert [c.value for c in ws[1]] == [i.label for i in infos]
    assert ws.max_row == n_rows + 1
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:")
    for j, info in enumerate(infos, start=1):
        letter = ws.cell(1, j).column_letter
        width = ws.column_dimensions[letter].width
        assert width is not None and 8 <= width <= 60, (ws.title, info.name, width)
        if not info.numeric:
            continue
        for r in range(2, ws.max_row + 1):
            cell = ws.cell(r, j)
            if cell.value is not None:
                assert isinstance(cell.value, int | float), (ws.title, info.name, cell.value)
                assert cell.number_format == info.number_format, (ws.title, info.name)
    for v in cells(ws):
        assert not (isinstance(v, str) and v.lstrip().startswith(("{", "["))), (ws.title, v)


# ---------------------------------------------------------------------------------------------
def test_flatten_rows_turns_dicts_into_columns_and_lists_into_text() -> None:
    rows = flatten_rows([{"a": 1, "d": {"x": 2, "y": {"z": 3}}, "l": [1, 2],
                          "ld": [{"k": "v"}, {"k": "w"}]}])
    assert rows == [{"a": 1, "d_x": 2, "d_y_z": 3, "l": "1; 2", "ld_1_k": "v", "ld_2_k": "w"}]
    assert flatten_rows(rows) == rows  # already flat: unchanged


def test_why_rows_have_every_hurdle_column_and_no_dict_text() -> None:
    flat = why_rows(WHY)
    assert flat[0]["beds_today_rehab"] == 16 and flat[0]["beds_if_kept_stroke"] == 0
    hurdle_cols = [c for c in flat[0] if c.startswith("hurdles_failed_if_kept_")]
    assert hurdle_cols == [f"hurdles_failed_if_kept_{h}" for h in HURDLES]
    assert flat[0]["hurdles_failed_if_kept_resilience"] == "a 16-bed isolated ward"
    assert flat[0]["hurdles_failed_if_kept_capital"] == ""
    text = to_csv(flat)
    assert "{" not in text and "[" not in text
    assert all(describe("why.csv", c) for c in columns_of(flat))


def test_assumptions_are_one_row_per_item() -> None:
    asm = Assumptions(values={"meta.region": "X", "demand.age_bands": ["0_15", "16_24"],
                              "appraisal.benefit_weights": {"access": 0.3, "equity": 0.7}},
                      sources={"meta.region": "s1", "demand.age_bands": "s2",
                               "appraisal.benefit_weights": "s3"})
    rows = assumption_rows(asm)
    assert rows == [
        {"key": "meta.region", "value": "X", "source": "s1"},
        {"key": "demand.age_bands[1]", "value": "0_15", "source": "s2"},
        {"key": "demand.age_bands[2]", "value": "16_24", "source": "s2"},
        {"key": "appraisal.benefit_weights.access", "value": 0.3, "source": "s3"},
        {"key": "appraisal.benefit_weights.equity", "value": 0.7, "source": "s3"}]


def test_describe_uses_the_vocabulary_and_rejects_unknown_columns() -> None:
    vocab = Vocabulary(services=("rehab",), providers=("LPT",),
                       sites=(("north", "North Hospital"),), options=(("pareto_1", "Option D"),))
    assert describe("appraisal.csv", "beds_north_rehab", vocab).label == \
        "Beds at North Hospital: rehab"
    assert describe("appraisal.csv", "beds_LPT_rehab", vocab).label == "Beds: rehab, LPT"
    assert describe("zone_change.csv", "mean_travel_min_pareto_1", vocab).label == \
        "65+ mean drive, Option D (min)"
    info = describe("appraisal.csv", "bed_need_rehab_2021")
    assert (info.type, info.number_format, info.unit) == ("number", "0.0", "beds")
    assert describe("appraisal.csv", "score_equity").label == "Score: equity (0-10)"
    with pytest.raises(UnknownColumnError, match=r"appraisal\.csv: column 'beds_west_rehab'"):
        describe("appraisal.csv", "beds_west_rehab", vocab)  # not a site of the run
    with pytest.raises(UnknownColumnError, match="fails_speed"):
        describe_table("appraisal.csv", [{"option": "x", "fails_speed": ""}])
    with pytest.raises(UnknownColumnError, match="no entry"):
        describe("nosuch.csv", "x")
    with pytest.raises(UnknownColumnError, match="mystery"):
        to_workbook({"sites.csv": [{"option": "x", "mystery": 1}]}, ABOUT)


def test_workbook_headers_formats_widths_filters_and_about() -> None:
    sheets = {"appraisal.csv": OPTIONS, "sites.csv": SITES, "why.csv": WHY}
    wb = load_workbook(io.BytesIO(to_workbook(sheets, ABOUT)))
    assert wb.sheetnames == ["About", "Options", "Sites", "Why"]
    ws = wb["Options"]
    infos = describe_table("appraisal.csv", OPTIONS)
    check_sheet(ws, infos, len(OPTIONS))
    header = [c.value for c in ws[1]]
    for label, fmt in EXPECTED_FORMATS.items():
        j = header.index(label) + 1
        assert ws.cell(2, j).number_format == fmt, label
    capex = header.index("Capital expenditure (£)") + 1
    assert ws.cell(2, capex).value == pytest.approx(21614245.85)  # a number, not text
    assert ws.cell(3, header.index("Option") + 1).value.startswith("'=HYPERLINK")
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)  # no formulas
    assert ws.cell(2, header.index("Net present cost per benefit point (£)") + 1).value is None
    assert ws.cell(3, header.index("Preferred") + 1).value is True
    check_sheet(wb["Sites"], describe_table("sites.csv", SITES), 1)
    why_header = [c.value for c in wb["Why"][1]]
    assert "Beds today: rehab" in why_header
    assert "Fails the resilience hurdle if kept: why" in why_header
    about = list(cells(wb["About"]))
    assert "Test appraisal" in about and "base (test)" in about and DAY.isoformat() in about
    assert any(isinstance(v, str) and "Open Government Licence" in v for v in about)
    assert any(isinstance(v, str) and "Open Database License" in v for v in about)
    dictionary = [r for r in wb["About"].iter_rows(values_only=True) if r[0] in
                  ("Options", "Sites", "Why")]
    n_cols = sum(len(describe_table(t, flatten_rows(r))) for t, r in sheets.items())
    assert len(dictionary) == n_cols
    assert ("Options", "Capital expenditure (£)", "capex_gbp", "number", "£", GBP_FORMAT) in \
        {r[:6] for r in dictionary}


def test_an_empty_table_gets_an_empty_sheet() -> None:
    wb = load_workbook(io.BytesIO(to_workbook({"appraisal.csv": OPTIONS,
                                               "enumeration.csv": []}, ABOUT)))
    assert wb.sheetnames == ["About", "Options", "Enumeration"]
    assert wb["Enumeration"].max_row == 1 and wb["Enumeration"].cell(1, 1).value is None


def test_workbook_is_the_same_file_twice() -> None:
    sheets = {"appraisal.csv": OPTIONS}
    assert to_workbook(sheets, ABOUT) == to_workbook(sheets, ABOUT)
    other = About(title="Test appraisal", scenario="base (test)", date=dt.date(2025, 3, 5))
    assert to_workbook(sheets, ABOUT) != to_workbook(sheets, other)


def test_csv_text_rows_become_numbers() -> None:
    text = to_csv(OPTIONS)
    rows = list(csv.DictReader(io.StringIO(text)))
    wb = load_workbook(io.BytesIO(to_workbook({"appraisal.csv": rows}, ABOUT)))
    check_sheet(wb["Options"], describe_table("appraisal.csv", rows), len(rows))


# ---------------------------------------------------------------------------------------------
# A real appraisal
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def llr() -> Appraisal:
    prepared = prepare(DEFAULT_GEODATA_DIR)
    settings = AppraisalSettings.from_assumptions(prepared.data.assumptions.values,
                                                  {"appraisal.next_best_options": 1})
    return appraise(prepared, settings)


def run_tables(a: Appraisal) -> dict[str, list[dict[str, Any]]]:
    """Every table ``render`` writes, built by its row builders (why flattened)."""
    tables = {"appraisal.csv": option_rows(a), "access_by_group.csv": group_rows(a),
              "sites.csv": site_rows(a), "zone_change.csv": zone_rows(a),
              "why.csv": why_rows(a.why)}
    if a.enumeration is not None:
        tables["enumeration.csv"] = enumeration_rows(a)
    tables["equality.csv"] = equality_rows(a)
    tables["most_affected.csv"] = neighbourhood_rows(a)
    return tables


@pytest.mark.slow
def test_every_column_of_a_real_run_is_described_and_formatted(llr: Appraisal) -> None:
    vocab = vocabulary(llr)
    tables: Mapping[str, Sequence[Mapping[str, Any]]] = {
        **run_tables(llr), "assumptions": assumption_rows(llr.prepared.data.assumptions)}
    assert "enumeration.csv" in tables and tables["why.csv"] and tables["equality.csv"]
    for table, rows in tables.items():
        infos = describe_table(table, rows, vocab)  # raises for any undocumented column
        assert len({i.label for i in infos}) == len(infos), table  # headers tell columns apart
    assert describe("appraisal.csv", "beds_oakham_rehab", vocab).label == \
        "Beds at Rutland Memorial Hospital: rehab"
    assert "{" not in to_csv(tables["why.csv"])
    wb = load_workbook(io.BytesIO(to_workbook(tables, about_from_appraisal(llr, DAY), vocab)))
    assert wb.sheetnames[0] == "About"
    assert {"Options", "Access by group", "Sites", "Zone change", "Why", "Enumeration",
            "Equality impact", "Most affected", "Assumptions"} <= set(wb.sheetnames)
    titles = dict(zip(tables, wb.sheetnames[1:], strict=True))
    for table, rows in tables.items():
        check_sheet(wb[titles[table]], describe_table(table, rows, vocab), len(rows))
    about = list(cells(wb["About"]))
    assert "base (the base case in assumptions.toml)" in about

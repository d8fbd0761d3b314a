"""Text from input data never becomes a live spreadsheet formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from openpyxl import load_workbook

from siteopt.fileio import csv_text, spreadsheet_safe
from siteopt.outputs.report import to_csv
from siteopt.outputs.workbook import About, to_workbook

PAYLOADS = ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_every_formula_prefix_is_neutralised_and_numbers_are_not() -> None:
    for p in PAYLOADS:
        assert spreadsheet_safe(p) == "'" + p
    assert spreadsheet_safe(-1.5) == -1.5 and spreadsheet_safe(3) == 3
    assert spreadsheet_safe("Rutland Memorial Hospital") == "Rutland Memorial Hospital"


def test_report_tables_write_no_formula_cells() -> None:
    rows = [{"option": "x", "name": p, "beds_rehab": 21, "change": -1.5} for p in PAYLOADS]
    sheets = {"sites.csv": [{k: v for k, v in r.items() if k != "change"} for r in rows]}
    wb = load_workbook(io.BytesIO(to_workbook(sheets, About("t", "s", dt.date(2026, 12, 1)))))
    for ws in wb.worksheets:
        cells = [c for row in ws.iter_rows() for c in row]
        assert not any(c.data_type == "f" for c in cells), ws.title
    ws = wb.worksheets[-1]
    texts = [c.value for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert all(t.startswith("'") for t in texts if t.lstrip("'") in PAYLOADS)
    assert sum(t.lstrip("'") in PAYLOADS for t in texts) == len(PAYLOADS)
    text = to_csv(rows)
    for r in csv.DictReader(io.StringIO(text)):
        assert r["name"].startswith("'") and r["change"] == "-1.5"
    shared = csv_text(["name", "value"], [[p, -2] for p in PAYLOADS])
    for r in csv.DictReader(io.StringIO(shared)):
        assert r["name"].startswith("'") and r["value"] == "-2"

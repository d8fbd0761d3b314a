"""The analyst's workbook (``appraisal.xlsx``): every table a sheet, ready to use.

:func:`to_workbook` writes, with openpyxl:

* a first sheet **About**: the run (title, scenario, date, region, planning year, siteopt
  version, inputs digest), the data sources and licences, and a **data dictionary** of every
  column of every sheet (header, CSV column, type, unit, description; from
  :mod:`siteopt.outputs.columns`);
* one sheet per table: headers in words with units, each numeric cell in its column's number
  format (pounds with thousands separators, percentages, minutes to one decimal, beds as whole
  numbers, ...), column widths from the content, an autofilter and the header row (and first
  column) frozen.

No cell holds JSON or dict text: nested values are flattened first (:func:`flatten_rows`: a
dict becomes one column per key, a list of scalars one ``;``-separated text, a list of dicts
one column per item and key; the assumptions one row per item, :func:`assumption_rows`).
Every text cell goes through :func:`siteopt.fileio.spreadsheet_safe` (OWASP CSV injection). The
file is reproducible: its dates are the run's date (:func:`siteopt.outputs.datapackage.run_date`)
and its zip entries carry that date, not the clock.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from siteopt.appraisal.shortlist import HURDLES
from siteopt.fileio import spreadsheet_safe
from siteopt.outputs.columns import (
    ColumnInfo,
    Vocabulary,
    describe_table,
    table_title,
)
from siteopt.outputs.datapackage import LICENCES, SOURCES, run_date

if TYPE_CHECKING:  # pragma: no cover - typing only
    from openpyxl.worksheet.worksheet import Worksheet

    from siteopt.appraisal.appraise import Appraisal
    from siteopt.data.load import Assumptions

MIN_WIDTH = 8.0
"""Narrowest column (characters)."""
MAX_WIDTH = 60.0
"""Widest column (characters); longer text wraps."""
HEADER_WRAP = 24
"""A header longer than this wraps onto more lines rather than widening its column."""
LINE_HEIGHT_PT = 15.0
"""The height of one line of the header row (points)."""
LIST_SEPARATOR = "; "


# ---------------------------------------------------------------------------------------------
# Flattening
# ---------------------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """numpy scalars as Python ones; everything else unchanged."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


def flatten_value(key: str, value: Any, out: dict[str, Any],
                  always: Mapping[str, Sequence[str]]) -> None:
    """Put ``value`` into ``out`` under ``key``, flattening dicts and lists (see
    :func:`flatten_rows`)."""
    value = plain(value)
    if isinstance(value, Mapping):
        subkeys = [*value, *[k for k in always.get(key, ()) if k not in value]]
        order = list(always.get(key, ()))
        subkeys.sort(key=lambda k: order.index(k) if k in order else len(order))
        for sub in subkeys:
            flatten_value(f"{key}_{sub}", value.get(sub, ""), out, always)
    elif isinstance(value, list | tuple):
        if any(isinstance(plain(v), Mapping | list | tuple) for v in value):
            for i, v in enumerate(value, start=1):
                flatten_value(f"{key}_{i}", v, out, always)
        else:
            out[key] = LIST_SEPARATOR.join(str(plain(v)) for v in value)
    else:
        out[key] = value


def flatten_rows(rows: Sequence[Mapping[str, Any]],
                 always: Mapping[str, Sequence[str]] | None = None) -> list[dict[str, Any]]:
    """Rows with no dict or list values: each nested dict becomes one column per key
    (``beds_today`` ``{"rehab": 39}`` -> ``beds_today_rehab`` 39, recursively), a list of
    scalars one ``;``-separated text, a list of dicts one column per item and key
    (``x_1_key``).

    Parameters
    ----------
    rows : sequence of mapping
    always : mapping, optional
        Field -> the keys it always gets a column for, in this order, blank when a row's dict
        lacks them (so a table's columns do not depend on the data: e.g.
        ``{"hurdles_failed_if_kept": HURDLES}``).
    """
    out = []
    for r in rows:
        flat: dict[str, Any] = {}
        for k, v in r.items():
            flatten_value(str(k), v, flat, always or {})
        out.append(flat)
    return out


def why_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The why rows (:func:`siteopt.appraisal.why.keep_site_effects`) flattened for why.csv and
    the workbook: ``beds_today_<service>``, ..., ``hurdles_failed_if_kept_<hurdle>`` (every
    hurdle, blank if keeping would not fail it)."""
    return flatten_rows(rows, {"hurdles_failed_if_kept": HURDLES})


def assumption_rows(assumptions: Assumptions) -> list[dict[str, Any]]:
    """Every assumption, one row per value: a dict value one row per key (``a.b.key``), a list
    one row per item (``a.b[1]``, ``a.b[2]``, ...), each with the key's source."""
    rows: list[dict[str, Any]] = []

    def add(key: str, value: Any, source: str) -> None:
        value = plain(value)
        if isinstance(value, Mapping):
            for k, v in value.items():
                add(f"{key}.{k}", v, source)
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value, start=1):
                add(f"{key}[{i}]", v, source)
        else:
            rows.append({"key": key, "value": value, "source": source})

    for k, v in assumptions.values.items():
        add(k, v, assumptions.sources.get(k, ""))
    return rows


# ---------------------------------------------------------------------------------------------
# The About sheet
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class About:
    """What the About sheet (and the Word report's colophon) says about the run."""

    title: str
    scenario: str
    date: dt.date
    region: str = ""
    planning_year: str = ""
    version: str = ""
    inputs_sha256: str = ""
    notes: tuple[str, ...] = ()
    sources: tuple[Mapping[str, str], ...] = field(default_factory=lambda: tuple(SOURCES))
    licences: tuple[Mapping[str, str], ...] = field(default_factory=lambda: tuple(LICENCES))

    def facts(self) -> list[tuple[str, str]]:
        """(label, value) lines of the run, blanks left out."""
        lines = [("Scenario", self.scenario), ("Date", self.date.isoformat()),
                 ("Region", self.region), ("Planning year", self.planning_year),
                 ("siteopt version", self.version), ("Inputs SHA-256", self.inputs_sha256)]
        return [(k, v) for k, v in lines if v]


def about_from_appraisal(a: Appraisal, date: dt.date | None = None) -> About:
    """The :class:`About` of an appraisal (``date``: :func:`run_date` if None)."""
    from siteopt import __version__
    from siteopt.runs.scenario import scenario_label

    return About(
        title="Community hospital inpatient beds: options appraisal",
        scenario=scenario_label(a.prepared.scenario), date=date or run_date(),
        region=str(a.prepared.data.assumptions["meta.region"]),
        planning_year=str(a.prepared.demand.planning_year), version=__version__,
        inputs_sha256=a.prepared.inputs_sha256, notes=tuple(a.notes))


def write_about(ws: Worksheet, about: About, dictionary: Sequence[tuple[str, ColumnInfo]]
                ) -> None:
    """The About sheet: the run's facts, sources, licences and the data dictionary."""
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    ws.append([about.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    for k, v in about.facts():
        ws.append([k, spreadsheet_safe(v)])
        ws.cell(ws.max_row, 1).font = bold
    for heading, items in (("Data sources", about.sources), ("Licences", about.licences)):
        ws.append([])
        ws.append([heading])
        ws.cell(ws.max_row, 1).font = bold
        for s in items:
            ws.append([spreadsheet_safe(s.get("title", s.get("name", ""))),
                       spreadsheet_safe(s.get("path", ""))])
    if about.notes:
        ws.append([])
        ws.append(["Notes"])
        ws.cell(ws.max_row, 1).font = bold
        for n in about.notes:
            ws.append([spreadsheet_safe(n)])
    ws.append([])
    ws.append(["Data dictionary: every column of every sheet"])
    ws.cell(ws.max_row, 1).font = Font(bold=True, size=12)
    head = ["Sheet", "Column header", "CSV column", "Type", "Unit", "Number format",
            "Description"]
    ws.append(head)
    first = ws.max_row
    for c in ws[first]:
        c.font = bold
    for sheet, info in dictionary:
        ws.append([spreadsheet_safe(x) for x in (sheet, info.label, info.name, info.type,
                                                 info.unit, info.number_format,
                                                 info.description)])
    ws.auto_filter.ref = f"A{first}:G{ws.max_row}"
    for letter, width in zip("ABCDEFG", (22, 44, 36, 10, 10, 18, 80), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=first + 1, min_col=7, max_col=7):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


# ---------------------------------------------------------------------------------------------
# Table sheets
# ---------------------------------------------------------------------------------------------
def cell_value(value: Any, info: ColumnInfo) -> Any:
    """A table value as the cell holds it: numbers as numbers (text read from a CSV is
    converted), blanks empty, non-finite numbers as text, text made spreadsheet-safe."""
    value = plain(value)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if info.type == "boolean" and isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    if info.numeric and isinstance(value, str):
        try:
            value = int(value) if info.type == "integer" else float(value)
        except ValueError:
            return spreadsheet_safe(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int | float):
        return value
    return spreadsheet_safe(str(value))


def shown_length(value: Any, info: ColumnInfo) -> int:
    """About how many characters a cell shows in its number format."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, int | float) and info.numeric:
        fmt = info.number_format
        decimals = len(fmt.split(".")[1].split("%")[0].split(";")[0]) if "." in fmt else 0
        scaled = value * 100 if "%" in fmt else value
        text = f"{scaled:,.{decimals}f}" if "," in fmt else f"{scaled:.{decimals}f}"
        return len(text) + (1 if "£" in fmt or "%" in fmt else 0)
    return max((len(line) for line in str(value).splitlines()), default=0)


def write_table(ws: Worksheet, rows: Sequence[Mapping[str, Any]],
                infos: Sequence[ColumnInfo]) -> None:
    """One table sheet: header in words, formats, widths, filter, frozen header."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws.append([spreadsheet_safe(i.label) for i in infos])
    widths = [min(float(len(i.label)), HEADER_WRAP) for i in infos]
    for row_number, r in enumerate(rows, start=2):
        values = [cell_value(r.get(i.name), i) for i in infos]
        ws.append(values)
        for j, (v, info) in enumerate(zip(values, infos, strict=True)):
            widths[j] = max(widths[j], float(shown_length(v, info)))
            if info.numeric and v is not None:
                ws.cell(row_number, j + 1).number_format = info.number_format
    lines = 1
    for j, info in enumerate(infos, start=1):
        width = min(MAX_WIDTH, max(MIN_WIDTH, widths[j - 1] + 2))
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = width
        head = ws.cell(1, j)
        head.font = Font(bold=True)
        head.alignment = Alignment(wrap_text=True, vertical="top")
        lines = max(lines, math.ceil(len(info.label) / max(1.0, width - 1)))
    ws.row_dimensions[1].height = LINE_HEIGHT_PT * lines
    if infos:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(infos))}{len(rows) + 1}"
    ws.freeze_panes = "B2"


def pinned_zip(data: bytes, date: dt.date) -> bytes:
    """A zip file (XLSX, DOCX) rewritten with every entry dated ``date``, so that the same
    content gives the same bytes."""
    stamp = (max(date.year, 1980), date.month, date.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def to_workbook(sheets: Mapping[str, Sequence[Mapping[str, Any]]], about: About,
                vocab: Vocabulary | None = None,
                titles: Mapping[str, str] | None = None) -> bytes:
    """The workbook: About (with the data dictionary), then one sheet per table.

    Parameters
    ----------
    sheets : mapping
        Table name (the CSV file name, e.g. ``appraisal.csv``, or ``assumptions``) -> its rows;
        the sheet is named by :func:`siteopt.outputs.columns.table_title` (``Options``, ...).
        Nested values are flattened (:func:`flatten_rows`).
    about : About
    vocab : Vocabulary, optional
        For exact column labels (site names, option letters).
    titles : mapping, optional
        Table name -> its sheet's title where it is not :func:`table_title`'s (e.g. a phasing
        table's ``Phasing Option D``); at most 31 characters are kept.

    Raises
    ------
    siteopt.outputs.columns.UnknownColumnError
        If a column has no entry in the data dictionary.
    """
    from openpyxl import Workbook

    wb = Workbook()
    about_ws = wb.active
    assert about_ws is not None
    about_ws.title = "About"
    dictionary: list[tuple[str, ColumnInfo]] = []
    for table, rows in sheets.items():
        flat = flatten_rows(rows)
        infos = describe_table(table, flat, vocab)
        title = (titles or {}).get(table, table_title(table))[:31]
        write_table(wb.create_sheet(title), flat, infos)
        dictionary += [(title, i) for i in infos]
    write_about(about_ws, about, dictionary)
    stamp = dt.datetime(about.date.year, about.date.month, about.date.day)
    wb.properties.creator = "siteopt"
    wb.properties.title = about.title
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buf = io.BytesIO()
    wb.save(buf)
    return pinned_zip(buf.getvalue(), about.date)

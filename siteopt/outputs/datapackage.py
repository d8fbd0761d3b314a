"""The run's data dictionary as a Frictionless Data Package (``datapackage.json``).

:func:`datapackage` describes every CSV table a run writes (a ``tabular-data-resource`` each,
with a Table Schema: every field's type, title with unit, description and number format from
:mod:`siteopt.outputs.columns`, the primary key and the foreign keys to ``appraisal.csv``),
plus the run's other files (JSON, HTML, XLSX, DOCX) as plain resources, the licences
(:data:`LICENCES`: OGL v3 for the ONS, MHCLG and NHS data, ODbL for the drive times derived
from OpenStreetMap) and the sources (:data:`SOURCES`, as ``geodata/README.md`` lists them).
``frictionless validate datapackage.json`` checks every file against it
(``tests/test_datapackage.py`` does so on a real run).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from siteopt.outputs.columns import (
    Vocabulary,
    columns_of,
    describe_table,
    table_description,
    table_title,
)

LICENCES: list[dict[str, str]] = [
    {"name": "OGL-UK-3.0", "title": "Open Government Licence v3.0",
     "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"},
    {"name": "ODbL-1.0", "title": "Open Data Commons Open Database License 1.0 (drive times "
                                  "derived from OpenStreetMap)",
     "path": "https://opendatacommons.org/licenses/odbl/1-0/"},
]
"""The licences of the data the outputs derive from (``geodata/README.md``, Licences)."""

SOURCES: list[dict[str, str]] = [
    {"title": "ONS Census 2021 usual residents by age, LSOA/MSOA boundaries and lookups "
              "(Office for National Statistics, OGL v3.0; contains OS data © Crown copyright "
              "and database right)", "path": "https://www.ons.gov.uk/"},
    {"title": "ONS Census 2021 TS021, TS038 (LSOA) and TS003, TS037, TS045 (MSOA), Rural-Urban "
              "Classification 2011, LSOA 2021 to ward 2024 lookup (ONS, OGL v3.0)",
     "path": "https://www.ons.gov.uk/census"},
    {"title": "English Indices of Deprivation 2025, with the DfT Transport Connectivity Metric "
              "(MHCLG, OGL v3.0)",
     "path": "https://www.gov.uk/government/collections/english-indices-of-deprivation"},
    {"title": "MSOA names (House of Commons Library, OGL v3.0)",
     "path": "https://houseofcommonslibrary.github.io/msoanames/"},
    {"title": "NHS hospital list (NHS website data, OGL v3.0)", "path": "https://www.nhs.uk/"},
    {"title": "Leicester, Leicestershire and Rutland STP, draft 21 November 2016: community "
              "hospitals and capital sections (NHS, OGL v3.0)"},
    {"title": "Road network: © OpenStreetMap contributors, Open Database Licence (ODbL)",
     "path": "https://www.openstreetmap.org/copyright"},
    {"title": "MSOA collation with age columns (the 80+ split): "
              "samuel-book/stroke_unit_demographics (MIT licence)",
     "path": "https://github.com/samuel-book/stroke_unit_demographics"},
]
"""Where the input data comes from (``geodata/README.md``, Licences and attribution)."""

PRIMARY_KEYS: dict[str, list[str]] = {
    "appraisal.csv": ["option"],
    "access_by_group.csv": ["option", "group", "name"],
    "sites.csv": ["option", "site_id"],
    "zone_change.csv": ["zone_id"],
    "why.csv": ["option", "site_id"],
    "equality.csv": ["option", "group"],
    "most_affected.csv": ["option", "rank"],
}
"""The columns that identify a row of each table (checked unique by ``frictionless``)."""
OPTION_KEY = ("appraisal.csv", "option")
"""Every table's ``option`` column refers to an option of appraisal.csv."""

OTHER_FILES: dict[str, tuple[str, str, str]] = {
    "appraisal.json": ("json", "application/json",
                       "Everything the appraisal found, for machines: the options with every "
                       "measure, the decision, the summary statements and the run manifest."),
    "report.html": ("html", "text/html", "The self-contained consultation report."),
    "report.docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml."
                            "document", "The consultation report as a Word document."),
}
"""Formats, media types and descriptions of the run's files that are not CSV tables.

``appraisal.xlsx`` is not listed as a resource: a validator reads a workbook as a table (its
first sheet, About, is not one); the package's description names it instead."""
TIMELINE_FILE = re.compile(r"phasing_(?P<option>.+)_timeline\.(?P<ext>png|pdf)")
"""An option's phasing timeline chart (:func:`siteopt.outputs.phasing.timeline_stem`)."""


def other_file_info(file_name: str) -> tuple[str, str, str]:
    """(format, media type, description) of a non-CSV file of a run."""
    if file_name in OTHER_FILES:
        return OTHER_FILES[file_name]
    m = TIMELINE_FILE.fullmatch(file_name)
    if m:
        return (m.group("ext"), "image/png" if m.group("ext") == "png" else "application/pdf",
                f"The phasing timeline of option {m.group('option')}: schemes over their build "
                "years, each site's move, and each year's capital against the envelope "
                "(print-ready).")
    return file_name.rsplit(".", 1)[-1], "application/octet-stream", ""


WORKBOOK_NOTE = ("appraisal.xlsx holds the same tables, with headers in words and number "
                 "formats, and an About sheet with this data dictionary.")


SOURCE_DATE_ENV = "SOURCE_DATE_EPOCH"
"""The reproducible-builds variable: when set (seconds since 1970), the run's date is that day,
so that a workbook, Word report or data package made twice is the same file."""


def run_date(today: dt.date | None = None) -> dt.date:
    """The date a run's documents carry: ``$SOURCE_DATE_EPOCH``'s day (UTC) if set, else
    ``today`` (default: the local date)."""
    epoch = os.environ.get(SOURCE_DATE_ENV, "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    return today or dt.date.today()


def resource_name(file_name: str) -> str:
    """A Data Package resource name (lower case, ``[a-z0-9._-]``) from a file name."""
    stem = file_name.rsplit(".", 1)[0].lower()
    return re.sub(r"[^a-z0-9._-]+", "-", stem) or "table"


def table_schema(table: str, rows: Sequence[Mapping[str, Any]],
                 vocab: Vocabulary | None = None,
                 columns: Sequence[str] | None = None) -> dict[str, Any]:
    """The Table Schema of one table: every column described (:func:`describe_table`, which
    raises for an undocumented column), the primary key and foreign keys to appraisal.csv."""
    cols = list(columns) if columns is not None else columns_of(rows)
    fields = []
    for info in describe_table(table, rows, vocab, cols):
        f: dict[str, Any] = {"name": info.name, "type": info.type, "title": info.label,
                             "description": info.description}
        if info.unit:
            f["unit"] = info.unit
        if info.numeric:
            f["numberFormat"] = info.number_format
        fields.append(f)
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    key = [c for c in PRIMARY_KEYS.get(table, []) if c in cols]
    if key and key == PRIMARY_KEYS[table]:
        schema["primaryKey"] = key
    if table != OPTION_KEY[0] and "option" in cols:
        schema["foreignKeys"] = [{"fields": ["option"], "reference": {
            "resource": resource_name(OPTION_KEY[0]), "fields": [OPTION_KEY[1]]}}]
    return schema


def datapackage(tables: Mapping[str, Sequence[Mapping[str, Any]]], title: str,
                vocab: Vocabulary | None = None, *, name: str = "siteopt-appraisal",
                description: str = "", created: str | None = None,
                other_files: Sequence[str] = (),
                columns: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """A Frictionless Data Package describing a run's CSV tables and other files.

    Parameters
    ----------
    tables : mapping
        CSV file name (``appraisal.csv``) -> its rows, exactly as written (the header is the
        union of the rows' keys in first-seen order, as
        :func:`siteopt.outputs.report.to_csv` writes it).
    title : str
        The package's title (e.g. the region and scenario).
    vocab : Vocabulary, optional
        The run's sites, services, providers and options (:func:`siteopt.outputs.columns.
        vocabulary`), for exact column descriptions.
    name : str
        The package's name (lower case, ``[a-z0-9._-]``; other characters become ``-``).
    description : str
    created : str, optional
        ISO 8601 date-time of the run (left out when None, so the file is reproducible).
    other_files : sequence of str
        Non-CSV files of the run to list (names of :data:`OTHER_FILES` get their format and
        description; not ``appraisal.xlsx``, which a validator would read as a table).
    columns : mapping, optional
        File name -> the header as written, where it is not the rows' keys (e.g. an empty table
        written with a header).

    Returns
    -------
    dict
        The package, ready for ``json.dumps``.

    Raises
    ------
    siteopt.outputs.columns.UnknownColumnError
        If a column has no entry in the data dictionary.
    """
    resources: list[dict[str, Any]] = []
    for file_name, rows in tables.items():
        cols = (columns or {}).get(file_name)
        if not rows and not cols:  # an empty file (no header): nothing to describe
            resources.append({
                "name": resource_name(file_name), "path": file_name,
                "profile": "data-resource", "title": table_title(file_name),
                "description": f"{table_description(file_name)} Empty in this run "
                               "(no rows)".strip() + ".",
                "format": "txt", "mediatype": "text/csv", "encoding": "utf-8"})
            continue
        resources.append({
            "name": resource_name(file_name), "path": file_name,
            "profile": "tabular-data-resource", "title": table_title(file_name),
            "description": table_description(file_name),
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "schema": table_schema(file_name, rows, vocab, cols)})
    for file_name in other_files:
        fmt, media, words = other_file_info(file_name)
        resources.append({"name": resource_name(file_name + ".x"), "path": file_name,
                          "profile": "data-resource", "format": fmt, "mediatype": media,
                          "description": words})
    pkg: dict[str, Any] = {
        "profile": "tabular-data-package" if all(
            r["profile"] == "tabular-data-resource" for r in resources) else "data-package",
        "name": resource_name(name + ".x"), "title": title,
        "description": description or "The tables of a siteopt options appraisal, each column "
                                      "described with its type and unit. " + WORKBOOK_NOTE,
        "licenses": LICENCES, "sources": SOURCES, "resources": resources}
    if created is not None:
        pkg["created"] = created
    return pkg


def datapackage_json(package: Mapping[str, Any]) -> str:
    """The package as deterministic JSON text (sorted keys are not used: the order of the
    fields is the order of the columns)."""
    return json.dumps(package, indent=1, ensure_ascii=False) + "\n"

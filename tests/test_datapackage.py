"""The run's data package (siteopt.outputs.datapackage), validated by the frictionless library.

* hand tables written as the run writes them: the package is valid, every field has its type,
  title and description, the licences name OGL v3 and ODbL; a wrong value in a typed column, a
  duplicate key and an option missing from appraisal.csv each make it invalid (so the types
  and keys are really checked);
* a real LLR run (slow): every CSV table and the package written into a folder, valid.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import frictionless
import pytest

from siteopt.appraisal.appraise import Appraisal, appraise
from siteopt.appraisal.settings import AppraisalSettings
from siteopt.outputs.columns import UnknownColumnError, vocabulary
from siteopt.outputs.datapackage import datapackage, datapackage_json
from siteopt.outputs.equality_report import equality_rows, neighbourhood_rows
from siteopt.outputs.report import (
    appraisal_document,
    enumeration_rows,
    group_rows,
    option_rows,
    site_rows,
    to_csv,
    zone_rows,
)
from siteopt.outputs.workbook import why_rows
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import prepare

OPTIONS = [
    {"option": "status_quo", "preferred": False, "beds_rehab": 40, "mean_travel_min": 16.29,
     "share_within_30_min": 0.97, "capex_gbp": 0.0, "fails_capital": "",
     "npc_per_benefit_point_gbp": ""},
    {"option": "pareto_1", "preferred": True, "beds_rehab": 42, "mean_travel_min": 17.0,
     "share_within_30_min": 0.9, "capex_gbp": 5.5e6, "fails_capital": "over the limit",
     "npc_per_benefit_point_gbp": 123456.5},
]
SITES = [{"option": o, "site_id": "north", "name": "North Hospital", "beds_rehab": b,
          "refusal_probability_rehab": 0.05 if b else ""}
         for o, b in (("status_quo", 24), ("pareto_1", 0))]


def write_run(folder: Path, tables: Mapping[str, Sequence[Mapping[str, Any]]],
              **kw: Any) -> Path:
    """The CSVs as the run writes them, and the package beside them."""
    for name, rows in tables.items():
        (folder / name).write_text(to_csv(rows), encoding="utf-8")
    path = folder / "datapackage.json"
    path.write_text(datapackage_json(datapackage(tables, "Test run", **kw)), encoding="utf-8")
    return path


def errors(report: frictionless.Report) -> list[str]:
    out = [f"{e.type}: {e.note}" for e in report.errors]
    for task in report.tasks:
        out += [f"{task.name}: {e.type}: {e.note}" for e in task.errors]
    return out


def test_hand_tables_make_a_valid_package(tmp_path: Path) -> None:
    path = write_run(tmp_path, {"appraisal.csv": OPTIONS, "sites.csv": SITES})
    report = frictionless.validate(str(path))
    assert report.valid, errors(report)
    pkg = json.loads(path.read_text())
    assert {x["name"] for x in pkg["licenses"]} == {"OGL-UK-3.0", "ODbL-1.0"}
    assert any("OpenStreetMap" in s["title"] for s in pkg["sources"])
    res = {r["name"]: r for r in pkg["resources"]}
    fields = {f["name"]: f for f in res["appraisal"]["schema"]["fields"]}
    assert [f["name"] for f in res["appraisal"]["schema"]["fields"]] == list(OPTIONS[0])
    assert fields["beds_rehab"]["type"] == "integer"
    assert fields["preferred"]["type"] == "boolean"
    assert fields["capex_gbp"] == {"name": "capex_gbp", "type": "number",
                                   "title": "Capital expenditure (£)", "unit": "£",
                                   "numberFormat": '"£"#,##0;-"£"#,##0',
                                   "description": fields["capex_gbp"]["description"]}
    assert all(f["title"] and f["description"] for r in res.values()
               for f in r["schema"]["fields"])
    assert res["sites"]["schema"]["primaryKey"] == ["option", "site_id"]
    assert res["sites"]["schema"]["foreignKeys"][0]["reference"]["resource"] == "appraisal"


@pytest.mark.parametrize("break_it", ["text_in_integer", "duplicate_key", "unknown_option"])
def test_a_broken_table_makes_the_package_invalid(tmp_path: Path, break_it: str) -> None:
    options = [dict(r) for r in OPTIONS]
    sites = [dict(r) for r in SITES]
    if break_it == "text_in_integer":
        options[1]["beds_rehab"] = "42.5"
    elif break_it == "duplicate_key":
        sites[1]["option"] = "status_quo"
    else:
        sites[1]["option"] = "next_best_9"
    path = write_run(tmp_path, {"appraisal.csv": options, "sites.csv": sites})
    report = frictionless.validate(str(path))
    assert not report.valid
    expected = {"text_in_integer": "type-error", "duplicate_key": "primary-key",
                "unknown_option": "foreign-key"}[break_it]
    assert any(expected in e for e in errors(report)), errors(report)


def test_other_files_are_listed_and_undescribed_columns_refused(tmp_path: Path) -> None:
    (tmp_path / "appraisal.json").write_text('{"a": 1}\n')
    (tmp_path / "report.html").write_text("<!DOCTYPE html><p>report</p>\n")
    (tmp_path / "report.docx").write_bytes(b"PK\x03\x04 a Word file")
    others = ["appraisal.json", "report.html", "report.docx"]
    path = write_run(tmp_path, {"appraisal.csv": OPTIONS}, other_files=others)
    report = frictionless.validate(str(path))
    assert report.valid, errors(report)
    pkg = json.loads(path.read_text())
    assert [r["path"] for r in pkg["resources"]] == ["appraisal.csv", *others]
    assert len({r["name"] for r in pkg["resources"]}) == 4  # appraisal.csv/.json differ
    assert "appraisal.xlsx" in pkg["description"]
    assert "created" not in pkg  # reproducible unless a date is given
    with pytest.raises(UnknownColumnError, match=r"appraisal\.csv: column.*'secret'"):
        datapackage({"appraisal.csv": [{"option": "x", "secret": 1}]}, "t")


# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def llr() -> Appraisal:
    prepared = prepare(DEFAULT_GEODATA_DIR)
    settings = AppraisalSettings.from_assumptions(prepared.data.assumptions.values,
                                                  {"appraisal.next_best_options": 1})
    return appraise(prepared, settings)


@pytest.mark.slow
def test_a_real_run_validates(llr: Appraisal, tmp_path: Path) -> None:
    tables = {"appraisal.csv": option_rows(llr), "access_by_group.csv": group_rows(llr),
              "sites.csv": site_rows(llr), "zone_change.csv": zone_rows(llr),
              "why.csv": why_rows(llr.why), "enumeration.csv": enumeration_rows(llr),
              "equality.csv": equality_rows(llr), "most_affected.csv": neighbourhood_rows(llr)}
    assert all(tables.values())
    (tmp_path / "appraisal.json").write_text(json.dumps(appraisal_document(llr)))
    path = write_run(tmp_path, tables, vocab=vocabulary(llr), other_files=["appraisal.json"],
                     created="2025-03-04T00:00:00Z")
    report = frictionless.validate(str(path))
    assert report.valid, errors(report)[:20]
    pkg = json.loads(path.read_text())
    assert len(pkg["resources"]) == len(tables) + 1
    rows = {t.name: t.stats["rows"] for t in report.tasks if t.stats.get("rows") is not None}
    assert rows["appraisal"] == len(llr.options)


def test_an_empty_table_is_listed_but_not_given_a_schema(tmp_path: Path) -> None:
    path = write_run(tmp_path, {"appraisal.csv": OPTIONS, "why.csv": []})
    report = frictionless.validate(str(path))
    assert report.valid, errors(report)
    why = json.loads(path.read_text())["resources"][1]
    assert why["path"] == "why.csv" and "schema" not in why and "no rows" in why["description"]

"""What each output of the main job adds to `siteopt appraise`, measured side by side in one run.

One appraisal of the embedded LLR data (in process), then each output rendered on its own,
``--repeat`` times, median seconds: the tables and JSON, the workbook, the data package, the
Word report, the explorer, the HTML report with its charts, the web maps and the print maps.
The appraisal's own stages come from its ``timings_s``.

Usage::

    python3 benchmarks/bench_outputs.py [--repeat 3] [--maps]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from siteopt.appraisal.appraise import appraise
from siteopt.appraisal.settings import AppraisalSettings
from siteopt.outputs import report
from siteopt.outputs.columns import vocabulary
from siteopt.outputs.datapackage import datapackage, datapackage_json
from siteopt.outputs.docx_report import equality_input, report_docx
from siteopt.outputs.explorer import explorer_html
from siteopt.outputs.report_html import charts, report_html
from siteopt.outputs.workbook import about_from_appraisal, assumption_rows, to_workbook
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import prepare


def median_s(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall seconds of ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def main() -> int:
    """Measure and print a JSON document of seconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--maps", action="store_true", help="also time the web and print maps")
    args = parser.parse_args()
    start = time.perf_counter()
    prepared = prepare(DEFAULT_GEODATA_DIR)
    prepare_s = time.perf_counter() - start
    settings = AppraisalSettings.from_assumptions(prepared.data.assumptions.values)
    start = time.perf_counter()
    a = appraise(prepared, settings)
    appraise_s = time.perf_counter() - start
    tables = {"appraisal.csv": report.option_rows(a), "sites.csv": report.site_rows(a),
              "access_by_group.csv": report.group_rows(a), "zone_change.csv": report.zone_rows(a)}
    vocab = vocabulary(a)
    about = about_from_appraisal(a)
    images = charts(a)
    r = args.repeat
    out: dict[str, Any] = {
        "prepare_s": prepare_s, "appraise_s": appraise_s,
        "appraise_stages_s": a.timings_s,
        "tables_and_json_s": median_s(lambda: (
            [report.to_csv(t) for t in tables.values()],
            json.dumps(report.appraisal_document(a))), r),
        "workbook_s": median_s(lambda: to_workbook(
            {**tables, "assumptions": assumption_rows(a.prepared.data.assumptions)}, about,
            vocab), r),
        "datapackage_s": median_s(lambda: datapackage_json(datapackage(
            tables, "bench", vocab, name="bench")), r),
        "word_report_s": median_s(lambda: report_docx(a, images, [], equality_input(a),
                                                      date=about.date), r),
        "explorer_s": median_s(lambda: explorer_html(a), r),
        "charts_s": median_s(lambda: charts(a), r),
        "html_report_s": median_s(lambda: report_html(a, images, [], []), r),
    }
    if args.maps:
        from siteopt.outputs import maps, print_maps

        names = a.decision["main_table"]
        sols = {n: a.option(n).solution for n in names}
        measures = {n: a.option(n).measures for n in names}
        static = [n for n in ("status_quo", "stp_2016", a.preferred) if n in sols]
        with tempfile.TemporaryDirectory() as tmp:
            out["web_maps_s"] = median_s(lambda: maps.write_maps(
                prepared, sols, Path(tmp), baseline="status_quo", measures=measures), 1)
            out["print_maps_s"] = median_s(lambda: print_maps.write_static_maps(
                prepared, {n: sols[n] for n in static}, Path(tmp), baseline="status_quo"), 1)
    print(json.dumps(out, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The maps show the appraisal report's drive-time measure, with the report's figures.

One real appraisal of the embedded LLR data; the web maps of a few options are written as
``siteopt appraise`` writes them, the written HTML is parsed, and every local authority's mean,
share within 30 minutes and longest drive (and the whole area's) must equal the appraisal's
``access_by_lad`` / ``access`` measures, at the precision the page prints. So must every
neighbourhood's figure (the appraisal's ``zone_travel_min``), the colour of every neighbourhood
dot, and the figures in the print maps' captions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from siteopt.appraisal.appraise import Appraisal, appraise
from siteopt.appraisal.settings import AppraisalSettings
from siteopt.outputs import maps, print_maps
from siteopt.outputs.map_data import MEASURE_WORDS, option_views, travel_colour
from siteopt.outputs.report_html import option_label
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import prepare

pytestmark = pytest.mark.slow  # one full LLR appraisal (about a minute)

WHOLE_AREA = "All of the area"


@dataclass
class Table:
    """One HTML table as text: its caption and its rows of cell texts (header rows included)."""

    caption: str = ""
    rows: list[list[str]] = field(default_factory=list)


class Tables(HTMLParser):
    """Every ``<table>`` of a page (nested tables are not used by the maps)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[Table] = []
        self._text: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(Table())
        elif tag == "tr" and self.tables:
            self.tables[-1].rows.append([])
        elif tag in ("td", "th") and self.tables:
            self._text = []
        elif tag == "caption":
            self._in_caption = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._text is not None:
            self.tables[-1].rows[-1].append("".join(self._text).strip())
            self._text = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)
        elif self._in_caption and self.tables:
            self.tables[-1].caption += data


def page_tables(path: Path) -> list[Table]:
    parser = Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


def travel_table(path: Path) -> Table:
    found = [t for t in page_tables(path) if t.caption.startswith(MEASURE_WORDS)]
    assert len(found) == 1, f"{path.name}: {len(found)} drive-time tables"
    return found[0]


def printed(acc: dict[str, float]) -> tuple[str, str, str, str]:
    """The report's figures as the map page prints them."""
    return (f"{acc['people_65_plus']:,.0f}", f"{acc['mean_travel_min']:.1f} min",
            f"{100 * acc['share_within_30_min']:.1f}%", f"{acc['max_travel_min']:.1f} min")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Appraisal, list[str], Path]:
    prepared = prepare(DEFAULT_GEODATA_DIR)
    settings = AppraisalSettings.from_assumptions(prepared.data.assumptions.values,
                                                  {"appraisal.next_best_options": 0})
    result = appraise(prepared, settings)
    names = list(dict.fromkeys(["status_quo", "stp_2016", result.preferred]))
    out = tmp_path_factory.mktemp("maps")
    opts = {n: result.option(n) for n in names}
    maps.write_maps(prepared, {n: o.solution for n, o in opts.items()}, out,
                    baseline="status_quo", measures={n: o.measures for n, o in opts.items()},
                    titles={n: option_label(result, o) for n, o in opts.items()})
    return result, names, out


def check_travel_table(table: Table, columns: list[dict[str, Any]], where: str) -> None:
    """``table``'s rows: local authority, people 65+, then mean / within 30 / longest per
    option, equal to ``columns`` (each option's measures) at the printed precision."""
    body = [r for r in table.rows if r and r[0] not in ("Local authority", "Mean drive")]
    lads = sorted(columns[0]["access_by_lad"])
    assert [r[0] for r in body] == [*lads, WHOLE_AREA], where
    for row in body:
        lad = row[0]
        figures = [printed(m["access"] if lad == WHOLE_AREA else m["access_by_lad"][lad])
                   for m in columns]
        assert row[1] == figures[0][0], (where, lad, "people 65+")
        for k, fig in enumerate(figures):
            assert row[2 + 3 * k: 5 + 3 * k] == list(fig[1:]), (where, lad, k)


def test_map_tables_are_the_report_figures(run: tuple[Appraisal, list[str], Path]) -> None:
    result, names, out = run
    for name in names:
        m = result.option(name).measures
        check_travel_table(travel_table(out / maps.page_name("option", (name,))), [m], name)
        if name != "status_quo":
            sq = result.option("status_quo").measures
            check_travel_table(travel_table(out / maps.page_name("change", (name,))),
                               [sq, m], f"change {name}")
    for kind, pair in maps.map_plan(names):
        if kind == "compare":
            check_travel_table(travel_table(out / maps.page_name(kind, pair)),
                               [result.option(n).measures for n in pair], f"compare {pair}")


def test_map_titles_are_the_report_labels(run: tuple[Appraisal, list[str], Path]) -> None:
    result, names, out = run
    index = (out / "maps.html").read_text(encoding="utf-8")
    for name in names:
        label = option_label(result, result.option(name))
        page = (out / maps.page_name("option", (name,))).read_text(encoding="utf-8")
        assert label.split(":")[0] in index and label.split(":")[0] in page
        assert travel_table(out / maps.page_name("option", (name,))).rows[0][2] == label
        assert "Model status" not in page


def test_neighbourhood_figures_and_colours(run: tuple[Appraisal, list[str], Path]) -> None:
    """Every neighbourhood's figure in the page's table, and its dot's colour, is the
    appraisal's zone figure (``zone_travel_min``)."""
    result, names, out = run
    prepared = result.prepared
    zones = prepared.data.zones
    ids = list(prepared.evaluation_instance.zones.zone_ids)
    assert list(zones["zone_id"]) == ids
    by_name = {str(n): i for i, n in enumerate(zones["zone_name"])}
    assert len(by_name) == len(ids)
    for name in names:
        expected = result.zone_travel_min[name]
        tables = [t for t in page_tables(out / maps.page_name("option", (name,)))
                  if t.rows and "Mean drive to the wards they use (as planned)" in t.rows[0]]
        assert len(tables) == 1
        col = tables[0].rows[0].index("Mean drive to the wards they use (as planned)")
        rows = tables[0].rows[1:]
        assert len(rows) == len(ids)
        for row in rows:
            assert row[col] == f"{expected[by_name[row[0]]]:.0f} min", (name, row[0])
    sols = {n: result.option(n).solution for n in names}
    m = maps.option_map(prepared, sols, result.preferred)
    layer = next(d for d in maps.data_layers(m) if d.layer_name.startswith("Neighbourhoods"))
    colours = [f["properties"]["style"]["fillColor"] for f in layer.features]
    assert colours == [travel_colour(float(t)) for t in result.zone_travel_min[result.preferred]]


def test_print_map_captions_are_the_report_figures(
        run: tuple[Appraisal, list[str], Path]) -> None:
    result, names, _ = run
    sols = {n: result.option(n).solution for n in names}
    views = option_views(result.prepared, sols, "status_quo",
                         {n: option_label(result, result.option(n)) for n in names})
    caption = re.compile(re.escape(MEASURE_WORDS) + r": mean ([0-9.]+) min; ([0-9.]+)% within "
                         r"30 min; longest ([0-9.]+) min\.")
    for name in names:
        fig = print_maps.option_figure(result.prepared, views[name])
        texts = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
        found = caption.search(texts)
        assert found is not None, name
        acc = result.option(name).measures["access"]
        assert found.groups() == (f"{acc['mean_travel_min']:.1f}",
                                  f"{100 * acc['share_within_30_min']:.1f}",
                                  f"{acc['max_travel_min']:.1f}"), name
        assert views[name].title in fig.get_suptitle().replace("\n", " ")


def test_the_measure_is_not_the_nearest_site(run: tuple[Appraisal, list[str], Path]) -> None:
    """The check above can fail: under the 2016 plan the drive to the nearest site with beds
    (what the maps showed before) differs from the report's figure in Rutland."""
    result, _, out = run
    view = option_views(result.prepared, {"stp_2016": result.option("stp_2016").solution},
                        "status_quo")["stp_2016"]
    rutland = np.array([lad == "Rutland" for lad in view.zones.lad_names])
    w = view.zones.weight[rutland]
    nearest_mean = float((w * view.zones.nearest_travel_min[rutland]).sum() / w.sum())
    report_mean = result.option("stp_2016").measures["access_by_lad"]["Rutland"]["mean_travel_min"]
    assert abs(nearest_mean - report_mean) > 1.0
    row = next(r for r in travel_table(out / "map_stp_2016.html").rows if r[0] == "Rutland")
    assert row[2] == f"{report_mean:.1f} min" != f"{nearest_mean:.1f} min"

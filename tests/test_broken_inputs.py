"""The corpus of broken inputs (issue 15): every file a run reads, broken one way at a time.

Each case copies the embedded geodata (with ``roads/``) into ``tmp_path``, breaks one input and
runs the real command line (click's ``CliRunner``) on it. Every case must exit non-zero, print
a clear line naming the file and the row or field (a regular expression per case), print no
traceback, and leave every input file byte-identical (the folder is hashed before and after).
One parametrised test per input kind: geodata tables (with delimiter, BOM and CRLF cases), road
files a run reads, points outside the region, boundary files, options files, the run-time
readers under ``solve``, and the files only ``siteopt geodata roads`` reads.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from siteopt.cli import cli
from siteopt.paths import DEFAULT_GEODATA_DIR

Fault = Callable[[Path], object]
Case = tuple[str, Fault, str]
"""(id, fault applied to the geodata copy, regular expression a line of the output matches)."""

FIRST_ZONE = "E01013600"


# --------------------------------------------------------------------------- faults
def text_edit(rel: str, old: str, new: str) -> Fault:
    """Replace the first ``old`` in file ``rel`` by ``new``."""

    def apply(folder: Path) -> None:
        path = folder / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"fixture text {old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def write(rel: str, content: bytes) -> Fault:
    def apply(folder: Path) -> None:
        (folder / rel).write_bytes(content)

    return apply


def transform(rel: str, fn: Callable[[bytes], bytes]) -> Fault:
    def apply(folder: Path) -> None:
        path = folder / rel
        path.write_bytes(fn(path.read_bytes()))

    return apply


def set_cell(rel: str, key: str, column: str, value: str) -> Fault:
    """Set ``column`` of the row whose first field is ``key``."""

    def apply(folder: Path) -> None:
        path = folder / rel
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        col = rows[0].index(column)
        hits = [r for r in rows[1:] if r and r[0] == key]
        assert hits, f"no row {key} in {rel}"
        hits[0][col] = value
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")

    return apply


def both(*faults: Fault) -> Fault:
    def apply(folder: Path) -> None:
        for fault in faults:
            fault(folder)

    return apply


def move(rel: str, key: str, lat: str, lon: str) -> Fault:
    return both(set_cell(rel, key, "lat", lat), set_cell(rel, key, "lon", lon))


def delete(rel: str) -> Fault:
    def apply(folder: Path) -> None:
        (folder / rel).unlink()

    return apply


def drop_line(rel: str, starts: str) -> Fault:
    def apply(folder: Path) -> None:
        path = folder / rel
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [ln for ln in lines if not ln.startswith(starts)]
        assert len(kept) == len(lines) - 1
        path.write_text("".join(kept), encoding="utf-8")

    return apply


def separator(rel: str, sep: str) -> Fault:
    """Re-save a CSV with another field separator (as a spreadsheet in some locales does)."""

    def apply(folder: Path) -> None:
        path = folder / rel
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        buf = io.StringIO()
        csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")

    return apply


BOM = b"\xef\xbb\xbf"


def bom(data: bytes) -> bytes:
    return BOM + data


def crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


def graph_arrays(folder: Path) -> dict[str, Any]:
    with np.load(folder / "roads" / "llr_roads.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def graph_edit(fn: Callable[[dict[str, Any]], object]) -> Fault:
    """Rewrite the road graph with ``fn`` applied to its arrays."""

    def apply(folder: Path) -> None:
        arrays = graph_arrays(folder)
        fn(arrays)
        with (folder / "roads" / "llr_roads.npz").open("wb") as f:
            np.savez_compressed(f, **arrays)

    return apply


def geojson_edit(rel: str, fn: Callable[[dict[str, Any]], object]) -> Fault:
    def apply(folder: Path) -> None:
        path = folder / rel
        doc = json.loads(path.read_text(encoding="utf-8"))
        fn(doc)
        path.write_text(json.dumps(doc), encoding="utf-8")

    return apply


BOWTIE = [[[-1.2, 52.6], [-1.1, 52.7], [-1.1, 52.6], [-1.2, 52.7], [-1.2, 52.6]]]
"""A ring that crosses itself (a figure of eight)."""


def set_geometry(index: int, geometry: Any) -> Callable[[dict[str, Any]], None]:
    def fn(doc: dict[str, Any]) -> None:
        doc["features"][index]["geometry"] = geometry

    return fn


# --------------------------------------------------------------------------- running
def folder_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (relative path -> digest)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def region(tmp_path: Path) -> Path:
    """A writable copy of the embedded geodata, road folder and curated tables included."""
    dest = tmp_path / "geodata"
    shutil.copytree(DEFAULT_GEODATA_DIR, dest)
    return dest


def run_broken(folder: Path, fault: Fault, args: list[str], expected: str,
               extra_inputs: tuple[Path, ...] = ()) -> str:
    """Break ``folder``, run the CLI, check the four promises; returns the output."""
    import re

    fault(folder)
    before = folder_digest(folder)
    before_extra = {p: p.read_bytes() for p in extra_inputs}
    result = CliRunner().invoke(cli, args)
    output = result.output
    assert result.exit_code != 0, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    lines = [ln.removeprefix("error: ") for ln in result.stderr.splitlines()]
    assert any(re.search(expected, ln) for ln in lines), output
    assert folder_digest(folder) == before
    assert {p: p.read_bytes() for p in extra_inputs} == before_extra
    return output


def ids(cases: list[Case]) -> list[str]:
    return [c[0] for c in cases]


def params(cases: list[Case]) -> list[tuple[Fault, str]]:
    return [(f, e) for _, f, e in cases]


# --------------------------------------------------------------------------- geodata tables
TABLES: list[Case] = [
    ("zones-semicolon", separator("zones.csv", ";"),
     r"^zones\.csv: the file uses ';' between fields; save it as comma-separated$"),
    ("sites-tabs", separator("sites.csv", "\t"),
     r"^sites\.csv: the file uses tabs between fields; save it as comma-separated$"),
    ("wards-semicolon-bom-crlf", both(separator("wards.csv", ";"),
                                      transform("wards.csv", lambda b: crlf(bom(b)))),
     r"^wards\.csv: the file uses ';' between fields"),
    ("sites-bom-bad-lat", both(set_cell("sites.csv", "oakham", "lat", "abc"),
                               transform("sites.csv", bom)),
     r"^sites\.csv, row 8, field 'lat': 'abc' is not a number"),
    ("zones-crlf-bad-population", both(set_cell("zones.csv", FIRST_ZONE, "pop_0_15", "-5"),
                                       transform("zones.csv", crlf)),
     r"^zones\.csv, row 2, field 'pop_0_15': -5 is below the minimum 0"),
    ("ward-spaces-bom-crlf-blank", both(
        set_cell("ward_spaces.csv", "coalville", "status", ""),
        transform("ward_spaces.csv", lambda b: crlf(bom(b)))),
     r"^ward_spaces\.csv, row 2, field 'status': is blank"),
    ("sites-stray-quote", text_edit("sites.csv", ",Coalville Community Hospital,",
                                    ',"Coalville Community Hospital,'),
     r"^sites\.csv, row 2: has \d+ fields but the header has 14; check for a stray comma or "
     r"quote"),
    ("rates-latin1", transform("bed_day_rates.csv", lambda b: b + b"rehab,0_15,0.1,caf\xe9\n"),
     r"^bed_day_rates\.csv, row \d+: is not UTF-8 text"),
    ("site-in-dublin", move("sites.csv", "oakham", "53.35", "-6.26"),
     r"^sites\.csv, row 8, field 'lat/lon': oakham at lat 53\.35, lon -6\.26 is 3\d\d km "
     r"outside the region's boundaries"),
    ("zone-in-dublin", move("zones.csv", FIRST_ZONE, "53.35", "-6.26"),
     r"^zones\.csv, row 2, field 'lat/lon': E01013600 .* km outside the region's boundaries"),
    ("zone-in-north-sea", move("zones.csv", FIRST_ZONE, "53.5", "1.9"),
     r"^zones\.csv, row 2, field 'lat/lon': E01013600 at lat 53\.5, lon 1\.9 is 1\d\d km "
     r"outside"),
    ("site-near-amiens", move("sites.csv", "melton", "50.0", "1.95"),
     r"^sites\.csv, row 7, field 'lat/lon': melton at lat 50, lon 1\.95 is \d+ km outside"),
    ("site-40km-outside", move("sites.csv", "lutterworth", "52.3", "-0.3"),
     r"^sites\.csv, row \d+, field 'lat/lon': lutterworth .* is 3\d km outside the region's "
     r"boundaries \(boundaries_lad\.geojson; at most 25 km"),
    ("zones-missing-column", text_edit("zones.csv", "zone_id,zone_name,", "zone,zone_name,"),
     r"^zones\.csv, field 'zone_id': missing column 'zone_id'"),
]


@pytest.mark.parametrize(("fault", "expected"), params(TABLES), ids=ids(TABLES))
def test_broken_geodata_table(region: Path, fault: Fault, expected: str) -> None:
    run_broken(region, fault, ["validate", "--geodata", str(region)], expected)


# --------------------------------------------------------------------------- road files
PARAMS = "roads/parameters.csv"
AREAS = "roads/urban_areas.csv"
GRAPH = "roads/llr_roads.npz"
GRAPH_RE = r"^roads/llr_roads\.npz"


def _graph_missing_times(a: dict[str, Any]) -> None:
    del a["travel_min"]


def _graph_negative_time(a: dict[str, Any]) -> None:
    a["travel_min"][5] = -1.0


def _graph_bad_edge(a: dict[str, Any]) -> None:
    a["edge_v"][0] = len(a["node_id"]) + 7


def _graph_node_abroad(a: dict[str, Any]) -> None:
    a["lat"][0] = 40.0


def _graph_short_array(a: dict[str, Any]) -> None:
    a["lon"] = a["lon"][:-1]


ROADS: list[Case] = [
    ("graph-missing", delete(GRAPH), GRAPH_RE + r": road graph file not found"),
    ("graph-truncated-half", transform(GRAPH, lambda b: b[: len(b) // 2]),
     GRAPH_RE + r": cannot be read as a graph file .*truncated or damaged: rebuild it"),
    ("graph-truncated-tail", transform(GRAPH, lambda b: b[:-100]),
     GRAPH_RE + r": cannot be read as a graph file"),
    ("graph-empty", write(GRAPH, b""), GRAPH_RE + r": cannot be read as a graph file"),
    ("graph-text", write(GRAPH, b"not a graph\n"), GRAPH_RE + r": cannot be read"),
    ("graph-lacks-array", graph_edit(_graph_missing_times),
     GRAPH_RE + r": lacks the array\(s\) travel_min"),
    ("graph-negative-time", graph_edit(_graph_negative_time),
     GRAPH_RE + r", field 'travel_min': 1 edge\(s\) have a missing or negative travel_min"),
    ("graph-edge-out-of-range", graph_edit(_graph_bad_edge),
     GRAPH_RE + r", field 'edge_v': edge_v must hold node positions"),
    ("graph-node-abroad", graph_edit(_graph_node_abroad),
     GRAPH_RE + r", field 'lat/lon': 1 node\(s\) lie outside Great Britain"),
    ("graph-arrays-disagree", graph_edit(_graph_short_array),
     GRAPH_RE + r", field 'node_id, lon, lat': arrays node_id, lon, lat must be 1-D"),
    ("parameters-empty", write(PARAMS, b""),
     r"^roads/parameters\.csv: file is empty; it needs the header row name,value,unit,source"),
    ("parameters-header-only", write(PARAMS, b"name,value,unit,source\n"),
     r"^roads/parameters\.csv: has a header but no data rows"),
    ("parameters-missing", delete(PARAMS), r"^roads/parameters\.csv: file not found"),
    ("detour-negative", text_edit(PARAMS, "detour_factor,1.3,", "detour_factor,-1,"),
     r"^roads/parameters\.csv, row 5, field 'value': detour_factor = -1 is below the "
     r"plausible minimum 1 ratio"),
    ("access-speed-abc", text_edit(PARAMS, "access_speed_urban_kph,59.2,",
                                   "access_speed_urban_kph,abc,"),
     r"^roads/parameters\.csv, row 3, field 'value': 'abc' is not a number"),
    ("max-snap-huge", text_edit(PARAMS, "max_snap_m,10000,", "max_snap_m,1e9,"),
     r"^roads/parameters\.csv, row 7, field 'value': max_snap_m = 1e\+09 is above the "
     r"plausible maximum 50000 m"),
    ("snap-candidates-fraction", text_edit(PARAMS, "snap_candidates,3,", "snap_candidates,2.5,"),
     r"^roads/parameters\.csv, row 6, field 'value': snap_candidates = 2\.5 must be a whole"),
    ("parameter-row-missing", drop_line(PARAMS, "access_fixed_min,"),
     r"^roads/parameters\.csv, field 'name': no row for parameter 'access_fixed_min'"),
    ("parameter-misspelt", text_edit(PARAMS, "detour_factor,", "detour_factr,"),
     r"^roads/parameters\.csv, row 5, field 'name': unknown parameter 'detour_factr'"),
    ("parameters-semicolon", separator(PARAMS, ";"),
     r"^roads/parameters\.csv: the file uses ';' between fields; save it as comma-separated$"),
    ("parameters-bom-crlf-no-source", both(
        text_edit(PARAMS, "assumption: a point farther than this from every graph node is "
                          "reported as too far from the road network", ""),
        transform(PARAMS, lambda b: crlf(bom(b)))),
     r"^roads/parameters\.csv, row 7, field 'source': every parameter needs a source"),
    ("urban-areas-empty", write(AREAS, b""), r"^roads/urban_areas\.csv: file is empty"),
    ("urban-areas-header-only", write(AREAS, b"name,lat,lon,radius_km,source\n"),
     r"^roads/urban_areas\.csv: has a header but no data rows"),
    ("urban-areas-missing", delete(AREAS), r"^roads/urban_areas\.csv: file not found"),
    ("leicester-radius-60km", text_edit(AREAS, "-1.1300,6.0,", "-1.1300,60,"),
     r"^roads/urban_areas\.csv, row 2, field 'radius_km': 60 is above the plausible maximum "
     r"25 km"),
    ("radius-abc", text_edit(AREAS, "-1.1300,6.0,", "-1.1300,abc,"),
     r"^roads/urban_areas\.csv, row 2, field 'radius_km': 'abc' is not a number"),
    ("urban-area-swapped", text_edit(AREAS, "Leicester,52.6340,-1.1300,", "Leicester,-1.1300,"
                                                                          "52.6340,"),
     r"^roads/urban_areas\.csv, row 2, field 'lat': \(-1\.13, 52\.634\) is outside Great "
     r"Britain"),
    ("urban-area-duplicate", text_edit(AREAS, "Loughborough,", "Leicester,"),
     r"^roads/urban_areas\.csv, row 3, field 'name': 'Leicester' is listed twice \(first in "
     r"row 2\)"),
    ("urban-areas-missing-column", text_edit(AREAS, "name,lat,lon,radius_km", "name,lat,lon,r"),
     r"^roads/urban_areas\.csv, row 1, field 'radius_km': missing column\(s\) radius_km"),
    ("urban-areas-bom-ragged", both(text_edit(AREAS, "-1.1300,6.0,", "-1.1300,6.0,x,"),
                                    transform(AREAS, bom)),
     r"^roads/urban_areas\.csv, row 2: has 6 fields but the header has 5"),
    ("urban-areas-latin1", transform(AREAS, lambda b: b.replace(b"Hinckley", b"H\xefnckley")),
     r"^roads/urban_areas\.csv, row 4: is not UTF-8 text"),
]


@pytest.mark.parametrize(("fault", "expected"), params(ROADS), ids=ids(ROADS))
def test_broken_road_file(region: Path, fault: Fault, expected: str) -> None:
    run_broken(region, fault, ["validate", "--geodata", str(region)], expected)


def test_points_far_from_the_road_graph_are_named(region: Path) -> None:
    """With max_snap_m at 500 m, the zones farther than that from every node are refused, each
    by name and distance (the real graph's farthest zone is 3.5 km from a node)."""
    out = run_broken(region, text_edit(PARAMS, "max_snap_m,10000,", "max_snap_m,500,"),
                     ["validate", "--geodata", str(region)],
                     r"^zones\.csv, row \d+, field 'lat/lon': E\d+ at lat .* is \d+\.\d km from "
                     r"the nearest node of the road graph \(roads/llr_roads\.npz; at most "
                     r"max_snap_m = 500 m")
    far = [ln for ln in out.splitlines() if "from the nearest node" in ln]
    assert any("3.5 km" in ln for ln in far)
    assert all("0.4 km" not in ln for ln in far)


# --------------------------------------------------------------------------- boundaries
LAD = "boundaries_lad.geojson"
MSOA = "boundaries_msoa.geojson"


def _drop_name(doc: dict[str, Any]) -> None:
    del doc["features"][2]["properties"]["lad_name"]


def _no_features(doc: dict[str, Any]) -> None:
    doc["features"] = []


def _feature_not_object(doc: dict[str, Any]) -> None:
    doc["features"][0] = "Leicester"


BOUNDARIES: list[Case] = [
    ("lad-self-intersecting", geojson_edit(LAD, set_geometry(0, {"type": "Polygon",
                                                                 "coordinates": BOWTIE})),
     r"^boundaries_lad\.geojson, field 'geometry': feature 1 \(Leicester\) is not a valid "
     r"polygon \(Self-intersection.*\); repair it with shapely's make_valid or in QGIS"),
    ("msoa-self-intersecting-multipolygon", geojson_edit(MSOA, set_geometry(4, {
        "type": "MultiPolygon", "coordinates": [BOWTIE]})),
     r"^boundaries_msoa\.geojson, field 'geometry': feature 5 \(.*\) is not a valid polygon"),
    ("lad-ring-too-short", geojson_edit(LAD, set_geometry(1, {
        "type": "Polygon", "coordinates": [[[-0.7, 52.6], [-0.6, 52.7], [-0.7, 52.6]]]})),
     r"^boundaries_lad\.geojson, field 'geometry': feature 2 \(Rutland\) is not a valid "
     r"polygon \(Too few points in geometry component"),
    ("lad-coordinates-text", geojson_edit(LAD, set_geometry(1, {
        "type": "Polygon", "coordinates": "52.6,-0.7"})),
     r"^boundaries_lad\.geojson, field 'geometry': feature 2 \(Rutland\) has malformed"),
    ("lad-point-geometry", geojson_edit(LAD, set_geometry(0, {"type": "Point",
                                                              "coordinates": [-1.1, 52.6]})),
     r"^boundaries_lad\.geojson, field 'geometry': feature 1 \(Leicester\) geometry is Point"),
    ("lad-no-name", geojson_edit(LAD, _drop_name),
     r"^boundaries_lad\.geojson, field 'lad_name': feature 3 has no 'lad_name' property"),
    ("lad-no-features", geojson_edit(LAD, _no_features),
     r"^boundaries_lad\.geojson: has no features"),
    ("lad-feature-not-object", geojson_edit(LAD, _feature_not_object),
     r"^boundaries_lad\.geojson: feature 1 is not a GeoJSON Feature object"),
    ("msoa-truncated-json", transform(MSOA, lambda b: b[: len(b) // 2]),
     r"^boundaries_msoa\.geojson, row \d+: is not valid JSON"),
    ("lad-empty", write(LAD, b""), r"^boundaries_lad\.geojson: file is empty"),
]


@pytest.mark.parametrize(("fault", "expected"), params(BOUNDARIES), ids=ids(BOUNDARIES))
def test_broken_boundary_file(region: Path, fault: Fault, expected: str) -> None:
    run_broken(region, fault, ["validate", "--geodata", str(region)], expected)


# --------------------------------------------------------------------------- options files
HEADER = "option,site_id,service,wards,beds\n"
GOOD = "mine,coalville,rehab,1,24\n"
GOOD_BOTH = GOOD + "mine,coalville,stroke,1,24\n"
"""An option offering every service somewhere (an option with none of a service is refused:
nobody's drive to it could be measured)."""

OPTIONS: list[tuple[str, bytes, str]] = [
    ("unknown-site", (HEADER + "mine,nowhere,rehab,1,24\n").encode(),
     r"^mine\.csv, row 2, field 'site_id': unknown site 'nowhere'"),
    ("unknown-service", (HEADER + GOOD + "mine,oakham,maternity,1,16\n").encode(),
     r"^mine\.csv, row 3, field 'service': unknown service 'maternity'; services are rehab, "
     r"stroke"),
    ("blank-wards", (HEADER + "mine,coalville,rehab,,24\n").encode(),
     r"^mine\.csv, row 2, field 'wards': wards must be a whole number >= 0, got ''"),
    ("missing-field", (HEADER + GOOD + "mine,oakham,rehab,1\n").encode(),
     r"^mine\.csv, row 3: has 4 fields but the header has 5"),
    ("missing-column", b"option,site_id,service,beds\nmine,coalville,rehab,24\n",
     r"^mine\.csv, row 1, field 'wards': missing column\(s\) wards"),
    ("duplicate-site-service", (HEADER + GOOD + "mine,coalville,rehab,1,24\n").encode(),
     r"^mine\.csv, row 3, field 'service': option 'mine' lists coalville rehab twice \(first "
     r"in row 2\)"),
    ("built-in-name", (HEADER + "status_quo,coalville,rehab,1,24\n").encode(),
     r"^mine\.csv, row 2, field 'option': option name 'status_quo' is taken by a built-in"),
    ("not-in-catalogue", (HEADER + GOOD + "mine,oakham,rehab,3,90\n").encode(),
     r"^mine\.csv, row 3, field 'beds': option 'mine': oakham cannot hold rehab 3 ward\(s\)/90 "
     r"beds"),
    ("wards-without-beds", (HEADER + "mine,coalville,rehab,1,0\n").encode(),
     r"^mine\.csv, row 2, field 'beds': wards and beds must both be 0 or both be positive"),
    ("negative-beds", (HEADER + "mine,coalville,rehab,1,-24\n").encode(),
     r"^mine\.csv, row 2, field 'beds': beds must be a whole number >= 0, got '-24'"),
    ("semicolons", (HEADER + GOOD).replace(",", ";").encode(),
     r"^mine\.csv: the file uses ';' between fields; save it as comma-separated$"),
    ("not-utf8", (HEADER + "m\xefne,coalville,rehab,1,24\n").encode("latin-1"),
     r"^mine\.csv, row 2: is not UTF-8 text \(bad byte 0xef on line 2\)"),
    ("empty", b"", r"^mine\.csv: file is empty"),
    ("header-only", HEADER.encode(), r"^mine\.csv: has a header but no data rows"),
    ("bom-crlf-bad-name", bom(crlf((HEADER + "my option,coalville,rehab,1,24\n").encode())),
     r"^mine\.csv, row 2, field 'option': option must be a name of letters, digits, _ or -"),
]


@pytest.mark.parametrize(("content", "expected"), [(c, e) for _, c, e in OPTIONS],
                         ids=[i for i, _, _ in OPTIONS])
def test_broken_options_file(region: Path, tmp_path: Path, content: bytes,
                             expected: str) -> None:
    options = tmp_path / "mine.csv"
    options.write_bytes(content)
    out = tmp_path / "out"
    run_broken(region, lambda _: None,
               ["appraise", "--geodata", str(region), "--options", str(options), "--no-maps",
                "--out", str(out)], expected, extra_inputs=(options,))
    assert not out.exists()


def test_a_well_formed_option_is_read(region: Path, tmp_path: Path) -> None:
    """The options file reader accepts a well-formed option, with a BOM and CRLF line ends,
    whether or not it meets the bed need (the appraisal judges that)."""
    from siteopt.appraisal.longlist import read_user_options
    from siteopt.runs.pipeline import prepare

    options = tmp_path / "mine.csv"
    options.write_bytes(bom(crlf((HEADER + GOOD_BOTH).encode())))
    choice = read_user_options(options, prepare(region))["mine"]
    assert choice["oakham"] == "closed" and choice["coalville"] != "closed"


# --------------------------------------------------------------------------- run-time readers
RUNS: list[Case] = [
    ("solve-urban-areas-header-only", write(AREAS, b"name,lat,lon,radius_km,source\n"),
     r"^roads/urban_areas\.csv: has a header but no data rows"),
    ("solve-graph-truncated", transform(GRAPH, lambda b: b[: len(b) // 3]),
     GRAPH_RE + r": cannot be read as a graph file"),
    ("solve-detour-negative", text_edit(PARAMS, "detour_factor,1.3,", "detour_factor,-1,"),
     r"^roads/parameters\.csv, row 5, field 'value': detour_factor = -1"),
]


@pytest.mark.parametrize(("fault", "expected"), params(RUNS), ids=ids(RUNS))
def test_broken_run_time_file_stops_solve(region: Path, tmp_path: Path, fault: Fault,
                                          expected: str) -> None:
    out = tmp_path / "out"
    run_broken(region, fault, ["solve", "--geodata", str(region), "--out", str(out)], expected)
    assert not out.exists()


# --------------------------------------------------------------------------- road-graph build
SPEEDS = "roads/speeds.csv"
NODES = "roads/strategic_nodes.csv"
ROUTES = "roads/strategic_routes.csv"

BUILD: list[Case] = [
    ("speeds-negative", text_edit(SPEEDS, "primary,rural,48.1,", "primary,rural,-5,"),
     r"speeds\.csv, row 10, field 'speed_kph': speed must be a positive number of km/h$"),
    ("speeds-semicolon", separator(SPEEDS, ";"),
     r"speeds\.csv: the file uses ';' between fields; save it as comma-separated$"),
    ("speeds-implausible", text_edit(SPEEDS, "motorway,rural,96.8,", "motorway,rural,968,"),
     r"speeds\.csv, row 2, field 'speed_kph': 968 is above the plausible maximum 130 km/h"),
    ("node-lat-abc", text_edit(NODES, "LCC,52.6363,", "LCC,abc,"),
     r"strategic_nodes\.csv, row 2, field 'lat': 'abc' is not a number"),
    ("route-unknown-node", text_edit(ROUTES, "M69,motorway,M6_2 M69_1", "M69,motorway,M6_2 "
                                                                        "M69_X"),
     r"strategic_routes\.csv, row 3, field 'nodes': unknown nodes \['M69_X'\]"),
    ("route-class-without-speed", text_edit(ROUTES, "M69,motorway,", "M69,motorwya,"),
     r"strategic_routes\.csv, row 3, field 'highway': highway class 'motorwya' has no rural "
     r"and urban speed in speeds\.csv"),
    ("routes-empty", write(ROUTES, b""), r"strategic_routes\.csv: file is empty"),
]


@pytest.mark.parametrize(("fault", "expected"), params(BUILD), ids=ids(BUILD))
def test_broken_build_input(region: Path, tmp_path: Path, fault: Fault, expected: str) -> None:
    out = tmp_path / "built.npz"
    run_broken(region, fault, ["geodata", "roads", "--default", "--roads-dir",
                               str(region / "roads"), "--out", str(out)], expected)
    assert not out.exists()


def test_validate_names_the_files_it_does_not_check() -> None:
    """``siteopt validate`` covers every file a run reads; the others, and why, are listed."""
    from siteopt.data.load import unchecked_files

    listed = dict(unchecked_files(DEFAULT_GEODATA_DIR))
    assert set(listed) == {"roads/speeds.csv",
                           "roads/strategic_nodes.csv, roads/strategic_routes.csv",
                           "roads/strategic_roads.geojson", "curated/*.csv"}
    assert all("siteopt geodata" in why for why in listed.values())


def test_corpus_size() -> None:
    """Issue 15: at least 50 broken inputs of these kinds, all distinct."""
    names = (ids(TABLES) + ids(ROADS) + ids(BOUNDARIES) + [i for i, _, _ in OPTIONS]
             + ids(RUNS) + ids(BUILD))
    assert len(set(names)) == len(names) >= 50

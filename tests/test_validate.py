"""Validation: a corpus of broken inputs, each with the message it must produce."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from siteopt.cli import cli
from siteopt.data.load import load_geodata
from siteopt.errors import DataError
from siteopt.paths import DEFAULT_GEODATA_DIR


def edit(name: str, old: str, new: str, count: int = 1) -> Callable[[Path], None]:
    """A fault: replace the first ``count`` occurrences of ``old`` in file ``name``."""

    def apply(folder: Path) -> None:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"fixture text {old!r} not in {name}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    return apply


def write(name: str, content: bytes) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        (folder / name).write_bytes(content)

    return apply


def delete(name: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        (folder / name).unlink()

    return apply


def edit_row(name: str, key: str, column: str, value: str) -> Callable[[Path], None]:
    """A fault: set ``column`` to ``value`` in the row whose first field is ``key``."""

    def apply(folder: Path) -> None:
        import csv
        import io

        path = folder / name
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        col = rows[0].index(column)
        hits = [r for r in rows[1:] if r[0] == key]
        assert hits, f"no row {key} in {name}"
        hits[0][col] = value
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")

    return apply


FIRST_ZONE = "E01013600"


def delete_row(name: str, key: str) -> Callable[[Path], None]:
    """A fault: remove the row whose first field is ``key``."""

    def apply(folder: Path) -> None:
        path = folder / name
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith(key + ",")]
        assert len(kept) == len(lines) - 1, f"no row {key} in {name}"
        path.write_text("".join(kept), encoding="utf-8")

    return apply


# (id, fault, expected message fragment: a regular expression matched against the error lines)
def bad_road_parameter(folder: Path) -> None:
    """A fault: a copied road folder whose parameters.csv has detour_factor = -1."""
    shutil.copytree(DEFAULT_GEODATA_DIR / "roads", folder / "roads")
    edit("roads/parameters.csv", "detour_factor,1.3,", "detour_factor,-1,")(folder)


CORPUS: list[tuple[str, Callable[[Path], object], str]] = [
    ("missing-column", edit("sites.csv", ",lat,lon,", ",latitude,lon,"),
     r"^sites\.csv, field 'lat': missing column 'lat'; the header must have: site_id, "),
    ("extra-column", edit("sites.csv", "source\n", "source,colour\n"),
     r"^sites\.csv, field 'colour': unexpected column 'colour'; remove it or rename it"),
    ("not-a-number", edit_row("sites.csv", "oakham", "lat", "abc"),
     r"^sites\.csv, row 8, field 'lat': 'abc' is not a number \(WGS84 latitude"),
    ("blank-coordinate", edit_row("sites.csv", "oakham", "lon", ""),
     r"^sites\.csv, row 8, field 'lon': is blank; fill in a value"),
    ("nan-coordinate", edit_row("zones.csv", FIRST_ZONE, "lat", "NaN"),
     r"^zones\.csv, row 2, field 'lat': is blank; fill in a value"),
    ("swapped-lat-lon", lambda d: (edit_row("sites.csv", "oakham", "lat", "-0.737525")(d),
                                   edit_row("sites.csv", "oakham", "lon", "52.670803")(d)),
     r"^sites\.csv, row 8, field 'lat/lon': lat=-0\.737525 and lon=52\.670803 look swapped"),
    ("outside-uk", edit_row("sites.csv", "melton", "lat", "48.85"),
     r"^sites\.csv, row 7, field 'lat': 48\.85 is below the minimum 49\.8"),
    ("duplicate-id", edit_row("sites.csv", "loughborough", "site_id", "coalville"),
     r"^sites\.csv, row 3, field 'site_id': duplicate site_id=coalville \(first used in row 2\)"),
    ("negative-beds", edit("wards.csv", "coalville_1,rehab,24,", "coalville_1,rehab,-3,"),
     r"^wards\.csv, row 2, field 'beds': -3 is below the minimum 1"),
    ("fractional-beds", edit("wards.csv", "coalville_1,rehab,24,", "coalville_1,rehab,20.5,"),
     r"^wards\.csv, row 2, field 'beds': '20\.5' is not a whole number"),
    ("unknown-service", edit("wards.csv", "loughborough_1,rehab,", "loughborough_1,maternity,"),
     r"^wards\.csv, row 4, field 'service': 'maternity' is not defined in assumptions\.toml "
     r"\[services\]; use one of: rehab, stroke"),
    ("unknown-site", edit("wards.csv", "melton,status_quo", "meltonn,status_quo"),
     r"^wards\.csv, row 10, field 'site_id': 'meltonn' is not defined in sites\.csv"),
    ("beds-exceed-space", edit("wards.csv", "oakham_1,rehab,16,", "oakham_1,rehab,30,"),
     r"^wards\.csv, row 11, field 'beds': 30 beds do not fit ward space 'oakham_1', which "
     r"holds at most 16"),
    ("zero-population", lambda d: [edit_row("zones.csv", FIRST_ZONE, c, "0")(d) for c in (
        "pop_0_15", "pop_16_24", "pop_25_34", "pop_35_49", "pop_50_64", "pop_65_79",
        "pop_80_plus", "pop_65_plus", "pop_total")],
     r"^zones\.csv, row 2, field 'pop_total': pop_total is 0; a zone needs people"),
    ("negative-population", edit_row("zones.csv", FIRST_ZONE, "pop_0_15", "-5"),
     r"^zones\.csv, row 2, field 'pop_0_15': -5 is below the minimum 0"),
    ("bands-disagree", edit_row("zones.csv", FIRST_ZONE, "pop_total", "2200"),
     r"^zones\.csv, row 2, field 'pop_total': age bands add up to 2171 but pop_total is 2200"),
    ("not-utf8", lambda d: (d / "zones.csv").write_bytes(
        (d / "zones.csv").read_bytes().replace(b"Leicester 003A", b"Leicester \xe9003A", 1)),
     r"^zones\.csv, row 2: is not UTF-8 text \(bad byte 0xe9 on line 2\); save it as UTF-8"),
    ("empty-file", write("ward_spaces.csv", b""),
     r"^ward_spaces\.csv: file is empty; it needs a header row and data rows"),
    ("header-only", write("capital_schemes.csv",
                          b"scheme_id,site_id,kind,space_id,beds_max,services,capex_gbp,"
                          b"disposal_gbp,year,description,source\n"),
     r"^capital_schemes\.csv: has a header but no data rows"),
    ("missing-file", delete("bed_day_rates.csv"),
     r"^bed_day_rates\.csv: file not found in .*; add it"),
    ("bad-boolean", edit_row("sites.csv", "oakham", "must_stay_open", "maybe"),
     r"^sites\.csv, row 8, field 'must_stay_open': 'maybe' is not true/false"),
    ("unknown-lad", edit_row("zones.csv", FIRST_ZONE, "lad_name", "Leicester City"),
     r"^zones\.csv, row 2, field 'lad_name': 'Leicester City' is not defined in "
     r"assumptions\.toml \[growth\] area_of_lad"),
    ("occupancy-out-of-range", edit("assumptions.toml", "target_occupancy = { value = 0.92",
                                    "target_occupancy = { value = 1.5"),
     r"^assumptions\.toml, field 'demand\.target_occupancy': 1\.5 is above the maximum 1$"),
    ("assumption-wrong-type", edit("assumptions.toml", "module_beds = { value = 21,",
                                   "module_beds = { value = \"21\","),
     r"^assumptions\.toml, field 'services\.rehab\.module_beds': '21' should be a whole number"),
    ("assumption-unknown-key", edit("assumptions.toml", "[home_first]\n",
                                    "[home_first]\nreduction_rehb = { value = 0.1, source = \"x\""
                                    " }\n"),
     r"^assumptions\.toml, field 'home_first\.reduction_rehb': unknown key; valid keys here: "
     r"home_first\.reduction_rehab, home_first\.reduction_stroke"),
    ("assumption-no-source", edit("assumptions.toml", "capital_gross_gbp = { value = 16300000,"
                                  " source = \"STP Nov 2016: 'the community hospital schemes "
                                  "need 16.3m of capital for the relocation of inpatient "
                                  "services'\" }", "capital_gross_gbp = { value = 16300000 }"),
     r"^assumptions\.toml, field 'limits\.capital_gross_gbp': has no source; add source"),
    ("assumption-bad-toml", edit("assumptions.toml", "[costs]", "[costs"),
     r"^assumptions\.toml: is not valid TOML \(.*\); fix the syntax"),
    ("boundary-wrong-crs", edit("boundaries_lad.geojson", "urn:ogc:def:crs:OGC:1.3:CRS84",
                                "urn:ogc:def:crs:EPSG::27700"),
     r"^boundaries_lad\.geojson, field 'crs': CRS is urn:ogc:def:crs:EPSG::27700; siteopt "
     r"needs WGS84"),
    ("scheme-unknown-space", edit("capital_schemes.csv", "replace_space,melton_1,",
                                  "replace_space,melton_9,"),
     r"^capital_schemes\.csv, row 3, field 'space_id': replace_space names 'melton_9', which "
     r"is not a ward space of site 'melton'"),
    ("road-parameter-implausible", bad_road_parameter,
     r"^roads/parameters\.csv, row 5, field 'value': detour_factor = -1 is below the plausible "
     r"minimum 1 ratio"),
    ("ragged-row", edit("ward_spaces.csv", "loughborough,loughborough_1,24,",
                        "loughborough,loughborough_1,24,extra,"),
     r"^ward_spaces\.csv, row 4: has 9 fields but the header has 8"),
    ("space-unknown-service", edit("ward_spaces.csv", "coalville_2,24,rehab;stroke,",
                                   "coalville_2,24,rehab;strokes,"),
     r"^ward_spaces\.csv, row 3, field 'services': 'strokes' is not defined in "
     r"assumptions\.toml \[services\]"),
    ("ward-service-not-allowed", edit("wards.csv", "loughborough_1,rehab,24,",
                                      "loughborough_1,stroke,24,"),
     r"^wards\.csv, row 4, field 'service': ward space 'loughborough_1' cannot host stroke "
     r"\(its services: rehab\)"),
    ("equality-share-above-one", edit_row("zone_equality.csv", FIRST_ZONE, "share_disabled",
                                          "1.2"),
     r"^zone_equality\.csv, row 2, field 'share_disabled': 1\.2 is above the maximum 1 "),
    ("equality-ethnic-sum", edit_row("zone_equality.csv", FIRST_ZONE, "share_ethnic_white",
                                     "0.9"),
     r"^zone_equality\.csv, row 2, field 'share_ethnic_\*': the ethnic shares sum to 1\.259816, "
     r"not 1"),
    ("equality-quintile-not-decile", edit_row("zone_equality.csv", FIRST_ZONE,
                                              "iod25_imd_decile", "5"),
     r"^zone_equality\.csv, row 2, field 'iod25_imd_quintile': quintile 1 does not match "
     r"decile 5 \(the quintile is ceil\(decile / 2\) = 3\)"),
    ("equality-rank-out-of-range", edit_row("zone_equality.csv", FIRST_ZONE, "iod25_imd_rank",
                                            "40000"),
     r"^zone_equality\.csv, row 2, field 'iod25_imd_rank': 40000 is above the maximum 33755"),
    ("equality-missing-zone", delete_row("zone_equality.csv", FIRST_ZONE),
     r"^zone_equality\.csv, field 'zone_id': no row for 1 zone\(s\) of zones\.csv \(first "
     r"E01013600\); add one row per zone"),
    ("equality-unknown-zone", edit_row("zone_equality.csv", FIRST_ZONE, "zone_id", "E01999999"),
     r"^zone_equality\.csv, row 2, field 'zone_id': zone 'E01999999' is not in zones\.csv; "
     r"remove the row"),
    ("equality-rural-contradicts-class", edit_row("zone_equality.csv", FIRST_ZONE, "rural",
                                                  "true"),
     r"^zone_equality\.csv, row 2, field 'rural': rural is true but the class is 'Urban city "
     r"and town'"),
    ("zones-local-quintile", edit_row("zones.csv", FIRST_ZONE, "imd_quintile", "3"),
     r"^zones\.csv, row 2, field 'imd_quintile': imd_quintile 3 differs from the national "
     r"IoD2025 quintile 1 in zone_equality\.csv; use the national quintile"),
    ("lsoa-boundary-no-name", edit("boundaries_lsoa.geojson", '"lsoa_name":', '"name":'),
     r"^boundaries_lsoa\.geojson, field 'lsoa_name': feature 1 has no 'lsoa_name' property"),
]


@pytest.mark.parametrize(("fault", "expected"), [(f, e) for _, f, e in CORPUS],
                         ids=[i for i, _, _ in CORPUS])
def test_broken_input_is_reported(geodata_copy: Path, fault: Callable[[Path], object],
                                  expected: str) -> None:
    fault(geodata_copy)
    with pytest.raises(DataError) as info:
        load_geodata(geodata_copy)
    lines = info.value.lines()
    assert any(re.search(expected, line) for line in lines), "\n".join(lines)


def test_corpus_has_at_least_15_distinct_faults() -> None:
    assert len({i for i, _, _ in CORPUS}) == len(CORPUS) >= 15


def test_every_problem_is_reported_together(geodata_copy: Path) -> None:
    edit_row("sites.csv", "oakham", "lat", "abc")(geodata_copy)
    edit("wards.csv", "coalville_1,rehab,24,", "coalville_1,rehab,-3,")(geodata_copy)
    edit("assumptions.toml", "target_occupancy = { value = 0.92",
         "target_occupancy = { value = 1.5")(geodata_copy)
    with pytest.raises(DataError) as info:
        load_geodata(geodata_copy)
    files = {p.file for p in info.value.problems}
    assert {"sites.csv", "wards.csv", "assumptions.toml"} <= files


def test_cli_reports_bad_input_in_one_line_each_and_exits_2(geodata_copy: Path) -> None:
    edit_row("sites.csv", "oakham", "lat", "abc")(geodata_copy)
    edit("wards.csv", "coalville_1,rehab,24,", "coalville_1,rehab,-3,")(geodata_copy)
    before = {p.name: p.read_bytes() for p in geodata_copy.iterdir()}
    result = CliRunner().invoke(cli, ["validate", "--geodata", str(geodata_copy)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "error: sites.csv, row 8, field 'lat': 'abc' is not a number (WGS84 latitude in "
        "degrees, e.g. 52.63)",
        "error: wards.csv, row 2, field 'beds': -3 is below the minimum 1 (a whole number of "
        "beds, 1 or more)",
    ]
    assert result.stdout == ""
    assert {p.name: p.read_bytes() for p in geodata_copy.iterdir()} == before


def test_cli_missing_geodata_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "--geodata", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "geodata folder not found" in result.stderr
    assert "Traceback" not in result.output


def test_a_region_without_the_equality_file_is_valid_and_validate_says_so(
        geodata_copy: Path) -> None:
    (geodata_copy / "zone_equality.csv").unlink()
    data = load_geodata(geodata_copy)
    assert data.zone_equality is None
    result = CliRunner().invoke(cli, ["validate", "--geodata", str(geodata_copy)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stdout.splitlines() if "zone_equality.csv" in line]
    assert notes == ["not checked: zone_equality.csv: absent, so the equality and health "
                     "inequalities figures are skipped; `siteopt geodata build` derives it for "
                     "LLR (see geodata/README.md for the format)"]


def test_the_equality_file_is_loaded_in_zone_order(geodata_copy: Path) -> None:
    path = geodata_copy / "zone_equality.csv"
    header, *body = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(header + "".join(reversed(body)), encoding="utf-8")
    data = load_geodata(geodata_copy)
    assert data.zone_equality is not None
    assert list(data.zone_equality["zone_id"]) == list(data.zones["zone_id"])
    assert data.zone_equality["rural"].dtype == object  # true/false read as booleans
    assert set(data.zone_equality["rural"]) == {True, False}

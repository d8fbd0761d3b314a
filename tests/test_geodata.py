"""The embedded LLR geodata: figures checked independently against the raw files and the STP."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from siteopt.cli import cli
from siteopt.data.build import build_geodata
from siteopt.data.load import Inputs, load_geodata, load_inputs, summarise
from siteopt.errors import DataError
from siteopt.paths import DEFAULT_GEODATA_DIR

DERIVED = ["sites.csv", "ward_spaces.csv", "wards.csv", "capital_schemes.csv", "zones.csv",
           "bed_day_rates.csv", "boundaries_lad.geojson", "boundaries_msoa.geojson",
           "boundaries_lsoa.geojson", "zone_equality.csv", "stp_capital_programme.csv",
           "scheme_phasing.csv"]


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_status_quo_and_stp_bed_totals_match_the_stp() -> None:
    # STP Nov 2016, Community Hospitals: 192 rehab/sub-acute + 41 stroke beds in LPT sites,
    # plus 15 UHL stroke beds at the General; the proposal has 150 + 45.
    wards = rows(DEFAULT_GEODATA_DIR / "wards.csv")

    def total(config: str, service: str, provider: str | None = None) -> int:
        return sum(int(w["beds"]) for w in wards if w["configuration"] == config
                   and w["service"] == service and provider in (None, w["provider"]))

    assert total("status_quo", "rehab", "LPT") == 192
    assert total("status_quo", "stroke", "LPT") == 41
    assert total("status_quo", "stroke", "UHL") == 15
    assert total("stp_2016", "rehab") == 150
    assert total("stp_2016", "stroke") == 45
    sites_with_beds = {w["site_id"] for w in wards if w["configuration"] == "status_quo"}
    assert len(sites_with_beds) == 8
    assert len({w["site_id"] for w in wards if w["configuration"] == "stp_2016"}) == 6
    assert "oakham" not in {w["site_id"] for w in wards if w["configuration"] == "stp_2016"}


def test_stp_capital_schemes_add_up_to_the_stp_table() -> None:
    # Community inpatient reconfiguration: capex 19,950k, disposals 14,000k, net 5,950k.
    schemes = {s["scheme_id"]: s for s in rows(DEFAULT_GEODATA_DIR / "capital_schemes.csv")}
    community = ["market_harborough_ward", "melton_extension", "evington_stroke_ward"]
    capex = sum(float(schemes[k]["capex_gbp"]) for k in community)
    disposals = sum(float(schemes[k]["disposal_gbp"]) for k in community)
    disposals += float(schemes["lutterworth_closure"]["disposal_gbp"])
    assert capex == 19_950_000
    assert disposals == 14_000_000
    assert capex - disposals == 5_950_000


def test_zones_reproduce_census_totals_from_the_raw_file(raw_dir: Path) -> None:
    census = rows(raw_dir / "llr" / "LLR_lsoa21_census2021_agebands_pwc.csv")
    zones = {z["zone_id"]: z for z in rows(DEFAULT_GEODATA_DIR / "zones.csv")}
    assert len(zones) == len(census) == 634
    assert sum(int(c["total"]) for c in census) == 1_121_954
    assert sum(int(z["pop_total"]) for z in zones.values()) == 1_121_954
    assert sum(int(z["pop_65_plus"]) for z in zones.values()) == 201_961
    for c in census:
        z = zones[c["lsoa21_code"]]
        assert int(z["pop_65_plus"]) == int(c["age_65_plus"])
        assert float(z["lat"]) == pytest.approx(float(c["lat"]), abs=1e-6)
        assert z["lad_name"] == c["lad_name"]


def test_80_plus_estimate_follows_the_msoa_share(raw_dir: Path) -> None:
    msoa = {m["MSOA"]: m for m in rows(raw_dir / "llr" / "LLR_msoa11_age_imd.csv")}
    for z in rows(DEFAULT_GEODATA_DIR / "zones.csv"):
        m = msoa[z["msoa11_name"]]
        share = float(m["80+"]) / (float(m["65-79"]) + float(m["80+"]))
        assert abs(int(z["pop_80_plus"]) - int(z["pop_65_plus"]) * share) <= 0.5 + 1e-9


def test_imd_is_the_national_iod2025_score_and_quintile(raw_dir: Path) -> None:
    # The quintile is national (1 = most deprived fifth of England's 33,755 LSOAs), so LLR's
    # people are not split into fifths: Leicester's inner city is in the first, the county's
    # villages mostly in the fourth and fifth.
    iod = {r["lsoa21_code"]: r for r in rows(raw_dir / "llr" / "LLR_iod2025_lsoa21.csv")}
    zones = rows(DEFAULT_GEODATA_DIR / "zones.csv")
    for z in zones:
        decile = int(float(iod[z["zone_id"]]["IMD_decile"]))
        assert int(z["imd_quintile"]) == (decile + 1) // 2
        assert float(z["imd_score"]) == pytest.approx(float(iod[z["zone_id"]]["IMD_score"]),
                                                      abs=1e-9)
    p65 = {q: sum(int(z["pop_65_plus"]) for z in zones if z["imd_quintile"] == str(q))
           for q in range(1, 6)}
    assert p65 == {1: 21_738, 2: 25_007, 3: 37_199, 4: 66_115, 5: 51_902}
    mean_score = {q: sum(float(z["imd_score"]) for z in zones if z["imd_quintile"] == str(q))
                  / sum(1 for z in zones if z["imd_quintile"] == str(q)) for q in range(1, 6)}
    assert [mean_score[q] for q in range(1, 6)] == sorted(mean_score.values(), reverse=True)


def test_bed_day_rates_reproduce_todays_beds() -> None:
    # Independent recomputation: sum over zones and bands of people x rate / 365 / occupancy.
    data = load_geodata(DEFAULT_GEODATA_DIR)
    occupancy = data.assumptions["demand.target_occupancy"]
    zones = rows(DEFAULT_GEODATA_DIR / "zones.csv")
    for service, beds in (("rehab", 192), ("stroke", 56)):
        rate = {r["age_band"]: float(r["bed_days_per_person_year"])
                for r in rows(DEFAULT_GEODATA_DIR / "bed_day_rates.csv")
                if r["service"] == service}
        bed_days = sum(int(z[f"pop_{band}"]) * r for z in zones for band, r in rate.items())
        assert bed_days / 365 / occupancy == pytest.approx(beds, rel=1e-6)


def test_sites_have_their_stp_places_and_local_authorities() -> None:
    sites = {s["site_id"]: s for s in rows(DEFAULT_GEODATA_DIR / "sites.csv")}
    assert len(sites) == 9
    assert sites["oakham"]["lad_name"] == "Rutland"
    assert sites["evington"]["lad_name"] == "Leicester"
    assert sites["lutterworth"]["lad_name"] == "Harborough"
    assert sites["evington"]["postcode"] == "LE5 4PW"  # the General's, on whose site it stands
    assert "PROXY" in sites["evington"]["location_note"]


def test_boundaries_are_wgs84_with_names() -> None:
    lad = json.loads((DEFAULT_GEODATA_DIR / "boundaries_lad.geojson").read_text())
    assert sorted(f["properties"]["lad_name"] for f in lad["features"]) == [
        "Blaby", "Charnwood", "Harborough", "Hinckley and Bosworth", "Leicester", "Melton",
        "North West Leicestershire", "Oadby and Wigston", "Rutland"]
    msoa = json.loads((DEFAULT_GEODATA_DIR / "boundaries_msoa.geojson").read_text())
    assert len(msoa["features"]) == 125
    lsoa = json.loads((DEFAULT_GEODATA_DIR / "boundaries_lsoa.geojson").read_text())
    zone_ids = [z["zone_id"] for z in rows(DEFAULT_GEODATA_DIR / "zones.csv")]
    assert [f["properties"]["lsoa_code"] for f in lsoa["features"]] == zone_ids
    assert lsoa["features"][0]["properties"] == {"lsoa_code": "E01013600",
                                                 "lsoa_name": "Leicester 003A"}


def test_build_is_reproducible_and_matches_the_committed_files(raw_dir: Path,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "built"
    report = build_geodata(raw_dir, out)
    assert (report.n_sites, report.n_zones) == (9, 634)
    for name in DERIVED:
        assert (out / name).read_bytes() == (DEFAULT_GEODATA_DIR / name).read_bytes(), name
    first = {name: (out / name).read_bytes() for name in DERIVED}
    build_geodata(raw_dir, out)
    assert {name: (out / name).read_bytes() for name in DERIVED} == first


def test_build_with_missing_raw_files_writes_nothing(tmp_path: Path) -> None:
    raw = tmp_path / "raw"  # beside --out, not holding it (--out inside an input is refused)
    raw.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sites.csv").write_text("keep me\n")
    result = CliRunner().invoke(cli, ["geodata", "build", "--raw", str(raw),
                                      "--out", str(out)])
    assert result.exit_code == 2
    assert "raw file not found; pass --raw with the folder that holds llr/" in result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == ["sites.csv"]
    assert (out / "sites.csv").read_text() == "keep me\n"


def test_validate_prints_the_summary() -> None:
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "sites: 9 (8 with inpatient beds today)" in out
    assert "beds, status_quo: rehab 192, stroke 56 (total 248)" in out
    assert "beds, stp_2016: rehab 150, stroke 45 (total 195)" in out
    assert "status quo beds provided by LPT: rehab 192, stroke 41" in out
    assert "status quo beds provided by UHL: stroke 15" in out
    assert "zones: 634" in out
    assert "population: 1,121,954 (65+: 201,961;" in out


def test_summary_values() -> None:
    s = summarise(load_geodata(DEFAULT_GEODATA_DIR))
    assert s.beds["status_quo"] == {"rehab": 192, "stroke": 56}
    assert s.population_80_plus < s.population_65_plus


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name, command in cli.commands.items():
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert (command.help or "").strip(), f"command {name} has no help text"


def test_load_geodata_raises_for_a_file_instead_of_folder(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a\n")
    with pytest.raises(DataError, match="geodata folder not found"):
        load_geodata(f)


# ------------------------------------------------------------------ the one input path


def write_matrix(path: Path, zone_ids: tuple[str, ...], site_ids: tuple[str, ...],
                 skip_zone: str | None = None) -> Path:
    """A precomputed matrix ``zone_id, site_id, travel_min`` (minutes = zone + site position)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["zone_id", "site_id", "travel_min"])
        for i, z in enumerate(zone_ids):
            if z == skip_zone:
                continue
            for j, s in enumerate(site_ids):
                w.writerow([z, s, f"{i % 50 + j}.5"])
    return path


def test_load_inputs_real_geodata_gives_validated_points_in_file_order() -> None:
    inputs = load_inputs(DEFAULT_GEODATA_DIR)
    assert isinstance(inputs, Inputs)
    assert inputs.travel is None and inputs.travel_csv is None
    data = inputs.data
    zones = rows(DEFAULT_GEODATA_DIR / "zones.csv")
    sites = rows(DEFAULT_GEODATA_DIR / "sites.csv")
    zp, sp = data.zone_points, data.site_points
    assert zp.ids == data.zone_ids == tuple(r["zone_id"] for r in zones)
    assert sp.ids == data.site_ids == tuple(r["site_id"] for r in sites)
    # the same floats as parsing the CSV text directly
    assert zp.lat.tolist() == [float(r["lat"]) for r in zones]
    assert zp.lon.tolist() == [float(r["lon"]) for r in zones]
    assert sp.lat.tolist() == [float(r["lat"]) for r in sites]
    assert sp.lon.tolist() == [float(r["lon"]) for r in sites]
    assert data.roads_dir == DEFAULT_GEODATA_DIR / "roads"


def test_load_inputs_bad_zones_raises_naming_file_row_and_field(geodata_copy: Path) -> None:
    path = geodata_copy / "zones.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].strip().split(",")
    cells = lines[2].rstrip("\n").split(",")
    cells[header.index("lat")] = "abc"
    lines[2] = ",".join(cells) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_inputs(geodata_copy)
    assert "zones.csv, row 3, field 'lat': 'abc' is not a number (WGS84 latitude in degrees, " \
           "e.g. 52.63)" in err.value.lines()


def test_load_inputs_reads_and_checks_a_precomputed_matrix(tmp_path: Path) -> None:
    data = load_geodata(DEFAULT_GEODATA_DIR)
    good = write_matrix(tmp_path / "good.csv", data.zone_ids, data.site_ids)
    inputs = load_inputs(DEFAULT_GEODATA_DIR, travel_csv=good)
    assert inputs.travel_csv == good
    assert inputs.travel is not None
    assert inputs.travel.origin_ids == data.zone_ids
    assert inputs.travel.destination_ids == data.site_ids
    assert inputs.travel.travel_min.shape == (634, 9)
    assert inputs.travel.travel_min[1, 2] == 3.5
    bad = write_matrix(tmp_path / "bad.csv", data.zone_ids, data.site_ids,
                       skip_zone=data.zone_ids[5])
    with pytest.raises(DataError) as err:
        load_inputs(DEFAULT_GEODATA_DIR, travel_csv=bad)
    assert err.value.lines() == [f"{bad}, field 'zone_id': zone {data.zone_ids[5]} has no rows: "
                                 "add its times to every site"]


def test_load_inputs_reports_the_geodata_before_the_matrix(geodata_copy: Path,
                                                           tmp_path: Path) -> None:
    (geodata_copy / "sites.csv").write_text("site_id\n", encoding="utf-8")
    missing = tmp_path / "no-such-matrix.csv"
    with pytest.raises(DataError) as err:
        load_inputs(geodata_copy, travel_csv=missing)
    assert {p.file for p in err.value.problems} == {"sites.csv"}


def test_cli_bad_precomputed_matrix_is_one_line_per_problem(tmp_path: Path) -> None:
    data = load_geodata(DEFAULT_GEODATA_DIR)
    bad = write_matrix(tmp_path / "bad.csv", data.zone_ids, data.site_ids,
                       skip_zone=data.zone_ids[0])
    result = CliRunner().invoke(cli, ["solve", "--travel", str(bad), "--out",
                                      str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        f"error: {bad}, field 'zone_id': zone {data.zone_ids[0]} has no rows: add its times to "
        "every site"]

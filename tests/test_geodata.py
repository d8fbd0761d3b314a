"""The embedded LLR geodata: figures checked independently against the raw files and the STP."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from siteopt.cli import cli
from siteopt.data.build import build_geodata
from siteopt.data.load import load_geodata, summarise
from siteopt.errors import DataError
from siteopt.paths import DEFAULT_GEODATA_DIR

DERIVED = ["sites.csv", "ward_spaces.csv", "wards.csv", "capital_schemes.csv", "zones.csv",
           "bed_day_rates.csv", "boundaries_lad.geojson", "boundaries_msoa.geojson"]


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
        assert float(z["imd_score"]) == pytest.approx(float(m["IMD2019Score"]), abs=1e-4)


def test_imd_quintiles_split_the_population_into_fifths() -> None:
    zones = rows(DEFAULT_GEODATA_DIR / "zones.csv")
    total = sum(int(z["pop_total"]) for z in zones)
    for q in range(1, 6):
        share = sum(int(z["pop_total"]) for z in zones if z["imd_quintile"] == str(q)) / total
        assert 0.17 < share < 0.23
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
    out = tmp_path / "out"
    out.mkdir()
    (out / "sites.csv").write_text("keep me\n")
    result = CliRunner().invoke(cli, ["geodata", "build", "--raw", str(tmp_path),
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

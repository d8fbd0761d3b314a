"""zone_equality.csv and the equality groups, recomputed from the raw public files.

Every figure here is computed directly from the raw files in ``../shared/geodata/llr/`` with the
csv module (not from the build's code), and compared with the committed derived files and with
:func:`siteopt.data.equality.group_weights`.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from siteopt.cli import cli
from siteopt.data.build import build_geodata
from siteopt.data.equality import GROUP_FAMILIES, GROUP_LABELS, group_order, group_weights
from siteopt.data.load import load_geodata
from siteopt.data.validate import ZONE_EQUALITY
from siteopt.errors import DataError
from siteopt.paths import DEFAULT_GEODATA_DIR

COLUMNS = [
    "zone_id", "ward_name", "neighbourhood_name", "iod25_imd_score", "iod25_imd_rank",
    "iod25_imd_decile", "iod25_imd_quintile", "iod25_geographical_barriers_score",
    "iod25_connectivity_score", "share_disabled", "share_ethnic_asian", "share_ethnic_black",
    "share_ethnic_mixed", "share_ethnic_white", "share_ethnic_other", "share_households_no_car",
    "no_car_is_msoa_estimate", "share_bad_health", "share_one_person_households",
    "ruc2011_class", "rural",
]
ETHNIC = {"asian": "Asian, Asian British or Asian Welsh",
          "black": "Black, Black British, Black Welsh, Caribbean or African",
          "mixed": "Mixed or Multiple ethnic groups", "white": "White",
          "other": "Other ethnic group"}
HALF_ULP_6DP = 0.5e-6 + 1e-12


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def raw(raw_dir: Path, name: str) -> list[dict[str, str]]:
    return rows(raw_dir / "llr" / name)


@pytest.fixture(scope="module")
def equality() -> list[dict[str, str]]:
    return rows(DEFAULT_GEODATA_DIR / "zone_equality.csv")


@pytest.fixture(scope="module")
def zones() -> list[dict[str, str]]:
    return rows(DEFAULT_GEODATA_DIR / "zones.csv")


def test_one_row_per_zone_in_zone_order_with_the_contract_columns(
        equality: list[dict[str, str]], zones: list[dict[str, str]]) -> None:
    with (DEFAULT_GEODATA_DIR / "zone_equality.csv").open(encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == COLUMNS == ZONE_EQUALITY.names
    assert [e["zone_id"] for e in equality] == [z["zone_id"] for z in zones]
    assert len(equality) == 634


def test_deprivation_columns_are_the_iod2025_files(raw_dir: Path,
                                                   equality: list[dict[str, str]]) -> None:
    iod = {r["lsoa21_code"]: r for r in raw(raw_dir, "LLR_iod2025_lsoa21.csv")}
    sub = {r["lsoa21_code"]: r for r in raw(raw_dir, "LLR_iod2025_lsoa21_subdomains.csv")}
    ind = {r["lsoa21_code"]: r for r in raw(raw_dir, "LLR_iod2025_lsoa21_indicators.csv")}
    for e in equality:
        z = e["zone_id"]
        assert float(e["iod25_imd_score"]) == float(iod[z]["IMD_score"])
        assert int(e["iod25_imd_rank"]) == float(iod[z]["IMD_rank"])
        assert int(e["iod25_imd_decile"]) == float(iod[z]["IMD_decile"])
        assert int(e["iod25_imd_quintile"]) == math.ceil(float(iod[z]["IMD_decile"]) / 2)
        assert float(e["iod25_geographical_barriers_score"]) == float(
            sub[z]["geographical_barriers_score"])
        assert float(e["iod25_connectivity_score"]) == float(ind[z]["connectivity_score"])
    # hand-checked: Leicester 003A is the 1,320th most deprived LSOA of England
    first = equality[0]
    assert (first["zone_id"], first["iod25_imd_rank"], first["iod25_imd_quintile"]) == (
        "E01013600", "1320", "1")
    deciles = Counter(int(float(r["IMD_decile"])) for r in iod.values())
    assert Counter(int(e["iod25_imd_decile"]) for e in equality) == deciles


def test_census_lsoa_shares_and_their_totals(raw_dir: Path,
                                             equality: list[dict[str, str]]) -> None:
    by_zone = {e["zone_id"]: e for e in equality}
    disabled = {r["lsoa21_code"]: r for r in raw(raw_dir, "LLR_census2021_ts038_disability_lsoa21"
                                                          ".csv")
                if r["disability"] == "Disabled under the Equality Act"}
    for z, r in disabled.items():
        share = float(r["n"]) / float(r["total_residents"])
        assert abs(float(by_zone[z]["share_disabled"]) - share) <= HALF_ULP_6DP
    # the total: disabled residents of LLR, from the shares and from the counts
    total = sum(float(by_zone[z]["share_disabled"]) * float(r["total_residents"])
                for z, r in disabled.items())
    assert total == pytest.approx(sum(float(r["n"]) for r in disabled.values()), abs=1.0)
    people: dict[str, float] = defaultdict(float)
    from_shares: dict[str, float] = defaultdict(float)
    for r in raw(raw_dir, "LLR_census2021_ts021_ethnicity_lsoa21.csv"):
        group = next(g for g, label in ETHNIC.items() if label == r["ethnic_group"])
        share = float(r["n"]) / float(r["total_residents"])
        e = by_zone[r["lsoa21_code"]]
        assert abs(float(e[f"share_ethnic_{group}"]) - share) <= HALF_ULP_6DP
        people[group] += float(r["n"])
        from_shares[group] += float(e[f"share_ethnic_{group}"]) * float(r["total_residents"])
    for group in ETHNIC:
        assert from_shares[group] == pytest.approx(people[group], abs=1.0)
    for e in equality:
        assert abs(sum(float(e[f"share_ethnic_{g}"]) for g in ETHNIC) - 1) <= 3e-6


def test_msoa_shares_names_and_wards(raw_dir: Path, equality: list[dict[str, str]],
                                     zones: list[dict[str, str]]) -> None:
    names = {r["msoa21nm"]: r for r in raw(raw_dir, "LLR_msoa21_names_hocl.csv")}
    pct = {key: {r["areacd"]: float(r[col]) for r in raw(raw_dir, f"LLR_census2021_msoa21_"
                                                                   f"{file}_pct.csv")}
           for key, file, col in (
               ("share_households_no_car", "number_of_cars_5a", "number_of_cars_5a-000"),
               ("share_bad_health", "health_in_general_4a", "health_in_general_4a-003"),
               ("share_one_person_households", "hh_family_composition_4a",
                "hh_family_composition_4a-002"))}
    ward = {r["lsoa21_code"]: r["ward24_name"]
            for r in raw(raw_dir, "LLR_lsoa21_ward24_ltla24_lookup.csv")}
    for e, z in zip(equality, zones, strict=True):
        msoa = names[z["zone_name"][:-1]]  # "Leicester 023F" is in MSOA "Leicester 023"
        assert e["neighbourhood_name"] == msoa["msoa21hclnm"]
        assert e["ward_name"] == ward[e["zone_id"]]
        for key, by_msoa in pct.items():
            assert float(e[key]) == pytest.approx(by_msoa[msoa["msoa21cd"]] / 100, abs=1e-12)
        assert e["no_car_is_msoa_estimate"] == "true"
    assert len({e["neighbourhood_name"] for e in equality}) == 127
    west_end = [e for e in equality if e["neighbourhood_name"] == "West End & Westcotes"]
    assert west_end and all(e["ward_name"] in ("Westcotes", "Fosse", "Castle")
                            for e in west_end)


def rurality_from_raw(raw_dir: Path, zones: list[dict[str, str]]) -> dict[str, set[str]]:
    """Each 2021 zone's possible RUC2011 classes: from its 2011 parent(s) in the lookup, or, for
    a part of a split LSOA that the lookup does not list, from every changed 2011 LSOA of the
    same 2021 MSOA (name less its last letter)."""
    ruc = {r["LSOA11CD"]: r["RUC11"] for r in raw(raw_dir, "LLR_ruc2011_lsoa11.csv")}
    lookup = raw(raw_dir, "LLR_lsoa11_lsoa21_lookup.csv")
    parents: dict[str, list[str]] = defaultdict(list)
    for r in lookup:
        parents[r["LSOA21CD"]].append(r["LSOA11CD"])
    out: dict[str, set[str]] = {}
    for z in zones:
        code = z["zone_id"]
        if code in parents:
            classes = [ruc[p] for p in parents[code]]
            top = max(Counter(classes).values())
            out[code] = {c for c in classes if classes.count(c) == top}
        else:
            out[code] = {ruc[r["LSOA11CD"]] for r in lookup if r["LSOA11CD"] != r["LSOA21CD"]
                         and r["LSOA21NM"][:-1] == z["zone_name"][:-1]}
    return out


def test_rurality_follows_the_2011_lsoas(raw_dir: Path, equality: list[dict[str, str]],
                                         zones: list[dict[str, str]]) -> None:
    possible = rurality_from_raw(raw_dir, zones)
    for e in equality:
        assert possible[e["zone_id"]] == {e["ruc2011_class"]}, e["zone_id"]  # never ambiguous
        assert e["rural"] == ("true" if e["ruc2011_class"].startswith("Rural") else "false")
    lookup = raw(raw_dir, "LLR_lsoa11_lsoa21_lookup.csv")
    in_lookup = Counter(r["LSOA21CD"] for r in lookup)
    assert sum(1 for z in zones if z["zone_id"] not in in_lookup) == 24  # parts of splits
    assert [c for c, n in in_lookup.items() if n > 1] == ["E01034020"]  # 040B + 040D merged
    by_zone = {e["zone_id"]: e for e in equality}
    # hand-checked: Rutland 003F (new in 2021) is a part of Rutland 003C, urban city and town;
    # Harborough 005G a part of Harborough 005A, rural village and dispersed
    assert by_zone["E01035106"]["ruc2011_class"] == "Urban city and town"
    assert by_zone["E01035086"]["ruc2011_class"] == "Rural village and dispersed"
    assert Counter(e["ruc2011_class"] for e in equality) == {
        "Urban city and town": 494, "Rural town and fringe": 81,
        "Rural village and dispersed": 59}


def test_group_weights_are_65_plus_people_by_group_from_the_raw_files(
        raw_dir: Path, zones: list[dict[str, str]], equality: list[dict[str, str]]) -> None:
    census = {r["lsoa21_code"]: int(r["age_65_plus"])
              for r in raw(raw_dir, "LLR_lsoa21_census2021_agebands_pwc.csv")}
    decile = {r["lsoa21_code"]: int(float(r["IMD_decile"]))
              for r in raw(raw_dir, "LLR_iod2025_lsoa21.csv")}
    weights = group_weights(load_geodata(DEFAULT_GEODATA_DIR))
    assert tuple(weights) == group_order() == tuple(GROUP_LABELS)
    by_quintile = {q: sum(p for z, p in census.items() if math.ceil(decile[z] / 2) == q)
                   for q in range(1, 6)}
    assert by_quintile == {1: 21_738, 2: 25_007, 3: 37_199, 4: 66_115, 5: 51_902}
    for q, people in by_quintile.items():
        assert weights[f"imd_q{q}"].sum() == people
    rural = {e["zone_id"] for e in equality if e["rural"] == "true"}
    assert weights["rural"].sum() == sum(p for z, p in census.items() if z in rural) == 56_756
    assert weights["urban"].sum() == sum(p for z, p in census.items() if z not in rural) \
        == 145_205
    assert weights["age_65_plus"].sum() == sum(census.values()) == 201_961
    assert weights["age_80_plus"].sum() == sum(int(z["pop_80_plus"]) for z in zones)
    disabled = {r["lsoa21_code"]: float(r["n"]) / float(r["total_residents"])
                for r in raw(raw_dir, "LLR_census2021_ts038_disability_lsoa21.csv")
                if r["disability"] == "Disabled under the Equality Act"}
    assert weights["disabled"].sum() == pytest.approx(
        sum(census[z] * s for z, s in disabled.items()), abs=0.5)
    ids = [z["zone_id"] for z in zones]
    for family in ("deprivation", "rurality", "ethnicity"):
        total = sum(weights[g] for g, f in GROUP_FAMILIES.items() if f == family)
        assert np.allclose(total, [census[z] for z in ids], atol=0.01), family


def test_group_weights_on_a_hand_made_world() -> None:
    # three zones: 100, 200 and 50 people aged 65+; the second rural and most deprived
    data = load_geodata(DEFAULT_GEODATA_DIR)
    zones = data.zones.head(3).copy()
    zones["pop_65_plus"] = [100, 200, 50]
    zones["pop_80_plus"] = [10, 60, 5]
    eq = data.zone_equality
    assert eq is not None
    eq = eq.head(3).copy()
    eq["iod25_imd_quintile"] = [3, 1, 5]
    eq["rural"] = [False, True, False]
    eq["share_households_no_car"] = [0.5, 0.1, 0.0]
    eq["share_disabled"] = [0.2, 0.25, 1.0]
    small = dataclasses.replace(data, zones=zones.reset_index(drop=True),
                                zone_equality=eq.iloc[::-1].reset_index(drop=True))
    w = group_weights(small)  # aligned by zone_id, whatever the companion's row order
    assert w["imd_q1"].tolist() == [0, 200, 0]
    assert w["imd_q3"].tolist() == [100, 0, 0]
    assert w["imd_q5"].tolist() == [0, 0, 50]
    assert w["rural"].tolist() == [0, 200, 0]
    assert w["urban"].tolist() == [100, 0, 50]
    assert w["no_car"].tolist() == [50, 20, 0]
    assert w["disabled"].tolist() == [20, 50, 50]
    assert w["age_80_plus"].tolist() == [10, 60, 5]
    with pytest.raises(DataError, match=r"zone_equality\.csv: absent"):
        group_weights(dataclasses.replace(data, zone_equality=None))


def test_labels_are_plain_words() -> None:
    assert GROUP_LABELS["no_car"] == "Households without a car (estimate)"
    assert set(GROUP_FAMILIES) == set(GROUP_LABELS)
    assert all(not label.islower() and "_" not in label for label in GROUP_LABELS.values())


def test_build_is_byte_reproducible_for_the_equality_files(raw_dir: Path,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "built"
    build_geodata(raw_dir, out)
    for name in ("zone_equality.csv", "zones.csv", "boundaries_lsoa.geojson"):
        assert (out / name).read_bytes() == (DEFAULT_GEODATA_DIR / name).read_bytes(), name


@pytest.mark.parametrize(("raw_file", "fault", "expected"), [
    ("LLR_iod2025_lsoa21.csv", "drop-first-row",
     "LLR_iod2025_lsoa21.csv, field 'lsoa21_code': no row for 1 zone(s) of the census file "
     "(first E01013600); use the file for every LSOA 2021 of the region"),
    ("LLR_census2021_ts038_disability_lsoa21.csv", "rename-category",
     "LLR_census2021_ts038_disability_lsoa21.csv, field 'disability': no rows of category "
     "'Disabled under the Equality Act'; use the ONS Census 2021 labels"),
    ("LLR_census2021_msoa21_number_of_cars_5a_pct.csv", "bad-number",
     "LLR_census2021_msoa21_number_of_cars_5a_pct.csv, row 2, field 'number_of_cars_5a-000': "
     "'x' is not a number from 0 to 100; use the published file"),
    ("LLR_msoa21_names_hocl.csv", "missing-column",
     "LLR_msoa21_names_hocl.csv, field 'msoa21hclnm': missing column 'msoa21hclnm'"),
])
def test_a_broken_raw_equality_file_is_one_line_and_nothing_is_written(
        raw_dir: Path, tmp_path: Path, raw_file: str, fault: str, expected: str) -> None:
    raw_copy = tmp_path / "raw"
    shutil.copytree(raw_dir / "llr", raw_copy / "llr")
    path = raw_copy / "llr" / raw_file
    path.chmod(0o644)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if fault == "drop-first-row":
        table = table.iloc[1:]
    elif fault == "rename-category":
        table["disability"] = table["disability"].str.replace("Disabled under", "Disabled per")
    elif fault == "bad-number":
        table.iloc[0, 1] = "x"
    else:
        table = table.drop(columns="msoa21hclnm")
    table.to_csv(path, index=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "zones.csv").write_text("keep me\n")
    result = CliRunner().invoke(cli, ["geodata", "build", "--raw", str(raw_copy),
                                      "--out", str(out)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(expected), lines
    assert sorted(p.name for p in out.iterdir()) == ["zones.csv"]
    assert (out / "zones.csv").read_text() == "keep me\n"

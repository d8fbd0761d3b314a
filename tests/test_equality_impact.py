"""The equality impact (siteopt.appraisal.equality, siteopt.outputs.equality_report).

Hand-made worlds whose answers are known by hand (one group bears the whole loss and is
flagged; a loss shared evenly flags nobody; the floor and the falling-population rules), then,
on the embedded LLR data (slow: one appraisal), every figure of the report's section recomputed
directly from the raw files in ../shared/geodata/llr/ and the per-zone drive times of
zone_change.csv.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from siteopt.appraisal.equality import (
    POPULATION_GROUP,
    EqualitySettings,
    disproportion,
    group_impact,
    impact_from_arrays,
    most_affected,
    option_statements,
    top_groups,
)
from siteopt.appraisal.summary import Statement

SETTINGS = EqualitySettings(disproportion_ratio=1.5, min_population_change_min=0.1,
                            most_affected_count=3)
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?%?")


def arr(*x: float) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def rows_of(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """equality.csv's rows built from a result (as equality_rows does for an appraisal)."""
    return [{"option": o, "group": g, **result["options"][o][g]}
            for o in result["options"] for g in result["groups"]]


def check_figures(statements: Sequence[Statement], result: Mapping[str, Any],
                  labels: Sequence[str] = ()) -> None:
    """Every number of every sentence is one of its figures, and every figure equals its row."""
    rows = rows_of(result)
    asm = {"equality.disproportion_ratio": SETTINGS.disproportion_ratio,
           "equality.min_population_change_min": SETTINGS.min_population_change_min}
    for st in statements:
        text = st.text.replace("65+", "")
        for lab in labels:
            text = text.replace(lab, "")
        texts = {f.text.lstrip("+-") for f in st.figures}
        for tok in NUMBER.findall(text):
            assert tok.lstrip("+-") in texts, (tok, st.text)
        for f in st.figures:
            assert f.text in st.text
            if f.table == "assumptions":
                assert f.value == asm[f.column]
                continue
            (row,) = [r for r in rows if all(r[k] == v for k, v in f.key.items())]
            assert row[f.column] * f.scale == pytest.approx(f.value, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Hand-made worlds
# ---------------------------------------------------------------------------------------------
def test_group_measures_by_hand() -> None:
    w = arr(100, 50, 0, 50)
    before = arr(10, 20, 30, 40)
    after = arr(25, 20, 60, 70)       # rises 15, 0, 30, 30
    g = group_impact(w, before, after)
    assert g["people"] == 200
    assert g["mean_travel_min_before"] == pytest.approx((1000 + 1000 + 2000) / 200)   # 20
    assert g["mean_travel_min_after"] == pytest.approx((2500 + 1000 + 3500) / 200)    # 35
    assert g["mean_change_min"] == pytest.approx(15.0)
    assert g["share_within_30_min_before"] == pytest.approx(150 / 200)  # zones 0, 1 (2 empty)
    assert g["share_within_30_min_after"] == pytest.approx(1.0 - 50 / 200)
    assert g["share_within_45_min_before"] == pytest.approx(1.0)
    assert g["share_within_45_min_after"] == pytest.approx(150 / 200)
    assert g["people_rise_over_10_min"] == pytest.approx(150)   # zones 0 and 3
    assert g["people_rise_over_20_min"] == pytest.approx(50)    # zone 3 (zone 2 has nobody)
    empty = group_impact(arr(0, 0, 0, 0), before, after)
    assert empty["people"] == 0 and empty["mean_change_min"] == 0


def one_group_bears_the_loss() -> dict[str, Any]:
    """Four zones of 100 people aged 65+; every household without a car lives in zone 0, the
    only zone whose drive rises (by 12 minutes) when its hospital closes."""
    weights = {POPULATION_GROUP: arr(100, 100, 100, 100),
               "no_car": arr(40, 0, 0, 0),
               "car": arr(60, 100, 100, 100),
               "rural": arr(25, 25, 25, 25)}
    drives = {"status_quo": arr(10, 15, 20, 25), "close_a": arr(22, 15, 20, 25)}
    labels = {POPULATION_GROUP: "People aged 65+", "no_car": "Households without a car",
              "car": "Households with a car", "rural": "Rural residents"}
    return impact_from_arrays(weights, drives, SETTINGS, labels=labels)


def test_the_group_that_bears_the_whole_loss_is_flagged() -> None:
    res = one_group_bears_the_loss()
    g = res["options"]["close_a"]
    assert g[POPULATION_GROUP]["mean_change_min"] == pytest.approx(3.0)   # 12 x 100 / 400
    assert g["no_car"]["mean_change_min"] == pytest.approx(12.0)
    assert g["no_car"]["ratio_to_population"] == pytest.approx(4.0)
    assert g["no_car"]["flagged"] and g["no_car"]["basis"] == "ratio"
    # the others: 12 x 60 / 360 = 2 (ratio 2/3) and 12 x 25 / 100 = 3 (ratio 1)
    assert g["car"]["ratio_to_population"] == pytest.approx(2 / 3) and not g["car"]["flagged"]
    assert g["rural"]["ratio_to_population"] == pytest.approx(1.0) and not g["rural"]["flagged"]
    assert not g[POPULATION_GROUP]["flagged"]  # the population itself: ratio 1
    assert not any(x["flagged"] for x in res["options"]["status_quo"].values())
    assert [z["zone_index"] for z in res["most_affected"]["close_a"]] == [0]
    assert res["most_affected"]["close_a"][0]["change_min"] == pytest.approx(12.0)
    sts = option_statements(res, "close_a")
    flags = [s for s in sts if s.id.startswith("equality_flag")]
    assert [s.id for s in flags] == ["equality_flag_close_a_no_car"]
    assert flags[0].text.startswith("Households without a car: their drive would rise 4.0 "
                                    "times as much as everyone's")
    check_figures(sts, res, list(res["labels"].values()))
    assert top_groups(res, "close_a")[0] == ("no_car", pytest.approx(12.0))


def test_a_loss_shared_evenly_flags_nobody() -> None:
    weights = {POPULATION_GROUP: arr(100, 100, 100, 100), "no_car": arr(40, 10, 30, 5),
               "rural": arr(0, 0, 50, 80)}
    drives = {"status_quo": arr(10, 15, 20, 25), "even": arr(14, 19, 24, 29)}
    res = impact_from_arrays(weights, drives, SETTINGS)
    for gid, g in res["options"]["even"].items():
        assert g["mean_change_min"] == pytest.approx(4.0), gid
        assert g["ratio_to_population"] == pytest.approx(1.0), gid
        assert not g["flagged"], gid
    sts = option_statements(res, "even")
    assert [s.id for s in sts if s.id.startswith("equality_flag")] == ["equality_flag_even_none"]
    check_figures(sts, res, list(res["labels"].values()))


def test_the_floor_and_the_falling_population() -> None:
    # everyone's change below the 0.1-minute floor: a group's own rise decides (>= 0.15 min)
    assert disproportion(0.2, 0.05, SETTINGS) == {"ratio_to_population": None,
                                                  "basis": "own_change", "flagged": True}
    assert not disproportion(0.14, -0.05, SETTINGS)["flagged"]
    assert not disproportion(-3.0, 0.0, SETTINGS)["flagged"]
    # everyone's drive falls, the group's rises: flagged whatever the (negative) ratio
    d = disproportion(0.5, -1.0, SETTINGS)
    assert d["flagged"] and d["basis"] == "rise_while_population_falls"
    assert d["ratio_to_population"] == pytest.approx(-0.5)
    # a larger fall than everyone's is never flagged (ratio 2 but not a rise)
    assert not disproportion(-2.0, -1.0, SETTINGS)["flagged"]
    # the ratio test at the threshold and just under it
    assert disproportion(1.5, 1.0, SETTINGS)["flagged"]
    assert not disproportion(1.49, 1.0, SETTINGS)["flagged"]
    # gains and losses cancelling out: the sentences say so, numbers recorded
    weights = {POPULATION_GROUP: arr(100, 100), "no_car": arr(50, 0)}
    res = impact_from_arrays(weights, {"status_quo": arr(10, 20), "swap": arr(15, 15)},
                             SETTINGS)
    g = res["options"]["swap"]
    assert g[POPULATION_GROUP]["mean_change_min"] == pytest.approx(0.0)
    assert g["no_car"]["flagged"] and g["no_car"]["basis"] == "own_change"
    sts = option_statements(res, "swap")
    check_figures(sts, res, list(res["labels"].values()))
    falls = impact_from_arrays(weights, {"status_quo": arr(10, 20), "x": arr(11, 10)}, SETTINGS)
    assert falls["options"]["x"]["no_car"]["basis"] == "rise_while_population_falls"
    assert falls["options"]["x"]["no_car"]["flagged"]
    check_figures(option_statements(falls, "x"), falls, list(falls["labels"].values()))


def test_most_affected_order() -> None:
    assert most_affected(arr(1, 5, -2, 5, 0, 3), 3) == [1, 3, 5]
    assert most_affected(arr(1, 5, -2, 5, 0, 3), 10) == [1, 3, 5, 0]
    assert most_affected(arr(-1, 0), 10) == []


# ---------------------------------------------------------------------------------------------
# The embedded LLR data: every figure of the section from the raw files
# ---------------------------------------------------------------------------------------------
ETHNIC = {"Asian, Asian British or Asian Welsh": "ethnic_asian",
          "Black, Black British, Black Welsh, Caribbean or African": "ethnic_black",
          "Mixed or Multiple ethnic groups": "ethnic_mixed", "White": "ethnic_white",
          "Other ethnic group": "ethnic_other"}
RURAL_CLASSES = ("Rural town and fringe", "Rural village and dispersed")
RURALITY_ORDER = ("Urban city and town", *RURAL_CLASSES)
"""From the most urban to the most rural (ties go to the more rural)."""


def msoa11_of(raw: Path, census: pd.DataFrame) -> pd.Series:
    """Each LSOA 2021's MSOA 2011 name: its 2011 LSOA's name less the letter, or the MSOA 2011
    polygon that covers its population-weighted centroid."""
    from shapely.geometry import Point, shape

    llr = raw / "llr"
    lookup = pd.read_csv(llr / "LLR_lsoa11_lsoa21_lookup.csv")
    name11 = dict(zip(lookup["LSOA21CD"], lookup["LSOA11NM"], strict=True))
    import json

    geo = json.loads((llr / "LLR_MSOA_Dec2011_BSC.geojson").read_text("utf-8"))
    polys = [(f["properties"]["MSOA11NM"], shape(f["geometry"])) for f in geo["features"]]
    out = []
    for code, lon, lat in zip(census["lsoa21_code"], census["lon"], census["lat"], strict=True):
        if code in name11:
            out.append(str(name11[code])[:-1])
            continue
        pt = Point(float(lon), float(lat))
        hits = [n for n, p in polys if p.covers(pt)]
        out.append(hits[0] if hits else min(polys, key=lambda np_: np_[1].distance(pt))[0])
    return pd.Series(out, index=census.index)


def rurality_of(raw: Path, census: pd.DataFrame) -> pd.Series:
    """Each LSOA 2021's RUC2011 class: the class of most of its 2011 LSOAs (ties to the more
    rural); a 2021 LSOA the lookup does not list (the other part of a split 2011 LSOA) takes
    the class of the nearest 2011 LSOA centroid of the same MSOA name (of any, if none)."""
    llr = raw / "llr"
    lookup = pd.read_csv(llr / "LLR_lsoa11_lsoa21_lookup.csv")
    ruc = pd.read_csv(llr / "LLR_ruc2011_lsoa11.csv").set_index("LSOA11CD")["RUC11"]
    pwc = pd.read_csv(llr / "LLR_lsoa11_pwc_wgs84.csv").set_index("lsoa11cd")
    names11 = pd.read_csv(llr / "LLR_ruc2011_lsoa11.csv").set_index("LSOA11CD")["LSOA11NM"]
    parents = lookup.groupby("LSOA21CD")["LSOA11CD"].apply(list).to_dict()
    out = []
    for code, name, lon, lat in zip(census["lsoa21_code"], census["lsoa21_name"], census["lon"],
                                    census["lat"], strict=True):
        if code in parents:
            classes = [str(ruc[p]) for p in parents[code]]
            out.append(max(classes, key=lambda c: (classes.count(c), RURALITY_ORDER.index(c))))
            continue
        same = [p for p in names11.index if str(names11[p])[:-1] == str(name)[:-1]]
        same = same or list(names11.index)
        cos = math.cos(math.radians(float(lat)))
        near = min(same, key=lambda p: ((pwc.loc[p, "X"] - lon) * cos) ** 2
                   + (pwc.loc[p, "Y"] - lat) ** 2)
        out.append(str(ruc[near]))
    return pd.Series(out, index=census.index)


def raw_zones(raw: Path) -> pd.DataFrame:
    """Every zone's groups and details, straight from the raw files (zone_id order)."""
    llr = raw / "llr"
    c = pd.read_csv(llr / "LLR_lsoa21_census2021_agebands_pwc.csv").sort_values(
        "lsoa21_code", kind="stable").reset_index(drop=True)
    code = c["lsoa21_code"]
    iod = pd.read_csv(llr / "LLR_iod2025_lsoa21.csv").set_index("lsoa21_code")
    ind = pd.read_csv(llr / "LLR_iod2025_lsoa21_indicators.csv").set_index("lsoa21_code")
    dis = pd.read_csv(llr / "LLR_census2021_ts038_disability_lsoa21.csv")
    dis = dis[dis["disability"] == "Disabled under the Equality Act"].set_index("lsoa21_code")
    eth = pd.read_csv(llr / "LLR_census2021_ts021_ethnicity_lsoa21.csv").pivot(
        index="lsoa21_code", columns="ethnic_group", values="prop")
    names = pd.read_csv(llr / "LLR_msoa21_names_hocl.csv").set_index("msoa21nm")
    cars = pd.read_csv(llr / "LLR_census2021_msoa21_number_of_cars_5a_pct.csv").set_index(
        "areacd")
    health = pd.read_csv(llr / "LLR_census2021_msoa21_health_in_general_4a_pct.csv").set_index(
        "areacd")
    ward = pd.read_csv(llr / "LLR_lsoa21_ward24_ltla24_lookup.csv").set_index("lsoa21_code")
    msoa11 = pd.read_csv(llr / "LLR_msoa11_age_imd.csv").set_index("MSOA")
    msoa21 = names.loc[c["lsoa21_name"].str[:-1]]
    m11 = msoa11.loc[msoa11_of(raw, c)]
    share80 = m11["80+"].to_numpy() / (m11["65-79"].to_numpy() + m11["80+"].to_numpy())
    p65 = c["age_65_plus"].to_numpy(dtype=np.float64)
    out = pd.DataFrame({
        "zone_id": code, "lad_name": c["lad_name"], "people_65_plus": p65,
        "people_80_plus": np.floor(p65 * share80 + 0.5),
        "imd_decile": iod.loc[code, "IMD_decile"].to_numpy(dtype=np.int64),
        "connectivity": ind.loc[code, "connectivity_score"].to_numpy(dtype=np.float64),
        "disabled": dis.loc[code, "prop"].to_numpy(dtype=np.float64),
        "no_car": cars.loc[msoa21["msoa21cd"], "number_of_cars_5a-000"].to_numpy() / 100,
        "bad_health": health.loc[msoa21["msoa21cd"], "health_in_general_4a-003"].to_numpy()
        / 100,
        "neighbourhood": msoa21["msoa21hclnm"].to_numpy(),
        "ward": ward.loc[code, "ward24_name"].to_numpy(),
        "rural": rurality_of(raw, c).isin(RURAL_CLASSES).to_numpy(),
    })
    for group, gid in ETHNIC.items():
        out[gid] = eth.loc[code, group].to_numpy(dtype=np.float64)
    out["imd_quintile"] = np.ceil(out["imd_decile"] / 2).astype(int)
    return out


def raw_weights(z: pd.DataFrame) -> dict[str, np.ndarray]:
    """The groups' people aged 65+ per zone (the shared contract), from :func:`raw_zones`."""
    p65 = z["people_65_plus"].to_numpy(dtype=np.float64)
    w = {f"imd_q{q}": np.where(z["imd_quintile"] == q, p65, 0.0) for q in range(1, 6)}
    w["urban"] = np.where(~z["rural"], p65, 0.0)
    w["rural"] = np.where(z["rural"], p65, 0.0)
    for gid in (*ETHNIC.values(), "disabled", "no_car", "bad_health"):
        w[gid] = p65 * z[gid].to_numpy(dtype=np.float64)
    w["age_65_plus"] = p65
    w["age_80_plus"] = z["people_80_plus"].to_numpy(dtype=np.float64)
    return w


def expected_row(w: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> dict[str, float]:
    """One group's figures, written out afresh (not siteopt's group_impact)."""
    n = w.sum()
    d = t1 - t0
    row = {"people": n, "mean_travel_min_before": (w * t0).sum() / n,
           "mean_travel_min_after": (w * t1).sum() / n, "mean_change_min": (w * d).sum() / n}
    for lim in (30, 45):
        row[f"share_within_{lim}_min_before"] = w[t0 <= lim].sum() / n
        row[f"share_within_{lim}_min_after"] = w[t1 <= lim].sum() / n
    for r in (10, 20):
        row[f"people_rise_over_{r}_min"] = w[d > r].sum()
    return row


@pytest.fixture(scope="module")
def llr() -> Any:
    """One LLR appraisal (no next-best options) and its equality tables."""
    from siteopt.appraisal.appraise import appraise
    from siteopt.appraisal.settings import AppraisalSettings
    from siteopt.paths import DEFAULT_GEODATA_DIR
    from siteopt.runs.pipeline import prepare

    prepared = prepare(DEFAULT_GEODATA_DIR)
    settings = AppraisalSettings.from_assumptions(prepared.data.assumptions.values,
                                                  {"appraisal.next_best_options": 0})
    return appraise(prepared, settings)


def section_options(a: Any) -> list[str]:
    """The short-listed options the section has tables for: every one but business as usual
    that changes some zone's drive."""
    sq = a.zone_travel_min["status_quo"]
    return [n for n in a.decision["main_table"] if n != "status_quo"
            and np.abs(a.zone_travel_min[n] - sq).max() > 1e-9]


@pytest.mark.slow
def test_every_group_figure_from_the_raw_files(llr: Any, raw_dir: Path) -> None:
    from siteopt.outputs.equality_report import equality_rows
    from siteopt.outputs.report import zone_rows

    a = llr
    z = raw_zones(raw_dir)
    weights = raw_weights(z)
    # the per-zone drive times of zone_change.csv, matched to the raw zones by code
    zc = pd.DataFrame(zone_rows(a)).set_index("zone_id").loc[list(z["zone_id"])]
    rows = {(r["option"], r["group"]): r for r in equality_rows(a)}
    assert {g for _o, g in rows} == set(weights)
    t0 = zc["mean_travel_min_status_quo"].to_numpy(dtype=np.float64)
    pop0 = expected_row(weights["age_65_plus"], t0, t0)
    for name in a.decision["main_table"]:
        t1 = zc[f"mean_travel_min_{name}"].to_numpy(dtype=np.float64)
        pop = expected_row(weights["age_65_plus"], t0, t1)["mean_change_min"]
        for gid, w in weights.items():
            want = expected_row(w, t0, t1)
            got = rows[(name, gid)]
            for col, val in want.items():
                tol = 0.5 if col.startswith("people") else 1e-5   # shares kept to 6 decimals
                assert got[col] == pytest.approx(val, rel=1e-5, abs=tol), (name, gid, col)
            if abs(pop) >= 0.1:
                ratio = want["mean_change_min"] / pop
                assert got["ratio_to_population"] == pytest.approx(ratio, rel=1e-5)
                assert got["flagged"] == (want["mean_change_min"] > 0 and ratio >= 1.5 - 1e-9
                                          if pop > 0 else want["mean_change_min"] >= 0.15)
    # the 65+ by national quintile, as the raw IoD2025 deciles give them
    for q in range(1, 6):
        people = z.loc[np.ceil(z["imd_decile"] / 2) == q, "people_65_plus"].sum()
        assert rows[("status_quo", f"imd_q{q}")]["people"] == pytest.approx(people)
    assert pop0["people"] == pytest.approx(201_961)   # the Census 2021 65+ of LLR


@pytest.mark.slow
def test_most_affected_neighbourhoods_from_the_raw_files(llr: Any, raw_dir: Path) -> None:
    from siteopt.outputs.equality_report import neighbourhood_rows
    from siteopt.outputs.report import zone_rows

    a = llr
    z = raw_zones(raw_dir).set_index("zone_id")
    zc = pd.DataFrame(zone_rows(a)).set_index("zone_id")
    count = int(a.prepared.data.assumptions.values["equality.most_affected_neighbourhoods"])
    got = pd.DataFrame(neighbourhood_rows(a))
    for name in [n for n in a.decision["main_table"] if n != "status_quo"]:
        delta = (zc[f"mean_travel_min_{name}"] - zc["mean_travel_min_status_quo"])
        want = delta[delta > 0].sort_values(ascending=False, kind="stable").head(count)
        mine = got[got["option"] == name].sort_values("rank")
        assert list(mine["zone_id"]) == list(want.index), name
        for (_, r), (zid, d) in zip(mine.iterrows(), want.items(), strict=True):
            raw = z.loc[zid]
            assert r["change_min"] == pytest.approx(d, abs=1e-9)
            assert (r["neighbourhood_name"], r["ward_name"], r["lad_name"]) == (
                raw["neighbourhood"], raw["ward"], raw["lad_name"])
            assert r["people_65_plus"] == raw["people_65_plus"]
            assert r["iod25_imd_decile"] == raw["imd_decile"]
            assert r["share_households_no_car"] == pytest.approx(raw["no_car"], abs=1e-6)
            assert r["iod25_connectivity_score"] == pytest.approx(raw["connectivity"], abs=1e-6)


@pytest.mark.slow
def test_the_section_says_only_what_the_tables_hold(llr: Any, raw_dir: Path) -> None:
    from siteopt.appraisal.equality import appraisal_impact, section_statements
    from siteopt.data.equality import GROUP_LABELS
    from siteopt.outputs.equality_report import equality_section_html

    a = llr
    res = appraisal_impact(a)
    assert res is not None
    sts = section_statements(a)
    assert any(s.id.startswith("equality_bears_most_") for s in sts)
    assert any(s.id.startswith("equality_flag_") for s in sts)
    check_figures(sts, res, sorted(GROUP_LABELS.values(), key=len, reverse=True))
    html_text = "\n".join(equality_section_html(a))
    assert "Equality and health inequalities impact" in html_text
    for st in sts:
        assert html.escape(st.text, quote=True) in html_text
    # every short-listed option has its table
    assert html_text.count("<table class='equality'>") == len(section_options(a))
    for name in section_options(a):
        assert html.escape(a.decision["titles"][name], quote=True) in html_text
    for words in ("2011", "MSOA", "ecological", "Census 2021", "2025"):
        assert words in html_text, words
    # the group table's cells are the rows' figures, rounded as printed
    w = raw_weights(raw_zones(raw_dir))
    first = section_options(a)[0]
    block = html_text.split("<table class='equality'>")[1].split("</table>")[0]
    cells = [re.findall(r"<td>(.*?)</td>", tr) for tr in block.split("<tr>")[2:]]
    assert [c[0] for c in cells] == [html.escape(GROUP_LABELS[g], quote=True) for g in w]
    for c, gid in zip(cells, w, strict=True):
        g = res["options"][first][gid]
        assert c[1] == f"{w[gid].sum():,.0f}"
        assert float(c[2]) == pytest.approx(g["mean_travel_min_before"], abs=0.051)
        assert float(c[4]) == pytest.approx(g["mean_change_min"], abs=0.051)


@pytest.mark.slow
def test_a_region_without_zone_equality_gets_no_figures(llr: Any) -> None:
    import dataclasses

    from siteopt.outputs.equality_report import (
        equality_rows,
        equality_section_html,
        neighbourhood_rows,
    )

    a = llr
    data = dataclasses.replace(a.prepared.data, zone_equality=None)
    bare = dataclasses.replace(a, prepared=dataclasses.replace(a.prepared, data=data))
    assert equality_rows(bare) == [] and neighbourhood_rows(bare) == []
    assert "no zone_equality.csv" in "".join(equality_section_html(bare))

"""Every number in every generated sentence, recomputed from the written tables and the raw
inputs (the report's summary and the "why" sentences), and the decision's guarantees on the
embedded LLR data: the preferred option is short-listed, eligible and not dominated."""

from __future__ import annotations

import csv
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from siteopt.appraisal.appraise import Appraisal, appraise
from siteopt.appraisal.settings import AppraisalSettings
from siteopt.outputs.report import write_report
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import prepare

pytestmark = pytest.mark.slow  # one full LLR appraisal

NUMBER = re.compile(r"[-+]?£?\d[\d,]*(?:\.\d+)?m?%?")
FIXED_WORDS = ("65+", "30 minutes", "out of 10", "3 seconds")
"""Fixed phrases of the wording (thresholds and the scale), not figures."""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Appraisal, Path]:
    prepared = prepare(DEFAULT_GEODATA_DIR)
    settings = AppraisalSettings.from_assumptions(prepared.data.assumptions.values,
                                                  {"appraisal.next_best_options": 2})
    a = appraise(prepared, settings)
    out = tmp_path_factory.mktemp("summary")
    write_report(a, out)
    return a, out


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def numbers(text: str) -> list[str]:
    return [t for t in NUMBER.findall(text) if any(ch.isdigit() for ch in t)]


def resolve(a: Appraisal, out: Path, fig: Mapping[str, Any]) -> float:
    """The figure's value read back from where it says it is."""
    table, key, column = fig["table"], fig["key"], fig["column"]
    if table == "scenario":
        section, _, name = column.partition(".")
        return float(getattr(getattr(a.prepared.scenario, section), name))
    if table == "assumptions":
        doc = tomllib.loads((DEFAULT_GEODATA_DIR / "assumptions.toml").read_text("utf-8"))
        node: Any = doc
        for part in column.split("."):
            node = node[part]
        return float(node["value"])
    rows = read((DEFAULT_GEODATA_DIR if table == "wards.csv" else out) / table)
    if column == "count":
        return float(sum(all(r[k] == v for k, v in key.items()) for r in rows))
    if "minus" in key:
        a_row = next(r for r in rows if r["option"] == key["option"])
        b_row = next(r for r in rows if r["option"] == key["minus"])
        return abs(float(a_row[column]) - float(b_row[column]))
    match = [r for r in rows if all(r[k] == v for k, v in key.items())]
    assert len(match) == 1, (table, key)
    return float(match[0][column]) * float(fig.get("scale", 1.0))


def without_titles(text: str, doc: Mapping[str, Any]) -> str:
    """The sentence with option titles and ward-space notes taken out (checked apart)."""
    titles = sorted(doc["decision"]["titles"].values(), key=len, reverse=True)
    for title in titles:
        text = text.replace(title, "")
    for title in titles:
        text = text.replace(title.split(": ", 1)[-1].replace("inpatient beds close",
                                                             "beds close"), "")
    for g in doc["decision"]["business_as_usual"]["unavailable"]:
        text = text.replace(g["note"], "")
    for z in read(DEFAULT_GEODATA_DIR / "zones.csv"):  # neighbourhood names carry numbers
        text = text.replace(z["zone_name"], "")
    for w in FIXED_WORDS:
        text = text.replace(w, "")
    return text


def test_every_number_in_the_summary_is_a_figure_and_equals_its_table(
        run: tuple[Appraisal, Path]) -> None:
    a, out = run
    doc = json.loads((out / "appraisal.json").read_text("utf-8"))
    years = {str(a.prepared.demand.planning_year),
             str(a.prepared.data.assumptions["meta.population_year"]), "2016",
             str(a.settings.appraisal_years)}
    assert doc["summary"], "the summary is empty"
    for st in doc["summary"]:
        texts = {f["text"].lstrip("-+£").rstrip("m%") for f in st["figures"]}
        for tok in numbers(without_titles(st["text"], doc)):
            bare = tok.lstrip("-+£").rstrip("m%")
            assert bare in texts or bare in years, (st["id"], tok, st["text"])
        for f in st["figures"]:
            assert f["text"] in st["text"], (st["id"], f)
            got = resolve(a, out, f)
            assert got == pytest.approx(f["value"], rel=1e-6, abs=1e-6), (st["id"], f)


def test_summary_titles_say_the_sites_and_schemes(run: tuple[Appraisal, Path]) -> None:
    a, out = run
    rows = {r["option"]: r for r in read(out / "appraisal.csv")}
    schemes = {r["scheme_id"]: r for r in read(DEFAULT_GEODATA_DIR / "capital_schemes.csv")}
    sites = {r["site_id"]: r for r in read(DEFAULT_GEODATA_DIR / "sites.csv")}
    for name, title in a.decision["titles"].items():
        n = int(title.split(" site", 1)[0])
        assert n == int(rows[name]["sites_with_beds"]), (name, title)
        for phrase in re.split(r"; | and ", title):
            m = re.fullmatch(r"(.+) ward enlarged to (\d+) beds", phrase)
            if m is None:
                continue
            hits = [s for s in schemes.values()
                    if sites[s["site_id"]]["name"].startswith(m.group(1))]
            assert any(int(s["beds_max"]) == int(m.group(2)) for s in hits), (title, phrase)
        site_rows = {r["site_id"]: r for r in read(out / "sites.csv") if r["option"] == name}
        for sid, r in site_rows.items():
            today = next(x for x in read(out / "sites.csv")
                         if x["option"] == "status_quo" and x["site_id"] == sid)
            closes = (sum(int(r[f"wards_{v}"]) for v in ("rehab", "stroke")) == 0
                      and sum(int(today[f"wards_{v}"]) for v in ("rehab", "stroke")) > 0)
            short = sites[sid]["name"].replace(" Hospital", "").replace(" Community", "")
            if closes:
                assert short.split(" ")[0] in title, (name, sid, title)


def test_why_sentences_count_the_right_people_in_the_right_area(
        run: tuple[Appraisal, Path]) -> None:
    a, out = run
    zones = read(DEFAULT_GEODATA_DIR / "zones.csv")
    people = {}
    for z in zones:
        people[z["lad_name"]] = people.get(z["lad_name"], 0) + int(z["pop_65_plus"])
    change = {r["zone_id"]: r for r in read(out / "zone_change.csv")}
    assert a.why
    for w in a.why:
        s = w["sentence"]
        # the area named is the site's local authority, with its real 65+ population
        assert w["lad_name"] == next(r["lad_name"] for r in read(DEFAULT_GEODATA_DIR / "sites.csv")
                                     if r["site_id"] == w["site_id"])
        assert w["people_65_plus_in_lad"] == people[w["lad_name"]]
        assert f"{people[w['lad_name']]:,.0f} people aged 65+" in s
        # the "before" mean is the option's own zone means, weighted by people aged 65+
        num = den = 0.0
        for z in zones:
            if z["lad_name"] == w["lad_name"]:
                num += float(change[z["zone_id"]][f"mean_travel_min_{w['option']}"]) * float(
                    z["pop_65_plus"])
                den += float(z["pop_65_plus"])
        assert w["lad_mean_travel_min_before"] == pytest.approx(num / den, abs=1e-5)
        assert f"from {w['lad_mean_travel_min_before']:.1f} to " \
               f"{w['lad_mean_travel_min_after']:.1f} minutes" in s
        # people counted both ways never exceed the area's whole 65+ population
        total = sum(people.values())
        assert w["people_65_plus_shorter"] + w["people_65_plus_longer"] <= total + 1e-6
        for tok in numbers(s.replace("65+", "").replace("3 seconds", "")):
            bare = tok.lstrip("-+£").rstrip("m%")
            fields = {f"{float(v):,.0f}" for v in _numbers_of(w)} | {
                f"{float(v):.1f}" for v in _numbers_of(w)} | {
                f"{abs(float(v)) / 1e6:.2f}" for v in _numbers_of(w)}
            assert bare in fields, (tok, s)


def _numbers_of(row: Mapping[str, Any]) -> list[float]:
    out: list[float] = []
    for v in row.values():
        if isinstance(v, bool):
            continue
        if isinstance(v, int | float):
            out.append(float(v))
        elif isinstance(v, dict):
            out += [float(x) for x in v.values() if isinstance(x, int | float)]
            out.append(float(sum(x for x in v.values() if isinstance(x, int | float))))
    return out


def test_preferred_option_is_not_dominated_recomputed_from_the_tables(
        run: tuple[Appraisal, Path]) -> None:
    a, out = run
    rows = {r["option"]: r for r in read(out / "appraisal.csv")}
    groups = read(out / "access_by_group.csv")
    site_rows = read(out / "sites.csv")
    pref = a.preferred
    assert rows[pref]["preferred"] == "true" and rows[pref]["shortlisted"] == "true"
    assert rows[pref]["eligible"] == "true" and not rows[pref]["dominated_by"]

    def measures(name: str) -> dict[str, float]:
        r = rows[name]
        small = sum(1 for s in site_rows if s["option"] == name
                    and (int(s["wards_rehab"]) + int(s["wards_stroke"])) == 1
                    and (int(s["beds_rehab"]) + int(s["beds_stroke"])) < 21)
        share45 = min(float(g["share_within_45_min"]) for g in groups
                      if g["option"] == name and float(g["people_65_plus"]) > 0)
        short = sum(max(0.0, float(r[f"bed_need_{v}"]) - float(r[f"beds_{v}"]))
                    for v in ("rehab", "stroke"))
        return {"npv": float(r["npv_vs_status_quo_gbp"]), "t": -float(r["mean_travel_min"]),
                "short": -short, "cap": -float(r["net_capital_gbp"]),
                "rn": -float(r["staff_wte_rn"]), "eq": share45,
                "max": -float(r["max_travel_min"]), "small": -small,
                "refusal": -float(r["max_erlang_refusal"])}

    mine = measures(pref)
    short_list = [n for n, r in rows.items() if r["on_short_list"] == "true" and n != pref]
    assert "status_quo" in short_list and "do_minimum" in short_list
    for other in short_list:
        theirs = measures(other)
        at_least = all(theirs[k] >= mine[k] - 1e-6 for k in mine)
        better = any(theirs[k] > mine[k] + 1e-6 for k in mine)
        assert not (at_least and better), (other, theirs, mine)


def test_new_columns_recomputed_from_the_raw_inputs(run: tuple[Appraisal, Path]) -> None:
    a, out = run
    doc = tomllib.loads((DEFAULT_GEODATA_DIR / "assumptions.toml").read_text("utf-8"))
    scales = doc["appraisal"]["benefit_scales"]["value"]
    weights = doc["appraisal"]["benefit_weights"]["value"]
    target = doc["capacity"]["target_refusal_probability"]["value"]
    rows = {r["option"]: r for r in read(out / "appraisal.csv")}
    groups = read(out / "access_by_group.csv")
    sites = read(out / "sites.csv")

    def score(x: float, pair: list[float]) -> float:
        return min(10.0, max(0.0, 10 * (x - pair[0]) / (pair[1] - pair[0])))

    for name, r in rows.items():
        g = [x for x in groups if x["option"] == name and float(x["people_65_plus"]) > 0]
        lad = max(float(x["mean_travel_min"]) for x in g if x["group"] == "local_authority")
        imd = max(float(x["mean_travel_min"]) for x in g if x["group"] == "imd_quintile")
        small = sum(1 for s in sites if s["option"] == name
                    and int(s["wards_rehab"]) + int(s["wards_stroke"]) == 1
                    and int(s["beds_rehab"]) + int(s["beds_stroke"]) < 21)
        n_schemes = int(r["capital_schemes"])
        if name in a.decision["schemes"]:
            assert n_schemes == len(a.decision["schemes"][name])
        crit = {
            "access": (score(float(r["mean_travel_min"]), scales["mean_travel_min"])
                       + score(float(r["share_within_30_min"]), scales["share_within_30_min"]))
            / 2,
            "equity": (score(lad, scales["worst_lad_mean_travel_min"])
                       + score(imd, scales["worst_deprivation_quintile_mean_travel_min"])) / 2,
            "resilience": (score(small, scales["small_isolated_wards"])
                           + score(max(0.0, float(r["max_erlang_refusal"]) - target),
                                   scales["worst_refusal_above_target"])) / 2,
        }
        for c, v in crit.items():
            assert float(r[f"score_{c}"]) == pytest.approx(v, abs=1e-5), (name, c)
        deliv = (score(float(r["capex_gbp"]), scales["capex_gbp"])
                 + score(float(r["disposals_gbp"]), scales["receipts_relied_on_gbp"])
                 + score(n_schemes, scales["capital_schemes"])) / 3
        assert float(r["score_deliverability"]) == pytest.approx(deliv, abs=1e-5), name
        b = sum(weights[c] * float(r[f"score_{c}"]) for c in weights)
        assert float(r["benefit_score"]) == pytest.approx(b, abs=1e-5), name
        if r["npc_per_benefit_point_gbp"]:
            assert float(r["npc_per_benefit_point_gbp"]) == pytest.approx(
                float(r["npc_gbp"]) / b, rel=1e-5), name
    # bed need at the census year (no growth) from zones.csv and bed_day_rates.csv
    zones = read(DEFAULT_GEODATA_DIR / "zones.csv")
    rates = {(r["service"], r["age_band"]): float(r["bed_days_per_person_year"])
             for r in read(DEFAULT_GEODATA_DIR / "bed_day_rates.csv")}
    occ = doc["demand"]["target_occupancy"]["value"]
    bands = doc["demand"]["age_bands"]["value"]
    for v in ("rehab", "stroke"):
        days = sum(float(z[f"pop_{b}"]) * rates[(v, b)] for z in zones for b in bands)
        need = days / 365 / occ * (1 - doc["home_first"][f"reduction_{v}"]["value"])
        assert float(rows["stp_2016"][f"bed_need_{v}_2021"]) == pytest.approx(need, abs=1e-5)


def test_business_as_usual_and_do_minimum_are_benchmarks(run: tuple[Appraisal, Path]) -> None:
    a, _ = run
    d = a.decision
    bau = d["business_as_usual"]
    assert not bau["can_continue"]
    assert [g["space_id"] for g in bau["unavailable"]] == ["lgh_stroke"]
    dm = a.option(d["do_minimum"])
    sq = a.option("status_quo")
    # the do minimum changes only the site whose ward cannot continue
    changed = [sid for sid in sq.choice if dm.measures["sites"][sid]["beds"]
               != sq.measures["sites"][sid]["beds"] or dm.choice[sid] != sq.choice[sid]]
    assert changed == ["evington"]
    assert dm.measures["beds"] == sq.measures["beds"]
    assert dm.measures["capex_gbp"] == pytest.approx(7.5e6)
    assert {"status_quo", d["do_minimum"]} <= set(d["shortlist"])
    assert "status_quo" not in d["eligible_in_order"]
    assert np.isfinite(d["benefit_score"][a.preferred])

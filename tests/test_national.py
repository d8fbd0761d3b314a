"""National-scale path on real data: the region loader, an East Midlands slice solved and every
figure recomputed from the raw CSV files, and the command line."""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import sparse
from scipy.optimize import linprog

from siteopt.cli import cli
from siteopt.errors import DataError
from siteopt.national.region import load_region, prefix_filter, read_spec, select
from siteopt.national.run import DEFAULT_SPEC, load, measures, output_files, run, settings_from_spec
from siteopt.national.solve import ThroughputOptions

pytestmark = pytest.mark.slow  # the East Midlands slice of the national instance

ENGLAND = DEFAULT_SPEC.parent.parent.parent / "shared" / "geodata" / "england"
needs_england = pytest.mark.skipif(not ENGLAND.exists(), reason="../shared/geodata absent")


def _spec(tmp: Path, matrix: str, zones: str, sites: str, layout: str = "long",
          extra: str = "") -> Path:
    (tmp / "m.csv").write_text(matrix)
    (tmp / "z.csv").write_text(zones)
    (tmp / "s.csv").write_text(sites)
    zc = 'zone_column = "zone"\n' if layout == "wide" else ""
    spec = tmp / "spec.toml"
    spec.write_text(
        f'[region]\nname = "t"\n[matrix]\npath = "m.csv"\nlayout = "{layout}"\n{zc}'
        '[zones]\npath = "z.csv"\nid_column = "zone_id"\ndemand_column = "demand"\n'
        '[sites]\npath = "s.csv"\nid_column = "site_id"\nname_column = "name"\n' + extra)
    return spec


ZONES = "zone_id,demand\nA 001,10\nA 002,20\nB 001,30\n"
SITES = "site_id,name\nS1,One\nS2,Two\n"


def test_long_and_wide_matrices_load_the_same(tmp_path: Path) -> None:
    long = ("zone_id,site_id,travel_min\nA 001,S1,5\nA 001,S2,12.5\nA 002,S1,7\nA 002,S2,9\n"
            "B 001,S2,3\n")  # B 001 -> S1 absent: unreachable
    wide = "zone,S1,S2\nA 001,5,12.5\nA 002,7,9\nB 001,,3\n"
    (tmp_path / "l").mkdir()
    (tmp_path / "w").mkdir()
    a = load_region(read_spec(_spec(tmp_path / "l", long, ZONES, SITES)))
    b = load_region(read_spec(_spec(tmp_path / "w", wide, ZONES, SITES, layout="wide")))
    for r in (a, b):
        assert r.zone_ids == ("A 001", "A 002", "B 001")
        assert r.site_ids == ("S1", "S2")
        assert r.demand.tolist() == [10, 20, 30]
        assert r.travel_min[2, 0] == np.inf and r.travel_min[0, 1] == 12.5
    assert any("1 matrix cell(s) are empty" in n for n in b.notes)
    # a selection says which notes are about the whole input and counts its own gaps
    only_b = select(b, prefix_filter(["B"]), "b")
    assert only_b.zone_ids == ("B 001",)
    assert all(n.startswith("whole input, before selecting: ") for n in only_b.notes[:-1])
    assert only_b.notes[-1] == "1 zone-site pair(s) of this selection are unreachable"
    assert select(b, prefix_filter(["A"]), "a").notes == tuple(
        f"whole input, before selecting: {n}" for n in b.notes)


@pytest.mark.parametrize(
    ("matrix", "zones", "expected"),
    [
        ("zone_id,site_id,travel_min\nA 001,S1,abc\n", ZONES,
         "m.csv, row 2, field 'travel_min': 'abc' is not a number >= 0"),
        ("zone_id,site_id,travel_min\nA 001,S1,-4\n", ZONES,
         "m.csv, row 2, field 'travel_min': '-4' is not a number >= 0"),
        ("zone_id,site_id,minutes\nA 001,S1,4\n", ZONES, "m.csv: missing columns ['travel_min']"),
        ("zone_id,site_id,travel_min\nA 001,S1,4\nA 001,S1,5\n", ZONES,
         "m.csv, row 3, field 'site_id': duplicate pair (A 001, S1)"),
        ("zone_id,site_id,travel_min\nA 001,S1,4\nA 002,S1,4\n", "zone_id,demand\nA 001,1\n",
         "z.csv, field 'zone_id': 1 zone(s) of the travel matrix have no row (e.g. A 002)"),
        ("zone_id,site_id,travel_min\nA 001,S1,4\n", "zone_id,demand\nA 001,\n",
         "z.csv, row 2, field 'demand': '' is not a number >= 0"),
        ("zone_id,site_id,travel_min\nA 001,S9,4\n", ZONES,
         "s.csv, field 'site_id': 1 site(s) of the travel matrix are not in the sites table"),
    ],
)
def test_bad_region_inputs_name_file_row_and_field(tmp_path: Path, matrix: str, zones: str,
                                                   expected: str) -> None:
    with pytest.raises(DataError) as err:
        load_region(read_spec(_spec(tmp_path, matrix, zones, SITES)))
    assert expected in "\n".join(err.value.lines())


def test_spec_problems_are_listed(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text('[matrix]\nlayout = "diagonal"\n[zones]\npath = "z.csv"\n')
    with pytest.raises(DataError) as err:
        read_spec(spec)
    text = "\n".join(err.value.lines())
    for part in ("missing table [region]", "layout 'diagonal' is not wide|long",
                 "[zones] needs id_column", "missing table [sites]"):
        assert part in text


# -- real data: the East Midlands slice ------------------------------------------------------
def _raw_east_midlands(prefixes: list[str]) -> tuple[dict[str, dict[str, float]],
                                                       dict[str, float]]:
    """Travel rows and demand of the slice's LSOAs, read with the csv module from the raw
    files (no siteopt code)."""
    keep = set(prefixes)
    with zipfile.ZipFile(ENGLAND / "england_lsoa11_stroke_travel_time_calibrated.zip") as zf:
        name = zf.namelist()[0]
        rows = csv.DictReader(io.TextIOWrapper(zf.open(name), encoding="utf-8"))
        travel = {r["LSOA"]: {k: float(v) for k, v in r.items() if k != "LSOA" and v}
                  for r in rows if r["LSOA"].rsplit(" ", 1)[0] in keep}
    with (ENGLAND / "lsoa11_predicted_stroke_admissions.csv").open() as f:
        demand = {r["lsoa11nm"]: float(r["LSOA_predicted_admissions"])
                  for r in csv.DictReader(f) if r["lsoa11nm"] in travel}
    return travel, demand


@pytest.fixture(scope="module")
def east_midlands_run():  # type: ignore[no-untyped-def]
    spec, region, load_s = load(DEFAULT_SPEC, "east_midlands")
    settings = settings_from_spec(spec, {"max_sites": 4})
    result = run(region, settings, ThroughputOptions(time_limit_s=120, gap_rel=0.0),
                 load_s)
    return spec, result, output_files(result)


@needs_england
def test_east_midlands_figures_recomputed_from_raw_files(east_midlands_run) -> None:  # type: ignore[no-untyped-def]
    spec, result, files = east_midlands_run
    prefixes = list(spec.regions["east_midlands"].zone_prefixes)
    travel, demand = _raw_east_midlands(prefixes)
    assert len(travel) == 2774 == result.region.n_zones
    total = sum(demand.values())
    summary = json.loads(files["summary.json"])
    best = summary["results"][0]
    assert best["method"] == "optimised" and best["status"] == "optimal"
    m = best["measures"]
    # zones.csv: every zone's shares sum to 1; recompute the access figures from it
    shares: dict[str, float] = {}
    load: dict[str, float] = {}
    drive = 0.0
    within = {30: 0.0, 45: 0.0, 60: 0.0}
    worst = 0.0
    for r in csv.DictReader(io.StringIO(files["zones.csv"])):
        z, s, x = r["zone_id"], r["site_id"], float(r["share"])
        t = travel[z][s]
        assert float(r["travel_min"]) == pytest.approx(t, abs=0.01)
        shares[z] = shares.get(z, 0.0) + x
        load[s] = load.get(s, 0.0) + demand[z] * x
        drive += demand[z] * x * t
        worst = max(worst, t)
        for band in within:
            within[band] += demand[z] * x * (t <= band)
    assert set(shares) == set(demand)
    assert all(v == pytest.approx(1.0, abs=1e-5) for v in shares.values())
    assert m["mean_travel_min"] == pytest.approx(drive / total, abs=1e-4)
    assert m["max_travel_min"] == pytest.approx(worst, abs=1e-4)
    for band in within:
        assert m[f"share_within_{band}_min"] == pytest.approx(within[band] / total, abs=1e-4)
    assert m["open_sites"] == len(load) <= 4
    assert all(600 - 1e-3 <= v <= 2000 + 1e-3 for v in load.values())
    # sites.csv agrees with the loads
    for r in csv.DictReader(io.StringIO(files["sites.csv"])):
        assert float(r["optimised_per_year"]) == pytest.approx(load.get(r["site_id"], 0.0),
                                                               abs=0.01)
    # the optimum is no worse than either comparator that meets the limits
    comp = list(csv.DictReader(io.StringIO(files["comparison.csv"])))
    assert [c["method"] for c in comp] == ["optimised", "keep current", "greedy drop"]
    assert float(comp[1]["open_sites"]) == 6  # today's six units
    assert float(comp[2]["mean_travel_min"]) >= float(comp[0]["mean_travel_min"]) - 1e-4


@needs_england
def test_east_midlands_optimum_equals_enumeration(east_midlands_run) -> None:  # type: ignore[no-untyped-def]
    """Every set of at most 4 of the 6 units, each assignment by scipy's linprog on the raw
    data: the best equals the optimiser's."""
    _, result, _ = east_midlands_run
    region = result.region
    t_full, d = region.travel_min, region.demand
    best = np.inf
    for k in (3, 4):  # 7,223 admissions need at least 4 units of 2,000; 3 is infeasible
        for combo in itertools.combinations(range(region.n_sites), k):
            t = t_full[:, combo]
            n = len(d)
            c = (d[:, None] * t).ravel()
            a_eq = sparse.kron(sparse.eye(n), np.ones((1, k)))
            load = sparse.csr_matrix((np.repeat(d, k), (np.tile(np.arange(k), n),
                                                        np.arange(n * k))), shape=(k, n * k))
            res = linprog(c, A_ub=sparse.vstack([load, -load]),
                          b_ub=np.concatenate([np.full(k, 2000.0), np.full(k, -600.0)]),
                          A_eq=a_eq, b_eq=np.ones(n), bounds=(0, 1), method="highs")
            if res.status == 0:
                best = min(best, res.fun / d.sum())
    assert result.solutions[0].mean_travel_min == pytest.approx(best, rel=1e-6)


@needs_england
def test_cli_national_region_and_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "em"
    res = runner.invoke(cli, ["national", "--region", "east_midlands", "--max-sites", "5",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "optimised" in res.output and "greedy drop" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["comparison.csv", "run_manifest.json",
                                                     "sites.csv", "summary.json", "zones.csv"]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = runner.invoke(cli, ["national", "--region", "narnia", "--out", str(out)])
    assert bad.exit_code == 2
    assert "no region 'narnia'" in bad.output and "Traceback" not in bad.output
    infeasible = runner.invoke(cli, ["national", "--region", "east_midlands", "--max-sites",
                                     "3", "--out", str(out)])
    assert infeasible.exit_code == 2
    assert "needs at least 4 sites of at most 2,000 each, but at most 3 may be open" in (
        infeasible.output)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@needs_england
def test_decomposition_by_region_in_parallel_is_feasible_and_no_better() -> None:
    """Midlands (two networks, 18 units): each network planned alone on a 2-process pool. The
    union serves every zone within the limits; the joint optimum is at least as good."""
    spec, region, _ = load(DEFAULT_SPEC, "midlands")
    settings = settings_from_spec(spec, {})
    options = ThroughputOptions(time_limit_s=120)
    result = run(region, settings, options, by_region=True, workers=2)
    best, parts = result.solutions[0], result.solutions[-1]
    assert parts.method == "by region" and parts.sizes["regions"] == 2
    m = measures(region, parts, settings)
    assert m["demand_served"] == pytest.approx(region.demand.sum(), rel=1e-9)
    assert m["sites_below_min"] == 0 and m["sites_above_max"] == 0
    # each zone served only inside its own network
    groups = np.asarray(region.site_groups)
    nearest_group = groups[np.argmin(region.travel_min, axis=1)]
    assert np.all(groups[parts.site] == nearest_group[parts.zone])
    assert best.gap is not None and best.lower_bound is not None
    assert parts.objective >= best.lower_bound - 1e-6
    assert best.mean_travel_min <= parts.mean_travel_min * (1 + best.gap) + 1e-9


@needs_england
def test_spec_setting_of_the_wrong_type_is_one_line(tmp_path: Path) -> None:
    text = DEFAULT_SPEC.read_text().replace("{ value = 600,", '{ value = "six hundred",')
    text = text.replace('"../../shared', f'"{DEFAULT_SPEC.parent}/../../shared')
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    res = CliRunner().invoke(cli, ["national", "--spec", str(spec), "--region", "llr",
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "min_per_site must be a number >= 0, got 'six hundred'" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "out").exists()

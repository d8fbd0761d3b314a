"""Precomputed travel matrices (``--travel FILE``): implausible times refused or warned about,
and ``siteopt travel-times`` output read back as ``--travel`` input (issue 15)."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from siteopt.cli import cli
from siteopt.data.load import load_inputs
from siteopt.errors import DataError
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import travel_times
from siteopt.travel import matrix as tr

# Two zones and two sites near Leicester: z1 and s1 share a point; s2 is 0.1 degree of latitude
# (11.12 km) north of z1; z2 is 0.1 degree south of z1.
ZONES = tr.Points(("z1", "z2"), np.array([52.60, 52.50]), np.array([-1.10, -1.10]))
SITES = tr.Points(("s1", "s2"), np.array([52.60, 52.70]), np.array([-1.10, -1.10]))
KM_01_DEG = 11.12
LIMITS = tr.MatrixLimits(max_travel_min=600.0, max_speed_kph=130.0,
                         max_travel_source="test", max_speed_source="test")


def write(path: Path, text: str, newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def read(path: Path, limits: tr.MatrixLimits = LIMITS, *, points: bool = False
         ) -> tr.TravelMatrix:
    if points:
        return tr.read_precomputed_matrix(path, ZONES.ids, SITES.ids, origins=ZONES,
                                          destinations=SITES, limits=limits)
    return tr.read_precomputed_matrix(path, ZONES.ids, SITES.ids, limits=limits)


def lines_of(err: pytest.ExceptionInfo[DataError]) -> list[str]:
    return err.value.lines()


# ------------------------------------------------------------------ refused values


def test_all_zero_matrix_is_refused_in_one_line(tmp_path: Path) -> None:
    p = write(tmp_path / "zeros.csv", "zone_id,site_id,travel_min\nz1,s1,0\nz1,s2,0\n"
                                      "z2,s1,0\nz2,s2,0\n")
    with pytest.raises(DataError) as err:
        read(p)
    assert lines_of(err) == [
        f"{p}, field 'travel_min': every travel time is 0 (all 4 finite rows): zeros make "
        "every site as near as any other; give the drive minutes"]


def test_all_zero_with_no_route_pairs_is_still_refused(tmp_path: Path) -> None:
    p = write(tmp_path / "m.csv", "zone_id,site_id,travel_min\nz1,s1,0\nz1,s2,inf\n"
                                  "z2,s1,0\nz2,s2,inf\n")
    with pytest.raises(DataError, match=r"every travel time is 0 \(all 2 finite rows\)"):
        read(p)


def test_no_route_anywhere_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path / "m.csv", "zone_id,site_id,travel_min\nz1,s1,inf\nz1,s2,inf\n"
                                  "z2,s1,inf\nz2,s2,inf\n")
    with pytest.raises(DataError, match=r"no pair has a route \(all 4 rows are inf\)"):
        read(p)


def test_one_zero_among_real_times_is_accepted(tmp_path: Path) -> None:
    # z1 is at s1: a zero there is plausible (0 km), and nothing is refused
    p = write(tmp_path / "m.csv", "zone_id,site_id,travel_min\nz1,s1,0\nz1,s2,15\n"
                                  "z2,s1,15\nz2,s2,30\n")
    assert read(p, points=True).travel_min.tolist() == [[0.0, 15.0], [15.0, 30.0]]


def test_over_a_day_is_refused_naming_the_first_row_and_counting_the_rest(
        tmp_path: Path) -> None:
    p = write(tmp_path / "seconds.csv", "zone_id,site_id,travel_min\nz1,s1,5\nz1,s2,1e12\n"
                                        "z2,s1,900\nz2,s2,601\n")
    with pytest.raises(DataError) as err:
        read(p)
    assert lines_of(err) == [
        f"{p}, row 3, field 'travel_min': 1e+12 min is longer than any drive (600 min = 10 h, "
        "test): give minutes, not seconds, and inf for no route; 2 more rows like it"]


def test_the_limit_itself_and_inf_are_accepted(tmp_path: Path) -> None:
    p = write(tmp_path / "m.csv", "zone_id,site_id,travel_min\nz1,s1,600\nz1,s2,inf\n"
                                  "z2,s1,5\nz2,s2,7\n")
    m = read(p)
    assert m.travel_min[0, 0] == 600.0 and np.isinf(m.travel_min[0, 1])


def test_negative_is_refused_with_its_row(tmp_path: Path) -> None:
    p = write(tmp_path / "m.csv", "zone_id,site_id,travel_min\nz1,s1,5\nz1,s2,-3\n"
                                  "z2,s1,-0.5\nz2,s2,7\n")
    with pytest.raises(DataError) as err:
        read(p)
    assert lines_of(err) == [
        f"{p}, row 3, field 'travel_min': -3 is negative: travel_min must be >= 0 (or inf for "
        "no route); 1 more rows like it"]


def test_a_bad_value_does_not_also_report_its_pair_missing(tmp_path: Path) -> None:
    # Every pair has a row; only the time of one is bad: one problem, not a cascade.
    p = write(tmp_path / "m.csv", "zone_id,site_id,travel_min\nz1,s1,5\nz1,s2,1e9\n"
                                  "z2,s1,6\nz2,s2,7\n")
    with pytest.raises(DataError) as err:
        read(p)
    assert len(lines_of(err)) == 1


def test_many_zones_without_rows_are_listed_then_counted(tmp_path: Path) -> None:
    zones = [f"z{i}" for i in range(30)]
    p = write(tmp_path / "m.csv", "zone_id,site_id,travel_min\nz0,s1,5\n")
    with pytest.raises(DataError) as err:
        tr.read_precomputed_matrix(p, zones, ["s1"], limits=LIMITS)
    lines = lines_of(err)
    assert sum("has no rows: add its times" in x for x in lines) == tr.MAX_LISTED
    assert lines[-1] == f"{p}, field 'zone_id': ... and 9 more zones have no rows"


# ------------------------------------------------------------------ warned speeds


def test_faster_than_plausible_is_a_warning_naming_the_worst_pair(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # z1 -> s2: 11.12 km in 4 min is 167 km/h; z2 -> s2 (22.24 km) in 5 min is 267 km/h (the
    # worst); z2 -> s1 (11.12 km) in 10 min is 67 km/h; z1 -> s1 is 0 km.
    p = write(tmp_path / "m.csv", "zone_id,site_id,travel_min\nz1,s1,2\nz1,s2,4\n"
                                  "z2,s1,10\nz2,s2,5\n")
    with caplog.at_level(logging.WARNING, logger=tr.LOG.name):
        m = read(p, points=True)
    assert m.travel_min[1, 1] == 5.0  # accepted
    assert [r.getMessage() for r in caplog.records] == [
        f"warning: {p}, row 5: z2 to s2 in 5 min for 22.2 km in a straight line is 267 km/h, "
        "faster than 130 km/h (test); 2 of 4 pairs are that fast: check the times are minutes "
        "and the ids match the geodata"]


def test_speed_warning_by_hand(tmp_path: Path) -> None:
    km = 2 * KM_01_DEG
    matrix = tr.TravelMatrix(ZONES.ids, SITES.ids, np.array([[2.0, 60.0], [60.0, 0.0]]))
    text = tr.implausible_speed_warning("m.csv", matrix, ZONES, SITES, LIMITS)
    assert text is not None
    assert text == (f"warning: m.csv: z2 to s2 in 0 min for {km:.1f} km in a straight line is "
                    "instantaneous, faster than 130 km/h (test); 1 of 4 pairs is that fast: "
                    "check the times are minutes and the ids match the geodata")
    plausible = tr.TravelMatrix(ZONES.ids, SITES.ids, np.array([[2.0, 6.0], [6.0, 11.0]]))
    # 11.12 km in 6 min is 111 km/h, 22.24 km in 11 min is 121 km/h: under 130
    assert tr.implausible_speed_warning("m.csv", plausible, ZONES, SITES, LIMITS) is None


def test_plausible_matrix_gives_no_warning(tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    p = write(tmp_path / "m.csv", "zone_id,site_id,travel_min\nz1,s1,3\nz1,s2,15\n"
                                  "z2,s1,15\nz2,s2,28\n")
    with caplog.at_level(logging.WARNING, logger=tr.LOG.name):
        read(p, points=True)
    assert caplog.records == []


# ------------------------------------------------------------------ limits are data


def test_limits_come_from_the_ranges_table(tmp_path: Path) -> None:
    ranges = write(tmp_path / "plausible_ranges.csv",
                   "file,field,min,max,unit,source\n"
                   "speeds.csv,speed_kph,1,130,km/h,a source\n"
                   "travel matrix,travel_min,0,720,min,half a day\n"
                   "travel matrix,straight_line_speed_kph,0,100,km/h,a source\n")
    limits = tr.matrix_limits(ranges)
    assert (limits.max_travel_min, limits.max_speed_kph) == (720.0, 100.0)
    assert limits.max_travel_source == "siteopt's plausible_ranges.csv"
    p = write(tmp_path / "m.csv", "zone_id,site_id,travel_min\nz1,s1,5\nz1,s2,721\n"
                                  "z2,s1,6\nz2,s2,7\n")
    with pytest.raises(DataError, match=r"row 3, field 'travel_min': 721 min is longer than any "
                                        r"drive \(720 min = 12 h, siteopt's plausible_ranges"):
        read(p, limits)


def test_limits_fall_back_when_the_table_has_no_row(tmp_path: Path) -> None:
    ranges = write(tmp_path / "plausible_ranges.csv", "file,field,min,max,unit,source\n"
                                                      "travel matrix,travel_min,0,720,min,s\n")
    limits = tr.matrix_limits(ranges)
    assert limits.max_travel_min == 720.0
    assert limits.max_speed_kph == tr.FALLBACK_MATRIX_LIMITS.max_speed_kph
    assert limits.max_speed_source == "siteopt's fallback limit"
    assert tr.matrix_limits(tmp_path / "absent.csv") == tr.FALLBACK_MATRIX_LIMITS


def test_the_embedded_limits_are_a_day_and_130_kph() -> None:
    limits = tr.matrix_limits()
    assert (limits.max_travel_min, limits.max_speed_kph) == (1440.0, 130.0)


# ------------------------------------------------------------------ travel-times -> --travel


def test_travel_times_header_and_crlf_are_read(tmp_path: Path) -> None:
    body = "origin_id,destination_id,travel_min\nz1,s1,5\nz1,s2,7.5\nz2,s1,3\nz2,s2,inf\n"
    for newline in ("\n", "\r\n"):
        m = read(write(tmp_path / "t.csv", body, newline))
        assert m.travel_min[0].tolist() == [5.0, 7.5] and np.isinf(m.travel_min[1, 1])
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode())
    assert read(bom).travel_min[1, 0] == 3.0
    spaced = write(tmp_path / "s.csv", body.replace("origin_id,destination_id,travel_min",
                                                    "origin_id, destination_id, travel_min"))
    assert read(spaced).travel_min[0, 1] == 7.5


def test_problems_name_the_files_own_columns(tmp_path: Path) -> None:
    p = write(tmp_path / "t.csv", "origin_id,destination_id,travel_min\nz1,s1,5\nz1,s1,6\n"
                                  "z2,s1,x\nz2,s2,7\nz1,s2,4\n")
    with pytest.raises(DataError) as err:
        read(p)
    assert lines_of(err) == [
        f"{p}, row 3, field 'destination_id': duplicate pair (z1, s1)",
        f"{p}, row 4, field 'travel_min': 'x' is not a number of minutes"]


def test_missing_columns_name_both_headers(tmp_path: Path) -> None:
    p = write(tmp_path / "t.csv", "origin,site,minutes\nz1,s1,5\n")
    with pytest.raises(DataError) as err:
        read(p)
    assert lines_of(err) == [
        f"{p}: missing columns ['site_id', 'travel_min', 'zone_id']: the file needs "
        "zone_id,site_id,travel_min (or origin_id,destination_id,travel_min as "
        "`siteopt travel-times` writes)"]


def test_to_csv_writes_lf_and_reads_back(tmp_path: Path) -> None:
    matrix = tr.TravelMatrix(ZONES.ids, SITES.ids, np.array([[1.25, 12.5], [np.inf, 30.0]]))
    path = matrix.to_csv(tmp_path / "t.csv")
    raw = path.read_bytes()
    assert b"\r" not in raw
    assert raw == b"origin_id,destination_id,travel_min\nz1,s1,1.250\nz1,s2,12.500\n" \
                  b"z2,s1,inf\nz2,s2,30.000\n"
    back = read(path)
    assert np.array_equal(back.travel_min, matrix.travel_min)


def test_llr_matrix_is_plausible(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The road graph's own LLR matrix passes every check (fastest pair about 68 km/h)."""
    inputs = load_inputs(DEFAULT_GEODATA_DIR)
    built = travel_times(inputs, cache_dir=tmp_path / "cache")
    path = built.to_csv(tmp_path / "llr.csv")
    data = inputs.data
    with caplog.at_level(logging.WARNING, logger=tr.LOG.name):
        back = tr.read_precomputed_matrix(path, data.zone_ids, data.site_ids,
                                          origins=data.zone_points,
                                          destinations=data.site_points)
    assert caplog.records == []
    assert np.allclose(back.travel_min, built.travel_min, atol=5e-4)
    faster = tr.MatrixLimits(max_travel_min=1440.0, max_speed_kph=60.0)
    text = tr.implausible_speed_warning(str(path), back, data.zone_points, data.site_points,
                                        faster)
    assert text is not None and "faster than 60 km/h" in text


def points_csv(path: Path, table: pd.DataFrame, id_column: str) -> Path:
    rows = [(r[id_column], r["lat"], r["lon"]) for r in table.to_dict("records")]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "lat", "lon"])
        w.writerows(rows)
    return path


def mean_drive(args: list[str]) -> tuple[str, float, dict[str, str]]:
    res = CliRunner().invoke(cli, ["solve", "--format", "json", *args])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    return (doc["status"], doc["access"]["mean_travel_min"],
            {s["site_id"]: s["option_id"] for s in doc["sites"]})


@pytest.mark.slow
def test_travel_times_output_is_solve_travel_input(tmp_path: Path) -> None:
    """`siteopt travel-times` on the geodata's zones and sites, fed to `siteopt solve
    --travel`, gives the built-in matrix's solution and mean drive (to the file's 0.001 min)."""
    data = load_inputs(DEFAULT_GEODATA_DIR).data
    zones = points_csv(tmp_path / "zones.csv", data.zones, "zone_id")
    sites = points_csv(tmp_path / "sites.csv", data.sites, "site_id")
    out = tmp_path / "times.csv"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    res = CliRunner().invoke(cli, ["travel-times", "--origins", str(zones), "--destinations",
                                   str(sites), "--out", str(out), *cache])
    assert res.exit_code == 0, res.output
    assert b"\r" not in out.read_bytes()
    assert out.read_text(encoding="utf-8").startswith("origin_id,destination_id,travel_min\n")
    built = mean_drive(cache)
    given = mean_drive(["--travel", str(out), *cache])
    assert given[0] == built[0] == "optimal"
    assert given[2] == built[2]
    assert given[1] == pytest.approx(built[1], abs=1e-3)
    assert given[1] == pytest.approx(17.41, abs=0.01)

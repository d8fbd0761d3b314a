"""Calibrate the few free parameters of the default road graph against the reference (half A).

Usage::

    python benchmarks/calibrate_travel.py [--half A] [--write]

Free parameters: the class speeds of the strategic network (motorway; trunk, primary and
secondary roads, each urban and rural) and the urban and rural access speeds. The detour factor
is fixed (its ratio to the access speed is what matters, so fitting both would be degenerate);
a rural class speed is the speed at the national limit, scaled on stretches with a documented
limit (``maxspeed_mph`` in ``strategic_routes.csv``; ``siteopt.travel.speeds.limit_ratio``);
the Rutland OSM edges keep their maxspeed / class speeds. The objective is the mean absolute
error over the calibration half's LSOAs (split: ``siteopt.travel.check.holdout_half``) to the seven
reference destinations. ``--write`` stores the fitted values in ``geodata/roads/speeds.csv`` and
``parameters.csv`` (sources say "calibrated"), then rebuild the graph with
``siteopt geodata roads --default``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from siteopt.paths import REPO_DIR
from siteopt.travel import check as tcheck
from siteopt.travel import graph as road_graph
from siteopt.travel import matrix as tr
from siteopt.travel import speeds as road_speeds
from siteopt.travel import strategic as strategic_roads

RAW = REPO_DIR.parent / "shared" / "geodata"
ROADS = REPO_DIR / "geodata" / "roads"
STRATEGIC_KEYS = [("motorway", "rural"), ("trunk", "rural"), ("primary", "rural"),
                  ("secondary", "rural"), ("primary", "urban")]
"""Fitted speeds. Tied: motorway urban = motorway rural; trunk and secondary urban = primary
urban (one urban speed for all non-motorway roads)."""
TIED = {("motorway", "urban"): ("motorway", "rural"), ("trunk", "urban"): ("primary", "urban"),
        ("secondary", "urban"): ("primary", "urban")}
ACCESS_KEYS = ["access_speed_urban_kph", "access_speed_rural_kph", "access_fixed_min"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--half", default="A", choices=["A", "B", "all"],
                        help="calibrate on half A, half B, or all 300 reference LSOAs (then "
                             "the independent check is the other 311 LLR LSOAs: "
                             "siteopt travel-check --holdout)")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--folds", type=int, default=0,
                        help="also run K-fold cross-validation (fold = second byte of "
                             "SHA-256(LSOA code) mod K) and print the pooled out-of-fold errors")
    args = parser.parse_args()

    ref = tcheck.read_reference(
        RAW / "reference" / "LLR_lsoa11_drive_minutes_to_stroke_units_calibration.csv",
        RAW / "llr" / "LLR_lsoa11_pwc_wgs84.csv",
        RAW / "england" / "stroke_hospitals_2022_samuel.csv",
    )
    cal = np.array([args.half == "all" or tcheck.holdout_half(c) == args.half
                    for c in ref.origins.ids])
    speeds = road_speeds.read_speeds(ROADS / "speeds.csv")
    params = road_speeds.read_parameters(ROADS / "parameters.csv")
    arrays = road_graph.load_graph_arrays(ROADS / tr.DEFAULT_GRAPH_NAME)
    access = tr.AccessModel.from_roads_dir(ROADS)
    names = arrays.highway_names
    hw = np.array([names[c] for c in arrays.highway_code])
    strategic = (arrays.node_id[arrays.edge_u] < 0) & (arrays.node_id[arrays.edge_v] < 0)
    urban_m = np.zeros(len(arrays.edge_u))
    for e in np.nonzero(strategic)[0]:
        u, v = arrays.edge_u[e], arrays.edge_v[e]
        urban_m[e] = road_speeds.urban_length_m(arrays.lat[u], arrays.lon[u], arrays.lat[v],
                                          arrays.lon[v], access.urban_areas)[1]
    ratios = strategic_roads.strategic_limit_ratios(ROADS / "strategic_roads.geojson")
    limit = np.ones(len(arrays.edge_u))
    for e in np.nonzero(strategic)[0]:
        u, v = arrays.edge_u[e], arrays.edge_v[e]
        key = ((round(float(arrays.lon[u]), 6), round(float(arrays.lat[u]), 6)),
               (round(float(arrays.lon[v]), 6), round(float(arrays.lat[v]), 6)))
        limit[e] = ratios.get(key, 1.0)
    classes = ["motorway", "trunk", "primary", "secondary"]
    class_mask = {h: strategic & (hw == h) for h in classes}
    urban_key = {"motorway": ("motorway", "rural"), "trunk": ("primary", "urban"),
                 "primary": ("primary", "urban"), "secondary": ("primary", "urban")}
    x0 = np.array([speeds[k] for k in STRATEGIC_KEYS] + [params[k] for k in ACCESS_KEYS])

    def model(x: np.ndarray) -> np.ndarray:
        t = arrays.travel_min.copy()
        sp = {k: max(v, 1.0) for k, v in zip(STRATEGIC_KEYS, x, strict=False)}
        for h in classes:
            m = class_mask[h]
            rural_m = arrays.length_m[m] - urban_m[m]
            t[m] = (rural_m / (sp[(h, "rural")] * limit[m])
                    + urban_m[m] / sp[urban_key[h]]) * 60.0 / 1000.0
        a = replace(arrays, travel_min=t)
        acc = replace(access, access_speed_urban_kph=max(x[-3], 1.0),
                      access_speed_rural_kph=max(x[-2], 1.0), access_fixed_min=max(x[-1], 0.0))
        return tr.matrix_from_arrays(a, ref.origins, ref.destinations, acc).travel_min

    def fit(mask: np.ndarray) -> tuple[np.ndarray, float]:
        def loss(x: np.ndarray) -> float:
            m = model(x)
            return float(np.abs(m[mask] - ref.travel_min[mask]).mean())

        res = minimize(loss, x0, method="Powell",
                       options={"maxiter": 20, "xtol": 0.5, "ftol": 1e-3})
        res = minimize(loss, res.x, method="Nelder-Mead",
                       options={"maxiter": 400, "xatol": 0.2, "fatol": 1e-3})
        return res.x, float(res.fun)

    if args.folds:
        fold = np.array([hashlib.sha256(c.encode()).digest()[1] % args.folds
                         for c in ref.origins.ids])
        oof = np.full(ref.travel_min.shape, np.nan)
        for k in range(args.folds):
            xk, _ = fit(fold != k)
            oof[fold == k] = model(xk)[fold == k]
        km = tcheck.straight_line_km(ref.origins, ref.destinations)
        pooled = np.full(km.shape, np.nan)
        per_dest = np.full(km.shape, np.nan)
        for k in range(args.folds):
            tr_, te = fold != k, fold == k
            a, b = tcheck.fit_line(km[tr_], ref.travel_min[tr_])
            pooled[te] = a + b * km[te]
            for j in range(km.shape[1]):
                aj, bj = tcheck.fit_line(km[tr_, j], ref.travel_min[tr_, j])
                per_dest[te, j] = aj + bj * km[te, j]
        for label, pred in (("baseline pooled", pooled), ("baseline per destination", per_dest)):
            st = tcheck.ErrorStats.of(pred, ref.travel_min)
            print(f"{args.folds}-fold {label}: MAE {st.mae_min:.3f} P90 {st.p90_abs_min:.3f}")
        stats = tcheck.ErrorStats.of(oof, ref.travel_min)
        print(f"{args.folds}-fold out-of-fold: MAE {stats.mae_min:.3f} P90 "
              f"{stats.p90_abs_min:.3f} bias {stats.bias_min:+.2f} (n={stats.n})")

    x, fitted_mae = fit(cal)
    print("fitted MAE on half", args.half, round(fitted_mae, 3))
    for label, v in zip([*map(str, STRATEGIC_KEYS), *ACCESS_KEYS], x, strict=True):
        print(f"  {label}: {v:.1f}")
    m = model(x)
    if args.half != "all":
        r = tcheck.reference_check(ref, m, args.half)
        print("held-out:", r.model)
        for d, s in r.model_by_destination.items():
            print(f"  {d}: MAE {s.mae_min:.2f} P90 {s.p90_abs_min:.2f} bias {s.bias_min:+.2f}")
    if args.write:
        _write(x)


def _write(x: np.ndarray) -> None:
    n = len(STRATEGIC_KEYS)
    fitted = {k: round(float(v), 1) for k, v in zip(STRATEGIC_KEYS, x[:n], strict=True)}
    path = ROADS / "speeds.csv"
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
    for row in rows:
        key = (row["highway"], row["setting"])
        key = TIED.get(key, key)
        if key in fitted:
            row["speed_kph"] = str(fitted[key])
    _write_csv(path, rows)
    path = ROADS / "parameters.csv"
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
    for row in rows:
        if row["name"] in ACCESS_KEYS:
            row["value"] = str(round(float(x[len(STRATEGIC_KEYS) + ACCESS_KEYS.index(row["name"])]),
                                     1))
    _write_csv(path, rows)


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()

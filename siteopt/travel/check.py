"""How good the road graph's drive times are: error against reference times, held-out
halves, straight-line baselines and the independent check on LSOAs not in the reference.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from siteopt.errors import DataError, Problem
from siteopt.travel.graph import haversine_m
from siteopt.travel.matrix import REFERENCE_DESTINATIONS, Points

# --------------------------------------------------------------------------- reference check


@dataclass(frozen=True)
class ErrorStats:
    """Errors of modelled against reference minutes."""

    n: int
    mae_min: float
    p90_abs_min: float
    bias_min: float
    max_abs_min: float

    @classmethod
    def of(cls, model: npt.ArrayLike, reference: npt.ArrayLike) -> ErrorStats:
        """Statistics of ``model - reference`` (finite pairs only)."""
        err = np.asarray(model, float) - np.asarray(reference, float)
        err = err[np.isfinite(err)]
        a = np.abs(err)
        return cls(int(err.size), float(a.mean()), float(np.percentile(a, 90)),
                   float(err.mean()), float(a.max()))


def holdout_half(code: str) -> str:
    """The fixed split rule: ``"A"`` (calibration) or ``"B"`` (held out) for an LSOA code.

    ``A`` when the first byte of SHA-256(code) is even, else ``B``; deterministic and blind to
    the data.
    """
    return "A" if hashlib.sha256(code.encode()).digest()[0] % 2 == 0 else "B"


def straight_line_km(origins: Points, destinations: Points) -> npt.NDArray[np.float64]:
    """(n_origins, n_destinations) great-circle km."""
    return haversine_m(origins.lat[:, None], origins.lon[:, None], destinations.lat[None, :],
                       destinations.lon[None, :]) / 1000.0


@dataclass(frozen=True)
class Reference:
    """Reference drive minutes: LSOA centroids (ids are LSOA 2011 codes) x stroke units."""

    origins: Points
    destinations: Points
    travel_min: npt.NDArray[np.float64]


def read_reference(
    reference_csv: Path,
    lsoa_centroids_csv: Path,
    units_csv: Path,
    destinations: Sequence[str] = tuple(REFERENCE_DESTINATIONS),
) -> Reference:
    """Read the reference matrix (rows: LSOA names, columns: unit postcodes) with coordinates.

    Parameters
    ----------
    reference_csv : Path
        ``LSOA, <postcode>, ...`` drive minutes (LSOA 2011 names, e.g. ``Blaby 002A``).
    lsoa_centroids_csv : Path
        ``X`` (lon), ``Y`` (lat), ``lsoa11cd``, ``lsoa11nm``.
    units_csv : Path
        ``Postcode``, ``lat``, ``long`` of the units.
    destinations : sequence of str
        Unit postcodes to keep.

    Raises
    ------
    DataError
        LSOA names without a centroid, or destinations missing from either file.
    """
    import pandas as pd

    ref = pd.read_csv(reference_csv)
    cent = pd.read_csv(lsoa_centroids_csv)
    units = pd.read_csv(units_csv).set_index("Postcode")
    problems: list[Problem] = []
    by_name = cent.set_index("lsoa11nm")
    unknown = sorted(set(ref["LSOA"]) - set(by_name.index))
    if unknown:
        problems.append(Problem(str(reference_csv), f"{len(unknown)} LSOA names without a "
                                f"centroid, e.g. {unknown[:3]}", field="LSOA"))
    missing = [d for d in destinations if d not in ref.columns or d not in units.index]
    if missing:
        problems.append(Problem(str(reference_csv), f"destinations {missing} missing from the "
                                "reference or the units file"))
    if problems:
        raise DataError(problems)
    rows = by_name.loc[ref["LSOA"]]
    origins = Points(tuple(str(c) for c in rows["lsoa11cd"]), rows["Y"].to_numpy(float),
                     rows["X"].to_numpy(float))
    u = units.loc[list(destinations)]
    dests = Points(tuple(destinations), u["lat"].to_numpy(float), u["long"].to_numpy(float))
    return Reference(origins, dests, ref[list(destinations)].to_numpy(float))


def subset_points(points: Points, mask: npt.NDArray[np.bool_]) -> Points:
    """The points where ``mask`` is true."""
    return Points(tuple(i for i, m in zip(points.ids, mask, strict=True) if m), points.lat[mask],
                  points.lon[mask])


def fit_line(
    km: npt.NDArray[np.float64], minutes: npt.NDArray[np.float64]
) -> tuple[float, float]:
    """Least-squares ``minutes = a + b * km``; returns (a, b)."""
    b, a = np.polyfit(km.ravel(), minutes.ravel(), 1)
    return float(a), float(b)


@dataclass(frozen=True)
class CheckResult:
    """The reference check on one split: model and baselines on the held-out LSOAs."""

    calibration_half: str
    n_calibration: int
    n_holdout: int
    model: ErrorStats
    model_by_destination: dict[str, ErrorStats]
    baseline_pooled: ErrorStats
    baseline_per_destination: ErrorStats


def reference_check(
    reference: Reference, model_min: npt.NDArray[np.float64], calibration_half: str = "A"
) -> CheckResult:
    """Compare modelled minutes with the reference on the held-out half, with the baselines.

    The split is :func:`holdout_half` of the LSOA code. The straight-line baselines are fitted
    on the calibration half only (pooled ``a + b km``, and one line per destination) and scored
    on the held-out half, like the model.

    Parameters
    ----------
    reference : Reference
    model_min : ndarray
        Modelled minutes, same shape and order as ``reference.travel_min``.
    calibration_half : {"A", "B"}
        Which half was used for calibration; the other is scored.
    """
    halves = np.array([holdout_half(c) for c in reference.origins.ids])
    cal = halves == calibration_half
    hold = ~cal
    km = straight_line_km(reference.origins, reference.destinations)
    ref = reference.travel_min
    a, b = fit_line(km[cal], ref[cal])
    pooled = a + b * km
    per_dest = np.empty_like(ref)
    for j in range(ref.shape[1]):
        aj, bj = fit_line(km[cal, j], ref[cal, j])
        per_dest[:, j] = aj + bj * km[:, j]
    by_dest = {d: ErrorStats.of(model_min[hold, j], ref[hold, j])
               for j, d in enumerate(reference.destinations.ids)}
    return CheckResult(calibration_half, int(cal.sum()), int(hold.sum()),
                       ErrorStats.of(model_min[hold], ref[hold]), by_dest,
                       ErrorStats.of(pooled[hold], ref[hold]),
                       ErrorStats.of(per_dest[hold], ref[hold]))


def format_check(reference: Reference, model_min: npt.NDArray[np.float64]) -> list[str]:
    """Lines of the reference-check report: held-out half B (the shipped calibration used half
    A), per destination, the straight-line baselines, then half A (in-sample) for comparison."""

    def fmt(s: ErrorStats) -> str:
        return (f"MAE {s.mae_min:.2f} min, P90 {s.p90_abs_min:.2f}, bias {s.bias_min:+.2f}, "
                f"max {s.max_abs_min:.1f} (n={s.n})")

    lines: list[str] = []
    for cal, label in (("A", "held-out half B"), ("B", "half A (in-sample: calibration half)")):
        r = reference_check(reference, model_min, calibration_half=cal)
        lines.append(f"{label}: {r.n_holdout} LSOAs x {len(reference.destinations.ids)} "
                     f"destinations (split: first byte of sha256(LSOA code) even = A)")
        lines.append(f"  road graph:                        {fmt(r.model)}")
        lines.append(f"  baseline a + b*km (pooled):        {fmt(r.baseline_pooled)}")
        lines.append(f"  baseline a + b*km per destination: {fmt(r.baseline_per_destination)}")
        for d, s in r.model_by_destination.items():
            name = REFERENCE_DESTINATIONS.get(d, d)
            lines.append(f"    {d:8s} {name[:34]:34s} {fmt(s)}")
    return lines


# --------------------------------------------------------------------------- independent check


def read_holdout(
    national_zip: Path,
    reference_csv: Path,
    lsoa_centroids_csv: Path,
    units_csv: Path,
    destinations: Sequence[str] = tuple(REFERENCE_DESTINATIONS),
) -> Reference:
    """The LLR LSOAs that are *not* in the reference file, with their national reference times.

    ``national_zip`` holds one CSV (``LSOA`` name column, one column per unit postcode) with the
    same calibrated times for every English LSOA. Only the rows of LSOAs in
    ``lsoa_centroids_csv`` (the LLR centroids) whose name is not in ``reference_csv``, and only
    the ``destinations`` columns, are parsed (the CSV is streamed: about 0.2 s for 25 MB).

    Raises
    ------
    DataError
        The zip holds no CSV, lacks the ``LSOA`` column or a destination, or lacks an LLR LSOA.
    """
    name = str(national_zip)
    if not national_zip.exists():
        raise DataError([Problem(name, "file not found")])
    llr = _read_centroids(lsoa_centroids_csv)
    with reference_csv.open(newline="", encoding="utf-8-sig") as f:
        in_reference = {row["LSOA"] for row in csv.DictReader(f)}
    wanted = {nm: cd for nm, cd in llr.items() if nm not in in_reference}
    found: dict[str, list[float]] = {}
    with zipfile.ZipFile(national_zip) as z:
        members = [m for m in z.namelist() if m.lower().endswith(".csv")]
        if len(members) != 1:
            raise DataError([Problem(name, f"expected one CSV inside, found {members}")])
        with z.open(members[0]) as raw:
            reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
            header = next(reader, [])
            missing = [c for c in ("LSOA", *destinations) if c not in header]
            if missing:
                raise DataError([Problem(name, f"columns {missing} missing from {members[0]}")])
            cols = [header.index(d) for d in destinations]
            key = header.index("LSOA")
            for row in reader:
                if row[key] in wanted:
                    found[row[key]] = [float(row[c]) for c in cols]
    lacking = sorted(set(wanted) - set(found))
    if lacking:
        raise DataError([Problem(name, f"{len(lacking)} LLR LSOAs missing, e.g. {lacking[:3]}",
                                 field="LSOA")])
    names = sorted(wanted, key=lambda nm: wanted[nm][0])
    origins = Points(tuple(wanted[nm][0] for nm in names),
                     np.array([wanted[nm][1] for nm in names]),
                     np.array([wanted[nm][2] for nm in names]))
    dests = _read_units(units_csv, destinations)
    return Reference(origins, dests, np.array([found[nm] for nm in names], dtype=np.float64))


def _read_centroids(path: Path) -> dict[str, tuple[str, float, float]]:
    """LSOA 2011 name -> (code, lat, lon) from ``X`` (lon), ``Y`` (lat), ``lsoa11cd``,
    ``lsoa11nm``."""
    out: dict[str, tuple[str, float, float]] = {}
    with path.open(newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            out[row["lsoa11nm"]] = (row["lsoa11cd"], float(row["Y"]), float(row["X"]))
    return out


def _read_units(path: Path, destinations: Sequence[str]) -> Points:
    with path.open(newline="", encoding="utf-8-sig") as f:
        units = {row["Postcode"]: row for row in csv.DictReader(f)}
    missing = [d for d in destinations if d not in units]
    if missing:
        raise DataError([Problem(str(path), f"destinations {missing} missing")])
    return Points(tuple(destinations), np.array([float(units[d]["lat"]) for d in destinations]),
                  np.array([float(units[d]["long"]) for d in destinations]))


def independent_check(
    reference: Reference, holdout: Reference, model_min: npt.NDArray[np.float64]
) -> CheckResult:
    """Score the model on ``holdout`` (LSOAs not in the reference file), with the two
    straight-line baselines fitted on *all* of ``reference``.

    Parameters
    ----------
    reference : Reference
        The calibration reference (its LSOAs are never scored here).
    holdout : Reference
        From :func:`read_holdout`; same destinations in the same order.
    model_min : ndarray
        Modelled minutes for ``holdout`` (same shape and order as ``holdout.travel_min``).
    """
    if holdout.destinations.ids != reference.destinations.ids:
        raise ValueError("reference and holdout must have the same destinations")
    overlap = set(reference.origins.ids) & set(holdout.origins.ids)
    if overlap:
        raise ValueError(f"{len(overlap)} holdout LSOAs are in the reference, e.g. "
                         f"{sorted(overlap)[:3]}")
    km_ref = straight_line_km(reference.origins, reference.destinations)
    km = straight_line_km(holdout.origins, holdout.destinations)
    ref = holdout.travel_min
    a, b = fit_line(km_ref, reference.travel_min)
    pooled = a + b * km
    per_dest = np.empty_like(ref)
    for j in range(ref.shape[1]):
        aj, bj = fit_line(km_ref[:, j], reference.travel_min[:, j])
        per_dest[:, j] = aj + bj * km[:, j]
    by_dest = {d: ErrorStats.of(model_min[:, j], ref[:, j])
               for j, d in enumerate(holdout.destinations.ids)}
    return CheckResult("all", len(reference.origins.ids), len(holdout.origins.ids),
                       ErrorStats.of(model_min, ref), by_dest, ErrorStats.of(pooled, ref),
                       ErrorStats.of(per_dest, ref))


def _fmt_stats(s: ErrorStats) -> str:
    return (f"MAE {s.mae_min:.2f} min, P90 {s.p90_abs_min:.2f}, bias {s.bias_min:+.2f}, "
            f"max {s.max_abs_min:.1f} (n={s.n})")


def format_independent_check(r: CheckResult, n_destinations: int) -> list[str]:
    """Lines of the independent-check report (:func:`independent_check`)."""
    lines = [f"independent check: {r.n_holdout} LLR LSOAs not in the reference x "
             f"{n_destinations} destinations (baselines fitted on all {r.n_calibration} "
             "reference LSOAs)",
             f"  road graph:                        {_fmt_stats(r.model)}",
             f"  baseline a + b*km (pooled):        {_fmt_stats(r.baseline_pooled)}",
             f"  baseline a + b*km per destination: {_fmt_stats(r.baseline_per_destination)}"]
    for d, s in r.model_by_destination.items():
        name = REFERENCE_DESTINATIONS.get(d, d)
        lines.append(f"    {d:8s} {name[:34]:34s} {_fmt_stats(s)}")
    return lines

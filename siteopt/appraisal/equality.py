"""Equality and health inequalities impact: who gains and who loses, by group, per option.

Method (a zone-level **ecological estimate**, not individual data)
    Every measure is computed from each zone's 65+ mean drive to the ward of each service they
    use (``Appraisal.zone_travel_min``: services combined by their share of bed need, as the
    model's objective), never from the solver. A group's weight in a zone is an estimate of its
    people aged 65+ there: the zone's people aged 65+ (``zones.csv`` ``pop_65_plus``) times the
    zone's share of the group (``zone_equality.csv``: Census 2021, IoD2025, RUC2011), or the
    zone's people aged 80+ for the 80+ group (:func:`siteopt.data.equality.group_weights`). It
    assumes the group's older people drive as the zone's older people do, and (for the
    Census shares of all ages, and the MSOA car availability) that the share among the 65+ is
    the zone's share: an estimate of where a group lives, not a count of individuals.

    For a group with zone weights ``w_z`` and zone mean drives ``t_z`` (before: business as
    usual, ``status_quo``; after: the option), with ``d_z = t_z(after) - t_z(before)``:

    * people: ``sum w_z``;
    * mean drive before and after: ``sum w_z t_z / sum w_z``; the change is their difference
      (equal to the weighted mean of ``d_z``);
    * share within 30 and 45 minutes: the weight of the zones whose **65+ mean drive** is at
      most that many minutes, over the group's weight (a zone is in or out as a whole, so this
      differs slightly from the appraisal's ``share_within_*`` of every service's drive);
    * people whose drive rises by more than 10 and 20 minutes: ``sum w_z`` over ``d_z > 10``
      (``> 20``).

The disproportion test (:func:`disproportion`)
    A group's ratio is its mean change over the population's (all people aged 65+, group
    ``age_65_plus``). With ``r`` = ``equality.disproportion_ratio`` and ``m`` =
    ``equality.min_population_change_min`` (assumptions.toml):

    * population's change at least ``m``: flagged when the ratio is at least ``r`` (the group's
      drive rises at least ``r`` times as much as everyone's);
    * population's change below ``m`` in absolute value (a ratio to almost nothing means
      nothing): the group's own change is compared instead, flagged when it is a rise of at
      least ``r * m`` minutes (the rise the ratio test would flag at the smallest meaningful
      population change, so the test is continuous at ``|change| = m``);
    * population's change a fall of at least ``m``: a group whose drive rises while everyone's
      falls bears markedly more whatever the ratio says: flagged when its rise is at least
      ``r * m`` minutes.

    Only rises are flagged; a group whose drive falls is never flagged.

The most affected neighbourhoods (:func:`most_affected`)
    The zones with the largest rise (``equality.most_affected_neighbourhoods`` of them, only
    zones whose drive rises; ties in zone order), with their neighbourhood (House of Commons
    Library MSOA name) and ward names, local authority, people aged 65+, IoD2025 decile, share
    of households without a car (an MSOA estimate) and connectivity score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from siteopt.appraisal.naming import join_words
from siteopt.appraisal.summary import Figure, Statement, Writer
from siteopt.data.equality import GROUP_LABELS, group_weights
from siteopt.wards.instance import FloatArray

if TYPE_CHECKING:  # pragma: no cover - typing only
    from siteopt.appraisal.appraise import Appraisal
    from siteopt.runs.pipeline import Prepared

BASELINE = "status_quo"
"""The option every other is compared with (business as usual)."""
POPULATION_GROUP = "age_65_plus"
"""The group standing for everyone (all people aged 65+) in the disproportion test."""
WITHIN_MIN: tuple[float, ...] = (30.0, 45.0)
"""Drive times of the ``share_within_<x>_min`` equality measures (the issue's measures)."""
RISE_OVER_MIN: tuple[float, ...] = (10.0, 20.0)
"""Rises of the ``people_rise_over_<x>_min`` equality measures (the issue's measures)."""
DEFAULTS: dict[str, float] = {
    "equality.disproportion_ratio": 1.5,
    "equality.min_population_change_min": 0.1,
    "equality.most_affected_neighbourhoods": 10,
}
"""Used only when a region's assumptions.toml lacks the key (the embedded LLR file has them;
the values and their sources are those of geodata/assumptions.toml)."""
EQUALITY_TABLE = "equality.csv"
NEIGHBOURHOOD_TABLE = "most_affected.csv"
SAME_DRIVE_MIN = 1e-9
"""Zone mean drives closer than this (minutes) are the same (an option that changes no zone's
drive gets one sentence in the report, not a table of zeros)."""
GROUPS_THAT_BEAR_MOST = 3
"""How many groups the "bears most" statement names."""
ZONE_INFO_COLUMNS = ("zone_id", "neighbourhood_name", "ward_name", "lad_name", "people_65_plus",
                     "iod25_imd_decile", "share_households_no_car", "iod25_connectivity_score")
"""The columns of the zone table :func:`impact_from_arrays` lists the most affected from."""


@dataclass(frozen=True)
class EqualitySettings:
    """The disproportion test's threshold and floor, and the length of the most-affected list."""

    disproportion_ratio: float
    min_population_change_min: float
    most_affected_count: int

    @classmethod
    def from_assumptions(cls, values: Mapping[str, Any]) -> EqualitySettings:
        """Read ``equality.*`` from flattened assumptions (``DEFAULTS`` where missing)."""
        def get(key: str) -> float:
            return float(values.get(key, DEFAULTS[key]))

        return cls(get("equality.disproportion_ratio"),
                   get("equality.min_population_change_min"),
                   int(get("equality.most_affected_neighbourhoods")))


# ---------------------------------------------------------------------------------------------
# Measures on plain arrays
# ---------------------------------------------------------------------------------------------
def group_impact(weight: FloatArray, before_min: FloatArray, after_min: FloatArray
                 ) -> dict[str, float]:
    """One group's measures (see the module docstring).

    Parameters
    ----------
    weight : ndarray, shape (n_zones,)
        The group's people (aged 65+) in each zone.
    before_min, after_min : ndarray, shape (n_zones,)
        Each zone's 65+ mean drive in business as usual and in the option (minutes).

    Returns
    -------
    dict
        ``people``, ``mean_travel_min_before``, ``mean_travel_min_after``,
        ``mean_change_min``, ``share_within_<x>_min_before`` / ``_after`` for
        :data:`WITHIN_MIN` and ``people_rise_over_<x>_min`` for :data:`RISE_OVER_MIN`; means
        and shares are 0 for a group with no people.
    """
    w = np.asarray(weight, dtype=np.float64)
    t0 = np.asarray(before_min, dtype=np.float64)
    t1 = np.asarray(after_min, dtype=np.float64)
    total = float(w.sum())
    delta = t1 - t0

    def mean(x: FloatArray) -> float:
        return float((w * x).sum() / total) if total > 0 else 0.0

    def share(t: FloatArray, limit: float) -> float:
        return float(w[t <= limit].sum() / total) if total > 0 else 0.0

    out = {"people": total, "mean_travel_min_before": mean(t0),
           "mean_travel_min_after": mean(t1)}
    out["mean_change_min"] = out["mean_travel_min_after"] - out["mean_travel_min_before"]
    for lim in WITHIN_MIN:
        out[f"share_within_{lim:g}_min_before"] = share(t0, lim)
        out[f"share_within_{lim:g}_min_after"] = share(t1, lim)
    for rise in RISE_OVER_MIN:
        out[f"people_rise_over_{rise:g}_min"] = float(w[delta > rise].sum())
    return out


def disproportion(group_change_min: float, population_change_min: float,
                  settings: EqualitySettings) -> dict[str, Any]:
    """The disproportion test of one group (rules in the module docstring).

    Parameters
    ----------
    group_change_min, population_change_min : float
        The group's and the population's mean change in drive time (minutes; + is a rise).
    settings : EqualitySettings

    Returns
    -------
    dict
        ``ratio_to_population`` (None when the population's change is below the floor),
        ``basis`` (``ratio``, ``own_change`` or ``rise_while_population_falls``) and
        ``flagged`` (bool).
    """
    r, m = settings.disproportion_ratio, settings.min_population_change_min
    g, p = float(group_change_min), float(population_change_min)
    if abs(p) < m:
        return {"ratio_to_population": None, "basis": "own_change",
                "flagged": g > 0 and g >= r * m}
    ratio = g / p
    if p > 0:
        return {"ratio_to_population": ratio, "basis": "ratio", "flagged": g > 0 and ratio >= r}
    return {"ratio_to_population": ratio, "basis": "rise_while_population_falls",
            "flagged": g > 0 and g >= r * m}


def option_impact(weights: Mapping[str, FloatArray], before_min: FloatArray,
                  after_min: FloatArray, settings: EqualitySettings) -> dict[str, dict[str, Any]]:
    """Every group's measures and disproportion test for one option.

    Parameters
    ----------
    weights : mapping
        Group id -> people aged 65+ of the group per zone; must hold
        :data:`POPULATION_GROUP` (everyone aged 65+).
    before_min, after_min : ndarray
        Each zone's 65+ mean drive in business as usual and in the option (minutes).
    settings : EqualitySettings

    Returns
    -------
    dict
        Group id -> :func:`group_impact` and :func:`disproportion` merged, in ``weights`` order.
    """
    if POPULATION_GROUP not in weights:
        raise KeyError(f"group weights lack the population group '{POPULATION_GROUP}'")
    pop = group_impact(weights[POPULATION_GROUP], before_min, after_min)["mean_change_min"]
    out: dict[str, dict[str, Any]] = {}
    for gid, w in weights.items():
        row: dict[str, Any] = group_impact(w, before_min, after_min)
        row.update(disproportion(row["mean_change_min"], pop, settings))
        out[gid] = row
    return out


def most_affected(delta_min: FloatArray, count: int) -> list[int]:
    """The zones whose drive rises most: at most ``count`` indices, largest rise first, only
    rises, ties in zone order."""
    d = np.asarray(delta_min, dtype=np.float64)
    order = np.argsort(-d, kind="stable")
    return [int(i) for i in order if d[i] > 0][:max(0, count)]


def impact_from_arrays(weights: Mapping[str, FloatArray],
                       zone_travel_min: Mapping[str, FloatArray], settings: EqualitySettings,
                       zone_info: pd.DataFrame | None = None,
                       labels: Mapping[str, str] | None = None,
                       baseline: str = BASELINE) -> dict[str, Any]:
    """Every option's equality impact against ``baseline``, from plain arrays.

    Parameters
    ----------
    weights : mapping
        Group id -> people aged 65+ of the group per zone (zone order of the drive arrays).
    zone_travel_min : mapping
        Option name -> each zone's 65+ mean drive (minutes); must hold ``baseline``.
    settings : EqualitySettings
    zone_info : DataFrame, optional
        One row per zone, same order, with :data:`ZONE_INFO_COLUMNS`: the most affected
        neighbourhoods' details (without it, each is listed by its index only).
    labels : mapping, optional
        Group id -> plain words (defaults to the id).
    baseline : str

    Returns
    -------
    dict
        ``groups`` (ids in order), ``labels``, ``baseline``, ``settings``, ``options``
        (option -> group -> measures, the baseline included) and ``most_affected`` (option
        -> list of zone rows with ``rank``, ``change_min``, ``mean_travel_min_before``,
        ``mean_travel_min_after`` and the zone's details) and ``zones_changed`` (option -> how
        many zones' drive differs from the baseline's by more than :data:`SAME_DRIVE_MIN`).
    """
    before = zone_travel_min[baseline]
    options: dict[str, dict[str, dict[str, Any]]] = {}
    affected: dict[str, list[dict[str, Any]]] = {}
    changed: dict[str, int] = {}
    for name, after in zone_travel_min.items():
        options[name] = option_impact(weights, before, after, settings)
        delta = np.asarray(after, dtype=np.float64) - before
        changed[name] = int((np.abs(delta) > SAME_DRIVE_MIN).sum())
        rows = []
        for rank, i in enumerate(most_affected(delta, settings.most_affected_count), start=1):
            row: dict[str, Any] = {"rank": rank, "zone_index": i}
            if zone_info is not None:
                row.update({c: _plain(zone_info[c].iloc[i]) for c in ZONE_INFO_COLUMNS})
            row.update({"change_min": float(delta[i]),
                        "mean_travel_min_before": float(before[i]),
                        "mean_travel_min_after": float(after[i])})
            rows.append(row)
        affected[name] = rows
    return {"groups": list(weights), "labels": {g: (labels or {}).get(g, g) for g in weights},
            "baseline": baseline, "settings": settings, "options": options,
            "most_affected": affected, "zones_changed": changed}


def _plain(x: Any) -> Any:
    """numpy scalars as Python ones."""
    return x.item() if isinstance(x, np.generic) else x


# ---------------------------------------------------------------------------------------------
# From a prepared run
# ---------------------------------------------------------------------------------------------
def zone_table(prepared: Prepared) -> pd.DataFrame | None:
    """The zone details of :data:`ZONE_INFO_COLUMNS` (zones.csv order), or None when the region
    has no ``zone_equality.csv``."""
    data = prepared.data
    eq = data.zone_equality
    if eq is None:
        return None
    zones = data.zones
    eq = eq.set_index("zone_id").loc[list(zones["zone_id"])].reset_index()
    return pd.DataFrame({
        "zone_id": zones["zone_id"].astype(str).to_numpy(),
        "neighbourhood_name": eq["neighbourhood_name"].astype(str).to_numpy(),
        "ward_name": eq["ward_name"].astype(str).to_numpy(),
        "lad_name": zones["lad_name"].astype(str).to_numpy(),
        "people_65_plus": zones["pop_65_plus"].to_numpy(dtype=np.float64),
        "iod25_imd_decile": eq["iod25_imd_decile"].to_numpy(dtype=np.int64),
        "share_households_no_car": eq["share_households_no_car"].to_numpy(dtype=np.float64),
        "iod25_connectivity_score": eq["iod25_connectivity_score"].to_numpy(dtype=np.float64),
    })


def impact(prepared: Prepared, zone_travel_min: Mapping[str, FloatArray],
           baseline: str = BASELINE) -> dict[str, Any] | None:
    """Every option's equality impact against business as usual (see the module docstring).

    Parameters
    ----------
    prepared : Prepared
        Its geodata gives the group weights (:func:`siteopt.data.equality.group_weights`), the
        zone details and the ``equality.*`` assumptions.
    zone_travel_min : mapping
        Option name -> each zone's 65+ mean drive (``Appraisal.zone_travel_min``).
    baseline : str

    Returns
    -------
    dict or None
        :func:`impact_from_arrays`; None when the region has no ``zone_equality.csv`` (the
        equality figures are then skipped).
    """
    info = zone_table(prepared)
    if info is None:
        return None
    settings = EqualitySettings.from_assumptions(prepared.data.assumptions.values)
    return impact_from_arrays(group_weights(prepared.data), zone_travel_min, settings, info,
                              GROUP_LABELS, baseline)


def appraisal_impact(a: Appraisal) -> dict[str, Any] | None:
    """:func:`impact` of an appraisal's options (None without ``zone_equality.csv``)."""
    return impact(a.prepared, a.zone_travel_min)


# ---------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------
def key(option: str, group: str) -> dict[str, str]:
    """The equality.csv key of an option's group."""
    return {"option": option, "group": group}


def flag_statements(result: Mapping[str, Any], option: str) -> list[Statement]:
    """The disproportion flags of one option in words, every number a recorded figure.

    ``result`` is :func:`impact_from_arrays`'s; one statement per flagged group (in group
    order), or one saying no group is flagged.
    """
    rows = result["options"][option]
    s: EqualitySettings = result["settings"]
    pop = rows[POPULATION_GROUP]
    out = []
    for gid in result["groups"]:
        row = rows[gid]
        if gid == POPULATION_GROUP or not row["flagged"]:
            continue
        w = Writer(f"equality_flag_{option}_{gid}")
        label = result["labels"][gid]
        g = w.num(row["mean_change_min"], "min", EQUALITY_TABLE, key(option, gid),
                  "mean_change_min")
        if row["basis"] == "ratio":
            ratio = w.num(row["ratio_to_population"], "min", EQUALITY_TABLE, key(option, gid),
                          "ratio_to_population")
            p = w.num(pop["mean_change_min"], "min", EQUALITY_TABLE,
                      key(option, POPULATION_GROUP), "mean_change_min")
            text = (f"{label}: their drive would rise {ratio} times as much as everyone's "
                    f"(+{g} minutes on average, against +{p} for everyone aged 65+).")
        else:
            pc = float(pop["mean_change_min"])
            if row["basis"] == "own_change":
                p = f"{pc:+.2f}"
                w.figures.append(Figure(pc, p, EQUALITY_TABLE, key(option, POPULATION_GROUP),
                                        "mean_change_min"))
                m = f"{s.min_population_change_min:g}"
                w.figures.append(Figure(s.min_population_change_min, m, "assumptions", {},
                                        "equality.min_population_change_min"))
                how = (f"while everyone's changes by {p} minutes (less than {m} either way, too "
                       "little for a ratio to mean anything)")
            else:
                p = w.num(abs(pc), "min", EQUALITY_TABLE, key(option, POPULATION_GROUP),
                          "mean_change_min", scale=-1.0)
                how = f"while everyone's falls by {p} minutes"
            text = f"{label}: their drive would rise by {g} minutes on average, {how}."
        out.append(w.done(text))
    if not out:
        w = Writer(f"equality_flag_{option}_none")
        r = w.num(s.disproportion_ratio, "min", "assumptions", {}, "equality.disproportion_ratio")
        out.append(w.done(f"No group's drive would rise markedly more than everyone's (the "
                          f"test flags a rise at least {r} times the population's)."))
    return out


def bears_most(result: Mapping[str, Any], option: str,
               count: int = GROUPS_THAT_BEAR_MOST) -> Statement:
    """The ``count`` groups whose mean drive rises most under ``option``, and everyone's."""
    rows = result["options"][option]
    ranked = sorted((g for g in result["groups"] if g != POPULATION_GROUP
                     and rows[g]["people"] > 0 and rows[g]["mean_change_min"] > 0),
                    key=lambda g: -rows[g]["mean_change_min"])[:count]
    w = Writer(f"equality_bears_most_{option}")
    pop = rows[POPULATION_GROUP]["mean_change_min"]
    p = w.num(abs(pop), "min", EQUALITY_TABLE, key(option, POPULATION_GROUP), "mean_change_min",
              scale=1.0 if pop >= 0 else -1.0)
    everyone = f"everyone aged 65+: {'+' if pop >= 0 else '-'}{p} minutes"
    if not ranked:
        return w.done(f"No group's mean drive rises ({everyone}).")
    parts = [f"{result['labels'][g]} +"
             + w.num(rows[g]["mean_change_min"], "min", EQUALITY_TABLE, key(option, g),
                     "mean_change_min") + " minutes" for g in ranked]
    return w.done(f"The groups whose mean drive rises most: {join_words(parts)} ({everyone}).")


def option_statements(result: Mapping[str, Any], option: str) -> list[Statement]:
    """The bears-most statement, then the disproportion flags, of one option."""
    return [bears_most(result, option), *flag_statements(result, option)]


def top_groups(result: Mapping[str, Any], option: str,
               count: int = GROUPS_THAT_BEAR_MOST) -> list[tuple[str, float]]:
    """The ``count`` groups (ids) with the largest mean change under ``option``, largest first
    (the population group left out)."""
    rows = result["options"][option]
    ranked = sorted((g for g in result["groups"] if g != POPULATION_GROUP
                     and rows[g]["people"] > 0), key=lambda g: -rows[g]["mean_change_min"])
    return [(g, float(rows[g]["mean_change_min"])) for g in ranked[:count]]


def short_listed(a: Appraisal) -> Sequence[str]:
    """The options the report's equality section covers (the main table's)."""
    return list(a.decision.get("main_table", [a.preferred]))


def section_statements(a: Appraisal, result: Mapping[str, Any] | None = None
                       ) -> list[Statement]:
    """Every sentence of the report's equality section, in reading order: for each
    short-listed option but business as usual that changes some zone's drive,
    :func:`option_statements` (empty without ``zone_equality.csv``)."""
    res = appraisal_impact(a) if result is None else result
    if res is None:
        return []
    return [st for name in short_listed(a) if name != res["baseline"]
            and res["zones_changed"][name] for st in option_statements(res, name)]

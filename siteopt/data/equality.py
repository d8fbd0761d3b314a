"""The population groups of the equality and health inequalities impact assessment.

Every measure of the assessment (mean drive by group, its change against business as usual,
the disproportion test, the model's optional equity limit) weights the zones by a group's
people. :func:`group_weights` gives those weights, one array per group in zones.csv order.

Method (an ecological, zone-level estimate)
-------------------------------------------
A group's weight in a zone is the zone's people aged 65 and over (``zones.csv`` ``pop_65_plus``,
the people whose drive the model measures) times the zone's share of the group, from
``zone_equality.csv``:

- ``imd_q1`` ... ``imd_q5``: all the zone's 65+ if its national IoD2025 quintile is q, else 0;
- ``urban``, ``rural``: all the zone's 65+ by the zone's Rural-Urban Classification 2011 class;
- ``ethnic_*``, ``disabled``, ``bad_health``: 65+ x the share of *all* the zone's residents in
  the group (Census 2021, LSOA for ethnicity and disability, MSOA for health);
- ``no_car``: 65+ x the share of the zone's MSOA's households with no car or van (an estimate of
  older people living in households without a car);
- ``age_65_plus``: the 65+ themselves (share 1); ``age_80_plus``: ``pop_80_plus``.

It assumes that the zone's older people are like its residents as a whole: it is not individual
data, and within-zone differences (older people are more often white, disabled and without a car
than the zone's residents overall) are not captured. A zone contributes to several groups, and
the groups of one family (deprivation, rurality, ethnicity) each add up to the 65+.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from siteopt.data.load import GeoData
from siteopt.data.validate import ETHNIC_GROUPS, ZONE_EQUALITY
from siteopt.errors import DataError, Problem

FloatArray = npt.NDArray[np.float64]

GROUP_LABELS: dict[str, str] = {
    "imd_q1": "Most deprived fifth of England (IMD quintile 1)",
    "imd_q2": "IMD quintile 2",
    "imd_q3": "IMD quintile 3",
    "imd_q4": "IMD quintile 4",
    "imd_q5": "Least deprived fifth of England (IMD quintile 5)",
    "urban": "Urban areas",
    "rural": "Rural areas (towns, villages and dispersed)",
    "ethnic_asian": "Asian, Asian British or Asian Welsh people",
    "ethnic_black": "Black, Black British, Black Welsh, Caribbean or African people",
    "ethnic_mixed": "People of mixed or multiple ethnic groups",
    "ethnic_white": "White people",
    "ethnic_other": "People of other ethnic groups",
    "disabled": "Disabled people (Equality Act)",
    "no_car": "Households without a car (estimate)",
    "bad_health": "People in bad or very bad health",
    "age_65_plus": "Everyone aged 65 and over",
    "age_80_plus": "People aged 80 and over",
}
"""Group id -> its name in plain words, in the order of :func:`group_order`."""

GROUP_FAMILIES: dict[str, str] = {
    **{f"imd_q{q}": "deprivation" for q in range(1, 6)},
    "urban": "rurality", "rural": "rurality",
    **{f"ethnic_{g}": "ethnicity" for g in ETHNIC_GROUPS},
    "disabled": "disability", "no_car": "car availability", "bad_health": "health",
    "age_65_plus": "age", "age_80_plus": "age",
}
"""Group id -> the characteristic it belongs to (the groups of a family partition the 65+ for
deprivation, rurality and ethnicity)."""

SHARE_OF_GROUP: dict[str, str] = {
    **{f"ethnic_{g}": f"share_ethnic_{g}" for g in ETHNIC_GROUPS},
    "disabled": "share_disabled",
    "no_car": "share_households_no_car",
    "bad_health": "share_bad_health",
}
"""Groups weighted by a share column of ``zone_equality.csv``."""


def group_order() -> tuple[str, ...]:
    """The group ids in the order tables list them (deprivation, rurality, ethnicity,
    disability, car availability, health, age)."""
    return tuple(GROUP_LABELS)


def group_weights(data: GeoData) -> dict[str, FloatArray]:
    """People aged 65+ of each group in each zone (an ecological estimate; see the module).

    Parameters
    ----------
    data : GeoData
        A loaded geodata folder with its ``zone_equality.csv``.

    Returns
    -------
    dict of str to ndarray
        Group id (:func:`group_order`) -> float weights, shape (n_zones,), in zones.csv order.

    Raises
    ------
    DataError
        If the folder has no ``zone_equality.csv`` (``data.zone_equality`` is None); callers
        that can do without equality figures test that first.
    """
    if data.zone_equality is None:
        raise DataError([Problem(ZONE_EQUALITY.filename, "absent, so there are no equality "
                                                         "groups; add the file (`siteopt geodata "
                                                         "build` derives it for LLR)")])
    zones = data.zones
    eq = data.zone_equality.set_index("zone_id").loc[list(zones["zone_id"])]
    p65 = zones["pop_65_plus"].to_numpy(dtype=np.float64)
    quintile = eq["iod25_imd_quintile"].to_numpy(dtype=np.int64)
    rural = _flags(eq["rural"])
    weights: dict[str, FloatArray] = {}
    for q in range(1, 6):
        weights[f"imd_q{q}"] = np.where(quintile == q, p65, 0.0)
    weights["urban"] = np.where(rural, 0.0, p65)
    weights["rural"] = np.where(rural, p65, 0.0)
    for group, column in SHARE_OF_GROUP.items():
        weights[group] = p65 * eq[column].to_numpy(dtype=np.float64)
    weights["age_65_plus"] = p65.copy()
    weights["age_80_plus"] = zones["pop_80_plus"].to_numpy(dtype=np.float64)
    return {g: weights[g] for g in group_order()}


def _flags(column: pd.Series) -> npt.NDArray[np.bool_]:
    return np.array([bool(x) for x in column], dtype=bool)

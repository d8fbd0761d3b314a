"""Non-financial benefits scoring, as NHS options appraisals do it.

Four criteria, each the mean of the 0-10 scores of its measures:

==================  ==========================================================================
access              the 65+ mean drive to their ward (minutes); the share of people aged 65+
                    within 30 minutes
equity              the worst local authority's 65+ mean drive; the worst deprivation
                    quintile's 65+ mean drive
resilience          isolated wards (the only ward on their site) below the minimum ward size;
                    the worst ward's Erlang refusal probability above the target
deliverability      capital at risk (gross capex); disposal receipts the option relies on;
                    the number of capital schemes it needs
==================  ==========================================================================

**Scoring formula.** A measure with value :math:`x` and scale :math:`(x_0, x_{10})` from
``appraisal.benefit_scales`` in ``assumptions.toml`` scores

.. math:: s(x) = \\min\\bigl(10, \\max\\bigl(0, 10\\,(x - x_0) / (x_{10} - x_0)\\bigr)\\bigr),

so 0 at :math:`x_0` and 10 at :math:`x_{10}` (either may be the larger: for drive times the
shorter is better). A criterion scores the mean of its measures' scores; the **weighted benefit
score** is :math:`B = \\sum_c w_c\\, s_c` with the weights ``appraisal.benefit_weights`` (they
sum to 1, so :math:`B` is on the same 0-10 scale). The scales are absolute, not relative to the
options compared, so adding an option to the long list never changes another's score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from siteopt.errors import DataError, Problem

CRITERIA: dict[str, tuple[str, ...]] = {
    "access": ("mean_travel_min", "share_within_30_min"),
    "equity": ("worst_lad_mean_travel_min", "worst_deprivation_quintile_mean_travel_min"),
    "resilience": ("small_isolated_wards", "worst_refusal_above_target"),
    "deliverability": ("capex_gbp", "receipts_relied_on_gbp", "capital_schemes"),
}
"""Criterion -> the measures it averages (keys of ``appraisal.benefit_scales``)."""

CRITERION_LABELS = {
    "access": "Access",
    "equity": "Equity",
    "resilience": "Workforce resilience",
    "deliverability": "Deliverability",
}
MEASURE_LABELS = {
    "mean_travel_min": "65+ mean drive to their ward (min)",
    "share_within_30_min": "share of people aged 65+ within 30 minutes",
    "worst_lad_mean_travel_min": "worst local authority's 65+ mean drive (min)",
    "worst_deprivation_quintile_mean_travel_min": "worst deprivation quintile's 65+ mean drive "
                                                  "(min)",
    "small_isolated_wards": "isolated wards below the standard size",
    "worst_refusal_above_target": "worst ward's refusal probability above the target",
    "capex_gbp": "capital at risk (gross capex, £)",
    "receipts_relied_on_gbp": "disposal receipts relied on (£)",
    "capital_schemes": "capital schemes needed",
}


def check_benefit_settings(weights: Mapping[str, Any], scales: Mapping[str, Any]) -> list[Problem]:
    """Problems with ``appraisal.benefit_weights`` and ``appraisal.benefit_scales``."""
    p: list[Problem] = []
    src = "assumptions.toml"
    if set(weights) != set(CRITERIA):
        p.append(Problem(src, f"benefit_weights must give exactly the criteria "
                              f"{', '.join(CRITERIA)}", field="appraisal.benefit_weights"))
    elif any(not isinstance(w, int | float) or isinstance(w, bool) or w < 0
             for w in weights.values()):
        p.append(Problem(src, "benefit weights must be numbers >= 0",
                         field="appraisal.benefit_weights"))
    elif abs(sum(float(w) for w in weights.values()) - 1.0) > 1e-6:
        total = sum(float(w) for w in weights.values())
        p.append(Problem(src, f"benefit weights add up to {total:g}; they must add up to 1",
                         field="appraisal.benefit_weights"))
    wanted = {m for ms in CRITERIA.values() for m in ms}
    for key in sorted(wanted - set(scales)):
        p.append(Problem(src, f"benefit_scales has no scale for '{key}'; add {key} = "
                              "[value scoring 0, value scoring 10]",
                         field="appraisal.benefit_scales"))
    for key in sorted(set(scales) - wanted):
        p.append(Problem(src, f"benefit_scales has an unknown measure '{key}'; known: "
                              f"{', '.join(sorted(wanted))}", field="appraisal.benefit_scales"))
    for key in sorted(wanted & set(scales)):
        pair = scales[key]
        if (not isinstance(pair, list | tuple) or len(pair) != 2
                or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in pair)
                or pair[0] == pair[1]):
            p.append(Problem(src, f"the scale of '{key}' must be two different numbers "
                                  "[value scoring 0, value scoring 10]",
                             field="appraisal.benefit_scales"))
    return p


def measure_score(value: float, scale: tuple[float, float] | list[float]) -> float:
    """0-10 score of one measure: 0 at ``scale[0]``, 10 at ``scale[1]``, linear and clipped.

    Examples
    --------
    >>> measure_score(20.0, (25.0, 15.0))
    5.0
    >>> measure_score(12.0, (25.0, 15.0))
    10.0
    """
    x0, x10 = float(scale[0]), float(scale[1])
    return min(10.0, max(0.0, 10.0 * (value - x0) / (x10 - x0)))


def criterion_scores(values: Mapping[str, float], scales: Mapping[str, Any]
                     ) -> dict[str, float]:
    """Each criterion's score: the mean of its measures' scores."""
    return {c: sum(measure_score(values[m], scales[m]) for m in ms) / len(ms)
            for c, ms in CRITERIA.items()}


def weighted_score(scores: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """The weighted benefit score ``sum_c w_c s_c`` (0-10)."""
    return float(sum(float(weights[c]) * scores[c] for c in CRITERIA))


def benefit_measures(m: Mapping[str, Any], *, isolated_ward_min_beds: int,
                     target_refusal: float, capital_schemes: int) -> dict[str, float]:
    """The raw value of every benefit measure of one option.

    Parameters
    ----------
    m : mapping
        The option's measures (:func:`siteopt.appraisal.measures.option_measures`).
    isolated_ward_min_beds : int
        The standard ward size below which an isolated ward counts against resilience.
    target_refusal : float
        The Erlang refusal target (``capacity.target_refusal_probability``).
    capital_schemes : int
        The number of capital schemes the option needs.
    """
    acc = m["access"]
    lad = [g["mean_travel_min"] for g in m["access_by_lad"].values() if g["people_65_plus"] > 0]
    imd = [g["mean_travel_min"] for g in m["access_by_imd_quintile"].values()
           if g["people_65_plus"] > 0]
    return {
        "mean_travel_min": float(acc["mean_travel_min"]),
        "share_within_30_min": float(acc["share_within_30_min"]),
        "worst_lad_mean_travel_min": max(lad, default=0.0),
        "worst_deprivation_quintile_mean_travel_min": max(imd, default=0.0),
        "small_isolated_wards": float(len(small_isolated_wards(m, isolated_ward_min_beds))),
        "worst_refusal_above_target": max(0.0, worst_refusal(m) - target_refusal),
        "capex_gbp": float(m["capex_gbp"]),
        "receipts_relied_on_gbp": float(m["disposals_gbp"]),
        "capital_schemes": float(capital_schemes),
    }


def small_isolated_wards(m: Mapping[str, Any], min_beds: int) -> list[tuple[str, int]]:
    """(site name, beds) of each isolated ward (the only ward on its site) below ``min_beds``."""
    out = []
    for s in m["sites"].values():
        beds = int(sum(s["beds"].values()))
        if s["ward_pairing"] == "isolated" and beds < min_beds:
            out.append((str(s["name"]), beds))
    return out


def worst_refusal(m: Mapping[str, Any]) -> float:
    """The highest Erlang refusal probability over the option's wards (0 with no wards)."""
    vals = [v["refusal_probability"] for per in m["erlang_refusal"].values()
            for v in per.values()]
    return float(max(vals)) if vals else 0.0


def raise_on_bad_settings(weights: Mapping[str, Any], scales: Mapping[str, Any]) -> None:
    """Raise :class:`DataError` listing every problem with the benefit settings."""
    problems = check_benefit_settings(weights, scales)
    if problems:
        raise DataError(problems)

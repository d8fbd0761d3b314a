"""The appraisal's settings (``[green_book]`` and ``[appraisal]`` of
``assumptions.toml``) and the constants the appraisal's modules share: the drive times of the
access measures and the equity hurdle, the tolerance below which two mean drives are one
frontier point, and the option names reserved for built-in options.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from siteopt.appraisal.benefits import check_benefit_settings
from siteopt.errors import DataError, Problem
from siteopt.solver_core import GBP_PER_M as GBP_PER_M

WITHIN_MIN: tuple[float, ...] = (20.0, 30.0, 45.0)
"""Drive times of the ``share_within_<x>_min`` measures."""
EQUITY_WITHIN_MIN = 45.0
T_TOL_MIN = 1e-6
"""Mean drive times closer than this (minutes) are the same point."""
RESERVED_NAMES = ("optimal", "do_minimum")
MAIN_TABLE_MAX_OPTIONS = 8
"""At most this many options in the report's main table (a panel reads about eight)."""
REFUSAL_HURDLE_MODES = ("erlang", "always", "never")
VALUE_FOR_MONEY_RULES = ("cost_per_benefit_point", "highest_npv")
PREFERRED = "preferred"
"""The name in ``appraisal.phase_options`` that stands for the preferred option."""


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AppraisalSettings:
    """Parameters of the appraisal, from ``assumptions.toml`` (``[green_book]``, ``[appraisal]``).

    Attributes
    ----------
    discount_rate_years_0_30, discount_rate_years_31_plus : float
        Green Book discount rates (3.5%, then 3.0%).
    appraisal_years : int
        Appraisal period (60 for buildings).
    optimism_bias_capex : float
        Uplift on capital costs (0.24 = 24%).
    residual_value_method : {"straight_line", "none"}
        Residual value of capital at the end of the period.
    asset_life_years : int
        Life of a new or refurbished ward for the residual value.
    next_best : int
        How many next-best distinct options to generate.
    equity_min_share_within_45_min : float
        The equity hurdle.
    rn_wte_headroom_vs_status_quo : float
        Staffing hurdle when the scenario sets no RN limit: RN WTE at most this times today's.
    enumerate_max_configurations : int
        Enumerate every configuration only if the space is at most this big.
    pareto_cost_step_gbp_per_year : float
        Resolution of the Pareto frontier in cost.
    default_provider : str
        Provider of beds in spaces ``wards.csv`` does not name.
    isolated_ward_min_beds : int
        Resilience hurdle: an isolated ward (the only one on its site) below this size fails
        (0: off).
    refusal_hurdle : {"erlang", "always", "never"}
        When the worst-ward Erlang refusal above ``capacity.target_refusal_probability`` is a
        hurdle: only when bed need is sized by the Erlang model, always, or never.
    value_for_money_rule : {"cost_per_benefit_point", "highest_npv"}
        How the preferred option is picked among the eligible short list.
    benefit_weights : dict
        Criterion -> weight (sum 1); see :mod:`siteopt.appraisal.benefits`.
    benefit_scales : dict
        Measure -> [value scoring 0, value scoring 10].
    weight_samples, weight_seed : int
        Random weight vectors for the robustness of the ranking, and their seed.
    phase_options : list of str
        Options the appraisal phases year by year after the decision (issue 19): names of the
        long list, ``preferred`` for the preferred option (``[]``: none).
    """

    discount_rate_years_0_30: float = 0.035
    discount_rate_years_31_plus: float = 0.030
    appraisal_years: int = 60
    optimism_bias_capex: float = 0.24
    residual_value_method: str = "straight_line"
    asset_life_years: int = 60
    next_best: int = 5
    equity_min_share_within_45_min: float = 0.9
    rn_wte_headroom_vs_status_quo: float = 1.0
    enumerate_max_configurations: int = 2_000_000
    pareto_cost_step_gbp_per_year: float = 100.0
    default_provider: str = "LPT"
    isolated_ward_min_beds: int = 21
    refusal_hurdle: str = "erlang"
    value_for_money_rule: str = "cost_per_benefit_point"
    benefit_weights: dict[str, float] = field(default_factory=lambda: {
        "access": 0.30, "equity": 0.25, "resilience": 0.25, "deliverability": 0.20})
    benefit_scales: dict[str, list[float]] = field(default_factory=dict)
    weight_samples: int = 1000
    weight_seed: int = 2016
    phase_options: list[str] = field(default_factory=lambda: [PREFERRED, "stp_2016"])

    KEYS: ClassVar[dict[str, str]] = {
        "discount_rate_years_0_30": "green_book.discount_rate_years_0_30",
        "discount_rate_years_31_plus": "green_book.discount_rate_years_31_75",
        "appraisal_years": "green_book.appraisal_years",
        "optimism_bias_capex": "green_book.optimism_bias_capex",
        "residual_value_method": "green_book.residual_value_method",
        "asset_life_years": "costs.capital_asset_life_years",
        "next_best": "appraisal.next_best_options",
        "equity_min_share_within_45_min": "appraisal.equity_min_share_within_45_min",
        "rn_wte_headroom_vs_status_quo": "appraisal.rn_wte_headroom_vs_status_quo",
        "enumerate_max_configurations": "appraisal.enumerate_max_configurations",
        "pareto_cost_step_gbp_per_year": "appraisal.pareto_cost_step_gbp_per_year",
        "default_provider": "appraisal.default_provider",
        "isolated_ward_min_beds": "appraisal.isolated_ward_min_beds",
        "refusal_hurdle": "appraisal.refusal_hurdle",
        "value_for_money_rule": "appraisal.value_for_money_rule",
        "benefit_weights": "appraisal.benefit_weights",
        "benefit_scales": "appraisal.benefit_scales",
        "weight_samples": "appraisal.weight_samples",
        "weight_seed": "appraisal.weight_seed",
        "phase_options": "appraisal.phase_options",
    }

    @classmethod
    def from_assumptions(
        cls, values: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
    ) -> AppraisalSettings:
        """Read the settings from flattened assumptions, then apply ``key -> value`` overrides.

        Override keys are the assumption keys (``green_book.optimism_bias_capex``) or the field
        names. Unknown keys and wrong values raise :class:`DataError`.
        """
        kwargs: dict[str, Any] = {}
        for fld, key in cls.KEYS.items():
            if key in values:
                kwargs[fld] = values[key]
        problems: list[Problem] = []
        by_key = {v: k for k, v in cls.KEYS.items()}
        for key, val in (overrides or {}).items():
            head, _, criterion = key.rpartition(".")
            if head in ("appraisal.benefit_weights", "benefit_weights") and criterion:
                # one weight at a time: --set appraisal.benefit_weights.access=0.4
                weights = dict(kwargs.get("benefit_weights", cls().benefit_weights))
                weights[criterion] = val
                kwargs["benefit_weights"] = weights
                continue
            fld = by_key.get(key, key)
            if fld not in cls.KEYS:
                problems.append(Problem("--set", f"unknown appraisal key '{key}'; known: "
                                        f"{', '.join(sorted(cls.KEYS.values()))}", field=key))
                continue
            kwargs[fld] = val
        if problems:
            raise DataError(problems)
        out = cls(**kwargs)
        out.check()
        return out

    def check(self) -> None:
        """Raise :class:`DataError` listing every out-of-range value."""
        p: list[Problem] = []
        for name in ("discount_rate_years_0_30", "discount_rate_years_31_plus"):
            val = getattr(self, name)
            if not isinstance(val, int | float) or not 0 <= val <= 0.2:
                p.append(Problem("appraisal", f"{name} must be between 0 and 0.2", field=name))
        for name, lo, hi in (("appraisal_years", 1, 100), ("asset_life_years", 1, 200),
                             ("next_best", 0, 50),
                             ("enumerate_max_configurations", 0, 50_000_000)):
            val = getattr(self, name)
            if not isinstance(val, int) or isinstance(val, bool) or not lo <= val <= hi:
                p.append(Problem("appraisal", f"{name} must be an integer {lo}-{hi}", field=name))
        ranges: tuple[tuple[str, float, float], ...] = (("optimism_bias_capex", 0.0, 2.0),
            ("equity_min_share_within_45_min", 0.0, 1.0),
            ("rn_wte_headroom_vs_status_quo", 0.0, 10.0),
            ("pareto_cost_step_gbp_per_year", 1e-3, 1e7))
        for name, flo, fhi in ranges:
            val = getattr(self, name)
            if not isinstance(val, int | float) or not flo <= val <= fhi:
                p.append(Problem("appraisal", f"{name} must be between {flo:g} and {fhi:g}",
                                 field=name))
        for name, lo, hi in (("isolated_ward_min_beds", 0, 60), ("weight_samples", 10, 100_000),
                             ("weight_seed", 0, 2**31 - 1)):
            val = getattr(self, name)
            if not isinstance(val, int) or isinstance(val, bool) or not lo <= val <= hi:
                p.append(Problem("appraisal", f"{name} must be an integer {lo}-{hi}", field=name))
        if self.refusal_hurdle not in REFUSAL_HURDLE_MODES:
            p.append(Problem("appraisal", f"refusal_hurdle must be one of "
                                          f"{', '.join(REFUSAL_HURDLE_MODES)}",
                             field="refusal_hurdle"))
        if self.value_for_money_rule not in VALUE_FOR_MONEY_RULES:
            p.append(Problem("appraisal", f"value_for_money_rule must be one of "
                                          f"{', '.join(VALUE_FOR_MONEY_RULES)}",
                             field="value_for_money_rule"))
        if self.benefit_scales:
            p += check_benefit_settings(self.benefit_weights, self.benefit_scales)
        if not isinstance(self.phase_options, list) or not all(
                isinstance(x, str) and x for x in self.phase_options):
            p.append(Problem("appraisal", "phase_options must be a list of option names, e.g. "
                                          '["preferred", "stp_2016"], or [] for none',
                             field="phase_options"))
        if self.residual_value_method not in ("straight_line", "none"):
            p.append(Problem("appraisal", "residual_value_method must be straight_line or none",
                             field="residual_value_method"))
        if p:
            raise DataError(p)

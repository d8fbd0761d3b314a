"""The HM Treasury Green Book economic case: discount factors, net present
cost and value against the status quo, and switching values.

:func:`discount_factors` steps the rate down after year 30; :func:`economic_case` puts capital
at year 0 with the optimism bias uplift, disposal receipts at year 0, revenue in years 1..N and
the residual value at year N into a net present cost; :func:`switching_values` finds the value
of each key assumption at which an option's NPV against the status quo is zero.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from siteopt.appraisal.settings import AppraisalSettings
from siteopt.wards.instance import FloatArray


# ---------------------------------------------------------------------------------------------
# Green Book
# ---------------------------------------------------------------------------------------------
def discount_factors(years: int, rate_0_30: float, rate_31_plus: float) -> FloatArray:
    """Green Book discount factors for years ``0..years``.

    ``DF(0) = 1`` and ``DF(t) = DF(t-1) / (1 + r_t)`` with ``r_t = rate_0_30`` for
    ``t <= 30`` and ``rate_31_plus`` after (the step-down of Green Book Annex A6).

    Examples
    --------
    >>> f = discount_factors(31, 0.035, 0.03)
    >>> round(float(f[30]), 6) == round(1.035 ** -30, 6)
    True
    >>> round(float(f[31]), 6) == round(1.035 ** -30 / 1.03, 6)
    True
    """
    rates = np.where(np.arange(1, years + 1) <= 30, rate_0_30, rate_31_plus)
    return np.asarray(np.concatenate([[1.0], np.cumprod(1.0 / (1.0 + rates))]), dtype=np.float64)


def economic_case(
    capex_gbp: float,
    disposals_gbp: float,
    revenue_gbp_per_year: float,
    settings: AppraisalSettings,
) -> dict[str, float]:
    """Net present cost of one option (2016/17 prices, present value at year 0).

    ``NPC = capex x (1 + optimism bias) - disposals + sum_{t=1..N} DF(t) x revenue
    - DF(N) x residual``, residual (straight line) ``= capex x max(0, 1 - N / asset life)``.
    """
    gb = settings
    df = discount_factors(gb.appraisal_years, gb.discount_rate_years_0_30,
                          gb.discount_rate_years_31_plus)
    capex_ob = capex_gbp * (1.0 + gb.optimism_bias_capex)
    pv_revenue = revenue_gbp_per_year * float(df[1:].sum())
    residual = 0.0
    if gb.residual_value_method == "straight_line":
        residual = capex_gbp * max(0.0, 1.0 - gb.appraisal_years / gb.asset_life_years)
    pv_residual = residual * float(df[-1])
    npc = capex_ob - disposals_gbp + pv_revenue - pv_residual
    return {
        "capex_with_optimism_bias_gbp": capex_ob,
        "optimism_bias_gbp": capex_ob - capex_gbp,
        "disposals_gbp": disposals_gbp,
        "pv_revenue_gbp": pv_revenue,
        "residual_value_gbp": residual,
        "pv_residual_gbp": pv_residual,
        "npc_gbp": npc,
        "annuity_factor_years_1_n": float(df[1:].sum()),
    }


def switching_values(
    option: Mapping[str, float], status_quo: Mapping[str, float], settings: AppraisalSettings
) -> dict[str, float | None]:
    """Values of the key assumptions at which the option's NPV against the status quo is zero.

    ``NPV = NPC(status quo) - NPC(option)``. Returned (None where no value exists):

    * ``revenue_saving_change``: the relative change of the option's annual revenue saving that
      makes NPV zero (-0.4 = the saving 40% smaller);
    * ``capex_change``: the relative change of the option's capex;
    * ``disposals_change``: the relative change of the option's disposal receipts;
    * ``optimism_bias``: the capex uplift (for both options) at which NPV is zero;
    * ``discount_rate``: one flat rate for all years at which NPV is zero (searched 0-20%).
    """
    def npc(cap: float, disp: float, rev: float, s: AppraisalSettings) -> float:
        return economic_case(cap, disp, rev, s)["npc_gbp"]

    o_cap, o_disp, o_rev = (option["capex_gbp"], option["disposals_gbp"],
                            option["revenue_gbp_per_year"])
    q_cap, q_disp, q_rev = (status_quo["capex_gbp"], status_quo["disposals_gbp"],
                            status_quo["revenue_gbp_per_year"])
    base = npc(q_cap, q_disp, q_rev, settings) - npc(o_cap, o_disp, o_rev, settings)
    ann = float(discount_factors(settings.appraisal_years, settings.discount_rate_years_0_30,
                                 settings.discount_rate_years_31_plus)[1:].sum())
    out: dict[str, float | None] = {"npv_gbp": base}
    saving_pv = (q_rev - o_rev) * ann
    out["revenue_saving_change"] = (-base / saving_pv) if abs(saving_pv) > 1e-6 else None
    # NPV is linear in capex: d NPV / d capex = -(1 + OB) + residual share x DF(N)
    d_cap = npc(o_cap + 1.0, o_disp, o_rev, settings) - npc(o_cap, o_disp, o_rev, settings)
    out["capex_change"] = (base / (d_cap * o_cap)) if o_cap > 0 and d_cap > 0 else None
    out["disposals_change"] = (-base / o_disp) if o_disp > 0 else None
    net_cap = o_cap - q_cap
    if abs(net_cap) > 1e-6:
        ob = settings.optimism_bias_capex + base / net_cap
        out["optimism_bias"] = ob if ob >= 0 else None
    else:
        out["optimism_bias"] = None

    def npv_at(rate: float) -> float:
        s = dataclasses.replace(settings, discount_rate_years_0_30=rate,
                                discount_rate_years_31_plus=rate)
        return npc(q_cap, q_disp, q_rev, s) - npc(o_cap, o_disp, o_rev, s)

    lo, hi = 0.0, 0.2
    f_lo, f_hi = npv_at(lo), npv_at(hi)
    if f_lo == 0:
        out["discount_rate"] = 0.0
    elif f_lo * f_hi > 0:
        out["discount_rate"] = None
    else:
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            f_mid = npv_at(mid)
            if f_lo * f_mid <= 0:
                hi = mid
            else:
                lo, f_lo = mid, f_mid
        out["discount_rate"] = 0.5 * (lo + hi)
    return out

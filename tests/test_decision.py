"""The decision rule on hand-made worlds whose answer is known (siteopt.appraisal.decision)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from siteopt.appraisal.benefits import CRITERIA, criterion_scores, measure_score
from siteopt.appraisal.decision import (
    HURDLE_MEASURES,
    Candidate,
    dominates,
    rank,
    receipt_switching_values,
    smallest_weight_change,
    weight_robustness,
)

EVEN = {c: 0.25 for c in CRITERIA}
GOOD = {"bed_shortfall_beds": 0.0, "capital_used_gbp": 1e6, "staff_wte_rn": 100.0,
        "worst_group_share_within_45_min": 1.0, "max_travel_min": 40.0,
        "small_isolated_wards": 0.0, "worst_refusal": 0.1}


def cand(name: str, npv: float, npc: float, travel: float, scores: dict[str, float] | None = None,
         *, passes: bool = True, benchmark: bool = False, can_continue: bool = True,
         receipts: dict[str, float] | None = None, **hurdle: float) -> Candidate:
    return Candidate(name=name, npv_gbp=npv, npc_gbp=npc, mean_travel_min=travel,
                     hurdle_measures={**GOOD, **hurdle},
                     criterion_scores=scores or {c: 5.0 for c in CRITERIA},
                     shortlisted=passes or benchmark, passes_hurdles=passes,
                     can_continue=can_continue, receipts_gbp=receipts or {})


def test_dominance_needs_at_least_as_good_everywhere_and_better_somewhere() -> None:
    a = cand("a", 10e6, 100e6, 17.0)
    assert not dominates(a, a)
    assert dominates(a, cand("b", 9e6, 101e6, 17.0))
    assert dominates(a, cand("b", 10e6, 100e6, 17.5))
    # better NPV but worse on one hurdle measure: no dominance either way
    c = cand("c", 12e6, 98e6, 17.0, small_isolated_wards=1.0)
    assert not dominates(c, a) and not dominates(a, c)
    # every hurdle measure counts, in its own direction
    for key, way in HURDLE_MEASURES.items():
        worse = GOOD[key] + ((1000.0 if key.endswith("_gbp") else 1.0) if way == "lower"
                             else -0.5)
        assert dominates(a, cand("w", 10e6, 100e6, 17.0, **{key: worse})), key


def test_the_status_quo_trap_a_dominated_option_is_never_preferred() -> None:
    # the round-one failure: an option with the same drive as business as usual, more cost
    bau = cand("status_quo", 0.0, 500e6, 16.29, benchmark=True, passes=True)
    trap = cand("trap", -6.68e6, 506.68e6, 16.29,
                {c: (9.0 if c == "deliverability" else 5.0) for c in CRITERIA})
    other = cand("other", 12.3e6, 487.7e6, 16.30, small_isolated_wards=0.0)
    r = rank([bau, trap, other], EVEN, "cost_per_benefit_point")
    assert r.dominated_by["trap"] == "status_quo"
    assert "trap" not in r.eligible
    assert r.eligible[0] in ("other", "status_quo")


def test_cost_per_benefit_point_picks_the_hand_computed_option() -> None:
    s_a = {"access": 8.0, "equity": 6.0, "resilience": 4.0, "deliverability": 6.0}  # B = 6.0
    s_b = {"access": 6.0, "equity": 6.0, "resilience": 8.0, "deliverability": 8.0}  # B = 7.0
    a = cand("a", 30e6, 450e6, 16.5, s_a, small_isolated_wards=1.0)  # 75.0m per point
    b = cand("b", 10e6, 470e6, 17.5, s_b)  # 67.14m per point
    r = rank([a, b], EVEN, "cost_per_benefit_point")
    assert r.eligible == ["b", "a"]
    assert r.value["a"] == pytest.approx(450e6 / 6.0)
    assert r.value["b"] == pytest.approx(470e6 / 7.0)
    assert rank([a, b], EVEN, "highest_npv").eligible == ["a", "b"]


def test_bau_that_cannot_continue_and_failing_benchmarks_are_never_preferred() -> None:
    bau = cand("status_quo", 0.0, 100e6, 15.0, {c: 10.0 for c in CRITERIA},
               benchmark=True, can_continue=False)
    dm = cand("do_minimum", -7e6, 107e6, 15.0, benchmark=True, passes=False)
    x = cand("x", 20e6, 80e6, 18.0, small_isolated_wards=1.0)
    r = rank([bau, dm, x], EVEN, "cost_per_benefit_point")
    assert r.eligible == ["x"]
    short = [c.name for c in (bau, dm, x) if c.shortlisted]
    assert short == ["status_quo", "do_minimum", "x"]


def test_smallest_weight_change_matches_the_closed_form() -> None:
    # two criteria matter: a . w <= 0 with a = (1, -1, 0, 0) from w0 = (0.7, 0.3, 0, 0) needs
    # 0.2 of weight moved from the first to the second
    w0 = np.array([0.7, 0.3, 0.0, 0.0])
    moved, w = smallest_weight_change(w0, np.array([1.0, -1.0, 0.0, 0.0]))
    assert moved == pytest.approx(0.2, abs=1e-9)
    assert w[:2] == pytest.approx([0.5, 0.5], abs=1e-9)
    assert smallest_weight_change(w0, np.array([1.0, 1.0, 1.0, 1.0])) is None


def test_weight_robustness_on_a_world_with_a_known_boundary() -> None:
    # p: cheap, poor access; q: dearer, good access. q beats p when B_q / B_p > 110/100.
    s_p = {"access": 2.0, "equity": 6.0, "resilience": 6.0, "deliverability": 6.0}
    s_q = {"access": 10.0, "equity": 6.0, "resilience": 6.0, "deliverability": 6.0}
    p = cand("p", 10e6, 100e6, 18.0, s_p)
    q = cand("q", 0.0, 110e6, 16.0, s_q, small_isolated_wards=1.0)
    rest = 0.95 / 3
    w0 = {"access": 0.05, "equity": rest, "resilience": rest, "deliverability": rest}
    r = rank([p, q], w0, "cost_per_benefit_point")
    # B_p = 0.05 * 2 + 0.95 * 6 = 5.8 and B_q = 0.05 * 10 + 0.95 * 6 = 6.2:
    # 100 / 5.8 = 17.24m < 110 / 6.2 = 17.74m per point, so p is first
    assert r.eligible == ["p"] or r.eligible[0] == "p"
    rob = weight_robustness([p, q], r, w0, 4000, 7)
    # brute force over a fine grid of the simplex for the share where p stays first
    rng = np.random.default_rng(7)
    draws = rng.dirichlet(np.ones(4), size=4000)
    sp = np.array([s_p[c] for c in CRITERIA])
    sq = np.array([s_q[c] for c in CRITERIA])
    first_p = 100e6 / (draws @ sp) <= 110e6 / (draws @ sq)
    assert rob["share_preferred_first"] == pytest.approx(float(first_p.mean()))
    # the boundary: 100 (6 + 4x) = 110 (6 - 4x) at access weight x = 1/14; weight moved from
    # the other criteria to access: 1/14 - 0.05
    near = rob["nearest"][0]
    assert near["option"] == "q"
    assert near["weight_moved"] == pytest.approx(1 / 14 - 0.05, abs=1e-7)
    w = np.array([near["weights"][c] for c in CRITERIA])
    assert 100e6 / float(w @ sp) == pytest.approx(110e6 / float(w @ sq), rel=1e-6)
    grid = [np.array(v) / 20 for v in itertools.product(range(21), repeat=4) if sum(v) == 20]
    w0v = np.array([w0[c] for c in CRITERIA])
    best = min(0.5 * float(np.abs(g - w0v).sum()) for g in grid
               if 100e6 / float(g @ sp) >= 110e6 / float(g @ sq))
    assert near["weight_moved"] <= best + 1e-9


def test_receipt_switching_value_by_hand() -> None:
    # p books a 10m receipt and leads q by 4m of NPC at equal benefit: p stays preferred
    # while its receipt is worth more than 6m
    s = {c: 5.0 for c in CRITERIA}
    p = cand("p", 14e6, 96e6, 17.0, s, receipts={"melton": 10e6})
    q = cand("q", 10e6, 100e6, 17.0, s, worst_refusal=0.05)  # better on refusal: not dominated
    r = rank([p, q], EVEN, "cost_per_benefit_point")
    assert r.eligible == ["p", "q"]
    sw = receipt_switching_values([p, q], r, EVEN, "cost_per_benefit_point")
    assert sw[0]["scheme_id"] == "melton"
    assert sw[0]["switching_value_gbp"] == pytest.approx(6e6, rel=1e-6)
    assert sw[0]["then_preferred"] == "q"
    # a receipt both options book never switches the ranking
    q2 = cand("q", 0.0, 110e6, 17.0, s, worst_refusal=0.05, receipts={"melton": 10e6})
    r2 = rank([p, q2], EVEN, "cost_per_benefit_point")
    sw2 = receipt_switching_values([p, q2], r2, EVEN, "cost_per_benefit_point")
    assert sw2[0]["switching_value_gbp"] is None


def test_benefit_scores_follow_the_documented_formula() -> None:
    scales = {"mean_travel_min": [25.0, 15.0], "share_within_30_min": [0.6, 1.0],
              "worst_lad_mean_travel_min": [35.0, 15.0],
              "worst_deprivation_quintile_mean_travel_min": [30.0, 15.0],
              "small_isolated_wards": [4.0, 0.0], "worst_refusal_above_target": [0.15, 0.0],
              "capex_gbp": [25e6, 0.0], "receipts_relied_on_gbp": [20e6, 0.0],
              "capital_schemes": [6.0, 0.0]}
    values = {"mean_travel_min": 17.0, "share_within_30_min": 0.9,
              "worst_lad_mean_travel_min": 30.0, "worst_deprivation_quintile_mean_travel_min": 40.0,
              "small_isolated_wards": 1.0, "worst_refusal_above_target": 0.09,
              "capex_gbp": 10e6, "receipts_relied_on_gbp": 5e6, "capital_schemes": 3.0}
    got = criterion_scores(values, scales)
    assert got["access"] == pytest.approx((8.0 + 7.5) / 2)
    assert got["equity"] == pytest.approx((2.5 + 0.0) / 2)  # 40 min is past the 0 end: clipped
    assert got["resilience"] == pytest.approx((7.5 + 4.0) / 2)
    assert got["deliverability"] == pytest.approx((6.0 + 7.5 + 5.0) / 3)
    assert measure_score(5.0, (25.0, 15.0)) == 10.0


def test_weights_and_scales_come_from_assumptions_and_set_overrides() -> None:
    from siteopt.appraisal.settings import AppraisalSettings
    from siteopt.data.load import load_geodata
    from siteopt.errors import DataError
    from siteopt.paths import DEFAULT_GEODATA_DIR

    values = load_geodata(DEFAULT_GEODATA_DIR).assumptions.values
    s = AppraisalSettings.from_assumptions(values)
    assert s.benefit_weights == values["appraisal.benefit_weights"]
    assert set(s.benefit_scales) == {m for ms in CRITERIA.values() for m in ms}
    new = {"appraisal.benefit_weights.access": 0.4, "appraisal.benefit_weights.equity": 0.15}
    s2 = AppraisalSettings.from_assumptions(values, new)
    assert s2.benefit_weights["access"] == 0.4 and s2.benefit_weights["equity"] == 0.15
    with pytest.raises(DataError) as err:
        AppraisalSettings.from_assumptions(values, {"appraisal.benefit_weights.access": 0.9})
    assert "add up to" in err.value.lines()[0] and "must add up to 1" in err.value.lines()[0]
    with pytest.raises(DataError) as err:
        AppraisalSettings.from_assumptions(values, {"appraisal.value_for_money_rule": "vibes"})
    assert "value_for_money_rule" in err.value.lines()[0]

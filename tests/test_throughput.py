"""The throughput model and its solver on small worlds with answers known by hand or by an
independent oracle (scipy's linprog over every set of open sites)."""

from __future__ import annotations

import itertools

import highspy
import numpy as np
import pytest
from scipy.optimize import linprog

from siteopt.errors import DataError, InfeasibleError
from siteopt.national.model import (
    ThroughputSettings,
    allowed_pairs,
    build_lp,
    pairs_from_mask,
    reduced_costs,
    to_highs,
)
from siteopt.national.solve import (
    ThroughputOptions,
    _column_generation,
    _units_note,
    assign_fixed,
    greedy_drop,
    keep_current,
    optimise,
    throughput_objective_value,
)
from siteopt.solver_core import nearest_mask

# A line: sites A, B, C at km 0, 10, 20; zones at 0, 5, 10, 15, 20; drive minutes = distance.
SITES = ("A", "B", "C")
ZONES = ("z0", "z5", "z10", "z15", "z20")
POS_Z = np.array([0.0, 5, 10, 15, 20])
POS_S = np.array([0.0, 10, 20])
TRAVEL = np.abs(POS_Z[:, None] - POS_S[None, :])
DEMAND = np.array([150.0, 100, 100, 100, 200])  # total 650
OPTS = ThroughputOptions(time_limit_s=60)


def test_line_min_throughput_closes_the_middle_site() -> None:
    """Minimum 300 a site: three sites need 900 > 650, so two open. {A, C}: z5 and z15 drive 5,
    z10 drives 10: 100*5 + 100*10 + 100*5 = 2000 demand-minutes (mean 2000/650). {B, C}:
    z0 drives 10 (1500) + 500 + 500 = 2500; {A, B}: z20 drives 10 (2000) + 1000 = 3000."""
    st = ThroughputSettings(min_per_site=300, max_per_site=400, k_nearest=None)
    sol = optimise(TRAVEL, DEMAND, SITES, ZONES, st, OPTS)
    assert sol.status == "optimal"
    assert sol.open_sites.tolist() == [True, False, True]
    assert sol.objective == pytest.approx(2000.0)
    assert sol.mean_travel_min == pytest.approx(2000.0 / 650.0)
    loads = np.bincount(sol.site, weights=DEMAND[sol.zone] * sol.share, minlength=3)
    assert np.all(loads[[0, 2]] >= 300 - 1e-6) and np.all(loads <= 400 + 1e-6)


def test_line_without_minimum_keeps_every_site() -> None:
    """No minimum: all three open; only z5 and z15 drive (5 min): 500 + 500 = 1000."""
    st = ThroughputSettings(max_per_site=400, k_nearest=None)
    sol = optimise(TRAVEL, DEMAND, SITES, ZONES, st, OPTS)
    assert sol.open_sites.all()
    assert sol.objective == pytest.approx(1000.0)


def test_restricted_relaxation_that_is_infeasible_is_widened() -> None:
    """With one pair per zone and linking on it, the relaxation is infeasible (z0 must go to
    A, whose minimum caps o_A below 1); the solver widens the column set instead of calling
    the problem infeasible, and the bound it reports stays below the optimum."""
    st = ThroughputSettings(min_per_site=300, max_per_site=400, k_nearest=1, link_k_nearest=1)
    sol = optimise(TRAVEL, DEMAND, SITES, ZONES, st,
                   ThroughputOptions(time_limit_s=60, full_model_max_pairs=0))
    assert sol.objective == pytest.approx(2000.0)
    assert sol.lower_bound is not None and 0 < sol.lower_bound <= 2000.0 + 1e-6


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_column_generation_reaches_the_full_lp_bound(seed: int) -> None:
    """Starting from 2 pairs per zone, pricing adds pairs until none prices out; the LP value
    then equals the LP over every pair, and every round's bound is below it."""
    rng = np.random.default_rng(seed)
    travel = np.round(rng.uniform(5, 90, size=(60, 8)), 1)
    demand = np.round(rng.uniform(1, 10, size=60), 2)
    st = ThroughputSettings(max_per_site=float(demand.sum()) / 8 * 1.1, k_nearest=2,
                            link_k_nearest=1)
    ids = tuple(f"s{j}" for j in range(8))
    allowed = allowed_pairs(travel, st)
    full = build_lp(travel, demand, ids, st, pairs_from_mask(allowed, travel), integer=False)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    to_highs(full, h)
    h.run()
    full_value = h.getInfo().objective_function_value
    cg = _column_generation(travel, demand, ids, st, allowed, nearest_mask(allowed, travel, 2),
                            ThroughputOptions(), float(travel.max()), 50, float("inf"))
    assert cg.complete and cg.last is not None
    assert cg.added > 0
    # link rows differ (only the nearest pair is linked in both), so values must agree
    assert cg.last.value == pytest.approx(full_value, rel=1e-7)
    assert cg.lower_bound == pytest.approx(full_value, rel=1e-7)


def test_greedy_drop_by_hand() -> None:
    """Nearest loads (ties to the first site): A 250, B 200, C 200, all under 300. Closing A
    adds 1500 (z0 to B), closing B adds 1000 (z10 10 min more), closing C adds 2000: B goes.
    Then A 350 and C 300 meet the minimum: stop."""
    st = ThroughputSettings(min_per_site=300, max_per_site=400)
    assert greedy_drop(TRAVEL, DEMAND, SITES, st, np.ones(3, dtype=bool)).tolist() == [
        True, False, True]


def test_keep_current_is_nearest_assignment() -> None:
    sol = keep_current(TRAVEL, DEMAND, np.array([True, True, False]))
    assert sol.site.tolist() == [0, 0, 1, 1, 1]
    assert sol.objective == pytest.approx(100 * 5 + 100 * 5 + 200 * 10)


def test_site_limit_against_maximum_is_explained_with_numbers() -> None:
    st = ThroughputSettings(max_per_site=300, max_sites=2)
    with pytest.raises(InfeasibleError) as err:
        optimise(TRAVEL, DEMAND, SITES, ZONES, st, OPTS)
    msg = str(err.value)
    assert "needs at least 3 sites of at most 300" in msg and "at most 2 may be open" in msg


def test_unreachable_zone_is_explained() -> None:
    st = ThroughputSettings(max_travel_min=4.0)
    with pytest.raises(InfeasibleError,
                       match=r"2 zone\(s\) have no site within 4 minutes \(z5, z15\)"):
        optimise(TRAVEL, DEMAND, SITES, ZONES, st, OPTS)


def test_bad_settings_are_listed_together() -> None:
    st = ThroughputSettings(min_per_site=500, max_per_site=400, force_open=frozenset({"X"}),
                            k_nearest=0)
    with pytest.raises(DataError) as err:
        optimise(TRAVEL, DEMAND, SITES, ZONES, st, OPTS)
    text = str(err.value)
    for part in ("min_per_site 500 exceeds max_per_site 400", "force_open: unknown site ids",
                 "k_nearest must be >= 1"):
        assert part in text


def test_reduced_costs_match_highs_column_duals() -> None:
    """Our pricing formula equals HiGHS's reduced costs on the columns in the model."""
    rng = np.random.default_rng(7)
    travel = rng.uniform(5, 60, size=(30, 5))
    demand = rng.uniform(1, 10, size=30)
    st = ThroughputSettings(min_per_site=20, max_per_site=80, within_travel_min=30,
                            min_share_within=0.4, k_nearest=3, link_k_nearest=1)
    allowed = allowed_pairs(travel, st)
    lp = build_lp(travel, demand, tuple("abcde"), st,
                  pairs_from_mask(nearest_mask(allowed, travel, 3), travel), integer=False)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    to_highs(lp, h)
    h.run()
    sol = h.getSolution()
    rc = reduced_costs(lp, travel, demand, np.asarray(sol.row_dual), lp.pairs.zone,
                       lp.pairs.site, st.within_travel_min)
    # HiGHS's column duals include the link rows, which our formula leaves at 0 for omitted
    # pairs: compare on the pairs without a link row.
    first = np.searchsorted(lp.pairs.zone, lp.pairs.zone)
    no_link = np.arange(len(lp.pairs)) - first >= 1
    col_dual = np.asarray(sol.col_dual)[lp.n_sites:]
    assert np.allclose(rc[no_link], col_dual[no_link], atol=1e-7)


def _oracle(travel: np.ndarray, demand: np.ndarray, lo: float, hi: float,
            max_sites: int | None) -> float:
    """Best objective over every set of open sites, each assignment by scipy's linprog."""
    n_z, n_s = travel.shape
    best = np.inf
    for k in range(1, n_s + 1):
        if max_sites is not None and k > max_sites:
            break
        for combo in itertools.combinations(range(n_s), k):
            c = (demand[:, None] * travel[:, combo]).ravel()
            a_eq = np.kron(np.eye(n_z), np.ones(k))
            load = np.zeros((k, n_z * k))
            for j in range(k):
                load[j, j::k] = demand
            res = linprog(c, A_ub=np.vstack([load, -load]),
                          b_ub=np.concatenate([np.full(k, hi), np.full(k, -lo)]),
                          A_eq=a_eq, b_eq=np.ones(n_z), bounds=(0, 1), method="highs")
            if res.status == 0:
                best = min(best, float(res.fun))
    return best


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("full_model_max_pairs", [300_000, 0])
def test_optimum_equals_enumeration_oracle(seed: int, full_model_max_pairs: int) -> None:
    """Small enough for the full MILP: the optimum, proven. Forced onto the restricted column
    set with the LP bound: the bound is below the oracle, the value above, the gap theirs."""
    rng = np.random.default_rng(seed)
    n_z, n_s = 24, 6
    pts_z = rng.uniform(0, 50, size=(n_z, 2))
    pts_s = rng.uniform(0, 50, size=(n_s, 2))
    travel = np.round(np.linalg.norm(pts_z[:, None] - pts_s[None], axis=2) * 1.3 + 3, 1)
    demand = np.round(rng.uniform(5, 25, size=n_z), 1)
    total = demand.sum()
    lo, hi = total / 6, total / 2.5
    st = ThroughputSettings(min_per_site=lo, max_per_site=hi, max_sites=4, k_nearest=2,
                            link_k_nearest=1)
    sol = optimise(travel, demand, tuple(f"s{j}" for j in range(n_s)),
                   tuple(f"z{i}" for i in range(n_z)), st,
                   ThroughputOptions(time_limit_s=60, gap_rel=0.0,
                                     full_model_max_pairs=full_model_max_pairs))
    expected = _oracle(travel, demand, lo, hi, 4)
    assert throughput_objective_value(sol, travel, demand, tuple(f"s{j}" for j in range(n_s)),
                                      st) == pytest.approx(sol.objective, rel=1e-9)
    assert sol.lower_bound is not None and sol.gap is not None
    assert sol.lower_bound <= expected * (1 + 1e-9) <= sol.objective * (1 + 2e-9)
    assert sol.gap == pytest.approx((sol.objective - sol.lower_bound) / sol.objective)
    if full_model_max_pairs:
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(expected, rel=1e-6)


def test_assign_fixed_reports_an_impossible_minimum() -> None:
    st = ThroughputSettings(min_per_site=400, max_per_site=600)
    assert assign_fixed(TRAVEL, DEMAND, SITES, st, np.array([True, True, True])) is None
    ok = assign_fixed(TRAVEL, DEMAND, SITES, st, np.array([True, False, False]))
    assert ok is None  # 650 > 600 at one site
    two = assign_fixed(TRAVEL, DEMAND, SITES, ThroughputSettings(min_per_site=300,
                                                                 max_per_site=400),
                       np.array([True, False, True]))
    assert two is not None and two[3] == pytest.approx(2000.0)


def test_units_objective_finds_fewest_sites_then_least_drive() -> None:
    """At most 400 a site: 650 needs 2 sites; of the pairs, {A, C} drives least."""
    st = ThroughputSettings(objective="units", max_per_site=400, k_nearest=None)
    sol = optimise(TRAVEL, DEMAND, SITES, ZONES, st, OPTS)
    assert sol.open_sites.tolist() == [True, False, True]
    assert sol.mean_travel_min == pytest.approx(2000.0 / 650.0)
    assert sol.notes[-1] == (f"fewest units proven: 2; with 2 units the mean drive is "
                             f"{2000.0 / 650.0:.2f} min, at least {2000.0 / 650.0:.2f} min")


def test_units_note_when_the_count_is_not_proven() -> None:
    """By hand: D = 100, t_max = 9 (a unit is worth 1,000); bound 3,500 proves >= 3 units."""
    assert _units_note(4_000.0 + 500.0, 3_500.0, 4, 100.0, 9.0) == (
        "4 units found, at least 3 needed (not proven fewest: the objective's gap is mostly "
        "units): raise --time-limit, or use the access objective with --max-sites")
    # a count known otherwise (e.g. demand over the maximum per site) proves 4 units, but the
    # bound says nothing of the drive beyond 0
    assert _units_note(4_000.0 + 500.0, 3_500.0, 4, 100.0, 9.0, at_least=4) == (
        "fewest units proven: 4; with 4 units the mean drive is 5.00 min, at least 0.00 min")
    # bound 4,150 proves 4 units, and a mean drive of at least (4.15 - 4) x 10 = 1.5 min
    assert _units_note(4_000.0 + 200.0, 4_150.0, 4, 100.0, 9.0) == (
        "fewest units proven: 4; with 4 units the mean drive is 2.00 min, at least 1.50 min")


def test_locks_against_site_limits_are_explained() -> None:
    st = ThroughputSettings(max_sites=1, force_open=frozenset({"A", "C"}))
    with pytest.raises(InfeasibleError, match="2 sites are forced open but at most 1 may be "
                                              "open: unlock 1"):
        optimise(TRAVEL, DEMAND, SITES, ZONES, st, OPTS)
    st = ThroughputSettings(min_sites=3, force_closed=frozenset({"B"}))
    with pytest.raises(InfeasibleError, match="at least 3 sites must be open but only 2"):
        optimise(TRAVEL, DEMAND, SITES, ZONES, st, OPTS)

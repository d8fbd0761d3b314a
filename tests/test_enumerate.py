"""MILP optimum == exhaustive enumeration on seeded random instances and scenarios."""

from __future__ import annotations

import pytest
from optimiser_worlds import line_world

from siteopt.catalogue.capacity import with_capacity_model
from siteopt.errors import InfeasibleError
from siteopt.wards.enumerate import enumerate_optimum
from siteopt.wards.instance import Instance, ModelSettings
from siteopt.wards.solve import SolverOptions, optimise
from siteopt.wards.synthetic import synthetic_instance


def _scenarios(inst: Instance) -> dict[str, ModelSettings]:
    cap = inst.total_demand_beds
    return {
        "access": ModelSettings(max_travel_min=90),
        "cost_max_travel": ModelSettings(objective="cost", max_travel_min=75),
        "weighted": ModelSettings(objective="weighted", cost_weight_per_gbp_m=1.5),
        "capital_bound": ModelSettings(capital_limit_gbp=0.0, capital_basis="net"),
        "staff_bound": ModelSettings(max_staff_wte_rn=float(cap.sum()) * 0.6 + 12),
        "isolated_cap": ModelSettings(objective="cost", max_isolated_wards=0, max_travel_min=90),
        "within_share": ModelSettings(objective="cost", within_travel_min=25, min_share_within=0.7),
        "max_sites": ModelSettings(max_inpatient_sites=3, max_cost_gbp_per_year=2.0e7),
        "link_nearest_only": ModelSettings(capital_limit_gbp=0.0, link_k_nearest=1),
    }


SEEDS = [1, 2, 3]


@pytest.mark.slow  # 24 MILP-vs-enumeration pairs, about a minute
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "scenario",
    [
        "access",
        "cost_max_travel",
        "weighted",
        "capital_bound",
        "staff_bound",
        "isolated_cap",
        "within_share",
        "max_sites",
        "link_nearest_only",
    ],
)
def test_milp_equals_enumeration(seed: int, scenario: str) -> None:
    inst = synthetic_instance(6, 60, seed=seed)
    settings = _scenarios(inst)[scenario]
    oracle = enumerate_optimum(inst, settings)
    if oracle.choice is None:
        with pytest.raises(InfeasibleError):
            optimise(inst, settings)
        return
    sol = optimise(inst, settings)
    assert sol.status == "optimal"
    assert sol.violations == ()
    assert sol.objective == pytest.approx(oracle.objective, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("scenario", ["access", "cost_max_travel", "isolated_cap"])
def test_cbc_equals_enumeration(scenario: str) -> None:
    inst = synthetic_instance(6, 60, seed=4)
    settings = _scenarios(inst)[scenario]
    oracle = enumerate_optimum(inst, settings)
    sol = optimise(inst, settings, SolverOptions(solver="cbc"))
    assert sol.status == "optimal"
    assert sol.violations == ()
    assert sol.objective == pytest.approx(oracle.objective, rel=1e-6, abs=1e-6)


def test_erlang_capacity_model_matches_and_favours_pairing() -> None:
    # Single service so pooled usable beds are easy to reason about.
    base = synthetic_instance(5, 50, seed=7, services=("rehab",))
    inst = with_capacity_model(base, model="erlang", target_occupancy=0.9, refusal_probability=0.02)
    settings = ModelSettings(objective="cost", max_travel_min=90)
    oracle = enumerate_optimum(inst, settings)
    sol = optimise(inst, settings)
    assert sol.objective == pytest.approx(oracle.objective, rel=1e-6)
    assert sol.violations == ()


def test_enumerator_on_the_hand_world() -> None:
    res = enumerate_optimum(line_world(), ModelSettings(objective="cost", max_travel_min=10))
    assert res.choice == {"A": "w0", "B": "w2", "C": "w0"}
    assert res.objective == pytest.approx(2_500_000.0)
    assert res.n_configurations == 27
    none = enumerate_optimum(line_world(), ModelSettings(max_inpatient_sites=0))
    assert none.choice is None

"""On the embedded LLR data: the MILP optimum equals the exhaustive enumeration's.

The instance comes from the real pipeline (geodata -> travel -> demand -> option catalogue); the
enumerator shares no code with the model and solves every surviving configuration's assignment
with scipy's LP, so agreement checks the formulation end to end.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from siteopt.errors import InfeasibleError
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import prepare
from siteopt.wards.enumerate import enumerate_optimum
from siteopt.wards.instance import Instance, ModelSettings
from siteopt.wards.solve import SolverOptions, optimise

pytestmark = pytest.mark.slow  # MILP against enumeration of 342,144 LLR configurations


@pytest.fixture(scope="module")
def llr() -> tuple[Instance, ModelSettings]:
    prepared = prepare(DEFAULT_GEODATA_DIR)
    return prepared.instance, prepared.scenario.model


SCENARIOS = {
    "default": {},
    "cost": {"objective": "cost"},
    "weighted": {"objective": "weighted", "cost_weight_per_gbp_m": 2.0},
    "cost_two_isolated": {"objective": "cost", "max_isolated_wards": 2},
    "net_capital_zero": {"objective": "cost", "capital_limit_gbp": 0.0},
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_llr_milp_equals_enumeration(llr: tuple[Instance, ModelSettings], name: str) -> None:
    inst, base = llr
    settings = replace(base, **SCENARIOS[name])  # type: ignore[arg-type]
    oracle = enumerate_optimum(inst, replace(settings, k_nearest=None))
    if oracle.choice is None:
        with pytest.raises(InfeasibleError):
            optimise(inst, settings)
        return
    sol = optimise(inst, settings)
    assert sol.status == "optimal"
    assert sol.violations == ()
    assert sol.objective == pytest.approx(oracle.objective, rel=1e-6, abs=1e-6)


def test_llr_cbc_agrees(llr: tuple[Instance, ModelSettings]) -> None:
    inst, base = llr
    settings = replace(base, objective="cost")
    highs = optimise(inst, settings)
    cbc = optimise(inst, settings, SolverOptions(solver="cbc"))
    assert cbc.status == "optimal"
    assert cbc.objective == pytest.approx(highs.objective, rel=1e-6)


def test_llr_infeasible_scenarios_are_explained(llr: tuple[Instance, ModelSettings]) -> None:
    inst, base = llr
    with pytest.raises(InfeasibleError, match=r"gross capital limit of £0 is £[0-9.]+m short"):
        optimise(inst, replace(base, capital_limit_gbp=0.0, capital_basis="gross"))
    with pytest.raises(InfeasibleError, match=r"maximum of 5 inpatient sites is 1 too low"):
        optimise(inst, replace(base, max_inpatient_sites=5, max_travel_min=None))

"""A solve that stops without a proof is never called infeasible (issue 15): CBC's and HiGHS's
time-outs say "no solution found within the time limit", and the infeasibility explanation
comes only after a proven infeasible status."""

from __future__ import annotations

import re

import pytest
from optimiser_worlds import line_world

from siteopt.errors import InfeasibleError, SolverError
from siteopt.solver_core import STATUS_INFEASIBLE, STATUS_NO_SOLUTION
from siteopt.wards.instance import Instance, ModelSettings
from siteopt.wards.model import build_model
from siteopt.wards.solve import (
    SolverOptions,
    cbc_infeasibility_proven,
    explain_infeasibility,
    optimise,
    solve_model,
)
from siteopt.wards.synthetic import synthetic_instance

SOLVERS = ["highs", "cbc"]

# The tail of a real CBC 2.10.3 log (LLR, objective weighted, --time-limit 0.1575): the time
# limit ran out inside CBC's preprocessing, which then "says infeasible", and PuLP reads the
# solution file as Infeasible. The scenario is feasible.
CBC_PREPROCESSING_TIMEOUT = """\
seconds was changed from 1e+100 to 0.1575
Option for timeMode changed from cpu to elapsed
Continuous objective value is 35.4673 - 0.11 seconds
Cgl0000I Cut generators found to be infeasible! (or unbounded)
Pre-processing says infeasible or unbounded
Option for printingOptions changed from normal to all
Total time (CPU seconds):       0.16   (Wallclock seconds):       0.19
"""
CBC_STOPPED = """\
Continuous objective value is 35.4673 - 0.15 seconds
Cbc0020I Exiting on maximum time
Result - Stopped on time limit

No feasible solution found
Total time (CPU seconds):       0.23   (Wallclock seconds):       0.28
"""
CBC_LP_INFEASIBLE = """\
seconds was changed from 1e+100 to 5
Problem is infeasible - 0.02 seconds
Total time (CPU seconds):       0.04   (Wallclock seconds):       0.06
"""


def test_cbc_infeasible_after_its_time_limit_is_not_a_proof() -> None:
    assert not cbc_infeasibility_proven(CBC_PREPROCESSING_TIMEOUT, 0.1575)
    assert not cbc_infeasibility_proven(CBC_STOPPED, 0.2)
    # The same preprocessing verdict well inside the limit, or with none, is CBC's proof.
    assert cbc_infeasibility_proven(CBC_PREPROCESSING_TIMEOUT, 5.0)
    assert cbc_infeasibility_proven(CBC_PREPROCESSING_TIMEOUT, None)
    # An infeasible LP relaxation is a proof whatever the time limit (Clp runs to the end).
    assert cbc_infeasibility_proven(CBC_LP_INFEASIBLE, 0.01)
    assert not cbc_infeasibility_proven("", 1.0)


@pytest.fixture(scope="module")
def big() -> Instance:
    """Big enough that neither solver finds a solution in 0.01 s (about 9,000 rows)."""
    return synthetic_instance(15, 600, seed=11)


@pytest.mark.parametrize("solver", SOLVERS)
def test_time_out_without_a_solution_says_so(big: Instance, solver: str) -> None:
    settings = ModelSettings(objective="weighted", max_travel_min=120)
    options = SolverOptions(solver=solver, time_limit_s=0.01)
    outcome = solve_model(build_model(big, settings), options)
    assert outcome.status == STATUS_NO_SOLUTION
    assert outcome.objective is None and outcome.gap is None
    with pytest.raises(SolverError) as err:
        optimise(big, settings, options)
    text = str(err.value)
    assert text.startswith("no solution found within the 0.01 s time limit")
    assert text.endswith("try a longer --time-limit")
    assert "the scenario is not known to be infeasible" in text


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_proven_infeasible_scenario_is_still_explained(solver: str) -> None:
    # Line world: no isolated wards and at most 30 WTE; one paired site needs 2 x 20 = 40.
    settings = ModelSettings(max_isolated_wards=0, max_staff_wte_total=30)
    options = SolverOptions(solver=solver, time_limit_s=30)
    outcome = solve_model(build_model(line_world(), settings), options)
    assert outcome.status == STATUS_INFEASIBLE
    with pytest.raises(InfeasibleError, match=re.escape("the staff limit of 30.0 WTE is 10.0 WTE")):
        optimise(line_world(), settings, options)


def test_explanation_that_times_out_says_so(big: Instance) -> None:
    # A staff limit far below any configuration: CBC's LP relaxation proves it infeasible, but
    # the elastic re-solve that names the limits finds nothing in 0.01 s.
    settings = ModelSettings(objective="weighted", max_travel_min=120, max_staff_wte_rn=1.0)
    options = SolverOptions(solver="cbc", time_limit_s=0.01)
    outcome = solve_model(build_model(big, settings), options)
    assert outcome.status == STATUS_INFEASIBLE
    text = explain_infeasibility(big, settings, options)
    assert text == ("The scenario is infeasible, but the re-solve that finds which limits to "
                    "relax found no solution within the 0.01 s time limit; try a longer "
                    "--time-limit to see them.")

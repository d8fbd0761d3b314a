"""The batched HiGHS model builder makes exactly the model PuLP's builder makes (issue 18).

:func:`siteopt.wards.highs_build.build_highs_model` replaces ``pulp.HiGHS.buildSolverModel``
for speed; a solve is only the same if the model HiGHS receives is the same, array for array:
column costs, bounds and integrality, row bounds, and the constraint matrix.
"""

from __future__ import annotations

from typing import Any

import highspy
import numpy as np
import pulp
import pytest

from siteopt.appraisal.longlist import no_good_cuts
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import prepare
from siteopt.wards.highs_build import build_highs_model
from siteopt.wards.instance import ModelSettings
from siteopt.wards.model import build_model


def highs_arrays(lp: pulp.LpProblem, batched: bool, mip: bool = True) -> dict[str, Any]:
    solver = pulp.HiGHS(msg=False, mip=mip)
    solver.createAndConfigureSolver(lp)
    if batched:
        build_highs_model(solver, lp)
    else:
        solver.buildSolverModel(lp)
    model = lp.solverModel.getLp()
    m = model.a_matrix_
    return {"cost": np.array(model.col_cost_), "col_lower": np.array(model.col_lower_),
            "col_upper": np.array(model.col_upper_), "row_lower": np.array(model.row_lower_),
            "row_upper": np.array(model.row_upper_), "format": int(m.format_),
            "start": np.array(m.start_), "index": np.array(m.index_),
            "value": np.array(m.value_),
            "integrality": np.array([int(x) for x in model.integrality_]),
            "sense": int(model.sense_), "offset": float(model.offset_),
            "var_index": [v.index for v in lp.variables()],
            "row_index": [c.index for c in lp._constraints.values()]}


def assert_same(lp: pulp.LpProblem, mip: bool = True) -> None:
    a, b = highs_arrays(lp, False, mip), highs_arrays(lp, True, mip)
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            # bit for bit, -0.0 and 0.0 told apart
            assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, key
            assert a[key].tobytes() == b[key].tobytes(), key
        else:
            assert a[key] == b[key], key


def test_hand_made_mip_with_every_kind_of_row() -> None:
    lp = pulp.LpProblem("t", pulp.LpMaximize)
    x = lp.add_variable("x", lowBound=0, upBound=4, cat=pulp.LpInteger)
    y = lp.add_variable("y", lowBound=None, upBound=3)
    z = lp.add_variable("z", lowBound=-2)
    w = lp.add_variable("w")  # free, in no row
    lp += 3 * x + 2 * y - z + 0 * w
    lp += x + y <= 5, "le"
    lp += x - 2 * z >= -1, "ge"
    lp += y + z == 1.5, "eq"
    lp += 0 * x + 0 * y <= 2, "empty"
    assert_same(lp)
    assert_same(lp, mip=False)
    status = lp.solve(pulp.HiGHS(msg=False))
    assert pulp.LpStatus[status] == "Optimal"


def test_no_rows_and_no_integers() -> None:
    lp = pulp.LpProblem("u", pulp.LpMinimize)
    a = lp.add_variable("a", lowBound=1)
    lp += 2 * a
    assert_same(lp)


@pytest.fixture(scope="module")
def llr() -> Any:
    return prepare(DEFAULT_GEODATA_DIR)


@pytest.mark.parametrize("case", ["optimise", "evaluate", "next_best", "elastic_access"])
def test_llr_models_are_the_same(llr: Any, case: str) -> None:
    s = llr.scenario
    inst = llr.instance
    if case == "optimise":
        model = build_model(inst, s.model)
    elif case == "evaluate":
        fixed = ModelSettings(objective="access",
                              fixed_options=dict(llr.catalogue.configurations["status_quo"]),
                              k_nearest=None, tight_linking=s.model.tight_linking)
        model = build_model(llr.evaluation_instance, fixed)
    elif case == "next_best":
        found = [{site.site_id: site.options[k % len(site.options)].option_id
                  for site in inst.sites} for k in range(2)]
        model = build_model(inst, s.model, extra_constraints=no_good_cuts(inst, found))
    else:
        model = build_model(inst, ModelSettings(objective="access"), elastic=True)
    assert_same(model.prob)


def test_solver_uses_the_batched_builder_and_restores_variables() -> None:
    from siteopt.wards.highs_build import HiGHSWarm

    assert HiGHSWarm.buildSolverModel is not pulp.HiGHS.buildSolverModel
    lp = pulp.LpProblem("v", pulp.LpMinimize)
    b = lp.add_variable("b", lowBound=0)
    a = lp.add_variable("a", lowBound=1, cat=pulp.LpInteger)
    lp += a + 3 * b
    lp += a + b >= 2.5, "r"
    assert pulp.LpStatus[lp.solve(HiGHSWarm(msg=False))] == "Optimal"
    assert (a.varValue, b.varValue) == (3.0, 0.0)
    assert "variables" not in vars(lp)  # the method is PuLP's again after the solve
    assert [v.name for v in lp.variables()] == ["a", "b"]
    assert highspy.kHighsInf == float("inf")

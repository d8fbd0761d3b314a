"""Pass a PuLP problem to HiGHS in one batch of columns and one of rows.

``pulp.HiGHS.buildSolverModel`` adds each column and each row with its own call into highspy
(on the LLR ward model about 35,000 columns and 41,000 rows, a fifth of a solve's time).
:func:`build_highs_model` makes the same HiGHS model (the same columns in the order of
``lp.variables()``, with the same costs, bounds and integrality, and the same rows in the order
of ``lp._constraints`` with the same nonzero coefficients in the same order and the same bounds)
with three calls: ``addCols``, ``changeColsIntegrality`` and ``addRows``; and
:class:`HiGHSWarm` sorts the problem's variables once per solve where PuLP sorts them three
times (``lp.variables()`` re-collects and sorts every variable on each call). The model HiGHS
receives is identical, so the solve is too (``tests/test_highs_build.py`` compares the two
models array by array on the LLR models and a hand-made MIP, and the layout digests compare
every output).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import highspy
import numpy as np
import pulp


def build_highs_model(solver: Any, lp: pulp.LpProblem) -> None:
    """``buildSolverModel`` of :class:`pulp.HiGHS`, batched (see the module docstring).

    Parameters
    ----------
    solver : pulp.HiGHS
        The solver (its ``mip`` flag says whether integrality is passed).
    lp : pulp.LpProblem
        With ``lp.solverModel`` a fresh ``highspy.Highs`` (as ``createAndConfigureSolver``
        leaves it). Sets ``index`` on every variable and constraint, as PuLP's does.
    """
    inf = highspy.kHighsInf
    obj_mult = -1 if lp.sense == pulp.LpMaximize else 1
    variables = lp.variables()
    objective = lp.objective
    n = len(variables)
    cost = np.empty(n, dtype=np.float64)
    lower = np.empty(n, dtype=np.float64)
    upper = np.empty(n, dtype=np.float64)
    integer: list[int] = []
    for i, var in enumerate(variables):
        cost[i] = obj_mult * objective.get(var, 0.0)
        lb, ub = var.lowBound, var.upBound
        lower[i] = -inf if lb is None else lb
        upper[i] = inf if ub is None else ub
        var.index = i
        if var.cat == pulp.LpInteger and solver.mip:
            integer.append(i)
    h = lp.solverModel
    no_int = np.zeros(0, dtype=np.int32)
    h.addCols(n, cost, lower, upper, 0, np.zeros(n, dtype=np.int32), no_int,
              np.zeros(0, dtype=np.float64))
    if integer:
        h.changeColsIntegrality(len(integer), np.asarray(integer, dtype=np.int32),
                                np.full(len(integer), int(highspy.HighsVarType.kInteger),
                                        dtype=np.uint8))
    constraints = list(lp._constraints.values())  # as pulp.HiGHS.buildSolverModel reads them
    m = len(constraints)
    starts = np.empty(m, dtype=np.int32)
    row_lower = np.empty(m, dtype=np.float64)
    row_upper = np.empty(m, dtype=np.float64)
    index: list[int] = []
    value: list[float] = []
    for i, constraint in enumerate(constraints):
        starts[i] = len(index)
        for var, coefficient in constraint.items():
            if coefficient != 0:
                index.append(var.index)
                value.append(coefficient)
        constraint.index = i
        lb, ub = constraint.getLb(), constraint.getUb()
        row_lower[i] = -inf if lb is None else lb
        row_upper[i] = inf if ub is None else ub
    if m:
        h.addRows(m, row_lower, row_upper, len(index), starts,
                  np.asarray(index, dtype=np.int32), np.asarray(value, dtype=np.float64))


class HiGHSWarm(pulp.HiGHS):  # type: ignore[misc]
    """``pulp.HiGHS`` that passes the model in batches (:func:`build_highs_model`, the same
    model), reads the problem's variables once per solve, and passes a (partial) MIP start to
    highspy before running.

    Parameters
    ----------
    start : mapping of LpVariable to float, optional
        The MIP start.
    **kwargs
        As :class:`pulp.HiGHS`.
    """

    def __init__(self, start: Mapping[Any, float] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._start = dict(start or {})

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:  # noqa: N802 (PuLP's name)
        build_highs_model(self, lp)

    def actualSolve(self, lp: pulp.LpProblem) -> int:  # noqa: N802 (PuLP's name)
        # PuLP's solve asks lp.variables() three times; nothing adds a variable in between,
        # so every call returns the same sorted list: collect it once
        variables = lp.variables()
        lp.variables = lambda: variables
        try:
            return int(super().actualSolve(lp))
        finally:
            del lp.variables

    def callSolver(self, lp: pulp.LpProblem) -> None:  # noqa: N802 (PuLP's name)
        if self._start:
            idx = np.array([v.index for v in self._start], dtype=np.int32)
            val = np.array(list(self._start.values()), dtype=np.float64)
            lp.solverModel.setSolution(len(idx), idx, val)
        lp.solverModel.run()

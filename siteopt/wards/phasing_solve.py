"""Solve the phasing MILP in stages, read its status honestly, and explain an infeasible
envelope in words with numbers.

:func:`solve_phasing` first rules out what arithmetic alone proves impossible (a scheme that
cannot open by the last year, :func:`horizon_problems`), then solves
:mod:`siteopt.wards.phasing_model` lexicographically: (1) least bed shortfall in bed-days;
(2) the objective (least net present cost, earliest completion or least 65+ drive over the
years) with the shortfall held at its least; (3) for the last two, least net present cost with
the objective held. With ``shortfall_first=False`` stage (1) is left out (the shortfall is
only reported). A stage stopped by its time limit makes the answer "feasible (gap x%)", its
largest gap; "infeasible" is said only on a proof (HiGHS ``kInfeasible``, or CBC as
:func:`siteopt.wards.solve.cbc_infeasibility_proven` reads its log).

An infeasible envelope is explained by the elastic model (:func:`explain_envelopes`): every
envelope row gets a slack; the least bed shortfall is found without envelopes, then the least
total slack that keeps it, then the least net present cost with both held (so the shortage is
placed where the cheapest such order needs it); each year whose slack is positive is named with
its envelope and the amount it is short, e.g. "2027's envelope (£4.00m net) is £2.10m short".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pulp

from siteopt.solver_core import (
    GBP_PER_M,
    STATUS_FEASIBLE,
    STATUS_INFEASIBLE,
    STATUS_NO_SOLUTION,
    STATUS_OPTIMAL,
    status_text,
)
from siteopt.wards.phasing_instance import PhaseInstance, PhaseObjective, schedule_flows
from siteopt.wards.phasing_model import PhasingModel, build_phasing_model
from siteopt.wards.solve import SolverOptions, solve_problem

STAGE_TOL_REL = 1e-6
"""A later stage holds an earlier stage's measure within this relative tolerance (plus
:data:`STAGE_TOL_ABS`), so that rounding in the solver never makes it infeasible."""
STAGE_TOL_ABS = 1e-6
SLACK_WORDS_MIN_GBP = 5000.0
"""A year is named as short only if its slack shows in the words' £0.01m: smaller amounts are the
stages' tolerance moving a few pounds between years (they still count in the total)."""


@dataclass(frozen=True)
class StageResult:
    """One solve of one stage."""

    stage: str
    status: str
    gap: float | None
    objective: float | None
    solve_time_s: float


@dataclass(frozen=True)
class PhaseSchedule:
    """The solved phasing: when each site moves and each build scheme starts.

    ``switch`` and ``build_start`` are horizon year indices (empty when there is no
    solution). ``status`` is ``optimal``, ``feasible`` (then ``gap`` is the largest of the
    stages' gaps), ``infeasible`` (proven; ``explanation`` says why) or ``no solution``.
    """

    status: str
    gap: float | None
    switch: tuple[int, ...] = ()
    build_start: dict[str, int] = field(default_factory=dict)
    stages: tuple[StageResult, ...] = ()
    explanation: tuple[str, ...] = ()
    solver: str = "highs"
    build_time_s: float = 0.0
    solve_time_s: float = 0.0
    n_variables: int = 0
    n_constraints: int = 0

    @property
    def status_text(self) -> str:
        """``optimal``, ``feasible (gap x%)``, ``infeasible`` or ``no solution``."""
        return status_text(self.status, self.gap)

    @property
    def solved(self) -> bool:
        return self.status in (STATUS_OPTIMAL, STATUS_FEASIBLE)


def run_solver(prob: pulp.LpProblem, options: SolverOptions) -> StageResult:
    """Solve ``prob`` with HiGHS or CBC and read the status honestly: the ward model's
    :func:`siteopt.wards.solve.solve_problem` (the objective read back from PuLP, constants
    included)."""
    outcome = solve_problem(prob, options)
    return StageResult("", outcome.status, outcome.gap, _objective(prob, outcome.status),
                       outcome.solve_time_s)


def _objective(prob: pulp.LpProblem, status: str) -> float | None:
    if status not in (STATUS_OPTIMAL, STATUS_FEASIBLE):
        return None
    value = pulp.value(prob.objective)
    return None if value is None else float(value)


def horizon_problems(inst: PhaseInstance) -> list[str]:
    """Moves that no envelope could fit in the horizon: a build scheme whose earliest start
    plus its build years is after the last year, a closure scheme that may not start by it."""
    last = inst.years[-1]
    out = []
    for k in inst.schemes:
        if k.kind == "build" and k.earliest_start_year + k.build_years > last:
            out.append(f"{k.scheme_id} cannot start before {k.earliest_start_year} and takes "
                       f"{k.build_years} year(s), so its ward opens in "
                       f"{k.earliest_start_year + k.build_years} at the earliest, after the last "
                       f"year {last}; set phasing.last_year to at least "
                       f"{k.earliest_start_year + k.build_years}")
        if k.kind == "closure" and k.earliest_start_year > last:
            out.append(f"{k.scheme_id} cannot start before {k.earliest_start_year}, after the "
                       f"last year {last}; set phasing.last_year to at least "
                       f"{k.earliest_start_year}")
    return out


def _hold(m: PhasingModel, measure: str, value: float) -> None:
    """Add ``measure <= value`` (with the stage tolerance)."""
    bound = value + STAGE_TOL_REL * max(abs(value), 1.0) + STAGE_TOL_ABS
    m.prob += m.measures[measure] <= bound, f"hold_{measure}"


def _values(m: PhasingModel) -> tuple[tuple[int, ...], dict[str, int]]:
    """The switch year index of each site and the start index of each build scheme."""
    inst = m.instance
    switch = []
    for i in range(inst.n_sites):
        on = [t for t in range(inst.n_years) if (m.z[(i, t)].value() or 0.0) > 0.5]
        switch.append(min(on) if on else inst.n_years)
    start = {}
    for k in inst.schemes:
        if k.kind == "build":
            on = [t for t in range(inst.n_years)
                  if (m.s[(k.scheme_id, t)].value() or 0.0) > 0.5]
            start[k.scheme_id] = min(on) if on else inst.n_years
    return tuple(switch), start


def solve_phasing(inst: PhaseInstance, objective: PhaseObjective = "npc",
                  options: SolverOptions | None = None, *,
                  shortfall_first: bool = True) -> PhaseSchedule:
    """Phase a move within its envelopes (see the module docstring).

    Parameters
    ----------
    inst : PhaseInstance
    objective : {"npc", "completion", "access"}
    options : SolverOptions, optional
        Solver, time limit (per stage) and gap.
    shortfall_first : bool
        Minimise the bed shortfall first (the default); False skips that stage, so the
        shortfall is only reported.

    Returns
    -------
    PhaseSchedule
    """
    options = options or SolverOptions()
    reasons = horizon_problems(inst)
    if reasons:
        return PhaseSchedule(STATUS_INFEASIBLE, None, explanation=tuple(reasons),
                             solver=options.solver)
    m = build_phasing_model(inst, objective)
    m.prob.setObjective(m.measures[objective if not shortfall_first else "shortfall"])
    order = (["shortfall"] if shortfall_first else []) + [objective] + (
        ["npc"] if objective != "npc" else [])
    stages: list[StageResult] = []
    found: tuple[tuple[int, ...], dict[str, int]] | None = None
    for k, stage in enumerate(order):
        if k > 0:
            _hold(m, order[k - 1], float(stages[-1].objective or 0.0))
            m.prob.setObjective(m.measures[stage])
        res = run_solver(m.prob, options)
        stages.append(StageResult(stage, res.status, res.gap, res.objective, res.solve_time_s))
        if res.status not in (STATUS_OPTIMAL, STATUS_FEASIBLE):
            break
        found = _values(m)
    base = PhaseSchedule(STATUS_NO_SOLUTION, None, stages=tuple(stages), solver=options.solver,
                         build_time_s=m.build_time_s,
                         solve_time_s=sum(s.solve_time_s for s in stages),
                         n_variables=m.n_variables, n_constraints=m.n_constraints)
    if found is None:
        if stages[0].status == STATUS_INFEASIBLE:
            words = explain_envelopes(inst, objective, options, shortfall_first)
            return dataclasses.replace(base, status=STATUS_INFEASIBLE, explanation=tuple(words))
        return dataclasses.replace(base, explanation=(
            f"{options.solver} stopped with no programme and no proof that none exists; "
            "allow more time (solver.time_limit_s)",))
    solved = [s for s in stages if s.status in (STATUS_OPTIMAL, STATUS_FEASIBLE)]
    base = dataclasses.replace(base, switch=found[0], build_start=found[1])
    if len(solved) == len(order) and all(s.status == STATUS_OPTIMAL for s in solved):
        return dataclasses.replace(base, status=STATUS_OPTIMAL, gap=0.0)
    notes = []
    if len(solved) < len(order):
        notes.append(f"the {order[len(solved)]} stage found nothing in its time; the programme "
                     f"is the best of the {solved[-1].stage} stage")
    gap = max((s.gap for s in solved if s.status == STATUS_FEASIBLE and s.gap is not None),
              default=None)
    return dataclasses.replace(base, status=STATUS_FEASIBLE, gap=gap, explanation=tuple(notes))


def explain_envelopes(inst: PhaseInstance, objective: PhaseObjective,
                      options: SolverOptions, shortfall_first: bool = True) -> list[str]:
    """Why no programme fits the envelopes, in words with numbers (the elastic model)."""
    m = build_phasing_model(inst, objective, elastic=True)
    first = run_solver(m.prob, options)  # least shortfall, held only if it comes first
    if first.status not in (STATUS_OPTIMAL, STATUS_FEASIBLE):
        return [f"no programme completes the moves by {inst.years[-1]}, and the elastic model "
                f"found none either ({first.status}); check the earliest start years"]
    if shortfall_first:
        _hold(m, "shortfall", float(first.objective or 0.0))
    m.prob.setObjective(m.measures["slack"])
    res = run_solver(m.prob, options)
    if res.status not in (STATUS_OPTIMAL, STATUS_FEASIBLE):
        return [f"no programme completes the moves by {inst.years[-1]} within the envelopes "
                f"({res.status} when measuring by how much)"]
    short = {t: float(v.value() or 0.0) * GBP_PER_M for t, v in m.slack.items()}
    if res.status == STATUS_OPTIMAL:
        # place the shortage where the cheapest order (least net present cost) needs it
        _hold(m, "slack", float(res.objective or 0.0))
        m.prob.setObjective(m.measures["npc"])
        if run_solver(m.prob, options).status in (STATUS_OPTIMAL, STATUS_FEASIBLE):
            short = {t: float(v.value() or 0.0) * GBP_PER_M for t, v in m.slack.items()}
    basis = inst.capital_basis
    parts = [f"{inst.years[t]}'s envelope (£{inst.envelope_gbp[t] / GBP_PER_M:.2f}m {basis}) "
             f"is £{x / GBP_PER_M:.2f}m short" for t, x in sorted(short.items())
             if x >= SLACK_WORDS_MIN_GBP]
    keeps = ("completes the moves" if not shortfall_first
             else "keeps beds at or above need every year" if (first.objective or 0.0) < 1e-6
             else f"keeps the bed shortfall at its least ({first.objective:,.0f} bed-days)")
    total = sum(short.values())
    hedge = ("" if res.status == STATUS_OPTIMAL else
             f" ({status_text(res.status, res.gap)}: the least addition may be smaller)")
    return [f"no programme completes the moves by {inst.years[-1]} within the {basis} capital "
            f"envelopes: the cheapest order that {keeps} needs £{total / GBP_PER_M:.2f}m more "
            f"in all{hedge}: " + "; ".join(parts)]


def verify_schedule(inst: PhaseInstance, schedule: PhaseSchedule) -> list[str]:
    """Check a schedule against the rules without the model (envelopes, build before move,
    earliest starts, precedence); the violations found, in words."""
    if not schedule.solved:
        return []
    f = schedule_flows(inst, schedule.switch, schedule.build_start)
    out = []
    spend = f.capex_gbp[: inst.n_years] - (f.receipts_gbp[: inst.n_years]
                                           if inst.capital_basis == "net" else 0.0)
    for t, year in enumerate(inst.years):
        if spend[t] > inst.envelope_gbp[t] + max(1.0, 1e-6 * abs(inst.envelope_gbp[t])):
            out.append(f"{year}: capital £{spend[t]:,.0f} over the envelope "
                       f"£{inst.envelope_gbp[t]:,.0f}")
    for k in inst.schemes:
        start = (schedule.build_start[k.scheme_id] if k.kind == "build"
                 else schedule.switch[k.site_idx])
        if start < inst.n_years and inst.years[0] + start < k.earliest_start_year:
            out.append(f"{k.scheme_id} starts before {k.earliest_start_year}")
        if k.kind == "build" and start + k.build_years > schedule.switch[k.site_idx]:
            out.append(f"{k.scheme_id} is not finished when its site moves")
    for a, b in inst.precedence:
        if schedule.switch[b] < schedule.switch[a]:
            out.append(f"{inst.site_ids[b]} closes before {inst.site_ids[a]} opens")
    if any(s >= inst.n_years for s in schedule.switch):
        out.append("a move is not complete within the horizon")
    return out


def stage_summary(schedule: PhaseSchedule) -> list[dict[str, Any]]:
    """The stages as plain records (for JSON)."""
    return [{"stage": s.stage, "status": status_text(s.status, s.gap),
             "objective": s.objective, "solve_time_s": round(s.solve_time_s, 3)}
            for s in schedule.stages]

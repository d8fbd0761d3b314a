"""Solve the site model honestly, explain infeasibility, evaluate fixed configurations.

Public steps (each callable alone, PyPSA-style):

* :func:`solve_model` -- run a solver on a built :class:`~siteopt.wards.model.SiteModel` and
  read the status from ``prob.status``, ``prob.sol_status`` and (HiGHS) the HiGHS model
  status, because ``pulp.HiGHS`` reports "Optimal" when it stops at a time limit with an
  incumbent.
* :func:`extract` -- our own dicts to a configuration and a sparse assignment.
* :func:`explain_infeasibility` -- solve the elastic model and say, in plain English with numbers,
  which limits conflict and by how much.
* :func:`optimise` -- check, build, (warm start), solve, extract, verify.
* :func:`evaluate` -- the same code path with every site's option fixed (status quo, the 2016
  proposal, any user-listed configuration).

Solvers by name: ``highs`` (the highspy API through ``pulp.HiGHS``, never ``HiGHS_CMD``) and
``cbc`` (``pulp.PULP_CBC_CMD``, bundled with PuLP).
"""

from __future__ import annotations

import os
import re
import signal
import tempfile
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import highspy
import numpy as np
import pulp

from siteopt.errors import InfeasibleError, SolverError
from siteopt.solver_core import (
    STATUS_FEASIBLE,
    STATUS_INFEASIBLE,
    STATUS_NO_SOLUTION,
    STATUS_OPTIMAL,
    TIE_GAP_REL,
    highs_status_word,
    quiet_highs_banner,
    status_from_gap,
)
from siteopt.wards.highs_build import HiGHSWarm as _HiGHSWarm
from siteopt.wards.instance import Instance, ModelSettings, presolve_problems
from siteopt.wards.model import (
    LIMITS,
    ExtraConstraints,
    SiteModel,
    build_model,
)
from siteopt.wards.results import Assignment, Solution
from siteopt.wards.verify import check_solution

SolverName = Literal["highs", "cbc"]
SOLVERS: tuple[str, ...] = ("highs", "cbc")

SOLVED = (STATUS_OPTIMAL, STATUS_FEASIBLE)
"""Status words of an outcome with a solution."""
SLACK_TOL = 1e-6
WALL_CLOCK_GRACE_S = 30.0
"""CBC gets this long beyond its time limit before the wall-clock guard stops it."""


@dataclass(frozen=True)
class SolverOptions:
    """How to solve.

    Parameters
    ----------
    solver : {"highs", "cbc"}
    time_limit_s : float or None
        Solver time limit.
    gap_rel : float or None
        Relative MIP gap at which the solver may stop (solver default if None).
    threads : int or None
    msg : bool
        Show the solver log.
    wall_clock_s : float or None
        Hard guard: a CBC run still going after this many seconds is stopped (default: the
        time limit plus a grace period).
    highs_options : Mapping[str, Any]
        Extra HiGHS options by name (e.g. ``{"mip_lp_solver": "ipm"}``); ignored by CBC.
    break_ties : bool
        :func:`optimise` breaks ties among equally good solutions (:func:`break_ties`): the
        cheapest, then the fewest ward changes from today. False takes the solver's first.
    tie_gap_rel : float
        The tie-break tolerance (default :data:`siteopt.solver_core.TIE_GAP_REL`).
    """

    solver: SolverName = "highs"
    time_limit_s: float | None = None
    gap_rel: float | None = None
    threads: int | None = None
    msg: bool = False
    wall_clock_s: float | None = None
    highs_options: Mapping[str, Any] = field(default_factory=dict)
    break_ties: bool = True
    tie_gap_rel: float = TIE_GAP_REL


@dataclass(frozen=True)
class SolveOutcome:
    """What the solver said, read honestly."""

    status: str  # "optimal" | "feasible" | "infeasible" | "no solution"
    gap: float | None
    objective: float | None
    solver: str
    solve_time_s: float
    detail: str = ""


def _solver(options: SolverOptions, start: Mapping[Any, float] | None, log: Path | None) -> Any:
    if options.solver == "highs":
        quiet_highs_banner(highspy.Highs)  # pulp.HiGHS makes a highspy.Highs per solve
        return _HiGHSWarm(
            start=start,
            msg=options.msg,
            timeLimit=options.time_limit_s,
            gapRel=options.gap_rel,
            threads=options.threads,
            **dict(options.highs_options),
        )
    if options.solver == "cbc":
        if start:
            for var, val in start.items():
                var.setInitialValue(val)
        kwargs: dict[str, Any] = {
            "msg": False,
            "timeLimit": options.time_limit_s,
            "gapRel": options.gap_rel,
            "threads": options.threads,
            "warmStart": bool(start),
            "timeMode": "elapsed",
        }
        if log is not None:
            kwargs["logPath"] = str(log)
        with warnings.catch_warnings():
            # PuLP 3.3 warns that 4.0 drops the bundled CBC; 3.3 is pinned, the bundle is wanted.
            warnings.filterwarnings("ignore", message="PULP_CBC_CMD is deprecated")
            return pulp.PULP_CBC_CMD(**kwargs)
    raise SolverError(f"unknown solver {options.solver!r}: use one of {', '.join(SOLVERS)}")


def _children_named(name: str) -> list[int]:
    """Our own child processes whose command line mentions ``name`` (Linux /proc)."""
    pids: list[int] = []
    task_dir = Path(f"/proc/{os.getpid()}/task")
    if not task_dir.exists():
        return pids
    for task in task_dir.iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                cmd = Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if name in cmd:
                pids.append(int(child))
    return pids


def _cbc_gap(log_text: str) -> float | None:
    m = re.search(r"^Gap:\s+([-0-9.eE+]+)", log_text, flags=re.MULTILINE)
    if m:
        return float(m.group(1))
    obj = re.search(r"^Objective value:\s+([-0-9.eE+]+)", log_text, flags=re.MULTILINE)
    bound = re.search(r"^Lower bound:\s+([-0-9.eE+]+)", log_text, flags=re.MULTILINE)
    if obj and bound:
        o, b = float(obj.group(1)), float(bound.group(1))
        return abs(o - b) / max(abs(o), 1e-10)
    return None


def _start_values(
    model: SiteModel, initial_choice: Mapping[str, str] | None
) -> dict[Any, float] | None:
    """The partial MIP start of ``initial_choice``: a value for every option binary."""
    if not initial_choice:
        return None
    return {var: float(initial_choice.get(sid) == oid) for (sid, oid), var in model.y.items()}


def _cbc_guard(options: SolverOptions, stopped: threading.Event) -> threading.Timer | None:
    """A started timer that stops CBC at the wall-clock limit (``None`` if there is none)."""
    if options.solver != "cbc":
        return None
    wall = options.wall_clock_s
    if wall is None and options.time_limit_s is not None:
        wall = options.time_limit_s + WALL_CLOCK_GRACE_S
    if wall is None:
        return None

    def _stop() -> None:
        for pid in _children_named("cbc"):
            stopped.set()
            os.kill(pid, signal.SIGTERM)

    guard = threading.Timer(wall, _stop)
    guard.daemon = True
    guard.start()
    return guard


def _run_solver(
    prob: pulp.LpProblem, options: SolverOptions, start: Mapping[Any, float] | None
) -> tuple[float, str]:
    """Solve ``prob``; (seconds, the CBC log text or "")."""
    with tempfile.TemporaryDirectory(prefix="siteopt-") as tmp:
        log = Path(tmp) / "cbc.log" if options.solver == "cbc" else None
        solver = _solver(options, start, log)
        stopped = threading.Event()
        guard = _cbc_guard(options, stopped)
        t0 = time.perf_counter()
        try:
            prob.solve(solver)
        except pulp.PulpSolverError as err:
            if stopped.is_set():
                raise SolverError(
                    f"CBC overran its {options.time_limit_s} s time limit and was stopped by "
                    f"the wall-clock guard after {time.perf_counter() - t0:.0f} s; try --solver "
                    "highs or a smaller instance"
                ) from err
            raise SolverError(f"{options.solver} failed: {err}") from err
        finally:
            if guard is not None:
                guard.cancel()
        elapsed = time.perf_counter() - t0
        log_text = log.read_text() if log is not None and log.exists() else ""
    return elapsed, log_text


def _highs_status(prob: pulp.LpProblem) -> tuple[str, float | None, float | None, str]:
    """(status word, gap, objective or None, detail) read from the HiGHS model status."""
    h = prob.solverModel
    hstat = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else None
    status = highs_status_word(hstat, has_solution)
    if status == STATUS_OPTIMAL:
        gap = 0.0 if gap is None or gap < 0 else gap
        status = status_from_gap(gap)
    elif status != STATUS_FEASIBLE:
        gap = None
    objective = float(h.getObjectiveValue()) if status in SOLVED else None
    return status, gap, objective, f", HiGHS {h.modelStatusToString(hstat)}"


CBC_STOPPED = re.compile(r"Result - Stopped on|Exiting on maximum time|Partial search")
"""CBC log lines that say it stopped on a limit: whatever it calls the problem, nothing is
proven."""
CBC_LP_INFEASIBLE = re.compile(r"^Problem is infeasible|Result - Linear relaxation infeasible",
                               flags=re.MULTILINE)
"""CBC log lines of an infeasible LP relaxation: Clp's initial solve runs to the end whatever
the time limit, so these are proofs."""
CBC_WALLCLOCK = re.compile(r"Total time \(CPU seconds\):\s+[-0-9.eE+]+\s+\(Wallclock "
                           r"seconds\):\s+([-0-9.eE+]+)")


def cbc_infeasibility_proven(log_text: str, time_limit_s: float | None) -> bool:
    """Whether a CBC run that PuLP reads as infeasible proved it.

    CBC 2.10 says "Pre-processing says infeasible or unbounded" (PuLP: ``Infeasible``) when the
    time limit runs out inside its preprocessing, e.g. ``--time-limit 0.2`` on a busy machine.
    An infeasibility counts as proven only if the log shows no stop on a limit and either the
    LP relaxation was infeasible or CBC finished before the time limit.

    Parameters
    ----------
    log_text : str
        The CBC log ("" if there is none).
    time_limit_s : float or None
    """
    if CBC_STOPPED.search(log_text):
        return False
    if CBC_LP_INFEASIBLE.search(log_text):
        return True
    if time_limit_s is None:
        return True
    walls = CBC_WALLCLOCK.findall(log_text)
    return bool(walls) and float(walls[-1]) < time_limit_s


def _cbc_status(
    prob: pulp.LpProblem, log_text: str, time_limit_s: float | None
) -> tuple[str, float | None]:
    """(status word, gap) read from PuLP's status codes and the CBC log: ``infeasible`` only if
    :func:`cbc_infeasibility_proven`."""
    status_code, sol_code = prob.status, prob.sol_status
    gap = _cbc_gap(log_text)
    if sol_code == pulp.LpSolutionOptimal and status_code == pulp.LpStatusOptimal:
        gap = 0.0 if gap is None else gap
        return status_from_gap(gap), gap
    if sol_code == pulp.LpSolutionIntegerFeasible:
        return STATUS_FEASIBLE, gap
    said_infeasible = (
        status_code == pulp.LpStatusInfeasible or sol_code == pulp.LpSolutionInfeasible
    )
    if said_infeasible and cbc_infeasibility_proven(log_text, time_limit_s):
        return STATUS_INFEASIBLE, None
    return STATUS_NO_SOLUTION, None


def solve_model(
    model: SiteModel,
    options: SolverOptions = SolverOptions(),
    *,
    initial_choice: Mapping[str, str] | None = None,
) -> SolveOutcome:
    """Solve ``model`` and read its status honestly.

    Parameters
    ----------
    model : SiteModel
    options : SolverOptions
    initial_choice : Mapping[str, str], optional
        site_id -> option_id of a (feasible) configuration to start from (a partial MIP start:
        only the option binaries are given).

    Returns
    -------
    SolveOutcome
        ``status`` is ``optimal`` only if the solver proved optimality within
        :data:`siteopt.solver_core.OPTIMAL_GAP_TOL`; ``feasible`` if it stopped with a solution
        (``gap`` says how far from proven); ``infeasible`` only if the solver proved it (HiGHS
        ``kInfeasible``; CBC as :func:`cbc_infeasibility_proven` reads its log); otherwise
        ``no solution`` (e.g. stopped at the time limit with nothing found).
    """
    return solve_problem(model.prob, options, _start_values(model, initial_choice))


def solve_problem(prob: pulp.LpProblem, options: SolverOptions = SolverOptions(),
                  start: Mapping[Any, float] | None = None) -> SolveOutcome:
    """Solve any PuLP problem (the ward model, the phasing model) with HiGHS or CBC and read
    its status honestly, as :func:`solve_model` describes; ``start``: a partial MIP start."""
    elapsed, log_text = _run_solver(prob, options, start)
    objective = pulp.value(prob.objective) if prob.objective is not None else None
    detail = (
        f"pulp status {pulp.LpStatus[prob.status]}, solution {pulp.LpSolution[prob.sol_status]}"
    )
    gap: float | None
    if options.solver == "highs":
        status, gap, highs_objective, highs_detail = _highs_status(prob)
        detail += highs_detail
        if highs_objective is not None:
            objective = highs_objective
    else:
        status, gap = _cbc_status(prob, log_text, options.time_limit_s)
        if status == STATUS_NO_SOLUTION and prob.status == pulp.LpStatusInfeasible:
            detail += " (no proof: CBC stopped at its time limit)"
    if status not in SOLVED:
        objective = None
    return SolveOutcome(
        status=status,
        gap=gap,
        objective=objective,
        solver=options.solver,
        solve_time_s=elapsed,
        detail=detail,
    )


def extract(model: SiteModel) -> tuple[dict[str, str], Assignment]:
    """The chosen option per site and the sparse assignment, from our own variable dicts."""
    inst = model.instance
    choice: dict[str, str] = {}
    best: dict[str, float] = {}
    for (sid, oid), var in model.y.items():
        val = var.value() or 0.0
        if val > best.get(sid, -1.0):
            best[sid], choice[sid] = val, oid
    site_pos = {sid: i for i, sid in enumerate(inst.site_ids)}
    zone_pos = {zid: i for i, zid in enumerate(inst.zones.zone_ids)}
    serv_pos = {v: i for i, v in enumerate(inst.services)}
    rows: list[tuple[int, int, int, float]] = []
    for (zid, sid, v), var in model.x.items():
        val = var.value()
        if val is not None and val > 0:
            rows.append((zone_pos[zid], site_pos[sid], serv_pos[v], float(min(val, 1.0))))
    if not rows:
        return choice, Assignment.empty()
    arr = np.array(rows)
    return choice, Assignment(
        arr[:, 0].astype(np.int64),
        arr[:, 1].astype(np.int64),
        arr[:, 2].astype(np.int64),
        arr[:, 3].astype(np.float64),
    )


# -- infeasibility -------------------------------------------------------------------------------
def _unmet_reasons(instance: Instance, slack: Mapping[str, float]) -> list[str]:
    """The bed need left unmet by the elastic solution, per service."""
    unmet: dict[str, float] = {}
    for key, val in slack.items():
        if key.startswith("unmet|") and val > SLACK_TOL:
            _, zid, v = key.split("|")
            z = instance.zones.zone_ids.index(zid)
            unmet[v] = unmet.get(v, 0.0) + val * float(
                instance.zones.demand_beds[z, instance.services.index(v)]
            )
    return [
        f"{beds:.1f} beds of {v} need cannot be met by any allowed configuration"
        for v, beds in sorted(unmet.items())
    ]


def _limit_reasons(
    instance: Instance, settings: ModelSettings, slack: Mapping[str, float], model: SiteModel
) -> list[str]:
    """The limits of :data:`~siteopt.wards.model.LIMITS` that must move, and the maximum drive
    time, in the order of the table."""
    total_w = float(instance.zones.weight.sum())
    reasons: list[str] = []
    for lim in LIMITS:
        for _v_idx, v, _row, key in lim.rows(instance):
            val = slack.get(key, 0.0)
            if val > SLACK_TOL and lim.is_on(settings):
                reasons.append(lim.words(settings, val, total_w, v))
    over = slack.get("travel", 0.0)
    if over > SLACK_TOL and settings.max_travel_min is not None:
        reasons.append(_over_travel_words(instance, settings.max_travel_min, over, model))
    return reasons


def _longest_drive(model: SiteModel, limit_min: float) -> tuple[float, str, str] | None:
    """(minutes, zone id, site name) of the longest drive over ``limit_min`` in the solution
    held by ``model``; None if no drive is over."""
    inst = model.instance
    worst: tuple[float, str, str] | None = None
    for (zid, sid, _v), var in model.x.items():
        if (var.value() or 0.0) <= SLACK_TOL:
            continue
        s_idx = inst.site_index(sid)
        t = float(inst.travel_min[inst.zones.zone_ids.index(zid), s_idx])
        if t > limit_min and (worst is None or t > worst[0]):
            worst = (t, zid, inst.sites[s_idx].name)
    return worst


def least_max_travel(
    instance: Instance,
    settings: ModelSettings,
    options: SolverOptions,
    upper_min: float,
    *,
    extra_constraints: ExtraConstraints | None = None,
) -> tuple[float, str, str] | None:
    """The least maximum drive time, above the scenario's and at most ``upper_min``, at which
    the scenario is feasible with every other limit as it is.

    A bisection over the drive times of the matrix in that range, each step a feasibility
    solve (zero objective). Returns (minutes, zone id, site name of the longest drive at that
    limit), or None if no step is proven feasible or a step stops without a proof.
    """
    limit = settings.max_travel_min
    t = instance.travel_min
    lower = -np.inf if limit is None else limit
    candidates = np.unique(t[np.isfinite(t) & (t > lower) & (t <= upper_min)])
    lo, hi = 0, len(candidates) - 1
    best: tuple[float, str, str] | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        trial = replace(settings, max_travel_min=float(candidates[mid]))
        feasible = not presolve_problems(instance, trial)
        if feasible:
            model = build_model(instance, trial, extra_constraints=extra_constraints)
            model.prob.setObjective(pulp.LpAffineExpression())
            outcome = solve_model(model, options)
            if outcome.status not in (*SOLVED, STATUS_INFEASIBLE):
                return None
            feasible = outcome.status in SOLVED
            worst = _longest_drive(model, -np.inf) if feasible else None
            if worst is not None:
                best = (float(candidates[mid]), worst[1], worst[2])
        if feasible:
            hi = mid - 1
        else:
            lo = mid + 1
    return best


def _over_travel_words(
    instance: Instance, limit_min: float, over_weight: float, model: SiteModel
) -> str:
    """The maximum drive time in the elastic solution: its longest drive over the limit (zone
    and site named) and the weight sent beyond it."""
    worst = _longest_drive(model, limit_min)
    people = f"{over_weight:,.0f} people (weight) would have to travel over it"
    if worst is None:
        return f"the {limit_min:g}-minute limit on any zone's drive is too low ({people})"
    t, zid, name = worst
    return (
        f"the {limit_min:g}-minute limit on any zone's drive is too low: in the smallest "
        f"relaxation found zone {zid} would drive {t:.1f} minutes to {name}, "
        f"{t - limit_min:.1f} minutes over ({people})"
    )


def _explanation(
    instance: Instance, settings: ModelSettings, reasons: list[str], any_unmet: bool
) -> str:
    """The sentence for ``reasons`` (unmet bed need first)."""
    s = settings
    need = ", ".join(
        f"{float(d):.1f} {v} beds"
        for v, d in zip(instance.services, instance.total_demand_beds, strict=True)
    )
    travel_phrase = (
        f" with nobody over {s.max_travel_min:g} minutes" if s.max_travel_min is not None else ""
    )
    if len(reasons) == 1 and not any_unmet and reasons[0].endswith(" short"):
        return (
            f"The scenario is infeasible: {reasons[0]} of the cheapest configuration that "
            f"covers the bed need ({need}){travel_phrase} and meets every other limit."
        )
    if not reasons:
        return "The scenario is infeasible, but the elastic model found no limit to relax."
    if len(reasons) == 1:
        return (
            f"The scenario is infeasible: to cover the bed need ({need}){travel_phrase}, "
            f"{reasons[0]}."
        )
    return (
        "The scenario is infeasible: the limits conflict. The smallest relaxation found "
        f"(bed need {need}{travel_phrase}): " + "; ".join(reasons) + "."
    )


def explain_infeasibility(
    instance: Instance,
    settings: ModelSettings,
    options: SolverOptions = SolverOptions(),
    *,
    extra_constraints: ExtraConstraints | None = None,
) -> str:
    """Plain-English reasons why ``settings`` is infeasible for ``instance``, with numbers.

    Solves the elastic model (a slack on every limit of :data:`~siteopt.wards.model.LIMITS`,
    unmet demand and travel beyond the maximum drive time allowed at a price, minimising the
    sum of relative violations) and names each limit that must move, and by how much, in the
    words of its :class:`~siteopt.wards.model.Limit`.
    """
    problems = presolve_problems(instance, settings)
    if problems:
        return "The scenario is infeasible: " + "; ".join(p.message for p in problems) + "."
    model = build_model(instance, settings, extra_constraints=extra_constraints, elastic=True)
    outcome = solve_model(model, options)
    if outcome.status == STATUS_INFEASIBLE:
        return (
            "The scenario is infeasible even with every limit relaxed: the locks (sites forced "
            "open, closed or to an option) and the option catalogue conflict."
        )
    if outcome.status not in SOLVED:
        return (
            "The scenario is infeasible, but the re-solve that finds which limits to relax "
            f"found no solution{_within_limit(options)}; try a longer --time-limit to see them."
        )
    slack = {k: float(var.value() or 0.0) for k, var in model.elastic.items()}
    unmet = _unmet_reasons(instance, slack)
    reasons = unmet + _limit_reasons(instance, settings, slack, model)
    only_travel = [k for k, v in slack.items() if v > SLACK_TOL] == ["travel"]
    if only_travel and settings.max_travel_min is not None:
        worst = _longest_drive(model, settings.max_travel_min)
        least = None if worst is None else least_max_travel(
            instance, settings, options, worst[0], extra_constraints=extra_constraints)
        if least is not None:
            t, zid, name = least
            reasons = [
                f"the {settings.max_travel_min:g}-minute limit on any zone's drive is "
                f"{t - settings.max_travel_min:.1f} minutes short: {t:.1f} minutes is the least "
                f"that works with every other limit as it is (zone {zid} then drives {t:.1f} "
                f"minutes to {name})"
            ]
    text = _explanation(instance, settings, reasons, bool(unmet))
    if outcome.status != STATUS_OPTIMAL:
        text += (
            f" (The re-solve stopped{_within_limit(options)} with a gap of "
            f"{'unknown size' if outcome.gap is None else f'{outcome.gap:.2%}'}: a smaller "
            "relaxation may exist.)"
        )
    return text


def _within_limit(options: SolverOptions) -> str:
    """`` within the 0.2 s time limit`` (or "" without a time limit)."""
    if options.time_limit_s is None:
        return ""
    return f" within the {options.time_limit_s:g} s time limit"


def no_solution_message(options: SolverOptions, outcome: SolveOutcome) -> str:
    """What a solve that stopped with neither a solution nor a proof says."""
    if options.time_limit_s is not None:
        return (
            f"no solution found within the {options.time_limit_s:g} s time limit "
            f"({options.solver}: {outcome.detail}); nothing is proven either way (the scenario "
            "is not known to be infeasible); try a longer --time-limit"
        )
    return (
        f"{options.solver} stopped with no solution and no proof of infeasibility "
        f"({outcome.detail}); try --solver {'cbc' if options.solver == 'highs' else 'highs'}"
    )


# -- ties --------------------------------------------------------------------------------------
def changes_expression(model: SiteModel) -> pulp.LpAffineExpression:
    r"""Wards opened or closed from today, :math:`\sum_{sk} \Delta_{sk} y_{sk}` with
    :math:`\Delta_{sk}` = :meth:`~siteopt.wards.instance.Site.changes` of option :math:`k`."""
    terms = []
    for site in model.instance.sites:
        for opt in site.options:
            delta = site.changes(opt)
            if delta:
                terms.append((model.y[(site.site_id, opt.option_id)], float(delta)))
    return pulp.LpAffineExpression(terms)


def _values(prob: pulp.LpProblem) -> dict[str, float | None]:
    return {v.name: v.varValue for v in prob.variables()}


def _restore(prob: pulp.LpProblem, values: Mapping[str, float | None]) -> None:
    for v in prob.variables():
        v.varValue = values.get(v.name)


def break_ties(model: SiteModel, outcome: SolveOutcome, options: SolverOptions) -> SolveOutcome:
    r"""Among the solutions as good as a proven optimum, the cheapest, then the fewest changes.

    With the objective :math:`f` held to :math:`f \le z^* + \epsilon \max(|z^*|, 1)`
    (:math:`\epsilon` = ``options.tie_gap_rel``, default
    :data:`siteopt.solver_core.TIE_GAP_REL`), re-solve for the least annual cost :math:`G`
    (skipped if :math:`f` is the cost), then with :math:`G` held as well, for the fewest ward
    changes from today (:func:`changes_expression`). Each stage starts from the solution before
    it and keeps it if it finds nothing. Only after a proven-optimal solve; the gap of the result
    on :math:`f` is the first solve's gap plus what the tie-break gave up (within
    :math:`\epsilon`), and the status follows it. The rows ``tie_objective`` and ``tie_cost``
    stay in ``model.prob``; its objective is set back to :math:`f`.
    """
    tol = options.tie_gap_rel
    if not options.break_ties or outcome.status != STATUS_OPTIMAL or outcome.objective is None:
        return outcome
    prob = model.prob
    primary = prob.objective
    z_star = float(outcome.objective)
    t0 = time.perf_counter()
    held: list[tuple[pulp.LpAffineExpression, float, str]] = [
        (primary, z_star + tol * max(abs(z_star), 1.0), "tie_objective")
    ]
    added: list[str] = []
    stages: list[tuple[pulp.LpAffineExpression, str]] = [(changes_expression(model), "")]
    if model.settings.objective != "cost":
        stages.insert(0, (model.cost_expr, "tie_cost"))
    for expr, hold_name in stages:
        used = time.perf_counter() - t0 + outcome.solve_time_s
        if options.time_limit_s is not None and used >= options.time_limit_s:
            break
        for lhs, rhs, name in held[len(added):]:
            prob.addConstraint(pulp.LpConstraint(lhs, pulp.LpConstraintLE, name, rhs))
            added.append(name)
        before = _values(prob)
        choice, _ = extract(model)
        prob.setObjective(expr)
        remaining = None if options.time_limit_s is None else options.time_limit_s - used
        stage = solve_model(model, replace(options, time_limit_s=remaining),
                            initial_choice=choice)
        if stage.status not in SOLVED or stage.objective is None:
            _restore(prob, before)
            break
        if hold_name:
            value = float(stage.objective)
            held.append((expr, value + tol * max(abs(value), 1.0), hold_name))
    prob.setObjective(primary)
    z_final = float(pulp.value(primary))
    gap = (outcome.gap or 0.0) + max(0.0, z_final - z_star) / max(abs(z_final), 1e-10)
    return replace(
        outcome,
        status=status_from_gap(gap),
        gap=gap,
        objective=z_final,
        solve_time_s=outcome.solve_time_s + time.perf_counter() - t0,
        detail=outcome.detail + "; ties broken by cost, then changes from today",
    )


# -- the end-to-end steps ------------------------------------------------------------------------
def _finish(
    model: SiteModel,
    outcome: SolveOutcome,
    settings: ModelSettings,
    *,
    evaluated: bool,
    label: str,
    check_settings: ModelSettings,
    options: SolverOptions,
) -> Solution:
    inst = model.instance
    choice, assignment = extract(model)
    violations = check_solution(
        inst,
        check_settings,
        choice,
        assignment.zone_idx,
        assignment.site_idx,
        assignment.service_idx,
        assignment.share,
    )
    return Solution(
        status=outcome.status,
        gap=outcome.gap,
        objective=outcome.objective,
        objective_mode=settings.objective,
        solver=options.solver,
        choice=choice,
        assignment=assignment,
        build_time_s=model.build_time_s,
        solve_time_s=outcome.solve_time_s,
        evaluated=evaluated,
        label=label,
        violations=tuple(violations),
    )


def optimise(
    instance: Instance,
    settings: ModelSettings | None = None,
    options: SolverOptions = SolverOptions(),
    *,
    extra_constraints: ExtraConstraints | None = None,
    initial_choice: Mapping[str, str] | None = None,
    polish_assignment: bool = True,
    explain: bool = True,
) -> Solution:
    """Choose one option per site: check, build, solve, extract, verify.

    Parameters
    ----------
    instance, settings, options
    extra_constraints : callable, optional
        Hook called with the built model.
    initial_choice : Mapping[str, str], optional
        A configuration to warm start from (e.g. :func:`siteopt.wards.heuristic.greedy_choice`).
    polish_assignment : bool
        Under the ``cost`` objective the assignment is free among equally cheap ones; re-solve
        it for the least travel with the configuration fixed (same code path as
        :func:`evaluate`).
    explain : bool
        Explain a proven infeasibility (:func:`explain_infeasibility`; False: just say so).

    Raises
    ------
    InfeasibleError
        With the plain-English explanation of :func:`explain_infeasibility`.
    SolverError
        If the solver stopped with no solution.
    """
    settings = settings if settings is not None else ModelSettings()
    settings.check(instance)
    problems = presolve_problems(instance, settings)
    if problems:
        raise InfeasibleError(
            "The scenario is infeasible: " + "; ".join(p.message for p in problems) + "."
        )
    model = build_model(instance, settings, extra_constraints=extra_constraints)
    outcome = solve_model(model, options, initial_choice=initial_choice)
    if outcome.status == STATUS_INFEASIBLE:
        raise InfeasibleError(explain_infeasibility(
            instance, settings, options, extra_constraints=extra_constraints) if explain
            else "The scenario is infeasible (proven by the solver).")
    if outcome.status not in SOLVED:
        raise SolverError(no_solution_message(options, outcome))
    outcome = break_ties(model, outcome, options)
    sol = _finish(
        model,
        outcome,
        settings,
        evaluated=False,
        label="optimised",
        check_settings=settings,
        options=options,
    )
    if polish_assignment and settings.objective == "cost":
        choice = dict(sol.choice)
        polish = replace(
            settings,
            objective="access",
            fixed_options=choice,
            max_cost_gbp_per_year=None,
        )
        pm = build_model(instance, polish, extra_constraints=extra_constraints)
        po = solve_model(pm, replace(options, gap_rel=None))
        if po.status == "optimal":
            polished = _finish(
                pm,
                po,
                polish,
                evaluated=False,
                label="optimised",
                check_settings=settings,
                options=options,
            )
            sol = replace(sol, assignment=polished.assignment, violations=polished.violations)
    return sol


def evaluate(
    instance: Instance,
    choice: Mapping[str, str],
    settings: ModelSettings | None = None,
    options: SolverOptions = SolverOptions(),
    *,
    label: str = "evaluated",
) -> Solution:
    """Measure a fixed configuration (status quo, a proposal) by the same code path.

    Every site's option is fixed and the zones are assigned for the least weighted travel under
    the capacity of the chosen options. The scenario's limits (capital, staffing, drive times,
    ...) are not imposed: they are checked afterwards and any breach is listed in
    ``Solution.violations``.

    Raises
    ------
    InfeasibleError
        If the configuration cannot hold the bed need at all.
    """
    settings = settings if settings is not None else ModelSettings()
    missing = sorted(set(instance.site_ids) - set(choice))
    if missing:
        raise InfeasibleError(f"the configuration '{label}' gives no option for sites {missing}")
    fixed = ModelSettings(
        objective="access",
        fixed_options=dict(choice),
        k_nearest=None,
        tight_linking=settings.tight_linking,
    )
    fixed.check(instance)
    problems = presolve_problems(instance, fixed)
    beds_short = [p.message for p in problems]
    if not beds_short:
        model = build_model(instance, fixed)
        outcome = solve_model(model, options)
        if outcome.status == STATUS_NO_SOLUTION:
            raise SolverError(f"the configuration '{label}': "
                              + no_solution_message(options, outcome))
        if outcome.status in SOLVED:
            sol = _finish(
                model,
                outcome,
                settings,
                evaluated=True,
                label=label,
                check_settings=settings,
                options=options,
            )
            return replace(sol, objective_mode="evaluate")
    cap = {
        v: sum(
            instance.sites[instance.site_index(sid)].option(oid).usable_beds.get(v, 0.0)
            for sid, oid in choice.items()
        )
        for v in instance.services
    }
    need = dict(zip(instance.services, instance.total_demand_beds.tolist(), strict=True))
    short = "; ".join(
        f"{v}: {cap[v]:.1f} usable beds for a need of {need[v]:.1f}" for v in instance.services
    )
    raise InfeasibleError(
        f"the configuration '{label}' cannot hold the bed need ({short})"
        + (f"; {'; '.join(beds_short)}" if beds_short else "")
    )

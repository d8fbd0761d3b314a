r"""The end state and its phasing chosen together (issue 19, ``phasing.choose_end_state``).

The ward model of :mod:`siteopt.wards.model` (its option binaries :math:`y_{sk}`, assignment,
capacity and every limit of the scenario, for the planning year's need) is built as it is, and
the phasing rows below are added to the same PuLP problem; the ward model's objective is
replaced by the phasing stages (least bed shortfall over the years, then least net present
cost, or earliest completion then least net present cost).

Formulation (added to the ward model's; sets and parameters as in
:mod:`siteopt.wards.phasing_model`, per site :math:`s` and option :math:`k` of its catalogue)
    :math:`z_{skt} \in \{0,1\}` for every option :math:`k` other than today's: site :math:`s`
    runs option :math:`k` from year :math:`t` on; :math:`\bar z_{skt} = z_{skt}` in the horizon,
    0 before it and :math:`y_{sk}` after it.

    (J1) ``j01_switch_{s}_{k}_{t}``: :math:`z_{skt} \ge z_{sk,t-1}`; ``j01_end_{s}_{k}``:
    :math:`z_{sk,n-1} = y_{sk}` (the chosen end state is reached by the last year; a site whose
    wards today are not an option, such as Evington's with the General's stroke ward, must
    move).
    (J2) builds, as bounds: :math:`z_{skt} = 0` unless every build scheme :math:`j` of option
    :math:`k` could have started :math:`d_j` years before, no earlier than its earliest start
    year, and every closure scheme may start in year :math:`t`. A build scheme's work runs the
    :math:`d_j` years just before its site moves (capex :math:`\frac{c_j}{d_j}(\bar z_{sk,t+d_j}
    - \bar z_{skt})` in year :math:`t`); a closure scheme's from the move (:math:`\frac{c_j}
    {d_j}(\bar z_{skt} - \bar z_{sk,t-d_j})`). (The fixed-target model may build earlier and
    wait; here the work is tied to the move, which keeps the model small.)
    (J3) receipts: a receipt of option :math:`k` that needs no other site closed comes
    :math:`L_j` years after the move, :math:`R_j (\bar z_{sk,t-L_j} - \bar z_{sk,t-L_j-1})`; a
    linked receipt :math:`l` (:class:`~siteopt.wards.instance.LinkedReceipt`) is realised by
    year :math:`t` when :math:`w_{lt} = 1`: ``j03_receipt_{l}_{t}``: :math:`w_{lt} \le
    \sum_{k \in K_l} \bar z_{s_l k, t-L}`, :math:`w_{lt} \le \kappa_{c,t-L}` for :math:`c \in
    C_l` and :math:`w_{lt} \ge \sum_{k \in K_l} \bar z_{s_l k, t-L} + \sum_c \kappa_{c,t-L} -
    |C_l|`, with :math:`\kappa_{ct}` = site :math:`c` keeps no inpatient ward in year :math:`t`.
    (J4) ``j04_after_{j}_{c}_{t}``: :math:`\kappa_{ct} \le \sum_{k \ni j} z_{akt} + 1 -
    \sum_{k \ni j} y_{ak}` (a site whose beds scheme :math:`j` at site :math:`a` takes closes no
    earlier than that ward opens, if the end state has the scheme).
    (J5) ``j05_beds_{t}_{v}``: :math:`\sum_s (u^0_{sv} + \sum_k (u_{skv} - u^0_{sv}) z_{skt}) +
    h_{tv} \ge D_{tv}`.
    (J6) ``j06_capital_{t}``: capex less receipts (net) or capex (gross) within :math:`E_t`.
    (J7) completion objective: ``j07_done_{s}_{t}``: :math:`a_t \le y_{s,\mathrm{today}} +
    \sum_k z_{skt}`.

Net present cost: :math:`\sum_t \delta_t (\omega X_t - Q_t) + \sum_{t=1}^{n-1} \delta_t
\Gamma_t + \Gamma^{\mathrm{end}} \sum_{t=n}^{N} \delta_t`, where :math:`\Gamma^{\mathrm{end}} =
\sum_s (g^0_s + \sum_k (g_{sk} - g^0_s) y_{sk})` is the end state's revenue (the ward model's
choice enters the cost of every later year), less the residual value (zero for 60-year assets
over 60 years; the flows of a plan are costed exactly by
:func:`siteopt.appraisal.phasing.phased_npc`). Only this module of the phasing imports the
ward model.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp

from siteopt.solver_core import (
    GBP_PER_M,
    STATUS_FEASIBLE,
    STATUS_INFEASIBLE,
    STATUS_NO_SOLUTION,
    STATUS_OPTIMAL,
)
from siteopt.wards.instance import Instance, LinkedReceipt, ModelSettings
from siteopt.wards.model import SiteModel, build_model
from siteopt.wards.phasing_instance import CapitalBasis, FloatArray, PhaseObjective
from siteopt.wards.phasing_solve import STAGE_TOL_ABS, STAGE_TOL_REL, StageResult, run_solver
from siteopt.wards.solve import SolverOptions


@dataclass(frozen=True)
class JointScheme:
    """A scheme an option triggers: ``build`` or ``closure``, capex, build years, earliest
    start year; ``receipt_gbp``/``lag_years`` its receipt if it needs no other site closed."""

    scheme_id: str
    kind: str
    capex_gbp: float
    build_years: int
    earliest_start_year: int
    receipt_gbp: float = 0.0
    lag_years: int = 0


@dataclass(frozen=True, eq=False)
class JointInstance:
    """The ward model's instance and the phasing data of every option (see the module
    docstring). ``before_*`` are today's wards of each site (also where today's wards are not
    an option of the catalogue); ``schemes[s][option_id]`` the schemes of each option not in
    today's; ``linked`` the linked receipts with their lags; ``takes`` (scheme id, site index
    whose beds it takes)."""

    instance: Instance
    years: tuple[int, ...]
    today: tuple[str | None, ...]
    before_usable: FloatArray
    before_revenue: FloatArray
    before_closed: tuple[bool, ...]
    schemes: tuple[dict[str, tuple[JointScheme, ...]], ...]
    linked: tuple[tuple[LinkedReceipt, int], ...]
    takes: tuple[tuple[str, int], ...]
    need_beds: FloatArray
    bed_days_per_bed_year: float
    envelope_gbp: FloatArray
    capital_basis: CapitalBasis
    discount: FloatArray
    """Green Book factors for years 0..N (N the appraisal period)."""
    capex_weight: float = 1.0

    @property
    def n_flow_years(self) -> int:
        lag = max([lag for _, lag in self.linked]
                  + [j.lag_years for site in self.schemes for js in site.values() for j in js],
                  default=0)
        build = max([j.build_years for site in self.schemes for js in site.values() for j in js],
                    default=1)
        return len(self.years) + lag + build


@dataclass
class JointModel:
    """The ward model with the phasing rows and measures."""

    ward: SiteModel
    inst: JointInstance
    prob: pulp.LpProblem
    z: dict[tuple[int, str, int], pulp.LpVariable] = field(default_factory=dict)
    measures: dict[str, Any] = field(default_factory=dict)
    capex: list[Any] = field(default_factory=list)
    receipts: list[Any] = field(default_factory=list)

    def y(self, s: int, k: str) -> Any:
        return self.ward.y[(self.inst.instance.sites[s].site_id, k)]

    def zv(self, s: int, k: str, t: int) -> Any:
        """:math:`\\bar z_{skt}`."""
        if t < 0:
            return 0
        if t >= len(self.inst.years):
            return self.y(s, k)
        return self.z[(s, k, t)]

    def closed(self, s: int, t: int) -> Any:
        """:math:`\\kappa_{st}`: site ``s`` keeps no inpatient ward in year ``t``."""
        site, today = self.inst.instance.sites[s], self.inst.today[s]
        if self.inst.before_closed[s]:  # closed today: closed until it moves to a ward
            return 1 - pulp.lpSum(self.zv(s, o.option_id, t) for o in site.options
                                  if o.inpatient and o.option_id != today)
        return pulp.lpSum(self.zv(s, o.option_id, t) for o in site.options
                          if not o.inpatient and o.option_id != today)


def _movable(inst: JointInstance, s: int, k: str) -> list[int]:
    """Horizon years in which site ``s`` may run option ``k`` (J2)."""
    years = inst.years
    ok = []
    for t, year in enumerate(years):
        fine = True
        for j in inst.schemes[s].get(k, ()):
            if j.kind == "build" and (t < j.build_years
                                      or year - j.build_years < j.earliest_start_year):
                fine = False
            if j.kind == "closure" and year < j.earliest_start_year:
                fine = False
        if fine:
            ok.append(t)
    return ok


def _switches(m: JointModel) -> None:
    """Variables :math:`z`, rows (J1), (J2)."""
    inst = m.inst
    n = len(inst.years)
    for s, site in enumerate(inst.instance.sites):
        for o in site.options:
            k = o.option_id
            if k == inst.today[s]:
                continue
            allowed = set(_movable(inst, s, k))
            for t in range(n):
                m.z[(s, k, t)] = m.prob.add_variable(f"jz_{s}_{k}_{t}", 0,
                                                 1 if t in allowed else 0, cat=pulp.LpInteger)
                if t > 0:
                    m.prob += m.z[(s, k, t)] >= m.z[(s, k, t - 1)], f"j01_switch_{s}_{k}_{t}"
            m.prob += m.z[(s, k, n - 1)] == m.y(s, k), f"j01_end_{s}_{k}"


def _money(m: JointModel) -> None:
    """Capex and receipts per cash-flow year (J2), (J3)."""
    inst = m.inst
    n_flow = inst.n_flow_years
    capex: list[list[Any]] = [[] for _ in range(n_flow)]
    recs: list[list[Any]] = [[] for _ in range(n_flow)]
    for s, by_option in enumerate(inst.schemes):
        for k, schemes in by_option.items():
            for j in schemes:
                rate = j.capex_gbp / j.build_years / GBP_PER_M
                for t in range(n_flow):
                    if j.kind == "build":
                        capex[t].append(rate * (m.zv(s, k, t + j.build_years) - m.zv(s, k, t)))
                    else:
                        capex[t].append(rate * (m.zv(s, k, t) - m.zv(s, k, t - j.build_years)))
                    if j.receipt_gbp > 0:
                        recs[t].append(j.receipt_gbp / GBP_PER_M * (
                            m.zv(s, k, t - j.lag_years) - m.zv(s, k, t - j.lag_years - 1)))
    for idx, (lr, lag) in enumerate(inst.linked):
        prev: Any = 0
        for t in range(n_flow):
            w = _linked(m, idx, lr, lag, t)
            recs[t].append(lr.receipt_gbp / GBP_PER_M * (w - prev))
            prev = w
    m.capex = [pulp.lpSum(x) for x in capex]
    m.receipts = [pulp.lpSum(x) for x in recs]


def _linked(m: JointModel, idx: int, lr: LinkedReceipt, lag: int, t: int) -> Any:
    """:math:`w_{lt}` with rows (J3)."""
    if t - lag < 0:
        return 0
    trig = pulp.lpSum(m.zv(lr.site_idx, k, t - lag) for k in lr.option_ids
                      if k != m.inst.today[lr.site_idx])
    closed = [m.closed(c, t - lag) for c in lr.closed_site_idx]
    w = m.prob.add_variable(f"jw_{idx}_{t}", 0, 1)
    m.prob += w <= trig, f"j03_receipt_{idx}_{t}"
    for c, term in zip(lr.closed_site_idx, closed, strict=True):
        m.prob += w <= term, f"j03_receipt_{idx}_{c}_{t}"
    m.prob += w >= trig + pulp.lpSum(closed) - len(closed), f"j03_receipt_{idx}_all_{t}"
    return w


def _rows(m: JointModel, objective: PhaseObjective) -> None:
    """Rows (J4)-(J7) and the measures."""
    inst, sites = m.inst, m.inst.instance.sites
    n = len(inst.years)
    for sid, c in inst.takes:
        for s, by_option in enumerate(inst.schemes):
            trig = [k for k, js in by_option.items() if any(j.scheme_id == sid for j in js)]
            if not trig:
                continue
            for t in range(n):
                m.prob += (m.closed(c, t) <= pulp.lpSum(m.z[(s, k, t)] for k in trig) + 1
                           - pulp.lpSum(m.y(s, k) for k in trig), f"j04_after_{sid}_{c}_{t}")
    short = []
    for t in range(n):
        for v, svc in enumerate(inst.instance.services):
            h = m.prob.add_variable(f"jh_{t}_{v}", 0)
            short.append(h)
            beds = pulp.lpSum((o.usable_beds.get(svc, 0.0) - inst.before_usable[s, v])
                              * m.z[(s, o.option_id, t)] for s, site in enumerate(sites)
                              for o in site.options if o.option_id != inst.today[s])
            m.prob += (beds + h >= float(inst.need_beds[t, v] - inst.before_usable[:, v].sum()),
                       f"j05_beds_{t}_{svc}")
        limit = float(inst.envelope_gbp[t])
        if np.isfinite(limit):
            spend = m.capex[t] - (m.receipts[t] if inst.capital_basis == "net" else 0)
            m.prob += spend <= limit / GBP_PER_M, f"j06_capital_{t}"
    m.measures["shortfall"] = inst.bed_days_per_bed_year * pulp.lpSum(short)
    m.measures["npc"] = _npc(m)
    if objective == "completion":
        done = []
        for t in range(n):
            a = m.prob.add_variable(f"ja_{t}", 0, 1)
            done.append(a)
            for s in range(len(sites)):
                today = inst.today[s]
                stay = m.y(s, today) if today is not None else 0
                moved = pulp.lpSum(m.z[(s, o.option_id, t)] for o in sites[s].options
                                   if o.option_id != inst.today[s])
                m.prob += a <= stay + moved, f"j07_done_{s}_{t}"
        m.measures["completion"] = pulp.lpSum(1 - a for a in done)


def _npc(m: JointModel) -> Any:
    inst, sites = m.inst, m.inst.instance.sites
    delta = inst.discount
    n, n_years = len(delta) - 1, len(inst.years)
    terms = [float(delta[t]) * (inst.capex_weight * m.capex[t] - m.receipts[t])
             for t in range(min(inst.n_flow_years, n + 1))]
    for t in range(1, n + 1):
        for s, site in enumerate(sites):
            for o in site.options:
                if o.option_id == inst.today[s]:
                    continue
                change = (o.revenue_gbp_per_year - inst.before_revenue[s]) / GBP_PER_M
                var = m.z[(s, o.option_id, t)] if t < n_years else m.y(s, o.option_id)
                terms.append(float(delta[t]) * change * var)
    return pulp.lpSum(terms)


def build_joint_model(inst: JointInstance, settings: ModelSettings,
                      objective: PhaseObjective = "npc") -> JointModel:
    """The ward model of ``settings`` with the phasing rows (see the module docstring)."""
    if objective == "access":
        raise ValueError("the access objective is not offered with choose_end_state")
    ward = build_model(inst.instance, settings)
    m = JointModel(ward, inst, ward.prob)
    _switches(m)
    _money(m)
    _rows(m, objective)
    m.prob.setObjective(m.measures["shortfall"])
    return m


@dataclass(frozen=True)
class JointResult:
    """The chosen end state and the year each site moves (None: it keeps today's wards)."""

    status: str
    gap: float | None
    choice: dict[str, str] = field(default_factory=dict)
    move_year_idx: dict[str, int] = field(default_factory=dict)
    stages: tuple[StageResult, ...] = ()
    build_time_s: float = 0.0
    n_variables: int = 0
    n_constraints: int = 0


def solve_joint(inst: JointInstance, settings: ModelSettings,
                objective: PhaseObjective = "npc", options: SolverOptions | None = None, *,
                shortfall_first: bool = True) -> JointResult:
    """Choose the end state and its phasing together, in stages (as
    :func:`siteopt.wards.phasing_solve.solve_phasing`)."""
    options = options or SolverOptions()
    t0 = time.perf_counter()
    m = build_joint_model(inst, settings, objective)
    base = JointResult(STATUS_NO_SOLUTION, None, build_time_s=time.perf_counter() - t0,
                       n_variables=len(m.prob.variables()),
                       n_constraints=int(m.prob.numConstraints()))
    order = (["shortfall"] if shortfall_first else []) + [objective] + (
        ["npc"] if objective != "npc" else [])
    stages: list[StageResult] = []
    found: tuple[dict[str, str], dict[str, int]] | None = None
    for k, stage in enumerate(order):
        if k > 0:
            value = float(stages[-1].objective or 0.0)
            bound = value + STAGE_TOL_REL * max(abs(value), 1.0) + STAGE_TOL_ABS
            m.prob += m.measures[order[k - 1]] <= bound, f"hold_{order[k - 1]}"
        m.prob.setObjective(m.measures[stage])
        res = run_solver(m.prob, options)
        stages.append(dataclasses.replace(res, stage=stage))
        if res.status not in (STATUS_OPTIMAL, STATUS_FEASIBLE):
            break
        found = _read(m)
    base = dataclasses.replace(base, stages=tuple(stages))
    if found is None:
        status = STATUS_INFEASIBLE if stages[0].status == STATUS_INFEASIBLE else \
            STATUS_NO_SOLUTION
        return dataclasses.replace(base, status=status)
    solved = [s for s in stages if s.status in (STATUS_OPTIMAL, STATUS_FEASIBLE)]
    if len(solved) == len(order) and all(s.status == STATUS_OPTIMAL for s in solved):
        return dataclasses.replace(base, status=STATUS_OPTIMAL, gap=0.0, choice=found[0],
                                   move_year_idx=found[1])
    gap = max((s.gap for s in solved if s.gap is not None and s.status == STATUS_FEASIBLE),
              default=None)
    return dataclasses.replace(base, status=STATUS_FEASIBLE, gap=gap, choice=found[0],
                               move_year_idx=found[1])


def _read(m: JointModel) -> tuple[dict[str, str], dict[str, int]]:
    choice: dict[str, str] = {}
    moves: dict[str, int] = {}
    n = len(m.inst.years)
    for s, site in enumerate(m.inst.instance.sites):
        best = max(site.options, key=lambda o: m.y(s, o.option_id).value() or 0.0)
        choice[site.site_id] = best.option_id
        if best.option_id == m.inst.today[s]:
            continue
        on = [t for t in range(n) if (m.z[(s, best.option_id, t)].value() or 0.0) > 0.5]
        moves[site.site_id] = min(on) if on else n
    return choice, moves

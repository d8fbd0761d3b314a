r"""The phasing MILP: in which year each scheme starts and each site's wards move (issue 19).

Built with PuLP from a :class:`~siteopt.wards.phasing_instance.PhaseInstance` and solved by
:mod:`siteopt.wards.phasing_solve` (HiGHS or CBC, objectives in stages).

Formulation
-----------
Sets
    :math:`I` changing sites; :math:`T = \{0..n-1\}` horizon years (year :math:`t` is
    ``years[t]``); :math:`F = \{0..n_F-1\}` cash-flow years (:math:`n_F \ge n`, past the
    horizon so late receipts count); :math:`V` services; :math:`K_b` build schemes,
    :math:`K_c` closure schemes (site :math:`i_k`, capex :math:`c_k`, build years :math:`d_k`,
    earliest start year :math:`e_k`); :math:`R` receipts (amount :math:`R_r`, sites
    :math:`J_r`, lag :math:`L_r`); :math:`P` precedence pairs (receiving :math:`a`, closing
    :math:`b`); :math:`C = 2^I` intermediate configurations (access objective only).

Parameters
    :math:`u^0_{iv}, u^1_{iv}` usable beds of site :math:`i` before and after its move;
    :math:`g^0_i, g^1_i` its annual revenue before and after; :math:`U_v, G` beds and revenue of
    the sites that do not change; :math:`D_{tv}` bed need; :math:`b` bed-days per bed-year;
    :math:`E_t` the capital envelope (rows only where finite); :math:`\delta_t` the Green Book
    discount factor of year :math:`t` (year 0 = the first year); :math:`\omega = 1 +` optimism
    bias; :math:`m_c` the 65+ mean drive of configuration :math:`c`.

Variables
    :math:`z_{it} \in \{0,1\}`, :math:`t \in T`: site :math:`i` runs the target's wards in year
    :math:`t`; outside :math:`T`, :math:`z_{it} = 0` for :math:`t < 0` and :math:`1` for
    :math:`t \ge n`, and :math:`z_{i,n-1} = 1` (every move completes within the horizon).
    :math:`s_{kt} \in \{0,1\}`, :math:`k \in K_b`: work on :math:`k` has started by year
    :math:`t` (0 before the horizon, 1 after it).
    :math:`w_{rt} \in [0,1]`, for a receipt with :math:`|J_r| \ge 2`: it is realised by year
    :math:`t` (integral through (5)); with one site, :math:`w_{rt} = z_{j,t-L_r}`.
    :math:`h_{tv} \ge 0` the beds short of need; :math:`a_t \in [0,1]` every move done by
    :math:`t` (completion objective); :math:`y_{ct} \in \{0,1\}` configuration :math:`c` runs in
    year :math:`t` (access objective); :math:`\sigma_t \ge 0` envelope slack (elastic model).

Expressions
    capex :math:`X_t = \sum_{k \in K_b} \frac{c_k}{d_k}(s_{kt} - s_{k,t-d_k}) + \sum_{k \in K_c}
    \frac{c_k}{d_k}(z_{i_k t} - z_{i_k, t-d_k})`; receipts :math:`Q_t = \sum_r R_r (w_{rt} -
    w_{r,t-1})`; revenue :math:`\Gamma_t = G + \sum_i (g^0_i + (g^1_i - g^0_i) z_{it})`.

Constraints (row names start with the number)
    (1) ``p01_switch_{i}_{t}``: :math:`z_{it} \ge z_{i,t-1}`; ``p01_start_{k}_{t}``:
        :math:`s_{kt} \ge s_{k,t-1}`.
    (2) ``p02_built_{k}_{t}``: :math:`z_{i_k t} \le s_{k,t-d_k}` (a site moves only into
        finished wards).
    (3) earliest starts, as bounds: :math:`s_{kt} = 0` for ``years[t]`` :math:`< e_k`
        (:math:`k \in K_b`), :math:`z_{i_k t} = 0` for ``years[t]`` :math:`< e_k` (:math:`k \in
        K_c`).
    (4) ``p04_after_{a}_{b}_{t}``: :math:`z_{bt} \le z_{at}` (beds close no earlier than the
        ward that takes them opens).
    (5) ``p05_receipt_{r}_{j}_{t}``: :math:`w_{rt} \le z_{j,t-L_r}` and ``p05_receipt_{r}_{t}``:
        :math:`w_{rt} \ge \sum_{j \in J_r} z_{j,t-L_r} - |J_r| + 1` (a receipt comes in
        :math:`L_r` years after the last site it needs vacated moves, neither earlier nor later).
    (6) ``p06_beds_{t}_{v}``: :math:`U_v + \sum_i (u^0_{iv} + (u^1_{iv} - u^0_{iv}) z_{it}) +
        h_{tv} \ge D_{tv}`.
    (7) ``p07_capital_{t}``: :math:`X_t - Q_t \le E_t` (net) or :math:`X_t \le E_t` (gross);
        elastic: :math:`\ldots - \sigma_t \le E_t`.
    (8) ``p08_done_{i}_{t}``: :math:`a_t \le z_{it}` (completion objective only).
    (9) ``p09_one_{t}``: :math:`\sum_c y_{ct} = 1`, ``p09_site_{i}_{t}``: :math:`\sum_{c \ni i}
        y_{ct} = z_{it}`; :math:`y_{ct} = 0` where :math:`m_c = \infty` (access objective only).

Measures (the stage objectives of :mod:`siteopt.wards.phasing_solve`)
    shortfall :math:`H = b \sum_{tv} h_{tv}` bed-days; net present cost :math:`N = \sum_{t \in
    F} \delta_t (\omega X_t - Q_t) + \sum_{t \in F, t \ge 1} \delta_t \Gamma_t` (the years after
    :math:`F` run the target and add a constant; the model leaves out every constant term);
    completion :math:`K = \sum_{t \in T} (1 -
    a_t)`, the years before every move is done; access :math:`A = \sum_{t \in T} \sum_c m_c
    y_{ct}`, the 65+ mean drive summed over the years; envelope slack :math:`S = \sum_t
    \sigma_t`. All money terms are in £m.

Binaries are PuLP integers in [0, 1] (``LpBinary`` would overwrite the bounds that fix a
variable at 0 or 1).

Only this module and :mod:`siteopt.wards.phasing_solve` of the phasing import pulp.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp

from siteopt.solver_core import GBP_PER_M
from siteopt.wards.phasing_instance import PhaseInstance, PhaseObjective

Term = Any
"""An LpVariable, an LpAffineExpression or a number (the fixed values outside the horizon)."""


@dataclass
class PhasingModel:
    """A built phasing model: the PuLP problem, its variables and its measures.

    Attributes
    ----------
    prob : pulp.LpProblem
    instance : PhaseInstance
    objective : str
    z : dict[(site index, year index), LpVariable]
    s : dict[(scheme id, year index), LpVariable]
    measures : dict[str, LpAffineExpression]
        ``shortfall`` (bed-days), ``npc`` (£m), ``completion`` (years), ``access``
        (minutes summed over the years, only with that objective), ``slack`` (£m, elastic).
    capex, receipts : list of LpAffineExpression
        Per cash-flow year, in £m.
    """

    prob: pulp.LpProblem
    instance: PhaseInstance
    objective: str
    elastic: bool
    z: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    s: dict[tuple[str, int], pulp.LpVariable] = field(default_factory=dict)
    shortfall: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    slack: dict[int, pulp.LpVariable] = field(default_factory=dict)
    measures: dict[str, Any] = field(default_factory=dict)
    capex: list[Any] = field(default_factory=list)
    receipts: list[Any] = field(default_factory=list)
    build_time_s: float = 0.0

    def zv(self, i: int, t: int) -> Term:
        """:math:`z_{it}` with its fixed values outside the horizon."""
        if t < 0:
            return 0
        if t >= self.instance.n_years:
            return 1
        return self.z[(i, t)]

    def sv(self, scheme_id: str, t: int) -> Term:
        """:math:`s_{kt}` with its fixed values outside the horizon."""
        if t < 0:
            return 0
        if t >= self.instance.n_years:
            return 1
        return self.s[(scheme_id, t)]

    @property
    def n_variables(self) -> int:
        return len(self.prob.variables())

    @property
    def n_constraints(self) -> int:
        return int(self.prob.numConstraints())


def build_phasing_model(inst: PhaseInstance, objective: PhaseObjective = "npc", *,
                        elastic: bool = False) -> PhasingModel:
    """Build the phasing MILP (see the module docstring); the objective is set to the bed
    shortfall, the first stage of every solve.

    Parameters
    ----------
    inst : PhaseInstance
    objective : {"npc", "completion", "access"}
        Which measure rows to add (the completion rows (8), the access rows (9)).
    elastic : bool
        Give each envelope row a slack :math:`\\sigma_t` (to explain infeasibility).
    """
    t0 = time.perf_counter()
    inst.check()
    m = PhasingModel(pulp.LpProblem("phasing", pulp.LpMinimize), inst, objective, elastic)
    _switch_and_start(m)
    _precedence(m)
    _money(m)
    _beds(m)
    _capital(m)
    if objective == "completion":
        _completion(m)
    if objective == "access":
        _access(m)
    m.prob.setObjective(m.measures["shortfall"])
    m.build_time_s = time.perf_counter() - t0
    return m


def _switch_and_start(m: PhasingModel) -> None:
    """Variables :math:`z`, :math:`s`; rows (1)-(3)."""
    inst = m.instance
    n = inst.n_years
    closed_from = {i: 0 for i in range(inst.n_sites)}
    for k in inst.schemes:
        if k.kind == "closure":
            first = next((t for t, y in enumerate(inst.years) if y >= k.earliest_start_year), n)
            closed_from[k.site_idx] = max(closed_from[k.site_idx], first)
    for i in range(inst.n_sites):
        for t in range(n):
            up = 0 if t < closed_from[i] else 1
            low = 1 if t == n - 1 else 0
            m.z[(i, t)] = m.prob.add_variable(f"z_{i}_{t}", low, up, cat=pulp.LpInteger)
            if t > 0:
                m.prob += m.z[(i, t)] >= m.z[(i, t - 1)], f"p01_switch_{i}_{t}"
    for k in inst.schemes:
        if k.kind != "build":
            continue
        for t in range(n):
            up = 0 if inst.years[t] < k.earliest_start_year else 1
            m.s[(k.scheme_id, t)] = m.prob.add_variable(f"s_{k.scheme_id}_{t}", 0, up,
                                                    cat=pulp.LpInteger)
            if t > 0:
                m.prob += (m.s[(k.scheme_id, t)] >= m.s[(k.scheme_id, t - 1)],
                           f"p01_start_{k.scheme_id}_{t}")
        for t in range(n):
            m.prob += (m.z[(k.site_idx, t)] <= m.sv(k.scheme_id, t - k.build_years),
                       f"p02_built_{k.scheme_id}_{t}")


def _precedence(m: PhasingModel) -> None:
    """Rows (4)."""
    for a, b in m.instance.precedence:
        for t in range(m.instance.n_years):
            m.prob += m.z[(b, t)] <= m.z[(a, t)], f"p04_after_{a}_{b}_{t}"


def _realised(m: PhasingModel, r_idx: int, t: int) -> Term:
    """:math:`w_{rt}`: a variable with rows (5) for a receipt of several sites."""
    r = m.instance.receipts[r_idx]
    terms = [m.zv(j, t - r.lag_years) for j in r.site_idx]
    if len(terms) == 1:
        return terms[0]
    if all(isinstance(x, int) for x in terms):
        return min(terms)
    w = m.prob.add_variable(f"w_{r_idx}_{t}", 0, 1)
    for j, term in zip(r.site_idx, terms, strict=True):
        m.prob += w <= term, f"p05_receipt_{r_idx}_{j}_{t}"
    m.prob += w >= pulp.lpSum(terms) - (len(terms) - 1), f"p05_receipt_{r_idx}_{t}"
    return w


def _money(m: PhasingModel) -> None:
    """Capex, receipts and revenue per cash-flow year; the net present cost."""
    inst = m.instance
    n_flow = inst.n_flow_years
    capex: list[Any] = []
    for t in range(n_flow):
        terms = []
        for k in inst.schemes:
            rate = k.capex_gbp / k.build_years / GBP_PER_M
            if k.kind == "build":
                terms.append(rate * (m.sv(k.scheme_id, t) - m.sv(k.scheme_id, t - k.build_years)))
            else:
                terms.append(rate * (m.zv(k.site_idx, t) - m.zv(k.site_idx, t - k.build_years)))
        capex.append(pulp.lpSum(terms))
    realised = [[_realised(m, r, t) for t in range(-1, n_flow)] for r in range(len(inst.receipts))]
    receipts = [pulp.lpSum(r.receipt_gbp / GBP_PER_M * (realised[j][t + 1] - realised[j][t])
                           for j, r in enumerate(inst.receipts)) for t in range(n_flow)]
    m.capex, m.receipts = capex, receipts
    delta = inst.discount
    revenue = []
    for t in range(1, n_flow):
        change = pulp.lpSum((inst.revenue_after[i] - inst.revenue_before[i]) / GBP_PER_M
                            * m.zv(i, t) for i in range(inst.n_sites))
        revenue.append(float(delta[t]) * change)
    m.measures["npc"] = (pulp.lpSum(float(delta[t]) * (inst.capex_weight * capex[t] - receipts[t])
                                    for t in range(n_flow)) + pulp.lpSum(revenue))


def _beds(m: PhasingModel) -> None:
    """Shortfall variables and rows (6)."""
    inst = m.instance
    for t in range(inst.n_years):
        for v, svc in enumerate(inst.services):
            h = m.prob.add_variable(f"h_{t}_{v}", 0)
            m.shortfall[(t, v)] = h
            beds = pulp.lpSum((inst.usable_after[i, v] - inst.usable_before[i, v]) * m.z[(i, t)]
                              for i in range(inst.n_sites))
            base = float(inst.fixed_usable[v] + inst.usable_before[:, v].sum())
            m.prob += beds + h >= float(inst.need_beds[t, v]) - base, f"p06_beds_{t}_{svc}"
    m.measures["shortfall"] = inst.bed_days_per_bed_year * pulp.lpSum(m.shortfall.values())


def _capital(m: PhasingModel) -> None:
    """Rows (7), with slack in the elastic model."""
    inst = m.instance
    for t in range(inst.n_years):
        limit = float(inst.envelope_gbp[t])
        if not np.isfinite(limit):
            continue
        spend = m.capex[t] - (m.receipts[t] if inst.capital_basis == "net" else 0)
        if m.elastic:
            m.slack[t] = m.prob.add_variable(f"sigma_{t}", 0)
            spend = spend - m.slack[t]
        m.prob += spend <= limit / GBP_PER_M, f"p07_capital_{t}"
    m.measures["slack"] = pulp.lpSum(m.slack.values())


def _completion(m: PhasingModel) -> None:
    """Variables :math:`a_t`, rows (8)."""
    inst = m.instance
    done = []
    for t in range(inst.n_years):
        a = m.prob.add_variable(f"a_{t}", 0, 1)
        done.append(a)
        for i in range(inst.n_sites):
            m.prob += a <= m.z[(i, t)], f"p08_done_{i}_{t}"
    m.measures["completion"] = pulp.lpSum(1 - a for a in done)


def _access(m: PhasingModel) -> None:
    """Variables :math:`y_{ct}`, rows (9)."""
    inst = m.instance
    if inst.access_min is None:
        raise ValueError("the access objective needs PhaseInstance.access_min")
    terms = []
    for t in range(inst.n_years):
        ys = {}
        for c, mean in enumerate(inst.access_min):
            ys[c] = m.prob.add_variable(f"y_{c}_{t}", 0, 1 if np.isfinite(mean) else 0,
                                    cat=pulp.LpInteger)
            if np.isfinite(mean):
                terms.append(float(mean) * ys[c])
        m.prob += pulp.lpSum(ys.values()) == 1, f"p09_one_{t}"
        for i in range(inst.n_sites):
            m.prob += (pulp.lpSum(y for c, y in ys.items() if c >> i & 1) == m.z[(i, t)],
                       f"p09_site_{i}_{t}")
    m.measures["access"] = pulp.lpSum(terms)

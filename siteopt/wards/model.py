r"""The site-configuration MILP, built with PuLP from an :class:`~siteopt.wards.instance.Instance`.

Formulation
-----------
Sets
    :math:`S` sites; :math:`K_s` options of site :math:`s` (its catalogue); :math:`V` services;
    :math:`Z` zones; :math:`A \subseteq Z \times S` allowed zone-site pairs (reachable, within
    ``max_travel_min``, optionally the ``k_nearest`` nearest); :math:`Z_v` zones *active* for
    service :math:`v` (demand or weight > 0).

Parameters
    :math:`u_{skv}` usable beds of option :math:`k` for service :math:`v`; :math:`d_{zv}` bed
    need; :math:`w_z` access weight (65+); :math:`t_{zs}` drive minutes;
    :math:`\beta_v = D_v / \sum_{v'} D_{v'}` the service's share of total bed need
    (:math:`D_v = \sum_z d_{zv}`); :math:`W = \sum_z w_z`; per option: capex :math:`c_{sk}`,
    disposals :math:`r_{sk}`, RN and total WTE :math:`n_{sk}, m_{sk}`, revenue plus annualised
    capital :math:`g_{sk}`, wards :math:`q_{sk}`.

Variables
    :math:`y_{sk} \in \{0,1\}` option :math:`k` chosen at :math:`s`;
    :math:`o_{sv} \in [0,1]` site :math:`s` offers service :math:`v` (defined by (2));
    :math:`x_{zsv} \in [0,1]`, :math:`(z,s) \in A`, share of zone :math:`z`'s service :math:`v`
    sent to :math:`s` (fractional assignment).

Measures
    :math:`T = \sum_v \beta_v \frac{1}{W} \sum_{(z,s) \in A} w_z t_{zs} x_{zsv}` the weighted mean
    drive time; :math:`G = \sum_{sk} g_{sk} y_{sk}` the annual cost.

Objective
    ``access``: min :math:`T`; ``cost``: min :math:`G`; ``weighted``: min
    :math:`\lambda_T T + \lambda_G G / 10^6`.

Constraints (names in the PuLP problem start with the number)
    (1) ``c01_one_option_{s}``: :math:`\sum_k y_{sk} = 1`.
    (2) ``c02_open_{s}_{v}``: :math:`o_{sv} = \sum_{k: u_{skv} > 0} y_{sk}`.
    (3) ``c03_assign_{z}_{v}``: :math:`\sum_{s:(z,s)\in A} x_{zsv} = 1` for :math:`z \in Z_v`.
    (4) ``c04_capacity_{s}_{v}``: :math:`\sum_z d_{zv} x_{zsv} \le \sum_k u_{skv} y_{sk}`.
    (5) ``c05_link_{z}_{s}_{v}``: :math:`x_{zsv} \le o_{sv}` (tight linking, not big-M;
        optional, and optionally only for each zone's ``link_k_nearest`` nearest sites).
    (6) ``c06_total_beds_{v}``: :math:`\sum_{sk} u_{skv} y_{sk} \ge D_v` (aggregated capacity;
        implied by (3)+(4) but kept as a cut for the branch and bound).
    (7) ``c07_capital``: :math:`\sum_{sk} (c_{sk} - r_{sk}) y_{sk} \le C` (net) or
        :math:`\sum c_{sk} y_{sk} \le C` (gross).
    (8) ``c08_staff_rn``, ``c08_staff_total``: :math:`\sum n_{sk} y_{sk} \le N`,
        :math:`\sum m_{sk} y_{sk} \le M`.
    (9) ``c09_isolated``: :math:`\sum_{s \notin E} \sum_{k: q_{sk}=1} y_{sk} \le I`.
    (10) ``c10_min_sites``, ``c10_max_sites``: bounds on :math:`\sum_s \sum_{k: q_{sk}>0} y_{sk}`.
    (11) ``c11_open_{s}``, ``c11_closed_{s}``, ``c11_fixed_{s}``: locks.
    (12) ``c12_within_{v}``: :math:`\sum_{(z,s)\in A: t_{zs} \le \tau} w_z x_{zsv} \ge \rho W`.
    (13) ``c13_max_mean_travel``: :math:`T \le \bar T`; ``c13_max_cost``: :math:`G \le \bar G`.

The maximum drive time needs no constraint: pairs beyond it are not in :math:`A`.

Only this module and :mod:`siteopt.wards.solve` import pulp.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pulp

from siteopt.errors import DataError, Problem
from siteopt.wards.instance import FloatArray, Instance, ModelSettings, allowed_pairs

GBP_PER_M = 1e6

ZoneSiteService = tuple[str, str, str]


@dataclass
class SiteModel:
    """A built model: the PuLP problem and our own maps from ids to variables.

    Attributes
    ----------
    prob : pulp.LpProblem
    instance, settings
        What it was built from.
    y : dict[(site_id, option_id), LpVariable]
        Option choice binaries.
    open : dict[(site_id, service), LpVariable]
        Site offers the service.
    x : dict[(zone_id, site_id, service), LpVariable]
        Assignment shares.
    mean_travel_expr, cost_expr : LpAffineExpression
        The measures :math:`T` and :math:`G`.
    build_time_s : float
    """

    prob: pulp.LpProblem
    instance: Instance
    settings: ModelSettings
    y: dict[tuple[str, str], pulp.LpVariable]
    open: dict[tuple[str, str], pulp.LpVariable]
    x: dict[ZoneSiteService, pulp.LpVariable]
    mean_travel_expr: pulp.LpAffineExpression
    cost_expr: pulp.LpAffineExpression
    build_time_s: float = 0.0
    elastic: dict[str, pulp.LpVariable] = field(default_factory=dict)

    @property
    def n_variables(self) -> int:
        return len(self.y) + len(self.open) + len(self.x) + len(self.elastic)

    @property
    def n_constraints(self) -> int:
        return int(self.prob.numConstraints())


ExtraConstraints = Callable[[SiteModel], None]


def service_shares(instance: Instance) -> FloatArray:
    """:math:`\\beta_v`: each service's share of total bed need (equal shares if none)."""
    total = instance.total_demand_beds
    if total.sum() <= 0:
        return np.full(len(instance.services), 1.0 / len(instance.services))
    return np.asarray(total / total.sum(), dtype=np.float64)


def active_zones(instance: Instance) -> np.ndarray:
    """Boolean (n_zones, n_services): zone needs an assignment for the service."""
    z = instance.zones
    return np.asarray((z.demand_beds > 0) | (z.weight[:, None] > 0))


def presolve_problems(instance: Instance, settings: ModelSettings) -> list[Problem]:
    """Problems that make the model infeasible before any solve, in plain words with numbers."""
    problems: list[Problem] = []
    act = active_zones(instance)
    limit = (
        f"within {settings.max_travel_min:g} minutes"
        if settings.max_travel_min is not None
        else "reachable by road"
    )
    for v_idx, v in enumerate(instance.services):
        ok = allowed_pairs(instance, settings, v)
        no_site = act[:, v_idx] & ~ok.any(axis=1)
        if no_site.any():
            ids = [instance.zones.zone_ids[i] for i in np.flatnonzero(no_site)]
            shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
            problems.append(
                Problem(
                    "scenario",
                    f"{len(ids)} zone(s) have no site that can offer {v} {limit}: {shown}; "
                    "raise the maximum drive time or add a site",
                    field="max_travel_min",
                )
            )
    for v_idx, v in enumerate(instance.services):
        best = sum(max(o.usable_beds.get(v, 0.0) for o in s.options) for s in instance.sites)
        need = float(instance.total_demand_beds[v_idx])
        if best + 1e-9 < need:
            problems.append(
                Problem(
                    "scenario",
                    f"{v}: the bed need of {need:.1f} beds exceeds the {best:.1f} usable beds of "
                    "every site at its largest option",
                )
            )
    return problems


def build_model(
    instance: Instance,
    settings: ModelSettings,
    *,
    extra_constraints: ExtraConstraints | None = None,
    elastic: bool = False,
) -> SiteModel:
    """Build the MILP (see the module docstring for the formulation).

    Parameters
    ----------
    instance : Instance
    settings : ModelSettings
    extra_constraints : callable, optional
        Called with the built :class:`SiteModel` to add constraints of its own.
    elastic : bool
        Build the elastic version: every limit (7)-(10), (12), (13) gets a non-negative slack,
        every zone may leave demand unserved or go beyond the maximum drive time, and the
        objective minimises the sum of slacks relative to each limit. Used to explain
        infeasibility.

    Returns
    -------
    SiteModel

    Raises
    ------
    DataError
        If the settings do not fit the instance.
    """
    t0 = time.perf_counter()
    settings.check(instance)
    inst = instance
    services = inst.services
    site_ids = inst.site_ids
    zone_ids = inst.zones.zone_ids
    weight = inst.zones.weight
    demand = inst.zones.demand_beds
    travel = inst.travel_min
    total_weight = float(weight.sum())
    if total_weight <= 0:
        raise DataError([Problem("instance", "zone weights sum to 0: access is undefined")])
    beta = service_shares(inst)

    base_pairs = [allowed_pairs(inst, settings, v) for v in services]
    if elastic:
        # Pairs beyond the maximum drive time are allowed, at a cost (slack "travel").
        loose = ModelSettings(k_nearest=settings.k_nearest)
        pairs = [allowed_pairs(inst, loose, v) | base_pairs[i] for i, v in enumerate(services)]
    else:
        pairs = base_pairs
    act = active_zones(inst)

    prob = pulp.LpProblem(inst.name.replace(" ", "_") or "siteopt", pulp.LpMinimize)
    cons: list[pulp.LpConstraint] = []

    def add(expr: pulp.LpAffineExpression, sense: int, rhs: float, name: str) -> None:
        c = pulp.LpConstraint(expr, sense=sense, name=name, rhs=rhs)
        cons.append(c)

    # -- variables -----------------------------------------------------------------------------
    y: dict[tuple[str, str], pulp.LpVariable] = {}
    y_by_site: list[list[tuple[pulp.LpVariable, int]]] = []
    for s_idx, site in enumerate(inst.sites):
        row = []
        for k_idx, opt in enumerate(site.options):
            var = prob.add_variable(f"y_{s_idx}_{k_idx}", cat=pulp.LpBinary)
            y[(site.site_id, opt.option_id)] = var
            row.append((var, k_idx))
        y_by_site.append(row)
    open_: dict[tuple[str, str], pulp.LpVariable] = {}
    for s_idx, sid in enumerate(site_ids):
        for v_idx, v in enumerate(services):
            open_[(sid, v)] = prob.add_variable(f"o_{s_idx}_{v_idx}", lowBound=0, upBound=1)

    x: dict[ZoneSiteService, pulp.LpVariable] = {}
    # per (site, service): list of (var, demand) for capacity; per service: within-T terms
    cap_terms: dict[tuple[int, int], list[tuple[pulp.LpVariable, float]]] = {}
    travel_terms: list[tuple[pulp.LpVariable, float]] = []
    within_terms: dict[int, list[tuple[pulp.LpVariable, float]]] = {
        v: [] for v in range(len(services))
    }
    elastic_vars: dict[str, pulp.LpVariable] = {}
    over_terms: list[tuple[pulp.LpVariable, float]] = []
    tau = settings.within_travel_min
    for v_idx, v in enumerate(services):
        zs_idx = np.argwhere(pairs[v_idx])  # sorted by zone then site
        starts = np.searchsorted(zs_idx[:, 0], np.arange(inst.n_zones + 1))
        link = pairs[v_idx] & settings.tight_linking
        if settings.tight_linking and settings.link_k_nearest is not None:
            masked = np.where(pairs[v_idx], travel, np.inf)
            order = np.argsort(masked, axis=1, kind="stable")[:, : settings.link_k_nearest]
            near = np.zeros_like(link)
            np.put_along_axis(near, order, True, axis=1)
            link &= near
        coef_travel = beta[v_idx] / total_weight
        for z_idx in range(inst.n_zones):
            if not act[z_idx, v_idx]:
                continue
            zid = zone_ids[z_idx]
            row_terms: list[tuple[pulp.LpVariable, float]] = []
            w = float(weight[z_idx])
            d = float(demand[z_idx, v_idx])
            for s_idx in zs_idx[starts[z_idx] : starts[z_idx + 1], 1]:
                s_i = int(s_idx)
                var = prob.add_variable(f"x_{z_idx}_{s_i}_{v_idx}", lowBound=0, upBound=1)
                x[(zid, site_ids[s_i], v)] = var
                row_terms.append((var, 1.0))
                t = float(travel[z_idx, s_i])
                if w > 0:
                    travel_terms.append((var, coef_travel * w * t))
                    if tau is not None and t <= tau:
                        within_terms[v_idx].append((var, w))
                if d > 0:
                    cap_terms.setdefault((s_i, v_idx), []).append((var, d))
                if elastic and not base_pairs[v_idx][z_idx, s_i]:
                    over_terms.append((var, w if w > 0 else 1.0))
                if link[z_idx, s_i]:
                    add(
                        pulp.LpAffineExpression([(var, 1.0), (open_[(site_ids[s_i], v)], -1.0)]),
                        pulp.LpConstraintLE,
                        0.0,
                        f"c05_link_{z_idx}_{s_i}_{v_idx}",
                    )
            if elastic:
                unmet = prob.add_variable(f"unmet_{z_idx}_{v_idx}", lowBound=0, upBound=1)
                elastic_vars[f"unmet|{zid}|{v}"] = unmet
                row_terms.append((unmet, 1.0))
            add(
                pulp.LpAffineExpression(row_terms),
                pulp.LpConstraintEQ,
                1.0,
                f"c03_assign_{z_idx}_{v_idx}",
            )

    mean_travel_expr = pulp.LpAffineExpression(travel_terms)
    cost_terms = []
    for s_idx, site in enumerate(inst.sites):
        for var, k_idx in y_by_site[s_idx]:
            g = site.options[k_idx].cost_gbp_per_year()
            if g:
                cost_terms.append((var, g))
    cost_expr = pulp.LpAffineExpression(cost_terms)

    # -- site constraints ----------------------------------------------------------------------
    def opt_sum(pred: Callable[[int, int], float]) -> pulp.LpAffineExpression:
        terms = []
        for s_idx in range(inst.n_sites):
            for var, k_idx in y_by_site[s_idx]:
                c = pred(s_idx, k_idx)
                if c:
                    terms.append((var, float(c)))
        return pulp.LpAffineExpression(terms)

    def opt_of(s_idx: int, k_idx: int):  # type: ignore[no-untyped-def]
        return inst.sites[s_idx].options[k_idx]

    for s_idx, sid in enumerate(site_ids):
        add(
            pulp.LpAffineExpression([(var, 1.0) for var, _ in y_by_site[s_idx]]),
            pulp.LpConstraintEQ,
            1.0,
            f"c01_one_option_{s_idx}",
        )
        for v_idx, v in enumerate(services):
            terms = [
                (var, 1.0)
                for var, k in y_by_site[s_idx]
                if opt_of(s_idx, k).usable_beds.get(v, 0.0) > 0
            ]
            add(
                pulp.LpAffineExpression([*terms, (open_[(sid, v)], -1.0)]),
                pulp.LpConstraintEQ,
                0.0,
                f"c02_open_{s_idx}_{v_idx}",
            )
            cap = [
                (var, -opt_of(s_idx, k).usable_beds.get(v, 0.0))
                for var, k in y_by_site[s_idx]
                if opt_of(s_idx, k).usable_beds.get(v, 0.0) > 0
            ]
            add(
                pulp.LpAffineExpression(cap_terms.get((s_idx, v_idx), []) + cap),
                pulp.LpConstraintLE,
                0.0,
                f"c04_capacity_{s_idx}_{v_idx}",
            )

    for v_idx, v in enumerate(services):
        need = float(inst.total_demand_beds[v_idx])
        if need > 0:
            add(
                opt_sum(lambda s, k, v=v: opt_of(s, k).usable_beds.get(v, 0.0)),  # type: ignore[misc]
                pulp.LpConstraintGE,
                need,
                f"c06_total_beds_{v_idx}",
            )

    def limit(expr: pulp.LpAffineExpression, sense: int, rhs: float, name: str, key: str) -> None:
        if elastic:
            slack = prob.add_variable(f"slack_{name}", lowBound=0)
            elastic_vars[key] = slack
            sign = -1.0 if sense == pulp.LpConstraintLE else 1.0
            expr = expr + pulp.LpAffineExpression([(slack, sign)])
        add(expr, sense, rhs, name)

    s_ = settings
    if s_.capital_limit_gbp is not None:
        if s_.capital_basis == "net":
            expr = opt_sum(lambda s, k: opt_of(s, k).net_capital_gbp())
        else:
            expr = opt_sum(lambda s, k: opt_of(s, k).capex_gbp)
        limit(expr, pulp.LpConstraintLE, s_.capital_limit_gbp, "c07_capital", "capital")
    if s_.max_staff_wte_rn is not None:
        limit(
            opt_sum(lambda s, k: opt_of(s, k).staff_wte_rn),
            pulp.LpConstraintLE,
            s_.max_staff_wte_rn,
            "c08_staff_rn",
            "staff_rn",
        )
    if s_.max_staff_wte_total is not None:
        limit(
            opt_sum(lambda s, k: opt_of(s, k).staff_wte_total),
            pulp.LpConstraintLE,
            s_.max_staff_wte_total,
            "c08_staff_total",
            "staff_total",
        )
    if s_.max_isolated_wards is not None:
        exempt = s_.isolated_allowed_sites
        limit(
            opt_sum(lambda s, k: float(opt_of(s, k).isolated and site_ids[s] not in exempt)),
            pulp.LpConstraintLE,
            float(s_.max_isolated_wards),
            "c09_isolated",
            "isolated",
        )
    n_inpatient = opt_sum(lambda s, k: float(opt_of(s, k).inpatient))
    if s_.min_inpatient_sites is not None:
        limit(
            n_inpatient,
            pulp.LpConstraintGE,
            float(s_.min_inpatient_sites),
            "c10_min_sites",
            "min_sites",
        )
    if s_.max_inpatient_sites is not None:
        limit(
            n_inpatient,
            pulp.LpConstraintLE,
            float(s_.max_inpatient_sites),
            "c10_max_sites",
            "max_sites",
        )
    for s_idx, sid in enumerate(site_ids):
        inpatient_vars = [(var, 1.0) for var, k in y_by_site[s_idx] if opt_of(s_idx, k).inpatient]
        if sid in s_.force_open:
            add(
                pulp.LpAffineExpression(inpatient_vars),
                pulp.LpConstraintEQ,
                1.0,
                f"c11_open_{s_idx}",
            )
        if sid in s_.force_closed:
            add(
                pulp.LpAffineExpression(inpatient_vars),
                pulp.LpConstraintEQ,
                0.0,
                f"c11_closed_{s_idx}",
            )
        if sid in s_.fixed_options:
            add(
                pulp.LpAffineExpression([(y[(sid, s_.fixed_options[sid])], 1.0)]),
                pulp.LpConstraintEQ,
                1.0,
                f"c11_fixed_{s_idx}",
            )
    if tau is not None and s_.min_share_within is not None:
        for v_idx, _v in enumerate(services):
            limit(
                pulp.LpAffineExpression(within_terms[v_idx]),
                pulp.LpConstraintGE,
                s_.min_share_within * total_weight,
                f"c12_within_{v_idx}",
                f"within|{_v}",
            )
    if s_.max_mean_travel_min is not None:
        limit(
            mean_travel_expr,
            pulp.LpConstraintLE,
            s_.max_mean_travel_min,
            "c13_max_mean_travel",
            "mean_travel",
        )
    if s_.max_cost_gbp_per_year is not None:
        limit(cost_expr, pulp.LpConstraintLE, s_.max_cost_gbp_per_year, "c13_max_cost", "cost")

    # -- objective -----------------------------------------------------------------------------
    if elastic:
        prob.setObjective(_elastic_objective(inst, settings, elastic_vars, over_terms))
    elif s_.objective == "access":
        prob.setObjective(mean_travel_expr)
    elif s_.objective == "cost":
        prob.setObjective(cost_expr)
    else:
        prob.setObjective(
            s_.travel_weight * mean_travel_expr + (s_.cost_weight_per_gbp_m / GBP_PER_M) * cost_expr
        )
    for c in cons:
        prob.addConstraint(c)
    if elastic and over_terms:
        over = prob.add_variable("slack_travel", lowBound=0)
        elastic_vars["travel"] = over
        prob.addConstraint(
            pulp.LpConstraint(
                pulp.LpAffineExpression([*over_terms, (over, -1.0)]),
                sense=pulp.LpConstraintEQ,
                name="c14_over_travel",
                rhs=0.0,
            )
        )
    model = SiteModel(
        prob=prob,
        instance=inst,
        settings=settings,
        y=y,
        open=open_,
        x=x,
        mean_travel_expr=mean_travel_expr,
        cost_expr=cost_expr,
        elastic=elastic_vars,
    )
    if extra_constraints is not None:
        extra_constraints(model)
    model.build_time_s = time.perf_counter() - t0
    return model


def _elastic_objective(
    inst: Instance,
    settings: ModelSettings,
    slacks: dict[str, pulp.LpVariable],
    over_terms: list[tuple[pulp.LpVariable, float]],
) -> pulp.LpAffineExpression:
    """Sum of slacks, each divided by the size of its limit (relative violation)."""
    s_ = settings
    scale: dict[str, float] = {
        "capital": s_.capital_limit_gbp or 0.0,
        "staff_rn": s_.max_staff_wte_rn or 0.0,
        "staff_total": s_.max_staff_wte_total or 0.0,
        "isolated": float(s_.max_isolated_wards or 0),
        "min_sites": float(s_.min_inpatient_sites or 0),
        "max_sites": float(s_.max_inpatient_sites or 0),
        "mean_travel": s_.max_mean_travel_min or 0.0,
        "cost": s_.max_cost_gbp_per_year or 0.0,
    }
    total_weight = float(inst.zones.weight.sum())
    terms: list[tuple[pulp.LpVariable, float]] = []
    for key, var in slacks.items():
        if key.startswith("unmet|"):
            # unmet demand is the worst outcome: one zone's whole need counts as 1
            terms.append((var, float(len(inst.sites) + 1)))
        elif key.startswith("within|"):
            terms.append((var, 1.0 / max(total_weight, 1.0)))
        else:
            terms.append((var, 1.0 / max(scale.get(key, 1.0), 1.0)))
    if over_terms:
        terms.extend((var, w / max(total_weight, 1.0)) for var, w in over_terms)
    return pulp.LpAffineExpression(terms)

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
    capital :math:`g_{sk}`, wards :math:`q_{sk}`; the linked receipts :math:`L` (receipts that
    need other sites closed, :class:`~siteopt.wards.instance.LinkedReceipt`): receipt
    :math:`R_l` of the scheme at site :math:`s_l`, triggered by its options :math:`K_l \subseteq
    K_{s_l}`, realised only if every site of :math:`C_l` keeps no inpatient ward.

Variables
    :math:`y_{sk} \in \{0,1\}` option :math:`k` chosen at :math:`s`;
    :math:`o_{sv} \in [0,1]` site :math:`s` offers service :math:`v` (defined by (2));
    :math:`x_{zsv} \in [0,1]`, :math:`(z,s) \in A`, share of zone :math:`z`'s service :math:`v`
    sent to :math:`s` (fractional assignment);
    :math:`\rho_l \in [0,1]`, :math:`l \in L`, the share of linked receipt :math:`l` booked
    (only with a net capital limit; (15) makes it 0 unless the receipt is realised).

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
    (7) ``c07_capital``: :math:`\sum_{sk} (c_{sk} - r_{sk}) y_{sk} - \sum_l R_l \rho_l \le C`
        (net) or :math:`\sum c_{sk} y_{sk} \le C` (gross).
    (8) ``c08_staff_rn``, ``c08_staff_total``: :math:`\sum n_{sk} y_{sk} \le N`,
        :math:`\sum m_{sk} y_{sk} \le M`.
    (9) ``c09_isolated``: :math:`\sum_{s \notin E} \sum_{k: q_{sk}=1} y_{sk} \le I`.
    (10) ``c10_min_sites``, ``c10_max_sites``: bounds on :math:`\sum_s \sum_{k: q_{sk}>0} y_{sk}`.
    (11) ``c11_open_{s}``, ``c11_closed_{s}``, ``c11_fixed_{s}``: locks.
    (12) ``c12_within_{v}``: :math:`\sum_{(z,s)\in A: t_{zs} \le \tau} w_z x_{zsv} \ge \rho W`.
    (13) ``c13_max_mean_travel``: :math:`T \le \bar T`; ``c13_max_cost``: :math:`G \le \bar G`.
    (15) ``c15_receipt_{l}``: :math:`\rho_l \le \sum_{k \in K_l} y_{s_l k}` and
        ``c15_receipt_{l}_closed_{j}``: :math:`\rho_l \le 1 - \sum_{k: q_{jk} > 0} y_{jk}` for
        each :math:`j \in C_l` (only with a net capital limit and linked receipts). As
        :math:`\rho_l` appears only in (7), with a minus sign, the model books the receipt
        exactly when it helps and it is realised.
    (16) ``c16_group_rise_{i}`` (equity): :math:`T_g - T^0_g \le X` for the :math:`i`-th
        group :math:`g` with people (:func:`~siteopt.wards.instance.equity_groups`), where
        :math:`T_g = \sum_v \beta_v \sum_{(z,s) \in A} (w_{gz} / W_g) t_{zs} x_{zsv}` is the
        group's mean drive (:math:`w_{gz}` its people in zone :math:`z`, :math:`W_g =
        \sum_z w_{gz}`) and :math:`T^0_g` its business-as-usual mean; ``c16_deprived_gap``:
        :math:`T_{q1} - T \le Y` for the most deprived national quintile's group ``imd_q1``.

    Rows are added in this order: (5) and (3) by service then zone, (1), (2), (4) by site, (6),
    (15) by linked receipt, the limits (7)-(10), the locks (11), the limits (12), (13), (16),
    then (14).

The limits (7)-(10), (12), (13), (16) are the table :data:`LIMITS`, each switched on by a
:class:`ModelSettings` field. The maximum drive time needs no constraint: pairs beyond it are
not in :math:`A`.

Elastic model (``build_model(..., elastic=True)``, to explain infeasibility)
    Every limit row gets a slack ``slack_{row}`` :math:`\ge 0` (subtracted from a
    :math:`\le` row, added to a :math:`\ge` row); each row (3) gets ``unmet_{z}_{v}``
    :math:`\in [0,1]`; the pairs beyond the maximum drive time get variables too, with
    (14) ``c14_over_travel`` (if there are such pairs):
    :math:`\sum_{(z,s) \notin A} w'_z x_{zsv} - \sigma = 0`
    (:math:`w'_z = w_z`, or 1 for a zone of zero weight; :math:`\sigma` is ``slack_travel``).
    The locks (11) stay hard. Objective: min :math:`\sum_{zv} (|S|+1+\gamma_{zv})
    \text{unmet}_{zv} + \sum_\ell \text{slack}_\ell / \max(b_\ell, 1) + \sum_{(z,s) \notin A}
    w'_z x_{zsv} / \max(W, 1)` with :math:`b_\ell` the limit's bound (:math:`W` for (12);
    :math:`X`, :math:`|Y|` for (16)) and :math:`\gamma_{zv} = \beta_v \max_s t_{zs} (\sum_g
    w_{gz}/W_g / \max(X, 1) + (w_{q1,z}/W_{q1} + w_z/W) / \max(|Y|, 1))` (the terms of the
    equity limits set), the most an unmet share can lower the slacks of (16): leaving need
    unmet never pays for a group's mean drive.

Rows added by ``extra_constraints``
    ``nogood_{i}`` (:func:`siteopt.appraisal.longlist.no_good_cuts`): the no-good cut
    :math:`\sum_{(s,k) \in P_i} y_{sk} \le |S| - 1` excluding the ward pattern :math:`P_i`
    of the :math:`i`-th option already found (the options of every site with the same number
    of wards of each service).

Rows added by the tie-break (:func:`siteopt.wards.solve.break_ties`, after a proven optimum
:math:`z^*` of the objective :math:`f`)
    ``tie_objective``: :math:`f \le z^* + \epsilon \max(|z^*|, 1)`, then min :math:`G`;
    ``tie_cost``: :math:`G \le G^* + \epsilon \max(G^*, 1)`, then min
    :math:`\sum_{sk} \Delta_{sk} y_{sk}`, with :math:`\Delta_{sk} = \sum_v |q_{skv} -
    q^0_{sv}|` the wards opened or closed from today's :math:`q^0_{sv}`
    (:meth:`~siteopt.wards.instance.Site.changes`) and :math:`\epsilon` =
    :data:`siteopt.solver_core.TIE_GAP_REL`.

Only this module and :mod:`siteopt.wards.solve` import pulp.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pulp

from siteopt.errors import DataError, Problem
from siteopt.solver_core import GBP_PER_M, nearest_mask
from siteopt.wards.instance import (
    DEPRIVED_GROUP,
    FloatArray,
    Instance,
    ModelSettings,
    SiteOption,
    active_zones,
    allowed_pairs,
    equity_groups,
    group_zone_shares,
    service_shares,
)

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
    receipts: dict[str, pulp.LpVariable] = field(default_factory=dict)
    """scheme_id -> :math:`\rho_l`, the share of its linked receipt booked (net capital only)."""

    @property
    def n_variables(self) -> int:
        return (len(self.y) + len(self.open) + len(self.x) + len(self.elastic)
                + len(self.receipts))

    @property
    def n_constraints(self) -> int:
        return int(self.prob.numConstraints())


ExtraConstraints = Callable[[SiteModel], None]


@dataclass
class ModelBuild:
    """The model while it is built: the PuLP problem, its variables and the terms the stages
    share. Rows are collected in ``rows`` and added to ``prob`` in that order at the end.

    Attributes
    ----------
    instance, settings
        What the model is built from.
    elastic : bool
        Build the elastic version (see :func:`build_model`).
    prob : pulp.LpProblem
    total_weight : float
        :math:`W`, the sum of the zone weights.
    beta : ndarray
        :math:`\\beta_v`, each service's share of the bed need.
    base_pairs, pairs : list of ndarray of bool
        Per service, the allowed pairs :math:`A` of the settings, and the pairs given variables
        (the same, or in the elastic model also the pairs beyond the maximum drive time).
    """

    instance: Instance
    settings: ModelSettings
    elastic: bool
    prob: pulp.LpProblem
    total_weight: float
    beta: FloatArray
    base_pairs: list[npt.NDArray[np.bool_]]
    pairs: list[npt.NDArray[np.bool_]]
    rows: list[pulp.LpConstraint] = field(default_factory=list)
    y: dict[tuple[str, str], pulp.LpVariable] = field(default_factory=dict)
    y_by_site: list[list[tuple[pulp.LpVariable, int]]] = field(default_factory=list)
    open: dict[tuple[str, str], pulp.LpVariable] = field(default_factory=dict)
    x: dict[ZoneSiteService, pulp.LpVariable] = field(default_factory=dict)
    cap_terms: dict[tuple[int, int], list[tuple[pulp.LpVariable, float]]] = field(
        default_factory=dict
    )
    """Per (site, service) index: (assignment variable, bed need) for the capacity row."""
    travel_terms: list[tuple[pulp.LpVariable, float]] = field(default_factory=list)
    """Terms of :math:`T`."""
    travel_pairs: list[tuple[int, int, int]] = field(default_factory=list)
    """(zone, site, service) index of each term of :math:`T`, for the groups' means (16)."""
    within_terms: dict[int, list[tuple[pulp.LpVariable, float]]] = field(default_factory=dict)
    """Per service index: (assignment variable, weight) of pairs within :math:`\\tau`."""
    over_terms: list[tuple[pulp.LpVariable, float]] = field(default_factory=list)
    """Elastic model: (assignment variable, weight) of pairs beyond the maximum drive time."""
    slacks: dict[str, pulp.LpVariable] = field(default_factory=dict)
    """Elastic model: slack variables by key (``unmet|zone|service``, a limit's key)."""
    receipts: dict[str, pulp.LpVariable] = field(default_factory=dict)
    """scheme_id -> :math:`\rho_l` of each linked receipt (with a net capital limit)."""
    mean_travel_expr: pulp.LpAffineExpression | None = None
    cost_expr: pulp.LpAffineExpression | None = None

    def add(self, expr: pulp.LpAffineExpression, sense: int, rhs: float, name: str) -> None:
        """Collect the row ``expr (sense) rhs`` named ``name``."""
        self.rows.append(pulp.LpConstraint(expr, sense=sense, name=name, rhs=rhs))

    def option(self, s_idx: int, k_idx: int) -> SiteOption:
        """Option ``k_idx`` of site ``s_idx``."""
        return self.instance.sites[s_idx].options[k_idx]

    def option_sum(self, coef: Callable[[SiteOption, int], float]) -> pulp.LpAffineExpression:
        """:math:`\\sum_{sk} a_{sk} y_{sk}` with :math:`a_{sk}` = ``coef(option, s_idx)``
        (zero terms left out)."""
        terms = []
        for s_idx in range(self.instance.n_sites):
            for var, k_idx in self.y_by_site[s_idx]:
                c = coef(self.option(s_idx, k_idx), s_idx)
                if c:
                    terms.append((var, float(c)))
        return pulp.LpAffineExpression(terms)

    def add_limit(
        self, expr: pulp.LpAffineExpression, sense: int, rhs: float, name: str, key: str
    ) -> None:
        """Collect a limit's row; in the elastic model with a slack ``slack_{name}``."""
        if self.elastic:
            slack = self.prob.add_variable(f"slack_{name}", lowBound=0)
            self.slacks[key] = slack
            sign = -1.0 if sense == pulp.LpConstraintLE else 1.0
            expr = expr + pulp.LpAffineExpression([(slack, sign)])
        self.add(expr, sense, rhs, name)


# -- the limits -------------------------------------------------------------------------------
LimitExpression = Callable[[ModelBuild, int], pulp.LpAffineExpression]
LimitWords = Callable[[ModelSettings, float, float, str], str]


@dataclass(frozen=True)
class Limit:
    """One limit of the model: a row that a :class:`ModelSettings` field switches on and bounds.

    The table :data:`LIMITS` drives the rows of :func:`build_model`, the slacks and their
    weights in the elastic model and the words of
    :func:`siteopt.wards.solve.explain_infeasibility`: a new limit is one entry there.

    Attributes
    ----------
    key : str
        Name of its slack in :attr:`SiteModel.elastic` (per service: ``key|service``).
    row : str
        Name of its row (per service: ``row_{service index}``); starts with its number.
    number : int
        The constraint's number in the formulation (module docstring).
    setting : str
        The :class:`ModelSettings` field that switches it on (not None) and gives its bound.
    sense : int
        ``pulp.LpConstraintLE`` or ``pulp.LpConstraintGE``.
    expression : callable
        ``(build, service index) -> LpAffineExpression``, the row's left-hand side.
    bound : callable
        ``(settings, total weight) -> float``, the row's right-hand side.
    scale : callable
        ``(settings, total weight) -> float``: the elastic objective counts the slack divided
        by this (at least 1), i.e. relative to the size of the limit.
    words : callable
        ``(settings, slack, total weight, service) -> str``: how far the limit must move, in
        plain English with numbers.
    per_service : bool
        One row per service (else one row, ``service index`` 0 and ``service`` "").
    per_group : bool
        One row per equity group (:func:`~siteopt.wards.instance.equity_groups`): the index is
        the group's position there and the words get its plain label.
    """

    key: str
    row: str
    number: int
    setting: str
    sense: int
    expression: LimitExpression
    bound: Callable[[ModelSettings, float], float]
    scale: Callable[[ModelSettings, float], float]
    words: LimitWords
    per_service: bool = False
    per_group: bool = False

    def is_on(self, settings: ModelSettings) -> bool:
        """The scenario sets this limit."""
        return getattr(settings, self.setting) is not None

    def rows(self, instance: Instance) -> list[tuple[int, str, str, str]]:
        """(service or group index, service or group label, row name, slack key) of each of
        its rows."""
        if self.per_group:
            labels = instance.zones.group_label
            return [(i, labels.get(g, g), f"{self.row}_{i}", f"{self.key}|{g}")
                    for i, g in enumerate(equity_groups(instance))]
        if not self.per_service:
            return [(0, "", self.row, self.key)]
        return [(i, v, f"{self.row}_{i}", f"{self.key}|{v}")
                for i, v in enumerate(instance.services)]


def format_gbp(x: float) -> str:
    """Pounds for the explanations: ``£1.2m`` from £100,000, else ``£12,345``."""
    if abs(x) >= 1e5:
        return f"£{x / 1e6:,.1f}m"
    return f"£{x:,.0f}"


def _setting(settings: ModelSettings, name: str) -> float:
    value = getattr(settings, name)
    return 0.0 if value is None else float(value)


def _capital_expression(b: ModelBuild, _v_idx: int) -> pulp.LpAffineExpression:
    if b.settings.capital_basis == "net":
        expr = b.option_sum(lambda o, _s: o.net_capital_gbp())
        links = {link.scheme_id: link for link in b.instance.linked_receipts}
        return expr + pulp.LpAffineExpression(
            [(var, -links[sid].receipt_gbp) for sid, var in b.receipts.items()]
        )
    return b.option_sum(lambda o, _s: o.capex_gbp)


def _isolated_expression(b: ModelBuild, _v_idx: int) -> pulp.LpAffineExpression:
    exempt = b.settings.isolated_allowed_sites
    site_ids = b.instance.site_ids
    return b.option_sum(lambda o, s: float(o.isolated and site_ids[s] not in exempt))


def _inpatient_expression(b: ModelBuild, _v_idx: int) -> pulp.LpAffineExpression:
    return b.option_sum(lambda o, _s: float(o.inpatient))


def _within_expression(b: ModelBuild, v_idx: int) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression(b.within_terms[v_idx])


def _mean_travel_expression(b: ModelBuild, _v_idx: int) -> pulp.LpAffineExpression:
    assert b.mean_travel_expr is not None
    return b.mean_travel_expr


def _cost_expression(b: ModelBuild, _v_idx: int) -> pulp.LpAffineExpression:
    assert b.cost_expr is not None
    return b.cost_expr


def group_mean_expression(b: ModelBuild, group: str | None) -> pulp.LpAffineExpression:
    """:math:`T_g`, the mean drive of ``group``'s people (``None``: :math:`T`, by the same
    coefficients) over the terms of :math:`T`."""
    shares = group_zone_shares(b.instance, group)
    travel = b.instance.travel_min
    return pulp.LpAffineExpression([
        (var, float(b.beta[v] * shares[z] * travel[z, s]))
        for (var, _), (z, s, v) in zip(b.travel_terms, b.travel_pairs, strict=True)
        if shares[z] > 0])


def _group_rise_expression(b: ModelBuild, g_idx: int) -> pulp.LpAffineExpression:
    group = equity_groups(b.instance)[g_idx]
    baseline = float(b.settings.group_baseline_mean_travel_min[group])
    return group_mean_expression(b, group) - baseline


def _deprived_gap_expression(b: ModelBuild, _v_idx: int) -> pulp.LpAffineExpression:
    return group_mean_expression(b, DEPRIVED_GROUP) - group_mean_expression(b, None)


def _bound_of(name: str) -> Callable[[ModelSettings, float], float]:
    """The right-hand side (and the elastic scale) is the setting itself."""
    return lambda s, _w: _setting(s, name)


def _within_bound(s: ModelSettings, total_weight: float) -> float:
    return _setting(s, "min_share_within") * total_weight


def _total_weight(_s: ModelSettings, total_weight: float) -> float:
    return total_weight


def _capital_words(s: ModelSettings, slack: float, _w: float, _v: str) -> str:
    return (
        f"the {s.capital_basis} capital limit of {format_gbp(_setting(s, 'capital_limit_gbp'))} "
        f"is {format_gbp(slack)} short"
    )


def _staff_rn_words(s: ModelSettings, slack: float, _w: float, _v: str) -> str:
    return (
        f"the registered-nurse limit of {_setting(s, 'max_staff_wte_rn'):,.1f} WTE is "
        f"{slack:,.1f} WTE short"
    )


def _staff_total_words(s: ModelSettings, slack: float, _w: float, _v: str) -> str:
    return (
        f"the staff limit of {_setting(s, 'max_staff_wte_total'):,.1f} WTE is "
        f"{slack:,.1f} WTE short"
    )


def _isolated_words(s: ModelSettings, slack: float, _w: float, _v: str) -> str:
    return (
        f"the cap of {s.max_isolated_wards} isolated ward(s) would have to allow "
        f"{slack:.0f} more"
    )


def _min_sites_words(s: ModelSettings, slack: float, _w: float, _v: str) -> str:
    return f"the minimum of {s.min_inpatient_sites} inpatient sites is {slack:.0f} too high"


def _max_sites_words(s: ModelSettings, slack: float, _w: float, _v: str) -> str:
    return f"the maximum of {s.max_inpatient_sites} inpatient sites is {slack:.0f} too low"


def _within_words(s: ModelSettings, slack: float, total_weight: float, v: str) -> str:
    return (
        f"for {v}, the required {_setting(s, 'min_share_within'):.0%} within "
        f"{_setting(s, 'within_travel_min'):g} minutes is {slack / total_weight:.1%} short"
    )


def _mean_travel_words(s: ModelSettings, slack: float, _w: float, _v: str) -> str:
    return (
        f"the mean drive time bound of {_setting(s, 'max_mean_travel_min'):g} minutes is "
        f"{slack:.1f} minutes short"
    )


def _cost_words(s: ModelSettings, slack: float, _w: float, _v: str) -> str:
    return (
        f"the cost bound of {format_gbp(_setting(s, 'max_cost_gbp_per_year'))} a year is "
        f"{format_gbp(slack)} a year short"
    )


def _group_rise_words(s: ModelSettings, slack: float, _w: float, group: str) -> str:
    return (f"the {_setting(s, 'max_group_mean_travel_increase_min'):g}-minute limit on any "
            f"group's rise in mean drive is {slack:.1f} minutes short for {group}")


def _deprived_gap_words(s: ModelSettings, slack: float, _w: float, _v: str) -> str:
    return (f"the {_setting(s, 'max_deprived_gap_min'):g}-minute limit on the most deprived "
            f"fifth's mean drive above everyone's is {slack:.1f} minutes short")


_LE, _GE = pulp.LpConstraintLE, pulp.LpConstraintGE
LIMITS: tuple[Limit, ...] = (
    Limit("capital", "c07_capital", 7, "capital_limit_gbp", _LE, _capital_expression,
          _bound_of("capital_limit_gbp"), _bound_of("capital_limit_gbp"), _capital_words),
    Limit("staff_rn", "c08_staff_rn", 8, "max_staff_wte_rn", _LE,
          lambda b, _v: b.option_sum(lambda o, _s: o.staff_wte_rn),
          _bound_of("max_staff_wte_rn"), _bound_of("max_staff_wte_rn"), _staff_rn_words),
    Limit("staff_total", "c08_staff_total", 8, "max_staff_wte_total", _LE,
          lambda b, _v: b.option_sum(lambda o, _s: o.staff_wte_total),
          _bound_of("max_staff_wte_total"), _bound_of("max_staff_wte_total"),
          _staff_total_words),
    Limit("isolated", "c09_isolated", 9, "max_isolated_wards", _LE, _isolated_expression,
          _bound_of("max_isolated_wards"), _bound_of("max_isolated_wards"), _isolated_words),
    Limit("min_sites", "c10_min_sites", 10, "min_inpatient_sites", _GE, _inpatient_expression,
          _bound_of("min_inpatient_sites"), _bound_of("min_inpatient_sites"), _min_sites_words),
    Limit("max_sites", "c10_max_sites", 10, "max_inpatient_sites", _LE, _inpatient_expression,
          _bound_of("max_inpatient_sites"), _bound_of("max_inpatient_sites"), _max_sites_words),
    Limit("within", "c12_within", 12, "min_share_within", _GE, _within_expression,
          _within_bound, _total_weight, _within_words, per_service=True),
    Limit("mean_travel", "c13_max_mean_travel", 13, "max_mean_travel_min", _LE,
          _mean_travel_expression, _bound_of("max_mean_travel_min"),
          _bound_of("max_mean_travel_min"), _mean_travel_words),
    Limit("cost", "c13_max_cost", 13, "max_cost_gbp_per_year", _LE, _cost_expression,
          _bound_of("max_cost_gbp_per_year"), _bound_of("max_cost_gbp_per_year"), _cost_words),
    Limit("group_rise", "c16_group_rise", 16, "max_group_mean_travel_increase_min", _LE,
          _group_rise_expression, _bound_of("max_group_mean_travel_increase_min"),
          _bound_of("max_group_mean_travel_increase_min"), _group_rise_words, per_group=True),
    Limit("deprived_gap", "c16_deprived_gap", 16, "max_deprived_gap_min", _LE,
          _deprived_gap_expression, _bound_of("max_deprived_gap_min"),
          lambda s, _w: abs(_setting(s, "max_deprived_gap_min")), _deprived_gap_words),
)
"""Every limit of the model, in the order of their rows (and of the explanation's reasons)."""
LOCKS_NUMBER = 11
"""The locks (11) are rows between the limits numbered below and above them."""


# -- the stages -------------------------------------------------------------------------------
def _start(instance: Instance, settings: ModelSettings, elastic: bool) -> ModelBuild:
    """Check, the allowed pairs, the problem and the option and offer variables."""
    settings.check(instance)
    inst = instance
    total_weight = float(inst.zones.weight.sum())
    if total_weight <= 0:
        raise DataError([Problem("instance", "zone weights sum to 0: access is undefined")])
    base_pairs = [allowed_pairs(inst, settings, v) for v in inst.services]
    if elastic:
        # Pairs beyond the maximum drive time are allowed, at a cost (slack "travel").
        loose = ModelSettings(k_nearest=settings.k_nearest)
        pairs = [allowed_pairs(inst, loose, v) | base_pairs[i] for i, v in enumerate(inst.services)]
    else:
        pairs = base_pairs
    prob = pulp.LpProblem(inst.name.replace(" ", "_") or "siteopt", pulp.LpMinimize)
    b = ModelBuild(
        instance=inst,
        settings=settings,
        elastic=elastic,
        prob=prob,
        total_weight=total_weight,
        beta=service_shares(inst),
        base_pairs=base_pairs,
        pairs=pairs,
        within_terms={v: [] for v in range(len(inst.services))},
    )
    for s_idx, site in enumerate(inst.sites):
        row = []
        for k_idx, opt in enumerate(site.options):
            var = prob.add_variable(f"y_{s_idx}_{k_idx}", cat=pulp.LpBinary)
            b.y[(site.site_id, opt.option_id)] = var
            row.append((var, k_idx))
        b.y_by_site.append(row)
    for s_idx, sid in enumerate(inst.site_ids):
        for v_idx, v in enumerate(inst.services):
            b.open[(sid, v)] = prob.add_variable(f"o_{s_idx}_{v_idx}", lowBound=0, upBound=1)
    return b


def _link_mask(b: ModelBuild, v_idx: int) -> npt.NDArray[np.bool_]:
    """Pairs that get a linking row (5) for service ``v_idx``."""
    s = b.settings
    link = b.pairs[v_idx] & s.tight_linking
    if s.tight_linking and s.link_k_nearest is not None:
        link &= nearest_mask(b.pairs[v_idx], b.instance.travel_min, s.link_k_nearest)
    return np.asarray(link)


def _add_assignment(b: ModelBuild) -> None:
    """The assignment variables, rows (3) and (5), and the terms of the later rows."""
    inst = b.instance
    zone_ids, site_ids = inst.zones.zone_ids, inst.site_ids
    weight, demand, travel = inst.zones.weight, inst.zones.demand_beds, inst.travel_min
    act = active_zones(inst)
    tau = b.settings.within_travel_min
    for v_idx, v in enumerate(inst.services):
        zs_idx = np.argwhere(b.pairs[v_idx])  # sorted by zone then site
        starts = np.searchsorted(zs_idx[:, 0], np.arange(inst.n_zones + 1))
        link = _link_mask(b, v_idx)
        coef_travel = b.beta[v_idx] / b.total_weight
        for z_idx in range(inst.n_zones):
            if not act[z_idx, v_idx]:
                continue
            zid = zone_ids[z_idx]
            row_terms: list[tuple[pulp.LpVariable, float]] = []
            w = float(weight[z_idx])
            d = float(demand[z_idx, v_idx])
            for s_idx in zs_idx[starts[z_idx] : starts[z_idx + 1], 1]:
                s_i = int(s_idx)
                var = b.prob.add_variable(f"x_{z_idx}_{s_i}_{v_idx}", lowBound=0, upBound=1)
                b.x[(zid, site_ids[s_i], v)] = var
                row_terms.append((var, 1.0))
                t = float(travel[z_idx, s_i])
                if w > 0:
                    b.travel_terms.append((var, coef_travel * w * t))
                    b.travel_pairs.append((z_idx, s_i, v_idx))
                    if tau is not None and t <= tau:
                        b.within_terms[v_idx].append((var, w))
                if d > 0:
                    b.cap_terms.setdefault((s_i, v_idx), []).append((var, d))
                if b.elastic and not b.base_pairs[v_idx][z_idx, s_i]:
                    b.over_terms.append((var, w if w > 0 else 1.0))
                if link[z_idx, s_i]:
                    b.add(
                        pulp.LpAffineExpression([(var, 1.0), (b.open[(site_ids[s_i], v)], -1.0)]),
                        pulp.LpConstraintLE,
                        0.0,
                        f"c05_link_{z_idx}_{s_i}_{v_idx}",
                    )
            if b.elastic:
                unmet = b.prob.add_variable(f"unmet_{z_idx}_{v_idx}", lowBound=0, upBound=1)
                b.slacks[f"unmet|{zid}|{v}"] = unmet
                row_terms.append((unmet, 1.0))
            b.add(
                pulp.LpAffineExpression(row_terms),
                pulp.LpConstraintEQ,
                1.0,
                f"c03_assign_{z_idx}_{v_idx}",
            )


def _add_measures(b: ModelBuild) -> None:
    """:math:`T` and :math:`G`."""
    b.mean_travel_expr = pulp.LpAffineExpression(b.travel_terms)
    cost_terms = []
    for s_idx, site in enumerate(b.instance.sites):
        for var, k_idx in b.y_by_site[s_idx]:
            g = site.options[k_idx].cost_gbp_per_year()
            if g:
                cost_terms.append((var, g))
    b.cost_expr = pulp.LpAffineExpression(cost_terms)


def _add_site_rows(b: ModelBuild) -> None:
    """Rows (1), (2), (4) per site and (6) per service."""
    inst = b.instance
    for s_idx, sid in enumerate(inst.site_ids):
        b.add(
            pulp.LpAffineExpression([(var, 1.0) for var, _ in b.y_by_site[s_idx]]),
            pulp.LpConstraintEQ,
            1.0,
            f"c01_one_option_{s_idx}",
        )
        for v_idx, v in enumerate(inst.services):
            beds = [
                (var, b.option(s_idx, k).usable_beds.get(v, 0.0)) for var, k in b.y_by_site[s_idx]
            ]
            terms = [(var, 1.0) for var, u in beds if u > 0]
            b.add(
                pulp.LpAffineExpression([*terms, (b.open[(sid, v)], -1.0)]),
                pulp.LpConstraintEQ,
                0.0,
                f"c02_open_{s_idx}_{v_idx}",
            )
            cap = [(var, -u) for var, u in beds if u > 0]
            b.add(
                pulp.LpAffineExpression(b.cap_terms.get((s_idx, v_idx), []) + cap),
                pulp.LpConstraintLE,
                0.0,
                f"c04_capacity_{s_idx}_{v_idx}",
            )
    for v_idx, v in enumerate(inst.services):
        need = float(inst.total_demand_beds[v_idx])
        if need > 0:
            b.add(
                b.option_sum(lambda o, _s, v=v: o.usable_beds.get(v, 0.0)),  # type: ignore[misc]
                pulp.LpConstraintGE,
                need,
                f"c06_total_beds_{v_idx}",
            )


def _add_receipts(b: ModelBuild) -> None:
    """The linked receipts' :math:`\rho_l` and rows (15), when a net capital limit is set."""
    s, inst = b.settings, b.instance
    if s.capital_limit_gbp is None or s.capital_basis != "net":
        return
    for l_idx, link in enumerate(inst.linked_receipts):
        if link.receipt_gbp <= 0:
            continue
        rho = b.prob.add_variable(f"receipt_{l_idx}", lowBound=0, upBound=1)
        b.receipts[link.scheme_id] = rho
        site_id = inst.sites[link.site_idx].site_id
        trigger = [(b.y[(site_id, oid)], -1.0) for oid in link.option_ids]
        b.add(pulp.LpAffineExpression([(rho, 1.0), *trigger]), pulp.LpConstraintLE, 0.0,
              f"c15_receipt_{l_idx}")
        for j in link.closed_site_idx:
            beds = [(var, 1.0) for var, k in b.y_by_site[j] if b.option(j, k).inpatient]
            b.add(pulp.LpAffineExpression([(rho, 1.0), *beds]), pulp.LpConstraintLE, 1.0,
                  f"c15_receipt_{l_idx}_closed_{j}")


def _add_limits(b: ModelBuild, limits: tuple[Limit, ...]) -> None:
    """The rows of ``limits`` the scenario sets, each with a slack in the elastic model."""
    for lim in limits:
        if not lim.is_on(b.settings):
            continue
        rhs = lim.bound(b.settings, b.total_weight)
        for v_idx, _v, row, key in lim.rows(b.instance):
            b.add_limit(lim.expression(b, v_idx), lim.sense, rhs, row, key)


def _add_locks(b: ModelBuild) -> None:
    """Rows (11): sites forced open or closed, fixed options."""
    s = b.settings
    for s_idx, sid in enumerate(b.instance.site_ids):
        inpatient = [(var, 1.0) for var, k in b.y_by_site[s_idx] if b.option(s_idx, k).inpatient]
        if sid in s.force_open:
            b.add(pulp.LpAffineExpression(inpatient), pulp.LpConstraintEQ, 1.0, f"c11_open_{s_idx}")
        if sid in s.force_closed:
            b.add(
                pulp.LpAffineExpression(inpatient), pulp.LpConstraintEQ, 0.0, f"c11_closed_{s_idx}"
            )
        if sid in s.fixed_options:
            b.add(
                pulp.LpAffineExpression([(b.y[(sid, s.fixed_options[sid])], 1.0)]),
                pulp.LpConstraintEQ,
                1.0,
                f"c11_fixed_{s_idx}",
            )


def _set_objective(b: ModelBuild) -> None:
    """The objective, then every collected row, then (elastic) row (14)."""
    s = b.settings
    assert b.mean_travel_expr is not None and b.cost_expr is not None
    if b.elastic:
        b.prob.setObjective(_elastic_objective(b))
    elif s.objective == "access":
        b.prob.setObjective(b.mean_travel_expr)
    elif s.objective == "cost":
        b.prob.setObjective(b.cost_expr)
    else:
        b.prob.setObjective(
            s.travel_weight * b.mean_travel_expr
            + (s.cost_weight_per_gbp_m / GBP_PER_M) * b.cost_expr
        )
    for c in b.rows:
        b.prob.addConstraint(c)
    if b.elastic and b.over_terms:
        over = b.prob.add_variable("slack_travel", lowBound=0)
        b.slacks["travel"] = over
        b.prob.addConstraint(
            pulp.LpConstraint(
                pulp.LpAffineExpression([*b.over_terms, (over, -1.0)]),
                sense=pulp.LpConstraintEQ,
                name="c14_over_travel",
                rhs=0.0,
            )
        )


def build_model(
    instance: Instance,
    settings: ModelSettings,
    *,
    extra_constraints: ExtraConstraints | None = None,
    elastic: bool = False,
) -> SiteModel:
    """Build the MILP (see the module docstring for the formulation).

    Stages: the option and offer variables, the assignment (3), (5), the measures, the site
    rows (1), (2), (4), (6), the linked receipts (15), the limits of :data:`LIMITS` with the
    locks (11), the objective (and (14)), then ``extra_constraints``.

    Parameters
    ----------
    instance : Instance
    settings : ModelSettings
    extra_constraints : callable, optional
        Called with the built :class:`SiteModel` to add constraints of its own.
    elastic : bool
        Build the elastic version: every limit of :data:`LIMITS` gets a non-negative slack,
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
    b = _start(instance, settings, elastic)
    _add_assignment(b)
    _add_measures(b)
    _add_site_rows(b)
    _add_receipts(b)
    _add_limits(b, tuple(lim for lim in LIMITS if lim.number < LOCKS_NUMBER))
    _add_locks(b)
    _add_limits(b, tuple(lim for lim in LIMITS if lim.number > LOCKS_NUMBER))
    _set_objective(b)
    assert b.mean_travel_expr is not None and b.cost_expr is not None
    model = SiteModel(
        prob=b.prob,
        instance=instance,
        settings=settings,
        y=b.y,
        open=b.open,
        x=b.x,
        mean_travel_expr=b.mean_travel_expr,
        cost_expr=b.cost_expr,
        elastic=b.slacks,
        receipts=b.receipts,
    )
    if extra_constraints is not None:
        extra_constraints(model)
    model.build_time_s = time.perf_counter() - t0
    return model


def _elastic_objective(b: ModelBuild) -> pulp.LpAffineExpression:
    """Sum of slacks, each divided by the size of its limit (relative violation)."""
    by_key = {lim.key: lim for lim in LIMITS}
    total_weight = b.total_weight
    terms: list[tuple[pulp.LpVariable, float]] = []
    gain = _equity_unmet_gain(b)
    zone_pos = {zid: i for i, zid in enumerate(b.instance.zones.zone_ids)}
    service_pos = {v: i for i, v in enumerate(b.instance.services)}
    for key, var in b.slacks.items():
        if key.startswith("unmet|"):
            # unmet demand is the worst outcome: one zone's whole need counts as 1
            _, zid, v = key.split("|")
            extra = float(gain[zone_pos[zid], service_pos[v]])
            terms.append((var, float(len(b.instance.sites) + 1) + extra))
        else:
            lim = by_key[key.split("|", 1)[0]]
            terms.append((var, 1.0 / max(lim.scale(b.settings, total_weight), 1.0)))
    if b.over_terms:
        terms.extend((var, w / max(total_weight, 1.0)) for var, w in b.over_terms)
    return pulp.LpAffineExpression(terms)


def _equity_unmet_gain(b: ModelBuild) -> FloatArray:
    """:math:`\\gamma_{zv}` of the elastic objective, shape (n_zones, n_services): the most a
    unit of zone z's service v left unmet can lower the weighted slacks of the equity rows
    (16); zeros without an equity limit."""
    inst, s = b.instance, b.settings
    per_zone = np.zeros(inst.n_zones)
    rise = s.max_group_mean_travel_increase_min
    if rise is not None:
        for group in equity_groups(inst):
            per_zone += group_zone_shares(inst, group) / max(rise, 1.0)
    if s.max_deprived_gap_min is not None:
        both = group_zone_shares(inst, DEPRIVED_GROUP) + group_zone_shares(inst, None)
        per_zone += both / max(abs(s.max_deprived_gap_min), 1.0)
    t_max = np.stack([np.where(b.pairs[v], inst.travel_min, 0.0).max(axis=1, initial=0.0)
                      for v in range(len(inst.services))], axis=1)
    return np.asarray(per_zone[:, None] * b.beta[None, :] * t_max, dtype=np.float64)

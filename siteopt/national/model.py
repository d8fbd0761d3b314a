r"""The throughput model: which sites keep a service, each open site within an annual throughput
range, built in bulk from numpy arrays (for national instances).

This is the national-scale sibling of :mod:`siteopt.wards.model`. The site model there picks one of
a catalogue of ward options per site and is built term by term with PuLP, which is right for a
county (9 sites, 634 zones, 7,000 variables). Here the question is simpler per site (open or
not, with a minimum and maximum throughput) but the instance is national: 34,752 zones x 125
sites, hundreds of thousands of assignment variables. The model is therefore written as sparse
matrices with numpy and handed to HiGHS in one call (``Highs.passModel``): no Python loop runs
over the terms.

Formulation
-----------
Sets
    :math:`S` sites; :math:`Z` zones with demand :math:`d_z > 0` (e.g. stroke admissions a
    year); :math:`A \subseteq Z \times S` the **column set**: pairs the model may use. The full
    problem has every pair within ``max_travel_min`` (:func:`allowed_pairs`); the model is built
    on a subset (each zone's ``k_nearest`` sites, :func:`siteopt.solver_core.nearest_mask`) and
    the omitted pairs are priced with the LP duals (:func:`reduced_costs`), so bounds stay valid
    for the full problem (see :mod:`siteopt.national.solve`).

Parameters
    :math:`t_{zs}` drive minutes; :math:`D = \sum_z d_z`; :math:`L, U` minimum and maximum
    throughput of an open site (:math:`U = D` if no maximum is set); :math:`N^-, N^+` bounds on
    the number of open sites; :math:`\tau, \rho` the within-time share limit; :math:`E_{zs}`
    link pairs (each zone's ``link_k_nearest`` nearest sites in :math:`A`).

Variables
    :math:`o_s \in \{0,1\}` site :math:`s` is open; :math:`x_{zs} \in [0,1]`,
    :math:`(z,s)\in A`, the share of zone :math:`z`'s demand served at :math:`s`.

Measure
    :math:`T = \frac{1}{D}\sum_{(z,s)\in A} d_z t_{zs} x_{zs}`, the demand-weighted mean drive.

Objective
    ``access``: min :math:`T`. ``units``: min :math:`\sum_s o_s + T / (t^{max} + 1)`, i.e. the
    fewest open sites, ties broken by :math:`T` (:math:`t^{max}` the largest drive in
    :math:`A`, so the second term is below 1). ``weighted``: min
    :math:`T + \lambda \sum_s o_s` (:math:`\lambda` = ``minutes_per_site``). The model
    multiplies the objective by :math:`D` (costs :math:`d_z t_{zs}` in demand-minutes), which
    keeps HiGHS's cost range sane; reports divide by :math:`D` again.

Constraints (row blocks, in this order)
    (1) assign: :math:`\sum_{s:(z,s)\in A} x_{zs} = 1` for every zone.
    (2) max throughput: :math:`\sum_z d_z x_{zs} - U o_s \le 0`.
    (3) min throughput: :math:`\sum_z d_z x_{zs} - L o_s \ge 0` (if :math:`L > 0`).
    (4) number of sites: :math:`N^- \le \sum_s o_s \le N^+` (if either is set).
    (5) aggregate cut: :math:`U \sum_s o_s \ge D` (implied by (1)+(2); helps the bound).
    (6) within: :math:`\sum_{(z,s)\in A: t_{zs}\le\tau} d_z x_{zs} \ge \rho D` (if set).
    (7) link: :math:`x_{zs} - o_s \le 0` for :math:`(z,s) \in E` (tight linking on the nearest
        pairs only: valid for any subset, and the LP stays fast).
    Locks fix :math:`o_s` by its bounds (``force_open``, ``force_closed``). The maximum drive
    needs no row: pairs beyond it are not in :math:`A`.

Only this module and :mod:`siteopt.national.solve` import highspy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from siteopt.errors import DataError, Problem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

ThroughputObjective = Literal["access", "units", "weighted"]


@dataclass(frozen=True)
class ThroughputSettings:
    """Limits, locks, objective and sparsity of the throughput model (``None`` = no limit).

    Parameters
    ----------
    objective : {"access", "units", "weighted"}
        See the module docstring.
    minutes_per_site : float
        ``weighted``: minutes of mean drive worth one more open site.
    min_per_site, max_per_site : float or None
        Throughput range of an open site, in the demand's unit a year.
    min_sites, max_sites : int or None
        Bounds on the number of open sites.
    max_travel_min : float or None
        No demand may be served further than this.
    within_travel_min, min_share_within : float or None
        At least ``min_share_within`` of demand served within ``within_travel_min`` minutes.
    force_open, force_closed : frozenset of str
        Site ids that must be open (closed).
    k_nearest : int or None
        Initial column set: each zone's ``k_nearest`` nearest allowed sites (``None``: all).
    link_k_nearest : int or None
        Linking rows only for each zone's ``link_k_nearest`` nearest sites of the column set.
    """

    objective: ThroughputObjective = "access"
    minutes_per_site: float = 0.0
    min_per_site: float | None = None
    max_per_site: float | None = None
    min_sites: int | None = None
    max_sites: int | None = None
    max_travel_min: float | None = None
    within_travel_min: float | None = None
    min_share_within: float | None = None
    force_open: frozenset[str] = field(default_factory=frozenset)
    force_closed: frozenset[str] = field(default_factory=frozenset)
    k_nearest: int | None = 6
    link_k_nearest: int | None = 2

    def check(self, site_ids: tuple[str, ...]) -> None:
        """Raise one :class:`DataError` listing every inconsistent setting."""
        src = "settings"
        problems: list[Problem] = []
        if self.objective not in ("access", "units", "weighted"):
            problems.append(Problem(src, f"objective {self.objective!r} is not "
                                    "access|units|weighted", field="objective"))
        for name in ("minutes_per_site", "min_per_site", "max_per_site", "min_sites", "max_sites",
                     "max_travel_min", "within_travel_min"):
            val = getattr(self, name)
            number = isinstance(val, int | float) and not isinstance(val, bool)
            if val is not None and not (number and np.isfinite(val) and val >= 0):
                problems.append(Problem(src, f"{name} must be a number >= 0, got {val!r}",
                                        field=name))
        for name in ("min_sites", "max_sites", "k_nearest", "link_k_nearest"):
            val = getattr(self, name)
            if val is not None and (not isinstance(val, int) or isinstance(val, bool)):
                problems.append(Problem(src, f"{name} must be a whole number, got {val!r}",
                                        field=name))
        for name in ("k_nearest", "link_k_nearest"):
            val = getattr(self, name)
            if isinstance(val, int) and val < 1:
                problems.append(Problem(src, f"{name} must be >= 1 (or unset for all)",
                                        field=name))
        if (self.within_travel_min is None) != (self.min_share_within is None):
            problems.append(Problem(src, "give both within_travel_min and min_share_within, "
                                    "or neither", field="min_share_within"))
        share = self.min_share_within
        if share is not None and not (isinstance(share, int | float) and 0 <= share <= 1):
            problems.append(Problem(src, "min_share_within must be between 0 and 1",
                                    field="min_share_within"))
        if any("must be a number" in p.message or "whole number" in p.message
               for p in problems):
            raise DataError(problems)  # the comparisons below need numbers
        if (self.min_per_site is not None and self.max_per_site is not None
                and self.min_per_site > self.max_per_site):
            problems.append(Problem(src, f"min_per_site {self.min_per_site:g} exceeds "
                                    f"max_per_site {self.max_per_site:g}", field="min_per_site"))
        if (self.min_sites is not None and self.max_sites is not None
                and self.min_sites > self.max_sites):
            problems.append(Problem(src, f"min_sites {self.min_sites} exceeds max_sites "
                                    f"{self.max_sites}", field="min_sites"))
        known = set(site_ids)
        for name in ("force_open", "force_closed"):
            unknown = sorted(set(getattr(self, name)) - known)
            if unknown:
                problems.append(Problem(src, f"{name}: unknown site ids {unknown[:5]}",
                                        field=name))
        both = sorted(self.force_open & self.force_closed)
        if both:
            problems.append(Problem(src, f"sites both forced open and closed: {both[:5]}"))
        if problems:
            raise DataError(problems)


@dataclass(frozen=True, eq=False)
class Pairs:
    """A column set: zone-site pairs, sorted by zone then by drive time.

    Attributes
    ----------
    zone, site : ndarray of int
        Zone and site index of each pair.
    """

    zone: IntArray
    site: IntArray

    def __len__(self) -> int:
        return len(self.zone)

    def mask(self, n_zones: int, n_sites: int) -> BoolArray:
        """Dense boolean (n_zones, n_sites) of the pairs."""
        out = np.zeros((n_zones, n_sites), dtype=bool)
        out[self.zone, self.site] = True
        return out


def allowed_pairs(travel_min: FloatArray, settings: ThroughputSettings,
                  site_open_ok: BoolArray | None = None) -> BoolArray:
    """The full problem's pairs: reachable, within ``max_travel_min``, site not forced closed."""
    ok = np.isfinite(travel_min)
    if settings.max_travel_min is not None:
        ok &= travel_min <= settings.max_travel_min
    if site_open_ok is not None:
        ok &= site_open_ok[None, :]
    return ok


def site_open_ok(site_ids: tuple[str, ...], settings: ThroughputSettings) -> BoolArray:
    """Sites that may open: every site not in ``settings.force_closed``."""
    return ~np.isin(np.asarray(site_ids, dtype=object), list(settings.force_closed))


def pairs_from_mask(mask: BoolArray, travel_min: FloatArray) -> Pairs:
    """Pairs of a dense mask, sorted by zone then by drive time (then site)."""
    z, s = np.nonzero(mask)
    order = np.lexsort((s, travel_min[z, s], z))
    return Pairs(zone=z[order].astype(np.int64), site=s[order].astype(np.int64))


@dataclass(frozen=True, eq=False)
class ThroughputLP:
    """The model as arrays, ready for HiGHS, with the layout needed to read duals.

    Attributes
    ----------
    pairs : Pairs
        The column set; column ``n_sites + p`` is pair ``p``, columns ``0..n_sites-1`` are
        the ``o_s``.
    cost, col_lower, col_upper : ndarray
    matrix : scipy.sparse.csc_matrix
    row_lower, row_upper : ndarray
    integer : bool
        True for the MILP, False for its LP relaxation.
    zone_rows : ndarray of int
        Row of each zone's assign constraint (-1 for zones without demand).
    cap_row0, min_row0, within_row : int
        First row of the max and min throughput blocks, and the within row (-1 if absent).
    travel_scale : float
        Objective coefficient of :math:`d_z t_{zs}` (1: the objective is in demand-minutes, the
        module docstring's objective times :math:`D`).
    """

    pairs: Pairs
    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    matrix: sp.csc_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    integer: bool
    zone_rows: IntArray
    cap_row0: int
    min_row0: int
    within_row: int
    travel_scale: float
    n_sites: int

    @property
    def n_cols(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def n_rows(self) -> int:
        return int(self.matrix.shape[0])


def build_lp(travel_min: FloatArray, demand: FloatArray, site_ids: tuple[str, ...],
             settings: ThroughputSettings, pairs: Pairs, *, integer: bool = True,
             travel_max_min: float | None = None) -> ThroughputLP:
    """Build the model (module docstring) on the column set ``pairs``, vectorised.

    Parameters
    ----------
    travel_min : ndarray, shape (n_zones, n_sites)
    demand : ndarray, shape (n_zones,)
    site_ids : tuple of str
    settings : ThroughputSettings
    pairs : Pairs
        Must hold at least one pair for every zone with demand.
    integer : bool
        Binary ``o`` (MILP) or continuous in [0, 1] (LP relaxation).
    travel_max_min : float, optional
        :math:`t^{max}` of the ``units`` objective (default: largest drive in ``pairs``); pass
        the full problem's value so every column set uses the same objective.
    """
    n_z, n_s = travel_min.shape
    active = demand > 0
    total = float(demand.sum())
    if total <= 0:
        raise DataError([Problem("zones", "total demand is 0: nothing to serve")])
    keep = active[pairs.zone]
    pz, ps = pairs.zone[keep], pairs.site[keep]
    pairs = Pairs(zone=pz, site=ps)
    n_p = len(pz)
    d_p = demand[pz]
    t_p = travel_min[pz, ps]
    t_max = float(travel_max_min if travel_max_min is not None else (t_p.max() if n_p else 0.0))

    # Costs in demand-minutes (d_z t_zs; the mean drive is the objective / D): well scaled for
    # HiGHS, unlike costs divided by D.
    travel_scale = 1.0
    if settings.objective == "units":
        site_cost = total * (t_max + 1.0)
    else:
        site_cost = total * settings.minutes_per_site if settings.objective == "weighted" else 0.0
    cost = np.concatenate([np.full(n_s, site_cost), d_p * t_p * travel_scale])
    col_lower = np.zeros(n_s + n_p)
    col_upper = np.ones(n_s + n_p)
    pos = {s: j for j, s in enumerate(site_ids)}
    for sid in settings.force_open:
        col_lower[pos[sid]] = 1.0
    for sid in settings.force_closed:
        col_upper[pos[sid]] = 0.0

    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    lower: list[FloatArray] = []
    upper: list[FloatArray] = []
    x_cols = n_s + np.arange(n_p)
    site_cols = np.arange(n_s)

    # (1) assign: one row per active zone
    zone_rows = np.full(n_z, -1, dtype=np.int64)
    act_idx = np.flatnonzero(active)
    zone_rows[act_idx] = np.arange(len(act_idx))
    r = len(act_idx)
    rows.append(zone_rows[pz])
    cols.append(x_cols)
    vals.append(np.ones(n_p))
    lower.append(np.ones(r))
    upper.append(np.ones(r))

    big_u = settings.max_per_site if settings.max_per_site is not None else total
    # (2) max throughput
    cap_row0 = r
    rows += [r + ps, r + site_cols]
    cols += [x_cols, site_cols]
    vals += [d_p, np.full(n_s, -big_u)]
    lower.append(np.full(n_s, -np.inf))
    upper.append(np.zeros(n_s))
    r += n_s
    # (3) min throughput
    min_row0 = -1
    if settings.min_per_site:
        min_row0 = r
        rows += [r + ps, r + site_cols]
        cols += [x_cols, site_cols]
        vals += [d_p, np.full(n_s, -float(settings.min_per_site))]
        lower.append(np.zeros(n_s))
        upper.append(np.full(n_s, np.inf))
        r += n_s
    # (4) number of sites
    if settings.min_sites is not None or settings.max_sites is not None:
        rows.append(np.full(n_s, r))
        cols.append(site_cols)
        vals.append(np.ones(n_s))
        lower.append(np.array([float(settings.min_sites or 0)]))
        upper.append(np.array([float(settings.max_sites) if settings.max_sites is not None
                               else np.inf]))
        r += 1
    # (5) aggregate cut
    if settings.max_per_site is not None:
        rows.append(np.full(n_s, r))
        cols.append(site_cols)
        vals.append(np.full(n_s, big_u))
        lower.append(np.array([total]))
        upper.append(np.array([np.inf]))
        r += 1
    # (6) within share
    within_row = -1
    if settings.within_travel_min is not None and settings.min_share_within is not None:
        within_row = r
        near = t_p <= settings.within_travel_min
        rows.append(np.full(int(near.sum()), r))
        cols.append(x_cols[near])
        vals.append(d_p[near])
        lower.append(np.array([settings.min_share_within * total]))
        upper.append(np.array([np.inf]))
        r += 1
    # (7) link rows on each zone's nearest pairs (pairs are sorted by zone, then drive time)
    if settings.link_k_nearest is None:
        link = np.arange(n_p)
    else:
        first = np.searchsorted(pz, pz, side="left")
        link = np.flatnonzero(np.arange(n_p) - first < settings.link_k_nearest)
    n_l = len(link)
    rows += [r + np.arange(n_l), r + np.arange(n_l)]
    cols += [x_cols[link], ps[link]]
    vals += [np.ones(n_l), -np.ones(n_l)]
    lower.append(np.full(n_l, -np.inf))
    upper.append(np.zeros(n_l))
    r += n_l

    matrix = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(r, n_s + n_p),
    )
    matrix.sum_duplicates()
    return ThroughputLP(
        pairs=pairs, cost=cost, col_lower=col_lower, col_upper=col_upper, matrix=matrix,
        row_lower=np.concatenate(lower), row_upper=np.concatenate(upper), integer=integer,
        zone_rows=zone_rows, cap_row0=cap_row0, min_row0=min_row0, within_row=within_row,
        travel_scale=travel_scale, n_sites=n_s,
    )


def to_highs(lp: ThroughputLP, highs: highspy.Highs) -> None:
    """Pass the model to a HiGHS object in one call (``passModel``)."""
    model = highspy.HighsLp()
    model.num_col_ = lp.n_cols
    model.num_row_ = lp.n_rows
    model.col_cost_ = lp.cost
    model.col_lower_ = lp.col_lower
    model.col_upper_ = lp.col_upper
    model.row_lower_ = lp.row_lower
    model.row_upper_ = lp.row_upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = lp.matrix.indptr.astype(np.int32)
    model.a_matrix_.index_ = lp.matrix.indices.astype(np.int32)
    model.a_matrix_.value_ = lp.matrix.data
    if lp.integer:
        kinds = [highspy.HighsVarType.kInteger] * lp.n_sites
        kinds += [highspy.HighsVarType.kContinuous] * (lp.n_cols - lp.n_sites)
        model.integrality_ = kinds
    status = highs.passModel(model)
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model (passModel returned an error)")


def reduced_costs(lp: ThroughputLP, travel_min: FloatArray, demand: FloatArray,
                  row_dual: FloatArray, zone: IntArray, site: IntArray,
                  within_travel_min: float | None) -> FloatArray:
    r"""Reduced cost of pair columns ``(zone, site)`` under the LP duals ``row_dual``.

    For a pair column, :math:`\bar c_{zs} = c_{zs} - \pi_z - d_z(\alpha_s + \beta_s) -
    [t_{zs} \le \tau]\, d_z \gamma`, with :math:`\pi, \alpha, \beta, \gamma` the duals of the
    assign, max, min and within rows (HiGHS convention: reduced cost = cost minus
    :math:`A^\top y`). A column not in the model has no link row; its link row's dual is taken
    as 0, which is dual feasible, so the bound of :func:`lagrangian_bound` is valid.
    """
    d = demand[zone]
    t = travel_min[zone, site]
    rc = d * t * lp.travel_scale - row_dual[lp.zone_rows[zone]]
    rc -= d * row_dual[lp.cap_row0 + site]
    if lp.min_row0 >= 0:
        rc -= d * row_dual[lp.min_row0 + site]
    if lp.within_row >= 0 and within_travel_min is not None:
        rc -= np.where(t <= within_travel_min, d * row_dual[lp.within_row], 0.0)
    return np.asarray(rc, dtype=np.float64)

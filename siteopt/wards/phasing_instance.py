"""The phasing model's input: a target configuration's moves as plain arrays, year by year.

A :class:`PhaseInstance` says, for a move from today's wards to a target configuration:

* the **changing sites** (those whose option differs between today and the target): each one
  runs today's wards until its *switch year*, then the target's (the wards of one site move
  together); usable beds per service and annual revenue before and after;
* the beds and revenue of the sites that do not change (constant);
* the **schemes** (:class:`PhaseScheme`): a ``build`` scheme (a new or rebuilt ward space) must
  be finished before its site switches (capex spread evenly over its ``build_years`` from its
  start year, no earlier than its earliest start); a ``closure`` scheme (re-provision when a
  site's beds close) is built from the year its site switches;
* the **receipts** (:class:`PhaseReceipt`): realised ``lag_years`` after the last of the sites
  it needs vacated has switched (the scheme's own site, and the sites
  ``receipt_requires_closure`` names);
* the **precedence** pairs (receiving site, closing site): a closing site whose beds go to a
  receiving site's new ward switches no earlier than the receiving site;
* per year: the bed need per service, the capital envelope (``inf`` for none, net or gross),
  the Green Book discount factors and the access measure of each intermediate configuration.

Years are financial years named by their first calendar year (2026 = 2026/27); index ``t`` of
the horizon is ``years[t]``; the cash-flow arrays run ``n_flow_years`` long, past the horizon,
so that a receipt that comes after the last year is still counted in the net present cost.

:class:`PhasingSettings` is the scenario's ``[phasing]`` table. :func:`schedule_flows`
computes every year's money and beds of a given schedule with numpy (no solver), for the report
and for checking the MILP; :func:`configuration_mean_travel` the access measure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from siteopt.errors import DataError, Problem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

PhaseObjective = Literal["npc", "completion", "access"]
CapitalBasis = Literal["net", "gross"]
SchemeKind = Literal["build", "closure"]

MAX_ACCESS_SITES = 12
"""The access objective enumerates every intermediate configuration (``2^n`` for ``n``
changing sites); above this many changing sites it is refused (a size limit of the method, not
an assumption about the region)."""


@dataclass(frozen=True)
class PhasingSettings:
    """The scenario's ``[phasing]`` table.

    Parameters
    ----------
    first_year, last_year : int or None
        The planning horizon, financial years by their first calendar year (2026 = 2026/27).
        ``first_year`` defaults to the demand's planning year; ``last_year`` to
        ``first_year + horizon_years - 1``. Every target move must be complete by ``last_year``.
    horizon_years : int
        The horizon's length when ``last_year`` is not given (default from
        ``assumptions.toml [phasing] horizon_years``: ten years).
    capital_limit_gbp_by_year : dict of str to float
        The capital envelope per year (``{"2026" = 4e6, ...}``, TOML keys are text).
    capital_limit_other_years_gbp : float or None
        The envelope of horizon years not in ``capital_limit_gbp_by_year`` (None or ``inf``:
        no limit; a scenario's default is ``assumptions.toml [phasing]
        capital_limit_gbp_per_year``, :func:`siteopt.runs.scenario.assumption_defaults`).
    capital_basis : {"net", "gross"}
        ``net``: capex less the receipts realised that year; ``gross``: capex alone (default
        from ``assumptions.toml [phasing] capital_basis``).
    objective : {"npc", "completion", "access"}
        Least Green Book net present cost; earliest completion; least 65+ drive over the years.
        Bed need comes first (the shortfall in bed-days is minimised, then the objective, then
        the net present cost breaks ties), unless ``shortfall_first`` is false.
    choose_end_state : bool
        Choose the end state with its phasing (the ward model's options, assignment and limits
        for the planning year, :mod:`siteopt.wards.phasing_joint`) instead of phasing a given
        configuration.
    shortfall_first : bool
        Minimise the bed shortfall before the objective (default). False only reports it: with
        need growing every year, a target with fewer beds than today otherwise keeps every bed
        cut to the last years, whatever the objective.
    """

    first_year: int | None = None
    last_year: int | None = None
    horizon_years: int = 10
    capital_limit_gbp_by_year: dict[str, float] = field(default_factory=dict)
    capital_limit_other_years_gbp: float | None = None
    capital_basis: CapitalBasis = "net"
    objective: PhaseObjective = "npc"
    shortfall_first: bool = True
    choose_end_state: bool = False

    def years(self, planning_year: int) -> tuple[int, int]:
        """The horizon (first, last) with the defaults filled in."""
        first = self.first_year if self.first_year is not None else planning_year
        last = self.last_year if self.last_year is not None else first + self.horizon_years - 1
        return first, last

    def envelope(self, years: Sequence[int]) -> FloatArray:
        """The envelope of each year in pounds (``inf`` where there is none)."""
        other = (np.inf if self.capital_limit_other_years_gbp is None
                 else float(self.capital_limit_other_years_gbp))
        return np.array([float(self.capital_limit_gbp_by_year.get(str(y), other))
                         for y in years], dtype=np.float64)

    def problems(self, planning_year: int, origin: Mapping[str, str] | None = None
                 ) -> list[Problem]:
        """Every problem with the settings, one line each naming the file (from ``origin``,
        ``section.key`` -> file) and the key."""
        origin = origin or {}

        def where(key: str) -> str:
            return origin.get(f"phasing.{key}", "scenario")

        out: list[Problem] = []
        first, last = self.years(planning_year)
        if not 1990 <= first <= 2100:
            out.append(Problem(where("first_year"), f"first year {first} must be a financial "
                               "year between 1990 and 2100, e.g. 2026", field="phasing.first_year"))
        if self.horizon_years < 1:
            out.append(Problem(where("horizon_years"), f"{self.horizon_years} must be at least 1",
                               field="phasing.horizon_years"))
        if last < first or last - first > 60:
            out.append(Problem(where("last_year"), f"last year {last} must be from the first year "
                               f"{first} to {first + 60}", field="phasing.last_year"))
        for key, value in sorted(self.capital_limit_gbp_by_year.items()):
            name = f"phasing.capital_limit_gbp_by_year.{key}"
            if not key.isdigit():
                out.append(Problem(where("capital_limit_gbp_by_year"), f"'{key}' is not a year; "
                                   "write the first calendar year, e.g. 2026 = 4e6", field=name))
            elif not first <= int(key) <= last:
                out.append(Problem(where("capital_limit_gbp_by_year"), f"year {key} is outside "
                                   f"the horizon {first}-{last}; move it or widen "
                                   "phasing.first_year/last_year", field=name))
            if not np.isfinite(value) or value < 0:
                out.append(Problem(where("capital_limit_gbp_by_year"), f"{value!r} must be a "
                                   "number of pounds of 0 or more, e.g. 4e6", field=name))
        other = self.capital_limit_other_years_gbp
        if other is not None and (np.isnan(other) or other < 0):
            out.append(Problem(where("capital_limit_other_years_gbp"), f"{other!r} must be a "
                               "number of pounds of 0 or more (inf for no limit)",
                               field="phasing.capital_limit_other_years_gbp"))
        return out


@dataclass(frozen=True)
class PhaseScheme:
    """A capital scheme of the move.

    Parameters
    ----------
    scheme_id : str
    site_idx : int
        Its site's position in :attr:`PhaseInstance.site_ids`.
    kind : {"build", "closure"}
        ``build``: finished before the site switches; ``closure``: built from the switch year.
    capex_gbp : float
    build_years : int
    earliest_start_year : int
    """

    scheme_id: str
    site_idx: int
    kind: SchemeKind
    capex_gbp: float
    build_years: int
    earliest_start_year: int


@dataclass(frozen=True)
class PhaseReceipt:
    """A disposal receipt, realised ``lag_years`` after every site of ``site_idx`` switched."""

    scheme_id: str
    receipt_gbp: float
    site_idx: tuple[int, ...]
    lag_years: int


@dataclass(frozen=True, eq=False)
class PhaseInstance:
    """Everything the phasing MILP needs (see the module docstring).

    Arrays: ``usable_before``/``usable_after`` (n_sites, n_services); ``revenue_before``/
    ``revenue_after`` (n_sites,); ``fixed_usable`` (n_services,); ``need_beds`` (n_years,
    n_services); ``envelope_gbp`` (n_years,); ``discount`` (n_flow_years,);
    ``access_min`` (2^n_sites,) or None: the 65+ mean drive of each intermediate
    configuration, bit ``i`` of the index set when site ``i`` has switched.
    """

    years: tuple[int, ...]
    services: tuple[str, ...]
    site_ids: tuple[str, ...]
    site_names: tuple[str, ...]
    usable_before: FloatArray
    usable_after: FloatArray
    revenue_before: FloatArray
    revenue_after: FloatArray
    fixed_usable: FloatArray
    fixed_revenue_gbp: float
    need_beds: FloatArray
    bed_days_per_bed_year: float
    schemes: tuple[PhaseScheme, ...]
    receipts: tuple[PhaseReceipt, ...]
    precedence: tuple[tuple[int, int], ...]
    envelope_gbp: FloatArray
    capital_basis: CapitalBasis
    discount: FloatArray
    capex_weight: float = 1.0
    """Capex multiplier in the net present cost (1 + optimism bias)."""
    access_min: FloatArray | None = None

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    @property
    def n_years(self) -> int:
        return len(self.years)

    @property
    def n_flow_years(self) -> int:
        """Years of the cash-flow arrays: the horizon plus the longest receipt lag and build."""
        lag = max((r.lag_years for r in self.receipts), default=0)
        build = max((s.build_years for s in self.schemes), default=1)
        return self.n_years + lag + build

    def check(self) -> None:
        """Raise :class:`DataError` if the arrays disagree in shape or content."""
        p: list[Problem] = []
        n, k, t = self.n_sites, len(self.services), self.n_years
        for name, arr, shape in (("usable_before", self.usable_before, (n, k)),
                                 ("usable_after", self.usable_after, (n, k)),
                                 ("revenue_before", self.revenue_before, (n,)),
                                 ("revenue_after", self.revenue_after, (n,)),
                                 ("fixed_usable", self.fixed_usable, (k,)),
                                 ("need_beds", self.need_beds, (t, k)),
                                 ("envelope_gbp", self.envelope_gbp, (t,))):
            if np.shape(arr) != shape:
                p.append(Problem("phasing instance", f"{name} has shape {np.shape(arr)}; "
                                 f"expected {shape}"))
        if len(self.discount) < self.n_flow_years:
            p.append(Problem("phasing instance", f"discount has {len(self.discount)} years; "
                             f"expected at least {self.n_flow_years}"))
        if not t or list(self.years) != list(range(self.years[0], self.years[0] + t)):
            p.append(Problem("phasing instance", "years must be consecutive and at least one"))
        for s in self.schemes:
            if not 0 <= s.site_idx < n or s.build_years < 1:
                p.append(Problem("phasing instance", f"scheme {s.scheme_id}: bad site or build"))
        for r in self.receipts:
            if not r.site_idx or any(not 0 <= i < n for i in r.site_idx) or r.lag_years < 0:
                p.append(Problem("phasing instance", f"receipt {r.scheme_id}: bad sites or lag"))
        for a, b in self.precedence:
            if not (0 <= a < n and 0 <= b < n) or a == b:
                p.append(Problem("phasing instance", f"precedence ({a}, {b}): bad sites"))
        if self.access_min is not None and len(self.access_min) != 2 ** n:
            p.append(Problem("phasing instance", "access_min needs one value per configuration"))
        if p:
            raise DataError(p)


@dataclass(frozen=True)
class Flows:
    """Money and beds of one schedule (:func:`schedule_flows`); flow arrays are
    ``n_flow_years`` long (horizon first), bed arrays ``n_years``."""

    capex_gbp: FloatArray
    receipts_gbp: FloatArray
    revenue_gbp: FloatArray
    """Revenue of the wards running each year (after the horizon: the target's)."""
    usable_beds: FloatArray
    """(n_years, n_services)."""
    shortfall_beds: FloatArray
    """(n_years, n_services): need less usable beds where positive."""
    switched: BoolArray
    """(n_flow_years, n_sites): site has switched by that year."""
    scheme_start: IntArray
    """Per scheme, the year index its work starts."""
    receipt_year: IntArray
    """Per receipt, the year index it is realised."""

    def net_capital_gbp(self) -> FloatArray:
        return self.capex_gbp - self.receipts_gbp


def schedule_flows(inst: PhaseInstance, switch: Sequence[int],
                   build_start: Mapping[str, int]) -> Flows:
    """Every year's money and beds of a schedule.

    Parameters
    ----------
    inst : PhaseInstance
    switch : sequence of int
        Per changing site, the horizon index of the year it switches to the target's wards.
    build_start : Mapping[str, int]
        scheme_id -> the index of the year work starts, for the ``build`` schemes (the
        ``closure`` schemes start in their site's switch year).
    """
    n_flow = inst.n_flow_years
    idx = np.arange(n_flow)
    sw = np.asarray(switch, dtype=np.int64)
    switched = idx[:, None] >= sw[None, :] if inst.n_sites else np.zeros((n_flow, 0), bool)
    capex = np.zeros(n_flow)
    starts = []
    for s in inst.schemes:
        start = build_start[s.scheme_id] if s.kind == "build" else int(sw[s.site_idx])
        starts.append(start)
        for y in range(start, min(start + s.build_years, n_flow)):
            capex[y] += s.capex_gbp / s.build_years
    receipts = np.zeros(n_flow)
    when = []
    for r in inst.receipts:
        y = int(max(sw[i] for i in r.site_idx)) + r.lag_years
        when.append(y)
        if y < n_flow:
            receipts[y] += r.receipt_gbp
    on = switched.astype(np.float64)
    revenue = inst.fixed_revenue_gbp + (inst.revenue_before[None, :] * (1 - on)
                                        + inst.revenue_after[None, :] * on).sum(axis=1)
    on_h = on[: inst.n_years]
    beds = (inst.fixed_usable[None, :]
            + (1 - on_h) @ inst.usable_before + on_h @ inst.usable_after)
    short = np.maximum(inst.need_beds - beds, 0.0)
    return Flows(capex, receipts, revenue, beds, short, switched,
                 np.asarray(starts, dtype=np.int64), np.asarray(when, dtype=np.int64))


def configuration_mean_travel(travel_min: FloatArray, weight: FloatArray, beta: FloatArray,
                              fixed_open: BoolArray, site_cols: Sequence[int],
                              open_before: BoolArray, open_after: BoolArray,
                              masks: Sequence[int] | None = None) -> FloatArray:
    """The weighted mean drive to the nearest site offering each service, weighted by the
    services' shares of need, for every intermediate configuration.

    Parameters
    ----------
    travel_min : ndarray (n_zones, n_all_sites)
    weight : ndarray (n_zones,)
        People aged 65+ per zone.
    beta : ndarray (n_services,)
        Each service's share of bed need.
    fixed_open : ndarray of bool (n_all_sites, n_services)
        Which sites offer which service when no changing site has switched (the unchanged sites'
        services; the changing sites' columns are overwritten).
    site_cols : sequence of int
        Column of ``travel_min`` of each changing site.
    open_before, open_after : ndarray of bool (n_sites, n_services)
    masks : sequence of int, optional
        Only these configurations (bit ``i`` set: site ``i`` has switched); default all.

    Returns
    -------
    ndarray (2^n_sites,) or (len(masks),)
        ``inf`` for a configuration in which some zone with weight reaches no site of a service.
    """
    total = float(weight.sum())
    todo = list(range(2 ** len(site_cols))) if masks is None else list(masks)
    out = np.empty(len(todo))
    for pos, mask in enumerate(todo):
        offer = fixed_open.copy()
        for i, col in enumerate(site_cols):
            offer[col] = open_after[i] if mask >> i & 1 else open_before[i]
        mean = 0.0
        for v in range(offer.shape[1]):
            if beta[v] <= 0:
                continue
            t = np.where(offer[:, v][None, :], travel_min, np.inf).min(axis=1)
            if not np.all(np.isfinite(t[weight > 0])):
                mean = np.inf
                break
            reached = np.where(weight > 0, t, 0.0)
            mean += beta[v] * float((weight * reached).sum()) / max(total, 1e-12)
        out[pos] = mean
    return out

"""The optimiser's input: plain typed matrices and tables, no geometry.

An :class:`Instance` is everything the site model needs and nothing more:

* sites, each with its **option catalogue** (:class:`SiteOption`): one option per way the site can
  be run (no inpatient beds, one 21-bed rehab ward, two rehab wards and a stroke ward, ...), each
  with its wards and beds per service, the *usable* beds per service under the chosen capacity
  model (see :mod:`siteopt.catalogue.capacity`), capital, disposal receipts, staff and revenue cost;
* **linked receipts** (:class:`LinkedReceipt`): a scheme's disposal receipt that counts only in a
  configuration in which other named sites keep no inpatient ward (the land becomes surplus
  only then); an option's own ``disposal_gbp`` leaves such receipts out;
* zones (:class:`Zones`): bed demand per service, a weight for the access measures (by default the
  65+ population), the local authority and the IMD quintile;
* ``travel_min[zone, site]``: drive time in minutes, ``np.inf`` where a site cannot be reached;
* optionally, per zone, the people of population **groups** (``Zones.group_weight``: deprivation
  quintile, rurality, ethnic group, disabled people, households without a car, ...) for the
  equity limits, with :func:`group_mean_travel` the groups' mean drives under an assignment and
  :func:`equity_limit_notes` the equity limits that bind.

:class:`ModelSettings` holds the scenario's limits, locks and objective; every limit is optional.
:func:`presolve_problems` finds what makes a scenario infeasible before any solve.

The instance is built from the geodata by :func:`siteopt.catalogue.options.build_catalogue`
(with the demand of :mod:`siteopt.catalogue.demand`), or by hand in tests and benchmarks with the
dataclass constructors (as :func:`siteopt.wards.synthetic.synthetic_instance` does; there is no
other factory). :meth:`Instance.check` and :meth:`ModelSettings.check` collect every problem and
raise one :class:`~siteopt.errors.DataError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt

from siteopt.errors import DataError, Problem
from siteopt.solver_core import nearest_mask

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Objective = Literal["access", "cost", "weighted"]
CapitalBasis = Literal["net", "gross"]

_SRC = "instance"


@dataclass(frozen=True)
class SiteOption:
    """One way of running a site.

    Parameters
    ----------
    option_id : str
        Unique within the site (e.g. ``"closed"``, ``"rehab2"``, ``"status_quo"``).
    wards : Mapping[str, int]
        Number of wards per service (services absent have 0).
    beds : Mapping[str, int]
        Physical beds per service.
    usable_beds : Mapping[str, float]
        Beds per service that the capacity constraint may fill with demand, in the same unit as
        zone demand (beds needed at the target occupancy). Equal to ``beds`` under the simple
        occupancy model; from :func:`siteopt.catalogue.capacity.usable_beds` under the Erlang loss
        model.
    capex_gbp : float
        Capital cost of the scheme this option needs (0 if none).
    disposal_gbp : float
        Receipts from selling the site or part of it under this option (0 if none), not counting
        the :class:`LinkedReceipt` receipts, which depend on other sites.
    staff_wte_rn : float
        Registered-nurse whole-time equivalents.
    staff_wte_total : float
        All staff whole-time equivalents.
    revenue_gbp_per_year : float
        Annual running cost.
    capital_gbp_per_year : float
        Annualised capital charge (capex annuity), used by the ``cost`` objective.
    """

    option_id: str
    wards: Mapping[str, int]
    beds: Mapping[str, int]
    usable_beds: Mapping[str, float]
    capex_gbp: float = 0.0
    disposal_gbp: float = 0.0
    staff_wte_rn: float = 0.0
    staff_wte_total: float = 0.0
    revenue_gbp_per_year: float = 0.0
    capital_gbp_per_year: float = 0.0

    @property
    def n_wards(self) -> int:
        """Wards of all services."""
        return int(sum(self.wards.values()))

    @property
    def inpatient(self) -> bool:
        """True if the option keeps any inpatient ward."""
        return self.n_wards > 0

    @property
    def paired(self) -> bool:
        """True if the site has two or more wards (of any service)."""
        return self.n_wards >= 2

    @property
    def isolated(self) -> bool:
        """True if the site has exactly one ward (needs night cover of its own)."""
        return self.n_wards == 1

    def net_capital_gbp(self) -> float:
        """Capex minus disposal receipts."""
        return self.capex_gbp - self.disposal_gbp

    def cost_gbp_per_year(self) -> float:
        """Revenue cost plus annualised capital."""
        return self.revenue_gbp_per_year + self.capital_gbp_per_year


@dataclass(frozen=True)
class Site:
    """A candidate site and its option catalogue.

    Parameters
    ----------
    site_id, name : str
        Identifier and display name.
    options : tuple of SiteOption
        The catalogue; the model picks exactly one.
    lad_name : str
        Local authority the site is in (for reports).
    current_option_id : str or None
        The option that describes the site today (the status quo), if any.
    wards_today : Mapping[str, int] or None
        Wards per service today, for the tie-break by fewest changes (:meth:`changes`); None
        reads them from ``current_option_id`` (and a site with neither has no preference).
    """

    site_id: str
    name: str
    options: tuple[SiteOption, ...]
    lad_name: str = ""
    current_option_id: str | None = None
    wards_today: Mapping[str, int] | None = None

    def option(self, option_id: str) -> SiteOption:
        """The option with this id; :class:`KeyError` if there is none."""
        for opt in self.options:
            if opt.option_id == option_id:
                return opt
        raise KeyError(f"site {self.site_id!r} has no option {option_id!r}")

    def today(self) -> Mapping[str, int] | None:
        """Wards per service today (``wards_today``, else the current option's), or None."""
        if self.wards_today is not None:
            return self.wards_today
        if self.current_option_id is not None:
            return self.option(self.current_option_id).wards
        return None

    def changes(self, option: SiteOption) -> int:
        """Wards opened or closed from today under ``option``: the sum over services of
        ``|wards of the option - wards today|`` (0 if today is unknown)."""
        today = self.today()
        if today is None:
            return 0
        services = set(today) | set(option.wards)
        return int(sum(abs(int(option.wards.get(v, 0)) - int(today.get(v, 0)))
                       for v in services))


@dataclass(frozen=True)
class LinkedReceipt:
    """A scheme's disposal receipt that counts only if other sites close their inpatient beds.

    Parameters
    ----------
    scheme_id : str
    site_idx : int
        Position of the scheme's site in :attr:`Instance.sites`.
    option_ids : tuple of str
        The options of that site that trigger the scheme.
    closed_site_idx : tuple of int
        Positions of the sites that must keep no inpatient ward for the receipt to count.
    receipt_gbp : float
        The receipt, realised in full or not at all.
    """

    scheme_id: str
    site_idx: int
    option_ids: tuple[str, ...]
    closed_site_idx: tuple[int, ...]
    receipt_gbp: float


@dataclass(frozen=True, eq=False)
class Zones:
    """Demand zones as parallel arrays.

    Parameters
    ----------
    zone_ids : tuple of str
    demand_beds : ndarray, shape (n_zones, n_services)
        Beds needed per service at the target occupancy (non-negative, finite).
    weight : ndarray, shape (n_zones,)
        Population weight of the access measures (default: people aged 65+).
    lad_name : tuple of str
    imd_quintile : ndarray of int, shape (n_zones,)
        1 (most deprived) to 5; 0 if unknown.
    group_weight : Mapping[str, ndarray], optional
        Group id (e.g. ``"imd_q1"``, ``"no_car"``) -> people of the group in each zone, shape
        (n_zones,), for the equity limits (:class:`ModelSettings`); a zone of zero ``weight``
        must have zero group weight (its drive is not measured). Default: no groups.
    group_label : Mapping[str, str], optional
        Group id -> the group in plain words, for the explanations (default: the id).
    """

    zone_ids: tuple[str, ...]
    demand_beds: FloatArray
    weight: FloatArray
    lad_name: tuple[str, ...]
    imd_quintile: IntArray
    group_weight: Mapping[str, FloatArray] = field(default_factory=dict)
    group_label: Mapping[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.zone_ids)


@dataclass(frozen=True, eq=False)
class Instance:
    """Everything the site model needs, as matrices and tables.

    Parameters
    ----------
    services : tuple of str
        Service names, the column order of ``zones.demand_beds`` (e.g. ``("rehab", "stroke")``).
    sites : tuple of Site
    zones : Zones
    travel_min : ndarray, shape (n_zones, n_sites)
        Drive time from each zone to each site in minutes; ``np.inf`` if unreachable.
    name : str
        A label for reports.
    linked_receipts : tuple of LinkedReceipt
        Receipts that count only when other sites close (see :meth:`realised_receipts`).
    """

    services: tuple[str, ...]
    sites: tuple[Site, ...]
    zones: Zones
    travel_min: FloatArray
    name: str = "instance"
    linked_receipts: tuple[LinkedReceipt, ...] = ()

    def __post_init__(self) -> None:
        self.check()

    # ----------------------------------------------------------------------------------------
    @property
    def site_ids(self) -> tuple[str, ...]:
        return tuple(s.site_id for s in self.sites)

    @property
    def n_sites(self) -> int:
        return len(self.sites)

    @property
    def n_zones(self) -> int:
        return len(self.zones)

    def site_index(self, site_id: str) -> int:
        """Position of ``site_id`` in :attr:`sites`."""
        return self._site_pos[site_id]

    @cached_property
    def _site_pos(self) -> dict[str, int]:
        return {s.site_id: i for i, s in enumerate(self.sites)}

    def realised_receipts(self, choice: Mapping[str, str]) -> dict[str, float]:
        """The linked receipts a configuration triggers: scheme_id -> the receipt realised
        (its ``receipt_gbp`` if every site it needs closed keeps no inpatient ward, else 0).

        Parameters
        ----------
        choice : Mapping[str, str]
            site_id -> option_id for every site.
        """
        out: dict[str, float] = {}
        for link in self.linked_receipts:
            site = self.sites[link.site_idx]
            if choice[site.site_id] not in link.option_ids:
                continue
            closed = all(
                not self.sites[k].option(choice[self.sites[k].site_id]).inpatient
                for k in link.closed_site_idx
            )
            out[link.scheme_id] = out.get(link.scheme_id, 0.0) + (
                link.receipt_gbp if closed else 0.0
            )
        return out

    @cached_property
    def total_demand_beds(self) -> FloatArray:
        """Total bed need per service."""
        return np.asarray(self.zones.demand_beds.sum(axis=0), dtype=np.float64)

    # ----------------------------------------------------------------------------------------
    def check(self) -> None:
        """Check shapes and values; raise one :class:`DataError` listing every problem."""
        problems: list[Problem] = []
        n_v = len(self.services)
        if n_v == 0:
            problems.append(Problem(_SRC, "no services given", field="services"))
        if len(set(self.services)) != n_v:
            problems.append(Problem(_SRC, "service names repeat", field="services"))
        ids = [s.site_id for s in self.sites]
        if not ids:
            problems.append(Problem(_SRC, "no candidate sites", field="sites"))
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            problems.append(Problem(_SRC, f"site ids repeat: {dup}", field="site_id"))
        for site in self.sites:
            problems.extend(_check_site(site, self.services))
        problems.extend(_check_links(self.linked_receipts, self.sites))
        z = self.zones
        n_z = len(z.zone_ids)
        if len(set(z.zone_ids)) != n_z:
            problems.append(Problem(_SRC, "zone ids repeat", field="zone_id"))
        if z.demand_beds.shape != (n_z, n_v):
            problems.append(
                Problem(
                    _SRC,
                    f"demand_beds has shape {z.demand_beds.shape}, expected "
                    f"(n_zones={n_z}, n_services={n_v})",
                    field="demand_beds",
                )
            )
        elif not np.all(np.isfinite(z.demand_beds)) or np.any(z.demand_beds < 0):
            problems.append(
                Problem(_SRC, "demand_beds must be finite and >= 0", field="demand_beds")
            )
        if z.weight.shape != (n_z,):
            problems.append(
                Problem(
                    _SRC, f"weight has shape {z.weight.shape}, expected ({n_z},)", field="weight"
                )
            )
        elif not np.all(np.isfinite(z.weight)) or np.any(z.weight < 0):
            problems.append(Problem(_SRC, "weight must be finite and >= 0", field="weight"))
        if len(z.lad_name) != n_z:
            problems.append(
                Problem(_SRC, "lad_name must have one entry per zone", field="lad_name")
            )
        if z.imd_quintile.shape != (n_z,):
            problems.append(
                Problem(_SRC, "imd_quintile must have one entry per zone", field="imd_quintile")
            )
        elif np.any((z.imd_quintile < 0) | (z.imd_quintile > 5)):
            problems.append(
                Problem(_SRC, "imd_quintile must be 1..5 (0 = unknown)", field="imd_quintile")
            )
        problems.extend(_check_groups(z))
        if self.travel_min.shape != (n_z, len(ids)):
            problems.append(
                Problem(
                    _SRC,
                    f"travel_min has shape {self.travel_min.shape}, expected "
                    f"(n_zones={n_z}, n_sites={len(ids)})",
                    field="travel_min",
                )
            )
        elif np.any(np.isnan(self.travel_min)) or np.any(self.travel_min < 0):
            problems.append(
                Problem(
                    _SRC,
                    "travel_min must be >= 0 (np.inf for unreachable, never NaN)",
                    field="travel_min",
                )
            )
        if problems:
            raise DataError(problems)


def _check_groups(zones: Zones) -> list[Problem]:
    problems: list[Problem] = []
    n_z = len(zones.zone_ids)
    for gid, w in zones.group_weight.items():
        where = f"group {gid!r}"
        if np.shape(w) != (n_z,):
            problems.append(Problem(_SRC, f"{where}: group_weight has shape {np.shape(w)}, "
                                          f"expected ({n_z},)", field="group_weight"))
        elif not np.all(np.isfinite(w)) or np.any(np.asarray(w) < 0):
            problems.append(Problem(_SRC, f"{where}: group_weight must be finite and >= 0",
                                    field="group_weight"))
        elif np.shape(zones.weight) == (n_z,) and np.any((np.asarray(w) > 0)
                                                         & (zones.weight <= 0)):
            problems.append(Problem(_SRC, f"{where}: group_weight > 0 in a zone of zero weight "
                                          "(its drive is not measured)", field="group_weight"))
    return problems


def _check_links(links: Sequence[LinkedReceipt], sites: Sequence[Site]) -> list[Problem]:
    problems: list[Problem] = []
    n = len(sites)
    for link in links:
        where = f"linked receipt {link.scheme_id!r}"
        if not 0 <= link.site_idx < n:
            problems.append(Problem(_SRC, f"{where}: site index {link.site_idx} out of range",
                                    field="linked_receipts"))
            continue
        known = {o.option_id for o in sites[link.site_idx].options}
        unknown = sorted(set(link.option_ids) - known)
        if unknown:
            problems.append(Problem(_SRC, f"{where}: site {sites[link.site_idx].site_id!r} has "
                                          f"no options {unknown}", field="linked_receipts"))
        bad = [k for k in link.closed_site_idx if not 0 <= k < n or k == link.site_idx]
        if bad or not link.closed_site_idx:
            got = list(link.closed_site_idx)
            problems.append(Problem(_SRC, f"{where}: the sites that must close must be other "
                                          f"sites of the instance, got {got}",
                                    field="linked_receipts"))
        if not (np.isfinite(link.receipt_gbp) and link.receipt_gbp >= 0):
            problems.append(Problem(_SRC, f"{where}: receipt_gbp must be finite and >= 0",
                                    field="linked_receipts"))
    return problems


def _check_site(site: Site, services: Sequence[str]) -> list[Problem]:
    problems: list[Problem] = []
    where = f"site {site.site_id!r}"
    if not site.options:
        problems.append(Problem(_SRC, f"{where} has no options", field="options"))
    opt_ids = [o.option_id for o in site.options]
    if len(set(opt_ids)) != len(opt_ids):
        problems.append(Problem(_SRC, f"{where}: option ids repeat: {opt_ids}", field="option_id"))
    if site.current_option_id is not None and site.current_option_id not in opt_ids:
        problems.append(
            Problem(
                _SRC,
                f"{where}: current option {site.current_option_id!r} is not in its catalogue",
                field="current_option_id",
            )
        )
    for opt in site.options:
        ow = f"{where} option {opt.option_id!r}"
        for mapping_name in ("wards", "beds", "usable_beds"):
            mapping: Mapping[str, float] = getattr(opt, mapping_name)
            unknown = sorted(set(mapping) - set(services))
            if unknown:
                problems.append(
                    Problem(_SRC, f"{ow}: unknown services {unknown}", field=mapping_name)
                )
            bad = sorted(k for k, val in mapping.items() if not (np.isfinite(val) and val >= 0))
            if bad:
                problems.append(
                    Problem(
                        _SRC, f"{ow}: {mapping_name} must be >= 0 for {bad}", field=mapping_name
                    )
                )
        for v in services:
            has_wards = opt.wards.get(v, 0) > 0
            if has_wards != (opt.beds.get(v, 0) > 0):
                problems.append(
                    Problem(
                        _SRC, f"{ow}: service {v!r} has wards but no beds, or beds but no wards"
                    )
                )
            if opt.usable_beds.get(v, 0.0) > 0 and not has_wards:
                problems.append(Problem(_SRC, f"{ow}: usable beds of {v!r} without a ward"))
        for name in (
            "capex_gbp",
            "disposal_gbp",
            "staff_wte_rn",
            "staff_wte_total",
            "revenue_gbp_per_year",
            "capital_gbp_per_year",
        ):
            val = float(getattr(opt, name))
            if not (np.isfinite(val) and val >= 0):
                problems.append(Problem(_SRC, f"{ow}: {name} must be finite and >= 0", field=name))
        if opt.staff_wte_rn > opt.staff_wte_total + 1e-9:
            problems.append(Problem(_SRC, f"{ow}: staff_wte_rn exceeds staff_wte_total"))
    return problems


@dataclass(frozen=True)
class ModelSettings:
    """A scenario's objective, limits and locks. Every limit is optional (``None`` = no limit).

    Parameters
    ----------
    objective : {"access", "cost", "weighted"}
        ``access``: minimise the weighted mean drive time; ``cost``: minimise revenue cost plus
        annualised capital; ``weighted``: ``travel_weight * mean_travel_min +
        cost_weight_per_gbp_m * cost in £m/year``.
    travel_weight, cost_weight_per_gbp_m : float
        Weights of the ``weighted`` objective.
    max_travel_min : float or None
        No zone may be assigned to a site further than this.
    within_travel_min, min_share_within : float or None
        Per service, at least ``min_share_within`` of the weight must be assigned within
        ``within_travel_min`` minutes. Give both or neither.
    max_mean_travel_min : float or None
        Epsilon bound on the weighted mean drive time (any objective).
    max_cost_gbp_per_year : float or None
        Epsilon bound on revenue cost plus annualised capital (any objective).
    capital_limit_gbp : float or None
        Limit on capex (``gross``) or capex minus disposals (``net``).
    capital_basis : {"net", "gross"}
    max_staff_wte_rn, max_staff_wte_total : float or None
        Staffing limits.
    max_isolated_wards : int or None
        Maximum number of sites with exactly one ward, not counting ``isolated_allowed_sites``
        (``0`` forbids isolated wards except there).
    isolated_allowed_sites : frozenset of str
        Sites exempt from ``max_isolated_wards`` (geographic equity).
    min_inpatient_sites, max_inpatient_sites : int or None
        Bounds on the number of sites with any inpatient ward.
    force_open, force_closed : frozenset of str
        Sites that must keep (resp. lose) all inpatient wards.
    fixed_options : Mapping[str, str]
        site_id -> option_id that must be chosen.
    k_nearest : int or None
        Sparse assignment: each zone may use only its ``k_nearest`` nearest sites (within
        ``max_travel_min``). ``None`` allows every reachable site (exact).
    tight_linking : bool
        Add ``x[z,s,v] <= open[s,v]`` for assignment variables (strong LP relaxation).
    link_k_nearest : int or None
        With ``tight_linking``, add those rows only for each zone's ``link_k_nearest`` nearest
        allowed sites (``None``: all). The rows are valid for any subset; on very large
        instances fewer rows keep the LP solvable while keeping most of the strength.
    max_group_mean_travel_increase_min : float or None
        Equity limit: no group's mean drive (each group of ``Zones.group_weight`` with people,
        :func:`equity_groups`) may rise by more than this many minutes above its business-as-usual
        mean in ``group_baseline_mean_travel_min``.
    max_deprived_gap_min : float or None
        Equity limit: the mean drive of :data:`DEPRIVED_GROUP` (the most deprived national IMD
        quintile) at most this many minutes above the whole population's mean drive.
    group_baseline_mean_travel_min : Mapping[str, float]
        Group id -> its business-as-usual mean drive in minutes, the baseline of
        ``max_group_mean_travel_increase_min``. :func:`siteopt.runs.pipeline.prepare` fills in
        the groups a scenario does not give from the ``status_quo`` configuration.
    """

    objective: Objective = "access"
    travel_weight: float = 1.0
    cost_weight_per_gbp_m: float = 1.0
    max_travel_min: float | None = None
    within_travel_min: float | None = None
    min_share_within: float | None = None
    max_mean_travel_min: float | None = None
    max_cost_gbp_per_year: float | None = None
    capital_limit_gbp: float | None = None
    capital_basis: CapitalBasis = "net"
    max_staff_wte_rn: float | None = None
    max_staff_wte_total: float | None = None
    max_isolated_wards: int | None = None
    isolated_allowed_sites: frozenset[str] = field(default_factory=frozenset)
    min_inpatient_sites: int | None = None
    max_inpatient_sites: int | None = None
    force_open: frozenset[str] = field(default_factory=frozenset)
    force_closed: frozenset[str] = field(default_factory=frozenset)
    fixed_options: Mapping[str, str] = field(default_factory=dict)
    k_nearest: int | None = None
    tight_linking: bool = True
    link_k_nearest: int | None = None
    max_group_mean_travel_increase_min: float | None = None
    max_deprived_gap_min: float | None = None
    group_baseline_mean_travel_min: Mapping[str, float] = field(default_factory=dict)

    @property
    def equity_limited(self) -> bool:
        """The scenario sets an equity limit (on groups' mean drives)."""
        return (self.max_group_mean_travel_increase_min is not None
                or self.max_deprived_gap_min is not None)

    def check(self, instance: Instance) -> None:
        """Check the settings against ``instance``; raise one :class:`DataError` if wrong."""
        src = "settings"
        problems: list[Problem] = []
        if self.objective not in ("access", "cost", "weighted"):
            problems.append(
                Problem(src, f"objective {self.objective!r} is not access|cost|weighted")
            )
        if self.capital_basis not in ("net", "gross"):
            problems.append(Problem(src, f"capital_basis {self.capital_basis!r} is not net|gross"))
        if (self.within_travel_min is None) != (self.min_share_within is None):
            problems.append(
                Problem(src, "give both within_travel_min and min_share_within, or neither")
            )
        if self.min_share_within is not None and not 0 <= self.min_share_within <= 1:
            problems.append(Problem(src, "min_share_within must be between 0 and 1"))
        for name in (
            "max_travel_min",
            "within_travel_min",
            "max_mean_travel_min",
            "max_cost_gbp_per_year",
            "capital_limit_gbp",
            "max_staff_wte_rn",
            "max_staff_wte_total",
            "max_isolated_wards",
            "min_inpatient_sites",
            "max_inpatient_sites",
            "max_group_mean_travel_increase_min",
        ):
            val = getattr(self, name)
            if val is not None and not (np.isfinite(val) and val >= 0):
                problems.append(Problem(src, f"{name} must be >= 0, got {val}", field=name))
        if self.travel_weight < 0 or self.cost_weight_per_gbp_m < 0:
            problems.append(Problem(src, "objective weights must be >= 0"))
        if self.k_nearest is not None and self.k_nearest < 1:
            problems.append(Problem(src, "k_nearest must be >= 1", field="k_nearest"))
        if self.link_k_nearest is not None and self.link_k_nearest < 1:
            problems.append(Problem(src, "link_k_nearest must be >= 1", field="link_k_nearest"))
        problems.extend(_check_equity(self, instance))
        known = set(instance.site_ids)
        for name in ("isolated_allowed_sites", "force_open", "force_closed"):
            unknown = sorted(set(getattr(self, name)) - known)
            if unknown:
                problems.append(Problem(src, f"{name}: unknown sites {unknown}", field=name))
        both = sorted(self.force_open & self.force_closed)
        if both:
            problems.append(Problem(src, f"sites both forced open and closed: {both}"))
        for site_id, option_id in sorted(self.fixed_options.items()):
            if site_id not in known:
                problems.append(Problem(src, f"fixed_options: unknown site {site_id!r}"))
            elif option_id not in {
                o.option_id for o in instance.sites[instance.site_index(site_id)].options
            }:
                problems.append(
                    Problem(src, f"fixed_options: site {site_id!r} has no option {option_id!r}")
                )
        if problems:
            raise DataError(problems)


def offers_service(instance: Instance, service: str) -> npt.NDArray[np.bool_]:
    """Per site: True if any option of its catalogue has usable beds of ``service``."""
    return np.array(
        [any(o.usable_beds.get(service, 0.0) > 0 for o in s.options) for s in instance.sites],
        dtype=bool,
    )


def allowed_pairs(
    instance: Instance, settings: ModelSettings, service: str | None = None
) -> npt.NDArray[np.bool_]:
    """Zone-site pairs the assignment may use, shape (n_zones, n_sites).

    A pair is allowed if the site is reachable, within ``max_travel_min``, can offer
    ``service`` (if given) and, with ``k_nearest``, among the zone's ``k_nearest`` nearest such
    sites (ties broken by site order).
    """
    t = instance.travel_min
    ok = np.isfinite(t)
    if service is not None:
        ok &= offers_service(instance, service)[None, :]
    if settings.max_travel_min is not None:
        ok &= t <= settings.max_travel_min
    return nearest_mask(ok, t, settings.k_nearest)


DEPRIVED_GROUP = "imd_q1"
"""The group of ``max_deprived_gap_min``: the most deprived national quintile (IoD2025)."""
ALL_PEOPLE = "all"
"""The key of the whole population's mean drive in :func:`group_mean_travel`."""


def _check_equity(s: ModelSettings, instance: Instance) -> list[Problem]:
    """Problems of the equity limits: groups to limit, their baselines, the deprived group."""
    src = "settings"
    problems: list[Problem] = []
    groups = equity_groups(instance)
    fix = "build the geodata with zone_equality.csv (siteopt geodata build)"
    gap = s.max_deprived_gap_min
    if gap is not None and not np.isfinite(gap):
        problems.append(Problem(src, f"max_deprived_gap_min must be a number, got {gap}",
                                field="max_deprived_gap_min"))
    elif gap is not None and DEPRIVED_GROUP not in groups:
        problems.append(Problem(src, f"max_deprived_gap_min needs the group {DEPRIVED_GROUP!r} "
                                     f"with people in the zones' group weights; {fix}",
                                field="max_deprived_gap_min"))
    if s.max_group_mean_travel_increase_min is None:
        return problems
    if not groups:
        problems.append(Problem(src, "max_group_mean_travel_increase_min needs group weights "
                                     f"for the zones; {fix}",
                                field="max_group_mean_travel_increase_min"))
    missing = [g for g in groups if g not in s.group_baseline_mean_travel_min]
    if missing:
        problems.append(Problem(src, "max_group_mean_travel_increase_min needs the "
                                     f"business-as-usual mean drive of groups {missing}; give "
                                     "them in group_baseline_mean_travel_min",
                                field="group_baseline_mean_travel_min"))
    unknown = sorted(set(s.group_baseline_mean_travel_min) - set(groups))
    if unknown:
        problems.append(Problem(src, f"group_baseline_mean_travel_min: unknown groups {unknown}; "
                                     f"known: {', '.join(groups)}",
                                field="group_baseline_mean_travel_min"))
    bad = sorted(g for g, t in s.group_baseline_mean_travel_min.items()
                 if not (np.isfinite(t) and t >= 0))
    if bad:
        problems.append(Problem(src, f"group_baseline_mean_travel_min must be >= 0 for {bad}",
                                field="group_baseline_mean_travel_min"))
    return problems


def equity_groups(instance: Instance) -> tuple[str, ...]:
    """The groups an equity limit covers: those of ``Zones.group_weight`` with people (a
    positive total weight), in the mapping's order."""
    return tuple(g for g, w in instance.zones.group_weight.items() if float(np.sum(w)) > 0)


def service_shares(instance: Instance) -> FloatArray:
    """:math:`\\beta_v`: each service's share of total bed need (equal shares if none)."""
    total = instance.total_demand_beds
    if total.sum() <= 0:
        return np.full(len(instance.services), 1.0 / len(instance.services))
    return np.asarray(total / total.sum(), dtype=np.float64)


def active_zones(instance: Instance) -> npt.NDArray[np.bool_]:
    """Boolean (n_zones, n_services): zone needs an assignment for the service."""
    z = instance.zones
    return np.asarray((z.demand_beds > 0) | (z.weight[:, None] > 0))


def group_zone_shares(instance: Instance, group: str | None) -> FloatArray:
    """:math:`w_{gz} / W_g` per zone: the zone's share of group ``group``'s people (``None``:
    of the zones' ``weight``, the whole population of the model's mean drive)."""
    w = instance.zones.weight if group is None else instance.zones.group_weight[group]
    w = np.asarray(w, dtype=np.float64)
    total = float(w.sum())
    return np.asarray(w / total if total > 0 else np.zeros_like(w), dtype=np.float64)


def group_mean_travel(
    instance: Instance,
    zone_idx: IntArray,
    site_idx: IntArray,
    service_idx: IntArray,
    share: FloatArray,
) -> dict[str, float]:
    """Each equity group's mean drive under a sparse assignment, in minutes.

    :math:`T_g = \\sum_{zsv} \\beta_v (w_{gz} / W_g) t_{zs} x_{zsv}`, the model's mean drive
    :math:`T` with the group's people as the weights, for every group of
    :func:`equity_groups`, and :data:`ALL_PEOPLE` for :math:`T` itself.

    Parameters
    ----------
    instance : Instance
    zone_idx, site_idx, service_idx, share : ndarray
        The assignment (as :class:`siteopt.wards.results.Assignment` holds it).
    """
    beta = service_shares(instance)
    zi, si, vi = (np.asarray(a, dtype=np.int64) for a in (zone_idx, site_idx, service_idx))
    base = beta[vi] * instance.travel_min[zi, si] * np.asarray(share, dtype=np.float64)
    out: dict[str, float] = {}
    for group in (None, *equity_groups(instance)):
        shares = group_zone_shares(instance, group)[zi]
        out[ALL_PEOPLE if group is None else group] = float(np.sum(base[shares > 0]
                                                              * shares[shares > 0]))
    return out


BINDING_TOL_MIN = 1e-4
"""An equity row within this many minutes of its bound binds (:func:`equity_limit_notes`)."""


def equity_limit_notes(
    instance: Instance,
    settings: ModelSettings,
    zone_idx: IntArray,
    site_idx: IntArray,
    service_idx: IntArray,
    share: FloatArray,
) -> list[str]:
    """The equity limits that an assignment meets exactly (the row of (16) binds) or breaks, in
    words with the figures, e.g. "the 1.5-minute limit on any group's rise in mean drive binds
    for Rural areas: their mean drive rises 1.5 minutes, from 19.2 to 20.7" or "... is broken
    for Rural areas: their mean drive rises 2.5 minutes, from 19.2 to 21.6, 1.0 over"; empty if
    every equity row has room. On the optimum without the limit, it says why the limit changes
    the answer."""
    means = group_mean_travel(instance, zone_idx, site_idx, service_idx, share)

    def state(excess: float) -> str:
        return "binds" if excess <= BINDING_TOL_MIN else "is broken"

    def over(excess: float) -> str:
        return "" if excess <= BINDING_TOL_MIN else f", {excess:.1f} over"

    out: list[str] = []
    rise = settings.max_group_mean_travel_increase_min
    if rise is not None:
        for group in equity_groups(instance):
            before = float(settings.group_baseline_mean_travel_min[group])
            excess = means[group] - before - rise
            if excess >= -BINDING_TOL_MIN:
                label = instance.zones.group_label.get(group, group)
                out.append(f"the {rise:g}-minute limit on any group's rise in mean drive "
                           f"{state(excess)} for {label}: their mean drive rises "
                           f"{means[group] - before:.1f} minutes, from {before:.1f} to "
                           f"{means[group]:.1f}{over(excess)}")
    gap = settings.max_deprived_gap_min
    excess = means.get(DEPRIVED_GROUP, np.nan) - means[ALL_PEOPLE] - (gap or 0.0)
    if gap is not None and excess >= -BINDING_TOL_MIN:
        out.append(f"the {gap:g}-minute limit on the most deprived fifth's mean drive above "
                   f"everyone's {state(excess)}: {means[DEPRIVED_GROUP]:.1f} minutes against "
                   f"everyone's {means[ALL_PEOPLE]:.1f}{over(excess)}")
    return out


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
            short, need = _travel_shortfall(instance, settings, v, no_site)
            raise_to = "" if need is None else f" to at least {need:.1f} minutes"
            problems.append(
                Problem(
                    "scenario",
                    short + f"{len(ids)} zone(s) have no site that can offer {v} {limit}: "
                    f"{shown}; raise the maximum drive time{raise_to} or add a site",
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


def _travel_shortfall(
    instance: Instance, settings: ModelSettings, service: str, no_site: npt.NDArray[np.bool_]
) -> tuple[str, float | None]:
    """How far the maximum drive time falls short for the zones ``no_site`` of ``service``.

    Returns
    -------
    tuple
        ``("the 0-minute limit on any zone's drive is 8.4 minutes short for rehab (zone X needs
        8.4 minutes to its nearest site that can offer rehab); ", 8.4)``: the least maximum
        drive time that gives every such zone a site (necessary, not always sufficient: capacity
        may need more); ``("", None)`` without a maximum drive time or if a zone cannot reach
        any such site at all.
    """
    limit = settings.max_travel_min
    if limit is None:
        return "", None
    reach = np.where(offers_service(instance, service)[None, :], instance.travel_min, np.inf)
    nearest = reach[no_site].min(axis=1)
    if not np.all(np.isfinite(nearest)):
        return "", None
    worst = int(np.argmax(nearest))
    zid = instance.zones.zone_ids[int(np.flatnonzero(no_site)[worst])]
    need = float(nearest[worst])
    return (
        f"the {limit:g}-minute limit on any zone's drive is {need - limit:.1f} minutes short "
        f"for {service} (zone {zid} needs {need:.1f} minutes to its nearest site that can offer "
        f"{service}); ",
        need,
    )

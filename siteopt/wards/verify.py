"""Independent check of a solution against the raw inputs.

This module re-derives every rule from the :class:`~siteopt.wards.instance.Instance` and
:class:`~siteopt.wards.instance.ModelSettings` directly, with plain loops and numpy, and shares no
code with the model (:mod:`siteopt.wards.model`, :mod:`siteopt.wards.solve`), so an error in the
formulation shows up as a violation here rather than being confirmed by itself.

Checks: one known option per site; locks; every zone's demand of every service fully assigned, only
to sites offering that service; capacity per site and service; maximum drive time; share within
the target time; capital (net or gross, a linked receipt counted only if every site it needs
closed keeps no ward); staffing; isolated wards; number of inpatient sites;
epsilon bounds on mean travel and cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from siteopt.wards.instance import FloatArray, Instance, IntArray, ModelSettings, SiteOption

DEFAULT_TOL = 1e-5


def check_solution(
    instance: Instance,
    settings: ModelSettings,
    choice: Mapping[str, str],
    zone_idx: IntArray,
    site_idx: IntArray,
    service_idx: IntArray,
    share: FloatArray,
    *,
    tol: float = DEFAULT_TOL,
    check_limits: bool = True,
) -> list[str]:
    """Every rule the solution breaks, in words; an empty list means it passes.

    Parameters
    ----------
    instance, settings
        The raw inputs.
    choice : Mapping[str, str]
        site_id -> option_id.
    zone_idx, site_idx, service_idx, share : ndarray
        The sparse assignment (positions into the instance's zones, sites and services).
    tol : float
        Absolute tolerance (relative for sums of large numbers).
    check_limits : bool
        Check capital, staffing, isolated wards, site counts, locks and epsilon bounds. An
        evaluated configuration (status quo, a proposal) is checked with ``False`` first and its
        limit breaches reported separately.
    """
    out: list[str] = []
    chosen = chosen_options(instance, choice, out)
    if chosen is None:
        return out
    if not (len(zone_idx) == len(site_idx) == len(service_idx) == len(share)):
        return [*out, "assignment arrays differ in length"]
    rows = (zone_idx, site_idx, service_idx, share)
    out.extend(check_assignment(instance, settings, chosen, rows, tol=tol))
    out.extend(check_share_within(instance, settings, rows, tol=tol))
    if check_limits:
        out.extend(check_mean_travel(instance, settings, rows, tol=tol))
        out.extend(check_limits_only(instance, settings, choice, tol=tol))
        out.extend(check_equity_limits(instance, settings, rows, tol=tol))
    return out


def check_equity_limits(instance: Instance, settings: ModelSettings, rows: Rows, *,
                        tol: float = DEFAULT_TOL) -> list[str]:
    """The equity limits, recomputed from the assignment with plain sums (no model code):
    each group's 65+ mean drive (``Zones.group_weight`` as the weights, services by their share
    of bed need) against its business-as-usual mean plus the allowed rise, and the most
    deprived quintile's mean against everyone's plus the allowed gap."""
    zone_idx, site_idx, service_idx, share = rows
    rise, gap = settings.max_group_mean_travel_increase_min, settings.max_deprived_gap_min
    if rise is None and gap is None:
        return []
    need = instance.zones.demand_beds.sum(axis=0)
    beta = need / need.sum() if need.sum() > 0 else np.full(len(need), 1.0 / len(need))
    drive = beta[service_idx] * instance.travel_min[zone_idx, site_idx] * share

    def mean(weights: FloatArray) -> float:
        w = np.asarray(weights, dtype=np.float64)
        return float(np.sum(w[zone_idx] * drive) / np.sum(w))

    groups = {g: w for g, w in instance.zones.group_weight.items() if float(np.sum(w)) > 0}
    out = []
    if rise is not None:
        for g, w in groups.items():
            t, t0 = mean(w), float(settings.group_baseline_mean_travel_min[g])
            if t > t0 + rise + tol:
                out.append(f"group {g}: mean drive rises {t - t0:.4f} min, over the limit of "
                           f"{rise:g}")
    if gap is not None and "imd_q1" in groups:
        over = mean(groups["imd_q1"]) - mean(instance.zones.weight)
        if over > gap + tol:
            out.append(f"imd_q1: mean drive {over:.4f} min above everyone's, over the limit of "
                       f"{gap:g}")
    return out


Rows = tuple[IntArray, IntArray, IntArray, FloatArray]
"""The sparse assignment: zone, site and service positions and the share of each row."""


def chosen_options(
    instance: Instance, choice: Mapping[str, str], out: list[str]
) -> list[SiteOption] | None:
    """Each site's chosen option, in site order; None if a site's option is not exactly one of
    its options.

    Problems (an unknown or missing option, unknown sites in ``choice``) are appended to
    ``out`` in place.
    """
    chosen = []
    for site in instance.sites:
        oid = choice.get(site.site_id)
        match = [o for o in site.options if o.option_id == oid]
        if len(match) != 1:
            out.append(f"site {site.site_id}: option {oid!r} is not exactly one of its options")
            return None
        chosen.append(match[0])
    extra = sorted(set(choice) - {s.site_id for s in instance.sites})
    if extra:
        out.append(f"choice names unknown sites {extra}")
    return chosen


def check_assignment(
    instance: Instance,
    settings: ModelSettings,
    chosen: Sequence[SiteOption],
    rows: Rows,
    *,
    tol: float = DEFAULT_TOL,
) -> list[str]:
    """Shares in [0, 1]; every row to a site offering the service, reachable and within the
    maximum drive time; every zone's demand of every service fully assigned; capacity per site
    and service."""
    zone_idx, site_idx, service_idx, share = rows
    sites = instance.sites
    services = instance.services
    zone_ids = instance.zones.zone_ids
    out: list[str] = []
    if np.any(share < -tol) or np.any(share > 1 + tol):
        out.append("assignment shares outside [0, 1]")
    assigned = np.zeros((instance.n_zones, len(services)))
    load = np.zeros((instance.n_sites, len(services)))
    for z, s, v, x in zip(
        zone_idx.tolist(), site_idx.tolist(), service_idx.tolist(), share.tolist(), strict=True
    ):
        if x <= tol:
            continue
        assigned[z, v] += x
        load[s, v] += instance.zones.demand_beds[z, v] * x
        if not chosen[s].usable_beds.get(services[v], 0.0) > 0:
            out.append(
                f"zone {zone_ids[z]} sends {services[v]} to "
                f"{sites[s].site_id}, which has no {services[v]} beds"
            )
        t = float(instance.travel_min[z, s])
        if not np.isfinite(t):
            out.append(f"zone {zone_ids[z]} is assigned to unreachable site {sites[s].site_id}")
        elif settings.max_travel_min is not None and t > settings.max_travel_min + tol:
            out.append(
                f"zone {zone_ids[z]} is {t:.1f} min from {sites[s].site_id}, "
                f"over the {settings.max_travel_min:g} min limit"
            )
    needs = (instance.zones.demand_beds > 0) | (instance.zones.weight[:, None] > 0)
    bad = needs & (np.abs(assigned - 1.0) > 1e-4)
    for z, v in np.argwhere(bad)[:10]:
        out.append(f"zone {zone_ids[z]} {services[v]}: assigned share {assigned[z, v]:.6f}, not 1")
    for s, site in enumerate(sites):
        for v, name in enumerate(services):
            cap = chosen[s].usable_beds.get(name, 0.0)
            if load[s, v] > cap + tol * max(1.0, cap):
                out.append(
                    f"site {site.site_id} {name}: demand {load[s, v]:.3f} beds over its "
                    f"{cap:.3f} usable beds"
                )
    return out


def check_share_within(
    instance: Instance, settings: ModelSettings, rows: Rows, *, tol: float = DEFAULT_TOL
) -> list[str]:
    """The share of the weight within the target time, per service."""
    if settings.within_travel_min is None or settings.min_share_within is None:
        return []
    zone_idx, site_idx, service_idx, share = rows
    out: list[str] = []
    w_total = float(instance.zones.weight.sum())
    for v, name in enumerate(instance.services):
        within = 0.0
        for z, s, vv, x in zip(zone_idx, site_idx, service_idx, share, strict=True):
            if vv == v and instance.travel_min[z, s] <= settings.within_travel_min:
                within += float(instance.zones.weight[z] * x)
        if within < settings.min_share_within * w_total - tol * max(1.0, w_total):
            out.append(
                f"{name}: only {within / w_total:.1%} of the weight within "
                f"{settings.within_travel_min:g} min, below {settings.min_share_within:.1%}"
            )
    return out


def check_mean_travel(
    instance: Instance, settings: ModelSettings, rows: Rows, *, tol: float = DEFAULT_TOL
) -> list[str]:
    """The weighted mean travel (services in proportion to their bed need) against its bound."""
    if settings.max_mean_travel_min is None:
        return []
    zone_idx, site_idx, service_idx, share = rows
    n_v = len(instance.services)
    tot = instance.zones.demand_beds.sum(axis=0)
    beta = tot / tot.sum() if tot.sum() > 0 else np.full(n_v, 1.0 / n_v)
    w = instance.zones.weight
    mean = 0.0
    for z, s, v, x in zip(zone_idx, site_idx, service_idx, share, strict=True):
        mean += float(beta[v] * w[z] * x * instance.travel_min[z, s])
    mean /= float(w.sum())
    if mean > settings.max_mean_travel_min + tol:
        return [f"mean travel {mean:.3f} min over the bound {settings.max_mean_travel_min}"]
    return []


def check_limits_only(
    instance: Instance,
    settings: ModelSettings,
    choice: Mapping[str, str],
    *,
    tol: float = DEFAULT_TOL,
) -> list[str]:
    """Capital, staffing, isolated wards, site counts, locks and the cost bound of a choice."""
    out: list[str] = []
    capex = disp = rn = wte = cost = 0.0
    isolated = inpatient = 0
    for site in instance.sites:
        opt = next(o for o in site.options if o.option_id == choice[site.site_id])
        capex += opt.capex_gbp
        disp += opt.disposal_gbp
        rn += opt.staff_wte_rn
        wte += opt.staff_wte_total
        cost += opt.revenue_gbp_per_year + opt.capital_gbp_per_year
        n_wards = sum(opt.wards.values())
        if n_wards == 1 and site.site_id not in settings.isolated_allowed_sites:
            isolated += 1
        if n_wards > 0:
            inpatient += 1
        if site.site_id in settings.force_open and n_wards == 0:
            out.append(f"site {site.site_id} is forced open but has no ward")
        if site.site_id in settings.force_closed and n_wards > 0:
            out.append(f"site {site.site_id} is forced closed but keeps {n_wards} ward(s)")
        fixed = settings.fixed_options.get(site.site_id)
        if fixed is not None and fixed != opt.option_id:
            out.append(f"site {site.site_id} must use option {fixed}, not {opt.option_id}")

    def over(name: str, value: float, lim: float | None) -> None:
        if lim is not None and value > lim + tol * max(1.0, abs(lim)):
            out.append(f"{name} {value:,.2f} over the limit {lim:,.2f}")

    disp += linked_receipts_realised(instance, choice)
    capital = capex - disp if settings.capital_basis == "net" else capex
    over(f"capital ({settings.capital_basis})", capital, settings.capital_limit_gbp)
    over("registered nurse WTE", rn, settings.max_staff_wte_rn)
    over("total staff WTE", wte, settings.max_staff_wte_total)
    over("cost per year", cost, settings.max_cost_gbp_per_year)
    if settings.max_isolated_wards is not None and isolated > settings.max_isolated_wards:
        out.append(f"{isolated} isolated wards, over the limit {settings.max_isolated_wards}")
    if settings.min_inpatient_sites is not None and inpatient < settings.min_inpatient_sites:
        out.append(f"{inpatient} inpatient sites, under the minimum {settings.min_inpatient_sites}")
    if settings.max_inpatient_sites is not None and inpatient > settings.max_inpatient_sites:
        out.append(f"{inpatient} inpatient sites, over the maximum {settings.max_inpatient_sites}")
    return out


def linked_receipts_realised(instance: Instance, choice: Mapping[str, str]) -> float:
    """The linked receipts ``choice`` realises: a receipt counts if its site's chosen option is
    one of its triggers and every site it names keeps no ward (re-derived here from the raw
    records, not with :meth:`Instance.realised_receipts`)."""
    total = 0.0
    for link in instance.linked_receipts:
        site = instance.sites[link.site_idx]
        if choice.get(site.site_id) not in link.option_ids:
            continue
        keeps_beds = False
        for k in link.closed_site_idx:
            other = instance.sites[k]
            opt = next(o for o in other.options if o.option_id == choice[other.site_id])
            keeps_beds |= sum(opt.wards.values()) > 0
        if not keeps_beds:
            total += link.receipt_gbp
    return total

"""Seeded synthetic instances for tests and benchmarks (no real data).

Zones are random points clustered around a few towns in a square region and sites lie near the
towns; drive time is straight-line distance times a detour factor at a fixed speed. Each site's
catalogue is built by :func:`standard_options`, a simplified version of the real rules (0..n
wards per service, capex beyond today's wards, disposal receipts when the last ward goes, a
staffing premium for an isolated ward). Every parameter is an argument of
:class:`SyntheticParams`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from siteopt.wards.instance import FloatArray, Instance, Site, SiteOption, Zones


@dataclass(frozen=True)
class SyntheticParams:
    """Parameters of the synthetic world (illustrative magnitudes, not LLR data)."""

    region_km: float = 60.0
    speed_kmh: float = 50.0
    detour_factor: float = 1.3
    rehab_ward_beds: int = 21
    stroke_ward_beds: int = 15
    max_rehab_wards: int = 3
    max_stroke_wards: int = 1
    stroke_site_share: float = 0.4
    rehab_beds_per_1000_65plus: float = 0.9
    stroke_beds_per_1000_65plus: float = 0.2
    zone_65plus_mean: float = 300.0
    load_factor: float | None = 0.5
    """If set, scale each service's demand to this share of the largest possible usable beds
    (so that instances of any size are neither trivially loose nor infeasible)."""
    revenue_gbp_per_bed: float = 120_000.0
    site_fixed_revenue_gbp: float = 400_000.0
    rn_wte_per_bed: float = 0.6
    isolated_rn_wte_extra: float = 5.0
    other_wte_per_bed: float = 0.7
    capex_gbp_per_new_ward: float = 4_000_000.0
    disposal_gbp_per_site: float = 2_500_000.0
    annuity_factor: float = 0.06


def standard_options(
    site_id: str,
    *,
    current_rehab: int,
    current_stroke: int,
    max_rehab: int,
    max_stroke: int,
    p: SyntheticParams,
    disposal_gbp: float,
) -> tuple[SiteOption, ...]:
    """Every (rehab wards, stroke wards) combination with its beds, costs and staff."""
    opts = []
    for r in range(max_rehab + 1):
        for k in range(max_stroke + 1):
            beds = {"rehab": r * p.rehab_ward_beds, "stroke": k * p.stroke_ward_beds}
            n_wards = r + k
            total_beds = beds["rehab"] + beds["stroke"]
            new_wards = max(0, r - current_rehab) + max(0, k - current_stroke)
            capex = new_wards * p.capex_gbp_per_new_ward
            rn = total_beds * p.rn_wte_per_bed + (p.isolated_rn_wte_extra if n_wards == 1 else 0)
            revenue = total_beds * p.revenue_gbp_per_bed + (
                p.site_fixed_revenue_gbp if n_wards else 0
            )
            opts.append(
                SiteOption(
                    option_id=f"r{r}s{k}",
                    wards={"rehab": r, "stroke": k},
                    beds=beds,
                    usable_beds={v: float(b) for v, b in beds.items() if b > 0},
                    capex_gbp=capex,
                    disposal_gbp=disposal_gbp if n_wards == 0 else 0.0,
                    staff_wte_rn=rn,
                    staff_wte_total=rn + total_beds * p.other_wte_per_bed,
                    revenue_gbp_per_year=revenue,
                    capital_gbp_per_year=capex * p.annuity_factor,
                )
            )
    return tuple(opts)


def synthetic_instance(
    n_sites: int,
    n_zones: int,
    seed: int,
    params: SyntheticParams = SyntheticParams(),
    *,
    services: tuple[str, ...] = ("rehab", "stroke"),
) -> Instance:
    """A seeded random instance of ``n_sites`` candidate sites and ``n_zones`` zones."""
    p = params
    rng = np.random.default_rng(seed)
    zone_town, site_town, travel = synthetic_geography(rng, n_sites, n_zones, p)
    pop65 = rng.gamma(4.0, p.zone_65plus_mean / 4.0, size=n_zones)
    demand = np.stack(
        [pop65 * p.rehab_beds_per_1000_65plus / 1000, pop65 * p.stroke_beds_per_1000_65plus / 1000],
        axis=1,
    )[:, : len(services)]
    sites = [synthetic_site(rng, i, int(site_town[i]), p, services) for i in range(n_sites)]
    if p.load_factor is not None:
        scale_demand(demand, sites, services, p.load_factor)
    zones = Zones(
        zone_ids=tuple(f"Z{j:05d}" for j in range(n_zones)),
        demand_beds=demand,
        weight=pop65,
        lad_name=tuple(f"LA{t % 3}" for t in zone_town),
        imd_quintile=rng.integers(1, 6, size=n_zones).astype(np.int64),
    )
    return Instance(
        services=services,
        sites=tuple(sites),
        zones=zones,
        travel_min=travel,
        name=f"synthetic_{n_sites}x{n_zones}_seed{seed}",
    )


def synthetic_geography(
    rng: np.random.Generator, n_sites: int, n_zones: int, p: SyntheticParams
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
    """Zones clustered around a few towns, sites near towns, and the drive times between them.

    Returns
    -------
    ndarray of int, shape (n_zones,)
        Each zone's town.
    ndarray of int, shape (n_sites,)
        Each site's town.
    ndarray, shape (n_zones, n_sites)
        Drive minutes: straight-line distance x detour factor at ``p.speed_kmh``.
    """
    n_towns = max(2, n_sites // 2)
    towns = rng.uniform(0, p.region_km, size=(n_towns, 2))
    zt = rng.integers(0, n_towns, size=n_zones)
    zones_xy = towns[zt] + rng.normal(0, p.region_km / 12, size=(n_zones, 2))
    st = rng.permutation(np.resize(np.arange(n_towns), n_sites))
    sites_xy = towns[st] + rng.normal(0, p.region_km / 30, size=(n_sites, 2))
    dist = np.sqrt(((zones_xy[:, None, :] - sites_xy[None, :, :]) ** 2).sum(-1))
    travel = np.round(dist * p.detour_factor / p.speed_kmh * 60.0, 2)
    return zt, st, travel


def synthetic_site(
    rng: np.random.Generator, i: int, town: int, p: SyntheticParams, services: tuple[str, ...]
) -> Site:
    """Site ``i`` (in town ``town``): today's wards and its catalogue of options."""
    stroke_ok = "stroke" in services and rng.random() < p.stroke_site_share
    cur_r = int(rng.integers(0, 3))
    cur_s = int(stroke_ok and rng.random() < 0.5)
    max_s = p.max_stroke_wards if stroke_ok else 0
    opts = standard_options(
        f"S{i:03d}",
        current_rehab=cur_r,
        current_stroke=cur_s,
        max_rehab=p.max_rehab_wards,
        max_stroke=max_s,
        p=p,
        disposal_gbp=p.disposal_gbp_per_site * float(rng.uniform(0.5, 1.5)),
    )
    if len(services) == 1:
        opts = rehab_only(opts)
    return Site(
        site_id=f"S{i:03d}",
        name=f"Site {i}",
        options=opts,
        lad_name=f"LA{town % 3}",
        current_option_id=f"r{cur_r}s{cur_s if max_s else 0}",
    )


def rehab_only(options: tuple[SiteOption, ...]) -> tuple[SiteOption, ...]:
    """The options without a stroke ward, with the stroke service dropped from their tables."""
    return tuple(
        SiteOption(
            o.option_id,
            {"rehab": o.wards["rehab"]},
            {"rehab": o.beds["rehab"]},
            {k: u for k, u in o.usable_beds.items() if k == "rehab"},
            o.capex_gbp,
            o.disposal_gbp,
            o.staff_wte_rn,
            o.staff_wte_total,
            o.revenue_gbp_per_year,
            o.capital_gbp_per_year,
        )
        for o in options
        if o.wards.get("stroke", 0) == 0
    )


def scale_demand(
    demand: FloatArray, sites: list[Site], services: tuple[str, ...], load_factor: float
) -> None:
    """Scale each service's demand (in place) to ``load_factor`` of the largest possible usable
    beds of ``sites``."""
    for v_idx, v in enumerate(services):
        most = sum(max(o.usable_beds.get(v, 0.0) for o in site.options) for site in sites)
        total = demand[:, v_idx].sum()
        if total > 0 and most > 0:
            demand[:, v_idx] *= load_factor * most / total

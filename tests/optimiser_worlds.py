"""Tiny hand-built worlds for the optimiser tests (answers worked out by hand).

Three sites A, B, C on a line, five zones z1..z5 between them, one service (``rehab``).

travel_min (zone x site)::

         A   B   C
    z1   0  10  20
    z2   5   5  15
    z3  10   0  10
    z4  15   5   5
    z5  20  10   0

Every zone needs 4 beds (20 in all) and has weight 100. Each site can run 0, 1 or 2 wards of
10 beds; a ward costs £1.0m a year and an open site £0.5m a year more. Every site has one ward
today; a second ward needs £3.0m of capex. Closing A sells it for £2.5m.
"""

from __future__ import annotations

import numpy as np

from siteopt.wards.instance import Instance, Site, SiteOption, Zones

WARD_BEDS = 10
WARD_GBP = 1_000_000.0
SITE_GBP = 500_000.0
SECOND_WARD_CAPEX_GBP = 3_000_000.0
DISPOSAL_A_GBP = 2_500_000.0
RN_PER_WARD = 10.0
ISOLATED_RN_EXTRA = 4.0

TRAVEL = np.array(
    [
        [0, 10, 20],
        [5, 5, 15],
        [10, 0, 10],
        [15, 5, 5],
        [20, 10, 0],
    ],
    dtype=np.float64,
)


def _options(site_id: str) -> tuple[SiteOption, ...]:
    opts = []
    for n in range(3):
        beds = n * WARD_BEDS
        opts.append(
            SiteOption(
                option_id=f"w{n}",
                wards={"rehab": n},
                beds={"rehab": beds},
                usable_beds={"rehab": float(beds)} if beds else {},
                capex_gbp=SECOND_WARD_CAPEX_GBP if n == 2 else 0.0,
                disposal_gbp=DISPOSAL_A_GBP if (n == 0 and site_id == "A") else 0.0,
                staff_wte_rn=n * RN_PER_WARD + (ISOLATED_RN_EXTRA if n == 1 else 0.0),
                staff_wte_total=2 * n * RN_PER_WARD + (ISOLATED_RN_EXTRA if n == 1 else 0.0),
                revenue_gbp_per_year=n * WARD_GBP + (SITE_GBP if n else 0.0),
            )
        )
    return tuple(opts)


def line_world(demand_per_zone: float = 4.0) -> Instance:
    """The three-site, five-zone world of the module docstring."""
    sites = tuple(
        Site(
            site_id=s, name=f"Site {s}", options=_options(s), lad_name="LA", current_option_id="w1"
        )
        for s in ("A", "B", "C")
    )
    zones = Zones(
        zone_ids=("z1", "z2", "z3", "z4", "z5"),
        demand_beds=np.full((5, 1), demand_per_zone),
        weight=np.full(5, 100.0),
        lad_name=("West", "West", "Mid", "East", "East"),
        imd_quintile=np.array([1, 2, 3, 4, 5], dtype=np.int64),
    )
    return Instance(
        services=("rehab",), sites=sites, zones=zones, travel_min=TRAVEL.copy(), name="line_world"
    )

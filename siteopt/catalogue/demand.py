"""Bed need per zone and service, from population, bed-day rates, growth and Home First.

For zone z, service s and age band a::

    bed_days[z, s]   = sum_a  pop[z, a] * growth[z, a] * rate[s, a]
    demand_beds[z, s] = bed_days[z, s] / 365 / target_occupancy * (1 - home_first[s])

* ``pop`` is the Census 2021 population of ``zones.csv`` (the 65+ split into 65-79 and 80+);
* ``rate`` is ``bed_day_rates.csv`` (bed-days per person per year, calibrated so that today's
  population needs today's beds);
* ``growth`` compounds an annual rate from the population year to the planning year. Method
  ``lpt_two_year`` uses the LPT plan's two-year rates by age group and area (annual rate
  ``(1 + g2)^(1/2) - 1``); ``stp_five_year`` the STP's LLR five-year rates
  (``(1 + g5)^(1/5) - 1``); ``none`` keeps today's population;
* ``home_first`` is the share of need met at home instead (STP: ICS "virtual beds").

The result is in *beds needed at the target occupancy*, the unit of the model's capacity
constraint (see :mod:`siteopt.catalogue.capacity`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from siteopt.data.load import GeoData
from siteopt.errors import DataError, Problem

GrowthMethod = Literal["lpt_two_year", "stp_five_year", "none"]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DemandSettings:
    """The scenario inputs of the demand stage; ``None`` means "as in the assumptions"."""

    planning_year: int | None = None
    growth_method: GrowthMethod | None = None
    target_occupancy: float | None = None
    home_first_reduction: dict[str, float] = field(default_factory=dict)
    """Per service; services not given use the assumptions."""


@dataclass(frozen=True, eq=False)
class Demand:
    """Bed need per zone and service, and how it was derived."""

    zone_ids: tuple[str, ...]
    services: tuple[str, ...]
    demand_beds: FloatArray
    """Shape (n_zones, n_services): beds needed at the target occupancy."""
    bed_days_per_year: FloatArray
    """Shape (n_zones, n_services): bed-days before the Home First reduction."""
    growth_factor: FloatArray
    """Shape (n_zones, n_age_bands): population growth from the population year."""
    planning_year: int
    growth_method: str
    target_occupancy: float
    home_first_reduction: dict[str, float]

    def total_beds(self) -> dict[str, float]:
        """Total bed need per service."""
        return {s: float(self.demand_beds[:, j].sum()) for j, s in enumerate(self.services)}


def resolve(data: GeoData, settings: DemandSettings) -> tuple[int, str, float, dict[str, float]]:
    """Fill the settings' gaps from the assumptions and check their ranges."""
    a = data.assumptions
    year = settings.planning_year or int(a["growth.default_planning_year"])
    method = settings.growth_method or str(a["growth.method"])
    occupancy = settings.target_occupancy or float(a["demand.target_occupancy"])
    home_first = {s: float(settings.home_first_reduction.get(s, a[f"home_first.reduction_{s}"]))
                  for s in a.services}
    problems: list[Problem] = []
    base = int(a["meta.population_year"])
    if not base <= year <= base + 50:
        problems.append(Problem("scenario", f"planning year {year} must be between the "
                                            f"population year {base} and {base + 50}",
                                field="planning_year"))
    if method not in ("lpt_two_year", "stp_five_year", "none"):
        problems.append(Problem("scenario", f"growth method '{method}' is not one of "
                                            "lpt_two_year, stp_five_year, none",
                                field="growth_method"))
    if not 0.5 <= occupancy <= 1.0:
        problems.append(Problem("scenario", f"target occupancy {occupancy} must be between 0.5 "
                                            "and 1", field="target_occupancy"))
    for svc, value in home_first.items():
        if not 0.0 <= value < 1.0:
            problems.append(Problem("scenario", f"Home First reduction {value} for {svc} must be "
                                                "at least 0 and below 1",
                                    field=f"home_first.reduction_{svc}"))
    unknown = sorted(set(settings.home_first_reduction) - set(a.services))
    for svc in unknown:
        problems.append(Problem("scenario", f"unknown service '{svc}'; services are "
                                            f"{', '.join(a.services)}", field="home_first"))
    if problems:
        raise DataError(problems)
    return year, method, occupancy, home_first


def growth_factors(data: GeoData, planning_year: int, method: str) -> FloatArray:
    """Population growth factor per zone and age band, from the population year."""
    a = data.assumptions
    bands = a.age_bands
    years = planning_year - int(a["meta.population_year"])
    zones = data.zones
    factors = np.ones((len(zones), len(bands)))
    if method == "none" or years == 0:
        return factors
    groups = a["growth.age_group_of_band"]
    if method == "stp_five_year":
        for k, group in enumerate(groups):
            annual = (1 + a[f"growth.stp_five_year_pct.{group}"] / 100) ** (1 / 5)
            factors[:, k] = annual ** years
        return factors
    area_of_lad = a["growth.area_of_lad"]
    areas = zones["lad_name"].map(area_of_lad).to_numpy()
    for k, group in enumerate(groups):
        table = a[f"growth.lpt_two_year_pct.{group}"]
        annual = np.array([(1 + table[area] / 100) ** 0.5 for area in areas])
        factors[:, k] = annual ** years
    return factors


def bed_need(data: GeoData, settings: DemandSettings | None = None) -> Demand:
    """Bed need per zone and service for a scenario.

    Parameters
    ----------
    data : GeoData
        The validated geodata.
    settings : DemandSettings, optional
        Planning year, growth method, occupancy and Home First; defaults from the assumptions.

    Returns
    -------
    Demand
    """
    settings = settings or DemandSettings()
    year, method, occupancy, home_first = resolve(data, settings)
    a = data.assumptions
    bands = a.age_bands
    services = tuple(a.services)
    pop = data.zones[[f"pop_{b}" for b in bands]].to_numpy(dtype=float)
    growth = growth_factors(data, year, method)
    rates = data.bed_day_rates.set_index(["service", "age_band"])["bed_days_per_person_year"]
    rate = np.array([[float(rates[(s, b)]) for b in bands] for s in services])
    bed_days = (pop * growth) @ rate.T
    reduction = np.array([home_first[s] for s in services])
    demand_beds = bed_days / 365.0 / occupancy * (1.0 - reduction)
    return Demand(
        zone_ids=tuple(data.zones["zone_id"]),
        services=services,
        demand_beds=demand_beds,
        bed_days_per_year=bed_days,
        growth_factor=growth,
        planning_year=year,
        growth_method=method,
        target_occupancy=occupancy,
        home_first_reduction=home_first,
    )

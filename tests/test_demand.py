"""Bed need: hand-checkable growth factors and the calibration back to today's beds."""

from __future__ import annotations

import numpy as np
import pytest

from siteopt.catalogue.demand import DemandSettings, bed_need
from siteopt.data.load import GeoData, load_geodata
from siteopt.errors import DataError
from siteopt.paths import DEFAULT_GEODATA_DIR


@pytest.fixture(scope="module")
def data() -> GeoData:
    return load_geodata(DEFAULT_GEODATA_DIR)


def test_todays_population_without_home_first_needs_todays_beds(data: GeoData) -> None:
    d = bed_need(data, DemandSettings(planning_year=2021,
                                      home_first_reduction={"rehab": 0.0, "stroke": 0.0}))
    assert d.total_beds() == pytest.approx({"rehab": 192, "stroke": 56}, rel=1e-6)
    assert np.all(d.growth_factor == 1.0)


def test_home_first_reduces_need_by_its_share(data: GeoData) -> None:
    d = bed_need(data, DemandSettings(planning_year=2021))
    # STP: 192 -> 150 rehab (22% fewer), 56 -> 45 stroke (20% fewer).
    assert d.total_beds()["rehab"] == pytest.approx(192 * 0.78, rel=1e-6)
    assert d.total_beds()["stroke"] == pytest.approx(56 * 0.80, rel=1e-6)


def test_lpt_two_year_growth_compounds_per_area_and_age_group(data: GeoData) -> None:
    d = bed_need(data, DemandSettings(planning_year=2023, growth_method="lpt_two_year"))
    zones = data.zones
    bands = data.assumptions.age_bands
    older = bands.index("80_plus")
    child = bands.index("0_15")
    rutland = (zones["lad_name"] == "Rutland").to_numpy()
    city = (zones["lad_name"] == "Leicester").to_numpy()
    # Two years on, the LPT plan's two-year rates apply exactly.
    assert np.allclose(d.growth_factor[rutland, older], 1.0480)
    assert np.allclose(d.growth_factor[city, older], 1.0468)
    assert np.allclose(d.growth_factor[rutland, child], 1.0048)
    county = ~(rutland | city)
    assert np.allclose(d.growth_factor[county, bands.index("35_49")], 1.0056)


def test_stp_five_year_growth(data: GeoData) -> None:
    d = bed_need(data, DemandSettings(planning_year=2026, growth_method="stp_five_year"))
    bands = data.assumptions.age_bands
    assert np.allclose(d.growth_factor[:, bands.index("65_79")], 1.111)
    assert np.allclose(d.growth_factor[:, bands.index("16_24")], 1.017)


def test_demand_is_independently_recomputed(data: GeoData) -> None:
    d = bed_need(data, DemandSettings(planning_year=2026, target_occupancy=0.85,
                                      home_first_reduction={"rehab": 0.1}))
    rates = {(r.service, r.age_band): r.bed_days_per_person_year
             for r in data.bed_day_rates.itertuples()}
    zone = data.zones.iloc[17]
    expected = 0.0
    for k, band in enumerate(data.assumptions.age_bands):
        expected += zone[f"pop_{band}"] * d.growth_factor[17, k] * rates[("rehab", band)]
    assert d.demand_beds[17, 0] == pytest.approx(expected / 365 / 0.85 * 0.9)


def test_bad_settings_are_reported_together(data: GeoData) -> None:
    with pytest.raises(DataError) as info:
        bed_need(data, DemandSettings(planning_year=1999, target_occupancy=1.4,
                                      home_first_reduction={"rehab": 1.2, "maternity": 0.1}))
    lines = info.value.lines()
    assert "scenario, field 'planning_year': planning year 1999 must be between the " \
           "population year 2021 and 2071" in lines
    assert any("target occupancy 1.4 must be between 0.5 and 1" in x for x in lines)
    assert any("Home First reduction 1.2 for rehab" in x for x in lines)
    assert any("unknown service 'maternity'" in x for x in lines)

"""The option catalogue: hand-checked options, schemes and costs on the LLR data."""

from __future__ import annotations

import numpy as np
import pytest

from siteopt.catalogue.demand import bed_need
from siteopt.catalogue.options import Catalogue, CatalogueSettings, annuity_factor, build_catalogue
from siteopt.data.load import GeoData, load_geodata
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.wards.results import totals


@pytest.fixture(scope="module")
def data() -> GeoData:
    return load_geodata(DEFAULT_GEODATA_DIR)


def catalogue(data: GeoData, **kwargs: object) -> Catalogue:
    travel = np.full((len(data.zones), len(data.sites)), 20.0)
    settings = CatalogueSettings(**kwargs)  # type: ignore[arg-type]
    return build_catalogue(data, bed_need(data), travel, settings)


def test_loughborough_can_close_take_a_standard_ward_or_keep_its_24_beds(data: GeoData) -> None:
    site = catalogue(data).instance.sites[1]
    assert site.site_id == "loughborough"
    assert sorted(o.option_id for o in site.options) == ["closed", "rehab21", "rehab24"]
    assert site.current_option_id == "rehab24"


def test_isolated_standard_rehab_ward_staff_and_cost(data: GeoData) -> None:
    site = catalogue(data).instance.sites[1]
    opt = site.option("rehab21")
    rn = 3.0 + 0.45 * 21 + 2.73  # per ward + per bed + isolated night cover
    other = 4.0 + 0.75 * 21
    assert opt.staff_wte_rn == pytest.approx(rn)
    assert opt.staff_wte_total == pytest.approx(rn + other)
    revenue = rn * 47000 + other * 30000 + 21 * 9000 + 450000
    assert opt.revenue_gbp_per_year == pytest.approx(revenue)
    assert opt.isolated and not opt.paired
    assert opt.capex_gbp == 0 and opt.disposal_gbp == 0


def test_paired_wards_need_no_extra_night_cover(data: GeoData) -> None:
    evington = next(s for s in catalogue(data).instance.sites if s.site_id == "evington")
    two = evington.option("rehab21+rehab21")
    one = evington.option("rehab21")
    assert two.paired
    assert two.staff_wte_rn == pytest.approx(2 * (3.0 + 0.45 * 21))
    assert one.staff_wte_rn == pytest.approx(3.0 + 0.45 * 21 + 2.73)


def test_schemes_are_triggered_by_the_wards_that_need_them(data: GeoData) -> None:
    cat = catalogue(data)
    sites = {s.site_id: s for s in cat.instance.sites}
    assert cat.schemes["melton"]["rehab21"] == ("melton_extension",)
    assert sites["melton"].option("rehab21").capex_gbp == 3_850_000
    # Melton's 7.0m receipt needs Oakham's beds to close: a linked receipt, not the option's own.
    assert sites["melton"].option("rehab21").disposal_gbp == 0
    links = {link.scheme_id: link for link in cat.instance.linked_receipts}
    melton = links["melton_extension"]
    assert cat.instance.sites[melton.site_idx].site_id == "melton"
    assert melton.option_ids == ("rehab21",) and melton.receipt_gbp == 7_000_000
    assert [cat.instance.sites[k].site_id for k in melton.closed_site_idx] == ["oakham"]
    assert cat.schemes["melton"]["rehab17"] == ()
    assert cat.schemes["market_harborough"]["rehab21+stroke15"] == ("market_harborough_ward",)
    assert cat.schemes["evington"]["rehab21+rehab21+stroke15"] == ("evington_stroke_ward",)
    assert cat.schemes["oakham"]["closed"] == ("oakham_closure",)
    assert sites["oakham"].option("closed").disposal_gbp == 4_758_000
    assert cat.schemes["lutterworth"]["closed"] == ("lutterworth_closure",)
    # No receipts from closing a site that has no wards today.
    assert cat.schemes["hinckley_district"]["closed"] == ()


def test_stroke_only_where_the_stp_keeps_it(data: GeoData) -> None:
    cat = catalogue(data)
    for site in cat.instance.sites:
        has_stroke = any(o.beds["stroke"] > 0 for o in site.options)
        assert has_stroke == (site.site_id in {"coalville", "evington", "market_harborough"})


def test_stp_2016_configuration_reproduces_the_stp(data: GeoData) -> None:
    cat = catalogue(data)
    choice = cat.configurations["stp_2016"]
    sites = {s.site_id: s for s in cat.evaluation_instance.sites}
    options = [sites[sid].option(oid) for sid, oid in choice.items()]
    assert sum(o.beds["rehab"] for o in options) == 150
    assert sum(o.beds["stroke"] for o in options) == 45
    assert sum(1 for o in options if o.inpatient) == 6
    # Schemes: MH 8.6m, Melton 3.85m, Evington 7.5m; closures Lutterworth 1.35m, Oakham 1.0m.
    assert sum(o.capex_gbp for o in options) == pytest.approx(22_300_000)
    # The options' own receipts are the closures'; MH's and Melton's need Lutterworth's and
    # Oakham's beds to close, which the STP does, so totals() books all four.
    assert sum(o.disposal_gbp for o in options) == pytest.approx(3_000_000 + 4_758_000)
    t = totals(cat.evaluation_instance, choice)
    assert t["disposals_gbp"] == pytest.approx(4_000_000 + 7_000_000 + 3_000_000 + 4_758_000)
    assert t["receipts_gbp_by_scheme"] == {"market_harborough_ward": 4_000_000,
                                           "melton_extension": 7_000_000}


def test_status_quo_is_evaluable_but_not_offered_where_its_ward_is_going(data: GeoData) -> None:
    cat = catalogue(data)
    choice = cat.configurations["status_quo"]
    sites = {s.site_id: s for s in cat.evaluation_instance.sites}
    options = [sites[sid].option(oid) for sid, oid in choice.items()]
    assert sum(o.beds["rehab"] for o in options) == 192
    assert sum(o.beds["stroke"] for o in options) == 56
    assert sum(o.capex_gbp for o in options) == 0
    evington = next(s for s in cat.instance.sites if s.site_id == "evington")
    assert choice["evington"] == "status_quo"
    assert "status_quo" not in [o.option_id for o in evington.options]
    assert evington.current_option_id is None


def test_module_size_scenario(data: GeoData) -> None:
    cat = catalogue(data, module_beds={"rehab": 24})
    sites = {s.site_id: s for s in cat.instance.sites}
    evington = [o.option_id for o in sites["evington"].options]
    assert "rehab24+rehab23" in evington  # a 24-bed module in the 24-bed space, 23 as is
    assert "rehab24+rehab24" not in evington  # the 23-bed space cannot take a 24-bed module
    # Hinckley's 23-bed space cannot take a 24-bed module: as-is wards, and the named STP
    # option (a 21-bed ward) which stays available whatever the module size.
    hb = sorted(o.option_id for o in sites["hinckley_bosworth"].options)
    assert hb == ["closed", "rehab16", "rehab23", "rehab23+rehab16", "stp_2016"]


def test_without_as_is_wards_the_catalogue_is_small_enough_to_enumerate(data: GeoData) -> None:
    cat = catalogue(data, allow_existing_as_is=False)
    n = int(np.prod([len(s.options) for s in cat.instance.sites]))
    assert n < 50_000


def test_annuity_factor() -> None:
    assert annuity_factor(0.0, 10) == pytest.approx(0.1)
    # 3.5% over 60 years: r / (1 - (1 + r)^-n)
    assert annuity_factor(0.035, 60) == pytest.approx(0.035 / (1 - 1.035 ** -60))

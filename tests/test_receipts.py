"""Disposal receipts that count only when other sites close (capital_schemes.csv's
``receipt_requires_closure``): catalogue, MILP, verifier, both enumerations, totals and the
scheme lines agree."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from siteopt.appraisal.enumeration import enumerate_space
from siteopt.catalogue.demand import bed_need
from siteopt.catalogue.options import Catalogue, build_catalogue, scheme_lines
from siteopt.data.load import load_geodata
from siteopt.errors import DataError, InfeasibleError
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.wards.enumerate import enumerate_optimum
from siteopt.wards.instance import Instance, LinkedReceipt, ModelSettings, Site, SiteOption, Zones
from siteopt.wards.model import build_model
from siteopt.wards.results import totals
from siteopt.wards.solve import optimise
from siteopt.wards.synthetic import synthetic_instance
from siteopt.wards.verify import check_limits_only

# A hand-checkable world. Sites M, O, P; zones z1 (15 beds, next to M) and z2 (10 beds, next
# to O); weight = beds, so W = 25. Drive minutes:
#
#        M   O   P
#   z1   0  30  10
#   z2  30   0  20
#
# M runs one 10-bed ward, or two (20 beds) after a scheme of £3.0m capex whose £4.0m receipt
# needs O's beds to close. O and P run no ward or one 10-bed ward. Net capital limit: £0.
# The bed need is 25, so configurations with 30 beds:
#   M1 + O1 + P1: net 0; z1 sends 5 beds to P (10 min): T = 15 * 10 * (1/3) / 25 = 2.0 min.
#   M2 + O1 (+ P0): T = 0, but O stays open, so the receipt is not realised: net £3.0m, over.
#   M2 + O0 + P1: receipt realised, net -£1.0m; z2 drives 20 min to P: T = 200 / 25 = 8.0.
# So the access optimum is M1 + O1 + P1 at 2.0 minutes; booking the receipt whatever O does
# (as before the dependency was modelled) would give M2 + O1 + P0 at 0 minutes.
TRAVEL = np.array([[0.0, 30.0, 10.0], [30.0, 0.0, 20.0]])
WARD_GBP, SITE_GBP = 1_000_000.0, 500_000.0
CAPEX_GBP, RECEIPT_GBP = 3_000_000.0, 4_000_000.0


def _option(n: int, capex: float = 0.0, disposal: float = 0.0) -> SiteOption:
    beds = 10 * n
    return SiteOption(f"w{n}", {"rehab": n}, {"rehab": beds},
                      {"rehab": float(beds)} if beds else {}, capex_gbp=capex,
                      disposal_gbp=disposal,
                      revenue_gbp_per_year=n * WARD_GBP + (SITE_GBP if n else 0.0))


def receipt_world(*, linked: bool = True) -> Instance:
    """The world above; ``linked=False`` books M's receipt unconditionally (the old rule)."""
    m_two = _option(2, CAPEX_GBP, 0.0 if linked else RECEIPT_GBP)
    sites = (
        Site("M", "Site M", (_option(1), m_two), current_option_id="w1"),
        Site("O", "Site O", (_option(0), _option(1)), current_option_id="w1"),
        Site("P", "Site P", (_option(0), _option(1)), current_option_id="w1"),
    )
    zones = Zones(("z1", "z2"), np.array([[15.0], [10.0]]), np.array([15.0, 10.0]),
                  ("LA", "LA"), np.array([1, 2], dtype=np.int64))
    links = (LinkedReceipt("m_ward", 0, ("w2",), (1,), RECEIPT_GBP),) if linked else ()
    return Instance(("rehab",), sites, zones, TRAVEL.copy(), name="receipt_world",
                    linked_receipts=links)


NET_ZERO = ModelSettings(capital_limit_gbp=0.0, capital_basis="net")


def test_the_optimum_changes_because_the_receipt_needs_a_closure() -> None:
    sol = optimise(receipt_world(), NET_ZERO)
    assert sol.status == "optimal" and sol.violations == ()
    assert sol.choice == {"M": "w1", "O": "w1", "P": "w1"}
    assert sol.objective == pytest.approx(2.0)
    old = optimise(receipt_world(linked=False), NET_ZERO)
    assert old.choice == {"M": "w2", "O": "w1", "P": "w0"}
    assert old.objective == pytest.approx(0.0)


def test_the_receipt_counts_once_the_site_closes() -> None:
    inst = receipt_world()
    closed = totals(inst, {"M": "w2", "O": "w0", "P": "w1"})
    assert closed["disposals_gbp"] == RECEIPT_GBP
    assert closed["net_capital_gbp"] == pytest.approx(-1_000_000.0)
    assert closed["receipts_gbp_by_scheme"] == {"m_ward": RECEIPT_GBP}
    kept = totals(inst, {"M": "w2", "O": "w1", "P": "w0"})
    assert kept["disposals_gbp"] == 0.0 and kept["net_capital_gbp"] == CAPEX_GBP
    assert kept["receipts_gbp_by_scheme"] == {"m_ward": 0.0}
    assert totals(inst, {"M": "w1", "O": "w0", "P": "w1"})["receipts_gbp_by_scheme"] == {}
    # Closing O makes M2 + O0 + P1 (8.0 min) the only way: the MILP books the receipt.
    forced = optimise(inst, dataclasses.replace(NET_ZERO, force_closed=frozenset({"O"})))
    assert forced.choice == {"M": "w2", "O": "w0", "P": "w1"}
    assert forced.objective == pytest.approx(8.0)


def test_the_verifier_counts_the_receipt_only_when_realised() -> None:
    inst = receipt_world()
    assert check_limits_only(inst, NET_ZERO, {"M": "w2", "O": "w0", "P": "w1"}) == []
    out = check_limits_only(inst, NET_ZERO, {"M": "w2", "O": "w1", "P": "w0"})
    assert out == ["capital (net) 3,000,000.00 over the limit 0.00"]


def test_gross_capital_ignores_receipts() -> None:
    gross = ModelSettings(capital_limit_gbp=CAPEX_GBP - 1, capital_basis="gross",
                          force_closed=frozenset({"O"}))
    with pytest.raises(InfeasibleError, match="gross capital limit"):
        optimise(receipt_world(), gross)


def test_both_enumerations_agree_with_the_milp_on_the_hand_world() -> None:
    inst = receipt_world()
    assert enumerate_optimum(inst, NET_ZERO).choice == {"M": "w1", "O": "w1", "P": "w1"}
    space = enumerate_space(inst, NET_ZERO)
    assert sorted(tuple(sorted(c.items())) for c in space.choices) == [
        (("M", "w1"), ("O", "w1"), ("P", "w1")),
        (("M", "w2"), ("O", "w0"), ("P", "w1")),
    ]
    realised = {tuple(sorted(c.items())): net for c, net in
                zip(space.choices, space.net_capital_gbp, strict=True)}
    assert realised[(("M", "w2"), ("O", "w0"), ("P", "w1"))] == pytest.approx(-1_000_000.0)


def _linked_synthetic(seed: int) -> Instance:
    """A synthetic instance whose first site's extra wards bring a receipt only if the second
    and third sites close."""
    inst = synthetic_instance(6, 60, seed=seed)
    trig = tuple(o.option_id for o in inst.sites[0].options if o.wards["rehab"] >= 2)
    link = LinkedReceipt("s0_extension", 0, trig, (1, 2), 9_000_000.0)
    return dataclasses.replace(inst, linked_receipts=(link,))


@pytest.mark.parametrize(("seed", "capital_gbp"), [(1, 8e6), (2, 2e6), (2, 4e6), (3, 8e6)])
@pytest.mark.parametrize("objective", ["access", "cost"])
def test_milp_equals_enumeration_with_linked_receipts(seed: int, capital_gbp: float,
                                                     objective: str) -> None:
    inst = _linked_synthetic(seed)
    settings = ModelSettings(objective=objective,  # type: ignore[arg-type]
                             capital_limit_gbp=capital_gbp, capital_basis="net",
                             max_travel_min=90)
    oracle = enumerate_optimum(inst, settings)
    sol = optimise(inst, settings)
    assert oracle.choice is not None
    assert sol.status == "optimal" and sol.violations == ()
    assert sol.objective == pytest.approx(oracle.objective, rel=1e-6, abs=1e-6)
    space = enumerate_space(inst, settings)
    best = space.mean_travel_min if objective == "access" else space.cost_gbp_per_year
    assert float(best.min()) == pytest.approx(oracle.objective, rel=1e-6, abs=1e-6)
    # The receipt matters: without it fewer configurations meet the capital limit.
    plain = enumerate_space(dataclasses.replace(inst, linked_receipts=()), settings)
    assert plain.n_meeting_limits < space.n_meeting_limits


def test_an_instance_checks_its_linked_receipts() -> None:
    inst = receipt_world()
    bad = LinkedReceipt("x", 0, ("w9",), (0,), -1.0)
    with pytest.raises(DataError) as err:
        dataclasses.replace(inst, linked_receipts=(bad,))
    text = str(err.value)
    assert "has no options ['w9']" in text
    assert "must be other sites" in text
    assert "receipt_gbp must be finite and >= 0" in text


# -- LLR ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def llr() -> Catalogue:
    data = load_geodata(DEFAULT_GEODATA_DIR)
    travel = np.full((len(data.zones), len(data.sites)), 20.0)
    return build_catalogue(data, bed_need(data), travel)


def test_llr_stp_2016_keeps_both_receipts(llr: Catalogue) -> None:
    choice = llr.configurations["stp_2016"]
    t = totals(llr.evaluation_instance, choice)
    assert t["receipts_gbp_by_scheme"] == {"market_harborough_ward": 4_000_000,
                                           "melton_extension": 7_000_000}
    assert t["capex_gbp"] == pytest.approx(22_300_000)
    assert t["disposals_gbp"] == pytest.approx(18_758_000)


def test_llr_melton_extended_with_oakham_open_books_7m_less(llr: Catalogue) -> None:
    stp = llr.configurations["stp_2016"]
    oakham_open = {**stp, "oakham": "rehab16"}
    a = totals(llr.evaluation_instance, stp)
    b = totals(llr.evaluation_instance, oakham_open)
    assert a["disposals_gbp"] - b["disposals_gbp"] == pytest.approx(7_000_000 + 4_758_000)
    # The 4.758m is Oakham's own sale, which needs its closure anyway; Melton's 7.0m goes too.
    assert b["receipts_gbp_by_scheme"] == {"market_harborough_ward": 4_000_000,
                                           "melton_extension": 0.0}
    melton_only = {**llr.configurations["status_quo"], "melton": "rehab21"}
    c = totals(llr.evaluation_instance, melton_only)
    assert c["capex_gbp"] == 3_850_000 and c["disposals_gbp"] == 0.0


def test_llr_scheme_lines_reconcile_with_the_stp(llr: Catalogue) -> None:
    choice = llr.configurations["stp_2016"]
    lines = {line.scheme_id: line for line in scheme_lines(llr, choice)}
    assert set(lines) == {"market_harborough_ward", "melton_extension", "evington_stroke_ward",
                          "lutterworth_closure", "oakham_closure"}
    assert lines["melton_extension"].requires_closure == ("oakham",)
    assert lines["melton_extension"].receipt_realised_gbp == 7_000_000
    # The STP's inpatient table: the three ward schemes and the Lutterworth disposal.
    inpatient = [x for x in lines.values() if x.kind != "on_closure"]
    capex = sum(x.capex_gbp for x in inpatient)
    receipts = sum(x.receipt_realised_gbp for x in inpatient) + lines[
        "lutterworth_closure"].receipt_realised_gbp
    assert capex == pytest.approx(19_950_000)
    assert receipts == pytest.approx(14_000_000)
    assert capex - receipts == pytest.approx(5_950_000)
    # Its Oakham and Lutterworth ambulatory table: the closures' capex and Oakham's sale.
    closure = [lines["oakham_closure"], lines["lutterworth_closure"]]
    capex = sum(x.capex_gbp for x in closure)
    receipts = lines["oakham_closure"].receipt_realised_gbp
    assert capex == pytest.approx(2_350_000)
    assert receipts == pytest.approx(4_758_000)
    assert capex - receipts == pytest.approx(-2_408_000)
    # Every line together is the configuration's totals.
    t = totals(llr.evaluation_instance, choice)
    assert sum(x.capex_gbp for x in lines.values()) == pytest.approx(t["capex_gbp"])
    assert sum(x.receipt_realised_gbp for x in lines.values()) == pytest.approx(
        t["disposals_gbp"])
    assert sum(x.net_gbp for x in lines.values()) == pytest.approx(t["net_capital_gbp"])


def test_llr_scheme_lines_without_the_closure(llr: Catalogue) -> None:
    choice = {**llr.configurations["stp_2016"], "oakham": "rehab16", "lutterworth": "rehab10"}
    lines = {line.scheme_id: line for line in scheme_lines(llr, choice)}
    assert set(lines) == {"market_harborough_ward", "melton_extension", "evington_stroke_ward"}
    assert lines["market_harborough_ward"].receipt_gbp == 4_000_000
    assert lines["market_harborough_ward"].receipt_realised_gbp == 0.0
    assert lines["melton_extension"].receipt_realised_gbp == 0.0


def test_the_rows_of_the_linked_receipt() -> None:
    model = build_model(receipt_world(), NET_ZERO)
    rho = model.receipts["m_ward"]
    trigger = model.prob.get_constraint_by_name("c15_receipt_0")
    closed = model.prob.get_constraint_by_name("c15_receipt_0_closed_1")
    capital = model.prob.get_constraint_by_name("c07_capital")
    assert {v.name: c for v, c in trigger.items()} == {rho.name: 1.0, "y_0_1": -1.0}
    assert {v.name: c for v, c in closed.items()} == {rho.name: 1.0, "y_1_1": 1.0}
    assert closed.constant == -1.0
    assert capital[rho] == -RECEIPT_GBP
    # Without a net capital limit the receipt enters nothing: no variable, no rows.
    gross = build_model(receipt_world(), ModelSettings(capital_limit_gbp=1e7,
                                                       capital_basis="gross"))
    assert gross.receipts == {}
    assert gross.prob.get_constraint_by_name("c15_receipt_0") is None

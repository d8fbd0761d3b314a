"""The independent checker: passes good solutions, catches each kind of broken one."""

from __future__ import annotations

import numpy as np
import pytest
from optimiser_worlds import line_world

from siteopt.wards.instance import ModelSettings
from siteopt.wards.results import Assignment
from siteopt.wards.solve import optimise
from siteopt.wards.verify import check_solution


def _check(settings: ModelSettings, choice: dict[str, str], a: Assignment) -> list[str]:
    return check_solution(
        line_world(), settings, choice, a.zone_idx, a.site_idx, a.service_idx, a.share
    )


def _rows(rows: list[tuple[int, int, float]]) -> Assignment:
    arr = np.array(rows, dtype=np.float64)
    n = len(rows)
    return Assignment(
        arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), np.zeros(n, np.int64), arr[:, 2]
    )


B_ONLY = {"A": "w0", "B": "w2", "C": "w0"}
ALL_TO_B = _rows([(z, 1, 1.0) for z in range(5)])


def test_a_correct_hand_solution_passes() -> None:
    assert _check(ModelSettings(max_travel_min=10), B_ONLY, ALL_TO_B) == []


def test_over_capacity_is_caught() -> None:
    out = _check(ModelSettings(), {"A": "w0", "B": "w1", "C": "w1"}, ALL_TO_B)
    assert any("B rehab: demand 20.000 beds over its 10.000 usable beds" in m for m in out)
    assert any("C" in m for m in out) is False


def test_assignment_to_a_closed_site_and_partial_shares_are_caught() -> None:
    a = _rows([(0, 0, 1.0), (1, 1, 0.5), (2, 1, 1.0), (3, 1, 1.0), (4, 1, 1.0)])
    out = _check(ModelSettings(), B_ONLY, a)
    assert any("sends rehab to A, which has no rehab beds" in m for m in out)
    assert any("zone z2 rehab: assigned share 0.500000, not 1" in m for m in out)


def test_travel_limit_and_option_errors_are_caught() -> None:
    out = _check(ModelSettings(max_travel_min=5), B_ONLY, ALL_TO_B)
    assert any("z1 is 10.0 min from B, over the 5 min limit" in m for m in out)
    bad = _check(ModelSettings(), {"A": "w9", "B": "w2", "C": "w0"}, ALL_TO_B)
    assert bad == ["site A: option 'w9' is not exactly one of its options"]


def test_limits_are_checked_from_the_raw_options() -> None:
    s = ModelSettings(
        capital_limit_gbp=1e6,
        capital_basis="gross",
        max_staff_wte_rn=10,
        max_isolated_wards=0,
        max_inpatient_sites=0,
        force_closed=frozenset({"B"}),
    )
    out = _check(s, B_ONLY, ALL_TO_B)
    text = "\n".join(out)
    assert "capital (gross) 3,000,000.00 over the limit 1,000,000.00" in text
    assert "registered nurse WTE 20.00 over the limit 10.00" in text
    assert "1 inpatient sites, over the maximum 0" in text
    assert "site B is forced closed but keeps 2 ward(s)" in text


def test_share_within_is_checked() -> None:
    s = ModelSettings(within_travel_min=5, min_share_within=0.8)
    out = _check(s, B_ONLY, ALL_TO_B)
    assert any("only 60.0% of the weight within 5 min, below 80.0%" in m for m in out)


@pytest.mark.parametrize(
    "settings",
    [
        ModelSettings(),
        ModelSettings(objective="cost", max_travel_min=10),
        ModelSettings(objective="weighted", cost_weight_per_gbp_m=2.0, max_isolated_wards=1),
        ModelSettings(within_travel_min=5, min_share_within=0.9, objective="cost"),
    ],
)
def test_every_optimised_solution_passes_the_independent_check(settings: ModelSettings) -> None:
    sol = optimise(line_world(), settings)
    a = sol.assignment
    assert _check(settings, dict(sol.choice), a) == []

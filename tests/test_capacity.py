"""Erlang B and usable beds against hand-checkable values."""

from __future__ import annotations

import math

import pytest

from siteopt.catalogue.capacity import erlang_b, max_load_erlangs, usable_beds, with_capacity_model
from siteopt.wards.synthetic import synthetic_instance


def test_erlang_b_small_cases_by_hand() -> None:
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(1, 1.0) == pytest.approx(0.5)  # A / (1 + A)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)
    a = 3.0
    by_formula = (a**3 / 6) / (1 + a + a**2 / 2 + a**3 / 6)
    assert erlang_b(3, a) == pytest.approx(by_formula)


def test_erlang_b_matches_the_factorial_formula_and_tables() -> None:
    c, a = 10, 5.0
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    assert erlang_b(c, a) == pytest.approx(terms[-1] / sum(terms))
    assert erlang_b(c, a) == pytest.approx(0.018385, abs=1e-6)  # published Erlang B table


def test_erlang_b_is_stable_for_large_pools() -> None:
    b = erlang_b(2000, 1900.0)
    assert 0.0 < b < 0.05
    assert math.isfinite(b)


def test_max_load_inverts_erlang_b() -> None:
    assert max_load_erlangs(1, 0.5) == pytest.approx(1.0)
    assert max_load_erlangs(2, 0.2) == pytest.approx(1.0)
    for c in (5, 21, 42, 63):
        a = max_load_erlangs(c, 0.02)
        assert erlang_b(c, a) == pytest.approx(0.02, rel=1e-6)
    assert max_load_erlangs(0, 0.02) == 0.0


def test_pooling_paired_ward_serves_more_per_bed() -> None:
    single = usable_beds(21, model="erlang", target_occupancy=0.9, refusal_probability=0.02)
    paired = usable_beds(42, model="erlang", target_occupancy=0.9, refusal_probability=0.02)
    assert paired > 2 * single
    assert usable_beds(21, model="occupancy", target_occupancy=0.9) == 21.0


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="refusal_probability"):
        max_load_erlangs(3, 1.5)
    with pytest.raises(ValueError, match="needs refusal_probability"):
        usable_beds(21, model="erlang", target_occupancy=0.9)
    with pytest.raises(ValueError, match="target_occupancy"):
        usable_beds(21, model="occupancy", target_occupancy=0.0)


def test_with_capacity_model_recomputes_every_option() -> None:
    inst = synthetic_instance(3, 10, seed=0)
    er = with_capacity_model(inst, model="erlang", target_occupancy=0.9, refusal_probability=0.02)
    for s_old, s_new in zip(inst.sites, er.sites, strict=True):
        for o_old, o_new in zip(s_old.options, s_new.options, strict=True):
            assert o_new.beds == o_old.beds
            for v, b in o_old.beds.items():
                expected = max_load_erlangs(b, 0.02) / 0.9 if b > 0 else 0.0
                assert o_new.usable_beds.get(v, 0.0) == pytest.approx(expected)

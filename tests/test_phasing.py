"""The phasing MILP on hand-made instances: known schedules, an independent brute force over
every schedule, infeasible envelopes explained with the right numbers, and the settings'
checks (issue 19)."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import pytest

from siteopt.errors import DataError
from siteopt.wards.phasing_instance import (
    PhaseInstance,
    PhaseReceipt,
    PhaseScheme,
    PhasingSettings,
    schedule_flows,
)
from siteopt.wards.phasing_model import build_phasing_model
from siteopt.wards.phasing_solve import solve_phasing, verify_schedule
from siteopt.wards.solve import SolverOptions

EXACT = SolverOptions(gap_rel=1e-9)
RATE = 0.035


def instance(**kw: Any) -> PhaseInstance:
    """Two sites, four years from 2026: A builds a 10m ward (one year) and grows 10 -> 20 beds;
    B closes (10 beds, receipt 8m). Need 15 beds; no envelope unless given."""
    base: dict[str, Any] = dict(
        years=(2026, 2027, 2028, 2029), services=("rehab",), site_ids=("a", "b"),
        site_names=("A", "B"), usable_before=np.array([[10.0], [10.0]]),
        usable_after=np.array([[20.0], [0.0]]), revenue_before=np.array([1e6, 1e6]),
        revenue_after=np.array([1.5e6, 0.0]), fixed_usable=np.array([0.0]),
        fixed_revenue_gbp=0.0, need_beds=np.full((4, 1), 15.0), bed_days_per_bed_year=336.0,
        schemes=(PhaseScheme("a_ward", 0, "build", 10e6, 1, 2026),),
        receipts=(PhaseReceipt("b_sale", 8e6, (1,), 0),), precedence=((0, 1),),
        envelope_gbp=np.full(4, np.inf), capital_basis="net",
        discount=(1 + RATE) ** -np.arange(12.0), capex_weight=1.24)
    base.update(kw)
    return PhaseInstance(**base)


# ---------------------------------------------------------------------------------------------
# The brute force: every switch year of every site and every start year of every build scheme,
# checked and costed from the rules as the issue states them (no model code).
# ---------------------------------------------------------------------------------------------
def brute_force_value(inst: PhaseInstance, switch: tuple[int, ...], start: dict[str, int],
                      objective: str) -> tuple[float, float, float] | None:
    """(shortfall bed-days, objective, npc) of a schedule, or None if it breaks a rule."""
    n = len(inst.years)
    n_flow = n + max([r.lag_years for r in inst.receipts], default=0) + max(
        [k.build_years for k in inst.schemes], default=1)
    capex = np.zeros(n_flow + 5)
    for k in inst.schemes:
        s = start[k.scheme_id] if k.kind == "build" else switch[k.site_idx]
        if inst.years[0] + s < k.earliest_start_year:
            return None
        if k.kind == "build" and s + k.build_years > switch[k.site_idx]:
            return None
        for y in range(s, s + k.build_years):
            capex[y] += k.capex_gbp / k.build_years
    for a, b in inst.precedence:
        if switch[b] < switch[a]:
            return None
    receipts = np.zeros(n_flow + 25)
    for r in inst.receipts:
        receipts[max(switch[j] for j in r.site_idx) + r.lag_years] += r.receipt_gbp
    for t in range(n):
        spend = capex[t] - (receipts[t] if inst.capital_basis == "net" else 0.0)
        if spend > inst.envelope_gbp[t] + 1e-3:
            return None
    short = 0.0
    access = 0.0
    for t in range(n):
        moved = [switch[i] <= t for i in range(len(switch))]
        for v in range(len(inst.services)):
            beds = inst.fixed_usable[v] + sum(
                inst.usable_after[i, v] if moved[i] else inst.usable_before[i, v]
                for i in range(len(switch)))
            short += max(0.0, inst.need_beds[t, v] - beds) * inst.bed_days_per_bed_year
        if inst.access_min is not None:
            access += inst.access_min[sum(1 << i for i in range(len(switch)) if moved[i])]
    npc = 0.0
    for t in range(n_flow):
        rev = sum(inst.revenue_after[i] if switch[i] <= t else inst.revenue_before[i]
                  for i in range(len(switch)))
        npc += inst.discount[t] * (inst.capex_weight * capex[t] - receipts[t])
        if t >= 1:
            npc += inst.discount[t] * rev
    done = max(switch) if switch else 0
    primary = {"npc": npc, "completion": float(done), "access": access}[objective]
    return short, primary, npc


Schedule = tuple[tuple[int, ...], dict[str, int]]


def brute_force(inst: PhaseInstance, objective: str = "npc"
                ) -> tuple[tuple[float, float, float], list[Schedule]]:
    """The least (shortfall, objective, npc) and every schedule that reaches it."""
    n = len(inst.years)
    builds = [k.scheme_id for k in inst.schemes if k.kind == "build"]
    best: tuple[float, float, float] | None = None
    argbest: list[Schedule] = []
    for switch in itertools.product(range(n), repeat=len(inst.site_ids)):
        for starts in itertools.product(range(n), repeat=len(builds)):
            start = dict(zip(builds, starts, strict=True))
            value = brute_force_value(inst, switch, start, objective)
            if value is None:
                continue
            key = tuple(round(x, 4) for x in value)
            if best is None or key < best:
                best, argbest = key, [(switch, start)]  # type: ignore[assignment]
            elif key == best:
                argbest.append((switch, start))
    assert best is not None, "no feasible schedule"
    return best, argbest


def test_known_schedule_unlimited_capital() -> None:
    # B's beds go to A: A builds in 2026, both move in 2027 (earliest, so revenue falls soonest)
    s = solve_phasing(instance(), options=EXACT)
    assert s.status == "optimal"
    assert s.switch == (1, 1) and s.build_start == {"a_ward": 0}
    assert verify_schedule(instance(), s) == []


def test_a_receipt_must_come_before_the_scheme_is_affordable() -> None:
    # 3m a year (net): A's 10m ward fits only in the year B's 8m receipt comes in (10 - 8 = 2);
    # B's beds do not go to A here (A's 10 beds meet a need of 8), and the receipt comes a year
    # after B closes: B closes in 2027, A is built in 2028, when the receipt comes, and opens
    # in 2029 (later is cheaper in present value, and earlier is unaffordable)
    inst = instance(precedence=(), envelope_gbp=np.full(4, 3e6), need_beds=np.full((4, 1), 8.0),
                    receipts=(PhaseReceipt("b_sale", 8e6, (1,), 1),))
    s = solve_phasing(inst, options=EXACT)
    assert s.status == "optimal"
    assert s.switch == (3, 1) and s.build_start == {"a_ward": 2}
    f = schedule_flows(inst, s.switch, s.build_start)
    assert f.capex_gbp[2] == pytest.approx(10e6) and f.receipts_gbp[2] == pytest.approx(8e6)
    _, schedules = brute_force(inst)
    assert schedules == [((3, 1), {"a_ward": 2})]
    # with B's beds going to A (B closes no earlier than A opens) no schedule fits 3m a year
    tied = dataclasses.replace(inst, precedence=((0, 1),))
    assert solve_phasing(tied, options=EXACT).status == "infeasible"


def test_shortfall_comes_first_then_cost() -> None:
    # need 25 beds in 2028-29: B (10) must keep running until A (20) opens, and A must open by
    # 2028 (20 + 10 = 30 before, 20 after: B may close only when the need allows)
    need = np.array([[15.0], [15.0], [25.0], [25.0]])
    inst = instance(need_beds=need, precedence=())
    s = solve_phasing(inst, options=EXACT)
    best, schedules = brute_force(inst)
    assert (s.switch, s.build_start) in schedules
    assert brute_force_value(inst, s.switch, s.build_start, "npc") == pytest.approx(best,
                                                                                   abs=1e-3)
    assert best[0] > 0  # 2029 (everything moved) has 20 beds for a need of 25


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("objective", ["npc", "completion", "access"])
def test_milp_equals_brute_force_on_random_instances(seed: int, objective: str) -> None:
    inst = random_instance(seed)
    s = solve_phasing(inst, objective, EXACT)  # type: ignore[arg-type]
    feasible = _any_feasible(inst)
    if not feasible:
        assert s.status == "infeasible"
        return
    assert s.status == "optimal", s.explanation
    best, schedules = brute_force(inst, objective)
    got = brute_force_value(inst, s.switch, s.build_start, objective)
    assert got is not None, "the MILP's schedule breaks a rule"
    assert got == pytest.approx(best, rel=1e-6, abs=1e-2)
    if len(schedules) == 1:
        assert (s.switch, s.build_start) == schedules[0]


def _any_feasible(inst: PhaseInstance) -> bool:
    n = len(inst.years)
    builds = [k.scheme_id for k in inst.schemes if k.kind == "build"]
    return any(brute_force_value(inst, sw, dict(zip(builds, st, strict=True)), "npc") is not None
               for sw in itertools.product(range(n), repeat=len(inst.site_ids))
               for st in itertools.product(range(n), repeat=len(builds)))


def random_instance(seed: int) -> PhaseInstance:
    """Three sites over four years: two build schemes (1-2 years), a closure scheme, receipts
    with lags and two sites, precedence, growing need, random envelopes."""
    rng = np.random.default_rng(seed)
    n_years = 4
    before = rng.integers(5, 20, size=(3, 2)).astype(float)
    after = (before + rng.integers(-8, 12, size=(3, 2))).astype(float)
    after[2] = 0.0  # site 2 closes
    after = np.maximum(after, 0.0)
    need = (before.sum(axis=0) * rng.uniform(0.8, 1.0)
            * (1 + 0.05 * np.arange(n_years))[:, None])
    schemes = (PhaseScheme("s0", 0, "build", float(rng.integers(2, 9)) * 1e6,
                           int(rng.integers(1, 3)), 2026),
               PhaseScheme("s1", 1, "build", float(rng.integers(2, 9)) * 1e6, 1,
                           int(rng.integers(2026, 2028))),
               PhaseScheme("c2", 2, "closure", float(rng.integers(0, 3)) * 1e6, 1, 2026))
    receipts = (PhaseReceipt("c2", float(rng.integers(1, 6)) * 1e6, (2,),
                             int(rng.integers(0, 2))),
                PhaseReceipt("s0", float(rng.integers(0, 4)) * 1e6, (0, 2),
                             int(rng.integers(0, 2))))
    envelope = rng.choice([3e6, 5e6, 8e6, np.inf], size=n_years)
    access = rng.uniform(10, 30, size=8) if seed % 3 else None
    if access is None:
        access = np.array([15.0, 16.0, 16.5, 17.0, 15.5, 18.0, 17.5, 19.0])
    return PhaseInstance(
        years=tuple(range(2026, 2026 + n_years)), services=("rehab", "stroke"),
        site_ids=("s0", "s1", "s2"), site_names=("S0", "S1", "S2"),
        usable_before=before, usable_after=after,
        revenue_before=rng.uniform(1e6, 3e6, size=3), revenue_after=rng.uniform(0.5e6, 3e6, 3)
        * np.array([1, 1, 0]), fixed_usable=np.array([10.0, 5.0]), fixed_revenue_gbp=5e6,
        need_beds=need, bed_days_per_bed_year=336.0, schemes=schemes, receipts=receipts,
        precedence=((0, 2),) if seed % 2 else (), envelope_gbp=envelope,
        capital_basis="net" if seed % 4 < 2 else "gross",
        discount=(1 + RATE) ** -np.arange(15.0), capex_weight=1.24, access_min=access)


def test_infeasible_envelope_is_explained_with_the_right_numbers() -> None:
    # A's ward may start only in 2027 and must open by 2029: 10m against a 4m envelope (gross)
    inst = instance(schemes=(PhaseScheme("a_ward", 0, "build", 10e6, 1, 2027),),
                    years=(2026, 2027, 2028), need_beds=np.full((3, 1), 15.0),
                    envelope_gbp=np.full(3, 4e6), capital_basis="gross")
    inst = dataclasses.replace(inst, schemes=(PhaseScheme("a_ward", 0, "build", 10e6, 1, 2027),))
    s = solve_phasing(inst, options=EXACT)
    assert s.status == "infeasible"
    assert s.explanation == (
        "no programme completes the moves by 2028 within the gross capital envelopes: the "
        "cheapest order that keeps beds at or above need every year needs £6.00m more in all: "
        "2027's envelope (£4.00m gross) is £6.00m short",)


def test_net_envelope_shortage_counts_the_receipt() -> None:
    # net: the 10m ward less B's 8m receipt (same year, lag 0, B closes with A's move a year
    # later): the cheapest order builds A in 2026 (10m) and books 8m in 2027 -> 2026 short 9m of
    # a 1m envelope, unless A is built... every year has 1m: the least addition is 9m
    inst = instance(envelope_gbp=np.full(4, 1e6))
    s = solve_phasing(inst, options=EXACT)
    assert s.status == "infeasible"
    text = s.explanation[0]
    assert "needs £9.00m more in all" in text and "(£1.00m net) is £9.00m short" in text


def test_a_scheme_that_cannot_open_in_the_horizon_is_refused_without_a_solve() -> None:
    inst = instance(schemes=(PhaseScheme("a_ward", 0, "build", 10e6, 3, 2028),))
    s = solve_phasing(inst, options=EXACT)
    assert s.status == "infeasible" and not s.stages
    assert s.explanation == ("a_ward cannot start before 2028 and takes 3 year(s), so its ward "
                             "opens in 2031 at the earliest, after the last year 2029; set "
                             "phasing.last_year to at least 2031",)


def test_cbc_agrees_with_highs() -> None:
    inst = random_instance(5)
    h = solve_phasing(inst, "npc", EXACT)
    c = solve_phasing(inst, "npc", SolverOptions(solver="cbc", gap_rel=1e-9))
    assert c.status == h.status
    if h.solved:
        assert brute_force_value(inst, c.switch, c.build_start, "npc") == pytest.approx(
            brute_force_value(inst, h.switch, h.build_start, "npc"), abs=1e-2)


def test_time_limited_solve_never_says_optimal_without_proof() -> None:
    inst = random_instance(3)
    s = solve_phasing(inst, "npc", SolverOptions(time_limit_s=0.01))
    assert s.status in ("optimal", "feasible", "no solution", "infeasible")
    if s.status == "feasible":
        assert s.status_text.startswith("feasible (gap")


@pytest.mark.parametrize("seed", [1, 8, 11])
def test_model_money_matches_the_flows(seed: int) -> None:
    # the model's capex and receipt expressions, evaluated at the solved schedule, equal the
    # flows schedule_flows computes (closure schemes of two years included)
    inst = random_instance(seed)
    closure = dataclasses.replace(inst.schemes[2], capex_gbp=2e6, build_years=2)
    inst = dataclasses.replace(inst, schemes=(*inst.schemes[:2], closure))
    s = solve_phasing(inst, options=EXACT)
    assert s.solved
    m = build_phasing_model(inst)
    for (i, t), var in m.z.items():
        var.varValue = float(t >= s.switch[i])
    for (sid, t), var in m.s.items():
        var.varValue = float(t >= s.build_start[sid])
    for var in m.prob.variables():
        if var.name.startswith("w_"):  # a receipt of several sites: realised by year t
            _, r_idx, t = var.name.split("_")
            r = inst.receipts[int(r_idx)]
            var.varValue = float(all(int(t) - r.lag_years >= s.switch[j] for j in r.site_idx))
    f = schedule_flows(inst, s.switch, s.build_start)
    for k in range(inst.n_flow_years):
        assert (pulp_value(m.capex[k])) * 1e6 == pytest.approx(f.capex_gbp[k])
        assert (pulp_value(m.receipts[k])) * 1e6 == pytest.approx(f.receipts_gbp[k])
    assert f.capex_gbp.sum() == pytest.approx(sum(k.capex_gbp for k in inst.schemes))


def pulp_value(expr: Any) -> float:
    value = expr.value() if hasattr(expr, "value") else expr
    return float(value or 0.0)


def test_settings_problems_one_line_each() -> None:
    s = PhasingSettings(first_year=2026, last_year=2025,
                        capital_limit_gbp_by_year={"2040": 1e6, "next": 2e6, "2027": -1.0})
    lines = [str(p) for p in s.problems(2026, {"phasing.last_year": "my.toml",
                                              "phasing.capital_limit_gbp_by_year": "--set"})]
    assert lines[0] == ("my.toml, field 'phasing.last_year': last year 2025 must be from the "
                        "first year 2026 to 2086")
    assert any("'next' is not a year" in x for x in lines)
    assert any("must be a number of pounds of 0 or more" in x and "2027" in x for x in lines)
    assert all(x.startswith(("my.toml", "--set")) for x in lines)


def test_instance_check_refuses_bad_shapes() -> None:
    with pytest.raises(DataError, match="need_beds has shape"):
        solve_phasing(instance(need_beds=np.zeros((2, 1))))


@pytest.mark.parametrize("seed", [0, 2, 4, 7])
def test_shortfall_only_reported_when_it_does_not_come_first(seed: int) -> None:
    inst = random_instance(seed)
    first = solve_phasing(inst, "npc", EXACT)
    later = solve_phasing(inst, "npc", EXACT, shortfall_first=False)
    assert first.solved and later.solved
    n = len(inst.years)
    builds = [k.scheme_id for k in inst.schemes if k.kind == "build"]
    values = [v for sw in itertools.product(range(n), repeat=len(inst.site_ids))
              for st in itertools.product(range(n), repeat=len(builds))
              if (v := brute_force_value(inst, sw, dict(zip(builds, st, strict=True)), "npc"))]
    least_npc = min(v[2] for v in values)
    got = brute_force_value(inst, later.switch, later.build_start, "npc")
    assert got is not None and got[2] == pytest.approx(least_npc, abs=1e-2)
    kept = brute_force_value(inst, first.switch, first.build_start, "npc")
    assert kept is not None and kept[0] <= got[0] + 1e-6

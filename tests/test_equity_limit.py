"""The equity limits of the ward model (issue 16): no group's mean drive may rise by more than X
minutes against business as usual, or the most deprived fifth's mean drive no more than Y minutes
above everyone's.

The hand-made world (answers worked out by hand): a town site B and a small site A beside the
village zone z3, one service (``rehab``)::

    travel_min   A   B        group "town": z1, z2, z4 (100 people each)
        z1      30   0        group "rural": z3 (100 people), also the most deprived fifth
        z2      25   5        ("imd_q1")
        z3       0  30
        z4      35   5

Every zone needs 4 beds (16 in all) and weighs 100. A runs 0 or 1 ward of 10 beds, B 0, 1 or 2;
a ward costs £1.0m a year and an open site £0.5m more. Today A and B have one ward each.

* Business as usual (A and B one ward each, least travel): z3 goes to A, B holds 10 of the town's
  12 beds and the other 2 (half of z2's) go to A, the cheapest move (20 minutes more rather than
  30). Town mean (0 + 15 + 5) / 3 = 6.667 minutes; rural 0; everyone's (0 + 15 + 0 + 5) / 4 = 5.
* Least cost without a limit: close A, two wards at B (£2.5m a year, not £3.0m for one ward at
  each). The rural mean drive rises to 30 minutes (+30); everyone's is (0 + 5 + 30 + 5) / 4 = 10
  and the deprived fifth's 30, 20 above it.
* With a 10-minute limit on any group's rise (or a 5-minute limit on the deprived gap), A must
  keep its ward: the cheapest is one ward at each (£3.0m), business as usual itself.
* A forced closed under the 10-minute limit: the rural rise of 30 minutes is 20.0 minutes short.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from siteopt.appraisal.enumeration import enumerate_space
from siteopt.data.equality import GROUP_LABELS, group_weights
from siteopt.errors import DataError, InfeasibleError
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import Prepared, evaluate_configuration, prepare, with_equity_limits
from siteopt.runs.scenario import load_scenario
from siteopt.wards.enumerate import enumerate_optimum, equity_assignment_lp
from siteopt.wards.instance import (
    ALL_PEOPLE,
    Instance,
    ModelSettings,
    Site,
    SiteOption,
    Zones,
    equity_groups,
    equity_limit_notes,
    group_mean_travel,
    service_shares,
)
from siteopt.wards.model import build_model
from siteopt.wards.solve import SolverOptions, evaluate, explain_infeasibility, optimise
from siteopt.wards.synthetic import synthetic_instance

TRAVEL = np.array([[30, 0], [25, 5], [0, 30], [35, 5]], dtype=np.float64)
TOWN = np.array([100.0, 100.0, 0.0, 100.0])
RURAL = np.array([0.0, 0.0, 100.0, 0.0])
LABELS = {"town": "people in the town", "rural": "people in the village",
          "imd_q1": "the most deprived fifth"}
TODAY = {"A": "w1", "B": "w1"}


def _options(max_wards: int) -> tuple[SiteOption, ...]:
    return tuple(
        SiteOption(option_id=f"w{n}", wards={"rehab": n}, beds={"rehab": 10 * n},
                   usable_beds={"rehab": 10.0 * n} if n else {},
                   revenue_gbp_per_year=n * 1_000_000.0 + (500_000.0 if n else 0.0))
        for n in range(max_wards + 1)
    )


def village_world(groups: bool = True) -> Instance:
    """The world of the module docstring (``groups=False``: without group weights)."""
    zones = Zones(
        zone_ids=("z1", "z2", "z3", "z4"),
        demand_beds=np.full((4, 1), 4.0),
        weight=np.full(4, 100.0),
        lad_name=("T", "T", "V", "T"),
        imd_quintile=np.array([3, 3, 1, 3], dtype=np.int64),
        group_weight={"town": TOWN, "rural": RURAL, "imd_q1": RURAL} if groups else {},
        group_label=LABELS if groups else {},
    )
    sites = tuple(Site(site_id=s, name=f"Site {s}", options=_options(n), current_option_id="w1")
                  for s, n in (("A", 1), ("B", 2)))
    return Instance(services=("rehab",), sites=sites, zones=zones, travel_min=TRAVEL,
                    name="village")


def baseline(instance: Instance, choice: dict[str, str] | None = None) -> dict[str, float]:
    """Each group's mean drive in business as usual (today's wards, least travel), as
    :func:`siteopt.runs.pipeline.prepare` computes it."""
    sol = evaluate(instance, choice or TODAY)
    a = sol.assignment
    return group_mean_travel(instance, a.zone_idx, a.site_idx, a.service_idx, a.share)


def test_business_as_usual_group_means_by_hand() -> None:
    means = baseline(village_world())
    assert means["town"] == pytest.approx(20 / 3)
    assert means["rural"] == pytest.approx(0.0)
    assert means["imd_q1"] == pytest.approx(0.0)
    assert means[ALL_PEOPLE] == pytest.approx(5.0)


def rise_limit(instance: Instance, rise_min: float, **kw: object) -> ModelSettings:
    base = {g: t for g, t in baseline(instance).items() if g != ALL_PEOPLE}
    return ModelSettings(objective="cost", max_group_mean_travel_increase_min=rise_min,
                         group_baseline_mean_travel_min=base, **kw)  # type: ignore[arg-type]


def test_without_the_limit_least_cost_closes_the_village_site() -> None:
    inst = village_world()
    sol = optimise(inst, ModelSettings(objective="cost"))
    assert sol.choice == {"A": "w0", "B": "w2"}
    assert sol.objective == pytest.approx(2_500_000.0)
    a = sol.assignment
    means = group_mean_travel(inst, a.zone_idx, a.site_idx, a.service_idx, a.share)
    assert means["rural"] == pytest.approx(30.0)
    assert means[ALL_PEOPLE] == pytest.approx(10.0)


@pytest.mark.parametrize("solver_check", ["milp", "enumeration", "space"])
def test_the_rise_limit_keeps_the_village_site(solver_check: str) -> None:
    inst = village_world()
    settings = rise_limit(inst, 10.0)
    if solver_check == "milp":
        sol = optimise(inst, settings)
        assert sol.status == "optimal"
        assert (sol.choice, sol.objective) == (TODAY, pytest.approx(3_000_000.0))
    elif solver_check == "enumeration":
        res = enumerate_optimum(inst, settings)
        assert (res.choice, res.objective) == (TODAY, pytest.approx(3_000_000.0))
    else:
        space = enumerate_space(inst, settings)
        assert {"A": "w0", "B": "w2"} not in space.choices
        assert TODAY in space.choices
        cheapest = space.choices[int(np.argmin(space.cost_gbp_per_year))]
        assert cheapest == TODAY


def test_a_loose_rise_limit_changes_nothing() -> None:
    inst = village_world()
    sol = optimise(inst, rise_limit(inst, 30.0))
    assert sol.choice == {"A": "w0", "B": "w2"}


def test_the_deprived_gap_limit_keeps_the_village_site() -> None:
    inst = village_world()
    # Closing A: the deprived fifth drives 30 minutes, everyone 10: a gap of 20.
    settings = ModelSettings(objective="cost", max_deprived_gap_min=5.0)
    assert optimise(inst, settings).choice == TODAY
    assert enumerate_optimum(inst, settings).choice == TODAY
    assert optimise(inst, dataclasses.replace(settings, max_deprived_gap_min=20.0)).choice == {
        "A": "w0", "B": "w2"}


def test_an_infeasible_rise_limit_names_the_group_and_the_shortfall() -> None:
    inst = village_world()
    settings = rise_limit(inst, 10.0, force_closed=frozenset({"A"}))
    with pytest.raises(InfeasibleError) as err:
        optimise(inst, settings)
    msg = str(err.value)
    assert ("the 10-minute limit on any group's rise in mean drive is 20.0 minutes short for "
            "people in the village") in msg
    assert "town" not in msg
    assert enumerate_optimum(inst, settings).choice is None


def test_an_infeasible_gap_limit_says_by_how_much() -> None:
    inst = village_world()
    settings = ModelSettings(max_deprived_gap_min=5.0, force_closed=frozenset({"A"}))
    msg = explain_infeasibility(inst, settings)
    assert ("the 5-minute limit on the most deprived fifth's mean drive above everyone's is "
            "15.0 minutes short") in msg


def test_a_group_without_a_label_is_named_by_its_id() -> None:
    inst = village_world()
    zones = dataclasses.replace(inst.zones, group_label={})
    bare = dataclasses.replace(inst, zones=zones)
    settings = rise_limit(bare, 10.0, force_closed=frozenset({"A"}))
    assert "20.0 minutes short for rural" in explain_infeasibility(bare, settings)


def test_the_rows_are_in_the_model_and_the_elastic_model() -> None:
    inst = village_world()
    model = build_model(inst, rise_limit(inst, 10.0))
    names = {c.name for c in model.prob.constraints()}
    # imd_q1 is a group with people too: three rows, in the order of the group weights.
    assert {"c16_group_rise_0", "c16_group_rise_1", "c16_group_rise_2"} <= names
    elastic = build_model(inst, rise_limit(inst, 10.0), elastic=True)
    assert {"group_rise|town", "group_rise|rural", "group_rise|imd_q1"} <= set(elastic.elastic)
    gap = build_model(inst, ModelSettings(max_deprived_gap_min=5.0))
    assert "c16_deprived_gap" in {c.name for c in gap.prob.constraints()}


def test_settings_without_groups_or_baselines_are_refused() -> None:
    with pytest.raises(DataError, match="needs group weights"):
        optimise(village_world(groups=False), ModelSettings(max_group_mean_travel_increase_min=2))
    with pytest.raises(DataError, match="business-as-usual mean drive of groups"):
        optimise(village_world(), ModelSettings(max_group_mean_travel_increase_min=2.0))
    with pytest.raises(DataError, match="needs the group 'imd_q1'"):
        optimise(village_world(groups=False), ModelSettings(max_deprived_gap_min=2.0))
    typo = dataclasses.replace(rise_limit(village_world(), 2.0), group_baseline_mean_travel_min={
        "town": 6.0, "rural": 0.0, "imd_q1": 0.0, "rurall": 1.0})
    with pytest.raises(DataError, match=r"unknown groups \['rurall'\]; known: town, rural"):
        optimise(village_world(), typo)


def test_group_weights_are_checked() -> None:
    inst = village_world()
    with pytest.raises(DataError, match="group 'town': group_weight has shape"):
        dataclasses.replace(inst, zones=dataclasses.replace(
            inst.zones, group_weight={"town": np.ones(3)}))
    weight = np.array([100.0, 100.0, 0.0, 100.0])
    with pytest.raises(DataError, match="zone of zero weight"):
        dataclasses.replace(inst, zones=dataclasses.replace(inst.zones, weight=weight))


def test_the_joint_lp_moves_drive_between_groups() -> None:
    # Today's wards (10 beds at A and at B) with the deprived fifth's mean drive at least 6
    # minutes *below* everyone's: the village drives 0 and everyone 5 at least travel, so the
    # LP must raise everyone's mean to 6 (more of the town to A), not move the village (which
    # costs it 30 minutes for 7.5 of everyone's): least mean drive 6 exactly.
    inst = village_world()
    usable = [np.array([10.0, 10.0])]
    t, ok, means = equity_assignment_lp(inst, ModelSettings(max_deprived_gap_min=-6.0), usable)
    assert ok
    assert t == pytest.approx(6.0)
    assert means["imd_q1"] - means[ALL_PEOPLE] == pytest.approx(-6.0)


def _synthetic_baseline(inst: Instance) -> dict[str, float]:
    """The groups' mean drives at the least-travel optimum (the synthetic world's wards of today
    cannot hold its need, so it stands in for business as usual)."""
    a = optimise(inst, ModelSettings(max_travel_min=90)).assignment
    means = group_mean_travel(inst, a.zone_idx, a.site_idx, a.service_idx, a.share)
    return {g: t for g, t in means.items() if g != ALL_PEOPLE}


def _synthetic_with_groups(seed: int, n_sites: int = 5, n_zones: int = 40) -> Instance:
    inst = synthetic_instance(n_sites, n_zones, seed=seed, services=("rehab", "stroke"))
    rng = np.random.default_rng(seed)
    w = inst.zones.weight
    groups = {
        "imd_q1": np.where(inst.zones.imd_quintile == 1, w, 0.0),
        "no_car": w * rng.uniform(0.0, 0.5, len(w)),
        "rural": np.where(rng.uniform(size=len(w)) < 0.3, w, 0.0),
    }
    zones = dataclasses.replace(inst.zones, group_weight=groups)
    return dataclasses.replace(inst, zones=zones)


def _free_gap(inst: Instance, settings: ModelSettings) -> float:
    """The deprived fifth's mean drive above everyone's at the optimum without equity limits."""
    a = optimise(inst, settings).assignment
    means = group_mean_travel(inst, a.zone_idx, a.site_idx, a.service_idx, a.share)
    return means["imd_q1"] - means[ALL_PEOPLE]


SYNTHETIC = {
    "cost_rise_0.5": dict(objective="cost", max_group_mean_travel_increase_min=0.5),
    "cost_rise_1": dict(objective="cost", max_group_mean_travel_increase_min=1.0),
    "weighted_rise_0.5": dict(objective="weighted", cost_weight_per_gbp_m=3.0,
                              max_group_mean_travel_increase_min=0.5),
    "cost_gap": dict(objective="cost"),
}
"""Equity scenarios on the synthetic worlds; ``cost_gap`` limits the deprived fifth's gap to
half a minute less than at the optimum without it."""


def synthetic_settings(inst: Instance, name: str) -> tuple[ModelSettings, ModelSettings]:
    """(the scenario ``name`` with its equity limit, the same without)."""
    free = ModelSettings(group_baseline_mean_travel_min=_synthetic_baseline(inst),
                         max_travel_min=90, **SYNTHETIC[name])  # type: ignore[arg-type]
    if name == "cost_gap":
        return dataclasses.replace(free, max_deprived_gap_min=_free_gap(inst, free) - 0.5), free
    return free, dataclasses.replace(free, max_group_mean_travel_increase_min=None)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_milp_equals_enumeration_under_the_equity_limit(seed: int, name: str) -> None:
    inst = _synthetic_with_groups(seed)
    settings, free = synthetic_settings(inst, name)
    oracle = enumerate_optimum(inst, settings)
    if oracle.choice is None:
        with pytest.raises(InfeasibleError):
            optimise(inst, settings)
        return
    sol = optimise(inst, settings)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(oracle.objective, rel=1e-6, abs=1e-6)
    assert oracle.objective >= enumerate_optimum(inst, free).objective - 1e-6
    a = sol.assignment
    means = group_mean_travel(inst, a.zone_idx, a.site_idx, a.service_idx, a.share)
    if settings.max_group_mean_travel_increase_min is not None:
        for g, t in settings.group_baseline_mean_travel_min.items():
            assert means[g] <= t + settings.max_group_mean_travel_increase_min + 1e-6
    else:
        assert settings.max_deprived_gap_min is not None
        assert means["imd_q1"] - means[ALL_PEOPLE] <= settings.max_deprived_gap_min + 1e-6


def test_the_synthetic_limits_bind() -> None:
    """Several synthetic scenarios above have a dearer optimum with the limit than without, so
    the equality test compares answers the limit shaped (the gap limit of ``cost_gap`` is met by
    moving patients within the same configuration, at no cost)."""
    changed = []
    for seed in (1, 2):
        inst = _synthetic_with_groups(seed)
        for name in SYNTHETIC:
            settings, free = synthetic_settings(inst, name)
            if enumerate_optimum(inst, settings).objective > enumerate_optimum(
                    inst, free).objective + 1e-6:
                changed.append((seed, name))
    assert len(changed) >= 3, changed


@pytest.mark.parametrize("name", ["cost_rise_1", "cost_gap"])
def test_every_configuration_under_the_limit_agrees_with_the_milp(name: str) -> None:
    inst = _synthetic_with_groups(3, n_sites=4, n_zones=24)
    settings, free = synthetic_settings(inst, name)
    space = enumerate_space(inst, settings)
    everything = enumerate_space(inst, free)
    assert space.n_meeting_limits < everything.n_meeting_limits
    assert {tuple(sorted(c.items())) for c in space.choices} <= {
        tuple(sorted(c.items())) for c in everything.choices}
    best = int(np.argmin(space.cost_gbp_per_year))
    sol = optimise(inst, settings)
    assert space.cost_gbp_per_year[best] == pytest.approx(sol.objective, rel=1e-9)
    # Every listed configuration meets the limit by its own recorded group means.
    gap = space.group_mean_travel_min["imd_q1"] - space.group_mean_travel_min[ALL_PEOPLE]
    if settings.max_deprived_gap_min is not None:
        assert np.all(gap <= settings.max_deprived_gap_min + 1e-6)
    else:
        for g, t in settings.group_baseline_mean_travel_min.items():
            assert np.all(space.group_mean_travel_min[g] <= t + 1.0 + 1e-6)
    # ... and the MILP with each configuration fixed finds the same least mean drive.
    for i in range(0, len(space.choices), max(1, len(space.choices) // 5)):
        fixed = dataclasses.replace(settings, objective="access",
                                    fixed_options=space.choices[i])
        assert optimise(inst, fixed).objective == pytest.approx(
            float(space.mean_travel_min[i]), rel=1e-6, abs=1e-6)


def test_a_binding_limit_is_said_with_its_figures() -> None:
    inst = village_world()
    # Rise limit 0: business as usual is the only configuration that keeps every group's mean;
    # the town group's mean is exactly its baseline, and the village's too.
    settings = rise_limit(inst, 0.0)
    a = optimise(inst, settings).assignment
    notes = equity_limit_notes(inst, settings, a.zone_idx, a.site_idx, a.service_idx, a.share)
    assert ("the 0-minute limit on any group's rise in mean drive binds for people in the town: "
            "their mean drive rises 0.0 minutes, from 6.7 to 6.7") in notes
    free = optimise(inst, ModelSettings(objective="cost")).assignment
    assert equity_limit_notes(inst, rise_limit(inst, 10.0), free.zone_idx, free.site_idx,
                              free.service_idx, free.share) == [
        "the 10-minute limit on any group's rise in mean drive is broken for people in the "
        "village: their mean drive rises 30.0 minutes, from 0.0 to 30.0, 20.0 over",
        "the 10-minute limit on any group's rise in mean drive is broken for the most deprived "
        "fifth: their mean drive rises 30.0 minutes, from 0.0 to 30.0, 20.0 over"]
    loose = rise_limit(inst, 10.0)
    assert equity_limit_notes(inst, loose, a.zone_idx, a.site_idx, a.service_idx,
                              a.share) == []
    gap = ModelSettings(objective="cost", max_deprived_gap_min=-5.0)
    b = optimise(inst, gap).assignment
    assert equity_limit_notes(inst, gap, b.zone_idx, b.site_idx, b.service_idx, b.share) == [
        "the -5-minute limit on the most deprived fifth's mean drive above everyone's binds: "
        "0.0 minutes against everyone's 5.0"]


# -- LLR ------------------------------------------------------------------------------------------
RISE_SCENARIO = "model.max_group_mean_travel_increase_min=1.5"
"""The LLR scenario of the closing note: the base case with no group's mean drive rising more
than 1.5 minutes against business as usual (``--set`` it on any command)."""


def test_prepare_gives_the_model_the_groups_and_business_as_usual() -> None:
    plain = prepare(DEFAULT_GEODATA_DIR)
    assert plain.instance.zones.group_weight == {}
    assert with_equity_limits(plain) is plain
    prepared = with_equity_limits(_with_model(plain, max_group_mean_travel_increase_min=1.5))
    inst, settings = prepared.instance, prepared.scenario.model
    weights = group_weights(prepared.data)
    assert set(equity_groups(inst)) == set(weights) == set(GROUP_LABELS)
    assert inst.zones.group_label["no_car"] == GROUP_LABELS["no_car"]
    bau = evaluate_configuration(plain, "status_quo").assignment
    z = plain.instance.zones
    beta = service_shares(plain.instance)
    t = plain.instance.travel_min[bau.zone_idx, bau.site_idx] * bau.share * beta[bau.service_idx]
    for group in ("no_car", "rural", "imd_q1"):
        # sum_z w_gz sum_{s,v} beta_v x t / sum_z w_gz, straight from the assignment table
        w = weights[group][bau.zone_idx]
        assert settings.group_baseline_mean_travel_min[group] == pytest.approx(
            float(np.sum(w * t) / weights[group].sum()), rel=1e-9)
    assert settings.group_baseline_mean_travel_min["age_65_plus"] == pytest.approx(
        float(np.sum(z.weight[bau.zone_idx] * t) / z.weight.sum()), rel=1e-9)
    given = with_equity_limits(_with_model(plain, max_group_mean_travel_increase_min=1.5,
                                           group_baseline_mean_travel_min={"rural": 30.0}))
    assert given.scenario.model.group_baseline_mean_travel_min["rural"] == 30.0
    assert given.scenario.model.group_baseline_mean_travel_min["no_car"] == pytest.approx(
        settings.group_baseline_mean_travel_min["no_car"])
    gap_only = with_equity_limits(_with_model(plain, max_deprived_gap_min=0.0))
    assert gap_only.scenario.model.group_baseline_mean_travel_min == {}
    assert gap_only.instance.zones.group_weight["imd_q1"] is not None
    no_bau = dataclasses.replace(plain.catalogue, configurations={})
    with pytest.raises(DataError, match="no configuration 'status_quo'"):
        with_equity_limits(dataclasses.replace(
            _with_model(plain, max_group_mean_travel_increase_min=1.5), catalogue=no_bau))


def _with_model(prepared: Prepared, **fields: object) -> Prepared:
    model = dataclasses.replace(prepared.scenario.model, **fields)  # type: ignore[arg-type]
    return dataclasses.replace(prepared, scenario=dataclasses.replace(prepared.scenario,
                                                                      model=model))


def test_the_scenario_sets_the_limit() -> None:
    scenario = load_scenario(None, [RISE_SCENARIO, "model.max_deprived_gap_min=-1"])
    assert scenario.model.max_group_mean_travel_increase_min == 1.5
    assert scenario.model.max_deprived_gap_min == -1.0
    with pytest.raises(DataError, match="max_group_mean_travel_increase_min"):
        load_scenario(None, ["model.max_group_mean_travel_increase_min=yes"])
    given = load_scenario(None, ["model.group_baseline_mean_travel_min={rural = 19.5}"])
    assert given.model.group_baseline_mean_travel_min == {"rural": 19.5}


def test_cbc_agrees_and_explains() -> None:
    inst = village_world()
    cbc = SolverOptions(solver="cbc")
    sol = optimise(inst, rise_limit(inst, 10.0), cbc)
    assert (sol.status, sol.choice) == ("optimal", TODAY)
    msg = explain_infeasibility(inst, rise_limit(inst, 10.0, force_closed=frozenset({"A"})), cbc)
    assert "20.0 minutes short for people in the village" in msg


@pytest.mark.slow  # two LLR MILPs with the equity rows and both enumerations, about a minute
def test_llr_the_rise_limit_changes_the_optimum_and_equals_the_enumeration() -> None:
    prepared = prepare(DEFAULT_GEODATA_DIR, overrides=[RISE_SCENARIO])
    inst, settings = prepared.instance, prepared.scenario.model
    free = dataclasses.replace(settings, max_group_mean_travel_increase_min=None)
    before = optimise(inst, free)
    after = optimise(inst, settings)
    assert after.status == "optimal"
    assert after.choice != before.choice
    assert after.objective > before.objective + 1.0
    # Base case (least cost, 65+ mean drive within 20 minutes): Oakham keeps a ward and
    # Hinckley & Bosworth one ward rather than two.
    assert before.choice["oakham"] == "closed" and after.choice["oakham"] != "closed"
    oracle = enumerate_optimum(inst, dataclasses.replace(settings, k_nearest=None))
    assert oracle.objective == pytest.approx(after.objective, rel=1e-6)
    assert oracle.choice == after.choice
    space = enumerate_space(inst, settings)
    assert float(space.cost_gbp_per_year.min()) == pytest.approx(after.objective, rel=1e-9)
    assert space.choices[int(np.argmin(space.cost_gbp_per_year))] == after.choice
    a = after.assignment
    means = group_mean_travel(inst, a.zone_idx, a.site_idx, a.service_idx, a.share)
    for group, t in settings.group_baseline_mean_travel_min.items():
        assert means[group] <= t + 1.5 + 1e-6
    b = before.assignment
    means_before = group_mean_travel(inst, b.zone_idx, b.site_idx, b.service_idx, b.share)
    assert max(means_before[g] - t for g, t in settings.group_baseline_mean_travel_min.items()
               ) > 1.5 + 0.1

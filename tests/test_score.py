"""The sweep's fast scores (siteopt.wards.score) equal the exact path (wards.solve.evaluate).

Hand-made worlds with binding capacities (answers worked out by hand), and the real LLR data:
every named option and a few more configurations under several scenarios. Wherever the fast
path decides, its score must be the exact path's to the last bit; where it is not certain it
must say so (None), never guess.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np
import pytest

from siteopt.errors import SiteoptError
from siteopt.paths import DEFAULT_GEODATA_DIR, REPO_DIR
from siteopt.runs.pipeline import Prepared, evaluate_configuration, prepare
from siteopt.runs.sweep import named_score, settings_objective
from siteopt.wards.instance import Instance, ModelSettings, Site, SiteOption, Zones
from siteopt.wards.results import access_measures
from siteopt.wards.score import fast_score, verdict
from siteopt.wards.solve import SolverOptions, evaluate
from tests.optimiser_worlds import line_world

SCENARIOS = REPO_DIR / "scenarios"
OPTIONS = SolverOptions()


def exact_score(instance: Instance, choice: Mapping[str, str], settings: ModelSettings,
                options: SolverOptions = OPTIONS) -> float:
    """The sweep's score by the exact path (as siteopt.runs.sweep scored every candidate)."""
    try:
        sol = evaluate(instance, choice, settings, options, label="exact")
    except (SiteoptError, KeyError):
        return math.inf
    return math.inf if sol.violations else settings_objective(settings, instance, sol)


def agrees(instance: Instance, choice: Mapping[str, str], settings: ModelSettings,
           options: SolverOptions = OPTIONS) -> float | None:
    """The fast score, after checking it equals the exact one wherever it is given."""
    fast = fast_score(instance, choice, settings, options)
    exact = exact_score(instance, choice, settings, options)
    if fast is not None:
        assert fast == exact, (choice, verdict(instance, choice, settings, options))
    else:  # the exact path must still decide: fast_score never says a wrong "pass"
        assert verdict(instance, choice, settings, options).passes in (None, math.isfinite(exact))
    return fast


def no_tie_world(demand_per_zone: float = 3.9) -> Instance:
    """:func:`line_world` with its ties broken: z2 is 6 min from B, z3 11 min from C and z4 6
    min from B, so every zone has one nearest site.

    With A and C at one ward (10 beds each) and B closed, the need of 19.5 beds fits only just:
    A takes z1 and z2 (7.8 beds) and 2.2 of z3's 3.9 beds (10 min), C takes z4, z5 and z3's
    other 1.7 beds (11 min). Both capacities bind; the optimum is unique.
    """
    world = line_world(demand_per_zone)
    travel = world.travel_min.copy()
    travel[1, 1], travel[2, 2], travel[3, 1] = 6.0, 11.0, 6.0
    return dataclasses.replace(world, travel_min=travel)


A_AND_C = {"A": "w1", "B": "w0", "C": "w1"}
"""A and C keep one ward each; B closes."""
Z3_SHARE_AT_A = 2.2 / 3.9
MEAN_A_AND_C = (0 + 5 + 10 * Z3_SHARE_AT_A + 11 * (1 - Z3_SHARE_AT_A) + 5 + 0) / 5
"""Mean drive of the optimum of :data:`A_AND_C` (equal weights): (20 + 1.7 / 3.9) / 5, about
4.087 min."""


def test_binding_capacities_are_scored_as_the_exact_path() -> None:
    world = no_tie_world()
    sol = evaluate(world, A_AND_C, ModelSettings(), OPTIONS)
    assert access_measures(world, sol.assignment)["mean_travel_min"] == pytest.approx(
        MEAN_A_AND_C)
    cost = ModelSettings(objective="cost")
    # the annual cost of two single-ward sites, the score of the cost objective
    assert agrees(world, A_AND_C, cost) == 2 * (1_000_000.0 + 500_000.0)
    assert verdict(world, A_AND_C, cost, OPTIONS).passes is True


@pytest.mark.parametrize(("bound", "passes"), [(MEAN_A_AND_C + 0.01, True),
                                                (MEAN_A_AND_C - 0.01, False)])
def test_mean_drive_limit_on_a_binding_world(bound: float, passes: bool) -> None:
    settings = ModelSettings(objective="cost", max_mean_travel_min=bound)
    assert verdict(no_tie_world(), A_AND_C, settings, OPTIONS).passes is passes
    score = agrees(no_tie_world(), A_AND_C, settings)
    assert (score is not None and math.isfinite(score)) is passes


def test_mean_drive_at_the_limit_is_left_to_the_exact_path() -> None:
    """A mean drive within the checks' tolerance margin of its bound is not certain."""
    settings = ModelSettings(objective="cost", max_mean_travel_min=MEAN_A_AND_C - 1e-5)
    assert verdict(no_tie_world(), A_AND_C, settings, OPTIONS).passes is None
    assert agrees(no_tie_world(), A_AND_C, settings) is None


@pytest.mark.parametrize(("limit", "passes"), [(11.0, True), (10.5, False)])
def test_longest_drive_limit_sees_the_split_zone(limit: float, passes: bool) -> None:
    """z3's 1.7 beds at C are 11 minutes away: a 10.5-minute limit is broken."""
    settings = ModelSettings(objective="cost", max_travel_min=limit)
    assert verdict(no_tie_world(), A_AND_C, settings, OPTIONS).passes is passes
    agrees(no_tie_world(), A_AND_C, settings)


def test_too_few_beds_fail_without_a_solve() -> None:
    world = no_tie_world()
    only_a = {"A": "w2", "B": "w0", "C": "w0"}  # 20 beds for 19.5: fits
    only_a_small = {"A": "w1", "B": "w0", "C": "w0"}  # 10 beds for 19.5
    assert verdict(world, only_a_small, ModelSettings(), OPTIONS).passes is False
    assert agrees(world, only_a_small, ModelSettings(objective="cost")) == math.inf
    assert agrees(world, only_a, ModelSettings(objective="cost")) is not None
    missing = {"A": "w2", "B": "w0"}
    assert agrees(world, missing, ModelSettings(objective="cost")) == math.inf


def test_ties_are_never_guessed() -> None:
    """line_world's z2 and z4 are as near two sites: with spare beds their zones may go
    either way, so a limit that only one way breaks is left to the exact path."""
    world = line_world()
    every = {"A": "w2", "B": "w2", "C": "w2"}
    result = verdict(world, every, ModelSettings(objective="cost"), OPTIONS)
    assert result.passes is None and "unique" in result.reason
    agrees(world, every, ModelSettings(objective="cost"))


def test_nearest_sites_holding_the_need_need_no_lp() -> None:
    world = no_tie_world(demand_per_zone=1.0)  # 5 beds of need, 10 at each open site
    result = verdict(world, A_AND_C, ModelSettings(objective="cost"), OPTIONS)
    assert result.passes is True
    agrees(world, A_AND_C, ModelSettings(objective="cost"))


def test_access_objective_passes_are_left_to_the_exact_path() -> None:
    """Under ``access`` the score is the exact path's own mean drive, to the last bit."""
    world = no_tie_world()
    assert agrees(world, A_AND_C, ModelSettings(objective="access")) is None
    short = {"A": "w1", "B": "w0", "C": "w0"}
    assert agrees(world, short, ModelSettings(objective="weighted")) == math.inf


def test_other_solvers_and_options_use_the_exact_path() -> None:
    world = no_tie_world()
    cost = ModelSettings(objective="cost")
    for options in (SolverOptions(solver="cbc"), SolverOptions(time_limit_s=60.0),
                    SolverOptions(highs_options={"presolve": "off"})):
        assert verdict(world, A_AND_C, cost, options).passes is None
    assert verdict(world, A_AND_C, dataclasses.replace(cost, tight_linking=False),
                   OPTIONS).passes is None


def zero_weight_world() -> Instance:
    """Two sites, two zones; zone z2 has bed need but no weight (65+ people), so its beds
    may go to either site at no cost: the optimum is not unique."""
    opts = tuple(SiteOption(option_id=f"w{n}", wards={"rehab": n}, beds={"rehab": 10 * n},
                            usable_beds={"rehab": 10.0 * n} if n else {},
                            revenue_gbp_per_year=1e6 * n) for n in range(2))
    sites = tuple(Site(site_id=s, name=s, options=opts, lad_name="LA", current_option_id="w1")
                  for s in ("A", "B"))
    zones = Zones(zone_ids=("z1", "z2"), demand_beds=np.array([[4.0], [4.0]]),
                  weight=np.array([100.0, 0.0]), lad_name=("LA", "LA"),
                  imd_quintile=np.array([1, 2], dtype=np.int64))
    travel = np.array([[5.0, 50.0], [5.0, 50.0]])
    return Instance(services=("rehab",), sites=sites, zones=zones, travel_min=travel,
                    name="zero_weight")


def test_a_zone_without_weight_is_not_guessed() -> None:
    """Under a 30-minute limit, z2 at B (50 min) breaks it and z2 at A does not: both are
    optimal, so the fast path must not decide."""
    both = {"A": "w1", "B": "w1"}
    settings = ModelSettings(objective="cost", max_travel_min=30.0)
    assert verdict(zero_weight_world(), both, settings, OPTIONS).passes is None


# -- LLR ---------------------------------------------------------------------------------------
def llr(scenario: str, *overrides: str) -> Prepared:
    return prepare(DEFAULT_GEODATA_DIR, SCENARIOS / scenario, overrides)


def exact_named(prepared: Prepared, name: str) -> float:
    try:
        sol = evaluate_configuration(prepared, name)
    except SiteoptError:
        return math.inf
    return math.inf if sol.violations else settings_objective(
        prepared.scenario.model, prepared.evaluation_instance, sol)


def largest(instance: Instance) -> dict[str, str]:
    """Every site at its option with the most beds."""
    return {site.site_id: max(site.options, key=lambda o: (sum(o.beds.values()),
                                                            -o.capex_gbp)).option_id
            for site in instance.sites}


def test_llr_named_options_in_the_base_case() -> None:
    prepared = llr("base.toml")
    for name in prepared.catalogue.configurations:
        assert named_score(prepared, name) == exact_named(prepared, name)


@pytest.mark.slow
@pytest.mark.parametrize("overrides", [
    (), ("model.max_mean_travel_min=18",), ("model.max_mean_travel_min=22",),
    ("demand.planning_year=2031",), ("model.max_travel_min=45",),
    ("model.objective=\"access\"",), ("model.capital_limit_gbp=12e6",),
])
@pytest.mark.parametrize("scenario", ["base.toml", "capital_10m.toml", "home_first_plus_10.toml",
                                      "equity_rise_1_5.toml"])
def test_llr_scores_equal_the_exact_path(scenario: str, overrides: tuple[str, ...]) -> None:
    prepared = llr(scenario, *overrides)
    s = prepared.scenario
    for name in prepared.catalogue.configurations:
        assert named_score(prepared, name) == exact_named(prepared, name)
    inst = prepared.instance
    rng = np.random.default_rng(18)
    choices = [largest(inst)] + [
        {site.site_id: site.options[int(rng.integers(len(site.options)))].option_id
         for site in inst.sites} for _ in range(3)]
    for choice in choices:
        agrees(inst, choice, s.model, s.solver)

"""The whole appraisal of one scenario: the long list, its measures, hurdles and economic case,
the preferred option and why each site loses beds.

:func:`appraise` assembles the long list from the other modules of :mod:`siteopt.appraisal` and
the optimiser's public functions (:func:`siteopt.wards.solve.optimise`,
:func:`siteopt.runs.pipeline.evaluate_configuration`):

1. **named options**: every configuration of ``wards.csv`` (``status_quo``, ``stp_2016``), the
   **do minimum** (business as usual plus only what must change:
   :func:`siteopt.appraisal.shortlist.do_minimum_choice`) and any a user lists in an options
   file (:func:`siteopt.appraisal.longlist.read_user_options`), evaluated by
   :func:`siteopt.runs.pipeline.evaluate_configuration`, the same code path as every other
   option;
2. **optimal** (the scenario's optimum) and the **next best N**
   (:func:`siteopt.appraisal.longlist.next_best`);
3. **every feasible configuration** (:func:`siteopt.appraisal.enumeration.enumerate_space`)
   when the space has at most ``enumerate_max_configurations``;
4. the **Pareto frontier** (:mod:`siteopt.appraisal.frontier`), by the MILP or read off the
   enumeration, each checked against the other, and the frontier of the enumerated
   configurations that pass the resilience and staffing hurdles (:func:`hurdle_choices`);
5. options found twice (the same option at every site) are merged, every option is measured
   (:func:`siteopt.appraisal.measures.option_measures`), given its Green Book economic case
   against business as usual (:mod:`siteopt.appraisal.economics`) and put through the hurdles
   (:func:`siteopt.appraisal.shortlist.hurdles`);
6. the **decision** (:func:`siteopt.appraisal.shortlist.decide`, rule in
   :mod:`siteopt.appraisal.decision`): the short list (options passing every hurdle, plus
   business as usual and the do minimum as benchmarks), dominated options made ineligible, the
   preferred option and runner-up by value for money, the benefit scores and their robustness,
   the receipts' switching values; then the capital reconciliation with the STP
   (:mod:`siteopt.appraisal.capital`) and :func:`siteopt.appraisal.why.keep_site_effects` for
   the sites the preferred (and each named) option takes beds from;
7. the **phasing** of the preferred option and the 2016 proposal (``appraisal.phase_options``,
   :mod:`siteopt.appraisal.phasing`): submitted right after the decision, so that the workers
   solve them while the why stage runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from siteopt.appraisal.capital import option_schemes, reconcile
from siteopt.appraisal.economics import economic_case, switching_values
from siteopt.appraisal.enumeration import Enumerated, configuration_count, enumerate_space
from siteopt.appraisal.frontier import frontier_matches, pareto_from_enumeration, pareto_frontier
from siteopt.appraisal.measures import (
    OptionResult,
    annual_cost,
    mean_travel,
    option_measures,
    zone_mean_travel,
)
from siteopt.appraisal.phasing import (
    PhasePlan,
    collect_phasing,
    options_to_phase,
    plan_words,
    settings_problems,
    submit_phasing,
)
from siteopt.appraisal.settings import AppraisalSettings
from siteopt.appraisal.shortlist import DO_MINIMUM, decide, do_minimum_choice, hurdles
from siteopt.appraisal.solves import (
    ChainFutures,
    Points,
    choice_key,
    end_task,
    enumeration_task,
    evaluate_task,
    optimum_task,
    predicted_chain,
)
from siteopt.appraisal.why import keep_site_choices, keep_site_effects
from siteopt.errors import DataError, Problem
from siteopt.progress import ProgressCallback, counted, report
from siteopt.runs.pipeline import Prepared
from siteopt.runs.workers import PreparedPool
from siteopt.wards.instance import FloatArray, Instance, ModelSettings
from siteopt.wards.results import (
    Solution,
    objective_from_measures,
)

Entry = tuple[str, str, Solution]
"""One option of the long list before merging: (name, source, solution)."""
ChoiceKey = tuple[tuple[str, str], ...]
"""An option's (site_id, option_id) pairs, sorted: two options with the same key are one."""


# ---------------------------------------------------------------------------------------------
# The whole appraisal
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Appraisal:
    """The appraisal of one scenario: every option with its measures, and the analyses."""

    prepared: Prepared
    settings: AppraisalSettings
    options: list[OptionResult]
    preferred: str
    frontier: list[str]
    enumeration: Enumerated | None
    frontier_check: dict[str, Any]
    why: list[dict[str, Any]]
    zone_travel_min: dict[str, FloatArray]
    timings_s: dict[str, float]
    notes: list[str]
    decision: dict[str, Any] = dataclasses.field(default_factory=dict)
    """How the preferred option was chosen (:func:`siteopt.appraisal.shortlist.decide`)."""
    phasing: dict[str, PhasePlan] = dataclasses.field(default_factory=dict)
    """Option name -> its year-by-year programme (``appraisal.phase_options``, issue 19)."""

    def option(self, name: str) -> OptionResult:
        """The option called ``name``."""
        for o in self.options:
            if o.name == name:
                return o
        raise KeyError(name)


def appraise(
    prepared: Prepared,
    settings: AppraisalSettings,
    user_options: Mapping[str, Mapping[str, str]] | None = None,
    *,
    enumerate_configurations: bool = True,
    frontier_method: str = "auto",
    progress: ProgressCallback | None = None,
    pool: PreparedPool | None = None,
) -> Appraisal:
    """Build the long list, measure every option, apply hurdles, discount and explain.

    Parameters
    ----------
    prepared : Prepared
    settings : AppraisalSettings
    user_options : mapping, optional
        name -> site_id -> option_id (from :func:`siteopt.appraisal.longlist.read_user_options`).
    enumerate_configurations : bool
        Enumerate every configuration if the space has at most
        ``settings.enumerate_max_configurations``.
    frontier_method : {"auto", "milp", "enumeration"}
        How the epsilon-constraint walk finds each frontier point: with the MILP, or with the
        enumeration as the exact oracle (``auto``: the enumeration when there is one, as it
        takes milliseconds per point where the MILP takes seconds; the MILP walk is checked
        against it in the tests).
    progress : ProgressCallback, optional
        Hears each stage, and the count of the counted ones
        (:data:`siteopt.progress.ProgressCallback`).
    pool : PreparedPool, optional
        Worker processes holding ``prepared`` (:class:`siteopt.runs.workers.PreparedPool`);
        the independent solves run side by side on them, with the same results as in one
        process. Default: every solve here, one after another.

    Notes
    -----
    With a pool the stage timings are the time this process waited for each stage's results,
    in the order below; the solves overlap.
    """
    if "status_quo" not in prepared.catalogue.configurations:
        raise DataError([Problem("wards.csv", "the appraisal needs a 'status_quo' configuration",
                                 field="configuration")])
    if settings.phase_options and settings_problems(prepared):
        raise DataError(settings_problems(prepared))
    with contextlib.ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(PreparedPool(prepared, 1))
        return _appraise(prepared, settings, user_options, pool, enumerate_configurations,
                         frontier_method, progress)


def _appraise(prepared: Prepared, settings: AppraisalSettings,
              user_options: Mapping[str, Mapping[str, str]] | None, pool: PreparedPool,
              enumerate_configurations: bool, frontier_method: str,
              progress: ProgressCallback | None) -> Appraisal:
    timings: dict[str, float] = {}
    notes: list[str] = []
    # everything that does not wait on another result is submitted at once: the optimum, the
    # named options and their keep-a-site variants while the enumeration runs here, then the
    # rest of the chain and the Pareto points
    report(progress, "the optimum, "
           + (f"the {settings.next_best} next best distinct options, " if settings.next_best
              else "") + "the named options and the Pareto frontier"
           + (f" ({pool.workers} processes)" if pool.parallel else ""))
    first = pool.submit_cached(optimum_task, ())
    named = submit_named(pool, prepared, user_options)
    early_why = submit_keep_variants(pool, prepared, [
        (n, c) for n, src, c in named.entries if src.startswith("named") and n != "status_quo"])
    with stage(timings, "enumeration_s", progress, None):
        enum = enumerate_if_small(prepared, settings, enumerate_configurations, notes, progress,
                                  pool)
    chain = (predicted_chain(prepared, enum, settings.next_best) if enum is not None else None)
    chain_futures = ChainFutures.start(pool, prepared, settings.next_best, chain, first)
    points = Points(pool, named.choices + list(chain or []))
    ends = (submit_ends(pool, prepared) if frontier_method != "milp" and enum is not None
            else {})  # (only for a frontier read off the enumeration)
    frontier_idx = (pareto_from_enumeration(enum, settings.pareto_cost_step_gbp_per_year)
                    if enum is not None and frontier_method != "milp" else None)
    if frontier_idx is not None and enum is not None:
        report(progress, f"Pareto frontier: {len(frontier_idx)} points read off the enumeration")
        points.add([(f"pareto_{i}", enum.choices[j]) for i, j in enumerate(frontier_idx, 1)])
    resilient = hurdle_choices(prepared, settings, enum) if enum is not None else []
    points.add([(f"pareto_resilient_{i}", c) for i, c in enumerate(resilient, 1)])

    with stage(timings, "named_s", progress, None):
        entries: list[Entry] = named.results()
    with stage(timings, "optimal_and_next_best_s", progress, None):
        found = chain_futures.result()
        best = found[0]
        entries.append(("optimal", "optimal", best))
        entries += [(f"next_best_{i}", f"next best {i}", sol)
                    for i, sol in enumerate(found[1:], start=1)]
    with stage(timings, "pareto_s", progress, None):
        points.known.update({choice_key(sol.choice): sol for _, _, sol in entries})
        if frontier_idx is None or enum is None:
            frontier_sols, check = frontier_options(prepared, settings, enum, frontier_method,
                                                    progress)
        else:
            frontier_sols = points.results([f"pareto_{i}"
                                            for i in range(1, len(frontier_idx) + 1)])
            check = end_check(prepared, enum, frontier_idx, best, ends)
        if check.get("checked") and not check.get("matches"):
            notes.append(f"Pareto frontier check failed: {check['detail']}")
        for i, sol in enumerate(frontier_sols, start=1):
            entries.append((f"pareto_{i}", f"Pareto point {i}", sol))
        for i, sol in enumerate(points.results([f"pareto_resilient_{i}" for i in
                                                range(1, len(resilient) + 1)]), start=1):
            entries.append((f"pareto_resilient_{i}",
                            f"Pareto point {i} of the options that pass the resilience and "
                            "staffing hurdles", sol))
    merged, alias = merge_duplicates(entries)
    with stage(timings, "measures_s", progress, None):
        final, sq, zone_travel = measure_options(prepared, settings, merged, alias, progress)
    with stage(timings, "decision_s", progress, "the short list and the preferred option"):
        preferred, decision = decision_stage(prepared, settings, final, alias, notes)
    phasing = submit_phasing(pool, options_to_phase(  # (they solve while the why stage runs)
        settings, preferred, {r.name: r.choice for r in final}, notes), settings)
    with stage(timings, "why_s", progress, "why each site loses beds"):
        why = explain_lost_beds(prepared, settings, final, preferred, sq, pool, early_why)
    with stage(timings, "phasing_s", progress,
               f"phasing {len(phasing)} option(s) year by year" if phasing else None):
        plans = collect_phasing(phasing, plan_words(decision, preferred), notes)

    frontier_names = [alias[f"pareto_{i}"] for i in range(1, len(frontier_sols) + 1)]
    for r in final:
        if any(v is not None for v in r.solution.violations) and not r.solution.evaluated:
            notes.append(f"independent check of '{r.name}': {'; '.join(r.solution.violations)}")
    return Appraisal(prepared, settings, final, preferred, frontier_names, enum, check, why,
                     zone_travel, timings, notes, decision, plans)


# ---------------------------------------------------------------------------------------------
# Stages of the appraisal
# ---------------------------------------------------------------------------------------------
def decision_stage(prepared: Prepared, settings: AppraisalSettings, final: list[OptionResult],
                   alias: Mapping[str, str], notes: list[str]) -> tuple[str, dict[str, Any]]:
    """The decision (:func:`siteopt.appraisal.shortlist.decide`) with the capital
    reconciliation and the schemes of the main table's options."""
    preferred, decision = decide(prepared, settings, final, alias, notes)
    decision["capital_reconciliation"] = reconcile(prepared)
    decision["schemes"] = {name: option_schemes(prepared, next(
        r.choice for r in final if r.name == name)) for name in decision["main_table"]}
    return preferred, decision


@contextlib.contextmanager
def stage(timings: dict[str, float], key: str, progress: ProgressCallback | None,
          text: str | None) -> Iterator[None]:
    """Time the block into ``timings[key]`` (seconds), announcing ``text`` to ``progress`` first
    (None: the block reports its own stages)."""
    if text is not None:
        report(progress, text)
    clock = time.perf_counter()
    yield
    timings[key] = time.perf_counter() - clock


def named_tasks(prepared: Prepared, user_options: Mapping[str, Mapping[str, str]] | None
                ) -> list[tuple[str, str, dict[str, str] | None]]:
    """The named options to evaluate: every configuration of ``wards.csv`` (choice None: read
    from the catalogue), the do minimum and the user's options.

    Returns
    -------
    list of (name, source, choice or None)
    """
    out: list[tuple[str, str, dict[str, str] | None]] = [
        (name, "named (wards.csv)", None) for name in prepared.catalogue.configurations]
    out.append((DO_MINIMUM, "do minimum (business as usual plus what must change)",
                do_minimum_choice(prepared)))
    out += [(name, "named (options file)", dict(choice))
            for name, choice in (user_options or {}).items()]
    return out


@dataclass(frozen=True)
class NamedFutures:
    """The named options' evaluations in flight."""

    entries: list[tuple[str, str, dict[str, str]]]
    futures: list[Future[Solution]]

    def results(self) -> list[Entry]:
        """(name, source, solution) of each named option, in the order of :func:`named_tasks`."""
        return [(name, source, f.result())
                for (name, source, _), f in zip(self.entries, self.futures, strict=True)]

    @property
    def choices(self) -> list[dict[str, str]]:
        """Each named option's configuration."""
        return [c for _, _, c in self.entries]


def submit_named(pool: PreparedPool, prepared: Prepared,
                 user_options: Mapping[str, Mapping[str, str]] | None) -> NamedFutures:
    """Submit the evaluation of every named option (:func:`named_tasks`)."""
    tasks = named_tasks(prepared, user_options)
    return NamedFutures(
        [(n, src, dict(c if c is not None else prepared.catalogue.configurations[n]))
         for n, src, c in tasks],
        [pool.submit_cached(evaluate_task, n, c) for n, _, c in tasks])


def enumerate_if_small(prepared: Prepared, settings: AppraisalSettings, wanted: bool,
                       notes: list[str], progress: ProgressCallback | None = None,
                       pool: PreparedPool | None = None) -> Enumerated | None:
    """Every configuration within the limits if ``wanted`` and the space is small enough.

    Parameters
    ----------
    prepared : Prepared
    settings : AppraisalSettings
        ``enumerate_max_configurations`` caps the size of the space.
    wanted : bool
        Whether the caller asked for the enumeration.
    notes : list of str
        Appended to (in place) when the space is not enumerated.

    Returns
    -------
    Enumerated or None
        None if the space was not enumerated.
    """
    n_conf = configuration_count(prepared.instance)
    if wanted and n_conf <= settings.enumerate_max_configurations:
        report(progress, f"enumerating {n_conf:,} configurations")
        if pool is not None:  # (kept from an earlier run of the same inputs, if the pool has)
            return pool.call_cached(enumeration_task)
        return enumerate_space(prepared.instance, prepared.scenario.model)
    notes.append(f"{n_conf:,} configurations: not enumerated (limit "
                 f"{settings.enumerate_max_configurations:,})")
    return None


def frontier_options(prepared: Prepared, settings: AppraisalSettings, enum: Enumerated | None,
                     method: str, progress: ProgressCallback | None = None
                     ) -> tuple[list[Solution], dict[str, Any]]:
    """The Pareto frontier by the MILP's epsilon-constraint walk (``method`` ``milp``, or
    ``auto`` without an enumeration), and its check against the enumeration if there is one.
    (With an enumeration and ``auto`` or ``enumeration`` the frontier is read off it:
    :func:`siteopt.appraisal.frontier.pareto_from_enumeration` and :func:`end_check`.)

    Returns
    -------
    list of Solution
        From the least mean drive to the least cost.
    dict
        ``checked``, ``method`` and, if checked, ``matches`` and ``detail``.

    Raises
    ------
    DataError
        If ``method`` is ``enumeration`` and there is no enumeration.
    """
    if method == "enumeration":
        raise DataError([Problem("appraisal", "the enumeration frontier needs the "
                                 "configuration space enumerated", field="frontier")])
    check: dict[str, Any] = {"checked": False, "method": "milp"}
    report(progress, "Pareto frontier (MILP epsilon-constraint walk)")
    return milp_frontier(prepared, settings, enum, check), check


def milp_frontier(prepared: Prepared, settings: AppraisalSettings, enum: Enumerated | None,
                  check: dict[str, Any]) -> list[Solution]:
    """The frontier by the MILP's epsilon-constraint walk, checked against ``enum`` if given.

    ``check`` is updated in place with ``checked``, ``matches`` and ``detail``.
    """
    inst_eval = prepared.evaluation_instance
    step = settings.pareto_cost_step_gbp_per_year
    frontier_sols = pareto_frontier(prepared, prepared.scenario.solver, step)
    if enum is not None:
        pts = [(mean_travel(inst_eval, s), annual_cost(inst_eval, s.choice))
               for s in frontier_sols]
        ok, detail = frontier_matches(pts, enum, step)
        check.update({"checked": True, "matches": ok, "detail": detail})
    return frontier_sols


def submit_ends(pool: PreparedPool, prepared: Prepared) -> dict[str, Future[Solution]]:
    """Submit the MILP's exact optima of cost and of access (the latter unless the scenario's
    optimum is it) for :func:`end_check`."""
    ends = {"cost": pool.submit_cached(end_task, "cost")}
    if prepared.scenario.model.objective != "access":
        ends["access"] = pool.submit_cached(end_task, "access")
    return ends


def end_check(prepared: Prepared, enum: Enumerated, idx: list[int], best: Solution,
              ends: Mapping[str, Future[Solution]]) -> dict[str, Any]:
    """The check of the frontier read off the enumeration: its least mean drive end against
    the MILP's access optimum (``best`` when the scenario's objective is access) and its least
    cost end against the MILP's cost optimum.

    Returns
    -------
    dict
        ``checked``, ``method`` (``enumeration``), ``matches`` and ``detail``.
    """
    inst_eval = prepared.evaluation_instance
    cheapest = ends["cost"].result()
    nearest = ends["access"].result() if "access" in ends else best
    pairs = [(mean_travel(inst_eval, nearest), float(enum.mean_travel_min[idx[0]]),
              "least mean drive"),
             (annual_cost(inst_eval, cheapest.choice), float(enum.cost_gbp_per_year[idx[-1]]),
              "least cost")]
    bad = [f"{what}: MILP {a:.6f}, enumeration {b:.6f}" for a, b, what in pairs
           if abs(a - b) > 1e-5 * max(1.0, abs(b))]
    return {"checked": True, "method": "enumeration", "matches": not bad,
            "detail": ("both ends of the frontier equal the MILP optima "
                       "(least mean drive, least cost); the full MILP walk equals the "
                       "enumeration in tests/test_appraisal.py")
            if not bad else "; ".join(bad)}


def hurdle_choices(prepared: Prepared, settings: AppraisalSettings, enum: Enumerated
                   ) -> list[dict[str, str]]:
    """The Pareto frontier of the enumerated configurations that pass the hurdles a
    configuration decides by itself: no isolated ward below ``isolated_ward_min_beds``, and
    registered nurses within the staffing hurdle.

    The scenario's frontier spans every configuration within the model's limits; most of its
    points may keep a small isolated ward and fail the resilience hurdle, leaving the short
    list thin. This frontier gives the decision the best options that can pass.
    """
    inst = prepared.instance
    min_beds = settings.isolated_ward_min_beds
    limit = prepared.scenario.model.max_staff_wte_rn
    if limit is None:
        today = prepared.catalogue.configurations["status_quo"]
        ev = {s.site_id: s for s in prepared.evaluation_instance.sites}
        limit = settings.rn_wte_headroom_vs_status_quo * sum(
            ev[sid].option(oid).staff_wte_rn for sid, oid in today.items())
    small = {(s.site_id, o.option_id): o.isolated and sum(o.beds.values()) < min_beds
             for s in inst.sites for o in s.options}
    rn = {(s.site_id, o.option_id): o.staff_wte_rn for s in inst.sites for o in s.options}
    keep = np.array([not any(small[(k, v)] for k, v in c.items())
                     and sum(rn[(k, v)] for k, v in c.items()) <= limit + 1e-6
                     for c in enum.choices], dtype=bool)
    if not keep.any():
        return []
    idx = np.flatnonzero(keep)
    sub = dataclasses.replace(
        enum, n_meeting_limits=len(idx), choices=[enum.choices[i] for i in idx],
        mean_travel_min=enum.mean_travel_min[idx], cost_gbp_per_year=enum.cost_gbp_per_year[idx],
        net_capital_gbp=enum.net_capital_gbp[idx], capex_gbp=enum.capex_gbp[idx],
        beds={v: b[idx] for v, b in enum.beds.items()}, sites_with_beds=enum.sites_with_beds[idx])
    points = pareto_from_enumeration(sub, settings.pareto_cost_step_gbp_per_year)
    return [dict(sub.choices[j]) for j in points]


def merge_duplicates(entries: list[Entry]
                     ) -> tuple[dict[ChoiceKey, tuple[str, list[str], Solution]], dict[str, str]]:
    """Merge options with the same option id at every site: keep the first name, list all
    sources.

    Returns
    -------
    dict
        Choice key -> (name, sources, solution), in the order first found.
    dict
        Every entry's name -> the name it was merged under.
    """
    merged: dict[ChoiceKey, tuple[str, list[str], Solution]] = {}
    alias: dict[str, str] = {}
    for name, source, sol in entries:
        key = tuple(sorted(sol.choice.items()))
        if key in merged:
            merged[key][1].append(source)
            alias[name] = merged[key][0]
        else:
            merged[key] = (name, [source], sol)
            alias[name] = name
    return merged, alias


def measure_options(prepared: Prepared, settings: AppraisalSettings,
                    merged: Mapping[ChoiceKey, tuple[str, list[str], Solution]],
                    alias: Mapping[str, str], progress: ProgressCallback | None = None
                    ) -> tuple[list[OptionResult], OptionResult, dict[str, FloatArray]]:
    """Measure every option, give it its economic case and hurdles against the status quo.

    Returns
    -------
    list of OptionResult
        Every merged option with measures, hurdles and economics.
    OptionResult
        The status quo (its measures, without hurdles and economics).
    dict
        Option name -> each zone's 65+ mean drive minutes.
    """
    inst_eval = prepared.evaluation_instance
    results: list[OptionResult] = []
    for name, sources, sol in counted(progress, "measuring the options", list(merged.values())):
        results.append(OptionResult(name, tuple(sources), dict(sol.choice), sol,
                                    option_measures(prepared, sol, settings)))
    sq = next(r for r in results if r.name == "status_quo" or alias.get("status_quo") == r.name)
    sq_zone = zone_mean_travel(inst_eval, sq.solution)
    zone_travel: dict[str, FloatArray] = {}
    final: list[OptionResult] = []
    for r in results:
        m = r.measures
        econ = economics_vs_status_quo(m, sq.measures, settings)
        zt = zone_mean_travel(inst_eval, r.solution)
        zone_travel[r.name] = zt
        m["zone_change_vs_status_quo"] = zone_change(inst_eval, zt - sq_zone)
        final.append(dataclasses.replace(
            r, hurdles=hurdles(prepared, m, sq.measures, settings), economics=econ))
    return final, sq, zone_travel


def economics_vs_status_quo(m: Mapping[str, Any], status_quo: Mapping[str, Any],
                            settings: AppraisalSettings) -> dict[str, Any]:
    """An option's Green Book economic case, NPV and revenue saving against the status quo,
    and its switching values.

    Parameters
    ----------
    m, status_quo : mapping
        The option's and the status quo's measures (:func:`option_measures`).
    settings : AppraisalSettings
    """
    def money(x: Mapping[str, Any]) -> dict[str, float]:
        return {"capex_gbp": x["capex_gbp"], "disposals_gbp": x["disposals_gbp"],
                "revenue_gbp_per_year": x["revenue_gbp_per_year"]}

    sq_npc = economic_case(status_quo["capex_gbp"], status_quo["disposals_gbp"],
                           status_quo["revenue_gbp_per_year"], settings)["npc_gbp"]
    econ: dict[str, Any] = economic_case(m["capex_gbp"], m["disposals_gbp"],
                                         m["revenue_gbp_per_year"], settings)
    econ["npv_vs_status_quo_gbp"] = sq_npc - econ["npc_gbp"]
    econ["revenue_saving_gbp_per_year"] = (status_quo["revenue_gbp_per_year"]
                                           - m["revenue_gbp_per_year"])
    econ["switching_values"] = switching_values(money(m), money(status_quo), settings)
    return econ


def submit_keep_variants(pool: PreparedPool, prepared: Prepared,
                         options: list[tuple[str, dict[str, str]]]) -> dict[str, Future[Solution]]:
    """Submit the evaluation of each option's keep-a-site variants
    (:func:`siteopt.appraisal.why.keep_site_choices`), by variant name."""
    today = prepared.catalogue.configurations["status_quo"]
    return {name: pool.submit_cached(evaluate_task, name, choice)
            for option, option_choice in options
            for name, choice in keep_site_choices(prepared, option, option_choice, today)}


def explain_lost_beds(prepared: Prepared, settings: AppraisalSettings,
                      final: list[OptionResult], preferred: str, sq: OptionResult,
                      pool: PreparedPool | None = None,
                      submitted: Mapping[str, Future[Solution]] | None = None
                      ) -> list[dict[str, Any]]:
    """:func:`siteopt.appraisal.why.keep_site_effects` of the preferred option, then of every
    other named option but the status quo (their keep-a-site variants evaluated side by side
    on ``pool``; ``submitted``: those already on their way, by variant name)."""
    pref = next(r for r in final if r.name == preferred)
    explained = [pref] + [r for r in final if r.name != preferred and r.name != sq.name
                          and any(s.startswith("named") for s in r.sources)]
    with contextlib.ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(PreparedPool(prepared, 1))
        futures = dict(submitted or {})
        wanted = [v for r in explained
                  for v in keep_site_choices(prepared, r.name, r.choice, sq.choice)]
        for name, choice in wanted:
            if name not in futures:
                futures[name] = pool.submit_cached(evaluate_task, name, choice)
        solved = {name: futures[name].result() for name, _ in wanted}
    why: list[dict[str, Any]] = []
    for r in explained:
        why += keep_site_effects(prepared, r, sq, settings, solved)
    return why


def option_objective(model: ModelSettings, m: Mapping[str, Any]) -> float:
    """The scenario's objective computed from an option's measures (for ranking)."""
    return objective_from_measures(model.objective, float(m["access"]["mean_travel_min"]),
                                   float(m["cost_gbp_per_year"]), model.travel_weight,
                                   model.cost_weight_per_gbp_m)


def zone_change(instance: Instance, delta: FloatArray) -> dict[str, Any]:
    """Summaries of the per-zone change in 65+ mean drive against the status quo.

    Parameters
    ----------
    instance : Instance
    delta : ndarray, shape (n_zones,)
        Each zone's mean drive in the option less that in the status quo (minutes).

    Returns
    -------
    dict
        ``all``, ``by_lad`` and ``by_imd_quintile``: the weighted mean change, the 65+ people
        more than 5 minutes further and closer, and the largest increase.
    """
    w = instance.zones.weight
    lads = np.asarray(instance.zones.lad_name)

    def summary(mask: npt.NDArray[np.bool_]) -> dict[str, float]:
        ww = w[mask]
        dd = delta[mask]
        tot = float(ww.sum())
        return {
            "mean_change_min": float((dd * ww).sum() / tot) if tot > 0 else 0.0,
            "people_65_plus_longer_5_min": float(ww[dd > 5].sum()),
            "people_65_plus_shorter_5_min": float(ww[dd < -5].sum()),
            "largest_increase_min": float(dd.max()) if len(dd) else 0.0,
        }

    return {
        "all": summary(np.ones(len(w), dtype=bool)),
        "by_lad": {str(x): summary(lads == x) for x in sorted(set(instance.zones.lad_name))},
        "by_imd_quintile": {str(int(q)): summary(instance.zones.imd_quintile == q)
                            for q in sorted(set(instance.zones.imd_quintile.tolist()))},
    }

"""Phasing a configuration: the year-by-year programme the capital allows (issue 19).

(In ``appraisal/``, not ``runs/``, because it discounts with the Green Book economics of
:mod:`siteopt.appraisal.economics`, and ``appraisal/`` already imports ``runs/``.)

:func:`phase_configuration` takes a prepared scenario (:func:`siteopt.runs.pipeline.prepare`)
and a target configuration (a name of ``wards.csv`` such as ``stp_2016``, ``optimal`` for the
scenario's optimum, or a site -> option mapping), builds the
:class:`~siteopt.wards.phasing_instance.PhaseInstance` of the move from today's wards
(``status_quo``) to it, solves it (:func:`siteopt.wards.phasing_solve.solve_phasing`) and
returns a frozen :class:`PhasePlan`: per year the capex, receipts, net capital, envelope, beds
against need, the shortfall in bed-days, revenue (and the double running within it) and the
65+ mean drive; per scheme its start and finish; per ward the year it opens or closes; the
completion year; the status and gap; the Green Book NPC/NPV of the phased cash flows and of
the all-at-once flows (:func:`siteopt.appraisal.economics.economic_case`) and their difference.
With ``phasing.choose_end_state`` it calls :func:`phase_jointly` instead, which chooses the end
state with its phasing (:mod:`siteopt.wards.phasing_joint`) and reports the result as the
phasing of that end state.

**In the appraisal** (:func:`submit_phasing`, :func:`collect_phasing`): after the decision,
the options of ``appraisal.phase_options`` (``preferred`` and ``stp_2016`` by default) are
phased as tasks on the appraisal's worker pool (:func:`phase_task`), under the scenario's
``[phasing]`` settings (defaults in ``assumptions.toml [phasing]``); a phasing that cannot be
built (no ``scheme_phasing.csv``) or finds no programme within the envelopes is a note of the
appraisal (with the phasing's own explanation of which envelope is short), never an error.

The rules the numbers follow (stated in every report of the plan, :data:`RULES`):

* years are financial years named by their first calendar year (2026 = 2026/27);
* each year's bed need is :func:`siteopt.catalogue.demand.bed_need` with that year as the
  planning year (the scenario's growth method); years before the population year (Census
  2021) use the population year's need, as the demand stage projects forwards only;
* a site keeps today's wards until its move and runs the target's from then; a build scheme's
  capex is spread evenly over its build years, and its ward opens the year after; a closure
  scheme is built from the year the beds close;
* a receipt comes in ``receipt_lag_years`` after the last site it needs vacated moves;
* the phased NPC discounts each year's flows from the first year (year 0): capex with optimism
  bias and receipts in the year they happen, revenue from year 1 as the wards running that
  year, the target's after the horizon; the all-at-once NPC is the appraisal's (all capital and
  receipts in year 0, the target's revenue from year 1). NPVs are against the status quo's
  all-at-once NPC, as in ``appraisal.csv``;
* the 65+ mean drive of each year is to the nearest site offering each service, weighted by the
  services' shares of need (the measure the access objective sums), not the capacitated
  assignment of the appraisal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from siteopt.appraisal.economics import discount_factors, economic_case
from siteopt.appraisal.settings import PREFERRED, AppraisalSettings
from siteopt.catalogue.demand import bed_need
from siteopt.catalogue.options import SchemeLine, scheme_lines
from siteopt.data.phasing import SchemePhasing, read_scheme_phasing
from siteopt.errors import DataError, Problem, SiteoptError
from siteopt.runs.pipeline import Prepared
from siteopt.runs.scenario import scenario_label
from siteopt.runs.workers import PreparedPool
from siteopt.solver_core import STATUS_INFEASIBLE
from siteopt.wards.instance import Site
from siteopt.wards.phasing_instance import (
    MAX_ACCESS_SITES,
    PhaseInstance,
    PhaseReceipt,
    PhaseScheme,
    configuration_mean_travel,
    schedule_flows,
)
from siteopt.wards.phasing_joint import JointInstance, JointScheme, solve_joint
from siteopt.wards.phasing_solve import PhaseSchedule, solve_phasing, verify_schedule
from siteopt.wards.results import totals
from siteopt.wards.solve import optimise

RULES = (
    "Years are financial years (2026 = 2026/27). A site keeps today's wards until its move and "
    "runs the target's from then; a scheme's capex is spread over its build years and its ward "
    "opens the year after; a closure scheme is built in the year the beds close; a receipt "
    "comes in its lag after the last site it needs vacated moves.",
    "Bed need each year is the demand stage's with that year as the planning year (years before "
    "the population year use its need).",
    "The phased NPC discounts each year's flows from the first year; the all-at-once NPC is the "
    "appraisal's (all capital in year 0). NPVs are against the status quo, as in appraisal.csv.",
    "The 65+ mean drive of each year is to the nearest site offering each service, weighted by "
    "the services' shares of need (not the capacitated assignment of the appraisal).",
)
Pairs = tuple[tuple[int, int], ...]
BUILD_KINDS = ("replace_space", "new_space")
CLOSURE_KINDS = ("on_closure",)
DAYS_PER_YEAR = 365.0
"""Days in a year, as :mod:`siteopt.catalogue.demand` turns bed-days into beds."""
OPTIMAL = "optimal"
"""The ``--option`` name of the scenario's optimum (solved first)."""
JOINT = "joint"
"""The plan's name when the end state is chosen with its phasing."""
STP_2016 = "stp_2016"
"""The 2016 proposal's configuration name (its plan is compared with the STP's order)."""


def fy(year: int) -> str:
    """``2026`` -> ``"2026/27"``."""
    return f"{year}/{(year + 1) % 100:02d}"


@dataclass(frozen=True)
class YearRow:
    """One year of the plan."""

    year: int
    capex_gbp: float
    receipts_gbp: float
    net_capital_gbp: float
    envelope_gbp: float | None
    usable_beds: dict[str, float]
    need_beds: dict[str, float]
    shortfall_bed_days: float
    revenue_gbp: float
    double_running_gbp: float
    mean_travel_min: float | None
    moves: tuple[str, ...]
    """Sites whose wards move this year."""
    starts: tuple[str, ...]
    """Schemes whose work starts this year."""


@dataclass(frozen=True)
class SchemeRow:
    """A scheme of the plan: when work starts and finishes, and when its ward is used."""

    scheme_id: str
    site_id: str
    kind: str
    capex_gbp: float
    build_years: int
    start_year: int
    finish_year: int
    """The last year of work."""
    stp_start_year: int | None


@dataclass(frozen=True)
class WardMove:
    """A ward that opens or closes."""

    site_id: str
    site_name: str
    space_id: str
    service: str
    beds: int
    change: str
    """``opens`` or ``closes``."""
    year: int


@dataclass(frozen=True)
class ReceiptRow:
    scheme_id: str
    receipt_gbp: float
    year: int


@dataclass(frozen=True)
class PhasePlan:
    """A phased programme (see the module docstring)."""

    option: str
    scenario: str
    objective: str
    capital_basis: str
    first_year: int
    last_year: int
    status: str
    status_text: str
    gap: float | None
    explanation: tuple[str, ...]
    years: tuple[YearRow, ...]
    schemes: tuple[SchemeRow, ...]
    wards: tuple[WardMove, ...]
    receipts: tuple[ReceiptRow, ...]
    site_moves: dict[str, int]
    """site_id -> the year its wards move."""
    completion_year: int | None
    npc_phased_gbp: float | None
    npc_all_at_once_gbp: float
    npv_phased_gbp: float | None
    npv_all_at_once_gbp: float
    shortfall_bed_days: float | None
    build_time_s: float
    solve_time_s: float
    n_variables: int
    n_constraints: int
    violations: tuple[str, ...] = ()
    """What the independent check found (empty when it passed)."""
    end_state: dict[str, str] = dataclasses.field(default_factory=dict)
    """site_id -> option_id of the target configuration."""
    stp_comparison: tuple[str, ...] = ()
    rules: tuple[str, ...] = RULES

    @property
    def npv_difference_gbp(self) -> float | None:
        """Phased NPV less the all-at-once NPV (negative: phasing costs value)."""
        if self.npv_phased_gbp is None:
            return None
        return self.npv_phased_gbp - self.npv_all_at_once_gbp


@dataclass(frozen=True, eq=False)
class PhaseInput:
    """A built phasing instance and what it was built from (for reporting)."""

    instance: PhaseInstance
    current: dict[str, str]
    target: dict[str, str]
    lines: tuple[SchemeLine, ...]
    phasing: dict[str, SchemePhasing]
    appraisal: AppraisalSettings
    beta: np.ndarray
    travel_cols: tuple[int, ...]


def target_choice(prepared: Prepared, option: str | Mapping[str, str],
                  label: str = "given") -> tuple[str, dict[str, str]]:
    """(label, site_id -> option_id) of a named configuration, ``optimal`` or a mapping (named
    ``label``)."""
    if not isinstance(option, str):
        return label, dict(option)
    if option == OPTIMAL:
        s = prepared.scenario
        return OPTIMAL, dict(optimise(prepared.instance, s.model, s.solver).choice)
    configs = prepared.catalogue.configurations
    if option not in configs:
        known = ", ".join([*configs, OPTIMAL])
        raise DataError([Problem("--option", f"no configuration '{option}'; known: {known}",
                                 field="option")])
    return option, dict(configs[option])


def yearly_need(prepared: Prepared, years: Sequence[int]) -> np.ndarray:
    """(n_years, n_services): bed need each year (see the module docstring)."""
    base = int(prepared.data.assumptions["meta.population_year"])
    out = []
    for y in years:
        settings = dataclasses.replace(prepared.scenario.demand, planning_year=max(y, base))
        total = bed_need(prepared.data, settings).total_beds()
        out.append([total[v] for v in prepared.instance.services])
    return np.asarray(out, dtype=np.float64)


def settings_problems(prepared: Prepared) -> list[Problem]:
    """Every problem of the scenario's ``[phasing]`` settings (one line each)."""
    scen = prepared.scenario
    return scen.phasing.problems(prepared.demand.planning_year, scen.origin)


def _start(prepared: Prepared) -> dict[str, str]:
    """Today's configuration, after checking the ``[phasing]`` settings."""
    problems = settings_problems(prepared)
    current = dict(prepared.catalogue.configurations.get("status_quo", {}))
    if not current:
        problems.append(Problem("wards.csv", "has no status_quo configuration, which phasing "
                                "starts from; add today's wards", field="configuration"))
    if problems:
        raise DataError(problems)
    return current


def _site_arrays(sites: Sequence[Site], changing: Sequence[int], choice: Mapping[str, str],
                 services: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(usable beds (n_changing, n_services), revenue (n_changing,)) of ``choice``."""
    usable = np.array([[sites[i].option(choice[sites[i].site_id]).usable_beds.get(v, 0.0)
                        for v in services] for i in changing], dtype=np.float64)
    revenue = np.array([sites[i].option(choice[sites[i].site_id]).revenue_gbp_per_year
                        for i in changing], dtype=np.float64)
    return usable.reshape(len(changing), len(services)), revenue


def build_phase_input(prepared: Prepared, target: Mapping[str, str],
                      appraisal: AppraisalSettings | None = None) -> PhaseInput:
    """The phasing instance of the move from ``status_quo`` to ``target``."""
    data, settings = prepared.data, prepared.scenario.phasing
    current = _start(prepared)
    appraisal = appraisal or AppraisalSettings.from_assumptions(data.assumptions.values)
    sites = prepared.evaluation_instance.sites
    services = tuple(prepared.evaluation_instance.services)
    changing = [i for i, s in enumerate(sites) if current[s.site_id] != target[s.site_id]]
    pos = {sites[i].site_id: k for k, i in enumerate(changing)}
    before_lines = {x.scheme_id for x in scheme_lines(prepared.catalogue, current)}
    lines = tuple(x for x in scheme_lines(prepared.catalogue, target)
                  if x.scheme_id not in before_lines and x.kind in BUILD_KINDS + CLOSURE_KINDS)
    phasing = read_scheme_phasing(
        data.directory, dict(zip(data.capital_schemes["scheme_id"],
                                 data.capital_schemes["site_id"], strict=True)),
        list(data.sites["site_id"]), needed=[x.scheme_id for x in lines])
    schemes, receipts, precedence = _moves(lines, phasing, pos, sites, target)
    first, last = settings.years(prepared.demand.planning_year)
    years = tuple(range(first, last + 1))
    usable_0, revenue_0 = _site_arrays(sites, changing, current, services)
    usable_1, revenue_1 = _site_arrays(sites, changing, target, services)
    fixed = [i for i in range(len(sites)) if i not in changing]
    fixed_usable, fixed_revenue = _site_arrays(sites, fixed, target, services)
    need = yearly_need(prepared, years)
    n_flow = len(years) + max([r.lag_years for r in receipts], default=0) + max(
        [s.build_years for s in schemes], default=1)
    inst = PhaseInstance(
        years=years, services=services, site_ids=tuple(sites[i].site_id for i in changing),
        site_names=tuple(sites[i].name for i in changing),
        usable_before=usable_0, usable_after=usable_1, revenue_before=revenue_0,
        revenue_after=revenue_1, fixed_usable=fixed_usable.sum(axis=0),
        fixed_revenue_gbp=float(fixed_revenue.sum()), need_beds=need,
        bed_days_per_bed_year=DAYS_PER_YEAR * prepared.demand.target_occupancy,
        schemes=schemes, receipts=receipts, precedence=precedence,
        envelope_gbp=settings.envelope(years), capital_basis=settings.capital_basis,
        discount=discount_factors(max(appraisal.appraisal_years, n_flow),
                                  appraisal.discount_rate_years_0_30,
                                  appraisal.discount_rate_years_31_plus),
        capex_weight=1.0 + appraisal.optimism_bias_capex)
    total = need[-1].sum()
    beta = need[-1] / total if total > 0 else np.full(len(services), 1 / len(services))
    pi = PhaseInput(inst, current, dict(target), lines, phasing, appraisal, beta,
                    tuple(changing))
    if settings.objective != "access":
        return pi
    if len(changing) > MAX_ACCESS_SITES:
        raise DataError([Problem(prepared.scenario.origin.get("phasing.objective", "scenario"),
                                 f"the access objective enumerates every intermediate "
                                 f"configuration; {len(changing)} sites move, more than "
                                 f"{MAX_ACCESS_SITES}; use objective npc or completion",
                                 field="phasing.objective")])
    return dataclasses.replace(pi, instance=dataclasses.replace(
        inst, access_min=mean_travel(prepared, pi)))


def _moves(lines: Sequence[SchemeLine], phasing: Mapping[str, SchemePhasing],
           pos: Mapping[str, int], sites: Sequence[Site], target: Mapping[str, str]
           ) -> tuple[tuple[PhaseScheme, ...], tuple[PhaseReceipt, ...], Pairs]:
    """The schemes, receipts and precedence pairs of the move."""
    by_id = {s.site_id: s for s in sites}
    schemes, receipts, precedence = [], [], set()
    for x in lines:
        ph = phasing[x.scheme_id]
        kind = "build" if x.kind in BUILD_KINDS else "closure"
        schemes.append(PhaseScheme(x.scheme_id, pos[x.site_id], kind,  # type: ignore[arg-type]
                                   x.capex_gbp, ph.build_years, ph.earliest_start_year))
        if x.receipt_realised_gbp > 0:
            need = {pos[x.site_id]} | {pos[c] for c in x.requires_closure if c in pos}
            receipts.append(PhaseReceipt(x.scheme_id, x.receipt_realised_gbp,
                                         tuple(sorted(need)), ph.receipt_lag_years))
        if kind == "build":
            for c in ph.takes_beds_of:
                if c in pos and not by_id[c].option(target[c]).inpatient:
                    precedence.add((pos[x.site_id], pos[c]))
    return tuple(schemes), tuple(receipts), tuple(sorted(precedence))


def mean_travel(prepared: Prepared, pi: PhaseInput,
                masks: Sequence[int] | None = None) -> np.ndarray:
    """The 65+ mean drive of intermediate configurations (all, or ``masks``)."""
    inst_eval = prepared.evaluation_instance
    services = inst_eval.services
    fixed_open = np.array([[site.option(pi.target[site.site_id]).beds.get(v, 0) > 0
                            for v in services] for site in inst_eval.sites])
    opened = {k: np.array([[inst_eval.sites[i].option(c[inst_eval.sites[i].site_id])
                            .beds.get(v, 0) > 0 for v in services] for i in pi.travel_cols],
                          dtype=bool).reshape(len(pi.travel_cols), len(services))
              for k, c in (("before", pi.current), ("after", pi.target))}
    return configuration_mean_travel(inst_eval.travel_min, inst_eval.zones.weight, pi.beta,
                                     fixed_open, pi.travel_cols, opened["before"],
                                     opened["after"], masks)


def phase_configuration(prepared: Prepared, option: str | Mapping[str, str],
                        appraisal: AppraisalSettings | None = None,
                        label: str = "given") -> PhasePlan:
    """Phase a configuration of a prepared scenario (see the module docstring).

    Parameters
    ----------
    prepared : Prepared
        The scenario, with its ``[phasing]`` settings.
    option : str or Mapping[str, str]
        A configuration of ``wards.csv``, ``"optimal"``, or site_id -> option_id.
    appraisal : AppraisalSettings, optional
        Green Book settings (default: from the assumptions).
    label : str
        The name of a mapping ``option`` in the plan.

    Raises
    ------
    DataError
        Bad ``[phasing]`` settings, an unknown option, or a bad ``scheme_phasing.csv``.
    """
    if prepared.scenario.phasing.choose_end_state:
        return phase_jointly(prepared, appraisal)
    label, target = target_choice(prepared, option, label)
    pi = build_phase_input(prepared, target, appraisal)
    settings = prepared.scenario.phasing
    schedule = solve_phasing(pi.instance, settings.objective, prepared.scenario.solver,
                             shortfall_first=settings.shortfall_first)
    return assemble_plan(prepared, pi, schedule, label)


def joint_instance(prepared: Prepared, appraisal: AppraisalSettings) -> JointInstance:
    """The ward model's instance with every option's phasing data (``choose_end_state``)."""
    data, settings = prepared.data, prepared.scenario.phasing
    current = _start(prepared)
    inst, cat = prepared.instance, prepared.catalogue
    eval_sites = {s.site_id: s for s in prepared.evaluation_instance.sites}
    records = cat.scheme_records
    today = tuple(current[s.site_id] if any(o.option_id == current[s.site_id]
                                             for o in s.options) else None for s in inst.sites)
    wanted = sorted({sid for site in inst.sites for ids in cat.schemes[site.site_id].values()
                     for sid in ids if records[sid].kind in BUILD_KINDS + CLOSURE_KINDS})
    phasing = read_scheme_phasing(
        data.directory, dict(zip(data.capital_schemes["scheme_id"],
                                 data.capital_schemes["site_id"], strict=True)),
        list(data.sites["site_id"]), needed=wanted)
    schemes = []
    for site in inst.sites:
        old = set(cat.schemes[site.site_id].get(current[site.site_id], ()))
        by_option = {}
        for o in site.options:
            ids = [sid for sid in cat.schemes[site.site_id].get(o.option_id, ())
                   if sid not in old and sid in wanted]
            by_option[o.option_id] = tuple(JointScheme(
                sid, "build" if records[sid].kind in BUILD_KINDS else "closure",
                records[sid].capex_gbp, phasing[sid].build_years,
                phasing[sid].earliest_start_year, records[sid].unconditional_receipt_gbp(),
                phasing[sid].receipt_lag_years) for sid in ids)
        schemes.append(by_option)
    pos = {site.site_id: i for i, site in enumerate(inst.sites)}
    first, last = settings.years(prepared.demand.planning_year)
    years = tuple(range(first, last + 1))
    before = [eval_sites[s.site_id].option(current[s.site_id]) for s in inst.sites]
    return JointInstance(
        instance=inst, years=years, today=today,
        before_usable=np.array([[o.usable_beds.get(v, 0.0) for v in inst.services]
                                for o in before], dtype=np.float64),
        before_revenue=np.array([o.revenue_gbp_per_year for o in before], dtype=np.float64),
        before_closed=tuple(not o.inpatient for o in before), schemes=tuple(schemes),
        linked=tuple((lr, phasing[lr.scheme_id].receipt_lag_years)
                     for lr in inst.linked_receipts if lr.scheme_id in phasing),
        takes=tuple((sid, pos[c]) for sid in wanted for c in phasing[sid].takes_beds_of
                    if c in pos),
        need_beds=yearly_need(prepared, years),
        bed_days_per_bed_year=DAYS_PER_YEAR * prepared.demand.target_occupancy,
        envelope_gbp=settings.envelope(years), capital_basis=settings.capital_basis,
        discount=discount_factors(appraisal.appraisal_years, appraisal.discount_rate_years_0_30,
                                  appraisal.discount_rate_years_31_plus),
        capex_weight=1.0 + appraisal.optimism_bias_capex)


def phase_jointly(prepared: Prepared, appraisal: AppraisalSettings | None = None) -> PhasePlan:
    """Choose the end state and its phasing together (``phasing.choose_end_state``): the ward
    model's limits on the end state, the phasing rules on the way (see
    :mod:`siteopt.wards.phasing_joint`); the plan is then reported, and checked, as the phasing
    of the chosen end state."""
    scen = prepared.scenario
    if scen.phasing.objective == "access":
        raise DataError([Problem(scen.origin.get("phasing.objective", "scenario"),
                                 "the access objective is not offered with choose_end_state; "
                                 "use npc or completion", field="phasing.objective")])
    appraisal = appraisal or AppraisalSettings.from_assumptions(prepared.data.assumptions.values)
    ji = joint_instance(prepared, appraisal)
    res = solve_joint(ji, scen.model, scen.phasing.objective, scen.solver,
                      shortfall_first=scen.phasing.shortfall_first)
    current = _start(prepared)
    target = {sid: (current[sid] if res.choice.get(sid) == today else res.choice[sid])
              for sid, today in zip(current, ji.today, strict=True)} if res.choice else current
    pi = build_phase_input(prepared, target, appraisal)
    inst = pi.instance
    switch = tuple(res.move_year_idx.get(sid, 0) for sid in inst.site_ids)
    starts = {k.scheme_id: switch[k.site_idx] - k.build_years for k in inst.schemes
              if k.kind == "build"}
    words = () if res.choice else (
        "no end state within the scenario's limits has a programme within the envelopes"
        + (" (proven by the solver)" if res.status == STATUS_INFEASIBLE else
           f" found ({res.status})")
        + "; phase a fixed option (--option) to see by how much its envelopes fall short",)
    schedule = PhaseSchedule(res.status, res.gap, switch if res.choice else (),
                             starts if res.choice else {}, res.stages, words,
                             scen.solver.solver, res.build_time_s,
                             sum(s.solve_time_s for s in res.stages), res.n_variables,
                             res.n_constraints)
    return assemble_plan(prepared, pi, schedule, JOINT)


def all_at_once(prepared: Prepared, pi: PhaseInput) -> tuple[float, float]:
    """(NPC of the target all at once, NPC of the status quo), as the appraisal computes."""
    inst = prepared.evaluation_instance
    t_tot, q_tot = totals(inst, pi.target), totals(inst, pi.current)
    npc = economic_case(t_tot["capex_gbp"], t_tot["disposals_gbp"],
                        t_tot["revenue_gbp_per_year"], pi.appraisal)["npc_gbp"]
    sq = economic_case(q_tot["capex_gbp"], q_tot["disposals_gbp"],
                       q_tot["revenue_gbp_per_year"], pi.appraisal)["npc_gbp"]
    return float(npc), float(sq)


def phased_npc(pi: PhaseInput, capex_gbp: np.ndarray, receipts_gbp: np.ndarray,
               revenue_gbp: np.ndarray, end_revenue_gbp: float) -> float:
    """Green Book NPC of year-by-year flows (index 0 = the first year; see the module
    docstring)."""
    gb = pi.appraisal
    n = gb.appraisal_years
    df = discount_factors(max(n, len(capex_gbp)), gb.discount_rate_years_0_30,
                          gb.discount_rate_years_31_plus)
    k = len(capex_gbp)
    npc = float((df[:k] * (capex_gbp * (1 + gb.optimism_bias_capex) - receipts_gbp)).sum())
    rev = np.full(n + 1, end_revenue_gbp)
    rev[: min(k, n + 1)] = revenue_gbp[: n + 1]
    npc += float((df[1: n + 1] * rev[1:]).sum())
    residual = 0.0
    if gb.residual_value_method == "straight_line":
        residual = float(capex_gbp.sum()) * max(0.0, 1.0 - n / gb.asset_life_years)
    return npc - residual * float(df[n])


def assemble_plan(prepared: Prepared, pi: PhaseInput, schedule: PhaseSchedule,
                  label: str) -> PhasePlan:
    """The plan of a solved (or unsolved) schedule."""
    inst = pi.instance
    npc_once, npc_sq = all_at_once(prepared, pi)
    common: dict[str, Any] = {
        "option": label, "scenario": scenario_label(prepared.scenario),
        "objective": prepared.scenario.phasing.objective, "capital_basis": inst.capital_basis,
        "first_year": inst.years[0], "last_year": inst.years[-1], "status": schedule.status,
        "status_text": schedule.status_text, "gap": schedule.gap,
        "explanation": schedule.explanation, "npc_all_at_once_gbp": npc_once,
        "npv_all_at_once_gbp": npc_sq - npc_once, "build_time_s": schedule.build_time_s,
        "solve_time_s": schedule.solve_time_s, "n_variables": schedule.n_variables,
        "n_constraints": schedule.n_constraints, "end_state": dict(pi.target)}
    if not schedule.solved:
        return PhasePlan(years=(), schemes=(), wards=(), receipts=(), site_moves={},
                         completion_year=None, npc_phased_gbp=None, npv_phased_gbp=None,
                         shortfall_bed_days=None, **common)
    f = schedule_flows(inst, schedule.switch, schedule.build_start)
    end_revenue = inst.fixed_revenue_gbp + float(inst.revenue_after.sum())
    npc = phased_npc(pi, f.capex_gbp, f.receipts_gbp, f.revenue_gbp, end_revenue)
    rows = _year_rows(prepared, pi, schedule, f)
    schemes = tuple(SchemeRow(k.scheme_id, inst.site_ids[k.site_idx], k.kind, k.capex_gbp,
                              k.build_years, inst.years[0] + int(start),
                              inst.years[0] + int(start) + k.build_years - 1,
                              pi.phasing[k.scheme_id].stp_start_year)
                    for k, start in zip(inst.schemes, f.scheme_start, strict=True))
    receipts = tuple(ReceiptRow(r.scheme_id, r.receipt_gbp, inst.years[0] + int(y))
                     for r, y in zip(inst.receipts, f.receipt_year, strict=True))
    moves = {sid: inst.years[0] + int(t) for sid, t in zip(inst.site_ids, schedule.switch,
                                                            strict=True)}
    plan = PhasePlan(
        years=rows, schemes=schemes, wards=ward_moves(prepared, pi, moves), receipts=receipts,
        site_moves=moves, completion_year=max(moves.values(), default=inst.years[0]),
        npc_phased_gbp=npc, npv_phased_gbp=npc_sq - npc,
        shortfall_bed_days=float(f.shortfall_beds.sum() * inst.bed_days_per_bed_year),
        violations=tuple(verify_schedule(inst, schedule)), **common)
    return dataclasses.replace(plan, stp_comparison=tuple(compare_with_stp(plan)))


def _year_rows(prepared: Prepared, pi: PhaseInput, schedule: PhaseSchedule,
               f: Any) -> tuple[YearRow, ...]:
    inst = pi.instance
    masks = [sum(1 << i for i in range(inst.n_sites) if f.switched[t, i])
             for t in range(inst.n_years)]
    travel = mean_travel(prepared, pi, sorted(set(masks)))
    by_mask = dict(zip(sorted(set(masks)), travel, strict=True))
    rows = []
    for t, year in enumerate(inst.years):
        double = float(sum(float(inst.revenue_before[b]) for a, b in inst.precedence
                           if f.switched[t, a] and not f.switched[t, b]))
        env = float(inst.envelope_gbp[t])
        mean = float(by_mask[masks[t]])
        rows.append(YearRow(
            year=year, capex_gbp=float(f.capex_gbp[t]), receipts_gbp=float(f.receipts_gbp[t]),
            net_capital_gbp=float(f.capex_gbp[t] - f.receipts_gbp[t]),
            envelope_gbp=env if np.isfinite(env) else None,
            usable_beds={v: float(f.usable_beds[t, k]) for k, v in enumerate(inst.services)},
            need_beds={v: float(inst.need_beds[t, k]) for k, v in enumerate(inst.services)},
            shortfall_bed_days=float(f.shortfall_beds[t].sum() * inst.bed_days_per_bed_year),
            revenue_gbp=float(f.revenue_gbp[t]), double_running_gbp=double,
            mean_travel_min=mean if np.isfinite(mean) else None,
            moves=tuple(s for i, s in enumerate(inst.site_ids) if schedule.switch[i] == t),
            starts=tuple(k.scheme_id for k, s in zip(inst.schemes, f.scheme_start, strict=True)
                         if int(s) == t)))
    return tuple(rows)


def ward_moves(prepared: Prepared, pi: PhaseInput, moves: Mapping[str, int]
               ) -> tuple[WardMove, ...]:
    """Each ward that closes or opens, in the year its site moves."""
    cat = prepared.catalogue
    names = {s.site_id: s.name for s in prepared.evaluation_instance.sites}
    out = []
    for sid, year in sorted(moves.items(), key=lambda kv: (kv[1], kv[0])):
        old = {(w.space_id, w.service, w.beds) for w in cat.wards[sid][pi.current[sid]]}
        new = {(w.space_id, w.service, w.beds) for w in cat.wards[sid][pi.target[sid]]}
        for change, wards in (("closes", old - new), ("opens", new - old)):
            for space, service, beds in sorted(wards):
                out.append(WardMove(sid, names[sid], space, service, beds, change, year))
    return tuple(out)


def compare_with_stp(plan: PhasePlan) -> list[str]:
    """The plan's order against the 2016 plan's (``stp_start_year`` of scheme_phasing.csv):
    which scheme first, and the year of each scheme and closure; empty if no scheme has an STP
    year."""
    dated = [s for s in plan.schemes if s.stp_start_year is not None]
    if not dated:
        return []
    ours = sorted(dated, key=lambda s: (s.start_year, s.scheme_id))
    stp = sorted(dated, key=lambda s: (s.stp_start_year or 0, s.scheme_id))
    out = [f"first scheme: {ours[0].scheme_id} in {fy(ours[0].start_year)} (the STP: "
           f"{stp[0].scheme_id} in {fy(stp[0].stp_start_year or 0)})"]
    same = sum(1 for s in dated if s.start_year == s.stp_start_year)
    for s in ours:
        word = "the same year" if s.start_year == s.stp_start_year else (
            f"{abs(s.start_year - (s.stp_start_year or 0))} year(s) "
            + ("later" if s.start_year > (s.stp_start_year or 0) else "earlier"))
        what = "beds close, closure scheme" if s.kind == "closure" else "work starts"
        out.append(f"{s.scheme_id} ({what}): {fy(s.start_year)}, STP "
                   f"{fy(s.stp_start_year or 0)}, {word}")
    out.append(f"{same} of {len(dated)} schemes start in the STP's year")
    return out


# ---------------------------------------------------------------------------------------------
# In the appraisal
# ---------------------------------------------------------------------------------------------
PhaseResult = PhasePlan | tuple[str, ...]
"""A task's result: the plan, or the lines saying why no plan could be built."""


def phase_task(prepared: Prepared, label: str, choice: dict[str, str],
               appraisal: AppraisalSettings) -> PhaseResult:
    """Phase one option of the appraisal (a task for :class:`PreparedPool`): the plan of the
    move to ``choice`` (never the joint end state), or the problem lines when the phasing
    cannot be built (e.g. no ``scheme_phasing.csv``)."""
    scen = prepared.scenario
    fixed = dataclasses.replace(prepared, scenario=dataclasses.replace(
        scen, phasing=dataclasses.replace(scen.phasing, choose_end_state=False)))
    try:
        return phase_configuration(fixed, choice, appraisal, label=label)
    except SiteoptError as err:
        return tuple(err.lines())


def options_to_phase(settings: AppraisalSettings, preferred: str,
                     choices: Mapping[str, Mapping[str, str]], notes: list[str]
                     ) -> dict[str, dict[str, str]]:
    """Option name -> configuration of each ``phase_options`` entry on the long list
    (``preferred``: the preferred option), once each; a note for any other entry."""
    out: dict[str, dict[str, str]] = {}
    for entry in settings.phase_options:
        name = preferred if entry == PREFERRED else entry
        if name in choices:
            out.setdefault(name, dict(choices[name]))
        else:
            notes.append(f"phasing: '{entry}' (appraisal.phase_options) is not an option of "
                         "the long list, so it is not phased")
    return out


def submit_phasing(pool: PreparedPool, options: Mapping[str, Mapping[str, str]],
                   appraisal: AppraisalSettings) -> dict[str, Future[PhaseResult]]:
    """Submit :func:`phase_task` for each option (name -> configuration); a plan kept from an
    earlier run of the same inputs is read back (:meth:`PreparedPool.submit_cached`)."""
    return {name: pool.submit_cached(phase_task, name, dict(choice), appraisal)
            for name, choice in options.items()}


def plan_words(decision: Mapping[str, Any], preferred: str) -> dict[str, str]:
    """Option name -> the option in words for the phasing's sentences: ``Option D (the
    preferred option)``, ``Option B (the 2016 proposal)``, or the name if not lettered."""
    out = {}
    for name in decision.get("titles", {}):
        letter = decision.get("letters", {}).get(name)
        words = f"Option {letter}" if letter else name
        role = ("the preferred option" if name == preferred else
                "the 2016 proposal" if name == STP_2016 else "")
        out[name] = (f"{words} ({role})" if letter else role) if role else words
    return out


def collect_phasing(futures: Mapping[str, Future[PhaseResult]], words: Mapping[str, str],
                    notes: list[str]) -> dict[str, PhasePlan]:
    """The plans of the submitted phasings, in order; a note (in ``words[name]``, the option
    in words) for each that could not be built, found no programme or failed its check."""
    plans: dict[str, PhasePlan] = {}
    for name, future in futures.items():
        result = future.result()
        what = words.get(name, name)
        if not isinstance(result, PhasePlan):
            notes.append(f"phasing of {what} not done: " + "; ".join(result))
            continue
        plans[name] = result
        if not result.years:
            notes.append(f"phasing of {what}: {result.status_text}"
                         + (": " + " ".join(result.explanation) if result.explanation else ""))
        elif result.violations:
            notes.append(f"phasing of {what}: independent check: "
                         + "; ".join(result.violations))
    return plans

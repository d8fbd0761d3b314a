"""The appraisal's solves as tasks for :class:`siteopt.runs.workers.PreparedPool`, and the chain
of the optimum and the next best options read ahead from the enumeration.

Every task is a module-level function ``task(prepared, *args)`` that builds and solves exactly
the model the serial code would (so a result is the same whichever process computes it).

**The chain read ahead.** The next best options are found one after another: the *i*-th is the
optimum with every ward signature found before it cut off
(:func:`siteopt.appraisal.longlist.no_good_cuts`), so each solve needs the one before it.
When the configuration space is enumerated, :func:`predicted_chain` reads the whole chain off
the enumeration (the least objective among the signatures not yet found, ties broken as
:func:`siteopt.wards.solve.break_ties` breaks them: the least cost, then the fewest ward
changes from today), and :class:`ChainFutures` submits every link at once, each with the cuts
of the predicted links before it. Each result is then checked against its prediction: while
the signatures agree, every link's model is exactly the one the serial chain would have built.
At the first disagreement the links after it are thrown away and solved one after another
from the real results, so the answer is the serial chain's in every case; only the time
differs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import Literal

from siteopt.appraisal.enumeration import Enumerated
from siteopt.appraisal.longlist import no_good_cuts
from siteopt.appraisal.measures import evaluate_choice, ward_signature
from siteopt.errors import InfeasibleError
from siteopt.runs.pipeline import Prepared, evaluate_configuration
from siteopt.runs.workers import PreparedPool
from siteopt.wards.instance import ModelSettings
from siteopt.wards.results import Solution, objective_from_measures
from siteopt.wards.solve import optimise

Choice = dict[str, str]


# ---------------------------------------------------------------------------------------------
# Tasks (run in a worker or here)
# ---------------------------------------------------------------------------------------------
def optimum_task(prepared: Prepared, found: tuple[Choice, ...]) -> Solution | None:
    """The scenario's optimum with the ward signatures of ``found`` cut off (none: the
    optimum itself, infeasibility explained); None when cuts leave no configuration."""
    s = prepared.scenario
    if not found:
        return optimise(prepared.instance, s.model, s.solver)
    try:
        return optimise(prepared.instance, s.model, s.solver,
                        extra_constraints=no_good_cuts(prepared.instance, list(found)),
                        explain=False)
    except InfeasibleError:
        return None


def end_task(prepared: Prepared, objective: Literal["cost", "access"]) -> Solution:
    """The MILP's exact optimum of ``objective`` (``cost`` or ``access``) for the check of the
    frontier's ends: only its objective value is used, so ties are not broken and the
    assignment is not polished."""
    s = prepared.scenario
    exact = dataclasses.replace(s.solver, gap_rel=1e-9, break_ties=False)
    return optimise(prepared.instance, dataclasses.replace(s.model, objective=objective), exact,
                    polish_assignment=False)


def evaluate_task(prepared: Prepared, name: str, choice: Choice | None) -> Solution:
    """A configuration of ``wards.csv`` (``choice`` None) or any ``choice``, evaluated."""
    if choice is None:
        return evaluate_configuration(prepared, name)
    return evaluate_choice(prepared, name, choice)


# ---------------------------------------------------------------------------------------------
# The chain of the optimum and the next best
# ---------------------------------------------------------------------------------------------
def _tied(values: Sequence[float], idx: list[int], tol_rel: float) -> list[int]:
    """The entries of ``idx`` within the tie tolerance of the least value among them."""
    z = min(values[j] for j in idx)
    return [j for j in idx if values[j] <= z + tol_rel * max(abs(z), 1.0)]


def predicted_chain(prepared: Prepared, enum: Enumerated, n: int) -> list[Choice]:
    """The optimum and the next ``n`` distinct options as the MILP should find them, read off
    the enumeration (at most ``n + 1``; fewer when the distinct ward signatures run out).

    A prediction only: :meth:`ChainFutures.result` checks each against the MILP's result.
    """
    inst = prepared.instance
    model: ModelSettings = prepared.scenario.model
    tol = prepared.scenario.solver.tie_gap_rel
    objective = [objective_from_measures(model.objective, float(t), float(c), model.travel_weight,
                                         model.cost_weight_per_gbp_m)
                 for t, c in zip(enum.mean_travel_min, enum.cost_gbp_per_year, strict=True)]
    cost = [float(c) for c in enum.cost_gbp_per_year]
    sites = {s.site_id: s for s in inst.sites}
    changes = [sum(sites[sid].changes(sites[sid].option(oid)) for sid, oid in c.items())
               for c in enum.choices]
    signatures = [ward_signature(inst, c) for c in enum.choices]
    found: set[tuple[tuple[int, ...], ...]] = set()
    out: list[Choice] = []
    for _ in range(n + 1):
        left = [j for j in range(len(enum.choices)) if signatures[j] not in found]
        if not left:
            break
        near = _tied(objective, left, tol)
        if model.objective != "cost":
            near = _tied(cost, near, tol)
        j = min(near, key=lambda k: changes[k])
        out.append(dict(enum.choices[j]))
        found.add(signatures[j])
    return out


@dataclasses.dataclass
class ChainFutures:
    """The optimum and next best solves in flight (:meth:`start`), and their checked result
    (:meth:`result`)."""

    pool: PreparedPool
    n: int
    chain: Sequence[Choice] | None
    futures: list[Future[Solution | None]]
    signature: Callable[[Mapping[str, str]], tuple[tuple[int, ...], ...]]

    @classmethod
    def start(cls, pool: PreparedPool, prepared: Prepared, n: int,
              chain: Sequence[Choice] | None,
              first: Future[Solution | None] | None = None) -> ChainFutures:
        """Submit the optimum and the ``n`` next best solves, each with the cuts of the links
        before it in ``chain`` (:func:`predicted_chain`; one link more than the chain if it
        is shorter than ``n + 1``, to prove the space runs out). Without a chain only the
        optimum is submitted; the rest follow one after another in :meth:`result`.
        ``first``: the optimum's solve, if already submitted (``optimum_task`` with no cuts).
        """
        links = range(min(len(chain) + 1, n + 1)) if chain else range(1)
        futures = [first if i == 0 and first is not None else
                   pool.submit(optimum_task, tuple(chain[:i]) if chain else ()) for i in links]
        return cls(pool, n, chain, futures, lambda c: ward_signature(prepared.instance, c))

    def result(self) -> list[Solution]:
        """The optimum and up to ``n`` next best, exactly as found one after another."""
        out: list[Solution] = []
        chain = self.chain or []
        for i, future in enumerate(self.futures):
            sol = future.result()
            if sol is None:
                return out  # proven: the cuts leave nothing, where the chain said
            out.append(sol)
            if i >= len(chain) or self.signature(sol.choice) != self.signature(chain[i]):
                for rest in self.futures[i + 1:]:
                    rest.cancel()
                break
        else:
            return out
        # from the first disagreement (or without a chain): one after another
        while len(out) < self.n + 1:
            sol = self.pool.submit(optimum_task, tuple(s.choice for s in out)).result()
            if sol is None:
                break
            out.append(sol)
        return out


def choice_key(choice: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The (site_id, option_id) pairs, sorted: two options with the same key are one."""
    return tuple(sorted(choice.items()))


class Points:
    """Evaluations of named and Pareto points, each configuration solved once.

    A point whose configuration is already in the long list (a named option, a link of the
    predicted chain, an earlier point) is not evaluated: the long list merges it into the
    earlier option and keeps that one's solution. Its result is that option's solution, once
    :attr:`known` holds it (the caller adds the chain's real results); a point predicted to
    be a link of the chain that turned out not to be is evaluated when asked for.

    Parameters
    ----------
    pool : PreparedPool
    planned : sequence of dict
        Configurations already on the long list or on their way (not evaluated here).
    """

    def __init__(self, pool: PreparedPool, planned: Sequence[Mapping[str, str]]) -> None:
        self.pool = pool
        self.seen = {choice_key(c) for c in planned}
        self.known: dict[tuple[tuple[str, str], ...], Solution] = {}
        self.keys: dict[str, tuple[tuple[str, str], ...]] = {}
        self.choices: dict[str, Choice] = {}
        self.futures: dict[str, Future[Solution]] = {}
        self.first: dict[tuple[tuple[str, str], ...], str] = {}

    def add(self, points: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        """Submit the evaluation of each (name, choice) not seen before."""
        for name, choice in points:
            key = choice_key(choice)
            self.keys[name], self.choices[name] = key, dict(choice)
            if key not in self.seen:
                self.seen.add(key)
                self.first[key] = name
                self.futures[name] = self.pool.submit(evaluate_task, name, dict(choice))

    def result(self, name: str) -> Solution:
        """The solution of point ``name`` (see the class docstring)."""
        key = self.keys[name]
        if name in self.futures:
            return self.futures[name].result()
        if key in self.known:
            return self.known[key]
        if key in self.first:
            return self.result(self.first[key])
        self.first[key] = name
        self.futures[name] = self.pool.submit(evaluate_task, name, self.choices[name])
        return self.futures[name].result()

    def results(self, names: Sequence[str]) -> list[Solution]:
        """:meth:`result` of each name, in order."""
        return [self.result(n) for n in names]

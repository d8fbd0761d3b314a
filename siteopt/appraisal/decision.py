"""The Green Book's decision structure: long list -> short list -> preferred option.

1. **Short list.** An option is short-listed when it passes every hurdle (the critical success
   factors of :func:`siteopt.appraisal.appraise.hurdles`). Business as usual (BAU, today's
   beds) and the *do minimum* (BAU plus only what must happen anyway) are always on the short
   list as benchmarks, whatever their hurdles say.
2. **Eligible.** A short-listed option may be preferred unless it is BAU that cannot continue,
   it fails a hurdle (a benchmark kept only for comparison), or another short-listed option
   **dominates** it: is at least as good on NPV against BAU, on the 65+ mean drive and on every
   hurdle measure (:data:`HURDLE_MEASURES`), and better on at least one.
3. **Value for money** ranks the eligible options. ``cost_per_benefit_point``: the lowest net
   present cost per weighted benefit point, :math:`\\mathrm{NPC}_i / B_i` (the NHS Capital
   Investment Manual's measure; :math:`B_i` from :mod:`siteopt.appraisal.benefits`).
   ``highest_npv``: the highest NPV against BAU, the benefit score breaking ties. The first is
   the preferred option, the second the runner-up.

**Robustness.** With ``cost_per_benefit_point``, the share of ``weight_samples`` random weight
vectors (uniform on the simplex, seeded) under which the preferred option stays first; and, for
each other eligible option :math:`j`, the smallest change of the weights that makes it first:

.. math:: \\min_{w \\ge 0,\\ \\sum w = 1} \\tfrac12 \\lVert w - w_0 \\rVert_1
   \\quad\\text{s.t.}\\quad (\\mathrm{NPC}_j\\, s_p - \\mathrm{NPC}_p\\, s_j) \\cdot w \\le 0,

a linear programme (``j`` beats the preferred ``p`` when :math:`\\mathrm{NPC}_j B_p(w) <
\\mathrm{NPC}_p B_j(w)`, linear in :math:`w`); half the L1 distance is the share of weight that
must move from some criteria to others.

**Switching values of receipts.** For each disposal receipt the preferred option books, the
receipt value below which another option becomes preferred (bisection on the receipt, every
option that books it re-ranked).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog

from siteopt.appraisal.benefits import CRITERIA

HURDLE_MEASURES: dict[str, str] = {
    "bed_shortfall_beds": "lower",
    "capital_used_gbp": "lower",
    "staff_wte_rn": "lower",
    "worst_group_share_within_45_min": "higher",
    "max_travel_min": "lower",
    "small_isolated_wards": "lower",
    "worst_refusal": "lower",
}
"""The measures behind the hurdles, and which way is better (for dominance)."""
TOLERANCE = {"npv_gbp": 1.0, "mean_travel_min": 1e-6, "bed_shortfall_beds": 1e-6,
             "capital_used_gbp": 1.0, "staff_wte_rn": 1e-6,
             "worst_group_share_within_45_min": 1e-9, "max_travel_min": 1e-6,
             "small_isolated_wards": 0.5, "worst_refusal": 1e-9}
"""Differences smaller than these (pounds, minutes, beds, WTE, shares) are ties."""
BISECTION_STEPS = 50


@dataclass(frozen=True)
class Candidate:
    """One option's figures for the decision, as plain numbers."""

    name: str
    npv_gbp: float
    npc_gbp: float
    mean_travel_min: float
    hurdle_measures: Mapping[str, float]
    criterion_scores: Mapping[str, float]
    shortlisted: bool
    """Passes every hurdle or is a benchmark."""
    passes_hurdles: bool
    can_continue: bool = True
    receipts_gbp: Mapping[str, float] = dataclasses.field(default_factory=dict)
    """scheme_id -> the disposal receipt the option books from it."""

    @property
    def may_be_preferred(self) -> bool:
        """Passes every hurdle and can continue (dominance is judged separately)."""
        return self.passes_hurdles and self.can_continue


@dataclass(frozen=True)
class Ranking:
    """The outcome of the rule on one set of candidates."""

    eligible: list[str]
    """In value-for-money order: ``eligible[0]`` is preferred."""
    dominated_by: dict[str, str]
    """Short-listed option -> a short-listed option that dominates it."""
    value: dict[str, float]
    """Eligible option -> its value-for-money figure (NPC per benefit point, or NPV)."""
    benefit: dict[str, float]
    """Every candidate -> its weighted benefit score."""


def dominates(a: Candidate, b: Candidate) -> bool:
    """``a`` is at least as good as ``b`` on NPV, mean drive and every hurdle measure, and
    better on one (differences within :data:`TOLERANCE` are ties)."""
    pairs = [(a.npv_gbp, b.npv_gbp, "higher", TOLERANCE["npv_gbp"]),
             (a.mean_travel_min, b.mean_travel_min, "lower", TOLERANCE["mean_travel_min"])]
    pairs += [(a.hurdle_measures[k], b.hurdle_measures[k], way, TOLERANCE[k])
              for k, way in HURDLE_MEASURES.items()]
    better = False
    for x, y, way, tol in pairs:
        gain = (x - y) if way == "higher" else (y - x)
        if gain < -tol:
            return False
        better = better or gain > tol
    return better


def weighted(c: Candidate, weights: Mapping[str, float]) -> float:
    """The candidate's weighted benefit score."""
    return float(sum(float(weights[k]) * c.criterion_scores[k] for k in CRITERIA))


def rank(candidates: Sequence[Candidate], weights: Mapping[str, float], rule: str) -> Ranking:
    """Apply the decision rule (see the module docstring) to ``candidates``."""
    short = [c for c in candidates if c.shortlisted]
    dominated: dict[str, str] = {}
    for b in short:
        for a in short:
            if a is not b and dominates(a, b):
                dominated[b.name] = a.name
                break
    benefit = {c.name: weighted(c, weights) for c in candidates}
    pool = [c for c in short if c.may_be_preferred and c.name not in dominated]
    value: dict[str, float] = {}
    for c in pool:
        if rule == "highest_npv":
            value[c.name] = c.npv_gbp
        else:
            value[c.name] = c.npc_gbp / benefit[c.name] if benefit[c.name] > 0 else float("inf")
    if rule == "highest_npv":
        order = sorted(pool, key=lambda c: (-round(c.npv_gbp, 0), -benefit[c.name], c.name))
    else:
        order = sorted(pool, key=lambda c: (value[c.name], -benefit[c.name], c.name))
    return Ranking([c.name for c in order], dominated, value, benefit)


def weight_robustness(candidates: Sequence[Candidate], ranking: Ranking,
                      weights: Mapping[str, float], samples: int, seed: int
                      ) -> dict[str, Any]:
    """How robust the preferred option is to the benefit weights (``cost_per_benefit_point``).

    Returns
    -------
    dict
        ``samples``, ``seed``, ``share_preferred_first`` (of the random weight vectors),
        ``first_counts`` (option -> how often it is first) and ``nearest`` (per other eligible
        option: the smallest share of weight to move, and the weights that make it first),
        sorted by that share.
    """
    by_name = {c.name: c for c in candidates}
    pool = [by_name[n] for n in ranking.eligible]
    crit = list(CRITERIA)
    w0 = np.array([float(weights[k]) for k in crit])
    out: dict[str, Any] = {"samples": samples, "seed": seed, "criteria": crit,
                           "share_preferred_first": 1.0, "first_counts": {}, "nearest": []}
    if len(pool) < 2:
        return out
    scores = np.array([[c.criterion_scores[k] for k in crit] for c in pool])
    npc = np.array([c.npc_gbp for c in pool])
    draws = np.random.default_rng(seed).dirichlet(np.ones(len(crit)), size=samples)
    benefit = scores @ draws.T
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(benefit > 0, npc[:, None] / benefit, np.inf)
    first = np.argmin(ratio, axis=0)
    out["share_preferred_first"] = float(np.mean(first == 0))
    out["first_counts"] = {pool[i].name: int(n) for i, n in
                           zip(*np.unique(first, return_counts=True), strict=True)}
    nearest = []
    for j in range(1, len(pool)):
        a = npc[j] * scores[0] - npc[0] * scores[j]
        move = smallest_weight_change(w0, a)
        if move is not None:
            nearest.append({"option": pool[j].name, "weight_moved": move[0],
                            "weights": dict(zip(crit, move[1].tolist(), strict=True))})
    out["nearest"] = sorted(nearest, key=lambda d: (d["weight_moved"], d["option"]))
    return out


def smallest_weight_change(w0: np.ndarray, a: np.ndarray
                           ) -> tuple[float, np.ndarray] | None:
    """The least share of weight to move from ``w0`` so that ``a . w <= 0`` (None if no weights
    on the simplex do it).

    Variables ``[w, u]`` with ``u >= |w - w0|``; minimise ``sum(u) / 2``.
    """
    k = len(w0)
    c = np.concatenate([np.zeros(k), 0.5 * np.ones(k)])
    eye = np.eye(k)
    a_ub = np.vstack([np.hstack([eye, -eye]), np.hstack([-eye, -eye]),
                      np.concatenate([a, np.zeros(k)])[None, :]])
    b_ub = np.concatenate([w0, -w0, [0.0]])
    a_eq = np.concatenate([np.ones(k), np.zeros(k)])[None, :]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0],
                  bounds=[(0, None)] * (2 * k), method="highs")
    if res.status != 0:
        return None
    return float(res.fun), np.asarray(res.x[:k])


def receipt_switching_values(candidates: Sequence[Candidate], ranking: Ranking,
                             weights: Mapping[str, float], rule: str,
                             npc_of: Callable[[Candidate, float], float] | None = None
                             ) -> list[dict[str, Any]]:
    """Per receipt the preferred option books: the value below which it stops being preferred.

    Parameters
    ----------
    candidates, ranking, weights, rule
        As for :func:`rank`; ``ranking.eligible[0]`` is the preferred option.
    npc_of : callable, optional
        ``(candidate, receipt shortfall in pounds) -> NPC``; default: the NPC plus the
        shortfall (a receipt at year 0 is not discounted).

    Returns
    -------
    list of dict
        ``scheme_id``, ``receipt_gbp`` (as booked), ``switching_value_gbp`` (None if the
        preferred option stays first even with no receipt) and ``then_preferred``.
    """
    if not ranking.eligible:
        return []
    shift = npc_of or (lambda c, short: c.npc_gbp + short)
    pref = next(c for c in candidates if c.name == ranking.eligible[0])
    out = []
    for scheme, receipt in sorted(pref.receipts_gbp.items()):
        if receipt <= 0:
            continue

        def first_at(value: float, scheme: str = scheme) -> str | None:
            moved = []
            for c in candidates:
                booked = c.receipts_gbp.get(scheme, 0.0)
                short = max(0.0, booked - value) if booked > 0 else 0.0
                moved.append(dataclasses.replace(c, npc_gbp=shift(c, short),
                                                 npv_gbp=c.npv_gbp - short))
            r = rank(moved, weights, rule)
            return r.eligible[0] if r.eligible else None

        if first_at(0.0) == pref.name:
            out.append({"scheme_id": scheme, "receipt_gbp": receipt, "switching_value_gbp": None,
                        "then_preferred": pref.name})
            continue
        lo, hi = 0.0, receipt
        for _ in range(BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if first_at(mid) == pref.name else (mid, hi)
        out.append({"scheme_id": scheme, "receipt_gbp": receipt, "switching_value_gbp": hi,
                    "then_preferred": first_at(lo)})
    return out

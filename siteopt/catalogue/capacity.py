"""Bed capacity models: the simple occupancy model and the Erlang loss (M/M/c/c) model.

Zone demand is expressed in *beds needed at the target occupancy*: the mean number of occupied
beds (the offered load, in Erlangs) divided by the target occupancy. A site's *usable beds* are in
the same unit, so the model's capacity constraint ``sum_z demand_beds[z] * share[z, s] <=
usable_beds[s]`` is linear whichever model is chosen.

* ``occupancy`` (default): usable beds = physical beds. A ward of ``c`` beds carries a mean load
  of ``target_occupancy * c`` whatever its size.
* ``erlang``: a pool of ``c`` beds carries the largest offered load ``A`` whose Erlang B refusal
  probability ``B(c, A)`` does not exceed the target; usable beds = ``A / target_occupancy``.
  Because ``B`` falls with pool size at a fixed occupancy, 42 pooled beds carry more than twice
  the load of 21 (economies of scale), which is the quantified case for paired wards.

Everything is precomputed per configuration, so the model stays linear.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal

from siteopt.wards.instance import Instance, Site, SiteOption

CapacityModel = Literal["occupancy", "erlang"]

_BISECTION_STEPS = 200


def erlang_b(servers: int, load_erlangs: float) -> float:
    """Erlang B blocking probability of an M/M/c/c system.

    Uses the stable recursion ``B(0) = 1``, ``B(k) = A B(k-1) / (k + A B(k-1))``, which never
    forms factorials or powers and so does not overflow for large ``c``.

    Parameters
    ----------
    servers : int
        Number of beds ``c`` (>= 0).
    load_erlangs : float
        Offered load ``A`` = arrival rate x mean length of stay (>= 0).

    Returns
    -------
    float
        The probability that an arriving patient finds every bed full.

    Examples
    --------
    >>> round(erlang_b(1, 1.0), 6)
    0.5
    >>> round(erlang_b(2, 1.0), 6)  # (1/2) / (1 + 1 + 1/2)
    0.2
    """
    if servers < 0:
        raise ValueError(f"servers must be >= 0, got {servers}")
    if load_erlangs < 0 or not math.isfinite(load_erlangs):
        raise ValueError(f"load_erlangs must be finite and >= 0, got {load_erlangs}")
    b = 1.0
    for k in range(1, servers + 1):
        b = load_erlangs * b / (k + load_erlangs * b)
    return b


def max_load_erlangs(servers: int, refusal_probability: float) -> float:
    """The largest offered load that ``servers`` beds carry with refusal <= the target.

    ``B(c, A)`` increases strictly with ``A``, so the answer is found by bisection to machine
    precision.

    Parameters
    ----------
    servers : int
        Beds in the pool.
    refusal_probability : float
        Target probability that a patient is refused, in (0, 1).

    Returns
    -------
    float
        The load ``A`` in Erlangs (mean occupied beds if nobody were refused); 0 for 0 beds.

    Examples
    --------
    >>> round(max_load_erlangs(1, 0.5), 9)  # B(1, A) = A / (1 + A)
    1.0
    """
    if not 0 < refusal_probability < 1:
        raise ValueError(f"refusal_probability must be in (0, 1), got {refusal_probability}")
    if servers <= 0:
        return 0.0
    lo, hi = 0.0, float(servers)
    while erlang_b(servers, hi) <= refusal_probability:
        hi *= 2.0
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if erlang_b(servers, mid) <= refusal_probability:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return lo


def usable_beds(
    beds: int,
    *,
    model: CapacityModel,
    target_occupancy: float,
    refusal_probability: float | None = None,
) -> float:
    """Usable beds of a pool of ``beds``, in beds needed at the target occupancy.

    Parameters
    ----------
    beds : int
        Physical beds in the pool (one service at one site).
    model : {"occupancy", "erlang"}
        The capacity model.
    target_occupancy : float
        Occupancy the demand was converted at, in (0, 1].
    refusal_probability : float, optional
        Required for ``erlang``.

    Returns
    -------
    float
        ``beds`` under ``occupancy``; ``max_load_erlangs(beds, p) / target_occupancy`` under
        ``erlang``.
    """
    if not 0 < target_occupancy <= 1:
        raise ValueError(f"target_occupancy must be in (0, 1], got {target_occupancy}")
    if model == "occupancy":
        return float(beds)
    if model == "erlang":
        if refusal_probability is None:
            raise ValueError("the erlang capacity model needs refusal_probability")
        return max_load_erlangs(beds, refusal_probability) / target_occupancy
    raise ValueError(f"unknown capacity model {model!r}: use 'occupancy' or 'erlang'")


def with_capacity_model(
    instance: Instance,
    *,
    model: CapacityModel,
    target_occupancy: float,
    refusal_probability: float | None = None,
) -> Instance:
    """A copy of ``instance`` whose options' usable beds follow ``model``.

    Each service's beds at a site form one pool (wards of one service on one site share beds
    and staff), and the pool's usable beds are computed once per distinct size.
    """
    cache: dict[int, float] = {}

    def pool(beds: int) -> float:
        if beds not in cache:
            cache[beds] = usable_beds(
                beds,
                model=model,
                target_occupancy=target_occupancy,
                refusal_probability=refusal_probability,
            )
        return cache[beds]

    sites: list[Site] = []
    for site in instance.sites:
        options: list[SiteOption] = []
        for opt in site.options:
            usable = {v: pool(int(b)) for v, b in opt.beds.items() if b > 0}
            options.append(replace(opt, usable_beds=usable))
        sites.append(replace(site, options=tuple(options)))
    return replace(instance, sites=tuple(sites))

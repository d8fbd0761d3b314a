"""Options shared by several commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from siteopt.paths import CACHE_ENV, DEFAULT_GEODATA_DIR

F = TypeVar("F", bound=Callable[..., Any])


def geodata_option(func: F) -> F:
    """``--geodata DIR``: the geodata folder (default: the embedded LLR data)."""
    return click.option(
        "--geodata",
        "geodata_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_GEODATA_DIR,
        show_default="embedded LLR data",
        help="Folder of geodata in siteopt's format (see geodata/README.md).",
    )(func)


def scenario_options(func: F) -> F:
    """``--scenario FILE``, ``--set key=value`` (repeatable) and ``--travel CSV``."""
    func = click.option(
        "--travel", "travel_csv",
        type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
        help="Precomputed drive times (CSV: zone_id, site_id, travel_min) instead of the road "
             "graph.",
    )(func)
    func = click.option(
        "--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
        help="Override one scenario value, e.g. --set model.capital_limit_gbp=10e6 "
             "(repeatable).",
    )(func)
    return click.option(
        "--scenario", "scenario_path",
        type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Scenario file (TOML) with [demand], [catalogue], [model], [solver] and [phasing] "
             "tables.",
    )(func)


def cache_option(func: F) -> F:
    """``--cache-dir DIR`` (the command's ``cache_dir`` argument, None for the default): where
    drive-time matrices are cached. Commands pass it to the travel stage, which falls back to
    :func:`siteopt.paths.cache_dir`; sweep workers get it in their task."""
    return click.option(
        "--cache-dir", "cache_dir",
        type=click.Path(file_okay=False, path_type=Path, resolve_path=True), metavar="DIR",
        default=None,
        help=f"Cache drive-time matrices (and the appraisal's solves) here (default: "
             f"${CACHE_ENV}, else the user's cache folder, e.g. ~/.cache/siteopt).",
    )(func)


def solver_overrides(solver: str | None, time_limit_s: float | None) -> list[str]:
    """The ``--set`` overrides of the ``--solver`` and ``--time-limit`` options (none for an
    option not given)."""
    out = []
    if solver:
        out.append(f"solver.solver={json.dumps(solver)}")
    if time_limit_s is not None:
        out.append(f"solver.time_limit_s={time_limit_s}")
    return out

"""Scenarios: every model parameter in a TOML file, with inheritance and ``--set`` overrides.

A scenario file has five tables, one per stage, whose keys are exactly the fields of that
stage's settings::

    extends = "base.toml"          # optional: start from another scenario (relative path)
    name = "capital-10m"            # optional: a label for reports
    description = "What if capital is 10m, not 16m?"

    [demand]      # siteopt.catalogue.demand.DemandSettings: planning_year, growth_method, ...
    [catalogue]   # siteopt.catalogue.options.CatalogueSettings: module_beds, capacity_model, ...
    [model]       # siteopt.wards.instance.ModelSettings: objective, limits, locks, ...
    [solver]      # siteopt.wards.solve.SolverOptions: solver, time_limit_s, gap_rel, ...
    [phasing]     # siteopt.wards.phasing_instance.PhasingSettings: first_year, last_year,
                  # capital_limit_gbp_by_year = {2026 = 4e6, ...}, capital_basis, objective

Resolution order (later wins): the defaults of the settings classes, the region's assumptions
(the **base case**: ``[limits]``, net capital limit and maximum drive time, ``[base_case]``,
objective and mean-drive limit, and ``[phasing]``, the horizon and the annual capital envelope
with its basis), the ``extends`` chain from the root
down, the file itself, then ``--set section.key=value`` overrides (the value is read as TOML,
so ``--set model.force_open='["oakham"]'`` and ``--set model.capital_limit_gbp=10e6`` work; a
bare word is a string).

Unknown keys are reported with the valid keys of their table; wrong types and out-of-range
values get one line each, naming the file (or ``--set``) and the key.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from siteopt.catalogue.demand import DemandSettings
from siteopt.catalogue.options import CatalogueSettings
from siteopt.data.load import Assumptions
from siteopt.errors import DataError, Problem
from siteopt.wards.instance import ModelSettings
from siteopt.wards.phasing_instance import PhasingSettings
from siteopt.wards.solve import SolverOptions

SECTIONS: dict[str, type] = {
    "demand": DemandSettings,
    "catalogue": CatalogueSettings,
    "model": ModelSettings,
    "solver": SolverOptions,
    "phasing": PhasingSettings,
}
TOP_LEVEL_KEYS = ("extends", "name", "description")
MAX_EXTENDS_DEPTH = 20


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: one settings object per stage, and where it came from."""

    name: str = "base"
    description: str = ""
    demand: DemandSettings = field(default_factory=DemandSettings)
    catalogue: CatalogueSettings = field(default_factory=CatalogueSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    solver: SolverOptions = field(default_factory=SolverOptions)
    phasing: PhasingSettings = field(default_factory=PhasingSettings)
    files: tuple[str, ...] = ()
    """The scenario files read, root first."""
    origin: Mapping[str, str] = field(default_factory=dict)
    """Every key in :attr:`values` -> where its value came from (``assumptions.toml``, a
    scenario file's name, or ``--set``)."""
    overrides: tuple[str, ...] = ()
    """The ``--set`` overrides applied, in order."""
    values: Mapping[str, Any] = field(default_factory=dict)
    """Every key set by assumptions, files or overrides, as ``section.key`` -> value."""


def valid_keys(section: str) -> list[str]:
    """The keys a scenario table accepts."""
    return [f.name for f in dataclasses.fields(SECTIONS[section])]


def assumption_defaults(assumptions: Assumptions | None) -> dict[str, Any]:
    """Scenario values the region's assumptions provide (``section.key`` -> value)."""
    if assumptions is None:
        return {}
    return {
        "model.capital_limit_gbp": float(assumptions["limits.capital_net_gbp"]),
        "model.capital_basis": "net",
        "model.max_travel_min": float(assumptions["limits.max_travel_min"]),
        "model.objective": str(assumptions["base_case.objective"]),
        "model.max_mean_travel_min": float(assumptions["base_case.max_mean_travel_min"]),
        "phasing.horizon_years": int(assumptions["phasing.horizon_years"]),
        "phasing.capital_limit_other_years_gbp":
            float(assumptions["phasing.capital_limit_gbp_per_year"]),
        "phasing.capital_basis": str(assumptions["phasing.capital_basis"]),
    }


def load_scenario(path: Path | None = None, overrides: Sequence[str] = (),
                  assumptions: Assumptions | None = None) -> Scenario:
    """Read a scenario file (with its ``extends`` chain) and apply ``--set`` overrides.

    Parameters
    ----------
    path : Path, optional
        The scenario file; None for the defaults alone.
    overrides : sequence of str
        ``section.key=value`` strings.
    assumptions : Assumptions, optional
        The region's assumptions, which supply default limits.

    Raises
    ------
    DataError
        Listing every problem in every file and override.
    """
    problems: list[Problem] = []
    values: dict[str, Any] = dict(assumption_defaults(assumptions))
    origin: dict[str, str] = {k: "assumptions.toml" for k in values}
    files: list[str] = []
    meta: dict[str, Any] = {}
    if path is not None:
        for file_path, doc in _chain(Path(path), problems):
            files.append(str(file_path))
            for key in ("name", "description"):
                if key in doc:
                    meta[key] = doc[key]
            for key, value in _flatten(doc, file_path.name, problems).items():
                values[key] = value
                origin[key] = file_path.name
    for text in overrides:
        parsed = _parse_override(text, problems)
        if parsed is not None:
            values[parsed[0]] = parsed[1]
            origin[parsed[0]] = "--set"
    settings: dict[str, Any] = {}
    for section, cls in SECTIONS.items():
        kwargs: dict[str, Any] = {}
        hints = typing.get_type_hints(cls)
        for key, value in values.items():
            sec, _, name = key.partition(".")
            if sec != section:
                continue
            converted = _convert(value, hints[name], origin[key], key, problems)
            if converted is not _INVALID:
                kwargs[name] = converted
        try:
            settings[section] = cls(**kwargs)
        except (TypeError, ValueError) as err:
            problems.append(Problem("scenario", f"[{section}] {err}"))
    for key in ("name", "description"):
        if key in meta and not isinstance(meta[key], str):
            problems.append(Problem(files[-1] if files else "scenario",
                                    f"{meta[key]!r} should be text", field=key))
    if problems:
        raise DataError(problems)
    name = str(meta.get("name") or (Path(files[-1]).stem if files else "base"))
    return Scenario(name=name, description=str(meta.get("description", "")),
                    files=tuple(files), overrides=tuple(overrides), values=dict(values),
                    origin=dict(origin), **settings)


def scenario_label(scenario: Scenario) -> str:
    """The scenario's name and where its settings came from, for every report and console.

    ``base (geodata/assumptions.toml base case)`` without a file, ``capital-10m
    (scenarios/capital_10m.toml)`` with one, plus ``+ N --set`` when overrides were given.
    """
    where = (Path(scenario.files[-1]).as_posix() if scenario.files
             else "the base case in assumptions.toml")
    extra = f" + {len(scenario.overrides)} --set" if scenario.overrides else ""
    return f"{scenario.name} ({where}{extra})"


# ---------------------------------------------------------------------------------------------
def _chain(path: Path, problems: list[Problem]) -> list[tuple[Path, dict[str, Any]]]:
    """The ``extends`` chain of ``path``, root first."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: set[Path] = set()
    current: Path | None = path
    while current is not None:
        resolved = current.resolve()
        if resolved in seen:
            problems.append(Problem(current.name, f"'extends' loops back to {current}; remove "
                                                  "the cycle", field="extends"))
            break
        if len(seen) >= MAX_EXTENDS_DEPTH:
            problems.append(Problem(current.name, "more than 20 levels of 'extends'",
                                    field="extends"))
            break
        seen.add(resolved)
        doc = _read_toml(current, problems)
        if doc is None:
            break
        chain.append((current, doc))
        parent = doc.get("extends")
        if parent is None:
            current = None
        elif not isinstance(parent, str):
            problems.append(Problem(current.name, f"{parent!r} should be a file name",
                                    field="extends"))
            current = None
        else:
            current = (current.parent / parent)
    return list(reversed(chain))


def _read_toml(path: Path, problems: list[Problem]) -> dict[str, Any] | None:
    if not path.is_file():
        problems.append(Problem(str(path), "scenario file not found; check the path"))
        return None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        problems.append(Problem(path.name, "is not UTF-8 text; save it as UTF-8"))
    except tomllib.TOMLDecodeError as err:
        problems.append(Problem(path.name, f"is not valid TOML ({err}); fix the syntax"))
    return None


def _flatten(doc: Mapping[str, Any], filename: str, problems: list[Problem]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key in TOP_LEVEL_KEYS:
            continue
        if key not in SECTIONS:
            problems.append(Problem(filename, "unknown table or key; valid: "
                                              f"{', '.join([*TOP_LEVEL_KEYS, *SECTIONS])}",
                                    field=key))
            continue
        if not isinstance(value, Mapping):
            problems.append(Problem(filename, f"[{key}] should be a table", field=key))
            continue
        valid = valid_keys(key)
        for name, item in value.items():
            if name not in valid:
                problems.append(Problem(filename, f"unknown key; valid keys of [{key}]: "
                                                  f"{', '.join(valid)}", field=f"{key}.{name}"))
                continue
            out[f"{key}.{name}"] = item
    return out


def _parse_override(text: str, problems: list[Problem]) -> tuple[str, Any] | None:
    key, sep, raw = text.partition("=")
    key = key.strip()
    section, _, name = key.partition(".")
    if not sep or not name:
        problems.append(Problem("--set", f"'{text}' should look like section.key=value, e.g. "
                                         "model.capital_limit_gbp=10e6"))
        return None
    if section not in SECTIONS:
        problems.append(Problem("--set", f"unknown section '{section}'; valid: "
                                         f"{', '.join(SECTIONS)}", field=key))
        return None
    if name not in valid_keys(section):
        problems.append(Problem("--set", f"unknown key; valid keys of [{section}]: "
                                         f"{', '.join(valid_keys(section))}", field=key))
        return None
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


_INVALID = object()


def _convert(value: Any, hint: Any, filename: str, key: str, problems: list[Problem]) -> Any:
    """Check ``value`` against a type hint and convert it (lists to frozensets etc.)."""
    bad = Problem(filename, f"{value!r} should be {_describe(hint)}", field=key)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        is_none = value is None or (isinstance(value, str) and value.lower() == "none")
        if is_none and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _convert(value, inner[0], filename, key, problems)
    if origin is typing.Literal:
        if value in args:
            return value
        problems.append(Problem(filename, f"{value!r} is not one of: "
                                          f"{', '.join(str(a) for a in args)}", field=key))
        return _INVALID
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif origin in (frozenset, set, list, tuple):
        if isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value):
            return frozenset(value) if origin in (frozenset, set) else tuple(value)
        if isinstance(value, str):
            return frozenset([value]) if origin in (frozenset, set) else (value,)
    elif origin in (dict, Mapping):
        if isinstance(value, Mapping):
            vtype = args[1] if len(args) == 2 else Any
            out = {}
            for k, item in value.items():
                conv = _convert(item, vtype, filename, f"{key}.{k}", problems) \
                    if vtype is not Any else item
                if conv is _INVALID:
                    return _INVALID
                out[str(k)] = conv
            return out
    elif hint is Any:
        return value
    problems.append(bad)
    return _INVALID


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        text = " or ".join(_describe(a) for a in inner)
        return f"{text} (or none)" if type(None) in args else text
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    if hint in names:
        return names[hint]
    if origin in (frozenset, set, list, tuple):
        return "a list of names"
    return "a table"

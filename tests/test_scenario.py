"""Scenarios: inheritance, overrides, clear errors, and a round-trip property."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siteopt.data.load import load_geodata
from siteopt.errors import DataError
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.scenario import load_scenario, valid_keys


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_come_from_the_assumptions() -> None:
    s = load_scenario(None, (), load_geodata(DEFAULT_GEODATA_DIR).assumptions)
    assert s.model.capital_limit_gbp == 5_950_000
    assert s.model.capital_basis == "net"
    assert s.model.max_travel_min == 60
    assert s.solver.solver == "highs"


def test_extends_chain_and_overrides(tmp_path: Path) -> None:
    write(tmp_path / "base.toml", """
name = "base"
[model]
capital_limit_gbp = 16.3e6
capital_basis = "gross"
max_travel_min = 50
[demand]
planning_year = 2028
""")
    (tmp_path / "sub").mkdir()
    child = write(tmp_path / "sub" / "capital.toml", """
extends = "../base.toml"
name = "capital-10m"
description = "What if capital is 10m?"
[model]
capital_limit_gbp = 10e6
force_open = ["oakham"]
[catalogue]
module_beds = { rehab = 24 }
""")
    s = load_scenario(child, ["model.max_travel_min=40", "solver.solver=cbc",
                              "demand.home_first_reduction={rehab=0.3}"])
    assert s.name == "capital-10m"
    assert s.model.capital_limit_gbp == 10e6  # child wins over parent
    assert s.model.capital_basis == "gross"  # inherited
    assert s.model.max_travel_min == 40  # --set wins over files
    assert s.model.force_open == frozenset({"oakham"})
    assert s.demand.planning_year == 2028
    assert s.demand.home_first_reduction == {"rehab": 0.3}
    assert s.catalogue.module_beds == {"rehab": 24}
    assert s.solver.solver == "cbc"
    assert [Path(f).name for f in s.files] == ["base.toml", "capital.toml"]


def test_unknown_keys_list_the_valid_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.toml", """
[model]
capital_limt_gbp = 10e6
[modle]
x = 1
""")
    with pytest.raises(DataError) as info:
        load_scenario(path)
    lines = info.value.lines()
    assert lines[0].startswith("bad.toml, field 'model.capital_limt_gbp': unknown key; valid "
                               "keys of [model]: objective, travel_weight,")
    assert "capital_limit_gbp" in lines[0]
    assert lines[1] == ("bad.toml, field 'modle': unknown table or key; valid: extends, name, "
                        "description, demand, catalogue, model, solver, phasing")


def test_wrong_types_and_values_one_line_each() -> None:
    with pytest.raises(DataError) as info:
        load_scenario(None, ["model.objective=speed", "solver.time_limit_s=abc",
                             "demand.planning_year=2030.5", "model.force_open=3",
                             "nonsense", "model.tight_linking=maybe"])
    assert info.value.lines() == [
        "--set: 'nonsense' should look like section.key=value, e.g. "
        "model.capital_limit_gbp=10e6",
        "--set, field 'demand.planning_year': 2030.5 should be a whole number",
        "--set, field 'model.objective': 'speed' is not one of: access, cost, weighted",
        "--set, field 'model.force_open': 3 should be a list of names",
        "--set, field 'model.tight_linking': 'maybe' should be true or false",
        "--set, field 'solver.time_limit_s': 'abc' should be a number",
    ]


def test_extends_cycle_and_missing_file(tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(DataError, match="'extends' loops back"):
        load_scenario(a)
    with pytest.raises(DataError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.toml")


# A property: writing any valid scenario as TOML and reading it back gives the same settings.
MODEL_VALUES = st.fixed_dictionaries({}, optional={
    "objective": st.sampled_from(["access", "cost", "weighted"]),
    "capital_limit_gbp": st.floats(0, 1e8, allow_nan=False).map(lambda x: round(x, 2)),
    "capital_basis": st.sampled_from(["net", "gross"]),
    "max_travel_min": st.integers(10, 120),
    "max_isolated_wards": st.integers(0, 9),
    "force_open": st.lists(st.sampled_from(["oakham", "melton", "coalville"]), unique=True),
    "tight_linking": st.booleans(),
})
DEMAND_VALUES = st.fixed_dictionaries({}, optional={
    "planning_year": st.integers(2021, 2040),
    "growth_method": st.sampled_from(["lpt_two_year", "stp_five_year", "none"]),
    "home_first_reduction": st.fixed_dictionaries(
        {"rehab": st.floats(0, 0.9).map(lambda x: round(x, 4))}),
})


def to_toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {to_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)


@settings(max_examples=60, deadline=None)
@given(model=MODEL_VALUES, demand=DEMAND_VALUES)
def test_scenarios_round_trip(tmp_path_factory: pytest.TempPathFactory,
                              model: dict[str, object], demand: dict[str, object]) -> None:
    text = "[model]\n" + "".join(f"{k} = {to_toml(v)}\n" for k, v in model.items())
    text += "[demand]\n" + "".join(f"{k} = {to_toml(v)}\n" for k, v in demand.items())
    path = write(tmp_path_factory.mktemp("s") / "s.toml", text)
    from_file = load_scenario(path)
    overrides = [f"model.{k}={to_toml(v)}" for k, v in model.items()]
    overrides += [f"demand.{k}={to_toml(v)}" for k, v in demand.items()]
    from_set = load_scenario(None, overrides)
    assert from_file.model == from_set.model
    assert from_file.demand == from_set.demand
    for key, value in model.items():
        got = getattr(from_file.model, key)
        assert got == (frozenset(value) if isinstance(value, list) else value)


def test_every_section_has_keys() -> None:
    for section in ("demand", "catalogue", "model", "solver"):
        assert valid_keys(section)

"""Output folders of the commands: one :class:`siteopt.outdir.RunFolder` per run (issue 15)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from siteopt.outdir import RunFolder


def arguments_record(params: Mapping[str, Any]) -> dict[str, Any]:
    """A command's parsed arguments as plain data for the run manifest."""
    out: dict[str, Any] = {}
    for key, value in sorted(params.items()):
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple | list):
            value = [str(v) if isinstance(v, Path) else v for v in value]
        out[key] = value
    return out


def run_folder(out: Path, inputs: Mapping[str, Path | None], *, option: str = "--out",
               state_files: Sequence[str] = ()) -> RunFolder:
    """The run folder of the current command: its manifest names the command and arguments."""
    ctx = click.get_current_context()
    return RunFolder(out, command=f"siteopt {ctx.info_name}",
                     arguments=arguments_record(ctx.params), inputs=inputs, option=option,
                     state_files=state_files)


def scenario_inputs(geodata_dir: Path, scenario_path: Path | None,
                    travel_csv: Path | None = None,
                    scenario_files: Sequence[str | Path] = ()) -> dict[str, Path | None]:
    """The inputs of a scenario run: geodata folder, scenario file (and what it extends) and the
    travel matrix."""
    inputs: dict[str, Path | None] = {"--geodata": geodata_dir, "--scenario": scenario_path,
                                      "--travel": travel_csv}
    for f in scenario_files:
        inputs[f"the scenario file {Path(f).name}"] = Path(f)
    return inputs

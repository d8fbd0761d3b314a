"""``siteopt validate``: check a geodata folder and print what it holds."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path

import click

from siteopt.cli.options import geodata_option
from siteopt.cli.output import run_folder
from siteopt.data.load import load_geodata, summarise, unchecked_files


@click.command()
@geodata_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Also write the summary as DIR/geodata_summary.json.")
def validate(geodata_dir: Path, out_dir: Path | None) -> None:
    """Check every geodata file and print a summary of the data.

    Reports every problem at once (file, row, field and the fix) and exits 2 if there is any;
    nothing is written then.

    \b
    Example:
      siteopt validate
      siteopt validate --geodata my_region/ --out outputs/
    """
    with contextlib.ExitStack() as stack:
        # the output folder is checked and locked before the data is read
        run = (stack.enter_context(run_folder(out_dir, {"--geodata": geodata_dir}))
               if out_dir is not None else None)
        data = load_geodata(geodata_dir)
        s = summarise(data)
        if run is not None:
            run.write("geodata_summary.json",
                      json.dumps(dataclasses.asdict(s), indent=2, sort_keys=True) + "\n")
            run.commit()
    click.echo(f"geodata OK: {geodata_dir}")
    click.echo(f"region: {s.region}")
    click.echo(f"sites: {s.n_sites} ({s.n_sites_with_beds} with inpatient beds today)")
    services = list(data.assumptions.services)
    for config, beds in s.beds.items():
        parts = ", ".join(f"{svc} {beds[svc]}" for svc in services)
        click.echo(f"beds, {config}: {parts} (total {sum(beds.values())})")
    for provider, beds in sorted(s.beds_by_provider.items()):
        parts = ", ".join(f"{svc} {n}" for svc, n in sorted(beds.items()))
        click.echo(f"  status quo beds provided by {provider}: {parts}")
    click.echo(f"zones: {s.n_zones}")
    click.echo(f"population: {s.population:,} (65+: {s.population_65_plus:,}; "
               f"80+ (estimated): {s.population_80_plus:,})")
    for names, why in unchecked_files(geodata_dir):
        click.echo(f"not checked: {names}: {why}")

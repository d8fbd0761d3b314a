"""``siteopt validate``: check a geodata folder and print what it holds."""

from __future__ import annotations

from pathlib import Path

import click

from siteopt.cli.options import geodata_option
from siteopt.geodata import load_geodata, summarise


@click.command()
@geodata_option
def validate(geodata_dir: Path) -> None:
    """Check every geodata file and print a summary of the data.

    Reports every problem at once (file, row, field and the fix) and exits 2 if there is any.

    \b
    Example:
      siteopt validate
      siteopt validate --geodata my_region/
    """
    data = load_geodata(geodata_dir)
    s = summarise(data)
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

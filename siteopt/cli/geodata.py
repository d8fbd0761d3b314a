"""``siteopt geodata ...``: build a region's geodata folder from raw files."""

from __future__ import annotations

from pathlib import Path

import click

from siteopt.data.build import build_geodata
from siteopt.outdir import check_outside_inputs
from siteopt.paths import DEFAULT_GEODATA_DIR


@click.group()
def geodata() -> None:
    """Build and maintain geodata folders."""


@geodata.command()
@click.option("--raw", "raw_dir", required=True,
              type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Folder of raw public files (e.g. ../shared/geodata), holding llr/.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_GEODATA_DIR, show_default="embedded geodata/",
              help="Where to write the derived files.")
def build(raw_dir: Path, out_dir: Path) -> None:
    """Derive the LLR geodata (sites, zones, boundaries, bed-day rates) from raw files.

    Reproducible: a second run writes byte-identical files.

    \b
    Example:
      siteopt geodata build --raw ../shared/geodata
    """
    check_outside_inputs(out_dir, {"--raw": raw_dir})
    report = build_geodata(raw_dir, out_dir)
    click.echo(f"wrote {len(report.files)} files to {report.out_dir}: {report.n_sites} sites, "
               f"{report.n_zones} zones")

from siteopt.cli.roads import roads  # noqa: E402  (issue 3: the OSM road-graph build)

geodata.add_command(roads)

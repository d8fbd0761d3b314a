"""``siteopt travel-times`` and ``siteopt travel-check``: drive-time matrices and their check."""

from __future__ import annotations

from pathlib import Path

import click

from siteopt.cli.options import cache_option, geodata_option
from siteopt.outdir import RunFile
from siteopt.paths import CHECKOUT_DIR

RAW_DIR = CHECKOUT_DIR.parent / "shared" / "geodata" if CHECKOUT_DIR is not None else None
"""The raw public data beside a checkout (``../shared/geodata``); None when installed."""


def raw_default(relative: str) -> Path | None:
    """``RAW_DIR / relative`` as an option's default if that file exists, else None."""
    path = RAW_DIR / relative if RAW_DIR is not None else None
    return path if path is not None and path.is_file() else None


def required(value: Path | None, option: str) -> Path:
    """``value``, or a usage error asking for ``option`` (no ../shared/geodata default)."""
    if value is None:
        raise click.UsageError(f"give {option} FILE (no ../shared/geodata beside a checkout "
                               "to take it from)")
    return value


@click.command("travel-times")
@click.option("--origins", required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="CSV with columns id,lat,lon (WGS84).")
@click.option("--destinations", required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="CSV with columns id,lat,lon (WGS84).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CSV to write: origin_id,destination_id,travel_min ('inf' = no route).")
@click.option("--method", type=click.Choice(["csr", "networkx"]), default="csr",
              show_default=True, help="Shortest-path engine (identical results).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the matrix cache.")
@geodata_option
@cache_option
def travel_times(origins: Path, destinations: Path, out_path: Path, method: str,
                 no_cache: bool, geodata_dir: Path, cache_dir: Path | None) -> None:
    """Drive minutes from every origin to every destination on the road graph.

    \b
    Example:
      siteopt travel-times --origins zones.csv --destinations sites.csv --out times.csv
    """
    from siteopt.travel import matrix as tr

    inputs = {"--origins": origins, "--destinations": destinations, "--geodata": geodata_dir}
    # checked and locked before any work; the file is written beside --out, then renamed
    with RunFile(out_path, inputs=inputs) as run:
        o = tr.Points.from_csv(origins)
        d = tr.Points.from_csv(destinations)
        roads_dir = geodata_dir / "roads"
        matrix = tr.travel_matrix(roads_dir / tr.DEFAULT_GRAPH_NAME, o, d, roads_dir=roads_dir,
                                  method="networkx" if method == "networkx" else "csr",
                                  cache_dir=None if no_cache
                                  else cache_dir or tr.default_cache_dir())
        matrix.to_csv(run.path)
        run.commit()
    click.echo(f"wrote {out_path}: {len(o.ids)} x {len(d.ids)} drive times")
    for pid in matrix.too_far_ids:
        click.echo(f"warning: {pid} is farther than max_snap_m from every road node", err=True)
    unreachable = matrix.unreachable_pairs()
    if unreachable:
        click.echo(f"warning: {len(unreachable)} pairs have no route, e.g. {unreachable[:3]}",
                   err=True)


@click.command("travel-check")
@click.option("--reference", required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Reference drive minutes: LSOA (2011 name) rows x unit postcode columns.")
@click.option("--lsoa-centroids", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=raw_default("llr/LLR_lsoa11_pwc_wgs84.csv"),
              show_default="../shared/geodata/llr/LLR_lsoa11_pwc_wgs84.csv",
              help="LSOA 2011 centroids (X lon, Y lat, lsoa11cd, lsoa11nm).")
@click.option("--units", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=raw_default("england/stroke_hospitals_2022_samuel.csv"),
              show_default="../shared/geodata/england/stroke_hospitals_2022_samuel.csv",
              help="Destination coordinates (Postcode, lat, long).")
@click.option("--holdout", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None,
              help="Zip with one CSV of the same reference times for every English LSOA "
                   "(LSOA name + one column per unit postcode): the LLR LSOAs of "
                   "--lsoa-centroids that are not in --reference are scored (independent "
                   "check; baselines fitted on all of --reference).")
@geodata_option
@cache_option
def travel_check(reference: Path, lsoa_centroids: Path | None, units: Path | None,
                 holdout: Path | None, geodata_dir: Path, cache_dir: Path | None) -> None:
    """Error statistics of the road graph against a reference (held-out LSOAs).

    With --holdout: first the independent check on the LLR LSOAs not in the reference file.
    Then the reference LSOAs, split by a fixed hash of their code into half A (used to
    calibrate the speeds) and half B (held out); figures are for B, with the straight-line
    baselines fitted on A, then the reverse split.

    \b
    Example:
      siteopt travel-check --reference \\
        ../shared/geodata/reference/LLR_lsoa11_drive_minutes_to_stroke_units_calibration.csv \\
        --holdout ../shared/geodata/england/england_lsoa11_stroke_travel_time_calibrated.zip
    """
    from siteopt.travel import check as tcheck
    from siteopt.travel import matrix as tr

    lsoa_centroids = required(lsoa_centroids, "--lsoa-centroids")
    units = required(units, "--units")
    ref = tcheck.read_reference(reference, lsoa_centroids, units)
    cache = cache_dir or tr.default_cache_dir()
    roads_dir = geodata_dir / "roads"
    graph = roads_dir / tr.DEFAULT_GRAPH_NAME
    if holdout is not None:
        hold = tcheck.read_holdout(holdout, reference, lsoa_centroids, units,
                               tuple(ref.destinations.ids))
        hm = tr.travel_matrix(graph, hold.origins, hold.destinations, roads_dir=roads_dir,
                              cache_dir=cache)
        result = tcheck.independent_check(ref, hold, hm.travel_min)
        for line in tcheck.format_independent_check(result, len(ref.destinations.ids)):
            click.echo(line)
    model = tr.travel_matrix(graph, ref.origins, ref.destinations,
                             roads_dir=roads_dir, cache_dir=cache)
    for line in tcheck.format_check(ref, model.travel_min):
        click.echo(line)

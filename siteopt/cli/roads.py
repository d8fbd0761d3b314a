"""``siteopt geodata roads``: build a drive graph from an OpenStreetMap extract."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from siteopt.outdir import check_outside_inputs
from siteopt.paths import DEFAULT_GEODATA_DIR, refuse_write_inside_package

if TYPE_CHECKING:
    from siteopt.travel.graph import BuildReport

DEFAULT_ROADS_DIR = DEFAULT_GEODATA_DIR / "roads"
ROAD_INPUTS = ("speeds.csv", "parameters.csv", "urban_areas.csv", "plausible_ranges.csv",
               "strategic_nodes.csv", "strategic_routes.csv")
"""The tables of --roads-dir that a build reads (its --out may not be one of them)."""


@click.command()
@click.option("--osm", "osm_paths", multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="An OpenStreetMap extract (.osm.pbf), e.g. leicestershire-latest.osm.pbf "
                   "from Geofabrik. Repeat it to merge neighbouring extracts (ways and nodes "
                   "in both are taken once; roads crossing the border join up).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help="Graph file to write (.npz). Default: geodata/roads/osm_roads.npz, or "
                   "geodata/roads/llr_roads.npz with --default.")
@click.option("--roads-dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=DEFAULT_ROADS_DIR, show_default="geodata/roads",
              help="Folder with speeds.csv, parameters.csv, urban_areas.csv and the strategic "
                   "network tables.")
@click.option("--default", "build_default", is_flag=True,
              help="Build the LLR default graph: the strategic network (re-authored from "
                   "strategic_nodes.csv and strategic_routes.csv) merged with the --osm graph.")
@click.option("--no-simplify", is_flag=True,
              help="Keep every node of the drivable ways (no contraction of pass-through "
                   "chains); not with --default.")
def roads(osm_paths: tuple[Path, ...], out_path: Path | None, roads_dir: Path,
          build_default: bool, no_simplify: bool) -> None:
    """Build a compact drive graph (saved as .npz) from one or more OSM extracts.

    Keeps drivable highways, sets each edge's length and drive time (maxspeed where tagged,
    else the class speed of speeds.csv), respects one-way streets, keeps the largest strongly
    connected component and contracts degree-2 chains. Several --osm extracts are merged.

    \b
    Examples:
      siteopt geodata roads --osm leicestershire-latest.osm.pbf --out geodata/roads/llr_roads.npz
      siteopt geodata roads --osm leicestershire-latest.osm.pbf \\
          --osm northamptonshire-latest.osm.pbf --out llr_northants.npz
      siteopt geodata roads --default --osm ../shared/geodata/osm/rutland-latest-2018.osm.pbf
    """
    from siteopt.travel import graph as road_graph
    from siteopt.travel import osm, strategic

    if not osm_paths and not build_default:
        raise click.UsageError("give --osm FILE.osm.pbf, or --default")
    if no_simplify and build_default:
        raise click.UsageError("--no-simplify builds an OSM graph on its own; leave out "
                               "--default")
    out = out_path or roads_dir / ("llr_roads.npz" if build_default else "osm_roads.npz")
    if build_default:  # also rewrites roads_dir/strategic_roads.geojson
        refuse_write_inside_package(roads_dir, "copy geodata/roads and pass --roads-dir DIR")
    refuse_write_inside_package(out, "pass --out FILE")
    # the graph goes beside the road tables it is built from, never over one of them
    check_outside_inputs(out, {**{f"--osm {p.name}": p for p in osm_paths}, **{
        f"--roads-dir's {name}": roads_dir / name for name in ROAD_INPUTS}})
    strategic.check_build_inputs(roads_dir, strategic=build_default)
    names = " + ".join(p.name for p in osm_paths)
    if not build_default:  # county-size: arrays all the way, no networkx
        arrays, report = osm.build_osm_arrays(osm_paths, roads_dir, simplify=not no_simplify)
        _echo_report(names, report)
        osm.save_graph_arrays(arrays, out)
        click.echo(f"wrote {out}: {len(arrays.node_id)} nodes, {len(arrays.edge_u)} edges, "
                   f"{out.stat().st_size / 1e6:.2f} MB")
        return
    detailed = None
    if osm_paths:
        detailed, report = osm.build_osm_graph(osm_paths, roads_dir)
        _echo_report(names, report)
    geojson = strategic.write_strategic_geojson(roads_dir)
    click.echo(f"wrote {geojson}")
    graph = strategic.build_default_graph(roads_dir, detailed)
    road_graph.save_graph(graph, out)
    click.echo(f"wrote {out}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges, "
               f"{out.stat().st_size / 1e6:.2f} MB")


def _echo_report(names: str, report: BuildReport) -> None:
    click.echo(f"OSM graph from {names}: {report.raw_nodes} -> {report.nodes} nodes, "
               f"{report.raw_edges} -> {report.edges} edges in {report.seconds:.2f} s")

"""County-size OpenStreetMap road graphs: a seeded synthetic extract of Leicestershire +
Northamptonshire size, split into two overlapping extracts, built into a graph, then the LLR
travel matrix on the unsimplified graph; prints a Markdown table.

Usage::

    python benchmarks/bench_osm.py [--work-dir DIR] [--seed 18] [--scale 1.0] [--regenerate]

Steps (each timed one; the build and the matrix run as separate processes under
``/usr/bin/time -v``, so their peak RSS is theirs alone):

1. **Generate** (not timed against a target; cached in ``--work-dir``, default
   ``$TMPDIR/siteopt_bench_osm``, never committed) a road network over the LLR + Northants
   bounding box with pyosmium's writer (``osmium.SimpleWriter``): a jittered junction grid
   about 300 m apart, roads between junctions with 2-14 shape nodes per segment, ways of 1-3
   segments sharing their junction nodes; highway classes by the grid line (a motorway as two
   one-way carriageways with links, trunk, primary, secondary and tertiary lines, residential
   and unclassified in between, a few living streets and ``road``), ``maxspeed`` and ``oneway``
   on some, service spurs (some ``driveway``/``parking_aisle``/``access=private``, which the
   filter drops), footways, paths and tracks, and the objects a filter must skip: buildings,
   landuse polygons and tagged points. Node and way ids are a seeded permutation (OSM ids are
   not spatially ordered). The area is split at latitude 52.42 into ``north.osm.pbf`` and
   ``south.osm.pbf`` the way Geofabrik cuts counties: each holds the nodes inside its part
   (which overlap by 0.01 degrees, about 1 km), every way with a node inside, complete, and
   all of those ways' nodes, so ways crossing the border and their nodes are in both files.
2. **Build**: ``siteopt geodata roads --osm north.osm.pbf --osm south.osm.pbf`` (simplified,
   largest strongly connected component), and again with ``--no-simplify`` (the graph the
   matrix runs on). Targets: <= 60 s and <= 4 GiB peak RSS.
3. **Matrix**: the LLR matrix (the 634 zones x 9 sites of ``geodata/``) on the unsimplified
   graph with the scipy fast path (graph loaded from the .npz; and from process start).
   Target: <= 2 s. Then networkx (``method="networkx"``) on a sample of sites, compared with
   the fast path pair by pair.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

REPO_DIR = Path(__file__).resolve().parents[1]
BBOX_LON = (-1.60, -0.33)
"""Longitude range of Leicester, Leicestershire, Rutland and Northamptonshire (WGS84)."""
BBOX_LAT = (51.97, 52.98)
BORDER_LAT = 52.42
"""Where the synthetic extract is cut into north (Leicestershire) and south (Northants)."""
OVERLAP_DEG = 0.01
SPACING_M = 300.0
M_PER_DEG_LAT = 111_200.0


@dataclass
class World:
    """The synthetic OSM data as arrays: nodes (id, lon, lat, optional tags) and ways."""

    node_id: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    node_tags: dict[int, dict[str, str]]
    way_id: npt.NDArray[np.int64]
    way_nodes: list[npt.NDArray[np.int64]]  # node positions (not ids)
    way_tags: list[dict[str, str]]


def _grid_class(index: int, motorway_index: int) -> str | None:
    if index == motorway_index:
        return "motorway"
    if index % 60 == 30:
        return "trunk"
    if index % 20 == 0:
        return "primary"
    if index % 10 == 5:
        return "secondary"
    if index % 5 == 2:
        return "tertiary"
    return None


MAXSPEEDS = {
    "trunk": ["70 mph", "50 mph", "60 mph"], "primary": ["40 mph", "50 mph", "60 mph", "30 mph"],
    "secondary": ["30 mph", "40 mph", "60 mph"], "tertiary": ["30 mph", "40 mph", "national"],
    "unclassified": ["60 mph", "national", "40 mph"], "residential": ["30 mph", "20 mph"],
}


def _road_tags(cls: str, rng: np.random.Generator) -> dict[str, str]:
    tags = {"highway": cls}
    if cls in MAXSPEEDS and rng.random() < 0.45:
        tags["maxspeed"] = str(rng.choice(MAXSPEEDS[cls]))
    if cls == "residential":
        r = rng.random()
        if r < 0.04:
            tags["oneway"] = "yes"
        elif r < 0.05:
            tags["oneway"] = "-1"
        elif r < 0.06:
            tags["access"] = "private"
    if rng.random() < 0.3:
        tags["name"] = f"Road {int(rng.integers(1, 99999))}"
    return tags


class _Builder:
    """Accumulates nodes and ways (positions into the node arrays)."""

    def __init__(self) -> None:
        self.lon: list[float] = []
        self.lat: list[float] = []
        self.node_tags: dict[int, dict[str, str]] = {}
        self.ways: list[npt.NDArray[np.int64]] = []
        self.way_tags: list[dict[str, str]] = []

    def nodes(self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
              ) -> npt.NDArray[np.int64]:
        start = len(self.lon)
        self.lon.extend(lon.tolist())
        self.lat.extend(lat.tolist())
        return np.arange(start, start + len(lon), dtype=np.int64)

    def way(self, positions: npt.NDArray[np.int64], tags: dict[str, str]) -> None:
        self.ways.append(positions)
        self.way_tags.append(tags)


def _roads(b: _Builder, rng: np.random.Generator, scale: float) -> tuple[
        npt.NDArray[np.int64], list[npt.NDArray[np.int64]]]:
    """The junction grid and the roads between junctions; returns the junction positions and
    every segment's interior node positions (for spurs and buildings)."""
    lat_mid = sum(BBOX_LAT) / 2
    spacing = SPACING_M / np.sqrt(scale)
    dlat = spacing / M_PER_DEG_LAT
    dlon = spacing / (M_PER_DEG_LAT * np.cos(np.radians(lat_mid)))
    nx_ = int((BBOX_LON[1] - BBOX_LON[0]) / dlon)
    ny_ = int((BBOX_LAT[1] - BBOX_LAT[0]) / dlat)
    gi, gj = np.meshgrid(np.arange(nx_), np.arange(ny_), indexing="ij")
    jlon = BBOX_LON[0] + (gi + rng.uniform(-0.3, 0.3, gi.shape)) * dlon
    jlat = BBOX_LAT[0] + (gj + rng.uniform(-0.3, 0.3, gj.shape)) * dlat
    junction = b.nodes(jlon.ravel(), jlat.ravel()).reshape(nx_, ny_)
    motorway_col = int(nx_ * 0.28)  # the M1 runs north-south west of centre
    interiors: list[npt.NDArray[np.int64]] = []

    def segment(a: int, c: int) -> npt.NDArray[np.int64]:
        m = int(rng.integers(2, 15))
        f = (np.arange(1, m + 1) / (m + 1))
        lon = b.lon[a] + f * (b.lon[c] - b.lon[a]) + rng.normal(0, dlon * 0.03, m)
        lat = b.lat[a] + f * (b.lat[c] - b.lat[a]) + rng.normal(0, dlat * 0.03, m)
        inner = b.nodes(lon, lat)
        interiors.append(inner)
        return inner

    for vertical in (False, True):
        lines = range(nx_) if vertical else range(ny_)
        for line in lines:
            cls_line = _grid_class(line, motorway_col if vertical else -1)
            length = ny_ if vertical else nx_
            keep = np.ones(length - 1, dtype=bool) if cls_line else rng.random(length - 1) > 0.15
            k = 0
            while k < length - 1:
                if not keep[k]:
                    k += 1
                    continue
                run = int(rng.integers(1, 4))
                parts: list[npt.NDArray[np.int64]] = []
                end = k
                while end < length - 1 and end < k + run and keep[end]:
                    a = junction[line, end] if vertical else junction[end, line]
                    c = junction[line, end + 1] if vertical else junction[end + 1, line]
                    parts += [np.array([a]), segment(int(a), int(c))]
                    end += 1
                last = junction[line, end] if vertical else junction[end, line]
                positions = np.concatenate([*parts, np.array([last])])
                cls = cls_line or str(rng.choice(
                    ["residential", "unclassified", "living_street", "road"],
                    p=[0.6, 0.37, 0.02, 0.01]))
                tags = _road_tags(cls, rng)
                if cls == "motorway":
                    tags["oneway"] = "yes"
                b.way(positions, tags)
                if cls == "motorway":  # the other carriageway, 25 m east, with links
                    lon = np.array(b.lon)[positions[::-1]] + 25.0 / 111_200.0 / 0.6
                    lat = np.array(b.lat)[positions[::-1]]
                    other = b.nodes(lon, lat)
                    b.way(other, {"highway": "motorway", "oneway": "yes", "ref": "M1"})
                    for p_fwd, p_back in ((positions[0], other[-1]), (positions[-1], other[0])):
                        b.way(np.array([p_back, p_fwd]), {"highway": "motorway_link",
                                                          "oneway": "yes"})
                        b.way(np.array([p_fwd, p_back]), {"highway": "motorway_link",
                                                          "oneway": "yes"})
                k = end
    return junction.ravel(), interiors


def _extras(b: _Builder, rng: np.random.Generator, interiors: list[npt.NDArray[np.int64]],
            scale: float) -> None:
    """Spurs (service roads, footways) and the objects a highway filter skips."""
    inner = np.concatenate(interiors)
    lon_all, lat_all = np.array(b.lon), np.array(b.lat)
    step = 30.0 / M_PER_DEG_LAT
    n_service, n_foot = int(60_000 * scale), int(40_000 * scale)
    services = [("service", {}), ("service", {"service": "driveway"}),
                ("service", {"service": "parking_aisle"}), ("service", {"access": "private"}),
                ("service", {"service": "alley"})]
    foot = ["footway", "path", "track", "cycleway", "bridleway", "steps"]
    for k, anchor in enumerate(rng.choice(inner, n_service + n_foot)):
        m = int(rng.integers(2, 6))
        angle = rng.uniform(0, 2 * np.pi)
        r = np.arange(1, m + 1) * step
        new = b.nodes(lon_all[anchor] + r * np.cos(angle) / 0.6,
                      lat_all[anchor] + r * np.sin(angle))
        if k < n_service:
            cls, extra = services[int(rng.choice(5, p=[0.5, 0.25, 0.15, 0.05, 0.05]))]
        else:
            cls, extra = str(rng.choice(foot)), {}
        b.way(np.concatenate([[anchor], new]), {"highway": cls, **extra})
    for anchor in rng.choice(inner, int(250_000 * scale)):  # buildings near roads, 10 m squares
        off = rng.uniform(15, 40) / M_PER_DEG_LAT
        x0, y0 = lon_all[anchor] + off / 0.6, lat_all[anchor] + off
        d = 10.0 / M_PER_DEG_LAT
        sq = b.nodes(np.array([x0, x0 + d / 0.6, x0 + d / 0.6, x0]),
                     np.array([y0, y0, y0 + d, y0 + d]))
        b.way(np.concatenate([sq, sq[:1]]), {"building": "yes"})
    for _ in range(int(10_000 * scale)):  # landuse polygons of 20 nodes
        cx, cy = rng.uniform(*BBOX_LON), rng.uniform(*BBOX_LAT)
        t = np.linspace(0, 2 * np.pi, 20, endpoint=False)
        ring = b.nodes(cx + 0.003 * np.cos(t) / 0.6, cy + 0.003 * np.sin(t))
        b.way(np.concatenate([ring, ring[:1]]),
              {"landuse": str(rng.choice(["farmland", "residential", "meadow", "forest"]))})
    pois = b.nodes(rng.uniform(*BBOX_LON, int(150_000 * scale)),
                   rng.uniform(*BBOX_LAT, int(150_000 * scale)))
    kinds = ["bench", "post_box", "bus_stop", "tree", "street_lamp"]
    for p in pois.tolist():
        b.node_tags[p] = {"amenity": kinds[p % 5]}


def make_world(seed: int, scale: float) -> World:
    """The seeded synthetic OSM data (see the module docstring)."""
    rng = np.random.default_rng(seed)
    b = _Builder()
    _, interiors = _roads(b, rng, scale)
    _extras(b, rng, interiors, scale)
    n, m = len(b.lon), len(b.ways)
    node_id = rng.permutation(n).astype(np.int64) + 1_000_001
    way_id = rng.permutation(m).astype(np.int64) + 5_000_001
    tags = {int(node_id[p]): t for p, t in b.node_tags.items()}
    return World(node_id, np.array(b.lon), np.array(b.lat), tags, way_id, b.ways, b.way_tags)


def write_extract(world: World, path: Path, inside: npt.NDArray[np.bool_]) -> dict[str, int]:
    """Write the nodes ``inside`` and every way with a node inside, complete (Geofabrik's
    "complete ways"), with all of those ways' nodes, ids ascending."""
    import osmium
    from osmium.osm.mutable import Node, Way

    keep_node = inside.copy()
    keep_way = np.zeros(len(world.way_nodes), dtype=bool)
    for k, pos in enumerate(world.way_nodes):
        if inside[pos].any():
            keep_way[k] = True
            keep_node[pos] = True
    ids = world.node_id
    tmp = path.with_name(path.name + ".tmp.osm.pbf")
    writer = osmium.SimpleWriter(str(tmp), overwrite=True)
    try:
        order = np.argsort(ids)
        order = order[keep_node[order]]
        for p, i, x, y in zip(order.tolist(), ids[order].tolist(), world.lon[order].tolist(),
                              world.lat[order].tolist(), strict=True):
            tags = world.node_tags.get(i)
            writer.add_node(Node(id=i, location=(x, y), tags=tags) if tags
                            else Node(id=i, location=(x, y)))
            del p
        for k in np.argsort(world.way_id).tolist():
            if keep_way[k]:
                writer.add_way(Way(id=int(world.way_id[k]), nodes=ids[world.way_nodes[k]].tolist(),
                                   tags=world.way_tags[k]))
    finally:
        writer.close()
    tmp.replace(path)
    return {"nodes": int(keep_node.sum()), "ways": int(keep_way.sum())}


def generate(work: Path, seed: int, scale: float) -> dict[str, object]:
    """Write north.osm.pbf and south.osm.pbf into ``work``; returns their counts."""
    start = time.perf_counter()
    world = make_world(seed, scale)
    highway = sum(1 for t in world.way_tags if "highway" in t)
    stats: dict[str, object] = {"seed": seed, "scale": scale, "nodes": len(world.node_id),
                                "ways": len(world.way_nodes), "highway_ways": highway,
                                "way_refs": int(sum(len(w) for w in world.way_nodes))}
    north = write_extract(world, work / "north.osm.pbf", world.lat >= BORDER_LAT - OVERLAP_DEG)
    south = write_extract(world, work / "south.osm.pbf", world.lat < BORDER_LAT + OVERLAP_DEG)
    stats.update(north=north, south=south, seconds=round(time.perf_counter() - start, 1))
    (work / "world.json").write_text(json.dumps(stats, indent=1), encoding="utf-8")
    return stats


def timed_child(args: list[str], cwd: Path) -> tuple[float, float, str]:
    """Run ``args`` under ``/usr/bin/time -v``: wall seconds, peak RSS in MiB, stdout."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        proc = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name, *args], cwd=cwd,
                              capture_output=True, text=True, check=False)
        report = Path(tf.name).read_text(encoding="utf-8")
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(args)}\n{proc.stdout}{proc.stderr}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", report)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    assert wall and rss, report
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    return seconds, int(rss.group(1)) / 1024, proc.stdout


MATRIX_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from siteopt.data.load import load_geodata
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.travel import graph as road_graph, matrix as tr
data = load_geodata(DEFAULT_GEODATA_DIR)
zones, sites = data.zone_points, data.site_points
access = tr.AccessModel.from_roads_dir(DEFAULT_GEODATA_DIR / "roads")
t1 = time.perf_counter()
arrays = road_graph.load_graph_arrays(__import__("pathlib").Path(sys.argv[1]))
t2 = time.perf_counter()
m = tr.matrix_from_arrays(arrays, zones, sites, access, method="csr")
t3 = time.perf_counter()
tr.matrix_from_arrays(arrays, zones, sites, access, method="csr")
t4 = time.perf_counter()
out = {"nodes": len(arrays.node_id), "edges": len(arrays.edge_u), "load_s": t2 - t1,
       "matrix_s": t3 - t2, "again_s": t4 - t3, "from_start_s": t3 - t0,
       "finite": int(np.isfinite(m.travel_min).sum()), "too_far": len(m.too_far_ids)}
np.save(sys.argv[2], m.travel_min)
print(json.dumps(out))
"""

NETWORKX_CHILD = """
import json, sys, time
import numpy as np
from siteopt.data.load import load_geodata
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.travel import graph as road_graph, matrix as tr
data = load_geodata(DEFAULT_GEODATA_DIR)
zones, sites = data.zone_points, data.site_points
cols = [int(c) for c in sys.argv[3].split(",")]
sample = tr.Points(tuple(sites.ids[c] for c in cols), sites.lat[cols], sites.lon[cols])
access = tr.AccessModel.from_roads_dir(DEFAULT_GEODATA_DIR / "roads")
arrays = road_graph.load_graph_arrays(__import__("pathlib").Path(sys.argv[1]))
t = time.perf_counter()
m = tr.matrix_from_arrays(arrays, zones, sample, access, method="networkx")
seconds = time.perf_counter() - t
fast = np.load(sys.argv[2])[:, cols]
print(json.dumps({"networkx_s": seconds, "pairs": int(fast.size),
                  "identical": bool(np.array_equal(fast, m.travel_min)),
                  "max_abs_diff": float(np.nanmax(np.abs(fast - m.travel_min)))}))
"""


def _rounded(values: dict[str, object]) -> str:
    return json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in values.items()})


def _before_rows(before: Path, work: Path, rutland: Path, py: str
                 ) -> list[tuple[str, float, float, str]]:
    """The earlier code beside this one: the build of one extract (north) and of Rutland, and
    the matrix on the same unsimplified graph file (the earlier code cannot merge extracts)."""
    rows = []
    north = str(work / "north.osm.pbf")
    for label, cwd in (("before", before), ("after", REPO_DIR)):
        wall, rss, out = timed_child([py, "-m", "siteopt", "geodata", "roads", "--osm", north,
                                      "--out", str(work / f"north_{label}.npz")], cwd)
        rows.append((f"{label}: build north.osm.pbf alone", wall, rss, out.strip()))
    if rutland.is_file():
        for label, cwd in (("before", before), ("after", REPO_DIR)):
            wall, rss, out = timed_child([py, "-m", "siteopt", "geodata", "roads", "--osm",
                                          str(rutland), "--out",
                                          str(work / f"rutland_{label}.npz")], cwd)
            rows.append((f"{label}: build Rutland (`geodata roads --osm rutland`)", wall, rss,
                         out.strip()))
    wall, rss, out = timed_child([py, "-c", MATRIX_CHILD, str(work / "merged_raw.npz"),
                                  str(work / "matrix_before.npy")], before)
    old = np.load(work / "matrix_before.npy")
    new = np.load(work / "matrix.npy")
    diff = float(np.max(np.abs(old - new)))
    rows.append(("before: LLR matrix on the same unsimplified graph (whole process)", wall, rss,
                 _rounded({**json.loads(out), "max_abs_diff_vs_after_min": f"{diff:.3g}"})))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "siteopt_bench_osm")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1.0 = Leicestershire + Northamptonshire size")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--sample-sites", default="0,4",
                        help="site columns checked against networkx (comma-separated)")
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout of the code before the change: also run its build (one "
                             "extract: it cannot merge) and its matrix, side by side")
    parser.add_argument("--rutland", type=Path,
                        default=REPO_DIR.parent / "shared" / "geodata" / "osm"
                        / "rutland-latest-2018.osm.pbf")
    args = parser.parse_args()
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    stats_file = work / "world.json"
    stats = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.exists() else {}
    if args.regenerate or stats.get("seed") != args.seed or stats.get("scale") != args.scale:
        print(f"generating the synthetic extracts in {work} ...", file=sys.stderr)
        stats = generate(work, args.seed, args.scale)
    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    py = sys.executable
    north, south = str(work / "north.osm.pbf"), str(work / "south.osm.pbf")
    rows = []
    for label, extra, out in (("simplified", [], "merged.npz"),
                              ("unsimplified", ["--no-simplify"], "merged_raw.npz")):
        wall, rss, stdout = timed_child([py, "-m", "siteopt", "geodata", "roads", "--osm", north,
                                         "--osm", south, *extra, "--out", str(work / out)],
                                        REPO_DIR)
        rows.append((f"build, {label} (`geodata roads --osm north --osm south"
                     f"{' --no-simplify' if extra else ''}`)", wall, rss, stdout.strip()))
    wall, rss, stdout = timed_child([py, "-c", MATRIX_CHILD, str(work / "merged_raw.npz"),
                                     str(work / "matrix.npy")], REPO_DIR)
    matrix = json.loads(stdout)
    rows.append(("LLR matrix 634 x 9 on the unsimplified graph, fast path (whole process)",
                 wall, rss, _rounded(matrix)))
    if args.before is not None:
        rows += _before_rows(args.before, work, args.rutland, py)
    wall, rss, stdout = timed_child([py, "-c", NETWORKX_CHILD, str(work / "merged_raw.npz"),
                                     str(work / "matrix.npy"), args.sample_sites], REPO_DIR)
    check = json.loads(stdout)
    rows.append((f"networkx on sites {args.sample_sites} (whole process)", wall, rss,
                 json.dumps(check)))
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print(f"synthetic extract: {json.dumps(stats)}\n")
    print("| step | wall s | peak RSS MiB | notes |\n|---|---|---|---|")
    for label, wall, rss, note in rows:
        print(f"| {label} | {wall:.1f} | {rss:.0f} | {note} |")
    print(f"\nLLR matrix on the graph (loaded): {matrix['matrix_s']:.2f} s; "
          f"graph load {matrix['load_s']:.2f} s")


if __name__ == "__main__":
    main()

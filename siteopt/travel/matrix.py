"""Drive-time matrices from the road graph: snapping, access times, shortest paths, cache.

Public API (stable: the optimiser calls these)
----------------------------------------------
``zone_site_travel(inputs: ZonesAndSites, *, cache_dir: Path | None = None) -> TravelMatrix``
    Drive minutes from every zone to every site of a region's validated inputs (a
    :class:`siteopt.data.load.GeoData`: its ``zone_points``, ``site_points`` and ``roads_dir``)
    on the default graph ``roads_dir/llr_roads.npz``, cached on disk. It never re-reads
    ``zones.csv`` or ``sites.csv``: the data stage has read and validated them.
``TravelMatrix``
    frozen dataclass: ``origin_ids: tuple[str, ...]``, ``destination_ids: tuple[str, ...]``,
    ``travel_min: np.ndarray`` of shape ``(n_origins, n_destinations)`` (``inf`` = unreachable),
    ``too_far_ids: tuple[str, ...]`` (points farther than ``max_snap_m`` from every node).
``travel_matrix(graph_path, origins, destinations, *, roads_dir=None, method="csr",
cache_dir=None) -> TravelMatrix``
    The same for any points (:class:`Points`).
``read_precomputed_matrix(path, zone_ids, site_ids, *, origins=None, destinations=None,
limits=None) -> TravelMatrix``
    A user's own matrix (CSV ``zone_id, site_id, travel_min``, or ``siteopt travel-times``'
    ``origin_id, destination_id, travel_min``), validated for coverage and plausibility
    (:class:`MatrixLimits`: no negative, all-zero or over-long times; a warning for speeds
    faster than plausible over the straight line).

Method
------
1. Snapping: graph nodes and points are projected to British National Grid (EPSG:27700) and
   each point is joined to its ``snap_candidates`` nearest nodes (a KD-tree). The access time to
   a node is ``access_fixed_min + straight-line metres * detour_factor / access speed`` (the
   fixed part: from the door to the road network, parking), with the urban or rural
   access speed by the point's setting (``urban_areas.csv``). The access time is never ignored;
   points farther than ``max_snap_m`` from every node are reported in ``too_far_ids``.
2. Each destination becomes a virtual node reached from its candidate nodes by their access
   times. One Dijkstra per destination on the reversed graph gives the time from every node to
   that destination; an origin's time is the minimum over its candidates of access time plus
   node time.
3. Two implementations give identical results: networkx (``single_source_dijkstra_path_length``
   on the reversed view, one call per destination) and the fast path (the graph converted once
   to a scipy CSR matrix, ``scipy.sparse.csgraph.dijkstra`` from all destinations at once on its
   transpose).
4. County-size graphs: the snap projects and indexes only the nodes near the points
   (:class:`NodeIndex`, exact), and an unsimplified graph (at least ``CONTRACT_MIN_SHARE`` of
   its nodes pass traffic through) has its chains contracted for the shortest paths, except
   where points join it (:func:`siteopt.travel.osm.path_graph`; times change only in the last
   digits of rounding). A simplified graph, such as the LLR default, is used as it is.

All parameters come from ``geodata/roads/parameters.csv`` and ``urban_areas.csv``.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import networkx as nx
import numpy as np
import numpy.typing as npt

from siteopt.crs import in_gb, to_bng
from siteopt.errors import DataError, Problem
from siteopt.travel.graph import GraphArrays, arrays_to_graph, haversine_m, load_graph_arrays
from siteopt.travel.osm import path_graph
from siteopt.travel.speeds import UrbanArea, is_urban, read_parameters, read_urban_areas

DEFAULT_GRAPH_NAME = "llr_roads.npz"
"""File name of the default graph inside ``geodata/roads/``."""
CACHE_VERSION = "travel-cache-1"
"""Bumped whenever the matrix computation changes, so old cache files are never reused."""
Method = Literal["csr", "networkx"]
MIN_EDGE_MIN = 1e-9
"""Floor on edge minutes (numerical guard): a sparse matrix drops zero entries, so a zero-time
edge (a point exactly on a node, two OSM nodes at one position) would vanish from the CSR path."""

@dataclass(frozen=True)
class Points:
    """Named points in WGS84."""

    ids: tuple[str, ...]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]

    @classmethod
    def from_csv(cls, path: Path, *, id_column: str = "id") -> Points:
        """Read ``id, lat, lon`` (or another id column), validating every row.

        Raises
        ------
        DataError
            Missing columns, empty or duplicate ids, coordinates that are not numbers or lie
            outside Great Britain's range (:func:`siteopt.crs.in_gb`; a sign of swapped
            lat/lon).
        """
        name = str(path)
        if not path.exists():
            raise DataError([Problem(name, "file not found")])
        problems: list[Problem] = []
        ids: list[str] = []
        lats: list[float] = []
        lons: list[float] = []
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = {id_column, "lat", "lon"} - set(reader.fieldnames or [])
            if missing:
                raise DataError([Problem(name, f"missing columns {sorted(missing)}: the file "
                                         f"needs {id_column},lat,lon")])
            seen: set[str] = set()
            for row_no, row in enumerate(reader, start=2):
                pid = (row[id_column] or "").strip()
                if not pid:
                    problems.append(Problem(name, "empty id", row_no, id_column))
                elif pid in seen:
                    problems.append(Problem(name, f"duplicate id {pid!r}", row_no, id_column))
                seen.add(pid)
                try:
                    lat, lon = float(row["lat"]), float(row["lon"])
                except (TypeError, ValueError):
                    problems.append(Problem(name, "lat and lon must be numbers (WGS84 degrees)",
                                            row_no, "lat"))
                    continue
                if not in_gb(lat, lon):
                    problems.append(Problem(name, f"({lat}, {lon}) is outside Great Britain: "
                                            "check lat/lon are not swapped", row_no, "lat"))
                ids.append(pid)
                lats.append(lat)
                lons.append(lon)
        if not ids and not problems:
            problems.append(Problem(name, "no rows"))
        if problems:
            raise DataError(problems)
        return cls(tuple(ids), np.array(lats, dtype=np.float64), np.array(lons, dtype=np.float64))


@dataclass(frozen=True)
class TravelMatrix:
    """Drive minutes from origins (rows) to destinations (columns); ``inf`` = unreachable."""

    origin_ids: tuple[str, ...]
    destination_ids: tuple[str, ...]
    travel_min: npt.NDArray[np.float64]
    too_far_ids: tuple[str, ...] = field(default=())

    def unreachable_pairs(self) -> list[tuple[str, str]]:
        """Every (origin, destination) pair with no route."""
        rows, cols = np.nonzero(~np.isfinite(self.travel_min))
        return [(self.origin_ids[r], self.destination_ids[c]) for r, c in zip(rows, cols,
                                                                               strict=True)]

    def to_csv(self, path: Path) -> Path:
        """Write ``origin_id,destination_id,travel_min`` (long format, ``\\n`` line ends),
        atomically; :func:`read_precomputed_matrix` reads it back."""
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["origin_id", "destination_id", "travel_min"])
            for i, o in enumerate(self.origin_ids):
                for j, d in enumerate(self.destination_ids):
                    value = self.travel_min[i, j]
                    w.writerow([o, d, f"{value:.3f}" if math.isfinite(value) else "inf"])
        tmp.replace(path)
        return path


@dataclass(frozen=True)
class AccessModel:
    """How points join the graph (values from ``parameters.csv``)."""

    access_speed_urban_kph: float
    access_speed_rural_kph: float
    detour_factor: float
    snap_candidates: int
    max_snap_m: float
    urban_areas: tuple[UrbanArea, ...] = ()
    access_fixed_min: float = 0.0

    @classmethod
    def from_roads_dir(cls, roads_dir: Path) -> AccessModel:
        """Read ``parameters.csv`` and ``urban_areas.csv`` from ``roads_dir``."""
        p = read_parameters(roads_dir / "parameters.csv")
        return cls(p["access_speed_urban_kph"], p["access_speed_rural_kph"], p["detour_factor"],
                   int(p["snap_candidates"]), p["max_snap_m"],
                   tuple(read_urban_areas(roads_dir / "urban_areas.csv")),
                   p["access_fixed_min"])


@dataclass(frozen=True)
class Snap:
    """Where points join the graph: ``k`` candidate node positions and their access minutes."""

    node_index: npt.NDArray[np.int64]
    access_min: npt.NDArray[np.float64]
    nearest_m: npt.NDArray[np.float64]
    too_far: tuple[int, ...]


SNAP_CELL_NODES = 16.0
"""Nodes per cell (on average) of the snapping pre-selection: a performance setting, not a
model assumption (the snap is exact either way)."""
SNAP_SAFE_SHARE = 0.9
"""Share of a cell's side within which every node is surely pre-selected (the rest covers the
spread of metres per degree and of the National Grid's scale factor)."""
M_PER_DEG = 111_000.0
"""Metres per degree of latitude (at most 0.3% under the true figure in Britain)."""


class NodeIndex:
    """Where points can join a graph: KD-trees (EPSG:27700) of its nodes.

    Built for known points, it projects and indexes only the nodes in the cells around them
    (cells of about :data:`SNAP_CELL_NODES` nodes, the 3 x 3 block around each point's cell);
    a point whose ``k``-th nearest pre-selected node is farther than the block surely covers
    (:data:`SNAP_SAFE_SHARE` of a cell side) is looked up among all nodes instead, so the
    result is the same as a KD-tree of every node.
    """

    def __init__(self, arrays: GraphArrays, near: Sequence[Points] = ()) -> None:
        self.arrays, self.n_nodes, self.safe_m = arrays, len(arrays.node_id), 0.0
        self._full: object | None = None
        self._subset: npt.NDArray[np.int64] | None = None
        self._tree: object | None = None
        if any(len(p.ids) for p in near) and self.n_nodes:
            self._preselect([p for p in near if len(p.ids)])

    def _preselect(self, near: Sequence[Points]) -> None:
        from scipy.spatial import cKDTree

        a = self.arrays
        p_lat = np.concatenate([p.lat for p in near])
        p_lon = np.concatenate([p.lon for p in near])
        lat0, lat1 = min(a.lat.min(), p_lat.min()), max(a.lat.max(), p_lat.max())
        lon0, lon1 = min(a.lon.min(), p_lon.min()), max(a.lon.max(), p_lon.max())
        cos_max = math.cos(math.radians(max(abs(lat0), abs(lat1))))
        area_m2 = max((lat1 - lat0) * M_PER_DEG, 1.0) * max((lon1 - lon0) * M_PER_DEG
                                                              * cos_max, 1.0)
        side_m = math.sqrt(area_m2 / self.n_nodes * SNAP_CELL_NODES)
        dlat, dlon = side_m / M_PER_DEG, side_m / (M_PER_DEG * cos_max)
        ny = int((lat1 - lat0) / dlat) + 3

        def cell(lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]
                 ) -> npt.NDArray[np.int64]:
            ix = np.floor((lon - lon0) / dlon).astype(np.int64) + 1
            iy = np.floor((lat - lat0) / dlat).astype(np.int64) + 1
            return np.asarray(ix * ny + iy, dtype=np.int64)

        offsets = np.array([dx * ny + dy for dx in (-1, 0, 1) for dy in (-1, 0, 1)])
        wanted = np.unique((cell(p_lat, p_lon)[:, None] + offsets[None, :]).ravel())
        subset = np.nonzero(np.isin(cell(a.lat, a.lon), wanted))[0]
        if len(subset) == 0:
            return
        x, y = to_bng(a.lat[subset], a.lon[subset])
        self._subset, self._tree = subset, cKDTree(np.column_stack([x, y]))
        self.safe_m = SNAP_SAFE_SHARE * side_m

    def _full_tree(self) -> object:
        from scipy.spatial import cKDTree

        if self._full is None:
            x, y = to_bng(self.arrays.lat, self.arrays.lon)
            self._full = cKDTree(np.column_stack([x, y]))
        return self._full

    def query(self, xy: npt.NDArray[np.float64], k: int
              ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Distances (metres) and node positions of the ``k`` nearest nodes of each point
        (``xy``: easting, northing), shape ``(n_points, k)``."""
        from scipy.spatial import cKDTree

        n = len(xy)
        dist, idx = np.zeros((n, k)), np.zeros((n, k), dtype=np.int64)
        todo = np.ones(n, dtype=bool)
        if self._tree is not None and self._subset is not None and k <= len(self._subset):
            assert isinstance(self._tree, cKDTree)
            d, i = self._tree.query(xy, k=k)
            d = np.asarray(d, dtype=np.float64).reshape(n, k)
            i = np.asarray(i, dtype=np.int64).reshape(n, k)
            sure = d[:, -1] <= self.safe_m
            dist[sure], idx[sure] = d[sure], self._subset[i[sure]]
            todo = ~sure
        if todo.any():
            tree = self._full_tree()
            assert isinstance(tree, cKDTree)
            d, i = tree.query(xy[todo], k=k)
            dist[todo] = np.asarray(d, dtype=np.float64).reshape(-1, k)
            idx[todo] = np.asarray(i, dtype=np.int64).reshape(-1, k)
        return dist, idx


def node_index(arrays: GraphArrays, near: Sequence[Points] = ()) -> NodeIndex:
    """A :class:`NodeIndex` of the graph's nodes, pre-selected around the points ``near``."""
    return NodeIndex(arrays, near)


def snap_points(arrays: GraphArrays, points: Points, access: AccessModel,
                index: NodeIndex | None = None) -> Snap:
    """Join points to their nearest graph nodes (KD-tree in EPSG:27700) with access times.

    Parameters
    ----------
    arrays : GraphArrays
    points : Points
    access : AccessModel
    index : NodeIndex, optional
        :func:`node_index` of ``arrays`` around these points, if already built (origins and
        destinations share one).

    Returns
    -------
    Snap
        ``node_index`` and ``access_min`` of shape ``(n_points, k)``; ``too_far`` lists the
        positions of points whose nearest node is farther than ``max_snap_m`` (they are still
        snapped, with their full access time, and reported).
    """
    index = index if index is not None else node_index(arrays, [points])
    px, py = to_bng(points.lat, points.lon)
    k = max(1, min(access.snap_candidates, index.n_nodes))
    dist, idx = index.query(np.column_stack([px, py]), k)
    urban = is_urban(points.lat, points.lon, access.urban_areas)
    speed_kph = np.where(urban, access.access_speed_urban_kph, access.access_speed_rural_kph)
    access_min = (access.access_fixed_min
                  + dist * access.detour_factor / 1000.0 / speed_kph[:, None] * 60.0)
    too_far = tuple(int(i) for i in np.nonzero(dist[:, 0] > access.max_snap_m)[0])
    return Snap(idx, access_min, dist[:, 0], too_far)


def graph_to_csr(arrays: GraphArrays, n_extra: int = 0) -> object:
    """The graph as a scipy CSR matrix of ``travel_min`` (``n_extra`` empty rows appended)."""
    from scipy.sparse import csr_matrix

    n = len(arrays.node_id) + n_extra
    return csr_matrix((arrays.travel_min, (arrays.edge_u, arrays.edge_v)), shape=(n, n))


def _origin_times(node_min: npt.NDArray[np.float64], snap: Snap) -> npt.NDArray[np.float64]:
    """(n_dest, n_nodes) node->destination minutes -> (n_origins, n_dest) with access."""
    # times[d, o, c] = access[o, c] + node_min[d, idx[o, c]]
    per_candidate = node_min[:, snap.node_index] + snap.access_min[None, :, :]
    return np.asarray(per_candidate.min(axis=2).T, dtype=np.float64)


def matrix_from_arrays(
    arrays: GraphArrays,
    origins: Points,
    destinations: Points,
    access: AccessModel,
    *,
    method: Method = "csr",
) -> TravelMatrix:
    """Compute the drive-time matrix on a graph given as arrays (no cache).

    Parameters
    ----------
    arrays : GraphArrays
    origins, destinations : Points
    access : AccessModel
    method : {"csr", "networkx"}
        ``csr``: one scipy ``dijkstra`` call from all destinations on the transposed CSR
        matrix; ``networkx``: one ``single_source_dijkstra_path_length`` per destination on the
        reversed graph. Results are identical.
    """
    if not np.all(np.isfinite(arrays.travel_min)) or np.any(arrays.travel_min < 0):
        raise DataError([Problem("road graph", "edges with missing or negative travel_min",
                                 field="travel_min")])
    if method not in ("csr", "networkx"):
        raise ValueError(f"method must be 'csr' or 'networkx', not {method!r}")
    index = node_index(arrays, [origins, destinations])
    o_snap = snap_points(arrays, origins, access, index)
    d_snap = snap_points(arrays, destinations, access, index)
    protect = np.zeros(len(arrays.node_id), dtype=bool)
    protect[o_snap.node_index], protect[d_snap.node_index] = True, True
    graph, position = path_graph(arrays, protect, MIN_EDGE_MIN)
    n, n_dest = len(graph.node_id), len(destinations.ids)
    # virtual destination nodes n..n+n_dest-1, entered from their candidate nodes
    k = d_snap.node_index.shape[1]
    extra_u = position[d_snap.node_index].ravel().astype(np.int32)
    extra_v = np.repeat(np.arange(n, n + n_dest, dtype=np.int32), k)
    extra_w = d_snap.access_min.ravel()
    full = GraphArrays(
        node_id=np.concatenate([graph.node_id, -(10**15) - np.arange(n_dest, dtype=np.int64)]),
        lon=np.concatenate([graph.lon, destinations.lon]),
        lat=np.concatenate([graph.lat, destinations.lat]),
        edge_u=np.concatenate([graph.edge_u, extra_u]),
        edge_v=np.concatenate([graph.edge_v, extra_v]),
        length_m=np.concatenate([graph.length_m, np.zeros(len(extra_w))]),
        travel_min=np.concatenate([graph.travel_min, extra_w]),
        highway_code=np.concatenate([graph.highway_code,
                                     np.zeros(len(extra_w), dtype=np.uint8)]),
        highway_names=graph.highway_names,
    )
    full = _dedupe_min(full, len(graph.edge_u))
    full = GraphArrays(full.node_id, full.lon, full.lat, full.edge_u, full.edge_v, full.length_m,
                       np.maximum(full.travel_min, MIN_EDGE_MIN), full.highway_code,
                       full.highway_names)
    if method == "csr":
        node_min = _dijkstra_csr(full, n_dest)[:, :n]
    else:
        node_min = _dijkstra_networkx(arrays_to_graph(full), full, n_dest)[:, :n]
    times = _origin_times(node_min, Snap(position[o_snap.node_index], o_snap.access_min,
                                         o_snap.nearest_m, o_snap.too_far))
    too_far = tuple(origins.ids[i] for i in o_snap.too_far) + tuple(
        destinations.ids[i] for i in d_snap.too_far)
    return TravelMatrix(origins.ids, destinations.ids, times, too_far)


def _dedupe_min(arrays: GraphArrays, n_sorted: int = 0) -> GraphArrays:
    """Keep the quickest of parallel edges (CSR would otherwise sum them), edges by (u, v).

    When the first ``n_sorted`` edges (a graph file's, :func:`graph_to_arrays` order) are
    already strictly in (u, v) order and the rest repeat no (u, v) pair, the rest are merged in
    (the same result as the sort, without sorting millions of edges).
    """
    u = arrays.edge_u.astype(np.int64)
    v = arrays.edge_v.astype(np.int64)
    n_all = np.int64(len(arrays.node_id))
    key = u * n_all + v
    head, tail = key[:n_sorted], key[n_sorted:]
    tail_order = np.argsort(tail, kind="stable")
    tail_sorted = tail[tail_order]
    at = np.searchsorted(head, tail_sorted)
    if (n_sorted and np.all(head[1:] > head[:-1]) and np.all(tail_sorted[1:] > tail_sorted[:-1])
            and not np.any(head[np.minimum(at, n_sorted - 1)] == tail_sorted)):
        sel = np.insert(np.arange(n_sorted), at, n_sorted + tail_order)
    else:
        order = np.lexsort((arrays.travel_min, v, u))
        keep = np.ones(len(order), dtype=bool)
        keep[1:] = (u[order][1:] != u[order][:-1]) | (v[order][1:] != v[order][:-1])
        sel = order[keep]
    return GraphArrays(arrays.node_id, arrays.lon, arrays.lat, arrays.edge_u[sel],
                       arrays.edge_v[sel], arrays.length_m[sel], arrays.travel_min[sel],
                       arrays.highway_code[sel], arrays.highway_names)


def _dijkstra_csr(full: GraphArrays, n_dest: int) -> npt.NDArray[np.float64]:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n_all = len(full.node_id)
    weights = full.travel_min  # all >= MIN_EDGE_MIN, so none vanish from the sparse matrix
    reversed_csr = csr_matrix((weights, (full.edge_v, full.edge_u)), shape=(n_all, n_all))
    sources = np.arange(n_all - n_dest, n_all)
    return np.asarray(dijkstra(reversed_csr, directed=True, indices=sources), dtype=np.float64)


def _dijkstra_networkx(
    graph: nx.DiGraph, full: GraphArrays, n_dest: int
) -> npt.NDArray[np.float64]:
    rev = graph.reverse(copy=False)
    ids = full.node_id.tolist()
    pos = {n: i for i, n in enumerate(ids)}
    out = np.full((n_dest, len(ids)), np.inf)
    for j in range(n_dest):
        source = ids[len(ids) - n_dest + j]
        lengths = nx.single_source_dijkstra_path_length(rev, source, weight="travel_min")
        for node, value in lengths.items():
            out[j, pos[node]] = value
    return out


# --------------------------------------------------------------------------- cache


def cache_key(graph_path: Path, roads_dir: Path, origins: Points, destinations: Points) -> str:
    """SHA-256 of everything the matrix depends on: graph bytes, parameters, urban areas, points."""
    h = hashlib.sha256(CACHE_VERSION.encode())
    for path in (graph_path, roads_dir / "parameters.csv", roads_dir / "urban_areas.csv"):
        h.update(path.read_bytes())
    for pts in (origins, destinations):
        h.update("\x1f".join(pts.ids).encode())
        h.update(np.ascontiguousarray(pts.lat, dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(pts.lon, dtype=np.float64).tobytes())
        h.update(b"\x1e")
    return h.hexdigest()


def travel_matrix(
    graph_path: Path,
    origins: Points,
    destinations: Points,
    *,
    roads_dir: Path | None = None,
    method: Method = "csr",
    cache_dir: Path | None = None,
) -> TravelMatrix:
    """Drive minutes between points on a saved graph, cached on disk.

    Parameters
    ----------
    graph_path : Path
        A graph file (see :mod:`siteopt.travel.graph`).
    origins, destinations : Points
    roads_dir : Path, optional
        Folder of ``parameters.csv`` and ``urban_areas.csv`` (default: the graph's folder).
    method : {"csr", "networkx"}
    cache_dir : Path, optional
        Where matrices are cached, keyed by :func:`cache_key`; None disables the cache.
    """
    roads_dir = roads_dir or graph_path.parent
    cache_file: Path | None = None
    if cache_dir is not None:
        key = cache_key(graph_path, roads_dir, origins, destinations)
        cache_file = cache_dir / f"travel_{key}.npz"
        if cache_file.exists():
            with np.load(cache_file, allow_pickle=False) as z:
                return TravelMatrix(origins.ids, destinations.ids, z["travel_min"],
                                    tuple(str(s) for s in z["too_far_ids"]))
    result = matrix_from_arrays(load_graph_arrays(graph_path), origins, destinations,
                                AccessModel.from_roads_dir(roads_dir), method=method)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_name(cache_file.name + ".tmp.npz")
        np.savez(tmp, travel_min=result.travel_min,
                 too_far_ids=np.array(result.too_far_ids, dtype=str))
        tmp.replace(cache_file)
    return result


def default_cache_dir() -> Path:
    """The user's cache folder, or ``$SITEOPT_CACHE_DIR`` (:func:`siteopt.paths.cache_dir`)."""
    from siteopt.paths import cache_dir

    return cache_dir()


class ZonesAndSites(Protocol):
    """What the travel stage needs of a region's validated inputs.

    :class:`siteopt.data.load.GeoData` has these (structural typing, so the travel stage never
    imports the data stage, which imports it).
    """

    @property
    def zone_points(self) -> Points:
        """The demand zones (``zone_id``, lat, lon), in zones.csv order."""
        ...

    @property
    def site_points(self) -> Points:
        """The candidate sites (``site_id``, lat, lon), in sites.csv order."""
        ...

    @property
    def roads_dir(self) -> Path:
        """The folder of the road graph, ``parameters.csv`` and ``urban_areas.csv``."""
        ...


def zone_site_travel(inputs: ZonesAndSites, *, cache_dir: Path | None = None) -> TravelMatrix:
    """Drive minutes from every zone to every site of a region (the optimiser's input).

    Parameters
    ----------
    inputs : ZonesAndSites
        The validated inputs, normally :class:`siteopt.data.load.GeoData`: zones and sites as
        :class:`Points` and ``roads_dir`` holding ``llr_roads.npz`` with its
        ``parameters.csv`` and ``urban_areas.csv``.
    cache_dir : Path, optional
        Default :func:`default_cache_dir`. The cache key (:func:`cache_key`) hashes the
        points' ids and coordinates, not the CSV bytes.

    Returns
    -------
    TravelMatrix
        Rows in zones.csv order, columns in sites.csv order.
    """
    roads_dir = inputs.roads_dir
    return travel_matrix(roads_dir / DEFAULT_GRAPH_NAME, inputs.zone_points, inputs.site_points,
                         roads_dir=roads_dir,
                         cache_dir=cache_dir if cache_dir is not None else default_cache_dir())


# --------------------------------------------------------------------------- precomputed

MATRIX_COLUMNS = ("zone_id", "site_id", "travel_min")
"""The documented header of a precomputed matrix (``--travel FILE``)."""
TRAVEL_TIMES_COLUMNS = ("origin_id", "destination_id", "travel_min")
"""The header ``siteopt travel-times`` writes (:meth:`TravelMatrix.to_csv`); read as the same
columns, so that command's output is ``--travel``'s input."""
RANGES_NAME = "plausible_ranges.csv"
"""siteopt's table of plausible ranges (``file, field, min, max, unit, source``) in the embedded
data's ``roads/`` folder; the rows of ``file`` :data:`RANGES_FILE_LABEL` bound a precomputed
matrix: ``travel_min`` (the longest drive) and ``straight_line_speed_kph``."""
RANGES_FILE_LABEL = "travel matrix"
MAX_LISTED = 20
"""At most this many zones are listed by name as lacking rows (then a count)."""
LOG = logging.getLogger(__name__)
"""Warnings about a matrix that is accepted but looks wrong (printed on stderr by default)."""


@dataclass(frozen=True)
class MatrixLimits:
    """What a precomputed matrix may hold, and where each limit came from (for messages)."""

    max_travel_min: float
    """Longer finite times are refused (usually seconds written as minutes)."""
    max_speed_kph: float
    """Faster straight-line speeds are warned about (usually swapped or mismatched ids)."""
    max_travel_source: str = "siteopt's fallback limit"
    max_speed_source: str = "siteopt's fallback limit"


FALLBACK_MATRIX_LIMITS = MatrixLimits(max_travel_min=1440.0, max_speed_kph=130.0)
"""Used only where siteopt's ``roads/plausible_ranges.csv`` has no ``travel matrix`` row for the
limit. Sources: 1440 min is one day, longer than any drive within a region of England (Land's
End to John o' Groats is about 14 hours), so a larger figure is nearly always seconds written as
minutes; 130 km/h (81 mph) over the straight line is faster than the 70 mph (112.7 km/h)
national limit on motorways (Highway Code rule 124) before any detour, so no door-to-door drive
achieves it (the LLR road graph's fastest zone-to-site pair is 68 km/h)."""


def matrix_limits(ranges_csv: Path | None = None) -> MatrixLimits:
    """The plausibility limits of a precomputed matrix: the ``max`` of the ``travel matrix``
    rows ``travel_min`` and ``straight_line_speed_kph`` of siteopt's plausible ranges.

    Parameters
    ----------
    ranges_csv : Path, optional
        Default ``roads/plausible_ranges.csv`` of the embedded data
        (:data:`siteopt.paths.DEFAULT_GEODATA_DIR`), siteopt's own rules, never a region's. A
        limit with no row there (or no such file) takes :data:`FALLBACK_MATRIX_LIMITS`.
    """
    if ranges_csv is None:
        from siteopt.paths import DEFAULT_GEODATA_DIR

        ranges_csv = DEFAULT_GEODATA_DIR / "roads" / RANGES_NAME
    found: dict[str, float] = {}
    if ranges_csv.is_file():
        with ranges_csv.open(newline="", encoding="utf-8-sig") as f:
            for row in csv.DictReader(f):
                if (row.get("file") or "").strip() != RANGES_FILE_LABEL:
                    continue
                try:
                    found[(row.get("field") or "").strip()] = float(row.get("max") or "")
                except ValueError:
                    continue  # siteopt's own table; its reader reports a bad row
    fallback = FALLBACK_MATRIX_LIMITS
    travel = found.get("travel_min")
    speed = found.get("straight_line_speed_kph")
    where = f"{ranges_csv.name}"
    return MatrixLimits(
        fallback.max_travel_min if travel is None else travel,
        fallback.max_speed_kph if speed is None else speed,
        fallback.max_travel_source if travel is None else f"siteopt's {where}",
        fallback.max_speed_source if speed is None else f"siteopt's {where}")


def _matrix_header(fieldnames: Sequence[str] | None, name: str) -> tuple[str, str, str]:
    """The zone, site and minutes columns of a matrix file: the documented ``zone_id,
    site_id, travel_min`` or ``siteopt travel-times``' ``origin_id, destination_id,
    travel_min``."""
    have = {f.strip() for f in fieldnames or []}
    for columns in (MATRIX_COLUMNS, TRAVEL_TIMES_COLUMNS):
        if set(columns) <= have:
            return columns
    missing = sorted(set(MATRIX_COLUMNS) - have)
    raise DataError([Problem(name, f"missing columns {missing}: the file needs "
                             f"{','.join(MATRIX_COLUMNS)} (or {','.join(TRAVEL_TIMES_COLUMNS)} "
                             "as `siteopt travel-times` writes)")])


def _value_problems(name: str, column: str, bad: dict[str, list[tuple[int, float]]],
                    limits: MatrixLimits) -> list[Problem]:
    """One line for the negative and one for the over-long times, at the first such row."""
    problems = []
    texts = {
        "negative": "is negative: travel_min must be >= 0 (or inf for no route)",
        "too long": (f"min is longer than any drive ({limits.max_travel_min:g} min = "
                     f"{limits.max_travel_min / 60:g} h, {limits.max_travel_source}): give "
                     "minutes, not seconds, and inf for no route"),
    }
    for kind, rows in bad.items():
        if rows:
            row_no, value = rows[0]
            more = f"; {len(rows) - 1} more rows like it" if len(rows) > 1 else ""
            problems.append(Problem(name, f"{value:g} {texts[kind]}{more}", row_no, column))
    return problems


def _coverage_problems(name: str, rows: npt.NDArray[np.int64], zone_ids: Sequence[str],
                       site_ids: Sequence[str], columns: tuple[str, str, str]) -> list[Problem]:
    """Every zone or site without rows, and zones lacking some sites."""
    zone_col, site_col, _ = columns
    problems = []
    missing_mask = rows == 0
    no_rows = np.nonzero(missing_mask.all(axis=1))[0].tolist()
    for i in no_rows[:MAX_LISTED]:
        problems.append(Problem(name, f"zone {zone_ids[i]} has no rows: add its times to every "
                                "site", field=zone_col))
    if len(no_rows) > MAX_LISTED:
        problems.append(Problem(name, f"... and {len(no_rows) - MAX_LISTED} more zones have no "
                                "rows", field=zone_col))
    for j in np.nonzero(missing_mask.all(axis=0))[0].tolist():
        problems.append(Problem(name, f"site {site_ids[j]} has no rows: add its times from "
                                "every zone", field=site_col))
    partial = missing_mask.any(axis=1) & ~missing_mask.all(axis=1)
    for i in np.nonzero(partial)[0][:MAX_LISTED].tolist():
        lacking = [site_ids[j] for j in np.nonzero(missing_mask[i])[0].tolist()]
        problems.append(Problem(name, f"zone {zone_ids[i]} lacks sites {lacking}",
                                field=site_col))
    return problems


def _degenerate_problem(name: str, out: npt.NDArray[np.float64], column: str) -> Problem | None:
    """A complete matrix that is all zeros, or has no route at all."""
    finite = out[np.isfinite(out)]
    if finite.size == 0:
        return Problem(name, f"no pair has a route (all {out.size} rows are inf): give the "
                             "drive minutes", field=column)
    if not np.any(finite > 0):
        return Problem(name, f"every travel time is 0 (all {finite.size} finite rows): zeros "
                             "make every site as near as any other; give the drive minutes",
                       field=column)
    return None


def implausible_speed_warning(
    name: str,
    matrix: TravelMatrix,
    origins: Points,
    destinations: Points,
    limits: MatrixLimits,
    rows: npt.NDArray[np.int64] | None = None,
) -> str | None:
    """A one-line warning if any time implies a speed over the straight line faster than
    ``limits.max_speed_kph``, naming the worst pair; None if every pair is plausible.

    Parameters
    ----------
    name : str
        The matrix's file, for the message.
    matrix : TravelMatrix
    origins, destinations : Points
        The matrix's origins and destinations (same ids, same order), for the distances.
    limits : MatrixLimits
    rows : ndarray of int, optional
        The file row of each pair (as :func:`read_precomputed_matrix` read it), for the message.
    """
    if origins.ids != matrix.origin_ids or destinations.ids != matrix.destination_ids:
        raise ValueError("origins and destinations must be the matrix's, in its order")
    km = haversine_m(origins.lat[:, None], origins.lon[:, None], destinations.lat[None, :],
                     destinations.lon[None, :]) / 1000.0
    minutes = np.asarray(matrix.travel_min, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        kph = np.where(np.isfinite(minutes) & (km > 0), km / (minutes / 60.0), 0.0)
    fast = kph > limits.max_speed_kph
    if not fast.any():
        return None
    i, j = np.unravel_index(int(np.argmax(kph)), kph.shape)
    where = f"{name}, row {int(rows[i, j])}" if rows is not None else name
    speed = f"{kph[i, j]:.0f} km/h" if math.isfinite(kph[i, j]) else "instantaneous"
    return (f"warning: {where}: {matrix.origin_ids[i]} to {matrix.destination_ids[j]} in "
            f"{minutes[i, j]:g} min for {km[i, j]:.1f} km in a straight line is {speed}, "
            f"faster than {limits.max_speed_kph:g} km/h ({limits.max_speed_source}); "
            f"{int(fast.sum())} of {fast.size} pairs {'is' if fast.sum() == 1 else 'are'} that "
            "fast: check the times are minutes and the ids match the geodata")


def read_precomputed_matrix(
    path: Path,
    zone_ids: Sequence[str],
    site_ids: Sequence[str],
    *,
    origins: Points | None = None,
    destinations: Points | None = None,
    limits: MatrixLimits | None = None,
) -> TravelMatrix:
    """Read a user's travel-time matrix (CSV ``zone_id, site_id, travel_min``).

    ``siteopt travel-times``' header ``origin_id, destination_id, travel_min`` is read as the
    same columns; any line ending (``\\n`` or ``\\r\\n``) and a UTF-8 byte-order mark are fine.
    Every (zone, site) pair must appear exactly once with a non-negative number of minutes
    (``inf`` marks a pair with no route) no longer than ``limits.max_travel_min``, and not
    every time may be 0 (nor every pair unreachable). Rows for zones or sites not in the model
    are errors too (usually a code mismatch, e.g. LSOA 2011 against 2021 codes).

    Parameters
    ----------
    path : Path
    zone_ids, site_ids : sequence of str
        The model's zones (rows) and sites (columns), in order.
    origins, destinations : Points, optional
        The zones and sites with their coordinates (ids as ``zone_ids`` and ``site_ids``):
        given both, a time faster than ``limits.max_speed_kph`` over the straight line is
        warned about (:func:`implausible_speed_warning`, logged on :data:`LOG`), not refused.
    limits : MatrixLimits, optional
        Default :func:`matrix_limits` (siteopt's ``plausible_ranges.csv``).

    Raises
    ------
    DataError
        Listing every problem: missing columns, bad values, duplicates, unknown ids and every
        zone or site not covered (with how many pairs are missing).
    """
    name = str(path)
    if not path.exists():
        raise DataError([Problem(name, "file not found")])
    limits = limits or matrix_limits()
    z_pos = {z: i for i, z in enumerate(zone_ids)}
    s_pos = {s: j for j, s in enumerate(site_ids)}
    out = np.full((len(zone_ids), len(site_ids)), np.nan)
    row_of = np.zeros(out.shape, dtype=np.int64)
    problems: list[Problem] = []
    bad: dict[str, list[tuple[int, float]]] = {"negative": [], "too long": []}
    unknown: dict[str, set[str]] = {"zone": set(), "site": set()}
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = _matrix_header(reader.fieldnames, name)
        reader.fieldnames = [c.strip() for c in reader.fieldnames or []]
        zone_col, site_col, min_col = columns
        for row_no, row in enumerate(reader, start=2):
            z, s = (row[zone_col] or "").strip(), (row[site_col] or "").strip()
            try:
                value = float(row[min_col])
            except (TypeError, ValueError):
                value = math.nan
            if math.isnan(value):
                problems.append(Problem(name, f"{row[min_col]!r} is not a number of minutes",
                                        row_no, min_col))
            elif value < 0:
                bad["negative"].append((row_no, value))
            elif math.isfinite(value) and value > limits.max_travel_min:
                bad["too long"].append((row_no, value))
            if z not in z_pos:
                unknown["zone"].add(z)
                continue
            if s not in s_pos:
                unknown["site"].add(s)
                continue
            i, j = z_pos[z], s_pos[s]
            if row_of[i, j]:
                problems.append(Problem(name, f"duplicate pair ({z}, {s})", row_no, site_col))
            out[i, j] = value
            row_of[i, j] = row_no
    problems += _value_problems(name, min_col, bad, limits)
    for label, col in (("zone", zone_col), ("site", site_col)):
        if unknown[label]:
            sample = ", ".join(sorted(unknown[label])[:5])
            problems.append(Problem(name, f"{len(unknown[label])} unknown {col} values (e.g. "
                                    f"{sample}): they must match the model's ids", field=col))
    problems += _coverage_problems(name, row_of, zone_ids, site_ids, columns)
    if not problems:
        degenerate = _degenerate_problem(name, out, min_col)
        problems += [degenerate] if degenerate is not None else []
    if problems:
        raise DataError(problems)
    matrix = TravelMatrix(tuple(zone_ids), tuple(site_ids), out)
    if origins is not None and destinations is not None:
        warning = implausible_speed_warning(name, matrix, origins, destinations, limits, row_of)
        if warning is not None:
            LOG.warning(warning)
    return matrix


REFERENCE_DESTINATIONS: dict[str, str] = {
    "LE15WW": "Leicester Royal Infirmary",
    "CV107DJ": "George Eliot Hospital, Nuneaton",
    "CV22DX": "University Hospital Coventry",
    "NG72UH": "Queen's Medical Centre, Nottingham",
    "DE223NE": "Royal Derby Hospital",
    "NN15BD": "Northampton General Hospital",
    "PE39GZ": "Peterborough City Hospital",
}
"""The seven reference destinations of the accuracy target (unit postcode -> name)."""

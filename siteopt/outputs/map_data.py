"""What the maps show, as plain tables: shared by the web maps and the print maps.

Both :mod:`siteopt.outputs.maps` (folium, HTML) and :mod:`siteopt.outputs.print_maps` (matplotlib,
PNG/PDF) draw from an :class:`OptionView`, so the two kinds of map always show the same numbers:

* every site with its beds per service before (the baseline, normally the status quo) and after
  (this option), and the plain-words change (``opens``, ``closes``, ``gains``, ``loses``,
  ``same``, ``none``);
* every zone (LSOA centroid) with **the appraisal's drive-time measure** (:data:`MEASURE_WORDS`):
  its people aged 65+'s mean drive to the ward of each service they use as the option plans it
  (the solution's assignment), services weighted by their share of bed need
  (:func:`siteopt.appraisal.measures.zone_mean_travel`), the wards it uses, and, for comparison
  only, the drive to the nearest site with inpatient beds;
* per local authority and for the whole area, the report's own figures
  (:func:`siteopt.appraisal.measures.access_summary`): mean, share within 30 minutes, longest;
* every zone's shape (:func:`zone_shapes`): its LSOA polygon from ``boundaries_lsoa.geojson``
  when the region has one (the maps shade the polygons: a choropleth), else its centroid (the
  maps draw a dot and say so in the legend);
* catchment areas as polygons: the zones' LSOA polygons (or, without them, the Voronoi cells of
  the zone centroids clipped to the local authorities) merged by catchment site (the site the
  model sends most of the zone's first-service need to: rehab in LLR; it can be further than
  the nearest when nearer wards are full);
* the region's extent (:func:`map_bounds`: every boundary polygon, zone and site), the opening
  view of the web maps and the frame of the print maps;
* the class breaks and colour-blind-safe palettes of the legends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from shapely import MultiPoint, Point, box, voronoi_polygons
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from siteopt.appraisal.measures import access_summary, zone_mean_travel
from siteopt.crs import geometry_to_bng, geometry_to_wgs84, to_bng
from siteopt.errors import DataError, Problem
from siteopt.runs.pipeline import Prepared, evaluate_configuration
from siteopt.solver_core import STATUS_FEASIBLE, STATUS_HEURISTIC
from siteopt.wards.instance import Instance
from siteopt.wards.results import REPORT_WITHIN_MIN, SHARE_EPS, Solution

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# --------------------------------------------------------------------------------------------
# Legend classes and palettes
# --------------------------------------------------------------------------------------------
TRAVEL_BREAKS_MIN: tuple[float, ...] = (10.0, 20.0, 30.0, 45.0, 60.0)
"""Upper bounds of the drive-time classes in minutes. 30 min is the access measure the
appraisal reports (``share_within_30_min``); 10/20 split the urban majority; 45/60 pick out the
rural edges. The last class is open ("60 min or more")."""

TRAVEL_PALETTE: tuple[str, ...] = (
    "#fde725", "#90d743", "#35b779", "#21918c", "#443983", "#440154",
)
"""Six classes of *viridis* (van der Walt and Smith, matplotlib's default colour map; designed to
be perceptually uniform, colour-blind safe and monotonic in lightness, so it reads in
greyscale), sampled at 1, 0.8, 0.6, 0.45, 0.2 and 0: light = short drive, dark = long."""

CHANGE_BREAKS_MIN: tuple[float, ...] = (-10.0, -5.0, -1.0, 1.0, 5.0, 10.0)
"""Bounds of the change classes (option minus baseline, minutes). Changes within one minute
either way are "no real change": the road model is not more precise than that."""

CHANGE_PALETTE: tuple[str, ...] = (
    "#542788", "#998ec3", "#d8daeb", "#f7f7f7", "#fee0b6", "#f1a340", "#b35806",
)
"""ColorBrewer *PuOr* 7-class (Brewer, colorbrewer2.org; marked colour-blind safe): purple =
shorter drive, orange = longer, near-white = no real change."""

UNREACHABLE_COLOUR = "#bdbdbd"
"""Zones with no open site reachable by road (none in LLR)."""

OKABE_ITO: tuple[str, ...] = ("#D55E00", "#0072B2", "#CC79A7", "#E69F00", "#009E73", "#56B4E9")
"""Okabe and Ito (2008) colour-blind-safe qualitative colours, for the service mix of a site."""

SHAPES: tuple[str, ...] = ("circle", "triangle", "square", "diamond", "pentagon", "hexagon")
"""Marker shapes for the service mix of a site, in the same order as :data:`OKABE_ITO`: shape
and colour both carry the service, so the map reads in greyscale and for colour-blind readers."""

SERVICE_WORDS: Mapping[str, str] = {
    "rehab": "rehabilitation and sub-acute",
    "stroke": "stroke rehabilitation",
}
"""Plain words for the service codes of the LLR data; other codes are shown as they are."""

OPTION_WORDS: Mapping[str, str] = {
    "status_quo": "Status quo (beds today)",
    "stp_2016": "STP 2016 proposal",
    "optimal": "Optimised option",
}
"""Plain titles for the usual option names; others are shown with underscores as spaces."""

ChangeKind = Literal["opens", "closes", "gains", "loses", "same", "none"]

CHANGE_WORDS: Mapping[str, str] = {
    "opens": "inpatient beds open here",
    "closes": "inpatient beds close here",
    "gains": "more inpatient beds",
    "loses": "fewer inpatient beds",
    "same": "same inpatient beds",
    "none": "no inpatient beds",
}


WITHIN_KEY = f"share_within_{REPORT_WITHIN_MIN:g}_min"
"""The key of the share of people aged 65+ within the reported drive time (30 minutes) in
:func:`siteopt.appraisal.measures.access_summary` and :meth:`OptionView.lad_table`."""

MEASURE_WORDS = ("Drive time for people aged 65+ to the ward of each service they use "
                 "(as planned)")
"""The name of the one drive-time measure of every map, its legend, tables and colours: the
appraisal report's (:func:`siteopt.appraisal.measures.access_summary`)."""

MEASURE_HOW = ("Each neighbourhood's figure is its people's mean drive to the wards the option "
               "plans for them, each service weighted by its share of bed need; this is the "
               "measure of the appraisal report.")
"""How the measure is made, in words (legends, captions, footers)."""

NEAREST_WORDS = "drive to the nearest site with inpatient beds (for comparison only)"
"""The label of the other drive time some popups and tables still show, as extra information."""


def service_words(service: str) -> str:
    """A service code in plain words."""
    return SERVICE_WORDS.get(service, service)


def option_words(name: str, titles: Mapping[str, str] | None = None) -> str:
    """An option's title: ``titles[name]`` if given (e.g. ``Option D: 6 sites: ...``), else the
    plain words of :data:`OPTION_WORDS`, else the name with underscores as spaces."""
    if titles and titles.get(name):
        return titles[name]
    return OPTION_WORDS.get(name, name.replace("_", " "))


SHORT_TITLE_CHARS = 60
"""Titles longer than this are cut to their head (:func:`short_title`) where space is tight:
the title box on a web map, print-map table headers."""


def short_title(title: str, max_chars: int = 0) -> str:
    """The part of a title before its first ``": "`` (``Option D: 6 sites: ...`` -> ``Option
    D``), for tight spaces; the whole title if it has none or is at most ``max_chars`` long."""
    head, sep, _ = title.partition(": ")
    return head if sep and len(title) > max_chars else title


def in_sentence(title: str) -> str:
    """A title for the middle of a sentence: its first letter lower case unless the first word
    is an acronym (``Status quo`` -> ``status quo``, ``Option D: ...`` -> ``option D: ...``,
    ``STP 2016 proposal`` unchanged)."""
    if len(title) >= 2 and title[0].isupper() and not title[1].isupper():
        return title[0].lower() + title[1:]
    return title


def travel_class(travel_min: float) -> int:
    """Index of the drive-time class of ``travel_min`` (``-1`` if unreachable)."""
    if not np.isfinite(travel_min):
        return -1
    return int(np.searchsorted(TRAVEL_BREAKS_MIN, travel_min, side="right"))


def travel_colour(travel_min: float) -> str:
    """The legend colour of a drive time."""
    k = travel_class(travel_min)
    return UNREACHABLE_COLOUR if k < 0 else TRAVEL_PALETTE[k]


def travel_labels() -> list[str]:
    """Legend labels of the drive-time classes, in minutes."""
    b = [f"{x:g}" for x in TRAVEL_BREAKS_MIN]
    return ([f"under {b[0]} min"] + [f"{lo} to {hi} min" for lo, hi in pairwise(b)]
            + [f"{b[-1]} min or more"])


def change_class(change_min: float) -> int:
    """Index of the change class of ``change_min`` (``-1`` if not finite)."""
    if not np.isfinite(change_min):
        return -1
    return int(np.searchsorted(CHANGE_BREAKS_MIN, change_min, side="left"))


def change_colour(change_min: float) -> str:
    """The legend colour of a change in drive time."""
    k = change_class(change_min)
    return UNREACHABLE_COLOUR if k < 0 else CHANGE_PALETTE[k]


def change_labels() -> list[str]:
    """Legend labels of the change classes."""
    b = CHANGE_BREAKS_MIN
    mid = len(b) // 2
    out = [f"{-b[0]:g}+ min shorter"]
    for lo, hi in pairwise(b[:mid]):
        out.append(f"{-hi:g} to {-lo:g} min shorter")
    out.append(f"within {b[mid]:g} min (no real change)")
    for lo, hi in pairwise(b[mid:]):
        out.append(f"{lo:g} to {hi:g} min longer")
    out.append(f"{b[-1]:g}+ min longer")
    return out


# --------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SiteView:
    """One site as the maps show it."""

    site_id: str
    name: str
    town: str
    lad_name: str
    lat: float
    lon: float
    beds_before: Mapping[str, int]
    beds_after: Mapping[str, int]

    @property
    def total_before(self) -> int:
        return int(sum(self.beds_before.values()))

    @property
    def total_after(self) -> int:
        return int(sum(self.beds_after.values()))

    @property
    def services_after(self) -> tuple[str, ...]:
        """Services with beds in this option."""
        return tuple(v for v, b in self.beds_after.items() if b > 0)

    @property
    def change(self) -> ChangeKind:
        """How the site's beds change against the baseline."""
        before, after = self.total_before, self.total_after
        if before == 0 and after == 0:
            return "none"
        if before == 0:
            return "opens"
        if after == 0:
            return "closes"
        if dict(self.beds_before) == dict(self.beds_after):
            return "same"
        return "gains" if after > before else ("loses" if after < before else "same")

    def beds_words(self, when: Literal["before", "after"]) -> str:
        """Beds per service in plain words, e.g. ``24 rehabilitation and sub-acute beds``."""
        beds = self.beds_before if when == "before" else self.beds_after
        parts = [f"{b} {service_words(v)} beds" for v, b in beds.items() if b > 0]
        return ", ".join(parts) if parts else "no inpatient beds"


@dataclass(frozen=True)
class ZoneUse:
    """One ward a zone uses as planned: a share of one service's need sent to one site."""

    service: str
    site: int
    """Position of the site in :attr:`OptionView.sites`."""
    share: float
    """Share of the zone's need for the service sent there (0 to 1)."""
    travel_min: float


@dataclass(frozen=True, eq=False)
class ZoneView:
    """Zones (LSOA centroids) as parallel arrays."""

    zone_ids: tuple[str, ...]
    zone_names: tuple[str, ...]
    lad_names: tuple[str, ...]
    lat: FloatArray
    lon: FloatArray
    weight: FloatArray
    """The access measures' weight: people aged 65+."""
    travel_min: FloatArray
    """The maps' measure (:data:`MEASURE_WORDS`): the zone's 65+ mean drive to the ward of each
    service it uses as planned, services weighted by their share of bed need
    (:func:`siteopt.appraisal.measures.zone_mean_travel`); inf if no ward is planned for it."""
    max_travel_min: FloatArray
    """The longest drive to a ward the zone uses as planned (inf if none)."""
    uses: tuple[tuple[ZoneUse, ...], ...]
    """Per zone, the wards it uses as planned, in service then site order."""
    nearest_travel_min: FloatArray
    """For comparison only: drive time to the nearest site with inpatient beds of any service
    (inf: none reachable)."""
    nearest_site: IntArray
    """Position (in :attr:`OptionView.sites`) of that site, -1 if none."""
    nearest_by_service: Mapping[str, FloatArray]
    """For comparison only: drive time to the nearest site with beds of each service."""
    nearest_site_by_service: Mapping[str, IntArray]
    """Position of that site per service, -1 if none."""
    catchment_site: IntArray
    """The site the zone's first-service need is mostly assigned to (-1 if none)."""
    catchment_travel_min: FloatArray

    def __len__(self) -> int:
        return len(self.zone_ids)


@dataclass(frozen=True, eq=False)
class OptionView:
    """Everything a map of one option shows."""

    name: str
    title: str
    """The option in words (the ``titles`` given to :func:`option_views`, else
    :func:`option_words`)."""
    problems: tuple[str, ...]
    """What the independent check found wrong with the option, in words (e.g. bed need not
    met); empty if nothing."""
    search_note: str
    """For an optimised option the search did not prove best, how far from the best it may be;
    empty otherwise."""
    services: tuple[str, ...]
    sites: tuple[SiteView, ...]
    zones: ZoneView
    access: Mapping[str, float]
    """The report's access figures for the whole area
    (:func:`siteopt.appraisal.measures.access_summary`)."""
    access_by_lad: Mapping[str, Mapping[str, float]]
    """The same per local authority."""
    baseline_name: str
    baseline_title: str

    @property
    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((south, west), (north, east)) of every site and zone."""
        lats = np.concatenate([self.zones.lat, [s.lat for s in self.sites]])
        lons = np.concatenate([self.zones.lon, [s.lon for s in self.sites]])
        return ((float(lats.min()), float(lons.min())), (float(lats.max()), float(lons.max())))

    def change_min(self, baseline: OptionView) -> FloatArray:
        """Per zone: the change in the maps' measure (:attr:`ZoneView.travel_min`), this option
        minus the baseline (minutes; positive = longer)."""
        if baseline.zones.zone_ids != self.zones.zone_ids:
            raise ValueError("the two options have different zones")
        with np.errstate(invalid="ignore"):
            out: FloatArray = self.zones.travel_min - baseline.zones.travel_min
        return out

    def lad_table(self) -> list[dict[str, Any]]:
        """Per local authority, then ``All of the area``: the report's figures of
        :data:`MEASURE_WORDS` for people aged 65+.

        Keys: ``lad_name``, ``people_65_plus``, ``mean_travel_min`` (services weighted by their
        share of bed need), ``share_within_30_min`` and ``max_travel_min`` (the longest drive to
        a ward anyone is planned to make), as :func:`siteopt.appraisal.measures.access_summary`.
        """
        rows = []
        for lad in [*sorted(self.access_by_lad), None]:
            acc = self.access if lad is None else self.access_by_lad[lad]
            rows.append({
                "lad_name": "All of the area" if lad is None else lad,
                "people_65_plus": float(acc["people_65_plus"]),
                "mean_travel_min": float(acc["mean_travel_min"]),
                WITHIN_KEY: float(acc[WITHIN_KEY]),
                "max_travel_min": float(acc["max_travel_min"]),
            })
        return rows


def solution_instance(prepared: Prepared, solution: Solution) -> Instance:
    """The instance a solution belongs to (evaluated solutions: the evaluation instance)."""
    return prepared.evaluation_instance if solution.evaluated else prepared.instance


def _beds(instance: Instance, choice: Mapping[str, str]) -> dict[str, dict[str, int]]:
    out = {}
    for site in instance.sites:
        opt = site.option(choice[site.site_id])
        out[site.site_id] = {v: int(opt.beds.get(v, 0)) for v in instance.services}
    return out


def _nearest(travel: FloatArray, open_cols: npt.NDArray[np.bool_]) -> tuple[FloatArray, IntArray]:
    if not open_cols.any():
        n = travel.shape[0]
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    masked = np.where(open_cols[None, :], travel, np.inf)
    idx = np.argmin(masked, axis=1).astype(np.int64)
    t = masked[np.arange(travel.shape[0]), idx]
    idx = np.where(np.isfinite(t), idx, -1).astype(np.int64)
    return np.asarray(t, dtype=np.float64), idx


def plain_notes(solution: Solution) -> tuple[tuple[str, ...], str]:
    """(problems, search note) of a solution in words, without solver status words.

    The problems are what the independent check found (capitalised); the search note says how
    far from the best an optimised option stopped at its time limit may be.
    """
    problems = tuple(v[:1].upper() + v[1:] for v in solution.violations)
    note = ""
    if not solution.evaluated and solution.status == STATUS_FEASIBLE:
        how_far = ("an unknown amount" if solution.gap is None
                   else f"up to {100 * solution.gap:.2f}%")
        note = ("The search for the best option stopped at its time limit: this option may be "
                f"{how_far} worse than the best possible on the model's objective.")
    elif not solution.evaluated and solution.status == STATUS_HEURISTIC:
        note = ("This option was found by a quick search that does not prove it is the best "
                "possible.")
    return problems, note


def option_view(prepared: Prepared, name: str, solution: Solution,
                baseline_name: str = "status_quo",
                baseline: Solution | None = None,
                titles: Mapping[str, str] | None = None) -> OptionView:
    """The view of one option against a baseline.

    Parameters
    ----------
    prepared : Prepared
        The scenario the solutions were made on.
    name : str
        The option's name (a file stem; a title if ``titles`` does not give one).
    solution : Solution
    baseline_name : str
        The baseline's name (normally ``status_quo``).
    baseline : Solution, optional
        The baseline's solution; if None the beds before are the sites' current options.
    titles : mapping of str to str, optional
        Option name -> title in words (e.g. ``Option D: 6 sites: ...``), for this option and the
        baseline; names without one get :func:`option_words`.
    """
    instance = solution_instance(prepared, solution)
    data = prepared.data
    services = tuple(instance.services)
    after = _beds(instance, solution.choice)
    if baseline is not None:
        before = _beds(solution_instance(prepared, baseline), baseline.choice)
    else:
        before = {}
        for site in instance.sites:
            opt = site.option(site.current_option_id) if site.current_option_id else None
            before[site.site_id] = {v: int(opt.beds.get(v, 0)) if opt else 0 for v in services}
    rows = {str(r["site_id"]): r for r in data.sites.to_dict("records")}
    sites = []
    for site in instance.sites:
        r = rows[site.site_id]
        sites.append(SiteView(site.site_id, str(site.name), str(r.get("town", "")),
                              str(r.get("lad_name", site.lad_name)), float(r["lat"]),
                              float(r["lon"]), before[site.site_id], after[site.site_id]))
    zones = _zone_view(prepared, instance, solution, tuple(sites))
    lads = np.asarray(instance.zones.lad_name)
    by_lad = {str(lad): access_summary(instance, solution, lads == lad)
              for lad in sorted(set(instance.zones.lad_name))}
    problems, note = plain_notes(solution)
    return OptionView(name, option_words(name, titles), problems, note, services, tuple(sites),
                      zones, access_summary(instance, solution), by_lad, baseline_name,
                      option_words(baseline_name, titles))


def _zone_uses(instance: Instance, solution: Solution) -> tuple[tuple[ZoneUse, ...], ...]:
    a = solution.assignment
    per: list[list[ZoneUse]] = [[] for _ in range(instance.n_zones)]
    order = np.lexsort((a.site_idx, a.service_idx, a.zone_idx))
    for k in order:
        if a.share[k] > SHARE_EPS:
            i, j = int(a.zone_idx[k]), int(a.site_idx[k])
            per[i].append(ZoneUse(instance.services[int(a.service_idx[k])], j,
                                  float(a.share[k]), float(instance.travel_min[i, j])))
    return tuple(tuple(u) for u in per)


def _zone_view(prepared: Prepared, instance: Instance, solution: Solution,
               sites: tuple[SiteView, ...]) -> ZoneView:
    zt = prepared.data.zones
    zone_ids = tuple(str(z) for z in zt["zone_id"])
    pos = {z: i for i, z in enumerate(instance.zones.zone_ids)}
    missing = [z for z in zone_ids if z not in pos]
    if missing:
        raise DataError([Problem("zones.csv", f"zone '{missing[0]}' is not in the solution's "
                                              "instance", field="zone_id")])
    rows = np.array([pos[z] for z in zone_ids], dtype=np.int64)
    travel = np.asarray(instance.travel_min, dtype=np.float64)[rows]
    open_any = np.array([s.total_after > 0 for s in sites])
    nearest_t, nearest_i = _nearest(travel, open_any)
    by_service, site_by_service = {}, {}
    for v in instance.services:
        cols = np.array([s.beds_after.get(v, 0) > 0 for s in sites])
        by_service[v], site_by_service[v] = _nearest(travel, cols)
    # The maps' measure, as the report's: a zone with no ward planned for it has none (inf).
    uses = _zone_uses(instance, solution)
    used = np.array([len(u) > 0 for u in uses])
    mean_t = np.where(used, zone_mean_travel(instance, solution), np.inf)
    max_t = np.array([max((u.travel_min for u in z), default=np.inf) for z in uses])
    # Catchment: the site with the largest share of the zone's first service (ties: first site).
    n_z, n_s = len(instance.zones), len(instance.sites)
    a = solution.assignment
    share = np.zeros((n_z, n_s, len(instance.services)))
    np.add.at(share, (a.zone_idx, a.site_idx, a.service_idx), a.share)
    first = share[:, :, 0]
    use = np.where(first.sum(axis=1, keepdims=True) > 0, first, share.sum(axis=2))
    catch = np.where(use.sum(axis=1) > 0, np.argmax(use, axis=1), -1).astype(np.int64)[rows]
    catch_t = np.array([travel[i, c] if c >= 0 else np.inf for i, c in enumerate(catch)])
    return ZoneView(
        zone_ids=zone_ids,
        zone_names=tuple(str(x) for x in zt["zone_name"]),
        lad_names=tuple(str(x) for x in zt["lad_name"]),
        lat=zt["lat"].to_numpy(dtype=np.float64),
        lon=zt["lon"].to_numpy(dtype=np.float64),
        weight=np.asarray(instance.zones.weight, dtype=np.float64)[rows],
        travel_min=np.asarray(mean_t, dtype=np.float64)[rows],
        max_travel_min=np.asarray(max_t, dtype=np.float64)[rows],
        uses=tuple(uses[r] for r in rows),
        nearest_travel_min=nearest_t,
        nearest_site=nearest_i,
        nearest_by_service=by_service,
        nearest_site_by_service=site_by_service,
        catchment_site=catch,
        catchment_travel_min=catch_t,
    )


def option_views(prepared: Prepared, solutions: Mapping[str, Solution],
                 baseline: str = "status_quo",
                 titles: Mapping[str, str] | None = None,
                 names: Sequence[str] | None = None) -> dict[str, OptionView]:
    """Views of the solutions against ``baseline`` (evaluated if not among ``solutions``).

    The baseline's own view is included (under its name) when it is among the solutions.

    Parameters
    ----------
    prepared : Prepared
    solutions : mapping of str to Solution
    baseline : str
    titles : mapping of str to str, optional
        Option name -> title in words for the page titles, headings and table headers (e.g.
        ``Option D: 6 sites: inpatient beds close at ...``); without it :func:`option_words`.
    names : sequence of str, optional
        Make views of only these options (default: every solution).
    """
    base = solutions.get(baseline)
    if base is None:
        base = evaluate_configuration(prepared, baseline)
    wanted = list(solutions) if names is None else list(dict.fromkeys(names))
    return {name: option_view(prepared, name, solutions[name], baseline, base, titles)
            for name in wanted}


def baseline_view(prepared: Prepared, solutions: Mapping[str, Solution],
                  baseline: str = "status_quo",
                  titles: Mapping[str, str] | None = None) -> OptionView:
    """The baseline's view (evaluated if it is not among ``solutions``)."""
    base = solutions.get(baseline)
    if base is None:
        base = evaluate_configuration(prepared, baseline)
    return option_view(prepared, baseline, base, baseline, base, titles)


# --------------------------------------------------------------------------------------------
# Geometry: boundaries and catchment areas
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _read_geojson(path: str, mtime_ns: int) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


def boundaries(prepared: Prepared, kind: str = "lad") -> list[tuple[dict[str, Any],
                                                                     BaseGeometry]]:
    """(properties, WGS84 geometry) of the boundary file ``boundaries_<kind>.geojson``."""
    path = prepared.data.boundary_path(kind)
    if not path.is_file():
        raise DataError([Problem(path.name, "boundary file not found; maps need it")])
    doc = _read_geojson(str(path), path.stat().st_mtime_ns)
    return [(dict(f.get("properties") or {}), shape(f["geometry"])) for f in doc["features"]]


ZONE_SHAPES_KIND = "lsoa"
"""The boundary file of the zones' polygons: ``boundaries_lsoa.geojson`` (optional; its
``lsoa_code`` is zones.csv's ``zone_id``)."""

ZONE_SHAPE_DIGITS = 4
"""Decimal places of the zone polygons' coordinates on web pages (1e-4 degree: about 11 m of
latitude, 7 m of longitude, well inside the super generalised boundaries' own 200 m)."""


@dataclass(frozen=True, eq=False)
class ZoneShapes:
    """Each zone's polygon (WGS84) in zone order; None for a zone the boundary file lacks."""

    geometries: tuple[BaseGeometry | None, ...]
    source: str
    """The boundary file's name, or ``""`` if the region has none."""

    @property
    def n_polygons(self) -> int:
        return sum(g is not None for g in self.geometries)

    @property
    def complete(self) -> bool:
        """Every zone has a polygon."""
        return bool(self.geometries) and self.n_polygons == len(self.geometries)

    def bng_geometries(self) -> tuple[BaseGeometry, ...]:
        """The polygons in British National Grid metres (only for a complete set)."""
        return _bng_shapes(self)

    def dots_words(self) -> str:
        """What the maps say about zones drawn as dots (empty if none are)."""
        missing = len(self.geometries) - self.n_polygons
        if missing == 0:
            return ""
        if self.n_polygons == 0:
            return ("This region's geodata has no neighbourhood boundaries "
                    f"(boundaries_{ZONE_SHAPES_KIND}.geojson), so each neighbourhood is a dot at "
                    "its centre.")
        return (f"{missing} neighbourhoods have no boundary in boundaries_{ZONE_SHAPES_KIND}"
                ".geojson and are drawn as dots at their centres.")


@lru_cache(maxsize=4)
def _bng_shapes(shapes: ZoneShapes) -> tuple[BaseGeometry, ...]:
    return tuple(geometry_to_bng(g) for g in shapes.geometries if g is not None)


@lru_cache(maxsize=4)
def _zone_shapes(path: str, mtime_ns: int, zone_ids: tuple[str, ...]) -> ZoneShapes:
    doc = _read_geojson(path, mtime_ns)
    by_code = {str((f.get("properties") or {}).get("lsoa_code", "")): f["geometry"]
               for f in doc["features"]}
    geoms = tuple(shape(by_code[z]) if z in by_code else None for z in zone_ids)
    return ZoneShapes(geoms, Path(path).name)


def zone_shapes(prepared: Prepared, zone_ids: Sequence[str]) -> ZoneShapes:
    """The zones' LSOA polygons from ``boundaries_lsoa.geojson`` (matched on ``lsoa_code`` =
    ``zone_id``), in the order of ``zone_ids``; no polygons if the region has no such file
    (the geodata loader has already checked the file when present)."""
    path = prepared.data.boundary_path(ZONE_SHAPES_KIND)
    if not path.is_file():
        return ZoneShapes(tuple(None for _ in zone_ids), "")
    return _zone_shapes(str(path), path.stat().st_mtime_ns, tuple(zone_ids))


def map_bounds(prepared: Prepared, view: OptionView) -> tuple[tuple[float, float],
                                                             tuple[float, float]]:
    """((south, west), (north, east)) of the whole region: every local authority and zone
    polygon, zone centroid and site (the opening view of the web maps)."""
    (s, w), (n, e) = view.bounds
    shapes = zone_shapes(prepared, view.zones.zone_ids)
    geoms = [g for g in shapes.geometries if g is not None]
    geoms += [g for _, g in boundaries(prepared, "lad")]
    for g in geoms:
        gw, gs, ge, gn = g.bounds
        s, w, n, e = min(s, gs), min(w, gw), max(n, gn), max(e, ge)
    return (float(s), float(w)), (float(n), float(e))


LABEL_NEAR_M = 6_000.0
"""Two hospitals closer than this (metres) have their name labels placed on opposite sides, so
the permanent labels of the web maps do not overlap at the opening zoom."""


def label_sides(view: OptionView) -> list[str]:
    """Where each site's permanent name label goes (``bottom``, ``top``, ``left`` or ``right``
    of its symbol): below, unless another site is within :data:`LABEL_NEAR_M`, then on the side
    away from the nearest such site."""
    xs, ys = to_bng([s.lat for s in view.sites], [s.lon for s in view.sites])
    out = []
    for k in range(len(view.sites)):
        dx, dy = xs - xs[k], ys - ys[k]
        dist = np.hypot(dx, dy)
        dist[k] = np.inf
        j = int(np.argmin(dist)) if len(dist) else -1
        if j < 0 or dist[j] >= LABEL_NEAR_M:
            out.append("bottom")
        elif abs(dy[j]) >= abs(dx[j]):
            out.append("top" if dy[j] < 0 else "bottom")
        else:
            out.append("left" if dx[j] > 0 else "right")
    return out


@lru_cache(maxsize=4)
def _voronoi_cells(lad_path: str, mtime_ns: int, lons: tuple[float, ...],
                   lats: tuple[float, ...]) -> tuple[BaseGeometry, ...]:
    """Each zone's Voronoi cell (BNG), clipped to the union of the local authorities."""
    doc = _read_geojson(lad_path, mtime_ns)
    area = unary_union([geometry_to_bng(shape(f["geometry"]))
                        for f in doc["features"]]).buffer(0)
    xs, ys = to_bng(np.asarray(lats), np.asarray(lons))
    points = [Point(x, y) for x, y in zip(xs, ys, strict=True)]
    frame = box(*area.buffer(10_000).bounds)
    cells = voronoi_polygons(MultiPoint(points), extend_to=frame, ordered=True)
    out = []
    for i, cell in enumerate(cells.geoms):
        geom = cell if cell.contains(points[i]) else points[i].buffer(500)
        out.append(geom.intersection(area))
    return tuple(out)


@dataclass(frozen=True, eq=False)
class _Cells:
    """Each zone's area (BNG) for the catchments; ``coverage``: they tile the region without
    gaps or overlaps (LSOA polygons), so their union is exact and quick."""

    geoms: tuple[BaseGeometry, ...]
    coverage: bool


@lru_cache(maxsize=4)
def _lsoa_cells(shapes: ZoneShapes) -> _Cells:
    geoms = shapes.bng_geometries()
    return _Cells(geoms, bool(shapely.coverage_is_valid(shapely.GeometryCollection(geoms))))


@lru_cache(maxsize=4)
def _voronoi_cellset(lad_path: str, mtime_ns: int, lons: tuple[float, ...],
                     lats: tuple[float, ...]) -> _Cells:
    return _Cells(_voronoi_cells(lad_path, mtime_ns, lons, lats), False)


def _catchment_cells(prepared: Prepared, view: OptionView) -> _Cells:
    """Each zone's area in BNG: its LSOA polygon if every zone has one, else its Voronoi cell."""
    shapes = zone_shapes(prepared, view.zones.zone_ids)
    if shapes.complete:
        return _lsoa_cells(shapes)
    path = prepared.data.boundary_path("lad")
    return _voronoi_cellset(str(path), path.stat().st_mtime_ns,
                            tuple(float(x) for x in view.zones.lon),
                            tuple(float(y) for y in view.zones.lat))


def _union(cells: _Cells, members: Sequence[BaseGeometry]) -> BaseGeometry:
    if cells.coverage:
        return shapely.coverage_union_all(list(members))
    return unary_union(list(members)).buffer(1).buffer(-1)


@lru_cache(maxsize=16)
def _merged_catchments(cells: _Cells, catchment_site: tuple[int, ...]
                       ) -> tuple[tuple[tuple[int, BaseGeometry], ...], BaseGeometry]:
    """((site, BNG area) per catchment, BNG lines between catchments without the outer edge)."""
    catch = np.asarray(catchment_site, dtype=np.int64)
    merged = tuple((int(s), _union(cells, [cells.geoms[i] for i in np.flatnonzero(catch == s)]))
                   for s in sorted(set(catchment_site)) if s >= 0)
    if not merged:
        return (), shapely.MultiLineString([])
    area = _union(cells, [g for _, g in merged])
    lines = unary_union([g.boundary for _, g in merged]).difference(area.boundary.buffer(60))
    return merged, lines


def catchment_areas(prepared: Prepared, view: OptionView) -> list[tuple[int, BaseGeometry]]:
    """(site position, WGS84 polygon) of each catchment: zones' areas merged by site.

    A zone's area is its LSOA polygon when the region has them (exact), else its Voronoi cell
    around the zone centroid clipped to the local authority boundaries (approximate at the
    edges); zones without a catchment site are left out.
    """
    merged, _ = _merged_catchments(_catchment_cells(prepared, view),
                                   tuple(int(c) for c in view.zones.catchment_site))
    return [(s, geometry_to_wgs84(g).simplify(0.0005)) for s, g in merged]


def catchment_divides(prepared: Prepared, view: OptionView) -> BaseGeometry:
    """The lines between catchments (WGS84), each drawn once, without the area's outer edge.

    Drawing each catchment's own outline dashed would double shared edges (out of phase dashes
    look solid); these are the unique dividing lines.
    """
    _, lines = _merged_catchments(_catchment_cells(prepared, view),
                                  tuple(int(c) for c in view.zones.catchment_site))
    return geometry_to_wgs84(lines).simplify(0.0005)


def geojson_geometry(geom: BaseGeometry, digits: int = 5) -> dict[str, Any]:
    """GeoJSON geometry with coordinates rounded (stable text, smaller files)."""
    rounded = shapely.transform(geom, lambda xy: np.round(xy, digits))
    g: dict[str, Any] = json.loads(shapely.to_geojson(rounded))
    return {"type": g["type"], "coordinates": g["coordinates"]}


def service_mix(services: Sequence[str], site: SiteView) -> tuple[str, ...]:
    """The services a site has beds for after (or before, if it closes), in service order."""
    after = tuple(v for v in services if site.beds_after.get(v, 0) > 0)
    if after:
        return after
    return tuple(v for v in services if site.beds_before.get(v, 0) > 0)


def service_mixes(services: Sequence[str]) -> list[tuple[str, ...]]:
    """Every service mix a site can have, in a fixed order: each service alone, then pairs..."""
    from itertools import combinations
    out: list[tuple[str, ...]] = []
    for k in range(1, len(services) + 1):
        out.extend(combinations(services, k))
    return out


def mix_style(services: Sequence[str], mix: tuple[str, ...]) -> tuple[str, str]:
    """(shape, colour) of a service mix."""
    mixes = service_mixes(services)
    i = mixes.index(mix) if mix in mixes else len(mixes)
    return SHAPES[i % len(SHAPES)], OKABE_ITO[i % len(OKABE_ITO)]


def mix_words(mix: tuple[str, ...]) -> str:
    """A service mix in words, e.g. ``rehab and stroke``."""
    if not mix:
        return "no inpatient beds"
    return " and ".join(mix) + " beds"


def marker_radius_px(beds: int) -> float:
    """Marker radius in pixels: area in proportion to beds (with a floor for small sites)."""
    return float(5.0 + 1.8 * np.sqrt(max(beds, 0)))


def path_stem(name: str) -> str:
    """A safe file-name stem from an option name."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    return stem or "option"


def ensure_dir(out_dir: Path) -> Path:
    """Create ``out_dir`` (and parents) if needed."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out

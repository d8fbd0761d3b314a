"""The equality and health inequalities impact in the run's files: ``equality.csv`` (and the
workbook sheet "Equality impact"), ``most_affected.csv`` and the report's section.

The figures are :func:`siteopt.appraisal.equality.appraisal_impact`'s; every sentence of the
section is a :class:`~siteopt.appraisal.summary.Statement` whose figures name their row of
``equality.csv`` (key ``option``, ``group``) or ``most_affected.csv`` (key ``option``,
``zone_id``). A region without ``zone_equality.csv`` gets empty tables and a section saying
why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from siteopt.appraisal.equality import (
    BASELINE,
    RISE_OVER_MIN,
    WITHIN_MIN,
    appraisal_impact,
    option_statements,
    short_listed,
)
from siteopt.outputs.html_text import esc, table

if TYPE_CHECKING:  # pragma: no cover
    from siteopt.appraisal.appraise import Appraisal

EQUALITY_SHEET = "Equality impact"
"""The workbook sheet of ``equality.csv``."""
DATA_LIMITS = (
    "Every figure is a zone-level (ecological) estimate, not a count of individuals: a group's "
    "people aged 65+ in a neighbourhood (LSOA 2021) are the neighbourhood's people aged 65+ "
    "times its share of the group, and they are taken to drive as the neighbourhood's older "
    "people do, to the ward of each service they use (services combined by their share of bed "
    "need). The Census shares are of all ages, not of the 65+ alone.",
    "Disability (Equality Act definition) and ethnic group (five high-level groups) are Census "
    "2021 figures for each LSOA; general health (bad or very bad) is Census 2021 by MSOA, each "
    "LSOA taking its MSOA's share.",
    "Households without a car or van are Census 2021 car availability by MSOA (it is not "
    "published by LSOA in the files available): each LSOA takes its MSOA's share, so the "
    "figure is an estimate of the older people living in households without a car, and it "
    "counts households, not visitors.",
    "Deprivation is the English Indices of Deprivation 2025 (MHCLG): quintile 1 is the most "
    "deprived fifth of England's neighbourhoods (national, not local, fifths); the "
    "connectivity score is IoD2025's DfT Transport Connectivity Metric (public transport and "
    "walking access; higher is better connected).",
    "Urban and rural are the ONS Rural-Urban Classification 2011 of the 2011 LSOAs, mapped to "
    "the 2021 LSOAs (a merged LSOA takes the class of most of its parts, a split one its "
    "parent's): rurality may have changed since 2011.",
    "The 80+ are split from the Census 2021 65+ by the share of 80+ among the 65+ in ONS "
    "mid-year estimates by MSOA 2011.",
    "The shares within 30 and 45 minutes count a neighbourhood in or out as a whole by its "
    "65+ mean drive, so they differ slightly from the options table's shares, which count each "
    "service's drive.",
)
"""The data sources and their limits, in plain words (the section's closing list)."""


def option_heading(a: Appraisal, name: str) -> str:
    """``Option D: 6 sites: ...`` (the short list's letter and title)."""
    d = a.decision
    letter = d.get("letters", {}).get(name)
    title = d.get("titles", {}).get(name, name)
    return f"Option {letter}: {title}" if letter else str(title)


def _cell(v: Any) -> Any:
    """None as an empty cell."""
    return "" if v is None else v


def equality_rows(a: Appraisal) -> list[dict[str, Any]]:
    """One row per option and group: ``equality.csv`` and the sheet "Equality impact".

    Columns: option, group, label, people, the mean drive before (business as usual) and
    after, the change, the shares within 30 and 45 minutes before and after, the people whose
    drive rises by more than 10 and 20 minutes, the ratio to the population's change, the
    test's basis and whether the group is flagged. Empty without ``zone_equality.csv``.
    """
    result = appraisal_impact(a)
    if result is None:
        return []
    rows = []
    for o in a.options:
        for gid in result["groups"]:
            g = result["options"][o.name][gid]
            row: dict[str, Any] = {"option": o.name, "group": gid,
                                   "label": result["labels"][gid]}
            row.update({k: _cell(v) for k, v in g.items()})
            rows.append(row)
    return rows


def neighbourhood_rows(a: Appraisal) -> list[dict[str, Any]]:
    """The most affected neighbourhoods of every option but business as usual:
    ``most_affected.csv`` (empty without ``zone_equality.csv``)."""
    result = appraisal_impact(a)
    if result is None:
        return []
    rows = []
    for o in a.options:
        if o.name == result["baseline"]:
            continue
        for z in result["most_affected"][o.name]:
            row = {"option": o.name, **{k: v for k, v in z.items() if k != "zone_index"}}
            rows.append(row)
    return rows


def group_table(result: Mapping[str, Any], option: str) -> str:
    """The HTML table of one option's groups."""
    header = ["Group", "People 65+ (estimate)", "Mean drive today (min)",
              "Mean drive (min)", "Change (min)", "Times everyone's change",
              *[f"Within {w:g} min (today)" for w in WITHIN_MIN],
              *[f"People whose drive rises over {r:g} min" for r in RISE_OVER_MIN],
              "Bears markedly more"]
    rows = []
    for gid in result["groups"]:
        g = result["options"][option][gid]
        ratio = g["ratio_to_population"]
        rows.append([
            result["labels"][gid], f"{g['people']:,.0f}", f"{g['mean_travel_min_before']:.1f}",
            f"{g['mean_travel_min_after']:.1f}", f"{(round(g['mean_change_min'], 1) or 0.0):+.1f}",
            "" if ratio is None else f"{ratio:.1f}",
            *[f"{g[f'share_within_{w:g}_min_after']:.0%} "
              f"({g[f'share_within_{w:g}_min_before']:.0%})" for w in WITHIN_MIN],
            *[f"{g[f'people_rise_over_{r:g}_min']:,.0f}" for r in RISE_OVER_MIN],
            "yes" if g["flagged"] else "no"])
    return table(header, rows, "equality")


def neighbourhood_table(result: Mapping[str, Any], option: str) -> str:
    """The HTML table of one option's most affected neighbourhoods."""
    header = ["Neighbourhood", "Ward", "Local authority", "Rise (min)", "Mean drive today (min)",
              "Mean drive (min)", "People 65+", "IMD decile (1 = most deprived)",
              "Households without a car (estimate)", "Connectivity score"]
    rows = [[z["neighbourhood_name"], z["ward_name"], z["lad_name"], f"+{z['change_min']:.1f}",
             f"{z['mean_travel_min_before']:.1f}", f"{z['mean_travel_min_after']:.1f}",
             f"{z['people_65_plus']:,.0f}", z["iod25_imd_decile"],
             f"{z['share_households_no_car']:.0%}", f"{z['iod25_connectivity_score']:.2f}"]
            for z in result["most_affected"][option]]
    return table(header, rows, "text")


def equality_section_html(a: Appraisal) -> list[str]:
    """The report's "Equality and health inequalities impact" section: for every short-listed
    option the group table, the disproportion flags in words and the most affected
    neighbourhoods; then the data sources and their limits. Every string is escaped."""
    parts = ["<h2 id='equality'>Equality and health inequalities impact</h2>"]
    result = appraisal_impact(a)
    if result is None:
        return [*parts, "<p>Not available: the region's geodata has no zone_equality.csv.</p>"]
    s = result["settings"]
    parts.append(
        "<p>" + esc(
            "Who gains and who loses, by group, against business as usual: the 65+ mean drive "
            "to the ward of each service they use before and after, the shares within 30 and 45 "
            "minutes, and the people whose drive rises by more than 10 and 20 minutes. A group "
            "bears markedly more when its mean drive rises at least "
            f"{s.disproportion_ratio:g} times as much as everyone's (if everyone's changes by "
            f"less than {s.min_population_change_min:g} minutes either way, or falls, when its "
            f"own rise is at least {s.disproportion_ratio * s.min_population_change_min:g} "
            "minutes). All figures are estimates from neighbourhood (LSOA) data; see the notes "
            "below. Every figure is in equality.csv and most_affected.csv.") + "</p>")
    for name in short_listed(a):
        parts.append(f"<h3>{esc(option_heading(a, name))}</h3>")
        if name == result["baseline"] or name == BASELINE:
            parts.append("<p>Business as usual is the baseline every option is compared "
                         "with.</p>")
            continue
        if not result["zones_changed"][name]:
            parts.append("<p>No neighbourhood's 65+ mean drive differs from business as "
                         "usual.</p>")
            continue
        parts.append(group_table(result, name))
        parts.append("<ul>" + "".join(f"<li>{esc(st.text)}</li>"
                                      for st in option_statements(result, name)) + "</ul>")
        if result["most_affected"][name]:
            parts.append(f"<p>{esc('The neighbourhoods whose 65+ mean drive rises most:')}</p>")
            parts.append(neighbourhood_table(result, name))
        else:
            parts.append("<p>No neighbourhood's 65+ mean drive rises.</p>")
    parts.append("<h3>Data sources and their limits</h3><ul>"
                 + "".join(f"<li>{esc(t)}</li>" for t in DATA_LIMITS) + "</ul>")
    return parts

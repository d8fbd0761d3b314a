"""What people read of a phased programme (issue 19): the year-by-year table (CSV), the plan
as JSON, a print-ready timeline chart (PNG and PDF), an HTML section for the report and a
workbook sheet. Every function takes a :class:`~siteopt.appraisal.phasing.PhasePlan`.

* :func:`year_table` / :func:`phasing_csv`: one row per year (capex, receipts, net capital,
  envelope, usable beds and need per service, shortfall in bed-days, revenue and the double
  running within it, 65+ mean drive, the moves and starts of the year);
* :func:`plan_to_dict` / :func:`plan_json`: everything, deterministic (sorted keys);
* :func:`timeline_chart`: schemes as bars over their build years, each site's move as a
  marker (closing sites a cross, moving sites a diamond), the envelope and net capital by
  year below; greyscale-legible (shapes and hatching carry the meaning, not colour), title,
  axis labels and the source line as in :mod:`siteopt.outputs.charts` and the print maps;
* :func:`phasing_section_html`: the report's section, every string escaped
  (:mod:`siteopt.outputs.html_text`), like :func:`siteopt.outputs.equality_report.
  equality_section_html`;
* :func:`write_phasing_sheet`: the year table on an openpyxl worksheet;
* :func:`write_phasing_files`: all of the above into a folder (a run's staging folder);
* in an appraisal's outputs: :func:`phasing_rows` (``phasing_<option>.csv`` and its workbook
  sheet), :func:`plan_statements` (the sentences, every number a figure of the plan),
  :func:`display_table`, :func:`appraisal_section_html` (the report's Phasing section) and
  :func:`timeline_bytes` (the chart's PNG and PDF).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from siteopt.appraisal.naming import gbp_m as money
from siteopt.appraisal.naming import short_site_name
from siteopt.appraisal.phasing import RULES, STP_2016, PhasePlan, fy
from siteopt.fileio import csv_text, spreadsheet_safe, write_atomically
from siteopt.outputs.html_text import esc, table

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

SOURCE_LINE = ("Sources: siteopt phasing model (issue 19); capital schemes and their timing: "
               "STP Nov 2016 capital section (geodata/capital_schemes.csv, scheme_phasing.csv); "
               "bed need: ONS Census 2021 and the scenario's growth method.")
GBP_M = 1e6


def _m(x: float | None) -> str:
    return "-" if x is None else f"{x / GBP_M:.2f}"


def year_table(plan: PhasePlan) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of the year-by-year table, in pounds, beds and minutes."""
    services = list(plan.years[0].need_beds) if plan.years else []
    header = ["year", "capex_gbp", "receipts_gbp", "net_capital_gbp", "envelope_gbp",
              "envelope_basis"]
    for v in services:
        header += [f"usable_beds_{v}", f"need_beds_{v}"]
    header += ["shortfall_bed_days", "revenue_gbp", "double_running_gbp", "mean_travel_min",
               "sites_moving", "schemes_starting"]
    rows = []
    for r in plan.years:
        row: list[Any] = [fy(r.year), round(r.capex_gbp, 2), round(r.receipts_gbp, 2),
                          round(r.net_capital_gbp, 2),
                          None if r.envelope_gbp is None else round(r.envelope_gbp, 2),
                          plan.capital_basis]
        for v in services:
            row += [round(r.usable_beds[v], 3), round(r.need_beds[v], 3)]
        row += [round(r.shortfall_bed_days, 1), round(r.revenue_gbp, 2),
                round(r.double_running_gbp, 2),
                None if r.mean_travel_min is None else round(r.mean_travel_min, 3),
                ";".join(r.moves), ";".join(r.starts)]
        rows.append(row)
    return header, rows


def phasing_csv(plan: PhasePlan) -> str:
    """The year table as deterministic CSV text (spreadsheet-safe cells)."""
    header, rows = year_table(plan)
    return csv_text(header, rows)


def plan_to_dict(plan: PhasePlan) -> dict[str, Any]:
    """The plan as plain data (JSON-ready)."""
    return {
        "option": plan.option, "scenario": plan.scenario, "objective": plan.objective,
        "capital_basis": plan.capital_basis, "first_year": plan.first_year,
        "last_year": plan.last_year, "status": plan.status, "status_text": plan.status_text,
        "gap": plan.gap, "explanation": list(plan.explanation),
        "completion_year": plan.completion_year,
        "years": [{"year": r.year, "financial_year": fy(r.year), "capex_gbp": r.capex_gbp,
                   "receipts_gbp": r.receipts_gbp, "net_capital_gbp": r.net_capital_gbp,
                   "envelope_gbp": r.envelope_gbp, "usable_beds": r.usable_beds,
                   "need_beds": r.need_beds, "shortfall_bed_days": r.shortfall_bed_days,
                   "revenue_gbp": r.revenue_gbp, "double_running_gbp": r.double_running_gbp,
                   "mean_travel_min": r.mean_travel_min, "sites_moving": list(r.moves),
                   "schemes_starting": list(r.starts)} for r in plan.years],
        "schemes": [{"scheme_id": s.scheme_id, "site_id": s.site_id, "kind": s.kind,
                     "capex_gbp": s.capex_gbp, "build_years": s.build_years,
                     "start_year": s.start_year, "finish_year": s.finish_year,
                     "stp_start_year": s.stp_start_year} for s in plan.schemes],
        "wards": [{"site_id": w.site_id, "site_name": w.site_name, "space_id": w.space_id,
                   "service": w.service, "beds": w.beds, "change": w.change, "year": w.year}
                  for w in plan.wards],
        "receipts": [{"scheme_id": r.scheme_id, "receipt_gbp": r.receipt_gbp, "year": r.year}
                     for r in plan.receipts],
        "site_moves": dict(sorted(plan.site_moves.items())),
        "end_state": dict(sorted(plan.end_state.items())),
        "green_book": {"npc_phased_gbp": plan.npc_phased_gbp,
                       "npc_all_at_once_gbp": plan.npc_all_at_once_gbp,
                       "npv_phased_vs_status_quo_gbp": plan.npv_phased_gbp,
                       "npv_all_at_once_vs_status_quo_gbp": plan.npv_all_at_once_gbp,
                       "npv_difference_gbp": plan.npv_difference_gbp},
        "shortfall_bed_days": plan.shortfall_bed_days,
        "stp_comparison": list(plan.stp_comparison),
        "independent_check": list(plan.violations) or "passed",
        "model": {"variables": plan.n_variables, "constraints": plan.n_constraints},
        "rules": list(plan.rules),
    }


def plan_json(plan: PhasePlan) -> str:
    """The plan as deterministic JSON text (timings left out, so runs compare byte for byte)."""
    return json.dumps(plan_to_dict(plan), sort_keys=True, indent=1) + "\n"


def summary_lines(plan: PhasePlan) -> list[str]:
    """The plan in a few sentences (console and report)."""
    lines = [f"phasing of {plan.option}: {plan.status_text} (objective {plan.objective}, "
             f"{plan.capital_basis} capital); horizon {fy(plan.first_year)}-"
             f"{fy(plan.last_year)}; scenario {plan.scenario}"]
    lines += list(plan.explanation)
    if not plan.years:
        return lines
    lines.append(f"complete in {fy(plan.completion_year or plan.first_year)}; bed shortfall "
                 f"{plan.shortfall_bed_days or 0:,.0f} bed-days over the horizon")
    for s in sorted(plan.schemes, key=lambda s: (s.start_year, s.scheme_id)):
        span = fy(s.start_year) if s.build_years == 1 else \
            f"{fy(s.start_year)}-{fy(s.finish_year)}"
        lines.append(f"  {s.scheme_id} ({s.kind}, £{s.capex_gbp / GBP_M:.2f}m): {span}")
    for sid, year in sorted(plan.site_moves.items(), key=lambda kv: (kv[1], kv[0])):
        wards = [w for w in plan.wards if w.site_id == sid]
        closes = ", ".join(f"{w.service} {w.beds}" for w in wards if w.change == "closes")
        opens = ", ".join(f"{w.service} {w.beds}" for w in wards if w.change == "opens")
        lines.append(f"  {fy(year)}: {wards[0].site_name if wards else sid}: "
                     f"{closes or 'no ward'} -> {opens or 'no inpatient ward'}")
    diff = plan.npv_difference_gbp or 0.0
    lines.append(f"Green Book NPV against the status quo: phased £{_m(plan.npv_phased_gbp)}m, "
                 f"all at once £{_m(plan.npv_all_at_once_gbp)}m ({'+' if diff >= 0 else '-'}"
                 f"£{abs(diff) / GBP_M:.2f}m phased)")
    return lines


def table_lines(plan: PhasePlan) -> list[str]:
    """The year table for a console, in £m."""
    if not plan.years:
        return []
    services = list(plan.years[0].need_beds)
    head = (f"{'year':<8}{'capex':>7}{'rcpts':>7}{'net':>7}{'envel.':>7}"
            + "".join(f"{v[:6] + ' /need':>14}" for v in services)
            + f"{'short bd':>9}{'revenue':>8}{'double':>7}{'65+ min':>8}  moves")
    out = [head + "   (money in £m)"]
    for r in plan.years:
        beds = "".join(f"{r.usable_beds[v]:>7.0f}/{r.need_beds[v]:<6.1f}" for v in services)
        env = "-" if r.envelope_gbp is None else f"{r.envelope_gbp / GBP_M:.2f}"
        drive = "-" if r.mean_travel_min is None else f"{r.mean_travel_min:.2f}"
        out.append(f"{fy(r.year):<8}{r.capex_gbp / GBP_M:>7.2f}{r.receipts_gbp / GBP_M:>7.2f}"
                   f"{r.net_capital_gbp / GBP_M:>7.2f}{env:>7}{beds}"
                   f"{r.shortfall_bed_days:>9.0f}{r.revenue_gbp / GBP_M:>8.2f}"
                   f"{r.double_running_gbp / GBP_M:>7.2f}{drive:>8}  {', '.join(r.moves)}")
    return out


def phasing_section_html(plan: PhasePlan, heading: str | None = None) -> list[str]:
    """The report's phasing section (escaped HTML fragments), for one plan."""
    parts = [f"<h2 id='phasing-{esc(plan.option)}'>"
             f"{esc(heading or 'Phasing: ' + plan.option)}</h2>"]
    parts.append("<ul>" + "".join(f"<li>{esc(t)}</li>" for t in summary_lines(plan)) + "</ul>")
    if plan.years:
        header, rows = year_table(plan)
        parts.append(table(header, [["" if c is None else c for c in r] for r in rows],
                           "numbers"))
    if plan.stp_comparison:
        parts.append("<p>" + esc("Against the 2016 plan's order:") + "</p><ul>"
                     + "".join(f"<li>{esc(t)}</li>" for t in plan.stp_comparison) + "</ul>")
    parts.append("<p>" + esc(" ".join(plan.rules)) + "</p>")
    return parts


def write_phasing_sheet(ws: Worksheet, plan: PhasePlan) -> None:
    """The year table on a worksheet: header row in bold, £ formats, frozen header."""
    from openpyxl.styles import Font

    header, rows = year_table(plan)
    ws.append([spreadsheet_safe(h) for h in header])
    for row in rows:
        ws.append([spreadsheet_safe(c) for c in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    money = {i + 1 for i, h in enumerate(header) if h.endswith("_gbp")}
    for row_cells in ws.iter_rows(min_row=2):
        for cell in row_cells:
            if cell.column in money and cell.value is not None:
                cell.number_format = "£#,##0"
    ws.freeze_panes = "B2"


def timeline_figure(plan: PhasePlan, title: str | None = None) -> Any:
    """The timeline chart as a matplotlib figure (see the module docstring); ``title`` names
    the option in words (default: its name)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    years = [r.year for r in plan.years]
    schemes = sorted(plan.schemes, key=lambda s: (s.start_year, s.scheme_id))
    moves = sorted(plan.site_moves.items(), key=lambda kv: (kv[1], kv[0]))
    n_rows = len(schemes) + len(moves)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8.27, 3.0 + 0.32 * n_rows), dpi=150,
                                  gridspec_kw={"height_ratios": [max(n_rows, 1), 3]},
                                  sharex=True)
    labels = []
    for i, s in enumerate(schemes):
        ax.barh(i, s.build_years, left=s.start_year - 0.5, height=0.6, color="0.55",
                edgecolor="black", hatch="//" if s.kind == "closure" else None)
        site = next((w.site_name for w in plan.wards if w.site_id == s.site_id), s.site_id)
        labels.append(f"{site}: {'closure' if s.kind == 'closure' else 'ward'} scheme "
                      f"(£{s.capex_gbp / GBP_M:.2f}m)")
    closing = closing_sites(plan)
    for j, (sid, year) in enumerate(moves, start=len(schemes)):
        ax.plot([year], [j], marker="X" if sid in closing else "D", color="black",
                markersize=7, linestyle="none")
        name = next((w.site_name for w in plan.wards if w.site_id == sid), sid)
        labels.append(f"{name}: {'beds close' if sid in closing else 'wards change'}")
    ax.set_yticks(range(n_rows), labels, fontsize=7)
    ax.invert_yaxis()
    ax.grid(axis="x", color="0.85", linewidth=0.6)
    fig.suptitle("\n".join(textwrap.wrap(
        f"Phasing of {title or plan.option}, {plan.status_text}: schemes (bars over their "
        "build years; hatched: closure schemes) and ward moves in the first year the new wards "
        "run (diamond: wards change; cross: beds close)", 110)), fontsize=9)
    gross = plan.capital_basis == "gross"
    net = [(r.capex_gbp if gross else r.net_capital_gbp) / GBP_M for r in plan.years]
    env = [r.envelope_gbp / GBP_M if r.envelope_gbp is not None else float("nan")
           for r in plan.years]
    ax2.bar(years, net, color="0.7", edgecolor="black",
            label="capex" if gross else "net capital (capex less receipts)")
    ax2.step(years, env, where="mid", color="black", linestyle="--",
             label=f"envelope ({plan.capital_basis})")
    ax2.axhline(0, color="black", linewidth=0.6)
    ax2.set_ylabel("£m", fontsize=8)
    ax2.set_xlabel("financial year (2026 = 2026/27)", fontsize=8)
    ax2.set_xticks(years, [fy(y) for y in years], fontsize=7, rotation=45)
    top = max([0.0, *net, *[e for e in env if e == e]])  # (NaN: no envelope that year)
    ax2.set_ylim(top=1.6 * top if top > 0 else 1.0)  # room for the legend above the bars
    ax2.legend(fontsize=7, loc="upper right", ncols=2, framealpha=1.0)
    fig.text(0.01, 0.005, "\n".join(textwrap.wrap(SOURCE_LINE, 150)), fontsize=5.5, ha="left",
             va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 0.94))
    return fig


def timeline_bytes(plan: PhasePlan, title: str | None = None) -> dict[str, bytes]:
    """The timeline chart as ``{"png": ..., "pdf": ...}`` bytes, the same bytes every run (no
    dates or software versions in the files)."""
    import io

    import matplotlib.pyplot as plt

    fig = timeline_figure(plan, title)
    out = {}
    for ext in ("png", "pdf"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext,
                    metadata={"CreationDate": None} if ext == "pdf" else {"Software": None})
        out[ext] = buf.getvalue()
    plt.close(fig)
    return out


def timeline_chart(plan: PhasePlan, stem: Path, title: str | None = None) -> list[Path]:
    """The timeline chart as ``stem.png`` and ``stem.pdf`` (see the module docstring)."""
    out = []
    for ext, data in timeline_bytes(plan, title).items():
        path = stem.with_suffix(f".{ext}")
        tmp = path.with_suffix(f".tmp.{ext}")
        tmp.write_bytes(data)
        tmp.replace(path)
        out.append(path)
    return out


def closing_sites(plan: PhasePlan) -> set[str]:
    """Sites whose wards only close (no ward opens there)."""
    return ({w.site_id for w in plan.wards if w.change == "closes"}
            - {w.site_id for w in plan.wards if w.change == "opens"})


def write_phasing_files(plan: PhasePlan, folder: Path, stem: str = "phasing",
                        chart: bool = True) -> list[Path]:
    """``stem.csv``, ``stem.json``, ``stem.html`` (the section as a page) and, with matplotlib,
    ``stem_timeline.png``/``.pdf``, into ``folder``; the paths written."""
    out = []
    for name, text in ((f"{stem}.csv", phasing_csv(plan)), (f"{stem}.json", plan_json(plan)),
                       (f"{stem}.html", _page(plan))):
        path = folder / name
        write_atomically(path, text)
        out.append(path)
    if chart and plan.years:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            return out
        out += timeline_chart(plan, folder / f"{stem}_timeline")
    return out


def _page(plan: PhasePlan) -> str:
    body = "\n".join(phasing_section_html(plan))
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>"
            f"{esc('Phasing: ' + plan.option)}</title></head><body>\n{body}\n</body></html>\n")


def names(paths: Sequence[Path]) -> list[str]:
    """File names of ``paths``."""
    return [p.name for p in paths]


# ---------------------------------------------------------------------------------------------
# In the appraisal's outputs (report.html, report.docx, appraisal.xlsx, phasing_<option>.csv)
# ---------------------------------------------------------------------------------------------
SECTION_INTRO = (
    "When each capital scheme can start and each hospital's wards can move, within each year's "
    "capital envelope (the scenario's [phasing] settings; defaults in assumptions.toml): beds "
    "move only into finished wards, a hospital whose beds go elsewhere closes no earlier than "
    "the ward that takes them opens, the shortfall of beds against each year's need is kept as "
    "small as the envelopes allow, then the net present cost is least. The rest of the report "
    "treats every option as if it happened at once.")


def phasing_table_name(option: str) -> str:
    """The CSV of an option's year table in an appraisal's run folder."""
    return f"phasing_{option}.csv"


def timeline_stem(option: str) -> str:
    """The file stem of an option's timeline chart (``.png``, ``.pdf``)."""
    return f"phasing_{option}_timeline"


def phasing_rows(plan: PhasePlan) -> list[dict[str, Any]]:
    """The year table (:func:`year_table`) as rows of plain dicts (column -> value)."""
    header, rows = year_table(plan)
    return [dict(zip(header, r, strict=True)) for r in rows]


def _site(site_names: Mapping[str, str], site_id: str) -> str:
    return short_site_name(site_names.get(site_id, site_id))


def _envelope_words(plan: PhasePlan) -> str:
    values = sorted({r.envelope_gbp for r in plan.years if r.envelope_gbp is not None})
    if not values:
        return f"no {plan.capital_basis} capital limit"
    if len(values) == 1 and all(r.envelope_gbp is not None for r in plan.years):
        return f"a {plan.capital_basis} capital envelope of {money(values[0])} a year"
    return (f"{plan.capital_basis} capital envelopes of {money(values[0])} to "
            f"{money(values[-1])} a year (each year's in the table)")


def year_work(plan: PhasePlan, year: int, site_names: Mapping[str, str]) -> list[str]:
    """What happens in a year, in words: the schemes whose work starts, the wards that move."""
    closing = closing_sites(plan)
    out = [f"{_site(site_names, s.site_id)} {'closure' if s.kind == 'closure' else 'ward'} "
           f"scheme starts ({money(s.capex_gbp)})"
           for s in sorted(plan.schemes, key=lambda s: s.scheme_id) if s.start_year == year]
    out += [f"{_site(site_names, sid)} beds close" if sid in closing else
            f"{_site(site_names, sid)} wards change"
            for sid, y in sorted(plan.site_moves.items()) if y == year]
    return out


def plan_statements(plan: PhasePlan, words: str, site_names: Mapping[str, str]) -> list[str]:
    """The plan in sentences, every number a figure of the plan's year table or Green Book
    figures (``words``: the option in words, e.g. ``Option D (the preferred option)``)."""
    span = f"{fy(plan.first_year)}-{fy(plan.last_year)}"
    if not plan.years:
        return [f"{words}: no programme ({plan.status_text}) under {span}'s envelopes.",
                *plan.explanation]
    lead = (f"{words} is phased over {span} under {_envelope_words(plan)}: the programme is "
            f"{plan.status_text} and complete in {fy(plan.completion_year or plan.first_year)}.")
    order = [f"{fy(r.year)}: {'; '.join(year_work(plan, r.year, site_names))}"
             for r in plan.years if year_work(plan, r.year, site_names)]
    out = [lead, "The order: " + ". ".join(order) + "."]
    net = [r.net_capital_gbp for r in plan.years]
    peak = max(range(len(net)), key=lambda i: (net[i], -i))
    capex = sum(r.capex_gbp for r in plan.years)
    receipts = sum(r.receipts_gbp for r in plan.years)
    out.append(f"Capital over the horizon: {money(capex)} of capex and {money(receipts)} of "
               f"receipts; the most net capital in one year is {money(net[peak])}, in "
               f"{fy(plan.years[peak].year)}.")
    short = [r for r in plan.years if r.shortfall_bed_days > 0.5]
    out.append("Beds meet each year's need in every year." if not short else
               f"Beds fall short of need by {plan.shortfall_bed_days or 0.0:,.0f} bed-days over "
               f"the horizon, in {len(short)} of {len(plan.years)} years (from "
               f"{fy(short[0].year)}).")
    double = sum(r.double_running_gbp for r in plan.years)
    if double > 0:
        out.append(f"Running old and new wards side by side (double running) costs "
                   f"{money(double)} over the horizon.")
    diff = plan.npv_difference_gbp or 0.0
    out.append(f"Green Book NPV against business as usual: {money(plan.npv_phased_gbp or 0.0)} "
               f"phased, against {money(plan.npv_all_at_once_gbp)} all at once (the "
               f"appraisal's figure, all capital in year 0): phasing "
               f"{'lowers' if diff < 0 else 'raises'} the NPV by {money(abs(diff))}.")
    return out


def order_words(groups: Mapping[int, Sequence[str]]) -> str:
    """``a (2018/19), then b and c (2019/20)``: schemes grouped by year, in year order."""
    return ", then ".join(f"{' and '.join(sorted(ids))} ({fy(y)})"
                          for y, ids in sorted(groups.items()))


def stp_statement(plan: PhasePlan) -> str:
    """The plan's order of schemes against the 2016 plan's (``stp_start_year`` of
    scheme_phasing.csv), in one sentence (empty if no scheme has an STP year)."""
    dated = [s for s in plan.schemes if s.stp_start_year is not None]
    if not dated:
        return ""
    ours: dict[int, list[str]] = {}
    stp: dict[int, list[str]] = {}
    for s in dated:
        ours.setdefault(s.start_year, []).append(s.scheme_id)
        stp.setdefault(s.stp_start_year or 0, []).append(s.scheme_id)
    same_order = ([sorted(v) for _, v in sorted(ours.items())]
                  == [sorted(v) for _, v in sorted(stp.items())])
    same = sum(1 for s in dated if s.start_year == s.stp_start_year)
    return (f"Against the STP's own order (scheme_phasing.csv): the phased programme starts "
            f"work on {order_words(ours)}; the STP on {order_words(stp)}. "
            + ("The order is the STP's" if same_order else "The order differs from the STP's")
            + f"; {same} of {len(dated)} schemes start in the STP's year.")


def display_table(plan: PhasePlan, site_names: Mapping[str, str]
                  ) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the year table as the report shows it (money in £m)."""
    services = list(plan.years[0].need_beds) if plan.years else []
    header = ["Year", "Capex", "Receipts", "Net capital", "Envelope",
              *[f"Beds {v} / need" for v in services], "Shortfall (bed-days)",
              "Running cost", "Double running", "65+ drive to the nearest ward (min)",
              "Work and moves"]
    rows = []
    for r in plan.years:
        rows.append([fy(r.year), money(r.capex_gbp), money(r.receipts_gbp),
                     money(r.net_capital_gbp),
                     "none" if r.envelope_gbp is None else money(r.envelope_gbp),
                     *[f"{r.usable_beds[v]:.0f} / {r.need_beds[v]:.1f}" for v in services],
                     f"{r.shortfall_bed_days:,.0f}", money(r.revenue_gbp),
                     money(r.double_running_gbp),
                     "-" if r.mean_travel_min is None else f"{r.mean_travel_min:.2f}",
                     "; ".join(year_work(plan, r.year, site_names))])
    return header, rows


def timeline_caption(plan: PhasePlan, words: str) -> str:
    """The caption of a plan's timeline chart."""
    return (f"Phasing of {words}: schemes over their build years and each hospital's move; "
            f"below, each year's {plan.capital_basis} capital against the envelope.")


def appraisal_section_html(plans: Mapping[str, PhasePlan], words: Mapping[str, str],
                           site_names: Mapping[str, str], images: Mapping[str, str]
                           ) -> list[str]:
    """The report's Phasing section: per plan its sentences, year table, timeline chart
    (``images``: option -> base64 PNG) and, with STP years, the comparison with the STP."""
    if not plans:
        return []
    parts = ["<h2 id='phasing'>Phasing: the programme year by year</h2>",
             f"<p>{esc(SECTION_INTRO)}</p>"]
    for name, plan in plans.items():
        what = words.get(name, name)
        parts.append(f"<h3 id='phasing-{esc(name)}'>{esc('Phasing of ' + what)}</h3>")
        parts.append("<ul>" + "".join(f"<li>{esc(s)}</li>" for s in
                                      plan_statements(plan, what, site_names)) + "</ul>")
        if plan.years:
            header, rows = display_table(plan, site_names)
            parts.append(table(header, rows, "phasing"))
        if name in images:
            caption = timeline_caption(plan, what)
            parts.append(f"<figure><img alt='{esc(caption)}' src='data:image/png;base64,"
                         f"{images[name]}'><figcaption class='note'>{esc(caption)}"
                         "</figcaption></figure>")
        if name == STP_2016 and plan.stp_comparison:
            parts.append(f"<p>{esc(stp_statement(plan))}</p><ul>"
                         + "".join(f"<li>{esc(x)}</li>" for x in plan.stp_comparison[1:-1])
                         + "</ul>")
    parts.append("<p class='note'>" + esc(" ".join(RULES)) + "</p>")
    return parts

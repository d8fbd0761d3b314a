"""The consultation report as a Word document (``report.docx``), for a comms team to restyle.

Reading order: the title; **Summary** (the statements of
:func:`siteopt.appraisal.summary.summary_statements`, the first in bold, and the key figures);
**The short list** (lettered options in words) and **Beds at each hospital** (site x option);
**Phasing** (each phased option's sentences, year table and timeline chart); **Equality** (the
tables and sentences the caller passes: :class:`EqualityInput`); **Maps** (the print maps' PNGs
embedded, each with a caption); **Charts**; **Sources and licences** (the data sources,
licences and the run's facts).

Everything is styled by *named* Word styles, never by direct formatting, so restyling the
styles restyles the document: headings are ``Title``, ``Heading 1`` and ``Heading 2``; body
text ``Normal``; bullets ``List Bullet``; captions ``Caption``; tables use the table style
:data:`TABLE_STYLE` with cell text in the paragraph style :data:`TABLE_TEXT_STYLE` and a
header row that repeats on every page.

The content is built first as plain data (:func:`report_content`: :class:`Block` items), then
written by :func:`docx_bytes`, so a test can check the content and the document separately.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from siteopt.appraisal.naming import gbp_m as money
from siteopt.appraisal.phasing import STP_2016, plan_words
from siteopt.appraisal.shortlist import HURDLES
from siteopt.appraisal.summary import summary_statements
from siteopt.outputs.columns import UnknownColumnError, describe, vocabulary
from siteopt.outputs.datapackage import run_date
from siteopt.outputs.phasing import (
    SECTION_INTRO,
    display_table,
    plan_statements,
    stp_statement,
    timeline_caption,
)
from siteopt.outputs.report_html import HURDLE_LABELS, option_label, role, short_list
from siteopt.outputs.workbook import About, about_from_appraisal, pinned_zip

if TYPE_CHECKING:  # pragma: no cover - typing only
    from docx.document import Document as DocumentObject

    from siteopt.appraisal.appraise import Appraisal
    from siteopt.outputs.columns import ColumnInfo, Vocabulary

TABLE_STYLE = "Table Grid"
"""The Word table style of every table (one of python-docx's default template)."""
TABLE_TEXT_STYLE = "Table Text"
"""The paragraph style of table cells (created from ``Normal``, smaller)."""
TABLE_TEXT_PT = 8.5
BODY_FONT = "Arial"
"""The ``Normal`` style's font (every other style inherits it)."""
PAGE_WIDTH_CM, PAGE_HEIGHT_CM, MARGIN_CM = 21.0, 29.7, 2.0
"""A4 portrait with 2 cm margins."""
CHAR_CM, CELL_PAD_CM, WRAP_CHARS, BOLD_WIDTH = 0.17, 0.45, 60, 1.2
"""Table text's mean character width at :data:`TABLE_TEXT_PT`, a cell's padding (both
margins), the length past which a cell's text wraps rather than widening its column, and how
much wider the bold header's characters are."""
CAPTION_CM = 3.0
"""Room kept on a print page for its heading and caption."""
CHART_MAX_HEIGHT_CM = 10.5
"""Charts are at most this tall (two to a page)."""
CHART_CAPTIONS = {
    "pareto": "Cost against access: every configuration within the limits, the Pareto "
              "frontier and the short-listed options.",
    "beds": "Beds per site in the short-listed options.",
    "travel": "Share of people aged 65+ within each drive time.",
}
MAP_KINDS = {"map": "Map", "change": "Change in drive time", "compare": "Side by side"}


# ---------------------------------------------------------------------------------------------
# Content as plain data
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    """One item of the document, in reading order.

    ``kind`` is ``heading`` (``level`` 0 = title, 1, 2), ``paragraph`` (``bold`` for the
    lead), ``bullet``, ``table`` (``header`` and ``rows``) or ``image`` (``png`` bytes; ``text``
    is the caption).
    """

    kind: str
    text: str = ""
    level: int = 1
    bold: bool = False
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    png: bytes = b""
    page: bool = False
    """For an image: a print page (a wide one gets a landscape page of its own)."""

    @property
    def landscape(self) -> bool:
        """True for a wide print page."""
        if self.kind != "image" or not self.page:
            return False
        width_px, height_px = png_size(self.png)
        return width_px > height_px


@dataclass(frozen=True)
class EqualityInput:
    """The equality section: sentences and tables (table name -> rows of plain dicts, e.g.
    ``equality.csv`` rows for the short-listed options) to show as they are; headers come from
    :mod:`siteopt.outputs.columns` where it knows the column."""

    statements: Sequence[str] = ()
    tables: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    intro: str = ""
    headings: Mapping[str, str] = field(default_factory=dict)
    """Table name -> the heading over its table (default: the name in words)."""
    notes: Sequence[str] = ()
    """Closing bullets (the data's limits)."""


EQUALITY_COLUMNS = ("label", "people", "mean_travel_min_before", "mean_travel_min_after",
                    "mean_change_min", "ratio_to_population", "flagged")
"""The columns of equality.csv the Word report shows, per group."""
AFFECTED_COLUMNS = ("rank", "neighbourhood_name", "lad_name", "people_65_plus",
                    "mean_travel_min_before", "mean_travel_min_after", "change_min")
"""The columns of most_affected.csv the Word report shows."""


def equality_input(a: Appraisal) -> EqualityInput | None:
    """The equality section of an appraisal for :func:`report_docx`: the sentences of
    :func:`siteopt.appraisal.equality.section_statements`, the preferred option's groups and
    most affected neighbourhoods (from ``equality.csv`` / ``most_affected.csv``'s rows) and the
    data's limits; None without ``zone_equality.csv``."""
    from siteopt.appraisal.equality import section_statements
    from siteopt.outputs.equality_report import DATA_LIMITS, equality_rows, neighbourhood_rows

    groups = [r for r in equality_rows(a) if r["option"] == a.preferred]
    if not groups:
        return None
    affected = [r for r in neighbourhood_rows(a) if r["option"] == a.preferred]
    words = option_label(a, a.option(a.preferred))
    return EqualityInput(
        statements=[s.text for s in section_statements(a)],
        tables={"equality.csv": [{c: r.get(c, "") for c in EQUALITY_COLUMNS} for r in groups],
                "most_affected.csv": [{c: r.get(c, "") for c in AFFECTED_COLUMNS}
                                      for r in affected]},
        headings={"equality.csv": f"Groups: {words}",
                  "most_affected.csv": f"Most affected neighbourhoods: {words}"},
        intro=DATA_LIMITS[0] if DATA_LIMITS else "", notes=list(DATA_LIMITS[1:]))


def cell_text(value: Any, info: ColumnInfo | None) -> str:
    """A value as a table shows it: money in £m, shares as percentages, minutes to 1 dp."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if info is None or not isinstance(value, int | float):
        return str(value)
    if info.kind in ("gbp", "gbp_per_year"):
        return money(float(value))
    if info.kind in ("share", "probability"):
        return f"{100 * float(value):.{0 if info.kind == 'share' else 1}f}%"
    if info.kind == "minutes":
        return f"{float(value):.1f}"
    if info.type == "integer" or info.kind == "people":
        return f"{float(value):,.0f}"
    return f"{float(value):,.2f}"


def rows_table(table: str, rows: Sequence[Mapping[str, Any]],
               vocab: Vocabulary | None = None) -> Block:
    """A table block of plain rows: headers in words (the key itself if the dictionary does
    not know it), values formatted by their column's kind."""
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    infos: list[ColumnInfo | None] = []
    for c in cols:
        try:
            infos.append(describe(table, c, vocab))
        except UnknownColumnError:
            infos.append(None)
    header = tuple(i.label if i else c.replace("_", " ") for c, i in zip(cols, infos,
                                                                           strict=True))
    body = tuple(tuple(cell_text(r.get(c), i) for c, i in zip(cols, infos, strict=True))
                 for r in rows)
    return Block("table", header=header, rows=body)


def summary_blocks(a: Appraisal) -> list[Block]:
    """The summary: the recommendation in bold, the key figures, the other statements."""
    statements = summary_statements(a)
    out = [Block("heading", "Summary", 1)]
    if not statements:
        return [*out, Block("paragraph", "No summary: the appraisal made no decision.")]
    out.append(Block("paragraph", statements[0].text, bold=True))
    d = a.decision
    names = list(dict.fromkeys(n for n in (a.preferred, d.get("runner_up"), "stp_2016",
                                           "status_quo") if n and n in d["titles"]))
    opts = [a.option(n) for n in names]
    header = ("", *[f"Option {d['letters'].get(o.name, '')} ({role(a, o.name)})" for o in opts])
    rows = [
        ("Hospitals with inpatient beds", *[str(o.measures["sites_with_beds"]) for o in opts]),
        ("Beds", *[str(d["beds"][o.name]) for o in opts]),
        ("65+ mean drive to their ward",
         *[f"{o.measures['access']['mean_travel_min']:.1f} min" for o in opts]),
        ("65+ within 30 minutes",
         *[f"{o.measures['access']['share_within_30_min']:.0%}" for o in opts]),
        ("Net capital", *[money(o.measures["net_capital_gbp"]) for o in opts]),
        ("Running cost a year", *[money(o.measures["revenue_gbp_per_year"]) for o in opts]),
        ("NPV against business as usual",
         *[money(o.economics["npv_vs_status_quo_gbp"]) for o in opts]),
    ]
    out.append(Block("table", header=header, rows=tuple(tuple(r) for r in rows)))
    out += [Block("bullet", s.text) for s in statements[1:]]
    return out


def hurdle_words(failed: Mapping[str, str | None]) -> str:
    """``passes all`` or ``fails: capital limit, resilience``."""
    fails = [HURDLE_LABELS.get(h, h) for h in HURDLES if failed.get(h)]
    return "passes all" if not fails else "fails: " + ", ".join(fails)


def shortlist_blocks(a: Appraisal) -> list[Block]:
    """The short list: each option in words, its measures (one column per option) and the
    site x option beds table."""
    opts = short_list(a)
    d = a.decision
    out = [Block("heading", "The short list", 1), Block(
        "paragraph", "Drive times are for people aged 65+, to the ward of each service they "
        "use, weighted by each service's share of bed need. Money at 2016/17 prices; NPV over "
        f"{a.settings.appraisal_years} years against business as usual.")]
    out += [Block("bullet", f"{option_label(a, o)} ({role(a, o.name)})") for o in opts]
    header = ("", *[f"Option {d['letters'].get(o.name, o.name)}" for o in opts])
    rows: list[tuple[str, ...]] = [
        ("Role", *[role(a, o.name) for o in opts]),
        ("Hospitals with inpatient beds", *[str(o.measures["sites_with_beds"]) for o in opts]),
        ("Beds", *[str(d["beds"][o.name]) for o in opts]),
        ("65+ mean drive (min)", *[f"{o.measures['access']['mean_travel_min']:.1f}"
                                   for o in opts]),
        ("65+ within 30 minutes", *[f"{o.measures['access']['share_within_30_min']:.0%}"
                                    for o in opts]),
        ("Worst local authority's 65+ mean drive (min)",
         *[f"{max(g['mean_travel_min'] for g in o.measures['access_by_lad'].values()):.1f}"
           for o in opts]),
        ("Net capital", *[money(o.measures["net_capital_gbp"]) for o in opts]),
        ("Running cost a year", *[money(o.measures["revenue_gbp_per_year"]) for o in opts]),
        ("NPV vs business as usual", *[money(o.economics["npv_vs_status_quo_gbp"])
                                       for o in opts]),
        ("Benefit score (0-10)", *[f"{d['benefit_score'][o.name]:.2f}" for o in opts]),
        ("Hurdles", *[hurdle_words(o.hurdles) for o in opts]),
    ]
    out.append(Block("table", header=header, rows=tuple(rows)))
    out.append(Block("heading", "Beds at each hospital", 2))
    services = list(a.prepared.evaluation_instance.services)
    sites = opts[0].measures["sites"] if opts else {}
    header = ("Hospital", *[f"Option {d['letters'].get(o.name, o.name)}" for o in opts])
    rows = []
    for sid, s in sites.items():
        cells = [str(s["name"])]
        for o in opts:
            beds = o.measures["sites"][sid]["beds"]
            cells.append(" + ".join(f"{beds[v]} {v}" for v in services if beds[v]) or "none")
        rows.append(tuple(cells))
    out.append(Block("table", header=header, rows=tuple(rows)))
    return out


def equality_blocks(equality: EqualityInput | None, vocab: Vocabulary | None) -> list[Block]:
    """The equality section (a note that it was not run when ``equality`` is None)."""
    out = [Block("heading", "Equality", 1)]
    if equality is None:
        return [*out, Block("paragraph", "The equality analysis is not part of this run.")]
    if equality.intro:
        out.append(Block("paragraph", equality.intro))
    out += [Block("bullet", s) for s in equality.statements]
    for table, rows in equality.tables.items():
        if rows:
            out.append(Block("heading", equality.headings.get(table) or str(table).removesuffix(
                ".csv").replace("_", " ").capitalize(), 2))
            out.append(rows_table(table, rows, vocab))
    if equality.notes:
        out.append(Block("heading", "About these figures", 2))
        out += [Block("bullet", n) for n in equality.notes]
    return out


def map_caption(path: Path, vocab: Vocabulary | None) -> str:
    """``Map: Option D`` from ``map_pareto_11.png`` (the stem in words)."""
    kind, _, rest = path.stem.partition("_")
    words = MAP_KINDS.get(kind)
    if words is None:
        return path.stem.replace("_", " ")
    names = [vocab.option_words(n) if vocab else n for n in rest.split("_vs_")]
    return f"{words}: {' against '.join(names)}"


def image_blocks(images: Mapping[str, str | bytes],
                 print_maps: Sequence[Path] | Mapping[str, Path],
                 vocab: Vocabulary | None) -> list[Block]:
    """The maps (PNG files; a mapping gives each its caption) and the charts (PNG bytes or
    base64 text, keyed as :func:`siteopt.outputs.report_html.charts`)."""
    out: list[Block] = []
    maps = (list(print_maps.items()) if isinstance(print_maps, Mapping)
            else [(map_caption(Path(p), vocab), p) for p in print_maps])
    maps = [(c, Path(p)) for c, p in maps if Path(p).suffix.lower() == ".png"]
    if maps:
        out.append(Block("heading", "Maps", 1))
        for caption, path in maps:
            out.append(Block("image", caption, png=path.read_bytes(), page=True))
    if images:
        out.append(Block("heading", "Charts", 1))
        for key, img in images.items():
            png = img if isinstance(img, bytes) else base64.b64decode(img)
            out.append(Block("image", CHART_CAPTIONS.get(key, key), png=png))
    return out


def phasing_blocks(a: Appraisal, pngs: Mapping[str, bytes]) -> list[Block]:
    """The Phasing section: per phased option its sentences, year table and timeline chart
    (``pngs``: option -> PNG bytes); nothing when no option was phased."""
    if not a.phasing:
        return []
    words = plan_words(a.decision, a.preferred)
    names = {s.site_id: s.name for s in a.prepared.evaluation_instance.sites}
    out = [Block("heading", "Phasing: the programme year by year", 1),
           Block("paragraph", SECTION_INTRO)]
    for name, plan in a.phasing.items():
        what = words.get(name, name)
        out.append(Block("heading", f"Phasing of {what}", 2))
        out += [Block("bullet", s) for s in plan_statements(plan, what, names)]
        if name == STP_2016 and plan.stp_comparison:
            out.append(Block("bullet", stp_statement(plan)))
        if plan.years:
            header, rows = display_table(plan, names)
            out.append(Block("table", header=tuple(header),
                             rows=tuple(tuple(r) for r in rows)))
        if name in pngs:
            out.append(Block("image", timeline_caption(plan, what), png=pngs[name]))
    return out


def sources_blocks(about: About) -> list[Block]:
    """Sources, licences and the run's facts."""
    out = [Block("heading", "Sources and licences", 1), Block("heading", "Data sources", 2)]
    out += [Block("bullet", s.get("title", "") + (f" ({s['path']})" if s.get("path") else ""))
            for s in about.sources]
    out.append(Block("heading", "Licences", 2))
    out += [Block("bullet", f"{s.get('title', s.get('name', ''))}: {s.get('path', '')}")
            for s in about.licences]
    out.append(Block("heading", "This run", 2))
    out.append(Block("table", header=("Item", "Value"), rows=tuple(about.facts())))
    return out


def report_content(a: Appraisal, images: Mapping[str, str | bytes] | None = None,
                   print_maps: Sequence[Path] | Mapping[str, Path] = (),
                   equality: EqualityInput | None = None,
                   about: About | None = None,
                   phasing_pngs: Mapping[str, bytes] | None = None) -> list[Block]:
    """Every block of the Word report, in reading order (see the module docstring);
    ``phasing_pngs``: option -> its phasing timeline PNG."""
    about = about or about_from_appraisal(a)
    vocab = vocabulary(a)
    region = a.prepared.data.assumptions["meta.region"]
    out = [Block("heading", about.title, 0),
           Block("paragraph", f"{region}; planning year {a.prepared.demand.planning_year}; "
                              f"scenario {about.scenario}; {about.date:%d %B %Y}.")]
    out += summary_blocks(a)
    out += shortlist_blocks(a)
    out += phasing_blocks(a, phasing_pngs or {})
    out += equality_blocks(equality, vocab)
    out += image_blocks(images or {}, print_maps, vocab)
    out += sources_blocks(about)
    return out


# ---------------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------------
def setup_document(doc: DocumentObject, title: str, date: dt.date) -> None:
    """A4 portrait, the table text style, the document's properties (dated ``date``)."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Cm, Pt

    for section in doc.sections:
        section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(MARGIN_CM))
    doc.styles["Normal"].font.name = BODY_FONT
    style = doc.styles.add_style(TABLE_TEXT_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.font.size = Pt(TABLE_TEXT_PT)
    style.paragraph_format.space_after = Pt(0)
    when = dt.datetime(date.year, date.month, date.day)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, "siteopt", "siteopt"
    props.created, props.modified, props.revision = when, when, 1


def repeat_header(row: Any) -> None:
    """Mark a table row as the header repeated on every page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    pr.append(el)


def column_widths_cm(header: Sequence[str], rows: Sequence[Sequence[str]],
                     usable_cm: float = PAGE_WIDTH_CM - 2 * MARGIN_CM) -> list[float]:
    """Column widths: each column as wide as its longest cell (up to :data:`WRAP_CHARS`) and at
    least its longest word; when that is too wide, the widest columns are cut to a common
    width (water filling) so that short columns of figures never wrap."""
    least, wish = [], []
    for j in range(len(header)):
        head_word = max((len(w) for w in str(header[j]).split()), default=1) * BOLD_WIDTH
        word = max([head_word, *[len(w) for r in rows for w in str(r[j]).split()]])
        body = max((len(str(r[j])) for r in rows), default=1)
        least.append(word * CHAR_CM + CELL_PAD_CM)
        wish.append(max(word, min(body, WRAP_CHARS)) * CHAR_CM + CELL_PAD_CM)
    if sum(wish) <= usable_cm:
        return wish
    if sum(least) >= usable_cm:
        return [usable_cm * w / sum(least) for w in least]
    lo, hi = 0.0, max(wish)
    for _ in range(50):  # the common width of the cut columns, by bisection
        cap = (lo + hi) / 2
        if sum(min(w, max(m, cap)) for w, m in zip(wish, least, strict=True)) > usable_cm:
            hi = cap
        else:
            lo = cap
    return [min(w, max(m, lo)) for w, m in zip(wish, least, strict=True)]


def add_table(doc: DocumentObject, block: Block) -> None:
    """A table in :data:`TABLE_STYLE`, header row bold and repeated."""
    from docx.shared import Cm

    ncols = len(block.header)
    table = doc.add_table(rows=1 + len(block.rows), cols=ncols, style=TABLE_STYLE)
    table.autofit = False
    widths = column_widths_cm(block.header, block.rows)
    for j, col in enumerate(table.columns):
        col.width = Cm(widths[j])
    for i, cells in enumerate([block.header, *block.rows]):
        row = table.rows[i]
        for j, text in enumerate(cells):
            cell = row.cells[j]
            cell.width = Cm(widths[j])
            para = cell.paragraphs[0]
            para.style = doc.styles[TABLE_TEXT_STYLE]
            run = para.add_run(str(text))
            if i == 0:
                run.bold = True
    repeat_header(table.rows[0])
    doc.add_paragraph()


def png_size(png: bytes) -> tuple[int, int]:
    """A PNG's (width, height) in pixels, from its header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG image")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def set_orientation(doc: DocumentObject, landscape: bool) -> None:
    """Start a new section (on a new page) in landscape or portrait A4, unless the current
    one already is."""
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Cm

    current = doc.sections[-1]
    if (current.orientation == WD_ORIENT.LANDSCAPE) == landscape:
        return
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    long_, short = Cm(PAGE_HEIGHT_CM), Cm(PAGE_WIDTH_CM)
    section.page_width, section.page_height = (long_, short) if landscape else (short, long_)


def add_image(doc: DocumentObject, block: Block) -> None:
    """An image as large as the page allows (a wide one on a landscape page), captioned."""
    from docx.shared import Cm

    width_px, height_px = png_size(block.png)
    landscape = block.landscape
    page_w, page_h = (PAGE_HEIGHT_CM, PAGE_WIDTH_CM) if landscape else (PAGE_WIDTH_CM,
                                                                        PAGE_HEIGHT_CM)
    height_cm = (page_h - 2 * MARGIN_CM - CAPTION_CM) if block.page else CHART_MAX_HEIGHT_CM
    width_cm = min(page_w - 2 * MARGIN_CM, height_cm * width_px / max(1, height_px))
    doc.add_picture(io.BytesIO(block.png), width=Cm(width_cm))
    doc.add_paragraph(block.text, style="Caption")


def docx_bytes(blocks: Sequence[Block], title: str, date: dt.date) -> bytes:
    """The Word document of ``blocks`` (reproducible: dated ``date``, not the clock)."""
    import docx

    doc = docx.Document()
    setup_document(doc, title, date)
    for i, b in enumerate(blocks):
        # a heading goes with the image after it (onto its landscape page)
        nxt = blocks[i + 1] if b.kind == "heading" and i + 1 < len(blocks) else b
        set_orientation(doc, nxt.landscape)
        if b.kind == "heading":
            doc.add_heading(b.text, level=b.level)
        elif b.kind == "paragraph":
            para = doc.add_paragraph()
            para.add_run(b.text).bold = b.bold or None
        elif b.kind == "bullet":
            doc.add_paragraph(b.text, style="List Bullet")
        elif b.kind == "table":
            add_table(doc, b)
        elif b.kind == "image":
            add_image(doc, b)
        else:
            raise ValueError(f"unknown block kind {b.kind!r}")
    buf = io.BytesIO()
    doc.save(buf)
    return pinned_zip(buf.getvalue(), date)


def report_docx(a: Appraisal, images: Mapping[str, str | bytes] | None = None,
                print_map_paths: Sequence[Path] | Mapping[str, Path] = (),
                equality: EqualityInput | None = None, date: dt.date | None = None,
                phasing_pngs: Mapping[str, bytes] | None = None) -> bytes:
    """The consultation report as Word document bytes.

    Parameters
    ----------
    a : Appraisal
    images : mapping, optional
        Chart key -> PNG (bytes or base64 text, as :func:`siteopt.outputs.report_html.charts`
        returns), shown under Charts.
    print_map_paths : sequence of Path, or mapping of caption -> Path
        The print maps to embed (PNG files; other suffixes are left out), in order.
    equality : EqualityInput, optional
        The equality section's sentences and tables (a note says it was not run if None).
    date : date, optional
        The run's date (:func:`siteopt.outputs.datapackage.run_date` if None).
    phasing_pngs : mapping, optional
        Option -> the PNG of its phasing timeline (:func:`siteopt.outputs.phasing.
        timeline_bytes`), shown in the Phasing section with its table.
    """
    about = about_from_appraisal(a, date or run_date())
    blocks = report_content(a, images, print_map_paths, equality, about, phasing_pngs)
    return docx_bytes(blocks, about.title, about.date)

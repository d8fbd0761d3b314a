"""The Word report (siteopt.outputs.docx_report), checked structurally with python-docx and,
where LibreOffice is installed, as PDF pages.

* hand blocks: headings in the Title / Heading 1 / Heading 2 styles, tables in the table style
  with a repeated header row, images embedded (a wide print page on a landscape page), the same
  bytes twice, column widths that fit the page and never cut a column of figures;
* a real LLR appraisal (slow): every summary sentence present, the short-list and site x option
  tables, the equality hook, the print maps and charts embedded, sources and licences; and
  converted to PDF by ``soffice --headless`` (skipped without ``libreoffice-writer-nogui``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT

from siteopt.appraisal.appraise import Appraisal, appraise
from siteopt.appraisal.equality import section_statements
from siteopt.appraisal.settings import AppraisalSettings
from siteopt.appraisal.summary import summary_statements
from siteopt.outputs.docx_report import (
    MARGIN_CM,
    PAGE_WIDTH_CM,
    TABLE_STYLE,
    Block,
    EqualityInput,
    column_widths_cm,
    docx_bytes,
    equality_blocks,
    equality_input,
    png_size,
    report_docx,
)
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import prepare

DAY = dt.date(2025, 3, 4)


def png(width: int, height: int) -> bytes:
    """A small real PNG (drawn with PIL, which matplotlib brings)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def open_docx(data: bytes) -> DocumentObject:
    return docx.Document(io.BytesIO(data))


def headings(doc: DocumentObject) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in doc.paragraphs
            if p.style is not None and p.style.name in ("Title", "Heading 1", "Heading 2")]


def all_text(doc: DocumentObject) -> str:
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        parts += [c.text for row in t.rows for c in row.cells]
    return "\n".join(parts)


BLOCKS = [Block("heading", "Report", 0), Block("heading", "Summary", 1),
          Block("paragraph", "The lead.", bold=True), Block("bullet", "A point."),
          Block("heading", "Detail", 2),
          Block("table", header=("Hospital", "Option A"), rows=(("North", "24 rehab"),)),
          Block("heading", "Maps", 1), Block("image", "Map: Option A", png=png(300, 200),
                                             page=True),
          Block("heading", "Charts", 1), Block("image", "A chart", png=png(200, 150))]


def test_blocks_become_styled_headings_tables_and_images() -> None:
    doc = open_docx(docx_bytes(BLOCKS, "Report", DAY))
    assert headings(doc) == [("Title", "Report"), ("Heading 1", "Summary"),
                             ("Heading 2", "Detail"), ("Heading 1", "Maps"),
                             ("Heading 1", "Charts")]
    assert [p.style.name for p in doc.paragraphs if p.text == "A point."] == ["List Bullet"]
    assert [p.style.name for p in doc.paragraphs if p.text.startswith("Map:")] == ["Caption"]
    assert len(doc.tables) == 1 and doc.tables[0].style.name == TABLE_STYLE
    assert doc.tables[0].cell(1, 0).text == "North"
    header_xml = doc.tables[0].rows[0]._tr.xml
    assert "tblHeader" in header_xml
    assert len(doc.inline_shapes) == 2
    orient = [s.orientation for s in doc.sections]
    assert orient == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE, WD_ORIENT.PORTRAIT]
    created = doc.core_properties.created
    assert created is not None and created.date() == DAY


def test_the_same_document_twice_and_png_size() -> None:
    assert docx_bytes(BLOCKS, "Report", DAY) == docx_bytes(BLOCKS, "Report", DAY)
    assert png_size(png(30, 20)) == (30, 20)
    with pytest.raises(ValueError, match="PNG"):
        png_size(b"GIF89a" + bytes(30))


def test_column_widths_fit_the_page_and_keep_figures_whole() -> None:
    long_text = "Option A: " + "a long title that wraps " * 6
    header = ("Option", "Title", "Hurdles", "Net capital", "NPV")
    rows = [(long_text, long_text, long_text, "£110.03m", "-£9.30m")] * 3
    widths = column_widths_cm(header, rows)
    usable = PAGE_WIDTH_CM - 2 * MARGIN_CM
    assert sum(widths) == pytest.approx(usable, abs=0.01)  # too wide: cut to the page
    assert widths[0] == pytest.approx(widths[1]) and widths[0] > widths[3]
    assert widths[3] >= len("£110.03m") * 0.17 + 0.45  # figures never cut
    small = column_widths_cm(("a", "b"), [("1", "2")])
    assert sum(small) < usable  # a small table is not stretched


def test_equality_hook_shows_the_rows_it_is_given() -> None:
    hook = EqualityInput(statements=["Group X would see their drive rise."],
                         tables={"equality.csv": [{"label": "People aged 80+", "people": 1234.4,
                                                   "mean_change_min": 1.26, "flagged": True,
                                                   "new_measure": 7}]},
                         headings={"equality.csv": "Groups: Option D"}, notes=["A limit."])
    blocks = equality_blocks(hook, None)
    assert [(b.kind, b.text) for b in blocks if b.kind in ("heading", "bullet")] == [
        ("heading", "Equality"), ("bullet", "Group X would see their drive rise."),
        ("heading", "Groups: Option D"), ("heading", "About these figures"),
        ("bullet", "A limit.")]
    table = next(b for b in blocks if b.kind == "table")
    assert table.header == ("Group", "People aged 65+ in the group (estimate)",
                            "Change in mean drive (min)", "Bears a disproportionate rise",
                            "new measure")  # a column the dictionary lacks keeps its name
    assert table.rows == (("People aged 80+", "1,234", "1.3", "yes", "7"),)
    assert [b.text for b in equality_blocks(None, None)][1] == \
        "The equality analysis is not part of this run."


# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def llr() -> Appraisal:
    prepared = prepare(DEFAULT_GEODATA_DIR)
    settings = AppraisalSettings.from_assumptions(prepared.data.assumptions.values,
                                                  {"appraisal.next_best_options": 1})
    return appraise(prepared, settings)


@pytest.fixture(scope="module")
def report(llr: Appraisal, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, int]:
    from siteopt.outputs.print_maps import write_static_maps
    from siteopt.outputs.report_html import charts

    out = tmp_path_factory.mktemp("docx")
    maps = write_static_maps(llr.prepared, {llr.preferred: llr.option(llr.preferred).solution},
                             out, formats=("png",))
    images = charts(llr)
    data = report_docx(llr, images, maps, equality_input(llr), date=DAY)
    (out / "report.docx").write_bytes(data)
    return data, len(images) + len(maps)


@pytest.mark.slow
def test_real_report_has_every_section_sentence_table_and_image(
        llr: Appraisal, report: tuple[bytes, int]) -> None:
    data, n_images = report
    doc = open_docx(data)
    h = headings(doc)
    assert h[0][0] == "Title"
    assert [t for s, t in h if s == "Heading 1"] == [
        "Summary", "The short list", "Phasing: the programme year by year", "Equality", "Maps",
        "Charts", "Sources and licences"]
    assert ("Heading 2", "Beds at each hospital") in h
    paragraphs = [p.text for p in doc.paragraphs]
    for s in summary_statements(llr):
        assert s.text in paragraphs, s.id
    equality = section_statements(llr)
    assert equality and all(s.text in paragraphs for s in equality)
    assert any(t.startswith("Groups: Option") for s, t in h if s == "Heading 2")
    assert all(t.style.name == TABLE_STYLE for t in doc.tables)
    beds = next(t for t in doc.tables if t.cell(0, 0).text == "Hospital")
    assert len(beds.rows) == 1 + len(llr.option("status_quo").measures["sites"])
    assert len(beds.columns) == 1 + len(llr.decision["main_table"])
    text = all_text(doc)
    for name in llr.decision["main_table"]:
        assert f"Option {llr.decision['letters'][name]}: {llr.decision['titles'][name]}" in text
    assert "Change in mean drive (min)" in text  # the equality table's header in words
    assert "Most affected neighbourhoods: Option" in text
    assert "Open Government Licence" in text and "OpenStreetMap" in text
    assert len(doc.inline_shapes) == n_images
    assert "{" not in text


@pytest.mark.slow
def test_real_report_converts_to_pdf_pages(report: tuple[bytes, int], tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice not installed: apt-get install libreoffice-writer-nogui")
    (tmp_path / "report.docx").write_bytes(report[0])
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(tmp_path / "report.docx")], check=True, capture_output=True,
                   timeout=300)
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf)]
    counts += [int(n) for n in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", pdf)]
    assert counts and max(counts) >= 5, counts  # summary, short list, maps, charts, sources

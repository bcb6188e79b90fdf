"""The yearly report as a Word document (.docx), with python-docx.

The same structure as the HTML page: a title block (report, plan, as of), the
parts as Heading 1 (so Word's navigation pane lists 一、… 五、附表 and the annex),
sections as Heading 2, their paragraphs, shortfalls in red, tables (heading row
repeated on every page, rows never split, numbers and status words never
wrapped) and charts as pictures with their title as caption. A4, Chinese text
in 宋体/黑体 (``w:eastAsia``). The file is the same bytes for the same report:
its dates are the report's as-of day.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Any

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from fupin.render.layout import Block, Table, cell_text, column_widths, parts, stable_zip, title_block, tr

if TYPE_CHECKING:
    from fupin.charts import Chart
    from fupin.overview import Overview
    from fupin.report import YearlyReport

#: East Asian fonts: body and headings (Word substitutes an installed CJK font where missing).
BODY_FONT_ZH = "宋体"
HEADING_FONT_ZH = "黑体"
LATIN_FONT = "Times New Roman"
PAGE_WIDTH, PAGE_HEIGHT, MARGIN_SIDE, MARGIN_TOP = Mm(210), Mm(297), Mm(20), Mm(25)
TABLE_POINTS = 9
#: One display column (half a CJK character) at TABLE_POINTS, and a cell's left+right padding, in mm.
_COL_MM, _PAD_MM = TABLE_POINTS * 0.353 / 2 + 0.05, 4.2
_RED = RGBColor(0x8A, 0x10, 0x10)
_PARTS_ON_NEW_PAGE = ("appendix", "plan_office")
#: How a chart's caption starts, in Chinese (True) and English (False).
_FIGURE = {True: "图", False: "Figure "}


def render_report_docx(report: YearlyReport, lang: str = "zh") -> bytes:
    """The yearly report as the bytes of a .docx file, in ``lang``."""
    document = _document(lang)
    write_report(document, report, lang)
    title, plan_title, _ = title_block(report, lang)
    return _save(document, title, plan_title, report.as_of, lang)


def render_overview_docx(overview: Overview, lang: str = "zh") -> bytes:
    """The province overview as the bytes of a .docx file, in ``lang``: the summary table and the charts comparing
    the plans, then each plan's report as :func:`render_report_docx` lays it out, each from a new page."""
    from fupin.overview import overview_title, summary_headers, summary_rows

    document = _document(lang)
    title, subtitle = overview_title(overview, lang)
    document.add_heading(title, level=0).alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(subtitle).alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_heading(tr(lang, "各方案概况", "The plans at a glance"), level=1)
    headers = tuple(summary_headers(lang))
    _table(document, Table("overview.summary", headers[0], headers, tuple(tuple(r) for r in summary_rows(overview, lang))))
    for chart in overview.charts:
        _chart(document, chart, lang)
    for report in overview.reports:
        write_report(document, report, lang, new_page=True)
    as_of = overview.reports[0].as_of if overview.reports else dt.date(overview.year, 12, 31)
    return _save(document, title, subtitle, as_of, lang)


def _document(lang: str) -> Any:
    """An empty A4 document with the report's fonts."""
    document = docx.Document()
    _page(document)
    _fonts(document, lang)
    return document


def write_report(document: Any, report: YearlyReport, lang: str, *, new_page: bool = False) -> None:
    """Add the report to ``document``: its title block (from a new page with ``new_page``), then its parts."""
    title, plan_title, as_of = title_block(report, lang)
    heading = document.add_heading(title, level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading.paragraph_format.page_break_before = new_page
    for line in (plan_title, as_of):
        document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.CENTER
    for part in parts(report, lang):
        heading = document.add_heading(part.heading, level=1)
        if part.key in _PARTS_ON_NEW_PAGE:
            heading.paragraph_format.page_break_before = True
        for block in part.blocks:
            _block(document, block, lang)


def _save(document: Any, title: str, subject: str, as_of: dt.date, lang: str) -> bytes:
    """The document's bytes, its properties dated ``as_of`` (the same content gives the same bytes)."""
    when = dt.datetime.combine(as_of, dt.time())
    props = document.core_properties
    props.title, props.subject, props.author, props.last_modified_by = title, subject, "fupin", "fupin"
    props.created = props.modified = props.last_printed = when
    props.revision, props.comments = 1, tr(lang, "由 fupin 生成", "Made by fupin")
    props.language = "en" if lang == "en" else "zh-CN"
    out = io.BytesIO()
    document.save(out)
    return stable_zip(out.getvalue(), as_of)


def _page(document: Any) -> None:
    for section in document.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
        section.left_margin = section.right_margin = MARGIN_SIDE
        section.top_margin = section.bottom_margin = MARGIN_TOP


def _east_asian(rpr: Any, font: str, lang: str) -> None:
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    for theme in ("w:eastAsiaTheme", "w:asciiTheme", "w:hAnsiTheme"):
        fonts.attrib.pop(qn(theme), None)
    language = rpr.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        rpr.append(language)
    language.set(qn("w:val"), "en-US")
    language.set(qn("w:eastAsia"), "zh-CN")


def _fonts(document: Any, lang: str) -> None:
    styles = document.styles
    styles["Normal"].font.size = Pt(10.5)
    for name in ("Normal", "Caption", "List Bullet"):
        _east_asian(styles[name].element.get_or_add_rPr(), BODY_FONT_ZH, lang)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        _east_asian(styles[name].element.get_or_add_rPr(), HEADING_FONT_ZH, lang)
        styles[name].font.color.rgb = RGBColor(0, 0, 0)  # an office document's headings are black


def _block(document: Any, block: Block, lang: str) -> None:
    document.add_heading(block.title, level=2)
    for text in block.paragraphs:
        document.add_paragraph(text)
    for text in block.shortfalls:
        run = document.add_paragraph(style="List Bullet").add_run(text)
        run.font.color.rgb = _RED
    if block.table is not None:
        _table(document, block.table)
    for chart in block.charts:
        _chart(document, chart, lang)


def _chart(document: Any, chart: Chart, lang: str) -> None:
    """The chart as a picture the text's width, its number and title as caption below, then its note."""
    from fupin.charts import chart_png

    document.add_picture(io.BytesIO(chart_png(chart, lang)), width=PAGE_WIDTH - 2 * MARGIN_SIDE)
    picture = document.paragraphs[-1]
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.keep_with_next = True
    number = sum(1 for p in document.paragraphs if p.style.name == "Caption" and p.text.startswith(_FIGURE[lang != "en"])) + 1
    label = f"{_FIGURE[True]}{number}  " if lang != "en" else f"{_FIGURE[False]}{number}. "
    caption = document.add_paragraph(label + chart.title(lang), style="Caption")
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if chart.note(lang):
        document.add_paragraph(chart.note(lang)).alignment = WD_ALIGN_PARAGRAPH.CENTER


def _table(document: Any, table: Table) -> None:
    n = len(table.headers)
    grid = document.add_table(rows=1 + len(table.rows), cols=n)
    grid.style = document.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    widths = _widths(table)
    header = grid.rows[0]
    _repeat_header(header)
    for i, text in enumerate(table.headers):
        cell = header.cells[i]
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        run.font.size = Pt(TABLE_POINTS)
        _shade(cell, "F3F0EA")
    for r, row in enumerate(table.rows, start=1):
        cells = grid.rows[r].cells
        _cant_split(grid.rows[r])
        for i in range(n):
            value = row[i] if i < len(row) else None
            paragraph = cells[i].paragraphs[0]
            paragraph.add_run(cell_text(value)).font.size = Pt(TABLE_POINTS)
            if isinstance(value, int | float) and not isinstance(value, bool):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if i == table.status or len(cell_text(value)) <= 5:
                _no_wrap(cells[i])
    for row in grid.rows:
        for i, cell in enumerate(row.cells):
            cell.width = widths[i]
    for i, col in enumerate(grid.columns):
        col.width = widths[i]


def _widths(table: Table) -> list[Any]:
    """Column widths filling the text width: every column at least as wide as its short cells, the rest shared
    out by how much longer text each column holds."""
    available = (PAGE_WIDTH - 2 * MARGIN_SIDE) / Mm(1)
    measured = column_widths(table.headers, table.rows)
    least = [short * _COL_MM + _PAD_MM for short, _ in measured]
    want = [max(longest * _COL_MM + _PAD_MM, low) for (_, longest), low in zip(measured, least, strict=True)]
    if sum(want) <= available:
        spare = available - sum(want)
        widths = [w + spare * w / sum(want) for w in want]
    elif sum(least) >= available:
        widths = [w * available / sum(least) for w in least]
    else:
        extra = [w - low for w, low in zip(want, least, strict=True)]
        room = available - sum(least)
        widths = [low + room * e / sum(extra) for low, e in zip(least, extra, strict=True)]
    return [Mm(w) for w in widths]


def _tr_pr(row: Any) -> Any:
    return row._tr.get_or_add_trPr()


def _repeat_header(row: Any) -> None:
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    _tr_pr(row).append(flag)
    _cant_split(row)


def _cant_split(row: Any) -> None:
    flag = OxmlElement("w:cantSplit")
    flag.set(qn("w:val"), "true")
    _tr_pr(row).append(flag)


def _no_wrap(cell: Any) -> None:
    flag = OxmlElement("w:noWrap")
    cell._tc.get_or_add_tcPr().append(flag)


def _shade(cell: Any, colour: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


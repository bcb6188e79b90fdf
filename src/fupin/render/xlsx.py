"""The yearly report as an Excel workbook (.xlsx), with openpyxl.

A first sheet 目录 / Contents (the report's title, plan and as-of day, then every
sheet with a link to it, its part and its caption), then one sheet per table in
the report's order: the commitments, each section's table (附表 included), and
the data behind each chart. Sheet names are the tables' captions in the report's
language, made unique within Excel's 31 characters. Every sheet has its heading
row bold and frozen and its columns fitted; money is a number in 元 (read from
the yuan text exactly, with Decimal), dates are dates. The file is the same bytes
for the same report: its dates are the report's as-of day.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from fupin.checks import Status
from fupin.render.layout import Table, as_date, cell_text, chart_table, display_width, is_money, parts, stable_zip, title_block, tr

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from fupin.overview import Overview
    from fupin.report import YearlyReport

DATE_FORMAT = "yyyy-mm-dd"
_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="F3F0EA")
_STATUS_FILL = {Status.MET: "D8F0D8", Status.NOT_MET: "F8C9C4", Status.NOT_YET_DUE: "FFE9A8", Status.NO_DATA: "DDDDDD",
                Status.NOT_MEASURABLE: "E8E4F4"}
_NOT_IN_NAMES = re.compile(r"[\[\]:*?/\\]")
_MONEY_UNITS = ("元", "yuan")


def money_format(lang: str) -> str:
    """The number format of money: thousands separated, two decimals, the unit."""
    return '#,##0.00" 元"' if lang != "en" else '#,##0.00" yuan"'


def render_report_xlsx(report: YearlyReport, lang: str = "zh") -> bytes:
    """The yearly report as the bytes of a .xlsx file, in ``lang``."""
    book = Workbook()
    contents = book.active
    assert contents is not None
    contents.title = tr(lang, "目录", "Contents")
    names = {contents.title.casefold()}
    listed = write_report(book, report, lang, names)
    title, plan_title, as_of = title_block(report, lang)
    _contents(contents, (title, plan_title, as_of), lang, listed)
    return _save(book, title, plan_title, report.as_of, lang)


def render_overview_xlsx(overview: Overview, lang: str = "zh") -> bytes:
    """The province overview as the bytes of a .xlsx file, in ``lang``: the summary sheet first (one row of figures
    per plan), the contents, the comparison charts' data, then each plan's sheets as :func:`render_report_xlsx`
    makes them, their names headed by the plan's villages."""
    from fupin.overview import MONEY_COLUMNS, overview_title, short_label, summary_figures

    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = tr(lang, "总览", "Overview")
    contents = book.create_sheet(tr(lang, "目录", "Contents"))
    names = {summary.title.casefold(), contents.title.casefold()}
    title, subtitle = overview_title(overview, lang)
    part = tr(lang, "各方案概况", "The plans at a glance")
    headers, rows = summary_figures(overview, lang)
    _sheet(summary, Table("overview.summary", title, tuple(headers), tuple(tuple(r) for r in rows)), lang,
           money_units=set(MONEY_COLUMNS))
    listed = [(summary.title, part, title)]
    for chart in overview.charts:
        name = sheet_name(chart.title(lang), names)
        _sheet(book.create_sheet(name), chart_table(chart, lang), lang, money_units=set())
        listed.append((name, part, chart.title(lang)))
    for report in overview.reports:
        listed += write_report(book, report, lang, names, prefix=short_label(report, lang) + " ")
    _contents(contents, (title, subtitle), lang, listed)
    as_of = overview.reports[0].as_of if overview.reports else dt.date(overview.year, 12, 31)
    return _save(book, title, subtitle, as_of, lang)


def write_report(book: Workbook, report: YearlyReport, lang: str, names: set[str], prefix: str = "") -> list[tuple[str, str, str]]:
    """Add one sheet per table of the report to ``book`` (names unique among ``names``, which they join, each
    headed by ``prefix``); return the sheets added as (name, part, caption)."""
    listed: list[tuple[str, str, str]] = []
    for part in parts(report, lang):
        for block in part.blocks:
            tables = ([block.table] if block.table is not None else []) + [chart_table(c, lang) for c in block.charts]
            for table in tables:
                caption = table.caption or block.title
                name = sheet_name(prefix + caption, names)
                _sheet(book.create_sheet(name), table, lang, money_units=_chart_money(block, table))
                listed.append((name, part.heading, prefix + caption))
    return listed


def _save(book: Workbook, title: str, subject: str, as_of: dt.date, lang: str) -> bytes:
    """The workbook's bytes, its properties dated ``as_of`` (the same content gives the same bytes)."""
    when = dt.datetime.combine(as_of, dt.time())
    props = book.properties
    props.title, props.subject, props.creator, props.lastModifiedBy = title, subject, "fupin", "fupin"
    props.created = props.modified = when
    props.language = "en" if lang == "en" else "zh-CN"
    out = io.BytesIO()
    book.save(out)
    return stable_zip(out.getvalue(), as_of)


def sheet_name(caption: str, taken: set[str]) -> str:
    """A sheet name for ``caption``: no ``[]:*?/\\``, at most 31 characters, unique (ignoring case) among ``taken``,
    which it joins."""
    base = _NOT_IN_NAMES.sub("_", caption).strip().strip("'") or "Sheet"
    name, n = base[:31], 1
    while name.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
    taken.add(name.casefold())
    return name


def _chart_money(block: Any, table: Table) -> set[int]:
    """Columns of a chart's table whose series count money (unit 元/yuan)."""
    chart = next((c for c in block.charts if c.key == table.key), None)
    if chart is None:
        return set()
    return {i + 1 for i, s in enumerate(chart.series) if s.unit_zh in _MONEY_UNITS or s.unit_en in _MONEY_UNITS}


def _contents(sheet: Worksheet, lines: tuple[str, ...], lang: str, listed: list[tuple[str, str, str]]) -> None:
    for row, text in enumerate(lines, start=1):
        sheet.cell(row, 1, text).font = Font(bold=row == 1, size=14 if row == 1 else 11)
    head = 5
    for col, text in enumerate(tr(lang, "工作表|部分|内容", "Sheet|Part|Contents").split("|"), start=1):
        cell = sheet.cell(head, col, text)
        cell.font, cell.fill = _BOLD, _HEAD_FILL
    for row, (name, part, caption) in enumerate(listed, start=head + 1):
        link = sheet.cell(row, 1, name)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{name}'!A1", display=name)
        link.style = "Hyperlink"
        sheet.cell(row, 2, part)
        sheet.cell(row, 3, caption)
    sheet.freeze_panes = sheet.cell(head + 1, 1)
    _fit(sheet, [[name, part, caption] for name, part, caption in listed])


def _sheet(sheet: Worksheet, table: Table, lang: str, *, money_units: set[int]) -> None:
    for col, text in enumerate(table.headers, start=1):
        cell = sheet.cell(1, col, text)
        cell.font, cell.fill = _BOLD, _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    statuses = {s.label(lang): s for s in Status}
    shown: list[list[str]] = [list(table.headers)]
    for r, row in enumerate(table.rows, start=2):
        texts = []
        for c in range(len(table.headers)):
            value = row[c] if c < len(row) else None
            cell = sheet.cell(r, c + 1)
            texts.append(_put(cell, value, lang, money=c in money_units))
            if c == table.status and str(value) in statuses:
                cell.fill = PatternFill("solid", fgColor=_STATUS_FILL[statuses[str(value)]])
        shown.append(texts)
    sheet.freeze_panes = "A2"
    _fit(sheet, shown[1:], headers=shown[0])


def _put(cell: Any, value: Any, lang: str, *, money: bool) -> str:
    """Write ``value`` into ``cell`` as what it is (number, money, date, text); return it as shown."""
    if value is None:
        return ""
    if is_money(value) or (money and isinstance(value, int | float | Decimal) and not isinstance(value, bool)):
        amount = Decimal(str(value).replace(",", "")).quantize(Decimal("0.01"))
        cell.value, cell.number_format = amount, money_format(lang)
        return f"{amount:,} 元"
    date = as_date(value)
    if date is not None:
        cell.value, cell.number_format = date, DATE_FORMAT
        return date.isoformat()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        cell.value = value
        return cell_text(value)
    text = cell_text(value)
    cell.value = text
    cell.data_type = "s"  # text, never a formula, whatever it starts with
    return text


def _fit(sheet: Worksheet, rows: list[list[str]], *, headers: list[str] | None = None) -> None:
    columns = max((len(r) for r in rows), default=0)
    columns = max(columns, len(headers or []))
    for c in range(columns):
        widths = [display_width(r[c]) for r in rows if c < len(r)]
        if headers:
            widths.append(min(display_width(headers[c]), 24))
        sheet.column_dimensions[get_column_letter(c + 1)].width = min(max([8, *widths]) + 2, 60)

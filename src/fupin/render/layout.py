"""The yearly report walked into what every file format draws: parts, sections, tables, charts.

One walk for Word and Excel (and whoever renders next), so the formats agree:
the parts in :data:`fupin.report.REPORT_PARTS` order (the plan office's annex last),
each part's sections in the report's order, each section's paragraphs, shortfalls,
table (its rows in the report's language) and charts.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from fupin.checks import Status
from fupin.report import REPORT_PARTS

if TYPE_CHECKING:
    from fupin.charts import Chart
    from fupin.report import ReportSection, YearlyReport


@attrs.frozen
class Table:
    """A table to draw: its caption, headings and rows; ``status`` is the column of status words, if any."""

    key: str
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    status: int | None = None


@attrs.frozen
class Block:
    """A section as drawn: heading, paragraphs, shortfalls (highlighted), its table and charts."""

    key: str
    title: str
    paragraphs: tuple[str, ...] = ()
    shortfalls: tuple[str, ...] = ()
    table: Table | None = None
    charts: tuple[Chart, ...] = ()


@attrs.frozen
class Part:
    """One part of the 年度帮扶工作总结 (一、基本情况 ... 附表, the annex): its heading and sections."""

    key: str
    heading: str
    blocks: tuple[Block, ...]


def tr(lang: str, zh: str, en: str) -> str:
    """``zh`` or ``en`` by ``lang``."""
    return en if lang == "en" else zh


def title_block(report: YearlyReport, lang: str) -> tuple[str, str, str]:
    """The document's title, the plan's title and the "as of" line."""
    plan = report.plan
    plan_title = plan.title_en if lang == "en" and plan.title_en else plan.title_zh
    return (
        tr(lang, f"{report.year} 年度帮扶工作总结", f"Year {report.year} report"),
        plan_title,
        tr(lang, f"截至 {report.as_of.isoformat()}", f"As of {report.as_of.isoformat()}"),
    )


def section_table(section: ReportSection, lang: str) -> Table | None:
    """The section's table in ``lang``, or None when it has no rows."""
    rows = section.table_rows(lang)
    if not rows:
        return None
    headers = tuple(section.headers(lang))
    width = max(len(headers), *(len(r) for r in rows))
    headers += ("",) * (width - len(headers))
    labels = {s.label(lang) for s in Status}
    status = next((i for i in range(width) if all(i < len(r) and str(r[i]) in labels for r in rows)), None)
    return Table(section.key, section.title(lang), headers, tuple(tuple(r) for r in rows), status=status)


def chart_table(chart: Chart, lang: str) -> Table:
    """The data behind a chart: one row per category, one column per series (the unit in its heading)."""
    def heading(s: Any) -> str:
        unit = s.unit_en if lang == "en" else s.unit_zh
        return f"{s.name(lang)} ({unit})" if unit else s.name(lang)

    categories = chart.categories(lang)
    rows = tuple(
        (category, *(s.values[i] if i < len(s.values) else None for s in chart.series))
        for i, category in enumerate(categories)
    )
    return Table(chart.key, chart.title(lang), ("", *(heading(s) for s in chart.series)), rows)


def _block(section: ReportSection, lang: str) -> Block:
    return Block(section.key, section.title(lang), tuple(section.paragraphs(lang)), tuple(section.shortfalls(lang)),
                 table=section_table(section, lang), charts=tuple(section.charts))


def parts(report: YearlyReport, lang: str) -> tuple[Part, ...]:
    """The report's parts in :data:`REPORT_PARTS` order, each with its sections in the report's order (a part
    no section names goes with the appendix, as :func:`fupin.report.build_report` sorts it); empty parts are left out."""
    by_part: dict[str, list[Block]] = {key: [] for key in REPORT_PARTS}
    for section in report.sections:
        by_part[section.part if section.part in REPORT_PARTS else "appendix"].append(_block(section, lang))
    return tuple(
        Part(key, heading_en if lang == "en" else heading_zh, tuple(by_part[key]))
        for key, (heading_zh, heading_en) in REPORT_PARTS.items() if by_part[key]
    )


# -- cells -------------------------------------------------------------------------------------

_MONEY = re.compile(r"-?\d{1,3}(,\d{3})*\.\d\d")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")


def is_money(value: Any) -> bool:
    """A cell showing money as :func:`fupin.text.yuan` writes it (``"1,234.50"``)."""
    return isinstance(value, str) and _MONEY.fullmatch(value) is not None


def as_date(value: Any) -> dt.date | None:
    """The date a cell holds (a date, or ISO text), else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def cell_text(value: Any) -> str:
    """A cell as text: ``-`` for none, ISO dates, numbers as written."""
    if value is None:
        return "-"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a fixed-width font: two for a CJK or full-width character."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[tuple[int, int]]:
    """Per column: (the widest short cell, the widest cell) in display columns.

    A short cell (a number, a status word, at most 10 columns) must not wrap; longer text may.
    """
    out = []
    for i, header in enumerate(headers):
        cells = [cell_text(r[i]) if i < len(r) else "" for r in rows]
        widths = [display_width(c) for c in cells]
        short = [w for w in widths if w <= 10]
        head = max((display_width(w) for w in header.split()), default=0)
        out.append((max([min(head, 10), *short]), max([display_width(header), *widths])))
    return out


# -- deterministic files -------------------------------------------------------------------------

_CORE_DATE = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def stable_zip(data: bytes, when: dt.date) -> bytes:
    """The same Office file with every member dated ``when`` and its core properties' created/modified
    set to ``when``: the same report gives the same bytes."""
    stamp = f"{when.isoformat()}T00:00:00Z".encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                blob = _CORE_DATE.sub(lambda m: m.group(1) + stamp + m.group(3), blob)
            member = zipfile.ZipInfo(info.filename, date_time=(max(when.year, 1980), when.month, when.day, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            dst.writestr(member, blob)
    return out.getvalue()

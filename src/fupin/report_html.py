"""The yearly report as one HTML page a leader reads on screen and prints on A4.

The page follows the 年度帮扶工作总结 (:data:`fupin.report.REPORT_PARTS`, in order, the plan
office's annex last): a cover block (title, plan, year, as-of, the commitments at a glance),
then each part with its sections' paragraphs, shortfalls (highlighted), charts and tables.
Charts are inline SVG (:func:`fupin.charts.chart_svg`), each in a ``<figure data-chart="KEY">``
with its title and note as the caption. Everything is in the file: CSS inline, no script,
no font or image fetched, so it works offline and prints the same anywhere.

The print stylesheet lets the content start on page 1 (only figures, table rows and headings
are kept whole), repeats table headings on every page, never wraps a status word
(``td.status``) or a number (``td.num``), and starts 附表 and the annex on a new page.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from fupin.charts import chart_svg
from fupin.checks import Status
from fupin.report import REPORT_PARTS

if TYPE_CHECKING:
    from fupin.charts import Chart
    from fupin.overview import Overview
    from fupin.report import ReportSection, YearlyReport

_e = html.escape
#: The marks of the year-by-year grid (✓ met, ✗ not met, … not yet due, – no data, ○ not measurable).
_MARKS = {"✓": Status.MET, "✗": Status.NOT_MET, "…": Status.NOT_YET_DUE, "–": Status.NO_DATA, "○": Status.NOT_MEASURABLE}
_CLASS = {Status.MET: "met", Status.NOT_MET: "not-met", Status.NOT_YET_DUE: "not-due", Status.NO_DATA: "no-data",
          Status.NOT_MEASURABLE: "not-measurable"}
_NUMBER = re.compile(r"^[-+]?[\d,]+(\.\d+)?%?$")
_SVG_STYLE = re.compile(r"<defs>\s*<style[^>]*>.*?</style>\s*</defs>", re.S)


def _tr(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def _rows(section: ReportSection, lang: str) -> tuple[tuple[Any, ...], ...]:
    table_rows = getattr(section, "table_rows", None)  # rows in the reader's language where the model has them
    return tuple(table_rows(lang)) if table_rows else tuple(section.rows)


def _next_steps(section: ReportSection, lang: str) -> tuple[str, ...]:
    return tuple(section.next_steps_en if lang == "en" and section.next_steps_en else section.next_steps_zh)


def _status_of(value: Any) -> Status | None:
    if isinstance(value, Status):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text in _MARKS:
        return _MARKS[text]
    return next((s for s in Status if text in (s.label("zh"), s.label("en"), s.value)), None)


def _cell(value: Any, lang: str, status_column: bool, year_column: bool = False) -> str:
    status = _status_of(value)
    if status is not None or (status_column and value not in (None, "")):
        word = status.label(lang) if isinstance(value, Status) and status else ("-" if value is None else str(value))
        kind = f" {_CLASS[status]}" if status else ""
        return f'<td class="status{kind}">{_e(word)}</td>'
    if value is None or value == "":
        return '<td class="num">-</td>'
    if isinstance(value, bool):
        return f"<td>{_e(_tr(lang, '是' if value else '否', 'yes' if value else 'no'))}</td>"
    if isinstance(value, int):
        return f'<td class="num">{value}</td>' if year_column else f'<td class="num">{value:,}</td>'
    if isinstance(value, float):
        return f'<td class="num">{value:,.1f}</td>'
    text = str(value)
    return f'<td class="num">{_e(text)}</td>' if _NUMBER.match(text) else f"<td>{_e(text)}</td>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], lang: str, key: str) -> str:
    width = max([len(headers), *(len(r) for r in rows)])
    heads = list(headers) + [""] * (width - len(headers))
    status_cols = {i for i, h in enumerate(heads) if h.strip().lower() in ("状态", "status", "完成情况")}
    year_cols = {i for i, h in enumerate(heads) if h.strip().lower() in ("年", "年份", "年度", "year")}  # 2015, not 2,015
    wide = " wide" if width > 8 else ""
    out = [f'<table class="data{wide}" data-table="{_e(key)}"><thead><tr>']
    out += [f'<th{" class=status" if i in status_cols else ""}>{_e(h)}</th>' for i, h in enumerate(heads)]
    out.append("</tr></thead><tbody>")
    for row in rows:
        statuses = {_status_of(c) for c in row} - {None}
        mark = ' class="not-met"' if Status.NOT_MET in statuses and len(row) < 8 else ""
        out.append(f"<tr{mark}>" + "".join(_cell(c, lang, i in status_cols, i in year_cols) for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


class _Figures:
    """Numbers the figures of the page and gives each SVG its own id prefix."""

    def __init__(self) -> None:
        self.n = 0

    def figure(self, chart: Chart, lang: str) -> str:
        self.n += 1
        svg = _SVG_STYLE.sub("", chart_svg(chart, lang, id_prefix=f"fig{self.n}"), count=1)
        label = _tr(lang, f"图 {self.n}", f"Figure {self.n}")
        note = f'<span class="note">{_e(chart.note(lang))}</span>' if chart.note(lang) else ""
        return (f'<figure class="chart" data-chart="{_e(chart.key)}" id="figure-{self.n}">{svg}'
                f'<figcaption><span class="label">{_e(label)}</span> <strong>{_e(chart.title(lang))}</strong>{note}</figcaption></figure>')


def _section(section: ReportSection, lang: str, figures: _Figures) -> Iterator[str]:
    # a section's next steps are said once, under 五、下一步工作打算, not in the section
    yield f'<section class="section" id="s-{_e(section.key)}" data-section="{_e(section.key)}"><h3>{_e(section.title(lang))}</h3>'
    yield from (f"<p>{_e(p)}</p>" for p in section.paragraphs(lang))
    if section.shortfalls(lang):
        yield '<ul class="shortfalls">' + "".join(f"<li>{_e(s)}</li>" for s in section.shortfalls(lang)) + "</ul>"
    yield from (figures.figure(c, lang) for c in section.charts)
    rows = _rows(section, lang)
    if rows:
        yield _table(section.headers(lang), rows, lang, section.key)
    yield "</section>"


def _commitments(report: YearlyReport, lang: str) -> str:
    """The results as a table, for a report whose sections do not carry them."""
    titles = {c.id: c.title(lang) for c in report.plan.commitments}
    heads = _tr(lang, "编号|承诺|状态|要求|实际|说明", "No.|Commitment|Status|Required|Found|Notes").split("|")
    rows = [(r.commitment, titles.get(r.commitment, ""), r.status, r.text("required", lang), r.text("actual", lang), r.text("note", lang)) for r in report.results]
    return (f'<section class="section" id="s-core.commitments" data-section="core.commitments">'
            f"<h3>{_e(_tr(lang, '承诺完成情况', 'Commitments'))}</h3>{_table(heads, rows, lang, 'core.commitments')}</section>")


def _gathered(key: str, title: str, items: Sequence[str], cls: str) -> str:
    body = "".join(f"<li>{_e(i)}</li>" for i in items)
    return f'<section class="section" id="s-{key}" data-section="{key}"><h3>{_e(title)}</h3><ul class="{cls}">{body}</ul></section>'


def render_report_html(report: YearlyReport, lang: str = "zh") -> str:
    """The yearly report as one self-contained HTML page (no script, no external file), for reading and printing on A4."""
    plan = report.plan
    plan_title = plan.title_en if lang == "en" and plan.title_en else plan.title_zh
    title = f"{_report_title(report, lang)} · {plan_title}"
    body = [_cover(report, lang), "<main>", *report_parts(report, lang, _Figures()), "</main>"]
    return page(title, lang, body)


def page(title: str, lang: str, body: Sequence[str]) -> str:
    """A self-contained page: the stylesheet inline, ``body`` then the footer saying where the figures come from."""
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{_tr(lang, "zh-CN", "en")}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        *body,
        "<footer>" + _e(_tr(
            lang, "由 fupin 生成; 数字来自记录, 每项“已达成”都有证明记录。",
            "Made by fupin; every figure comes from the records, and every commitment met has records that prove it.",
        )) + "</footer></body></html>",
    ])


def _report_title(report: YearlyReport, lang: str) -> str:
    return _tr(lang, f"{report.year} 年度帮扶工作总结", f"Year {report.year} report: the assistance work")


def _cover(report: YearlyReport, lang: str) -> str:
    """The report's cover block: title, plan, year, as-of, period, the commitments at a glance."""
    plan = report.plan
    plan_title = plan.title_en if lang == "en" and plan.title_en else plan.title_zh
    counts = Counter(r.status for r in report.results)
    glance = "".join(f'<span class="badge {_CLASS[s]}">{_e(s.label(lang))} <b>{counts.get(s, 0)}</b></span>' for s in Status if counts.get(s))
    return (
        f'<header class="cover"><h1>{_e(_report_title(report, lang))}</h1><p class="plan">{_e(plan_title)}</p><dl>'
        f"<dt>{_e(_tr(lang, '年度', 'Year'))}</dt><dd>{report.year}</dd>"
        f"<dt>{_e(_tr(lang, '截至', 'As of'))}</dt><dd>{report.as_of.isoformat()}</dd>"
        f"<dt>{_e(_tr(lang, '规划期', 'Plan period'))}</dt><dd>{plan.period_start.isoformat()} – {plan.period_end.isoformat()}</dd>"
        "</dl>"
        + (f'<p class="glance"><span class="what">{_e(_tr(lang, "承诺", "Commitments"))}</span>{glance}</p>' if glance else "")
        + "</header>"
    )


def report_parts(report: YearlyReport, lang: str, figures: _Figures, anchor: str = "") -> list[str]:
    """The report's parts in :data:`REPORT_PARTS` order as HTML, figures numbered by ``figures``; ``anchor``
    prefixes the element ids (several reports on one page)."""
    out: list[str] = []
    for part, (head_zh, head_en) in REPORT_PARTS.items():
        mine = [s for s in report.sections if s.part == part]
        body: list[str] = []
        if part == "commitments" and report.results and not any(s.key == "core.commitments" for s in report.sections):
            body.append(_commitments(report, lang))
        if part == "problems" and not mine:
            said = [f"{s.title(lang)}: {x}" for s in report.sections for x in s.shortfalls(lang)]
            if said:
                body.append(_gathered("core.problems", _tr(lang, "存在问题", "Problems"), said, "shortfalls"))
        if part == "next" and not mine:
            steps = [x for s in report.sections for x in _next_steps(s, lang)]
            if steps:
                body.append(_gathered("core.next", _tr(lang, "下一步工作打算", "Next steps"), steps, "next-steps"))
        for section in mine:
            body += _section(section, lang, figures)
        if not body:
            continue
        if anchor:
            body = [b.replace(' id="s-', f' id="{anchor}s-') for b in body]
        out.append(f'<section class="part part-{part}" id="{anchor}part-{part}" data-part="{part}"><h2>{_e(_tr(lang, head_zh, head_en))}</h2>')
        out += body
        out.append("</section>")
    return out


def render_overview_html(overview: Overview, lang: str = "zh") -> str:
    """The province overview as one self-contained page: a cover with the summary table and the charts comparing
    the plans, then each plan's report as :func:`render_report_html` lays it out, each on a new printed page."""
    from fupin.overview import overview_title, summary_headers, summary_rows

    title, subtitle = overview_title(overview, lang)
    figures = _Figures()
    body = [f'<header class="cover overview"><h1>{_e(title)}</h1><p class="plan">{_e(subtitle)}</p></header>', "<main>",
            '<section class="part overview-summary" id="overview" data-part="overview">'
            f"<h2>{_e(_tr(lang, '各方案概况', 'The plans at a glance'))}</h2>",
            _table(summary_headers(lang), summary_rows(overview, lang), lang, "overview.summary"),
            *(figures.figure(c, lang) for c in overview.charts), "</section>"]
    for n, report in enumerate(overview.reports, 1):
        body.append(f'<article class="plan-page" id="plan-{n}" data-plan="{_e(report.plan.name)}">')
        body += [_cover(report, lang), *report_parts(report, lang, figures, anchor=f"p{n}-"), "</article>"]
    body.append("</main>")
    return page(title, lang, body)


#: The page's stylesheet: screen and A4 print; Chinese font stack first.
CSS = """
:root{--red:#b22222;--ink:#222;--muted:#666;--rule:#c8c8c8}
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","PingFang SC","Microsoft YaHei",sans-serif;
 color:var(--ink);line-height:1.6;margin:2em auto;max-width:60em;padding:0 1em}
.cover{border-bottom:3px solid var(--red);padding-bottom:.6em;margin-bottom:1em}
.cover h1{color:var(--red);margin:0;font-size:1.8em}.cover .plan{margin:.2em 0;font-size:1.1em}
.cover dl{display:flex;flex-wrap:wrap;gap:.2em 1.6em;margin:.3em 0;color:#444}.cover dt{font-weight:bold}.cover dt::after{content:"："}
.cover dd{margin:0 0 0 -1.4em;white-space:nowrap}
.glance{margin:.4em 0}.glance .what{font-weight:bold;margin-right:.6em}
h2{font-size:1.35em;color:var(--red);border-bottom:1px solid var(--red);margin:1.4em 0 .4em;padding-bottom:.1em}
h3{font-size:1.1em;border-left:5px solid var(--red);padding-left:.4em;margin:1.1em 0 .3em}
p{margin:.3em 0;text-indent:0}
table.data{border-collapse:collapse;width:100%;font-size:.88em;margin:.5em 0 .8em}
table.data.wide{font-size:.8em}
th,td{border:1px solid var(--rule);padding:.2em .4em;vertical-align:top;text-align:left}
th{background:#f3efe6;word-break:keep-all}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
th.status,td.status{white-space:nowrap;word-break:keep-all;min-width:4.5em;text-align:center}
td.status.met{color:#135f13;background:#e3f4e3}td.status.not-met{color:#8a1010;background:#fbe0dc;font-weight:bold}
td.status.not-due{color:#6b5200;background:#fff4cc}td.status.no-data{color:#555;background:#eee}td.status.not-measurable{color:#3d2d6b;background:#ece8f6}
tr.not-met td{background:#fdf0ee}
.badge{display:inline-block;padding:0 .6em;border-radius:.8em;font-size:.9em;white-space:nowrap;margin-right:.4em}
.badge.met{background:#d8f0d8;color:#135f13}.badge.not-met{background:#f8c9c4;color:#8a1010}.badge.not-due{background:#ffe9a8;color:#6b5200}
.badge.no-data{background:#ddd;color:#444}.badge.not-measurable{background:#e8e4f4;color:#3d2d6b}
ul.shortfalls{border-left:4px solid var(--red);background:#fdf3f1;margin:.4em 0;padding:.3em .6em .3em 1.8em;color:#8a1010}
ul.next-steps{margin:.4em 0;padding-left:1.8em}
figure.chart{margin:.6em 0 1em;text-align:center}
figure.chart svg{width:100%;max-width:170mm;height:auto}
figure.chart svg *{stroke-linejoin:round;stroke-linecap:butt}
figcaption{font-size:.9em;color:#333;margin-top:.1em}figcaption .label{color:var(--muted)}
figcaption .note{display:block;color:var(--muted);font-size:.92em}
article.plan-page{margin-top:3em;border-top:3px double var(--red);padding-top:1em}
footer{margin-top:2em;color:#777;font-size:.85em;border-top:1px solid var(--rule);padding-top:.4em}
@page{size:A4;margin:16mm 15mm 18mm 15mm;@bottom-center{content:counter(page);font-size:9pt;color:#777}}
@media print{
 body{margin:0;max-width:none;padding:0;font-size:10.5pt;line-height:1.5}
 .cover{margin-bottom:.6em}
 h2,h3{break-after:avoid;page-break-after:avoid}
 figure.chart,tr,.badge{break-inside:avoid;page-break-inside:avoid}
 thead{display:table-header-group}
 table.data{font-size:9pt}table.data.wide{font-size:8pt}
 .part-appendix,.part-plan_office{break-before:page;page-break-before:always}
 .plan-page{break-before:page;page-break-before:always;margin-top:0;border-top:none;padding-top:0}
 tr.not-met td,td.status,.badge,ul.shortfalls{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 a{color:inherit;text-decoration:none}
}
"""

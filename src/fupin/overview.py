"""The province overview (``fupin report --year Y --all-plans``): every plan the user may read, side by side.

An :class:`Overview` holds each plan's yearly report (:meth:`fupin.Store.report`)
and a summary row per plan whose figures are taken from that report, never
counted again: commitments met of the plan's commitments, 转走访 coverage (the
visit campaign check's figures), households out of poverty (the exit check's
figures) and, when the funding plugin reports them, the year's funds in and out
(its chart ``funding.in_out_by_purpose``). Comparison charts are data
(:class:`fupin.charts.Chart`), drawn by the renderers.

Which plans: those the actor's ``aggregates.read`` reaches (:func:`readable_plans`):
every stored plan in scope ``all``, the plans of the actor's helping unit in
scopes ``plans``, ``unit`` and ``cadre``, the plans with a village in the actor's
areas in scope ``areas``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from fupin.charts import Chart, Series
from fupin.checks import Status
from fupin.serial import Serialisable, plain
from fupin.storage import schema as S
from fupin.text import table, yuan

if TYPE_CHECKING:
    from fupin.report import YearlyReport
    from fupin.store import Store

#: The check targets whose figures the summary reads.
VISIT_TARGET = "core.visit_campaign"
EXIT_TARGET = "core.exit_by"
#: The funding plugin's chart of the year's money: category 0 is money in (by source), 1 money out (by purpose), in yuan.
FUNDS_CHART = "funding.in_out_by_purpose"


@attrs.frozen
class PlanSummary(Serialisable):
    """One plan's row of the overview, every figure read from its yearly report.

    Attributes:
        plan: the plan's name.
        title_zh / title_en: its title.
        label_zh / label_en: a short name for tables and charts: the helping unit and its villages.
        commitments: how many commitments the report checks.
        met / not_met: how many of them are met, not met.
        visit_households: households the year's 转走访 had to visit (None: no figures yet).
        visited / visited_late: of them, visited as required, visited after the deadline.
        poor_households / exited: poor households of the plan and how many are out of poverty so far.
        funds_in_fen / funds_out_fen: the year's money in and out (None: the funding plugin reports none).
    """

    plan: str
    title_zh: str
    title_en: str
    label_zh: str
    label_en: str
    commitments: int
    met: int
    not_met: int
    visit_households: int | None = None
    visited: int | None = None
    visited_late: int | None = None
    poor_households: int | None = None
    exited: int | None = None
    funds_in_fen: int | None = None
    funds_out_fen: int | None = None

    __dict_extra__ = ("visit_coverage",)

    def title(self, lang: str) -> str:
        """The plan's title in ``lang``."""
        return self.title_en if lang == "en" and self.title_en else self.title_zh

    def label(self, lang: str) -> str:
        """The short name in ``lang``."""
        return self.label_en if lang == "en" and self.label_en else self.label_zh

    @property
    def visit_coverage(self) -> float | None:
        """Percent of the households to visit that were visited (on time or late), one decimal; None without figures."""
        if not self.visit_households or self.visited is None:
            return None
        return round(100 * (self.visited + (self.visited_late or 0)) / self.visit_households, 1)


@attrs.frozen
class Overview(Serialisable):
    """The yearly reports of several plans with a summary table and charts comparing them.

    Attributes:
        year: the report year.
        reports: one yearly report per plan, by plan name.
        summaries: one row per plan, in the same order.
        charts: the comparison charts (commitments met per plan, visit coverage per plan).
    """

    year: int
    reports: tuple[YearlyReport, ...]
    summaries: tuple[PlanSummary, ...]
    charts: tuple[Chart, ...]

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """JSON-ready form in ``lang``: year, the summary rows, the charts, and each plan's report."""
        return {
            "year": self.year,
            "plans": [s.to_dict() for s in self.summaries],
            "charts": [plain(c) for c in self.charts],
            "reports": [r.to_dict(lang) for r in self.reports],
        }


def readable_plans(store: Store) -> list[str]:
    """Names of the stored plans whose figures the actor may read (``aggregates.read``), sorted."""
    access = store.access
    scopes = access.scopes("aggregates.read")
    if not scopes:
        return []
    with store.reading("aggregates.read") as conn:
        stored: list[str] = sorted(conn.execute(sa.select(S.plans.c.name)).scalars())
        villages: list[tuple[str, str]] = [
            (str(plan), str(village))
            for plan, village in conn.execute(sa.select(S.plan_villages.c.plan_name, S.plan_villages.c.village_code))
        ]
    if "all" in scopes:
        return stored
    names: set[str] = set()
    if scopes & {"plans", "unit", "cadre"}:
        names |= access.plans()
    if "areas" in scopes:
        prefixes = access.area_prefixes()
        names |= {plan for plan, village in villages if any(village.startswith(p) for p in prefixes)}
    return [name for name in stored if name in names]


def build_overview(store: Store, year: int, *, as_of: dt.date | None = None) -> Overview:
    """The overview of every plan the actor may read (:func:`readable_plans`) for ``year``.

    Raises:
        AccessDenied: the actor may read no plan's figures.
    """
    from fupin.access import AccessDenied

    names = readable_plans(store)
    if not names:
        raise AccessDenied(store.actor, "aggregates.read", "没有可读的方案 / no plan in your scope")
    reports = tuple(store.report(name, year, as_of=as_of) for name in names)
    summaries = tuple(summarise(r) for r in reports)
    return Overview(year, reports, summaries, comparison_charts(year, summaries))


def summarise(report: YearlyReport) -> PlanSummary:
    """A plan's summary row, read from its yearly report (the checks' figures and the funding plugin's chart)."""
    by_target = {r.target: r for r in report.results}
    visits = by_target.get(VISIT_TARGET)
    exits = by_target.get(EXIT_TARGET)
    vf = visits.figures if visits is not None and "households" in visits.figures else None
    ef = exits.figures if exits is not None and "exited" in exits.figures else None
    funds_in = funds_out = None
    chart = next((c for s in report.sections for c in s.charts if c.key == FUNDS_CHART), None)
    if chart is not None:
        funds_in = sum(round(100 * (s.values[0] or 0)) for s in chart.series)
        funds_out = sum(round(100 * (s.values[1] or 0)) for s in chart.series if len(s.values) > 1)
    plan = report.plan
    unit = plan.helping_unit
    label_zh = " ".join([unit.name_zh, *(v.name_zh for v in plan.villages)])
    label_en = " ".join([unit.name_en or unit.name_zh, *(v.name_en or v.name_zh for v in plan.villages)])
    return PlanSummary(
        plan.name, plan.title_zh, plan.title_en or "", label_zh, label_en,
        commitments=len(report.results),
        met=sum(1 for r in report.results if r.status is Status.MET),
        not_met=sum(1 for r in report.results if r.status is Status.NOT_MET),
        visit_households=int(vf["households"]) if vf else None,
        visited=int(vf["visited"]) if vf else None,
        visited_late=int(vf.get("visited_late", 0)) if vf else None,
        poor_households=int(ef["households"]) if ef else None,
        exited=int(ef["exited"]) if ef else None,
        funds_in_fen=funds_in, funds_out_fen=funds_out,
    )


def comparison_charts(year: int, summaries: tuple[PlanSummary, ...]) -> tuple[Chart, ...]:
    """Bars comparing the plans: commitments met and not met; 转走访 coverage."""
    zh = tuple(s.label("zh") for s in summaries)
    en = tuple(s.label("en") for s in summaries)
    met = Chart(
        "overview.commitments", "stacked_bar", f"{year} 年各方案承诺完成情况", f"Commitments kept by plan, {year}", zh, en,
        (Series("已达成", "met", tuple(s.met for s in summaries), "项", "commitments"),
         Series("未达成", "not met", tuple(s.not_met for s in summaries), "项", "commitments"),
         Series("其他", "other", tuple(s.commitments - s.met - s.not_met for s in summaries), "项", "commitments")),
        note_zh="其他: 未到期、无数据或无法衡量的承诺。", note_en="Other: commitments not yet due, without data or not measurable.",
    )
    coverage = Chart(
        "overview.visit_coverage", "bar", f"{year} 年各方案转走访覆盖率", f"Visit coverage by plan, {year}", zh, en,
        (Series("覆盖率", "coverage", tuple(s.visit_coverage for s in summaries), "%", "%"),),
        note_zh="应走访户中本年已走访 (按时或逾期) 的比例。", note_en="Share of the households to visit that were visited this year (on time or late).",
    )
    return (met, coverage)


# -- rendering ---------------------------------------------------------------------------------

#: The formats :func:`render_overview` writes as text, and those :func:`render_overview_bytes` writes as a file.
TEXT_FORMATS = ("text", "json", "html")
BINARY_FORMATS = ("docx", "xlsx")


def overview_title(overview: Overview, lang: str = "zh") -> tuple[str, str]:
    """The overview's title and the line under it (how many plans, as of which day)."""
    as_of = overview.reports[0].as_of.isoformat() if overview.reports else ""
    n = len(overview.reports)
    if lang == "en":
        return f"Year {overview.year} overview", f"{n} plans, as of {as_of}"
    return f"{overview.year} 年度帮扶工作总览", f"{n} 个方案, 截至 {as_of}"


def short_label(report: YearlyReport, lang: str = "zh") -> str:
    """A plan's name short enough to head a spreadsheet's name: its villages (at most 12 characters)."""
    names = [v.name_en or v.name_zh if lang == "en" else v.name_zh for v in report.plan.villages]
    return ("、" if lang != "en" else ", ").join(names)[:12].strip() or report.plan.name[:12]


def summary_headers(lang: str = "zh") -> list[str]:
    """The summary table's headings as shown (:func:`summary_rows`)."""
    if lang == "en":
        return ["plan", "commitments met", "not met", "visit coverage", "out of poverty", "funds in (yuan)", "funds out (yuan)"]
    return ["方案", "承诺达成", "未达成", "走访覆盖率", "已脱贫户", "资金到位(元)", "资金支出(元)"]


def summary_rows(overview: Overview, lang: str = "zh") -> list[list[str]]:
    """The summary table's rows as shown (text cells) in ``lang``."""
    rows = []
    for s in overview.summaries:
        coverage = s.visit_coverage
        rows.append([
            s.label(lang),
            f"{s.met}/{s.commitments}",
            str(s.not_met),
            "-" if coverage is None else f"{coverage:.1f}%",
            "-" if s.exited is None else f"{s.exited}/{s.poor_households}",
            "-" if s.funds_in_fen is None else yuan(s.funds_in_fen),
            "-" if s.funds_out_fen is None else yuan(s.funds_out_fen),
        ])
    return rows


#: The columns of :func:`summary_figures` that hold money (元).
MONEY_COLUMNS = (10, 11)


def summary_figures(overview: Overview, lang: str = "zh") -> tuple[list[str], list[list[Any]]]:
    """The summary as figures for a spreadsheet: headings and one row per plan of numbers (None: no figures;
    funds in 元 as exact decimals, the columns :data:`MONEY_COLUMNS`)."""
    from decimal import Decimal

    heads = ("方案|承诺数|已达成|未达成|走访覆盖率(%)|应走访户|按时走访|逾期走访|贫困户|已脱贫户|资金到位(元)|资金支出(元)" if lang != "en" else
             "Plan|Commitments|Met|Not met|Visit coverage (%)|Households to visit|Visited on time|Visited late|"
             "Poor households|Out of poverty|Funds in (yuan)|Funds out (yuan)")
    rows = [
        [s.label(lang), s.commitments, s.met, s.not_met, s.visit_coverage, s.visit_households, s.visited, s.visited_late,
         s.poor_households, s.exited,
         None if s.funds_in_fen is None else Decimal(s.funds_in_fen) / 100,
         None if s.funds_out_fen is None else Decimal(s.funds_out_fen) / 100]
        for s in overview.summaries
    ]
    return heads.split("|"), rows


def render_overview_text(overview: Overview, lang: str = "zh") -> str:
    """The overview as plain text: the summary table, then each plan's report."""
    from fupin.report import render_report_text

    zh = lang != "en"
    lines = [f"{overview.year} 年度帮扶工作总览 ({len(overview.reports)} 个方案)" if zh
             else f"Year {overview.year} overview ({len(overview.reports)} plans)", ""]
    lines += table(summary_headers(lang), summary_rows(overview, lang))
    for report in overview.reports:
        lines += ["", "=" * 72, "", render_report_text(report, lang)]
    return "\n".join(lines)


def render_overview(overview: Overview, fmt: str = "text", lang: str = "zh") -> str:
    """The overview as ``fmt`` (``"text"``, ``"json"`` or ``"html"``, a page to print) in ``lang`` (zh or en).

    Word and Excel are files, not text: :func:`render_overview_bytes` writes them.

    Raises:
        ValidationError: An unknown format or language, or a binary format (``"docx"``, ``"xlsx"``).
    """
    from fupin.errors import ValidationError
    from fupin.report import _check_lang

    _check_lang(lang)
    if fmt == "text":
        return render_overview_text(overview, lang)
    if fmt == "json":
        return json.dumps(overview.to_dict(lang), ensure_ascii=False, indent=2, default=str)
    if fmt == "html":
        from fupin.report_html import render_overview_html

        return render_overview_html(overview, lang)
    if fmt in BINARY_FORMATS:
        raise ValidationError.of("fmt", f"{fmt} 是文件格式, 用 render_overview_bytes / {fmt} is a file: use render_overview_bytes", fmt)
    raise ValidationError.of("fmt", "总览的格式应为 text, json, html, docx 或 xlsx / the overview's fmt is text, json, html, docx or xlsx", fmt)


def render_overview_bytes(overview: Overview, fmt: str = "docx", lang: str = "zh") -> bytes:
    """The overview as the bytes of a file: ``"docx"`` (Word) or ``"xlsx"`` (Excel), in ``lang`` (zh or en);
    the text formats (``"text"``, ``"json"``, ``"html"``) as UTF-8.

    The Word document opens with the summary table and the comparison charts, then each plan's report as
    :func:`fupin.render_report_bytes` lays it out, each from a new page; the workbook has the summary sheet
    first, a contents sheet, the comparison charts' data, then each plan's sheets, their names headed by the
    plan's villages.

    Raises:
        ValidationError: An unknown format or language.
    """
    from fupin.render import docx, xlsx
    from fupin.report import _check_lang

    _check_lang(lang)
    if fmt in BINARY_FORMATS:
        return {"docx": docx.render_overview_docx, "xlsx": xlsx.render_overview_xlsx}[fmt](overview, lang)
    return (render_overview(overview, fmt, lang) + "\n").encode("utf-8")

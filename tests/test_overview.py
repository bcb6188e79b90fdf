"""`fupin report --all-plans`: the province overview of every plan a user may read.

Two plans in one database (the reference plan and ``examples/plans/ddac-xinzhai.toml``,
both built and played as in tests/test_many_plans.py). The summary's figures
are each plan's own report's, read again here from ``store.report``; the pages
that follow are those reports; a user scoped to one plan sees only it, and a
user of no plan is refused in one line.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fupin import AccessDenied, Status, User, render_overview
from fupin.demo import build_demo
from fupin.overview import summary_headers, summary_rows
from fupin.plans import load_plan
from fupin.report import REPORT_PARTS, render_report_text
from fupin.simulate import play
from fupin.store import Actor, Store
from fupin.testing import TEST_ACTOR, fresh_postgres_database, sqlite_file_url

SECOND = Path(__file__).resolve().parents[1] / "examples" / "plans" / "ddac-xinzhai.toml"
REFERENCE = "qjnu-tuomu"
YEAR = 2017
AS_OF = dt.date(2018, 3, 31)


@pytest.fixture(scope="module")
def installed_pm() -> Any:
    """The installed plugins, funding included (its chart gives the funds)."""
    from fupin.plugins import get_plugin_manager

    return get_plugin_manager()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_plans(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, installed_pm: Any) -> Iterator[str]:
    """A database holding both plans, built and played; yields its URL."""
    mp = pytest.MonkeyPatch()
    mp.setenv("FUPIN_ACTOR", TEST_ACTOR)
    with _database(request.param, tmp_path_factory) as url:
        store = Store.open(url, pm=installed_pm, actor=Actor.parse(TEST_ACTOR))
        try:
            store.init()
            for plan in (REFERENCE, str(SECOND)):
                build_demo(store, plan, seed=7)
                play(store, load_plan(plan), seed=7)
            # A user whose unit helps no village: it holds aggregates.read, but no plan is its own.
            store.add_user(User("NOPLAN", "clerk", ("department",), login=store.session_login()))
        finally:
            store.close()
        yield url
    mp.undo()


class _database:
    def __init__(self, backend: str, factory: pytest.TempPathFactory) -> None:
        self.backend, self.factory, self.stack = backend, factory, None

    def __enter__(self) -> str:
        from contextlib import ExitStack

        if self.backend == "sqlite":
            return sqlite_file_url(self.factory.mktemp("overview"), "two.db")
        self.stack = ExitStack()
        return self.stack.enter_context(fresh_postgres_database())

    def __exit__(self, *exc: object) -> None:
        if self.stack is not None:
            self.stack.close()


def _as(url: str, pm: Any, actor: str) -> Store:
    return Store.open(url, pm=pm, actor=Actor.parse(actor))


def test_summary_figures_are_each_plans_own_report(two_plans, installed_pm):
    """Every figure of a plan's summary row equals its own report's (checks' figures, funding chart), and each page is that report."""
    with _as(two_plans, installed_pm, TEST_ACTOR) as store:
        overview = store.overview(YEAR, as_of=AS_OF)
        second = load_plan(SECOND).name
        assert [s.plan for s in overview.summaries] == sorted([REFERENCE, second])
        assert [r.plan.name for r in overview.reports] == [s.plan for s in overview.summaries]
        for summary, page in zip(overview.summaries, overview.reports, strict=True):
            own = store.report(summary.plan, YEAR, as_of=AS_OF)
            assert render_report_text(page, "en") == render_report_text(own, "en")
            assert summary.commitments == len(own.results) == len(load_plan(summary.plan if summary.plan == REFERENCE else SECOND).commitments)
            assert summary.met == sum(1 for r in own.results if r.status is Status.MET)
            assert summary.not_met == sum(1 for r in own.results if r.status is Status.NOT_MET)
            visits = next(r for r in own.results if r.target == "core.visit_campaign").figures
            assert (summary.visit_households, summary.visited, summary.visited_late) == (
                visits["households"], visits["visited"], visits["visited_late"])
            assert summary.visit_households > 0
            assert summary.visit_coverage == round(100 * (visits["visited"] + visits["visited_late"]) / visits["households"], 1)
            exits = next(r for r in own.results if r.target == "core.exit_by").figures
            assert (summary.poor_households, summary.exited) == (exits["households"], exits["exited"])
            assert 0 < summary.exited < summary.poor_households
            chart = next((c for s in own.sections for c in s.charts if c.key == "funding.in_out_by_purpose"), None)
            if chart is None:  # the funding plugin draws no chart of the year's money: nothing to show
                assert (summary.funds_in_fen, summary.funds_out_fen) == (None, None)
            else:
                assert summary.funds_in_fen == round(100 * sum(s.values[0] or 0 for s in chart.series))
                assert summary.funds_out_fen == round(100 * sum(s.values[1] or 0 for s in chart.series))
                assert summary.funds_out_fen > 0
        # The two plans differ: the figures are not one plan's twice.
        a, b = overview.summaries
        assert (a.poor_households, a.visit_households) != (b.poor_households, b.visit_households)


def test_comparison_charts(two_plans, installed_pm):
    """Two charts compare the plans: commitments met / not met / other, and visit coverage, one bar per plan."""
    with _as(two_plans, installed_pm, TEST_ACTOR) as store:
        overview = store.overview(YEAR, as_of=AS_OF)
    met, coverage = overview.charts
    summaries = overview.summaries
    assert met.key == "overview.commitments" and coverage.key == "overview.visit_coverage"
    assert met.categories("zh") == coverage.categories("zh") == tuple(s.label_zh for s in summaries)
    assert "曲靖师范学院 拖木村" in met.categories("zh") and "Qujing Normal University Tuomu village" in met.categories("en")
    assert [s.values for s in met.series] == [
        tuple(s.met for s in summaries), tuple(s.not_met for s in summaries),
        tuple(s.commitments - s.met - s.not_met for s in summaries),
    ]
    assert coverage.series[0].values == tuple(s.visit_coverage for s in summaries)


def test_scoped_users(two_plans, installed_pm):
    """The plan office of the reference plan's university sees its plan only; the province's auditor sees both;
    the town's platform user sees the plan with a village in the town; a user of no plan is refused."""
    second = load_plan(SECOND).name
    expected = {"QJNU:office": [REFERENCE], "QJNU-STU:clerk": [REFERENCE], "PROVINCE:auditor": sorted([REFERENCE, second]),
                "ZHZ-GOV:clerk": [REFERENCE]}
    for actor, plans in expected.items():
        with _as(two_plans, installed_pm, actor) as store:
            overview = store.overview(YEAR, as_of=AS_OF)
            assert [s.plan for s in overview.summaries] == plans, actor
            assert [r.plan.name for r in overview.reports] == plans, actor
    with _as(two_plans, installed_pm, "NOPLAN:clerk") as store, pytest.raises(AccessDenied, match="no plan in your scope"):
        store.overview(YEAR, as_of=AS_OF)


def test_cli_all_plans(two_plans, cli):
    """`fupin report --all-plans`: the summary table then every plan's report, in text and JSON, Chinese and English;
    a user of no plan gets one line and a non-zero exit; --plan with --all-plans is a usage error."""
    second = load_plan(SECOND)
    result = cli("--db", two_plans, "report", "--year", str(YEAR), "--as-of", AS_OF.isoformat(), "--all-plans")
    assert result.exit_code == 0, result.output
    head = result.output.split("=" * 72)[0]
    assert "2017 年度帮扶工作总览 (2 个方案)" in head
    assert "方案" in head and "承诺达成" in head and "走访覆盖率" in head
    assert "曲靖师范学院 拖木村" in head and second.helping_unit.name_zh in head
    assert result.output.count("2017 年度帮扶工作总结") == 2

    result = cli("--db", two_plans, "report", "--year", str(YEAR), "--as-of", AS_OF.isoformat(), "--all-plans",
                 "--format", "json", "--lang", "en")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [p["plan"] for p in data["plans"]] == sorted([REFERENCE, second.name])
    assert [r["plan"] for r in data["reports"]] == [p["plan"] for p in data["plans"]]
    assert [c["key"] for c in data["charts"]] == ["overview.commitments", "overview.visit_coverage"]
    assert all(0 <= p["visit_coverage"] <= 100 for p in data["plans"])

    refused = cli("--db", two_plans, "--as", "NOPLAN:clerk", "report", "--year", str(YEAR), "--all-plans")
    assert refused.exit_code != 0
    assert refused.exception is None or isinstance(refused.exception, SystemExit)
    assert len(refused.output.strip().splitlines()) == 1 and "no plan in your scope" in refused.output

    both = cli("--db", two_plans, "report", "--year", str(YEAR), "--all-plans", "--plan", REFERENCE)
    assert both.exit_code == 2 and "--all-plans" in both.output


def test_render_overview_refuses_unknown_format(two_plans, installed_pm):
    """render_overview speaks text and JSON; another format or language is a ValidationError naming the field."""
    from fupin import ValidationError

    with _as(two_plans, installed_pm, TEST_ACTOR) as store:
        overview = store.overview(YEAR, as_of=AS_OF)
    assert render_overview(overview, "text", "en").startswith("Year 2017 overview (2 plans)")
    with pytest.raises(ValidationError, match="lang"):
        render_overview(overview, "text", "fr")


# -- the overview as HTML, Word and Excel ---------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(two_plans: str, installed_pm: Any) -> dict[str, Any]:
    """The overview of YEAR and its HTML page, Word document and Excel workbook, in Chinese."""
    from fupin import render_overview_bytes

    with _as(two_plans, installed_pm, TEST_ACTOR) as store:
        overview = store.overview(YEAR, as_of=AS_OF)
    return {"overview": overview, "html": render_overview(overview, "html"),
            "docx": render_overview_bytes(overview, "docx"), "xlsx": render_overview_bytes(overview, "xlsx")}


def _parts_of(report: Any) -> list[str]:
    present = {s.part for s in report.sections}
    return [key for key in REPORT_PARTS if key in present]


def test_html_cover_then_one_page_per_plan(rendered):
    """The page opens with the summary table (the Overview's rows) and both comparison charts as inline SVG, then
    each plan's report (its cover and parts in order) in an article printed from a new page; ids stay unique."""
    from tests.test_report_html import Tree

    overview, page = rendered["overview"], rendered["html"]
    root = Tree(page).root
    summary = next(s for s in root.iter("section") if s.attrs.get("data-part") == "overview")
    table = next(t for t in summary.iter("table") if t.attrs.get("data-table") == "overview.summary")
    assert [th.text() for th in table.iter("th")] == summary_headers("zh")
    body = [[td.text() for td in tr.iter("td")] for tr in table.iter("tr")][1:]
    assert body == summary_rows(overview, "zh")
    assert "曲靖师范学院 拖木村" in body[[s.plan for s in overview.summaries].index(REFERENCE)][0]
    figures = [f for f in summary.iter("figure") if "data-chart" in f.attrs]
    assert [f.attrs["data-chart"] for f in figures] == ["overview.commitments", "overview.visit_coverage"]
    assert all(list(f.iter("svg")) for f in figures)
    articles = [a for a in root.iter("article") if "plan-page" in a.classes()]
    assert [a.attrs["data-plan"] for a in articles] == [s.plan for s in overview.summaries]
    for article, report in zip(articles, overview.reports, strict=True):
        assert next(article.iter("h1")).text() == f"{YEAR} 年度帮扶工作总结"
        assert report.plan.title_zh in article.text()
        assert [s.attrs["data-part"] for s in article.iter("section") if "part" in s.classes()] == _parts_of(report)
        charts = [f.attrs["data-chart"] for f in article.iter("figure") if "data-chart" in f.attrs]
        assert charts == [c.key for part in _parts_of(report) for s in report.sections if s.part == part for c in s.charts]
        assert all(list(f.iter("svg")) for f in article.iter("figure") if "data-chart" in f.attrs)
    assert ".plan-page{break-before:page" in page.replace(" ", "")
    ids = [n.attrs["id"] for n in root.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids))


def test_docx_summary_then_each_plan_from_a_new_page(rendered):
    """Word: the overview's title, the summary table (the Overview's rows) and both comparison charts; then each
    plan's report from a new page: its title, the plan's title, its parts as Heading 1 in order."""
    import io

    import docx

    overview = rendered["overview"]
    document = docx.Document(io.BytesIO(rendered["docx"]))
    paragraphs = document.paragraphs
    titles = [(i, p) for i, p in enumerate(paragraphs) if p.style.name == "Title"]
    assert [p.text for _, p in titles] == ["2017 年度帮扶工作总览"] + ["2017 年度帮扶工作总结"] * len(overview.reports)
    assert [p.paragraph_format.page_break_before for _, p in titles[1:]] == [True] * len(overview.reports)
    assert [paragraphs[i + 1].text for i, _ in titles[1:]] == [r.plan.title_zh for r in overview.reports]
    ones = [p.text for p in paragraphs if p.style.name == "Heading 1"]
    assert ones == ["各方案概况"] + [REPORT_PARTS[k][0] for r in overview.reports for k in _parts_of(r)]
    first = document.tables[0]
    assert [c.text for c in first.rows[0].cells] == summary_headers("zh")
    assert [[c.text for c in r.cells] for r in first.rows[1:]] == summary_rows(overview, "zh")
    captions = [p.text for p in paragraphs if p.style.name == "Caption"]
    assert captions[:2] == [f"图1  {overview.charts[0].title('zh')}", f"图2  {overview.charts[1].title('zh')}"]
    assert len(document.inline_shapes) == len(captions) == 2 + sum(len(s.charts) for r in overview.reports for s in r.sections)


def test_xlsx_summary_sheet_first_then_each_plans_sheets(rendered):
    """Excel: the summary sheet first, its cells the Overview's figures (funds in 元, exactly); a contents sheet
    linking every other sheet; each plan's sheets named after its villages, names unique and at most 31 characters."""
    import io
    from decimal import Decimal

    import openpyxl

    from fupin.overview import short_label

    overview = rendered["overview"]
    book = openpyxl.load_workbook(io.BytesIO(rendered["xlsx"]))
    assert book.sheetnames[:2] == ["总览", "目录"]
    rows = list(book["总览"].iter_rows(values_only=True))
    assert rows[0][0] == "方案" and len(rows) == 1 + len(overview.summaries)
    for row, s in zip(rows[1:], overview.summaries, strict=True):
        assert row[:10] == (s.label_zh, s.commitments, s.met, s.not_met, s.visit_coverage, s.visit_households, s.visited,
                            s.visited_late, s.poor_households, s.exited)
        for cell, fen in zip(row[10:], (s.funds_in_fen, s.funds_out_fen), strict=True):
            assert (cell is None and fen is None) or Decimal(str(cell)) == Decimal(fen) / 100
    names = book.sheetnames
    assert all(len(n) <= 31 for n in names) and len({n.casefold() for n in names}) == len(names)
    for report in overview.reports:
        label = short_label(report, "zh")
        mine = [n for n in names if n.startswith(label + " ")]
        assert len(mine) >= len([s for s in report.sections if s.table_rows("zh")]), label
    listed = [r[0] for r in book["目录"].iter_rows(min_row=6, values_only=True)]
    assert listed == [n for n in names if n != "目录"]


def test_cli_all_plans_writes_each_format(two_plans, cli, tmp_path):
    """`fupin report --all-plans --format html|docx|xlsx -o FILE` writes the file (audited); HTML goes to stdout too;
    Word and Excel without -o are refused as for one plan's report."""
    import io

    import docx
    import openpyxl

    base = ("--db", two_plans, "report", "--year", str(YEAR), "--as-of", AS_OF.isoformat(), "--all-plans")
    page = cli(*base, "--format", "html", "--lang", "en")
    assert page.exit_code == 0, page.output
    assert page.stdout.startswith("<!DOCTYPE html>") and "Year 2017 overview" in page.stdout
    assert page.stdout.count('class="plan-page"') == 2
    for fmt in ("html", "docx", "xlsx"):
        out = tmp_path / f"overview.{fmt}"
        done = cli(*base, "--format", fmt, "-o", str(out))
        assert done.exit_code == 0, done.output
        assert done.stdout == "" and str(out) in done.output
        data = out.read_bytes()
        if fmt == "html":
            assert data.decode("utf-8").count('<figure class="chart" data-chart="overview.') == 2
        elif fmt == "docx":
            assert [p.text for p in docx.Document(io.BytesIO(data)).paragraphs if p.style.name == "Title"][0] == "2017 年度帮扶工作总览"
        else:
            assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames[:2] == ["总览", "目录"]
    refused = cli(*base, "--format", "docx")
    assert refused.exit_code == 2 and "-o FILE" in refused.output

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
from fupin.plans import load_plan
from fupin.report import render_report_text
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

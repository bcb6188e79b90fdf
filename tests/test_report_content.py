"""The yearly report in the shape of a 年度帮扶工作总结: its parts in order, 贫困发生率 and income by year, the
两不愁三保障 counts, unmet commitments in words, next steps from the worklist, the year-by-year grid, charts as
data (the cadre outlier highlighted), words instead of codes in both languages, and "as of" the year's end.

Seeded through the library on the reference plan (tests/campaign_seed.py), SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa

from fupin import render_report
from fupin.checks import check_plan
from fupin.report import GRID_MARKS, REPORT_PARTS, build_report, visit_outliers
from fupin.storage import schema as S
from tests.campaign_seed import CONTACT, KEY, add_household, answers, cadre_code, d, h, pair, seed_base, visit

C1, C2, C3 = cadre_code(1), cadre_code(2), cadre_code(3)
AS_OF = d("2016-01-10")
CJK = re.compile(r"[\u3400-\u9fff]+")


@pytest.fixture
def village(store):
    """Five poor households, one person each; h(1,1), h(1,2) and h(1,4) visited in 2015 with answers (h(1,2) unsafe
    housing, h(1,4) no water answer); h(1,3) paired but never visited; C001 makes 12 visits, C002 and C003 one each."""
    plan = seed_base(store, ((C1, "厅级"), (C2, "处级"), (C3, "处级")))
    for s in range(1, 6):
        add_household(store, 1, s)
    pair(store, C1, h(1, 1), KEY)
    pair(store, C1, h(1, 2), CONTACT)
    pair(store, C2, h(1, 3), KEY)
    pair(store, C3, h(1, 4), CONTACT)
    visit(store, "V-1", h(1, 1), "2015-09-10", [C1])
    visit(store, "V-2", h(1, 2), "2015-11-10", [C1], given=answers(housing_safe="否", disposable_income_per_person="2000"))
    visit(store, "V-4", h(1, 4), "2015-10-01", [C3], given=answers(safe_water_ok=None))
    for i in range(10):
        visit(store, f"V-1{i}", h(1, 1), f"2015-12-{10 + i}", [C1], kind="回访", given={})
    visit(store, "V-5", h(1, 5), "2015-10-02", [C2], given={})
    return plan


def by_key(report):
    return {s.key: s for s in report.sections}


class TestShape:
    def test_parts_in_order_with_headings(self, store, village):
        """Sections come part by part in the order of REPORT_PARTS; the text shows each part's heading once, in order."""
        report = build_report(store, village, 2015, as_of=AS_OF)
        parts = [s.part for s in report.sections]
        order = list(REPORT_PARTS)
        assert parts == sorted(parts, key=order.index)
        assert set(parts) == set(REPORT_PARTS)
        for lang, pick in (("zh", 0), ("en", 1)):
            text = render_report(report, "text", lang)
            where = [text.index("\n" + heading[pick] + "\n") for heading in REPORT_PARTS.values()]
            assert where == sorted(where)
        data = json.loads(render_report(report, "json", "en"))
        assert [p["key"] for p in data["parts"]] == order
        grid = next(s for s in data["sections"] if s["key"] == "core.commitment_grid")
        assert grid["part"] == "commitments" and grid["charts"][0]["kind"] == "stacked_bar"

    def test_as_of_is_the_year_end(self, store, village):
        """A past year's report is as of 31 December of that year unless told otherwise."""
        report = build_report(store, village, 2015)
        assert report.as_of == dt.date(2015, 12, 31)
        assert "截至 2015-12-31" in render_report(report, "text", "zh")
        assert store.report(village, 2015).as_of == dt.date(2015, 12, 31)
        assert build_report(store, village, 2015, as_of=AS_OF).as_of == AS_OF

    def test_cli_as_of_default(self, store, village, cli, database_url):
        result = cli("--db", database_url, "report", "--year", "2015", "--format", "json")
        assert result.exit_code in (0, 1), result.output
        assert json.loads(result.output)["as_of"] == "2015-12-31"


class TestFigures:
    def test_incidence_and_income_by_year(self, store, village):
        """贫困发生率 = poor people / the village's population; income = mean of the year's answered incomes."""
        report = build_report(store, village, 2016, as_of=d("2016-06-30"))
        section = by_key(report)["core.incidence"]
        with store.engine.connect() as conn:
            people = conn.execute(sa.select(sa.func.count()).select_from(S.persons)).scalar_one()
            given = [v.answers["disposable_income_per_person"] for v in conn.execute(
                sa.select(S.visits.c.household_id, S.visits.c.answers, S.visits.c.visit_date)
                .where(S.visits.c.answers.isnot(None)).order_by(S.visits.c.visit_date)) if v.answers]
        population = village.villages[0].profile.population
        incomes = [int(x) for x in given]
        assert section.rows[0][:5] == (2015, 5, people, population, f"{100 * people / population:.2f}%")
        assert section.rows[0][6] == 3
        assert section.rows[0][5] == f"{sum(incomes) / len(incomes) / 100:,.2f}"
        assert section.rows[1][0] == 2016 and section.rows[1][6] == 0 and section.rows[1][5] == "-"
        (chart,) = section.charts
        assert chart.categories_zh == ("2015", "2016") and chart.series[0].values == (5, 5)

    def test_guarantees(self, store, village):
        """两不愁三保障 counts from each household's latest answers: met, not met, not answered."""
        section = by_key(build_report(store, village, 2015, as_of=AS_OF))["core.exits"]
        rows = {r[0]: r[1:] for r in section.rows}
        assert rows["义务教育有保障"] == (3, 0, 2)
        assert rows["基本医疗有保障"] == (3, 0, 2)
        assert rows["住房安全有保障"] == (2, 1, 2)
        assert rows["饮水安全"] == (2, 0, 3)
        assert [r[0] for r in section.rows_en][1] == "compulsory education guaranteed"

    def test_grid_equals_each_years_check(self, store, village):
        """The five-year grid: every commitment × year up to the report's, the check's status as a mark."""
        as_of = d("2017-01-10")
        report = build_report(store, village, 2016, as_of=as_of)
        grid = by_key(report)["core.commitment_grid"]
        assert grid.headers_zh == ("编号", "2015", "2016")
        expect = {y: {r.commitment: GRID_MARKS[r.status.value] for r in check_plan(store, village, y, as_of=as_of)} for y in (2015, 2016)}
        assert {row[0]: row[1:] for row in grid.rows} == {c: (expect[2015][c], expect[2016][c]) for c in expect[2015]}
        (chart,) = grid.charts
        met = chart.series[0].values
        assert met == tuple(sum(1 for m in expect[y].values() if m == "✓") for y in (2015, 2016))

    def test_cadre_outlier_is_highlighted(self, store, village):
        """C001's 12 visits stand out against one each: highlighted in the chart and named as worth checking."""
        section = by_key(build_report(store, village, 2015, as_of=AS_OF))["core.cadre_work"]
        (chart,) = section.charts
        assert chart.series[0].values == (12, 1, 1) and chart.highlight == (0,)
        assert "干部001 (12 次)" in chart.note_zh and "median" in chart.note_en
        assert visit_outliers([9, 8, 10, 102, 7, 11, 9]) == (3,)
        assert visit_outliers([9, 8, 10, 11, 7, 11, 9]) == ()


class TestWords:
    def test_unmet_commitments_in_problems(self, store, village):
        """四、存在问题 lists every commitment not met, with what was required and found, in words."""
        report = build_report(store, village, 2015, as_of=AS_OF)
        unmet = [r.commitment for r in report.results if r.status.value == "not_met"]
        assert unmet
        problems = by_key(report)["core.problems"]
        for cid in unmet:
            assert any(p.startswith(f"{cid} ") and "未达成" in p for p in problems.paragraphs_zh)
            assert any(p.startswith(f"{cid} ") and "not met" in p for p in problems.paragraphs_en)
        assert any("没有本方案的帮扶干部" in p for p in problems.paragraphs_zh)

    def test_next_steps_name_the_overdue_households(self, store, village):
        """五、下一步工作打算 names as many overdue households as the worklist has."""
        overdue = [i for i in store.worklist(village, as_of=AS_OF) if i.status == "overdue"]
        assert overdue
        steps = by_key(build_report(store, village, 2015, as_of=AS_OF))["core.next"]
        assert steps.paragraphs_zh[0].startswith(f"{len(overdue)} 户已逾期未走访")
        assert steps.paragraphs_en[0].startswith(f"{len(overdue)} households are overdue")
        # The cadres most behind are named, not coded.
        behind = {c for i in overdue for c in i.cadres}
        with store.engine.connect() as conn:
            names = dict(conn.execute(sa.select(S.cadres.c.code, S.cadres.c.name).where(S.cadres.c.code.in_(behind))).all())
        assert behind and "最多的干部" in steps.paragraphs_zh[0]
        assert not any(code in steps.paragraphs_zh[0] + steps.paragraphs_en[0] for code in behind)
        assert any(name in steps.paragraphs_zh[0] for name in names.values())

    def test_no_codes_and_english_is_english(self, store, village):
        """No internal codes (snake_case, CLI commands) in either language; no Chinese in English but proper names."""
        report = build_report(store, village, 2015, as_of=AS_OF)
        # The leader's body: the plan office's annex (the plan's own parameters) is for the plan office.
        zh = render_report(report, "text", "zh").split(REPORT_PARTS["plan_office"][0])[0]
        en = render_report(report, "text", "en").split(REPORT_PARTS["plan_office"][1])[0]
        for text in (zh, en):
            assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), re.findall(r"\b[a-z]+_[a-z_]+\b", text)
            assert "fupin " not in text
        with store.engine.connect() as conn:
            names = set(conn.execute(sa.select(S.areas.c.name)).scalars()) | set(conn.execute(sa.select(S.cadres.c.name)).scalars())
            names |= set(conn.execute(sa.select(S.units.c.name)).scalars())
        left = {w for w in CJK.findall(en) if not any(w in name for name in names)}
        assert not left, sorted(left)


def test_evidence_kinds_are_words_from_the_vocabularies() -> None:
    """附表's evidence counts name each kind of record in words, the plugins' tables included (their
    vocabularies extend ``evidence_kind``); a table no vocabulary names is "other records", never its code."""
    from fupin.checks import CheckResult, Status
    from fupin.hooks import Hooks
    from fupin.plugins import get_plugin_manager
    from fupin.report import _evidence_section

    vocab = Hooks(get_plugin_manager()).vocabulary()  # the installed plugins: funding and psychology name theirs
    evidence = ("funding_entry:V-1", "funding_entry:V-2", "psychology_session:S-1", "visit:V-9", "mystery_table:7")
    section = _evidence_section(None, [CheckResult("C28", Status.MET, evidence=evidence)], vocab)
    (zh,), (en,) = section.rows, section.rows_en
    assert zh[2] == 5 and en[2] == 5
    assert set(zh[3].split("、")) == {"资金流水 2", "心理辅导记录 1", "走访 1", "其他记录 1"}
    assert set(en[3].split(", ")) == {"fund entries 2", "counselling sessions 1", "visits 1", "other records 1"}
    assert not re.search(r"[a-z]+_[a-z]+", f"{section.rows} {section.rows_en}")

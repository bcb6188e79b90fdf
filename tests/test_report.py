"""`fupin report`: the yearly report (profile, pairing, visits, cadre sheets, exits, plugins' sections) in text, JSON and HTML.

The campaign is seeded for the first-round year 2015 (deadline 2015-10-31) on
SQLite and PostgreSQL, with on-time, late and missing visits, a case and a
diary entry, so every figure of the sections and the cadre sheets is exact.
"""

from __future__ import annotations

import json
import re

import pytest

from fupin import ReportSection, hookimpl, load_plan
from fupin.report import build_report, cadre_sheets
from fupin.visits import close_case
from tests.campaign_seed import (
    CONTACT,
    KEY,
    PLAN,
    add_household,
    cadre_code,
    case,
    d,
    diary,
    h,
    id_numbers,
    pair,
    seed_base,
    visit,
)

C1, C2, C3 = cadre_code(1), cadre_code(2), cadre_code(3)
AS_OF = "2016-01-10"
#: Every commitment, C35 (not measurable) included: a report never drops one.
COMMITMENTS = [c.id for c in load_plan(PLAN).commitments]
#: The core's sections in the order of the 年度帮扶工作总结 (plugins' sections join their part).
CORE_SECTIONS = ["core.profile", "core.incidence", "core.pairing", "core.visits", "core.cadre_work", "core.exits",
                 "core.commitments", "core.commitment_grid", "core.problems", "core.next", "core.cadres", "core.evidence", "core.plan_lint"]


@pytest.fixture
def campaign(store):
    """Five poor households; C001 helps h(1,1) (visited on time) and h(1,2) (late); C002 helps h(1,3) (not visited)
    and h(1,4) (visited on time with C001); h(1,5) has no cadre; C003 (处级) takes no part.
    C001 opens and closes a case, C002 writes a diary entry."""
    plan = seed_base(store, ((C1, "厅级"), (C2, "处级"), (C3, "处级")))
    for s in range(1, 6):
        add_household(store, 1, s)
    pair(store, C1, h(1, 1), KEY)
    pair(store, C1, h(1, 2), CONTACT)
    pair(store, C2, h(1, 3), KEY)
    pair(store, C2, h(1, 4), CONTACT)
    visit(store, "V-1", h(1, 1), "2015-09-10", [C1])
    visit(store, "V-2", h(1, 2), "2015-11-10", [C1])
    visit(store, "V-4", h(1, 4), "2015-10-01", [C1, C2])
    case(store, "K-1", h(1, 2), "2015-11-01", C1)
    close_case(store, "K-1", closed=d("2015-12-01"), resolution="已协调 / settled")
    diary(store, "D-1", "2015-11-15", C2, household=h(1, 3))
    return plan


def sections(report):
    return {s.key: s for s in report.sections}


class TestSections:
    def test_core_sections(self, store, campaign):
        """Profile, pairing, visits, cadres and exits come first, each with the year's figures."""
        report = build_report(store, campaign, 2015, as_of=d(AS_OF))
        assert [s.key for s in report.sections] == CORE_SECTIONS
        assert [r.commitment for r in report.results] == COMMITMENTS
        by_key = sections(report)
        assert by_key["core.profile"].rows == (("拖木村", 2015, 778, 2996, 428, 1339, "2,670.00", 5),)
        assert by_key["core.pairing"].paragraphs_zh == (
            "截至 2015-12-31: 贫困户 5 户, 已结对 4 户 (重点帮扶 2, 联系 2); 干部 3 名, 其中 0 名结对户数符合定额。",
        )
        assert by_key["core.pairing"].shortfalls_zh == ("1 户贫困户没有本方案的帮扶干部",)
        visits = by_key["core.visits"]
        # The same figures as C10's check (households, visited as required, late), never a second count.
        assert visits.paragraphs_zh == ("应走访 4 户, 每户 1 次 (期限 2015-10-31; 计入: 首轮走访、回访): 按要求 2 户, 逾期 1 户, 未走访 1 户。"
                                        "走访次数 (全部类型): 首轮走访 3。",)
        c10 = {r.commitment: r for r in report.results}["C10"].figures
        assert (c10["households"], c10["visited"], c10["visited_late"]) == (4, 2, 1)
        assert visits.shortfalls_zh == ("1 户走访晚于期限", "1 户本年未按要求走访")
        assert visits.shortfalls_en == ("1 households visited after their deadline", "1 households not visited as required this year")
        assert by_key["core.exits"].paragraphs_zh[0].startswith("2015 年经评估脱贫 0 户。")
        assert "未脱贫 5" in by_key["core.exits"].paragraphs_zh[0]
        assert "not exited 5" in by_key["core.exits"].paragraphs_en[0]

    def test_cadre_sheets(self, store, campaign):
        """One sheet per cadre taking part: households by kind, visits made, on time / late / not visited, cases, diary."""
        with store.engine.connect() as conn:
            sheets = cadre_sheets(store, conn, campaign, 2015, d(AS_OF))
        assert sheets == [
            {"cadre": C1, "name": "干部001", "rank": "厅级", "key_help": 1, "contact": 1, "visits_made": 3,
             "visited_on_time": 1, "visited_late": 1, "not_visited": 0, "cases_opened": 1, "cases_closed": 1, "diary_entries": 0},
            {"cadre": C2, "name": "干部002", "rank": "处级", "key_help": 1, "contact": 1, "visits_made": 1,
             "visited_on_time": 1, "visited_late": 0, "not_visited": 1, "cases_opened": 0, "cases_closed": 0, "diary_entries": 1},
        ]
        section = sections(build_report(store, campaign, 2015, as_of=d(AS_OF)))["core.cadres"]
        assert section.rows == tuple(tuple(s.values()) for s in sheets)
        assert [r[2] for r in section.rows_en] == ["bureau", "division"] and section.part == "appendix"
        assert section.shortfalls_zh == ("2 名干部有逾期或未走访的户",)

    def test_not_visited_is_not_a_shortfall_before_the_deadline(self, store, campaign):
        """Before 2015-10-31 a household not yet visited is not counted as missed."""
        report = build_report(store, campaign, 2015, as_of=d("2015-10-15"))
        assert sections(report)["core.visits"].shortfalls_zh == ("1 户走访晚于期限",)
        with store.engine.connect() as conn:
            assert {s["not_visited"] for s in cadre_sheets(store, conn, campaign, 2015, d("2015-10-15"))} == {0}

    def test_a_household_paired_after_the_deadline_visited_in_time(self, store, campaign):
        """Paired on 2015-12-01, after the first round (due by 2016-01-30): not one of the first round's households, as in C10's check."""
        add_household(store, 2, 1)
        pair(store, C2, h(2, 1), KEY, start="2015-12-01")
        visit(store, "V-9", h(2, 1), "2015-12-20", [C2])
        report = build_report(store, campaign, 2015, as_of=d(AS_OF))
        assert sections(report)["core.visits"].paragraphs_zh[0].startswith("应走访 4 户, 每户 1 次 (期限 2015-10-31; 计入: 首轮走访、回访): 按要求 2 户, 逾期 1 户")
        with store.engine.connect() as conn:
            c2 = cadre_sheets(store, conn, campaign, 2015, d(AS_OF))[1]
        assert (c2["visited_on_time"], c2["visited_late"]) == (2, 0)


class SectionPlugin:
    """A plugin adding one section to the yearly report."""

    @hookimpl
    def fupin_report_sections(self, store, plan, year):
        return [ReportSection(
            "testrep.summary", "测试插件章节", "Test plugin section",
            paragraphs_zh=(f"{plan.name} {year} 年举办活动 3 场。",), paragraphs_en=(f"{plan.name}: 3 events in {year}.",),
            headers_zh=("项目", "场次"), headers_en=("item", "events"), rows=(("测试活动", 3),),
        )]


def report(cli, url, *args):
    result = cli("--db", url, "report", "--year", "2015", "--as-of", AS_OF, *args)
    assert result.exit_code == 0, result.output
    return result


class TestCommand:
    def test_html_page(self, store, campaign, cli, database_url, tmp_path):
        """A complete HTML page: doctype, Chinese language, every measurable commitment, the sections, no ID numbers."""
        out = tmp_path / "拖木村-2015.html"
        result = report(cli, database_url, "--format", "html", "-o", str(out))
        assert result.stdout == "" and str(out) in result.output
        page = out.read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page and page.rstrip().endswith("</html>")
        assert '<meta charset="utf-8">' in page and "<script" not in page and "2015 年度帮扶工作总结" in page
        table = page[page.index('data-table="core.commitments"'):]
        rows = re.findall(r"<tr(?: class=\"[a-z-]+\")?><td>(C\d\d)</td>", table[: table.index("</table>")])
        assert rows == COMMITMENTS
        assert all(f'data-section="{key}"' in page for key in CORE_SECTIONS)
        ids = id_numbers(store)
        assert len(ids) == 5 and not [i for i in ids if i in page or i[:14] in page]

    def test_export_is_audited_but_does_not_meet_c36(self, store, campaign, cli, database_url, tmp_path):
        """Writing the report to a file leaves an audit entry; it is not a publication, so C36 stays no data."""
        def c36(year):
            result = cli("--db", database_url, "check", "--year", str(year), "--as-of", f"{year + 1}-01-10", "--json")
            return {r["id"]: r for r in json.loads(result.output)}["C36"]

        assert c36(2015)["status"] == "no_data"
        report(cli, database_url)  # to the screen: not an export
        assert c36(2015)["status"] == "no_data"
        report(cli, database_url, "--format", "html", "-o", str(tmp_path / "r.html"))
        (entry,) = [e for e in store.audit_entries(table="plans", key=PLAN) if e.operation == "report"]
        assert (entry.unit, entry.user, entry.new["year"], entry.new["format"], entry.new["file"]) == ("TEST", "tester", 2015, "html", "r.html")
        found = c36(2015)
        assert (found["status"], found["actual"], found["evidence"]) == ("no_data", "0", [])

    def test_english(self, store, campaign, cli, database_url, tmp_path):
        """--lang en gives English headings and text, in the text and the HTML page."""
        text = report(cli, database_url, "--lang", "en").output
        for heading in ("Year 2015 report", "Commitments", "Village profile", "Pairing of cadres and households", "Visits to households",
                        "Cadre assessment sheets", "Exits from poverty", "1 households visited after their deadline"):
            assert heading in text
        assert "村情概况" not in text and "干部年度考核表" not in text and "年度帮扶工作总结" not in text
        out = tmp_path / "r.html"
        report(cli, database_url, "--lang", "en", "--format", "html", "-o", str(out))
        page = out.read_text(encoding="utf-8")
        assert '<html lang="en">' in page and "Year 2015 report" in page and re.search(r"<th[^>]*>commitment</th>", page, re.I)

    def test_json(self, store, campaign, cli, database_url):
        """--format json parses: plan, year, commitments with titles and statuses, sections with rows."""
        data = json.loads(report(cli, database_url, "--format", "json").output)
        assert (data["plan"], data["year"], data["as_of"]) == (PLAN, 2015, AS_OF)
        assert [c["id"] for c in data["commitments"]] == COMMITMENTS
        assert all(c["title"] and c["status"] in {"met", "not_met", "not_due", "no_data", "not_measurable"} for c in data["commitments"])
        keys = [s["key"] for s in data["sections"]]
        assert keys == CORE_SECTIONS
        cadres = next(s for s in data["sections"] if s["key"] == "core.cadres")
        assert [r[0] for r in cadres["rows"]] == [C1, C2] and cadres["headers"][0] == "干部编号"
        assert not [i for i in id_numbers(store) if i in json.dumps(data, ensure_ascii=False)]

    def test_plugin_section(self, store, campaign, cli, database_url, pm, tmp_path):
        """A plugin's fupin_report_sections section follows the core's, in every format."""
        pm.register(SectionPlugin(), name="testrep")
        text = report(cli, database_url).output
        assert "测试插件章节" in text and "qjnu-tuomu 2015 年举办活动 3 场。" in text and "测试活动" in text
        # In 二、主要工作及成效, after the core's work and before 三、承诺完成情况.
        assert text.index("脱贫退出与两不愁三保障") < text.index("测试插件章节") < text.index("三、承诺完成情况")
        data = json.loads(report(cli, database_url, "--format", "json", "--lang", "en").output)
        section = next(s for s in data["sections"] if s["key"] == "testrep.summary")
        assert (section["key"], section["title"], section["paragraphs"], section["rows"]) == (
            "testrep.summary", "Test plugin section", ["qjnu-tuomu: 3 events in 2015."], [["测试活动", 3]],
        )
        out = tmp_path / "r.html"
        report(cli, database_url, "--format", "html", "-o", str(out))
        page = out.read_text(encoding="utf-8")
        work = page[page.index('data-part="work"'):page.index('data-part="commitments"')]
        assert 'data-section="testrep.summary"><h3>测试插件章节</h3>' in work

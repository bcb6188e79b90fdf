"""Issue #18, the funding part: the report section speaks to a leader (words, not codes), draws the money as charts
whose values are the ledger's sums, and says what is still due (unpaid study aid, a budget below the minimum)."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from fupin_funding import ledger
from fupin_funding.ledger import Entry, Fund
from funding_world import APPROVER

CJK = re.compile(r"[\u3400-\u9fff]")
CODES = (*ledger.PURPOSES, *ledger.FLOWS, *ledger.PROGRAMMES, "funding.", "fupin ", "--year", "fen")


def _section(store, plan, year=2017):
    report = store.report(plan, year, as_of=dt.date(year + 1, 1, 1))
    return next(s for s in report.sections if s.key == "funding.summary")


def _texts(section, lang):
    own = [section.title(lang), *section.paragraphs(lang), *section.shortfalls(lang),
           *(section.next_steps_en if lang == "en" else section.next_steps_zh)]
    for chart in section.charts:
        own += [chart.title(lang), chart.note(lang), *chart.categories(lang), *(s.name(lang) for s in chart.series),
                *((s.unit_en if lang == "en" else s.unit_zh) for s in chart.series)]
    return own


def _post(store, voucher, day, flow, amount, **more):
    ledger.post(store, Entry(voucher=voucher, entry_date=day, flow=flow, fund_code="B2017", amount_fen=amount,
                             approved_by=APPROVER, **more))


def _sql_sums(store, year):
    """Money in by flow and out by purpose of the plan's funds in ``year``, summed in SQL here, not by the plugin."""
    with store.reading() as conn:
        rows = conn.execute(sa.text(
            "SELECT e.flow, e.purpose, SUM(e.amount_fen) FROM funding_entries e JOIN funding_funds f ON f.code = e.fund_code "
            "WHERE f.plan_name = 'qjnu-tuomu' AND e.entry_date BETWEEN :a AND :b GROUP BY e.flow, e.purpose"
        ), {"a": dt.date(year, 1, 1), "b": dt.date(year, 12, 31)}).all()
    money_in = {flow: int(n) for flow, _, n in rows if flow in ("appropriation", "donation")}
    money_out: dict[str, int] = {}
    for flow, purpose, n in rows:
        if flow not in ("appropriation", "donation"):
            money_out[purpose] = money_out.get(purpose, 0) + int(n)
    return money_in, money_out


def test_the_section_is_work_in_words_with_charts_of_the_ledgers_sums(village):
    store = village.store
    ledger.add_fund(store, Fund("B2017", "2017 年专项经费", "budget", year=2017, plan_name="qjnu-tuomu", owner_unit="QJNU"))
    _post(store, "YS2017", "2017-01-05", "appropriation", 40_000_000)
    _post(store, "ZC-1", "2017-03-01", "spending", 12_345_600, purpose="infrastructure", description="修路")
    _post(store, "ZC-2", "2017-04-01", "spending", 2_000_000, purpose="industry", description="蓝莓苗")
    _post(store, "ZXJ-A", "2017-08-20", "aid", 50_000, programme="study_aid", aid_year=2017, person=village.student_a)
    section = _section(store, village.plan)
    assert section.part == "work" and not section.rows
    for text in _texts(section, "zh"):
        assert not any(code in text for code in CODES), text
    for text in _texts(section, "en"):
        # English labels may be the code's word ("industry"): codes with an underscore or a dot are never words.
        assert not CJK.search(text) and not any(code in text for code in CODES if "_" in code or "." in code or " " in code), text
    assert "基础设施" in section.paragraphs_zh[0] and "infrastructure" in section.paragraphs_en[0]

    money_in, money_out = _sql_sums(store, 2017)
    charts = {c.key: c for c in section.charts}
    year_chart = charts["funding.in_out_by_purpose"]
    assert year_chart.kind == "stacked_bar" and year_chart.categories_zh == ("到位", "支出")
    inflows = {s.name_en: s.values[0] for s in year_chart.series if s.values[0] is not None}
    outflows = {s.name_en: s.values[1] for s in year_chart.series if s.values[1] is not None}
    assert inflows == {"budget appropriations": money_in["appropriation"] / 100}
    assert outflows == {"infrastructure": money_out["infrastructure"] / 100, "industry": money_out["industry"] / 100,
                        "study aid": money_out["study_aid"] / 100}
    assert outflows["infrastructure"] == 123_456.0
    by_year = charts["funding.in_out_by_year"]
    years = [str(y) for y in village.plan.years() if y <= 2017]
    assert by_year.categories_en == tuple(years) and by_year.highlight == (len(years) - 1,)
    assert by_year.series[0].values == (*[0.0] * (len(years) - 1), sum(money_in.values()) / 100)
    assert by_year.series[1].values == (*[0.0] * (len(years) - 1), sum(money_out.values()) / 100)


def test_next_steps_say_what_is_due_and_vanish_when_done(village):
    store = village.store
    ledger.add_fund(store, Fund("B2017", "2017 年专项经费", "budget", year=2017, plan_name="qjnu-tuomu", owner_unit="QJNU"))
    _post(store, "YS2017", "2017-01-05", "appropriation", 30_000_000)
    section = _section(store, village.plan)
    # 100,000 yuan of the 400,000 budget missing; two students (500 yuan each) without study aid.
    assert any("100,000.00 元" in s and "400,000.00" in s for s in section.next_steps_zh), section.next_steps_zh
    assert any("2 名" in s and "1,000.00 元" in s and "2017-08-31" in s for s in section.next_steps_zh), section.next_steps_zh
    assert len(section.next_steps_en) == len(section.next_steps_zh) == 2
    assert not any(CJK.search(s) for s in section.next_steps_en)
    assert any("400,000.00 yuan" in s for s in section.shortfalls_en) and not any(CJK.search(s) for s in section.shortfalls_en)

    _post(store, "YS2017-2", "2017-06-01", "appropriation", 10_000_000)
    _post(store, "ZXJ-A", "2017-08-20", "aid", 50_000, programme="study_aid", aid_year=2017, person=village.student_a)
    section = _section(store, village.plan)
    assert len(section.next_steps_zh) == 1 and "1 名" in section.next_steps_zh[0] and "500.00 元" in section.next_steps_zh[0]
    _post(store, "ZXJ-B", "2017-08-21", "aid", 50_000, programme="study_aid", aid_year=2017, person=village.student_b)
    section = _section(store, village.plan)
    assert section.next_steps_zh == () and section.next_steps_en == ()


def test_a_past_years_section_as_of_its_last_day_agrees_with_the_core(village):
    """The report's date reaches the plugin: a 2017 report as of 31 December judges the funding commitments as the core
    does on that day (a budget due by the year's end is not yet overdue; study aid due in August is), and as of
    1 January both call the budget not met."""
    store = village.store
    ledger.add_fund(store, Fund("B2017", "2017 年专项经费", "budget", year=2017, plan_name="qjnu-tuomu", owner_unit="QJNU"))
    _post(store, "YS2017", "2017-01-05", "appropriation", 30_000_000)
    _post(store, "ZXJ-A", "2017-08-20", "aid", 50_000, programme="study_aid", aid_year=2017, person=village.student_a)
    titles = {c.id: c for c in village.plan.commitments}
    for as_of in (dt.date(2017, 12, 31), dt.date(2018, 1, 1)):
        report = store.report(village.plan, 2017, as_of=as_of)
        section = next(s for s in report.sections if s.key == "funding.summary")
        not_met = [titles[r.commitment] for r in report.results if r.target.startswith("funding.") and r.status.value == "not_met"]
        assert len(section.shortfalls_zh) == len(not_met) and len(section.shortfalls_en) == len(not_met)
        assert [s.split(":")[0] for s in section.shortfalls_zh] == [c.title("zh") for c in not_met], (as_of, section.shortfalls_zh)
        budget = next(r for r in report.results if r.target == "funding.budget_per_year")
        aid = next(r for r in report.results if r.target == "funding.study_aid")
        assert aid.status.value == "not_met"
        assert budget.status.value == ("not_due" if as_of.year == 2017 else "not_met")

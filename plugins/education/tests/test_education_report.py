"""Issue #18, the education part: the sections are 二、主要工作及成效 in words (vocabulary labels, no commitment ids or
codes, English without Chinese), chart teachers trained, sessions, student teachers and 三下乡 teams by year against the
plan's yearly minimums with the figures the records give, and say what the year still lacks as next steps; judged as of
the report's date."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from fupin import SupportAction

CJK = re.compile(r"[\u3400-\u9fff]")
CODES = re.compile(r"\bC2\d\b|education\.|free_clinic|teacher_visit|sanxiaxiang_teams|mathematics_|fupin |--year")


def record(store, plan, kind, ref, start, details, beneficiaries, end=None, unit="QJNU-EDU", **fields):
    return store.record_action(SupportAction.new(store.hooks.action_kind(kind), start=start, end=end, unit=unit, plan=plan.name,
                                                 details=details, beneficiaries=beneficiaries, ref=ref, **fields))


def visit(store, plan, ref, day, teachers):
    schools = sorted({t.split("@")[1] for t in teachers})
    record(store, plan, "education.teacher_visit", ref, day, {"programme": "研修班", "trainees": teachers},
           [f"unit:{s}" for s in schools], quantities={"hours": 16})


def session(store, plan, ref, day, subject):
    record(store, plan, "education.teacher_training", ref, day, {"subject": subject, "topic": "教法", "trainers": ["教授"],
           "place": "者海镇一中"}, ["unit:ZHZ-YZ"], unit="QJNU-LIT", quantities={"hours": 3, "people": 20})


def intern(store, plan, ref, day, school):
    start = dt.date.fromisoformat(day)
    record(store, plan, "education.internship", ref, day, {"student": "实习生", "subject": "语文", "mentor": "m", "supervisor": "s"},
           [f"unit:{school}"], end=(start + dt.timedelta(days=40)).isoformat())


def team(store, plan, ref, day, name, vacation, activities):
    start = dt.date.fromisoformat(day)
    record(store, plan, "education.sanxiaxiang", ref, day, {"team": name, "vacation": vacation, "supervisor": "s",
           "members": list("甲乙丙丁戊"), "activities": activities}, ["unit:TMC-XX"], unit="QJNU-STU",
           end=(start + dt.timedelta(days=5)).isoformat(), quantities={"people": 100})


def sections(store, plan, year, as_of):
    return {s.key: s for s in store.hooks.report_sections(store, plan, year, as_of)}


def texts(section, lang):
    own = [section.title(lang), *section.paragraphs(lang), *section.shortfalls(lang),
           *(section.next_steps_en if lang == "en" else section.next_steps_zh)]
    for chart in section.charts:
        own += [chart.title(lang), chart.note(lang), *chart.categories(lang), *(s.name(lang) for s in chart.series),
                *((s.unit_en if lang == "en" else s.unit_zh) for s in chart.series)]
    return own


def a_year(store, plan):
    """2016 fully met for teachers trained; 2017 short everywhere but in the summer."""
    visit(store, plan, "V-1", "2016-04-10", [f"{n}@ZHZ-YZ" for n in "甲乙丙"] + [f"{n}@TMC-XX" for n in "丁戊己"])
    visit(store, plan, "V-2", "2017-04-10", [f"{n}@ZHZ-YZ" for n in "甲乙丙"] + ["丁@TMC-XX"])
    session(store, plan, "T-1", "2017-05-10", "语文")
    session(store, plan, "T-2", "2017-05-11", "数学")
    intern(store, plan, "I-1", "2017-03-01", "HZ-YZ")
    intern(store, plan, "I-2", "2017-03-01", "HZ-YZ")
    intern(store, plan, "I-3", "2017-09-01", "ZHZ-YZ")
    team(store, plan, "S-1", "2017-07-10", "支教团", "暑假", ["支教", "义诊", "义诊"])
    team(store, plan, "S-2", "2017-07-12", "科普团", "暑假", ["科普"])


def test_sections_in_words_with_charts_of_the_records(seeded):
    store, plan = seeded
    a_year(store, plan)
    found = sections(store, plan, 2017, dt.date(2017, 12, 31))
    summary, sxx = found["education.summary"], found["education.sanxiaxiang"]
    for section in (summary, sxx):
        assert section.part == "work" and not section.rows
        for text in texts(section, "zh"):
            assert not CODES.search(text), text
        for text in texts(section, "en"):
            assert not CJK.search(text) and not CODES.search(text), text
    assert "Sanxiaxiang" in sxx.title_en

    # The charts' counts are what the records give, counted here from the table, not by the plugin.
    a = store.table("support_actions")
    with store.reading() as conn:
        rows = conn.execute(sa.select(a.c.kind, a.c.start_date, a.c.details)).all()
    trained: dict[int, set[str]] = {}
    interns: dict[int, int] = {}
    sessions: dict[int, int] = {}
    teams: dict[int, set[str]] = {}
    for kind, start, details in rows:
        if kind == "education.teacher_visit":
            trained.setdefault(start.year, set()).update(details["trainees"])
        elif kind == "education.internship":
            interns[start.year] = interns.get(start.year, 0) + 1
        elif kind == "education.teacher_training":
            sessions[start.year] = sessions.get(start.year, 0) + 1
        elif kind == "education.sanxiaxiang":
            teams.setdefault(start.year, set()).add(details["team"])
    years = [y for y in plan.years() if y <= 2017]
    charts = {c.key: c for s in (summary, sxx) for c in s.charts}
    by_year = charts["education.teachers_by_year"]
    assert by_year.kind == "bar_line" and by_year.categories_en == tuple(str(y) for y in years)
    assert by_year.series[0].values == tuple(len(trained.get(y, ())) for y in years)
    assert by_year.series[0].values[-2:] == (6, 4)
    assert set(by_year.series[1].values) == {6}  # three teachers of each of the two schools
    assert by_year.highlight == tuple(i for i, y in enumerate(years) if y != 2016)  # 2016 met; 2017 is this year and short
    assert charts["education.interns_by_year"].series[0].values == tuple(interns.get(y, 0) for y in years)
    assert set(charts["education.interns_by_year"].series[1].values) == {4}
    assert charts["education.sessions_by_year"].series[0].values[-1] == sessions[2017] == 2
    assert set(charts["education.sessions_by_year"].series[1].values) == {3}
    assert charts["education.teams_by_year"].series[0].values[-1] == len(teams[2017]) == 2
    # No vacation of 2015 falls in the plan's period (from October): nothing due, nothing drawn.
    assert years[0] == 2015 and charts["education.teams_by_year"].series[1].values == (None, 3, 3)
    assert charts["education.teams_by_year"].series[0].values[0] is None
    activities = charts["education.sanxiaxiang_activities"]
    assert dict(zip(activities.categories_en, activities.series[0].values)) == {"teaching": 1, "free clinic": 2, "science": 1}
    assert dict(zip(activities.categories_zh, activities.series[0].values))["义诊"] == 2


def test_next_steps_while_the_year_is_open_shortfalls_once_it_has_ended(seeded):
    store, plan = seeded
    a_year(store, plan)
    # 1 December: the year is still open, nothing is judged not met yet; what lacks is to do before the year ends.
    found = sections(store, plan, 2017, dt.date(2017, 12, 1))
    summary, sxx = found["education.summary"], found["education.sanxiaxiang"]
    assert summary.shortfalls_zh == () and sxx.shortfalls_zh == ()
    steps = "\n".join(summary.next_steps_zh)
    assert "2017 年内安排拖木村小学再有 2 名教师来校培训" in steps, steps
    assert "为英语教师各补足 1 场送教培训" in steps
    assert "向者海镇一中再选派 1 名实习生" in steps
    assert any("2 more teachers of 1 school" in s and "before the end of 2017" in s for s in summary.next_steps_en)
    assert any("English" in s for s in summary.next_steps_en)
    assert sxx.next_steps_zh == ("2017 年内再组建 1 支服务团, 寒假组队下乡 (每年 3 至 5 支, 寒暑假都有)。",)
    assert "winter vacation" in sxx.next_steps_en[0] and "1 more team" in sxx.next_steps_en[0]
    assert len(summary.next_steps_en) == len(summary.next_steps_zh)

    # Once the year has ended (the report's date after its last day): the same lacks are problems, for next year.
    found = sections(store, plan, 2017, dt.date(2018, 1, 1))
    summary, sxx = found["education.summary"], found["education.sanxiaxiang"]
    assert any("拖木村小学 1 人" in s for s in summary.shortfalls_zh), summary.shortfalls_zh
    assert any("1 of the 2 schools fell short (2 teachers missing)" in s for s in summary.shortfalls_en)
    assert any("寒假没有服务团" in s for s in sxx.shortfalls_zh) and any("no team in the winter vacation" in s for s in sxx.shortfalls_en)
    assert all(s.startswith("2018 年") for s in (*summary.next_steps_zh, *sxx.next_steps_zh))

    # Done: the next steps vanish.
    visit(store, plan, "V-3", "2017-11-10", ["戊@TMC-XX", "己@TMC-XX"])
    session(store, plan, "T-3", "2017-11-11", "英语")
    intern(store, plan, "I-4", "2017-09-01", "ZHZ-YZ")
    team(store, plan, "S-3", "2017-01-15", "调研团", "寒假", ["调研"])
    found = sections(store, plan, 2017, dt.date(2017, 12, 1))
    assert found["education.summary"].next_steps_zh == () and found["education.summary"].next_steps_en == ()
    assert found["education.sanxiaxiang"].next_steps_zh == ()


def test_the_plans_last_year_once_ended_has_problems_but_no_next_steps(seeded):
    """After the plan's last year there is no year of the plan left to make up a shortfall in: problems only."""
    store, plan = seeded
    last = plan.years()[-1]
    visit(store, plan, "V-9", f"{last}-04-10", ["甲@ZHZ-YZ"])
    summary = sections(store, plan, last, plan.period_end + dt.timedelta(days=1))["education.summary"]
    assert any("拖木村小学 0 人" in s for s in summary.shortfalls_zh), summary.shortfalls_zh
    assert summary.next_steps_zh == () and summary.next_steps_en == ()
    # The same year still open: the shortfall is a next step before its end.
    summary = sections(store, plan, last, dt.date(last, 6, 1))["education.summary"]
    assert summary.shortfalls_zh == () and any(s.startswith(f"{last} 年内") for s in summary.next_steps_zh)

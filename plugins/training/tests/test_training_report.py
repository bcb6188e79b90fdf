"""Issue #18, the training part: the report section speaks to a leader (words, not codes, no commands), charts the
sessions (by technique area, by year against the plan's minimum) as the records count them, and names the poor
households still without a practical technique as a next step until they have one."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

CJK = re.compile(r"[\u3400-\u9fff]")
CODES = ("fruit_trees", "livestock", "crops", "training.", "fupin ", "--year", "C17", "C20", "C21", "C22")


def _section(store, year):
    report = store.report("qjnu-tuomu", year, as_of=dt.date(year + 1, 1, 1))
    return next(s for s in report.sections if s.key == "training.courses")


def _texts(section, lang):
    own = [section.title(lang), *section.paragraphs(lang), *section.shortfalls(lang),
           *(section.next_steps_en if lang == "en" else section.next_steps_zh)]
    for chart in section.charts:
        own += [chart.title(lang), chart.note(lang), *chart.categories(lang), *(s.name(lang) for s in chart.series)]
    return own


def test_section_in_words_with_charts_and_next_steps(world):
    world.small_sessions()
    store = world.store
    world.session("2016-03-01", "蓝莓", [world.person(1, 1)], ref="S-1")
    world.session("2017-03-01", "蓝莓", [world.person(1, 1), world.person(2, 1)], ref="S-2")
    world.session("2017-04-01", "烤烟", [world.person(2, 1)], ref="S-3")
    world.assessment("2017-05-01", "烤烟", world.person(1, 1), ref="K-1")
    world.assessment("2017-05-02", "烤烟", world.person(2, 1), ref="K-2")
    section = _section(store, 2017)
    assert section.part == "work" and not section.rows
    for text in _texts(section, "zh"):
        assert not any(code in text for code in CODES), text
    for text in _texts(section, "en"):
        # 拖木村 is a proper name: the only Chinese allowed in English.
        assert not CJK.search(text.replace("拖木村", "")) and not any(code in text for code in CODES if code not in ("crops", "livestock")), text

    with store.reading() as conn:
        per_year = dict(conn.execute(sa.text(
            "SELECT substr(CAST(start_date AS TEXT), 1, 4), count(*) FROM support_actions "
            "WHERE kind = 'training.agri_session' AND plan_name = 'qjnu-tuomu' GROUP BY 1"
        )).all())
    charts = {c.key: c for c in section.charts}
    by_year = charts["training.sessions_by_year"]
    years = [y for y in range(2015, 2018)]
    assert by_year.kind == "bar_line" and by_year.categories_en == tuple(str(y) for y in years)
    assert by_year.series[0].values == tuple(per_year.get(str(y), 0) for y in years) == (0, 1, 2)
    assert set(by_year.series[1].values) == {3} and by_year.highlight == (2,)  # one session in each of three areas
    by_area = charts["training.sessions_by_area"]
    assert sum(by_area.series[0].values) == per_year["2017"]
    assert dict(zip(by_area.categories_zh, by_area.series[0].values))["畜牧养殖"] == 0

    # Household 3 (the other villager group) has no technique: a next step naming the village, counts only.
    assert section.next_steps_zh == ("为 1 户尚未掌握实用技术的贫困户安排技术培训或考核 (拖木村 1 户)。",)
    assert len(section.next_steps_en) == 1 and "1 poor household" in section.next_steps_en[0].replace("households", "household")
    world.assessment("2017-06-01", "烤烟", world.person(3, 1), ref="K-3")
    section = _section(store, 2017)
    assert section.next_steps_zh == () and section.next_steps_en == ()

"""Issue #18, the psychology part: the section is 二、主要工作及成效 in words (vocabulary labels, no commitment ids),
charts counselling by year (counts of 1 to 4 left out), and asks for the tagged people not counselled yet."""

from __future__ import annotations

import datetime as dt
import re

from fupin import Actor, Store
from psy_world import setup_files

CJK = re.compile(r"[\u3400-\u9fff]")


def test_section_in_words_with_chart_and_next_steps(cli, database_url, seed, tmp_path, key, pm):
    sessions, cases = setup_files(cli, database_url, seed, tmp_path)
    assert cli("--db", database_url, "import", "psychology.sessions", str(sessions)).exit_code == 0
    assert cli("--db", database_url, "import", "psychology.cases", str(cases)).exit_code == 0
    with Store.open(database_url, pm=pm, actor=Actor.from_env()) as store:
        report = store.report("qjnu-tuomu", 2017, as_of=dt.date(2018, 1, 1))
    section = next(s for s in report.sections if s.key == "psychology.summary")
    assert section.part == "work"
    texts_en = [section.title("en"), *section.paragraphs("en"), *section.shortfalls("en"), *section.next_steps_en]
    for chart in section.charts:
        texts_en += [chart.title("en"), chart.note("en"), *chart.categories("en"), *(s.name("en") for s in chart.series)]
    for text in texts_en:
        assert not CJK.search(text) and not re.search(r"\bC3[23]\b|home_visit", text), text
    assert not any(re.search(r"\bC3[23]\b|home_visit", t) for t in (*section.paragraphs_zh, *section.next_steps_zh))
    chart = next(c for c in section.charts if c.key == "psychology.by_year")
    # 2017: three sessions (drawn as none: 1 to 4 are not drawn), seven people counselled.
    assert chart.categories_en[-1] == "2017" and chart.series[0].values[-1] is None and chart.series[1].values[-1] == 7
    # One 空巢老人 of six was not in the group session: a next step, counted as <5.
    assert any("空巢老人" in s and "<5" in s for s in section.next_steps_zh), section.next_steps_zh
    assert len(section.next_steps_en) == len(section.next_steps_zh)
    # Coverage by group in each language's own words (no table of Chinese cells in the English report), and charted.
    assert not section.rows
    assert any("空巢老人" in p and "已疏导" in p for p in section.paragraphs_zh)
    assert any("Coverage by group" in p for p in section.paragraphs_en)
    by_group = next(c for c in section.charts if c.key == "psychology.coverage_by_group")
    assert "空巢老人" in by_group.categories_zh and not any(CJK.search(c) for c in by_group.categories_en)
    i = by_group.categories_zh.index("空巢老人")
    assert by_group.series[0].values[i] == 6 and by_group.series[1].values[i] == 5 and i in by_group.highlight

"""The education targets (C23 to C26) met and not met with evidence, the record rules in the store,
and the report sections; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from fupin import SupportAction, ValidationError, check_plan

AS_OF = dt.date(2020, 6, 1)


def record(store, plan, kind, ref, start, details, beneficiaries, end=None, unit="QJNU-EDU", **fields):
    return store.record_action(SupportAction.new(store.hooks.action_kind(kind), start=start, end=end, unit=unit, plan=plan.name,
                                                 details=details, beneficiaries=beneficiaries, ref=ref, **fields))


def results(store, plan, year):
    return {r.commitment: r for r in check_plan(store, plan, year, as_of=AS_OF) if r.plugin == "education"}


def test_trainees_per_school(seeded):
    """C23: three teachers of each named school in the year; a charged programme does not count."""
    store, plan = seeded
    teachers = [f"{n}@ZHZ-YZ" for n in "甲乙丙"] + [f"{n}@TMC-XX" for n in "丁戊"]
    record(store, plan, "education.teacher_visit", "V-1", "2017-04-10", {"programme": "研修班", "trainees": teachers},
           ["unit:ZHZ-YZ", "unit:TMC-XX"], end="2017-04-14", quantities={"hours": 32})
    record(store, plan, "education.teacher_visit", "V-2", "2017-11-10", {"programme": "收费班", "trainees": ["己@TMC-XX"], "free_of_charge": False},
           ["unit:TMC-XX"])
    r = results(store, plan, 2017)["C23"]
    assert r.status.value == "not_met"
    assert r.figures["trainees_by_school"] == {"者海镇一中": 3, "拖木村小学": 2}
    assert r.evidence == ("action:V-1",) and "charged" in r.note
    record(store, plan, "education.teacher_visit", "V-3", "2017-11-20", {"programme": "秋季班", "trainees": ["丁@TMC-XX", "庚@TMC-XX"]},
           ["unit:TMC-XX"])
    r = results(store, plan, 2017)["C23"]
    assert r.status.value == "met" and set(r.evidence) == {"action:V-1", "action:V-3"}
    assert results(store, plan, 2018)["C23"].status.value == "not_met"


def test_sessions_per_subject(seeded):
    """C24: one session per subject in 者海镇; a session elsewhere is not counted."""
    store, plan = seeded
    for ref, subject, place in (("T-1", "语文", "者海镇一中"), ("T-2", "数学", "拖木村小学"), ("T-3", "英语", "曲靖")):
        record(store, plan, "education.teacher_training", ref, "2018-05-10",
               {"subject": subject, "topic": "教法", "trainers": ["教授"], "place": place}, ["unit:ZHZ-YZ"], unit="QJNU-LIT")
    r = results(store, plan, 2018)["C24"]
    assert r.status.value == "not_met"
    assert r.figures["sessions_by_subject"] == {"语文": 1, "数学": 1, "英语": 0}
    assert set(r.evidence) == {"action:T-1", "action:T-2"} and "elsewhere" in r.note
    record(store, plan, "education.teacher_training", "T-4", "2018-06-10",
           {"subject": "english", "topic": "口语", "trainers": ["教授"], "place": "者海镇中心学校"}, ["unit:ZHZ-YZ"])
    assert results(store, plan, 2018)["C24"].status.value == "met"


def test_internships_per_host_school(seeded):
    """C25: two student teachers per host school a year, counted by term."""
    store, plan = seeded
    n = 0
    for host, starts in (("HZ-YZ", ("2017-03-01", "2017-09-01")), ("ZHZ-YZ", ("2017-09-01",))):
        for start in starts:
            n += 1
            record(store, plan, "education.internship", f"I-{n}", start,
                   {"student": f"学生{n}", "subject": "语文", "mentor": "m", "supervisor": "s", "lessons": 30}, [f"unit:{host}"],
                   end=start[:5] + ("06-30" if start[5:7] == "03" else "12-31"))
    r = results(store, plan, 2017)["C25"]
    assert r.status.value == "not_met"
    assert r.figures["internships_by_school"] == {"会泽一中": 2, "者海镇一中": 1}
    assert r.figures["by_term"]["会泽一中"] == {"2017春季学期": 1, "2017秋季学期": 1}
    assert len(r.evidence) == 3
    with pytest.raises(ValidationError):
        record(store, plan, "education.internship", "I-bad", "2017-09-01",
               {"student": "s", "subject": "语文", "mentor": "m", "supervisor": "s"}, ["unit:HZ-YZ", "unit:ZHZ-YZ"])
    record(store, plan, "education.internship", "I-9", "2017-09-01",
           {"student": "学生9", "subject": "数学", "mentor": "m", "supervisor": "s"}, ["unit:ZHZ-YZ"])
    assert results(store, plan, 2017)["C25"].status.value == "met"


def test_sanxiaxiang_teams(seeded):
    """C26: 3 to 5 teams covering winter and summer; nothing is due in 2015 (the plan starts in September)."""
    store, plan = seeded
    def team(ref, name, vacation, start):
        record(store, plan, "education.sanxiaxiang", ref, start, {"team": name, "vacation": vacation, "supervisor": "s",
               "members": ["a", "b"], "activities": ["支教"]}, ["unit:TMC-XX"], unit="QJNU-STU",
               quantities={"people": 100})
    team("S-1", "支教团", "summer", "2018-07-10")
    team("S-2", "医疗团", "summer", "2018-07-12")
    team("S-3", "文艺团", "summer", "2018-07-20")
    r = results(store, plan, 2018)["C26"]
    assert r.status.value == "not_met" and r.figures["missing_vacations"] == ["寒假"] and len(r.evidence) == 3
    team("S-4", "支教团", "winter", "2018-01-20")
    r = results(store, plan, 2018)["C26"]
    assert r.status.value == "met" and r.figures["teams"] == 3
    assert results(store, plan, 2015)["C26"].status.value == "not_due"


def test_no_data_without_records(seeded):
    """With nothing recorded, every education commitment is no data, not a failure."""
    store, plan = seeded
    found = results(store, plan, 2017)
    assert sorted(found) == ["C23", "C24", "C25", "C26", "C27"]
    assert {r.status.value for r in found.values()} == {"no_data"}


def test_trainee_school_must_be_beneficiary(seeded):
    """The store refuses a visit whose trainee's school is not a beneficiary, and one naming an unknown school."""
    store, plan = seeded
    with pytest.raises(ValidationError) as info:
        record(store, plan, "education.teacher_visit", "V-x", "2017-04-10", {"programme": "p", "trainees": ["甲@TMC-XX"]}, ["unit:ZHZ-YZ"])
    assert "TMC-XX" in str(info.value)
    with pytest.raises(ValidationError):
        record(store, plan, "education.teacher_visit", "V-y", "2017-04-10", {"programme": "p", "trainees": ["甲@NOPE"]}, ["unit:NOPE"])


def test_report_sections(seeded):
    """The report gets the education summary and the 三下乡 section, with counts."""
    store, plan = seeded
    record(store, plan, "education.sanxiaxiang", "S-1", "2018-07-10", {"team": "支教团", "vacation": "暑假", "supervisor": "s",
           "members": ["a"], "activities": ["支教", "义诊", "义诊"]}, ["unit:TMC-XX"], unit="QJNU-STU",
           quantities={"people": 120})
    sections = {s.key: s for s in store.hooks.report_sections(store, plan, 2018)}
    assert {"education.summary", "education.sanxiaxiang"} <= set(sections)
    summary = sections["education.summary"]
    assert [row[0] for row in summary.rows] == ["C23", "C24", "C25", "C26", "C27"]
    assert "服务群众 120 人次" in summary.paragraphs_zh[0]
    assert any("C26" in s for s in summary.shortfalls_zh)
    assert ("义诊", "free_clinic", 2) in sections["education.sanxiaxiang"].rows

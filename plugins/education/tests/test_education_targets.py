"""The education targets (C23 to C26) met and not met with evidence, and the record rules in the store,
on SQLite and PostgreSQL (the report sections: test_education_report.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from fupin import Area, Household, Person, SupportAction, ValidationError, check_plan
from fupin.ext import make_id_number

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
           ["unit:TMC-XX"], quantities={"hours": 16})
    r = results(store, plan, 2017)["C23"]
    assert r.status.value == "not_met"
    assert r.figures["trainees_by_school"] == {"者海镇一中": 3, "拖木村小学": 2}
    assert r.evidence == ("action:V-1",) and "charged" in r.note_en
    record(store, plan, "education.teacher_visit", "V-3", "2017-11-20", {"programme": "秋季班", "trainees": ["丁@TMC-XX", "庚@TMC-XX"]},
           ["unit:TMC-XX"], quantities={"hours": 8})
    r = results(store, plan, 2017)["C23"]
    assert r.status.value == "met" and set(r.evidence) == {"action:V-1", "action:V-3"}
    assert results(store, plan, 2018)["C23"].status.value == "not_met"


def test_sessions_per_subject(seeded):
    """C24: one session per subject in 者海镇; a session elsewhere is not counted."""
    store, plan = seeded
    for ref, subject, place in (("T-1", "语文", "者海镇一中"), ("T-2", "数学", "拖木村小学"), ("T-3", "英语", "曲靖")):
        record(store, plan, "education.teacher_training", ref, "2018-05-10",
               {"subject": subject, "topic": "教法", "trainers": ["教授"], "place": place}, ["unit:ZHZ-YZ"], unit="QJNU-LIT",
               quantities={"hours": 3, "people": 20})
    r = results(store, plan, 2018)["C24"]
    assert r.status.value == "not_met"
    assert r.figures["sessions_by_subject"] == {"语文": 1, "数学": 1, "英语": 0}
    assert set(r.evidence) == {"action:T-1", "action:T-2"} and "elsewhere" in r.note_en
    record(store, plan, "education.teacher_training", "T-4", "2018-06-10",
           {"subject": "english", "topic": "口语", "trainers": ["教授"], "place": "者海镇中心学校"}, ["unit:ZHZ-YZ"],
           quantities={"hours": 3, "people": 20})
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
           {"student": "学生9", "subject": "数学", "mentor": "m", "supervisor": "s"}, ["unit:ZHZ-YZ"], end="2017-12-20")
    assert results(store, plan, 2017)["C25"].status.value == "met"


def test_sanxiaxiang_teams(seeded):
    """C26: 3 to 5 teams covering winter and summer; nothing is due in 2015 (the plan starts in September)."""
    store, plan = seeded
    def team(ref, name, vacation, start):
        record(store, plan, "education.sanxiaxiang", ref, start, {"team": name, "vacation": vacation, "supervisor": "s",
               "members": list("abcde"), "activities": ["支教"]}, ["unit:TMC-XX"], unit="QJNU-STU",
               end=start[:8] + "28", quantities={"people": 100})
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


def test_one_to_one_support(seeded):
    """C27: in-school students of households poor on the check day with a pair in the year; others and crowding noted."""
    store, plan = seeded
    village, since = "530326106200", dt.date(2014, 10, 1)
    with store.transaction():
        store.add_areas([
            Area("530000", "云南省", "province"), Area("530300", "曲靖市", "city", "530000"),
            Area("530326", "会泽县", "county", "530300"), Area("530326106", "者海镇", "town", "530326"),
            Area(village, "拖木村", "village", "530326106"), Area(f"{village}01", "大沟边", "group", village),
        ])
    people = {}
    # Household 1 poor: pupils A (paired, and by a second staff member too), B (paired only in 2016), C (not paired), their
    # father (paired: not a student); household 2 out of poverty in 2017 before the check day: its pupil D paired, not counted.
    for n, members in ((1, ("户主", "A", "B", "C")), (2, ("户主", "D"))):
        number = f"{village}01{n:04d}"
        store.add_household(Household.new(vocab=store.vocab, number=number, group_code=f"{village}01", head_name=f"户主{n}",
                                          attribute="一般贫困户", main_cause="缺技术"), since=since)
        for m, who in enumerate(members, start=1):
            people[(n, who)] = make_id_number("530326", dt.date(1975 if who == "户主" else 2006, 1, m), n * 10 + m, "男")
            store.add_person(Person.new(vocab=store.vocab, id_number=people[(n, who)], household=number, name=f"成员{n}{who}",
                                        relation="户主" if who == "户主" else "之子", student_status="非在校生" if who == "户主" else "小学"))
    store.update_household(f"{village}010002", {"status": "已脱贫(不再享受政策)"}, effective=dt.date(2017, 6, 1), reason="脱贫")
    pairs = (("P-1", (1, "A"), "2017-03-01"), ("P-2", (1, "A"), "2017-09-01"), ("P-3", (1, "B"), "2016-03-01"),
             ("P-4", (1, "户主"), "2017-03-01"), ("P-5", (2, "D"), "2017-03-01"))
    for ref, who, start in pairs:
        record(store, plan, "education.study_pair", ref, start, {"staff": "王老师"}, [f"person:{people[who]}"],
               end=start[:4] + "-12-31")
    r = results(store, plan, 2017)["C27"]
    assert (r.figures["students"], r.figures["paired"], r.figures["not_counted"], r.figures["over_paired"]) == (3, 1, 2, 1)
    assert r.figures["required_students"] == 3 and r.status.value == "not_met"
    assert set(r.evidence) == {"action:P-1", "action:P-2"}
    assert "2 个结对的学生不是贫困户在校生" in r.note and "1 名学生有多于 1 名结对教职工" in r.note
    r = results(store, plan, 2016)["C27"]  # household 2 still poor: D counts, unpaired; B is paired
    assert (r.figures["students"], r.figures["paired"], r.figures["not_counted"], r.figures["over_paired"]) == (4, 1, 0, 0)
    assert r.evidence == ("action:P-3",)

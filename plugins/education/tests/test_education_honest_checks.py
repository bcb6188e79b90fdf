"""C23 to C27 cannot be met by misleading records: records of another unit or plan, of the year before, token
visits, sessions, internships, teams and pairs; and a second plan in the same database never sees the first
plan's records. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest

from fupin import Area, Household, Person, Plan, PlanError, SupportAction, Unit, check_plan
from fupin.checks import validate_plan
from fupin.ext import make_id_number

AS_OF = dt.date(2020, 6, 1)
VILLAGE = "530326106200"


def record(store, plan_name, kind, ref, start, details, beneficiaries, *, end=None, unit="QJNU-EDU", **fields):
    return store.record_action(SupportAction.new(store.hooks.action_kind(kind), start=start, end=end, unit=unit, plan=plan_name,
                                                 details=details, beneficiaries=beneficiaries, ref=ref, **fields))


def statuses(store, plan, year=2017):
    return {r.commitment: r for r in check_plan(store, plan, year, as_of=AS_OF) if r.plugin == "education"}


def other_university(store):
    with store.transaction():
        store.add_unit(Unit.new(vocab=store.vocab, code="YNU", name="另一所大学", kind="高校"))


# Each writer records, under ``ref``, one honest record of its kind for 2017, or a variant that must not count.


def visit(store, plan_name, ref, *, start="2017-04-10", hours=16, unit="QJNU-EDU"):
    teachers = [f"{ref}{n}@ZHZ-YZ" for n in "甲乙丙"] + [f"{ref}{n}@TMC-XX" for n in "丁戊己"]
    record(store, plan_name, "education.teacher_visit", ref, start, {"programme": "研修班", "trainees": teachers},
           ["unit:ZHZ-YZ", "unit:TMC-XX"], unit=unit, quantities={"hours": hours})


def sessions(store, plan_name, ref, *, start="2018-05-10", place="者海镇一中", hours=3, people=20, unit="QJNU-LIT"):
    for subject in ("语文", "数学", "英语"):
        record(store, plan_name, "education.teacher_training", f"{ref}-{subject}", start,
               {"subject": subject, "topic": "教法", "trainers": ["教授"], "place": place}, ["unit:ZHZ-YZ"], unit=unit,
               quantities={"hours": hours, "people": people})


def interns(store, plan_name, ref, *, start="2017-03-01", end="2017-06-30", unit="QJNU-EDU"):
    for host in ("HZ-YZ", "ZHZ-YZ"):
        for n in (1, 2):
            record(store, plan_name, "education.internship", f"{ref}-{host}-{n}", start,
                   {"student": f"学生{n}", "subject": "语文", "mentor": "m", "supervisor": "s"}, [f"unit:{host}"], end=end, unit=unit)


def teams(store, plan_name, ref, *, members=6, days=10, unit="QJNU-STU", year=2018):
    for n, (vacation, month) in enumerate((("寒假", 1), ("暑假", 7), ("暑假", 7))):
        start = dt.date(year, month, 10)
        record(store, plan_name, "education.sanxiaxiang", f"{ref}-{n}", start.isoformat(),
               {"team": f"服务团{n}", "vacation": vacation, "supervisor": "s", "members": [f"队员{i}" for i in range(members)],
                "activities": ["支教"]}, ["unit:TMC-XX"], unit=unit, end=(start + dt.timedelta(days=days - 1)).isoformat())


def test_honest_records_are_met(seeded):
    store, plan = seeded
    visit(store, plan.name, "V")
    interns(store, plan.name, "I")
    sessions(store, plan.name, "T")
    teams(store, plan.name, "S")
    got = statuses(store, plan)
    assert got["C23"].status.value == "met" and got["C25"].status.value == "met"
    got = statuses(store, plan, 2018)
    assert got["C24"].status.value == "met" and got["C26"].status.value == "met"


@pytest.mark.parametrize("variant", ["other unit", "other plan", "no plan", "year before", "no hours"])
def test_c23_misleading_visits(seeded, variant):
    """Teachers 'trained' by another university, for another plan, the year before, or in a visit of no hours."""
    store, plan = seeded
    other_university(store)
    kwargs = {"other unit": {"unit": "YNU"}, "year before": {"start": "2016-12-31"}, "no hours": {"hours": 0}}.get(variant, {})
    name = {"other plan": "ynu-other", "no plan": None}.get(variant, plan.name)
    if variant == "other plan":
        second_plan(store)
    visit(store, name, "X", **kwargs)
    r = statuses(store, plan)["C23"]
    assert r.status.value in ("not_met", "no_data") and r.evidence == ()


@pytest.mark.parametrize("variant", ["elsewhere", "short", "one teacher", "other unit"])
def test_c24_misleading_sessions(seeded, variant):
    """Sessions 'in 者海镇' held at 昆明市者海镇路, of half an hour, for one teacher, or by another university."""
    store, plan = seeded
    other_university(store)
    kwargs = {"elsewhere": {"place": "昆明市者海镇路"}, "short": {"hours": 0.5}, "one teacher": {"people": 1},
              "other unit": {"unit": "YNU"}}[variant]
    sessions(store, plan.name, "X", **kwargs)
    r = statuses(store, plan, 2018)["C24"]
    assert r.status.value in ("not_met", "no_data") and r.evidence == ()


@pytest.mark.parametrize("variant", ["one day", "other unit", "year before"])
def test_c25_misleading_internships(seeded, variant):
    store, plan = seeded
    other_university(store)
    kwargs = {"one day": {"end": "2017-03-01"}, "other unit": {"unit": "YNU"},
              "year before": {"start": "2016-12-01", "end": "2017-03-31"}}[variant]
    interns(store, plan.name, "X", **kwargs)
    r = statuses(store, plan)["C25"]
    assert r.status.value in ("not_met", "no_data") and r.evidence == ()


@pytest.mark.parametrize("variant", ["one member", "one day", "other unit"])
def test_c26_token_teams(seeded, variant):
    store, plan = seeded
    other_university(store)
    kwargs = {"one member": {"members": 1}, "one day": {"days": 1}, "other unit": {"unit": "YNU"}}[variant]
    teams(store, plan.name, "X", **kwargs)
    r = statuses(store, plan, 2018)["C26"]
    assert r.status.value in ("not_met", "no_data") and r.evidence == () and r.figures["teams"] == 0


def students(store):
    """Two in-school children of a poor household of the plan's village; their ID numbers."""
    with store.transaction():
        store.add_areas([
            Area("530000", "云南省", "province"), Area("530300", "曲靖市", "city", "530000"),
            Area("530326", "会泽县", "county", "530300"), Area("530326106", "者海镇", "town", "530326"),
            Area(VILLAGE, "拖木村", "village", "530326106"), Area(f"{VILLAGE}01", "大沟边", "group", VILLAGE),
        ])
    number = f"{VILLAGE}010001"
    store.add_household(Household.new(vocab=store.vocab, number=number, group_code=f"{VILLAGE}01", head_name="户主",
                                      attribute="一般贫困户", main_cause="缺技术"), since=dt.date(2014, 10, 1))
    ids = [make_id_number("530326", dt.date(2006, 1, n), n, "男") for n in (1, 2)]
    for n, id_number in enumerate(ids):
        store.add_person(Person.new(vocab=store.vocab, id_number=id_number, household=number, name=f"学生{n}",
                                    relation="户主" if n == 0 else "其他", student_status="小学"))
    return ids


@pytest.mark.parametrize("variant", ["new year's eve", "other unit", "other plan"])
def test_c27_token_pairs(seeded, variant):
    """A pair made on 31 December, or made by another university or for another plan, pairs nobody for the year."""
    store, plan = seeded
    other_university(store)
    if variant == "other plan":
        second_plan(store)
    start, unit, name = {"new year's eve": ("2017-12-31", "QJNU-EDU", plan.name), "other unit": ("2017-03-01", "YNU", plan.name),
                         "other plan": ("2017-03-01", "QJNU-EDU", "ynu-other")}[variant]
    kids = students(store)
    for n, kid in enumerate(kids):
        record(store, name, "education.study_pair", f"X-{n}", start, {"staff": "王老师"}, [f"person:{kid}"], end="2017-12-31", unit=unit)
    r = statuses(store, plan)["C27"]
    assert r.status.value == ("no_data" if variant != "new year's eve" else "not_met") and r.figures["paired"] == 0
    for n, kid in enumerate(kids):
        record(store, plan.name, "education.study_pair", f"OK-{n}", "2017-03-01", {"staff": "李老师"}, [f"person:{kid}"], end="2017-12-31")
    r = statuses(store, plan)["C27"]
    assert r.status.value == "met" and set(r.evidence) == {"action:OK-0", "action:OK-1"}


def second_plan(store):
    """The reference plan's text with another name, helping unit and village: a second plan in the same database."""
    text = resources.files("fupin").joinpath("data/plans/qjnu-tuomu.toml").read_text(encoding="utf-8")
    text = text.replace('name = "qjnu-tuomu"', 'name = "ynu-other"').replace('code = "QJNU"', 'code = "YNU"')
    text = text.replace('code = "530326106200"', 'code = "530326106201"')
    other = Plan.from_toml(text, source="ynu-other.toml")
    store.save_plan(other)  # its helping unit YNU: other_university()
    return other


def test_a_second_plan_sees_only_its_own_records(seeded):
    """The second plan names the same schools: our honest records do not meet its commitments, nor its ours."""
    store, plan = seeded
    other_university(store)
    other = second_plan(store)
    visit(store, plan.name, "V")
    interns(store, plan.name, "I")
    assert {c: r.status.value for c, r in statuses(store, plan).items() if c in ("C23", "C25")} == {"C23": "met", "C25": "met"}
    theirs = statuses(store, other)
    assert {r.status.value for r in theirs.values()} == {"no_data"} and all(r.evidence == () for r in theirs.values())
    visit(store, other.name, "W", unit="YNU")
    assert statuses(store, other)["C23"].evidence == ("action:W",)
    assert statuses(store, plan)["C23"].evidence == ("action:V",)


@pytest.mark.parametrize("change, wrong, key", [
    ("min_days = 28", 'min_days = "四周"', "min_days"),
    ("min_trainees = 3", "min_trainee = 3", "min_trainee"),
    ("min_share = 0.9", 'min_share = "九成"', "min_share"),
])
def test_mistyped_parameters_are_refused(seeded, change, wrong, key):
    store, _ = seeded
    text = resources.files("fupin").joinpath("data/plans/qjnu-tuomu.toml").read_text(encoding="utf-8")
    assert change in text
    with pytest.raises(PlanError) as info:
        validate_plan(Plan.from_toml(text.replace(change, wrong), source="bad.toml"), store.hooks.targets())
    assert "bad.toml" in str(info.value) and f".params.{key}" in str(info.value)

"""C32 and C33 cannot be met by misleading records: a 1-minute phone "session" listing a crowd, sessions of
another unit or plan or year, a person without the tag that day, social-work cases nobody worked on in the
year; and a second plan in the same database never sees the first plan's records. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest

from fupin import Area, Household, Person, Plan, Tag, Unit, check_plan

from fupin_psychology.model import Case, Session
from fupin_psychology.records import add_case, record_session
from psy_world import CHILD1, CHILD2, ELDERLY, GRANDMA, GROUP, PLAN, household_no, pid

AS_OF = dt.date(2020, 6, 1)
EVERYONE = (CHILD1, CHILD2, *ELDERLY)


def results(store, plan, year=2017):
    return {r.commitment: r for r in check_plan(store, plan, year, as_of=AS_OF) if r.plugin == "psychology"}


def session(store, ref, day, persons, *, mode="个别疏导", minutes=40, unit="QJNU-PSY", plan_name=PLAN):
    children = set(persons) & {CHILD1, CHILD2}
    record_session(store, Session(
        ref=ref, date=dt.date.fromisoformat(day), counsellor="李心怡", mode=mode, persons=tuple(persons), unit_code=unit,
        duration_min=minutes, consent_by="王奶奶" if children else None,
        consent_date=dt.date.fromisoformat(day) if children else None, plan_name=plan_name,
    ))


def honest_sessions(store, year=2017):
    """Each child and elderly person counselled once, at home or one by one, 40 minutes."""
    for i, person in enumerate(EVERYONE):
        session(store, f"OK-{year}-{i}", f"{year}-05-{i + 1:02d}", [person], mode="入户走访" if person in ELDERLY else "个别疏导")


def other_unit(store, code="YNU-PSY"):
    with store.transaction("registry.write"):
        store.add_unit(Unit.new(code=code, name="另一所大学心理中心", kind="university", vocab=store.vocab))


def test_honest_sessions_meet_c32(village):
    store, plan = village
    honest_sessions(store)
    r = results(store, plan)["C32"]
    assert r.status.value == "met"
    assert len(r.evidence) == len(EVERYONE)


def test_one_minute_phone_call_listing_everyone_is_not_counselling(village):
    """The issue's record: one 1-minute phone "session" listing everyone; then each trick alone."""
    store, plan = village
    session(store, "FAKE-1", "2017-04-01", EVERYONE, mode="电话", minutes=1)
    r = results(store, plan)["C32"]
    assert r.status.value == "not_met" and r.evidence == ()
    assert r.figures["not_counted"] == {"mode": 1}
    # A phone call of an hour with one person each: still not counselling the plan counts.
    for i, person in enumerate(EVERYONE):
        session(store, f"PHONE-{i}", "2017-06-01", [person], mode="电话", minutes=60)
    # One minute at home; a group session of everyone lasting 1 minute.
    for i, person in enumerate(EVERYONE):
        session(store, f"SHORT-{i}", "2017-07-01", [person], mode="入户走访", minutes=1)
    session(store, "GROUP-SHORT", "2017-08-01", EVERYONE, mode="团体辅导", minutes=5)
    r = results(store, plan)["C32"]
    assert r.status.value == "not_met" and r.evidence == ()
    assert r.figures["not_counted"] == {"mode": 1 + len(EVERYONE), "short": 1 + len(EVERYONE)}


def test_a_crowd_is_not_a_group_session(village):
    """A 90-minute "group session" listing 49 persons counts for none of them (max_group_size 12)."""
    store, plan = village
    crowd = list(EVERYONE) + [GRANDMA]
    with store.transaction("registry.write"):
        store.add_household(Household.new(vocab=store.vocab, number=household_no(9), group_code=GROUP, head_name="大户",
                                          attribute="一般贫困户", main_cause="缺劳力"), since=dt.date(2014, 10, 1))
        for n in range(49 - len(crowd)):
            crowd.append(pid(100 + n, dt.date(1960, 1, 1) + dt.timedelta(days=n)))
            store.add_person(Person.new(vocab=store.vocab, id_number=crowd[-1], household=household_no(9), name=f"村民{n}",
                                        relation="户主" if n == 0 else "其他"))
    session(store, "CROWD", "2017-04-01", crowd, mode="团体辅导", minutes=90)
    r = results(store, plan)["C32"]
    assert r.status.value == "not_met" and r.evidence == () and r.figures["not_counted"] == {"crowded": 1}
    # A real group of the six elderly, an hour: they count.
    session(store, "GROUP-OK", "2017-05-01", ELDERLY, mode="团体辅导", minutes=60)
    r = results(store, plan)["C32"]
    assert r.figures["groups"]["空巢老人"]["counselled"] == 6 and r.evidence == ("psychology_session:GROUP-OK",)


def test_sessions_of_another_unit_plan_or_year_do_not_count(village):
    store, plan = village
    other_unit(store)
    for i, person in enumerate(EVERYONE):
        session(store, f"U-{i}", "2017-05-02", [person], unit="YNU-PSY")  # another university, naming this plan
        session(store, f"P-{i}", "2017-05-03", [person], plan_name="ynu-other")  # this unit, for another plan
        session(store, f"N-{i}", "2017-05-04", [person], plan_name=None)  # naming no plan
        session(store, f"Y-{i}", "2016-12-31", [person])  # the year before
    r = results(store, plan)["C32"]
    assert r.status.value == "not_met" and r.evidence == ()
    honest_sessions(store)
    assert results(store, plan)["C32"].status.value == "met"


def test_session_before_the_person_holds_the_tag_does_not_count(village):
    """A person who becomes empty-nest elderly in July is counted for a session from July on, not for one in March."""
    store, plan = village
    late = pid(90, dt.date(1950, 6, 1), "男")
    with store.transaction("registry.write"):
        store.add_person(Person.new(vocab=store.vocab, id_number=late, household=household_no(2), name="老人新", relation="其他"))
        store.add_tag(Tag(late, "空巢老人", dt.date(2017, 7, 1)))
    honest_sessions(store)
    session(store, "EARLY", "2017-03-01", [late], mode="入户走访")
    r = results(store, plan)["C32"]
    assert r.figures["groups"]["空巢老人"]["counselled"] == 6 and "psychology_session:EARLY" not in r.evidence
    session(store, "LATER", "2017-08-01", [late], mode="入户走访")
    assert results(store, plan)["C32"].figures["groups"]["空巢老人"]["counselled"] == 7


def case(store, ref, household, opened, steps, *, unit="QJNU-PSY", plan_name=PLAN, closed=None):
    add_case(store, Case(ref=ref, household=household_no(household), worker="社工 陈晓", opened=dt.date.fromisoformat(opened),
                         status="已结案" if closed else "进行中", goals=("改善家庭关系",), unit_code=unit, steps=steps,
                         closed=dt.date.fromisoformat(closed) if closed else None, plan_name=plan_name))


def test_idle_or_foreign_cases_do_not_meet_c33(village):
    """C33 wants 3 cases with a dated step in the year: idle cases, undated steps, other units' or plans' cases do not count."""
    store, plan = village
    other_unit(store)
    case(store, "IDLE", 1, "2016-03-01", ("2016-03-05 入户评估",))  # open in 2017, nothing done in 2017
    case(store, "UNDATED", 2, "2017-03-01", ("入户评估",))
    case(store, "FOREIGN", 3, "2017-03-01", ("2017-03-05 入户评估",), unit="YNU-PSY")
    case(store, "OTHER-PLAN", 4, "2017-03-01", ("2017-03-05 入户评估",), plan_name="ynu-other")
    r = results(store, plan)["C33"]
    assert r.status.value == "not_met" and r.evidence == () and r.figures["without_steps"] == 2
    for n in (1, 2, 3):
        case(store, f"OK-{n}", n, "2017-02-01", (f"2017-02-0{n} 入户评估", "2017-06-01 家庭会议"))
    r = results(store, plan)["C33"]
    assert r.status.value == "met" and len(r.evidence) == 3


def second_plan(store):
    """The reference plan's text with another name, helping unit and village: a second plan in the same database."""
    text = resources.files("fupin").joinpath("data/plans/qjnu-tuomu.toml").read_text(encoding="utf-8")
    text = text.replace('name = "qjnu-tuomu"', 'name = "ynu-other"').replace('code = "QJNU"', 'code = "YNU"')
    text = text.replace('code = "530326106200"', 'code = "530326106201"')
    other = Plan.from_toml(text, source="ynu-other.toml")
    with store.transaction("registry.write"):
        store.add_areas([Area("530326106201", "犀牛村", "village", "530326106"), Area("53032610620101", "一组", "group", "530326106201")])
        store.add_unit(Unit.new(code="YNU", name="另一所大学", kind="university", vocab=store.vocab))
        store.add_unit(Unit.new(code="YNU-PSY", name="另一所大学心理中心", kind="department", parent_code="YNU", vocab=store.vocab))
    store.save_plan(other)
    return other


def test_a_second_plan_sees_only_its_own_records(village):
    store, plan = village
    other = second_plan(store)
    honest_sessions(store)
    for n in (1, 2, 3):
        case(store, f"OK-{n}", n, "2017-02-01", ("2017-02-01 入户评估",))
    assert {c: r.status.value for c, r in results(store, plan).items()} == {"C32": "met", "C33": "met"}
    theirs = results(store, other)
    assert {c: r.status.value for c, r in theirs.items()} == {"C32": "no_data", "C33": "no_data"}
    assert theirs["C32"].evidence == () and theirs["C33"].evidence == ()
    # Their own counsellor seeing our village's children for their plan: not their village's people, not ours either.
    session(store, "THEIRS", "2017-06-01", [ELDERLY[0]], unit="YNU-PSY", plan_name="ynu-other")
    assert results(store, other)["C32"].evidence == ()
    assert "psychology_session:THEIRS" not in results(store, plan)["C32"].evidence


@pytest.mark.parametrize("change, wrong, key", [
    ("min_minutes = 20", 'min_minutes = "二十"', "min_minutes"),
    ("max_group_size = 12", "max_group_sise = 12", "max_group_sise"),
    ("params = { min_cases = 3 }", "params = { min_case = 3 }", "min_case"),
])
def test_mistyped_parameters_are_refused_by_plan_show(cli, tmp_path, change, wrong, key):
    """``fupin plan show FILE`` refuses a typo or a word for a number, naming the file, the commitment and the key."""
    text = resources.files("fupin").joinpath("data/plans/qjnu-tuomu.toml").read_text(encoding="utf-8")
    assert change in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(change, wrong), encoding="utf-8")
    result = cli("plan", "show", str(bad))
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "bad.toml" in result.output and f".params.{key}" in result.output

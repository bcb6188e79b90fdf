"""C17, C20, C21 and C22 cannot be met by misleading records: another unit's or plan's courses, sessions in
another village or year, token sessions, lessons and projects, skills from before the plan; and a second plan in
the same database never sees the first plan's records. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from fupin import Area, Plan, Status, Unit, check_plan

PLAN = "qjnu-tuomu"
VILLAGE = "530326106200"

AS_OF = "2020-02-01"


def results(store, year, plan_name=PLAN):
    out = check_plan(store, store.plan(plan_name), year, as_of=dt.date.fromisoformat(AS_OF))
    return {r.commitment: r for r in out if r.plugin == "training"}


def everyone(world):
    return [world.person(1, 1), world.person(1, 2), world.person(2, 1), world.person(3, 1)]


def other_university(store):
    """Another university, and the neighbouring village its plan helps."""
    with store.transaction():
        store.add_unit(Unit.new(code="YNU", name="另一所大学", kind="university", vocab=store.vocab))
        store.add_areas([Area("530326106201", "犀牛村", "village", "530326106")])


def second_plan(store):
    """The reference plan's text with another name, helping unit and village: a second plan in the same database."""
    text = store.plan(PLAN).text
    text = text.replace(f'name = "{PLAN}"', 'name = "ynu-other"').replace('code = "QJNU"', 'code = "YNU"')
    other = Plan.from_toml(text.replace(f'code = "{VILLAGE}"', 'code = "530326106201"'), source="ynu-other.toml")
    store.save_plan(other)
    return other


def honest_courses(world, year=2016):
    """A 4-hour session in each area for the four villagers (C20 needs 5 named: the plan's minimum is lowered to 1 by small_sessions)."""
    for ref, technique in (("A", "蓝莓"), ("B", "烤烟"), ("C", "生猪养殖")):
        world.session(f"{year}-05-0{ord(ref) - 64}", technique, everyone(world), ref=f"{ref}-{year}")


def test_c20_honest_sessions_are_met(world):
    world.small_sessions()
    honest_courses(world)
    assert results(world.store, 2016)["C20"].status is Status.MET


@pytest.mark.parametrize("variant", ["other unit", "other plan", "other village", "year before", "short", "few attendees"])
def test_c20_misleading_sessions(world, variant):
    """Sessions of another university or plan, in another village, the year before, of an hour, or for 4 of the 5 people needed."""
    store = world.store
    other_university(store)
    if variant == "other plan":
        second_plan(store)
    if variant != "few attendees":
        world.small_sessions()
    for ref, technique in (("A", "蓝莓"), ("B", "烤烟"), ("C", "生猪养殖")):
        fields = {
            "other unit": {"unit": "YNU"}, "other plan": {"plan": "ynu-other"},
            "year before": {"day": "2015-12-31"}, "short": {"hours": 1},
        }.get(variant, {})
        day = fields.pop("day", "2016-05-01")
        hours = fields.pop("hours", 4)
        where = [f"village:{VILLAGE}"] if variant not in ("other village",) else ["village:530326106201"]
        people = everyone(world) if variant != "other village" else []
        world.record("training.agri_session", day, ref=f"X-{ref}", helpers=[], unit=fields.get("unit", "QJNU-BIO"),
                     plan=fields.get("plan", PLAN),
                     beneficiaries=where + [f"person:{p}" for p in people], quantities={"hours": hours},
                     details={"technique": technique, "place": "别处", "trainers": ["王教授"]})
    r = results(store, 2016)["C20"]
    assert r.status in (Status.NOT_MET, Status.NO_DATA) and r.evidence == ()


def test_c21_skills_only_from_the_plans_own_work(world):
    """Assessments of another unit, for another plan, or before the plan began do not make a household master a technique."""
    store = world.store
    other_university(store)
    second_plan(store)
    world.record("training.skill_assessment", "2016-04-01", ref="K-U", unit="YNU", beneficiaries=[f"person:{world.person(1, 1)}"],
                 details={"technique": "蓝莓", "assessor": "某人", "result": "合格"})
    world.record("training.skill_assessment", "2016-04-01", ref="K-P", plan="ynu-other", beneficiaries=[f"person:{world.person(2, 1)}"],
                 details={"technique": "蓝莓", "assessor": "某人", "result": "合格"})
    world.record("training.skill_assessment", "2015-03-01", ref="K-B", beneficiaries=[f"person:{world.person(3, 1)}"],
                 details={"technique": "蓝莓", "assessor": "某人", "result": "合格"})
    r = results(store, 2019)["C21"]
    assert r.figures["with_min"] == 0 and r.evidence == () and r.status is not Status.MET
    for n, (h, m) in enumerate(((1, 1), (2, 1), (3, 1))):
        world.assessment("2016-04-01", "蓝莓", world.person(h, m), ref=f"K-{n}")
    r = results(store, 2019)["C21"]
    assert r.status is Status.MET and r.figures["with_min"] == 3


@pytest.mark.parametrize("variant", ["no attendees", "other village", "spanning years", "other unit"])
def test_c17_token_party_training(world, variant):
    """Lessons with nobody there, for another village, one "lesson" dated 2015-2019, or by another university."""
    store = world.store
    other_university(store)
    world.party("2016-01-10", "培训规划", end="2019-12-31", ref="P-0")
    for n, fmt in enumerate(("党课", "政策宣讲", "培训", "党课")):
        fields = {"unit": "QJNU", "beneficiaries": [f"village:{VILLAGE}"], "attendees": 20, "start": f"2017-0{n + 3}-01", "end": None}
        if variant == "no attendees":
            fields["attendees"] = 0
        elif variant == "other village":
            fields["beneficiaries"] = ["village:530326106201"]
        elif variant == "spanning years":
            fields["start"], fields["end"] = f"2015-0{n + 6}-01", "2019-12-31"
        else:
            fields["unit"] = "YNU"
        world.record("training.party_training", fields["start"], end=fields["end"], ref=f"X-{n}", unit=fields["unit"],
                     beneficiaries=fields["beneficiaries"], details={"format": fmt, "topic": "专题", "attendees": fields["attendees"]})
    r = results(store, 2017)["C17"]
    assert r.status is Status.NOT_MET and r.figures["sessions"] == 0
    for n, fmt in enumerate(("党课", "政策宣讲", "培训")):
        world.party(f"2017-0{n + 3}-15", fmt, ref=f"OK-{n}")
    assert results(store, 2017)["C17"].status is Status.MET


@pytest.mark.parametrize("variant", ["one fen", "other village", "other unit", "ended before"])
def test_c22_token_research_projects(world, variant):
    store = world.store
    other_university(store)
    fields = {"unit": "QJNU", "beneficiaries": [f"village:{VILLAGE}"], "amount_fen": 5_000_000, "start": "2016-03-01", "end": "2018-12-31"}
    if variant == "one fen":
        fields["amount_fen"] = 1
    elif variant == "other village":
        fields["beneficiaries"] = ["village:530326106201"]
    elif variant == "other unit":
        fields["unit"] = "YNU"
    else:
        fields["start"], fields["end"] = "2014-01-01", "2016-12-31"
    world.record("training.research_project", fields.pop("start"), end=fields.pop("end"), ref="R-X", title="研究",
                 details={"lead": "李教授", "technique": "蓝莓"}, **fields)
    r = results(store, 2017)["C22"]
    assert r.status is not Status.MET and r.evidence == ()
    world.project("2016-03-01", "2018-12-31", ref="R-OK")
    assert results(store, 2017)["C22"].evidence == ("action:R-OK",)


def test_a_second_plan_sees_only_its_own_records(world):
    store = world.store
    other_university(store)
    second_plan(store)
    world.small_sessions()
    honest_courses(world)
    world.party("2016-01-10", "培训规划", end="2019-12-31", ref="P-0")
    world.project("2016-03-01", "2018-12-31", ref="R-1")
    ours = results(store, 2016)
    assert ours["C20"].status is Status.MET and ours["C22"].status is Status.MET
    theirs = results(store, 2016, "ynu-other")
    assert all(r.evidence == () for r in theirs.values())
    assert {theirs[c].status for c in ("C17", "C20", "C22")} == {Status.NO_DATA}

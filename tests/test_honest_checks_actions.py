"""Issue 16: the core's action-based commitments (C01, C03, C04, C06, C14, C16, C34, C36) count only what proves them.

Each defect of the issue is recorded as a careless or dishonest clerk would record it, and the
commitment must stay not met or no data; honest records meet it. Two plans share the database:
the reference plan (QJNU, 拖木村) and a second plan made from its text (another unit OTHU, another
village 犀牛村); records of one never count for the other. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fupin import Area, Cadre, Household, Plan, Unit, load_plan
from fupin.actions import SupportAction
from fupin.checks import CheckContext, check_plan
from fupin.model import DiaryEntry
from fupin.visits import add_diary_entry, close_case
from tests.campaign_seed import PLAN, VILLAGE, add_household, cadre_code, case, d, h, pair, seed_base

C1, C2 = cadre_code(1), cadre_code(2)  # QJNU: 厅级 (a school leader), 处级
DEPT, DEPT_CADRE = "QJNU-XSC", "QJNU-C003"  # the student-affairs office, below QJNU, and its 厅级 head
OTHER, OTHER_UNIT, OTHER_VILLAGE = "other-plan", "OTHU", "530326106201"
O1 = "OTHU-C001"  # 厅级 of the other unit
OTHER_HOUSEHOLD = f"{OTHER_VILLAGE}010001"
MINE = ("C01", "C03", "C04", "C06", "C14", "C16", "C34", "C36")


def other_plan_text(**changes: str) -> str:
    """The reference plan's text as another unit's plan for another village (``changes``: more old -> new)."""
    text = load_plan(PLAN).text
    for old, new in {'name = "qjnu-tuomu"': f'name = "{OTHER}"', 'code = "QJNU"': f'code = "{OTHER_UNIT}"',
                     'name_zh = "曲靖师范学院"': 'name_zh = "某某学院"', f'code = "{VILLAGE}"': f'code = "{OTHER_VILLAGE}"',
                     'name_zh = "拖木村"': 'name_zh = "犀牛村"', **changes}.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


@pytest.fixture
def world(store):
    """The reference plan (C001 厅级, C002 处级, a department with a 厅级 head; h(1,1) paired with C001)
    and a second plan of OTHU for 犀牛村 (O1 厅级; one household), in one database."""
    seed_base(store, ((C1, "厅级"), (C2, "处级")))
    with store.transaction():
        store.add_areas([Area(OTHER_VILLAGE, "犀牛村", "village", "530326106"), Area(f"{OTHER_VILLAGE}01", "犀牛", "group", OTHER_VILLAGE),
                         Area("530100", "昆明市", "city", "530000")])
        store.add_unit(Unit.new(code=DEPT, name="学生处", kind="department", parent_code="QJNU", vocab=store.vocab))
        store.add_unit(Unit.new(code=OTHER_UNIT, name="某某学院", kind="university", vocab=store.vocab))
        store.add_unit(Unit.new(code="YNFP", name="云南省扶贫办", kind="government", area_code="530100", vocab=store.vocab))
        store.add_cadre(Cadre.new(code=DEPT_CADRE, name="学生处处长", unit=DEPT, rank="厅级", vocab=store.vocab))
        store.add_cadre(Cadre.new(code=O1, name="某某书记", unit=OTHER_UNIT, rank="厅级", vocab=store.vocab))
    store.save_plan(Plan.from_toml(other_plan_text()))
    add_household(store, 1, 1)
    store.add_household(Household.new(vocab=store.vocab, number=OTHER_HOUSEHOLD, group_code=f"{OTHER_VILLAGE}01", head_name="户主",
                                      attribute="一般贫困户", main_cause="缺技术"), since=d("2014-10-01"))
    pair(store, C1, h(1, 1))
    return store


def act(store, kind, day, ref, details, *, unit="QJNU", plan=PLAN, helpers=(C1,), where=(f"village:{VILLAGE}",), end=None):
    """Record a support action (by default QJNU's for the reference plan at 拖木村, C001 helping)."""
    return store.record_action(SupportAction.new(
        store.hooks.action_kind(kind), start=day, end=end, unit=unit, plan=plan, details=dict(details), ref=ref,
        helpers=list(helpers), beneficiaries=list(where),
    ))


def checked(store, year, as_of, plan=PLAN):
    """The check of ``plan`` for ``year`` as on ``as_of``: results by commitment id."""
    return {r.commitment: r for r in check_plan(store, store.plan(plan), year, as_of=d(as_of))}


def status(store, cid, year, as_of, plan=PLAN):
    return checked(store, year, as_of, plan)[cid].status.value


# -- C01: the leading group -------------------------------------------------------------------------


class TestRoles:
    def test_roles_held_by_a_leader_on_the_year_end_are_met(self, world):
        """Both roles appointed to a 厅级 cadre of QJNU for the plan period: C01 met, the appointments as evidence."""
        act(world, "core.appointment", "2015-10-23", "R-1", {"role": "group_head"}, end="2019-12-31")
        act(world, "core.appointment", "2015-10-23", "R-2", {"role": "vice_president_in_charge"}, end="2019-12-31")
        r = checked(world, 2016, "2017-01-15")["C01"]
        assert (r.status.value, r.evidence) == ("met", ("action:R-1", "action:R-2"))

    def test_a_one_day_appointment_naming_no_one_does_not_count(self, world):
        """A one-day appointment naming no cadre, one naming a 处级 cadre, one naming another unit's cadre,
        and the other plan's appointments leave C01 not met."""
        act(world, "core.appointment", "2016-06-01", "R-1", {"role": "group_head"}, helpers=())
        act(world, "core.appointment", "2016-06-01", "R-2", {"role": "group_head"}, helpers=(C1,))  # one day only
        act(world, "core.appointment", "2016-01-01", "R-3", {"role": "vice_president_in_charge"}, helpers=(C2,), end="2019-12-31")
        act(world, "core.appointment", "2016-01-01", "R-4", {"role": "vice_president_in_charge"}, helpers=(O1,), end="2019-12-31")
        for n, role in enumerate(("group_head", "vice_president_in_charge")):
            act(world, "core.appointment", "2016-01-01", f"RO-{n}", {"role": role}, unit=OTHER_UNIT, plan=OTHER, helpers=(O1,),
                where=(f"village:{OTHER_VILLAGE}",), end="2019-12-31")
        r = checked(world, 2016, "2017-01-15")["C01"]
        assert (r.status.value, r.evidence) == ("not_met", ())
        assert r.figures["missing"] == ["group_head", "vice_president_in_charge"]
        assert status(world, "C01", 2016, "2017-01-15", OTHER) == "met"


# -- C03: the leadership studies the work ------------------------------------------------------------


def meeting(store, ref, day, *, body="党委常委会", **fields):
    return act(store, "core.meeting", day, ref, {"topic": "研究挂包帮工作", "body": body}, **fields)


class TestMeetings:
    def test_two_leadership_meetings_are_met(self, world):
        meeting(world, "M-1", "2016-03-01")
        meeting(world, "M-2", "2016-09-01", body="校长办公会")
        r = checked(world, 2016, "2017-01-15")["C03"]
        assert (r.status.value, r.actual, r.evidence) == ("met", "2", ("action:M-1", "action:M-2"))

    def test_a_departments_weekly_meeting_does_not_count(self, world):
        """The student-affairs office's weekly meetings, a meeting of another body, one naming no plan, one
        recorded twice and the other plan's meetings leave one leadership meeting: C03 not met."""
        meeting(world, "M-1", "2016-03-01")
        meeting(world, "M-1b", "2016-03-01")  # the same meeting recorded again
        for week in range(1, 10):
            meeting(world, f"W-{week}", f"2016-05-{week + 10:02d}", unit=DEPT, helpers=(DEPT_CADRE,))
        meeting(world, "W-0", "2016-06-01", body="学生处周例会")
        meeting(world, "N-1", "2016-07-01", plan=None)
        meeting(world, "O-1", "2016-08-01", unit=OTHER_UNIT, plan=OTHER, helpers=(O1,), where=())
        meeting(world, "O-2", "2016-08-02", plan=OTHER, where=())  # QJNU naming the other plan
        r = checked(world, 2016, "2017-01-15")["C03"]
        assert (r.status.value, r.actual, r.evidence) == ("not_met", "1", ("action:M-1", "action:M-1b"))


# -- C04: leaders on site ------------------------------------------------------------------------------


class TestSiteVisits:
    def test_leaders_at_the_village_are_met(self, world):
        act(world, "core.site_visit", "2016-04-01", "S-1", {"purpose": "调研", "mode": "调研"})
        act(world, "core.site_visit", "2016-10-01", "S-2", {"purpose": "现场办公", "mode": "现场办公"}, where=(f"household:{h(1, 1)}",))
        r = checked(world, 2016, "2017-01-15")["C04"]
        assert (r.status.value, r.evidence) == ("met", ("action:S-1", "action:S-2"))

    def test_a_meeting_in_the_capital_does_not_count(self, world):
        """"Site visits" to a meeting in 昆明, without a leader, at the other plan's village, or naming no place,
        leave one real site visit: C04 not met."""
        act(world, "core.site_visit", "2016-04-01", "S-1", {"purpose": "调研"})
        act(world, "core.site_visit", "2016-05-01", "K-1", {"purpose": "参加全省扶贫工作会议"}, where=("unit:YNFP",))
        act(world, "core.site_visit", "2016-05-02", "K-2", {"purpose": "参加全省扶贫工作会议"}, where=())
        act(world, "core.site_visit", "2016-06-01", "K-3", {"purpose": "调研"}, helpers=(C2,))
        act(world, "core.site_visit", "2016-06-02", "K-4", {"purpose": "调研"}, helpers=())
        act(world, "core.site_visit", "2016-07-01", "K-5", {"purpose": "调研"}, where=(f"village:{OTHER_VILLAGE}",))
        act(world, "core.site_visit", "2016-07-02", "K-6", {"purpose": "调研"}, unit=OTHER_UNIT, plan=OTHER, helpers=(O1,))
        r = checked(world, 2016, "2017-01-15")["C04"]
        assert (r.status.value, r.actual, r.evidence) == ("not_met", "1", ("action:S-1",))

    def test_only_the_kinds_the_plan_names(self, world):
        """With kinds = ["on_site_office"], research visits no longer count: the plan's `kinds` is read."""
        world.save_plan(Plan.from_toml(load_plan(PLAN).text.replace('kinds = ["research", "on_site_office"]', 'kinds = ["on_site_office"]')))
        act(world, "core.site_visit", "2016-04-01", "S-1", {"purpose": "调研", "mode": "调研"})
        act(world, "core.site_visit", "2016-10-01", "S-2", {"purpose": "现场办公", "mode": "现场办公"})
        r = checked(world, 2016, "2017-01-15")["C04"]
        assert (r.status.value, r.evidence) == ("not_met", ("action:S-2",))


# -- C06: secondments -----------------------------------------------------------------------------------


def posting(store, ref, role, start, end, posted_to="会泽县者海镇", moved_from="", **fields):
    return act(store, "core.secondment", start, ref, {"role": role, "posted_to": posted_to, "moved_from": moved_from},
               end=end, **{"helpers": (C2,), **fields})


class TestSecondments:
    def test_moved_and_seconded_roles_are_met(self, world):
        posting(world, "P-1", "work_team_leader", "2015-11-01", "2016-06-30", moved_from="会泽县五星乡")
        posting(world, "P-2", "work_team_instructor", "2015-11-01", "2016-06-30", moved_from="五星乡")
        posting(world, "P-3", "attached_leader", "2016-01-05", "2017-12-31", posted_to="者海镇")
        posting(world, "P-4", "work_team_leader", "2016-01-05", "2017-12-31", posted_to="拖木村")
        r15, r16 = checked(world, 2015, "2016-01-15")["C06"], checked(world, 2016, "2017-01-15")["C06"]
        assert (r15.status.value, r15.evidence) == ("met", ("action:P-1", "action:P-2"))
        assert (r16.status.value, r16.evidence) == ("met", ("action:P-3", "action:P-4"))

    def test_a_one_day_posting_to_kunming_naming_no_cadre_does_not_count(self, world):
        """A one-day posting to 昆明 naming no cadre, a 30-day posting, one not from 五星乡, one of another
        unit's cadre and the other plan's postings leave C06 not met in 2015 and 2016."""
        posting(world, "K-1", "work_team_leader", "2015-12-01", "2015-12-01", posted_to="昆明", helpers=())
        posting(world, "K-2", "work_team_leader", "2015-12-01", "2015-12-30", moved_from="五星乡")
        posting(world, "K-3", "work_team_instructor", "2015-11-01", "2016-12-31", moved_from="昆明")
        posting(world, "K-4", "work_team_instructor", "2015-11-01", "2016-12-31", moved_from="五星乡", helpers=(O1,))
        posting(world, "K-5", "attached_leader", "2016-03-01", "2016-03-01", posted_to="昆明", helpers=())
        posting(world, "K-6", "work_team_leader", "2015-11-01", "2017-12-31", moved_from="五星乡", posted_to="者海镇",
                unit=OTHER_UNIT, plan=OTHER, helpers=(O1,))
        for year, as_of in ((2015, "2016-01-15"), (2016, "2017-01-15")):
            r = checked(world, year, as_of)["C06"]
            assert (r.status.value, r.evidence) == ("not_met", ()), year

    def test_a_posting_from_2010_does_not_meet_a_deadline_in_2016(self, world):
        """In the second plan (moved by 2016-03-31), a posting begun in 2010 does not count and the move is
        not met after the deadline; one begun in the plan period does, and QJNU's postings never count for it."""
        world.save_plan(Plan.from_toml(other_plan_text(**{"moved_by = 2015-12-31": "moved_by = 2016-03-31"})))
        for n, role in enumerate(("work_team_leader", "work_team_instructor")):
            posting(world, f"O-{n}", role, "2010-03-01", "2019-12-31", moved_from="五星乡", unit=OTHER_UNIT, plan=OTHER, helpers=(O1,))
            posting(world, f"Q-{n}", role, "2015-10-01", "2016-12-31", moved_from="五星乡")
        r = checked(world, 2016, "2016-05-01", OTHER)["C06"]
        assert (r.status.value, r.evidence, "2016-03-31" in r.required) == ("not_met", (), True)
        for n, role in enumerate(("work_team_leader", "work_team_instructor")):
            posting(world, f"N-{n}", role, "2015-10-01", "2016-12-31", moved_from="五星乡", unit=OTHER_UNIT, plan=OTHER, helpers=(O1,))
        # The move is done; 2016 also needs the yearly secondments, still open in May.
        r = checked(world, 2016, "2016-05-01", OTHER)["C06"]
        assert (r.status.value, r.figures["missing"]) == ("not_due", ["attached_leader", "work_team_leader"])
        for n, role in enumerate(("attached_leader", "work_team_leader")):
            posting(world, f"S-{n}", role, "2016-01-05", "2017-12-31", posted_to="者海镇", unit=OTHER_UNIT, plan=OTHER, helpers=(O1,))
        assert status(world, "C06", 2016, "2017-01-15", OTHER) == "met"


# -- C14: publicity and feedback ----------------------------------------------------------------------------


def publicity(store, ref, day, *, passed_to="者海镇政府", **fields):
    return act(store, "core.publicity", day, ref, {"topic": "精准扶贫政策", "feedback_items": ["希望修路"], "passed_to": passed_to}, **fields)


class TestPublicity:
    def test_publicity_at_the_village_with_opinions_passed_on_is_met(self, world):
        publicity(world, "P-1", "2016-05-01")
        r = checked(world, 2016, "2017-01-15")["C14"]
        assert (r.status.value, r.evidence, r.figures["feedback"]) == ("met", ("action:P-1",), 1)

    def test_publicity_elsewhere_or_opinions_never_passed_on_do_not_count(self, world):
        """Publicity at the other village or by the other plan, and opinions collected but passed to no one,
        leave C14 not met: both records the plan lists are needed."""
        publicity(world, "P-1", "2016-05-01", where=(f"village:{OTHER_VILLAGE}",))
        publicity(world, "P-2", "2016-05-02", unit=OTHER_UNIT, plan=OTHER, helpers=(O1,))
        add_diary_entry(world, DiaryEntry.new(vocab=world.vocab, ref="D-1", date="2016-05-03", cadre=O1, kind="意见建议",
                                              text="希望修路", household=h(1, 1)))
        r = checked(world, 2016, "2017-01-15")["C14"]
        assert (r.status.value, r.figures["missing"]) == ("not_met", ["publicity_event", "feedback_item"])
        publicity(world, "P-3", "2016-06-01", passed_to="")
        r = checked(world, 2016, "2017-01-15")["C14"]
        assert (r.status.value, r.figures["missing"]) == ("not_met", ["feedback_item"])


# -- C16: sentiment work --------------------------------------------------------------------------------------


def entries(store, prefix, cadre=C1, **where):
    for n, kind in enumerate(("民情日记", "民情恳谈", "接待来访", "民情报告")):
        add_diary_entry(store, DiaryEntry.new(vocab=store.vocab, ref=f"{prefix}-{n}", date=f"2016-0{n + 3}-01", cadre=cadre, kind=kind,
                                              text="村民反映饮水困难", **(where or {"household": h(1, 1)})))


class TestSentimentWork:
    def test_every_kind_kept_and_cases_closed_in_time_is_met(self, world):
        entries(world, "D")
        case(world, "K-1", h(1, 1), "2016-03-01")
        close_case(world, "K-1", closed=d("2016-04-01"), resolution="已调解")
        r = checked(world, 2016, "2017-01-15")["C16"]
        assert r.status.value == "met" and "case:K-1" in r.evidence and len(r.evidence) == 5

    def test_other_units_and_villages_do_not_count(self, world):
        """Entries of the other unit's cadre about 拖木村 and of QJNU's cadre about 犀牛村 leave C16 without data."""
        entries(world, "O", cadre=O1)
        entries(world, "X", household=OTHER_HOUSEHOLD)
        entries(world, "V", village=OTHER_VILLAGE)
        r = checked(world, 2016, "2017-01-15")["C16"]
        assert (r.status.value, r.evidence, r.figures["missing"]) == ("no_data", (), ["民情恳谈", "接待来访", "民情日记", "民情报告"])

    def test_the_case_limit_is_the_plans(self, world):
        """A case closed after 120 days is overdue under the plan's 90 days, and in time under a plan that sets 150."""
        entries(world, "D")
        case(world, "K-1", h(1, 1), "2016-03-01")
        close_case(world, "K-1", closed=d("2016-06-29"), resolution="已调解")
        r = checked(world, 2016, "2017-01-15")["C16"]
        assert (r.status.value, r.figures["overdue"]) == ("not_met", ["K-1"]) and "90" in r.required
        world.save_plan(Plan.from_toml(load_plan(PLAN).text.replace("max_case_days = 90", "max_case_days = 150")))
        assert status(world, "C16", 2016, "2017-01-15") == "met"


# -- C34: supervision and the annual assessment ---------------------------------------------------------------


def inspection(store, ref, day, method, **details):
    return act(store, "core.inspection", day, ref, {"method": method, **details})


class TestAnnualAssessment:
    def test_spot_checks_year_end_inspection_and_each_cadres_assessment_are_met(self, world):
        inspection(world, "I-1", "2016-06-15", "平时抽查", circulated=True)
        assert checked(world, 2016, "2017-01-05")["C34"].status.value == "not_due"  # the year-end window runs to 31 January
        inspection(world, "I-2", "2017-01-10", "年终检查", assessed_cadres=[C1])
        r = checked(world, 2016, "2017-02-15")["C34"]
        assert (r.status.value, r.evidence) == ("met", ("action:I-1", "action:I-2"))

    def test_one_year_end_inspection_on_2_january_does_not_count(self, world):
        """One "year-end inspection" dated 2 January, with no spot checks, leaves C34 not met."""
        inspection(world, "I-1", "2016-01-02", "年终检查", assessed_cadres=[C1])
        r = checked(world, 2016, "2017-02-15")["C34"]
        assert (r.status.value, r.evidence, r.figures["year_end"], r.figures["spot_checks"]) == ("not_met", (), 0, 0)

    def test_every_cadre_taking_part_needs_the_results_in_the_assessment(self, world):
        """An uncirculated spot check does not count; a year-end inspection naming no cadre's assessment, or
        another unit's, leaves the cadre helping households unassessed: not met."""
        inspection(world, "I-1", "2016-06-15", "平时抽查")
        inspection(world, "I-2", "2016-12-20", "年终检查", assessed_cadres=[O1])
        act(world, "core.inspection", "2016-12-21", "I-3", {"method": "年终检查", "assessed_cadres": [C1]}, unit=OTHER_UNIT, plan=OTHER, helpers=())
        r = checked(world, 2016, "2017-02-15")["C34"]
        assert (r.status.value, r.figures["spot_checks"], r.figures["unassessed"]) == ("not_met", 0, [C1])


# -- C36: good practice publicised ------------------------------------------------------------------------------


def publication(store, ref, day, **fields):
    return act(store, "core.publication", day, ref, {"title": "拖木村蓝莓示范种植见成效", "medium": "报刊", "outlet": "曲靖日报"}, **fields)


class TestPublications:
    def test_a_publication_by_the_deadline_is_met(self, world):
        publication(world, "B-1", "2017-03-20")
        r = checked(world, 2016, "2017-04-15")["C36"]
        assert (r.status.value, r.evidence) == ("met", ("action:B-1",))
        assert checked(world, 2017, "2018-04-15")["C36"].status.value == "not_met"  # counted for 2016 only

    def test_writing_the_report_to_the_null_device_does_not_count(self, world, cli, database_url):
        """A report written to /dev/null (audited as an export), a publication after 31 March and the other
        plan's publication leave C36 without data or not met."""
        result = cli("--db", database_url, "report", "--plan", PLAN, "--year", "2016", "--as-of", "2017-01-10", "-o", "/dev/null")
        assert result.exit_code == 0, result.output
        assert any(e.operation == "report" for e in world.audit_entries(table="plans", key=PLAN))
        r = checked(world, 2016, "2017-04-15")["C36"]
        assert (r.status.value, r.evidence) == ("no_data", ())
        publication(world, "B-1", "2017-04-02")
        publication(world, "B-2", "2016-06-01", unit=OTHER_UNIT, plan=OTHER, helpers=(O1,), where=())
        r = checked(world, 2016, "2017-04-15")["C36"]
        assert (r.status.value, r.evidence) == ("not_met", ())


# -- two plans, one database; every parameter read -----------------------------------------------------------------


def honest_records(store):
    """Records meeting C01, C03, C04, C06 (2016), C14, C16, C34 and C36 for the reference plan in 2016."""
    act(store, "core.appointment", "2015-10-23", "R-1", {"role": "group_head"}, end="2019-12-31")
    act(store, "core.appointment", "2015-10-23", "R-2", {"role": "vice_president_in_charge"}, end="2019-12-31")
    meeting(store, "M-1", "2016-03-01")
    meeting(store, "M-2", "2016-09-01")
    act(store, "core.site_visit", "2016-04-01", "S-1", {"purpose": "调研"})
    act(store, "core.site_visit", "2016-10-01", "S-2", {"purpose": "现场办公", "mode": "现场办公"})
    posting(store, "P-3", "attached_leader", "2016-01-05", "2017-12-31")
    posting(store, "P-4", "work_team_leader", "2016-01-05", "2017-12-31")
    publicity(store, "P-1", "2016-05-01")
    entries(store, "D")
    inspection(store, "I-1", "2016-06-15", "平时抽查", circulated=True)
    inspection(store, "I-2", "2016-12-20", "年终检查", assessed_cadres=[C1])
    publication(store, "B-1", "2016-12-01")


def test_each_plan_sees_only_its_own_records(world, cli, database_url):
    """With the reference plan's records in place, all eight are met for it and have no data for the second plan."""
    honest_records(world)
    mine = checked(world, 2016, "2017-04-15")
    assert {cid: mine[cid].status.value for cid in MINE} == dict.fromkeys(MINE, "met")
    result = cli("--db", database_url, "check", "--year", "2016", "--as-of", "2017-04-15", "--plan", OTHER, "--json")
    theirs = {r["id"]: r for r in json.loads(result.output)}
    assert {cid: theirs[cid]["status"] for cid in MINE} == dict.fromkeys(MINE, "no_data")
    assert all(theirs[cid]["evidence"] == [] for cid in MINE)


def test_every_parameter_the_plan_sets_is_read(world):
    """Each of these commitments' targets reads every parameter the reference plan sets for it, in any year."""
    honest_records(world)
    plan, targets = world.plan(PLAN), world.hooks.targets()
    for year in (2015, 2016):
        cache: dict = {}
        with world.reading("aggregates.read") as conn:
            for c in plan.commitments:
                if c.id in MINE:
                    targets[c.target].evaluate(CheckContext(world, plan, c, year, dt.date(2020, 1, 1), conn, cache, targets[c.target]))
        for c in plan.commitments:
            if c.id in MINE:
                assert {(c.id, key) for key in c.params} <= cache["params_used"], (year, c.id)


def test_a_plugin_targets_actions_are_the_plans_own(world):
    """``ctx.actions(kind)``, as a plugin's target calls it, gives only the plan's own records: not an action one of
    the plan's units registered for another plan it also helps, nor one another unit registered naming the plan."""
    from fupin.ext import CheckContext as PublicContext

    act(world, "core.site_visit", "2016-04-01", "S-MINE", {"purpose": "调研"})
    act(world, "core.site_visit", "2016-04-02", "S-OTHER-PLAN", {"purpose": "调研"}, plan=OTHER)
    act(world, "core.site_visit", "2016-04-03", "S-OTHER-UNIT", {"purpose": "调研"}, unit=OTHER_UNIT, helpers=(O1,))
    act(world, "core.site_visit", "2016-04-04", "S-NO-PLAN", {"purpose": "调研"}, plan=None)
    plan = world.plan(PLAN)
    commitment = next(c for c in plan.commitments if c.id == "C04")
    with world.reading("aggregates.read") as conn:
        ctx = PublicContext(world, plan, commitment, 2016, d("2017-01-15"), conn)
        assert [r.ref for r in ctx.actions("core.site_visit")] == ["S-MINE", "S-NO-PLAN"]
        assert [r.ref for r in ctx.actions("core.site_visit", d("2016-04-02"), d("2016-04-03"))] == []

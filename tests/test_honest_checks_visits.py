"""Visit-campaign checks that misleading records cannot fool (issue 16): C10, C11, C12, C13, C15.

Each defect of the issue is recorded as a careless or dishonest clerk would, and the
commitment must stay not met (or no data); the honest records then meet it. The rules
(fupin.visits, the targets' docstrings): a visit counts for the campaign when it is an
interview (首轮走访, 回访), dated from the plan period's first day, made by a cadre of the
plan's units, naming this plan or none, with the plan's household questionnaire, answers
and record; the campaign households are those paired by the plan. A second plan in the
same database (the reference plan's TOML with another name, unit and village) sees only
its own records. Seeded on SQLite and PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

import datetime as dt

import pytest

from fupin import Area, Cadre, Household, Person, Plan, Unit, load_plan
from fupin.actions import SupportAction
from fupin.checks import check_plan
from fupin.core_targets import (
    exit_plans,
    household_classification,
    registration_data,
    visit_campaign,
    visit_questionnaire,
)
from fupin.idnumber import make_id_number
from fupin.model import Pairing, Visit
from fupin.pairing import add_pairing
from fupin.report import build_report
from fupin.visits import CampaignRule, due_list, due_status, record_visit
from tests.campaign_seed import (
    CONTACT,
    KEY,
    PLAN,
    REGISTERED,
    VILLAGE,
    add_household,
    answers,
    cadre_code,
    d,
    h,
    pair,
    seed_base,
    visit,
    village_visit,
)

C1, C2 = cadre_code(1), cadre_code(2)
HOUSEHOLDS = (h(1, 1), h(1, 2), h(1, 3))
#: The second plan: another college, village and unit, in the same database.
OTHER_PLAN, OTHER_UNIT, OTHER_VILLAGE = "yxxy-faji", "YXXY", "530326106201"
OTHER_GROUP = f"{OTHER_VILLAGE}01"
OTHER_CADRE = "YXXY-C001"
OTHER_HOUSEHOLD = f"{OTHER_GROUP}0001"


def results(store, plan, year, as_of):
    """check_plan's results by commitment id."""
    return {r.commitment: r for r in check_plan(store, plan, year, as_of=d(as_of))}


def edited(text_changes, base=None):
    """The reference plan's TOML with each (old, new) replaced (each must be there), as a Plan."""
    text = base or load_plan(PLAN).text
    for old, new in text_changes:
        assert old in text, old
        text = text.replace(old, new)
    return Plan.from_toml(text)


def replan(store, *changes):
    """Store the reference plan edited by ``changes`` in place of the stored one; returns it."""
    store.save_plan(edited(changes))
    return store.plan(PLAN)


def add_other_unit(store):
    """Another college with one cadre (not of the plan's units)."""
    with store.transaction():
        store.add_unit(Unit.new(code=OTHER_UNIT, name="某职业学院", kind="university", vocab=store.vocab))
        store.add_cadre(Cadre.new(code=OTHER_CADRE, name="外单位干部", unit=OTHER_UNIT, rank="处级", vocab=store.vocab))


def for_plan(store, ref, household, day, cadre, plan_name):
    """A first-round visit with the household questionnaire, made for ``plan_name``."""
    return record_visit(store, Visit.new(vocab=store.vocab, ref=ref, date=day, kind="首轮走访", cadres=(cadre,), household=household,
                                         plan=plan_name, questionnaire="yunnan-household@1", answers=answers(), findings="走访"))


@pytest.fixture
def tuomu(store):
    """The reference plan; three poor households of group 1 paired on 2015-08-20 (C001 two, C002 one)."""
    plan = seed_base(store)
    for s, number in enumerate(HOUSEHOLDS, start=1):
        add_household(store, 1, s)
        pair(store, C1 if s < 3 else C2, number, KEY if s != 2 else CONTACT)
    return plan


def first_round(store, day="2015-10-10", prefix="F"):
    """Every household visited once by its cadre on ``day``, with the household questionnaire and a record."""
    for s, number in enumerate(HOUSEHOLDS, start=1):
        visit(store, f"{prefix}-{s}", number, day, [C1 if s < 3 else C2])


def revisits(store, day, prefix, **kw):
    for s, number in enumerate(HOUSEHOLDS, start=1):
        visit(store, f"{prefix}-{s}", number, day, [C1 if s < 3 else C2], kind="回访", **kw)


# -- C10: the first round's window, the kinds and the cadres that count ------------------------------------------


class TestFirstRoundWindow:
    def test_visits_before_the_plan_period_do_not_count(self, store, tuomu):
        """Visits from 2014 and from August 2015 (the work starts in September 2015) never meet the 2015 first round."""
        for s, number in enumerate(HOUSEHOLDS, start=1):
            visit(store, f"OLD-{s}", number, "2014-11-20")
            visit(store, f"AUG-{s}", number, "2015-08-25")
        c10 = results(store, tuomu, 2015, "2016-01-15")["C10"]
        assert (c10.status.value, c10.actual, c10.evidence) == ("not_met", "0/3 户", ())
        assert "2015-09-01" in c10.required
        # The worklist agrees: never visited, overdue since the deadline.
        assert {(i.household, i.status, i.last_visit) for i in due_list(store, tuomu, as_of=d("2015-11-01"))} == {
            (n, "overdue", None) for n in HOUSEHOLDS
        }

    def test_honest_first_round_is_met(self, store, tuomu):
        first_round(store, "2015-09-10")
        c10 = results(store, tuomu, 2015, "2016-01-15")["C10"]
        assert (c10.status.value, c10.actual, c10.evidence) == ("met", "3/3 户", ("visit:F-1", "visit:F-2", "visit:F-3"))
        assert due_list(store, tuomu, as_of=d("2015-11-01")) == []


class TestOnlyInterviewsCount:
    def test_gift_visits_count_neither_for_the_first_round_nor_a_year(self, store, tuomu):
        """送温暖 gift visits, even with a questionnaire, are not interviews: C10 stays not met in 2015 and 2016."""
        for s, number in enumerate(HOUSEHOLDS, start=1):
            visit(store, f"G15-{s}", number, "2015-10-01", kind="送温暖")
            visit(store, f"G16-{s}", number, "2016-02-01", kind="送温暖")
        assert results(store, tuomu, 2015, "2016-01-15")["C10"].status.value == "not_met"
        c10 = results(store, tuomu, 2016, "2017-01-15")["C10"]
        assert (c10.status.value, c10.actual) == ("not_met", "0/3 户")
        assert len(due_list(store, tuomu, as_of=d("2016-06-01"))) == 3

    def test_phone_calls_do_not_count(self, store, tuomu):
        first_round(store)
        revisits(store, "2016-05-01", "P", given={})  # no answers: a call
        for s, number in enumerate(HOUSEHOLDS, start=1):
            visit(store, f"T-{s}", number, "2016-05-02", kind="电话")
        assert results(store, tuomu, 2016, "2017-01-15")["C10"].status.value == "not_met"

    def test_interviews_without_the_questionnaire_or_record_do_not_count(self, store, tuomu):
        """A 回访 without answers, or without a written record (C11's visit_record), is not counted by C10 and fails C11."""
        first_round(store)
        visit(store, "R-1", h(1, 1), "2016-05-01", [C1], kind="回访", given={})
        visit(store, "R-2", h(1, 2), "2016-05-01", [C1], kind="回访", findings="")
        visit(store, "R-3", h(1, 3), "2016-05-01", [C2], kind="回访")
        village_visit(store, "VV-16", "2016-05-03")
        found = results(store, tuomu, 2016, "2017-01-15")
        assert (found["C10"].status.value, found["C10"].actual, found["C10"].evidence) == ("not_met", "1/3 户", ("visit:R-3",))
        c11 = found["C11"]
        assert (c11.status.value, c11.figures["visits"], c11.figures["with_answers"]) == ("not_met", 4, 2)
        assert "visit:R-1" not in c11.evidence and "visit:R-2" not in c11.evidence

    def test_honest_revisits_are_met(self, store, tuomu):
        first_round(store)
        revisits(store, "2016-05-01", "R")
        village_visit(store, "VV-16", "2016-05-03")
        found = results(store, tuomu, 2016, "2017-01-15")
        assert {c: found[c].status.value for c in ("C10", "C11", "C12", "C13")} == dict.fromkeys(("C10", "C11", "C12", "C13"), "met")


class TestVisitingCadres:
    def test_a_visit_by_another_units_cadre_does_not_count(self, store, tuomu):
        """Any cadre of the plan's units may visit (the seed: leaders lead staff into households); another unit's may not."""
        add_other_unit(store)
        for s, number in enumerate(HOUSEHOLDS, start=1):
            visit(store, f"X-{s}", number, "2015-10-10", [OTHER_CADRE])
        c10 = results(store, tuomu, 2015, "2016-01-15")["C10"]
        assert (c10.status.value, c10.actual) == ("not_met", "0/3 户")
        assert len(due_list(store, tuomu, as_of=d("2015-11-01"))) == 3

    def test_a_visit_with_one_of_the_plans_cadres_counts(self, store, tuomu):
        """The household's own cadre is not required: C002 visiting C001's households, or with an outsider, counts."""
        add_other_unit(store)
        for s, number in enumerate(HOUSEHOLDS, start=1):
            visit(store, f"Y-{s}", number, "2015-10-10", [C2, OTHER_CADRE])
        assert results(store, tuomu, 2015, "2016-01-15")["C10"].status.value == "met"

    def test_a_visit_naming_another_plan_does_not_count(self, store, tuomu):
        store.save_plan(other_plan())
        for s, number in enumerate(HOUSEHOLDS, start=1):
            for_plan(store, f"O-{s}", number, "2015-10-10", C1, OTHER_PLAN)
        assert results(store, tuomu, 2015, "2016-01-15")["C10"].actual == "0/3 户"


# -- revisit_per_year: the first round needs one visit; the report and the worklist say what the check says ------


class TestRevisitsPerYear:
    def test_two_revisits_a_year(self, store, tuomu):
        plan = replan(store, ("revisit_per_year = 1", "revisit_per_year = 2"))
        first_round(store)
        c10 = results(store, plan, 2015, "2016-01-15")["C10"]
        assert (c10.status.value, c10.actual, c10.figures["visits_needed"]) == ("met", "3/3 户", 1)
        revisits(store, "2016-04-01", "A")
        village_visit(store, "VV-16", "2016-05-03")
        found = results(store, plan, 2016, "2017-01-15")
        assert (found["C10"].status.value, found["C10"].actual, found["C10"].figures["visits_needed"]) == ("not_met", "0/3 户", 2)
        report = build_report(store, plan, 2016, as_of=d("2017-01-15"))
        visits = {s.key: s for s in report.sections}["core.visits"]
        assert "应走访 3 户, 每户 2 次" in visits.paragraphs_zh[0] and "按要求 0 户" in visits.paragraphs_zh[0]
        assert visits.shortfalls_zh == ("3 户本年未按要求走访",)
        # One visit this year is not enough: still due (not overdue: last year's one visit was all it needed).
        assert {(i.household, i.status, i.due_by) for i in due_list(store, plan, as_of=d("2016-06-01"))} == {
            (n, "due", d("2016-12-31")) for n in HOUSEHOLDS
        }
        revisits(store, "2016-09-01", "B")
        found = results(store, plan, 2016, "2017-01-15")
        assert (found["C10"].status.value, found["C10"].actual, len(found["C10"].evidence)) == ("met", "3/3 户", 6)
        visits = {s.key: s for s in build_report(store, plan, 2016, as_of=d("2017-01-15")).sections}["core.visits"]
        assert "按要求 3 户" in visits.paragraphs_zh[0] and visits.shortfalls_zh == ()
        assert due_list(store, plan, as_of=d("2016-12-01")) == []
        # In 2017 the two visits of 2016 were all last year needed: due, not overdue.
        assert {i.status for i in due_list(store, plan, as_of=d("2017-03-01"))} == {"due"}

    def test_one_visit_of_two_is_overdue_the_year_after(self):
        """due_status counts the visits of the year and the year before against what each year needs."""
        rule = CampaignRule(pairing_by=d("2015-08-31"), first_round_by=d("2015-10-31"), revisit_per_year=2)
        assert due_status(rule, d("2016-06-01"), d("2015-08-20"), d("2016-04-01"), this_year=1, last_year=1) == ("due", d("2016-12-31"))
        assert due_status(rule, d("2016-06-01"), d("2015-08-20"), d("2016-04-01"), this_year=2, last_year=1) is None
        assert due_status(rule, d("2017-03-01"), d("2015-08-20"), d("2016-09-01"), this_year=0, last_year=1) == ("overdue", d("2017-12-31"))
        assert due_status(rule, d("2017-03-01"), d("2015-08-20"), d("2016-09-01"), this_year=0, last_year=2) == ("due", d("2017-12-31"))


# -- C11: the questionnaires the plan names, the village questionnaire every year ----------------------------------


class TestQuestionnaires:
    def test_each_village_needs_the_village_questionnaire_each_year(self, store, tuomu):
        first_round(store)
        c11 = results(store, tuomu, 2015, "2016-01-15")["C11"]
        assert (c11.status.value, c11.figures["villages_without"]) == ("not_met", [VILLAGE])
        assert "村级问卷" in c11.note
        add_other_unit(store)
        village_visit(store, "VX", "2015-10-12", [OTHER_CADRE])  # another unit's
        village_visit(store, "VN", "2015-10-13", questionnaire=None)  # no questionnaire
        c11 = results(store, tuomu, 2015, "2016-01-15")["C11"]
        assert c11.status.value == "not_met" and c11.figures["villages_without"] == [VILLAGE]
        village_visit(store, "VV", "2015-10-14")
        c11 = results(store, tuomu, 2015, "2016-01-15")["C11"]
        # The visit without a questionnaire still fails the rule; the other unit's visit is not the plan's.
        assert (c11.status.value, c11.figures["villages_without"], c11.figures["visits"]) == ("not_met", [], 5)
        assert "visit:VV" in c11.evidence and "visit:VX" not in c11.evidence

    def test_honest_questionnaires_are_met(self, store, tuomu):
        first_round(store)
        village_visit(store, "VV", "2015-10-14")
        c11 = results(store, tuomu, 2015, "2016-01-15")["C11"]
        assert (c11.status.value, c11.actual, len(c11.evidence)) == ("met", "4/4", 4)

    def test_only_the_questionnaires_the_plan_names_count(self, store, tuomu):
        """The plan's `questionnaires` is read: with another household form named, the Yunnan form proves nothing."""
        plan = replan(store, ('{ scope = "household", title_zh = "云南省贫困户访谈问卷", also_zh = "云南省遍访贫困户访谈问卷" }',
                              '{ scope = "household", title_zh = "某县贫困户入户调查表" }'))
        first_round(store)
        village_visit(store, "VV", "2015-10-14")
        found = results(store, plan, 2015, "2016-01-15")
        assert (found["C11"].status.value, found["C11"].actual) == ("not_met", "1/4")
        assert (found["C10"].status.value, found["C10"].actual) == ("not_met", "0/3 户")


# -- C12: the campaign households ----------------------------------------------------------------------------------


class TestClassification:
    def test_classified_among_the_paired_households_not_every_poor_one(self, store, tuomu):
        """Unpaired poor households do not make C12 unreachable; another unit's pairing in the village is not the plan's."""
        add_household(store, 2, 1)
        add_household(store, 2, 2)
        add_other_unit(store)
        pair(store, OTHER_CADRE, h(2, 2), KEY)
        c12 = results(store, tuomu, 2016, "2017-01-15")["C12"]
        assert (c12.status.value, c12.actual, c12.figures) == ("met", "3/3", {"classified": 3, "households": 3})
        assert len(c12.evidence) == 3
        c09 = results(store, tuomu, 2016, "2017-01-15")["C09"]
        assert c09.figures["households"] == 3  # the outsider's pairing is not the plan's either

    def test_a_pairing_of_no_class_is_not_classified(self, store, tuomu):
        plan = replan(store, ('params = { kinds = ["key_help", "contact"] }', 'params = { kinds = ["key_help"] }'))
        c12 = results(store, plan, 2016, "2017-01-15")["C12"]
        assert (c12.status.value, c12.actual) == ("not_met", "2/3")


# -- C13: track_changes ------------------------------------------------------------------------------------------


class TestRegistrationData:
    def test_with_track_changes_needs_are_answered_again_each_year(self, store, tuomu):
        first_round(store)  # needs answered in 2015
        revisits(store, "2016-05-01", "R", given=answers(help_needs=None))
        c13 = results(store, tuomu, 2016, "2017-01-15")["C13"]
        assert (c13.status.value, c13.figures["with_needs"], c13.figures["with_cause"]) == ("not_met", 0, 3)
        plan = replan(store, ("track_changes = true", "track_changes = false"))
        c13 = results(store, plan, 2016, "2017-01-15")["C13"]
        assert (c13.status.value, c13.figures["with_needs"]) == ("met", 3)
        assert set(c13.evidence) == {"visit:F-1", "visit:F-2", "visit:F-3"}

    def test_needs_from_another_units_visit_do_not_count(self, store, tuomu):
        add_other_unit(store)
        for s, number in enumerate(HOUSEHOLDS, start=1):
            visit(store, f"X-{s}", number, "2016-05-01", [OTHER_CADRE], kind="回访")
        c13 = results(store, tuomu, 2016, "2017-01-15")["C13"]
        assert (c13.status.value, c13.figures["with_needs"]) == ("not_met", 0)


# -- C15: development plans of the plan, dated in the plan -------------------------------------------------------


def development_plan(store, ref, day, beneficiary, *, plan=PLAN, unit="QJNU", end="2019-12-31"):
    kind = store.hooks.action_kind("core.development_plan")
    return store.record_action(SupportAction.new(kind, start=day, end=end, unit=unit, plan=plan, ref=ref, beneficiaries=[beneficiary],
                                                 details={"scope": beneficiary.split(":")[0], "measures": ["种植"]}))


class TestExitPlans:
    def test_plans_of_another_plan_or_before_the_period_do_not_count(self, store, tuomu):
        store.save_plan(other_plan())
        add_other_unit(store)
        development_plan(store, "DP-V-OLD", "2014-05-01", f"village:{VILLAGE}")
        development_plan(store, "DP-V-OTHER", "2015-11-20", f"village:{VILLAGE}", plan=OTHER_PLAN, unit=OTHER_UNIT)
        for s, number in enumerate(HOUSEHOLDS, start=1):
            development_plan(store, f"DP-H-{s}", "2015-12-10", f"household:{number}", plan=OTHER_PLAN, unit="QJNU")
        c15 = results(store, tuomu, 2016, "2017-01-15")["C15"]
        assert (c15.figures["village_plans"], c15.figures["household_plans"]) == (0, 0)
        assert c15.status.value in ("not_met", "no_data")

    def test_honest_plans_are_met(self, store, tuomu):
        development_plan(store, "DP-V", "2015-11-20", f"village:{VILLAGE}")
        for s, number in enumerate(HOUSEHOLDS, start=1):
            development_plan(store, f"DP-H-{s}", "2015-12-10", f"household:{number}")
        c15 = results(store, tuomu, 2016, "2017-01-15")["C15"]
        assert (c15.status.value, c15.actual) == ("met", "村规划 1, 户计划 3/3")


# -- two plans, one database -------------------------------------------------------------------------------------


def other_plan():
    """The reference plan's TOML with another name, helping unit and village."""
    return edited((('name = "qjnu-tuomu"', f'name = "{OTHER_PLAN}"'), ('code = "QJNU"', f'code = "{OTHER_UNIT}"'),
                   ('"530326106200"', f'"{OTHER_VILLAGE}"'), ('name_zh = "拖木村"', 'name_zh = "发基村"')))


def seed_other_plan(store):
    """The second plan: its college and cadre, its village with one poor household, paired by its cadre."""
    store.save_plan(other_plan())
    with store.transaction():
        store.add_areas([Area(OTHER_VILLAGE, "发基村", "village", "530326106"), Area(OTHER_GROUP, "发基", "group", OTHER_VILLAGE)])
    add_other_unit(store)
    store.add_household(Household.new(vocab=store.vocab, number=OTHER_HOUSEHOLD, group_code=OTHER_GROUP, head_name="户主B",
                                      attribute="一般贫困户", main_cause="缺资金"), since=REGISTERED)
    store.add_person(Person.new(vocab=store.vocab, id_number=make_id_number("530326", dt.date(1960, 5, 5), 77, "男"),
                                household=OTHER_HOUSEHOLD, name="户主B", relation="户主"))
    add_pairing(store, Pairing.new(vocab=store.vocab, level="帮户", start="2015-08-20", cadre=OTHER_CADRE, household=OTHER_HOUSEHOLD,
                                   kind=KEY, plan=OTHER_PLAN))
    return store.plan(OTHER_PLAN)


class TestTwoPlans:
    def test_each_plan_sees_only_its_own_records(self, store, tuomu):
        other = seed_other_plan(store)
        first_round(store)
        village_visit(store, "VV-A", "2015-10-14")
        # The other plan's cadre visits its own household, and (for its plan) one of the reference plan's.
        for_plan(store, "B-1", OTHER_HOUSEHOLD, "2015-10-11", OTHER_CADRE, OTHER_PLAN)
        for_plan(store, "B-2", h(1, 1), "2015-10-12", OTHER_CADRE, OTHER_PLAN)
        # The other plan's cadre is also paired (for the other plan) with a fourth household of the reference village.
        add_household(store, 1, 4)
        pair_other = Pairing.new(vocab=store.vocab, level="帮户", start="2015-08-20", cadre=OTHER_CADRE, household=h(1, 4),
                                 kind=KEY, plan=OTHER_PLAN)
        add_pairing(store, pair_other)
        mine, theirs = results(store, tuomu, 2015, "2016-01-15"), results(store, other, 2015, "2016-01-15")
        assert (mine["C10"].status.value, mine["C10"].actual) == ("met", "3/3 户")
        assert set(mine["C10"].evidence) == {"visit:F-1", "visit:F-2", "visit:F-3"}
        assert (mine["C12"].actual, mine["C09"].figures["households"]) == ("3/3", 3)
        assert "visit:B-1" not in mine["C11"].evidence and "visit:B-2" not in mine["C11"].evidence
        # The other plan: one household (its village), visited by its cadre; no village questionnaire of its own.
        assert (theirs["C10"].status.value, theirs["C10"].actual, theirs["C10"].evidence) == ("met", "1/1 户", ("visit:B-1",))
        assert theirs["C12"].actual == "1/1"
        assert theirs["C11"].figures["villages_without"] == [OTHER_VILLAGE]
        assert "visit:VV-A" not in theirs["C11"].evidence
        # Worklists and reports keep to their plan.
        assert [i.household for i in due_list(store, other, as_of=d("2016-03-01"))] == [OTHER_HOUSEHOLD]
        assert {i.household for i in due_list(store, tuomu, as_of=d("2016-03-01"))} == set(HOUSEHOLDS)
        for plan, n in ((tuomu, 3), (other, 1)):
            visits = {s.key: s for s in build_report(store, plan, 2015, as_of=d("2016-01-15")).sections}["core.visits"]
            assert visits.paragraphs_zh[0].startswith(f"应走访 {n} 户, 每户 1 次"), visits.paragraphs_zh


# -- what each target says it counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("target", [visit_campaign, visit_questionnaire, household_classification, registration_data, exit_plans])
def test_docstrings_say_what_counts_and_what_does_not(target):
    doc = target.__doc__ or ""
    assert "Counts" in doc and "Does not count" in doc, target.__name__

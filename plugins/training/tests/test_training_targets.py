"""The targets C17, C20, C21 and C22: figures, status by the one rule, and the records that prove them."""

from __future__ import annotations

import datetime as dt

from fupin import Plan, Status, check_plan

VILLAGE = "530326106200"


def results(store, year, as_of):
    """Check the stored plan for ``year``: the training plugin's results by commitment id."""
    out = {r.commitment: r for r in check_plan(store, store.plan("qjnu-tuomu"), year, as_of=dt.date.fromisoformat(as_of))}
    assert {out[c].plugin for c in ("C17", "C20", "C21", "C22")} == {"training"}
    return out


class TestAgriCourses:
    def test_no_data_without_sessions(self, world):
        """Nothing recorded: no data, not a failure."""
        r = results(world.store, 2016, "2017-01-15")["C20"]
        assert r.status is Status.NO_DATA and "failed" not in r.note
        assert (r.figures["attendances"], r.figures["hours"]) == (0, 0)

    def test_area_missing_is_not_met(self, world):
        """Sessions in fruit trees and crops only: not met, the missing area named, the sessions as evidence."""
        world.small_sessions()
        world.session("2016-03-01", "蓝莓", [world.person(1, 1)], ref="S-1")
        world.session("2016-04-01", "烤烟", [world.person(1, 1), world.person(2, 1)], ref="S-2")
        r = results(world.store, 2016, "2017-01-15")["C20"]
        assert r.status is Status.NOT_MET and "畜牧养殖" in r.note
        assert r.figures["sessions"] == {"fruit_trees": 1, "crops": 1, "livestock": 0}
        assert r.figures["attendances"] == 3 and r.figures["attendees"] == 2 and r.figures["hours"] == 8
        assert set(r.evidence) == {"action:S-1", "action:S-2"}
        assert results(world.store, 2016, "2016-06-01")["C20"].status is Status.NOT_YET_DUE

    def test_every_area_is_met(self, world):
        """A session in each area the commitment's topics name: met; sessions of other years do not count."""
        world.small_sessions()
        world.session("2016-03-01", "蓝莓", [world.person(1, 1)], ref="S-1")
        world.session("2016-04-01", "烤烟", [world.person(1, 1)], ref="S-2")
        world.session("2016-05-01", "生猪养殖", [world.person(3, 1)], ref="S-3")
        world.session("2017-05-01", "生猪养殖", [world.person(3, 1)], ref="S-4")
        r = results(world.store, 2016, "2017-01-15")["C20"]
        assert r.status is Status.MET and set(r.evidence) == {"action:S-1", "action:S-2", "action:S-3"}


class TestHouseholdSkills:
    def seed(self, world):
        p11, p12, p21 = world.person(1, 1), world.person(1, 2), world.person(2, 1)
        world.session("2016-03-01", "蓝莓", [p11, p21], ref="S-1")          # 4 h each
        world.session("2016-04-01", "蓝莓", [p11], ref="S-2")               # p11: 8 h of blueberry -> masters it
        world.session("2016-04-05", "烤烟", [p21], hours=6, ref="S-3")      # p21: 6 h of tobacco, not enough
        world.assessment("2016-05-01", "烤烟", p12, ref="K-1")              # p12 passes tobacco
        world.assessment("2016-06-01", "马铃薯", p21, result="不合格", ref="K-2")  # p21 fails potato

    def test_by_rule_and_by_assessment(self, world):
        """Household 1 masters two techniques (its two members'), households 2 and 3 none; not yet due before the plan's end."""
        self.seed(world)
        r = results(world.store, 2016, "2017-01-15")["C21"]
        assert r.status is Status.NOT_YET_DUE
        f = r.figures
        assert (f["households"], f["with_min"], f["with_max"], f["without"]) == (3, 1, 1, 2)
        assert set(r.evidence) == {"action:S-1", "action:S-2", "action:K-1"}

    def test_counted_at_the_day(self, world):
        """Skills are counted up to the year's end: a pass in the next year does not count for this one."""
        self.seed(world)
        world.assessment("2017-02-01", "烤烟", world.person(2, 1), ref="K-3")
        assert results(world.store, 2016, "2017-03-01")["C21"].figures["with_min"] == 1
        assert results(world.store, 2017, "2018-01-15")["C21"].figures["with_min"] == 2

    def test_not_met_at_the_plan_end_then_met(self, world):
        """At the end of the plan a household without a technique leaves C21 not met; once all have one, it is met."""
        self.seed(world)
        r = results(world.store, 2019, "2020-02-01")["C21"]
        assert r.status is Status.NOT_MET and "2 户" in r.note
        world.session("2019-03-01", "烤烟", [world.person(2, 1)], hours=2, ref="S-4")   # 6 + 2 = 8 h of tobacco
        world.assessment("2019-04-01", "生猪养殖", world.person(3, 1), ref="K-4")
        r = results(world.store, 2019, "2020-02-01")["C21"]
        assert r.status is Status.MET and r.figures["with_min"] == 3
        assert {"action:S-3", "action:S-4", "action:K-4"} <= set(r.evidence) and "action:K-2" not in r.evidence

    def test_only_poor_households_when_the_plan_says(self, world):
        """With households = "poor", a household out of poverty by the day is not counted."""
        self.seed(world)
        store = world.store
        text = store.plan("qjnu-tuomu").text
        assert 'households = "registered"' in text
        store.save_plan(Plan.from_toml(text.replace('households = "registered"', 'households = "poor"')))
        store.update_household(world.household(3), {"status": "已脱贫(享受政策)"}, effective=dt.date(2016, 12, 1))
        assert results(store, 2016, "2017-01-15")["C21"].figures["households"] == 2


class TestPartyTraining:
    def test_plan_formats_and_count(self, world):
        """C17 needs the training plan in force, each format, and enough sessions; what is missing is named."""
        world.party("2016-01-10", "培训规划", end="2019-12-31", ref="P-0")
        world.party("2016-03-01", "党课", ref="P-1")
        world.party("2016-06-01", "政策宣讲", ref="P-2")
        r = results(world.store, 2016, "2017-01-15")["C17"]
        assert r.status is Status.NOT_MET and "党员干部培训" in r.note and "2 of 3" in r.note_en
        world.party("2016-09-01", "培训", ref="P-3")
        r = results(world.store, 2016, "2017-01-15")["C17"]
        assert r.status is Status.MET and set(r.evidence) == {"action:P-0", "action:P-1", "action:P-2", "action:P-3"}
        assert r.figures["by_format"]["training_plan"] == 1 and r.figures["attendees"] == 60
        r = results(world.store, 2017, "2018-01-15")["C17"]
        assert r.status is Status.NOT_MET and r.figures["training_plan"] is True and r.figures["sessions"] == 0


class TestResearchProjects:
    def test_running_projects_per_year(self, world):
        """A project counts in every year it runs; a year without one is not met."""
        world.project("2016-03-01", "2017-06-30", ref="R-1")
        for year in (2016, 2017):
            r = results(world.store, year, f"{year + 1}-01-15")["C22"]
            assert r.status is Status.MET and r.evidence == ("action:R-1",) and r.figures["funding_fen"] == 5_000_000
        assert results(world.store, 2016, "2017-01-15")["C22"].figures["new"] == 1
        assert results(world.store, 2017, "2018-01-15")["C22"].figures["new"] == 0
        r = results(world.store, 2018, "2019-01-15")["C22"]
        assert r.status is Status.NOT_MET and r.figures["running"] == 0

"""`fupin check`: every measurable commitment of a plan for a year, with its status, figures and evidence.

Statuses follow one rule (fupin.checks): met only with records that prove it;
not met once the deadline has passed; not yet due before it; no data when
nothing of the kind is recorded or no installed plugin provides the target.
Small campaigns are seeded on SQLite and PostgreSQL (tests/campaign_seed.py);
the pairing figures C07/C08/C09/C12 are checked on the demo village.
"""

from __future__ import annotations

import json

import pytest

from fupin import CheckResult, Plan, Status, TargetSpec, hookimpl, load_plan
from fupin.exits import record_exit
from tests.campaign_seed import (
    CONTACT,
    KEY,
    PLAN,
    action,
    add_household,
    answers,
    build_demo_file,
    cadre_code,
    copy_demo,
    d,
    h,
    pair,
    seed_base,
    visit,
    village_visit,
)

C1, C2 = cadre_code(1), cadre_code(2)
STATUSES = {"met", "not_met", "not_due", "no_data", "not_measurable"}
#: Every commitment of the reference plan: C35, which software cannot measure, is listed as such.
COMMITMENTS = [c.id for c in load_plan("qjnu-tuomu").commitments]


def check(cli, url, year, as_of, *extra):
    """`fupin check --json`: (exit code, results by commitment id)."""
    result = cli("--db", url, "check", "--year", str(year), "--as-of", as_of, "--json", *extra)
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, {r["id"]: r for r in json.loads(result.output)}


@pytest.fixture
def village(store):
    """Three households of group 1 paired on 2015-08-20: C001 two (key-help, contact), C002 one (key-help)."""
    plan = seed_base(store)
    for s in (1, 2, 3):
        add_household(store, 1, s)
    pair(store, C1, h(1, 1), KEY)
    pair(store, C1, h(1, 2), CONTACT)
    pair(store, C2, h(1, 3), KEY)
    return plan


def meeting(store, ref, day):
    return action(store, "core.meeting", day, ref, {"topic": "研究挂包帮工作", "body": "党委常委会"})


class TestResults:
    def test_json_objects(self, village, cli, database_url):
        """One object per commitment, with id, status, required, actual, evidence and plugin; C35 never dropped."""
        code, results = check(cli, database_url, 2016, "2017-01-15")
        assert list(results) == COMMITMENTS
        assert results["C35"]["status"] == "not_measurable" and "投诉" in results["C35"]["note"]
        targets = {c.id: c.target for c in load_plan("qjnu-tuomu").commitments}
        for cid, r in results.items():
            assert {"id", "status", "required", "actual", "evidence", "plugin"} <= set(r)
            assert r["status"] in STATUSES and isinstance(r["evidence"], list)
            assert r["plugin"] == targets[cid].split(".")[0] and r["target"] == targets[cid]
        assert code == 1

    def test_never_met_without_evidence(self, village, cli, database_url, store):
        """Whatever the data, a met commitment names the records that prove it."""
        meeting(store, "M-1", "2016-03-01")
        meeting(store, "M-2", "2016-09-01")
        for s in (1, 2, 3):
            visit(store, f"V-{s}", h(1, s), "2016-05-01", [C1], kind="回访")
        village_visit(store, "VV-1", "2016-05-02")
        _, results = check(cli, database_url, 2016, "2017-01-15")
        met = [r for r in results.values() if r["status"] == "met"]
        assert {"C03", "C10", "C11", "C13"} <= {r["id"] for r in met}
        assert all(r["evidence"] for r in met)
        assert results["C10"]["evidence"] == ["visit:V-1", "visit:V-2", "visit:V-3"]

    def test_a_target_claiming_met_without_records_is_no_data(self, village, pm, cli, database_url, store):
        """A plugin's target that says met but names no record is reported no data, with the reason."""

        class Claims:
            @hookimpl
            def fupin_targets(self):
                return [
                    # Each takes over a commitment of the reference plan, so it declares that commitment's parameters.
                    TargetSpec("claims.bare", "无证明", "bare", lambda ctx: CheckResult(ctx.commitment.id, Status.MET, ">= 1", "1"), ("min", "max", "min_amount_fen")),
                    TargetSpec("claims.judged", "无证明", "judged", lambda ctx: ctx.judge(True, ">= 1", "1"), ("min_amount_fen", "years")),
                    TargetSpec("claims.proven", "有证明", "proven", lambda ctx: ctx.judge(True, ">= 1", "1", ["action:M-1"]), ("flows",)),
                ]

        pm.register(Claims(), name="claims")
        text = load_plan(PLAN).text
        for old, new in (("funding.key_projects", "claims.bare"), ("funding.budget_per_year", "claims.judged"),
                         ("funding.foundation", "claims.proven")):
            assert f'target = "{old}"' in text
            text = text.replace(f'target = "{old}"', f'target = "{new}"')
        store.save_plan(Plan.from_toml(text))
        _, results = check(cli, database_url, 2016, "2017-01-15")
        assert (results["C05"]["status"], results["C02"]["status"], results["C28"]["status"]) == ("no_data", "no_data", "met")
        assert "no records prove it" in results["C05"]["note_en"] and "没有证明记录" in results["C02"]["note"]
        assert results["C28"]["plugin"] == "claims" and results["C28"]["evidence"] == ["action:M-1"]

    def test_targets_of_missing_plugins_are_no_data(self, village, cli, database_url):
        """Commitments of the education, training, funding and psychology plugins (not installed here) are no data, the plugin named."""
        _, results = check(cli, database_url, 2016, "2017-01-15")
        missing = {cid: r for cid, r in results.items() if r["plugin"] != "core"}
        assert set(missing) == {"C02", "C05", "C17", "C18", "C19", "C20", "C21", "C22", "C23", "C24", "C25", "C26", "C27",
                                "C28", "C29", "C30", "C31", "C32", "C33"}
        for r in missing.values():
            assert r["status"] == "no_data" and r["evidence"] == []
            assert f"fupin-{r['plugin']}" in r["note"] and r["plugin"] in {"education", "training", "funding", "psychology"}

    def test_exit_code(self, village, cli, database_url):
        """Exit 0 while nothing is past its deadline unmet, 1 once something is not met."""
        code, results = check(cli, database_url, 2016, "2016-01-15")
        assert code == 0 and "not_met" not in {r["status"] for r in results.values()}
        code, results = check(cli, database_url, 2016, "2017-01-15")
        assert code == 1 and results["C10"]["status"] == "not_met"
        text = cli("--db", database_url, "check", "--year", "2016", "--as-of", "2017-01-15")
        assert text.exit_code == 1 and "C10" in text.output and "未达成" in text.output

    @pytest.mark.parametrize("year", ["2014", "2020"])
    def test_year_outside_the_plan(self, village, cli, database_url, year):
        """A year outside the plan period is a clear error: exit 1, the period named, no traceback."""
        result = cli("--db", database_url, "check", "--year", year, "--json")
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert "outside the plan period" in result.output and "2015" in result.output and "2019" in result.output
        assert "Traceback" not in result.output


# -- C03: meetings per year ------------------------------------------------------------------------


class TestMeetings:
    def test_two_meetings_met(self, village, cli, database_url, store):
        """Two leadership meetings in 2016 meet C03 (>= 2 a year), with both as evidence."""
        meeting(store, "M-1", "2016-03-01")
        meeting(store, "M-2", "2016-11-30")
        meeting(store, "M-0", "2015-12-31")
        _, results = check(cli, database_url, 2016, "2017-01-15")
        c03 = results["C03"]
        assert (c03["status"], c03["actual"], c03["evidence"]) == ("met", "2", ["action:M-1", "action:M-2"])
        assert "至少 2" in c03["required"] and "at least 2" in c03["required_en"] and c03["figures"] == {"required_n": 2, "actual_n": 2}

    def test_one_meeting_not_met_then_not_due(self, village, cli, database_url, store):
        """One meeting is not met once 2016 is over, and not yet due while the year runs."""
        meeting(store, "M-1", "2016-03-01")
        _, results = check(cli, database_url, 2016, "2017-01-15")
        assert (results["C03"]["status"], results["C03"]["actual"], results["C03"]["evidence"]) == ("not_met", "1", ["action:M-1"])
        _, results = check(cli, database_url, 2016, "2016-06-30")
        assert results["C03"]["status"] == "not_due"

    def test_on_the_deadline_day_it_is_not_yet_due(self, village, cli, database_url, store):
        """On the last day of the year a commitment of that year is not yet due: the day can still bring the record."""
        meeting(store, "M-1", "2016-03-01")
        _, results = check(cli, database_url, 2016, "2016-12-31")
        assert results["C03"]["status"] == "not_due"

    def test_no_meeting_ever_is_no_data_and_other_years_do_not_count(self, village, cli, database_url, store):
        """With no meeting recorded at all, C03 is no data; meetings of 2015 do not count for 2016."""
        _, results = check(cli, database_url, 2016, "2017-01-15")
        assert results["C03"]["status"] == "no_data"
        meeting(store, "M-1", "2015-10-23")
        meeting(store, "M-2", "2015-12-01")
        _, results = check(cli, database_url, 2016, "2017-01-15")
        assert (results["C03"]["status"], results["C03"]["actual"]) == ("not_met", "0")
        _, results = check(cli, database_url, 2015, "2016-01-15")
        assert results["C03"]["status"] == "met"


# -- C10: the first round of visits -----------------------------------------------------------------------


@pytest.fixture
def first_round(store):
    """Four households paired on 2015-08-20 (C001 h(1,1), h(1,2); C002 h(1,3), h(1,4))."""
    seed_base(store)
    for s in (1, 2, 3, 4):
        add_household(store, 1, s)
        pair(store, C1 if s <= 2 else C2, h(1, s), KEY)


class TestFirstRound:
    def test_late_and_missing_visits(self, first_round, cli, database_url, store):
        """First round by 2015-10-31: one late visit and one household not visited make C10 not met, with the numbers."""
        visit(store, "V-1", h(1, 1), "2015-09-15")
        visit(store, "V-2", h(1, 2), "2015-11-05")
        visit(store, "V-4", h(1, 4), "2015-10-31", [C2])
        visit(store, "V-5", h(1, 3), "2015-10-20", [C2], kind="电话", given={})
        _, results = check(cli, database_url, 2015, "2016-01-15")
        c10 = results["C10"]
        assert (c10["status"], c10["actual"]) == ("not_met", "2/4 户")
        assert {k: c10["figures"][k] for k in ("households", "visited", "visited_late", "paired_late")} == {
            "households": 4, "visited": 2, "visited_late": 1, "paired_late": 0,
        }
        assert "1 户在期限后才走访" in c10["note"] and "2 户未按期走访" in c10["note"]
        assert c10["evidence"] == ["visit:V-1", "visit:V-4"]
        assert "2015-08-31" in c10["required"] and "2015-10-31" in c10["required"]

    def test_not_due_before_the_deadline(self, first_round, cli, database_url, store):
        """While the first round is still open, C10 is not yet due."""
        visit(store, "V-1", h(1, 1), "2015-09-15")
        _, results = check(cli, database_url, 2015, "2015-10-15")
        assert (results["C10"]["status"], results["C10"]["actual"]) == ("not_due", "1/4 户")

    def test_all_on_time_is_met(self, first_round, cli, database_url, store):
        """Every household visited by 2015-10-31 meets C10."""
        for s in (1, 2, 3, 4):
            visit(store, f"V-{s}", h(1, s), f"2015-10-{10 + s}", [C1 if s <= 2 else C2])
        _, results = check(cli, database_url, 2015, "2016-01-15")
        assert (results["C10"]["status"], results["C10"]["actual"], len(results["C10"]["evidence"])) == ("met", "4/4 户", 4)

    def test_pairing_after_the_date_is_not_met(self, first_round, cli, database_url, store):
        """A household paired after 2015-08-31 breaks the pairing date even if every visit was on time."""
        add_household(store, 2, 1)
        pair(store, C2, h(2, 1), CONTACT, start="2015-09-10")
        for number, s in ((h(1, 1), 1), (h(1, 2), 2), (h(1, 3), 3), (h(1, 4), 4), (h(2, 1), 5)):
            visit(store, f"V-{s}", number, "2015-10-20", [C1])
        _, results = check(cli, database_url, 2015, "2016-01-15")
        c10 = results["C10"]
        assert (c10["status"], c10["actual"], c10["figures"]["paired_late"]) == ("not_met", "5/5 户", 1)
        assert "1 户在 2015-08-31 之后才结对" in c10["note"]


# -- C37: exit by the end of 2019 ---------------------------------------------------------------------------------


class TestExitBy:
    def test_not_due_before_2019_then_not_met_then_met(self, village, cli, database_url, store):
        """Before 2019 C37 shows progress (not yet due); after 2019 it is not met until every household has exited."""
        _, results = check(cli, database_url, 2016, "2017-01-15")
        assert (results["C37"]["status"], results["C37"]["actual"].split(" (")[0]) == ("not_due", "0/3 户, 0/3 人")
        _, results = check(cli, database_url, 2019, "2020-01-15")
        assert results["C37"]["status"] == "not_met"
        for s in (1, 2, 3):
            visit(store, f"V-{s}", h(1, s), "2019-06-01", [C1], kind="回访", given=answers(disposable_income_per_person="4000"))
        record_exit(store, h(1, 1), 2019, on=d("2019-11-30"), plan=village)
        record_exit(store, h(1, 2), 2019, on=d("2019-11-30"), plan=village)
        _, results = check(cli, database_url, 2019, "2020-01-15")
        assert (results["C37"]["status"], results["C37"]["actual"].split(" (")[0]) == ("not_met", "2/3 户, 2/3 人")
        _, results = check(cli, database_url, 2018, "2020-01-15")
        assert results["C37"]["status"] == "not_due"
        record_exit(store, h(1, 3), 2019, on=d("2019-12-31"), plan=village)
        _, results = check(cli, database_url, 2019, "2020-01-15")
        c37 = results["C37"]
        assert (c37["status"], c37["actual"].split(" (")[0]) == ("met", "3/3 户, 3/3 人")
        assert len(c37["evidence"]) == 3 and all(e.startswith("exit:") for e in c37["evidence"])

    def test_an_exit_after_the_deadline_does_not_count(self, village, cli, database_url, store):
        """Households exiting in 2020 were not out of poverty by 2019-12-31."""
        for s in (1, 2, 3):
            visit(store, f"V-{s}", h(1, s), "2019-06-01", [C1], kind="回访", given=answers(disposable_income_per_person="4000"))
            record_exit(store, h(1, s), 2019, on=d("2020-01-10"), plan=village)
        _, results = check(cli, database_url, 2019, "2020-02-01")
        assert (results["C37"]["status"], results["C37"]["actual"].split(" (")[0]) == ("not_met", "0/3 户, 0/3 人")


# -- the demo village: C07, C08, C09, C12 --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    return build_demo_file(tmp_path_factory.mktemp("demo"))


def test_pairing_commitments_on_the_demo_village(demo_file, tmp_path, cli):
    """After `pair auto`: 48 cadres at quota (C07, C08 met), 336 households (C09 met, its 158/178 vs 153/183 noted), C12 336/336.

    C12 classifies the paired (visited) households, as the seed does (336 = 153 + 183), not all 428 poor ones.
    """
    url = copy_demo(demo_file, tmp_path)
    _, before = check(cli, url, 2015, "2016-01-15")
    assert (before["C08"]["status"], before["C09"]["status"], before["C12"]["status"]) == ("no_data", "no_data", "no_data")
    assert cli("--db", url, "pair", "auto", "--date", "2015-08-20").exit_code == 1
    code, results = check(cli, url, 2015, "2016-01-15")
    assert code == 1
    assert (results["C07"]["status"], results["C07"]["actual"]) == ("met", "厅级 14, 处级 34")
    assert results["C08"]["status"] == "met" and results["C08"]["actual"].startswith("48/48")
    assert len(results["C08"]["evidence"]) == 336
    c09 = results["C09"]
    assert c09["status"] == "met" and c09["actual"].startswith("336 户 (重点帮扶 158, 联系 178)")
    assert all(n in c09["note"] for n in ("158", "178", "153", "183"))
    assert (c09["figures"]["key_help"], c09["figures"]["contact"], c09["figures"]["required_households"]) == (158, 178, 336)
    c12 = results["C12"]
    assert (c12["status"], c12["actual"], c12["figures"]) == ("met", "336/336", {"classified": 336, "households": 336})
    assert len(c12["evidence"]) == 336

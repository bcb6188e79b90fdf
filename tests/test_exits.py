"""Exit assessment (C37): income above the year's poverty line and 两不愁三保障 from the latest visit; recording an exit.

Seeded on SQLite and PostgreSQL: eight poor households of one villager group,
each visited (or not) so that exactly one rule decides its assessment.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from fupin import Actor, NotFound, ValidationError
from fupin.access import AccessDenied, User
from fupin.exits import assess, record_exit
from fupin.pairing import pairings
from fupin.storage import schema as S
from fupin.vocab import Vocabulary
from tests.campaign_seed import (
    KEY,
    VILLAGE,
    add_household,
    answers,
    cadre_code,
    d,
    h,
    pair,
    seed_base,
    snapshot,
    visit,
)

C1 = cadre_code(1)
A, B, C, D, E, F, G, H = (h(1, s) for s in range(1, 9))
EXITED = "已脱贫(享受政策)"


@pytest.fixture
def households(store):
    """A passes; B earns exactly the line; C's housing is unsafe; D left safe water unanswered;
    E has no visit (card income only); F has neither; G failed in March but passes in September; H earns 1 fen above the line."""
    plan = seed_base(store)
    for s, income in ((1, None), (2, None), (3, None), (4, None), (5, 400000), (6, None), (7, None), (8, None)):
        add_household(store, 1, s, **({"net_income_per_capita_fen": income} if income else {}))
        pair(store, C1, h(1, s), KEY)
    visit(store, "V-A", A, "2016-06-01")
    visit(store, "V-B", B, "2016-06-01", given=answers(disposable_income_per_person="2952"))
    visit(store, "V-C", C, "2016-06-01", given=answers(housing_safe="否"))
    visit(store, "V-D", D, "2016-06-01", given=answers(safe_water_ok=None))
    visit(store, "V-G1", G, "2016-03-01", given=answers(housing_safe="否"))
    visit(store, "V-G2", G, "2016-09-01", kind="回访")
    visit(store, "V-H", H, "2016-06-01", given=answers(disposable_income_per_person="2,952.01"))
    return plan


def visit_id(store, ref):
    with store.engine.connect() as conn:
        return conn.execute(sa.select(S.visits.c.id).where(S.visits.c.ref == ref)).scalar_one()


def status_rows(store, number):
    card = store.household_card(number)
    return [(s.status, s.effective, s.reason) for s in card.status_history]


class TestAssess:
    def test_the_2016_line(self):
        """The 2016 national poverty line is 2952 yuan per person (2015: 2855)."""
        vocab = Vocabulary.default()
        assert vocab.poverty_line_fen(2016, VILLAGE) == 295200 and vocab.poverty_line_fen(2015, VILLAGE) == 285500

    def test_each_rule(self, store, households):
        """Income must be above the line; every criterion of the latest visit must hold; no answers, no exit."""
        found = {a.household: a for a in assess(store, households, 2016)}
        assert sorted(found) == [A, B, C, D, E, F, G, H]
        assert {n for n, a in found.items() if a.passed} == {A, G, H}
        assert all(a.line_fen == 295200 and a.jurisdiction == VILLAGE and a.year == 2016 for a in found.values())
        a = found[A]
        assert (a.income_per_capita_fen, a.income_source, a.visit_id, a.reasons) == (350000, "visit", visit_id(store, "V-A"), ())
        assert a.criteria == dict.fromkeys(("food_clothing", "compulsory_education", "basic_medical", "safe_housing", "safe_water"), True)
        assert found[B].income_per_capita_fen == 295200
        assert found[B].reasons == ("人均纯收入 2952.00 元未超过 2016 年贫困线 2952 元 / income not above the line",)
        assert found[C].reasons == ("safe_housing: 未达标 / not met",) and found[C].criteria["safe_housing"] is False
        assert found[D].reasons == ("safe_water: 未作答 / not answered",) and found[D].criteria["safe_water"] is None
        assert (found[E].income_per_capita_fen, found[E].income_source, found[E].visit_id) == (400000, "card", None)
        assert found[E].reasons == ("无走访问卷答案, 无法核实两不愁三保障 / no visit answers to prove 两不愁三保障",)
        assert found[F].reasons == ("无人均纯收入 / no per-capita income recorded",
                                    "无走访问卷答案, 无法核实两不愁三保障 / no visit answers to prove 两不愁三保障")
        assert found[G].visit_id == visit_id(store, "V-G2") and found[H].income_per_capita_fen == 295201

    def test_the_latest_visit_decides(self, store, households):
        """A later visit that finds a criterion failing undoes an earlier pass."""
        visit(store, "V-A2", A, "2016-11-01", kind="回访", given=answers(medical_insurance_ok="否"))
        (a,) = assess(store, households, 2016, households=[A])
        assert not a.passed and a.reasons == ("basic_medical: 未达标 / not met",) and a.visit_id == visit_id(store, "V-A2")

    def test_only_visits_up_to_the_year(self, store, households):
        """Assessing 2015 uses the 2015 line and ignores the visits of 2016."""
        found = {a.household: a for a in assess(store, households, 2015)}
        assert all(a.line_fen == 285500 and a.visit_id is None and not a.passed for a in found.values())
        assert found[E].income_per_capita_fen == 400000 and found[E].reasons == (
            "无走访问卷答案, 无法核实两不愁三保障 / no visit answers to prove 两不愁三保障",
        )

    def test_an_old_visits_income_does_not_count(self, store, households):
        """With no visit in 2017, the 2017 assessment reads the income on the card, not a 2016 visit's."""
        store.update_household(B, {"net_income_per_capita_fen": 400000})
        (b,) = assess(store, households, 2017, households=[B])
        assert (b.income_per_capita_fen, b.income_source, b.passed) == (400000, "card", True)


class TestRecordExit:
    def test_records_the_assessment_and_the_dated_status(self, store, households):
        """An exit stores its assessment, and the status 已脱贫(享受政策) from its date names it; the cadre stays."""
        result = record_exit(store, A, 2016, on=d("2016-12-20"), plan=households)
        assert result.passed and result.household == A
        with store.engine.connect() as conn:
            (row,) = conn.execute(sa.select(S.exit_assessments)).mappings().all()
        assert (row["year"], row["assessed_on"], row["income_per_capita_fen"], row["line_fen"], row["jurisdiction"]) == (
            2016, d("2016-12-20"), 350000, 295200, VILLAGE,
        )
        assert (row["visit_id"], row["passed"], row["reasons"], row["unit"], row["user"]) == (visit_id(store, "V-A"), True, [], "TEST", "tester")
        assert row["criteria"] == result.criteria and all(row["criteria"].values())
        assert store.get_household(A).status == EXITED
        history = status_rows(store, A)
        assert history[0][:2] == ("未脱贫", d("2014-10-01"))
        assert history[-1][:2] == (EXITED, d("2016-12-20")) and f"exit:{row['id']}" in history[-1][2]
        assert A not in {a.household for a in assess(store, households, 2016)}
        # 脱贫不脱帮扶 (fupin.exits): the household keeps its cadre; revisits go on.
        assert [(p.cadre, p.end) for p in pairings(store, household=A)] == [(C1, None)]

    @pytest.mark.parametrize("number", [B, C, D, E, F])
    def test_a_failing_household_is_refused_and_nothing_changes(self, store, households, number):
        """A household that does not pass is refused with its reasons; nothing at all is written."""
        before = snapshot(store)
        history = status_rows(store, number)
        with pytest.raises(ValidationError) as caught:
            record_exit(store, number, 2016, on=d("2016-12-20"), plan=households)
        (expected,) = assess(store, households, 2016, households=[number])
        assert [(p.field, p.reason, p.value) for p in caught.value.problems] == [("exit", r, number) for r in expected.reasons]
        assert snapshot(store) == before
        assert store.get_household(number).status == "未脱贫" and status_rows(store, number) == history

    def test_only_poor_households_of_the_plan(self, store, households):
        """An exited household cannot exit again."""
        record_exit(store, A, 2016, on=d("2016-12-20"), plan=households)
        with pytest.raises(NotFound):
            record_exit(store, A, 2016, on=d("2016-12-21"), plan=households)

    def test_needs_exits_write(self, store, households):
        """An auditor (no exits.write) is refused and nothing changes."""
        store.add_user(User("PROVINCE", "auditor", ("auditor",)))
        before = snapshot(store)
        with pytest.raises(AccessDenied, match="exits.write"):
            record_exit(store.acting_as(Actor.parse("PROVINCE:auditor")), A, 2016, on=d("2016-12-20"), plan=households)
        assert snapshot(store) == before


class TestCommands:
    def test_assess_json(self, store, households, cli, database_url):
        """`exit assess --json` lists every poor household with its figures, criteria and reasons."""
        result = cli("--db", database_url, "exit", "assess", "--year", "2016", "--json")
        assert result.exit_code == 0, result.output
        found = {a["household"]: a for a in json.loads(result.output)}
        assert {n for n, a in found.items() if a["passed"]} == {A, G, H} and len(found) == 8
        assert (found[A]["income_per_capita_fen"], found[A]["line_fen"], found[A]["income_source"]) == (350000, 295200, "visit")
        assert found[C]["reasons"] == ["safe_housing: 未达标 / not met"] and found[C]["criteria"]["safe_housing"] is False
        text = cli("--db", database_url, "exit", "assess", "--year", "2016", "--all")
        assert text.exit_code == 0 and "可脱贫 3 户 / 8 户" in text.output and "safe_housing: 未达标" in text.output

    def test_record(self, store, households, cli, database_url):
        """`exit record` records passing households; one failing household in the list refuses the whole command."""
        result = cli("--db", database_url, "exit", "record", G, C, "--year", "2016", "--date", "2016-12-20")
        assert result.exit_code == 1 and "safe_housing" in result.output and "Traceback" not in result.output
        assert store.get_household(G).status == "未脱贫"
        result = cli("--db", database_url, "exit", "record", A, H, "--year", "2016", "--date", "2016-12-20")
        assert result.exit_code == 0 and "已记录脱贫 2 户" in result.output
        assert [store.get_household(n).status for n in (A, H, G)] == [EXITED, EXITED, "未脱贫"]
        assert status_rows(store, H)[-1][:2] == (EXITED, d("2016-12-20"))

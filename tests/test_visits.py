"""转走访: the one definition of due and overdue, the worklist, recording visits, and importing visits, diary and cases.

The due/overdue cases are the ones the module docstring of fupin.visits lists;
the worklist runs through ``fupin visits due --json`` on a small campaign seeded
on SQLite and PostgreSQL (tests/campaign_seed.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from fupin import NotFound, ValidationError, load_plan
from fupin.model import Visit
from fupin.storage import schema as S
from fupin.visits import CampaignRule, close_case, due_list, due_status, record_visit
from tests.campaign_seed import (
    CONTACT,
    HOUSEHOLD_Q,
    KEY,
    PASSING,
    VILLAGE,
    VILLAGE_Q,
    add_household,
    answers,
    cadre_code,
    case,
    count,
    d,
    h,
    pair,
    seed_base,
    snapshot,
    visit,
)

C1, C2 = cadre_code(1), cadre_code(2)

# -- due_status: the documented cases -------------------------------------------------------------

RULE = CampaignRule(pairing_by=d("2015-08-31"), first_round_by=d("2015-10-31"), revisit_per_year=1, first_visit_days=60)

DUE_CASES = [
    # (case, as of, paired from, last visit, expected)
    ("never visited, before the first-round deadline", "2015-10-01", "2015-08-20", None, ("due", "2015-10-31")),
    ("never visited, on the deadline", "2015-10-31", "2015-08-20", None, ("due", "2015-10-31")),
    ("never visited, after the deadline", "2015-11-01", "2015-08-20", None, ("overdue", "2015-10-31")),
    ("never visited, years after the deadline", "2017-06-01", "2015-08-20", None, ("overdue", "2015-10-31")),
    ("paired on the deadline: due by the deadline", "2015-11-01", "2015-10-31", None, ("overdue", "2015-10-31")),
    ("paired after the deadline: start + 60 days", "2016-04-30", "2016-03-01", None, ("due", "2016-04-30")),
    ("paired after the deadline, 61 days on", "2016-05-01", "2016-03-01", None, ("overdue", "2016-04-30")),
    ("visited last year", "2016-06-01", "2015-08-20", "2015-10-10", ("due", "2016-12-31")),
    ("visited on 1 January of last year", "2017-12-31", "2015-08-20", "2016-01-01", ("due", "2017-12-31")),
    ("visited two years ago", "2017-01-01", "2015-08-20", "2015-10-10", ("overdue", "2017-12-31")),
    ("visited on 31 December two years ago", "2017-06-01", "2015-08-20", "2015-12-31", ("overdue", "2017-12-31")),
    ("visited this year", "2016-06-01", "2015-08-20", "2016-02-01", None),
    ("visited today", "2016-06-01", "2015-08-20", "2016-06-01", None),
    ("visited on 1 January", "2016-01-01", "2015-08-20", "2016-01-01", None),
]


class TestDueStatus:
    @pytest.mark.parametrize(("case", "as_of", "paired", "last", "expected"), DUE_CASES, ids=[c[0] for c in DUE_CASES])
    def test_documented_cases(self, case, as_of, paired, last, expected):
        """Each case of the module docstring gives its status and due date."""
        found = due_status(RULE, d(as_of), d(paired), d(last) if last else None)
        assert found == (None if expected is None else (expected[0], d(expected[1])))

    def test_rule_of_the_reference_plan(self):
        """The rule is read from the plan's core.visit_campaign commitment (C10); only interviews count: not a call, not a 送温暖 gift visit."""
        rule = CampaignRule.of(load_plan("qjnu-tuomu"))
        assert (rule.pairing_by, rule.first_round_by, rule.revisit_per_year, rule.first_visit_days, rule.commitment) == (
            d("2015-08-31"), d("2015-10-31"), 1, 60, "C10",
        )
        assert set(rule.counts_as_visit) == {"首轮走访", "回访"}


class TestWorklistAgreesWithDueStatus:
    def test_documented_cases(self, store):
        """The worklist, computed in the database, gives each documented case the status and due date of due_status."""
        plan = seed_base(store)
        for n, (_case, _as_of, paired, last, _expected) in enumerate(DUE_CASES, start=1):
            add_household(store, 1, n)
            pair(store, C1, h(1, n), KEY, start=paired)
            if last:
                visit(store, f"V-{n}", h(1, n), last)
        for n, (case, as_of, paired, last, _expected) in enumerate(DUE_CASES, start=1):
            listed = {i.household: i for i in due_list(store, plan, as_of=d(as_of))}
            expected = due_status(RULE, d(as_of), d(paired), d(last) if last else None)
            if expected is None:
                assert h(1, n) not in listed, case
                continue
            item = listed[h(1, n)]
            status, due_by = expected
            late = 0 if status == "due" else (d(as_of) - (due_by if last is None else dt.date(d(last).year + 1, 12, 31))).days
            assert (item.status, item.due_by, item.last_visit, item.days_overdue) == (status, due_by, d(last) if last else None, late), case


# -- the worklist --------------------------------------------------------------------------------------


@pytest.fixture
def campaign(store):
    """Six households:

    - h(1,1) C001, visited 2015-10-10;           - h(1,2) C001, visited 2015-10-10 and 2016-02-01;
    - h(1,3) C002, never visited;                - h(2,1) C002, visited 2015-10-10, then only a phone call in 2016;
    - h(2,2) C002 from 2016-03-01, never visited; - h(2,3) C001 until 2015-12-31 (moved away), never visited.
    """
    plan = seed_base(store)
    for g, s in ((1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)):
        add_household(store, g, s)
    pair(store, C1, h(1, 1), KEY)
    pair(store, C1, h(1, 2), CONTACT)
    pair(store, C2, h(1, 3), KEY)
    pair(store, C2, h(2, 1), CONTACT)
    pair(store, C2, h(2, 2), KEY, start="2016-03-01")
    pair(store, C1, h(2, 3), KEY, end="2015-12-31")
    visit(store, "V-1", h(1, 1), "2015-10-10")
    visit(store, "V-2", h(1, 2), "2015-10-10")
    visit(store, "V-3", h(1, 2), "2016-02-01", kind="回访")
    visit(store, "V-4", h(2, 1), "2015-10-10", [C2])
    visit(store, "V-5", h(2, 1), "2016-03-01", [C2], kind="电话", given={})
    return plan


def due(cli, url, *args):
    result = cli("--db", url, "visits", "due", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def days(later: str, earlier: str) -> int:
    return (d(later) - d(earlier)).days


class TestDueList:
    def test_worklist_in_the_year_after_the_first_round(self, campaign, cli, database_url):
        """Mid-2016: the never-visited are overdue (most overdue first), last year's visits are due, this year's are not."""
        items = due(cli, database_url, "--as-of", "2016-06-01")
        assert [(i["household"], i["status"], i["due_by"], i["last_visit"], i["days_overdue"]) for i in items] == [
            (h(1, 3), "overdue", "2015-10-31", None, days("2016-06-01", "2015-10-31")),
            (h(2, 2), "overdue", "2016-04-30", None, days("2016-06-01", "2016-04-30")),
            (h(1, 1), "due", "2016-12-31", "2015-10-10", 0),
            (h(2, 1), "due", "2016-12-31", "2015-10-10", 0),
        ]
        assert items[0]["cadres"] == [C2] and items[0]["head_name"] == "户主1-3" and items[0]["group_code"] == h(1, 3)[:14]

    def test_one_cadres_worklist(self, campaign, cli, database_url):
        """--cadre keeps the households that cadre helps on the day."""
        items = due(cli, database_url, "--as-of", "2016-06-01", "--cadre", C2)
        assert [i["household"] for i in items] == [h(1, 3), h(2, 2), h(2, 1)]
        assert all(i["cadres"] == [C2] for i in items)

    def test_a_cadre_without_households_has_an_empty_worklist(self, campaign, cli, database_url):
        """--cadre of a cadre who helps nobody on the day lists nothing."""
        assert due(cli, database_url, "--as-of", "2016-06-01", "--cadre", "QJNU-C999") == []

    def test_a_year_without_a_visit_is_overdue(self, campaign, cli, database_url):
        """In 2017, households last visited in 2015 have missed 2016: overdue since its last day."""
        items = due(cli, database_url, "--as-of", "2017-03-01")
        assert [(i["household"], i["status"], i["days_overdue"]) for i in items] == [
            (h(1, 3), "overdue", days("2017-03-01", "2015-10-31")),
            (h(2, 2), "overdue", days("2017-03-01", "2016-04-30")),
            (h(1, 1), "overdue", days("2017-03-01", "2016-12-31")),
            (h(2, 1), "overdue", days("2017-03-01", "2016-12-31")),
            (h(1, 2), "due", 0),
        ]

    def test_during_the_first_round(self, campaign, cli, database_url):
        """Before the first-round deadline every paired, unvisited household is due by it."""
        items = due(cli, database_url, "--as-of", "2015-09-30")
        assert [(i["household"], i["status"], i["due_by"]) for i in items] == [
            (number, "due", "2015-10-31") for number in sorted((h(1, 1), h(1, 2), h(1, 3), h(2, 1), h(2, 3)))
        ]

    def test_text_output(self, campaign, cli, database_url):
        """Without --json: a count line and a table."""
        result = cli("--db", database_url, "visits", "due", "--as-of", "2016-06-01")
        assert result.exit_code == 0
        lines = result.output.splitlines()
        assert lines[0] == "应访 4 户, 其中逾期 2 户 / 4 households due, 2 overdue"
        rows = {line.split()[0]: line.split() for line in lines if line.strip().startswith("5303")}
        assert list(rows) == [h(1, 3), h(2, 2), h(1, 1), h(2, 1)]
        assert rows[h(1, 3)][1:] == ["户主1-3", C2, "逾期", "2015-10-31", "-", str(days("2016-06-01", "2015-10-31"))]
        assert rows[h(1, 1)][1:] == ["户主1-1", C1, "待访", "2016-12-31", "2015-10-10", "0"]

    def test_transferred_household_never_visited_stays_overdue(self, campaign, cli, database_url, store):
        """A household paired since 2015 and never visited is overdue since 2015-10-31, whoever helps it now."""
        from fupin.pairing import transfer

        transfer(store, C2, C1, on=d("2017-01-01"), reason="调离 / left")
        items = {i["household"]: i for i in due(cli, database_url, "--as-of", "2017-02-01")}
        assert (items[h(1, 3)]["status"], items[h(1, 3)]["due_by"]) == ("overdue", "2015-10-31")


# -- recording one visit ---------------------------------------------------------------------------------


@pytest.fixture
def household(store):
    seed_base(store)
    number = add_household(store, 1, 1)
    pair(store, C1, number)
    return number


def stored_visits(store):
    with store.engine.connect() as conn:
        return {r.ref: r for r in conn.execute(sa.select(S.visits))}


class TestRecordVisit:
    def test_answers_are_stored_in_canonical_form(self, store, household):
        """Answers are checked and stored canonically: 是 -> true, yuan -> integer fen, multi-choice in form order."""
        visit(store, "V-1", household, "2015-09-10", [C1, C2], given=answers(help_needs="技术、产业", household_size="４"))
        row = stored_visits(store)["V-1"]
        assert row.questionnaire == HOUSEHOLD_Q and row.visit_date == d("2015-09-10") and row.kind == "首轮走访"
        assert row.answers["gross_income"] == 1400050 and row.answers["disposable_income_per_person"] == 350000
        assert row.answers["food_clothing_ok"] is True and row.answers["household_size"] == 4
        assert row.answers["help_needs"] == ["产业", "技术"]
        with store.engine.connect() as conn:
            assert sorted(conn.execute(sa.select(S.visit_cadres.c.cadre_code)).scalars()) == [C1, C2]

    def test_bad_choice_is_refused_and_nothing_stored(self, store, household):
        """An answer that is not one of the choices is refused by its field answers.X; nothing is stored."""
        before = snapshot(store)
        with pytest.raises(ValidationError) as caught:
            visit(store, "V-1", household, "2015-09-10", given=answers(attribute="富裕户"))
        assert [(p.field, p.value) for p in caught.value.problems] == [("answers.attribute", "富裕户")]
        assert snapshot(store) == before

    def test_every_problem_at_once(self, store, household):
        """Unknown questions, unreadable answers and missing required answers are all reported together."""
        with pytest.raises(ValidationError) as caught:
            visit(store, "V-1", household, "2015-09-10",
                  given={"food_clothing_ok": "也许", "gross_incom": "100", "household_size": "很多"})
        assert sorted(p.field for p in caught.value.problems) == [
            "answers.attribute", "answers.food_clothing_ok", "answers.gross_incom", "answers.household_size",
        ]
        assert count(store, S.visits) == 0

    def test_answers_need_their_questionnaire(self):
        """Answers without the questionnaire they answer are refused (field questionnaire)."""
        with pytest.raises(ValidationError) as caught:
            Visit.new(ref="V-1", date="2015-09-10", kind="首轮走访", cadres=[C1], household="H1", answers=dict(PASSING))
        assert [p.field for p in caught.value.problems] == ["questionnaire"]
        with pytest.raises(ValidationError):
            Visit.new(ref="V-1", date="2015-09-10", kind="首轮走访", cadres=[C1], household="H1", questionnaire="yunnan-household")

    def test_village_questionnaire_on_a_household_visit(self, store, household):
        """The village form does not fit a household visit, nor the household form a village visit."""
        before = snapshot(store)
        village_answers = {"total_households": 778, "total_population": 2996}
        with pytest.raises(ValidationError) as caught:
            visit(store, "V-1", household, "2015-09-10", given=village_answers, questionnaire=VILLAGE_Q)
        assert [p.field for p in caught.value.problems] == ["questionnaire"]
        with pytest.raises(ValidationError) as caught:
            record_visit(store, Visit.new(ref="V-2", date="2015-09-10", kind="首轮走访", cadres=[C1], village=VILLAGE,
                                          questionnaire=HOUSEHOLD_Q, answers=dict(PASSING)))
        assert "questionnaire" in [p.field for p in caught.value.problems]
        assert snapshot(store) == before
        record_visit(store, Visit.new(ref="V-3", date="2015-09-10", kind="首轮走访", cadres=[C1], village=VILLAGE,
                                      questionnaire=VILLAGE_Q, answers=village_answers))
        assert stored_visits(store)["V-3"].village_code == VILLAGE

    def test_unknown_cadre_and_repeated_number(self, store, household):
        """Visiting cadres must be registered and a visit number is recorded once."""
        with pytest.raises(ValidationError) as caught:
            visit(store, "V-1", household, "2015-09-10", [C1, "QJNU-C999"])
        assert [(p.field, p.value) for p in caught.value.problems] == [("cadres", "QJNU-C999")]
        visit(store, "V-1", household, "2015-09-10")
        with pytest.raises(ValidationError) as caught:
            visit(store, "V-1", household, "2015-09-11")
        assert [p.field for p in caught.value.problems] == ["ref"]
        assert count(store, S.visits) == 1

    def test_unknown_questionnaire_version(self, store, household):
        """A questionnaire version that does not exist is not found."""
        with pytest.raises(NotFound):
            visit(store, "V-1", household, "2015-09-10", questionnaire="yunnan-household@9")


# -- batch import -----------------------------------------------------------------------------------------


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def imported(cli, url, kind, path, *extra):
    result = cli("--db", url, "import", kind, path, "--json", *extra)
    return result.exit_code, json.loads(result.output) if result.output.lstrip().startswith("{") else result.output


@pytest.fixture
def two_households(store):
    seed_base(store)
    numbers = [add_household(store, 1, 1), add_household(store, 1, 2)]
    pair(store, C1, numbers[0])
    pair(store, C2, numbers[1], CONTACT)
    return numbers


JSON_ANSWERS = {"attribute": "低保户", "household_size": "4", "gross_income": "12,000.50", "food_clothing_ok": "是", "help_needs": "饮水、产业"}
CLEANED = {"attribute": "低保户", "household_size": 4, "gross_income": 1200050, "food_clothing_ok": True, "help_needs": ["产业", "饮水"]}


class TestImportVisits:
    def test_answers_as_one_json_column(self, store, two_households, cli, database_url, tmp_path):
        """A JSON answers column is checked and stored canonically; importing the same file again changes nothing."""
        a, b = two_households
        path = write_csv(tmp_path / "走访.csv", ["走访编号", "走访日期", "走访类型", "走访干部", "户编号", "方案", "问卷", "问卷答案", "走访情况"], [
            ["V-1", "2015-09-10", "首轮走访", f"{C1}、{C2}", a, "qjnu-tuomu", HOUSEHOLD_Q, json.dumps(JSON_ANSWERS, ensure_ascii=False), "了解情况"],
            ["V-2", "2015-09-11", "首轮走访", C2, b, "qjnu-tuomu", "", "", "无问卷"],
        ])
        code, out = imported(cli, database_url, "visits", path)
        assert code == 0 and (out["inserted"], out["updated"], out["unchanged"], out["rejected"]) == (2, 0, 0, 0)
        rows = stored_visits(store)
        assert rows["V-1"].answers == CLEANED and rows["V-2"].answers is None
        with store.engine.connect() as conn:
            cadres = conn.execute(sa.select(S.visit_cadres.c.cadre_code).where(S.visit_cadres.c.visit_id == rows["V-1"].id)).scalars()
            assert sorted(cadres) == [C1, C2]
        code, out = imported(cli, database_url, "visits", path)
        assert code == 0 and (out["inserted"], out["updated"], out["unchanged"]) == (0, 0, 2)
        assert stored_visits(store)["V-1"].answers == CLEANED

    def test_answers_as_one_column_per_question(self, store, two_households, cli, database_url, tmp_path):
        """Per-question columns (answers.food_clothing_ok ..., as in the English template) give the same answers."""
        a, _ = two_households
        template = tmp_path / "template.csv"
        assert cli("template", "visits", "--format", "csv", "--english", "-o", str(template)).exit_code == 0
        header = read_csv(template)[0]
        wanted = ["answers.attribute", "answers.household_size", "answers.gross_income", "answers.food_clothing_ok", "answers.help_needs"]
        assert set(wanted) <= set(header) and {"ref", "date", "kind", "cadres", "household", "questionnaire", "answers"} <= set(header)
        path = write_csv(tmp_path / "visits.csv", ["ref", "date", "kind", "cadres", "household", "questionnaire", *wanted], [
            ["V-1", "2015-09-10", "首轮走访", C1, a, HOUSEHOLD_Q, *(JSON_ANSWERS[w.split(".")[1]] for w in wanted)],
        ])
        code, out = imported(cli, database_url, "visits", path)
        assert code == 0 and out["inserted"] == 1
        assert stored_visits(store)["V-1"].answers == CLEANED
        code, out = imported(cli, database_url, "visits", path)
        assert code == 0 and (out["inserted"], out["updated"], out["unchanged"]) == (0, 0, 1)

    def test_per_question_columns_with_chinese_headers(self, store, two_households, cli, database_url, tmp_path):
        """The Chinese headers of the template (number and question text) are read as the questions."""
        a, _ = two_households
        template = tmp_path / "模板.csv"
        assert cli("template", "visits", "--format", "csv", "-o", str(template)).exit_code == 0
        header = read_csv(template)[0]
        zh = {"attribute": "1 贫困户属性(单选)", "household_size": "2 家庭人口", "food_clothing_ok": "F4 吃穿不愁(不愁吃、不愁穿)"}
        assert set(zh.values()) <= set(header)
        path = write_csv(tmp_path / "走访.csv", ["走访编号", "走访日期", "走访类型", "走访干部", "户编号", "问卷", *zh.values()], [
            ["V-1", "2015-09-10", "首轮走访", C1, a, HOUSEHOLD_Q, "五保户", "1", "否"],
        ])
        code, out = imported(cli, database_url, "visits", path)
        assert code == 0, out
        assert stored_visits(store)["V-1"].answers == {"attribute": "五保户", "household_size": 1, "food_clothing_ok": False}

    def test_a_bad_answer_refuses_the_file(self, store, two_households, cli, database_url, tmp_path):
        """One bad answer and nothing is written (exit 1); the error gives the row, the value and the choices."""
        a, b = two_households
        path = write_csv(tmp_path / "visits.csv", ["ref", "date", "kind", "cadres", "household", "questionnaire", "answers.attribute", "answers.household_size"], [
            ["V-1", "2015-09-10", "首轮走访", C1, a, HOUSEHOLD_Q, "低保户", "3"],
            ["V-2", "2015-09-11", "首轮走访", C2, b, HOUSEHOLD_Q, "富裕户", "3"],
        ])
        before = snapshot(store)
        code, out = imported(cli, database_url, "visits", path)
        assert code == 1 and out["committed"] is False and out["rejected"] == 1
        (error,) = out["errors"]
        assert (error["row"], error["value"]) == (3, "富裕户") and "一般贫困户、低保户、五保户、低保贫困户" in error["reason"]
        assert snapshot(store) == before

    def test_a_bad_answer_names_its_column(self, store, two_households, cli, database_url, tmp_path):
        """The error names the per-question column the bad answer is in."""
        a, _ = two_households
        path = write_csv(tmp_path / "visits.csv", ["ref", "date", "kind", "cadres", "household", "questionnaire", "answers.attribute", "answers.household_size"], [
            ["V-1", "2015-09-10", "首轮走访", C1, a, HOUSEHOLD_Q, "富裕户", "3"],
        ])
        code, out = imported(cli, database_url, "visits", path)
        assert code == 1 and [e["column"] for e in out["errors"]] == ["answers.attribute"]

    @pytest.mark.parametrize("english", [False, True], ids=["chinese-headers", "english-headers"])
    def test_export_then_import_is_lossless(self, store, two_households, cli, database_url, tmp_path, english):
        """An exported visit file imports back unchanged: yuan answers are written in yuan, not multiplied by 100."""
        a, b = two_households
        visit(store, "V-1", a, "2015-09-10", [C1, C2], findings="了解情况")
        visit(store, "V-2", b, "2015-09-11", [C2], given={})
        before = stored_visits(store)
        out_file = tmp_path / "visits-export.csv"
        args = ["export", "visits", "--format", "csv", "-o", str(out_file)] + (["--english"] if english else [])
        assert cli("--db", database_url, *args).exit_code == 0
        rows = read_csv(out_file)
        answers_col = rows[0].index("answers" if english else "问卷答案")
        exported = json.loads(rows[1][answers_col])
        assert exported["gross_income"] == "14000.50" and exported["disposable_income_per_person"] == "3500.00"
        code, out = imported(cli, database_url, "visits", str(out_file))
        assert code == 0, out
        assert (out["inserted"], out["updated"], out["unchanged"]) == (0, 0, 2)
        after = stored_visits(store)
        assert after["V-1"].answers == before["V-1"].answers and after["V-1"].answers["gross_income"] == 1400050
        assert after["V-2"].answers is None

    def test_the_chinese_template_imports(self, store, two_households, cli, database_url, tmp_path):
        """The Chinese template, filled in, is a file `fupin import visits` reads."""
        a, _ = two_households
        template = tmp_path / "模板.csv"
        assert cli("template", "visits", "--format", "csv", "-o", str(template)).exit_code == 0
        header = read_csv(template)[0]
        assert len(header) == len(set(header))
        row = {"走访编号": "V-1", "走访日期": "2015-09-10", "走访类型": "首轮走访", "走访干部": C1, "户编号": a, "问卷": HOUSEHOLD_Q,
               "1 贫困户属性(单选)": "低保户", "2 家庭人口": "3"}
        path = write_csv(tmp_path / "走访.csv", header, [[row.get(c, "") for c in header]])
        code, out = imported(cli, database_url, "visits", path)
        assert code == 0 and out["inserted"] == 1


# -- diary entries and cases -------------------------------------------------------------------------------------

CASE_HEADER = ["案件编号", "类型", "受理日期", "承办干部", "事由", "状态", "户编号", "办结日期", "办理结果"]
DIARY_HEADER = ["编号", "日期", "干部编号", "类型", "内容", "户编号", "村代码", "案件编号"]


class TestDiaryAndCases:
    def test_import_cases_then_diary(self, store, two_households, cli, database_url, tmp_path):
        """Cases and diary entries (one following a case) import, and import again unchanged."""
        a, b = two_households
        cases = write_csv(tmp_path / "案件.csv", CASE_HEADER, [
            ["K-1", "矛盾纠纷", "2016-03-01", C1, "宅基地纠纷", "跟进中", a, "", ""],
            ["K-2", "求助", "2016-04-01", C2, "申请低保", "已办结", b, "2016-04-20", "已转民政办"],
        ])
        diary = write_csv(tmp_path / "民情日记.csv", DIARY_HEADER, [
            ["D-1", "2016-03-01", C1, "民情日记", "走访了解宅基地纠纷", a, "", ""],
            ["D-2", "2016-03-05", C1, "案件跟进", "双方同意调解", a, "", "K-1"],
            ["D-3", "2016-03-18", C2, "意见建议", "希望硬化村道", "", VILLAGE, ""],
        ])
        for path, n in ((cases, 2), (diary, 3)):
            code, out = imported(cli, database_url, "cases" if "案件" in path else "diary", path)
            assert code == 0 and out["inserted"] == n, out
            code, out = imported(cli, database_url, "cases" if "案件" in path else "diary", path)
            assert code == 0 and (out["inserted"], out["updated"], out["unchanged"]) == (0, 0, n)
        with store.engine.connect() as conn:
            kept = {r.ref: (r.status, r.closed, r.resolution) for r in conn.execute(sa.select(S.cases))}
            entries = {r.ref: (r.kind, r.case_ref, r.village_code) for r in conn.execute(sa.select(S.diary_entries))}
        assert kept == {"K-1": ("跟进中", None, ""), "K-2": ("已办结", d("2016-04-20"), "已转民政办")}
        assert entries == {"D-1": ("民情日记", None, None), "D-2": ("案件跟进", "K-1", None), "D-3": ("意见建议", None, VILLAGE)}

    def test_a_closing_date_goes_with_status_closed(self, store, two_households, cli, database_url, tmp_path):
        """A case row with a closing date but not status 已办结 (or the reverse) is refused; nothing is written."""
        a, _ = two_households
        cases = write_csv(tmp_path / "cases.csv", CASE_HEADER, [
            ["K-1", "诉求", "2016-03-01", C1, "修路", "已受理", a, "2016-03-09", "已修"],
            ["K-2", "诉求", "2016-03-01", C1, "修路", "已办结", a, "", ""],
            ["K-3", "诉求", "2016-03-01", C1, "修路", "已受理", a, "", ""],
        ])
        code, out = imported(cli, database_url, "cases", cases)
        assert code == 1 and [e["row"] for e in out["errors"]] == [2, 3]
        assert count(store, S.cases) == 0

    def test_diary_about_an_unknown_case_is_refused_by_the_library(self, store, two_households):
        """add_diary_entry refuses a case follow-up whose case is not recorded (field case_ref)."""
        from tests.campaign_seed import diary

        with pytest.raises(ValidationError) as caught:
            diary(store, "D-1", "2016-03-05", household=two_households[0], case_ref="K-9")
        assert [(p.field, p.value) for p in caught.value.problems] == [("case_ref", "K-9")]
        assert count(store, S.diary_entries) == 0

    def test_diary_about_an_unknown_case_is_refused_by_the_import(self, store, two_households, cli, database_url, tmp_path):
        """`fupin import diary` refuses the same entry, naming its row and the case number."""
        a, _ = two_households
        diary = write_csv(tmp_path / "diary.csv", DIARY_HEADER, [["D-1", "2016-03-05", C1, "案件跟进", "跟进", a, "", "K-9"]])
        code, out = imported(cli, database_url, "diary", diary)
        assert count(store, S.diary_entries) == 0
        assert code == 1 and [(e["row"], e["value"]) for e in out["errors"]] == [(2, "K-9")]

    def test_close_a_case(self, store, two_households, cli, database_url):
        """`case close` records the date and resolution; closing twice, before opening, or without a resolution is refused."""
        a, _ = two_households
        case(store, "K-1", a, "2016-03-01")
        result = cli("--db", database_url, "case", "close", "K-1", "--date", "2016-03-09")
        assert result.exit_code == 2 and "--resolution" in result.output
        result = cli("--db", database_url, "case", "close", "K-1", "--date", "2016-02-28", "--resolution", "已调解")
        assert result.exit_code == 1 and "before the case was opened" in result.output
        result = cli("--db", database_url, "case", "close", "K-1", "--date", "2016-03-09", "--resolution", "已调解 / mediated")
        assert result.exit_code == 0, result.output
        with store.engine.connect() as conn:
            row = conn.execute(sa.select(S.cases).where(S.cases.c.ref == "K-1")).one()
        assert (row.status, row.closed, row.resolution) == ("已办结", d("2016-03-09"), "已调解 / mediated")
        entry = [e for e in store.audit_entries(table="cases", key="K-1") if e.operation == "update"][-1]
        assert entry.old["status"] == "已受理" and entry.new["status"] == "已办结"
        result = cli("--db", database_url, "case", "close", "K-1", "--date", "2016-03-10", "--resolution", "再次")
        assert result.exit_code == 1 and "already closed" in result.output
        result = cli("--db", database_url, "case", "close", "K-9", "--resolution", "x")
        assert result.exit_code == 1 and "no such case" in result.output and "Traceback" not in result.output

    def test_close_case_needs_a_resolution(self, store, two_households):
        """Through the library: a blank resolution is refused and the case stays open."""
        a, _ = two_households
        case(store, "K-1", a, "2016-03-01")
        with pytest.raises(ValidationError) as caught:
            close_case(store, "K-1", closed=d("2016-03-09"), resolution="  ")
        assert [p.field for p in caught.value.problems] == ["resolution"]
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(S.cases.c.status)).scalar_one() == "已受理"

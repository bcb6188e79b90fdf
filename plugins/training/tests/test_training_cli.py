"""`fupin training skills` / `gaps`, batch import and export of the stream's files, the report section."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

VILLAGE = "530326106200"


def run(cli, url, *args):
    result = cli("--db", url, *args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def seed(world):
    p11, p12, p21 = world.person(1, 1), world.person(1, 2), world.person(2, 1)
    world.session("2016-03-01", "蓝莓", [p11, p21], ref="S-1")
    world.session("2016-04-01", "蓝莓", [p11], ref="S-2", group=f"{VILLAGE}01")
    world.assessment("2016-05-01", "烤烟", p12, ref="K-1")
    world.session("2017-03-01", "生猪养殖", [p11], ref="S-3", group=f"{VILLAGE}02")


class TestSkills:
    def test_household_skills_are_its_members(self, world, cli, database_url):
        """Two techniques for household 1: blueberry by 8 hours (member 1), tobacco by assessment (member 2)."""
        seed(world)
        out = json.loads(run(cli, database_url, "training", "skills", "--household", world.household(1), "--on", "2016-12-31", "--json").output)
        assert out["count"] == 2 and out["skill_hours"] == 8
        by = {t["technique"]: t for t in out["techniques"]}
        assert set(by) == {"fruit_trees.blueberry", "crops.tobacco"}
        blueberry = by["fruit_trees.blueberry"]["members"][0]
        assert blueberry["how"] == "hours" and blueberry["hours"] == 8 and blueberry["name"] == "成员1-1"
        assert blueberry["evidence"] == ["action:S-1", "action:S-2"] and "*" in blueberry["id_number"]
        assert by["crops.tobacco"]["members"][0]["how"] == "assessment"
        text = run(cli, database_url, "training", "skills", "--household", world.household(1), "--on", "2016-12-31").output
        assert "蓝莓种植" in text and "烤烟种植与烘烤" in text and "掌握 2 门" in text

    def test_before_the_hours_are_reached(self, world, cli, database_url):
        """On a day before the second session, 4 hours are not enough: no technique yet."""
        seed(world)
        out = json.loads(run(cli, database_url, "training", "skills", "--household", world.household(2), "--on", "2016-12-31", "--json").output)
        assert out["count"] == 0

    def test_unknown_household(self, world, cli, database_url):
        """An unknown household is a one-line error, exit 1."""
        result = cli("--db", database_url, "training", "skills", "--household", "999")
        assert result.exit_code == 1 and "未登记" in result.output and "Traceback" not in result.output


class TestGaps:
    def test_households_without_with_nearest_sessions(self, world, cli, database_url):
        """2016: households 2 and 3 have none; 2 is shown its group's sessions, 3 (no session in its group that year) the village's."""
        seed(world)
        out = json.loads(run(cli, database_url, "training", "gaps", "--year", "2016", "--json").output)
        assert (out["households"], out["without"]) == (3, 2)
        gaps = {g["household"]: g for g in out["gaps"]}
        assert set(gaps) == {world.household(2), world.household(3)}
        two = gaps[world.household(2)]
        assert two["nearest"] == "group" and [s["ref"] for s in two["sessions"]] == ["S-1", "S-2"] and two["best_hours"] == 4
        assert gaps[world.household(3)]["nearest"] == "village"
        text = run(cli, database_url, "training", "gaps", "--year", "2016").output
        assert "2 户尚未掌握" in text and world.household(3) in text

    def test_scope_of_the_actor(self, world, cli, database_url):
        """An area user sees the gaps of their villager group only; a department clerk without registry.read is refused."""
        from fupin.ext import User

        seed(world)
        world.store.add_user(User("ZHZ-GOV", "clerk", ("area_user",), (f"{VILLAGE}02",), login=world.store.session_login()))
        world.store.add_user(User("QJNU-BIO", "clerk", ("department",), login=world.store.session_login()))
        out = json.loads(run(cli, database_url, "--as", "ZHZ-GOV:clerk", "training", "gaps", "--year", "2016", "--json").output)
        assert out["without"] == 2 and [g["household"] for g in out["gaps"]] == [world.household(3)]
        refused = cli("--db", database_url, "--as", "QJNU-BIO:clerk", "training", "gaps", "--year", "2016")
        assert refused.exit_code == 3 and "registry.read" in refused.output

    def test_next_sessions_when_none_that_year(self, world, cli, database_url):
        """In a year without sessions, the next sessions by date are the nearest."""
        seed(world)
        out = json.loads(run(cli, database_url, "training", "gaps", "--year", "2015", "--json").output)
        assert out["without"] == 3
        assert {g["nearest"] for g in out["gaps"]} == {"next"}
        assert out["gaps"][0]["sessions"][0]["ref"] == "S-1"


SESSIONS_CSV = """记录编号,开始日期,登记单位,方案,事项,帮扶干部,受益对象,学时,人数,技术,培训地点,授课教师,村民小组
I-1,2016-03-01,QJNU-BIO,qjnu-tuomu,蓝莓培训,QJNU-C001,person:{p11}、person:{p21}、village:530326106200,4,30,蓝莓,村委会活动室,王教授、李老师,53032610620001
I-2,2016-04-01,QJNU-BIO,qjnu-tuomu,蓝莓培训,,person:{p11},4,25,fruit_trees.blueberry,示范基地,王教授,53032610620001
"""


class TestImportExport:
    def test_round_trip(self, world, cli, database_url, tmp_path):
        """A sessions file imports (Chinese headers, names of techniques), re-imports as no change, and exports back the same."""
        path = tmp_path / "sessions.csv"
        path.write_text(SESSIONS_CSV.format(p11=world.person(1, 1), p21=world.person(2, 1)), encoding="utf-8")
        first = run(cli, database_url, "import", "training.sessions", str(path), "--json")
        assert first.exit_code == 0, first.output
        stored = {a.ref: a for a in world.store.actions(kind="training.agri_session")}
        assert set(stored) == {"I-1", "I-2"}
        assert stored["I-1"].details.technique == "fruit_trees.blueberry" and stored["I-1"].details.trainers == ("王教授", "李老师")
        assert len([b for b in stored["I-1"].beneficiaries if b.type == "person"]) == 2
        again = run(cli, database_url, "import", "training.sessions", str(path), "--json")
        assert again.exit_code == 0 and json.loads(again.output)["unchanged"] == 2
        exported = run(cli, database_url, "export", "training.sessions", "--unmasked").output
        rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
        assert [r["记录编号"] for r in rows] == ["I-1", "I-2"]
        assert rows[0]["技术"] == "fruit_trees.blueberry" and rows[0]["授课教师"] == "王教授、李老师" and rows[0]["学时"] == "4"
        out = tmp_path / "exported.csv"
        out.write_text(exported, encoding="utf-8")
        back = run(cli, database_url, "import", "training.sessions", str(out), "--json")
        assert back.exit_code == 0, back.output
        summary = json.loads(back.output)
        assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (0, 0, 2), summary

    def test_party_file_by_format_name(self, world, cli, database_url, tmp_path):
        """A party-training file names formats in Chinese; they are stored as codes and export back as importable codes."""
        path = tmp_path / "party.csv"
        path.write_text("记录编号,开始日期,登记单位,受益对象,形式,主题,参训人数\n"
                        "P-1,2016-07-01,QJNU,village:530326106200,党课,七一党课,25\n"
                        "P-2,2016-08-01,QJNU,village:530326106200,policy_lecture,政策宣讲,30\n", encoding="utf-8")
        assert run(cli, database_url, "import", "training.party", str(path)).exit_code == 0
        formats = {a.ref: a.details.format for a in world.store.actions(kind="training.party_training")}
        assert formats == {"P-1": "party_lesson", "P-2": "policy_lecture"}
        out = tmp_path / "back.csv"
        out.write_text(run(cli, database_url, "export", "training.party").output, encoding="utf-8")
        again = run(cli, database_url, "import", "training.party", str(out), "--json")
        assert again.exit_code == 0, again.output

    def test_bad_row_refused(self, world, cli, database_url, tmp_path):
        """A row with an unknown technique refuses the whole file, naming the field."""
        path = tmp_path / "bad.csv"
        path.write_text(SESSIONS_CSV.format(p11=world.person(1, 1), p21=world.person(2, 1)).replace("fruit_trees.blueberry", "炼钢"), encoding="utf-8")
        result = cli("--db", database_url, "import", "training.sessions", str(path))
        assert result.exit_code == 1 and "technique" in result.output
        assert list(world.store.actions(kind="training.agri_session")) == []

    def test_template(self, world, cli, database_url, tmp_path):
        """The template of the assessments file has the kind's columns."""
        out = tmp_path / "t.csv"
        run(cli, database_url, "template", "training.assessments", "--format", "csv", "-o", str(out))
        header = out.read_text(encoding="utf-8-sig").splitlines()[0]
        assert "考核结果" in header and "考核人" in header and "技术" in header


class TestReport:
    def test_section_counts_only(self, world, cli, database_url):
        """The report's training section shows counts by area and coverage, and no ID number."""
        world.small_sessions()
        seed(world)
        world.party("2016-06-01", "党课")
        world.project("2016-03-01", "2018-12-31")
        result = run(cli, database_url, "report", "--year", "2016", "--format", "json", "--as-of", "2017-01-15")
        report = json.loads(result.output)
        section = next(s for s in report["sections"] if s["key"] == "training.courses")
        # The counts by area are a chart now (issue #18), its categories the areas' labels.
        built = next(s for s in world.store.report("qjnu-tuomu", 2016, as_of=dt.date(2017, 1, 15)).sections if s.key == "training.courses")
        chart = next(c for c in built.charts if c.key == "training.sessions_by_area")
        sessions, attendances = (dict(zip(chart.categories_zh, s.values)) for s in chart.series[:2])
        assert (sessions["经济林果"], attendances["经济林果"]) == (2, 3) and sessions["畜牧养殖"] == 0
        assert any("1 个" in p for p in section["paragraphs"])
        assert any("畜牧养殖" in s for s in section["shortfalls"]) and any("2 户" in s for s in section["shortfalls"])
        assert world.person(1, 1) not in result.output and world.person(1, 1)[-4:] + '"' not in result.output

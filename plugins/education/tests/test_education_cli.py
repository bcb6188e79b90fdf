"""``fupin import/export/template education.*`` and the ``fupin education`` commands, through the CLI."""

from __future__ import annotations

import json

from fupin import Actor, Store


INTERNSHIPS_CSV = """记录编号,开始日期,结束日期,登记单位,方案,受益对象,实习生,学科,实习学校指导教师,带队教师,授课节数,实习评价
EDU-I-001,2017-03-01,2017-06-30,QJNU-EDU,qjnu-tuomu,unit:HZ-YZ,周同学,语文,王老师,李教授,40,优秀
EDU-I-002,2017-09-01,2017-12-31,QJNU-EDU,qjnu-tuomu,unit:ZHZ-YZ,吴同学,math,赵老师,李教授,36,good
"""


def _setup(cli, url, seed):
    assert cli("--db", url, "init").exit_code == 0
    with Store.open(url, actor=Actor.from_env()) as store:
        seed(store)


def test_import_export_round_trip(cli, database_url, tmp_path, seed):
    """A file of internships imports, exports with the same rows, and re-imports unchanged; a bad row is refused."""
    _setup(cli, database_url, seed)
    source = tmp_path / "internships.csv"
    source.write_text(INTERNSHIPS_CSV, encoding="utf-8")
    result = cli("--db", database_url, "import", "education.internships", str(source), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["files"][0]["inserted"] == 2
    exported = tmp_path / "out.csv"
    assert cli("--db", database_url, "export", "education.internships", "-o", str(exported)).exit_code == 0
    text = exported.read_text(encoding="utf-8-sig")
    assert "EDU-I-002" in text and ",数学," in text and ",良好" in text
    again = cli("--db", database_url, "import", "education.internships", str(exported), "--json")
    assert again.exit_code == 0, again.output
    counts = json.loads(again.output)["files"][0]
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (0, 0, 2)
    bad = tmp_path / "bad.csv"
    bad.write_text(INTERNSHIPS_CSV.splitlines()[0] + "\nEDU-I-003,2017-09-01,,QJNU-EDU,qjnu-tuomu,unit:HZ-YZ,郑同学,炼金术,m,s,1,\n", encoding="utf-8")
    refused = cli("--db", database_url, "import", "education.internships", str(bad))
    assert refused.exit_code == 1 and "炼金术" in refused.output


def test_template_lists_every_kind(cli, tmp_path):
    """Every education import kind is listed and gets a template."""
    listed = cli("import", "--list", "--json")
    names = {k["kind"] for k in json.loads(listed.output)}
    assert {"education.teacher_visits", "education.teacher_trainings", "education.internships",
            "education.sanxiaxiang_teams", "education.study_pairs"} <= names
    out = tmp_path / "t.csv"
    result = cli("template", "education.sanxiaxiang_teams", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0
    assert "服务团" in out.read_text(encoding="utf-8-sig")


def test_commands(cli, sqlite_url, tmp_path, seed):
    """teachers, internships and teams report what was recorded."""
    _setup(cli, sqlite_url, seed)
    source = tmp_path / "internships.csv"
    source.write_text(INTERNSHIPS_CSV, encoding="utf-8")
    assert cli("--db", sqlite_url, "import", "education.internships", str(source)).exit_code == 0
    visits = tmp_path / "visits.jsonl"
    visits.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (
        {"ref": "V-1", "start": "2016-04-10", "end": "2016-04-14", "unit": "QJNU-EDU", "beneficiaries": "unit:TMC-XX、unit:ZHZ-YZ",
         "quantities.hours": "30", "details.programme": "研修班", "details.trainees": "何老师@TMC-XX、田老师@ZHZ-YZ"},
        {"ref": "V-2", "start": "2017-04-10", "unit": "QJNU-EDU", "beneficiaries": "unit:TMC-XX",
         "quantities.hours": "12", "details.programme": "研修班", "details.trainees": "何老师@TMC-XX"},
    )) + "\n", encoding="utf-8")
    imported = cli("--db", sqlite_url, "import", "education.teacher_visits", str(visits))
    assert imported.exit_code == 0, imported.output

    teachers = cli("--db", sqlite_url, "education", "teachers", "--school", "拖木村小学", "--json")
    assert teachers.exit_code == 0, teachers.output
    rows = json.loads(teachers.output)
    assert [(r["teacher"], r["school"], r["hours_by_year"], r["total_hours"]) for r in rows] == [
        ("何老师", "拖木村小学", {"2016": 30, "2017": 12}, 42)
    ]
    assert "何老师" in cli("--db", sqlite_url, "education", "teachers").output

    internships = cli("--db", sqlite_url, "education", "internships", "--year", "2017")
    assert internships.exit_code == 0
    assert "2017春季学期" in internships.output and "会泽一中 1, 者海镇一中 1" in internships.output
    assert "no internships in 2016" in cli("--db", sqlite_url, "education", "internships", "--year", "2016").output
    assert cli("--db", sqlite_url, "education", "internships").exit_code == 2

    teams = cli("--db", sqlite_url, "education", "teams", "--year", "2017", "--json")
    assert teams.exit_code == 0 and json.loads(teams.output) == []

"""``fupin demo`` records the education stream for 2015 to 2019: the checks and the report show it,
with honest shortfalls. One demo run (about 15 s on SQLite)."""

from __future__ import annotations

import json


def _education(cli, url, year):
    result = cli("--db", url, "check", "--year", str(year), "--json")
    assert result.exit_code in (0, 1), result.output
    return {r["id"]: r for r in json.loads(result.output) if r["plugin"] == "education"}


def test_demo_education_stream(cli, sqlite_url):
    """The demo's checks show C23 to C27 from the plugin, met with evidence and with shortfalls; the report has the sections."""
    demo = cli("--db", sqlite_url, "demo")
    assert demo.exit_code == 0, demo.output
    assert "教育帮扶" in demo.output

    y2017 = _education(cli, sqlite_url, 2017)
    assert sorted(y2017) == ["C23", "C24", "C25", "C26", "C27"]
    assert all(r["target"].startswith("education.") for r in y2017.values())
    # 2017: only two 三下乡 teams, both in summer.
    assert y2017["C26"]["status"] == "not_met"
    assert y2017["C26"]["figures"]["missing_vacations"] == ["寒假"]
    for cid in ("C23", "C24", "C25", "C27"):
        assert y2017[cid]["status"] == "met", y2017[cid]
        assert all(e.startswith("action:EDU-") for e in y2017[cid]["evidence"]) and y2017[cid]["evidence"]
    assert y2017["C27"]["figures"]["paired"] >= 0.9 * y2017["C27"]["figures"]["students"] > 0

    # 2015: the plan starts in September; no study pair yet, one school sends two teachers, no vacation due.
    y2015 = _education(cli, sqlite_url, 2015)
    assert y2015["C27"]["status"] == "not_met" and y2015["C27"]["figures"]["paired"] == 0
    assert y2015["C23"]["status"] == "not_met" and y2015["C23"]["figures"]["short"] == ["拖木村小学"]
    assert y2015["C26"]["status"] == "not_due"
    assert {r["status"] for r in _education(cli, sqlite_url, 2018).values()} == {"met"}

    report = cli("--db", sqlite_url, "report", "--year", "2017", "--format", "json")
    assert report.exit_code in (0, 1), report.output
    assert "education.summary" in report.output and "education.sanxiaxiang" in report.output

    teachers = json.loads(cli("--db", sqlite_url, "education", "teachers", "--json").output)
    assert teachers and all(r["total_hours"] > 0 for r in teachers)
    assert len({y for r in teachers for y in r["hours_by_year"]}) == 5  # 2015 to 2019
    teams = json.loads(cli("--db", sqlite_url, "education", "teams", "--year", "2017", "--json").output)
    assert [t["vacation"] for t in teams] == ["暑假", "暑假"]
    assert cli("--db", sqlite_url, "education", "internships", "--year", "2019").output.count("EDU-2019-") >= 4
